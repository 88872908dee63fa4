"""Submission files are checked before they are written, written atomically, and reproducible."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from kit import KitError
from kit.competition import load_competition
from kit.submission import check_submission, write_atomic
from kit.task import make_task

COMP = load_competition("titanic")
TASK = make_task(COMP.task, COMP.metric, COMP.labels, COMP.columns)
IDS = [str(i) for i in range(892, 1310)]
GOOD = "PassengerId,Survived\n" + "".join(f"{i},{int(i) % 2}\n" for i in IDS)


def test_a_valid_submission_passes():
    check_submission(COMP, TASK, GOOD, IDS)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (GOOD.replace("PassengerId,Survived", "Id,Survived"), "header"),
        ("\n".join(GOOD.splitlines()[:-1]) + "\n", "417 rows"),
        (GOOD.replace("900,0\n", ""), "one row each .test id 900 has none.."),
        (GOOD.replace("\n893,", "\n892,"), "appears twice"),
        (GOOD.replace("\n893,1", "\n893,1.0"), "only allowed values"),
        (GOOD.replace("\n893,1", "\n893,"), "no prediction"),
        (GOOD.replace("\n893,1", "\n893,nan"), "no prediction"),
        (GOOD.replace("\n893,", "\n99999,"), "not in the test file"),
        ("", "empty"),
    ],
)
def test_an_invalid_submission_is_refused_with_its_reason(text, reason):
    with pytest.raises(KitError, match=reason):
        check_submission(COMP, TASK, text, IDS)


def test_write_atomic_leaves_no_temp_file(tmp_path):
    target = tmp_path / "sub" / "a.csv"
    write_atomic(target, "x\n")
    write_atomic(target, "y\n")
    assert target.read_text() == "y\n"
    assert [p.name for p in target.parent.iterdir()] == ["a.csv"]


def _submission(cwd: Path, data: Path) -> Path:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "kit",
            "submission",
            "--data-dir",
            str(data),
            "--models",
            "linear,nn,deep",
            "--seeds",
            "2",
            "--recipe",
            "article",
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return cwd / out.stdout.strip().splitlines()[-1]


def test_the_same_command_twice_writes_byte_identical_files(titanic_dir, tmp_path):
    first = _submission(tmp_path, titanic_dir)
    csv_bytes, side_bytes = first.read_bytes(), first.with_suffix(".json").read_bytes()
    second = _submission(tmp_path, titanic_dir)
    assert second == first
    assert second.read_bytes() == csv_bytes
    assert second.with_suffix(".json").read_bytes() == side_bytes

    assert first.parent == tmp_path / "submissions" / "titanic"
    lines = csv_bytes.decode().splitlines()
    assert lines[0] == "PassengerId,Survived" and len(lines) == 419
    assert [row.split(",")[0] for row in lines[1:]] == IDS  # test order
    check_submission(COMP, TASK, csv_bytes.decode(), IDS)

    sidecar = json.loads(side_bytes)
    assert sidecar["competition"] == "titanic" and sidecar["kit_version"]
    assert sidecar["config"]["plan"]["models"] == ["linear", "nn", "deep"]
    assert sidecar["recipe_state"]["modes"]["Age"] == 24.0
    assert set(sidecar["cv"]) == {"models", "ensemble", "constant"}
    assert sidecar["cv"]["constant"]["mean"] < sidecar["cv"]["ensemble"]["mean"]  # the floor, cleared
    assert 0.7 < sidecar["cv_score"] < 0.9
    sums = dict(line.split()[::-1] for line in (titanic_dir / "SHA256SUMS").read_text().splitlines())
    assert sidecar["inputs"]["train.csv"] == sums["train.csv"]


def _a_first_submission(titanic_dir: Path, tmp_path: Path, monkeypatch) -> tuple[list, Path, dict]:
    """A quick Titanic submission of the default name: (its arguments, its folder, its files' bytes by name)."""
    from kit.cli import main

    monkeypatch.chdir(tmp_path)
    fast = ["--data-dir", str(titanic_dir), "--models", "linear", "--folds", "2", "--epochs", "3", "--quiet"]
    folder = tmp_path / "submissions" / "titanic"
    assert main(["submission", *fast]) == 0
    return fast, folder, {p.name: p.read_bytes() for p in folder.glob("plus_*")}  # the CSV, its sidecar and plots


def test_a_run_of_other_settings_never_replaces_an_earlier_submission_of_its_default_name(
    titanic_dir, tmp_path, monkeypatch, capsys
):
    # the default name says recipe, models, split and seeds: another learning rate used to write over it
    from kit.cli import main

    fast, folder, first = _a_first_submission(titanic_dir, tmp_path, monkeypatch)
    assert main(["submission", *fast]) == 0  # the same run again: the same name, the same bytes
    assert "holds a run of other settings" not in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in folder.glob("plus_*")} == first
    assert main(["submission", *fast, "--lr", "0.001"]) == 0
    err = capsys.readouterr().err
    assert (
        "holds a run of other settings or data (linear lr 0.01 -> 0.001), so this one is plus_linear_stratified2_"
        in err
    )
    assert {p.name: p.read_bytes() for p in folder.glob("plus_*") if p.name in first} == first  # untouched
    second = sorted(p.name for p in folder.glob("plus_*-*.csv"))
    assert len(second) == 1
    assert main(["submission", *fast, "--lr", "0.001"]) == 0  # that run again: its own name again
    assert sorted(p.name for p in folder.glob("plus_*-*.csv")) == second
    capsys.readouterr()
    # a run refused in its sentence names no file of its own (a trial: the note of a new name came before the error)
    data = tmp_path / "broken"
    data.mkdir()
    for name in ("train.csv", "gender_submission.csv"):
        (data / name).write_bytes((titanic_dir / name).read_bytes())
    (data / "test.csv").write_text((titanic_dir / "test.csv").read_text().replace(",", ";"))  # another separator
    assert main(["submission", *fast, "--lr", "0.002", "--data-dir", str(data)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "holds a run of other settings" not in err, err
    assert sorted(p.name for p in folder.glob("plus_*-*.csv")) == second


def test_a_run_of_another_metric_never_replaces_an_earlier_submission_of_its_default_name(
    titanic_dir, tmp_path, monkeypatch, capsys
):
    # a trial: the same recipe and plan under metric = "rmsle" wrote over the mape run's file (the models learn,
    # and the ensemble and epochs are chosen, by the metric), and so did log_target = false
    from kit.cli import main

    fast, folder, first = _a_first_submission(titanic_dir, tmp_path, monkeypatch)
    other = tmp_path / "titanic.toml"
    text = (REPO / "competitions" / "titanic.toml").read_text()
    other.write_text(text.replace('metric = "accuracy"', 'metric = "log_loss"', 1))
    assert main(["submission", "-c", str(other), *fast]) == 0
    err = capsys.readouterr().err
    assert "holds a run of other settings or data (metric accuracy -> log_loss), so this one is plus_linear_" in err
    assert {p.name: p.read_bytes() for p in folder.glob("plus_*") if p.name in first} == first  # untouched
    (second,) = folder.glob("plus_*-*.csv")
    assert json.loads(second.with_suffix(".json").read_text())["metric"] == "log_loss"


def _float_ids(data: Path) -> None:
    """test.csv with each PassengerId written 81.0 where gender_submission.csv writes 81."""
    lines = (data / "test.csv").read_text().splitlines(keepends=True)
    (data / "test.csv").write_text(lines[0] + "".join(line.replace(",", ".0,", 1) for line in lines[1:]))


def test_test_ids_written_otherwise_than_the_sample_submission_are_refused_before_training(
    synthetic_dir, tmp_path, monkeypatch, capsys
):
    from kit.cli import main

    _float_ids(synthetic_dir)
    monkeypatch.chdir(tmp_path)
    assert main(["submission", "--data-dir", str(synthetic_dir), "--models", "linear", "--epochs", "1"]) == 2
    assert capsys.readouterr().err == (
        "error: test.csv has PassengerId 81.0 (line 2), which gender_submission.csv does not list (its line 2 has "
        "81): Kaggle matches ids as text; run `kit fetch -c titanic --force`.\n"
    )
    assert not (tmp_path / "submissions").exists()


@pytest.mark.parametrize(
    "sample_header, why",
    [
        ("PassengerId,survived", ""),  # Kaggle reads columns by name, case and all
        ("Survived,PassengerId", " (the same names in another order)"),
        ("PassengerId,Survived,Fare", ""),
    ],
)
def test_a_definition_whose_header_is_not_the_sample_submissions_is_refused_before_training_and_before_upload(
    synthetic_dir, tmp_path, monkeypatch, capsys, sample_header, why
):
    from kit.cli import main
    from kit.submit import preflight

    lines = (synthetic_dir / "gender_submission.csv").read_text().splitlines(keepends=True)
    good = tmp_path / "good.csv"
    good.write_text("PassengerId,Survived\n" + "".join(f"{line.split(',')[0]},0\n" for line in lines[1:]))
    assert preflight(COMP, good, synthetic_dir)  # the sample's own header: passes
    (synthetic_dir / "gender_submission.csv").write_text(sample_header + "\n" + "".join(lines[1:]))
    fact = (
        f"gender_submission.csv's header is {sample_header!r} but the definition's [submission] columns make "
        f"'PassengerId,Survived'{why}; set [submission] columns (and the target) to the sample's."
    )
    monkeypatch.chdir(tmp_path)
    assert main(["submission", "--data-dir", str(synthetic_dir), "--models", "linear", "--epochs", "1"]) == 2
    assert capsys.readouterr().err == f"error: {fact}\n"
    assert not (tmp_path / "submissions").exists()  # nothing trained, nothing written
    assert main(["submit", str(good), "--data-dir", str(synthetic_dir), "--check"]) == 2
    assert capsys.readouterr().err == f"error: good.csv was not sent: {fact}\n"


def test_a_submission_is_not_sent_when_the_test_ids_are_not_the_sample_submissions(synthetic_dir, tmp_path):
    from kit.submit import preflight

    def sample(ids):
        (synthetic_dir / "gender_submission.csv").write_text(
            "PassengerId,Survived\n" + "".join(f"{i},0\n" for i in ids)
        )

    ids = [str(i) for i in range(81, 111)]
    path = tmp_path / "a.csv"
    path.write_text("PassengerId,Survived\n" + "".join(f"{i}.0,0\n" for i in ids))
    _float_ids(synthetic_dir)
    with pytest.raises(KitError, match=r"^a.csv was not sent: test.csv has PassengerId 81.0 \(line 2\)"):
        preflight(COMP, path, synthetic_dir)
    path.write_text("PassengerId,Survived\n" + "".join(f"{i},0\n" for i in ids))
    (synthetic_dir / "test.csv").write_text("PassengerId,Pclass\n" + "".join(f"{i},3\n" for i in ids))
    sample(ids[:-1])
    with pytest.raises(
        KitError, match=r"test.csv has PassengerId 110 \(line 31\), which gender_submission.csv does not list:"
    ):
        preflight(COMP, path, synthetic_dir)
    sample([*ids, "111"])
    with pytest.raises(
        KitError, match=r"gender_submission.csv lists PassengerId 111 \(line 32\), which test.csv does not"
    ):
        preflight(COMP, path, synthetic_dir)
    sample(ids)
    assert preflight(COMP, path, synthetic_dir)  # the same ids as text: its sha256


def test_a_submission_made_without_the_sample_file_says_what_it_could_not_check(
    synthetic_dir, tmp_path, monkeypatch, capsys
):
    from kit.cli import main

    monkeypatch.chdir(tmp_path)
    args = ["submission", "--data-dir", str(synthetic_dir), "--models", "linear", "--epochs", "1", "--quiet"]
    assert main(args) == 0
    assert "is not in" not in capsys.readouterr().err  # checked against the sample: nothing to say
    (synthetic_dir / "gender_submission.csv").unlink()
    assert main([*args, "--out", str(tmp_path / "b.csv")]) == 0
    assert (
        f"kit: note: gender_submission.csv is not in {synthetic_dir}, so the submission's header and ids are checked "
        "against the definition and the test file only\n"
    ) in capsys.readouterr().err


def test_a_label_outside_many_classes_lists_them_with_commas():
    task = make_task("multiclass", "accuracy", ("Low", "Mid", "High"), ("id", "level"))
    assert task.check_cells(["Top"]) == "has 'Top'; the only allowed values are Low, Mid, High"
    assert TASK.check_cells(["2"]) == "has '2'; the only allowed values are 0 and 1"


def test_a_0_or_1_for_two_text_labels_says_which_is_which():
    task = make_task("binary", "accuracy", ("Extrovert", "Introvert"), ("id", "Personality"))
    assert task.check_cells(["1"]) == (
        "has '1'; the only allowed values are Extrovert and Introvert (kit's 0 is Extrovert and its 1 Introvert: "
        "write the labels)"
    )
    assert task.check_cells(["Yes"]) == "has 'Yes'; the only allowed values are Extrovert and Introvert"
    assert TASK.check_cells(["2"]) == "has '2'; the only allowed values are 0 and 1"  # labels that are 0/1 already
