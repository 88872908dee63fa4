"""How the recipe reads raw cells: as numbers, as True/False flags, as text labels.

One place for these so that every step reads a cell the same way and fails with the same sentence.
"""

from __future__ import annotations

import pandas as pd

from kit import KitError
from kit.competition import label

TRUE, FALSE = {"true", "1", "yes"}, {"false", "0", "no"}


def as_number(series: pd.Series, col: str) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series
    numbers = pd.to_numeric(series, errors="coerce")
    bad = series[numbers.isna() & series.notna()]
    if len(bad):
        raise KitError(f"column {col} holds {bad.iloc[0]!r}, which is not a number; fix the file.")
    return numbers


def as_flags(series: pd.Series, col: str) -> pd.Series:
    """True/False (or 1/0, yes/no, in any case) as 1.0/0.0; missing stays NaN."""

    def flag(v):
        text = label(v).lower()
        if text in TRUE or text in FALSE:
            return 1.0 if text in TRUE else 0.0
        raise KitError(f"column {col} holds {v!r}, which is not True or False; fix the file.")

    return series.astype(object).map(flag, na_action="ignore").astype("float64")


def texts(series: pd.Series) -> list:
    """Each value as a submission would write it (1.0 -> "1", True -> "True"), None where missing."""
    return [None if pd.isna(v) else label(v) for v in series]


def plain(value):
    """numpy scalars to plain Python, so the state is JSON."""
    return value.item() if hasattr(value, "item") else value
