"""The ensemble: the models' predictions combined, as an equal mean or with weights chosen on validation.

"mean" (the default): every model counts the same. A weak model then drags the ensemble below its best
member (README.md, "ensemble", has measured cases).

"select": greedy ensemble selection (Caruana et al., 2004). Starting from nothing, each of ROUNDS rounds
adds the model (again, if it is already in) whose addition makes the running mean of the chosen models
lose least on out-of-fold predictions; a model's weight is its share of the rounds. The weights are
multiples of 1 / ROUNDS, never negative, and sum to one, so the ensemble is still a mean of predictions,
and a model that helps nothing gets 0. The loss is the one the models learn from (log loss for classes,
squared error for values, the absolute error when the metric is mae or medae): accuracy and its kin step as
predictions move and would fit the folds' noise. ROC AUC is the exception, chosen on itself: it scores only the
order of the rows, and log loss also rewards calibration, which it ignores. On a card-fraud set (0.23 % positives)
log loss gave the linear model 0.05 of the weight though it ranked best by 0.07 AUC, and the ensemble fell below
it. A candidate scores each fold's AUC and their mean, as CV does. Scoring an AUC sorts the rows (kit.metrics), so
each class is drawn down to about ORDER_ROWS rows over all the folds first: a choice of 60 candidates on 240,000
rows takes 0.07-0.2 s (0.7-1.1 s on every row), log loss's 0.06.

Chosen on the rows they are then scored on, weights would flatter the ensemble's CV. So each fold's
weights are chosen on the other folds of its own repeat, as epochs are (kit.train.held_out_sets), and the
full-data fit's on every fold's predictions.
"""

from __future__ import annotations

import math

import torch

from kit.metrics import roc_auc
from kit.task import Task

ENSEMBLES = ("mean", "select")
ROUNDS = 20  # weights in steps of 0.05: finer steps fit the folds' noise rather than the models' worth
# Under ROC AUC, the rows of each class a choice's AUCs are taken on, at most, over all its folds. Drawn alike
# from one class, its pairs with the other are a fair sample of all of them; a class of fewer rows (0.2 % fraud)
# is kept whole. On
# 165,000 rows of 21 % positives (a trial's bank churn) a CV's six choices took 3.0 s on every row and 1.2 s
# on these, weights 0.20/0.40/0.40 and 0.25/0.40/0.35, the ensemble 0.8797 both.
ORDER_ROWS = 25_000


# Probabilities are clipped here before their log, as kit.metrics.log_loss clips them.
EPS = torch.finfo(torch.float64).eps


