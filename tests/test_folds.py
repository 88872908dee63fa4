"""kit.folds: scikit-learn's KFold, StratifiedKFold, GroupKFold and TimeSeriesSplit folds, index for index,
and a `kit cv` that never imports scikit-learn."""

import subprocess
import sys

import numpy as np
import pytest
from conftest import refused, write_titanic_like
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold, TimeSeriesSplit

from kit import KitError
from kit.folds import group_kfold, kfold, stratified_kfold, time_blocks

SEEDS = st.integers(0, 2**32 - 1)


def same_folds(ours, theirs) -> bool:
    theirs = list(theirs)
    return len(ours) == len(theirs) and all(
        np.array_equal(a, c) and np.array_equal(b, d) for (a, b), (c, d) in zip(ours, theirs)
    )


@settings(max_examples=100, deadline=None)
@given(rows=st.integers(2, 400), n_splits=st.integers(2, 10), seed=SEEDS)
def test_kfold_is_scikit_learns(rows, n_splits, seed):
    n_splits = min(n_splits, rows)
    theirs = KFold(n_splits, shuffle=True, random_state=seed).split(np.zeros(rows))
    assert same_folds(kfold(rows, n_splits, seed), theirs)


@settings(max_examples=150, deadline=None)
@given(
    labels=st.lists(st.sampled_from([0.0, 1.0, 2.0, 3.0, 7.0]), min_size=2, max_size=300),
    n_splits=st.integers(2, 6),
    seed=SEEDS,
)
def test_stratified_kfold_is_scikit_learns(labels, n_splits, seed):
    y = np.array(labels)
    if np.all(np.unique(y, return_counts=True)[1] < n_splits):
        with pytest.raises(KitError, match="stratified folds need a class"):
            stratified_kfold(y, n_splits, seed)
        return
    theirs = StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(y, y)
    with pytest.warns(UserWarning) if np.unique(y, return_counts=True)[1].min() < n_splits else _nothing():
        theirs = list(theirs)
    assert same_folds(stratified_kfold(y, n_splits, seed), theirs)


def test_stratified_classes_draw_in_the_order_they_first_appear():
    # "b" comes first in the rows though "a" sorts first: scikit-learn shuffles b's folds first
    y = np.array(["b", "a", "b", "a", "a", "b", "b", "a", "a", "b"] * 3)
    theirs = StratifiedKFold(3, shuffle=True, random_state=5).split(y, y)
    assert same_folds(stratified_kfold(y, 3, 5), theirs)


@settings(max_examples=100, deadline=None)
@given(rows=st.integers(5, 300), n_groups=st.integers(2, 40), n_splits=st.integers(2, 6), seed=SEEDS)
def test_group_kfold_is_scikit_learns(rows, n_groups, n_splits, seed):
    groups = np.random.default_rng(seed).integers(0, n_groups, rows)
    if len(np.unique(groups)) < n_splits:
        return  # kit.pipeline refuses too few groups before any split
    theirs = GroupKFold(n_splits).split(groups, groups, groups)
    assert same_folds(group_kfold(groups, n_splits), theirs)


@settings(max_examples=100, deadline=None)
@given(n=st.integers(3, 200), n_splits=st.integers(2, 8), size=st.integers(0, 20), gap=st.integers(0, 5))
def test_time_blocks_are_scikit_learns(n, n_splits, size, gap):
    size = size or n // (n_splits + 1)
    if n - gap - n_splits * size <= 0 or size == 0 or n_splits + 1 > n:
        return  # kit.validation.time_split refuses these first, in its own words
    theirs = TimeSeriesSplit(n_splits, test_size=size, gap=gap).split(np.zeros(n))
    assert same_folds(time_blocks(n, n_splits, size, gap), theirs)


def test_kit_cv_imports_no_scikit_learn(tmp_path, titanic_dir):
    """Making the folds is kit's own work: `kit cv` runs without importing scikit-learn (and SciPy)."""
    code = (
        "import sys; from kit.cli import main; code = main(); "
        "print('sklearn' in sys.modules, 'scipy' in sys.modules); sys.exit(code)"
    )
    args = ["cv", "--data-dir", str(titanic_dir), "--folds", "3", "--epochs", "2", "--seeds", "1", "--quiet"]
    run = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=tmp_path, capture_output=True, text=True, check=False
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1] == "False False"


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_folds_more_than_every_class_is_one_sentence(tmp_path, monkeypatch, capsys):
    """scikit-learn raised a ValueError here, which reached the user as a traceback."""
    folder = write_titanic_like(tmp_path / "data" / "titanic", n_train=12, n_test=4)
    err = refused(tmp_path, monkeypatch, capsys, "cv", "--data-dir", str(folder), "--folds", "11", "--epochs", "1")
    assert "stratified folds need a class with 11 rows or more" in err and "--folds" in err
