"""The recipe's `date` step (a date's parts as numbers) and `fill_median` (gaps take the training median):
each learns from fit rows only, its state round-trips through JSON, and a mistake is one sentence."""

from __future__ import annotations

import copy
import json
import re
import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_definition_schema import SHIPPED, WRONG, paths, refusal, with_value
from test_recipe import features, recipe, rows

from kit import KitError
from kit.competition import Competition, parse_definition
from kit.recipe import apply_recipe, fit_recipe
from kit.recipe_spec import RecipeSpec
from kit.report import recipe_hash

PARTS = ["year", "month", "day", "dayofweek", "dayofyear", "hour", "minute", "elapsed"]


def dated(**more) -> RecipeSpec:
    """Every part of JoinDate as a number feature, gaps filled with -1 so that they show."""
    made = [f"JoinDate_{p}" for p in PARTS]
    return recipe(date={"JoinDate": PARTS}, fill_constant=dict.fromkeys(made, -1), numeric=made, **more)


# ---- date --------------------------------------------------------------------------------------


def test_date_makes_each_part_as_a_number_and_a_gap_stays_missing_for_the_fills():
    train = rows(JoinDate=["2019-03-14", "2020-01-01T23:30:00", None, "", "2019-03-14 06:15"])
    spec = dated()
    got = features(spec, fit_recipe(spec, train), train)
    assert got["JoinDate_year"] == [2019, 2020, -1, -1, 2019]
    assert got["JoinDate_month"] == [3, 1, -1, -1, 3]
    assert got["JoinDate_day"] == [14, 1, -1, -1, 14]
    assert got["JoinDate_dayofweek"] == [3, 2, -1, -1, 3]  # Monday is 0: 2019-03-14 was a Thursday
    assert got["JoinDate_dayofyear"] == [73, 1, -1, -1, 73]
    assert got["JoinDate_hour"] == [0, 23, -1, -1, 6]
    assert got["JoinDate_minute"] == [0, 30, -1, -1, 15]
    assert got["JoinDate_elapsed"][:2] == [17969, pytest.approx(18262 + 23.5 / 24)]  # days since 1970-01-01


def test_a_time_zone_is_dropped_so_the_parts_are_the_time_as_written():
    train = rows(JoinDate=["2019-03-14T10:30:00Z", "2019-03-14 10:30:00+02:00", "2019-03-14T10:30-0500"])
    spec = dated()
    got = features(spec, fit_recipe(spec, train), train)
    assert got["JoinDate_hour"] == [10, 10, 10] and got["JoinDate_minute"] == [30, 30, 30]


def test_date_parts_can_be_one_hot_and_the_state_round_trips_through_json():
    train = rows(JoinDate=["2019-03-14", "2019-04-01", "2019-03-02"])
    test = rows("test", JoinDate=["2021-04-30", "2018-12-25"])  # December: a month the training rows never saw
    spec = recipe(date={"JoinDate": ["month", "year"]}, numeric=["JoinDate_year"], one_hot=["JoinDate_month"])
    state = fit_recipe(spec, train)
    assert state["columns"] == ["JoinDate_year", "JoinDate_month_3", "JoinDate_month_4"]
    again = json.loads(json.dumps(state))
    assert features(spec, again, test) == {
        "JoinDate_year": [2021, 2018],  # test rows' own dates: nothing about a date is learned
        "JoinDate_month_3": [0, 0],
        "JoinDate_month_4": [1, 0],
    }


def test_each_distinct_date_is_parsed_once(monkeypatch):
    parsed = []
    to_datetime = pd.to_datetime
    monkeypatch.setattr(pd, "to_datetime", lambda values, **kw: parsed.append(len(values)) or to_datetime(values, **kw))
    train = rows(JoinDate=["2019-03-14", "2020-01-01", None, "2019-03-14"] * 250)
    parts = ["JoinDate_year", "JoinDate_month"]
    spec = recipe(date={"JoinDate": ["year", "month"]}, fill_mode=parts, numeric=parts)
    fit_recipe(spec, train)
    assert parsed == [3]  # the two dates and one slot for the missing cells, in one call


