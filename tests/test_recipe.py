"""The recipe learns from training rows only and always gives the training columns."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import torch

from kit import KitError
from kit.competition import RecipeSpec, load_competition, read_train_test
from kit.recipe import apply_recipe, fit_recipe
from kit.recipe_spec import parse_recipe
from kit.schema import SchemaError

SPEC = load_competition("titanic").recipe("article")


@pytest.fixture
def frames(titanic_dir):
    return read_train_test(load_competition("titanic"), titanic_dir, SPEC)


def test_train_and_test_get_identical_columns(frames):
    train, test = frames
    state = fit_recipe(SPEC, train)
    x_train, x_test = apply_recipe(SPEC, state, train), apply_recipe(SPEC, state, test)
    assert x_train.dtype == x_test.dtype == torch.float32
    assert x_train.shape == (891, 12) and x_test.shape == (418, 12)
    assert not torch.isnan(x_test).any()


def test_test_fare_missing_is_filled_with_zero_like_the_article(frames):
    train, test = frames
    state = fit_recipe(SPEC, train)
    row = test.index[test["Fare"].isna()][0]
    x_test = apply_recipe(SPEC, state, test)
    assert x_test[row, state["columns"].index("LogFare")].item() == 0.0  # log(0 + 1)


def test_unseen_category_is_all_zeros_and_changes_no_columns(frames):
    train, test = frames
    state = fit_recipe(SPEC, train)
    odd = test.copy()
    odd.loc[odd.index[:5], "Embarked"] = "X"  # a port the training rows never saw
    odd.loc[odd.index[:5], "Pclass"] = 7
    x = apply_recipe(SPEC, state, odd)
    assert x.shape[1] == len(state["columns"])
    onehot = [i for i, c in enumerate(state["columns"]) if c.startswith(("Embarked_", "Pclass_"))]
    assert x[:5, onehot].abs().sum() == 0


def test_all_nan_column_in_test_is_filled_with_the_training_mode(frames):
    train, test = frames
    state = fit_recipe(SPEC, train)
    blank = test.copy()
    blank["Age"] = np.nan
    blank["Embarked"] = np.nan
    x = apply_recipe(SPEC, state, blank)
    assert x.shape[1] == len(state["columns"])
    age = x[:, state["columns"].index("Age")] * state["scale"][state["columns"].index("Age")]
    assert torch.allclose(age, torch.full_like(age, state["modes"]["Age"]))
    assert (x[:, state["columns"].index("Embarked_S")] == 1).all()


def test_state_is_plain_json_and_applies_the_same_after_a_round_trip(frames):
    train, test = frames
    state = fit_recipe(SPEC, train)
    again = json.loads(json.dumps(state))
    assert torch.equal(apply_recipe(SPEC, state, test), apply_recipe(SPEC, again, test))


def test_fit_learns_only_from_the_rows_it_is_given(frames):
    train, _ = frames
    few = train.iloc[:50]
    state = fit_recipe(SPEC, few)
    assert state["modes"]["Age"] == few["Age"].mode().iloc[0]
    age_max = state["scale"][state["columns"].index("Age")]
    assert age_max == pytest.approx(few["Age"].fillna(state["modes"]["Age"]).max())
    assert age_max != pytest.approx(train["Age"].max())


def test_level_order_puts_listed_levels_first_and_sorts_the_rest(frames):
    state = fit_recipe(SPEC, frames[0])
    assert state["levels"] == {"Sex": ["male", "female"], "Pclass": ["1", "2", "3"], "Embarked": ["C", "Q", "S"]}


def test_a_non_numeric_value_in_a_numeric_column_is_a_clear_error(frames):
    train, _ = frames
    bad = train.copy()
    bad["Age"] = bad["Age"].astype(object)
    bad.loc[3, "Age"] = "forty"
    with pytest.raises(KitError, match="Age holds 'forty', which is not a number"):
        fit_recipe(SPEC, bad)


def test_unfilled_missing_values_are_a_clear_error():
    spec = RecipeSpec(name="bare", numeric=("a",))
    state = fit_recipe(spec, pd.DataFrame({"a": [1.0, 2.0]}))
    with pytest.raises(KitError, match="does not fill; add its column"):
        apply_recipe(spec, state, pd.DataFrame({"a": [np.nan]}))
    named = RecipeSpec(name="bare", numeric=("a",), id="id")  # with an id, the first row with a gap is named
    with pytest.raises(KitError, match=r"feature a has missing values \(the first in the row whose id is 7\) that"):
        apply_recipe(named, state, pd.DataFrame({"id": [5, 7, 9], "a": [1.0, np.nan, np.nan]}))


def test_negative_and_all_zero_columns_scale_safely():
    spec = RecipeSpec(name="s", numeric=("neg", "zero"))
    state = fit_recipe(spec, pd.DataFrame({"neg": [-4.0, 2.0], "zero": [0.0, 0.0]}))
    assert state["scale"] == [4.0, 1.0]


# ---- the steps beyond the article's --------------------------------------------------------

PLUS = load_competition("titanic").recipe("plus")


def recipe(**table) -> RecipeSpec:
    """A recipe written as its TOML table would be, with the id and target columns `id` and `y`."""
    return parse_recipe("t", {"scale": "none", **table}, id_column="id", target="y")


def rows(prefix: str = "train", **columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame({"id": [f"{prefix}{i}" for i in range(n)], **columns})


def features(spec: RecipeSpec, state: dict, frame: pd.DataFrame) -> dict:
    """Each feature column of apply's output as a plain list, by name."""
    x = apply_recipe(spec, state, frame)
    return {name: x[:, i].tolist() for i, name in enumerate(state["columns"])}


