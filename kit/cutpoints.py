"""Cut-points: the thresholds that turn a continuous score into labels, tuned on out-of-fold rows.

For qwk, rounding a regression's value at n.5, or taking a multiclass row's most probable class, pulls predictions
toward the middle classes, and qwk counts every such miss by its squared distance. Kaggle's usual fix for qwk
competitions is k - 1 cut-points between k ordered classes, tuned on out-of-fold predictions of a continuous score: a
row's class is the number of cut-points at or below its score. The score is a regression's value, or a multiclass
row's expected class place sum_k p_k * k (k the class's place in the task's order, 0 the first: the distance qwk
weighs). A binary task scored by F1, balanced accuracy, MCC or qwk (kit.task.Metric.threshold) is the same search with
two classes: one cut-point on the positive class's probability, where 0.5 seldom scores best (F1 trades precision
for recall; a user's trial on 7,613 synthetic tweets chose 0.36: CV F1 0.7324 -> 0.7445, hidden test 0.7390 -> 0.7559).

`fit` is a deterministic coordinate search: starting from the midpoints (n.5), each cut-point in turn moves to the
place between its neighbours where the metric is best, of CANDIDATES places spread evenly over the rows between them
(every place between two distinct scores on fewer rows), until a pass over all of them moves none. The scores are
sorted once, so each place costs a difference of running class counts: 0.16 s on 300,000 rows. A cut-point moves
only when the metric strictly rises, so on the rows it is fitted on the result never scores below the midpoints, and
it stays strictly between its neighbours: the cut-points ascend.

Chosen on the rows they are then scored on, cut-points would flatter the CV, as ensemble weights would. So
`tune` gives each fold cut-points chosen on the other folds of its own repeat (kit.train.held_out_sets), keeps the
fold's score with rounding (or the 0.5 cut) beside the tuned one, and chooses the full fit's on every fold; the
submission's labels are its test predictions cut there (kit.pipeline.make_submission).
"""

from __future__ import annotations

import torch

from kit.task import WHOLE_CUTS, Task, cuts_labels
from kit.train import halves, held_out_sets

PASSES = 20  # coordinate passes at most; a search settles in a few
# Places tried per cut-point and pass, spread evenly over the rows between its neighbours (plus where it is): on
# 300,000 rows every row would be a place, and finer steps than 1/256 of them fit noise
CANDIDATES = 256


def applies(task: Task) -> bool:
    """Whether a task's labels are cut from a score: qwk of a multiclass or of a regression's whole numbers, or a
    binary scored by a metric whose best threshold is seldom 0.5 (kit.task.cuts_labels)."""
    return cuts_labels(task.kind, task.metric.name) and (task.metric.name not in WHOLE_CUTS or task.whole)


def midpoints(first: float, k: int) -> list[float]:
    """The cut-points rounding uses between k classes first, first + 1, ...: first + 0.5, first + 1.5, ..."""
    return [first + i + 0.5 for i in range(k - 1)]


def cut(score: torch.Tensor, cuts: list[float]) -> torch.Tensor:
    """(n,) int64 class places: for each score, how many cut-points are at or below it."""
    return torch.bucketize(score.double(), torch.tensor(cuts, dtype=torch.float64), right=True)


def fit(score: torch.Tensor, y: torch.Tensor, start: list[float], metric: str = "qwk") -> list[float]:
    """Ascending cut-points from `start` (k - 1 of them) that maximise the metric of `cut(score)` against y.

    score: (n,) float; y: (n,) int64 class places 0 to k - 1; metric: "qwk", or a binary one of SCORERS (k = 2).
    Deterministic: equal inputs, equal cut-points.
    """
    scorer = SCORERS[metric]
    cuts, k = list(start), len(start) + 1
    s, order = score.double().sort(stable=True)  # (n,): each cut-point is then a place in the sorted rows
    ones = torch.eye(k, dtype=torch.float64)[y.long()[order]]  # (n, k) each row's true class as a 0/1 row
    below = torch.cat([torch.zeros(1, k, dtype=torch.float64), ones.cumsum(0)])  # (n + 1, k) classes of the first j
    splits = torch.nonzero(s[1:] > s[:-1])[:, 0] + 1  # places between two distinct scores: j rows below, n - j above
    ends = [int(j) for j in torch.searchsorted(s, torch.tensor(cuts, dtype=torch.float64))]  # rows below each cut
    for _ in range(PASSES):
        moved = False
        for i in range(k - 1):
            place, j = _best_place(s, below, splits, cuts, ends, i, scorer)
            moved |= place != cuts[i]
            cuts[i], ends[i] = place, j
        if not moved:
            break
    return cuts


