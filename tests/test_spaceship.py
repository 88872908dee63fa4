"""Spaceship Titanic runs from its definition file alone: booleans with gaps, cabins split into
parts, spending on a log scale, and a submission of True/False that passes the pre-flight checks."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest
import torch
from conftest import shared_data

from kit.competition import load_competition, read_csv, read_train_test, target_vector
from kit.recipe import apply_recipe, fit_recipe
from kit.submission import check_submission
from kit.task import make_task

COMP = load_competition("spaceship-titanic")
TASK = make_task(COMP.task, COMP.metric, COMP.labels, COMP.columns)
SPEC = COMP.recipe()


@pytest.fixture(scope="module")
def data():
    return shared_data("spaceship-titanic")


@pytest.fixture(scope="module")
def frames(data):
    return read_train_test(COMP, data, SPEC)


def test_the_target_reads_true_as_positive(frames):
    train, _ = frames
    y = target_vector(COMP, train)
    assert len(y) == 8693 and sum(y) == 4378  # Transported: 4,378 True, 4,315 False


def test_train_and_test_get_the_same_columns_with_nothing_missing(frames):
    train, test = frames
    state = fit_recipe(SPEC, train)
    x_train, x_test = apply_recipe(SPEC, state, train), apply_recipe(SPEC, state, test)
    assert x_train.shape == (8693, len(state["columns"])) and x_test.shape == (4277, len(state["columns"]))
    assert not torch.isnan(x_train).any() and not torch.isnan(x_test).any()
    assert json.loads(json.dumps(state)) == state


def test_the_first_passenger_reads_as_the_file_says(frames):
    # 0001_01,Europa,False,B/0/P,TRAPPIST-1e,39.0,False,0.0,0.0,0.0,0.0,0.0,Maham Ofracculy,False
    train, _ = frames
    spec = dataclasses.replace(SPEC, scale="none")  # the values as read, not divided by the largest
    state = fit_recipe(spec, train)
    row = dict(zip(state["columns"], apply_recipe(spec, state, train.iloc[:1])[0].tolist()))
    assert row["Age"] == 39.0 and row["CryoSleep"] == 0.0 and row["VIP"] == 0.0
    assert row["Deck_B"] == 1.0 and row["Side_P"] == 1.0 and row["CabinNum"] == 0.0
    assert row["HomePlanet_Europa"] == 1.0 and row["Destination_TRAPPIST-1e"] == 1.0
    assert row["LogSpend"] == 0.0 and row["NoSpend"] == 1.0


def test_kit_submission_writes_a_file_that_passes_the_preflight_checks(data, tmp_path):
    out = tmp_path / "sub.csv"
    command = [sys.executable, "-m", "kit", "submission", "-c", "spaceship-titanic", "--data-dir", str(data)]
    command += ["--models", "linear", "--folds", "2", "--out", str(out)]
    subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=True)
    text = out.read_text()
    sample = read_csv(data / "sample_submission.csv", [COMP.id], COMP.id)
    check_submission(COMP, TASK, text, sample[COMP.id].tolist())
    lines = text.splitlines()
    assert lines[0] == "PassengerId,Transported"
    assert [line.split(",")[0] for line in lines[1:]] == sample[COMP.id].tolist()  # the sample's order
    assert {line.split(",")[1] for line in lines[1:]} == {"True", "False"}
    assert json.loads(out.with_suffix(".json").read_text())["cv_score"] > 0.7
