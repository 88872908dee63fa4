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


def _clocked(monkeypatch, times) -> io.StringIO:
    """kit.progress writing to the returned buffer as stderr (no terminal), its clock reading `times` in turn."""
    out, ticks = io.StringIO(), iter(times)
    monkeypatch.setattr(progress.sys, "stderr", out)
    monkeypatch.setattr(progress.time, "monotonic", lambda: float(next(ticks)))
    return out


def test_without_a_terminal_a_long_run_says_a_plain_line_every_half_minute(monkeypatch):
    # the start; a note reads the clock three times (its own redraw limit twice, then the line's)
    out = _clocked(monkeypatch, [0, 10, 10, 10, 35, 50, 50, 50, 95])
    with progress.progress_for(15, "demo cv") as shown:
        note = progress.epoch_note(shown)
        note("nn", 100, 7)  # 10 s: too soon for a line
        shown.update(5)  # 35 s: the first line
        note("deep", 100, 40)  # 50 s: 15 s after the first line, none
        shown.update(5)  # 95 s: the second line
    assert out.getvalue() == (
        "kit: demo cv, 0:35 so far: nn epoch 7 of 100; 5 of 15 fits done, each model's folds ending together\n"
        "kit: demo cv, 1:35 so far: nn epoch 7 of 100, deep epoch 40 of 100; 10 of 15 fits done, each model's "
        "folds ending together\n"
    )


def test_a_short_run_without_a_terminal_says_nothing(monkeypatch):
    out = _clocked(monkeypatch, [0, 5, 29])
    with progress.progress_for(2, "demo cv") as shown:
        shown.update(1)
        shown.update(1)
    assert out.getvalue() == ""


def test_quiet_or_kit_quiet_shows_no_lines_and_a_terminal_gets_the_bar(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(progress.sys, "stderr", out)
    assert isinstance(progress.progress_for(3, "demo"), progress.Lines)
    assert progress.progress_for(3, "demo", quiet=True).disable
    monkeypatch.setenv("KIT_QUIET", "1")
    assert progress.progress_for(3, "demo").disable
    monkeypatch.delenv("KIT_QUIET")
    monkeypatch.setattr(out, "isatty", lambda: True)
    shown = progress.progress_for(3, "demo")
    assert not isinstance(shown, progress.Lines) and not shown.disable
    shown.close()


def test_a_model_done_is_shown_done_not_at_its_last_epoch(monkeypatch):
    """A trial's log repeated nn's and deep's last epochs for a minute and a half after patience had stopped them."""
    # the start; nn's epoch (3 readings), nn done (2: no redraw limit), deep's epoch (3)
    out = _clocked(monkeypatch, [0, 1, 1, 1, 2, 2, 40, 40, 40])
    with progress.progress_for(10, "demo cv") as shown:
        note = progress.epoch_note(shown)
        note("nn", 100, 43)
        note("nn", 100, None)
        note("deep", 100, 31)
    assert out.getvalue() == (
        "kit: demo cv, 0:40 so far: nn done, deep epoch 31 of 100; 0 of 10 fits done, each model's folds ending "
        "together\n"
    )
