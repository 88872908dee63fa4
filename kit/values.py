"""How the recipe reads raw cells: as numbers, as True/False flags, as text labels, as dates.

One place for these so that every step reads a cell the same way and fails with the same sentence.
They work on a column's distinct values, never cell by cell: `distinct` numbers each row by its value
(pandas' factorize, in C), Python looks at each distinct value once, and numpy gathers the answers
back to the rows. A 300,000-row column of ten levels costs ten Python calls, not 300,000.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd

from kit import KitError
from kit.schema import toml_key

TRUE, FALSE = {"true", "1", "yes"}, {"false", "0", "no"}
# Object columns whose values factorize safely: no two values of different types compare equal there.
# Elsewhere (a column mixing 1 and True, or 1 and 1.0) each value is told apart by its type too.
_ONE_KIND = {"string", "boolean", "integer", "floating", "empty", "bytes"}
# A time zone after a time of day ("10:30Z", "10:30:00+02:00"): dropped, so a date's parts are read as written
# (the local time) and a column whose rows are in different zones still parses as one.
_ZONE = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|UTC|[+-]\d{2}(?::?\d{2})?)$")


def _may_end_in_zone(text: str) -> bool:
    """Whether _ZONE may match: a time's colon, and Z, UTC or a zone's sign (+hh, +hhmm, +hh:mm) at the end."""
    return ":" in text and (text[-1] in "ZC" or "+" in text[-6:] or "-" in text[-6:])


def label(value) -> str:
    """A value as a submission would write it: 1.0 -> "1", True -> "True" (as kit.competition.label)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# A number written with a thousands separator (and perhaps a decimal comma), or with a decimal comma alone.
_GROUPED = re.compile(r"[-+]?\d{1,3}(?:([,. '\u00a0\u202f])\d{3})+(?:([.,])\d+)?")
_DECIMAL_COMMA = re.compile(r"[-+]?\d*,\d+")


def _written_form(text: str) -> str | None:
    """The `number` step's table that reads `text` ("1,234", "1 234,5", "0,5") as a number, or None."""
    if m := _GROUPED.fullmatch(text):
        thousands, decimal = m.group(1), m.group(2)
        if decimal is None or decimal != thousands:
            decimal = f', decimal = "{decimal}"' if decimal == "," else ""
            return f"{{ thousands = {json.dumps(thousands)}{decimal} }}"
    if _DECIMAL_COMMA.fullmatch(text):
        return '{ decimal = "," }'
    return None


