"""The task and its metric: the one module that knows what kind of competition this is.

A competition is `binary`, `multiclass` or `regression`, scored by one metric. Everything that
depends on that lives here, and every other module asks a `Task` instead of assuming two labels,
a 0.5 cut or that higher is better:

- how the target column becomes a tensor (0/1 floats, class indices, values; log1p for rmsle);
- the models' output width and link (sigmoid, softmax, identity);
- how predictions become the submission's cells, and which cells a submission may hold;
- how a prediction is scored, and in which direction a score is better.

The metrics are kit's own, written over tensors; tests check each one against scikit-learn's.
Predictions always have the task's form: (n,) probabilities of the positive class for binary,
(n, k) class probabilities for multiclass, (n,) values on the target's own scale for regression.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from kit import KitError

TASKS = ("binary", "multiclass", "regression")
# Probabilities are written with this many significant digits: enough for float32, and the same
# bytes on every run.
DIGITS = 9


# ---- the metrics, over tensors -------------------------------------------------------------------


def _labels_of(pred: torch.Tensor) -> torch.Tensor:
    """Hard class predictions: p > 0.5 for (n,) binary probabilities, the argmax for (n, k)."""
    return pred.argmax(dim=1) if pred.dim() == 2 else (pred > 0.5).long()


def accuracy(pred: torch.Tensor, y: torch.Tensor) -> float:
    """Share of rows whose predicted class is the true one."""
    # float32 mean, as kit has always computed it: the recorded scores keep their bytes
    return (_labels_of(pred) == y.long()).float().mean().item()


def balanced_accuracy(pred: torch.Tensor, y: torch.Tensor) -> float:
    """The mean, over the classes present in y, of the share of that class predicted right."""
    hard, y = _labels_of(pred), y.long()
    recalls = [(hard[y == c] == c).double().mean().item() for c in torch.unique(y).tolist()]
    return math.fsum(recalls) / len(recalls)


def f1(pred: torch.Tensor, y: torch.Tensor) -> float:
    """F1 of the positive class (binary): 2 tp / (2 tp + fp + fn); 0 when there is nothing to find."""
    hard, y = _labels_of(pred), y.long()
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
    """Binary: AUC of the positive class's probability. Multiclass: one class against the rest, averaged."""
    if pred.dim() == 1:
        return _binary_auc(pred, y == 1)
    return math.fsum(_binary_auc(pred[:, c], y == c) for c in range(pred.shape[1])) / pred.shape[1]


def log_loss(pred: torch.Tensor, y: torch.Tensor) -> float:
    """Mean negative log probability of the true class; probabilities clipped to [eps, 1 - eps]."""
    pred = pred.double()
    if pred.dim() == 1:
        pred = torch.stack([1 - pred, pred], dim=1)  # (n, 2)
    pred = pred / pred.sum(dim=1, keepdim=True)  # rows sum to 1, as Kaggle normalises them
    eps = torch.finfo(torch.float64).eps
    p_true = pred.clamp(eps, 1 - eps).gather(1, y.long()[:, None])[:, 0]  # (n,)
    return -p_true.log().mean().item()


def rmse(pred: torch.Tensor, y: torch.Tensor) -> float:
    return (pred.double() - y.double()).pow(2).mean().sqrt().item()


def rmsle(pred: torch.Tensor, y: torch.Tensor) -> float:
    """RMSE of log(1 + x): errors in ratio rather than in amount; both sides must be > -1."""
    return rmse(pred.double().log1p(), y.double().log1p())


def mae(pred: torch.Tensor, y: torch.Tensor) -> float:
    return (pred.double() - y.double()).abs().mean().item()


@dataclass(frozen=True)
class Metric:
    """A metric named once, with its direction and the form of prediction a submission must hold."""

    name: str
    score: Callable  # (pred, y) -> float, pred in the task's form (see the module docstring)
    greater_is_better: bool
    tasks: tuple  # the tasks it can score
    submits: str  # what the submission holds: "label", "probability" or "value"


