"""A definition is checked strictly when it loads: an unknown key, a value of the wrong type or out of
range is one sentence naming its place in the file (and, for a key, the known ones), never a traceback
and never a silent default."""

from __future__ import annotations

import copy
import dataclasses
import datetime
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest
from conftest import REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from kit import KitError
from kit.competition import Competition, known_competitions, load_competition, parse_definition
from kit.recipe_spec import RecipeSpec, RecipeTable

# Hypothesis caches what it reads from the source (while pytest collects) under .hypothesis/: keep it
# out of the checkout, in the system's temp folder.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "kit-hypothesis")

SHIPPED = {name: tomllib.loads((REPO / "competitions" / f"{name}.toml").read_text()) for name in known_competitions()}


def refusal(raw: dict) -> str:
    """The one sentence a definition is refused with."""
    with pytest.raises(KitError) as e:
        parse_definition(raw, Path("bad.toml"))
    return str(e.value)


def with_value(raw: dict, path: tuple, value) -> dict:
    """A copy of `raw` with `value` at `path` (a key, or a list position, of every table on the way)."""
    raw = copy.deepcopy(raw)
    table = raw
    for key in path[:-1]:
        table = table.setdefault(key, {}) if isinstance(table, dict) else table[key]
    table[path[-1]] = value
    return raw


# ---- each case of the issue, refused with its place named ---------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        (("epochs",), 100, "the top level has unknown key epochs; known: slug, id, target"),
        (
            ("training", "epoch"),
            {"linear": 5},
            r"\[training\] has unknown key epoch \(did you mean epochs\?\); known: preset, optimizer, lr, epochs",
        ),
        (
            ("submission", "header"),
            ["PassengerId", "Survived"],
            r"\[submission\] has unknown key header; known: columns",
        ),
        (("recipes", "plus", "smoothing"), 1, r"\[recipes.plus\] has unknown key smoothing; known: split, extract"),
    ],
)
def test_an_unknown_key_is_refused_with_the_known_keys(path, value, reason):
    assert re.search(reason, refusal(with_value(SHIPPED["titanic"], path, value)))


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        (
            ("recipes", "plus", "rare", "Title"),
            float("inf"),
            r"\[recipes.plus\] rare.Title must be a finite number, not inf",
        ),
        (("run", "seeds"), "five", r'\[run\] seeds must be an integer, not "five"'),
        (("training", "epochs"), "5", r'\[training\] epochs must be .*not "5"'),
        (("training", "epochs"), 0, r"\[training\] epochs must be at least 1, not 0"),
        (("training", "optimizer"), "rmsprop", r'\[training\] optimizer must be one of "sgd", "momentum" or "adam"'),
        (("training", "lr"), -1.0, r"\[training\] lr must be"),
        (("training", "patience"), -1, r"\[training\] patience must be at least 0, not -1"),
        (("training", "patience"), "ten", r'\[training\] patience must be an integer, not "ten"'),
        (
            ("task",),
            "ranking",
            r'task must be one of "binary", "multiclass", "multilabel" or "regression", not "ranking"',
        ),
        (("metric",), "rmse", r"metric rmse does not score a binary task"),
        (("validation", "group_pattern"), "(x", r"\[validation\] group_pattern"),
        (("training", "epochs", "linear"), -5, r"\[training\] epochs.linear must be at least 1, not -5"),
        (("training", "epochs", "nn"), 0, r"\[training\] epochs.nn must be at least 1, not 0"),
        (
            ("training", "epochs", "line"),
            30,
            r"\[training\] epochs has unknown key line \(did you mean linear\?\); known: linear_raw, linear",
        ),
        (("recipes",), {}, r"\[recipes\] must not be empty"),
        (("recipes", "plus", "split"), {"Cabin": {"sep": "", "into": ["Deck"]}}, r"split.Cabin.sep must not be empty"),
        (("recipes", "plus", "target_mean", "TicketRate", "by"), 5, "TicketRate.by must be a name or a list of names"),
        (("recipes", "plus", "fill_mode"), "Age", r'\[recipes.plus\] fill_mode must be a list, not "Age"'),
        (("recipes", "plus", "rare", "Title"), -5, r"\[recipes.plus\] rare.Title must be a number of rows .* not -5"),
        # a share of the rows lies between 0 and 1; a count is whole
        (
            ("recipes", "plus", "rare", "Title"),
            0,
            r"rare.Title must be a number of rows \(a whole number, 1 or more\) "
            r"or a share of the rows \(between 0 and 1, such as 0.001\), not 0",
        ),  # fmt: skip
        (("recipes", "plus", "rare", "Title"), 1.5, r"rare.Title must be a number of rows .* or a share .*, not 1.5"),
        (("slug",), "../outside", r'slug must be a plain slug \(lowercase letters, digits and -\), not "../outside"'),
        (("files", "test"), "../../etc/test.csv", r"\[files\] test must be a plain file name, no folders"),
        (("run", "models"), ["linear", "forest"], r'\[run\] models\[1\] must be one of "linear_raw", .*, not "forest"'),
        (("run", "recipe"), "best", r'\[run\] recipe "best" is none of the \[recipes\]: article, plus'),
        (
            ("submission", "labels"),
            ["0", "1", "2"],
            r"\[submission\] labels of a binary task are two: \[negative, positive\]",
        ),
        (
            ("metric",),
            "auc",
            r'metric "auc" is not one of kit\'s metrics \(accuracy, .*, smape\), the closest being "roc_auc"',
        ),
        (("metric",), "LogLoss", r'metric "logloss" is not one of .*, the closest being "log_loss"'),
        (
            ("metric",),
            "spearman",
            r'metric "spearman" is not one of kit\'s metrics \(accuracy, .*, smape\); fix the file\.$',
        ),
        (
            ("recipes", "plus", "scale"),
            "min",
            r'\[recipes.plus\] scale must be one of "max", "standard", "standard_numbers" or "none", not "min"',
        ),
        (("recipes", "plus", "sum", "FamilySize"), ["SibSp", float("nan")], r"sum.FamilySize\[1\] must be a finite"),
        (("recipes", "plus", "target_mean", "TicketRate", "prior_weight"), -1.0, "prior_weight must be at least 0"),
        (("recipes", "plus", "target_mean", "TicketRate", "centre"), "yes", "centre must be true or false"),
        (("recipes", "plus", "ratio"), {"R": ["Fare", "Age", "SibSp"]}, r"ratio.R must be \[numerator, denominator\]"),
        (("recipes", "plus", "numeric"), ["Age", "Age"], r'\[recipes.plus\] numeric lists "Age" twice'),
    ],
)
def test_a_value_of_the_wrong_type_or_range_is_one_sentence_naming_its_place(path, value, reason):
    message = refusal(with_value(SHIPPED["titanic"], path, value))
    assert re.search(reason, message), message
    assert message.startswith("competition definition bad.toml: ") and message.endswith("; fix the file.")


