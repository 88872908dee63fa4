"""The submission ledger: every upload kit made, kept in submissions/<slug>/ledger.json.

One entry per Kaggle submission: file, sha256, message, time, Kaggle ref, status, public score and
the local CV score from the file's sidecar. Commands that later see a score update the entry.
"""

from __future__ import annotations

import json
from pathlib import Path

from kit import KitError
from kit.submission import write_atomic


def ledger_path(slug: str, root: Path = Path("submissions")) -> Path:
    return root / slug / "ledger.json"


def load(slug: str) -> list[dict]:
    return read_list(ledger_path(slug))


def read_list(path: Path) -> list[dict]:
    """A JSON list kept by kit; [] when the file does not exist yet."""
    try:
        entries = json.loads(path.read_text())
    except FileNotFoundError:
        return []
    except ValueError:
        raise KitError(f"{path} is not valid JSON; fix it or move it aside (kit then starts a new one).") from None
    return entries if isinstance(entries, list) else []


def save(slug: str, entries: list[dict]) -> None:
    write_atomic(ledger_path(slug), json.dumps(entries, indent=2, sort_keys=True) + "\n")


def add(slug: str, entry: dict) -> None:
    save(slug, [*load(slug), entry])


def by_sha256(slug: str, sha256: str) -> dict | None:
    """The latest submission of a file with this sha256, if any."""
    matches = [e for e in load(slug) if e.get("sha256") == sha256]
    return matches[-1] if matches else None


def update(slug: str, kaggle_submissions: list[dict]) -> list[dict]:
    """Copy status and public score from Kaggle's list into the matching entries; returns the ledger."""
    entries = load(slug)
    seen = {s["ref"]: s for s in kaggle_submissions}
    changed = False
    for entry in entries:
        remote = seen.get(entry.get("ref"))
        if remote and (entry.get("status"), entry.get("public_score")) != (remote["status"], remote["public_score"]):
            entry["status"], entry["public_score"] = remote["status"], remote["public_score"]
            if remote.get("error"):
                entry["error"] = remote["error"]
            changed = True
    if changed:
        save(slug, entries)
    return entries
