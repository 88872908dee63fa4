"""Several binary target columns (Kaggle's Playground S4E3 steel plate defects, S3E18): the multilabel task.

A definition whose target lists two or more columns predicts each one's probability with its own sigmoid, learns
the mean of their log losses, is scored by the mean over columns of ROC AUC or log loss (checked against
scikit-learn), splits k-fold, and writes one probability column per target. `kit new` drafts it from a sample
submission whose columns after the id are two-valued columns of train.
"""

from __future__ import annotations

import csv
import json
import math
import random
import re
import tomllib
from pathlib import Path

import pytest
import torch
from conftest import REPO, kit, refused, write_tables

from kit import KitError
from kit.competition import load_competition, parse_definition, target_tensor, task_of
from kit.ensemble import select_weights
from kit.submission import check_submission
from kit.task import make_task
from kit.train import TASK_LOSS
from kit.validation import Plan, split_indices

TARGETS = ("Pastry", "Z_Scratch", "K_Scatch")


def write_steel(folder: Path, n: int = 300, values=("0", "1")) -> None:
    """train.csv, test.csv and sample_submission.csv of a small S4E3-like set: four numbers, three yes/no targets,
    each a noisy logistic function of one or two numbers; every fourth id is a test row."""
    rng = random.Random(0)
    folder.mkdir(parents=True, exist_ok=True)
    train, test = [["id", "a", "b", "c", "d", *TARGETS]], [["id", "a", "b", "c", "d"]]
    sample = [["id", *TARGETS]]
    for i in range(n):
        x = [rng.gauss(0, 1) for _ in range(4)]
        logits = (2 * x[0], 2 * x[1] - x[2], -2 * x[3])
        y = [values[rng.random() < 1 / (1 + math.exp(-z))] for z in logits]
        cells = [f"{v:.5f}" for v in x]
        if i % 4 == 0:
            test.append([str(1000 + i), *cells])
            sample.append([str(1000 + i), "0.5", "0.5", "0.5"])
        else:
            train.append([str(1000 + i), *cells, *y])
    write_tables(folder, {"train.csv": train, "test.csv": test, "sample_submission.csv": sample})


def definition(**changes) -> dict:
    raw = {
        "slug": "steel",
        "id": "id",
        "target": list(TARGETS),
        "metric": "roc_auc",
        "files": {"train": "train.csv", "test": "test.csv"},
        "recipes": {"base": {"numeric": ["a", "b", "c", "d"]}},
    }
    return {k: v for k, v in {**raw, **changes}.items() if v is not None}


# ---- the metrics, against scikit-learn ------------------------------------------------------------


def _random_case(n: int = 200, k: int = 4, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    y = (torch.rand(n, k, generator=gen) < 0.3).float()  # (n, k)
    pred = (0.4 * y + 0.6 * torch.rand(n, k, generator=gen)).double()  # informative, with some ties
    pred[:20] = 0.5
    return pred, y


def test_roc_auc_of_a_multilabel_prediction_is_sklearns_macro_auc_on_the_indicator_matrix():
    from sklearn.metrics import roc_auc_score

    pred, y = _random_case()
    task = make_task("multilabel", "roc_auc", ("A", "B", "C", "D"), ("id", "A", "B", "C", "D"))
    expected = roc_auc_score(y.numpy(), pred.numpy(), average="macro")
    assert task.score(pred, y) == pytest.approx(expected, abs=1e-12)


def test_log_loss_of_a_multilabel_prediction_is_the_mean_of_sklearns_per_column_log_loss():
    from sklearn.metrics import log_loss

    pred, y = _random_case(seed=1)
    pred[0, 0], pred[1, 1] = 0.0, 1.0  # clipped, as scikit-learn clips them
    task = make_task("multilabel", "log_loss", ("A", "B", "C", "D"), ("id", "A", "B", "C", "D"))
    expected = sum(log_loss(y[:, c].numpy(), pred[:, c].numpy(), labels=[0, 1]) for c in range(4)) / 4
    assert task.score(pred, y) == pytest.approx(expected, rel=1e-9)


# ---- the task: its target, width, loss and cells ---------------------------------------------------


def test_the_target_is_an_n_by_k_matrix_of_each_columns_positive_value():
    task = make_task("multilabel", "roc_auc", ("A", "B"), ("id", "A", "B"))
    assert task.width == 2
    y = task.target([["1", "0", "1"], ["No", "Yes", "Yes"]], "train.csv", ("A", "B"))
    assert y.tolist() == [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]] and y.dtype == torch.float32
    z = torch.tensor([[0.0, 100.0], [-100.0, 2.0]])
    assert torch.allclose(task.link(z), torch.sigmoid(z))  # each column its own sigmoid, not a softmax


