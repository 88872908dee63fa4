"""kit's own metrics, written over tensors like the models (scikit-learn is the oracle in the tests only).

Each takes predictions in the task's form (see kit.task) and the target tensor, and returns a float.
"""

from __future__ import annotations

import math

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

    Computed from ranks (Mann-Whitney U), with tied scores sharing their average rank.
    """
    score, positive = score.double(), positive.bool()
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise KitError("ROC AUC needs both classes among the scored rows; use more rows per fold or fewer folds.")
    values, inverse, counts = torch.unique(score, return_inverse=True, return_counts=True)
    first_rank = torch.cumsum(counts, 0) - counts + 1  # (n_unique,) the rank the first of each tie takes
    ranks = (first_rank + (counts - 1) / 2.0)[inverse]  # (n,) average rank of each row's tie
    u = ranks[positive].sum().item() - n_pos * (n_pos + 1) / 2
    return u / (n_pos * n_neg)


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