def test_split_makes_named_parts_and_a_short_value_leaves_the_rest_missing():
    spec = recipe(
        split={"Cabin": {"sep": "/", "into": ["Deck", "Num", "Side"]}},
        fill_constant={"Num": 0, "Side": "none"},
        numeric=["Num"],
        one_hot=["Deck", "Side"],
    )
    state = fit_recipe(spec, rows(Cabin=["B/0/P", "C/12/S"]))
    got = features(spec, state, rows("test", Cabin=["C/7", np.nan]))
    assert got == {
        "Num": [7.0, 0.0],
        "Deck_B": [0.0, 0.0],
        "Deck_C": [1.0, 0.0],
        "Side_P": [0.0, 0.0],
        "Side_S": [0.0, 0.0],
    }


def test_extract_keeps_the_patterns_first_group_and_no_match_is_missing():
    spec = recipe(extract={"Title": {"from": "Name", "pattern": r",\s*([^.]+)\."}}, one_hot=["Title"])
    state = fit_recipe(spec, rows(Name=["Braund, Mr. Owen", "Cumings, Mrs. John"]))
    assert state["levels"]["Title"] == ["Mr", "Mrs"]
    assert features(spec, state, rows("test", Name=["Heikkinen, Mrs. Laina", "no title here"])) == {
        "Title_Mr": [0.0, 0.0],
        "Title_Mrs": [1.0, 0.0],
    }


def test_replace_renames_listed_values_and_rare_groups_the_few_and_the_unseen():
    spec = recipe(replace={"Title": {"Mlle": "Miss"}}, rare={"Title": 2}, one_hot=["Title"])
    state = fit_recipe(spec, rows(Title=["Mr", "Mr", "Mr", "Miss", "Mlle", "Dr"]))
    assert state["rare"] == {"Title": ["Miss", "Mr"]}  # Mlle counted as Miss; Dr seen once
    assert state["levels"]["Title"] == ["Miss", "Mr", "rare"]
    got = features(spec, state, rows("test", Title=["Mlle", "Dr", "Countess"]))
    assert got == {"Title_Miss": [1.0, 0.0, 0.0], "Title_Mr": [0.0, 0.0, 0.0], "Title_rare": [0.0, 1.0, 1.0]}


def test_rare_as_a_share_pools_levels_held_by_fewer_than_that_share_of_whatever_rows_it_is_fit_on():
    spec = recipe(rare={"Shape": 0.01}, one_hot=["Shape"])
    shapes = ["x"] * 600 + ["f"] * 380 + ["s"] * 12 + ["Xc7"] * 6 + ["3.55"] * 2  # 1,000 rows: 1 % is 10 rows
    assert fit_recipe(spec, rows(Shape=shapes))["rare"] == {"Shape": ["f", "s", "x"]}
    # every other row: 1 % of 500 is 5 rows, so s (6 rows) is still a level and Xc7 (3) is not
    assert fit_recipe(spec, rows(Shape=shapes[::2]))["rare"] == {"Shape": ["f", "s", "x"]}
    assert fit_recipe(recipe(rare={"Shape": 10}, one_hot=["Shape"]), rows(Shape=shapes[::2]))["rare"] == {
        "Shape": ["f", "x"]  # a count of rows does not follow the rows' number: s's 6 rows are too few
    }


def test_clip_keeps_numbers_within_the_fit_rows_quantiles_and_leaves_gaps_to_the_fills():
    spec = recipe(clip={"Premium": [0.1, 0.9]}, fill_median=["Premium"], log1p={"LogPremium": "Premium"},
                  numeric=["Premium", "LogPremium"])  # fmt: skip
    train = rows(Premium=[float(v) for v in range(1, 11)] + [np.nan, 500_000.0])  # an outlier, and a gap
    state = fit_recipe(spec, train)
    low, high = pd.Series(train["Premium"]).dropna().quantile([0.1, 0.9]).tolist()
    assert state["clip"] == {"Premium": [low, high]}
    assert state["medians"]["Premium"] == pd.Series(train["Premium"]).dropna().clip(low, high).median()
    got = features(spec, state, rows("test", Premium=[-50.0, 5.0, 1e9, np.nan]))
    assert got["Premium"] == pytest.approx([low, 5.0, high, state["medians"]["Premium"]])
    assert got["LogPremium"] == pytest.approx(np.log1p(got["Premium"]).tolist())  # later steps read the clipped
    assert json.loads(json.dumps(state)) == state


