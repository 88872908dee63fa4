"""Fold indices: scikit-learn's KFold, StratifiedKFold, GroupKFold and TimeSeriesSplit folds, index for index.

Each function returns the (train_idx, valid_idx) pairs that scikit-learn's splitter yields with the same
settings (KFold and StratifiedKFold with shuffle=True and random_state=seed; GroupKFold without shuffle;
TimeSeriesSplit over positions), checked against it in tests/test_folds.py. Written here because importing
scikit-learn imports SciPy: about 1 s and 76 MB of every `kit cv`, for a few lines of numpy. The folds are
then also the same whichever scikit-learn is installed. kit.group_folds does the same for StratifiedGroupKFold.
"""

from __future__ import annotations

import numpy as np

from kit import KitError


def _pairs(fold_of_row: np.ndarray, n_splits: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train_idx, valid_idx) of each fold, both sorted, from each row's fold number."""
    return [(np.flatnonzero(fold_of_row != f), np.flatnonzero(fold_of_row == f)) for f in range(n_splits)]


def kfold(n: int, n_splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """KFold(n_splits, shuffle=True, random_state=seed): the rows shuffled, then cut into folds in turn (the
    first n % n_splits folds one row longer)."""
    order = np.arange(n)
    np.random.RandomState(seed).shuffle(order)
    sizes = np.full(n_splits, n // n_splits)
    sizes[: n % n_splits] += 1
    fold_of_row = np.empty(n, dtype=np.int64)
    fold_of_row[order] = np.repeat(np.arange(n_splits), sizes)
    return _pairs(fold_of_row, n_splits)


def stratified_kfold(y, n_splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """StratifiedKFold(n_splits, shuffle=True, random_state=seed) for class labels y (n,).

    Each class's rows are dealt to the folds in the shares a round robin over the sorted labels gives, then
    shuffled among its rows; the classes are taken in the order they first appear in y, which is the order
    they draw from the one random generator.
    """
    _, first, inverse = np.unique(np.asarray(y), return_index=True, return_inverse=True)
    _, class_rank = np.unique(first, return_inverse=True)
    labels = class_rank[inverse.ravel()]  # 0 for the class seen first, 1 for the next, ...
    n_classes = len(first)
    counts = np.bincount(labels, minlength=n_classes)
    if np.all(counts < n_splits):
        raise KitError(f"stratified folds need a class with {n_splits} rows or more, and none has", fix="fewer_folds",
                       rows=int(counts.max()))  # fmt: skip
    ordered = np.sort(labels)
    # allocation[f, k]: rows of class k in fold f, as dealing the sorted labels out in turn gives them
    allocation = np.stack([np.bincount(ordered[f::n_splits], minlength=n_classes) for f in range(n_splits)])
    rng = np.random.RandomState(seed)
    fold_of_row = np.empty(len(labels), dtype=np.int64)
    for k in range(n_classes):
        folds_of_class = np.repeat(np.arange(n_splits), allocation[:, k])
        rng.shuffle(folds_of_class)
        fold_of_row[labels == k] = folds_of_class
    return _pairs(fold_of_row, n_splits)


def group_kfold(groups, n_splits: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """GroupKFold(n_splits): the groups from largest to smallest (ties: the later-sorting group first), each
    to the fold holding the fewest rows so far (a tie: the first such fold). Needs n_splits groups or more."""
    _, group_of_row, sizes = np.unique(np.asarray(groups), return_inverse=True, return_counts=True)
    group_of_row = group_of_row.ravel()
    largest_first = np.argsort(sizes, kind="stable")[::-1]
    fold_rows = np.zeros(n_splits)
    fold_of_group = np.zeros(len(sizes), dtype=np.int64)
    for g in largest_first:
        lightest = int(np.argmin(fold_rows))
        fold_rows[lightest] += sizes[g]
        fold_of_group[g] = lightest
    return _pairs(fold_of_group[group_of_row], n_splits)


def time_blocks(n: int, n_splits: int, size: int, gap: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """TimeSeriesSplit(n_splits, test_size=size, gap=gap) over n positions: the last n_splits blocks of `size`
    positions validate in turn, each trained on every position before it less the `gap` just before it."""
    starts = range(n - n_splits * size, n, size)
    return [(np.arange(start - gap), np.arange(start, start + size)) for start in starts]
