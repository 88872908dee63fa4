"""kit.group_folds: scikit-learn's StratifiedGroupKFold folds (its shuffle as fixed in 1.8), index for index."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import StratifiedGroupKFold

from kit.group_folds import stratified_group_folds


def same_folds(ours, theirs) -> bool:
    return len(ours) == len(theirs) and all(
        np.array_equal(a, c) and np.array_equal(b, d) for (a, b), (c, d) in zip(ours, theirs)
    )


@settings(max_examples=150, deadline=None)
@given(
    rows=st.integers(10, 300),
    n_groups=st.integers(5, 60),
    n_classes=st.integers(2, 4),
    n_splits=st.integers(2, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_folds_are_scikit_learns(rows, n_groups, n_classes, n_splits, seed):
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, n_groups, rows)
    # groups that lean to one class, as customers do, and the rest at random
    y = np.where(rng.random(rows) < 0.5, groups % n_classes, rng.integers(0, n_classes, rows)).astype(float)
    if len(np.unique(groups)) < n_splits or np.all(np.unique(y, return_counts=True)[1] < n_splits):
        return  # scikit-learn refuses these; kit.pipeline refuses too few groups before any split
    theirs = list(StratifiedGroupKFold(n_splits, shuffle=True, random_state=seed).split(y, y, groups))
    assert same_folds(stratified_group_folds(y, groups, n_splits, seed), theirs)


def test_many_groups_of_one_class_each_and_text_labels():
    rng = np.random.default_rng(3)
    groups = np.array([f"c{g}" for g in rng.integers(0, 3000, 12000)])
    y = np.array([int(g[1:]) % 5 for g in groups])
    theirs = list(StratifiedGroupKFold(5, shuffle=True, random_state=7).split(y, y, groups))
    ours = stratified_group_folds(y, groups, 5, 7)
    assert same_folds(ours, theirs)
    for train_idx, valid_idx in ours:  # every group in one fold, and every row in exactly one validation fold
        assert not set(groups[train_idx]) & set(groups[valid_idx])
    assert sorted(np.concatenate([v for _, v in ours]).tolist()) == list(range(len(y)))


@pytest.mark.parametrize("seed", [0, 42])
def test_each_fold_holds_the_classes_in_the_whole_sets_shares(seed):
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, 400, 4000)
    y = (rng.random(400) < 0.2)[groups].astype(float)  # each group all of one class: 20% positive groups
    for _, valid_idx in stratified_group_folds(y, groups, 5, seed):
        assert abs(y[valid_idx].mean() - y.mean()) < 0.03
