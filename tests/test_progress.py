"""The progress bar on a terminal: folds x models done, each model's latest epoch beside it, and no time to go."""

from __future__ import annotations

import io

import torch
from test_train import BINARY, _learnable

from kit import progress
from kit.train import Training, fit


def test_the_bar_shows_each_models_latest_epoch_and_no_time_to_go(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(progress.sys, "stderr", out)
    clock = iter(range(1, 100))  # each note a second after the last: every one is drawn
    monkeypatch.setattr(progress.time, "monotonic", lambda: float(next(clock)))
    with progress.bar(6, "demo cv", True) as shown:
        note = progress.epoch_note(shown)
        note("nn", 100, 1)
        note("deep", 30, 1)
        note("nn", 100, 2)
    text = out.getvalue()
    assert "nn epoch 2 of 100, deep epoch 1 of 30" in text and "0/6" in text
    assert "<" not in text  # no time to go: side-by-side models finish in a burst (a trial's "2:46" took 13 s)


def test_a_fit_says_each_epoch_it_trained():
    x, y = _learnable(n=100)
    said = []
    fit(
        Training(epochs=4).settings("nn"), BINARY, x[None], y[None], torch.ones(1, 100), seeds=[1], on_epoch=said.append
    )
    assert said == [1, 2, 3, 4]
