"""`kit new` drafts a definition that runs unchanged; `kit list` and `kit recipe show` show what kit knows."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from conftest import shared_data

from kit import KitError
from kit.cli import main


@pytest.mark.parametrize("slug", ["titanic", "spaceship-titanic"])
def test_kit_new_drafts_a_definition_that_kit_cv_runs_unchanged(slug, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    data = shared_data(slug)
    assert main(["new", slug, "--data-dir", str(data)]) == 0
    path = tmp_path / "competitions" / f"{slug}.toml"
    out, err = capsys.readouterr()
    assert out.strip() == str(path.relative_to(tmp_path))
    # its last line says what it guessed, from the file it wrote, and what to run next
    summary = err.splitlines()[-1]
    assert summary.startswith("kit: drafted a binary task scored by accuracy (a guess: see the competition's ")
    assert summary.endswith(f"; next: kit cv -c {slug}.")
    spec = next(iter(tomllib.loads(path.read_text())["recipes"].values()))
    rates = [c for c in spec["numeric"] if c in spec.get("target_mean", {})]  # counted as categories, not numbers
    numbers = len(spec["numeric"]) - len(rates)
    assert f"features: {numbers} numbers, {len(spec['one_hot'])} categories one-hot" in summary
    by = [spec["target_mean"][rate]["by"] for rate in rates]
    pairs = sum(isinstance(b, list) and len(b) == 2 for b in by)  # Titanic's Pclass x Sex: a pair, not a category
    assert len(rates) == 1 and (", 1 pair of columns as its target rate" if pairs else ", 1 category as its") in summary
    text = path.read_text()
    raw = tomllib.loads(text)
    assert raw["task"] == "binary" and raw["metric"] == "accuracy"
    assert "a guess" in text  # the metric was not given, so the file says it guessed
    code_lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert all("#" in line or line.startswith("[") for line in code_lines)  # every setting is commented
    assert main(["cv", "-c", slug, "--data-dir", str(data), "--folds", "2", "--models", "linear", "--quiet"]) == 0
    assert "ensemble" in capsys.readouterr().out


def test_kit_new_takes_the_metric_it_is_given_and_refuses_one_that_does_not_fit(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    data = shared_data("titanic")
    assert main(["new", "titanic", "--data-dir", str(data), "--metric", "roc_auc"]) == 0
    text = (tmp_path / "competitions" / "titanic.toml").read_text()
    assert tomllib.loads(text)["metric"] == "roc_auc" and "a guess" not in text
    assert "scored by roc_auc; features: " in capsys.readouterr().err  # given, so not called a guess
    assert main(["new", "other", "--data-dir", str(data), "--metric", "rmse"]) == 2
    assert "does not score a binary task" in capsys.readouterr().err


def test_kit_new_help_names_every_metric_kit_scores(capsys):
    from kit.task import METRICS

    with pytest.raises(SystemExit):
        main(["new", "--help"])
    shown = " ".join(capsys.readouterr().out.split())  # argparse wraps the help
    assert all(name in shown for name in METRICS) and "from its Evaluation page" in shown


def test_kit_new_never_replaces_a_definition(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "competitions").mkdir()
    mine = tmp_path / "competitions" / "titanic.toml"
    mine.write_text("# my own\n")
    assert main(["new", "titanic", "--data-dir", str(shared_data("titanic"))]) == 2
    assert "already exists" in capsys.readouterr().err
    assert mine.read_text() == "# my own\n"


@pytest.mark.parametrize("slug", ["../up", "Titanic", ""])
def test_kit_new_refuses_a_slug_that_is_not_one(slug, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["new", slug, "--data-dir", str(tmp_path)]) == 2
    assert "not a competition slug" in capsys.readouterr().err
    assert not (tmp_path / "competitions").exists()


def test_kit_list_shows_each_competition_with_its_task_metric_and_data(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["competition", "task", "metric", "recipes", "data"]
    titanic = next(line for line in lines if line.startswith("titanic "))
    assert titanic.split()[1:4] == ["binary", "accuracy", "article,plus"] and "missing" in titanic
    assert "--data-dir DIR" in titanic  # data kept elsewhere is passed in, not only fetched


def test_kit_list_shows_a_slug_in_both_folders_once_as_kit_would_load_it(tmp_path, monkeypatch, capsys):
    from conftest import REPO

    from kit.competition import load_competition

    monkeypatch.chdir(tmp_path)
    (tmp_path / "competitions").mkdir()  # ./competitions holds its own titanic, which comes first
    text = (REPO / "competitions" / "titanic.toml").read_text()
    (tmp_path / "competitions" / "titanic.toml").write_text(text.replace('metric = "accuracy"', 'metric = "roc_auc"'))
    assert load_competition("titanic").metric == "roc_auc"
    assert main(["list"]) == 0
    slugs = [line.split()[:3] for line in capsys.readouterr().out.splitlines()[1:]]
    assert [slug for slug, *_ in slugs].count("titanic") == 1
    assert ["titanic", "binary", "roc_auc"] in slugs and ["spaceship-titanic", "binary", "accuracy"] in slugs


def test_recipe_show_prints_each_feature_and_what_was_learned(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["recipe", "show", "-c", "titanic", "--recipe", "plus", "--data-dir", str(shared_data("titanic"))]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "891 training rows, 13 features" in out
    age = next(line for line in out.splitlines() if line.startswith("Age "))
    assert abs(float(age.split()[2])) < 1e-3  # scale = "standard": centred on the training mean
    assert "fill_group: {Age={groups={Master=3.5" in out


def test_kit_new_records_a_folder_other_than_data_slug_and_every_command_then_reads_there(
    tmp_path, monkeypatch, capsys
):
    from conftest import write_titanic_like

    write_titanic_like(tmp_path / "downloads" / "mine")
    monkeypatch.chdir(tmp_path)
    assert main(["new", "mine", "--data-dir", "downloads/mine"]) == 0
    assert tomllib.loads((tmp_path / "competitions" / "mine.toml").read_text())["data_dir"] == "downloads/mine"
    capsys.readouterr()
    assert main(["list"]) == 0
    mine = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("mine "))
    assert mine.split()[-1] == "downloads/mine"  # found, not "missing"
    assert main(["cv", "-c", "mine", "--folds", "2", "--models", "linear", "--epochs", "2", "--quiet"]) == 0
    assert "ensemble" in capsys.readouterr().out
    # --data-dir still overrides the definition's folder
    assert main(["cv", "-c", "mine", "--data-dir", "elsewhere", "--folds", "2", "--models", "linear"]) == 2
    err = capsys.readouterr().err
    assert "data folder elsewhere does not exist" in err and "Traceback" not in err


@pytest.mark.parametrize("given", [[], ["--data-dir", "data/mine"]])
def test_kit_new_from_data_slug_writes_no_folder_into_the_definition(given, tmp_path, monkeypatch, capsys):
    from conftest import write_titanic_like

    write_titanic_like(tmp_path / "data" / "mine")
    monkeypatch.chdir(tmp_path)
    assert main(["new", "mine", *given]) == 0
    text = (tmp_path / "competitions" / "mine.toml").read_text()
    assert "data_dir" not in tomllib.loads(text) and "data_dir" not in text


def test_a_kaggle_notebook_reads_its_mounted_input_whatever_the_definitions_data_dir(tmp_path, monkeypatch):
    from kit.competition import default_data_dir, load_competition

    path = tmp_path / "mine.toml"
    path.write_text(
        'slug = "mine"\nid = "PassengerId"\ntarget = "Survived"\ndata_dir = "downloads/mine"\n'
        '[files]\ntrain = "train.csv"\ntest = "test.csv"\nsample_submission = "s.csv"\n'
        '[recipes.base]\nnumeric = ["Age"]\n'
    )
    comp = load_competition(str(path))
    assert default_data_dir(comp) == Path("downloads/mine")
    monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Batch")
    monkeypatch.setenv("KIT_KAGGLE_ROOT", str(tmp_path / "kaggle"))
    assert default_data_dir(comp) == tmp_path / "kaggle" / "input" / "mine"
    path.write_text(path.read_text().replace('"downloads/mine"', '""'))
    with pytest.raises(KitError, match="data_dir"):
        load_competition(str(path))