@pytest.mark.parametrize("frame", ["train", "test"])
def test_a_text_that_is_not_a_date_stops_the_run_with_one_sentence_naming_column_value_row_and_the_form_kit_reads(
    frame,
):
    train = rows(JoinDate=["2019-03-14", "2019-03-15"])
    spec = dated()
    state = fit_recipe(spec, train)
    bad = rows(frame, JoinDate=["2019-03-14", "03/31/2020", "2019-13-01"])
    with pytest.raises(KitError) as e:
        fit_recipe(spec, bad) if frame == "train" else apply_recipe(spec, state, bad)
    assert str(e.value) == (
        f"column JoinDate holds '03/31/2020', which is not a date kit reads, at id {frame}1; "
        'give the recipe its form, date = { JoinDate = { parts = [...], format = "%d/%m/%Y" } } (strftime\'s codes), '
        "or write it as ISO 8601, YYYY-MM-DD (a time may follow: 2019-03-14 10:30)."
    )


def test_a_date_with_a_format_reads_dates_written_that_way_and_a_gap_stays_missing():
    train = rows(JoinDate=["14/03/2019", "01/01/2020 23:30", None, "", "31/12/2019"])
    spec = recipe(
        date={"JoinDate": {"parts": ["year", "month", "day", "hour"], "format": "%d/%m/%Y"}},
        fill_constant={f"JoinDate_{p}": -1 for p in ("year", "month", "day", "hour")},
        numeric=["JoinDate_year", "JoinDate_month", "JoinDate_day"],
    )
    with pytest.raises(KitError, match="'01/01/2020 23:30', which is not a date in the form %d/%m/%Y, at id train1"):
        fit_recipe(spec, train)  # exactly the form given: a time needs its codes too
    train.loc[1, "JoinDate"] = "01/01/2020"
    got = features(spec, fit_recipe(spec, train), train)
    assert got == {"JoinDate_year": [2019, 2020, -1, -1, 2019], "JoinDate_month": [3, 1, -1, -1, 12],
                   "JoinDate_day": [14, 1, -1, -1, 31]}  # fmt: skip


def test_a_date_with_a_format_reads_each_distinct_text_once_and_matches_the_iso_reading():
    iso = pd.date_range("2019-01-01", periods=60, freq="37h").strftime("%Y-%m-%d %H:%M")
    written = pd.to_datetime(iso).strftime("%m.%d.%y %H:%M")  # the same moments written another way
    parts = ["year", "dayofyear", "hour", "elapsed"]
    made = [f"JoinDate_{p}" for p in parts]
    spec = recipe(date={"JoinDate": parts}, numeric=made)
    formed = recipe(date={"JoinDate": {"parts": parts, "format": "%m.%d.%y %H:%M"}}, numeric=made)
    assert features(formed, fit_recipe(formed, rows(JoinDate=list(written))), rows(JoinDate=list(written))) == (
        features(spec, fit_recipe(spec, rows(JoinDate=list(iso))), rows(JoinDate=list(iso)))
    )


def test_a_date_table_without_a_format_is_its_list_of_parts_with_the_same_fingerprint():
    from kit.recipe_spec import parse_recipe
    from kit.report import recipe_hash

    listed = parse_recipe("r", {"date": {"JoinDate": ["year"]}, "numeric": ["JoinDate_year"]})
    tabled = parse_recipe("r", {"date": {"JoinDate": {"parts": ["year"]}}, "numeric": ["JoinDate_year"]})
    formed = parse_recipe(
        "r", {"date": {"JoinDate": {"parts": ["year"], "format": "%Y"}}, "numeric": ["JoinDate_year"]}
    )
    assert tabled == listed and recipe_hash(tabled) == recipe_hash(listed) != recipe_hash(formed)


def test_the_shipped_recipes_keep_the_fingerprints_their_runs_were_logged_with():
    from kit.competition import load_competition
    from kit.report import recipe_hash

    # taken before the number step was added: kit report groups a user's earlier runs with their new ones by these
    hashes = {
        slug: {name: recipe_hash(spec) for name, spec in load_competition(slug).recipes.items()}
        for slug in ("titanic", "spaceship-titanic")
    }
    assert hashes == {
        "titanic": {"article": "97b3d6b53e", "plus": "eb1fe0923c"},
        "spaceship-titanic": {"base": "ba07539e90", "bins": "958d8668c7"},  # bins: written with piecewise, later
    }
    spec = load_competition("titanic").recipes["plus"]
    assert recipe_hash(replace(spec, number={"Fare": {"thousands": ","}})) != hashes["titanic"]["plus"]


