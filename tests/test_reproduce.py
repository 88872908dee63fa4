"""kit reproduce gives the article's printed figures, to the precision it printed them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kit.cli import main

# Losses as the article printed them (3 decimals), accuracy to 4 decimals.
ARTICLE = {
    ("linear_raw", 0.2): (
        "0.536; 0.502; 0.477; 0.454; 0.431; 0.409; 0.388; 0.367; 0.349; 0.336; 0.330; 0.326; 0.329; 0.304; "
        "0.314; 0.296; 0.300; 0.289",
        0.7865,
    ),
    ("linear", 100.0): (
        "0.510; 0.327; 0.294; 0.207; 0.201; 0.199; 0.198; 0.197; 0.196; 0.196; 0.196; 0.195; 0.195; 0.195; "
        "0.195; 0.195; 0.195; 0.195; 0.194; 0.194; 0.194; 0.194; 0.194; 0.194; 0.194; 0.194; 0.194; 0.194; "
        "0.194; 0.194",
        0.8258,
    ),
    ("nn", 1.4): (
        "0.543; 0.532; 0.520; 0.505; 0.487; 0.466; 0.439; 0.407; 0.373; 0.343; 0.319; 0.301; 0.286; 0.274; "
        "0.264; 0.256; 0.250; 0.245; 0.240; 0.237; 0.234; 0.231; 0.229; 0.227; 0.226; 0.224; 0.223; 0.222; "
        "0.221; 0.220",
        None,  # the article prints no accuracy for this run
    ),
    ("nn", 20.0): (
        "0.543; 0.400; 0.260; 0.390; 0.221; 0.211; 0.197; 0.195; 0.193; 0.193; 0.193; 0.193; 0.193; 0.193; "
        "0.193; 0.193; 0.193; 0.192; 0.192; 0.192; 0.192; 0.192; 0.192; 0.192; 0.192; 0.192; 0.192; 0.192; "
        "0.192; 0.192",
        0.8258,
    ),
    ("deep", 4.0): (
        "0.521; 0.483; 0.427; 0.379; 0.379; 0.379; 0.379; 0.378; 0.378; 0.378; 0.378; 0.378; 0.378; 0.378; "
        "0.378; 0.378; 0.377; 0.376; 0.371; 0.333; 0.239; 0.224; 0.208; 0.204; 0.203; 0.203; 0.207; 0.197; "
        "0.196; 0.195",
        0.8258,
    ),
}

ARTICLE_COEFFS = {  # linear with sigmoid, lr 100, after 30 epochs
    "Age": -1.5061, "SibSp": -1.1575, "Parch": -0.4267, "LogFare": 0.2543, "Sex_male": -10.3320,
    "Sex_female": 8.4185, "Pclass_1": 3.8389, "Pclass_2": 2.1398, "Pclass_3": -6.2331,
    "Embarked_C": 1.4771, "Embarked_Q": 2.1168, "Embarked_S": -4.7958,
}  # fmt: skip


@pytest.fixture(scope="module")
def reproduction():
    from conftest import shared_data

    out = subprocess.run(
        [sys.executable, "-m", "kit", "reproduce", "--data-dir", str(shared_data("titanic")), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_split_is_713_train_178_valid(reproduction):
    assert (reproduction["n_train"], reproduction["n_valid"]) == (713, 178)


def test_every_run_matches_the_article_losses_and_accuracy(reproduction):
    runs = {(r["model"], r["lr"]): r for r in reproduction["runs"]}
    assert set(runs) == set(ARTICLE)
    for key, (losses, acc) in ARTICLE.items():
        run = runs[key]
        assert "; ".join(f"{v:.3f}" for v in run["losses"]) == losses, key
        assert run["epochs"] == len(losses.split("; "))
        if acc is not None:
            assert f"{run['accuracy']:.4f}" == f"{acc:.4f}", key


def test_linear_with_sigmoid_has_the_article_coefficients(reproduction):
    run = next(r for r in reproduction["runs"] if r["model"] == "linear")
    assert {k: round(v, 4) for k, v in run["coefficients"].items()} == ARTICLE_COEFFS
    assert list(run["coefficients"]) == list(ARTICLE_COEFFS)  # the article's column order


def test_text_output_prints_the_table(titanic_dir, capsys):
    assert main(["reproduce", "--data-dir", str(titanic_dir)]) == 0
    out = capsys.readouterr().out
    assert "713 train / 178 valid" in out
    assert "0.536; 0.502; 0.477" in out and "accuracy=0.7865" in out
    assert out.count("accuracy=0.8258") == 3
