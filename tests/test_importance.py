"""`kit cv --importance`: each recipe column's permutation importance, in the metric's direction, one-hot
columns shuffled as one, the CV itself unchanged."""

import json
import random
from pathlib import Path

import pytest
import torch
from conftest import definition, kit, write_tables

from kit.importance import column_groups, permutation_drops
from kit.recipe_spec import RecipeSpec

DEFINITION = definition(
    "signal",
    "{task}",
    "{metric}",
    """[training]
lr = 0.05
epochs = 30

[recipes.base]
numeric = ["x", "noise"]
one_hot = ["colour"]
scale = "standard"
""",
)


def write_signal(tmp_path: Path, task: str, metric: str) -> None:
    """y follows x (and the colour a little); noise and the rest of the colour's levels say nothing."""
    rng = random.Random(5)
    folder = tmp_path / "data"
    folder.mkdir()

    def row(i: int, test: bool) -> list:
        x, noise, colour = rng.gauss(0, 1), rng.gauss(0, 1), rng.choice(["red", "green", "blue"])
        value = 2 * x + (0.5 if colour == "red" else 0.0) + rng.gauss(0, 0.5)
        target = int(value > 0) if task == "binary" else round(value, 4)
        cells = [i, f"{x:.4f}", f"{noise:.4f}", colour]
        return cells if test else [*cells, target]

    write_tables(
        folder,
        {
            "train.csv": [["id", "x", "noise", "colour", "y"], *(row(i, False) for i in range(500))],
            "test.csv": [["id", "x", "noise", "colour"], *(row(i, True) for i in range(500, 600))],
            "sample_submission.csv": [["id", "y"], *([i, 0] for i in range(500, 600))],
        },
    )
    (tmp_path / "signal.toml").write_text(DEFINITION.format(task=task, metric=metric))


def cv_json(tmp_path, monkeypatch, capsys, *more: str) -> dict:
    args = ["cv", "-c", "signal.toml", "--data-dir", "data", "--models", "linear,nn", "--json", "--quiet", *more]
    return json.loads(kit(tmp_path, monkeypatch, capsys, *args))


@pytest.mark.parametrize("task, metric", [("binary", "accuracy"), ("binary", "log_loss"), ("regression", "rmse")])
def test_the_column_the_target_follows_matters_most_whichever_way_the_metric_points(
    tmp_path, monkeypatch, capsys, task, metric
):
    write_signal(tmp_path, task, metric)
    importance = cv_json(tmp_path, monkeypatch, capsys, "--importance")["importance"]
    assert set(importance) == {"linear", "nn"}
    for columns in importance.values():
        assert set(columns) == {"x", "noise", "colour"}  # the colour's three levels shuffled as one column
        assert columns["x"] > 0.1  # a loss or an error grows without it: still a positive importance
        assert columns["x"] > 5 * abs(columns["noise"])


def test_importance_leaves_the_cv_as_it_was_and_is_the_same_each_time(tmp_path, monkeypatch, capsys):
    write_signal(tmp_path, "binary", "accuracy")
    plain = cv_json(tmp_path, monkeypatch, capsys)
    first = cv_json(tmp_path, monkeypatch, capsys, "--importance")
    assert "reused" not in first  # a kept CV holds no models to shuffle columns for: every model trained again
    assert first["models"] == plain["models"] and first["ensemble"] == plain["ensemble"]
    again = cv_json(tmp_path, monkeypatch, capsys, "--importance")
    assert again["importance"] == first["importance"]
    text = kit(tmp_path, monkeypatch, capsys, "cv", "-c", "signal.toml", "--data-dir", "data", "--importance")
    assert "permutation importance: how much accuracy each column is worth" in text
    assert text.index("\nx ") < text.index("\nnoise ")  # the most important first


def test_column_groups_follow_the_features_each_recipe_column_makes():
    spec = RecipeSpec(name="r", numeric=("a", "b"), one_hot=("c", "d"), words={"text": 3})
    state = {"levels": {"c": ["x", "y", "z"], "d": []}, "words": {"text": ["good", "bad"]}}
    assert column_groups(spec, state) == [("a", [0]), ("b", [1]), ("c", [2, 3, 4]), ("text", [5, 6])]
    # a number's piecewise bins are shuffled with it, as one column; a number only binned is its bins
    spec = RecipeSpec(name="r", numeric=("a", "b"), piecewise={"b": 2, "e": 3}, one_hot=("c",))
    state = {"levels": {"c": ["x"]}, "piecewise": {"b": [0.0, 1.0, 2.0], "e": [0.0, 1.0, 2.0, 3.0]}}
    assert column_groups(spec, state) == [("a", [0]), ("b", [1, 2, 3]), ("e", [4, 5, 6]), ("c", [7])]


