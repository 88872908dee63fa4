"""The recipe's cell readers work per distinct value and agree with reading every cell one by one."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kit import KitError
from kit.competition import label
from kit.values import as_flags, distinct, map_distinct, texts

CELLS = st.one_of(
    st.none(),
    st.just(math.nan),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.0, -0.0, 1.0, 1.5, 2.0, 1e20, math.inf]),
    st.sampled_from(["a", "b", "1", "True", "a|b", ""]),
)


def _columns(cells: list) -> list[pd.Series]:
    """The cells as pandas would hold them: as given (object), and as inferred from a list."""
    return [pd.Series(cells, dtype=object), pd.Series(cells)]


@settings(max_examples=200, deadline=None)
@given(st.lists(CELLS, max_size=12))
def test_texts_equal_the_label_of_every_cell_even_when_1_true_and_1_0_share_a_column(cells):
    for column in _columns(cells):
        assert texts(column).tolist() == [None if pd.isna(v) else label(v) for v in column]


@settings(max_examples=200, deadline=None)
@given(st.lists(CELLS, max_size=12))
def test_distinct_numbers_values_in_order_of_first_appearance_and_names_each_ones_first_row(cells):
    strings = [v if isinstance(v, str) or v is None else label(v) for v in cells]
    for column in [*_columns(cells), pd.Series(strings, dtype="str")]:
        codes, first = distinct(column)
        assert sorted(set(codes[codes >= 0].tolist())) == list(range(len(first)))
        assert first.tolist() == [int(np.flatnonzero(codes == k)[0]) for k in range(len(first))]
        assert first.tolist() == sorted(first.tolist())  # code 0 appears first, then 1, ...
        assert (codes < 0).tolist() == column.isna().tolist()
        values = column.tolist()
        for i in np.flatnonzero(codes >= 0):
            assert label(values[first[codes[i]]]) == label(values[i])  # a row's code names its value


@settings(max_examples=200, deadline=None)
@given(st.lists(CELLS, max_size=12))
def test_map_distinct_gives_the_values_and_dtype_of_mapping_every_cell(cells):
    def rename(v):
        return {"1": "one", "True": 7, "a": 2.5}.get(label(v), v)

    for column in _columns(cells):
        expected = column.astype(object).map(rename, na_action="ignore")
        got = map_distinct(column, rename)
        assert got.dtype == expected.dtype
        pd.testing.assert_series_equal(got, expected)


def test_flags_read_true_false_once_per_distinct_value_and_name_the_first_bad_cell():
    column = pd.Series(["yes", None, "FALSE", True, 0, "maybe", "nope"], dtype=object)
    with pytest.raises(KitError, match="holds 'maybe'"):
        as_flags(column, "X")
    flags = as_flags(column.iloc[:5], "X")
    assert flags.tolist()[:1] + flags.tolist()[2:] == [1.0, 0.0, 1.0, 0.0] and np.isnan(flags.iloc[1])
