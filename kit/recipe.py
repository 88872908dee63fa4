"""The deterministic feature recipe, as fit/apply.

`fit_recipe` learns everything from training rows only (fill values, category levels, group sizes
and rates, scaling constants) and returns it as plain data that round-trips through JSON.
`apply_recipe` never refits: it turns any frame (train, a validation fold, test) into a float32
tensor with exactly the training columns, in the training order, whatever it holds.

The steps run in the order of `STEPS` (kit.recipe_spec.STEP_ORDER, where the vocabulary is
documented), each on the frame the earlier ones left. A step is one function `(spec, state, frame, fitting)`: while fitting it first
learns its part of the state from that frame; then, fitting or not, it applies only the state.
The group steps live in kit.groups.
"""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pandas as pd
import torch

from kit import KitError
from kit.groups import count_step, fill_group_step, target_mean_step
from kit.recipe_spec import RecipeSpec, date_form
from kit.schema import toml_key
from kit.values import as_dates, as_flags, as_number, label, map_distinct, plain, text_codes

RARE = "rare"  # the level that `rare` gives to levels too rare (or new) to learn from
_EPOCH = pd.Timestamp("1970-01-01")
_PANDAS_PART = {"dayofweek": "day_of_week", "dayofyear": "day_of_year"}  # the date parts pandas spells otherwise


def fit_recipe(spec: RecipeSpec, train: pd.DataFrame) -> dict:
    """Learn the recipe's state from training rows. Returns plain JSON-able data."""
    return fit_apply(spec, train)[0]


def fit_apply(spec: RecipeSpec, train: pd.DataFrame) -> tuple[dict, torch.Tensor]:
    """`fit_recipe` and `apply_recipe` on the same rows at once: (state, features of train).

    The steps give fit rows the same values while fitting as apply gives them afterwards, so the
    features computed to learn the scale are the training features; nothing runs twice.
    """
    state = {"recipe": spec.name}
    frame = _run_steps(spec, state, train, fitting=True)
    coded = {col: text_codes(frame[col]) for col in spec.one_hot}  # for the levels, then the features
    levels = {}
    for col, (codes, names) in coded.items():
        seen = sorted(names[np.unique(codes[codes >= 0])])  # the texts present, sorted as strings
        first = [v for v in spec.level_order.get(col, ()) if v in seen]
        levels[col] = first + [v for v in seen if v not in first]
    state["levels"] = levels
    if spec.piecewise:  # only then: a recipe without it keeps the state (and the bytes) it had
        state["piecewise"] = {col: _edges(frame[col], col, n) for col, n in spec.piecewise.items()}
    tokens = {col: _word_sets(frame[col]) for col in spec.words}  # for the vocabulary, then the features
    if spec.words:  # only then: a recipe without words keeps the state (and the bytes) it had
        state["words"] = {col: _vocabulary(*tokens[col], n) for col, n in spec.words.items()}
    columns, matrix = _features(frame, spec, state, coded, tokens)
    start = len(columns) - sum(map(len, state.get("words", {}).values()))  # where the words' columns begin
    if clash := sorted(set(columns[start:]) & set(columns[:start])):  # a word's column named like another feature
        raise KitError(f"recipe {spec.name} makes the feature {clash[0]} twice, as a word and as a column; rename one.")
    state["columns"] = columns
    if spec.scale == "max":
        # Divide by the largest training value, as the article does; abs() so that a negative
        # column still lands in [-1, 1], and 1 for an all-zero column so nothing divides by zero.
        # max(max, -min) is the largest |value| without an |matrix| copy of the whole table
        top = np.maximum(matrix.max(axis=0, initial=0), -matrix.min(axis=0, initial=0))  # (n_features,) float32
        top = np.where(np.isnan(matrix).any(axis=0), np.nan, top)  # (n_features,) float32, NaN as torch's max gives it
        state["scale"] = [float(v) if v > 0 else 1.0 for v in top]
    elif spec.scale in ("standard", "standard_numbers"):
        # Centre on the training mean and divide by the training standard deviation (1 for a constant
        # column): every feature then starts on the same footing for the optimiser, whatever its units.
        mean, std = column_mean_std(matrix) if len(matrix) else (np.zeros(len(columns)),) * 2
        state["shift"] = [float(np.float32(v)) for v in mean]
        state["scale"] = [float(np.float32(v)) if v > 0 else 1.0 for v in std]
        if spec.scale == "standard_numbers":
            # The 0/1 features stay 0/1: standardised, a level in 1 % of the rows reads 9.9 where it is held, and
            # one-hot columns of many such levels outweighed the numbers (scikit-learn's digits drafted 0.9007
            # with them standardised, 0.9624 with them left 0/1; kit.draft writes this scale)
            for j in range(number_features(spec, state), len(columns)):
                state["shift"][j], state["scale"][j] = 0.0, 1.0
            # ... and so do numeric columns that hold only 0 and 1 (flags, and one-hot levels a file gives as its own
            # columns: a trial's 44 soil and wilderness columns read up to 16.8 standardised; left 0/1, its ensemble
            # 0.9551 -> 0.9558 on 5 of 5 folds, nn 0.9541 -> 0.9555, deep 0.9534 -> 0.9553, linear 0.9505 -> 0.9500)
            for j in range(number_features(spec, state)):
                if len(matrix) and bool(np.isin(matrix[:, j], (0.0, 1.0)).all()):
                    state["shift"][j], state["scale"][j] = 0.0, 1.0
    elif spec.scale == "none":
        state["scale"] = [1.0] * len(columns)
    else:
        raise KitError(
            f'recipe {spec.name} has unknown scale {spec.scale!r}; use "max", "standard", "standard_numbers" or "none".'
        )
    return state, _scaled(spec, state, matrix, train)