METRICS = {
    m.name: m
    for m in (
        Metric("accuracy", accuracy, True, ("binary", "multiclass"), "label"),
        Metric("balanced_accuracy", balanced_accuracy, True, ("binary", "multiclass"), "label"),
        Metric("f1", f1, True, ("binary",), "label"),
        Metric("roc_auc", roc_auc, True, ("binary", "multiclass"), "probability"),
        Metric("log_loss", log_loss, False, ("binary", "multiclass"), "probability"),
        Metric("rmse", rmse, False, ("regression",), "value"),
        Metric("rmsle", rmsle, False, ("regression",), "value"),
        Metric("mae", mae, False, ("regression",), "value"),
    )
}


def check_task_and_metric(task: str, metric: str) -> None:
    """Raise ValueError (a definition mistake) when the pair makes no sense."""
    if task not in TASKS:
        raise ValueError(f"task {task!r} is not one of {', '.join(TASKS)}")
    if metric not in METRICS:
        raise ValueError(f"metric {metric!r} is not one of {', '.join(METRICS)}")
    if task not in METRICS[metric].tasks:
        raise ValueError(f"metric {metric} does not score a {task} task; use one of {', '.join(metrics_for(task))}")


def metrics_for(task: str) -> list[str]:
    return [name for name, m in METRICS.items() if task in m.tasks]


def default_metric(task: str) -> str:
    return {"binary": "accuracy", "multiclass": "accuracy", "regression": "rmse"}[task]


# ---- the task ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """A competition's kind, metric and class labels, and everything that follows from them."""

    kind: str  # "binary", "multiclass" or "regression"
    metric: Metric
    labels: tuple = ()  # classification: class labels as the CSVs write them; binary: (negative, positive)
    prob_columns: tuple = ()  # multiclass probability files: the submission's columns after the id, by class

    @property
    def width(self) -> int:
        """Outputs per row of a model: one (a probability or a value), or one per class."""
        return len(self.labels) if self.kind == "multiclass" else 1

    @property
    def greater_is_better(self) -> bool:
        return self.metric.greater_is_better

    def link(self, z: torch.Tensor) -> torch.Tensor:
        """A model's raw outputs (..., n, width) or (..., n) as predictions in the task's form."""
        if self.kind == "binary":
            return torch.sigmoid(z)
        if self.kind == "multiclass":
            return torch.softmax(z, dim=-1)
        return z

    # -- the target --

    def target(self, values: list[str], file: str, column: str) -> torch.Tensor:
        """The target column, each value as a submission writes it, as the tensor models learn from.

        binary: float 0.0/1.0 (1.0 = the positive label); multiclass: int64 class indices;
        regression: float32 values, log1p'd when the metric is rmsle (so squared error trains for it).
        """
        if self.kind == "regression":
            try:
                y = torch.tensor([float(v) for v in values], dtype=torch.float64)
            except ValueError:
                bad = next(v for v in values if not _is_number(v))
                raise KitError(f"{file} column {column} holds {bad!r}, which is not a number; fix the file.") from None
            bad = (~torch.isfinite(y)).nonzero()
            if len(bad):
                raise KitError(f"{file} column {column} holds {values[int(bad[0])]!r}; every target must be finite.")
            if self.metric.name == "rmsle":
                if (y <= -1).any():
                    raise KitError(f"{file} column {column} has values <= -1, which rmsle cannot score; fix the file.")
                y = y.log1p()
            return y.float()
        index = {label: i for i, label in enumerate(self.labels)}
        unknown = next((v for v in values if v not in index), None)
        if unknown is not None:
            raise KitError(
                f"{file} column {column} holds {unknown!r}, not one of the labels {list(self.labels)}; "
                "check the file or [submission] labels."
            )
        y = torch.tensor([index[v] for v in values])
        return y.float() if self.kind == "binary" else y

    def untransform(self, pred: torch.Tensor) -> torch.Tensor:
        """Predictions in the space models learn in, back on the target's own scale (expm1 for rmsle)."""
        if self.kind == "regression" and self.metric.name == "rmsle":
            return pred.expm1().clamp(min=0)
        return pred

    # -- scores --

    def score(self, pred: torch.Tensor, y: torch.Tensor) -> float:
        """The metric of predictions against the target tensor (both in the space `target` returns)."""
        if self.kind == "regression" and self.metric.name == "rmsle":
            return rmse(pred, y)  # y is log1p already: the rmse of logs is the rmsle
        return self.metric.score(pred, y)

    def better(self, a: float, b: float) -> bool:
        """True when score a is strictly better than b, in the metric's direction."""
        return a > b if self.greater_is_better else a < b

    def sort_key(self, score: float) -> float:
        """A key that sorts the best score first."""
        return -score if self.greater_is_better else score

    # -- the submission --

    def cells(self, pred: torch.Tensor) -> list[list[str]]:
        """Each test row's cells after the id, as the submission writes them."""
        if not bool(torch.isfinite(pred).all()):
            raise KitError("a prediction is not a finite number; nothing was written.")
        if self.metric.submits == "label":
            return [[self.labels[i]] for i in _labels_of(pred).tolist()]
        if self.kind == "multiclass":
            by_column = [self.labels.index(c) for c in self.prob_columns]
            return [[_number(row[c]) for c in by_column] for row in pred.double().tolist()]
        return [[_number(v)] for v in self.untransform(pred).double().tolist()]

    def check_cells(self, row: list[str]) -> str | None:
        """Why one submission row's cells after the id are not valid, or None when they are."""
        if any(v == "" or v.lower() == "nan" for v in row):
            return "has no prediction"
        if self.metric.submits == "label":
            if row[0] not in self.labels:
                return f"has {row[0]!r}; the only allowed values are {' and '.join(self.labels)}"
            return None
        if not all(_is_number(v) for v in row):
            return f"has {','.join(row)!r}, which is not a number"
        values = [float(v) for v in row]
        if not all(math.isfinite(v) for v in values):
            return f"has {','.join(row)!r}, which is not finite"
        if self.metric.submits == "probability":
            if not all(0.0 <= v <= 1.0 for v in values):
                return f"has {','.join(row)!r}; probabilities must lie in [0, 1]"
            if len(values) > 1 and abs(math.fsum(values) - 1.0) > 1e-4:
                return f"has probabilities that sum to {math.fsum(values):.6f}, not 1"
        return None

    def describe(self) -> dict:
        """What the sidecar records of the task."""
        out = {"task": self.kind, "metric": self.metric.name, "greater_is_better": self.greater_is_better}
        if self.labels:
            out["labels"] = list(self.labels)
        return out