@pytest.mark.parametrize(("task", "metric"), [("multiclass", "log_loss"), ("regression", "rmse")])
def test_a_recipe_serves_a_task_that_is_not_binary_and_its_target_mean_takes_that_tasks_options(task, metric):
    raw = with_value(with_value(SHIPPED["titanic"], ("task",), task), ("metric",), metric)
    raw["submission"].pop("labels", None)  # a regression task has none; a multiclass one reads the target's
    if task == "multiclass":  # one rate per class: the classes are named (tests/test_target_mean.py)
        assert "target_mean.TicketRate: a multiclass target_mean makes one rate per class" in refusal(raw)
        del raw["recipes"]["plus"]["target_mean"]
        raw["recipes"]["plus"]["numeric"].remove("TicketRate")
        raw["recipes"]["plus"]["numeric"].remove("SurnameRate")
    assert parse_definition(raw, Path("ok.toml")).task == task


@pytest.mark.parametrize(
    ("path", "key"), [((), "slug"), (("files",), "test"), (("recipes", "plus", "extract", "Title"), "pattern")]
)
def test_a_missing_required_key_is_named(path, key):
    raw = copy.deepcopy(SHIPPED["titanic"])
    table = raw
    for k in path:
        table = table[k]
    del table[key]
    assert f"lacks the key '{key}'" in refusal(raw)


def test_the_shipped_definitions_load_unchanged():
    comp = load_competition("titanic")
    assert comp.run == {"recipe": "plus", "models": ["linear", "nn", "deep"], "seeds": 5, "split": "stratified"}
    assert comp.training == {"preset": "default", "choose_epochs": True}
    assert (comp.task, comp.metric, comp.validation) == ("binary", "accuracy", {"group": "Ticket"})
    assert comp.labels == ("0", "1") and comp.columns == ("PassengerId", "Survived")
    assert comp.recipe("plus").rare == {"Title": 10}
    spaceship = load_competition("spaceship-titanic").training
    assert spaceship == {"batch_size": 256, "lr": 0.003, "choose_epochs": True}


def test_the_recipe_schema_names_every_field_of_recipe_spec():
    spec_fields = {f.name for f in dataclasses.fields(RecipeSpec)} - {"name", "id", "target"}
    assert {f.name for f in dataclasses.fields(RecipeTable)} == spec_fields


# ---- every key of the shipped definitions, generated -----------------------------------------------


