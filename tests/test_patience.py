"""Patience: choosing epochs, the validation curves stop once none a choice is made from improves."""

from __future__ import annotations

import json
from dataclasses import replace
from types import SimpleNamespace

import pytest
import torch
from conftest import shared_data, titanic_with_training

from kit.cli import main
from kit.pipeline import format_cv
from kit.task import METRICS, Task
from kit.train import Training, best_epoch, fit, held_out_best_epochs

BINARY = Task("binary", METRICS["accuracy"], ("0", "1"))


def _folds(n_folds=3, n=240, seed=0):
    """A learnable binary set cut into n_folds folds: training and validation stacks, all folds the same size."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, generator=gen)
    y = ((x[:, 0] * x[:, 1] > 0) ^ (x[:, 2] > 1.0)).float()
    size = n // n_folds
    valid = [torch.arange(f * size, (f + 1) * size) for f in range(n_folds)]
    train = [torch.cat([v for g, v in enumerate(valid) if g != f]) for f in range(n_folds)]
    xs, ys = torch.stack([x[t] for t in train]), torch.stack([y[t] for t in train])
    xv, yv = torch.stack([x[v] for v in valid]), torch.stack([y[v] for v in valid])
    return xs, ys, torch.ones(ys.shape), (xv, yv, torch.ones(yv.shape))


def _first_stall(scores: torch.Tensor, losses: torch.Tensor, patience: int) -> int | None:
    """Written out apart from kit: the first epoch count at which every curve a choice is made from (each fold's
    held-out mean, and the mean of all folds) and the validation loss (mean over folds and seeds) have gone
    `patience` epochs past their best (the earliest of equals)."""
    n_folds, epochs = scores.shape
    curves = [scores.mean(dim=0)] + [scores[[g for g in range(n_folds) if g != f]].mean(dim=0) for f in range(n_folds)]
    loss = losses.mean(dim=(0, 1))  # (epochs,)
    for trained in range(patience + 1, epochs + 1):
        metric_stalled = all(trained - (int(c[:trained].argmax()) + 1) >= patience for c in curves)
        if metric_stalled and trained - (int(loss[:trained].argmin()) + 1) >= patience:
            return trained
    return None


@pytest.mark.parametrize("name", ["linear", "nn"])
@pytest.mark.parametrize("batch_size", [0, 32])
def test_the_curves_stop_at_the_first_epoch_no_curve_a_choice_is_made_from_nor_the_loss_improved_for_patience(
    name, batch_size
):
    xs, ys, mask, valid = _folds()
    settings = Training(epochs=80, lr=0.05, batch_size=batch_size).settings(name)  # overfits well before 80
    full = fit(settings, BINARY, xs, ys, mask, seeds=[1, 2], valid=valid)
    stall = _first_stall(full.valid_scores, full.valid_losses, 4)
    assert stall is not None and stall < 80  # the test's data stalls: otherwise nothing here could fail
    stopped = fit(settings, BINARY, xs, ys, mask, seeds=[1, 2], valid=valid, patience=4, keep_each_epoch=True)
    assert stopped.valid_scores.shape == (3, stall) and stopped.losses.shape == (3, 2, stall)
    assert stopped.valid_losses.shape == (3, 2, stall) and len(stopped.each_epoch) == stall
    # the epochs it trained are the bytes of the full fit's: stopping changes nothing before it
    assert torch.equal(stopped.valid_scores, full.valid_scores[:, :stall])
    assert torch.equal(stopped.losses, full.losses[:, :, :stall])
    # what is chosen from the curves it kept is what the full curves chose, when no curve came back later
    if _first_stall(full.valid_scores, full.valid_losses, 80 - stall + 4) is None:
        truncated = held_out_best_epochs(full.valid_scores[:, :stall], BINARY)[0]
        assert held_out_best_epochs(stopped.valid_scores, BINARY)[0] == truncated


def test_patience_0_and_a_patience_never_reached_train_every_epoch():
    xs, ys, mask, valid = _folds()
    settings = Training(epochs=12, lr=0.05).settings("nn")
    full = fit(settings, BINARY, xs, ys, mask, seeds=[1], valid=valid)
    for patience in (0, 12):
        assert (
            fit(settings, BINARY, xs, ys, mask, seeds=[1], valid=valid, patience=patience).valid_scores.shape[1] == 12
        )
    no_curves = fit(settings, BINARY, xs, ys, mask, seeds=[1], patience=2)  # nothing to stop on without valid
    assert no_curves.losses.shape[2] == 12 and torch.equal(no_curves.losses, full.losses)


def test_cv_with_patience_chooses_each_folds_epochs_among_those_trained():
    import pandas as pd

    from kit.recipe_spec import RecipeSpec
    from kit.task import make_task
    from kit.validation import Plan, cross_validate

    gen = torch.Generator().manual_seed(3)
    n = 400
    a, b = torch.randn(n, generator=gen), torch.randn(n, generator=gen)
    frame = pd.DataFrame({"a": a.tolist(), "b": b.tolist()})
    y = torch.tensor(((a * b > 0) ^ (a > 1.0)).float().tolist())
    spec = RecipeSpec(name="t", numeric=["a", "b"])
    task = make_task("binary", "accuracy", ("0", "1"), ("id", "y"))
    training = Training(epochs=60, lr=0.05, batch_size=64)
    plan = Plan(folds=3, seeds=1, training=training, choose_epochs=True, models=("linear", "nn"))
    full = cross_validate(spec, frame, frame.iloc[:10], y, plan, task)
    patient = cross_validate(spec, frame, frame.iloc[:10], y, replace(plan, patience=3), task)
    stopped_any = False
    for name in plan.models:
        r, f = patient.models[name], full.models[name]
        trained = len(r.valid_scores[0])
        assert all(len(c) == trained for c in r.valid_scores) and all(1 <= e <= trained for e in r.epochs)
        assert [c[:trained] for c in f.valid_scores] == r.valid_scores  # the same curves, cut where they stopped
        scores = torch.tensor(r.valid_scores, dtype=torch.float64)
        assert r.epochs == held_out_best_epochs(scores, task)[0] and r.chosen_epochs == best_epoch(scores, task)
        stopped_any |= trained < 60
    assert stopped_any  # the data stalls within 60 epochs: the test sees patience at work


def test_a_group_of_folds_that_stopped_early_does_not_cut_the_others_epochs_short():
    import pandas as pd

    from kit.recipe_spec import RecipeSpec
    from kit.task import make_task
    from kit.validation import Plan, cross_validate, flat_after_stop

    gen = torch.Generator().manual_seed(0)
    n = 600
    a, b = torch.randn(n, generator=gen), torch.randn(n, generator=gen)
    # a time split whose first fold never sees the levels of later rows: a feature column less, a grid of its own
    level = ["early" if i < 150 else ("late" if i % 2 else "mid") for i in range(n)]
    frame = pd.DataFrame({"a": a.tolist(), "b": b.tolist(), "c": level})
    y = torch.tensor(((a * b > 0) ^ (a > 1.0)).float().tolist())
    spec = RecipeSpec(name="t", numeric=["a", "b"], one_hot=["c"])
    task = make_task("binary", "accuracy", ("0", "1"), ("id", "y"))
    training = Training(epochs=80, lr=0.05, batch_size=64)
    plan = Plan(split="time", folds=3, training=training, choose_epochs=True, patience=3, models=("nn",))
    result = cross_validate(spec, frame, frame.iloc[:10], y, plan, task, groups=list(range(n)))
    r = result.models["nn"]
    lengths = [len(c) for c in r.valid_scores]
    assert lengths[0] < lengths[1] == lengths[2]  # the lone first fold stopped on its own curve, early
    flat = flat_after_stop([torch.tensor(c, dtype=torch.float64) for c in r.valid_scores])
    assert r.epochs == held_out_best_epochs(flat, task)[0] and r.chosen_epochs == best_epoch(flat, task)
    assert r.epochs[0] > lengths[0]  # chosen on the others' longer curves: trained again to there
    row = next(line for line in format_cv(SimpleNamespace(slug="t", metric="accuracy"), spec, plan, result).splitlines()
               if line.startswith("nn "))  # fmt: skip
    assert row.endswith(f" of {max(lengths)}")  # how far the longest curve went, not the first fold's


def test_patience_comes_from_the_flag_then_the_definition_and_is_recorded(synthetic_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    definition = titanic_with_training(tmp_path, '[training]\npreset = "default"\nchoose_epochs = true\npatience = 3\n')
    args = ["cv", "-c", definition, "--data-dir", str(synthetic_dir), "--folds", "3", "--models", "linear,nn"]
    assert main([*args, "--epochs", "40", "--seeds", "1"]) == 0
    table = capsys.readouterr().out
    assert ", of the most any fold ran (a fold stops after 3 epochs without gain)" in table
    (run,) = json.loads((tmp_path / "submissions/titanic/runs.json").read_text())
    assert run["patience"] == 3 and run["choose_epochs"] is True
    assert main([*args, "--epochs", "40", "--seeds", "1", "--patience", "0"]) == 0  # the flag wins
    out = capsys.readouterr().out
    table = out.split("\nagainst the last CV")[0]  # the comparison below it names the change
    assert "patience" not in table and "changed: patience 3 -> 0" in out
    runs = json.loads((tmp_path / "submissions/titanic/runs.json").read_text())
    assert [r["patience"] for r in runs] == [3, 0]
    assert main(["report", "-c", definition]) == 0
    report = capsys.readouterr().out
    assert sum("patience 3" in line for line in report.splitlines()) == 1  # two rows, told apart


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--patience", "3", "--no-choose-epochs"], "add --choose-epochs"),
        (["--patience", "-1"], "--patience must be 0"),
    ],
)
def test_patience_that_could_do_nothing_is_refused_in_one_sentence(
    synthetic_dir, tmp_path, monkeypatch, capsys, flags, says
):
    monkeypatch.chdir(tmp_path)
    assert main(["cv", "--data-dir", str(synthetic_dir), "--folds", "3", *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "submissions").exists()  # refused before anything was trained or written


def test_no_choose_epochs_trains_every_epoch_without_the_definitions_patience(tmp_path, monkeypatch, capsys):
    definition = titanic_with_training(tmp_path, '[training]\npreset = "default"\nchoose_epochs = true\npatience = 3\n')
    monkeypatch.chdir(tmp_path)
    args = ["cv", "-c", definition, "--data-dir", str(shared_data("titanic")), "--folds", "3", "--epochs", "4"]
    assert main([*args, "--models", "linear", "--no-choose-epochs", "--json", "--quiet"]) == 0
    run = json.loads(capsys.readouterr().out)
    assert "chosen_epochs" not in run["models"]["linear"]  # a quick look at a fixed number of epochs


def test_the_sidecar_of_a_submission_records_the_patience_its_curves_stopped_by(
    synthetic_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    args = ["submission", "--data-dir", str(synthetic_dir), "--folds", "3", "--models", "linear,nn", "--seeds", "1"]
    assert main([*args, "--epochs", "40", "--choose-epochs", "--patience", "3"]) == 0
    path = tmp_path / capsys.readouterr().out.strip().splitlines()[-1]
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["config"]["plan"]["patience"] == 3 and sidecar["config"]["plan"]["choose_epochs"] is True
    for name, epochs in sidecar["chosen_epochs"].items():  # the full-data fit trains an epoch the curves reached
        assert 1 <= epochs <= sidecar["cv"]["models"][name]["epochs_tried"] <= 40


def test_a_plateau_of_the_metric_does_not_stop_a_model_whose_validation_loss_still_falls():
    from kit.train import _Curves

    curves = _Curves.__new__(_Curves)  # the rule alone, on curves written by hand: (F, S, epochs) and (F, epochs)
    curves.task = BINARY
    curves.scores = torch.full((3, 15), 0.6, dtype=torch.float64)  # accuracy at the majority rate for 15 epochs
    curves.losses = torch.linspace(0.69, 0.60, 15).expand(3, 2, 15)  # while the loss falls every epoch
    assert not curves.stalled(14, patience=10)
    curves.losses = torch.full((3, 2, 15), 0.69)  # the loss flat too: nothing improves, so it stops
    assert curves.stalled(14, patience=10)
    curves.scores[:, 6] = 0.7  # the metric's best 9 epochs ago: not yet `patience` epochs without improving
    assert not curves.stalled(14, patience=10)