def test_the_loss_is_the_mean_over_columns_of_each_columns_binary_log_loss():
    gen = torch.Generator().manual_seed(3)
    z = torch.randn(2, 3, 5, 4, generator=gen) * 5  # (F, S, n, k) logits
    y = (torch.rand(2, 5, 4, generator=gen) < 0.5).float()  # (F, n, k)
    bce = torch.nn.functional.binary_cross_entropy_with_logits  # torch's own loss, the oracle
    expected = bce(z, y[:, None].expand_as(z), reduction="none").mean(dim=-1)  # (F, S, n)
    assert torch.allclose(TASK_LOSS["multilabel"](z, y), expected, atol=1e-6)


def test_cells_follow_the_submission_columns_and_rows_need_not_sum_to_one():
    task = make_task("multilabel", "roc_auc", ("A", "B"), ("id", "B", "A"))
    assert task.cells(torch.tensor([[0.9, 0.2], [0.6, 0.7]])) == [["0.200000003", "0.899999976"],
                                                                     ["0.699999988", "0.600000024"]]  # fmt: skip
    assert task.check_cells(["0.9", "0.8"]) is None
    assert "lie in [0, 1]" in task.check_cells(["1.2", "0.1"])
    assert "no prediction" in task.check_cells(["nan", "0.1"])


def test_select_chooses_on_the_summed_log_loss_of_each_columns_true_value():
    y = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    good = 0.1 + 0.8 * y  # (n, k) right on every column
    bad = 0.5 + 0.0 * y  # knows nothing
    wrong_second = torch.stack([good[:, 0], 1 - good[:, 1]], dim=1)  # right on one column only
    task = make_task("multilabel", "log_loss", ("A", "B"), ("id", "A", "B"))
    assert select_weights([bad, good], y, task) == [0.0, 1.0]
    assert select_weights([wrong_second, bad], y, task)[1] > 0.5  # a column far off outweighs one right
    # under roc_auc, on the columns' mean AUC: the reversed column ranks worse than none, not infinitely worse
    by_order = make_task("multilabel", "roc_auc", ("A", "B"), ("id", "A", "B"))
    assert select_weights([bad, good], y, by_order) == [0.0, 1.0]
    half_right = torch.stack([good[:, 0], bad[:, 1]], dim=1)  # AUC 1 and 0.5: above wrong_second's 1 and 0
    assert select_weights([wrong_second, half_right], y, by_order) == [0.0, 1.0]


def test_a_group_split_keeps_groups_whole_for_a_multilabel_target():
    y = (torch.arange(60)[:, None] % torch.tensor([2, 3]) == 0).float()  # (60, 2)
    groups = [f"g{i // 4}" for i in range(60)]
    for train_idx, valid_idx in split_indices(Plan(split="group", folds=3), y, groups):
        assert not {groups[i] for i in train_idx.tolist()} & {groups[i] for i in valid_idx.tolist()}


# ---- the definition, and what it refuses ---------------------------------------------------------


