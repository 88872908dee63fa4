"""The metrics of Kaggle's recent Playground series: mcc, qwk, f1_micro, f1_macro, r2, mape, smape and medae.

Each is kit's own tensor code, checked against scikit-learn's function as the oracle on random data (smape, which
scikit-learn lacks, against Kaggle's formula written in numpy), edge cases included: a constant prediction, a single
class, ties, a target of 0. Then what their names decide elsewhere: the direction in which epochs are chosen and
runs ranked, the loss medae trains and ensembles on, qwk's class order (labels that are numbers sorted as numbers),
and `kit new --metric X` + `kit cv` on small synthetic competitions.
"""

from __future__ import annotations

import csv
import json
import random
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import kit, refused, write_tables
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from kit import KitError
from kit.ensemble import select_weights
from kit.task import METRICS, closest_metric, make_task
from kit.train import best_epoch

# scikit-learn warns where a metric is undefined (one class, one row); those are the edge cases wanted here
pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning"),
    pytest.mark.filterwarnings("ignore:A single label was found:UserWarning"),
]

NEW = ("f1_micro", "f1_macro", "mcc", "qwk", "r2", "mape", "smape", "medae")


def _hard(pred: torch.Tensor) -> np.ndarray:
    """The hard labels scikit-learn is given: p > 0.5 for binary probabilities, the argmax for class rows."""
    return (pred.argmax(dim=1) if pred.dim() == 2 else (pred > 0.5).long()).numpy()


def kaggle_smape(y: np.ndarray, pred: np.ndarray) -> float:
    """Kaggle's SMAPE as its competitions publish it: percent, a row where both are 0 scoring 0."""
    denominator = (np.abs(y) + np.abs(pred)) / 2
    diff = np.abs(y - pred) / np.where(denominator == 0, 1, denominator)
    diff[denominator == 0] = 0.0
    return 100 * float(np.mean(diff))


# ---- against scikit-learn ----------------------------------------------------------------------


@st.composite
def class_rows(draw, binary: bool = False):
    """(predictions in the task's form, target): n rows of k classes, probabilities from a few values, so that ties
    (and rows exactly at 0.5) come up, and sometimes a single class or a constant prediction."""
    n = draw(st.integers(1, 60))
    k = 2 if binary else draw(st.integers(2, 6))
    y = torch.tensor(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    grid = st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0])
    if binary:
        return torch.tensor(draw(st.lists(grid, min_size=n, max_size=n)), dtype=torch.float32), y.float()
    pred = torch.tensor(draw(st.lists(st.lists(grid, min_size=k, max_size=k), min_size=n, max_size=n)))
    return pred, y