@pytest.mark.parametrize(
    "table, words",
    [
        ({"clip": {"x": [0.9, 0.1]}, "numeric": ["x"]}, "clip.x = [0.9, 0.1] must be two quantiles"),
        ({"clip": {"x": [0.0, 1.5]}, "numeric": ["x"]}, "0 <= lower < upper <= 1"),
        ({"clip": {"x": [0.1]}, "numeric": ["x"]}, "[lower, upper] quantiles"),
        ({"clip": {"x": [0.1, 0.9]}, "rare": {"x": 3}, "one_hot": ["x"]}, "clips x as numbers and pools its levels"),
    ],
)
def test_clip_takes_two_quantiles_in_order(table, words):
    with pytest.raises(SchemaError, match=re.escape(words)):
        recipe(**table)


def test_piecewise_cuts_a_number_at_the_fit_rows_quantiles_and_fills_each_bin_between_its_edges():
    spec = recipe(fill_median=["Age"], numeric=["Age"], piecewise={"Age": 2}, one_hot=["Port"])
    state = fit_recipe(spec, rows(Age=[0.0, 1.0, 2.0, 3.0, np.nan, 4.0], Port=list("SSCCQS")))
    assert state["piecewise"] == {"Age": [0.0, 2.0, 4.0]}  # the 0, 1/2 and 1 quantiles, the gap left out
    # the bins follow the numbers and come before the one-hot levels
    assert state["columns"] == ["Age", "Age_bin0", "Age_bin1", "Port_C", "Port_Q", "Port_S"]
    got = features(spec, state, rows("test", Age=[-5.0, 1.0, 3.0, 10.0, np.nan], Port=list("SSSSS")))
    assert got["Age_bin0"] == [0.0, 0.5, 1.0, 1.0, 1.0]  # a test row keeps the training edges: nothing refits
    assert got["Age_bin1"] == [0.0, 0.0, 0.5, 1.0, 0.0]  # the gap took the training median, 2, before the bins
    assert json.loads(json.dumps(state)) == state


def test_piecewise_drops_repeated_edges_so_a_column_of_mostly_zeros_gets_fewer_bins():
    spend = [0.0] * 7 + [10.0, 20.0, 40.0]
    spec = recipe(piecewise={"Spend": 4})
    state = fit_recipe(spec, rows(Spend=spend))
    edges = np.unique(np.quantile(spend, [0, 0.25, 0.5, 0.75, 1])).tolist()
    assert state["piecewise"]["Spend"] == edges == [0.0, 7.5, 40.0]
    assert state["columns"] == ["Spend_bin0", "Spend_bin1"]
    assert features(spec, state, rows("test", Spend=[0.0, 7.5, 23.75]))["Spend_bin1"] == [0.0, 0.0, 0.5]


def test_piecewise_bins_are_numbers_to_the_scale_and_a_gap_is_the_fills_to_fill():
    spec = recipe(piecewise={"x": 2}, one_hot=["c"], scale="standard_numbers")
    state = fit_recipe(spec, rows(x=[0.0, 1.0, 2.0, 3.0], c=list("abab")))
    assert state["shift"][:2] != [0.0, 0.0] and state["shift"][2:] == [0.0, 0.0]  # the bins centred, one-hot not
    with pytest.raises(KitError, match="feature x_bin0 has missing values .* add its column"):
        apply_recipe(spec, state, rows("test", x=[1.0, np.nan], c=list("ab")))
    with pytest.raises(KitError, match="column x has no values in the training rows to cut into bins"):
        fit_recipe(spec, rows(x=[np.nan, np.nan], c=list("ab")))


@pytest.mark.parametrize(
    "table, words",
    [
        ({"piecewise": {"x": 0}}, "piecewise.x"),
        (
            {"piecewise": {"x": 4}, "rare": {"x": 3}, "one_hot": ["x"]},
            "pools x's levels with rare and reads it as numbers",
        ),
    ],
)
def test_piecewise_takes_a_count_of_bins_of_a_number(table, words):
    with pytest.raises(SchemaError, match=re.escape(words)):
        recipe(**table)


def test_row_takes_each_rows_statistic_across_columns_skipping_gaps():
    spec = recipe(
        row={
            "Spread": {"stat": "std", "columns": ["a", "b", "c"]},
            "Mean": {"stat": "mean", "columns": ["a", "b", "c"]},
            "Top": {"stat": "max", "columns": ["a", "b", "c"]},
            "Low": {"stat": "min", "columns": ["a", "b", "c"]},
        },
        numeric=["Spread", "Mean", "Top", "Low"],
    )
    train = rows(a=[1.0, 2.0, np.nan], b=[3.0, 2.0, 4.0], c=[5.0, np.nan, np.nan])
    state = fit_recipe(spec, train)
    got = features(spec, state, train)
    assert got["Spread"][:2] == pytest.approx([np.std([1, 3, 5]), 0.0])  # the population's spread, as numpy's
    assert got["Mean"][:2] == [3.0, 2.0] and got["Top"][:2] == [5.0, 2.0] and got["Low"][:2] == [1.0, 2.0]
    assert got["Mean"][2] == 4.0 and got["Spread"][2] == 0.0  # one value of three: its own


