"""Sending a submission: pre-flight checks, the duplicate guard, the upload, waiting for the
score, and the table of a competition's submissions beside their local CV scores.

The guard, the upload and the ledger entry happen under the competition's lock (kit.ledger.locked),
so two kits never send the same file at once. Once the file may have reached Kaggle, every way out
says so: SentError (exit code 3) when what follows fails, Interrupted on Ctrl-C.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

from kit import KitError, ledger
from kit.competition import Competition, read_task, sha256_file, test_ids
from kit.kaggle_client import SentError
from kit.paths import notebook_output_dir
from kit.submission import check_sample_ids, check_submission, interrupts_deferred, ranked_shortfall, read_sidecar
from kit.table import aligned

FINAL = ("COMPLETE", "ERROR")


class Interrupted(KeyboardInterrupt):
    """Ctrl-C once the file may have reached Kaggle; its text says what Kaggle has, its fix what to do next
    (as in kit.KitError; the CLI prints both)."""

    def __init__(self, fact: str, fix: str | None = None, **values) -> None:
        super().__init__(fact)
        self.fix, self.values = fix, values


def describe(entry: dict) -> str:
    """What Kaggle has of a recorded submission, in words: its status and score, or why there is none."""
    status = entry.get("status") or "UNKNOWN"
    if status == "COMPLETE":
        return f"public score {entry.get('public_score') or 'not published'}"
    if status == "ERROR":
        return f"status ERROR: {(entry.get('error') or 'Kaggle gave no reason').rstrip('.')}"
    if status == "UNKNOWN":
        return "status unknown: its upload was cut off before Kaggle answered"
    return f"status {status}, not scored yet"


def preflight(comp: Competition, path: Path, data_dir: Path) -> str:
    """Check the file against the competition's test ids and submission form; returns its sha256."""
    path = Path(path)
    if not path.is_file():
        raise KitError(f"{path} does not exist", fix="submission_csv")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise KitError(f"{path} is not UTF-8 text; write the submission as a plain CSV.") from None
    task = read_task(comp, data_dir)
    ids = test_ids(comp, data_dir)
    try:
        check_sample_ids(comp, data_dir, ids)
        check_submission(comp, task, text, ids)
    except KitError as e:
        raise KitError(f"{path.name} was not sent: {e}", e.fix, **e.values) from None
    if note := ranked_shortfall(task, text):
        print(f"kit: note: {path.name} passes, but {note}", file=sys.stderr)
    return sha256_file(path)


