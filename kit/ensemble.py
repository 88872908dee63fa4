"""The ensemble: the models' predictions combined, as an equal mean or with weights chosen on validation.

"mean" (the default): every model counts the same. A weak model then drags the ensemble below its best
member (README.md, "ensemble", has measured cases).

"select": greedy ensemble selection (Caruana et al., 2004). Starting from nothing, each of ROUNDS rounds
adds the model (again, if it is already in) whose addition makes the running mean of the chosen models
score best on out-of-fold predictions; a model's weight is its share of the rounds. The weights are
multiples of 1 / ROUNDS, never negative, and sum to one, so the ensemble is still a mean of predictions,
and a model that helps nothing gets 0. Label metrics (accuracy, f1, balanced accuracy) step as
predictions move, so weights are chosen on log loss for them, the loss the models learn from; any other
metric is used as it is.

Chosen on the rows they are then scored on, weights would flatter the ensemble's CV. So each fold's
weights are chosen on the other folds of its own repeat, as epochs are (kit.train.held_out_sets), and the
full-data fit's on every fold's predictions.
"""

from __future__ import annotations

import torch

from kit.task import Task

ENSEMBLES = ("mean", "select")
ROUNDS = 20  # weights in steps of 0.05: finer steps fit the folds' noise rather than the models' worth


def selection_score(task: Task, pred: torch.Tensor, y: torch.Tensor) -> float:
    """The score weights are chosen on, lower is better: the task's metric, or log loss for a label metric."""
    if task.metric.submits == "label":
        from kit import metrics

        return metrics.log_loss(pred, y)
    return task.sort_key(task.score(pred, y))


def select_weights(preds: list[torch.Tensor], y: torch.Tensor, task: Task, rounds: int = ROUNDS) -> list[float]:
    """Greedy selection's weight per model (in the order given) on rows where each of `preds` predicts `y`.

    preds: one (n[, k]) prediction per model in the task's form. A tie goes to the model given first.
    """
    counts = [0] * len(preds)
    total = torch.zeros_like(preds[0], dtype=torch.float64)
    for r in range(1, rounds + 1):
        scores = [selection_score(task, (total + p.double()) / r, y) for p in preds]
        best = min(range(len(preds)), key=lambda i: (scores[i], i))
        counts[best] += 1
        total += preds[best].double()
    return [c / rounds for c in counts]


def combine(preds: list[torch.Tensor], weights: list[float] | None = None) -> torch.Tensor:
    """The ensemble's prediction: the mean of `preds`, or their weighted sum (weights summing to one)."""
    if weights is None:
        return torch.stack(preds).mean(dim=0)
    return sum(w * p.double() for w, p in zip(weights, preds) if w).to(preds[0].dtype)