def paths(value, prefix: tuple = ()) -> list[tuple]:
    """The path of every value in a definition: every key of every table, every entry of every list."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    return [p for k, v in items for p in [(*prefix, k), *paths(v, (*prefix, k))]]


EVERY_PATH = [(name, p) for name, raw in SHIPPED.items() for p in paths(raw)]


@pytest.mark.parametrize(
    ("name", "path"), EVERY_PATH, ids=lambda v: ".".join(map(str, v)) if isinstance(v, tuple) else v
)
def test_every_key_given_a_value_no_key_accepts_is_refused_naming_it(name, path):
    message = refusal(with_value(SHIPPED[name], path, datetime.date(2024, 1, 1)))  # TOML dates fit nowhere in kit
    last = f"[{path[-1]}]" if isinstance(path[-1], int) else path[-1]
    assert last in message and "not 2024-01-01" in message and "\n" not in message


# Values of every type TOML can hold, most of them wrong wherever they land.
WRONG = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=8),
    st.sampled_from(["", "../x", "a/b", "Age", "linear", "median", "\n", "max"]),
    st.dates(),
    st.lists(st.one_of(st.integers(), st.text(max_size=4), st.floats()), max_size=3),
    st.dictionaries(st.text(max_size=6), st.one_of(st.integers(), st.text(max_size=4)), max_size=2),
    st.lists(st.dictionaries(st.text(max_size=3), st.integers(), max_size=1), min_size=1, max_size=2),
)


def shape(path: tuple) -> tuple:
    """A table's path with the names a user chooses (recipe names, new columns) as "*"."""
    return tuple("*" if path[0] == "recipes" and i in (1, 3) else k for i, k in enumerate(path))


# The keys a definition cannot do without, by the shape of the table that holds them.
REQUIRED = {
    (): {"slug", "id", "target", "files", "recipes"},
    ("files",): {"train", "test"},
    ("recipes", "*", "split", "*"): {"sep", "into"},
    ("recipes", "*", "extract", "*"): {"from", "pattern"},
    ("recipes", "*", "fill_group", "*"): {"by"},
    ("recipes", "*", "target_mean", "*"): {"by"},
    ("recipes", "*", "equals", "*"): {"column", "value"},
}
# The tables whose keys are fixed (rather than names of the user's choosing): an unknown key there is refused.
FIXED = {(), ("files",), ("submission",), ("run",), ("training",), ("recipes", "*")}
FIXED |= {("recipes", "*", step, "*") for step in ("split", "extract", "fill_group", "equals", "target_mean")}


def tables(value, prefix: tuple = ()) -> list[tuple]:
    return [prefix] + [p for k, v in value.items() if isinstance(v, dict) for p in tables(v, (*prefix, k))]


@st.composite
def malformed(draw):
    """A shipped definition with one thing wrong, and whether it must be refused."""
    raw = copy.deepcopy(SHIPPED[draw(st.sampled_from(sorted(SHIPPED)))])
    how = draw(st.sampled_from(["wrong value", "unknown key", "missing key"]))
    if how == "wrong value":
        return with_value(raw, draw(st.sampled_from(paths(raw))), draw(WRONG)), False
    table_path = draw(st.sampled_from(tables(raw)))
    table = raw
    for k in table_path:
        table = table[k]
    if how == "unknown key":
        table["zz" + draw(st.text(max_size=6))] = draw(WRONG)  # no known key starts with zz
        return raw, shape(table_path) in FIXED
    if not table:
        return raw, False
    key = draw(st.sampled_from(sorted(table)))
    del table[key]
    return raw, key in REQUIRED.get(shape(table_path), ())


