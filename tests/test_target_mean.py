"""target_mean beyond a binary target: a regression's group mean, a multiclass target's rate of each listed class
(one column each), the rules that keep a fit row from seeing its own label, the options each task takes, and what
`kit new` drafts for a category of many levels."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest
from test_definition_schema import SHIPPED, refusal
from test_draft import new, shops
from test_recipe import features, rows

from kit import KitError
from kit.cli import main
from kit.competition import load_competition, parse_definition, task_of
from kit.recipe import fit_recipe
from kit.recipe_spec import parse_recipe


def recipe(task: str, **table):
    """A recipe of a `task` competition written as its TOML table would be, id column `id`, target `y`."""
    return parse_recipe("t", {"scale": "none", **table}, id_column="id", target="y", task=task)


REGRESSION = recipe("regression", target_mean={"Mean": {"by": "Ticket"}}, numeric=["Mean"])
MULTICLASS = recipe(
    "multiclass", target_mean={"Rate": {"by": "Ticket", "classes": ["lo", "hi"]}}, numeric=["Rate_lo", "Rate_hi"]
)


# ---- the features, against a hand computation ------------------------------------------------------------------


def test_a_regression_gives_fit_rows_the_mean_of_the_others_and_new_rows_the_mean_of_all():
    train = rows(Ticket=["A", "A", "A", "B", "C"], y=[1.0, 2.0, 6.0, 4.0, 10.0])
    state = fit_recipe(REGRESSION, train)
    # A's rows: the mean of the two others; B and C alone have no others: the prior, 23 / 5
    assert features(REGRESSION, state, train)["Mean"] == pytest.approx([4.0, 3.5, 1.5, 4.6, 4.6])
    test = rows("test", Ticket=["A", "B", "D", None])  # no target column; D never seen, None no key: the prior
    assert features(REGRESSION, state, test)["Mean"] == pytest.approx([3.0, 4.0, 4.6, 4.6])


def test_a_multiclass_target_makes_one_rate_per_listed_class_named_after_it():
    train = rows(Ticket=["A", "A", "A", "B", "B"], y=["lo", "hi", "lo", "mid", "lo"])
    state = fit_recipe(MULTICLASS, train)
    assert state["columns"] == ["Rate_lo", "Rate_hi"]
    got = features(MULTICLASS, state, train)
    assert got["Rate_lo"] == pytest.approx([0.5, 1.0, 0.5, 1.0, 0.0])  # each row: the others of its group
    assert got["Rate_hi"] == pytest.approx([0.5, 0.0, 0.5, 0.0, 0.0])
    test = features(MULTICLASS, state, rows("test", Ticket=["A", "B", "Z"]))
    assert test["Rate_lo"] == pytest.approx([2 / 3, 0.5, 3 / 5]) and test["Rate_hi"] == pytest.approx([1 / 3, 0, 1 / 5])


@pytest.mark.parametrize(
    ("spec", "column", "y", "changed"),
    [(REGRESSION, "Mean", [1.0, 2.0, 6.0, 4.0], 50.0), (MULTICLASS, "Rate_lo", ["lo", "hi", "lo", "hi"], "hi")],
    ids=["regression", "multiclass"],
)
def test_a_fit_rows_feature_does_not_move_when_its_own_label_does_and_its_groups_others_do(spec, column, y, changed):
    train = rows(Ticket=["A", "A", "A", "B"], y=y)
    other = train.assign(y=[changed, *y[1:]])
    before = features(spec, fit_recipe(spec, train), train)[column]
    after = features(spec, fit_recipe(spec, other), other)[column]
    assert after[0] == before[0]  # row 0's own feature never reads its label
    assert after[1] != before[1] and after[2] != before[2]  # its group's other rows do


def test_prior_weight_pulls_a_small_group_to_the_prior_and_centre_subtracts_the_prior():
    spec = recipe(
        "regression", target_mean={"Mean": {"by": "Ticket", "prior_weight": 2, "centre": True}}, numeric=["Mean"]
    )
    state = fit_recipe(spec, rows(Ticket=["A", "A", "B", "B"], y=[1.0, 3.0, 5.0, 7.0]))  # prior 4
    assert features(spec, state, rows("test", Ticket=["A", "Z"]))["Mean"] == pytest.approx([(4 + 2 * 4) / 4 - 4, 0])
    spec = recipe(
        "multiclass",
        target_mean={"R": {"by": "Ticket", "prior_weight": 1, "centre": True, "classes": ["x"]}},
        numeric=["R_x"],
    )
    state = fit_recipe(spec, rows(Ticket=["A", "A", "B", "B"], y=["x", "x", "x", "y"]))  # prior 3/4
    assert features(spec, state, rows("test", Ticket=["A", "Z"]))["R_x"] == pytest.approx([(2 + 0.75) / 3 - 0.75, 0])


def test_a_class_the_fit_rows_never_hold_has_the_rate_0_and_a_regression_target_must_be_numbers():
    state = fit_recipe(MULTICLASS, rows(Ticket=["A", "B"], y=["lo", "lo"]))  # a fold without a rare class
    assert features(MULTICLASS, state, rows("test", Ticket=["A", "Z"]))["Rate_hi"] == [0.0, 0.0]
    with pytest.raises(KitError, match="the target y has missing values"):
        fit_recipe(REGRESSION, rows(Ticket=["A", "B"], y=[1.0, None]))
    with pytest.raises(KitError, match="y"):
        fit_recipe(REGRESSION, rows(Ticket=["A", "B"], y=["1.5", "lots"]))


def test_log1p_averages_a_regressions_target_on_the_log_scale_and_refuses_what_has_no_log():
    import math

    spec = recipe("regression", target_mean={"Mean": {"by": "Ticket", "log1p": True}}, numeric=["Mean"])
    state = fit_recipe(spec, rows(Ticket=["A", "A", "A", "B"], y=[0.0, 9.0, 99.0, 4.0]))
    logs = [math.log1p(v) for v in (0.0, 9.0, 99.0)]
    assert features(spec, state, rows("test", Ticket=["A"]))["Mean"] == pytest.approx([sum(logs) / 3])
    assert features(spec, state, rows("test", Ticket=["A"]))["Mean"] != pytest.approx([36.0])  # not the plain mean
    with pytest.raises(KitError, match="holds values of -1 or less, which have no log"):
        fit_recipe(spec, rows(Ticket=["A", "B"], y=[-1.0, 2.0]))
    assert "log1p" not in REGRESSION.target_mean["Mean"]  # only when asked: a recipe keeps its fingerprint


def test_a_binary_recipe_keeps_its_entries_and_so_its_fingerprint():
    entries = load_competition("titanic").recipe("plus").target_mean.values()
    assert all(set(t) == {"by", "prior_weight", "centre"} for t in entries)  # no classes or values keys added
    assert set(REGRESSION.target_mean["Mean"]) == {"by", "prior_weight", "centre", "values"}


# ---- the options by the task, at load --------------------------------------------------------------------------


def titanic_as(task: str, metric: str, **entry) -> dict:
    """The shipped Titanic definition as a `task` competition, its TicketRate entry given `entry`'s options."""
    raw = copy.deepcopy(SHIPPED["titanic"])
    raw |= {"task": task, "metric": metric}
    raw["recipes"]["plus"]["target_mean"].pop("SurnameRate")
    raw["recipes"]["plus"]["numeric"].remove("SurnameRate")
    raw["recipes"]["plus"]["target_mean"]["TicketRate"] |= entry
    if task == "regression":
        del raw["submission"]["labels"]
    if "classes" in entry:
        rates = [f"TicketRate_{c}" for c in entry["classes"]]
        raw["recipes"]["plus"]["numeric"] = [c for c in raw["recipes"]["plus"]["numeric"] if c != "TicketRate"] + rates
    return raw


