"""MAP@3, as Kaggle Playground S5E6 (Predicting Optimal Fertilizers) scores it: the metric `map_at_3`.

A submission row names the 3 most probable labels, best first, in one cell separated by spaces; it scores 1, 1/2 or
1/3 when the true label is named first, second or third, else 0, and MAP@3 is the mean over rows. The models still
predict class probabilities and learn on cross-entropy; the metric is checked against a plain computation of its
definition and against scikit-learn's top-k accuracies. `kit new` drafts it from a sample submission of ranked labels.
"""

from __future__ import annotations

import csv
import json
import random
import re
import tomllib
from pathlib import Path

import pytest
import torch
from conftest import kit, refused, write_tables

from kit import KitError
from kit.cli import main
from kit.competition import load_competition
from kit.ensemble import select_weights
from kit.metrics import map_at_3
from kit.submission import check_submission
from kit.task import METRICS, closest_metric, make_task
from kit.validation import Plan

FERTILIZERS = ("14-35-14", "10-26-26", "17-17-17", "20-20", "28-28", "DAP", "Urea")
LABELS = tuple(sorted(FERTILIZERS))  # the task's class order: the training target's values, sorted
SOILS = ("Black", "Clayey", "Loamy", "Red", "Sandy")
TARGET = "Fertilizer Name"


def write_fertilizers(folder: Path, n: int = 420, sample: str = "14-35-14 10-26-26 Urea", labels=FERTILIZERS) -> None:
    """train.csv, test.csv and sample_submission.csv of a small S5E6-like set: three nutrients, a temperature and a
    soil type; the fertilizer is the one whose profile is nearest the nutrients, with noise. Every fifth id is a
    test row, and the sample submission holds `sample` in every row."""
    rng = random.Random(0)
    folder.mkdir(parents=True, exist_ok=True)
    header = ["id", "Temparature", "Soil Type", "Nitrogen", "Potassium", "Phosphorous"]
    train, test, rows = [[*header, TARGET]], [header], [["id", TARGET]]
    for i in range(n):
        x = [rng.gauss(0, 1) for _ in range(3)]
        soil = rng.randrange(len(SOILS))
        # each fertilizer has its own direction in the nutrients (and the soil nudges one of them)
        scores = [2 * x[c % 3] * (1 if c < 3 else -1) + (c == soil) + rng.gauss(0, 1) for c in range(len(labels))]
        y = labels[max(range(len(labels)), key=scores.__getitem__)]
        cells = [str(i), f"{25 + 5 * rng.random():.1f}", SOILS[soil], *(f"{v:.4f}" for v in x)]
        if i % 5 == 0:
            test.append(cells)
            rows.append([str(i), sample])
        else:
            train.append([*cells, y])
    write_tables(folder, {"train.csv": train, "test.csv": test, "sample_submission.csv": rows})


def task(labels=LABELS):
    return make_task("multiclass", "map_at_3", labels, ("id", TARGET))


# ---- the metric -------------------------------------------------------------------------------------


def _by_definition(pred: torch.Tensor, y: torch.Tensor) -> float:
    """MAP@3 in plain Python: each row's classes ranked by probability (a tie: the first class first); the row
    scores 1 / rank of its true class when that is 3 or better."""
    total = 0.0
    for row, truth in zip(pred.tolist(), y.tolist()):
        order = sorted(range(len(row)), key=lambda c: (-row[c], c))[:3]
        total += 1 / (order.index(truth) + 1) if truth in order else 0.0
    return total / len(y)


def _random_case(n: int = 300, k: int = 7, seed: int = 0, ties: bool = True):
    gen = torch.Generator().manual_seed(seed)
    y = torch.randint(0, k, (n,), generator=gen)
    pred = torch.rand(n, k, generator=gen) + 0.8 * torch.nn.functional.one_hot(y, k)  # informative, not always right
    if ties:
        pred[:30] = 0.25  # every class tied: the first three classes, in order
        pred[30:60, :4] = 0.9  # four tied at the top
    return pred.softmax(dim=1), y


@pytest.mark.parametrize(("k", "seed"), [(7, 0), (7, 1), (4, 2), (3, 3), (2, 4)])
def test_map_at_3_is_the_mean_of_one_over_the_true_labels_rank_within_the_first_three(k, seed):
    pred, y = _random_case(k=k, seed=seed)
    assert METRICS["map_at_3"].score(pred, y) == pytest.approx(_by_definition(pred, y), abs=1e-12)
    assert task(LABELS[:k]).score(pred, y) == pytest.approx(_by_definition(pred, y), abs=1e-12)


def test_map_at_3_of_hand_written_rows():
    pred = torch.tensor([[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1], [0.4, 0.3, 0.2, 0.1], [0.4, 0.3, 0.2, 0.1]])
    y = torch.tensor([3, 1, 2, 3])  # first, second, third, not named: 1, 1/2, 1/3, 0
    assert map_at_3(pred, y) == pytest.approx((1 + 1 / 2 + 1 / 3 + 0) / 4, abs=1e-15)