def _per_row(task: Task, pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """What the selection loss needs of a model's prediction per row, (n,) float64: the probability of the
    true class (rows normalised, as kit.metrics.log_loss does), or the value; multilabel: (n, k), each
    target column's probability of its true value."""
    pred = pred.double()
    if task.kind == "regression":
        return pred
    if pred.dim() == 1 or task.kind == "multilabel":  # the probability of the positive class, of each column
        return torch.where(y == 1, pred, 1 - pred)
    return (pred / pred.sum(dim=1, keepdim=True)).gather(1, y.long()[:, None])[:, 0]


def order_rows(y: torch.Tensor, per_class: int = ORDER_ROWS) -> torch.Tensor | None:
    """The rows an AUC is chosen on (sorted indices), at most `per_class` of each class drawn at random in a fixed
    draw; multilabel: at most 2 * per_class rows. None: every row, none having more."""
    gen = torch.Generator().manual_seed(0)  # the same rows every run: the weights, and so the files, keep their bytes
    if y.dim() == 2:  # multilabel: each column's classes are many rows' anyway; rows drawn alike
        if len(y) <= 2 * per_class:
            return None
        return torch.randperm(len(y), generator=gen)[: 2 * per_class].sort().values
    classes = [torch.nonzero(y == c).view(-1) for c in torch.unique(y)]
    if all(len(rows) <= per_class for rows in classes):
        return None
    drawn = [rows[torch.randperm(len(rows), generator=gen)[:per_class]] for rows in classes]
    return torch.cat(drawn).sort().values


def _drawn_by_fold(y: torch.Tensor, sizes: list[int]) -> tuple[torch.Tensor, list[tuple[int, int]]]:
    """The rows each fold's AUC is taken on, as indices into `y` (whose folds lie end to end, `sizes` rows each):
    each fold's drawn by order_rows, as many in all as one set of ORDER_ROWS a class; and where each fold's lie
    among them (start, end)."""
    per_class = max(1, ORDER_ROWS // len(sizes))
    kept, spans, start, at = [], [], 0, 0
    for size in sizes:
        drawn = order_rows(y[start : start + size], per_class)
        kept.append(torch.arange(start, start + size) if drawn is None else drawn + start)
        spans.append((at, at + len(kept[-1])))
        start, at = start + size, at + len(kept[-1])
    return torch.cat(kept), spans


def select_weights(
    preds: list[torch.Tensor], y: torch.Tensor, task: Task, rounds: int = ROUNDS, groups: list[int] | None = None
) -> list[float]:
    """Greedy selection's weight per model (in the order given) on rows where each of `preds` predicts `y`.

    preds: one (n[, k]) prediction per model in the task's form. Weights are chosen on the loss the
    models learn from: log loss for classes (multilabel: summed over the target columns), squared error for
    values (in the space scores are taken in: log1p for rmsle), the absolute error when the metric is one of
    absolute errors, mae or medae (drafts train on it then); under ROC AUC, on the AUC itself. A tie goes to
    the model chosen in more rounds, then to the one given first: a model that leaves the rows' order as it is
    (under AUC, a constant one) ties and is not added for nothing.

    groups: how many of the rows, in order, each fold holds (the rows of several folds, end to end). Under ROC AUC a
    candidate scores each fold's AUC and their mean, as CV does: an AUC of every fold's rows at once would also
    score how each fold's models set their scale against another fold's, which neither CV nor the test rows see
    (card fraud: a mix of every model ranked the pooled rows better than linear alone, each fold's worse).
    """
    # The mean of true-class probabilities is the true-class probability of the mean, so each model is one
    # column of numbers and every candidate costs a pass over (n,), not (n, k): 300,000 rows in ~0.2 s.
    by_order = task.metric.name == "roc_auc"  # scored on itself: the mean's AUC, the same whatever it is divided by
    if by_order:
        kept, spans = _drawn_by_fold(y, groups or [len(y)])
        preds, y = [p[kept] for p in preds], y[kept]
    rows = [p.double() if by_order else _per_row(task, p, y) for p in preds]
    target = y.double()
    weight = None  # under a balanced metric, each row weighs 1 / its class's rows: every class counts alike
    if task.metric.loss == "balanced":
        classes = y.long()
        weight = (1.0 / torch.bincount(classes).double().clamp(min=1))[classes]  # (n,)

    def loss(mean: torch.Tensor) -> float:
        if by_order:  # each fold's AUC, their mean
            return -math.fsum(roc_auc(mean[a:b], y[a:b]) for a, b in spans) / len(spans)
        if task.kind == "regression":
            error = (mean - target).abs_()
            return (error if task.metric.loss == "mae" else error.pow_(2)).mean().item()
        log_p = mean.clamp_(EPS, 1 - EPS).log_()  # (n,) or, multilabel, (n, k): summed over the target columns
        if weight is not None:
            return -(log_p * weight).sum().item() / weight.sum().item()
        return -(log_p.sum(dim=1) if log_p.dim() == 2 else log_p).mean().item()

    counts = [0] * len(preds)
    total = torch.zeros_like(rows[0])
    for r in range(1, rounds + 1):
        scores = [loss((total + p).div_(r)) for p in rows]
        best = min(range(len(rows)), key=lambda i: (scores[i], -counts[i], i))
        counts[best] += 1
        total += rows[best]
    return [c / rounds for c in counts]


def combine(preds: list[torch.Tensor], weights: list[float] | None = None) -> torch.Tensor:
    """The ensemble's prediction: the mean of `preds`, or their weighted sum (weights summing to one)."""
    if weights is None:
        return torch.stack(preds).mean(dim=0)
    return sum(w * p.double() for w, p in zip(weights, preds) if w).to(preds[0].dtype)