def test_a_list_target_is_a_multilabel_task_with_one_submission_column_per_target():
    comp = parse_definition(definition(), Path("steel.toml"))
    assert comp.task == "multilabel" and comp.targets == TARGETS
    assert comp.columns == ("id", *TARGETS)
    assert parse_definition(definition(task="multilabel"), Path("steel.toml")).task == "multilabel"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"task": "binary"}, "target lists 3 columns, which makes a multilabel task, not a binary one"),
        ({"target": ["Pastry"]}, "target must be a column name, or a list of two or more column names"),
        ({"target": "Pastry", "task": "multilabel"}, 'task = "multilabel" needs target to list'),
        ({"metric": "accuracy"}, "metric accuracy does not score a multilabel task; use one of roc_auc, log_loss"),
        (
            {"recipes": {"base": {"numeric": ["a"], "target_mean": {"r": {"by": "b"}}}}},
            "target_mean learns from one target column, and steel is a multilabel task",
        ),
        ({"recipes": {"base": {"numeric": ["a", "Pastry"]}}}, "recipe base reads the target Pastry as an input"),
        ({"submission": {"labels": ["0", "1"]}}, "[submission] labels are for one class column"),
    ],
)
def test_a_definition_that_cannot_be_multilabel_is_refused_in_one_sentence(changes, message):
    with pytest.raises(KitError, match=re.escape(message)) as e:
        parse_definition(definition(**changes), Path("steel.toml"))
    assert "\n" not in str(e.value) and str(e.value).endswith("fix the file.")


def test_a_target_column_that_is_not_two_yes_no_values_is_refused_at_load_naming_it(tmp_path):
    import pandas as pd

    comp = parse_definition(definition(), Path("steel.toml"))
    train = pd.DataFrame({"id": ["1", "2", "3"], "Pastry": [0, 1, 1], "Z_Scratch": [0, 2, 1], "K_Scatch": [1, 0, 0]})
    with pytest.raises(KitError, match=r"train.csv column Z_Scratch holds '0', '1', '2', but each target"):
        target_tensor(comp, task_of(comp, train), train)
    train["Z_Scratch"] = ["A", "B", "A"]
    with pytest.raises(KitError, match="column Z_Scratch holds 'A', 'B'"):
        target_tensor(comp, task_of(comp, train), train)
    train["Z_Scratch"] = [True, False, True]  # pandas reads True/False: fine
    assert target_tensor(comp, task_of(comp, train), train)[:, 1].tolist() == [1.0, 0.0, 1.0]


def test_stratified_folds_are_refused_for_multilabel_in_one_sentence(tmp_path, monkeypatch, capsys):
    write_steel(tmp_path / "data")
    kit(tmp_path, monkeypatch, capsys, "new", "steel", "--data-dir", "data")
    err = refused(tmp_path, monkeypatch, capsys, "cv", "-c", "steel", "--data-dir", "data", "--split", "stratified")
    assert "a multilabel task splits with --split kfold (or group)" in err


# ---- kit new, cv, submission, submit --check: end to end ----------------------------------------


def test_kit_new_drafts_a_multilabel_definition_that_cv_and_submission_run_unchanged(tmp_path, monkeypatch, capsys):
    write_steel(tmp_path / "data")
    kit(tmp_path, monkeypatch, capsys, "new", "steel", "--data-dir", "data")
    text = (tmp_path / "competitions" / "steel.toml").read_text()
    drafted = tomllib.loads(text)
    assert drafted["target"] == list(TARGETS) and drafted["task"] == "multilabel"
    assert drafted["metric"] == "roc_auc" and re.search(r'(?m)^metric = "roc_auc"  # a guess', text)
    assert drafted["submission"]["columns"] == ["id", *TARGETS] and "labels" not in drafted["submission"]
    assert "one_hot" not in drafted["recipes"]["base"]  # numbers only: no empty line for categories

    fast = ["--data-dir", "data", "--folds", "2", "--epochs", "5", "--quiet"]
    table = kit(tmp_path, monkeypatch, capsys, "cv", "-c", "steel", *fast)
    assert "split=kfold 2 folds" in table and "ensemble weights" in table  # the draft's ensemble = "select"
    auc = float(re.search(r"(?m)^ensemble\s+(\S+)", table)[1])
    assert auc > 0.7  # each target is learnable from the numbers

    out = kit(tmp_path, monkeypatch, capsys, "submission", "-c", "steel", *fast)
    path = tmp_path / out.strip().splitlines()[-1]
    rows = list(csv.reader(path.read_text().splitlines()))
    sample = list(csv.reader((tmp_path / "data" / "sample_submission.csv").read_text().splitlines()))
    assert rows[0] == sample[0] and [r[0] for r in rows] == [r[0] for r in sample]  # header and ids as the sample
    assert all(0 <= float(v) <= 1 for row in rows[1:] for v in row[1:])
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert (sidecar["task"], sidecar["metric"], sidecar["targets"]) == ("multilabel", "roc_auc", list(TARGETS))
    assert path.with_suffix(".cv.png").is_file() and path.with_suffix(".loss.png").is_file()
    assert "passes every check" in kit(
        tmp_path, monkeypatch, capsys, "submit", "--check", str(path), "-c", "steel", "--data-dir", "data"
    )
    report = kit(tmp_path, monkeypatch, capsys, "report", "-c", "steel")
    assert "cv roc_auc" in report and path.name in report

    # a bad file is refused before anything is sent: NaN, outside [0, 1], a target's column missing
    text = path.read_text()
    first = rows[1][1]
    for bad, reason in (
        (text.replace(first, "nan", 1), "has no prediction"),
        (text.replace(first, "1.5", 1), "probabilities must lie in [0, 1]"),
        ("\n".join(",".join(r[:3]) for r in rows) + "\n", "the submission's header is 'id,Pastry,Z_Scratch'"),
    ):
        (tmp_path / "bad.csv").write_text(bad)
        err = refused(
            tmp_path, monkeypatch, capsys, "submit", "--check", "bad.csv", "-c", "steel", "--data-dir", "data"
        )
        assert reason in err


