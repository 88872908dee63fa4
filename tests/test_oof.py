"""Out-of-fold predictions written to a file (`--oof PATH.csv`), and a multilabel task's score per target.

The OOF file holds the id, each model's and the ensemble's prediction in the task's form, then the target as the
training file writes it, in the file's row order, with empty cells for rows no fold validated; its values are the
CVResult's oof (checked against the CV the command made), written with the
submission's digits, and the same bytes on every run. Paths that would replace what kit did not write are refused
before any training. A multilabel CV reports each target's metric of the ensemble's out-of-fold predictions.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import torch
from conftest import kit, refused, write_titanic_like
from test_multilabel import TARGETS, write_steel
from test_tasks_end_to_end import CASES, write_competition
from test_time_split import sales

from kit.task import DIGITS

FAST = ["--models", "linear,nn", "--folds", "2", "--epochs", "3", "--quiet"]
DATA = '[files]\ntrain = "train.csv"\ntest = "test.csv"\nsample_submission = "sample_submission.csv"\n'


def rows_of(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text())))


_LAST_CV = {}  # slug -> the CVResult its last `kit cv` in this test made


@pytest.fixture(autouse=True)
def _keep_each_cv(monkeypatch):
    """Each CV kit runs in a test, as kit.pipeline.cached_cv returns it to the command."""
    import kit.pipeline

    real = kit.pipeline.cached_cv

    def keep(comp, *args, **kwargs):
        result, y = real(comp, *args, **kwargs)
        _LAST_CV[comp.slug] = result
        return result, y

    monkeypatch.setattr(kit.pipeline, "cached_cv", keep)
    _LAST_CV.clear()


def cached_oof(tmp_path: Path, slug: str) -> dict[str, torch.Tensor]:
    """name -> the oof of the CV kit just ran, ensemble included."""
    result = _LAST_CV[slug]
    return {**{name: r.oof for name, r in result.models.items()}, "ensemble": result.ensemble.oof}


def written(value: float) -> str:
    return "" if value != value else format(value, f".{DIGITS}g")


def file_column(path: Path, column: str) -> list[str]:
    rows = list(csv.reader(path.open()))
    return [row[rows[0].index(column)] for row in rows[1:]]


# ---- the file's columns, rows and values, task by task ----------------------------------------------------------


def test_a_binary_oof_file_holds_each_models_positive_probability_then_the_target_in_the_training_files_order(
    tmp_path, monkeypatch, capsys
):
    folder = write_titanic_like(tmp_path / "in")
    kit(tmp_path, monkeypatch, capsys, "cv", "--data-dir", str(folder), *FAST, "--oof", "oof.csv")
    rows = rows_of(tmp_path / "oof.csv")
    assert rows[0] == ["PassengerId", "linear", "nn", "ensemble", "Survived"]
    assert [r[0] for r in rows[1:]] == file_column(folder / "train.csv", "PassengerId")
    assert [r[-1] for r in rows[1:]] == file_column(folder / "train.csv", "Survived")
    oof = cached_oof(tmp_path, "titanic")
    for j, name in enumerate(("linear", "nn", "ensemble"), start=1):
        assert [r[j] for r in rows[1:]] == [written(v) for v in oof[name].double().tolist()]
    assert all(r[1] for r in rows[1:])  # stratified folds validate every row
    assert json.loads((tmp_path / "oof.json").read_text())["oof"] is True  # kit's mark: a rerun may replace it


def test_a_multiclass_oof_file_has_a_column_per_class_named_model_class(tmp_path, monkeypatch, capsys):
    case = CASES["iris-accuracy"]
    folder = tmp_path / "in"
    write_competition(case, folder)
    (tmp_path / "iris.toml").write_text(
        f'slug = "iris"\nid = "id"\ntarget = "species"\ntask = "multiclass"\nmetric = "accuracy"\n{DATA}'
        '[recipes.base]\nnumeric = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)"]\n'
    )
    kit(tmp_path, monkeypatch, capsys, "cv", "-c", "iris.toml", "--data-dir", str(folder), *FAST, "--oof", "oof.csv")
    rows = rows_of(tmp_path / "oof.csv")
    classes = sorted(case.classes)  # the labels, as the training values sort
    assert rows[0] == ["id", *(f"{m}_{c}" for m in ("linear", "nn", "ensemble") for c in classes), "species"]
    assert [r[-1] for r in rows[1:]] == file_column(folder / "train.csv", "species")
    for m, (name, oof) in enumerate(cached_oof(tmp_path, "iris").items()):
        assert oof.shape == (len(rows) - 1, 3)
        cells = [r[1 + 3 * m : 4 + 3 * m] for r in rows[1:]]
        assert cells == [[written(v) for v in row] for row in oof.double().tolist()], name


def test_a_regression_oof_file_is_on_the_targets_scale_and_a_time_splits_first_block_is_empty(
    tmp_path, monkeypatch, capsys
):
    folder = sales(tmp_path / "in")
    (tmp_path / "sales.toml").write_text(
        f'slug = "sales"\nid = "id"\ntarget = "sales"\ntask = "regression"\nmetric = "rmsle"\n{DATA}'
        '[recipes.base]\nnumeric = ["store", "promo"]\n[validation]\ntime = "date"\n'
    )
    kit(tmp_path, monkeypatch, capsys, "cv", "-c", "sales.toml", "--data-dir", str(folder), *FAST, "--oof", "oof.csv")
    rows = rows_of(tmp_path / "oof.csv")
    assert rows[0] == ["id", "linear", "nn", "ensemble", "sales"]
    assert [r[-1] for r in rows[1:]] == file_column(folder / "train.csv", "sales")  # 10.0 stays 10.0
    oof = cached_oof(tmp_path, "sales")
    never = torch.isnan(oof["ensemble"])
    assert 0 < int(never.sum()) < len(never)  # the first block of days, which no fold validates
    assert [r[1:4] for r, n in zip(rows[1:], never.tolist()) if n] == [["", "", ""]] * int(never.sum())
    for j, name in enumerate(("linear", "nn", "ensemble"), start=1):
        values = oof[name].expm1().clamp(min=0).double()  # learned on log1p: written on the sales' own scale
        assert [r[j] for r in rows[1:]] == [written(v) for v in values.tolist()]
        assert all(float(c) > 5 for c in (r[j] for r in rows[1:]) if c)  # sales, not log sales


def test_the_random_splits_training_rows_have_empty_cells(tmp_path, monkeypatch, capsys):
    folder = write_titanic_like(tmp_path / "in")
    flags = ["--models", "linear", "--split", "random", "--epochs", "3", "--quiet"]
    kit(tmp_path, monkeypatch, capsys, "cv", "--data-dir", str(folder), *flags, "--oof", "oof.csv")
    rows = rows_of(tmp_path / "oof.csv")[1:]
    validated = [r for r in rows if r[1]]
    assert len(validated) == int(0.2 * len(rows))  # fastai's 20 %
    assert all(r[1] == r[2] == "" for r in rows if r not in validated) and all(r[-1] for r in rows)


def test_a_rerun_writes_the_same_bytes_and_kit_submission_writes_the_same_file_as_kit_cv(tmp_path, monkeypatch, capsys):
    folder = write_titanic_like(tmp_path / "in")
    kit(tmp_path, monkeypatch, capsys, "cv", "--data-dir", str(folder), *FAST, "--oof", "oof.csv")
    first = {p: (tmp_path / p).read_bytes() for p in ("oof.csv", "oof.json")}
    kit(tmp_path, monkeypatch, capsys, "cv", "--data-dir", str(folder), *FAST, "--oof", "oof.csv")
    assert {p: (tmp_path / p).read_bytes() for p in first} == first
    kit(tmp_path, monkeypatch, capsys, "submission", "--data-dir", str(folder), *FAST, "--out", "sub.csv",
        "--oof", "sub-oof.csv")  # fmt: skip
    assert (tmp_path / "sub-oof.csv").read_bytes() == first["oof.csv"]
    assert rows_of(tmp_path / "sub.csv")[0] == ["PassengerId", "Survived"]


def test_kit_run_writes_the_oof_file_beside_the_submission(tmp_path, monkeypatch, capsys):
    folder = write_titanic_like(tmp_path / "in")
    kit(tmp_path, monkeypatch, capsys, "run", "--data-dir", str(folder), *FAST, "--out", "sub.csv", "--oof", "oof.csv")
    rows = rows_of(tmp_path / "oof.csv")
    assert rows[0] == ["PassengerId", "linear", "nn", "ensemble", "Survived"] and len(rows) == 81
    assert (tmp_path / "sub.csv").is_file()


# ---- refusals, before any training ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "path", "setup", "message"),
    [
        (
            "cv",
            "oof.txt",
            {},
            "oof.txt does not end in .csv; out-of-fold predictions are written as a CSV, so pass --oof",
        ),
        ("cv", "data/titanic/oof.csv", {}, "is inside the data folder data"),
        ("cv", "in/oof.csv", {}, "in/oof.csv is inside the data folder /"),
        ("cv", "mine.csv", {"mine.csv": "a,b\n"}, "mine.csv exists and is not a kit out-of-fold predictions file"),
        ("cv", "mine.csv", {"mine.json": "{}"}, "mine.json exists and is not a kit sidecar"),
        ("cv", "sub.csv", {"sub.csv": "x\n", "sub.json": "SUBMISSION"}, "sub.csv is kit's submission; writing"),
        ("submission", "sub.csv", {}, "sub.csv and the submission would be written over each other"),
        ("run", "sub.csv", {}, "sub.csv and the submission would be written over each other"),
        ("run", "in/oof.csv", {}, "in/oof.csv is inside the data folder /"),
    ],
)
def test_an_oof_path_that_would_replace_what_kit_did_not_write_is_refused_before_any_training(
    tmp_path, monkeypatch, capsys, command, path, setup, message
):
    folder = write_titanic_like(tmp_path / "in")
    sidecar = {"kit_version": "0", "competition": "titanic", "config": {}, "cv": {}}
    for name, text in setup.items():
        (tmp_path / name).write_text(json.dumps(sidecar) if text == "SUBMISSION" else text)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    out = ["--out", "sub.csv"] if command in ("submission", "run") else []
    error = refused(tmp_path, monkeypatch, capsys, command, "--data-dir", str(folder), *FAST, *out, "--oof", path)
    assert message in error and error.startswith("error: ")
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before  # nothing trained or written


def test_a_submission_never_replaces_an_oof_file_and_an_oof_file_never_a_submission(tmp_path, monkeypatch, capsys):
    folder = write_titanic_like(tmp_path / "in")
    kit(tmp_path, monkeypatch, capsys, "cv", "--data-dir", str(folder), *FAST, "--oof", "oof.csv")
    error = refused(tmp_path, monkeypatch, capsys, "submission", "--data-dir", str(folder), *FAST, "--out", "oof.csv")
    assert "oof.csv is kit's out-of-fold predictions file; writing the submission would replace it" in error
    assert "choose another --out" in error


# ---- multilabel: the score of each target -----------------------------------------------------------------------


def steel(tmp_path: Path, metric: str) -> Path:
    folder = tmp_path / "in"
    write_steel(folder)
    targets = ", ".join(f'"{t}"' for t in TARGETS)
    (tmp_path / "steel.toml").write_text(
        f'slug = "steel"\nid = "id"\ntarget = [{targets}]\ntask = "multilabel"\nmetric = "{metric}"\n{DATA}'
        '[recipes.base]\nnumeric = ["a", "b", "c", "d"]\n'
    )
    return folder


def by_hand(metric: str, pred: torch.Tensor, y: torch.Tensor) -> float:
    """scikit-learn's score of one target column: the oracle."""
    from sklearn.metrics import log_loss, roc_auc_score

    if metric == "roc_auc":
        return roc_auc_score(y.numpy(), pred.numpy())
    return log_loss(y.numpy(), pred.double().numpy(), labels=[0, 1])


