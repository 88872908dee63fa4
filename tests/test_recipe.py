"""The recipe learns from training rows only and always gives the training columns."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from kit import KitError
from kit.competition import RecipeSpec, load_competition, read_train_test
from kit.recipe import apply_recipe, fit_recipe

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
    with pytest.raises(KitError, match="add its column to fill_mode"):
        apply_recipe(spec, state, pd.DataFrame({"a": [np.nan]}))


def test_negative_and_all_zero_columns_scale_safely():
    spec = RecipeSpec(name="s", numeric=("neg", "zero"))
    state = fit_recipe(spec, pd.DataFrame({"neg": [-4.0, 2.0], "zero": [0.0, 0.0]}))
    assert state["scale"] == [4.0, 1.0]
