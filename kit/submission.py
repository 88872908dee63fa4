"""Submission files: built from test predictions, checked before anything is written or sent,
written atomically, with a JSON sidecar that says exactly how they were made."""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import json
import math
import os
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

from kit import KitError
from kit.competition import PACKAGE_ROOT, Competition, read_csv
from kit.task import RANKED, Task


def submission_text(comp: Competition, task: Task, test_ids: list[str], test_pred) -> str:
    """The CSV text: the competition's header, then one row per test id in test order with the cells the
    metric needs (a label, a probability, one probability per class, or a value; see Task.cells).

    A prediction that is not finite raises: NaN > 0.5 is False, and would quietly become a label.
    """
    refuse_non_finite(test_ids, test_pred, f"test {comp.id}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(comp.columns)
    with gc_paused():  # a list per row (see gc_paused): 200,000 rows of probabilities 1.2 s -> 0.8 s
        writer.writerows([i, *cells] for i, cells in zip(test_ids, task.cells(test_pred)))
    return out.getvalue()


def refuse_non_finite(ids: list, pred, where: str, who: str = "the models") -> None:
    """KitError naming the first id (`where` says which: "test id") whose prediction is NaN, inf or -inf.

    pred: (n,) or (n, k), a tensor or nested lists.
    """
    if hasattr(pred, "isfinite"):  # a tensor (torch is not imported here, to keep this module light)
        if len(pred) != len(ids):
            raise ValueError(f"{len(pred)} predictions for {len(ids)} ids")
        if bool(pred.isfinite().all()):
            return  # the common case in one pass; the loop below only names the first bad row
    rows = pred.tolist() if hasattr(pred, "tolist") else list(pred)
    if len(rows) != len(ids):
        raise ValueError(f"{len(rows)} predictions for {len(ids)} ids")
    for i, row in zip(ids, rows):
        values = row if isinstance(row, list) else [row]
        bad = next((v for v in values if not math.isfinite(v)), None)
        if bad is not None:
            raise KitError(
                f"{who} predicted {bad} for {where} {i}, not a finite number; nothing was written. "
                "Training diverged or a feature is not finite: check the data and the recipe, or try fewer epochs."
            )


@contextlib.contextmanager
def gc_paused():
    """Python's cyclic garbage collector paused: a large file's rows are each a new list (and a tuple where they are
    read by column), and the collections so many new containers set off cost more than making them (checking
    200,000 rows: 1.0 s without the pause). Lists and tuples of strings hold no cycle for it to find."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_rows(text: str) -> list[list[str]]:
    """A CSV's rows as lists of cells."""
    with gc_paused():
        return list(csv.reader(io.StringIO(text)))


def check_submission(comp: Competition, task: Task, text: str, test_ids: list[str]) -> None:
    """Raise KitError with the reason if `text` is not a valid submission for these test ids.

    The header and the ids as the test file has them; the cells as the task and metric allow (Task.check_cells).
    """
    rows = read_rows(text)
    if not rows:
        raise KitError(
            "the submission is empty; it needs the header " + ",".join(comp.columns) + " and one row per test id."
        )
    header, body = rows[0], rows[1:]
    if header != list(comp.columns):
        raise KitError(
            f"the submission's header is {','.join(header)!r}; it must be exactly {','.join(comp.columns)!r}."
        )
    if len(body) != len(test_ids):
        given = {row[0] for row in body if row}
        missing = next((i for i in test_ids if i not in given), None)  # a trial's user had to look for it
        first = f" (test id {missing} has none)" if missing is not None else ""
        raise KitError(
            f"the submission has {len(body)} rows; the test file has {len(test_ids)} ids, one row each{first}."
        )
    expected = set(test_ids)
    # in bulk first, each check below at once: the loop then runs only to name the first row that fails one
    with gc_paused():
        if set(map(len, body)) <= {len(header)}:
            ids, *columns = zip(*body) if body else [()] * len(header)  # a column at a time
            if len(set(ids)) == len(ids) and expected.issuperset(ids) and task.all_cells_valid(columns):
                return
    seen = set()
    for line, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise KitError(f"line {line} of the submission has {len(row)} fields, not {len(header)}.")
        row_id = row[0]
        if row_id in seen:
            raise KitError(f"id {row_id} appears twice in the submission (line {line}); keep one row per test id.")
        if row_id not in expected:
            raise KitError(f"id {row_id} (line {line}) is not in the test file; submit only the test ids.")
        seen.add(row_id)
        problem = task.check_cells(row[1:])
        if problem:
            raise KitError(f"id {row_id} (line {line}) {problem}.")


def ranked_shortfall(task: Task, text: str) -> str | None:
    """For a metric of ranked labels (MAP@3), a note when no row of a valid submission names as many labels as are
    scored: Kaggle scores such a file, but a row's second and third guesses can only raise its score."""
    if task.metric.submits != "ranked":
        return None
    most = max((len(row[1].split(" ")) for row in list(csv.reader(io.StringIO(text)))[1:]), default=RANKED)
    if most >= RANKED:
        return None
    named = "one label" if most == 1 else f"at most {most} labels"
    return (
        f"every row names {named} where {task.metric.name} scores {RANKED}, best first; more can only raise its score"
    )


def check_sample_ids(comp: Competition, data_dir: Path, test_ids: list[str]) -> bool:
    """KitError when the test file's ids, as text, are not the sample submission's: Kaggle matches ids as text,
    so a test.csv that writes 892.0 where the sample writes 892 makes a file that passes every other check
    and scores nothing. Nothing to check when the competition names no sample submission or it is not there:
    then False (the caller may say so), else True.
    """
    name = comp.files.get("sample_submission")
    path = Path(data_dir) / name if name else None
    if path is None or not path.is_file():
        return False
    check_sample_header(comp, path)
    sample = read_csv(path, [comp.id], comp.id, usecols=lambda c: c == comp.id)[comp.id].tolist()
    listed = set(sample)
    row = next((i for i, v in enumerate(test_ids) if v not in listed), None)
    if row is not None:
        near = f" (its line {row + 2} has {sample[row]})" if row < len(sample) else ""
        raise KitError(
            f"{comp.files['test']} has {comp.id} {test_ids[row]} (line {row + 2}), which {name} does not list"
            f"{near}: Kaggle matches ids as text",
            fix="refetch",
            slug=comp.slug,
        )
    tested = set(test_ids)
    row = next((i for i, v in enumerate(sample) if v not in tested), None)
    if row is not None:
        raise KitError(
            f"{name} lists {comp.id} {sample[row]} (line {row + 2}), which {comp.files['test']} does not have",
            fix="refetch",
            slug=comp.slug,
        )
    return True


def check_sample_header(comp: Competition, path: Path) -> None:
    """KitError when the header kit writes (the definition's [submission] columns) is not the sample submission's:
    Kaggle reads the columns by name, so `id,Price` where the sample says `id,price` is refused on upload (or a
    column of another target scored as this one), after passing every check made against the definition alone."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        header = next(csv.reader(f), [])
    if header != list(comp.columns):
        order = " (the same names in another order)" if sorted(header) == sorted(comp.columns) else ""
        raise KitError(
            f"{path.name}'s header is {','.join(header)!r} but the definition's [submission] columns make "
            f"{','.join(comp.columns)!r}{order}; set [submission] columns (and the target) to the sample's."
        )


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write to a temp file beside `path`, then rename: a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def interrupts_deferred():
    """Hold Ctrl-C until the block ends, so that steps that belong together all happen; a Ctrl-C that came
    meanwhile is raised (by the previous handler) right after. Outside the main thread it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda *a: caught.append(a))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught and callable(previous):
        previous(*caught[0])


