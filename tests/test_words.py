"""The recipe's `words` step: a 0/1 feature per word among a text column's most common in the fit rows, and
`kit new` drafting free text that way."""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from conftest import kit, write_tables

from kit import KitError
from kit.recipe import apply_recipe, fit_apply, fit_recipe
from kit.recipe_spec import parse_recipe
from kit.schema import SchemaError

TRAIN = pd.DataFrame(
    {
        "size": [1.0, 2.0, 3.0, 4.0, 5.0],
        # document frequency: sea 2, view 2 (one row says it twice), garden 2, pool 1, x 1
        "d": ["Sea view!", "sea garden", None, "view, VIEW garden x", "pool"],
    }
)


def spec_of(n: int = 4, **more):
    return parse_recipe("r", {"numeric": ["size"], "words": {"d": n}, "scale": "none", **more})


def test_the_vocabulary_is_the_words_in_most_fit_rows_ties_alphabetical_and_each_is_a_0_1_feature():
    state, x = fit_apply(spec_of(4), TRAIN)
    # garden, sea and view are each in 2 rows (view's twice in one row counts once), pool and x in 1: pool first
    assert state["words"] == {"d": ["garden", "sea", "view", "pool"]}
    assert state["columns"] == ["size", "d_garden", "d_sea", "d_view", "d_pool"]
    expected = [
        [1, 0, 1, 1, 0],  # "Sea view!": lower-cased, the punctuation no part of a word
        [2, 1, 1, 0, 0],
        [3, 0, 0, 0, 0],  # a missing text holds no word
        [4, 1, 0, 1, 0],
        [5, 0, 0, 0, 1],
    ]
    assert x.tolist() == expected


def test_test_rows_get_the_training_vocabulary_whatever_words_they_hold():
    spec = spec_of(2)
    state = fit_recipe(spec, TRAIN)
    # pool would be the most common word of these rows; fit never sees them, so the vocabulary stays garden, sea
    test = pd.DataFrame({"size": [1.0, 1.0, 1.0, 1.0], "d": ["pool pool", "pool garden", np.nan, "Garden-sea"]})
    x = apply_recipe(spec, state, test)
    assert state["columns"] == ["size", "d_garden", "d_sea"]
    assert x[:, 1:].tolist() == [[0, 0], [1, 0], [0, 0], [1, 1]]


def test_the_state_round_trips_through_json_and_applies_the_same():
    spec = spec_of(3)
    state, x = fit_apply(spec, TRAIN)
    again = json.loads(json.dumps(state))
    assert again == state
    assert apply_recipe(spec, again, TRAIN).tolist() == x.tolist()


def test_a_text_column_of_fewer_words_than_asked_gives_all_it_has():
    state, _ = fit_apply(spec_of(100), TRAIN)
    assert state["words"]["d"] == ["garden", "sea", "view", "pool", "x"]


@pytest.mark.parametrize(
    "words, says",
    [({"d": 0}, "words.d"), ({"d": -3}, "words.d"), (["d"], "words"), ({"d": "30"}, "words.d")],
    ids=["zero", "negative", "a list", "text"],
)
def test_the_schema_refuses_a_count_that_is_not_a_whole_number_of_1_or_more(words, says):
    with pytest.raises(SchemaError, match=says):
        parse_recipe("r", {"numeric": ["size"], "words": words})


def test_a_step_reading_a_column_before_a_later_step_makes_it_is_refused_with_words_in_the_recipe():
    # words reads T, which extract makes first: fine; fill_mode reading the count made later is not
    made = parse_recipe("r", {"extract": {"T": {"from": "d", "pattern": "(\\w+)"}}, "words": {"T": 5}})
    assert made.input_columns() == ["d"]
    with pytest.raises(SchemaError, match="fill_mode reads n before a later step makes it"):
        parse_recipe("r", {"fill_mode": ["n"], "count": {"n": "d"}, "words": {"d": 5}})


def test_a_word_column_named_like_another_feature_is_refused_in_one_sentence():
    frame = TRAIN.assign(d_sea=1.0)
    with pytest.raises(KitError, match="makes the feature d_sea twice"):
        fit_apply(spec_of(4, numeric=["size", "d_sea"]), frame)


def test_words_alone_are_features_enough():
    state, x = fit_apply(parse_recipe("r", {"words": {"d": 2}, "scale": "none"}), TRAIN)
    assert state["columns"] == ["d_garden", "d_sea"] and x.shape == (5, 2)


def test_a_recipe_without_words_keeps_its_fingerprint_and_one_with_words_gets_another():
    from kit.competition import load_competition
    from kit.report import recipe_hash

    spec = load_competition("titanic").recipes["article"]
    assert recipe_hash(spec) == "97b3d6b53e"  # as runs were logged before words
    assert recipe_hash(replace(spec, words={"Name": 30})) != "97b3d6b53e"


def listings(folder):
    """A regression set: price rises with the words of a description; ref is a code of one token a row."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    vocabulary = ["sea", "view", "garden", "quiet", "studio", "loft", "near", "metro", "pool", "bright"]
    header = ["id", "description", "ref", "area", "price"]
    rows = []
    for i in range(240):
        said = list(rng.choice(vocabulary, size=3 + i % 3, replace=False))
        price = 50 + 40 * ("sea" in said) + 25 * ("garden" in said) + rng.normal(0, 5)
        rows.append([i, " ".join(said) + f" {i}", f"R{i:05d}-X", 30 + i % 50, f"{price:.2f}"])
    write_tables(
        folder,
        {
            "train.csv": [header, *rows[:200]],
            "test.csv": [header[:-1], *(r[:-1] for r in rows[200:])],
            "sample_submission.csv": [["id", "price"], *([r[0], 0] for r in rows[200:])],
        },
    )
    return folder


def test_kit_new_drafts_free_text_as_words_and_leaves_a_code_out_and_the_draft_runs(tmp_path, monkeypatch, capsys):
    folder = listings(tmp_path / "data")
    kit(tmp_path, monkeypatch, capsys, "new", "homes", "--data-dir", str(folder))
    text = (tmp_path / "competitions" / "homes.toml").read_text()
    recipe = tomllib.loads(text)["recipes"]["base"]
    assert recipe["words"] == {"description": 30}  # sentence-like: a median of 4 words a row
    assert "ref (200 distinct texts)" in text  # one token a row (R00001-X): a code, left out
    assert "description (" not in text.split("[recipes.base]")[0]  # not told as left out
    fast = ["-c", "homes", "--data-dir", str(folder), "--models", "linear", "--folds", "2", "--epochs", "5"]
    shown = kit(tmp_path, monkeypatch, capsys, "recipe", "show", "-c", "homes", "--data-dir", str(folder))
    assert "description_sea" in shown and "description_garden" in shown
    out = kit(tmp_path, monkeypatch, capsys, "cv", *fast, "--quiet")
    assert "rmse" in out
