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

import re

import numpy as np
import pandas as pd
import torch

from kit import KitError
from kit.competition import label
from kit.groups import count_step, fill_group_step, target_mean_step
from kit.recipe_spec import RecipeSpec
from kit.values import as_flags, as_number, plain, texts

RARE = "rare"  # the level that `rare` gives to levels too rare (or new) to learn from


def fit_recipe(spec: RecipeSpec, train: pd.DataFrame) -> dict:
    """Learn the recipe's state from training rows. Returns plain JSON-able data."""
    state = {"recipe": spec.name}
    frame = _run_steps(spec, state, train, fitting=True)
    levels = {}
    for col in spec.one_hot:
        seen = sorted({label(v) for v in frame[col].dropna()})
        first = [v for v in spec.level_order.get(col, ()) if v in seen]
        levels[col] = first + [v for v in seen if v not in first]
    state["levels"] = levels
    columns, matrix = _features(frame, spec, levels)
    state["columns"] = columns
    if spec.scale == "max":
        # Divide by the largest training value, as the article does; abs() so that a negative
        # column still lands in [-1, 1], and 1 for an all-zero column so nothing divides by zero.
        top = torch.tensor(matrix).abs().max(dim=0).values  # (n_features,) float32
        state["scale"] = [float(v) if v > 0 else 1.0 for v in top]
    elif spec.scale == "none":
        state["scale"] = [1.0] * len(columns)
    else:
        raise KitError(f'recipe {spec.name} has unknown scale {spec.scale!r}; use "max" or "none".')
    return state


def apply_recipe(spec: RecipeSpec, state: dict, frame: pd.DataFrame) -> torch.Tensor:
    """Features of `frame` as a float32 tensor (n_rows, n_features) in the training column order."""
    filled = _run_steps(spec, state, frame, fitting=False)
    columns, matrix = _features(filled, spec, state["levels"])
    assert columns == state["columns"], "apply must give the training columns"
    x = torch.tensor(matrix)  # (n, n_features) float32
    if torch.isnan(x).any():
        col = columns[int(torch.isnan(x).any(dim=0).nonzero()[0])]
        raise KitError(
            f"feature {col} has missing values that recipe {spec.name} does not fill; "
            "add its column (or those it is made from) to fill_mode, fill_constant or fill_group."
        )
    return x / torch.tensor(state["scale"], dtype=torch.float32)


def feature_names(state: dict) -> list[str]:
    return list(state["columns"])


def _run_steps(spec: RecipeSpec, state: dict, frame: pd.DataFrame, fitting: bool) -> pd.DataFrame:
    out = frame.copy()  # steps write columns into the copy, never into the caller's frame
    for step in STEPS:
        step(spec, state, out, fitting)
    return out


# ---- text and flags --------------------------------------------------------------------------


def _split(spec, state, out, fitting):
    """Cabin B/0/P -> Deck B, Num 0, Side P; a value with too few parts leaves the rest missing."""
    for col, s in spec.split.items():
        n = len(s["into"])
        parts = [[] if t is None else t.split(s["sep"], n - 1) for t in texts(out[col])]
        for i, name in enumerate(s["into"]):
            out[name] = pd.Series([p[i] if i < len(p) else None for p in parts], index=out.index, dtype=object)


def _extract(spec, state, out, fitting):
    """The pattern's first group, searched anywhere in the text; no match is a missing value."""
    for new, e in spec.extract.items():
        pattern = re.compile(e["pattern"])
        found = [None if t is None else pattern.search(t) for t in texts(out[e["from"]])]
        out[new] = pd.Series([m.group(1) if m else None for m in found], index=out.index, dtype=object)


def _replace(spec, state, out, fitting):
    for col, mapping in spec.replace.items():
        out[col] = out[col].astype(object).map(lambda v, m=mapping: m.get(label(v), v), na_action="ignore")


def _boolean(spec, state, out, fitting):
    for col in spec.boolean:
        out[col] = as_flags(out[col], col)