@settings(max_examples=150, deadline=None)
@given(class_rows(binary=True))
def test_binary_label_metrics_match_sklearn(case):
    pred, y = case
    truth, hard = y.long().numpy(), _hard(pred)
    assert METRICS["mcc"].score(pred, y) == pytest.approx(skm.matthews_corrcoef(truth, hard), abs=1e-12)
    kappa = skm.cohen_kappa_score(truth, hard, weights="quadratic", labels=[0, 1], replace_undefined_by=0.0)
    assert METRICS["qwk"].score(pred, y) == pytest.approx(kappa, abs=1e-12)
    assert METRICS["f1_micro"].score(pred, y) == pytest.approx(skm.f1_score(truth, hard, average="micro"), abs=1e-12)
    assert METRICS["f1_macro"].score(pred, y) == pytest.approx(skm.f1_score(truth, hard, average="macro"), abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(class_rows())
def test_multiclass_label_metrics_match_sklearn(case):
    pred, y = case
    k = pred.shape[1]
    truth, hard = y.numpy(), _hard(pred)  # a tie goes to the first class, in kit and here alike
    assert METRICS["mcc"].score(pred, y) == pytest.approx(skm.matthews_corrcoef(truth, hard), abs=1e-12)
    # over all the task's classes, a class no row holds included: it still sits between its neighbours
    kappa = skm.cohen_kappa_score(truth, hard, weights="quadratic", labels=list(range(k)), replace_undefined_by=0.0)
    assert METRICS["qwk"].score(pred, y) == pytest.approx(kappa, abs=1e-12)
    assert METRICS["f1_micro"].score(pred, y) == pytest.approx(skm.f1_score(truth, hard, average="micro"), abs=1e-12)
    assert METRICS["f1_macro"].score(pred, y) == pytest.approx(skm.f1_score(truth, hard, average="macro"), abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_qwk_of_a_regression_rounds_its_values_and_matches_sklearn_over_every_whole_number_between(data):
    n = data.draw(st.integers(1, 60))
    y = torch.tensor(data.draw(st.lists(st.integers(3, 8), min_size=n, max_size=n)), dtype=torch.float32)
    # values on a grid of quarters, so that halves (rounded to the even number, as numpy's rint) come up
    pred = torch.tensor(data.draw(st.lists(st.integers(4, 36), min_size=n, max_size=n)), dtype=torch.float32) / 4
    truth, hard = y.long().numpy(), np.rint(pred.double().numpy()).astype(int)
    every = list(range(min(truth.min(), hard.min()), max(truth.max(), hard.max()) + 1))
    kappa = skm.cohen_kappa_score(truth, hard, weights="quadratic", labels=every, replace_undefined_by=0.0)
    assert make_task("regression", "qwk", (), ("id", "y")).score(pred, y) == pytest.approx(kappa, abs=1e-12)


def test_a_regression_scored_by_qwk_writes_whole_numbers_and_refuses_any_other_cell_or_target():
    task = make_task("regression", "qwk", (), ("id", "quality"))
    assert task.cells(torch.tensor([4.6, 5.5, 6.5, 2.9, 7.49])) == [["5"], ["6"], ["6"], ["3"], ["7"]]
    assert task.check_cells(["6"]) is None
    assert task.check_cells(["5.5"]) == "has '5.5'; qwk of a regression scores whole numbers"
    assert task.check_cells(["inf"]) == "has 'inf'; qwk of a regression scores whole numbers"
    assert task.target(["3", "8", "5"], "train.csv", "quality").tolist() == [3.0, 8.0, 5.0]
    with pytest.raises(KitError, match=r"^train.csv column quality holds '5.5', but a regression scored by qwk"):
        task.target(["3", "5.5"], "train.csv", "quality")


values = st.floats(-1e3, 1e3, allow_nan=False, width=32)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_regression_metrics_match_sklearn_and_kaggles_smape(data):
    n = data.draw(st.integers(2, 50))  # scikit-learn's r2 of one row is NaN; kit's that of a constant target
    y = np.array(data.draw(st.lists(values, min_size=n, max_size=n)), dtype=np.float64)
    pred = np.array(data.draw(st.lists(values | st.sampled_from(list(y)), min_size=n, max_size=n)), dtype=np.float64)
    yt, pt = torch.tensor(y), torch.tensor(pred)
    assert METRICS["r2"].score(pt, yt) == pytest.approx(skm.r2_score(y, pred), rel=1e-9, abs=1e-9)
    assert METRICS["medae"].score(pt, yt) == pytest.approx(skm.median_absolute_error(y, pred), rel=1e-12, abs=1e-12)
    assert METRICS["smape"].score(pt, yt) == pytest.approx(kaggle_smape(y, pred), rel=1e-12, abs=1e-12)
    mape = skm.mean_absolute_percentage_error(y, pred)  # a target of 0 divides by eps there, as here
    assert METRICS["mape"].score(pt, yt) == pytest.approx(mape, rel=1e-12, abs=1e-12)


def test_a_constant_prediction_or_a_single_class_scores_0_for_mcc_and_qwk_as_sklearn_says():
    y = torch.tensor([0, 1, 2, 1, 0])
    constant = torch.tensor([[0.1, 0.8, 0.1]] * 5)  # every row predicted the middle class
    assert METRICS["mcc"].score(constant, y) == skm.matthews_corrcoef(y.numpy(), [1] * 5) == 0.0
    assert METRICS["qwk"].score(constant, y) == 0.0  # chance: no better than the counts alone
    one_class = torch.tensor([2, 2, 2, 2, 2])
    mixed = torch.eye(3)[[0, 1, 2, 2, 2]]
    assert METRICS["mcc"].score(mixed, one_class) == skm.matthews_corrcoef([2] * 5, [0, 1, 2, 2, 2]) == 0.0
    # every row true and predicted the one class: kappa is 0 / 0, which kit (and sklearn, asked to) scores 0
    all_right = torch.eye(3)[[2] * 5]
    assert METRICS["qwk"].score(all_right, one_class) == 0.0
    assert METRICS["mcc"].score(torch.tensor([0.9, 0.1]), torch.tensor([1.0, 0.0])) == 1.0


def test_qwk_weighs_a_miss_by_the_square_of_how_many_classes_apart_it_is():
    y = torch.tensor([0, 1, 2, 3, 4] * 4)
    one_off, three_off = torch.eye(5)[(y + 1).clamp(max=4)], torch.eye(5)[(y + 3) % 5]
    assert METRICS["qwk"].score(torch.eye(5)[y], y) == 1.0
    assert METRICS["qwk"].score(one_off, y) > 0.7 > METRICS["qwk"].score(three_off, y)
    assert METRICS["accuracy"].score(one_off, y) < 0.25  # what accuracy calls wrong, qwk calls close


def test_r2_of_a_constant_target_and_medae_of_an_even_count_follow_sklearn():
    y = torch.full((4,), 3.0)
    assert METRICS["r2"].score(y.clone(), y) == skm.r2_score(y.numpy(), y.numpy()) == 1.0
    assert METRICS["r2"].score(y + 1, y) == skm.r2_score(y.numpy(), (y + 1).numpy()) == 0.0
    errors = torch.tensor([1.0, 4.0, 2.0, 10.0])  # the middle two, 2 and 4: median 3 (torch.median would say 2)
    assert METRICS["medae"].score(errors, torch.zeros(4)) == 3.0
    assert METRICS["r2"].score(torch.full((4,), y.mean().item() + 0.0), torch.tensor([1.0, 2.0, 3.0, 4.0])) <= 0


def test_smape_is_in_percent_and_a_row_where_both_are_0_scores_0():
    assert METRICS["smape"].score(torch.tensor([0.0, 1.0]), torch.tensor([0.0, 3.0])) == pytest.approx(100 * 1 / 2)
    assert METRICS["smape"].score(torch.tensor([0.0]), torch.tensor([5.0])) == 200.0
    assert METRICS["mape"].score(torch.tensor([110.0, 95.0]), torch.tensor([100.0, 100.0])) == pytest.approx(0.075)


# ---- names, directions and what follows from them --------------------------------------------------


def test_each_metric_has_its_direction_tasks_and_submission():
    rows = {n: (METRICS[n].greater_is_better, METRICS[n].tasks, METRICS[n].submits) for n in NEW}
    labels = ("binary", "multiclass")
    assert rows == {
        "f1_micro": (True, labels, "label"),
        "f1_macro": (True, labels, "label"),
        "mcc": (True, labels, "label"),
        "qwk": (True, (*labels, "regression"), "label"),  # a regression's values rounded to whole numbers
        "r2": (True, ("regression",), "value"),
        "mape": (False, ("regression",), "value"),
        "smape": (False, ("regression",), "value"),
        "medae": (False, ("regression",), "value"),
    }


@pytest.mark.parametrize(
    ("name", "metric"),
    [
        ("matthews_corrcoef", "mcc"),
        ("MCC", "mcc"),
        ("quadratic_weighted_kappa", "qwk"),
        ("cohen_kappa", "qwk"),
        ("kappa", "qwk"),
        ("r2_score", "r2"),
        ("mean_absolute_percentage_error", "mape"),
        ("median_absolute_error", "medae"),
        ("macro_f1", "f1_macro"),
        ("micro_f1", "f1_micro"),
        ("micro-averaged F1-Score", "f1_micro"),  # a horse-health Evaluation page's words
        ("balanced_f1", None),  # not f1, which weighs the classes as they come (a trial's user took log_loss so)
        ("weighted_f1", None),
        ("Balanced Log Loss", "balanced_log_loss"),
        ("Balanced Accuracy", "balanced_accuracy"),
    ],
)
def test_the_usual_names_lead_to_kits_metric(name, metric):
    assert closest_metric(name) == metric


def test_a_balanced_metric_kit_lacks_is_said_to_weigh_the_classes_apart_and_no_plain_twin_is_offered():
    from kit import KitError
    from kit.task import check_metric_name

    with pytest.raises(KitError, match="kit's metrics weigh every row alike, where this one weighs the classes apart"):
        check_metric_name("balanced_f1")


@pytest.mark.parametrize(("name", "best"), [("qwk", 1), ("mcc", 1), ("r2", 1), ("mape", 2), ("smape", 2)])
def test_epochs_are_chosen_in_the_metrics_direction(name, best):
    # epoch 2 has the highest scores and epoch 3 the lowest: a metric where greater is better chooses 2,
    # one where lower is better 3 (the curves are the same; only the direction differs)
    kind = "regression" if name in ("r2", "mape", "smape") else "multiclass"
    task = make_task(kind, name, () if kind == "regression" else ("1", "2", "3"), ("id", "y"))
    scores = torch.tensor([[0.5, 0.9, 0.1], [0.4, 0.8, 0.2]])  # (folds, epochs)
    assert best_epoch(scores, task) == (2 if best == 1 else 3)
    assert task.better(0.9, 0.5) == (best == 1)
    assert sorted([0.5, 0.9, 0.1], key=task.sort_key) == ([0.9, 0.5, 0.1] if best == 1 else [0.1, 0.5, 0.9])


def test_medae_chooses_ensemble_weights_on_the_absolute_error_as_mae_does():
    # model a: right but for one wild row; model b: off by 1 everywhere. The squared error prefers b, the
    # absolute error a: a median of absolute errors is on a's side
    y = torch.zeros(50)
    a, b = torch.zeros(50), torch.ones(50)
    a[0] = 10.0
    weight_of_a = {
        m: select_weights([a, b], y, make_task("regression", m, (), ("id", "y")))[0]
        for m in ("rmse", "r2", "mae", "medae")
    }
    assert weight_of_a["rmse"] < 0.5 and weight_of_a["r2"] == weight_of_a["rmse"]
    assert weight_of_a["medae"] > 0.5 and weight_of_a["medae"] == weight_of_a["mae"]


def test_qwk_orders_classes_that_are_numbers_as_numbers_and_others_as_listed():
    task = make_task("multiclass", "qwk", ("1", "10", "2", "3"), ("id", "y"))  # as text sorts them
    assert task.labels == ("1", "2", "3", "10")
    assert make_task("multiclass", "accuracy", ("1", "10", "2"), ("id", "y")).labels == ("1", "10", "2")
    assert make_task("multiclass", "qwk", ("low", "mid", "high"), ("id", "y")).labels == ("low", "mid", "high")
    assert make_task("binary", "qwk", ("1", "0"), ("id", "y")).labels == ("1", "0")  # negative, positive
    # 3 predicted for 10 is two classes off, not one: the score is that of index distances in numeric order
    y = task.target(["10", "10", "1", "2"], "train.csv", "y")
    pred = torch.eye(4)[[1, 3, 0, 1]]  # "2" for the first 10
    expected = skm.cohen_kappa_score([10, 10, 1, 2], [2, 10, 1, 2], weights="quadratic", labels=[1, 2, 3, 10])
    assert task.score(pred, y) == pytest.approx(expected, abs=1e-12)
    assert task.cells(pred) == [["2"], ["10"], ["1"], ["2"]]


def test_a_target_of_0_is_refused_for_mape_in_one_sentence():
    task = make_task("regression", "mape", (), ("id", "y"))
    with pytest.raises(KitError, match=r"^train.csv column y has a value of 0, which mape cannot score .*smape or mae"):
        task.target(["3.5", "0", "2"], "train.csv", "y")
    assert task.target(["3.5", "-1", "2"], "train.csv", "y").tolist() == [3.5, -1.0, 2.0]
    assert make_task("regression", "smape", (), ("id", "y")).target(["0", "2"], "f", "y").tolist() == [0.0, 2.0]


# ---- kit new and kit cv ------------------------------------------------------------------------


def write_playground(folder: Path, target: str, n: int = 240, seed: int = 0) -> None:
    """train.csv, test.csv and sample_submission.csv of a small synthetic competition: two numbers and a category,
    and a target of the kind `target` names: "rating" (0 to 10, ordered), "edible" (e/p, as S4E8's mushrooms)
    or "amount" (a value of 20 to 80, never 0). Every fourth id is a test row."""
    rng = random.Random(seed)
    header = ["id", "x1", "x2", "shade"]
    train, test, sample = [[*header, target]], [header], [["id", target]]
    for i in range(n):
        x1, x2, shade = rng.gauss(0, 1), rng.gauss(0, 1), rng.choice("abc")
        signal = 2 * x1 + x2 + (shade == "a") + rng.gauss(0, 0.7)
        y = {
            "rating": str(max(0, min(10, round(5 + signal)))),
            "edible": "e" if signal > 0.3 else "p",
            "amount": f"{50 + 10 * signal:.2f}",
        }[target]
        cells = [str(i), f"{x1:.4f}", f"{x2:.4f}", shade]
        if i % 4 == 0:
            test.append(cells)
            sample.append([str(i), {"rating": "5", "edible": "e", "amount": "50"}[target]])
        else:
            train.append([*cells, y])
    folder.mkdir(parents=True, exist_ok=True)
    write_tables(folder, {"train.csv": train, "test.csv": test, "sample_submission.csv": sample})


def _draft_and_cv(tmp_path, monkeypatch, capsys, metric: str, target: str) -> tuple[dict, dict]:
    """`kit new --metric METRIC` then `kit cv --json` on its draft (3 folds, 40 epochs): (the draft, the CV)."""
    write_playground(tmp_path / "data", target)
    kit(tmp_path, monkeypatch, capsys, "new", "play", "--data-dir", "data", "--metric", metric)
    drafted = tomllib.loads((tmp_path / "competitions" / "play.toml").read_text())
    out = kit(
        tmp_path, monkeypatch, capsys, "cv", "-c", "play", "--data-dir", "data", "--folds", "3", "--epochs", "40",
        "--json", "--oof", "oof.csv",
    )  # fmt: skip
    return drafted, json.loads(out)


def _oof(tmp_path: Path, column: str) -> list[dict]:
    with open(tmp_path / "oof.csv", newline="") as f:
        return [row for row in csv.DictReader(f) if row[column] != ""]


def test_kit_new_and_cv_score_an_ordinal_rating_by_qwk_with_its_classes_in_numeric_order(tmp_path, monkeypatch, capsys):
    drafted, cv = _draft_and_cv(tmp_path, monkeypatch, capsys, "qwk", "rating")
    assert (drafted["task"], drafted["metric"]) == ("multiclass", "qwk")
    labels = [str(v) for v in range(11) if str(v) in drafted["submission"]["labels"]]
    assert drafted["submission"]["labels"] == labels  # 0, 1, ..., 10: not 0, 1, 10, 2
    # the ensemble's out-of-fold classes, scored by scikit-learn on the ratings as numbers, agree with the CV
    rows = _oof(tmp_path, "ensemble_5")
    columns = [f"ensemble_{c}" for c in labels]
    hard = [int(labels[max(range(len(labels)), key=lambda c: float(r[columns[c]]))]) for r in rows]
    pooled = skm.cohen_kappa_score([int(r["rating"]) for r in rows], hard, weights="quadratic")
    assert cv["ensemble"]["mean"] > 0.6 and abs(cv["ensemble"]["mean"] - pooled) < 0.05


def test_a_rating_scored_by_qwk_learned_as_a_regression_cvs_and_submits_whole_numbers(tmp_path, monkeypatch, capsys):
    write_playground(tmp_path / "data", "rating")
    kit(tmp_path, monkeypatch, capsys, "new", "play", "--data-dir", "data", "--metric", "qwk")
    path = tmp_path / "competitions" / "play.toml"
    text = path.read_text()
    assert '\n# task = "regression"  # or learn the rating as a number' in text  # the draft offers it, commented
    # the user takes it: the regression's line uncommented, the classification's and its labels dropped
    lines = [line for line in text.splitlines() if not line.startswith(('task = "multiclass"', "labels = "))]
    path.write_text("\n".join(line.removeprefix("# ") if "# task" in line else line for line in lines) + "\n")
    cv = json.loads(
        kit(
            tmp_path,
            monkeypatch,
            capsys,
            "cv",
            "-c",
            "play",
            "--data-dir",
            "data",
            "--folds",
            "3",
            "--epochs",
            "40",
            "--json",
            "--oof",
            "oof.csv",
        )  # fmt: skip
    )
    rows = _oof(tmp_path, "ensemble")  # values, as a regression's: scikit-learn scores them rounded
    truth = [int(r["rating"]) for r in rows]
    pooled = skm.cohen_kappa_score(truth, np.rint([float(r["ensemble"]) for r in rows]), weights="quadratic")
    assert cv["ensemble"]["mean"] > 0.6 and abs(cv["ensemble"]["mean"] - pooled) < 0.05
    out = kit(tmp_path, monkeypatch, capsys, "submission", "-c", "play", "--data-dir", "data", "--folds", "3")
    with open(tmp_path / out.strip().splitlines()[-1], newline="") as f:
        cells = [row["rating"] for row in csv.DictReader(f)]
    assert all(c.isdigit() for c in cells)  # written as the sample writes them: 5, never 5.0 or 4.73
    assert min(truth) <= min(map(int, cells)) and max(map(int, cells)) <= max(truth)  # within the training range


def test_kit_new_and_cv_score_a_binary_target_by_mcc(tmp_path, monkeypatch, capsys):
    drafted, cv = _draft_and_cv(tmp_path, monkeypatch, capsys, "mcc", "edible")
    assert (drafted["task"], drafted["metric"]) == ("binary", "mcc")
    assert 0.5 < cv["ensemble"]["mean"] <= 1
    rows = _oof(tmp_path, "ensemble")
    pooled = skm.matthews_corrcoef(
        [r["edible"] for r in rows], ["p" if float(r["ensemble"]) > 0.5 else "e" for r in rows]
    )
    assert abs(cv["ensemble"]["mean"] - pooled) < 0.05


@pytest.mark.parametrize("metric", ["r2", "medae", "smape", "mape"])
def test_kit_new_and_cv_score_a_regression_by_its_metric(metric, tmp_path, monkeypatch, capsys):
    drafted, cv = _draft_and_cv(tmp_path, monkeypatch, capsys, metric, "amount")
    assert (drafted["task"], drafted["metric"]) == ("regression", metric)
    assert drafted["training"].get("loss") == ("mae" if metric == "medae" else None)  # medae learns the abs error
    rows = _oof(tmp_path, "ensemble")
    y, pred = np.array([float(r["amount"]) for r in rows]), np.array([float(r["ensemble"]) for r in rows])
    oracle = {
        "r2": skm.r2_score,
        "medae": skm.median_absolute_error,
        "smape": kaggle_smape,
        "mape": skm.mean_absolute_percentage_error,
    }[metric]
    pooled, mean = oracle(y, pred), cv["ensemble"]["mean"]
    assert abs(mean - pooled) <= 0.1 * abs(pooled) + 0.02, (mean, pooled)
    if metric == "r2":
        assert mean > 0.7  # the target is mostly signal


def test_kit_cv_refuses_a_target_of_0_for_mape_naming_its_line(tmp_path, monkeypatch, capsys):
    write_playground(tmp_path / "data", "amount")
    kit(tmp_path, monkeypatch, capsys, "new", "play", "--data-dir", "data", "--metric", "mape")
    train = tmp_path / "data" / "train.csv"
    lines = train.read_text().splitlines()
    lines[3] = ",".join([*lines[3].split(",")[:-1], "0"])
    train.write_text("\n".join(lines) + "\n")
    err = refused(tmp_path, monkeypatch, capsys, "cv", "-c", "play", "--data-dir", "data", "--folds", "2")
    assert "column amount is 0" in err and "line 4" in err and "which mape cannot score" in err


def test_kit_new_notes_that_qwk_needs_text_labels_listed_in_their_order(tmp_path, monkeypatch, capsys):
    write_playground(tmp_path / "data", "rating")
    for name in ("train.csv", "sample_submission.csv"):  # ratings as words: low, mid, high sort as text
        path = tmp_path / "data" / name
        words = {str(v): ("low" if v < 4 else "mid" if v < 7 else "high") for v in range(11)}
        rows = [r[:-1] + [words.get(r[-1], r[-1])] for r in csv.reader(path.read_text().splitlines())]
        write_tables(tmp_path / "data", {name: rows})
    monkeypatch.chdir(tmp_path)
    from kit.cli import main

    assert main(["new", "play", "--data-dir", "data", "--metric", "qwk"]) == 0
    err = capsys.readouterr().err
    assert "qwk counts a miss by how far apart the classes are in the order of [submission] labels" in err
    drafted = tomllib.loads((tmp_path / "competitions" / "play.toml").read_text())
    assert drafted["submission"]["labels"] == ["high", "low", "mid"]


@pytest.mark.parametrize("metric", ["mape", "smape"])
def test_relative_errors_learn_in_logs_when_every_target_is_0_or_more_and_score_on_the_values(metric):
    task = make_task("regression", metric, (), ("id", "y"), nonnegative=True)
    assert task.log_target
    y = task.target(["5", "10", "100"], "train.csv", "y")
    assert torch.allclose(y, torch.tensor([5.0, 10.0, 100.0]).log1p())
    pred = torch.tensor([4.0, 12.0, 90.0]).log1p()
    raw = METRICS[metric].score(torch.tensor([4.0, 12.0, 90.0]), torch.tensor([5.0, 10.0, 100.0]))
    assert task.score(pred, y) == pytest.approx(raw, rel=1e-6)
    assert torch.allclose(task.untransform(pred), torch.tensor([4.0, 12.0, 90.0]))
    # a target below 0 has no log(1 + y) worth learning in: the values themselves, as before
    plain = make_task("regression", metric, (), ("id", "y"), nonnegative=False)
    assert not plain.log_target and torch.equal(
        plain.target(["-5", "10"], "train.csv", "y"), torch.tensor([-5.0, 10.0])
    )


def test_the_competitions_targets_decide_whether_smape_learns_in_logs(tmp_path, monkeypatch, capsys):
    from kit.competition import load_competition, read_csv, task_of

    write_playground(tmp_path / "data", "amount")
    kit(tmp_path, monkeypatch, capsys, "new", "play", "--data-dir", "data", "--metric", "smape")
    comp = load_competition(str(tmp_path / "competitions" / "play.toml"))
    train = read_csv(tmp_path / "data" / "train.csv", [comp.target], comp.id)
    assert task_of(comp, train).log_target
    train.loc[train.index[0], comp.target] = -1.5
    assert not task_of(comp, train).log_target


@pytest.mark.parametrize(("metric", "training", "loss"), [("mae", "", "mae"), ("medae", "", "mae"),
                                                          ("mae", 'loss = "task"\n', "task"), ("rmse", "", "task")])  # fmt: skip
def test_a_metric_set_by_hand_brings_its_loss_unless_the_training_table_names_one(
    tmp_path, monkeypatch, capsys, metric, training, loss
):
    write_playground(tmp_path / "data", "amount")
    kit(tmp_path, monkeypatch, capsys, "new", "play", "--data-dir", "data", "--metric", "rmse")
    path = tmp_path / "competitions" / "play.toml"
    text = path.read_text().replace('metric = "rmse"', f'metric = "{metric}"')  # the user's edit
    path.write_text(text.replace("[training]\n", f"[training]\n{training}"))
    kit(tmp_path, monkeypatch, capsys, "cv", "-c", "play", "--data-dir", "data", "--models", "linear", "--folds", "2",
        "--epochs", "2", "--quiet")  # fmt: skip
    runs = json.loads((tmp_path / "submissions" / "play" / "runs.json").read_text())
    assert runs[-1]["training"]["linear"]["loss"] == loss
