"""Out-of-fold predictions as a file, and a multilabel task's score per target.

The OOF file (`kit cv --oof PATH.csv`, `kit submission --oof PATH.csv`) holds what CV predicted of each training row
it validated, so that a user with a metric kit does not know can score the folds themselves: the id, then each
model's prediction and the ensemble's in the task's form (binary: the positive class's probability; multiclass and
multilabel: one column per class or target, `<model>_<class>`; regression: the value on the target's own scale;
learned in logs and scored by rmse or r2, scaled as CV scored it, kit.smearing), then the target as the training
file writes it, in the training file's row order. A row no fold validated (a time split's first block, the random
split's training rows) has empty cells. A sidecar beside it, as beside a submission, says how it was made and marks
it as kit's, so that a rerun may replace it and nothing else is.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import torch

from kit import KitError, paths
from kit.task import DIGITS, Task


def per_target(task: Task, oof: torch.Tensor, y: torch.Tensor) -> dict | None:
    """target -> the metric of its column of out-of-fold predictions (n, k) against y (n, k), on the rows validated;
    None for a task that is not multilabel (one target: the CV table's score is it)."""
    if task.kind != "multilabel":
        return None
    validated = ~torch.isnan(oof).any(dim=1)  # (n,) rows some fold validated
    return {name: task.metric.score(oof[validated, c], y[validated, c]) for c, name in enumerate(task.labels)}


def prediction_columns(task: Task, name: str) -> list[str]:
    """The OOF file's columns of one model (or of the ensemble): one, or one per class or target."""
    if task.kind in ("multiclass", "multilabel"):
        return [f"{name}_{label}" for label in task.labels]
    return [name]


def oof_header(comp, task: Task, names: list[str]) -> list[str]:
    return [comp.id, *(c for name in names for c in prediction_columns(task, name)), *comp.targets]


def _cells(task: Task, oof: torch.Tensor) -> list[list[str]]:
    """Each row's cells of one model's out-of-fold predictions (n[, k]); empty where the row was never validated."""
    values = task.untransform(oof).double()  # regression on the target's own scale (expm1 for rmsle)
    values = values[:, None] if values.dim() == 1 else values  # (n, 1) or (n, k), k in task.labels' order
    return [["" if v != v else format(v, f".{DIGITS}g") for v in row] for row in values.tolist()]  # v != v: NaN


def oof_text(comp, task: Task, result, ids: list[str], targets: list[list[str]]) -> str:
    """The OOF file's text. ids: the training rows' ids in file order; targets: per row, its target cells as the
    training file writes them."""
    names = [*result.models, "ensemble"]
    columns = [_cells(task, r.oof) for r in (*result.models.values(), result.ensemble)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(oof_header(comp, task, names))
    for i, row_id in enumerate(ids):
        writer.writerow([row_id, *(c for cells in columns for c in cells[i]), *targets[i]])
    return out.getvalue()


def training_targets(comp, data_dir: Path, ids: list[str]) -> list[list[str]]:
    """Each training row's target cells exactly as the training file writes them (1, not 1.0), in file order."""
    import pandas as pd

    from kit.competition import data_file, with_row_ids

    wanted = {comp.id, *comp.targets}
    path = data_file(comp, data_dir, "train")
    frame = with_row_ids(comp, pd.read_csv(path, dtype=str, keep_default_na=False, usecols=wanted.__contains__), path)
    if comp.unlabelled == "skip":  # the rows without a target were left out of training (read_train_test)
        frame = frame[frame[comp.id].isin(set(ids))]
    if frame[comp.id].tolist() != ids:  # the file changed under the run
        raise KitError(f"{comp.files['train']} changed while kit read it; run again.")
    return frame[list(comp.targets)].values.tolist()


def check_oof_path(oof: Path, data_dir: Path, out: Path | None = None) -> None:
    """Refuse an OOF path before any training: not a .csv, in a data folder, the submission's own path, or one
    whose file or sidecar would replace something that is not an OOF file kit wrote (kit.submission)."""
    from kit.submission import check_out_path

    oof = Path(oof)
    where = oof.resolve()
    for folder in (Path(data_dir), paths.DATA):  # the competition's own folder named first, where both hold it
        if where.is_relative_to(folder.resolve()):
            raise KitError(f"{oof} is inside the data folder {folder}, which holds only the competition's files",
                           fix="other_oof")  # fmt: skip
    if out is not None and where.with_suffix("") == Path(out).resolve().with_suffix(""):
        raise KitError(f"{oof} and the submission would be written over each other", fix="other_oof")
    check_out_path(oof, role="oof")


def write_oof(path: Path, text: str, sidecar: dict) -> None:
    """The OOF file and its sidecar, both or neither, each written atomically (kit.submission.write_atomic)."""
    from kit.submission import write_submission

    write_submission(Path(path), text, {**sidecar, "oof": True})
