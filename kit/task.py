"""The task and its metric: the one module that knows what kind of competition this is.

A competition is `binary`, `multiclass`, `multilabel` (several binary target columns, each its own
yes/no question) or `regression`, scored by one metric. Everything that
depends on that lives here, and every other module asks a `Task` instead of assuming two labels,
a 0.5 cut or that higher is better:

- how the target column becomes a tensor (0/1 floats, class indices, values; log1p for rmsle; for
  multilabel, an (n, k) matrix of 0/1 floats, one column per target), and the classes' order (qwk's by number);
- the models' output width and link (sigmoid, softmax, identity; k independent sigmoids for multilabel);
- how predictions become the submission's cells, and which cells a submission may hold (map_at_3: the 3 most
  probable labels in one cell, best first, separated by spaces);
- how a prediction is scored, and in which direction a score is better.

The metrics are kit's own, written over tensors; tests check each one against scikit-learn's.
torch is imported when a Task first touches tensors, so reading a definition stays light.
Predictions always have the task's form: (n,) probabilities of the positive class for binary,
(n, k) class probabilities for multiclass, (n, k) probabilities of each target column's positive value for
multilabel (rows need not sum to 1), (n,) values on the target's own scale for regression.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kit import KitError

if TYPE_CHECKING:
    import torch

TASKS = ("binary", "multiclass", "multilabel", "regression")
# The tasks whose folds are stratified by default: one class per row. scikit-learn has no multilabel
# stratification, so a multilabel task splits with plain k-fold, as regression does.
STRATIFIED = ("binary", "multiclass")
# Probabilities are written with this many significant digits: enough for float32, and the same
# bytes on every run.
DIGITS = 9


@dataclass(frozen=True)
class Metric:
    """A metric named once, with its direction and the form of prediction a submission must hold."""

    name: str  # also the name of its function in kit.metrics
    greater_is_better: bool
    tasks: tuple  # the tasks it can score
    submits: str  # what the submission holds: "label", "probability", "value" or "ranked" (labels, best first)
    # the loss `kit new` drafts and the ensemble chooses weights on: "task" (the task's own), "mae" (the absolute
    # error, for a metric of absolute errors: squared error chases the outliers they forgive) or "balanced" (the
    # task's, each class's rows weighed as much in all as another's)
    loss: str = "task"
    ordered: bool = False  # its classes have an order, and a miss counts by how far apart they are (class_order)
    # binary: its best cut of the positive class's probability is seldom 0.5 (F1 trades precision for recall, the
    # others weigh the classes apart), so the labels are cut at a threshold tuned on out-of-fold rows (kit.cutpoints);
    # accuracy's is 0.5 for calibrated probabilities, and tuning it would only fit noise
    threshold: bool = False

    def score(self, pred, y) -> float:
        """The metric of predictions (in the task's form) against the target tensor."""
        from kit import metrics  # torch, imported only when something is scored

        return getattr(metrics, self.name)(pred, y)


METRICS = {
    m.name: m
    for m in (
        Metric("accuracy", True, ("binary", "multiclass"), "label"),
        Metric("balanced_accuracy", True, ("binary", "multiclass"), "label", threshold=True),
        Metric("f1", True, ("binary",), "label", threshold=True),
        # micro F1 of one label a row is accuracy; macro F1 the mean of each class's F1
        Metric("f1_micro", True, ("binary", "multiclass"), "label"),
        Metric("f1_macro", True, ("binary", "multiclass"), "label", threshold=True),
        Metric("mcc", True, ("binary", "multiclass"), "label", threshold=True),  # Matthews correlation coefficient
        # quadratic weighted kappa; a regression's values are rounded to whole numbers, its labels (an ordinal target
        # learned as a number, the common trick: the models' squared error counts a miss by its distance, as qwk does)
        Metric("qwk", True, ("binary", "multiclass", "regression"), "label", ordered=True, threshold=True),
        # multilabel: the mean over target columns (Kaggle's "mean column-wise ROC AUC")
        Metric("roc_auc", True, ("binary", "multiclass", "multilabel"), "probability"),
        Metric("log_loss", False, ("binary", "multiclass", "multilabel"), "probability"),
        # each class's mean log loss, averaged over the classes; the models learn it, each class's rows weighed alike
        Metric("balanced_log_loss", False, ("binary", "multiclass"), "probability", loss="balanced"),
        # mean average precision at 3: a row scores 1, 1/2 or 1/3 when its true label is named first, second or third
        Metric("map_at_3", True, ("multiclass",), "ranked"),
        Metric("rmse", False, ("regression",), "value"),
        Metric("rmsle", False, ("regression",), "value"),
        Metric("mae", False, ("regression",), "value", loss="mae"),
        Metric("medae", False, ("regression",), "value", loss="mae"),  # median absolute error
        Metric("r2", True, ("regression",), "value"),
        # mean absolute percentage error, a fraction (0.05 for 5 %); a target of 0 is refused (Task.target)
        Metric("mape", False, ("regression",), "value"),
        Metric("smape", False, ("regression",), "value"),  # symmetric MAPE, in percent (Kaggle's)
    )
}


# Names for kit's metrics that difflib would not lead to, or would lead elsewhere (auroc reads closer to accuracy).
METRIC_ALIASES = {
    "auc": "roc_auc",
    "auroc": "roc_auc",
    "cross_entropy": "log_loss",
    "crossentropy": "log_loss",
    "area_under_the_roc_curve": "roc_auc",
    "logistic_loss": "log_loss",
    **dict.fromkeys(("map@3", "map3", "mapk", "map_3"), "map_at_3"),
    # scikit-learn's names, as a user coming from its metrics writes them
    "accuracy_score": "accuracy",
    "balanced_accuracy_score": "balanced_accuracy",
    "f1_score": "f1",
    "roc_auc_score": "roc_auc",
    "root_mean_squared_error": "rmse",
    "root_mean_squared_log_error": "rmsle",
    "mean_absolute_error": "mae",
    "matthews_corrcoef": "mcc",
    "matthews_correlation_coefficient": "mcc",
    **dict.fromkeys(("quadratic_weighted_kappa", "cohen_kappa", "cohen_kappa_score", "kappa"), "qwk"),
    "r2_score": "r2",
    "mean_absolute_percentage_error": "mape",
    "median_absolute_error": "medae",
    "micro_f1": "f1_micro",
    "macro_f1": "f1_macro",
}
# Metrics of relative error whose regressions learn log(1 + y) when every training target is 0 or more, as
# rmsle's always do: squared error on the values themselves lets the largest targets decide. A user's
# 250,000-row sales set (4 time folds, linear and nn, out-of-fold): smape 62.77 on the values, 47.13 in logs.
LOG_SPACE = ("mape", "smape")
# Metrics of squared errors, best met by the mean: a regression learned in logs (log_target) has its values scaled back
# to the mean (kit.smearing), as the exp of a mean of logs is a median.
SQUARED = ("rmse", "r2")
# How far from 1 a multiclass row's probabilities may sum (Kaggle rescales each row by its sum): rounded to 3
# decimals, 10 classes stray up to 0.005.
SUM_TOLERANCE = 0.01
# How many labels a "ranked" cell names, best first: MAP@3's three.
RANKED = 3


def cuts_labels(kind: str, metric: str) -> bool:
    """Whether a task's labels are cut from a score at cut-points tuned on out-of-fold rows (kit.cutpoints): qwk's
    between ordered classes (a multiclass or a regression's whole numbers), a binary's threshold where its metric's
    best one is seldom 0.5 (Metric.threshold)."""
    if kind == "binary":
        return METRICS[metric].threshold
    if kind == "regression" and metric in WHOLE_CUTS:  # when its training targets are whole numbers (Task.whole)
        return True
    return metric == "qwk" and kind in ("multiclass", "regression")


# Regression metrics of absolute errors whose whole-number targets are rounded to whole numbers (Task.whole). A
# user's trial of 74,051 crab ages (whole numbers 1-29; 5 folds, the draft with metric mae): the ensemble's
# out-of-fold MAE 1.3287 -> 1.3052 rounded, its hidden test rows' 1.3308 -> 1.3056. Cut-points tuned on the other
# folds, as qwk's are, did worse than rounding (1.3071 out of fold, 1.3078 test: 28 cut-points, the last few set by a
# handful of rows each), so the values are rounded. RMSLE on the same kind of target lost by rounding (0.1538 ->
# 0.1568), and squared errors are best met by a mean, which is seldom whole.
WHOLE_CUTS = ("mae",)


def closest_metric(name: str) -> str | None:
    """The metric of kit's that an unknown name most likely means (roc_auc for auc), or None when none is close."""
    name = name.lower().replace("-", "_").replace(" ", "_")
    # Kaggle's Evaluation pages name the task too ("multi-class logarithmic loss"): the metric is what follows it
    name = re.sub(r"^(multi_?class|multi|binary|categorical)_(?=.)", "", name)
    # and RMSLE in words ("root mean squared logarithmic error", "RMSE between the logarithm of the predicted value
    # and the logarithm of the observed"), which difflib took to rmse ("rmse log") or to nothing
    if re.search(r"rmse|mean_squared", name) and "log" in name:
        return "rmsle"
    # "micro-averaged F1-Score", as an Evaluation page words it: micro_f1
    name = re.sub(r"_score$", "", re.sub(r"_averaged?(?=_)", "", name))
    if name in METRICS or name in METRIC_ALIASES:
        return METRIC_ALIASES.get(name, name)
    if re.match(r"(balanced|weighted|class_weighted)_", name):
        return None  # log_loss for balanced_log_loss would weigh the classes as they come: a metric of its own
    return next(iter(difflib.get_close_matches(name, METRICS, n=1)), None)


def unknown_metric(name: str) -> str:
    """The fact that `name` (as the message shows it) is none of kit's metrics, naming them all; a balanced or
    weighted one's plain twin said to weigh every row alike (a trial's user took log_loss for balanced log loss)."""
    said = f"metric {name} is not one of kit's metrics ({', '.join(METRICS)})"
    if re.match(r"(balanced|weighted|class.weighted)[ _-]", name.lower()):
        said += "; kit's metrics weigh every row alike, where this one weighs the classes apart"
    return said


def check_metric_name(name: str) -> str:
    """The name when it is one of kit's metrics; KitError naming them, and the closest to it, when it is not."""
    if name not in METRICS:
        close = closest_metric(name)
        raise KitError(unknown_metric(name), fix="closest_metric" if close else "known_metric", closest=close)
    return name


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
    return {"binary": "accuracy", "multiclass": "accuracy", "multilabel": "roc_auc", "regression": "rmse"}[task]


# The two values a multilabel target column may hold, as the CSV writes them (in any case): the first set counts 1.
POSITIVE, NEGATIVE = {"1", "true", "yes"}, {"0", "false", "no"}


# ---- the task ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """A competition's kind, metric and class labels, and everything that follows from them."""

    kind: str  # "binary", "multiclass", "multilabel" or "regression"
    metric: Metric
    # classification: class labels as the CSVs write them; binary: (negative, positive); multilabel: the target
    # columns, in the definition's order (the order of the target matrix's columns and of the models' outputs)
    labels: tuple = ()
    # probability files: the class (multilabel: the target column) of each submission column after the id
    prob_columns: tuple = ()
    # regression: the models learn log(1 + y), and predict back with expm1: for rmsle always, for mape and smape
    # when every training target is 0 or more (LOG_SPACE)
    log_target: bool = False
    # regression scored by absolute errors (WHOLE_CUTS) whose training targets are all whole numbers: the best
    # prediction of such a target's absolute error is a whole number (its median is one), so its values are rounded
    # (kit.cutpoints, with the cut-points at n.5)
    whole: bool = False

    @property
    def width(self) -> int:
        """Outputs per row of a model: one (a probability or a value), or one per class or target column."""
        return len(self.labels) if self.kind in ("multiclass", "multilabel") else 1

    @property
    def greater_is_better(self) -> bool:
        return self.metric.greater_is_better

    def link(self, z: torch.Tensor) -> torch.Tensor:
        """A model's raw outputs (..., n, width) or (..., n) as predictions in the task's form."""
        import torch

        if self.kind in ("binary", "multilabel"):  # multilabel: one independent sigmoid per target column
            return torch.sigmoid(z)
        if self.kind == "multiclass":
            return torch.softmax(z, dim=-1)
        return z

    # -- the target --

    def target(self, values: list[str], file: str, column: str) -> torch.Tensor:
        """The target column, each value as a submission writes it, as the tensor models learn from.

        binary: float 0.0/1.0 (1.0 = the positive label); multiclass: int64 class indices;
        regression: float32 values, log1p'd when the metric is rmsle (so squared error trains for it);
        multilabel: `values` holds one list per target column, in `labels`' order, and `column` is unused:
        (n, k) float 0.0/1.0, refusing a column that is not two values such as 0/1, True/False or yes/no.
        """
        import torch

        if self.kind == "multilabel":
            return torch.stack([_flags(v, file, c) for v, c in zip(values, self.labels)], dim=1)  # (n, k)

        if self.kind == "regression":
            try:
                y = torch.tensor([float(v) for v in values], dtype=torch.float64)
            except ValueError:
                bad = next(v for v in values if not is_number(v))
                raise KitError(f"{file} column {column} holds {bad!r}, which is not a number; fix the file.") from None
            bad = (~torch.isfinite(y)).nonzero()
            if len(bad):
                raise KitError(f"{file} column {column} holds {values[int(bad[0])]!r}; every target must be finite.")
            if self.metric.name == "rmsle" and (y < 0).any():
                # Kaggle's RMSLE refuses a negative value (log(1 + x) would take it to -1 and below)
                raise KitError(f"{file} column {column} has values below 0, which rmsle cannot score; fix the file.")
            if self.log_target and (y < 0).any():  # log(1 + y) is no number below -1, and bends sharply near it
                raise KitError(
                    f"{file} column {column} has values below 0, which the models cannot learn in logs; fix the file "
                    "or drop log_target."
                )
            if self.metric.submits == "label" and not bool((y == y.round()).all()):  # qwk of labels that are numbers
                bad = next(v for v in values if not float(v).is_integer())
                raise KitError(
                    f"{file} column {column} holds {bad!r}, but a regression scored by {self.metric.name} predicts "
                    'whole numbers; fix the file or set task = "multiclass".'
                )
            if self.metric.name == "mape" and (y == 0).any():  # |y - pred| / |y|: scikit-learn's eps makes it ~1e15
                raise KitError(
                    f"{file} column {column} has a value of 0, which mape cannot score (it divides by the target); "
                    "fix the file or score by smape or mae."
                )
            if self.log_target:
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

    def within_training_range(self, pred: torch.Tensor, y_fit: torch.Tensor) -> torch.Tensor:
        """Predictions of values kept within the range of the targets the models learned from (`y_fit`); other
        tasks' predictions as they are. A value outside it is nearer the truth at the range's end whenever the truth
        lies within it, as almost all does: a net's linear output may overshoot, down to a negative price."""
        if self.kind != "regression" or len(y_fit) == 0:
            return pred
        return pred.clamp(y_fit.min().item(), y_fit.max().item())

    def untransform(self, pred: torch.Tensor) -> torch.Tensor:
        """Predictions in the space models learn in, back on the target's own scale (expm1 for a log target)."""
        if self.log_target:
            return pred.expm1().clamp(min=0)
        return pred

    # -- scores --

    def score(self, pred: torch.Tensor, y: torch.Tensor) -> float:
        """The metric of predictions against the target tensor (both in the space `target` returns)."""
        if self.log_target and self.metric.name == "rmsle":
            return METRICS["rmse"].score(pred, y)  # y is log1p already: the rmse of logs is the rmsle
        if self.log_target:  # both back on the target's scale, where the metric is taken
            return self.metric.score(self.untransform(pred.double()), y.double().expm1())
        if self.kind == "regression" and self.metric.name == "qwk":
            from kit.metrics import qwk_of_values

            return qwk_of_values(pred, y)
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
        import torch

        from kit.metrics import hard_labels, ranked, whole

        if not bool(torch.isfinite(pred).all()):
            raise KitError("a prediction is not a finite number; nothing was written.")
        if self.kind == "regression" and self.metric.submits == "label":  # qwk: whole numbers, written as integers
            return [[str(int(v))] for v in whole(pred).tolist()]
        if self.metric.submits == "label":
            return [[self.labels[i]] for i in hard_labels(pred).tolist()]
        if self.metric.submits == "ranked":  # one cell: the most probable labels, best first ("14-35-14 Urea DAP")
            return [[" ".join(self.labels[i] for i in row)] for row in ranked(pred, RANKED).tolist()]
        if self.kind == "multiclass":
            by_column = [self.labels.index(c) for c in self.prob_columns]
            # float32 softmax rows sum to 1 only within ~1e-7: normalised in float64, the written rows sum to 1
            pred = pred.double() / pred.double().sum(dim=1, keepdim=True)
            return [[_number(row[c]) for c in by_column] for row in pred.tolist()]
        if self.kind == "multilabel":  # each column its own probability: nothing to normalise
            by_column = [self.labels.index(c) for c in self.prob_columns]
            return [[_number(row[c]) for c in by_column] for row in pred.double().tolist()]
        return [[_number(v)] for v in self.untransform(pred).double().tolist()]

    def check_cells(self, row: list[str]) -> str | None:
        """Why one submission row's cells after the id are not valid, or None when they are."""
        if any(v == "" or v.lower() == "nan" for v in row):
            return "has no prediction"
        if self.kind == "regression" and self.metric.submits == "label":
            if not (is_number(row[0]) and math.isfinite(float(row[0])) and float(row[0]).is_integer()):
                return f"has {row[0]!r}; {self.metric.name} of a regression scores whole numbers"
            return None
        if self.metric.submits == "label":
            if row[0] not in self.labels:
                allowed = " and ".join(self.labels) if len(self.labels) <= 2 else ", ".join(self.labels)
                # a 0/1 file for text labels: which is which, as kit learns them (a trial's user was left to guess)
                coded = self.kind == "binary" and row[0] in ("0", "1") and set(self.labels) != {"0", "1"}
                as_labels = (
                    f" (kit's 0 is {self.labels[0]} and its 1 {self.labels[1]}: write the labels)" if coded else ""
                )
                return f"has {row[0]!r}; the only allowed values are {allowed}{as_labels}"
            return None
        if self.metric.submits == "ranked":
            return self._check_ranked(row[0])
        if not all(is_number(v) for v in row):
            return f"has {','.join(row)!r}, which is not a number"
        values = [float(v) for v in row]
        if not all(math.isfinite(v) for v in values):
            return f"has {','.join(row)!r}, which is not finite"
        if self.metric.name == "rmsle" and any(v < 0 for v in values):
            return f"has {','.join(row)!r}; rmsle scores log(1 + x) and refuses a value below 0"
        if self.metric.submits == "probability":
            if not all(0.0 <= v <= 1.0 for v in values):
                return f"has {','.join(row)!r}; probabilities must lie in [0, 1]"
            # Kaggle divides each row by its sum before scoring, so probabilities rounded to a few decimals pass;
            # a sum far from 1 says a class column is missing or misplaced
            if self.kind == "multiclass" and abs(math.fsum(values) - 1.0) > SUM_TOLERANCE:
                return (
                    f"has probabilities that sum to {math.fsum(values):.6f}, not 1: Kaggle divides each row by its "
                    "sum, but one this far from 1 says a class column is missing or misplaced; check the columns, "
                    "or divide each row by its sum"
                )
        return None

    def all_cells_valid(self, columns: list[tuple[str, ...]]) -> bool:
        """Whether `check_cells` passes every row, in bulk: True only where it would pass each (False sends the caller
        to `check_cells` row by row for the first one's reason). columns: the cells after the id, a column at a time.

        Labels and ranked labels are few distinct rows, each checked once; numbers are read with float() (as
        check_cells reads them) and judged all at once. On 200,000 rows: 0.77 s row by row for labels, 1.7 s for
        probabilities; in bulk 0.01-0.07 s.
        """
        if self.metric.submits in ("label", "ranked") and self.kind != "regression":
            return not any(self.check_cells(list(cells)) for cells in set(zip(*columns)))
        try:
            numbers = [[float(v) for v in column] for column in columns]  # "" refused here; "nan" read, refused below
        except ValueError:
            return False
        if not all(all(map(math.isfinite, column)) for column in numbers):
            return False
        if self.kind == "regression" and self.metric.submits == "label":  # whole numbers
            return all(v.is_integer() for column in numbers for v in column)
        low = 0.0 if self.metric.name == "rmsle" or self.metric.submits == "probability" else -math.inf
        high = 1.0 if self.metric.submits == "probability" else math.inf
        if any(column and (min(column) < low or max(column) > high) for column in numbers):
            return False
        if self.metric.submits == "probability" and self.kind == "multiclass":
            return all(abs(math.fsum(row) - 1.0) <= SUM_TOLERANCE for row in zip(*numbers))
        return True

    def _check_ranked(self, cell: str) -> str | None:
        """Why a cell of ranked labels is not 1 to RANKED distinct labels separated by single spaces, or None."""
        named = cell.split(" ")
        if "" in named:
            return f"has {cell!r}; its labels must be separated by single spaces, with none before or after"
        if len(named) > RANKED:
            return f"has {cell!r}, {len(named)} labels where at most {RANKED} are scored"
        if unknown := next((v for v in named if v not in self.labels), None):
            return f"has {unknown!r} in {cell!r}, not one of the labels {', '.join(self.labels)}"
        if len(set(named)) < len(named):
            return f"has {cell!r}, which names a label twice"
        return None

    def describe(self) -> dict:
        """What the sidecar records of the task."""
        out = {"task": self.kind, "metric": self.metric.name, "greater_is_better": self.greater_is_better}
        if self.labels:
            out["targets" if self.kind == "multilabel" else "labels"] = list(self.labels)
        return out


def _flags(values: list[str], file: str, column: str) -> torch.Tensor:
    """One multilabel target column as (n,) float 1.0/0.0; KitError unless it holds two values, one of each kind."""
    import torch

    seen = sorted(set(values))
    kinds = sorted(v.lower() in POSITIVE for v in seen if v.lower() in POSITIVE | NEGATIVE)
    if len(seen) != 2 or kinds != [False, True]:
        shown = ", ".join(repr(v) for v in seen[:4]) + (" ..." if len(seen) > 4 else "")
        raise KitError(
            f"{file} column {column} holds {shown}, but each target of a multilabel task holds two values, "
            "such as 0 and 1 (True and False, yes and no); fix the file or the definition's target list."
        )
    return torch.tensor([v.lower() in POSITIVE for v in values], dtype=torch.float32)


def _number(v: float) -> str:
    return format(v, f".{DIGITS}g")


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def make_task(
    kind: str,
    metric: str,
    labels: tuple,
    columns: tuple,
    nonnegative: bool = False,
    whole: bool = False,
    log_target: bool | None = None,
) -> Task:
    """The Task of a competition: its kind, metric, labels and submission columns (id first).
    nonnegative: a regression's training targets are all 0 or more (a metric of LOG_SPACE then learns in it).
    whole: a regression's training targets are all whole numbers (a metric of WHOLE_CUTS then cuts its values).
    log_target: a regression's models learn in logs (True) or on the target's scale (False); None: the metric's way.

    Raises KitError when the submission's columns cannot hold what the metric needs.
    """
    check_task_and_metric(kind, metric)
    m = METRICS[metric]
    labels = class_order(metric, kind, labels)
    if log_target is not None and kind != "regression":
        raise KitError(f"log_target learns a regression's values in logs, and this is a {kind} task; drop it.")
    if log_target is False and metric == "rmsle":
        raise KitError("rmsle scores the errors of logs, so its models always learn in logs; drop log_target = false.")
    if kind == "regression":
        if log_target is None:
            log_target = metric == "rmsle" or (metric in LOG_SPACE and nonnegative)
        return Task(kind, m, log_target=log_target, whole=whole and metric in WHOLE_CUTS)
    if kind == "multilabel":  # labels: the target columns; the submission holds each one's probability
        if sorted(map(str, columns[1:])) != sorted(labels):
            raise KitError(
                f"a multilabel submission holds the id, then one probability column per target ({', '.join(labels)}), "
                f"but its columns are {', '.join(columns)}; set [submission] columns."
            )
        return Task(kind, m, tuple(labels), tuple(columns[1:]))
    if kind == "binary" and len(labels) != 2:
        raise KitError(f"a binary task needs two labels, not {list(labels)}; list them in [submission] labels.")
    if kind == "multiclass" and len(labels) < 2:
        raise KitError(f"a multiclass task needs two or more labels, not {list(labels)}.")
    refuse_spaced_labels(metric, labels)
    prob_columns = ()
    if kind == "multiclass" and m.submits == "probability":
        prob_columns = classes_of_columns(columns[1:], labels)
        if prob_columns is None and (unseen := unseen_classes(columns[1:], labels)):
            raise KitError(
                f"the submission's columns name the class{'es' if len(unseen) > 1 else ''} {', '.join(unseen)} beyond "
                f"the target's values ({', '.join(labels)}); list every class in [submission] labels "
                f"({', '.join(unseen)} included: a class the training rows never hold is predicted rarely)."
            )
        if prob_columns is None:
            raise KitError(
                f"metric {metric} needs one probability column per class ({', '.join(labels)}) after the id, "
                f"each named by its class or by its class after one shared prefix (Status_C for C), but the "
                f"submission's columns are {', '.join(columns)}; set [submission] columns."
            )
    elif len(columns) != 2:
        # a column per class is a multiclass task's, two classes too (a trial's user set task = "binary" over ICR's
        # class_0, class_1 and read only that the columns were wrong)
        per_class = kind == "binary" and classes_of_columns(columns[1:], labels) is not None
        fix = (
            '; a submission of a probability per class is a multiclass task\'s: task = "multiclass"'
            if per_class
            else ""
        )
        raise KitError(f"the submission needs an id and one prediction column, not {', '.join(columns)}{fix}.")
    return Task(kind, m, tuple(labels), prob_columns)


def class_order(metric: str, kind: str, labels) -> tuple:
    """The classes in the order the task indexes them: for a metric of ordered classes (qwk) on a multiclass task,
    labels that are all numbers sorted as numbers (2 before 10), whatever order they were listed in; other labels
    as given ([submission] labels, else the training target's values sorted as text). Binary keeps (negative,
    positive): two classes are one step apart either way."""
    labels = tuple(labels)
    if METRICS[metric].ordered and kind == "multiclass" and labels and all(is_number(str(v)) for v in labels):
        return tuple(sorted(labels, key=lambda v: float(v)))
    return labels


def refuse_spaced_labels(metric: str, labels) -> None:
    """KitError when a metric that writes labels separated by spaces (map_at_3) has a label holding a space."""
    spaced = next((str(v) for v in labels if " " in str(v)), None)
    if METRICS[metric].submits == "ranked" and spaced is not None:
        raise KitError(
            f"the label {spaced!r} holds a space, which a {metric} submission cannot write (its cell separates labels "
            "by spaces); check the metric and the target's labels."
        )


def classes_of_columns(columns, labels) -> tuple | None:
    """The class each probability column holds, in the columns' order, or None when they do not name the classes.

    A column is named by its class ("setosa"), or by its class after a prefix every column shares: Playground's
    cirrhosis competition has classes C, CL and D in columns Status_C, Status_CL and Status_D.
    """
    columns, labels = [str(c) for c in columns], sorted(str(v) for v in labels)
    if sorted(columns) == labels:
        return tuple(columns)
    for label in labels if columns else ():
        if columns[0].endswith(label) and columns[0] != label:
            prefix = columns[0][: -len(label)]  # one candidate per class the first column ends with
            classes = [c[len(prefix) :] for c in columns if c.startswith(prefix)]
            if sorted(classes) == labels:
                return tuple(classes)
    return None


def unseen_classes(columns, labels) -> list[str]:
    """The classes probability columns name beyond `labels` (the target's values), in the columns' order, when every
    label has its column too (named as `classes_of_columns` reads them): a class the training rows never hold. []
    when the columns name no more classes, or name them otherwise."""
    columns, labels = [str(c) for c in columns], {str(v) for v in labels}
    candidates = [""] + [c[: -len(v)] for c in columns for v in labels if c.endswith(v) and c != v]  # prefixes
    for prefix in dict.fromkeys(candidates):
        classes = [c[len(prefix) :] for c in columns if c.startswith(prefix)]
        if len(classes) == len(columns) and labels < set(classes):
            return [c for c in classes if c not in labels]
    return []


def infer_task(values: list[str]) -> str:
    """A guess at the task from a target column's values (as text): `kit new` marks it as a guess."""
    distinct = set(values)
    if len(distinct) == 2:
        return "binary"
    numeric = all(is_number(v) for v in distinct)
    if numeric and (len(distinct) > 20 or any(not float(v).is_integer() for v in distinct)):
        return "regression"
    return "multiclass"
