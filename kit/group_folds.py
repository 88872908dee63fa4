"""Stratified group k-fold: every row of a group in one fold, each fold's classes in the proportions of the whole.

The folds are scikit-learn's StratifiedGroupKFold(shuffle=True) ones (1.9's, whose shuffle moves the groups
with their counts), index for index (tests/test_group_folds.py checks), made without its loop of small numpy
calls per group and fold: each group weighs its folds in one call. 30,000 groups took 3.3 s there.
Written here, the folds are also the same whichever scikit-learn is installed.

The method: groups in a random order, then stably sorted by how unevenly their rows spread over the classes
(the most uneven first); each goes to the fold where it leaves the classes' shares of rows across folds
most even (the mean over classes of the spread of each class's share per fold), a tie to the fold with fewer
rows, then to the first.
"""

from __future__ import annotations

import numpy as np


def stratified_group_folds(y, groups, n_splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train_idx, valid_idx) of each fold, both sorted, for class labels y and group labels groups (n,) each."""
    _, y_inv, y_cnt = np.unique(np.asarray(y), return_inverse=True, return_counts=True)
    _, groups_inv, groups_cnt = np.unique(np.asarray(groups), return_inverse=True, return_counts=True)
    y_inv, groups_inv = y_inv.ravel(), groups_inv.ravel()
    n_groups, n_classes = len(groups_cnt), len(y_cnt)
    counts = np.zeros((n_groups, n_classes))  # (groups, classes) rows of each class in each group
    np.add.at(counts, (groups_inv, y_inv), 1)

    perm = np.arange(n_groups)
    np.random.RandomState(seed).shuffle(perm)  # scikit-learn's random_state=seed draws the same order
    counts = counts[perm]
    inv_perm = np.empty_like(perm)
    inv_perm[perm] = np.arange(n_groups)
    groups_inv = inv_perm[groups_inv]
    order = np.argsort(-np.std(counts, axis=1), kind="stable")

    per_fold = np.zeros((n_splits, n_classes))  # (folds, classes) rows of each class given to each fold
    fold_of = np.empty(n_groups, dtype=np.int64)
    diagonal = np.arange(n_splits)
    for g in order:
        # (candidate fold, folds, classes): the folds as they would be with group g in each candidate
        tried = np.broadcast_to(per_fold, (n_splits, n_splits, n_classes)).copy()
        tried[diagonal, diagonal] += counts[g]
        spread = np.std(tried / y_cnt.reshape(1, -1), axis=1).mean(axis=1)  # (candidates,) as scikit-learn scores
        sizes = per_fold.sum(axis=1)
        best, best_spread, best_size = None, np.inf, np.inf
        for i in range(n_splits):
            value, size = spread[i], sizes[i]
            # np.isclose(value, best_spread), written out: rtol 1e-5, atol 1e-8
            close = abs(value - best_spread) <= 1e-8 + 1e-5 * abs(best_spread)
            if value < best_spread or (close and size < best_size):
                best, best_spread, best_size = i, value, size
        per_fold[best] += counts[g]
        fold_of[g] = best

    row_fold = fold_of[groups_inv]
    rows = np.arange(len(row_fold))
    return [(rows[row_fold != f], rows[row_fold == f]) for f in range(n_splits)]