def test_a_column_of_whole_numbers_reads_as_basic_iso_dates():
    train = rows(JoinDate=[20190314, 20200101])
    spec = recipe(date={"JoinDate": ["year", "day"]}, numeric=["JoinDate_year", "JoinDate_day"])
    assert features(spec, fit_recipe(spec, train), train) == {"JoinDate_year": [2019, 2020], "JoinDate_day": [14, 1]}


# ---- fill_median -------------------------------------------------------------------------------


def test_fill_median_fills_any_frame_with_the_median_of_the_fit_rows_only():
    frame = rows(Age=[20.0, None, 30.0, 41.0, None, 80.0, 90.0, None])
    fit, valid = frame.iloc[:4], frame.iloc[4:]  # the validation rows' own median (85) is never learned
    spec = recipe(fill_median=["Age"], numeric=["Age"])
    state = json.loads(json.dumps(fit_recipe(spec, fit)))
    assert state["medians"] == {"Age": 30.0}
    assert features(spec, state, fit)["Age"] == [20, 30, 30, 41]
    assert features(spec, state, valid)["Age"] == [30, 80, 90, 30]


def test_fill_median_reads_its_column_as_numbers_and_refuses_text():
    spec = recipe(fill_median=["Age"], numeric=["Age"])
    train = rows(Age=["1.5", None, "2.5", "10"])
    assert features(spec, fit_recipe(spec, train), train)["Age"] == [1.5, 2.5, 2.5, 10]
    with pytest.raises(KitError) as e:
        fit_recipe(spec, rows(Age=["1", "young"]))
    assert str(e.value) == (
        "column Age holds 'young', which is not a number, at id train1; fix the file, or if it marks a gap, read it "
        'as one: number = { Age = { missing = ["young"] } }.'
    )


def test_a_scale_of_text_levels_read_as_numbers_says_to_one_hot_or_number_them_not_to_read_a_gap():
    # A house's quality, Ex/Gd/TA: calling a level a gap would throw the scale away.
    spec = recipe(numeric=["ExterQual"])
    with pytest.raises(KitError) as e:
        fit_recipe(spec, rows(ExterQual=["Gd", "TA", "Ex", "TA", "Gd", "Fa"]))
    assert str(e.value) == (
        "column ExterQual holds text levels ('Gd', 'TA', 'Ex', ...), not numbers, at id train0; list it in one_hot, "
        "or give each level a number in its order first: replace = { ExterQual = { Gd = 1, TA = 2 } }."
    )
    spec = recipe(replace={"ExterQual": {"Fa": 1, "TA": 2, "Gd": 3, "Ex": 4}}, numeric=["ExterQual"])
    train = rows(ExterQual=["Gd", "TA", "Ex", "TA"])
    assert features(spec, fit_recipe(spec, train), train)["ExterQual"] == [3, 2, 4, 2]


def test_fill_median_of_a_column_with_no_training_value_is_one_sentence():
    spec = recipe(fill_median=["Age"], numeric=["Age"])
    with pytest.raises(KitError, match="column Age has no values in the training rows, so it has no median"):
        fit_recipe(spec, rows(Age=[np.nan, np.nan]))


def test_fill_median_fills_date_parts_and_runs_after_fill_constant():
    train = rows(JoinDate=["2019-03-14", None, "2021-01-01", "2020-06-30"], Fare=[None, 1.0, 3.0, None])
    spec = recipe(
        date={"JoinDate": ["year"]},
        fill_constant={"Fare": 0},
        fill_median=["JoinDate_year", "Fare"],
        numeric=["JoinDate_year", "Fare"],
    )
    got = features(spec, fit_recipe(spec, train), train)
    assert got == {"JoinDate_year": [2019, 2020, 2021, 2020], "Fare": [0, 1, 3, 0]}