def test_kit_new_honours_a_metric_given_for_a_multilabel_draft(tmp_path, monkeypatch, capsys):
    write_steel(tmp_path / "data", values=("False", "True"))
    kit(tmp_path, monkeypatch, capsys, "new", "steel", "--data-dir", "data", "--metric", "log_loss")
    text = (tmp_path / "competitions" / "steel.toml").read_text()
    assert tomllib.loads(text)["metric"] == "log_loss" and "a guess" not in text
    err = refused(tmp_path, monkeypatch, capsys, "new", "other", "--data-dir", "data", "--metric", "accuracy")
    assert "metric accuracy does not score a multilabel task" in err


def test_a_sample_whose_columns_are_not_all_two_valued_train_columns_is_not_drafted_as_multilabel(
    tmp_path, monkeypatch, capsys
):
    write_steel(tmp_path / "data")
    sample = tmp_path / "data" / "sample_submission.csv"
    sample.write_text(sample.read_text().replace("id,Pastry,Z_Scratch,K_Scatch", "id,Pastry,Z_Scratch,Other", 1))
    assert "cannot tell the target column" in refused(tmp_path, monkeypatch, capsys, "new", "s", "--data-dir", "data")


def test_the_notebook_says_each_target_gets_its_own_probability(tmp_path, monkeypatch, capsys):
    from kit.notebook import build_notebook
    from kit.train import Training

    write_steel(tmp_path / "data")
    kit(tmp_path, monkeypatch, capsys, "new", "steel", "--data-dir", "data")
    comp = load_competition(str(tmp_path / "competitions" / "steel.toml"))
    built = build_notebook(comp, "base", Plan(training=Training()), "me", tmp_path / "nb")
    notebook = json.loads((built / "steel.ipynb").read_text())
    text = " ".join(" ".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown").split())
    assert "on the multilabel log loss" in text and "one probability per target column" in text
    assert "summing to 1" not in text


def test_the_readmes_multilabel_definition_runs(tmp_path, monkeypatch, capsys):
    readme = (REPO / "README.md").read_text()
    block = next(b for b in re.findall(r"```toml\n(.*?)```", readme, re.DOTALL) if "\ntarget = [" in b)
    write_steel(tmp_path / "data")
    definition_file = tmp_path / "steel.toml"
    definition_file.write_text(block)
    args = ["cv", "-c", str(definition_file), "--data-dir", "data", "--folds", "2", "--epochs", "3", "--quiet"]
    assert "roc_auc" in kit(tmp_path, monkeypatch, capsys, *args)


def test_a_file_whose_rows_do_not_sum_to_one_passes_the_check(tmp_path):
    comp = parse_definition(definition(), Path("steel.toml"))
    task = make_task("multilabel", "roc_auc", TARGETS, comp.columns)
    good = "id,Pastry,Z_Scratch,K_Scatch\n1,0.9,0.9,0.9\n2,0,1,0.5\n"
    check_submission(comp, task, good, ["1", "2"])
