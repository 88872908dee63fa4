"""A rerun of a submitted configuration costs nothing: `kit run --submit` a second time trains nothing,
prints the recorded score and exits 0 (against the fake Kaggle server, with the real client)."""

from __future__ import annotations

import json

import test_kaggle
from conftest import shared_data
from fake_kaggle import fake_kaggle_fixture  # noqa: F401 (registers the fake_kaggle fixture)

FAST = ["--models", "linear", "--seeds", "1", "--folds", "2", "--epochs", "3", "--quiet"]
SUBMIT = ["--submit", "--wait", "--poll-interval", "0.05"]
run, server = test_kaggle.run, test_kaggle.server  # the fixtures test_kaggle.py runs kit with


def _runs(run) -> int:
    path = run.work / "submissions" / "titanic" / "runs.json"
    return len(json.loads(path.read_text())) if path.exists() else 0


def test_a_second_kit_run_submit_trains_nothing_and_prints_the_recorded_score(run, server):
    first = run("run", *FAST, *SUBMIT)
    assert first.returncode == 0, first.stderr
    assert "public score:" in first.stdout and _runs(run) == 1
    uploads = len(server.calls("CreateSubmission"))

    again = run("run", *FAST, *SUBMIT)
    assert again.returncode == 0, again.stderr
    assert "already submitted" in again.stderr and "nothing trained" in again.stderr
    assert [line for line in again.stdout.splitlines() if line.startswith("public score:")] == [
        line for line in first.stdout.splitlines() if line.startswith("public score:")
    ]
    assert _runs(run) == 1  # no CV ran
    assert len(server.calls("CreateSubmission")) == uploads  # nothing was sent
    with_oof = run("run", *FAST, *SUBMIT, "--oof", "oof.csv")  # the same file: --oof does not change it
    assert with_oof.returncode == 0 and "so no out-of-fold predictions were written to oof.csv" in with_oof.stderr
    assert not (run.work / "oof.csv").exists() and _runs(run) == 1


def test_another_configuration_or_force_trains_again(run, server):
    assert run("run", *FAST, *SUBMIT).returncode == 0
    other = run("run", *FAST, "--lr", "0.5")  # another configuration: trained, not skipped
    assert other.returncode == 0 and "already submitted" not in other.stderr and _runs(run) == 2
    forced = run("run", *FAST, "--force")
    assert forced.returncode == 0 and "already submitted" not in forced.stderr and _runs(run) == 3


def test_a_submitted_file_that_is_gone_is_written_again(run, server):
    assert run("run", *FAST, *SUBMIT).returncode == 0
    for path in (run.work / "submissions" / "titanic").glob("*.csv"):
        path.unlink()
    again = run("run", *FAST)
    assert again.returncode == 0 and "already submitted" not in again.stderr and _runs(run) == 2


def test_kit_run_submit_without_credentials_stops_before_any_download_or_training(run, server):
    run.env = {k: v for k, v in run.env.items() if k not in ("KAGGLE_USERNAME", "KAGGLE_KEY")}
    data = shared_data("titanic")  # the data is here: without the check, kit would train and write the file first
    out = run("run", "--data-dir", str(data), *FAST, *SUBMIT)
    test_kaggle.one_error(out, "no Kaggle credentials", "without an account")
    assert server.log == [] and run.leftovers() == []  # nothing downloaded, trained or written
