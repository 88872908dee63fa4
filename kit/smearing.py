"""Smearing: a log target's values scaled back to its mean by one factor, tuned on out-of-fold rows.

A regression whose models learn log(1 + y) (kit.task.Task.log_target) predicts back with expm1, and the exp of a
mean of logs is a median, not a mean: where the errors in logs have a spread s, the mean is about exp(s^2 / 2) times
the median (Duan's smearing estimate; 1.11 for s = 0.45). rmse and r2 score squared errors, which the mean meets
best, so each model's values are multiplied by one factor, the least-squares fit of the targets on them:
c = sum(p y) / sum(p p) over out-of-fold rows, p = expm1(prediction). The other metrics keep the median: mae's best
value is one, rmsle's errors are taken in logs, and mape's and smape's best values lie below the mean.

Chosen on the rows it is then scored on, the factor would flatter the CV, as ensemble weights and cut-points would.
So `tune` gives each fold the factor chosen on the other folds of its own repeat (kit.train.held_out_sets), keeps
the fold's unscaled score beside it, and chooses the full fit's on every fold; the submission's values are its test
predictions scaled by it (kit.pipeline.make_submission). The values stay in the space the models learn in,
log(1 + c expm1(prediction)), which Task.score and Task.cells read as usual.
"""

from __future__ import annotations

import torch

from kit.task import SQUARED, Task


def applies(task: Task) -> bool:
    """Whether a task's values are scaled back to the mean: a regression learned in logs, scored by squared errors."""
    return task.kind == "regression" and task.log_target and task.metric.name in SQUARED


def factor(pred: torch.Tensor, y: torch.Tensor) -> float:
    """The least-squares factor c of expm1(y) on expm1(pred) (both in logs); 1.0 when no positive one exists."""
    p, t = pred.double().expm1(), y.double().expm1()
    c = float((p * t).sum()) / max(float((p * p).sum()), 1e-300)
    return c if c > 0 else 1.0  # a factor of 0 or less would predict no value at all: keep the median


def scaled(pred: torch.Tensor, c: float) -> torch.Tensor:
    """Predictions in logs whose values are c times those of `pred`: log(1 + c expm1(pred)), in pred's dtype."""
    return torch.log1p(c * pred.double().expm1()).to(pred.dtype)


def score_when_scaled(task: Task, pred: torch.Tensor, y: torch.Tensor) -> float:
    """The metric of pred's values scaled by the factor fitted on these same rows: what the validation curves that
    choose a model's epochs (kit.train) compare. The unscaled values' curve favours the epochs whose median lies
    nearest the mean, not the best model: on a trial of used-car prices linear's peaked at its first epoch."""
    return task.score(scaled(pred, factor(pred, y)), y)


def tune(result, y: torch.Tensor, folds: list, task: Task, repeats: int = 1) -> None:
    """The factor for one model's (or the ensemble's) CV result (kit.validation.ModelResult), in place: each fold's
    chosen on the other folds of its repeat and scored on its own rows, the full fit's on every fold.

    The unscaled scores move to `unscaled_scores`; `fold_scores` become the scaled ones, and `oof` each row's values
    scaled by its fold's factor (the OOF file then holds what CV scored); `scale` (the full fit's) and `fold_scales`
    record the choice. A result without per-fold predictions keeps what it has; a single fold (the random split) has
    no other fold to choose on, so each half of its rows is scaled by the factor chosen on the other half
    (kit.train.halves), and the full fit takes all its rows'.
    """
    from kit.train import halves, held_out_sets  # kit.train scores its curves with this module: imported when used
    from kit.validation import out_of_fold

    if not result.fold_preds or len(result.fold_preds) != len(folds):
        return
    truth = [y[valid_idx] for _, valid_idx in folds]

    def chosen_on(fold_ids: list[int], part=slice(None)) -> float:  # part: of a single fold's rows
        on = [result.fold_preds[g][part] for g in fold_ids], [truth[g][part] for g in fold_ids]
        return factor(torch.cat(on[0]), torch.cat(on[1]))

    result.scale = chosen_on(list(range(len(folds))))
    result.unscaled_scores = list(result.fold_scores)
    if len(folds) == 1:
        parts = halves(len(truth[0]))
        result.fold_scales = [chosen_on([0], parts[1]), chosen_on([0], parts[0])]  # each half's, on the other
        pred = result.fold_preds[0].clone()  # (n_valid,) scaled half by half
        for part, c in zip(parts, result.fold_scales):
            pred[part] = scaled(pred[part], c)
        result.oof = out_of_fold([pred], folds, len(result.oof))
        result.fold_scores = [task.score(pred, truth[0])]
        return
    result.fold_scales = [chosen_on(ids) for ids in held_out_sets(len(folds), repeats)]
    scaled_preds = [scaled(p, c) for p, c in zip(result.fold_preds, result.fold_scales)]
    result.oof = out_of_fold(scaled_preds, folds, len(result.oof))
    result.fold_scores = [
        task.score(p, t) if c != 1.0 else unscaled  # 1: nothing scaled, not even float rounding
        for p, c, t, unscaled in zip(scaled_preds, result.fold_scales, truth, result.unscaled_scores)
    ]