def test_a_column_is_shuffled_only_among_its_own_folds_rows_and_put_back():
    x = torch.arange(24, dtype=torch.float32).reshape(2, 4, 3)  # 2 folds, 4 rows (the second fold's last is padding)
    seen = []

    def predict_rows(batch):
        seen.append(batch.clone())
        return batch[:, :, 0]  # the first column is the prediction

    drops = permutation_drops(
        predict_rows, x, [0, 1], [4, 3], lambda f, pred: float(pred[0]), [("a", [0]), ("b", [1, 2])]
    )
    base, first, second = seen
    assert torch.equal(base, x)
    assert sorted(first[0, :, 0].tolist()) == sorted(x[0, :, 0].tolist())  # fold 0's own values, in another order
    assert first[1, 3, 0] == x[1, 3, 0]  # the padding row is never drawn in
    assert torch.equal(first[:, :, 1:], x[:, :, 1:])  # the other columns untouched
    assert torch.equal(second[:, :, 0], x[:, :, 0])  # put back before the next column
    assert drops["b"] == [0.0, 0.0]  # shuffling what the prediction never reads costs nothing


@pytest.mark.parametrize("slug", ["wine-logloss", "iris-accuracy"])
def test_a_multiclass_draft_gets_its_importances_and_its_drift(tmp_path, monkeypatch, capsys, slug):
    from test_tasks_end_to_end import CASES, write_competition

    write_competition(CASES[slug], tmp_path / "download")
    data = ["--data-dir", str(tmp_path / "download")]
    kit(tmp_path, monkeypatch, capsys, "new", slug, *data, *(["--metric", "log_loss"] if "logloss" in slug else []))
    args = ["cv", "-c", slug, *data, "--folds", "3", "--epochs", "5", "--json", "--quiet", "--importance"]
    importance = json.loads(kit(tmp_path, monkeypatch, capsys, *args))["importance"]
    assert set(importance) == {"linear", "nn", "deep"} and all(len(v) >= 4 for v in importance.values())
    drift = json.loads(kit(tmp_path, monkeypatch, capsys, "drift", "-c", slug, *data, "--folds", "3", "--json"))
    assert 0.0 <= drift["roc_auc"] <= 1.0 and drift["features"]


def test_the_table_says_which_columns_a_made_feature_also_carries():
    from kit.commands import format_importance
    from kit.recipe_spec import parse_recipe

    spec = parse_recipe(
        "r",
        {
            "is_missing": {"a_gap": "a"},  # a gap's flag holds no value of a: not said
            "target_mean": {"ab_rate": {"by": ["a", "b"]}},
            "one_hot": ["a", "b"],
            "numeric": ["ab_rate", "a_gap"],
        },
        id_column="id",
        target="y",
    )
    importance = {"nn": {"a": 0.001, "b": 0.002, "ab_rate": 0.05, "a_gap": 0.0}}
    lines = format_importance(importance, "rmse", spec).splitlines()
    assert lines[-2:] == [
        "b: also in ab_rate (shuffling b alone leaves it as it was)",
        "a: also in ab_rate (shuffling a alone leaves it as it was)",
    ]
    assert "also in" not in format_importance(importance, "rmse")  # without the recipe: the table alone


def test_a_table_a_few_rows_over_twenty_is_shown_whole_and_a_longer_one_says_how_many_more_json_has():
    from kit.commands import format_importance

    def table(n: int) -> str:
        return format_importance({"nn": {f"c{i:02d}": 0.1 - i / 1000 for i in range(n)}}, "accuracy")

    assert "c22 " in table(23) and "more columns" not in table(23)  # a trial's 23 hid the 3 of least worth
    long = table(40)
    assert "c19 " in long and "c20 " not in long and long.endswith("\n20 more columns in --json")
