"""`kit cv --rows N`: a quick CV on N training rows drawn at random, for a first look at a large competition.

The rows are drawn with the split seed and kept in the file's order; extra rows ([files] extra) are drawn at the
same rate. A sampled CV is a CV of other rows: no CV of every row (or submission) reuses its models."""

from __future__ import annotations

import json

import pytest
from conftest import kit, refused, titanic_with_training
from test_extra_rows import define, playground

from kit import pipeline
from kit.competition import extra_rows, load_competition, read_train_test
from kit.pipeline import sample_rows
from kit.validation import Plan

FAST = ["--models", "linear", "--folds", "3", "--epochs", "3", "--quiet"]


@pytest.fixture
def trained_models(monkeypatch):
    calls = []
    real = pipeline.run_cv
    monkeypatch.setattr(
        pipeline,
        "run_cv",
        lambda c, s, tr, te, plan, *a, **k: calls.append(len(tr)) or real(c, s, tr, te, plan, *a, **k),
    )
    return calls


def test_rows_are_drawn_by_the_split_seed_in_file_order_and_extra_rows_at_the_same_rate(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = playground(tmp_path / "data", n_train=200, n_extra=100)
    comp = load_competition(define(tmp_path))
    train, _ = read_train_test(comp, folder, comp.recipe())
    assert extra_rows(comp, train) == 100
    sample = sample_rows(comp, train, Plan(rows=50))
    assert len(sample) == 75 and extra_rows(comp, sample) == 25  # half as many extra rows, a quarter each
    ids = sample[comp.id].tolist()
    own = [i for i in ids if i in set(train[comp.id][:200])]
    assert own == [i for i in train[comp.id][:200] if i in set(own)] and len(own) == 50  # the file's order
    assert ids[:50] == own  # the competition's rows first, the extra rows last
    assert sample.equals(sample_rows(comp, train, Plan(rows=50)))
    assert not sample.equals(sample_rows(comp, train, Plan(rows=50, split_seed=7)))
    assert sample_rows(comp, train, Plan(rows=200)) is train and sample_rows(comp, train, Plan()) is train


def test_kit_cv_rows_says_what_it_sampled_and_a_cv_of_every_row_trains_again(
    synthetic_dir, tmp_path, monkeypatch, capsys, trained_models
):
    out = kit(tmp_path, monkeypatch, capsys, "cv", "--data-dir", str(synthetic_dir), *FAST[:-1], "--rows", "30")
    assert "split=stratified 3 folds  seeds=5  rows=30 drawn at random" in out  # seeds: the definition's
    assert trained_models == [30]
    report = json.loads(
        kit(tmp_path, monkeypatch, capsys, "cv", "--data-dir", str(synthetic_dir), *FAST, "--rows", "30", "--json")
    )
    assert trained_models == [30]  # the same sample: its CV is reused
    full = json.loads(kit(tmp_path, monkeypatch, capsys, "cv", "--data-dir", str(synthetic_dir), *FAST, "--json"))
    assert trained_models == [30, 80] and full["ensemble"] != report["ensemble"]
    kit(tmp_path, monkeypatch, capsys, "cv", "--data-dir", str(synthetic_dir), *FAST, "--rows", "80")
    assert trained_models == [30, 80]  # every row: the CV of the whole file, reused


def test_rows_refused_with_an_oof_file_or_below_one(synthetic_dir, tmp_path, monkeypatch, capsys, trained_models):
    args = ["cv", "--data-dir", str(synthetic_dir), *FAST, "--rows", "30", "--oof", "oof.csv"]
    assert "--rows and --oof cannot go together" in refused(tmp_path, monkeypatch, capsys, *args)
    args = ["cv", "--data-dir", str(synthetic_dir), *FAST, "--rows", "0"]
    assert "--rows must be at least 1" in refused(tmp_path, monkeypatch, capsys, *args)
    assert trained_models == [] and not (tmp_path / "oof.csv").exists()


@pytest.mark.parametrize("command", ["submission", "run", "notebook"])
def test_rows_on_a_command_that_trains_on_every_row_is_refused_in_a_sentence(
    command, synthetic_dir, tmp_path, monkeypatch, capsys, trained_models
):
    args = [command, "--data-dir", str(synthetic_dir), *FAST, "--rows", "30"]
    assert f"kit {command} trains on every row: --rows is for kit cv's" in refused(tmp_path, monkeypatch, capsys, *args)
    assert trained_models == [] and [p.name for p in tmp_path.iterdir()] == ["data"]  # nothing trained or written


def test_a_sampled_cv_compares_two_recipes_on_the_same_rows(synthetic_dir, tmp_path, monkeypatch, capsys):
    args = ["cv", "--data-dir", str(synthetic_dir), *FAST, "--rows", "40", "--against", "article", "--json"]
    report = json.loads(kit(tmp_path, monkeypatch, capsys, *args))
    assert report["against"]["recipe"] == "article" and len(report["against"]["comparison"]["linear"]) > 0


def test_the_run_log_and_report_tell_a_sampled_cv_from_one_of_every_row(synthetic_dir, tmp_path, monkeypatch, capsys):
    for rows in (["--rows", "30"], []):
        kit(tmp_path, monkeypatch, capsys, "cv", "--data-dir", str(synthetic_dir), *FAST, *rows)
    recorded = json.loads((tmp_path / "submissions" / "titanic" / "runs.json").read_text())
    assert [r["rows"] for r in recorded] == [30, 0]
    lines = kit(tmp_path, monkeypatch, capsys, "report").splitlines()
    table, note = lines[1:3], lines[3]
    assert "on 30 rows" not in table[0] and "stratified3 on 30 rows" in table[1]  # the run on every row first
    assert note.startswith("runs on rows drawn at random (`on N rows`) come after the runs on every row")


def test_a_bad_target_outside_the_sample_is_refused_too(synthetic_dir, tmp_path, monkeypatch, capsys):
    path = synthetic_dir / "train.csv"
    lines = path.read_text().splitlines()
    comp = load_competition("titanic")
    train, _ = read_train_test(comp, synthetic_dir, comp.recipe())
    drawn = set(sample_rows(comp, train, Plan(rows=30)).index.tolist())
    outside = next(i for i in range(len(train)) if i not in drawn)  # a row the sample leaves out
    cells = lines[outside + 1].split(",")
    cells[1] = "7"  # its Survived
    lines[outside + 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    args = ["cv", "--data-dir", str(synthetic_dir), *FAST, "--rows", "30"]
    assert f"holds '7' at PassengerId {cells[0]} (line {outside + 2} of the file)" in refused(
        tmp_path, monkeypatch, capsys, *args
    )


@pytest.mark.parametrize("file", ["train.csv", "test.csv"])
def test_a_sampled_cv_reads_every_rows_inputs_as_a_full_cv_does(
    file, synthetic_dir, tmp_path, monkeypatch, capsys, trained_models
):
    # a cell that is no number, in a row the sample leaves out (or in the test rows it never uses): refused as the
    # CV of every row would refuse it, before anything trains
    import pandas as pd

    monkeypatch.chdir(tmp_path)
    comp = load_competition("titanic")
    drawn = sample_rows(comp, read_train_test(comp, synthetic_dir, comp.recipe("article"))[0], Plan(rows=30)).index
    frame = pd.read_csv(synthetic_dir / file, dtype=str, keep_default_na=False)
    row = next(i for i in frame.index if file == "test.csv" or i not in drawn)
    frame.loc[row, "Age"] = "forty"
    frame.to_csv(synthetic_dir / file, index=False)
    args = ["cv", "--data-dir", str(synthetic_dir), *FAST, "--rows", "30", "--recipe", "article"]
    error = refused(tmp_path, monkeypatch, capsys, *args)
    assert f"column Age holds 'forty', which is not a number, at PassengerId {frame.loc[row, 'PassengerId']};" in error
    assert trained_models == []


def test_a_sampled_cv_against_another_recipe_reads_every_rows_inputs_of_both(
    synthetic_dir, tmp_path, monkeypatch, capsys, trained_models
):
    import pandas as pd
    from conftest import REPO

    definition = tmp_path / "two.toml"  # Titanic's, with a recipe of Fare alone and one of Age alone
    recipes = '[recipes.fares]\nnumeric = ["Fare"]\n\n[recipes.ages]\nfill_mode = ["Age"]\nnumeric = ["Age"]\n'
    definition.write_text((REPO / "competitions" / "titanic.toml").read_text() + "\n" + recipes)
    frame = pd.read_csv(synthetic_dir / "test.csv", dtype=str, keep_default_na=False)
    frame.loc[3, "Age"] = "forty"  # a test row: no sampled CV reads it, the other recipe's full run would
    frame.to_csv(synthetic_dir / "test.csv", index=False)
    args = ["cv", "-c", str(definition), "--data-dir", str(synthetic_dir), *FAST, "--rows", "30", "--recipe", "fares"]
    assert kit(tmp_path, monkeypatch, capsys, *args)  # Fare alone: the bad Age is no input of this recipe
    assert trained_models == [30]
    error = refused(tmp_path, monkeypatch, capsys, *args, "--against", "ages")
    assert f"column Age holds 'forty', which is not a number, at PassengerId {frame.loc[3, 'PassengerId']};" in error
    assert trained_models == [30]


def test_a_sampled_cv_predicts_no_test_rows_and_its_table_says_none(synthetic_dir, tmp_path, monkeypatch, capsys):
    """A trial's user read "test predictions: the mean of the fold models'" under a CV of 50,000 rows, which
    predicts none."""
    definition = titanic_with_training(tmp_path, '[training]\nensemble = "select"\nrefit = false\n')
    args = ["cv", "-c", definition, "--data-dir", str(synthetic_dir), "--models", "linear,nn", "--folds", "3"]
    sampled = kit(tmp_path, monkeypatch, capsys, *args, "--epochs", "3", "--rows", "60")
    assert "ensemble weights chosen on every fold: linear " in sampled
    assert "test predictions" not in sampled and "for the test rows" not in sampled
    every = kit(tmp_path, monkeypatch, capsys, *args, "--epochs", "3")
    assert "ensemble weights for the test rows: " in every and "test predictions: the mean of the fold models'" in every


def test_a_sample_without_a_rare_class_keeps_every_rows_classes_for_the_rates_and_the_models(
    tmp_path, monkeypatch, capsys
):
    # a trial's crime categories: a 2-row class missing from 50,000 drawn rows, and its rates' recipe refused
    from conftest import definition

    from kit.cli import main

    (tmp_path / "data").mkdir()
    rows = [["id", "x", "shop", "y"]] + [[i, i % 7, f"s{i % 4}", "rare" if i == 5 else "ab"[i % 2]] for i in range(300)]
    (tmp_path / "data" / "train.csv").write_text("\n".join(",".join(map(str, r)) for r in rows) + "\n")
    (tmp_path / "data" / "test.csv").write_text("id,x,shop\n300,1,s0\n301,2,s1\n")
    (tmp_path / "data" / "sample_submission.csv").write_text("id,a,b,rare\n300,0.5,0.5,0\n301,0.5,0.5,0\n")
    recipe = (
        '[recipes.base]\nnumeric = ["x", "r"]\ntarget_mean = { r = { by = ["shop"], classes = ["a", "b", "rare"] } }\n'
    )
    text = definition("shops", "multiclass", "log_loss", recipe).replace('["id", "y"]', '["id", "a", "b", "rare"]')
    (tmp_path / "competitions").mkdir()
    (tmp_path / "competitions" / "shops.toml").write_text(text)
    monkeypatch.chdir(tmp_path)
    comp = load_competition("shops")
    train, _ = read_train_test(comp, tmp_path / "data", comp.recipe())
    assert "rare" not in set(sample_rows(comp, train, Plan(rows=50))["y"])  # the draw leaves the rare class out
    assert main(["cv", "-c", "shops", "--data-dir", "data", "--rows", "50", "--json", *FAST]) == 0, capsys.readouterr()
    assert json.loads(capsys.readouterr().out)["rows"] == 50
