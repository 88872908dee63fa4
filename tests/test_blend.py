"""Blending recipes: [run] blend / --blend joins other recipes' models (the same models, on the same folds) in the
ensemble, as competitors blend their experiments' out-of-fold predictions by hand."""

from __future__ import annotations

import csv
import json

import torch
from conftest import kit

from kit.cli import main

FAST = ["--folds", "3", "--epochs", "3", "--models", "linear,nn", "--quiet"]


def test_a_blend_holds_every_recipes_models_and_its_mean_is_theirs(synthetic_dir, tmp_path, monkeypatch, capsys):
    args = ["cv", "--data-dir", str(synthetic_dir), *FAST, "--json"]
    alone = json.loads(kit(tmp_path, monkeypatch, capsys, *args))
    other = json.loads(kit(tmp_path, monkeypatch, capsys, *args, "--recipe", "article"))
    oof = tmp_path / "blend.csv"
    blend = json.loads(kit(tmp_path, monkeypatch, capsys, *args, "--blend", "article", "--oof", str(oof)))
    assert list(blend["models"]) == ["linear", "nn", "article/linear", "article/nn"]
    for name in ("linear", "nn"):  # each recipe's models as its own CV made them (reused: the same folds and keys)
        assert blend["models"][name]["fold_scores"] == alone["models"][name]["fold_scores"]
        assert blend["models"][f"article/{name}"]["fold_scores"] == other["models"][name]["fold_scores"]
    # the ensemble is the mean of the four models' out-of-fold probabilities
    rows = list(csv.DictReader(oof.open()))
    members = ["linear", "nn", "article/linear", "article/nn"]
    assert list(rows[0]) == ["PassengerId", *members, "ensemble", "Survived"]
    for row in rows:
        assert abs(float(row["ensemble"]) - sum(float(row[c]) for c in members) / 4) < 1e-6
    assert blend["ensemble"]["mean"] != alone["ensemble"]["mean"]  # four models, not two
    # the run log names every recipe the blend holds: a trial's blend was logged as its first recipe alone
    runs = json.loads((tmp_path / "submissions/titanic/runs.json").read_text())
    assert [r["recipe"] for r in runs] == ["plus", "article", "plus+article"]
    assert "; recipe plus+article -> plus; " in kit(tmp_path, monkeypatch, capsys, *args[:-1], "--lr", "0.02")


def test_against_says_what_the_two_recipes_blended_would_score(synthetic_dir, tmp_path, monkeypatch, capsys):
    args = ["cv", "--data-dir", str(synthetic_dir), *FAST]
    blend = json.loads(kit(tmp_path, monkeypatch, capsys, *args, "--json", "--blend", "article"))
    against = json.loads(kit(tmp_path, monkeypatch, capsys, *args, "--json", "--against", "article"))
    assert against["against"]["blend"]["fold_scores"] == blend["ensemble"]["fold_scores"]
    out = kit(tmp_path, monkeypatch, capsys, *args, "--against", "article")
    # against the better recipe alone: a trial's blend read "better" than the weaker one, by three times its gain
    means = {"plus": against["ensemble"]["mean"], "article": against["against"]["ensemble"]["mean"]}
    best = max(means, key=lambda name: (means[name], name == "plus"))  # a tie: the recipe the run trains
    said = f"{blend['ensemble']['mean']:.4f} against {best}'s {means[best]:.4f}"
    assert f"\nblended, plus's models and article's (--blend article): accuracy {said}, " in out
    assert means["plus"] != means["article"]  # the two differ, so the choice of the better one is tested


