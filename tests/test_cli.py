"""The command line: help everywhere, and bad input ends in one clear sentence with exit code 2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, write_tables, write_titanic_like

from kit.cli import main


@pytest.mark.parametrize(
    "command", [[], ["reproduce"], ["cv"], ["submission"], ["fetch"], ["doctor"], ["submit"], ["submissions"], ["run"]]
)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    assert "usage: kit" in capsys.readouterr().out


def test_python_m_kit_and_the_console_script_both_run():
    script = Path(sys.executable).parent / "kit"  # installed beside the interpreter by `pip install -e .`
    for cmd in ([sys.executable, "-m", "kit", "--version"], [str(script), "--version"]):
        out = subprocess.run(cmd, capture_output=True, text=True)
        assert out.returncode == 0 and out.stdout.startswith("kit "), cmd


def test_cv_json_reports_folds_mean_std_for_each_model_and_the_ensemble(synthetic_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # kit cv records the run in submissions/<slug>/runs.json
    assert main(["cv", "--data-dir", str(synthetic_dir), "--folds", "3", "--models", "linear,deep", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["models"]) == {"linear", "deep"}
    for r in report["models"].values():  # titanic's [training] chooses the epochs by CV
        keys = {"fold_scores", "mean", "std", "fold_epochs", "chosen_epochs", "epochs_tried"}
        assert len(r["fold_scores"]) == 3 and set(r) == keys and r["epochs_tried"] == 100  # no patience: every epoch
    assert set(report["ensemble"]) == {"fold_scores", "mean", "std"}
    assert report["fit_seconds"] > 0


def _set_cell(folder, name, column, value):
    """Rewrite one cell of a CSV in place, the rest unchanged."""
    path = folder / name
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[0, column] = value
    frame.to_csv(path, index=False)


BAD_INPUTS = {
    "missing column": (
        lambda d: (d / "train.csv").write_text((d / "train.csv").read_text().replace(",Sex,", ",Gender,", 1)),
        "lacks the column",
    ),
    "empty file": (lambda d: (d / "test.csv").write_text(""), "is empty"),
    "not a number": (lambda d: _set_cell(d, "train.csv", "Age", "forty"), "not a number"),
    "bad target": (lambda d: _set_cell(d, "train.csv", "Survived", "yes"), "not one of"),
    "no data folder": (lambda d: shutil.rmtree(d), "does not exist"),
    "missing file": (lambda d: (d / "test.csv").unlink(), "is missing"),
    "malformed csv": (lambda d: (d / "test.csv").write_text('PassengerId,Age\n1,"unclosed\n'), "not a readable CSV"),
    "semicolons": (
        lambda d: (d / "train.csv").write_text((d / "train.csv").read_text().replace(",", ";")),
        "train.csv separates its columns with ';', and kit reads comma-separated files",
    ),
    "compressed file": (lambda d: _compress(d / "train.csv"), "but train.csv.gz is there, compressed; extract it into"),
}


def _compress(path):
    """path as path.gz, as a Playground download's train.csv.gz, the plain CSV gone."""
    import gzip

    path.with_name(path.name + ".gz").write_bytes(gzip.compress(path.read_bytes()))
    path.unlink()


