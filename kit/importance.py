"""Permutation importance: how much each recipe column is worth to a trained model, on rows it never saw.

For each fold, a column's values are shuffled among the fold's validation rows and the fold's models
predict them again; the column's importance is how much the fold's score drops (in the metric's
direction, so a positive number always means the column helps). The columns a one-hot or words step
makes from one input column are shuffled together, as that column, so a row never holds two levels.
Nothing trains again: it costs one prediction of the validation rows per column.
"""

from __future__ import annotations

import torch

# Shuffles are seeded by this, then by the fold: the same CV gives the same importances.
SEED = 2022


def column_groups(spec, state: dict) -> list[tuple[str, list[int]]]:
    """(recipe column, the positions of the features it makes) in feature order, from a fold's learned state."""
    groups, j = [(c, [i]) for i, c in enumerate(spec.numeric)], len(spec.numeric)
    for col in spec.piecewise:
        width = len(state["piecewise"][col]) - 1
        groups.append((col, list(range(j, j + width))))
        j += width
    for col in spec.one_hot:
        width = len(state["levels"][col])
        groups.append((col, list(range(j, j + width))))
        j += width
    for col in spec.words:
        width = len(state.get("words", {}).get(col, ()))
        groups.append((col, list(range(j, j + width))))
        j += width
    # A column both numeric and piecewise is shuffled as one: its number and its bins, as the row holds them.
    merged: dict[str, list[int]] = {}
    for name, positions in groups:
        merged.setdefault(name, []).extend(positions)
    return [(name, positions) for name, positions in merged.items() if positions]  # a one-hot of no level makes nothing


def permutation_drops(predict_rows, x_valid: torch.Tensor, fold_ids: list, lengths: list, score, groups: list) -> dict:
    """{recipe column: [the score's drop on each fold of the group]} for one model's grid of folds.

    predict_rows: x (F, m, width) -> each fold's seed-mean prediction (F, m[, k]). x_valid: the group's
    validation stack (F, m_max, width). fold_ids and lengths: each slot's fold and its validation rows.
    score: (fold, prediction of its rows) -> the score, better up (a lower-is-better metric negated).
    groups: column_groups of the folds' state.
    """
    base = predict_rows(x_valid)
    base_scores = [score(f, base[i, :m]) for i, (f, m) in enumerate(zip(fold_ids, lengths))]
    shuffled = x_valid.clone()  # (F, m_max, width): each column is shuffled in it, then put back
    drops = {}
    for name, positions in groups:
        cols = torch.tensor(positions)
        for i, (f, m) in enumerate(zip(fold_ids, lengths)):
            order = torch.randperm(m, generator=torch.Generator().manual_seed(SEED + f))
            shuffled[i, :m, cols] = x_valid[i, :m, cols][order]  # the column's values alone are copied
        pred = predict_rows(shuffled)
        drops[name] = [b - score(f, pred[i, :m]) for i, (f, m, b) in enumerate(zip(fold_ids, lengths, base_scores))]
        shuffled[:, :, cols] = x_valid[:, :, cols]
    return drops


def model_drops(
    predict, params: dict, x_valid: torch.Tensor, fold_ids: list, lengths: list, score, groups: list
) -> dict:
    """`permutation_drops` for a grid whose folds may have learned other levels (so other column groups at the
    same width): slots of equal groups are taken together. predict: (params, x) -> (F, S, m[, k])."""
    by_groups = {}
    for i, g in enumerate(groups):
        by_groups.setdefault(repr(g), []).append(i)
    drops = {}
    for slots in by_groups.values():
        index = torch.tensor(slots)
        every = slots == list(range(len(groups)))  # the common case: one group, taken as it is (no copy)
        sub = params if every else {key: p.index_select(0, index) for key, p in params.items()}
        found = permutation_drops(
            lambda x, sub=sub: predict(sub, x).mean(dim=1),  # (F', m[, k]) the seeds' mean
            x_valid if every else x_valid.index_select(0, index),  # a trial's 750,000 rows: 180 MB a copy
            [fold_ids[i] for i in slots],
            [lengths[i] for i in slots],
            score,
            groups[slots[0]],
        )
        for name, values in found.items():
            drops.setdefault(name, []).extend(values)
    return drops