def test_map_at_3_agrees_with_sklearns_top_k_accuracies():
    # a row scores 1 when its label is top-1, 1/2 when top-2 but not top-1, 1/3 when top-3 but not top-2: so
    # MAP@3 = acc@1 + (acc@2 - acc@1) / 2 + (acc@3 - acc@2) / 3, and MAP@1 would be top-1 accuracy
    from sklearn.metrics import top_k_accuracy_score

    pred, y = _random_case(n=500, seed=5, ties=False)  # scikit-learn breaks ties its own way
    acc = [top_k_accuracy_score(y.numpy(), pred.numpy(), k=k, labels=list(range(7))) for k in (1, 2, 3)]
    assert map_at_3(pred, y) == pytest.approx(acc[0] + (acc[1] - acc[0]) / 2 + (acc[2] - acc[1]) / 3, abs=1e-12)


def test_map_at_3_is_a_multiclass_metric_where_higher_is_better():
    assert METRICS["map_at_3"].greater_is_better and METRICS["map_at_3"].tasks == ("multiclass",)
    assert task().better(0.34, 0.33) and sorted([0.2, 0.3], key=task().sort_key) == [0.3, 0.2]
    with pytest.raises(ValueError, match="metric map_at_3 does not score a binary task"):
        make_task("binary", "map_at_3", ("no", "yes"), ("id", "y"))


@pytest.mark.parametrize("name", ["map@3", "MAP@3", "map3", "mapk", "map_3", "map-3"])
def test_the_usual_names_of_map_at_3_lead_to_it(name):
    assert closest_metric(name) == "map_at_3"


def test_the_ensemble_still_chooses_on_the_log_loss_of_the_true_class():
    pred, y = _random_case(seed=6)
    sharp, flat = pred, (pred + 1.0) / (pred + 1.0).sum(dim=1, keepdim=True)  # same ranking, flatter probabilities
    log_loss_task = make_task("multiclass", "log_loss", LABELS, ("id", *LABELS))
    assert select_weights([flat, sharp], y, task()) == select_weights([flat, sharp], y, log_loss_task) == [0.0, 1.0]


# ---- the submission cell and its check ------------------------------------------------------------------


def test_a_cell_names_the_three_most_probable_labels_best_first_separated_by_one_space():
    pred = torch.tensor([[0.05, 0.1, 0.3, 0.05, 0.2, 0.25, 0.05]])  # by class: 10-26-26 14-35-14 17-17-17 ...
    assert LABELS == ("10-26-26", "14-35-14", "17-17-17", "20-20", "28-28", "DAP", "Urea")
    assert task().cells(pred) == [["17-17-17 DAP 28-28"]]


def test_tied_probabilities_are_ranked_by_class_order_every_time():
    pred = torch.tensor([[1 / 7] * 7, [0.1, 0.1, 0.1, 0.1, 0.3, 0.2, 0.1], [0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.5]])
    expected = [["10-26-26 14-35-14 17-17-17"], ["28-28 DAP 10-26-26"], ["DAP Urea 10-26-26"]]
    assert task().cells(pred) == expected
    assert task().cells(pred.flip(0))[::-1] == expected  # the same in any row order
    many = tuple(f"c{i:02d}" for i in range(20))  # past 16 classes torch's default sort no longer keeps tied order
    assert task(many).cells(torch.full((2, 20), 0.05)) == [["c00 c01 c02"]] * 2


def test_with_fewer_than_three_classes_a_cell_names_them_all():
    assert task(("high", "low")).cells(torch.tensor([[0.3, 0.7], [0.6, 0.4]])) == [["low high"], ["high low"]]


@pytest.mark.parametrize("cell", ["DAP", "DAP Urea", "Urea 14-35-14 28-28"])
def test_the_check_passes_one_to_three_distinct_known_labels(cell):
    assert task().check_cells([cell]) is None


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("", "has no prediction"),
        ("DAP  Urea", "has 'DAP  Urea'; its labels must be separated by single spaces"),
        (" DAP", "has ' DAP'; its labels must be separated by single spaces, with none before or after"),
        ("DAP Urea ", "has 'DAP Urea '; its labels must be separated by single spaces"),
        ("DAP\tUrea", "has 'DAP\\tUrea' in 'DAP\\tUrea', not one of the labels 10-26-26, 14-35-14"),
        ("DAP Urea 20-20 28-28", "has 'DAP Urea 20-20 28-28', 4 labels where at most 3 are scored"),
        ("DAP Potash", "has 'Potash' in 'DAP Potash', not one of the labels"),
        ("DAP Urea DAP", "has 'DAP Urea DAP', which names a label twice"),
        ("0.5", "has '0.5' in '0.5', not one of the labels"),
    ],
)
def test_the_check_refuses_any_other_cell_in_one_sentence_naming_the_id(cell, reason):
    comp = load_competition_text()
    text = f"id,{TARGET}\n0,DAP Urea 20-20\n5,{cell}\n"
    with pytest.raises(KitError, match=re.escape(f"id 5 (line 3) {reason}")):
        check_submission(comp, task(), text, ["0", "5"])


