"""`kit cv` then `kit submission` of the same configuration cross-validates once: the submission reuses
the CV kit kept (kit.cv_cache) and writes the bytes a fresh submission writes."""

from __future__ import annotations

import pytest

import kit.pipeline
from kit import paths
from kit.cli import main

PLAN = ["--models", "linear,nn", "--folds", "3", "--seeds", "2", "--epochs", "5", "--quiet"]


@pytest.fixture
def counted_cv(monkeypatch):
    """How many times the pipeline cross-validates."""
    calls = []
    real = kit.pipeline.run_cv
    monkeypatch.setattr(kit.pipeline, "run_cv", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def _submission(data, folder, monkeypatch, *extra) -> tuple[bytes, bytes]:
    monkeypatch.chdir(folder)
    assert main(["submission", "--data-dir", str(data), *PLAN, "--out", "sub.csv", *extra]) == 0
    return (folder / "sub.csv").read_bytes(), (folder / "sub.json").read_bytes()


def test_a_submission_after_kit_cv_reuses_its_cv_and_writes_the_same_bytes(
    synthetic_dir, tmp_path, monkeypatch, counted_cv
):
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    expected = _submission(synthetic_dir, fresh, monkeypatch)
    assert len(counted_cv) == 1

    after_cv = tmp_path / "after_cv"
    after_cv.mkdir()
    monkeypatch.chdir(after_cv)
    assert main(["cv", "--data-dir", str(synthetic_dir), *PLAN]) == 0
    calls_before = len(counted_cv)
    assert _submission(synthetic_dir, after_cv, monkeypatch) == expected
    assert len(counted_cv) == calls_before  # no second cross-validation


def test_another_configuration_cross_validates_again(synthetic_dir, tmp_path, monkeypatch, counted_cv):
    monkeypatch.chdir(tmp_path)
    assert main(["cv", "--data-dir", str(synthetic_dir), *PLAN]) == 0
    _submission(synthetic_dir, tmp_path, monkeypatch, "--split-seed", "7")
    assert len(counted_cv) == 2  # kit cv's, then the submission's own: the kept one was made with another split


def test_a_damaged_cache_is_ignored_and_replaced(synthetic_dir, tmp_path, monkeypatch, counted_cv):
    monkeypatch.chdir(tmp_path)
    cache = paths.cv_cache_path("titanic")
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"not a torch file")
    _submission(synthetic_dir, tmp_path, monkeypatch)
    assert len(counted_cv) == 1 and cache.read_bytes() != b"not a torch file"


def test_a_reused_cv_says_so_instead_of_timing_training_that_did_not_happen(
    synthetic_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    plan = [p for p in PLAN if p != "--quiet"]
    assert main(["cv", "--data-dir", str(synthetic_dir), *plan]) == 0
    assert "training took " in capsys.readouterr().out
    assert main(["submission", "--data-dir", str(synthetic_dir), *plan, "--out", "sub.csv"]) == 0
    out = capsys.readouterr().out
    assert "reused the last identical run's CV (it trained in " in out and "training took" not in out