def _plain_number(value, thousands: str | None, decimal: str | None, gaps: set):
    """A cell as pandas reads numbers: separators taken out, a gap's token as None; not text, as it is."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text in gaps:
        return None
    if thousands:
        text = text.replace(thousands, "")
    return text.replace(decimal, ".") if decimal else text


def as_number(
    series: pd.Series,
    col: str,
    ids: pd.Series | None = None,
    thousands: str | None = None,
    decimal: str | None = None,
    missing: tuple = (),
) -> pd.Series:
    """The column as numbers; a cell that is not one stops the run naming it (and its row's id, given `ids`).

    A text column may write its numbers with a thousands separator ("1,234") or a decimal one ("1,5"), and
    name texts that mean a gap (`missing`, "?"): each distinct text is read once."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series
    texts = series
    if thousands or decimal or missing:
        gaps = set(missing)
        texts = map_distinct(series, lambda v: _plain_number(v, thousands, decimal, gaps))
    numbers = pd.to_numeric(texts, errors="coerce")
    bad = series[numbers.isna() & texts.notna()]
    if len(bad):
        where = f", at {ids.name} {ids.loc[bad.index[0]]}" if ids is not None else ""
        value = bad.iloc[0]
        form = _written_form(value.strip()) if isinstance(value, str) else None
        key = toml_key(col)  # as TOML writes the key
        how = f"read it with the recipe's number step: number = {{ {key} = {form} }}"
        if form is None:  # a token: perhaps a gap's marker
            how = (
                f"if it marks a gap, read it as one: number = {{ {key} = {{ missing = [{json.dumps(str(value))}] }} }}"
            )
        levels = bad.drop_duplicates()
        if len(levels) >= 2 and 2 * len(bad) > texts.notna().sum():  # mostly texts of several kinds: a scale's levels
            shown = ", ".join(repr(v) for v in levels.iloc[:3]) + (", ..." if len(levels) > 3 else "")
            example = ", ".join(f"{toml_key(str(v))} = {i}" for i, v in enumerate(levels.iloc[:2], start=1))
            raise KitError(
                f"column {col} holds text levels ({shown}), not numbers{where}; list it in one_hot, or give each "
                f"level a number in its order first: replace = {{ {key} = {{ {example} }} }}."
            )
        raise KitError(f"column {col} holds {value!r}, which is not a number{where}; fix the file, or {how}.")
    return numbers


def distinct(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, first): row i holds the value first seen at row first[codes[i]]; codes[i] is -1 where it is missing.

    codes: (n,) int64; first: (n_distinct,) int64 row positions, in order of first appearance.
    """
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) not in _ONE_KIND:
        # 1 == True == 1.0 in Python, so factorize would merge values whose labels differ.
        missing = series.isna().to_numpy()
        keys = np.empty(len(series), dtype=object)
        keys[:] = [(type(v), v) for v in series.to_numpy()]  # only for columns of mixed types
        keys[missing] = None
        codes, _ = pd.factorize(keys)
    elif isinstance(series.dtype, pd.StringDtype):
        # The same codes from the plain array of str (and missing markers): hashed as strings, twice as fast
        codes, _ = pd.factorize(series.to_numpy())
    else:
        codes, _ = pd.factorize(series)
    codes = np.asarray(codes, dtype=np.int64)
    # factorize numbers values in order of first appearance, so a new value's row is where the running
    # largest code goes up (by one): no sort of the codes needed to find it
    return codes, np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)


def map_distinct(series: pd.Series, fn) -> pd.Series:
    """`series.astype(object).map(fn, na_action="ignore")`, with fn called once per distinct value.

    The map runs on one row per distinct value and one per kind of missing marker (None, NaN, ...),
    so pandas infers the dtype it would infer for the whole column; the rows then take their answers.
    """
    codes, first = distinct(series)
    missing = np.flatnonzero(codes < 0)
    kinds = np.zeros(0, dtype=np.int64)
    if len(missing):  # None and NaN are kept as they are, and which of them are present sways the dtype
        kinds, _ = pd.factorize(series.iloc[missing].astype(object).map(type).to_numpy())
        _, at = np.unique(kinds, return_index=True)
        first = np.concatenate([first, missing[at]])
    small = series.iloc[first].astype(object).map(fn, na_action="ignore")
    take = codes.copy()
    take[missing] = len(first) - (kinds.max() + 1 if len(missing) else 0) + kinds  # a missing row: its kind's row
    return small.iloc[take].set_axis(series.index)


def text_codes(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, names): row i reads names[codes[i]] as text (see `label`), -1 where it is missing.

    names: distinct texts in order of first appearance; values with the same text share a code.
    """
    codes, first = distinct(series)
    values = series.iloc[first].tolist()  # Python scalars, as iterating the column gives them
    if pd.api.types.infer_dtype(values, skipna=False) == "string":  # texts are their own labels, already distinct
        return codes, np.array(values, dtype=object)
    names = np.array([label(v) for v in values], dtype=object)
    merged, unique = pd.factorize(names) if len(names) else (np.zeros(0, np.int64), names)
    codes = np.where(codes >= 0, np.append(merged, -1)[codes], -1)
    return codes, np.asarray(unique, dtype=object)


def texts(series: pd.Series) -> np.ndarray:
    """Each value as a submission would write it (1.0 -> "1", True -> "True"), None where missing: (n,) object."""
    codes, names = text_codes(series)
    return np.append(names, None)[codes]  # code -1 picks the None at the end


def as_flags(series: pd.Series, col: str) -> pd.Series:
    """True/False (or 1/0, yes/no, in any case) as 1.0/0.0; missing stays NaN."""
    codes, names = text_codes(series)
    flags = np.empty(len(names) + 1)  # (n_distinct + 1,): the last is for missing cells
    for i, text in enumerate(names):
        if text.lower() not in TRUE | FALSE:
            value = series.iloc[int(np.flatnonzero(codes == i)[0])]
            raise KitError(  # a trial's "fix the file" named neither the step nor what it reads
                f"column {col} holds {value!r}, which the recipe's boolean step reads as neither true nor false (it "
                f"reads True/False, yes/no and 1/0); list {col} in one_hot instead, or map its values to 1 and 0 with "
                "replace."
            )
        flags[i] = 1.0 if text.lower() in TRUE else 0.0
    flags[-1] = np.nan
    return pd.Series(flags[codes], index=series.index)


def row_hashes(frame: pd.DataFrame, columns: list) -> np.ndarray:
    """(n,) uint64: each row's 64-bit hash of `columns`, gaps equal to gaps; two rows of other values share one with
    chance 2**-64 a pair. Grouping by 286 columns took 15x as long on a trial's 40,000 spectra (0.61 s against 0.04)."""
    return pd.util.hash_pandas_object(frame[list(columns)], index=False).to_numpy()


def plain(value):
    """numpy scalars to plain Python, so the state is JSON."""
    return value.item() if hasattr(value, "item") else value


def as_dates(
    series: pd.Series, col: str, ids: pd.Series | None = None, fmt: str | None = None
) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """(codes, dates): row i holds dates[codes[i]]; each distinct text is read once, as `text_codes` numbers them.

    Without `fmt`, an ISO 8601 date or date and time: 2019-03-14, 20190314, 2019-03-14 10:30,
    2019-03-14T10:30:00.5Z (a time zone is dropped: the time as written); a year alone or a year and month are
    the first day of it. With `fmt` (strftime's codes, "%d/%m/%Y"), exactly that form. Any other text stops the
    run with one sentence naming the column, the value (and its row's id, given `ids`) and the form kit reads.

    dates: (n_distinct + 1,), NaT for an empty text and, last, for missing cells (code -1).
    """
    codes, names = text_codes(series)
    if fmt is None:
        # the zone's pattern only where one may end the text: tried at every place of 300,000 timestamps it took
        # 0.9 s, and a recipe reads a date column once for each fold's rows and again for the test rows
        texts = [_ZONE.sub(r"\1", t) if _may_end_in_zone(t) else t for t in (t.strip() for t in names)]
        # utc=True: a zone _ZONE does not know ("2019-03-14T10Z") is read in UTC rather than failing the column
        parsed = pd.to_datetime(pd.Series([*texts, ""], dtype=object), format="ISO8601", errors="coerce", utc=True)
        when = pd.DatetimeIndex(parsed).tz_localize(None)
    else:
        texts = [t.strip() for t in names]
        when = pd.DatetimeIndex(pd.to_datetime(pd.Series([*texts, ""], dtype=object), format=fmt, errors="coerce"))
        if when.tz is not None:  # a %z in the format: the time as written, as for ISO dates
            when = when.tz_localize(None)
    bad = np.flatnonzero(when.isna()[:-1] & np.array([t != "" for t in texts], dtype=bool))
    if len(bad):
        row = int(np.flatnonzero(codes == bad[0])[0])  # the first row that holds it
        where = f", at {ids.name} {ids.iloc[row]}" if ids is not None else ""
        if fmt is not None:
            raise KitError(
                f"column {col} holds {series.iloc[row]!r}, which is not a date in the form {fmt}{where}; "
                "correct the date's format in the recipe (strftime's codes: %d/%m/%Y is 27/11/2026)."
            )
        raise KitError(
            f"column {col} holds {series.iloc[row]!r}, which is not a date kit reads{where}; "
            "give the recipe its form, date = { "
            + f'{col} = {{ parts = [...], format = "%d/%m/%Y" }} }} (strftime\'s codes), or write it as ISO 8601, '
            "YYYY-MM-DD (a time may follow: 2019-03-14 10:30)."
        )
    return codes, when
