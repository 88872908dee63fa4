"""`kit submission --no-refit` (`refit = false` in [training]): the test rows are predicted by the CV's fold models,
their predictions averaged and weighted as the ensemble, and nothing trains after the CV."""

from __future__ import annotations

import json

import pytest
from conftest import titanic_with_training

import kit.pipeline
from kit.cli import build_parser, main
from kit.commands import _plan
from kit.competition import load_competition
from kit.report import load_runs
from kit.submission import submission_text

PLAN = ["--models", "linear,nn", "--folds", "3", "--seeds", "2", "--epochs", "5", "--quiet"]


@pytest.fixture
def no_full_fit(monkeypatch):
    """The CVs run, recorded in `seen`; a full fit fails the test."""
    seen = []
    real = kit.pipeline.cached_cv

    def recording(*args, **kwargs):
        seen.append(real(*args, **kwargs))
        return seen[-1]

    def full_fit(*args, **kwargs):
        raise AssertionError("no model may train on all rows without a refit")

    monkeypatch.setattr(kit.pipeline, "cached_cv", recording)
    monkeypatch.setattr(kit.pipeline, "fit_full", full_fit)
    return seen


def test_without_a_refit_the_submission_is_the_fold_models_mean_and_nothing_trains_on_all_rows(
    synthetic_dir, tmp_path, monkeypatch, no_full_fit
):
    monkeypatch.chdir(tmp_path)
    args = ["submission", "--data-dir", str(synthetic_dir), *PLAN, "--ensemble", "select"]
    assert main([*args, "--no-refit", "--out", "folds.csv"]) == 0
    (result, _), comp = no_full_fit[-1], load_competition("titanic")
    ids = [str(i) for i in range(81, 111)]  # the synthetic test rows' ids
    assert result.ensemble.weights is not None  # weighted by the weights chosen on every fold
    expected = submission_text(comp, result.task, ids, result.ensemble.test_pred)
    assert (tmp_path / "folds.csv").read_text() == expected
    sidecar = json.loads((tmp_path / "folds.json").read_text())
    assert sidecar["config"]["plan"]["refit"] is False and sidecar["chosen_epochs"] is None
    assert load_runs("titanic")[-1]["refit"] is False


def test_a_refit_and_a_no_refit_submission_differ_and_the_default_name_keeps_both(
    synthetic_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    args = ["submission", "--data-dir", str(synthetic_dir), *PLAN]
    assert main(args) == 0
    [refit] = sorted((tmp_path / "submissions" / "titanic").glob("*.csv"))
    first = refit.read_bytes()
    capsys.readouterr()
    assert main([*args, "--no-refit"]) == 0
    err = capsys.readouterr().err
    assert "refit true -> false" in err  # the hash-suffixed name's note says what changed
    files = sorted((tmp_path / "submissions" / "titanic").glob("*.csv"))
    assert len(files) == 2 and refit.read_bytes() == first  # the earlier file stays as it was
    refits = {f.name: json.loads(f.with_suffix(".json").read_text())["config"]["plan"]["refit"] for f in files}
    assert refits == {refit.name: True, next(f.name for f in files if f != refit): False}


def test_a_no_refit_submission_after_kit_cv_trains_nothing_and_writes_the_bytes_of_a_fresh_one(
    synthetic_dir, tmp_path, monkeypatch
):
    fresh, after_cv = tmp_path / "fresh", tmp_path / "after_cv"
    fresh.mkdir(), after_cv.mkdir()
    out = ["submission", "--data-dir", str(synthetic_dir), *PLAN, "--no-refit", "--out", "sub.csv"]
    monkeypatch.chdir(fresh)
    assert main(out) == 0
    monkeypatch.chdir(after_cv)
    assert main(["cv", "--data-dir", str(synthetic_dir), *PLAN]) == 0
    trained = []
    real = kit.pipeline.run_cv
    monkeypatch.setattr(kit.pipeline, "run_cv", lambda *a, **k: trained.append(1) or real(*a, **k))
    monkeypatch.setattr(kit.pipeline, "fit_full", lambda *a, **k: trained.append(2) or pytest.fail("a full fit"))
    assert main(out) == 0
    assert trained == []  # the CV kit cv kept, and no model trained after it
    assert (after_cv / "sub.csv").read_bytes() == (fresh / "sub.csv").read_bytes()
    assert main(out[:-1] + ["again.csv"]) == 0
    assert (after_cv / "again.csv").read_bytes() == (fresh / "sub.csv").read_bytes()  # the same bytes run after run


def test_refit_comes_from_the_definition_and_the_flag_overrides_it(tmp_path):
    build = build_parser()
    assert _plan(build.parse_args(["submission", "-c", "titanic"])).refit is True  # kit's default
    path = titanic_with_training(tmp_path, "[training]\nrefit = false\n")
    assert _plan(build.parse_args(["submission", "-c", path])).refit is False
    assert _plan(build.parse_args(["submission", "-c", path, "--refit"])).refit is True
    assert _plan(build.parse_args(["run", "-c", "titanic", "--no-refit"])).refit is False
    assert _plan(build.parse_args(["notebook", "-c", "titanic", "--no-refit"])).refit is False


def test_a_refit_that_is_not_true_or_false_is_refused_in_one_sentence(tmp_path, monkeypatch, capsys):
    path = titanic_with_training(tmp_path, '[training]\nrefit = "no"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["submission", "-c", path, "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "refit" in err and "Traceback" not in err and len(err.splitlines()) == 1, err


def test_a_no_refit_notebook_says_the_fold_models_predict_and_carries_the_plan(tmp_path, monkeypatch, capsys):
    import ast

    import nbformat

    monkeypatch.chdir(tmp_path)
    assert main(["notebook", "-c", "titanic", "--user", "me", "--no-refit", "--out", "nb"]) == 0
    cells = nbformat.read(tmp_path / "nb" / "titanic.ipynb", as_version=4).cells
    text = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    assert "nothing trains after the CV" in text and "trained on all training rows" not in text
    config = next(c.source for c in cells if c.source.startswith("CONFIG = "))
    assert ast.literal_eval(config.split("=", 1)[1])["plan"]["refit"] is False  # the run cell's Plan(**...)
