"""The submission ledger: every upload kit made, kept in submissions/<slug>/ledger.json, and the lock
that lets one kit at a time send to a competition.

One entry per Kaggle submission: file, sha256, message, time, Kaggle ref, status, public score and
the local CV score from the file's sidecar. Commands that later see a score update the entry. An
upload cut off before Kaggle answered is kept with ref None and status UNKNOWN until Kaggle's list
shows it (matched on file name, description and date).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

from kit import KitError
from kit.paths import ledger_path, lock_path
from kit.submission import write_atomic

# Kaggle's clock and ours may differ a little (as in kit.kaggle_client.CLOCK_SLACK).
CLOCK_SLACK = dt.timedelta(minutes=5)


def load(slug: str) -> list[dict]:
    return read_list(ledger_path(slug))


def read_list(path: Path) -> list[dict]:
    """A JSON list of objects kept by kit; [] when the file does not exist yet. A file of another
    shape is refused, so that the next write never replaces what it holds."""
    try:
        entries = json.loads(path.read_text())
    except FileNotFoundError:
        return []
    except ValueError:
        raise KitError(f"{path} is not valid JSON; fix it or move it aside (kit then starts a new one).") from None
    if not isinstance(entries, list):
        raise KitError(
            f"{path} holds a JSON {_json_kind(entries)}, not the list of entries kit keeps; "
            "fix it or move it aside (kit then starts a new one)."
        )
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise KitError(
                f"entry {number} of {path} is a JSON {_json_kind(entry)}, not an object; "
                "fix it or move the file aside (kit then starts a new one)."
            )
    return entries


def _json_kind(value) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return names.get(type(value), "null")


def save(slug: str, entries: list[dict]) -> None:
    write_atomic(ledger_path(slug), json.dumps(entries, indent=2, sort_keys=True) + "\n")


def add(slug: str, entry: dict) -> None:
    with locked(slug):
        save(slug, [*load(slug), entry])


def by_sha256(slug: str, sha256: str) -> dict | None:
    """The latest submission of a file with this sha256, if any."""
    matches = [e for e in load(slug) if e.get("sha256") == sha256]
    return matches[-1] if matches else None


def refs(slug: str) -> frozenset:
    """The Kaggle refs the ledger already holds."""
    return frozenset(e["ref"] for e in load(slug) if e.get("ref") is not None)


def update(slug: str, kaggle_submissions: list[dict]) -> list[dict]:
    """Copy status, public score and error from Kaggle's list into the matching entries, first giving
    an UNKNOWN entry the ref of the submission it made, if Kaggle lists one; returns the ledger."""
    if not ledger_path(slug).exists():
        return []
    with locked(slug):
        entries = load(slug)
        seen = {s["ref"]: s for s in kaggle_submissions}
        changed = _resolve_unknown(entries, kaggle_submissions)
        for entry in entries:
            remote = seen.get(entry.get("ref"))
            fields = ("status", "public_score", "error")
            if remote and any(entry.get(f, "") != (remote.get(f) or "") for f in fields):
                entry["status"], entry["public_score"] = remote["status"], remote["public_score"]
                if remote.get("error"):
                    entry["error"] = remote["error"]
                changed = True
        if changed:
            save(slug, entries)
    return entries


def _resolve_unknown(entries: list[dict], kaggle_submissions: list[dict]) -> bool:
    """Give each entry without a ref the ref of Kaggle's matching submission; True if any was found."""
    claimed = {e.get("ref") for e in entries}
    changed = False
    for entry in entries:
        if entry.get("ref") is not None:
            continue
        since = _date(entry.get("time"))
        for remote in sorted(kaggle_submissions, key=lambda s: s["ref"]):
            date = _date(remote.get("date"))
            if (
                remote["ref"] not in claimed
                and remote.get("file") == Path(entry.get("file", "")).name
                and remote.get("message") == (entry.get("message") or "")
                and (since is None or date is None or date >= since - CLOCK_SLACK)
            ):
                entry["ref"] = remote["ref"]
                claimed.add(remote["ref"])
                changed = True
                break
    return changed


def _date(text) -> dt.datetime | None:
    try:
        date = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return date if date.tzinfo else date.replace(tzinfo=dt.UTC)


# ---- the lock ----------------------------------------------------------------------------------------

_held: dict[str, list] = {}  # lock file -> [open file, depth]: one process may take it again inside


@contextlib.contextmanager
def locked(slug: str):
    """Hold submissions/<slug>/.lock: one kit at a time checks, sends and records a submission to this
    competition, or rewrites its ledger. The system releases the lock when the process ends, however it
    ends; the empty file stays (removing it would let two processes lock two different files)."""
    path = lock_path(slug)
    key = os.path.abspath(path)
    if key in _held:
        _held[key][1] += 1
        try:
            yield
        finally:
            _held[key][1] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+b")  # noqa: SIM115 (held open for as long as the lock)
    try:
        if not _try_lock(handle):
            print(f"kit: another kit is submitting to {slug}; waiting for it to finish", file=sys.stderr)
            while not _try_lock(handle):
                time.sleep(0.1)
        _held[key] = [handle, 1]
        try:
            yield
        finally:
            del _held[key]
            _unlock(handle)
    finally:
        handle.close()


def _try_lock(handle) -> bool:
    """Take the lock without waiting; False when another process holds it."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        handle.seek(0)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(handle) -> None:
    try:
        import fcntl
    except ImportError:
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
