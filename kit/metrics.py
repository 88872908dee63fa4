"""kit's own metrics, written over tensors like the models (scikit-learn is the oracle in the tests only).

Each takes predictions in the task's form (see kit.task) and the target tensor, and returns a float.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from kit import KitError


def hard_labels(pred: torch.Tensor) -> torch.Tensor:
    """Hard class predictions: p > 0.5 for (n,) binary probabilities, the argmax for (n, k)."""
    return pred.argmax(dim=1) if pred.dim() == 2 else (pred > 0.5).long()


def ranked(pred: torch.Tensor, k: int) -> torch.Tensor:
    """(n, min(k, classes)) class indices of each row's k most probable classes, best first; a tie goes to the
    class first in order (a stable sort), so the same probabilities always give the same cells."""
    return torch.sort(pred, dim=1, descending=True, stable=True).indices[:, :k]


def accuracy(pred: torch.Tensor, y: torch.Tensor) -> float:
    """Share of rows whose predicted class is the true one."""
    # float32 mean, as kit has always computed it: the recorded scores keep their bytes
    return (hard_labels(pred) == y.long()).float().mean().item()


def balanced_accuracy(pred: torch.Tensor, y: torch.Tensor) -> float:
    """The mean, over the classes present in y, of the share of that class predicted right."""
    hard, y = hard_labels(pred), y.long()
    recalls = [(hard[y == c] == c).double().mean().item() for c in torch.unique(y).tolist()]
    return math.fsum(recalls) / len(recalls)


def f1(pred: torch.Tensor, y: torch.Tensor) -> float:
    """F1 of the positive class (binary): 2 tp / (2 tp + fp + fn); 0 when there is nothing to find."""
    hard, y = hard_labels(pred), y.long()
    tp = int(((hard == 1) & (y == 1)).sum())
    wrong = int((hard != y).sum())
    return 2 * tp / (2 * tp + wrong) if tp or wrong else 0.0


def _binary_auc(score: torch.Tensor, positive: torch.Tensor) -> float:
    """Area under the ROC curve: the chance a positive row outscores a negative one, ties counting half.

    Counted pair by pair (Mann-Whitney U) without a rank per row: the larger class sorted, each row of the
    smaller one finds how many of it lie below and how many tie. Sorting one class rather than every row,
    in numpy's sort, is what lets ensemble selection score an AUC per candidate (kit.ensemble): about 8 ms
    on 175,000 rows (11 with the classes even) where ranking them all took 30.
    """
    score = score.detach().cpu().double().numpy()
    positive = positive.detach().cpu().bool().numpy()
    pos, neg = score[positive], score[~positive]
    if len(pos) == 0 or len(neg) == 0:
        raise KitError("ROC AUC needs both classes among the scored rows; use more rows per fold or fewer folds.")
    pos_fewer = len(pos) <= len(neg)
    few, many = (pos, neg) if pos_fewer else (neg, pos)
    many, few = np.sort(many), np.sort(few)  # sorted queries search ~2x faster when the classes are near even
    below = np.searchsorted(many, few, side="left")  # (len(few),) rows of the larger class under each
    tied = np.searchsorted(many, few, side="right") - below
    # pairs the smaller class wins, ties half: whole numbers and halves, exact in float64 below 2 ** 52 pairs
    won = int(below.sum()) + int(tied.sum()) / 2
    pairs = len(pos) * len(neg)
    return (won if pos_fewer else pairs - won) / pairs


def roc_auc(pred: torch.Tensor, y: torch.Tensor) -> float:
    """Binary: AUC of the positive class's probability. Multiclass: one class against the rest, averaged.
    Multilabel (y (n, k) of 0/1): each target column's AUC, averaged (Kaggle's "mean column-wise ROC AUC")."""
    if y.dim() == 2:
        return math.fsum(_binary_auc(pred[:, c], y[:, c] == 1) for c in range(y.shape[1])) / y.shape[1]
    if pred.dim() == 1:
        return _binary_auc(pred, y == 1)
    return math.fsum(_binary_auc(pred[:, c], y == c) for c in range(pred.shape[1])) / pred.shape[1]


def log_loss(pred: torch.Tensor, y: torch.Tensor) -> float:
    """Mean negative log probability of the true class; probabilities clipped to [eps, 1 - eps].
    Multilabel (y (n, k) of 0/1): each target column's binary log loss, averaged over the columns."""
    if y.dim() == 2:
        return math.fsum(log_loss(pred[:, c], y[:, c]) for c in range(y.shape[1])) / y.shape[1]
    pred = pred.double()
    if pred.dim() == 1:
        pred = torch.stack([1 - pred, pred], dim=1)  # (n, 2)
    pred = pred / pred.sum(dim=1, keepdim=True)  # rows sum to 1, as Kaggle normalises them
    eps = torch.finfo(torch.float64).eps
    p_true = pred.clamp(eps, 1 - eps).gather(1, y.long()[:, None])[:, 0]  # (n,)
    return -p_true.log().mean().item()