# Rows per block of `column_mean_std`: its float64 temporaries are 4 MB for 57 features, where numpy's
# std of a 240,000-row fold makes a 110 MB one (the drafted 300,000-row plan's peak memory).
STD_ROWS = 8192


def column_mean_std(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each column's float64 mean and standard deviation, the bytes of numpy's `mean`/`std(axis=0, dtype=float64)`,
    a block of STD_ROWS rows at a time.

    numpy sums the columns of a row-major matrix row after row (axis 0 is not its pairwise sum), so each
    block's sum continues from the running one (`_running_sum`): the same additions in the same order, and
    the same divisions and square root after (tested against numpy's own). A single column is contiguous,
    which numpy sums pairwise: numpy's own then, whose temporary is one column.
    """
    n = len(matrix)
    if matrix.ndim != 2 or matrix.shape[1] < 2 or not matrix.flags.c_contiguous:
        return matrix.mean(axis=0, dtype="float64"), matrix.std(axis=0, dtype="float64")
    # one float64 buffer for every block: the running sum in its first row, the block's rows below it (stacking
    # the two afresh for each block copied it twice: a 240,000 x 285 fold took 0.33 s, now 0.18 s)
    buffer = np.empty((STD_ROWS + 1, matrix.shape[1]))  # (STD_ROWS + 1, n_features) float64
    mean = _running_sum(matrix, buffer, lambda block, out: np.copyto(out, block)) / n
    squares = _running_sum(matrix, buffer, lambda block, out: np.square(np.subtract(block, mean, out=out), out=out))
    return mean, np.sqrt(squares / n)


def _running_sum(matrix: np.ndarray, buffer: np.ndarray, fill) -> np.ndarray:
    """The column sums of fill(block) over the blocks of STD_ROWS rows, each block added to the running sum row
    after row: fill(block, out) writes a block's float64 values into `out`, a slice of `buffer`."""
    total = None
    for start in range(0, len(matrix), STD_ROWS):
        block = matrix[start : start + STD_ROWS]
        if total is None:
            rows = buffer[: len(block)]
            fill(block, rows)
        else:
            buffer[0] = total
            rows = buffer[: len(block) + 1]
            fill(block, rows[1:])
        total = np.add.reduce(rows, axis=0)
    return total


def apply_recipe(spec: RecipeSpec, state: dict, frame: pd.DataFrame) -> torch.Tensor:
    """Features of `frame` as a float32 tensor (n_rows, n_features) in the training column order."""
    return _scaled(spec, state, unscaled_features(spec, state, frame), frame)


def unscaled_features(spec: RecipeSpec, state: dict, frame: pd.DataFrame, gaps: set | None = None) -> np.ndarray:
    """The features of `frame` before scaling, (n_rows, n_features) float32: `apply_recipe` is this
    divided by `state["scale"]`, so callers that share everything but the scale compute it once.

    gaps: a set that receives (state key, column) for each learned fill ("medians", "modes") whose column
    had missing values in `frame` when its step ran: the fill values these rows depend on (`same_encoding`).
    """
    filled = _run_steps(spec, state, frame, fitting=False, gaps=gaps)
    columns, matrix = _features(filled, spec, state)
    assert columns == state["columns"], "apply must give the training columns"
    return matrix


def scale_into(state: dict, matrix: np.ndarray, out: torch.Tensor) -> torch.Tensor:
    """`(matrix - shift) / scale` written into `out` (a float32 view of the right shape): the same bytes as apply."""
    x = torch.from_numpy(matrix)
    if "shift" in state:
        x = torch.sub(x, torch.tensor(state["shift"], dtype=torch.float32), out=out)
    return torch.div(x, torch.tensor(state["scale"], dtype=torch.float32), out=out)


def _scaled(spec: RecipeSpec, state: dict, matrix: np.ndarray, frame=None) -> torch.Tensor:
    check_filled(spec, state, matrix, frame)
    x = torch.from_numpy(matrix)  # (n, n_features) float32, sharing the array's memory
    if "shift" in state:  # scale = "standard": centred first
        x.sub_(torch.tensor(state["shift"], dtype=torch.float32))
    return x.div_(torch.tensor(state["scale"], dtype=torch.float32))


def check_filled(spec: RecipeSpec, state: dict, matrix: np.ndarray, frame=None) -> None:
    """One clear sentence when a feature still has missing values after the recipe's fills; given the rows the
    matrix was made from, it names the first row that has one, so the user knows which file to look in."""
    gaps = np.isnan(matrix).any(axis=0)  # (n_features,)
    if gaps.any():
        j = int(np.flatnonzero(gaps)[0])
        where = ""
        if spec.id is not None and frame is not None and spec.id in frame.columns:
            where = f" ({_row_named(spec, frame[spec.id].iloc[int(np.flatnonzero(np.isnan(matrix[:, j]))[0])])})"
        raise KitError(
            f"feature {state['columns'][j]} has missing values{where} that recipe {spec.name} does not fill; "
            "add its column (or those it is made from) to fill_mode, fill_median, fill_constant or fill_group."
        )


def _row_named(spec: RecipeSpec, row_id) -> str:
    """A row by where the user finds it: an extra file's line (kit.competition's extra ids), else its id."""
    from kit.competition import EXTRA_ID

    if isinstance(row_id, str) and row_id.startswith(EXTRA_ID):
        name, line = row_id[len(EXTRA_ID) :].rsplit(":", 1)
        return f"the first on line {line} of {name}, an extra file"
    return f"the first in the row whose {spec.id} is {row_id}"


def unseen_levels(spec: RecipeSpec, state: dict, frame: pd.DataFrame) -> dict[str, tuple[int, list[str]]]:
    """{column: (rows, levels)} for each one-hot column that `frame` holds as it is read (no step makes or renames
    it, `rare` does not pool it): the rows holding a level the fit never saw, whose one-hot features are all 0, and
    those levels, most rows first. Columns with none are left out."""
    # steps that rewrite a column's values in place: clip maps a test row's unseen 18.43 to a seen bound (a trial's
    # note counted 73 such rows as all 0 and advised `rare` beside the clip, which the schema refuses)
    changed = set(spec.produced()) | set(spec.replace) | set(spec.rare) | set(spec.clip) | set(spec.number)
    changed |= set(spec.boolean)
    found = {}
    for col in spec.one_hot:
        if col in changed or col not in frame.columns:
            continue
        codes, names = text_codes(frame[col])
        seen = set(state["levels"][col])
        new = [i for i, name in enumerate(names) if name not in seen]
        if new:
            counts = np.bincount(codes[codes >= 0], minlength=len(names))
            new.sort(key=lambda i: (-counts[i], i))
            found[col] = (int(counts[new].sum()), [names[i] for i in new])
    return found


def feature_names(state: dict) -> list[str]:
    return list(state["columns"])


def same_encoding(a: dict, b: dict, gaps: set) -> bool:
    """Whether two learned states turn the same rows into the same unscaled features: equal in everything
    but the scale and the learned fill values, and those equal wherever the rows had a gap to fill.

    gaps: what `unscaled_features(spec, a, rows, gaps)` found. A fill whose column has no gap changes
    nothing, whatever its value: the folds of a large competition learn medians (and, with levels about
    equally common, modes) of their own, and test rows with no gap there are then encoded once, not once
    per fold. Values are compared as JSON, as the state is written: 0.0 and -0.0 are different bytes.
    """
    if a is b:  # a fold's own state: its test encoding is the one compared with the others
        return True
    fills = ("medians", "modes")
    rest_a, rest_b = ({k: v for k, v in s.items() if k not in ("scale", "shift", *fills)} for s in (a, b))
    # Python's comparison first: states that differ (each fold's target rates, counts, row ids) differ at once,
    # where writing each as JSON (with a state compared to itself) took 26 s of a 120,000-row CV; JSON only to
    # confirm an equal pair (0.0 == -0.0,
    # 1 == 1.0 compare equal but write other bytes; a NaN compares unequal, which costs a second encoding at most)
    if rest_a != rest_b or _json(rest_a) != _json(rest_b):
        return False
    for key in fills:
        fa, fb = a.get(key, {}), b.get(key, {})
        if fa.keys() != fb.keys():
            return False
        for col in fa:
            # a fill's type alone can change a gapless column (kit.recipe._fill_missing makes it object)
            if type(fa[col]) is not type(fb[col]) or ((key, col) in gaps and _json(fa[col]) != _json(fb[col])):
                return False
    return True


def _json(value) -> str:
    return json.dumps(value, sort_keys=True)


# the learned fills, and the state key and the columns of each: `gaps` in _run_steps
def _learned_fills(spec: RecipeSpec) -> dict:
    return {_fill_median: ("medians", spec.fill_median), _fill_mode: ("modes", spec.fill_mode)}


def _run_steps(spec: RecipeSpec, state: dict, frame: pd.DataFrame, fitting: bool, gaps=None) -> pd.DataFrame:
    out = frame.copy(deep=False)  # steps write columns into the copy (copy-on-write), never into the caller's frame
    fills = _learned_fills(spec) if gaps is not None else {}
    with warnings.catch_warnings():
        # pandas 3 reads a CSV as a block per column and warns at every column added to a frame of more than 100:
        # a 784-pixel file printed 5,111 such warnings in one CV. A column added costs little there (393 arrays
        # in 0.26-0.31 s), so the steps keep adding theirs one by one.
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        for step in STEPS:
            if step in fills:  # which of its columns still have gaps, as the step finds them
                key, columns = fills[step]
                gaps.update((key, col) for col in columns if out[col].isna().any())
            step(spec, state, out, fitting)
    return out


# ---- text and flags --------------------------------------------------------------------------


def _split(spec, state, out, fitting):
    """Cabin B/0/P -> Deck B, Num 0, Side P; a value with too few parts leaves the rest missing."""
    for col, s in spec.split.items():
        n = len(s["into"])
        codes, names = text_codes(out[col])
        parts = [t.split(s["sep"], n - 1) for t in names]  # once per distinct text
        for i, name in enumerate(s["into"]):
            part = np.array([p[i] if i < len(p) else None for p in parts] + [None], dtype=object)
            out[name] = pd.Series(part[codes], index=out.index, dtype=object)  # code -1 (missing) takes None


def _extract(spec, state, out, fitting):
    """The pattern's first group, searched anywhere in the text; no match is a missing value."""
    for new, e in spec.extract.items():
        pattern = re.compile(e["pattern"])
        codes, names = text_codes(out[e["from"]])
        found = [pattern.search(t) for t in names]  # once per distinct text
        groups = np.array([m.group(1) if m else None for m in found] + [None], dtype=object)
        out[new] = pd.Series(groups[codes], index=out.index, dtype=object)


def _date(spec, state, out, fitting):
    """Parts of a date or a date and time (as kit.values.as_dates reads them) as numbers in new columns
    COLUMN_PART; a missing or empty cell leaves them missing."""
    ids = out[spec.id] if spec.id in out else None  # named in the message: the row to look at
    for col, entry in spec.date.items():
        parts, fmt = date_form(entry)
        codes, when = as_dates(out[col], col, ids, fmt)
        for part in parts:
            if part == "elapsed":
                values = (when - _EPOCH) / pd.Timedelta(days=1)  # days since 1970-01-01, a fraction for the time
            else:
                values = getattr(when, _PANDAS_PART.get(part, part))  # day of week: Monday is 0
            column = np.asarray(values, dtype="float64")  # (n_distinct + 1,): NaN for NaT
            out[f"{col}_{part}"] = pd.Series(column[codes], index=out.index)  # code -1 (missing) takes the last


def _number(spec, state, out, fitting):
    """Numbers written with separators ("1,234", "1,5") or with tokens for gaps ("?") as numbers, in place."""
    ids = out[spec.id] if spec.id in out else None  # named in the message: the row to look at
    for col, form in spec.number.items():
        out[col] = as_number(out[col], col, ids, **form)


def _replace(spec, state, out, fitting):
    for col, mapping in spec.replace.items():
        out[col] = map_distinct(out[col], lambda v, m=mapping: m.get(label(v), v))


def _boolean(spec, state, out, fitting):
    for col in spec.boolean:
        out[col] = as_flags(out[col], col)


def _is_missing(spec, state, out, fitting):
    """1.0 where the source column has a gap, else 0.0: before the fills, so that the models see where they were
    (a gap that carries signal, such as a price left out, is otherwise the median). Of several columns: how many
    of them have a gap in the row (where rows with more gaps differ, as in a survey some skipped)."""
    for new, source in spec.is_missing.items():
        if isinstance(source, str):
            out[new] = out[source].isna().astype("float64")
        else:
            out[new] = out[list(source)].isna().sum(axis=1).astype("float64")


def _rare(spec, state, out, fitting):
    """Levels seen in fewer than n fit rows (n below 1: that share of the fit rows) share one level, and so do levels
    fit never saw."""
    if not spec.rare:
        return
    if fitting:
        state["rare"] = {}
        for col, n in spec.rare.items():
            codes, names = text_codes(out[col])
            counts = np.bincount(codes[codes >= 0], minlength=len(names))  # (n_distinct,) rows per text
            least = n * len(out) if n < 1 else n  # a share holds whatever rows a fold or --rows leaves
            state["rare"][col] = sorted(str(level) for level, k in zip(names, counts) if k >= least)
    for col in spec.rare:
        keep = set(state["rare"][col])
        out[col] = map_distinct(out[col], lambda v, k=keep: v if label(v) in k else RARE)


# ---- numbers and fills -----------------------------------------------------------------------


def _numbers(spec, state, out, fitting):
    """Every column a numeric step reads must hold numbers; checked before fills learn from it."""
    reads = [c for c in spec.numeric if c not in spec.log1p] + list(spec.log1p.values())
    reads += [t for terms in (*spec.sum.values(), *spec.product.values()) for t in terms if isinstance(t, str)]
    reads += [c for r in spec.ratio.values() for c in r]
    reads += [c for c, g in spec.fill_group.items() if g["stat"] == "median"] + list(spec.fill_median)
    reads += list(spec.clip)
    ids = out[spec.id] if spec.id in out else None  # named in the message: the row to look at
    for col in dict.fromkeys(reads):
        if col in out:  # the rest are made later, as numbers
            out[col] = as_number(out[col], col, ids)


def _clip(spec, state, out, fitting):
    """Numbers kept within the fit rows' values at two quantiles (read as numbers by _numbers): an outlier
    pulls neither a standardised column's spread nor a model's line; gaps stay gaps."""
    if not spec.clip:
        return
    if fitting:
        state["clip"] = {}
        for col, (lower, upper) in spec.clip.items():
            values = out[col].dropna()
            if values.empty:
                raise KitError(f"column {col} has no values in the training rows to clip by; drop it from clip.")
            state["clip"][col] = [plain(values.quantile(lower)), plain(values.quantile(upper))]
    for col, (low, high) in state["clip"].items():
        out[col] = out[col].clip(low, high)


def _fill_constant(spec, state, out, fitting):
    for col, value in spec.fill_constant.items():
        out[col] = _fill_missing(out[col], value)


def _fill_median(spec, state, out, fitting):
    """Missing numbers take the median of the fit rows' values (read as numbers by _numbers)."""
    if not spec.fill_median:
        return
    if fitting:
        state["medians"] = _learned(out, spec.fill_median, "median", lambda values: values.median())
    for col, value in state["medians"].items():
        out[col] = out[col].fillna(value)


def _fill_mode(spec, state, out, fitting):
    if fitting:  # pandas sorts ties, so the smallest mode wins
        state["modes"] = _learned(out, spec.fill_mode, "mode", lambda values: values.mode().iloc[0])
    for col, value in state["modes"].items():
        out[col] = _fill_missing(out[col], value)


def _learned(out: pd.DataFrame, columns, stat: str, compute) -> dict:
    """column -> `stat` of its fit rows' values, as plain data; one sentence for a column with no value."""
    learned = {}
    for col in columns:
        values = out[col].dropna()
        if values.empty:
            raise KitError(
                f"column {col} has no values in the training rows, so it has no {stat}; drop it from fill_{stat}."
            )
        learned[col] = plain(compute(values))
    return learned


def _fill_missing(column: pd.Series, value) -> pd.Series:
    """The column with its missing values set to `value`."""
    if isinstance(value, str) != pd.api.types.is_string_dtype(column) or pd.api.types.is_bool_dtype(column):
        column = column.astype(object)  # an all-NaN column reads as float; its mode may be text, and vice versa
    return column.fillna(value)


# ---- arithmetic ------------------------------------------------------------------------------


def _sum(spec, state, out, fitting):
    """Columns and constants added up: FamilySize = SibSp + Parch + 1; a missing term gives a missing sum."""
    for new, terms in spec.sum.items():
        total = pd.Series(0.0, index=out.index)
        for t in terms:
            total = total + (as_number(out[t], t) if isinstance(t, str) else float(t))
        out[new] = total


def _product(spec, state, out, fitting):
    """Columns and constants multiplied: an interaction of two numbers (a road's curvature times its speed limit,
    which no sum of them makes), a square (Height, Height); a missing factor gives a missing product."""
    for new, terms in spec.product.items():
        total = pd.Series(1.0, index=out.index)
        for t in terms:
            total = total * (as_number(out[t], t) if isinstance(t, str) else float(t))
        out[new] = total


def _row(spec, state, out, fitting):
    """A statistic of each row across columns (a row's spread over 20 risk factors); gaps are skipped, a row
    with none of the columns gives a gap. std is the population's (ddof 0), as numpy's."""
    for new, r in spec.row.items():
        block = pd.concat([as_number(out[c], c) for c in r["columns"]], axis=1).to_numpy(dtype="float64")
        with warnings.catch_warnings():  # a row of gaps alone: numpy warns and gives NaN, the gap meant
            warnings.simplefilter("ignore", RuntimeWarning)
            value = {"mean": np.nanmean, "std": np.nanstd, "min": np.nanmin, "max": np.nanmax}[r["stat"]](block, axis=1)
        out[new] = pd.Series(value, index=out.index)


def _equals(spec, state, out, fitting):
    """1.0 where the column holds one of the values (compared as written, 1.0 as "1"), else 0.0."""
    for new, e in spec.equals.items():
        wanted = {label(v) for v in e["values"]}
        codes, names = text_codes(out[e["column"]])
        hits = np.array([t in wanted for t in names] + [False])  # (n_distinct + 1,): missing is no match
        out[new] = hits[codes].astype("float64")


def _ratio(spec, state, out, fitting):
    """Numerator over denominator; where the denominator is 0, the entry's third value, else refused."""
    for new, (top, bottom, *zero) in spec.ratio.items():
        den = as_number(out[bottom], bottom)
        if (den == 0).any() and not zero:
            given = f"{toml_key(new)} = [{json.dumps(top)}, {json.dumps(bottom)}, 0]"
            raise KitError(
                f"ratio {new} divides by {bottom}, which is 0 in some rows; give those rows a value as a third entry "
                f"({given}) or choose a denominator that is never 0."
            )
        value = as_number(out[top], top) / den
        out[new] = value.where(den != 0, float(zero[0])) if zero else value  # a gap in either stays a gap


def _log1p(spec, state, out, fitting):
    for new, source in spec.log1p.items():
        # log(x + 1) rather than log1p(x): the article's exact float64 values, hence its figures.
        out[new] = np.log(out[source].astype("float64") + 1)


STEPS = (
    _split,
    _extract,
    _date,
    _number,
    _replace,
    _boolean,
    _is_missing,
    _rare,
    _numbers,
    _clip,
    _fill_constant,
    _fill_median,
    _fill_mode,
    fill_group_step,
    _sum,
    _equals,
    _product,
    _row,
    count_step,
    target_mean_step,
    _ratio,
    _log1p,
)


# ---- words ----------------------------------------------------------------------------------

WORD = re.compile(r"[a-z0-9]+")  # a word: a run of letters and digits, after lower-casing


def _word_sets(series: pd.Series) -> tuple[np.ndarray, list[set]]:
    """(codes, sets): row i's text holds the words sets[codes[i]]; code -1 is a missing text, which holds none.

    Each distinct text is split once (kit.values.text_codes), so 300,000 rows of 30,000 texts cost 30,000 splits.
    """
    codes, names = text_codes(series)
    return codes, [set(WORD.findall(t.lower())) for t in names]


def _vocabulary(codes: np.ndarray, sets: list[set], n: int) -> list[str]:
    """The n words in the most fit rows (each row counted once however often it says the word), ties alphabetical."""
    rows = np.bincount(codes[codes >= 0], minlength=len(sets))  # (n_distinct,) fit rows per text
    found: dict[str, int] = {}
    for words, k in zip(sets, rows):
        for w in words:
            found[w] = found.get(w, 0) + int(k)
    return sorted(found, key=lambda w: (-found[w], w))[:n]


def _word_flags(codes: np.ndarray, sets: list[set], vocabulary: list[str]) -> np.ndarray:
    """(n, len(vocabulary)) float32: 1 where the row's text holds the word; a word fit never saw is learned by none."""
    position = {w: i for i, w in enumerate(vocabulary)}
    table = np.zeros((len(sets) + 1, len(vocabulary)), dtype="float32")  # (n_distinct + 1, k): the last is missing
    for t, words in enumerate(sets):
        table[t, [position[w] for w in words if w in position]] = 1.0
    return table[codes]  # code -1 takes the last row: no word


# ---- piecewise ------------------------------------------------------------------------------


def _edges(series: pd.Series, col: str, n: int) -> list[float]:
    """The n + 1 quantiles of the fit rows' values (0, 1/n, ..., 1), repeats dropped: the bins' edges."""
    values = as_number(series, col).to_numpy(dtype="float64", na_value=np.nan)
    values = values[~np.isnan(values)]
    if not len(values):
        raise KitError(f"column {col} has no values in the training rows to cut into bins; drop it from piecewise.")
    return [plain(float(e)) for e in np.unique(np.quantile(values, np.linspace(0, 1, n + 1)))]


def _pieces(series: pd.Series, col: str, edges: list[float]) -> np.ndarray:
    """(n, bins) float64: bin k is 0 below its lower edge, 1 above its upper one, the fraction of the way between.

    A value thus reads as the bins it has filled: a net gets a step at every quantile to weigh on its own,
    where a single number column gives it one slope (Gorishniy et al., 2022, "On Embeddings for Numerical
    Features in Tabular Deep Learning"). A gap stays a gap: the fills must fill it first.
    """
    x = as_number(series, col).to_numpy(dtype="float64", na_value=np.nan)[:, None]  # (n, 1)
    lower, upper = np.array(edges[:-1]), np.array(edges[1:])  # (bins,) each
    return np.clip((x - lower) / (upper - lower), 0.0, 1.0)


def piecewise_columns(spec: RecipeSpec, state: dict) -> list[str]:
    """The features of piecewise, COLUMN_binK for each learned bin, in order."""
    edges = state.get("piecewise", {})
    return [f"{col}_bin{k}" for col in spec.piecewise for k in range(len(edges[col]) - 1)]


def number_features(spec: RecipeSpec, state: dict) -> int:
    """How many features lead the table as numbers (numeric's and piecewise's); the 0/1 features follow."""
    return len(spec.numeric) + len(piecewise_columns(spec, state))


# ---- features --------------------------------------------------------------------------------


def _features(
    filled: pd.DataFrame, spec: RecipeSpec, state: dict, coded: dict | None = None, tokens: dict | None = None
) -> tuple[list[str], np.ndarray]:
    """Numeric columns, then the piecewise bins of each number, then one 0/1 column per learned level (an unseen level is all zeros), then one 0/1
    column per learned word of each `words` column.

    coded: col -> `text_codes(filled[col])` for the one-hot columns, and tokens: col -> `_word_sets(filled[col])`
    for the words columns, where the caller has them already.
    The numbers are written a column at a time into a columns-first float32 block, then copied into
    the rows at once: a number rounds from float64 to float32 the same way whether alone or in a
    matrix, no float64 copy of the whole table is ever made, and no write strides over every row
    once per column.
    """
    levels, vocabulary = state["levels"], state.get("words", {})
    columns = list(spec.numeric) + piecewise_columns(spec, state)
    columns += [f"{col}_{level}" for col in spec.one_hot for level in levels[col]]
    columns += [f"{col}_{w}" for col in spec.words for w in vocabulary[col]]
    matrix = np.empty((len(filled), len(columns)), dtype="float32")  # (n, n_features)
    numbers = np.empty((len(spec.numeric), len(filled)), dtype="float32")  # (n_numeric, n), columns first
    for j, c in enumerate(spec.numeric):
        numbers[j] = as_number(filled[c], c).to_numpy(dtype="float64", na_value=np.nan)
    matrix[:, : len(numbers)] = numbers.T
    del numbers
    j = len(spec.numeric)
    for col in spec.piecewise:
        block = _pieces(filled[col], col, state["piecewise"][col])  # (n, bins) float64
        matrix[:, j : j + block.shape[1]] = block
        j += block.shape[1]
    # One-hot: the block zeroed, then one 1.0 written per row that holds a learned level, straight into the
    # flat matrix (6x faster than comparing every row with every level).
    matrix[:, j : j + sum(len(levels[col]) for col in spec.one_hot)] = 0.0
    flat = matrix.reshape(-1)  # a view: the matrix is one contiguous block
    row_start = np.arange(len(filled)) * len(columns)  # (n,) each row's first cell in `flat`
    for col in spec.one_hot:
        codes, names = coded[col] if coded else text_codes(filled[col])
        # Each row's position among the learned levels, or -1 for a level fit never saw (or missing).
        position = {level: i for i, level in enumerate(levels[col])}
        where = np.array([position.get(t, -1) for t in names] + [-1])[codes]  # (n,)
        hit = where >= 0  # -1 matches no level: the row's cells stay 0
        flat[(row_start + j + where)[hit]] = 1.0
        j += len(levels[col])
    for col in spec.words:
        codes, sets = tokens[col] if tokens else _word_sets(filled[col])
        width = len(vocabulary[col])
        matrix[:, j : j + width] = _word_flags(codes, sets, vocabulary[col])  # (n, width)
        j += width
    return columns, matrix
