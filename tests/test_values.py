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
from kit.values import _ZONE, _may_end_in_zone, as_dates, as_flags, distinct, map_distinct, texts

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


DATE_PARTS = st.tuples(
    st.sampled_from(["2019-03-14", "20190314", "2019-03", ""]),
    st.sampled_from(["", "T", " "]),
    st.sampled_from(["", "10:30", "10:30:00", "10:30:00.5", "1030"]),
    st.sampled_from(["", " ", "\t"]),
    st.sampled_from(["", "Z", "UTC", "+02", "-05", "+0200", "-05:00", "+2", "Z ", "-05:00:00", "GMT"]),
)


@settings(max_examples=300, deadline=None)
@given(DATE_PARTS)
def test_the_zone_pattern_is_skipped_only_where_it_cannot_match(parts):
    # as_dates tries the zone's pattern only where _may_end_in_zone says one may end the text (for speed):
    # it must never skip a text the pattern would have changed
    text = "".join(parts).strip()
    if _ZONE.search(text):
        assert _may_end_in_zone(text), text


def test_dates_with_and_without_zones_read_as_the_time_written():
    column = pd.Series(["2019-03-14 10:30:00.25Z", "2019-03-14T10:30-0500", "2019-03-14 10:30", "2019-03-14", None])
    codes, when = as_dates(column, "JoinDate")
    got = [None if code < 0 else str(when[code]) for code in codes]
    assert got == [
        "2019-03-14 10:30:00.250000",
        "2019-03-14 10:30:00",
        "2019-03-14 10:30:00",
        "2019-03-14 00:00:00",
        None,
    ]