def balanced_log_loss(pred: torch.Tensor, y: torch.Tensor) -> float:
    """Each class's mean log loss over its own rows, averaged over the classes the rows hold (Kaggle's balanced log
    loss: a rare class counts as much as a common one); probabilities clipped and rows summing to 1, as log_loss."""
    pred = pred.double()
    if pred.dim() == 1:
        pred = torch.stack([1 - pred, pred], dim=1)  # (n, 2)
    pred = pred / pred.sum(dim=1, keepdim=True)
    eps = torch.finfo(torch.float64).eps
    y = y.long()
    loss = -pred.clamp(eps, 1 - eps).gather(1, y[:, None])[:, 0].log()  # (n,)
    held = y.unique()  # the classes present: a class with no row has no mean
    return math.fsum(loss[y == c].mean().item() for c in held.tolist()) / len(held)


def map_at_3(pred: torch.Tensor, y: torch.Tensor) -> float:
    """Mean average precision at 3: a row scores 1 / (the rank of its true class among its 3 most probable, 1 to 3),
    0 when the true class is not among them; the mean over rows."""
    top = ranked(pred, 3)  # (n, min(3, k))
    hits = (top == y.long()[:, None]).double()  # (n, min(3, k)); one 1 at most per row, the classes being distinct
    precision = 1.0 / torch.arange(1, top.shape[1] + 1, dtype=torch.float64)  # (min(3, k),) 1, 1/2, 1/3
    return (hits @ precision).mean().item()


def rmse(pred: torch.Tensor, y: torch.Tensor) -> float:
    return (pred.double() - y.double()).pow(2).mean().sqrt().item()


def rmsle(pred: torch.Tensor, y: torch.Tensor) -> float:
    """RMSE of log(1 + x): errors in ratio rather than in amount; both sides must be > -1."""
    return rmse(pred.double().log1p(), y.double().log1p())


def mae(pred: torch.Tensor, y: torch.Tensor) -> float:
    return (pred.double() - y.double()).abs().mean().item()


def f1_micro(pred: torch.Tensor, y: torch.Tensor) -> float:
    """Micro-averaged F1: tp, fp and fn summed over the classes. One label a row, every wrong row is one class's fp
    and another's fn, so it is the share of rows right (accuracy), as scikit-learn's f1_score(average="micro")."""
    return (hard_labels(pred) == y.long()).double().mean().item()


def f1_macro(pred: torch.Tensor, y: torch.Tensor) -> float:
    """Macro-averaged F1: each class's F1 (2 tp / (2 tp + fp + fn)), averaged over the classes that are true or
    predicted in some row, as scikit-learn's f1_score(average="macro") without labels."""
    hard, y = hard_labels(pred), y.long()
    k = int(max(hard.max(), y.max())) + 1
    tp = torch.bincount(y[hard == y], minlength=k).double()  # (k,)
    counted = torch.bincount(hard, minlength=k).double() + torch.bincount(y, minlength=k).double()  # 2 tp + fp + fn
    seen = counted > 0
    return (2 * tp[seen] / counted[seen]).mean().item()