PLACE = "competition definition bad.toml: [recipes.plus] target_mean.TicketRate: "


@pytest.mark.parametrize(
    ("task", "metric", "entry", "says"),
    [
        ("regression", "rmse", {"positive": "1"}, "positive names the counted label of a binary task, and titanic is "
         "a regression task; drop it"),
        ("multiclass", "accuracy", {"positive": "1", "classes": ["1"]}, "positive names the counted label of a binary "
         "task, and titanic is a multiclass task; drop it (classes names the labels whose rates it makes)"),
        ("binary", "accuracy", {"classes": ["1"]}, "classes is for a multiclass task, and titanic is a binary task; "
         "drop it (positive names the label counted)"),
        ("binary", "accuracy", {"log1p": True}, "log1p averages a regression's target, and titanic is a binary task"),
        ("regression", "rmse", {"classes": ["1"]}, "classes is for a multiclass task, and titanic is a regression "
         "task; drop it"),
        ("multiclass", "accuracy", {"classes": ["1", "2"]}, 'classes lists "2", none of the [submission] labels (0, 1)'),
    ],
)  # fmt: skip
def test_each_task_takes_its_own_options_and_a_mistake_is_one_sentence_naming_the_entry(task, metric, entry, says):
    assert refusal(titanic_as(task, metric, **entry)) == PLACE + says + "; fix the file."