def _best_place(s, below, splits, cuts: list[float], ends: list[int], i: int, scorer) -> tuple[float, int]:
    """Where cut-point i (between classes i and i + 1) scores best with the others held, and the rows below it: its
    own place unless another, strictly between its neighbours, scores strictly better (by `scorer` of the
    confusion matrices)."""
    k = below.shape[1]
    low, high = ends[i - 1] if i > 0 else 0, ends[i + 1] if i < k - 2 else len(s)
    first, last = int(torch.searchsorted(splits, low, right=True)), int(torch.searchsorted(splits, high))
    inside = splits[first:last]  # the rows below cut-point i may be j, low < j < high
    if len(inside) > CANDIDATES:  # evenly spread: positions 0, ..., len - 1 rounded half to even
        inside = inside[torch.linspace(0, len(inside) - 1, CANDIDATES, dtype=torch.float64).round().long()]
    inside = inside.tolist()
    js = [ends[i], *inside]  # the current place first, so that it wins a tie
    bounds = torch.tensor([0, *ends, len(s)])  # (k + 1,) class c holds the sorted rows bounds[c] to bounds[c + 1]
    fixed = (below[bounds[1:]] - below[bounds[:-1]]).T  # (k, k) rows: true class, columns: given class
    c = fixed.expand(len(js), k, k).clone()  # (m, k, k)
    c[:, :, i] = below[js] - below[low]
    c[:, :, i + 1] = below[high] - below[js]
    best = int(scorer(c).argmax())  # the first of equals: a move strictly raises the metric
    if best == 0:
        return cuts[i], ends[i]
    j = js[best]
    return (s[j - 1].item() + s[j].item()) / 2, j


def _kappas(c: torch.Tensor) -> torch.Tensor:
    """Quadratic weighted kappa of each (m, k, k) confusion matrix, as kit.metrics._kappa of one (tested against
    kit.metrics.qwk): 1 - sum(w * observed) / sum(w * expected), 0 where chance is 0."""
    k = c.shape[-1]
    classes = torch.arange(k, dtype=torch.float64)
    weights = (classes[:, None] - classes[None, :]) ** 2  # (k, k)
    expected = c.sum(dim=2)[:, :, None] * c.sum(dim=1)[:, None, :] / c.sum(dim=(1, 2))[:, None, None]  # (m, k, k)
    chance = (weights * expected).sum(dim=(1, 2))  # (m,)
    observed = (weights * c).sum(dim=(1, 2))
    return torch.where(chance == 0, 0.0, 1 - observed / torch.where(chance == 0, 1.0, chance))


def _f1(c: torch.Tensor) -> torch.Tensor:
    """F1 of the positive class of each (m, 2, 2) confusion matrix (rows: true, columns: given), as kit.metrics.f1:
    2 tp / (2 tp + fp + fn), 0 where there is nothing to find."""
    tp, wrong = c[:, 1, 1], c[:, 0, 1] + c[:, 1, 0]
    counted = 2 * tp + wrong
    return torch.where(counted == 0, 0.0, 2 * tp / torch.where(counted == 0, 1.0, counted))


def _f1_macro(c: torch.Tensor) -> torch.Tensor:
    """Each class's F1 averaged over the classes true or given in some row, as kit.metrics.f1_macro."""
    tp = torch.diagonal(c, dim1=1, dim2=2)  # (m, k)
    counted = c.sum(dim=2) + c.sum(dim=1)  # (m, k) 2 tp + fp + fn
    seen = counted > 0
    per_class = torch.where(seen, 2 * tp / torch.where(seen, counted, 1.0), 0.0)
    return per_class.sum(dim=1) / seen.sum(dim=1)


def _balanced_accuracy(c: torch.Tensor) -> torch.Tensor:
    """The mean of each true class's share given right, over the classes present, as kit.metrics.balanced_accuracy."""
    rows = c.sum(dim=2)  # (m, k)
    present = rows > 0
    recall = torch.where(present, torch.diagonal(c, dim1=1, dim2=2) / torch.where(present, rows, 1.0), 0.0)
    return recall.sum(dim=1) / present.sum(dim=1)


def _mcc(c: torch.Tensor) -> torch.Tensor:
    """Matthews correlation coefficient of each confusion matrix, as kit.metrics.mcc; 0 where it is undefined."""
    n, right = c.sum(dim=(1, 2)), torch.diagonal(c, dim1=1, dim2=2).sum(dim=1)
    true, given = c.sum(dim=2), c.sum(dim=1)  # (m, k)
    cov = n * right - (given * true).sum(dim=1)
    spread = (n * n - (given * given).sum(dim=1)) * (n * n - (true * true).sum(dim=1))
    return torch.where(spread == 0, 0.0, cov / torch.where(spread == 0, 1.0, spread).sqrt())