def test_row_takes_a_list_of_statistics_as_one_column_each_named_in_numeric_by_the_entrys_name():
    listed = recipe(row={"R": {"stat": ["std", "mean", "max"], "columns": ["a", "b", "c"]}}, numeric=["x", "R"])
    one_each = recipe(
        row={f"R_{s}": {"stat": s, "columns": ["a", "b", "c"]} for s in ("std", "mean", "max")},
        numeric=["x", "R_std", "R_mean", "R_max"],
    )
    assert listed == one_each  # the same recipe, the 3 columns named once
    train = rows(x=[0.0, 1.0], a=[1.0, 2.0], b=[3.0, 2.0], c=[5.0, np.nan])
    got = features(listed, fit_recipe(listed, train), train)
    assert list(got) == ["x", "R_std", "R_mean", "R_max"] and got["R_max"] == [5.0, 2.0]
    with pytest.raises(SchemaError, match=re.escape('row.R.stat[1] must be one of "mean", "std", "min" or "max"')):
        recipe(row={"R": {"stat": ["std", "median"], "columns": ["a", "b"]}}, numeric=["R"])
    with pytest.raises(SchemaError, match='stat must be one of "mean", "std", "min" and "max", or a list of them'):
        recipe(row={"R": {"stat": "median", "columns": ["a", "b"]}}, numeric=["R"])


def test_product_multiplies_columns_and_numbers_after_the_sums_and_a_ratio_may_read_it():
    spec = recipe(
        sum={"S": ["a", 1]},
        product={"AB": ["a", "b"], "SS2": ["S", "S", 2]},
        ratio={"R": ["b", "AB"]},
        numeric=["AB", "SS2", "R"],
    )
    train = rows(a=[2.0, 3.0], b=[5.0, "4"])  # a number written as text is read as one
    got = features(spec, fit_recipe(spec, train), train)
    assert got["AB"] == [10.0, 12.0] and got["SS2"] == [18.0, 32.0] and got["R"] == pytest.approx([0.5, 4.0 / 12])
    gap = rows(a=[2.0, np.nan], b=[5.0, 4.0])
    with pytest.raises(KitError, match="feature AB has missing values"):  # a missing factor: a missing product
        features(spec, fit_recipe(spec, gap), gap)
    with pytest.raises(SchemaError, match="product.P"):
        recipe(product={"P": ["a"]}, numeric=["P"])  # one factor is no product


def test_an_equals_flag_may_be_multiplied_by_a_number_and_may_read_a_sum():
    # a category crossed with a number (income x renting): two trials' users wrote it and were refused
    spec = recipe(
        sum={"Family": ["a", 1]},
        equals={"Renting": {"column": "home", "value": "RENT"}, "Alone": {"column": "Family", "value": 3}},
        product={"RentIncome": ["Renting", "income"]},
        numeric=["RentIncome", "Alone"],
    )
    train = rows(a=[2.0, 3.0, 1.0], home=["RENT", "OWN", "RENT"], income=[10.0, 20.0, 30.0])
    got = features(spec, fit_recipe(spec, train), train)
    assert got["RentIncome"] == [10.0, 0.0, 30.0] and got["Alone"] == [1.0, 0.0, 0.0]


def test_row_needs_a_known_statistic_over_two_or_more_columns():
    with pytest.raises(SchemaError, match="stat"):
        recipe(row={"S": {"stat": "median", "columns": ["a", "b"]}}, numeric=["S"])
    with pytest.raises(SchemaError, match="columns"):
        recipe(row={"S": {"stat": "std", "columns": ["a"]}}, numeric=["S"])


def test_boolean_reads_true_false_in_any_spelling_and_the_mode_fills_the_gaps():
    spec = recipe(boolean=["VIP"], fill_mode=["VIP"], numeric=["VIP"])
    state = fit_recipe(spec, rows(VIP=[True, False, False, np.nan]))
    assert state["modes"] == {"VIP": 0.0}
    assert features(spec, state, rows("test", VIP=["True", "false", np.nan, 1]))["VIP"] == [1.0, 0.0, 0.0, 1.0]
    with pytest.raises(KitError, match="VIP holds 'maybe', which the recipe's boolean step reads as neither true"):
        apply_recipe(spec, state, rows("test", VIP=["maybe"]))