def test_a_blends_submission_averages_the_fold_models_and_says_what_it_blends(
    synthetic_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    args = ["submission", "--data-dir", str(synthetic_dir), *FAST, "--blend", "article"]
    assert main([*args, "--no-refit"]) == 0
    written = tmp_path / "submissions/titanic/plus+article_linear-nn_stratified3_seeds5.csv"  # titanic's 5 seeds
    assert written.exists(), capsys.readouterr()
    sidecar = json.loads(written.with_suffix(".json").read_text())
    assert sidecar["config"]["plan"]["blend"] == ["article"] and "article/nn" in sidecar["cv"]["models"]
    first = written.read_bytes()
    written.unlink()
    assert main([*args, "--no-refit"]) == 0 and written.read_bytes() == first  # the same bytes again


def test_a_blends_refit_trains_each_recipes_models_on_every_row_and_weighs_them_as_its_cv(
    synthetic_dir, tmp_path, monkeypatch
):
    """Each recipe's models, at the epochs CV chose for them under their own names, combined by the CV's weights:
    the same as fitting each recipe on every row by itself and weighing the four predictions so."""
    from dataclasses import replace

    from kit.cli import build_parser
    from kit.commands import _plan
    from kit.competition import load_competition, read_train_test
    from kit.ensemble import combine
    from kit.pipeline import _blend_on_every_row, blended_cv
    from kit.validation import fit_full_models

    monkeypatch.chdir(tmp_path)
    comp = load_competition("titanic")
    flags = ["submission", "--data-dir", str(synthetic_dir), *FAST[:-1], "--blend", "article", "--ensemble", "select"]
    plan = replace(_plan(build_parser().parse_args(flags)), seeds=1)
    spec, other = comp.recipe("plus"), comp.recipe("article")
    train, test = read_train_test(comp, synthetic_dir, spec)
    result, y = blended_cv(comp, spec, plan, synthetic_dir, train, test, quiet=True)
    task = result.task
    blended, state = _blend_on_every_row(comp, spec, plan, synthetic_dir, train, test, y, task, result, quiet=True)
    epochs, weights = result.full_fit_epochs(), result.ensemble.weights
    assert set(weights) == {"linear", "nn", "article/linear", "article/nn"} and "article/nn" in epochs
    own, _ = fit_full_models(spec, train, test, y, plan, task, epochs={m: epochs[m] for m in ("linear", "nn")})
    theirs, _ = fit_full_models(
        other, *read_train_test(comp, synthetic_dir, other), y, plan, task,
        epochs={m: epochs[f"article/{m}"] for m in ("linear", "nn")},
    )  # fmt: skip
    preds = [own["linear"], own["nn"], theirs["linear"], theirs["nn"]]
    expected = combine(preds, [weights[m] for m in ("linear", "nn", "article/linear", "article/nn")])
    assert torch.equal(blended, expected) and state["recipe"] == "plus"


def test_a_blend_of_no_recipe_or_of_its_own_is_one_sentence(synthetic_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["cv", "--data-dir", str(synthetic_dir), *FAST]
    assert main([*args, "--blend", "artcle"]) == 2
    assert "--blend names artcle, none of titanic's recipes: article, plus." in capsys.readouterr().err
    assert main([*args, "--blend", "plus"]) == 2  # the recipe the run trains
    assert "name each other recipe once" in capsys.readouterr().err
    assert main([*args, "--blend", "article", "--against", "article"]) == 2
    assert "run one at a time" in capsys.readouterr().err


def test_run_blend_in_the_definition_is_checked_and_used(synthetic_dir, tmp_path, monkeypatch, capsys):
    from conftest import REPO

    text = (REPO / "competitions" / "titanic.toml").read_text()
    assert "\n[run]\n" in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("\n[run]\n", '\n[run]\nblend = ["nope"]\n'))
    monkeypatch.chdir(tmp_path)
    assert main(["cv", "-c", str(bad), "--data-dir", str(synthetic_dir), *FAST]) == 2
    assert '[run] blend names "nope", none of the [recipes]' in capsys.readouterr().err
    good = tmp_path / "good.toml"
    good.write_text(text.replace("\n[run]\n", '\n[run]\nblend = ["article"]\n'))
    assert main(["cv", "-c", str(good), "--data-dir", str(synthetic_dir), *FAST]) == 0
    out = capsys.readouterr().out
    assert "recipe=plus+article" in out and "\narticle/linear " in out


def test_a_blends_notebook_writes_the_local_submission_byte_for_byte(tmp_path, monkeypatch, capsys):
    """Local/Kaggle parity holds for a blend: the notebook's CONFIG carries it and the notebook blends the same."""
    import shutil

    from conftest import shared_data
    from test_notebook import run_as_on_kaggle

    from kit.cli import build_parser
    from kit.commands import _plan
    from kit.competition import load_competition
    from kit.notebook import build_notebook

    local = ["--recipe", "article", "--blend", "plus", "--models", "linear,nn", "--folds", "3", "--epochs", "5"]
    local += ["--no-refit"]
    plan = _plan(build_parser().parse_args(["submission", *local]))
    built = build_notebook(load_competition("titanic"), "article", plan, "someone", tmp_path / "build")
    root = tmp_path / "kaggle"
    shutil.copytree(shared_data("titanic"), root / "input" / "titanic")
    _, on_kaggle = run_as_on_kaggle(built / "titanic.ipynb", root, monkeypatch)
    monkeypatch.chdir(tmp_path)
    written = tmp_path / "local.csv"
    assert main(["submission", "--data-dir", str(shared_data("titanic")), *local, "--out", str(written)]) == 0
    assert on_kaggle == written.read_bytes()