# The metrics a cut-point search can maximise, each over (m, k, k) confusion matrices (rows: true, columns: given)
SCORERS = {
    "qwk": _kappas,
    "f1": _f1,
    "f1_macro": _f1_macro,
    "balanced_accuracy": _balanced_accuracy,
    "mcc": _mcc,
}


# ---- a task's predictions --------------------------------------------------------------------------------------------


def ladder(task: Task, y: torch.Tensor) -> tuple[float, int]:
    """(the first class's score, k classes): a regression's whole numbers from the smallest training target to the
    largest; a multiclass task's classes in its order, placed 0 to k - 1; a binary's two (its midpoint is 0.5)."""
    if task.kind == "regression":
        low, high = int(y.double().min().round()), int(y.double().max().round())
        return float(low), high - low + 1
    return 0.0, len(task.labels)


def score_of(task: Task, pred: torch.Tensor) -> torch.Tensor:
    """(n,) float64 continuous scores: a regression's values; a binary row's probability of the positive class; a
    multiclass row's expected class place."""
    if task.kind in ("regression", "binary"):
        return pred.double()
    pred = pred.double()
    return (pred / pred.sum(dim=1, keepdim=True)) @ torch.arange(pred.shape[1], dtype=torch.float64)


def places(task: Task, y: torch.Tensor, first: float) -> torch.Tensor:
    """(n,) int64 class places of a target tensor: a regression's values less the first class; class indices."""
    return (y.double().round() - first).long() if task.kind == "regression" else y.long()


def labelled(task: Task, pred: torch.Tensor, cuts: list[float], first: float) -> torch.Tensor:
    """Predictions in the task's form whose labels (rounded, or the most probable class) are those the cut-points
    give: a regression's whole numbers, a binary's 0 or 1, or a multiclass row's one-hot. Task.score and Task.cells
    read them as usual."""
    given = cut(score_of(task, pred), cuts)  # (n,)
    if task.kind in ("regression", "binary"):
        return (given.double() + first).to(pred.dtype)
    return torch.eye(pred.shape[1], dtype=pred.dtype)[given]  # (n, k) a 1 at each row's class


def tune(result, y: torch.Tensor, folds: list, task: Task, repeats: int = 1) -> None:
    """Cut-points for one model's (or the ensemble's) CV result (kit.validation.ModelResult), in place: each fold's
    chosen on the other folds of its repeat and scored on its own rows, the full fit's on every fold.

    The scores with rounding move to `rounded_scores`; `fold_scores` become the tuned ones; `cutpoints` (the full
    fit's) and `fold_cutpoints` record the choice, on the scores' scale (a single fold, with no other fold to choose
    on: each half of its rows', chosen on the other half, kit.train.halves). A result without per-fold predictions
    keeps what it has.
    """
    if not result.fold_preds or len(result.fold_preds) != len(folds):
        return
    first, k = ladder(task, y)
    metric = task.metric.name
    scores = [score_of(task, p) for p in result.fold_preds]
    truth = [places(task, y[valid_idx], first) for _, valid_idx in folds]

    def chosen_on(fold_ids: list[int], part=slice(None)) -> list[float]:  # part: of a single fold's rows
        start = midpoints(first, k)
        if metric in WHOLE_CUTS:  # mae: rounded, not searched (see WHOLE_CUTS)
            return start
        on = [scores[g][part] for g in fold_ids], [truth[g][part] for g in fold_ids]
        return fit(torch.cat(on[0]), torch.cat(on[1]), start, metric)

    result.cutpoints = chosen_on(list(range(len(folds))))
    result.rounded_scores = [task.score(p, y[v]) for p, (_, v) in zip(result.fold_preds, folds)]
    if len(folds) == 1:
        parts = halves(len(truth[0]))
        result.fold_cutpoints = [chosen_on([0], parts[1]), chosen_on([0], parts[0])]  # each half's, on the other
        labels = [labelled(task, result.fold_preds[0], cuts, first) for cuts in result.fold_cutpoints]
        labels[0][parts[1]] = labels[1][parts[1]]  # (n_valid[, k]) each half cut by its own
        result.fold_scores = [task.score(labels[0], y[folds[0][1]])]
        return
    result.fold_cutpoints = [chosen_on(ids) for ids in held_out_sets(len(folds), repeats)]
    result.fold_scores = [
        task.score(labelled(task, p, cuts, first), y[v])
        for p, cuts, (_, v) in zip(result.fold_preds, result.fold_cutpoints, folds)
    ]