def test_fill_group_takes_the_groups_median_from_fit_rows_and_the_overall_one_for_a_new_group():
    spec = recipe(fill_group={"Age": {"by": "Title"}}, numeric=["Age"])
    train = rows(Title=["Mr", "Mr", "Mr", "Master", "Master"], Age=[30.0, 40.0, np.nan, 4.0, np.nan])
    state = fit_recipe(spec, train)
    assert state["fill_group"]["Age"] == {"groups": {"Master": 4.0, "Mr": 35.0}, "all": 30.0}
    test = rows("test", Title=["Master", "Mr", "Rev", "Mr"], Age=[np.nan, np.nan, np.nan, 70.0])
    assert features(spec, state, test)["Age"] == [4.0, 35.0, 30.0, 70.0]
    assert features(spec, state, train)["Age"] == [30.0, 40.0, 35.0, 4.0, 4.0]


def test_sum_equals_and_ratio_make_family_size_being_alone_and_fare_per_person():
    spec = recipe(
        sum={"FamilySize": ["SibSp", "Parch", 1]},
        equals={"IsAlone": {"column": "FamilySize", "value": 1}},
        ratio={"FarePerPerson": ["Fare", "FamilySize"]},
        numeric=["FamilySize", "IsAlone", "FarePerPerson"],
    )
    frame = rows(SibSp=[0, 1, 0], Parch=[0, 2, 1], Fare=[7.0, 40.0, 10.0])
    got = features(spec, fit_recipe(spec, frame), frame)
    assert got == {"FamilySize": [1.0, 4.0, 2.0], "IsAlone": [1.0, 0.0, 0.0], "FarePerPerson": [7.0, 10.0, 5.0]}


def test_equals_accepts_a_list_of_values():
    spec = recipe(
        equals={"WomanChild": {"column": "Title", "value": ["Mrs", "Miss", "Master"]}}, numeric=["WomanChild"]
    )
    frame = rows(Title=["Mr", "Mrs", "Master", np.nan])
    assert features(spec, fit_recipe(spec, frame), frame)["WomanChild"] == [0.0, 1.0, 1.0, 0.0]


def test_a_ratio_over_zero_is_a_clear_error_unless_its_third_entry_gives_those_rows_a_value():
    spec = recipe(ratio={"R": ["a", "b"]}, numeric=["R"])
    with pytest.raises(KitError, match="ratio R divides by b, which is 0") as told:
        fit_recipe(spec, rows(a=[1.0], b=[0.0]))
    assert 'as a third entry (R = ["a", "b", 0])' in str(told.value)
    # a trial's approval rate, approved over enrolled, where 3 % of the students enrolled in no unit
    spec = recipe(ratio={"R": ["a", "b", -1]}, numeric=["R"])
    frame = rows(a=[1.0, 3.0, 2.0], b=[0.0, 4.0, 1.0])
    assert features(spec, fit_recipe(spec, frame), frame)["R"] == [-1.0, 0.75, 2.0]


def test_count_is_the_group_size_among_fit_rows_with_the_row_itself_included():
    spec = recipe(count={"TicketSize": "Ticket"}, numeric=["TicketSize"])
    train = rows(Ticket=["A", "A", "B"])
    state = fit_recipe(spec, train)
    assert features(spec, state, train)["TicketSize"] == [2.0, 2.0, 1.0]
    # A new row joins its group; new rows never count each other (C, C), and a missing key is a group of one.
    test = rows("test", Ticket=["A", "C", "C", np.nan])
    assert features(spec, state, test)["TicketSize"] == [3.0, 1.0, 1.0, 1.0]


def test_target_mean_gives_fit_rows_the_rate_of_the_others_and_new_rows_the_rate_of_all():
    spec = recipe(target_mean={"Rate": {"by": "Ticket"}}, numeric=["Rate"])
    train = rows(Ticket=["A", "A", "A", "B", "C"], y=[1, 0, 1, 0, 0])
    state = fit_recipe(spec, train)
    assert features(spec, state, train)["Rate"] == pytest.approx([0.5, 1.0, 0.5, 0.4, 0.4])  # B, C alone: the prior
    test = rows("test", Ticket=["A", "B", "D"])  # no target column at all
    assert features(spec, state, test)["Rate"] == pytest.approx([2 / 3, 0.0, 0.4])


def test_target_mean_of_labels_other_than_true_and_false_counts_the_positive_label_it_names():
    train = rows(Ticket=["A", "A", "A", "B", "C"], y=["Y", "N", "Y", "N", "N"])
    flags = rows(Ticket=["A", "A", "A", "B", "C"], y=[1, 0, 1, 0, 0])
    named = recipe(target_mean={"Rate": {"by": "Ticket", "positive": "Y"}}, numeric=["Rate"])
    plain = recipe(target_mean={"Rate": {"by": "Ticket"}}, numeric=["Rate"])
    assert features(named, fit_recipe(named, train), train) == features(plain, fit_recipe(plain, flags), flags)
    with pytest.raises(
        KitError, match=r"y holds 'N' and 'Y'; name the label that counts in its table, such as positive"
    ):
        fit_recipe(plain, train)
    wrong = recipe(target_mean={"Rate": {"by": "Ticket", "positive": "yes"}}, numeric=["Rate"])
    with pytest.raises(KitError, match="positive = 'yes' is none of y's values"):
        fit_recipe(wrong, train)