def submit(
    comp: Competition,
    path: Path,
    data_dir: Path,
    message: str | None,
    *,
    wait: bool,
    force: bool,
    client,
    poll_seconds: float = 10.0,
    timeout_seconds: float = 3600.0,
) -> dict:
    """Check, upload and record a submission; with wait, poll until Kaggle scores it. Returns the ledger entry."""
    path = Path(path)
    slug = comp.slug
    sha = preflight(comp, path, data_dir)
    sidecar = read_sidecar(path) or {}
    cv_score = sidecar.get("cv_score")
    if message is None:
        message = f"kit {path.stem}" + (f" cv={cv_score:.4f}" if isinstance(cv_score, int | float) else "")
    with ledger.locked(slug):
        earlier = ledger.by_sha256(slug, sha)
        if earlier and not force:
            when = str(earlier.get("time") or "")[:10] or "an earlier run"
            raise KitError(
                f"{path.name} was already submitted on {when} (ref {earlier.get('ref') or 'unknown'}, "
                f"{describe(earlier)})",
                fix="look_then_resend" if (earlier.get("status") or "UNKNOWN") == "UNKNOWN" else "resend",
                slug=slug,
            )
        # The entry stays UNKNOWN (ref None) if the upload is cut off before Kaggle answers, so that the
        # guard above stops the next blind `kit submit` of this file; `kit submissions` resolves it.
        entry = {
            "file": str(path),
            "sha256": sha,
            "message": message,
            "ref": None,
            "status": "UNKNOWN",
            "public_score": "",
            "cv_score": cv_score,
            "run_key": sidecar.get("run_key"),  # what made the file: a rerun of it can be recognised
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        unknown = f"{path.name} may have reached Kaggle: its upload was cut off before Kaggle answered"
        try:
            ref = client.submit(slug, path, message, known_refs=ledger.refs(slug))
        except SentError:
            with interrupts_deferred():
                ledger.add(slug, entry)
            raise
        except KeyboardInterrupt:
            with interrupts_deferred():
                ledger.add(slug, entry)
            raise Interrupted(unknown, fix="look_then_resend", slug=slug) from None
        entry |= {"ref": ref, "status": "PENDING"}
        sent = f"{path.name} was submitted to {slug} (ref {ref}"
        try:
            with interrupts_deferred():
                ledger.add(slug, entry)
        except KeyboardInterrupt:
            raise Interrupted(f"{sent}, status PENDING)", fix="follow", slug=slug) from None
    try:
        print(f"kit: submitted {path.name} to {slug} (ref {ref}, status PENDING)", file=sys.stderr)
        limits = client.limits(slug)
        if limits and limits.get("allowed_now") is not None:
            print(f"kit: {limits['allowed_now']} submissions left today", file=sys.stderr)
        if wait:
            entry = wait_for_score(comp, ref, client, poll_seconds, timeout_seconds, sent)
    except KeyboardInterrupt:
        latest = next((e for e in ledger.load(slug) if e.get("ref") == ref), entry)
        raise Interrupted(f"{sent}, {describe(latest)})", fix="follow", slug=slug) from None
    return entry


def wait_for_score(
    comp: Competition, ref: int, client, poll_seconds: float, timeout_seconds: float, sent: str | None = None
) -> dict:
    """Poll until the submission is scored or fails; record the outcome in the ledger. Every failure is a
    SentError (exit code 3): the file is on Kaggle whatever happens here. `sent` starts its sentences."""
    sent = sent or f"submission {ref} was sent to {comp.slug} (ref {ref}"
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            remote = client.submission(ref)
        except KitError as e:
            failed = f"{sent}), but reading its status failed: {str(e).rstrip('.')}"
            raise SentError(failed, fix="follow", slug=comp.slug) from None
        if remote["status"] in FINAL:
            break
        if time.monotonic() > deadline:
            raise SentError(
                f"{sent}), but it is still {remote['status']} after the {timeout_seconds:g} s wait",
                fix="follow_or_wait_longer",
                slug=comp.slug,
            )
        time.sleep(poll_seconds)
    entries = ledger.update(comp.slug, [remote])
    entry = next((e for e in entries if e.get("ref") == ref), {"ref": ref, **remote})
    if remote["status"] == "ERROR":
        reason = (remote["error"] or "it gave no reason").rstrip(".")
        raise SentError(f"{sent}, status ERROR), but Kaggle could not score it: {reason}.")
    return entry


def submissions_table(comp: Competition, client) -> list[dict]:
    """Kaggle's list of submissions joined with the ledger (which is updated on the way)."""
    remote = client.submissions(comp.slug)
    entries = {e.get("ref"): e for e in ledger.update(comp.slug, remote)}
    rows = []
    for s in remote:
        local = entries.get(s["ref"], {})
        rows.append(
            {
                "date": s["date"][:19].replace("T", " "),
                "file": Path(local.get("file", s["file"])).name,
                "message": s["message"],
                "status": s["status"],
                "public_score": s["public_score"] or ("not published" if s["status"] == "COMPLETE" else ""),
                "cv_score": local.get("cv_score"),
                "ref": s["ref"],
            }
        )
    return rows


def format_table(rows: list[dict]) -> str:
    if not rows:
        return "no submissions yet"
    head = ("date", "file", "message", "status", "public", "cv")
    cells = [
        (
            r["date"],
            r["file"],
            r["message"],
            r["status"],
            r["public_score"] or "-",
            f"{r['cv_score']:.4f}" if isinstance(r["cv_score"], int | float) else "-",
        )
        for r in rows
    ]
    return aligned(head, cells)


def run_notebook(
    comp: Competition,
    folder: Path,
    kernel: str,
    client,
    *,
    wait: bool,
    send: bool,
    message: str | None,
    force: bool,
    data_dir: Path,
    poll_seconds: float = 15.0,
    timeout_seconds: float = 3600.0,
) -> dict | None:
    """Push the notebook; with wait, follow its run and fetch its output into submissions/<slug>/notebook/;
    with send, submit the output's submission.csv through the same checks as `kit submit`."""
    pushed = client.kernels_push(folder)
    print(f"kit: pushed {kernel} (version {pushed['version']}); Kaggle runs it: {pushed['url']}", file=sys.stderr)
    if not wait:
        return None
    deadline = time.monotonic() + timeout_seconds
    while (state := client.kernels_status(kernel))["status"] not in ("COMPLETE", "ERROR", "CANCEL_ACKNOWLEDGED"):
        if time.monotonic() > deadline:
            raise KitError(
                f"notebook {kernel} is still {state['status']} after the {timeout_seconds:g} s wait",
                fix="notebook_later",
            )
        time.sleep(poll_seconds)
    if state["status"] != "COMPLETE":
        reason = (state["failure"] or "see its log on Kaggle").rstrip(".")
        raise KitError(f"notebook {kernel} ended {state['status']}: {reason}.")
    out_dir = notebook_output_dir(comp.slug)
    files = client.kernels_output(kernel, out_dir)
    print(f"kit: fetched the notebook's output into {out_dir} ({len(files)} files)", file=sys.stderr)
    csv_path = out_dir / "submission.csv"
    if not csv_path.is_file():
        raise KitError(f"notebook {kernel} wrote no submission.csv; open its log on Kaggle.")
    if not send:
        return None
    if not (Path(data_dir) / comp.files["test"]).is_file():
        from kit.fetch import fetch

        data_dir = fetch(comp, data_dir, client=client)
    return submit(comp, csv_path, data_dir, message, wait=True, force=force, client=client, poll_seconds=poll_seconds,
                  timeout_seconds=timeout_seconds)  # fmt: skip