# ---- number ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written, form, value",
    [
        ("1,234", '{ thousands = "," }', 1234.0),
        ("1.234.567", '{ thousands = "." }', 1234567.0),
        ("0,5", '{ decimal = "," }', 0.5),
        ("1 234,5", '{ thousands = " ", decimal = "," }', 1234.5),
        ("-1.234,5", '{ thousands = ".", decimal = "," }', -1234.5),
        ("1,234.5", '{ thousands = "," }', 1234.5),
    ],
)
def test_a_number_written_with_separators_is_refused_naming_the_number_step_that_reads_it(written, form, value):
    spec = recipe(fill_median=["Annual Income"], numeric=["Annual Income"])
    train = rows(**{"Annual Income": ["1", written]})
    with pytest.raises(KitError) as e:
        fit_recipe(spec, train)
    assert str(e.value) == (
        f"column Annual Income holds {written!r}, which is not a number, at id train1; fix the file, or read it with "
        f'the recipe\'s number step: number = {{ "Annual Income" = {form} }}.'
    )
    table = tomllib.loads(f'number = {{ "Annual Income" = {form} }}')["number"]  # the step as the message writes it
    spec = recipe(number=table, fill_median=["Annual Income"], numeric=["Annual Income"])
    assert features(spec, fit_recipe(spec, train), train)["Annual Income"] == [1.0, value]


def test_number_reads_separated_numbers_and_tokens_as_gaps_which_the_fills_then_fill():
    spec = recipe(number={"Area": {"thousands": ",", "missing": ["?", "n/a"]}}, fill_median=["Area"], numeric=["Area"])
    train = rows(Area=["1,200", "?", "950", None, "12,000", " n/a "])
    state = fit_recipe(spec, train)
    assert state["medians"] == {"Area": 1200.0}  # of 950, 1,200 and 12,000: the tokens are gaps, not zeros
    assert features(spec, state, train)["Area"] == [1200, 1200, 950, 1200, 12000, 1200]
    with pytest.raises(KitError, match=r"column Area holds '1,2,00x', which is not a number, at id test0"):
        apply_recipe(spec, state, rows("test", Area=["1,2,00x"]))


# ---- is_missing -------------------------------------------------------------------------------


def test_is_missing_flags_each_frames_own_gaps_before_the_fills_fill_them():
    spec = recipe(is_missing={"AgeUnknown": "Age"}, fill_median=["Age"], numeric=["Age", "AgeUnknown"])
    train = rows(Age=[20.0, None, 40.0])
    state = fit_recipe(spec, train)
    assert features(spec, state, train) == {"Age": [20, 30, 40], "AgeUnknown": [0, 1, 0]}
    assert features(spec, state, rows("test", Age=[None, 5.0]))["AgeUnknown"] == [1, 0]  # its own gaps
    assert recipe_hash(spec) != recipe_hash(recipe(fill_median=["Age"], numeric=["Age"]))


def test_is_missing_of_several_columns_counts_each_rows_gaps_among_them():
    """As in a survey some skipped, or Tabular Playground's Sep 2021 set, where a row's count of gaps was its best
    single feature."""
    spec = recipe(
        is_missing={"Gaps": ["Age", "Fare", "Embarked"]},
        fill_median=["Age", "Fare"],
        fill_mode=["Embarked"],
        numeric=["Gaps"],
    )
    train = rows(Age=[20.0, None, None, 5.0], Fare=[None, 1.0, None, 2.0], Embarked=["S", "C", None, "S"])
    state = fit_recipe(spec, train)
    assert features(spec, state, train) == {"Gaps": [1, 1, 3, 0]}
    assert features(spec, state, rows("test", Age=[None], Fare=[None], Embarked=["S"])) == {"Gaps": [2]}
    # each is a column the recipe reads: the files are checked for it before any step runs
    assert {"Age", "Fare", "Embarked"} <= set(spec.input_columns())


