"""`kit cv` then `kit submission` of the same configuration cross-validates once: the submission reuses
the CV kit kept (kit.cv_cache) and writes the bytes a fresh submission writes."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

import kit.cv_cache
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
    assert "no CV trained: every model's CV is reused from an earlier run" in out
    assert "training took" not in out


# ---- each model kept on its own: a CV trains only the models no earlier CV of its data and split holds ----


@pytest.fixture
def trained_models(monkeypatch):
    """The models each cross-validation trained, in order."""
    calls = []
    real = kit.pipeline.run_cv
    monkeypatch.setattr(
        kit.pipeline,
        "run_cv",
        lambda c, s, tr, te, plan, *a, **k: calls.append(plan.models) or real(c, s, tr, te, plan, *a, **k),
    )
    return calls


def _cv(data, folder, monkeypatch, capsys, *flags) -> dict:
    """`kit cv --json` in `folder`: its report, less the timing, what it reused and how it compares with the last CV."""
    folder.mkdir(exist_ok=True)
    monkeypatch.chdir(folder)
    assert main(["cv", "--data-dir", str(data), *PLAN, "--json", *flags]) == 0
    report = json.loads(capsys.readouterr().out)
    return {k: v for k, v in report.items() if k not in ("fit_seconds", "reused", "against_last")}


def test_a_cv_that_adds_a_model_trains_only_it_and_reports_the_bytes_of_a_fresh_cv(
    synthetic_dir, tmp_path, monkeypatch, capsys, trained_models
):
    three = ["--models", "linear,nn,deep"]
    fresh = _cv(synthetic_dir, tmp_path / "fresh", monkeypatch, capsys, *three)
    _cv(synthetic_dir, tmp_path / "work", monkeypatch, capsys)  # linear and nn
    assert _cv(synthetic_dir, tmp_path / "work", monkeypatch, capsys, *three) == fresh
    assert trained_models == [("linear", "nn", "deep"), ("linear", "nn"), ("deep",)]
    monkeypatch.chdir(tmp_path / "work")
    assert main(["cv", "--data-dir", str(synthetic_dir), *PLAN, *three]) == 0
    out = capsys.readouterr()
    assert "no CV trained: every model's CV is reused" in out.out and len(trained_models) == 3
    # a submission then trains only its full fit, and writes what a fresh one writes
    args = ["submission", "--data-dir", str(synthetic_dir), *PLAN, *three, "--out", "sub.csv"]
    assert main(args) == 0 and len(trained_models) == 3
    monkeypatch.chdir(tmp_path / "fresh")
    assert main(args) == 0
    for name in ("sub.csv", "sub.json"):
        assert (tmp_path / "work" / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes()


def test_a_cv_of_a_kept_split_cuts_no_folds_and_imports_no_scikit_learn(synthetic_dir, tmp_path, monkeypatch, capsys):
    import subprocess
    import sys

    import kit.validation

    fresh = _cv(synthetic_dir, tmp_path / "fresh", monkeypatch, capsys, "--models", "linear,deep")
    _cv(synthetic_dir, tmp_path / "work", monkeypatch, capsys, "--models", "linear")
    cut = []
    real = kit.validation.split_indices
    monkeypatch.setattr(kit.validation, "split_indices", lambda *a, **k: cut.append(1) or real(*a, **k))
    assert _cv(synthetic_dir, tmp_path / "work", monkeypatch, capsys, "--models", "linear,deep") == fresh
    assert cut == []  # deep trained on the folds kept with linear's CV
    # and a whole process that trains on kept folds never loads scikit-learn (0.7 s of a small CV)
    args = ["cv", "--data-dir", str(synthetic_dir), *PLAN, "--models", "linear,nn"]
    code = f"import sys; from kit.cli import main; main({args!r}); print('sklearn' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path / "work", capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_another_ensemble_trains_nothing_and_a_model_dropped_keeps_the_others(
    synthetic_dir, tmp_path, monkeypatch, capsys, trained_models
):
    _cv(synthetic_dir, tmp_path / "work", monkeypatch, capsys)
    select = _cv(synthetic_dir, tmp_path / "work", monkeypatch, capsys, "--ensemble", "select")
    assert select == _cv(synthetic_dir, tmp_path / "fresh", monkeypatch, capsys, "--ensemble", "select")
    assert trained_models == [("linear", "nn"), ("linear", "nn")]  # the second in the fresh folder only
    capsys.readouterr()
    monkeypatch.chdir(tmp_path / "work")
    loud = [p for p in PLAN if p != "--quiet"]
    assert main(["cv", "--data-dir", str(synthetic_dir), *loud, "--models", "nn"]) == 0
    assert len(trained_models) == 2
    out = capsys.readouterr()  # nothing trains: said once, by the table, not before it as well
    assert "reused" not in out.err and "no CV trained: every model's CV is reused" in out.out
    assert main(["cv", "--data-dir", str(synthetic_dir), *loud, "--models", "nn,deep"]) == 0
    assert trained_models[2:] == [("deep",)]
    out = capsys.readouterr()
    assert (
        "kit: the CV of nn is reused from an earlier run of the same data, recipe, split and settings; deep "
        "trained now" in out.err
    )
    assert "training took " in out.out and " s (nn reused from an earlier run)" in out.out


def test_a_models_key_is_its_own_settings_and_the_split_and_only_the_latest_models_are_kept(
    synthetic_dir, tmp_path, monkeypatch, capsys, trained_models
):
    from kit.competition import load_competition
    from kit.pipeline import cv_keys
    from kit.train import Training
    from kit.validation import Plan

    comp = load_competition("titanic")
    spec = comp.recipe()
    plan = Plan(models=("linear", "nn", "deep"), training=Training(preset="default"))
    split, keys = cv_keys(comp, spec, plan, synthetic_dir)
    deep_lr = replace(plan, training=Training(preset="default", lr={"deep": 0.02}))
    assert cv_keys(comp, spec, deep_lr, synthetic_dir) == (
        split,
        keys | {"deep": cv_keys(comp, spec, deep_lr, synthetic_dir)[1]["deep"]},
    )
    assert cv_keys(comp, spec, deep_lr, synthetic_dir)[1]["deep"] != keys["deep"]
    assert cv_keys(comp, spec, replace(plan, models=("nn",), ensemble="select"), synthetic_dir) == (
        split,
        {"nn": keys["nn"]},
    )
    other_split, other = cv_keys(comp, spec, replace(plan, folds=4), synthetic_dir)
    assert other_split != split and not set(other.values()) & set(keys.values())

    monkeypatch.setattr(kit.cv_cache, "MAX_MODELS", 2)
    _cv(synthetic_dir, tmp_path / "work", monkeypatch, capsys, "--models", "linear,nn,deep")
    _cv(synthetic_dir, tmp_path / "work", monkeypatch, capsys, "--models", "deep,linear")  # linear went first
    assert trained_models == [("linear", "nn", "deep"), ("linear",)]


def test_the_kept_models_stay_within_max_bytes_and_the_cv_just_run_is_kept_whatever_its_size(
    synthetic_dir, tmp_path, monkeypatch, capsys, trained_models
):
    import torch

    work = tmp_path / "work"
    _cv(synthetic_dir, work, monkeypatch, capsys, "--models", "linear,nn")
    path = paths.cv_cache_path("titanic")
    one_cv = kit.cv_cache._nbytes(torch.load(path, weights_only=True))
    assert one_cv > 0
    monkeypatch.setattr(kit.cv_cache, "MAX_BYTES", one_cv)  # room for the split and one CV of two models
    _cv(synthetic_dir, work, monkeypatch, capsys, "--models", "linear,nn", "--lr", "0.05")
    kept = torch.load(path, weights_only=True)
    assert len(kept["models"]) == 2 and kit.cv_cache._nbytes(kept) <= one_cv  # the first CV's went
    monkeypatch.setattr(kit.cv_cache, "MAX_BYTES", 1)
    _cv(synthetic_dir, work, monkeypatch, capsys, "--models", "linear,nn", "--lr", "0.05")  # reused: still there
    _cv(synthetic_dir, work, monkeypatch, capsys, "--models", "linear,nn")  # the first CV's, trained again
    assert len(torch.load(path, weights_only=True)["models"]) == 2  # over the cap: the CV just run is kept
    assert trained_models == [("linear", "nn"), ("linear", "nn"), ("linear", "nn")]  # the third CV trained nothing


def test_a_definition_that_groups_by_another_column_cross_validates_again(
    synthetic_dir, tmp_path, monkeypatch, counted_cv
):
    from kit.competition import PACKAGE_ROOT

    monkeypatch.chdir(tmp_path)
    definition = (PACKAGE_ROOT / "competitions" / "titanic.toml").read_text()
    assert 'group = "Ticket"' in definition
    (tmp_path / "competitions").mkdir()
    (tmp_path / "competitions" / "titanic.toml").write_text(definition)  # ./competitions comes first
    assert main(["cv", "--data-dir", str(synthetic_dir), *PLAN, "--split", "group"]) == 0
    (tmp_path / "competitions" / "titanic.toml").write_text(definition.replace('group = "Ticket"', 'group = "Pclass"'))
    _submission(synthetic_dir, tmp_path, monkeypatch, "--split", "group")
    assert len(counted_cv) == 2  # the kept CV grouped rows by ticket: this one groups them by class


def test_each_training_rows_own_target_rate_is_counted_not_listed_in_the_sidecar_and_the_kept_cv_holds_no_rate(
    synthetic_dir, tmp_path, monkeypatch
):
    import torch

    monkeypatch.chdir(tmp_path)
    args = ["submission", "--data-dir", str(synthetic_dir), "--recipe", "plus", "--models", "linear", "--folds", "3"]
    assert main([*args, "--epochs", "3", "--quiet", "--out", "sub.csv"]) == 0
    n_train = len((synthetic_dir / "train.csv").read_text().strip().splitlines()) - 1
    learned = json.loads((tmp_path / "sub.json").read_text())["recipe_state"]["target_mean"]
    assert set(learned) == {"TicketRate", "SurnameRate"}
    for rate in learned.values():
        assert "fit_rows" not in rate and rate["fit_rows_kept"] == n_train  # the full fit's rows, counted
        assert rate["groups"] and isinstance(rate["prior"], float)  # what test rows are given: kept whole
    kept = torch.load(paths.cv_cache_path("titanic"), weights_only=True)
    (split,) = kept["splits"].values()
    assert list(split) == ["folds"]  # no fold's recipe state, nor its rates, kept: nothing reads them again


# ---- a model that patience stopped before its cap is the CV of any cap at or above where it stopped ----

CHOOSING = ["--models", "linear,nn", "--folds", "3", "--seeds", "2", "--choose-epochs", "--patience", "2", "--json"]


def _choosing_cv(data, folder, monkeypatch, capsys, epochs: int) -> tuple[dict, str]:
    folder.mkdir(exist_ok=True)
    monkeypatch.chdir(folder)
    assert main(["cv", "--data-dir", str(data), *CHOOSING, "--epochs", str(epochs)]) == 0
    out, err = capsys.readouterr()
    report = json.loads(out)
    return {k: v for k, v in report.items() if k not in ("fit_seconds", "reused", "against_last")}, err


def test_a_higher_cap_reuses_a_model_patience_stopped_below_the_old_one_with_the_bytes_of_a_fresh_cv(
    synthetic_dir, tmp_path, monkeypatch, capsys, trained_models
):
    work = tmp_path / "work"
    first, _ = _choosing_cv(synthetic_dir, work, monkeypatch, capsys, 20)
    curves = {m: r["epochs_tried"] for m, r in first["models"].items()}  # one group of folds: one length
    # the test's premise: the article's linear model still improves at 20 epochs, patience stops nn well before
    assert curves["linear"] == 20 and curves["nn"] < 19, curves
    again, err = _choosing_cv(synthetic_dir, work, monkeypatch, capsys, 30)
    assert trained_models == [("linear", "nn"), ("linear",)]  # nn is the CV a cap of 30 would train
    assert f"patience stopped nn at epoch {curves['nn']} of 20 before" in err
    fresh, _ = _choosing_cv(synthetic_dir, tmp_path / "fresh", monkeypatch, capsys, 30)
    assert again == fresh
    # and a submission after each (the CV reused, the full fits trained) writes the same bytes
    args = ["submission", "--data-dir", str(synthetic_dir), *CHOOSING[:-1], "--epochs", "30", "--out", "sub.csv"]
    for folder in (work, tmp_path / "fresh"):
        monkeypatch.chdir(folder)
        assert main(args) == 0
    capsys.readouterr()
    assert len(trained_models) == 3
    for name in ("sub.csv", "sub.json"):
        assert (work / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes()
    # a cap at where nn stopped still reuses it; one below trains it again
    _choosing_cv(synthetic_dir, work, monkeypatch, capsys, curves["nn"])
    _choosing_cv(synthetic_dir, work, monkeypatch, capsys, curves["nn"] - 1)
    assert trained_models[3:] == [("linear",), ("linear", "nn")]


def test_a_cache_an_earlier_kit_wrote_with_recipe_states_is_still_reused_and_kept_without_them(
    synthetic_dir, tmp_path, monkeypatch, counted_cv
):
    import torch

    monkeypatch.chdir(tmp_path)
    args = ["cv", "--data-dir", str(synthetic_dir), *PLAN]
    assert main(args) == 0
    path = paths.cv_cache_path("titanic")
    kept = torch.load(path, weights_only=True)
    for split in kept["splits"].values():  # as kits before this one wrote it
        split["recipe_states"] = [{"columns": ["Age"], "shift": [1.5]} for _ in split["folds"]]
    torch.save(kept, path)
    calls = len(counted_cv)
    assert main(args) == 0  # reused, not trained
    assert len(counted_cv) == calls
    assert all(list(split) == ["folds"] for split in torch.load(path, weights_only=True)["splits"].values())