def write_submission(path: Path, text: str, sidecar: dict) -> None:
    """Write the CSV and its sidecar (<name>.json beside it): both or neither, even on Ctrl-C."""
    side = path.with_suffix(".json")
    with interrupts_deferred():
        write_atomic(side, json.dumps(sidecar, indent=2, sort_keys=True) + "\n")
        try:
            write_atomic(path, text)
        except BaseException:
            side.unlink(missing_ok=True)  # a sidecar without its CSV would describe a file that is not there
            raise


# kit's own records: a submission's sidecar may never take one of these names.
RECORDS = {"ledger.json": "submission ledger", "runs.json": "run log", "kit-manifest.json": "data manifest"}
SIDECAR_KEYS = {"kit_version", "competition", "config", "cv"}  # what every sidecar kit writes holds


def is_sidecar(path: Path) -> bool:
    """Whether `path` is a sidecar kit wrote: a JSON object with the keys every sidecar has."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and SIDECAR_KEYS <= set(data)


def check_out_path(out: Path, role: str = "out") -> None:
    """Refuse an output CSV whose file or sidecar would replace something kit did not write as a
    submission, and make sure its folder can be made and takes files: all before any data is read.

    role "oof": the same for an out-of-fold predictions file (kit.oof), which replaces only one of its kind."""
    out = Path(out)
    oof = role == "oof"  # each refusal's fix names the flag that gave the path: --out or --oof (kit.fixes)
    what = "out-of-fold predictions file" if oof else "submission"
    if not out.name or out.name in (".", ".."):  # "/", "" or "..": a folder, not a file name
        raise KitError(f"{str(out) or 'an empty path'} names no file", fix="oof_file" if oof else "out_file")
    sidecar = out.with_suffix(".json")
    if out.suffix.lower() != ".csv":
        raise KitError(f"{out} does not end in .csv", fix="oof_csv" if oof else "out_csv")
    if sidecar.name in RECORDS:
        raise KitError(
            f"{out} would write its sidecar over {sidecar}, kit's {RECORDS[sidecar.name]}",
            fix="other_oof" if oof else "other_out",
        )
    if out.is_dir() or sidecar.is_dir():
        raise KitError(f"{out} (or its sidecar {sidecar.name}) is a folder", fix="oof_file" if oof else "out_file")
    if sidecar.exists() and not is_sidecar(sidecar):
        raise KitError(
            f"{sidecar} exists and is not a kit sidecar, and writing {out} would replace it",
            fix="other_oof_or_move" if oof else "other_out_or_move",
        )
    if sidecar.exists() and bool((read_sidecar(out) or {}).get("oof")) != oof:  # kit's, but the other kind
        other = "submission" if oof else "out-of-fold predictions file"
        raise KitError(
            f"{out} is kit's {other}; writing the {what} would replace it",
            fix="other_oof_or_move" if oof else "other_out_or_move",
        )
    if out.exists() and not sidecar.exists():
        raise KitError(
            f"{out} exists and is not a kit {what} (no kit sidecar {sidecar.name} beside it)",
            fix="other_oof_or_move" if oof else "other_out_or_move",
        )
    folder = out.parent
    blocker = next((f for f in (folder, *folder.parents) if f.exists() and not f.is_dir()), None)
    if blocker is not None:
        raise KitError(f"{out} needs the folder {blocker}, but that is a file", fix="other_oof" if oof else "other_out")
    made = [f for f in (folder, *folder.parents) if not f.exists()]  # deepest first
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".kit-probe-")  # the real writes are temp file + rename too
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise KitError(
            f"cannot write in {folder} for {out} ({e.strerror or e})", fix="other_oof" if oof else "other_out"
        ) from None
    finally:
        for f in made:  # a refused run leaves no trace; the write makes them again
            try:
                f.rmdir()
            except OSError:
                break


def read_sidecar(csv_path: Path) -> dict | None:
    side = Path(csv_path).with_suffix(".json")
    try:
        return json.loads(side.read_text())
    except (OSError, ValueError):
        return None


def unclaimed_path(out: Path, key: str, config: dict, inputs: dict) -> Path:
    """`out`, unless a submission there was made by another run: then out's name with the start of this run's key,
    the same for the same run every time.

    key: this run's key (kit.pipeline.run_key: kit's version, what the definition says of the task, metric, columns
    and target's scale, the recipe, the plan and the input files' sha256). A default name says only the recipe,
    models, split and seeds, so another learning rate, metric or log_target would otherwise write over an earlier
    run's file (perhaps the one sent to Kaggle; a trial's `metric = "rmsle"` run replaced its mape one). A rerun
    of the same key keeps the name: its bytes are the same. A sidecar an older kit wrote without a key is
    compared by its configuration and input files, as that kit did."""
    made = read_sidecar(out) if out.exists() else None
    if made is None:
        return out  # nothing there, or not a submission (check_out_path refuses to replace that)
    if "run_key" in made:
        same = made["run_key"] == key
    else:
        this = json.loads(json.dumps({"config": config, "inputs": inputs}))  # as a sidecar holds it: lists
        same = {"config": made.get("config"), "inputs": made.get("inputs")} == this
    return out if same else out.with_name(f"{out.stem}-{key[:8]}{out.suffix}")


def git_commit() -> str | None:
    """The commit kit runs from, or None outside a git checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PACKAGE_ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def default_name(recipe: str, plan) -> str:
    """A file name that says what made the file: recipe (a blend's every recipe: plus+base), models, split and
    seeds."""
    split = "random" if plan.split == "random" else f"{plan.split}{plan.folds}"
    if plan.repeats > 1:
        split += f"x{plan.repeats}"
    recipes = "+".join((recipe, *getattr(plan, "blend", ())))
    return f"{recipes}_{'-'.join(plan.models)}_{split}_seeds{plan.seeds}"