def test_target_mean_prior_weight_pulls_small_groups_to_the_prior_and_centre_subtracts_it():
    spec = recipe(target_mean={"Rate": {"by": "Ticket", "prior_weight": 2, "centre": True}}, numeric=["Rate"])
    state = fit_recipe(spec, rows(Ticket=["A", "A", "B", "B"], y=[1, 1, 0, 1]))
    got = features(spec, state, rows("test", Ticket=["A", "Z"]))["Rate"]
    assert got == pytest.approx([(2 + 2 * 0.75) / (2 + 2) - 0.75, 0.0])


def test_a_fit_rows_target_mean_does_not_change_when_its_own_label_does():
    spec = recipe(target_mean={"Rate": {"by": "Ticket"}}, numeric=["Rate"])
    train = rows(Ticket=["A", "A", "A", "B", "B"], y=[1, 0, 1, 0, 1])
    flipped = train.assign(y=[0, 0, 1, 0, 1])
    assert features(spec, fit_recipe(spec, train), train)["Rate"][0] == 0.5
    assert features(spec, fit_recipe(spec, flipped), flipped)["Rate"][0] == 0.5


@pytest.fixture
def fold(frames):
    """The first stratified fold of the real training rows: (fit rows, validation rows)."""
    from sklearn.model_selection import StratifiedKFold

    train, _ = frames
    train_idx, valid_idx = next(StratifiedKFold(5, shuffle=True, random_state=0).split(train, train["Survived"]))
    return train.iloc[train_idx], train.iloc[valid_idx]


def test_validation_features_do_not_change_when_the_validation_labels_are_shuffled_or_gone(fold):
    fit_rows, valid = fold
    state = fit_recipe(PLUS, fit_rows)
    x = apply_recipe(PLUS, state, valid)
    shuffled = valid.assign(Survived=np.random.default_rng(0).permutation(valid["Survived"].to_numpy()))
    assert (shuffled["Survived"].to_numpy() != valid["Survived"].to_numpy()).any()
    assert torch.equal(apply_recipe(PLUS, state, shuffled), x)
    assert torch.equal(apply_recipe(PLUS, state, valid.assign(Survived=1 - valid["Survived"])), x)
    assert torch.equal(apply_recipe(PLUS, state, valid.drop(columns="Survived")), x)
    rates = [state["columns"].index(c) for c in ("TicketRate", "SurnameRate")]
    assert x[:, rates].abs().sum() > 0  # the check is not vacuous: validation rows do get group rates


def test_validation_rates_come_from_fit_rows_only(fold):
    fit_rows, valid = fold
    state = fit_recipe(PLUS, fit_rows)
    learned = state["target_mean"]["TicketRate"]
    assert set(learned["fit_rows"]) == set(fit_rows["PassengerId"])
    assert not set(learned["fit_rows"]) & set(valid["PassengerId"])


def test_apply_gives_each_row_the_same_features_whatever_else_is_in_the_frame(frames):
    train, test = frames
    state = fit_recipe(PLUS, train)
    x = apply_recipe(PLUS, state, test)
    assert torch.equal(apply_recipe(PLUS, state, test.iloc[::-1]), x.flip(0))
    assert torch.equal(apply_recipe(PLUS, state, test.iloc[:3]), x[:3])


def test_the_plus_recipe_gives_train_and_test_the_same_columns_and_round_trips_through_json(frames):
    train, test = frames
    state = fit_recipe(PLUS, train)
    again = json.loads(json.dumps(state))
    x_train, x_test = apply_recipe(PLUS, again, train), apply_recipe(PLUS, again, test)
    assert x_train.shape == (891, len(state["columns"])) and x_test.shape == (418, len(state["columns"]))
    assert torch.equal(x_test, apply_recipe(PLUS, state, test))
    assert not torch.isnan(x_train).any() and not torch.isnan(x_test).any()
    assert {"Title_Mr", "Title_Master", "Title_rare", "TicketRate", "SurnameRate", "FamilySize"} <= set(
        state["columns"]
    )


def test_group_steps_need_the_id_column():
    spec = recipe(count={"Size": "Ticket"}, numeric=["Size"])
    with pytest.raises(KitError, match="needs the id column id"):
        fit_recipe(spec, pd.DataFrame({"Ticket": ["A"]}))


def test_the_steps_run_in_the_documented_order():
    from kit.recipe import STEPS
    from kit.recipe_spec import STEP_ORDER

    names = [step.__name__.strip("_").removesuffix("_step") for step in STEPS]
    assert [n for n in names if n != "numbers"] == list(STEP_ORDER)