def _rare(spec, state, out, fitting):
    """Levels seen in fewer than n fit rows share one level, and so do levels fit never saw."""
    if not spec.rare:
        return
    if fitting:
        state["rare"] = {}
        for col, n in spec.rare.items():
            counts = out[col].dropna().map(label).value_counts()
            state["rare"][col] = sorted(str(level) for level, k in counts.items() if k >= n)
    for col in spec.rare:
        keep = set(state["rare"][col])
        out[col] = out[col].astype(object).map(lambda v, k=keep: v if label(v) in k else RARE, na_action="ignore")


# ---- numbers and fills -----------------------------------------------------------------------


def _numbers(spec, state, out, fitting):
    """Every column a numeric step reads must hold numbers; checked before fills learn from it."""
    reads = [c for c in spec.numeric if c not in spec.log1p] + list(spec.log1p.values())
    reads += [t for terms in spec.sum.values() for t in terms if isinstance(t, str)]
    reads += [c for r in spec.ratio.values() for c in r]
    reads += [c for c, g in spec.fill_group.items() if g["stat"] == "median"]
    for col in dict.fromkeys(reads):
        if col in out:  # the rest are made later, as numbers
            out[col] = as_number(out[col], col)


def _fill_constant(spec, state, out, fitting):
    for col, value in spec.fill_constant.items():
        out[col] = _fill_missing(out[col], value)


def _fill_mode(spec, state, out, fitting):
    if fitting:
        state["modes"] = {}
        for col in spec.fill_mode:
            values = out[col].dropna()
            if values.empty:
                raise KitError(
                    f"column {col} has no values in the training rows, so it has no mode; drop it from fill_mode."
                )
            state["modes"][col] = plain(values.mode().iloc[0])  # pandas sorts ties, so the smallest mode wins
    for col, value in state["modes"].items():
        out[col] = _fill_missing(out[col], value)


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


def _equals(spec, state, out, fitting):
    """1.0 where the column holds one of the values (compared as written, 1.0 as "1"), else 0.0."""
    for new, e in spec.equals.items():
        wanted = {label(v) for v in e["values"]}
        out[new] = [1.0 if t in wanted else 0.0 for t in texts(out[e["column"]])]


def _ratio(spec, state, out, fitting):
    for new, (top, bottom) in spec.ratio.items():
        den = as_number(out[bottom], bottom)
        if (den == 0).any():
            raise KitError(
                f"ratio {new} divides by {bottom}, which is 0 in some rows; choose a denominator that is never 0."
            )
        out[new] = as_number(out[top], top) / den


def _log1p(spec, state, out, fitting):
    for new, source in spec.log1p.items():
        # log(x + 1) rather than log1p(x): the article's exact float64 values, hence its figures.
        out[new] = np.log(out[source].astype("float64") + 1)


STEPS = (
    _split,
    _extract,
    _replace,
    _boolean,
    _rare,
    _numbers,
    _fill_constant,
    _fill_mode,
    fill_group_step,
    _sum,
    _equals,
    count_step,
    target_mean_step,
    _ratio,
    _log1p,
)


# ---- features --------------------------------------------------------------------------------


def _features(filled: pd.DataFrame, spec: RecipeSpec, levels: dict) -> tuple[list[str], np.ndarray]:
    """Numeric columns, then one 0/1 column per learned level (an unseen level is all zeros)."""
    columns = list(spec.numeric)
    blocks = (
        [np.column_stack([as_number(filled[c], c).astype("float64") for c in spec.numeric])] if spec.numeric else []
    )
    for col in spec.one_hot:
        values = filled[col].map(lambda v: None if pd.isna(v) else label(v)).to_numpy()
        for level in levels[col]:
            columns.append(f"{col}_{level}")
            blocks.append((values == level).astype("float64")[:, None])
    matrix = np.hstack(blocks) if blocks else np.zeros((len(filled), 0))
    return columns, matrix.astype("float32")  # (n, n_features)