def test_a_multiclass_target_mean_without_classes_makes_a_rate_of_each_submission_label_and_its_name_their_columns():
    # A user's soil x crop rates of 7 fertilizers: the classes and 7 column names were typed out by hand.
    raw = titanic_as("multiclass", "accuracy")  # TicketRate without classes, its name in numeric; labels 0 and 1
    spec = parse_definition(raw, Path("ok.toml")).recipe("plus")
    assert spec.target_mean["TicketRate"]["classes"] == ("0", "1")
    assert [c for c in spec.numeric if c.startswith("TicketRate")] == ["TicketRate_0", "TicketRate_1"]
    del raw["submission"]["labels"]  # no labels to take: the classes are named
    assert "a multiclass target_mean makes one rate per class, so it needs classes" in refusal(raw)


def test_a_regression_and_a_multiclass_target_mean_load():
    assert parse_definition(titanic_as("regression", "rmse"), Path("ok.toml")).task == "regression"
    comp = parse_definition(titanic_as("multiclass", "accuracy", classes=["0", "1"]), Path("ok.toml"))
    assert {"TicketRate_0", "TicketRate_1"} <= set(comp.recipe("plus").produced())


def test_a_class_the_training_target_never_holds_is_refused_when_no_labels_are_listed():
    raw = titanic_as("multiclass", "accuracy", classes=["1", "2"])
    del raw["submission"]["labels"]  # nothing to check at load: the target's values are the labels
    comp = parse_definition(raw, Path("ok.toml"))
    with pytest.raises(KitError) as e:
        task_of(comp, pd.DataFrame({"Survived": [0, 1, 1]}))
    assert (
        str(e.value)
        == "recipe plus's target_mean TicketRate lists the class '2', which Survived never holds (0, 1); fix the definition."
    )