def _confusion(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(k, k) float64 counts of rows by (true class, predicted class), k the classes the predictions have."""
    k = pred.shape[1] if pred.dim() == 2 else 2
    return _counts(hard_labels(pred), y.long(), k)


def _counts(hard: torch.Tensor, y: torch.Tensor, k: int) -> torch.Tensor:
    """(k, k) float64 counts of rows by (true class, predicted class), both class indices 0 to k - 1."""
    return torch.bincount(y * k + hard, minlength=k * k).reshape(k, k).double()


def whole(pred: torch.Tensor) -> torch.Tensor:
    """Values rounded to the nearest whole number, halves to the even one (numpy's rint): how a regression scored by
    a metric of labels (qwk) gives its labels."""
    return pred.double().round()


def mcc(pred: torch.Tensor, y: torch.Tensor) -> float:
    """Matthews correlation coefficient of the hard labels: the correlation of the predicted and the true class,
    -1 to 1. Multiclass: Gorodkin's R_K, as scikit-learn's matthews_corrcoef. 0 where it is undefined (the truth
    or the predictions all of one class), as scikit-learn returns."""
    c = _confusion(pred, y)
    n, right = c.sum(), c.trace()
    true, predicted = c.sum(dim=1), c.sum(dim=0)  # (k,) rows of each class, rows predicted as each class
    cov_pred_true = n * right - predicted @ true
    cov_pred, cov_true = n * n - predicted @ predicted, n * n - true @ true
    if cov_pred == 0 or cov_true == 0:
        return 0.0
    return (cov_pred_true / (cov_pred * cov_true).sqrt()).item()


def qwk(pred: torch.Tensor, y: torch.Tensor) -> float:
    """Quadratic weighted kappa of the hard labels: 1 - sum(w * observed) / sum(w * expected), where a miss of
    classes i and j weighs (i - j)^2 (their distance in the task's class order, kit.task.class_order), observed is
    the confusion matrix and expected the one of independent predictions with the same counts. 1 is perfect, 0
    chance. As scikit-learn's cohen_kappa_score(weights="quadratic") over all the task's classes; 0 where it is
    undefined (every row, true and predicted, of one class)."""
    return _kappa(_confusion(pred, y))


def qwk_of_values(pred: torch.Tensor, y: torch.Tensor) -> float:
    """Quadratic weighted kappa of (n,) values rounded to whole numbers (`whole`) against (n,) whole-number targets,
    a miss weighing the square of the numbers' difference: as scikit-learn's cohen_kappa_score(weights="quadratic")
    with every whole number from the smallest to the largest, true or predicted, as its labels."""
    hard, y = whole(pred).long(), y.double().round().long()
    low = int(min(hard.min(), y.min()))
    k = int(max(hard.max(), y.max())) - low + 1
    return _kappa(_counts(hard - low, y - low, k))


def _kappa(c: torch.Tensor) -> float:
    """Quadratic weighted kappa of a (k, k) confusion matrix whose classes are k steps in order."""
    k = c.shape[0]
    classes = torch.arange(k, dtype=torch.float64)
    weights = (classes[:, None] - classes[None, :]) ** 2  # (k, k)
    expected = torch.outer(c.sum(dim=1), c.sum(dim=0)) / c.sum()  # (k, k)
    chance = (weights * expected).sum()
    if chance == 0:
        return 0.0
    return (1 - (weights * c).sum() / chance).item()


def r2(pred: torch.Tensor, y: torch.Tensor) -> float:
    """Coefficient of determination: 1 - (squared error) / (squared deviation of y from its mean). A constant y:
    1 when predicted exactly, else 0, as scikit-learn's r2_score."""
    pred, y = pred.double(), y.double()
    residual, total = (y - pred).pow(2).sum(), (y - y.mean()).pow(2).sum()
    if total == 0:
        return 1.0 if residual == 0 else 0.0
    return (1 - residual / total).item()


def mape(pred: torch.Tensor, y: torch.Tensor) -> float:
    """Mean absolute percentage error as a fraction (0.05 for 5 %): the mean of |y - pred| / |y|, |y| at least
    float64's eps, as scikit-learn's mean_absolute_percentage_error (kit refuses a target of 0: kit.task)."""
    pred, y = pred.double(), y.double()
    return ((y - pred).abs() / y.abs().clamp(min=torch.finfo(torch.float64).eps)).mean().item()


def smape(pred: torch.Tensor, y: torch.Tensor) -> float:
    """Symmetric MAPE in percent, Kaggle's: 100 * the mean of |y - pred| / ((|y| + |pred|) / 2), a row where both
    are 0 scoring 0. 0 to 200, lower better."""
    pred, y = pred.double(), y.double()
    half = (y.abs() + pred.abs()) / 2
    ratio = torch.where(half == 0, 0.0, (y - pred).abs() / torch.where(half == 0, 1.0, half))
    return 100 * ratio.mean().item()


def medae(pred: torch.Tensor, y: torch.Tensor) -> float:
    """Median absolute error: the median of |y - pred|, the mean of the two middle ones for an even count (as
    numpy's median and scikit-learn's median_absolute_error; torch.median would take the lower)."""
    error = (pred.double() - y.double()).abs().sort().values
    n = len(error)
    return ((error[(n - 1) // 2] + error[n // 2]) / 2).item()