# ---- the schema ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (
            {"date": {"JoinDate": ["year", "week"]}},
            r'\[recipes.plus\] date.JoinDate\[1\] must be one of "year", "month", .*"elapsed", not "week"',
        ),
        ({"date": {"JoinDate": "year"}}, r'\[recipes.plus\] date.JoinDate must be a list or a table, not "year"'),
        ({"date": {"JoinDate": {"parts": ["year"], "format": "%Q"}}}, r"date.JoinDate.format needs a day, month or"),
        ({"date": {"JoinDate": {"parts": ["year"], "format": "%d %q"}}}, r"format is not a date format strptime"),
        ({"date": {"JoinDate": {"format": "%d/%m/%Y"}}}, r"date.JoinDate lacks the key 'parts'"),
        ({"date": {"JoinDate": {"parts": ["year"], "form": "%Y"}}}, r"date.JoinDate has unknown key form"),
        ({"date": {"JoinDate": []}}, r"\[recipes.plus\] date.JoinDate must not be empty"),
        ({"date": {"JoinDate": ["year", "year"]}}, r'\[recipes.plus\] date.JoinDate lists "year" twice'),
        ({"date": ["JoinDate"]}, r'\[recipes.plus\] date must be a table, not \["JoinDate"\]'),
        ({"number": {"Fare": {"thousands": ";"}}}, r"\[recipes.plus\] number.Fare.thousands must be one of , . ' _"),
        ({"number": {"Fare": {}}}, r"recipe plus: number.Fare says nothing; give it thousands, decimal or missing"),
        ({"number": {"Fare": {"thousands": ",", "decimal": ","}}}, r"number.Fare has the same thousands and decimal"),
        ({"number": {"Fare": {"missing": []}}}, r"\[recipes.plus\] number.Fare.missing must not be empty"),
        ({"rare": {"Fare": 5}}, r"recipe plus pools Fare's levels with rare and reads it as numbers; keep it in one"),
        ({"fill_median": "Age"}, r'\[recipes.plus\] fill_median must be a list, not "Age"'),
        ({"fill_median": [1]}, r"\[recipes.plus\] fill_median\[0\] must be a name .*, not 1"),
        ({"fill_median": ["Fare"], "fill_mode": ["Fare"]}, "lists a column in both fill_median and fill_mode"),
        ({"fill_median": ["Age"]}, "lists a column in both fill_median and fill_group"),  # plus fills Age by Title
    ],
)
def test_the_schema_refuses_unknown_parts_and_values_that_are_not_lists_with_one_sentence(value, reason):
    raw = copy.deepcopy(SHIPPED["titanic"])
    raw["recipes"]["plus"].update(value)
    message = refusal(raw)
    assert re.search(reason, message), message
    assert message.startswith("competition definition bad.toml: ") and message.endswith("; fix the file.")


def test_a_well_formed_date_and_fill_median_load_into_the_recipe():
    raw = copy.deepcopy(SHIPPED["titanic"])
    raw["recipes"]["plus"].update(date={"Name": ["year", "hour"]}, fill_median=["Name_year"])
    spec = parse_definition(raw, Path("ok.toml")).recipe("plus")
    assert spec.date == {"Name": ("year", "hour")} and spec.fill_median == ("Name_year",)
    assert ("date", ("Name",), ("Name_year", "Name_hour")) in spec.entries() and "Name" in spec.input_columns()


def test_a_date_part_column_used_before_the_date_step_is_refused():
    raw = copy.deepcopy(SHIPPED["titanic"])
    raw["recipes"]["plus"]["split"] = {"Name_year": {"sep": " ", "into": ["A"]}}
    raw["recipes"]["plus"]["date"] = {"Name": ["year"]}
    assert "split reads Name_year before a later step makes it" in refusal(raw)


# A shipped definition whose recipe also has date and fill_median, so the generated mistakes reach them.
WITH_NEW_KEYS = copy.deepcopy(SHIPPED["titanic"])
WITH_NEW_KEYS["recipes"]["dated"] = {
    "date": {"Ticket": ["year", "dayofweek", "elapsed"]},
    "fill_median": ["Fare", "Ticket_year"],
    "numeric": ["Fare", "Ticket_year"],
}


@settings(
    max_examples=100, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.sampled_from([p for p in paths(WITH_NEW_KEYS) if p[:2] == ("recipes", "dated")]), WRONG)
def test_a_wrong_value_anywhere_in_date_or_fill_median_loads_or_is_one_sentence(path, value):
    try:
        comp = parse_definition(with_value(WITH_NEW_KEYS, path, value), Path("bad.toml"))
    except KitError as e:
        message = str(e)
        assert "\n" not in message and message.startswith("competition definition bad.toml: "), message
        assert message.endswith("; fix the file."), message
        return
    assert isinstance(comp, Competition)
