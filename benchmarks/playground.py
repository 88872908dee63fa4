"""A Playground-sized synthetic competition: numbers and categories, a binary target, and its definition.

Used by benchmarks/bench_scale.py; written into a scratch folder, never into the checkout.
"""

from __future__ import annotations

from pathlib import Path

SLUG = "playground"
N_NUMBERS, N_CATEGORIES = 20, 5

DEFINITION = """\
# A synthetic Playground-style competition written by benchmarks/playground.py.
slug = "playground"
title = "Synthetic Playground"
id = "id"
target = "target"
metric = "accuracy"
recipe = "base"

[files]
train = "train.csv"
test = "test.csv"
sample_submission = "sample_submission.csv"

[submission]
columns = ["id", "target"]
labels = ["0", "1"]

[recipes.base]
fill_constant = {{ {fills} }}
fill_mode = [{cats}]
numeric = [{nums}]
one_hot = [{cats}]
scale = "max"
"""


def write_playground(folder: Path, n_train: int, n_test: int, seed: int = 0) -> Path:
    """Write competitions/playground.toml and data/playground/{train,test,sample_submission}.csv under folder.

    20 numbers (a few missing) and 5 categories of 3 to 12 levels (a few missing); the target
    depends on both, with noise, so that the models have something to learn.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n = n_train + n_test
    numbers = rng.normal(size=(n, N_NUMBERS)).astype("float64") * rng.uniform(0.5, 50, size=N_NUMBERS)
    frame = pd.DataFrame({"id": np.arange(n)})
    logit = numbers[:, :5] @ rng.normal(size=5) / np.abs(numbers[:, :5]).mean(axis=0).sum()
    for j in range(N_NUMBERS):
        column = numbers[:, j].round(3)
        column[rng.random(n) < 0.01] = np.nan
        frame[f"num{j}"] = column
    for j in range(N_CATEGORIES):
        k = 3 + 2 * j + (j > 2)  # 3, 5, 7, 10, 12 levels
        codes = rng.integers(0, k, size=n)
        logit += rng.normal(size=k)[codes] * 0.5
        levels = np.array([f"c{j}_{chr(97 + i)}" for i in range(k)], dtype=object)
        column = levels[codes]
        column[rng.random(n) < 0.02] = None
        frame[f"cat{j}"] = column
    frame["target"] = (logit + rng.logistic(size=n) > 0).astype(int)
    nums = [f"num{j}" for j in range(N_NUMBERS)]
    cats = [f"cat{j}" for j in range(N_CATEGORIES)]
    data = folder / "data" / SLUG
    data.mkdir(parents=True, exist_ok=True)
    frame.iloc[:n_train].to_csv(data / "train.csv", index=False)
    frame.iloc[n_train:].drop(columns="target").to_csv(data / "test.csv", index=False)
    pd.DataFrame({"id": frame["id"].iloc[n_train:], "target": 0}).to_csv(data / "sample_submission.csv", index=False)
    (folder / "competitions").mkdir(exist_ok=True)
    quoted = ", ".join
    text = DEFINITION.format(
        fills=", ".join(f"{c} = 0" for c in nums),
        cats=quoted(f'"{c}"' for c in cats),
        nums=quoted(f'"{c}"' for c in nums),
    )
    (folder / "competitions" / f"{SLUG}.toml").write_text(text)
    return data