# derandomize: the same 200 cases on every run (repeatable CI); database=None: nothing written into the checkout.
@settings(
    max_examples=200, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(malformed())
def test_a_malformed_definition_loads_or_is_one_sentence_never_a_traceback(case):
    raw, must_fail = case
    try:
        comp = parse_definition(raw, Path("bad.toml"))
    except KitError as e:
        message = str(e)
        assert "\n" not in message and message.startswith("competition definition bad.toml: "), message
        assert message.endswith("; fix the file."), message
        return
    assert not must_fail, "an unknown key or a missing required key was accepted"
    assert isinstance(comp, Competition)


# ---- through the command line ----------------------------------------------------------------------


def test_the_cli_refuses_a_malformed_definition_with_exit_2_and_one_line(tmp_path):
    text = (REPO / "competitions" / "titanic.toml").read_text().replace("seeds = 5", 'seeds = "five"')
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    run = subprocess.run(
        [sys.executable, "-m", "kit", "cv", "-c", str(bad)], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and '[run] seeds must be an integer, not "five"' in run.stderr, run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""


def test_an_unknown_recipe_step_names_the_step_it_most_likely_means():
    definition = copy.deepcopy(SHIPPED["titanic"])
    definition["recipes"]["plus"]["fill_medain"] = ["Age"]
    assert "[recipes.plus] has unknown key fill_medain (did you mean fill_median?); known: " in refusal(definition)


def test_a_recipe_from_another_takes_its_table_and_replaces_the_keys_it_names():
    """A trial's variant with bins copied the base recipe's 52 numeric names to change one line."""
    raw = copy.deepcopy(SHIPPED["titanic"])
    plus = raw["recipes"]["plus"]
    raw["recipes"]["binned"] = {"from": "plus", "piecewise": {"Age": 4}}
    raw["recipes"]["wider"] = {"from": "binned", "one_hot": ["Sex"]}  # a chain: binned's table, itself from plus
    comp = parse_definition(raw, Path("ok.toml"))
    binned, wider = comp.recipe("binned"), comp.recipe("wider")
    assert binned.numeric == comp.recipe("plus").numeric and binned.piecewise == {"Age": 4}
    assert dataclasses.replace(binned, name="plus", piecewise={}) == comp.recipe("plus")  # the rest as plus's
    assert wider.one_hot == ("Sex",) and wider.piecewise == {"Age": 4} and list(plus["one_hot"]) != ["Sex"]
    unknown = copy.deepcopy(raw)
    unknown["recipes"]["binned"]["from"] = "plsu"
    assert 'from = "plsu" names no recipe; the others: ' in refusal(unknown)
    loop = copy.deepcopy(raw)
    loop["recipes"]["plus"] = {"from": "wider"}
    assert "comes back to" in refusal(loop) and "->" in refusal(loop)


@pytest.mark.parametrize("other", ['group = "Ticket"', 'time = "Date"'])
def test_group_duplicates_is_refused_beside_another_split_key(other):
    raw = copy.deepcopy(SHIPPED["titanic"])
    raw["validation"] = {"group_duplicates": True, **tomllib.loads(other)}
    key = other.split()[0]
    assert f"[validation] names both group_duplicates and {key}; a split keeps one of them" in refusal(raw)


def test_a_recipe_from_another_adds_to_and_drops_from_its_lists_and_tables():
    """A trial's user restated a 17-name numeric list and a 4-entry is_missing table to add one gap flag."""
    raw = copy.deepcopy(SHIPPED["titanic"])
    plus = raw["recipes"]["plus"]
    raw["recipes"]["flagged"] = {
        "from": "plus",
        "add": {"is_missing": {"AgeGap": "Age"}, "numeric": ["AgeGap"], "piecewise": {"Age": 4}},
        "drop": {"one_hot": [plus["one_hot"][0]], "fill_group": ["Age"]},
    }
    comp = parse_definition(raw, Path("ok.toml"))
    flagged, base = comp.recipe("flagged"), comp.recipe("plus")
    assert flagged.numeric == (*base.numeric, "AgeGap") and flagged.is_missing == {**base.is_missing, "AgeGap": "Age"}
    assert flagged.one_hot == base.one_hot[1:] and flagged.fill_group == {} and flagged.piecewise == {"Age": 4}
    assert dataclasses.replace(
        flagged, name="plus", numeric=base.numeric, is_missing=base.is_missing, one_hot=base.one_hot,
        fill_group=base.fill_group, piecewise={},
    ) == base  # fmt: skip
    for change, said in [
        (
            {"add": {"numeric": [plus["numeric"][0]]}},
            f'[recipes.bad] add.numeric: "{plus["numeric"][0]}" is already in it',
        ),
        ({"drop": {"numeric": ["Nope"]}}, '[recipes.bad] drop.numeric: "Nope" is not in it'),
        (
            {"drop": {"piecewise": ["Age"]}},
            "[recipes.bad] drop.piecewise: only a list or a table of the base can change",
        ),
        (
            {"add": {"scale": "none"}},
            "[recipes.bad] add.scale: only a list or a table of the base can change (scale is one value, set it)",
        ),
        (
            {"numeric": ["Age"], "add": {"numeric": ["Fare"]}},
            "[recipes.bad] add.numeric: this recipe sets numeric itself",
        ),
    ]:
        bad = copy.deepcopy(raw)
        bad["recipes"]["bad"] = {"from": "plus", **change}
        assert said in refusal(bad), refusal(bad)
    alone = copy.deepcopy(raw)
    alone["recipes"]["bad"] = {"add": {"numeric": ["Fare"]}, "numeric": ["Age"]}
    assert "[recipes.bad]: add changes the recipe named by from, and it has none" in refusal(alone)