def _number(v: float) -> str:
    return format(v, f".{DIGITS}g")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def make_task(kind: str, metric: str, labels: tuple, columns: tuple) -> Task:
    """The Task of a competition: its kind, metric, labels and submission columns (id first).

    Raises KitError when the submission's columns cannot hold what the metric needs.
    """
    check_task_and_metric(kind, metric)
    m = METRICS[metric]
    if kind == "regression":
        return Task(kind, m)
    if kind == "binary" and len(labels) != 2:
        raise KitError(f"a binary task needs two labels, not {list(labels)}; list them in [submission] labels.")
    if kind == "multiclass" and len(labels) < 2:
        raise KitError(f"a multiclass task needs two or more labels, not {list(labels)}.")
    prob_columns = ()
    if kind == "multiclass" and m.submits == "probability":
        prob_columns = tuple(columns[1:])
        if sorted(prob_columns) != sorted(labels):
            raise KitError(
                f"metric {metric} needs one probability column per class ({', '.join(labels)}) after the id, "
                f"but the submission's columns are {', '.join(columns)}; set [submission] columns."
            )
    elif len(columns) != 2:
        raise KitError(f"the submission needs an id and one prediction column, not {', '.join(columns)}.")
    return Task(kind, m, tuple(labels), prob_columns)


def infer_task(values: list[str]) -> str:
    """A guess at the task from a target column's values (as text): `kit new` marks it as a guess."""
    distinct = set(values)
    if len(distinct) == 2:
        return "binary"
    numeric = all(_is_number(v) for v in distinct)
    if numeric and (len(distinct) > 20 or any(not float(v).is_integer() for v in distinct)):
        return "regression"
    return "multiclass"