def test_standard_scaling_centres_and_divides_by_the_training_spread(titanic_dir):
    from dataclasses import replace

    from kit.competition import load_competition, read_train_test
    from kit.recipe import apply_recipe, fit_apply

    comp = load_competition("titanic")
    spec = replace(comp.recipe("article"), scale="standard")
    train, test = read_train_test(comp, titanic_dir, spec)
    state, x = fit_apply(spec, train)
    assert torch.allclose(x.mean(dim=0), torch.zeros(x.shape[1]), atol=1e-5)
    assert torch.allclose(x.std(dim=0, unbiased=False), torch.ones(x.shape[1]), atol=1e-4)
    x_test = apply_recipe(spec, state, test)  # test rows use the training mean and spread, not their own
    assert not torch.allclose(x_test.mean(dim=0), torch.zeros(x.shape[1]), atol=1e-3)
    assert torch.equal(apply_recipe(spec, state, train), x)


def test_standard_numbers_scales_the_numbers_as_standard_does_and_leaves_0_1_features_0_1(titanic_dir):
    from dataclasses import replace

    from kit.recipe import fit_apply

    comp = load_competition("titanic")
    plus = comp.recipe("plus")
    train, test = read_train_test(comp, titanic_dir, plus)
    standard, numbers_only = (replace(plus, scale=s) for s in ("standard", "standard_numbers"))
    _, x_standard = fit_apply(standard, train)
    state, x = fit_apply(numbers_only, train)
    k = len(plus.numeric)
    assert len(plus.one_hot) and x.shape[1] > k
    assert torch.equal(x[:, :k], x_standard[:, :k])  # the numbers: the same bytes as "standard"
    assert set(x[:, k:].unique().tolist()) == {0.0, 1.0}  # the one-hot features: 0 and 1, as made
    assert not set(x_standard[:, k:].unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(apply_recipe(numbers_only, state, train), x)
    assert set(apply_recipe(numbers_only, state, test)[:, k:].unique().tolist()) <= {0.0, 1.0}


@pytest.mark.parametrize("rows", [5, 64, 1000])
@pytest.mark.parametrize("shape", [(1, 3), (999, 1), (1000, 2), (4097, 57), (20000, 3)])
def test_column_mean_std_by_blocks_gives_numpys_bytes(monkeypatch, rows, shape):
    import kit.recipe

    monkeypatch.setattr(kit.recipe, "STD_ROWS", rows)
    gen = np.random.default_rng(shape[0])
    # large offsets and spreads: a sum in any other order changes the last bits
    matrix = gen.standard_normal(shape) * gen.uniform(0.01, 1e4, shape[1]) + gen.uniform(-1e5, 1e5, shape[1])
    matrix = matrix.astype("float32")
    mean, std = kit.recipe.column_mean_std(matrix)
    assert mean.tobytes() == matrix.mean(axis=0, dtype="float64").tobytes()
    assert std.tobytes() == matrix.std(axis=0, dtype="float64").tobytes()


def test_same_encoding_writes_json_only_to_confirm_a_pair_python_finds_equal(monkeypatch):
    import kit.recipe
    from kit.recipe import same_encoding

    written = []
    real = kit.recipe._json
    monkeypatch.setattr(kit.recipe, "_json", lambda value: written.append(1) or real(value))
    big = {"levels": {"a": ["x", "y"]}, "count": {"n": {str(i): i for i in range(1000)}}, "scale": [1.0]}
    assert same_encoding(big, big, set()) and written == []  # a fold's own state, however large
    other = big | {"count": {"n": {str(i): i + 1 for i in range(1000)}}}
    assert not same_encoding(big, other, set()) and written == []  # another fold's counts: unequal at once
    assert same_encoding(big, big | {"scale": [2.0]}, set()) and len(written) == 2  # equal but for the scale
    assert not same_encoding({"levels": 0.0}, {"levels": -0.0}, set())  # equal to Python, other bytes


def test_what_a_state_holds_per_training_row_is_counted_for_records_and_the_state_is_left_whole():
    from kit.groups import without_per_row

    state = {
        "fit_ids": ["a", "b", "c"],
        "target_mean": {"r": {"prior": 0.5, "groups": {"k": 1.0}, "fit_rows": {"a": 1}}},
    }
    slim = without_per_row(state)
    assert slim == {"fit_ids_kept": 3, "target_mean": {"r": {"prior": 0.5, "groups": {"k": 1.0}, "fit_rows_kept": 1}}}
    assert state["fit_ids"] == ["a", "b", "c"] and "fit_rows" in state["target_mean"]["r"]  # not changed
    assert without_per_row(slim) == slim  # a kept CV's state, saved again


@pytest.mark.filterwarnings("error::pandas.errors.PerformanceWarning")
def test_a_recipe_adds_columns_to_a_wide_file_without_a_warning_per_column(tmp_path):
    # pandas reads a CSV as a block per column and warns at every column added past 100 blocks: 784 pixels' log1p
    # printed thousands of lines
    path = tmp_path / "wide.csv"
    pd.DataFrame({f"p{i}": [0, i, 2 * i] for i in range(150)}).to_csv(path, index=False)
    frame = pd.read_csv(path, low_memory=False)
    spec = parse_recipe(
        "t", {"log1p": {f"L{i}": f"p{i}" for i in range(150)}, "numeric": [f"L{i}" for i in range(150)]}
    )
    state = fit_recipe(spec, frame)
    assert apply_recipe(spec, state, frame).shape == (3, 150)


def test_unseen_levels_counts_the_rows_of_levels_the_fit_never_saw_and_skips_columns_a_step_pools_or_makes():
    from kit.recipe import unseen_levels

    spec = RecipeSpec(name="u", one_hot=("shade", "size"), rare={"size": 2})
    train = pd.DataFrame({"shade": ["a", "b", "a", "b"], "size": ["s", "m", "s", "m"]})
    test = pd.DataFrame({"shade": ["a", "c", "d", "c", None], "size": ["xl", "s", "m", "s", "m"]})
    state = fit_recipe(spec, train)
    # c in 2 rows, then d; a gap is no level; size's unseen xl becomes "rare", a level the fit learned
    assert unseen_levels(spec, state, test) == {"shade": (3, ["c", "d"])}
    assert unseen_levels(spec, state, train) == {}
    # a clipped column's unseen values are kept within seen bounds: no row of it is all 0 (a trial's bees' 18.43)
    bees = parse_recipe("b", {"clip": {"bees": [0.0, 1.0]}, "numeric": ["bees"], "one_hot": ["bees"]})
    seen = pd.DataFrame({"bees": [0.25, 0.5, 0.75]})
    assert unseen_levels(bees, fit_recipe(bees, seen), pd.DataFrame({"bees": [18.43, 0.5]})) == {}


def test_a_submission_says_how_many_test_rows_hold_a_level_training_never_saw(tmp_path, monkeypatch, capsys):
    from conftest import definition
    from test_playground_metrics import write_playground

    from kit.cli import main

    write_playground(tmp_path / "data", "edible", n=200)
    path = tmp_path / "data" / "test.csv"
    lines = path.read_text().splitlines()
    lines[1:4] = [line.rsplit(",", 1)[0] + ",z" for line in lines[1:4]]  # shade z: in no training row
    path.write_text("\n".join(lines) + "\n")
    text = definition("play", "binary", "accuracy", '[recipes.base]\nnumeric = ["x1", "x2"]\none_hot = ["shade"]\n')
    (tmp_path / "competitions").mkdir()
    (tmp_path / "competitions" / "play.toml").write_text(text.replace('target = "y"', 'target = "edible"').replace(
        '["id", "y"]', '["id", "edible"]'))  # fmt: skip
    monkeypatch.chdir(tmp_path)
    args = ["submission", "-c", "play", "--data-dir", "data", "--models", "linear", "--folds", "2", "--epochs", "2"]
    assert main([*args, "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "test rows hold levels training never saw, whose one-hot features are all 0 (shade z: 3 rows); " \
        "rare = { shade = 10 } in the recipe pools them" in err  # fmt: skip
    # where the recipe has a rare table, the column is added to it: a second `rare =` line is no TOML
    pooled = 'numeric = ["x1"]\none_hot = ["shade", "x2"]\nrare = { x2 = 5 }\n'  # x2's levels pooled, shade's not
    path = tmp_path / "competitions" / "play.toml"
    path.write_text(path.read_text().replace('numeric = ["x1", "x2"]\none_hot = ["shade"]\n', pooled))
    assert main([*args, "--quiet"]) == 0
    assert "add shade = 10 to the recipe's rare table pools them" in capsys.readouterr().err


def test_standard_numbers_leaves_a_numeric_column_of_0_and_1_as_it_is():
    """A trial's forest cover file gave its 40 soil types as 0/1 columns: drafted as numbers, standardised, a rare one
    read 16.8 where it was held."""
    flag = [1.0] + [0.0] * 99  # held by 1 % of the rows
    x = [float(v) for v in range(100)]
    spec = recipe(numeric=["x", "flag", "half"], scale="standard_numbers")
    state = fit_recipe(spec, rows(x=x, flag=flag, half=[0.5] + [1.0] * 99))
    assert state["shift"][1] == 0.0 and state["scale"][1] == 1.0  # flag: 0/1 as given
    assert state["shift"][0] != 0.0 and state["shift"][2] != 0.0  # x and half (0.5 and 1): standardised
    out = features(spec, state, rows("test", x=[5.0], flag=[1.0], half=[1.0]))
    assert out["flag"] == [1.0]
    standard = recipe(numeric=["x", "flag", "half"], scale="standard")  # every column, as asked
    assert fit_recipe(standard, rows(x=x, flag=flag, half=[0.5] + [1.0] * 99))["scale"][1] != 1.0