def load_competition_text():
    """A definition of the small fertilizer set, as kit new drafts it with --metric map_at_3 (written aside)."""
    from kit.competition import parse_definition

    raw = {
        "slug": "fertilizers",
        "id": "id",
        "target": TARGET,
        "task": "multiclass",
        "metric": "map_at_3",
        "files": {"train": "train.csv", "test": "test.csv"},
        "recipes": {"base": {"numeric": ["Nitrogen"]}},
    }
    return parse_definition(raw, Path("fertilizers.toml"))


# ---- labels that a cell cannot write ---------------------------------------------------------------------


def test_a_label_holding_a_space_is_refused_in_one_sentence_once_the_labels_are_known(tmp_path, monkeypatch, capsys):
    with pytest.raises(KitError, match=r"^the label 'Urea 46' holds a space, which a map_at_3 submission cannot"):
        make_task("multiclass", "map_at_3", ("DAP", "Urea 46"), ("id", TARGET))
    accuracy = make_task("multiclass", "accuracy", ("DAP", "Urea 46"), ("id", TARGET))  # one label a cell: fine
    assert accuracy.cells(torch.tensor([[0.2, 0.8]])) == [["Urea 46"]]

    spaced = tuple(f.replace("-", " ") for f in FERTILIZERS)  # "14 35 14"
    write_fertilizers(tmp_path / "data", labels=spaced, sample="DAP")
    err = refused(tmp_path, monkeypatch, capsys, "new", "fert", "--data-dir", "data", "--metric", "map_at_3")
    assert err.startswith("error: the label '10 26 26' holds a space, which a map_at_3 submission cannot write")
    assert not (tmp_path / "competitions").exists()

    # a definition written by hand is refused when kit reads the labels, before any training
    kit(tmp_path, monkeypatch, capsys, "new", "fert", "--data-dir", "data", "--metric", "accuracy")
    definition = tmp_path / "competitions" / "fert.toml"
    definition.write_text(definition.read_text().replace('metric = "accuracy"', 'metric = "map_at_3"'))
    err = refused(tmp_path, monkeypatch, capsys, "cv", "-c", "fert", "--data-dir", "data", "--folds", "2")
    assert "the label '10 26 26' holds a space, which a map_at_3 submission cannot write" in err


# ---- kit new ---------------------------------------------------------------------------------------------------


def test_kit_new_guesses_map_at_3_from_a_sample_of_ranked_labels(tmp_path, monkeypatch, capsys):
    write_fertilizers(tmp_path / "data")
    kit(tmp_path, monkeypatch, capsys, "new", "fert", "--data-dir", "data")
    text = (tmp_path / "competitions" / "fert.toml").read_text()
    drafted = tomllib.loads(text)
    assert (drafted["task"], drafted["metric"]) == ("multiclass", "map_at_3")
    assert re.search(r'(?m)^metric = "map_at_3"  # a guess: .*map_at_3', text)
    assert drafted["submission"] == {"columns": ["id", TARGET], "labels": list(LABELS)}


@pytest.mark.parametrize(
    "sample",
    [
        "DAP",  # one label: accuracy's sample
        "DAP Potash",  # Potash is no label of the target
        "DAP Urea 20-20 28-28",  # more labels than MAP@3 scores
    ],
)
def test_kit_new_guesses_accuracy_when_the_sample_is_not_a_ranking_of_the_targets_labels(
    sample, tmp_path, monkeypatch, capsys
):
    write_fertilizers(tmp_path / "data", sample=sample)
    kit(tmp_path, monkeypatch, capsys, "new", "fert", "--data-dir", "data")
    assert tomllib.loads((tmp_path / "competitions" / "fert.toml").read_text())["metric"] == "accuracy"


@pytest.mark.parametrize("given", ["map_at_3", "MAP_AT_3"])
def test_kit_new_drafts_map_at_3_when_it_is_given(given, tmp_path, monkeypatch, capsys):
    write_fertilizers(tmp_path / "data", sample="DAP")
    kit(tmp_path, monkeypatch, capsys, "new", "fert", "--data-dir", "data", "--metric", given)
    text = (tmp_path / "competitions" / "fert.toml").read_text()
    drafted = tomllib.loads(text)
    assert (drafted["task"], drafted["metric"]) == ("multiclass", "map_at_3") and "a guess" not in text
    assert drafted["submission"]["columns"] == ["id", TARGET]


