"""The deterministic feature recipe, as fit/apply.

`fit_recipe` learns everything from training rows only (fill values, category levels, scaling
constants) and returns it as plain data that round-trips through JSON. `apply_recipe` never
refits: it turns any frame (train, a validation fold, test) into a float32 tensor with exactly
the training columns, in the training order, whatever categories or missing values it holds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from kit import KitError
from kit.competition import RecipeSpec, _label


def fit_recipe(spec: RecipeSpec, train: pd.DataFrame) -> dict:
    """Learn the recipe's state from training rows. Returns plain JSON-able data."""
    filled = _fill(train, spec, modes={})
    modes = {}
    for col in spec.fill_mode:
        values = filled[col].dropna()
        if values.empty:
            raise KitError(
                f"column {col} has no values in the training rows, so it has no mode; drop it from fill_mode."
            )
        modes[col] = _plain(values.mode().iloc[0])  # pandas sorts ties, so the smallest mode wins
    filled = _fill(train, spec, modes)

    levels = {}
    for col in spec.one_hot:
        seen = sorted({_label(v) for v in filled[col].dropna()})
        first = [v for v in spec.level_order.get(col, ()) if v in seen]
        levels[col] = first + [v for v in seen if v not in first]

    state = {"recipe": spec.name, "modes": modes, "levels": levels}
    columns, matrix = _features(filled, spec, levels)
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
    filled = _fill(frame, spec, state["modes"])
    columns, matrix = _features(filled, spec, state["levels"])
    assert columns == state["columns"], "apply must give the training columns"
    x = torch.tensor(matrix)  # (n, n_features) float32
    if torch.isnan(x).any():
        col = columns[int(torch.isnan(x).any(dim=0).nonzero()[0])]
        raise KitError(
            f"feature {col} has missing values that recipe {spec.name} does not fill; add its column to fill_mode."
        )
    return x / torch.tensor(state["scale"], dtype=torch.float32)


def feature_names(state: dict) -> list[str]:
    return list(state["columns"])


# ---- steps ----------------------------------------------------------------------------------


def _fill(frame: pd.DataFrame, spec: RecipeSpec, modes: dict) -> pd.DataFrame:
    """A copy with constants, then modes, filled in, and numeric inputs checked to be numbers."""
    out = frame.copy()
    numeric_inputs = [c for c in spec.numeric if c not in spec.log1p] + list(spec.log1p.values())
    for col in dict.fromkeys(numeric_inputs):
        out[col] = _as_number(out[col], col)
    for col, value in [*spec.fill_constant.items(), *modes.items()]:
        column = out[col]
        if isinstance(value, str) and pd.api.types.is_numeric_dtype(column):
            column = column.astype(object)  # an all-NaN column reads as float; its mode may be text
        out[col] = column.fillna(value)
    for new, source in spec.log1p.items():
        # log(x + 1) rather than log1p(x): the article's exact float64 values, hence its figures.
        out[new] = np.log(out[source].astype("float64") + 1)
    return out


def _features(filled: pd.DataFrame, spec: RecipeSpec, levels: dict) -> tuple[list[str], np.ndarray]:
    """Numeric columns, then one 0/1 column per learned level (an unseen level is all zeros)."""
    columns = list(spec.numeric)
    blocks = [filled[list(spec.numeric)].astype("float64").to_numpy()] if spec.numeric else []
    for col in spec.one_hot:
        values = filled[col].map(lambda v: None if pd.isna(v) else _label(v)).to_numpy()
        for level in levels[col]:
            columns.append(f"{col}_{level}")
            blocks.append((values == level).astype("float64")[:, None])
    matrix = np.hstack(blocks) if blocks else np.zeros((len(filled), 0))
    return columns, matrix.astype("float32")  # (n, n_features)


def _as_number(series: pd.Series, col: str) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series
    numbers = pd.to_numeric(series, errors="coerce")
    bad = series[numbers.isna() & series.notna()]
    if len(bad):
        raise KitError(f"column {col} holds {bad.iloc[0]!r}, which is not a number; fix the file.")
    return numbers


def _plain(value):
    """numpy scalars to plain Python, so the state is JSON."""
    return value.item() if hasattr(value, "item") else value