def test_kit_new_on_a_folder_holding_the_competitions_zip_says_to_extract_it(tmp_path, monkeypatch, capsys):
    import zipfile

    folder = write_titanic_like(tmp_path / "download")
    with zipfile.ZipFile(folder / "titanic.zip", "w") as archive:
        for name in ("train.csv", "test.csv", "gender_submission.csv"):
            archive.write(folder / name, name)
            (folder / name).unlink()
    monkeypatch.chdir(tmp_path)
    assert main(["new", "mine", "--data-dir", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert "has no train or test CSV, but holds titanic.zip, compressed; extract it into" in err
    assert len(err.splitlines()) == 1 and not (tmp_path / "competitions").exists()
    # the zip itself as the data folder: a trial's was said not to exist
    for command in (["new", "mine"], ["cv"]):
        assert main([*command, "--data-dir", str(folder / "titanic.zip")]) == 2
        err = capsys.readouterr().err.strip()
        assert f"{folder / 'titanic.zip'} is a file, not a data folder; extract it into a folder" in err, err
        assert len(err.splitlines()) == 1 and not (tmp_path / "competitions").exists()


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_sentence_and_exit_2(case, synthetic_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    breaks, message = BAD_INPUTS[case]
    breaks(synthetic_dir)
    code = main(["submission", "--data-dir", str(synthetic_dir), "--recipe", "article"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "submissions").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-c", "no-such-competition"], "unknown competition 'no-such-competition' (known: "),
        (["-c", "no-such-competition"], "draft one with `kit new no-such-competition --data-dir DIR`"),
        (["-c", "mine/no.toml"], "the definition mine/no.toml does not exist; write one with `kit new SLUG"),
        # a near miss of a known one (a new user's crab_age for crab-age) is named before drafting another
        (["-c", "Spaceship_Titanic"], "; did you mean spaceship-titanic? pass -c spaceship-titanic (`kit new Spaces"),
        (["--models", "linear,forest"], "unknown model forest"),
        (["--folds", "1"], "at least 2"),
        (["--recipe", "fancy"], "no recipe 'fancy'; choose one of: article, plus."),
        (["--recipe", "plsu"], "no recipe 'plsu'; did you mean 'plus'? choose one of: "),  # a typo: its near miss
    ],
)
def test_bad_options_are_one_sentence_and_exit_2(args, message, synthetic_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["cv", "--data-dir", str(synthetic_dir), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_subprocess_error_has_no_traceback(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "kit", "cv", "--data-dir", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and out.stderr.startswith("error: data folder")


def _on_a_terminal(args: list[str], cwd) -> str:
    """Run kit with stderr on a pseudo-terminal, as a person would see it; returns what stderr showed."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a real terminal's size
    proc = subprocess.Popen([sys.executable, "-m", "kit", *args], stderr=follower, stdout=subprocess.DEVNULL, cwd=cwd)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closes when kit exits
            break
        if not chunk:
            break
        shown += chunk
    assert proc.wait() == 0
    os.close(leader)
    return shown.decode(errors="replace")


def test_training_shows_a_bar_on_a_terminal_and_none_with_quiet_or_in_a_short_piped_run(synthetic_dir, tmp_path):
    args = ["cv", "--data-dir", str(synthetic_dir), "--folds", "3"]
    runs = [tmp_path / str(i) for i in range(3)]  # each its own folder: a run there finds no CV to reuse
    for folder in runs:
        folder.mkdir()
    assert "titanic cv" in (bar := _on_a_terminal(args, runs[0])) and " epoch " in bar  # each model's latest
    assert "<" not in bar  # no time to go: models side by side finish in a burst
    assert _on_a_terminal([*args, "--quiet"], runs[1]) == ""
    piped = subprocess.run([sys.executable, "-m", "kit", *args], capture_output=True, text=True, cwd=runs[2])
    assert piped.returncode == 0 and piped.stderr == ""


def test_without_a_terminal_long_work_says_plain_lines_and_draws_no_bar(synthetic_dir, tmp_path, monkeypatch, capsys):
    from kit import progress
    from kit.cli import main

    monkeypatch.setattr(progress, "LINE_EVERY", 0.0)  # a line at every step, as a long run's would come
    monkeypatch.chdir(tmp_path)
    args = ["submission", "--data-dir", str(synthetic_dir), "--folds", "2", "--epochs", "3", "--out", "s.csv"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "\r" not in err  # a bar's redraws would pile up in a notebook's log
    cv = [line for line in err.splitlines() if line.startswith("kit: titanic cv, ")]
    refit = [line for line in err.splitlines() if line.startswith("kit: titanic training on every row, ")]
    assert " epoch " in cv[0] and "6 of 6 fits done" in cv[-1]  # 2 folds x 3 models
    assert " epoch " in refit[0] and "3 of 3 fits done" in refit[-1]


def test_cuda_without_a_gpu_is_one_sentence(synthetic_dir, tmp_path, monkeypatch, capsys):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # the same on a machine with a GPU
    monkeypatch.chdir(tmp_path)
    assert main(["cv", "--data-dir", str(synthetic_dir), "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert "sees no CUDA GPU" in err and "--device cpu" in err


def test_cv_against_compares_two_recipes_on_the_same_folds(titanic_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["cv", "--data-dir", str(titanic_dir), "--recipe", "plus", "--against", "article", "--models", "linear"]
    assert main([*args, "--repeats", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["recipe"] == "plus" and report["against"]["recipe"] == "article"
    mine, theirs = report["ensemble"]["fold_scores"], report["against"]["ensemble"]["fold_scores"]
    assert len(mine) == len(theirs) == 10
    diff = report["against"]["comparison"]["ensemble"]
    assert diff["mean_diff"] == pytest.approx(sum(mine) / 10 - sum(theirs) / 10)
    assert diff["wins"] + diff["ties"] + diff["losses"] == 10


def test_run_trains_the_competitions_chosen_configuration(synthetic_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--data-dir", str(synthetic_dir), "--folds", "3"]) == 0
    path = tmp_path / capsys.readouterr().out.strip().splitlines()[-1]
    plan = json.loads(path.with_suffix(".json").read_text())["config"]["plan"]
    assert (plan["models"], plan["seeds"]) == (["linear", "nn", "deep"], 5)  # [run] of competitions/titanic.toml
    assert plan["choose_epochs"] is True  # its [training]
    assert path.name.startswith("plus_")


def test_every_option_comes_from_the_flag_then_the_definition_then_kit(tmp_path):
    from kit.cli import build_parser
    from kit.commands import _plan, _recipe
    from kit.competition import load_competition

    def plan(*argv):
        return _plan(build_parser().parse_args(["cv", *argv]))

    def epochs(p):
        return {m: p.settings(m)["epochs"] for m in p.models}

    titanic = plan()  # its [run] and its [training]: kit's default preset, epochs chosen by CV
    assert (titanic.models, titanic.seeds, titanic.split) == (("linear", "nn", "deep"), 5, "stratified")
    assert epochs(titanic) == {"linear": 100, "nn": 100, "deep": 100} and titanic.training.preset == "default"
    assert titanic.choose_epochs and not plan("--no-choose-epochs").choose_epochs  # the flag wins both ways
    args = build_parser().parse_args(["cv"])
    assert _recipe(args, load_competition("titanic")).name == "plus"  # [run] recipe, not the top-level one
    assert plan("-c", "spaceship-titanic").settings("nn")["batch_size"] == 256  # its [training]
    flagged = plan("-c", "spaceship-titanic", "--epochs", "5", "--models", "nn", "--seeds", "2", "--lr", "0.5")
    assert (epochs(flagged), flagged.seeds, flagged.settings("nn")["lr"]) == ({"nn": 5}, 2, 0.5)
    bare = tmp_path / "bare.toml"  # no [run], no [training]: kit's own defaults
    text = (REPO / "competitions" / "titanic.toml").read_text()
    bare.write_text(text[: text.index("[run]")] + text[text.index("[files]") :])
    default = plan("-c", str(bare))
    assert default.models == ("linear", "nn", "deep") and default.seeds == 1
    assert default.training.preset == "default" and epochs(default) == {"linear": 100, "nn": 100, "deep": 100}
    assert not default.choose_epochs and plan("-c", str(bare), "--choose-epochs").choose_epochs


def test_help_says_where_each_default_comes_from(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "default: the competition's [run], else linear,nn,deep" in text
    assert "the competition's [training], else kit's default preset" in text


def test_the_sidecar_records_the_epochs_each_model_trained_for(synthetic_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["submission", "--data-dir", str(synthetic_dir), "--folds", "3", "--epochs", "7", "--seeds", "1"]
    assert main([*args, "--lr", "0.02", "--no-choose-epochs"]) == 0
    path = tmp_path / capsys.readouterr().out.strip().splitlines()[-1]
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["config"]["models"]["nn"]["epochs"] == 7 and sidecar["config"]["models"]["nn"]["lr"] == 0.02
    assert sidecar["config"]["plan"]["training"]["epochs"] == 7
    assert sidecar["chosen_epochs"] is None  # trained the 7 epochs it was given


def test_the_sidecar_of_a_submission_with_epochs_chosen_by_cv_records_the_choice(
    synthetic_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    args = ["submission", "--data-dir", str(synthetic_dir), "--folds", "3", "--epochs", "12", "--seeds", "1"]
    assert main([*args, "--models", "linear,nn", "--choose-epochs"]) == 0
    path = tmp_path / capsys.readouterr().out.strip().splitlines()[-1]
    sidecar = json.loads(path.with_suffix(".json").read_text())
    chosen = sidecar["chosen_epochs"]  # what the full-data fit trained, per model
    assert sorted(chosen) == ["linear", "nn"] and all(1 <= e <= 12 for e in chosen.values())
    for name, epochs in chosen.items():
        cv = sidecar["cv"]["models"][name]
        assert cv["chosen_epochs"] == epochs and len(cv["fold_epochs"]) == 3  # and each fold's, chosen without it
    assert sidecar["config"]["plan"]["choose_epochs"] is True


def test_the_cv_table_names_the_epochs_chosen_for_the_full_fit_and_each_fold(
    synthetic_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    args = ["cv", "--data-dir", str(synthetic_dir), "--folds", "3", "--models", "linear,nn", "--epochs", "12"]
    assert main([*args, "--choose-epochs"]) == 0
    table = capsys.readouterr().out.splitlines()
    (run,) = json.loads((tmp_path / "submissions/titanic/runs.json").read_text())
    assert "chosen epochs" in next(line for line in table if line.startswith("model"))
    for name in ("linear", "nn"):
        (line,) = [line for line in table if line.startswith(f"{name} ")]
        folds = "/".join(map(str, run["fold_epochs"][name]))
        assert line.endswith(f"   {run['chosen_epochs'][name]} ({folds})"), line
    assert main([*args, "--no-choose-epochs"]) == 0
    assert "chosen" not in capsys.readouterr().out  # epochs it was given: nothing to name


@pytest.mark.parametrize(
    ("scores", "places"),
    [([0.8485, 0.0123], 4), ([55.218, 3.1], 3), ([219799.45, 9700.1], 0), ([0.05511, 0.0001], 5)],  # RMSE near 0.055
)
def test_the_cv_table_shows_scores_to_about_five_digits_with_its_columns_aligned(scores, places):
    from types import SimpleNamespace

    from kit.pipeline import format_cv
    from kit.table import decimals

    assert decimals(scores) == places
    run = SimpleNamespace(
        mean=scores[0], std=scores[1], fold_scores=[scores[0], -scores[0]], epochs=[], valid_scores=[], weights=None
    )
    result = SimpleNamespace(
        models={"linear": run}, ensemble=run, full_fit_epochs=dict, reused=False, reused_models=(), fit_seconds=1.0
    )
    comp = SimpleNamespace(slug="s", metric="rmse")
    plan = SimpleNamespace(split="kfold", folds=2, repeats=1, seeds=1, patience=0, rows=0, refit=True)
    lines = format_cv(comp, SimpleNamespace(name="r"), plan, result).splitlines()
    head, row = lines[2], lines[3]
    mean = f"{scores[0]:.{places}f}"
    assert row.split()[1] == mean and row.split()[4] == mean  # the mean, then the first fold, to those places
    assert head.index("rmse") + len("rmse") == row.index(" ± ") + len(f" ± {scores[1]:.{places}f}")  # aligned
    assert head.index("folds") == row.index(mean, row.index(" ± "))  # the folds under their header


def test_the_cv_table_says_when_the_chosen_weights_leave_one_model_alone():
    from types import SimpleNamespace

    from kit.pipeline import format_cv

    def table(weights: dict) -> str:
        run = SimpleNamespace(mean=0.9, std=0.01, fold_scores=[0.9, 0.9], epochs=[], valid_scores=[], weights=None)
        ensemble = SimpleNamespace(**{**vars(run), "weights": weights})
        result = SimpleNamespace(
            models={"linear": run, "deep": run}, ensemble=ensemble, full_fit_epochs=dict, reused=False,
            reused_models=(), fit_seconds=1.0,
        )  # fmt: skip
        comp = SimpleNamespace(slug="s", metric="accuracy")
        plan = SimpleNamespace(split="kfold", folds=2, repeats=1, seeds=1, patience=0, rows=0, refit=False)
        return format_cv(comp, SimpleNamespace(name="r"), plan, result)

    assert "ensemble weights for the test rows: linear 0.00, deep 1.00: deep alone, the others added nothing on the " \
        "folds (each fold scored" in table({"linear": 0.001, "deep": 0.999})  # fmt: skip
    assert "linear 0.30, deep 0.70 (each fold scored" in table({"linear": 0.3, "deep": 0.7})
    # one model asked for: no others to have added nothing (a trial's --models linear read so)
    assert "linear 1.00 (each fold scored" in table({"linear": 1.0})


def test_the_cv_table_says_which_models_score_worse_than_the_constant_and_when_the_ensemble_beats_it_on_some_folds():
    from types import SimpleNamespace

    from kit.pipeline import format_cv

    def table(linear: list, nn: list, ensemble: list, constant: list) -> list[str]:
        def run(folds):
            return SimpleNamespace(mean=sum(folds) / len(folds), std=0.05, fold_scores=folds, epochs=[],
                                   valid_scores=[], weights=None)  # fmt: skip

        result = SimpleNamespace(
            models={"linear": run(linear), "nn": run(nn)}, ensemble=run(ensemble), full_fit_epochs=dict,
            reused=False, reused_models=(), fit_seconds=1.0, constant=constant,
            task=SimpleNamespace(greater_is_better=False, kind="regression", whole=False,
                                 metric=SimpleNamespace(name="rmse", loss="task")),
        )  # fmt: skip
        comp = SimpleNamespace(slug="s", metric="rmse")
        plan = SimpleNamespace(split="kfold", folds=3, repeats=1, seeds=1, patience=0, rows=0, refit=True)
        return format_cv(comp, SimpleNamespace(name="r"), plan, result).splitlines()

    # a trial's quick look: linear 26.372 against the constant's 26.313, unremarked
    lines = table([26.40, 26.35, 26.366], [26.25, 26.30, 26.26], [26.27, 26.32, 26.28], [26.30, 26.31, 26.33])
    assert "worse than the constant: linear 26.372 (what it learned does not hold on the validation rows)" in lines
    assert "the ensemble beats the constant on 2 of 3 folds only: what the models learned may be noise on these rows" \
        in lines  # fmt: skip
    clear = table([26.20, 26.21, 26.22], [26.25, 26.26, 26.27], [26.20, 26.21, 26.22], [26.30, 26.31, 26.33])
    assert not [line for line in clear if "than the constant" in line or "beats the constant" in line]


def test_output_cut_short_by_the_reader_is_no_traceback(tmp_path):
    from conftest import shared_data

    command = [sys.executable, "-m", "kit", "recipe", "show", "--data-dir", str(shared_data("titanic"))]
    shown = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    shown.stdout.close()  # like `| head -0`: the reader goes away before kit writes a line
    err = shown.stderr.read().decode()
    assert shown.wait() == 0 and "Traceback" not in err and "BrokenPipe" not in err


def test_a_model_named_twice_is_refused_before_anything_trains(synthetic_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["cv", "--data-dir", str(synthetic_dir), "--models", "linear,nn,linear"]) == 2
    assert "linear more than once" in capsys.readouterr().err


def test_more_folds_than_the_rarest_class_has_rows_is_said_once_in_kits_words(tmp_path, monkeypatch, capsys):
    import warnings

    data = tmp_path / "data"
    frame = pd.DataFrame({"PassengerId": range(1, 41), "Survived": [1] * 3 + [0] * 37})
    frame["Pclass"], frame["Sex"], frame["Age"] = 1, "male", 30.0
    frame["SibSp"], frame["Parch"], frame["Fare"], frame["Embarked"] = 0, 0, 7.25, "S"
    data.mkdir()
    frame.to_csv(data / "train.csv", index=False)
    frame.drop(columns="Survived").to_csv(data / "test.csv", index=False)
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scikit-learn's own UserWarning would fail here
        code = main(["cv", "--data-dir", str(data), "--recipe", "article", "--models", "linear", "--folds", "5"])
    assert code == 0
    err = capsys.readouterr().err
    assert err.count("the rarest class has 3 training rows, fewer than the 5 folds") == 1


def test_a_target_with_one_class_is_refused_in_one_sentence(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    data.mkdir()
    frame = pd.DataFrame({"PassengerId": range(1, 31), "Survived": 0, "Pclass": 1, "Sex": "male", "Age": 30.0})
    frame["SibSp"], frame["Parch"], frame["Fare"], frame["Embarked"] = 0, 0, 7.25, "S"
    frame.to_csv(data / "train.csv", index=False)
    frame.drop(columns="Survived").to_csv(data / "test.csv", index=False)
    monkeypatch.chdir(tmp_path)
    assert main(["submission", "--data-dir", str(data), "--recipe", "article", "--models", "linear"]) == 2
    err = capsys.readouterr().err
    assert "holds one class (0) in every training row" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "submissions").exists() or not list((tmp_path / "submissions").rglob("*.csv"))


@pytest.mark.parametrize("value", ["0", "-1", "inf"])
def test_a_learning_rate_that_is_not_above_0_gets_the_same_sentence(value, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["cv", "--lr", value]) == 2
    assert f"--lr must be a number above 0 (got {float(value)})" in capsys.readouterr().err


def test_a_cell_that_is_not_a_number_is_named_with_its_rows_id(synthetic_dir, tmp_path, monkeypatch, capsys):
    train = pd.read_csv(synthetic_dir / "train.csv")
    train["Age"] = train["Age"].astype(object)
    train.loc[5, "Age"] = "?"
    train.to_csv(synthetic_dir / "train.csv", index=False)
    monkeypatch.chdir(tmp_path)
    assert main(["cv", "--data-dir", str(synthetic_dir), "--recipe", "article", "--models", "linear"]) == 2
    err = capsys.readouterr().err
    assert f"column Age holds '?', which is not a number, at PassengerId {train.loc[5, 'PassengerId']}" in err


def test_folds_with_the_random_split_are_refused_in_one_sentence(synthetic_dir, tmp_path, monkeypatch, capsys):
    from kit.cli import build_parser
    from kit.commands import _plan

    monkeypatch.chdir(tmp_path)
    assert main(["cv", "--data-dir", str(synthetic_dir), "--split", "random", "--folds", "3"]) == 2
    assert capsys.readouterr().err == (
        "error: the random split is one 80/20 train/valid cut, so --folds 3 would change nothing; leave out "
        "--folds, or pass --split kfold, stratified or group to score folds.\n"
    )
    assert not (tmp_path / "submissions").exists()
    random = tmp_path / "random.toml"  # the split from the definition's [run], --folds on the command line
    text = (REPO / "competitions" / "titanic.toml").read_text()
    random.write_text(text.replace('split = "stratified"', 'split = "random"\nfolds = 5'))
    assert main(["cv", "-c", str(random), "--data-dir", str(synthetic_dir), "--folds", "4"]) == 2
    assert "so --folds 4 would change nothing" in capsys.readouterr().err
    assert _plan(build_parser().parse_args(["cv", "-c", str(random)])).split == "random"  # its own folds stand


# Installed by sitecustomize before `python -m kit` runs: Ctrl-C arrives while kit's command line is imported.
INTERRUPT_ON_IMPORT = """
import sys

class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == "kit.cli":
            raise KeyboardInterrupt

sys.meta_path.insert(0, Interrupt())
"""


@pytest.mark.parametrize("start", [[sys.executable, "-m", "kit"], [str(Path(sys.executable).parent / "kit")]])
def test_ctrl_c_while_kit_starts_is_one_line_and_exit_130_not_a_traceback(tmp_path, start):
    (tmp_path / "sitecustomize.py").write_text(INTERRUPT_ON_IMPORT)
    env = {"PYTHONPATH": f"{tmp_path}:{REPO}", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([*start, "--help"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 130
    assert done.stderr == "interrupted; nothing half-written was kept.\n"


def test_files_of_another_competition_read_without_c_say_the_default_competition_was_assumed(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "mine"
    data.mkdir()
    (data / "train.csv").write_text("id,x,target\n1,0.5,1\n2,0.1,0\n")
    (data / "test.csv").write_text("id,x\n3,0.2\n")
    assert main(["cv", "--data-dir", str(data)]) == 2
    err = capsys.readouterr().err.strip()
    assert "lacks the column(s) PassengerId" in err and "the default competition, titanic" in err
    assert "-c SLUG" in err and len(err.splitlines()) == 1
    assert main(["cv", "-c", "titanic", "--data-dir", str(data)]) == 2  # named: the plain fact and fix
    err = capsys.readouterr().err.strip()
    assert err.endswith("check the file or the competition definition.") and "default" not in err


def test_cv_says_when_it_chose_the_last_epoch_trained_and_not_otherwise(synthetic_dir, tmp_path, monkeypatch, capsys):
    from types import SimpleNamespace

    from kit.commands import _notes_on_training
    from kit.train import Training
    from kit.validation import Plan

    monkeypatch.chdir(tmp_path)
    args = ["cv", "--data-dir", str(synthetic_dir), "--folds", "3", "--models", "linear", "--choose-epochs"]
    assert main([*args, "--epochs", "1", "--preset", "default"]) == 0  # one epoch: the last is the only choice
    assert "kit: note: CV chose the last epoch trained for linear: more epochs may score better (--epochs 2" in (
        capsys.readouterr().err
    )
    plan = Plan(models=("linear", "nn"), training=Training(epochs={"linear": 30, "nn": 50}))
    models = {"linear": SimpleNamespace(chosen_epochs=29), "nn": SimpleNamespace(chosen_epochs=50)}
    _notes_on_training(plan, SimpleNamespace(models=models))
    assert capsys.readouterr().err == (
        "kit: note: CV chose the last epoch trained for nn: more epochs may score better (--epochs nn=100, or epochs "
        "in [training])\n"
    )
    _notes_on_training(plan, SimpleNamespace(models=models, fit_seconds=1324.2))  # a long CV: its cost said
    assert "(--epochs nn=100, or epochs in [training]; this CV's training took 1,324 s)\n" in capsys.readouterr().err
    left_out = SimpleNamespace(weights={"linear": 1.0, "nn": 0.0})  # the weights chosen leave nn out: nothing to say
    _notes_on_training(plan, SimpleNamespace(models=models, ensemble=left_out))
    assert capsys.readouterr().err == ""
    models["nn"].chosen_epochs = 49
    _notes_on_training(plan, SimpleNamespace(models=models))
    assert capsys.readouterr().err == ""
    # with patience 10, 49 of 50 is within it of the cap: patience never stopped the curves, the cap did
    _notes_on_training(replace(plan, patience=10), SimpleNamespace(models=models))
    assert capsys.readouterr().err == (
        "kit: note: CV chose an epoch within patience's 10 of the last trained (linear 29 of 30, nn 49 of 50): the "
        "curves were still improving when the cap stopped them; more epochs may score better (--epochs 100, or "
        "epochs in [training])\n"
    )
    models["linear"].chosen_epochs, models["nn"].chosen_epochs = 20, 40  # patience stopped both: said nothing
    _notes_on_training(replace(plan, patience=10), SimpleNamespace(models=models))
    assert capsys.readouterr().err == ""
    # one fold chose within patience of the cap, where the full fit's choice is not: that fold's model was capped
    models["nn"].epochs = [38, 36, 39, 40, 35]
    _notes_on_training(replace(plan, patience=10), SimpleNamespace(models=models))
    assert capsys.readouterr().err == ""
    models["nn"].epochs = [38, 36, 39, 40, 50]
    _notes_on_training(replace(plan, patience=10), SimpleNamespace(models=models))
    assert capsys.readouterr().err == (
        "kit: note: CV chose an epoch within patience's 10 of the last trained (nn 40 of 50, fold 5's 50): the curves "
        "were still improving when the cap stopped them; more epochs may score better (--epochs nn=100, or epochs in "
        "[training])\n"
    )
    del models["nn"].epochs
    # a best epoch among the first few of many: the steps may be too long
    models["linear"].chosen_epochs, models["nn"].chosen_epochs = 3, 2
    _notes_on_training(plan, SimpleNamespace(models=models))
    assert capsys.readouterr().err == (
        "kit: note: CV chose an early epoch (linear 3 of up to 30, nn 2 of up to 50): the validation score peaked early, and a "
        "lower learning rate may score a little better, in 2-3x the training time (--lr 0.001, or lr in [training])\n"
    )
    models["linear"].chosen_epochs, models["nn"].chosen_epochs = 4, 3  # 4 of 30 is not among the first few
    _notes_on_training(plan, SimpleNamespace(models=models))
    assert capsys.readouterr().err == (
        "kit: note: CV chose an early epoch (nn 3 of up to 50): the validation score peaked early, and a lower learning "
        "rate may score a little better, in 2-3x the training time (--lr nn=0.001, or lr = { nn = 0.001 } in "
        "[training]: the others' CVs are reused)\n"
    )
    # a model the chosen weights leave out moves no submission: no note for it
    models["linear"].chosen_epochs = 3
    chosen = SimpleNamespace(weights={"linear": 0.0, "nn": 1.0})
    _notes_on_training(plan, SimpleNamespace(models=models, ensemble=chosen))
    assert "(nn 3 of up to 50)" in capsys.readouterr().err
    chosen.weights = {"linear": 1.0, "nn": 0.0}
    _notes_on_training(plan, SimpleNamespace(models=models, ensemble=chosen))
    assert "(linear 3 of up to 30)" in capsys.readouterr().err
    # a blended recipe's model: the flag it names sets that model in every recipe (a trial's read it as inter's)
    blended = {"linear": SimpleNamespace(chosen_epochs=20), "inter/nn": SimpleNamespace(chosen_epochs=2)}
    _notes_on_training(plan, SimpleNamespace(models=blended))
    assert "(--lr nn=0.001, or lr = { nn = 0.001 } in [training]: the others' CVs are reused; it sets nn in every " \
        "recipe the run blends)" in capsys.readouterr().err  # fmt: skip


def test_a_lower_lr_an_earlier_run_of_the_recipe_tried_for_no_better_score_is_not_suggested_again(
    tmp_path, monkeypatch, capsys
):
    import json
    from types import SimpleNamespace

    from kit.commands import _notes_on_training
    from kit.report import training_settings
    from kit.train import Training
    from kit.validation import Plan

    monkeypatch.chdir(tmp_path)
    plan = Plan(models=("linear", "nn"), training=Training(epochs={"linear": 30, "nn": 50}))
    models = {"linear": SimpleNamespace(chosen_epochs=3), "nn": SimpleNamespace(chosen_epochs=2)}
    result = SimpleNamespace(models=models, task=SimpleNamespace(greater_is_better=False))  # an error: lower wins

    def run(lr: dict, means: dict, recipe_hash: str = "r1") -> dict:
        settings = training_settings(plan)
        for name, value in lr.items():
            settings[name]["lr"] = value
        return {"recipe_hash": recipe_hash, "split": "kfold", "folds": 5, "repeats": 1, "split_seed": 42, "rows": 0,
                "data": "d", "training": settings, "model_means": means, "time": "2026-11-30T00:00:00+00:00"}  # fmt: skip

    now = run({}, {"linear": 26.30, "nn": 26.29})
    runs = tmp_path / "submissions" / "bpm" / "runs.json"
    runs.parent.mkdir(parents=True)
    # nn at lr 0.001 scored worse (26.295 > 26.29), linear at 0.001 better: only linear is still suggested
    runs.write_text(json.dumps([run({"linear": 0.001, "nn": 0.001}, {"linear": 26.28, "nn": 26.295}), now]))
    _notes_on_training(plan, result, "bpm", now)
    assert "(linear 3 of up to 30): the validation score peaked early" in capsys.readouterr().err
    # tried on another recipe, or on other rows: no evidence about this one
    for other in (run({"nn": 0.001}, {"nn": 26.4}, "r2"), {**run({"nn": 0.001}, {"nn": 26.4}), "rows": 50_000}):
        runs.write_text(json.dumps([other, now]))
        _notes_on_training(plan, result, "bpm", now)
        assert "(linear 3 of up to 30, nn 2 of up to 50)" in capsys.readouterr().err
    runs.write_text(json.dumps([run({"linear": 0.001, "nn": 0.002}, {"linear": 26.31, "nn": 26.30}), now]))
    _notes_on_training(plan, result, "bpm", now)
    assert "early epoch" not in capsys.readouterr().err  # both tried lower, both lost


def test_linear_raw_under_the_default_preset_says_it_trains_as_linear(synthetic_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["cv", "--data-dir", str(synthetic_dir), "--folds", "3", "--epochs", "3", "--quiet", "--models"]
    assert main([*args, "linear_raw,linear"]) == 0
    assert "linear_raw is the article's linear model without a link" in capsys.readouterr().err
    assert main([*args, "linear_raw", "--preset", "article"]) == 0
    assert "without a link" not in capsys.readouterr().err


def test_an_error_of_the_assumed_competition_names_the_users_own_definitions(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "competitions").mkdir()
    assert main(["cv", "--models", "linear"]) == 2  # no data/titanic here
    assert "was assumed" not in capsys.readouterr().err  # no definition of the user's: nothing to point to
    for slug in ("sales", "bikes"):
        (tmp_path / "competitions" / f"{slug}.toml").write_text('slug = "x"\n')
    assert main(["cv", "--models", "linear"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: data folder data/titanic does not exist;")
    assert err.endswith("(no -c was given, so titanic was assumed; for yours pass -c bikes or -c sales).\n")
    assert main(["cv", "-c", "titanic", "--models", "linear"]) == 2  # named: no such note
    assert "was assumed" not in capsys.readouterr().err


def test_the_users_own_files_read_as_the_assumed_competition_name_the_users_own_definitions(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    write_tables(data, {"train.csv": [["id", "x", "y"], ["1", "2", "0"]], "test.csv": [["id", "x"], ["2", "3"]]})
    assert main(["cv", "--data-dir", "data", "--models", "linear"]) == 2
    err = capsys.readouterr().err
    assert "read as the default competition, titanic: name yours with -c SLUG" in err  # no definition of theirs yet
    (tmp_path / "competitions").mkdir()
    for slug in ("cirrhosis", "bikes"):
        (tmp_path / "competitions" / f"{slug}.toml").write_text('slug = "x"\n')
    assert main(["cv", "--data-dir", "data", "--models", "linear"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: data/train.csv lacks the column(s) ")
    assert err.endswith("read as the default competition, titanic: for yours pass -c bikes or -c cirrhosis.\n")


def test_without_c_a_folder_with_one_definition_runs_that_one_and_says_so(synthetic_dir, tmp_path, monkeypatch, capsys):
    """A trial's user, -c left off after `kit new` in their own folder, had Titanic assumed."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "competitions").mkdir()
    mine = (REPO / "competitions" / "titanic.toml").read_text().replace('slug = "titanic"', 'slug = "mine"')
    (tmp_path / "competitions" / "mine.toml").write_text(mine)
    assert main(["cv", "--data-dir", str(synthetic_dir), "--folds", "2", "--epochs", "2", "--models", "linear"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("mine  recipe=") and err.startswith(
        "kit: -c mine assumed: the one definition in competitions/\n"
    )
    assert main(["doctor", "--data-dir", str(synthetic_dir)]) in (0, 1)
    assert "competition: mine\n" in capsys.readouterr().out  # not "(no -c was given ...)": it was said above
    assert main(["reproduce", "--data-dir", str(synthetic_dir), "--json"]) == 0  # the article's figures: Titanic's
    assert "assumed" not in capsys.readouterr().err
    (tmp_path / "competitions" / "titanic.toml").write_text(mine.replace('slug = "mine"', 'slug = "titanic"'))
    assert main(["cv", "--data-dir", str(synthetic_dir), "--folds", "2", "--epochs", "2", "--models", "linear"]) == 0
    out, err = capsys.readouterr()  # two definitions: the default, as before
    assert out.startswith("titanic  recipe=") and "assumed" not in err


def test_kit_new_on_files_saved_with_semicolons_names_the_separator(tmp_path, monkeypatch, capsys):
    folder = write_titanic_like(tmp_path / "download")
    for name in ("train.csv", "test.csv", "gender_submission.csv"):
        (folder / name).write_text((folder / name).read_text().replace(",", ";"))
    monkeypatch.chdir(tmp_path)
    assert main(["new", "mine", "--data-dir", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert "separates its columns with ';'" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("words", "told"),
    [
        (
            ["cv", "--metric", "auc"],
            'kit cv does not take --metric auc (the metric is titanic\'s: `metric = "accuracy"` in',
        ),
        (["cv", "-c", "nope", "--metric", "auc"], "(a competition's metric is the `metric` line of its definition, "),
        (["recipe", "show", "--nope"], "kit recipe show does not take --nope; `kit recipe show --help` lists"),
        (["cv", "--folds", "x"], "argument --folds: invalid int value: 'x'; `kit cv --help` lists what it takes."),
        (["cvv"], "invalid choice: 'cvv'"),
        # no abbreviations: a script's --row would change meaning the day another flag shares its start
        (["cv", "--row", "5"], "kit cv does not take --row 5 (did you mean --rows?); `kit cv --help` lists"),
        (["cv", "--epoch=5", "--raws", "2"], "does not take --epoch=5 --raws 2 (did you mean --epochs or --rows?)"),
    ],
)
def test_a_usage_mistake_is_one_sentence_naming_the_commands_help(words, told, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(words)
    out, err = capsys.readouterr()
    assert exit_.value.code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and told in err, err
    assert "usage:" not in err


def test_lr_and_epochs_per_model_change_those_models_alone_and_the_others_cvs_are_reused(
    synthetic_dir, tmp_path, monkeypatch, capsys
):
    """A trial's note asked for `lr = { nn = 0.001, deep = 0.001 }`, which only the definition could say."""
    monkeypatch.chdir(tmp_path)
    args = ["cv", "--data-dir", str(synthetic_dir), "--folds", "2", "--models", "linear,nn", "--json"]
    assert main([*args, "--epochs", "3"]) == 0
    capsys.readouterr()
    assert main([*args, "--epochs", "3", "--lr", "nn=0.05"]) == 0
    assert json.loads(capsys.readouterr().out)["reused"] == ["linear"]  # linear's settings are as they were
    assert main([*args, "--epochs", "linear=3,nn=4", "--lr", "nn=0.05"]) == 0
    assert json.loads(capsys.readouterr().out)["reused"] == ["linear"]
    runs = json.loads((tmp_path / "submissions/titanic/runs.json").read_text())
    assert [run["training"]["nn"]["lr"] for run in runs] == [runs[0]["training"]["nn"]["lr"], 0.05, 0.05]
    assert [run["epochs"] for run in runs] == [{"linear": 3, "nn": 3}] * 2 + [{"linear": 3, "nn": 4}]
    assert [run["training"]["linear"] for run in runs] == [runs[0]["training"]["linear"]] * 3
    assert runs[0]["training"]["nn"]["lr"] != 0.05


@pytest.mark.parametrize(
    ("flags", "told"),
    [
        (["--lr", "nn"], "takes one value (--lr 0.01) or one per model (--lr nn=0.001,deep=0.001), not 'nn'"),
        (["--lr", "nn=fast"], "not 'nn=fast'"),
        (["--epochs", "nn=2=3"], "takes one value (--epochs 200) or one per model (--epochs nn=200,deep=200)"),
        (["--lr", "nnn=0.1"], "--lr names no model called nnn; the models are "),
        (["--epochs", "nn=0"], "--epochs must be at least 1 (got nn=0)"),
        (["--lr", "deep=-1"], "--lr must be a number above 0 (got deep=-1.0)"),
    ],
)
def test_a_per_model_value_kit_cannot_take_is_one_sentence(tmp_path, monkeypatch, capsys, flags, told):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(["cv", *flags])
    except SystemExit as e:  # argparse's: the value's form
        code = e.code
    err = capsys.readouterr().err
    assert code == 2 and told in err and len(err.strip().splitlines()) == 1, err