@pytest.mark.parametrize("metric", ["roc_auc", "log_loss"])
def test_a_multilabel_cv_scores_each_target_of_the_ensembles_oof_in_the_table_the_json_and_the_sidecar(
    tmp_path, monkeypatch, capsys, metric
):
    folder = steel(tmp_path, metric)
    flags = ["-c", "steel.toml", "--data-dir", str(folder), *FAST]
    report = json.loads(kit(tmp_path, monkeypatch, capsys, "cv", *flags, "--json", "--oof", "oof.csv"))
    oof = cached_oof(tmp_path, "steel")["ensemble"]  # (n, 3)
    y = torch.tensor([[float(c) for c in r[-3:]] for r in rows_of(tmp_path / "oof.csv")[1:]])  # (n, 3)
    expected = {t: by_hand(metric, oof[:, c], y[:, c]) for c, t in enumerate(TARGETS)}
    assert list(report["per_target"]) == list(TARGETS)
    assert report["per_target"] == pytest.approx(expected, rel=1e-6)
    assert rows_of(tmp_path / "oof.csv")[0][-6:] == [*(f"ensemble_{t}" for t in TARGETS), *TARGETS]

    table = kit(tmp_path, monkeypatch, capsys, "cv", *flags).splitlines()
    line = next(
        i for i, text in enumerate(table) if text.startswith("per target (ensemble, every out-of-fold row at once): ")
    )
    places = len(table[3].split()[1].split(".")[1])  # the digits the table shows scores with
    shown = ", ".join(f"{t} {expected[t]:.{places}f}" for t in TARGETS)
    assert table[line] == f"per target (ensemble, every out-of-fold row at once): {shown}"
    assert table[line + 1].startswith("no CV trained: every model's CV is reused")  # the same flags

    kit(tmp_path, monkeypatch, capsys, "submission", *flags, "--out", "sub.csv")  # the CV above, reused
    sidecar = json.loads((tmp_path / "sub.json").read_text())
    assert sidecar["cv"]["per_target"] == pytest.approx(expected, rel=1e-6)


def test_a_task_with_one_target_has_no_per_target_line_or_key(tmp_path, monkeypatch, capsys):
    folder = write_titanic_like(tmp_path / "in")
    table = kit(tmp_path, monkeypatch, capsys, "cv", "--data-dir", str(folder), *FAST)
    assert "per target" not in table
    report = json.loads(kit(tmp_path, monkeypatch, capsys, "cv", "--data-dir", str(folder), *FAST, "--json"))
    assert "per_target" not in report