# ---- kit new, and kit cv on what it drafts --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "features", "made"),
    [
        (
            lambda i: ("hi", "lo", "mid")[(i // 2) % 3] if i % 4 else "lo",
            ["shop_rate_hi", "shop_rate_lo", "shop_rate_mid"],
            'target_mean = { shop_rate = { by = ["shop"], centre = true, classes = ["hi", "lo", "mid"] } }  # the '
            "level's rate of each class, never a training row's own label",
        ),
        (
            lambda i: f"{i % 9 + i % 5 / 10:.1f}",
            ["shop_rate"],
            'target_mean = { shop_rate = { by = ["shop"], centre = true } }  # the level\'s mean target, never a '
            "training row's own label",
        ),
    ],
    ids=["multiclass", "regression"],
)
def test_kit_new_drafts_a_many_level_category_as_its_target_rate_and_kit_cv_runs_it(
    target, features, made, tmp_path, monkeypatch, capsys
):
    folder = shops(tmp_path / "data", target)
    raw, text, _ = new(tmp_path, monkeypatch, capsys, "shops", folder)
    assert made in text.splitlines()
    base = raw["recipes"]["base"]
    assert "shop" not in base.get("rare", {}) and "shop" not in base.get("one_hot", [])
    assert raw["recipes"]["base"]["numeric"][-len(features) :] == features  # features as drafted
    fast = ["--data-dir", str(folder), "--models", "linear", "--folds", "2", "--epochs", "2", "--quiet"]
    assert main(["cv", "-c", "shops", *fast]) == 0
    assert main(["recipe", "show", "-c", "shops", "--data-dir", str(folder)]) == 0
    shown = capsys.readouterr().out.split("learned on the training rows")[0]
    assert all(c in shown for c in features)


def test_a_class_the_target_never_holds_stops_kit_cv_with_one_sentence(tmp_path, monkeypatch, capsys):
    folder = shops(tmp_path / "data", lambda i: ("hi", "lo", "mid")[i % 3])
    _, text, _ = new(tmp_path, monkeypatch, capsys, "shops", folder)
    lines = [x for x in text.splitlines() if not x.startswith("labels = ")]  # the classes are then the target's
    text = "\n".join(lines).replace('classes = ["hi", "lo", "mid"]', 'classes = ["hi", "top"]')
    text = text.replace('"shop_rate_hi", "shop_rate_lo", "shop_rate_mid"', '"shop_rate_hi", "shop_rate_top"')
    (tmp_path / "competitions" / "shops.toml").write_text(text)
    fast = ["--data-dir", str(folder), "--models", "linear", "--folds", "2", "--epochs", "2", "--quiet"]
    assert main(["cv", "-c", "shops", *fast]) == 2
    err = capsys.readouterr().err
    assert "target_mean shop_rate lists the class 'top', which target never holds (hi, lo, mid)" in err
    assert len(err.strip().splitlines()) == 1


def test_an_rmsle_regression_drafts_the_rate_on_the_log_scale_and_kit_cv_runs_it(tmp_path, monkeypatch, capsys):
    folder = shops(tmp_path / "data", lambda i: f"{i % 9 + i % 5 / 10:.1f}")
    raw, _, _ = new(tmp_path, monkeypatch, capsys, "shops", folder, "--metric", "rmsle")
    assert raw["recipes"]["base"]["target_mean"] == {"shop_rate": {"by": ["shop"], "centre": True, "log1p": True}}
    fast = ["--data-dir", str(folder), "--models", "linear", "--folds", "2", "--epochs", "2", "--quiet"]
    assert main(["cv", "-c", "shops", *fast]) == 0


def test_each_rows_own_rate_is_read_as_a_lookup_in_its_fit_rows_would_give_it():
    import numpy as np

    from kit.groups import _own_rates

    def mapped(own, ids):
        return pd.Series(ids, dtype=object).map(own).to_numpy(dtype="float64")

    first, second = {"a": 0.25, "b": 0.5, "c": 1.0}, {"a": 9.0, "b": 8.0, "c": 7.0}  # fit row id -> its rate
    for ids in (["c", "x", "a", "b"], ["x", "y"], []):  # some fit rows, none, no row
        ids, places = np.array(ids, dtype=object), {}
        for own in (first, second):  # the second column's rates read at the places the first found
            assert np.array_equal(_own_rates(own, ids, places), mapped(own, ids), equal_nan=True)
    ids, places = np.array(["a", "b", "z"], dtype=object), {}
    _own_rates(first, ids, places)
    other = {"b": 2.0, "a": 1.0}  # other fit rows, in another order: their places are found anew
    assert np.array_equal(_own_rates(other, ids, places), mapped(other, ids), equal_nan=True)
    assert np.isnan(_own_rates({}, ids, {})).all()


def test_a_cvs_fold_states_keep_no_rate_or_id_per_training_row(synthetic_dir, tmp_path, monkeypatch):
    """Each fold's state is applied only to rows it was not fit on, so it keeps counts, not a rate per fit row: at
    3,116,945 rows (17 rates, 5 folds) those dicts took a CV past 16 GB."""
    import kit.pipeline

    seen = []
    real = kit.pipeline.run_cv
    monkeypatch.setattr(kit.pipeline, "run_cv", lambda *a, **k: seen.append(real(*a, **k)) or seen[-1])
    monkeypatch.chdir(tmp_path)
    fast = ["--models", "linear", "--folds", "3", "--epochs", "2", "--quiet"]
    assert main(["cv", "--data-dir", str(synthetic_dir), *fast]) == 0  # Titanic's recipe: two target rates
    ((result, _),) = seen
    for state in result.recipe_states:
        assert state["target_mean"] and all(
            "fit_rows" not in learned and learned["fit_rows_kept"] > 0 for learned in state["target_mean"].values()
        )


def test_test_rows_that_share_ids_with_training_rows_still_read_their_levels_rate_and_count_as_new_rows():
    """Files that number their rows (row_ids) give train row 7 and test row 7 the same id: a test row must not read
    that training row's rate without its own label, or its count, in the full fit."""
    import torch

    from kit.task import make_task
    from kit.train import Training
    from kit.validation import Plan, fit_full

    shops = [f"s{i % 6}" for i in range(240)]
    train = pd.DataFrame({"id": [str(i + 1) for i in range(240)], "shop": shops})
    y = torch.tensor([float(i % 6 < 3 or i % 5 == 0) for i in range(240)])
    train["y"] = y.tolist()
    spec = parse_recipe(
        "t",
        {"target_mean": {"rate": {"by": ["shop"], "centre": True}}, "count": {"n": "shop"}, "numeric": ["rate", "n"]},
        id_column="id",
        target="y",
    )
    task = make_task("binary", "roc_auc", ("0.0", "1.0"), ("id", "y"))
    plan = Plan(folds=2, seeds=1, training=Training(epochs=3), models=("linear",))
    numbered = pd.DataFrame({"id": [str(i + 1) for i in range(60)], "shop": shops[:60]})  # ids 1-60, as train's
    named = numbered.assign(id=[f"t{i}" for i in range(60)])  # ids no training row holds
    assert torch.equal(
        fit_full(spec, train, numbered, y, plan, task)[0], fit_full(spec, train, named, y, plan, task)[0]
    )
