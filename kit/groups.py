"""The recipe's group steps: values learned per group of fit rows that share a key (a ticket, a
surname, a title), given back to any row with that key.

- fill_group: a column's missing values take their group's median or mode.
- count: the size of the row's group.
- target_mean: the rate of the positive target in the row's group.

Only fit rows (the rows `fit_recipe` saw) are counted; a validation or test row never shapes a
group, even its own, so apply gives the same features whatever else is in the frame. A fit row is
part of its own group, so count and target_mean tell fit rows from new rows by the competition's
id column:

- count gives every row the size its group would have with the row in it: a fit row's group
  among the fit rows, or a new row's group among the fit rows plus the row itself.
- target_mean gives a fit row the rate of the *other* fit rows of its group (leave-one-out), so
  no row ever sees its own label; a new row gets the rate of all the fit rows of its group.
  `prior_weight` m pulls small groups toward the prior p (the rate over all fit rows):
  (positives + m * p) / (rows + m). A row with no known group, or a missing key, gets p;
  with `centre` every value has p subtracted, so such a row reads 0. The fit rows' values are
  stored per id, so apply never reads the target.

A row whose key is missing belongs to no group: its count is 1 and its rate the prior.
Composite keys (`by = ["Surname", "Pclass"]`) join their parts' labels with "|".
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from kit import KitError
from kit.values import as_flags, as_number, plain, texts


def fill_group_step(spec, state, out, fitting):
    if not spec.fill_group:
        return
    if fitting:
        state["fill_group"] = {}
        for col, g in spec.fill_group.items():
            values = out[col]
            if g["stat"] == "median":
                values = as_number(values, col)
            if values.notna().sum() == 0:
                raise KitError(f"column {col} has no values in the training rows; drop it from fill_group.")
            keys = pd.Series(group_keys(out, g["by"]), index=out.index)
            known = values.notna() & keys.notna()
            groups = {k: _stat(v, g["stat"]) for k, v in values[known].groupby(keys[known], sort=True)}
            state["fill_group"][col] = {"groups": groups, "all": _stat(values.dropna(), g["stat"])}
    for col, g in spec.fill_group.items():
        learned = state["fill_group"][col]
        fill = [learned["groups"].get(k, learned["all"]) for k in group_keys(out, g["by"])]
        column = out[col].astype(object) if g["stat"] == "mode" else as_number(out[col], col)
        out[col] = column.where(column.notna(), pd.Series(fill, index=out.index))


def count_step(spec, state, out, fitting):
    if not spec.count:
        return
    ids = row_ids(spec, out)
    if fitting:
        state["fit_ids"] = sorted(ids)
        state["count"] = {}
        for new, by in spec.count.items():
            sizes = Counter(k for k in group_keys(out, by) if k is not None)
            state["count"][new] = dict(sorted(sizes.items()))
    in_fit = set(state["fit_ids"])
    for new, by in spec.count.items():
        sizes = state["count"][new]
        out[new] = [
            1.0 if k is None else float(sizes.get(k, 0) + (0 if i in in_fit else 1))
            for k, i in zip(group_keys(out, by), ids)
        ]


def target_mean_step(spec, state, out, fitting):
    if not spec.target_mean:
        return
    ids = row_ids(spec, out)
    if fitting:
        state["target_mean"] = {new: _learn_rates(spec, out, ids, t) for new, t in spec.target_mean.items()}
    for new, t in spec.target_mean.items():
        learned = state["target_mean"][new]
        rates, own, prior = learned["groups"], learned["fit_rows"], learned["prior"]
        shift = prior if t["centre"] else 0.0  # centred, a group never seen reads 0: no evidence either way
        out[new] = [
            (own[i] if i in own else rates.get(k, prior)) - shift for k, i in zip(group_keys(out, t["by"]), ids)
        ]


def _learn_rates(spec, out, ids: list[str], t: dict) -> dict:
    """Per group the smoothed rate of all its fit rows, and per fit row the rate of the others."""
    if spec.target is None or spec.target not in out:
        raise KitError(f"recipe {spec.name} has target_mean, so its training rows need the target column.")
    y = as_flags(out[spec.target], spec.target)  # (n,) 1.0 / 0.0
    if y.isna().any():
        raise KitError(f"the target {spec.target} has missing values; target_mean cannot learn from them.")
    y = y.tolist()
    m, prior = t["prior_weight"], sum(y) / len(y)
    keys = group_keys(out, t["by"])
    positives, rows = Counter(), Counter()
    for k, v in zip(keys, y):
        if k is not None:
            positives[k] += v
            rows[k] += 1

    def rate(pos: float, n: int) -> float:
        return (pos + m * prior) / (n + m) if n + m > 0 else prior

    groups = {k: rate(positives[k], rows[k]) for k in sorted(rows)}
    fit_rows = {i: prior if k is None else rate(positives[k] - v, rows[k] - 1) for i, k, v in zip(ids, keys, y)}
    return {"prior": prior, "groups": groups, "fit_rows": fit_rows}


def group_keys(frame: pd.DataFrame, by: tuple) -> list:
    """Each row's group key as text ("|"-joined for several columns); None where a part is missing."""
    parts = [texts(frame[c]) for c in by]
    return [None if None in p else "|".join(p) for p in zip(*parts)]


def row_ids(spec, frame: pd.DataFrame) -> list[str]:
    if spec.id is None or spec.id not in frame:
        raise KitError(f"recipe {spec.name} has count or target_mean, so every frame needs the id column {spec.id}.")
    ids = texts(frame[spec.id])
    if None in ids or len(set(ids)) != len(ids):
        raise KitError(f"the id column {spec.id} has missing or repeated values; each row needs its own id.")
    return ids


def _stat(values: pd.Series, stat: str):
    """The median, or the mode (the smallest on ties, as pandas sorts them), as plain Python."""
    return plain(values.median() if stat == "median" else values.mode().iloc[0])