@pytest.mark.parametrize("given", ["map@3", "MAP@3", "mapk"])
def test_kit_new_names_map_at_3_for_its_usual_names(given, tmp_path, monkeypatch, capsys):
    write_fertilizers(tmp_path / "data")
    err = refused(tmp_path, monkeypatch, capsys, "new", "fert", "--data-dir", "data", "--metric", given)
    assert err.endswith("pass --metric map_at_3 if that is the one you meant.")


# ---- end to end ---------------------------------------------------------------------------------------------------


def test_the_draft_runs_cv_submission_and_the_check_unchanged(tmp_path, monkeypatch, capsys):
    write_fertilizers(tmp_path / "data")
    kit(tmp_path, monkeypatch, capsys, "new", "fert", "--data-dir", "data")
    fast = ["--data-dir", "data", "--folds", "2", "--epochs", "5", "--quiet"]

    table = kit(tmp_path, monkeypatch, capsys, "cv", "-c", "fert", *fast)
    assert re.search(r"(?m)^model\s+map_at_3\s+folds", table) and "split=stratified 2 folds" in table
    assert "ensemble weights" in table  # chosen on the log loss, as for any multiclass draft
    score = float(re.search(r"(?m)^ensemble\s+(\S+)", table)[1])
    assert 0.4 < score <= 1.0  # well above chance (1/7 + 1/14 + 1/21 = 0.26): the nutrients carry the label

    out = kit(tmp_path, monkeypatch, capsys, "submission", "-c", "fert", *fast)
    path = tmp_path / out.strip().splitlines()[-1]
    rows = list(csv.reader(path.read_text().splitlines()))
    sample = list(csv.reader((tmp_path / "data" / "sample_submission.csv").read_text().splitlines()))
    assert rows[0] == ["id", TARGET] and [r[0] for r in rows] == [r[0] for r in sample]
    named = [row[1].split(" ") for row in rows[1:]]
    assert all(len(n) == 3 == len(set(n)) and set(n) <= set(LABELS) for n in named)
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert (sidecar["task"], sidecar["metric"], sidecar["greater_is_better"]) == ("multiclass", "map_at_3", True)
    assert sidecar["labels"] == list(LABELS)
    assert "passes every check" in kit(
        tmp_path, monkeypatch, capsys, "submit", "--check", str(path), "-c", "fert", "--data-dir", "data"
    )
    report = kit(tmp_path, monkeypatch, capsys, "report", "-c", "fert")
    assert "cv map_at_3" in report and path.name in report

    # the same file with one cell naming a label twice is refused before anything is sent
    bad = path.read_text().replace(rows[2][1], " ".join([named[1][0], *named[1][:2]]), 1)
    (tmp_path / "bad.csv").write_text(bad)
    err = refused(tmp_path, monkeypatch, capsys, "submit", "--check", "bad.csv", "-c", "fert", "--data-dir", "data")
    assert f"id {rows[2][0]} (line 3) has" in err and "which names a label twice" in err


def test_the_notebook_says_a_row_names_the_three_most_probable_labels(tmp_path, monkeypatch, capsys):
    from kit.notebook import build_notebook
    from kit.train import Training

    write_fertilizers(tmp_path / "data")
    kit(tmp_path, monkeypatch, capsys, "new", "fert", "--data-dir", "data")
    comp = load_competition(str(tmp_path / "competitions" / "fert.toml"))
    built = build_notebook(comp, "base", Plan(training=Training()), "me", tmp_path / "nb")
    notebook = json.loads((built / "fert.ipynb").read_text())
    text = " ".join(" ".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown").split())
    assert "the 3 most probable labels, best first, separated by spaces" in text


def test_the_check_notes_a_file_that_names_fewer_labels_than_map_at_3_scores(tmp_path, monkeypatch, capsys):
    write_fertilizers(tmp_path / "data")
    kit(tmp_path, monkeypatch, capsys, "new", "fert", "--data-dir", "data")
    sample = (tmp_path / "data" / "sample_submission.csv").read_text().splitlines()
    ids = [line.split(",")[0] for line in sample[1:]]
    for name, cell in (("one.csv", LABELS[0]), ("three.csv", " ".join(LABELS[:3]))):
        (tmp_path / name).write_text("\n".join([sample[0], *(f"{i},{cell}" for i in ids)]) + "\n")
    check = ["submit", "--check", "-c", "fert", "--data-dir", "data"]
    assert main([*check[:2], "one.csv", *check[2:]]) == 0
    err = capsys.readouterr().err
    assert "one.csv passes, but every row names one label where map_at_3 scores 3, best first" in err
    assert main([*check[:2], "three.csv", *check[2:]]) == 0
    assert "note" not in capsys.readouterr().err
