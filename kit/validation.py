"""Honest validation: splits, cross-validation with out-of-fold predictions, and the ensemble.

The recipe is fit on each training fold only, so no validation row ever shapes its own features.
The folds are scikit-learn's splitters', index for index, made by kit's own code (kit.folds). Every fold
and seed of a model trains in one call to `kit.train.fit`, on the plan's device; results come back to the
CPU. Predictions have the task's form (kit.task): (n,) or (n, k); scores come from the task's metric.

With `choose_epochs`, each model first trains with validation curves; each fold's epoch count is
then chosen on the *other* folds' curves of its own repeat (kit.train.held_out_best_epochs: another
repeat's folds validate its rows too), so a fold's score never comes from an epoch its own rows helped
choose; the full-data fit uses the epoch best on all folds.
With `patience`, those curves stop once neither they nor the validation loss has improved for that many
epochs (kit.train._Curves.stalled).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass, field, replace
from functools import partial

import torch

from kit import KitError
from kit.batched import (
    RUN_ROWS,
    PackedRows,
    as_bits,
    ordered_targets,
    pad_rows,
    put_in_order,
    resolve_device,
    shuffle_once,
    shuffle_order,
)
from kit.competition import release_freed_memory
from kit.ensemble import combine, select_weights
from kit.folds import group_kfold, kfold, stratified_kfold, time_blocks
from kit.group_folds import stratified_group_folds
from kit.groups import without_per_row
from kit.importance import column_groups, model_drops
from kit.recipe import (
    apply_recipe,
    check_filled,
    fit_apply,
    number_features,
    same_encoding,
    scale_into,
    unscaled_features,
)
from kit.threads import model_workers, run_each, torch_threads
from kit.train import Training, batch_rows, best_epoch, fit, halves, held_out_best_epochs, held_out_sets, predict

SPLITS = ("stratified", "kfold", "group", "time", "random")


@dataclass(frozen=True)
class Plan:
    """What to train and how to validate it."""

    models: tuple = ("linear", "nn", "deep")  # names in kit.models.MODELS
    split: str = "stratified"  # "stratified", "kfold", "group" (rows of a group share a fold) or "random"
    folds: int = 5  # for kfold, stratified and group
    seeds: int = 1  # initialisations per model: init_seed, init_seed + 1, ...
    init_seed: int = 442  # the article's
    split_seed: int = 42  # the article's
    valid_pct: float = 0.2  # for the random split
    repeats: int = 1  # the split again with split_seed + 1, + 2, ...: more folds, a truer spread
    block: int = 0  # time split: distinct times each fold validates; 0: TimeSeriesSplit's n // (folds + 1)
    gap: int = 0  # time split: distinct times left out between each fold's training rows and its validation block
    device: str = "cpu"  # where models train: "cpu" or "cuda"; results come back to the CPU
    training: Training = field(default_factory=lambda: Training(preset="article"))  # optimiser, lr, epochs, ...
    choose_epochs: bool = False  # pick each model's epochs by CV (see the module docstring)
    patience: int = 0  # choosing epochs, stop once curves and loss have not improved for this many epochs; 0: never
    ensemble: str = "mean"  # "mean" of the models, or "select": weights chosen by CV (kit.ensemble)
    rows: int = 0  # a CV on this many training rows drawn at random (kit.pipeline.sample_rows); 0: every row
    # other recipes whose models (the same models, the same folds) join the ensemble, named RECIPE/MODEL
    # (kit.pipeline.blended_cv)
    blend: tuple = ()
    cutpoints: bool = False  # labels cut from a score by cut-points tuned on out-of-fold rows (kit.cutpoints)
    # the submission's models: True, every model trained again on all training rows; False, the CV's fold models,
    # their test predictions averaged (nothing trains after the CV)
    refit: bool = True

    def seed_list(self) -> list[int]:
        return [self.init_seed + i for i in range(self.seeds)]

    def settings(self, name: str) -> dict:
        """Everything about how model `name` trains, as plain data for the sidecar; a blended recipe's (RECIPE/MODEL)
        trains as the model does."""
        return asdict(self.training.settings(name.rsplit("/", 1)[-1]))


def random_split(n: int, valid_pct: float = 0.2, seed: int = 42):
    """fastai's RandomSplitter: shuffle with `seed`, the first int(valid_pct * n) rows validate."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    cut = int(valid_pct * n)
    return perm[cut:], perm[:cut]  # train_idx, valid_idx


def split_indices(plan: Plan, y: torch.Tensor, groups=None, extra: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(train_idx, valid_idx) per fold, the folds of every repeat one after another.

    groups: for the group split, one value per row (rows with equal values share a fold); the folds
    are stratified by y too when y holds classes (int64 class indices or 0/1 floats of a binary task).
    A multilabel task (y (n, k)) splits with kfold or group: scikit-learn has no multilabel stratification.
    extra: the last rows of y that are extra rows (kit.competition.with_extra_rows): the folds are cut on the
    others (groups and times are theirs alone), and every fold trains on all the extra rows and validates none.
    """
    if extra:
        n = len(y) - extra
        rows = torch.arange(n, len(y))  # (extra,)
        folds = split_indices(plan, y[:n], groups)
        return [(torch.cat([train_idx, rows]), valid_idx) for train_idx, valid_idx in folds]
    if plan.split == "random":
        return [random_split(len(y), plan.valid_pct, plan.split_seed + r) for r in range(plan.repeats)]
    if plan.split == "time":
        return time_split(groups, plan.folds, plan.block, plan.gap)
    if plan.split not in SPLITS:
        raise ValueError(f"unknown split {plan.split!r}")
    labels = y.numpy()
    folds = []
    for r in range(plan.repeats):
        seed = plan.split_seed + r
        if plan.split == "group":
            if groups is None:
                raise ValueError("a group split needs the rows' groups")
            # GroupKFold deals groups by size; relabelling them at random makes each repeat's folds differ
            relabel = torch.randperm(len(set(groups)), generator=torch.Generator().manual_seed(seed)).tolist()
            codes = {g: relabel[i] for i, g in enumerate(sorted(set(groups)))}
            coded = [codes[g] for g in groups]
            # multilabel targets (n, k) are not stratified: scikit-learn has no multilabel stratification
            classes = y.dim() == 1 and (y.dtype == torch.int64 or bool(((y == 0) | (y == 1)).all()))
            if classes:  # scikit-learn's StratifiedGroupKFold's folds, 5x faster (kit.group_folds)
                pairs = stratified_group_folds(labels, coded, plan.folds, seed)
            else:
                pairs = group_kfold(coded, plan.folds)
        elif plan.split == "kfold":
            pairs = kfold(len(labels), plan.folds, seed)
        else:
            pairs = stratified_kfold(labels, plan.folds, seed)
        folds += [(torch.as_tensor(t), torch.as_tensor(v)) for t, v in pairs]
    return folds


def time_split(times, folds: int, block: int = 0, gap: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Forward folds over time: fold i validates the i-th block of the distinct times after the first and trains on
    every row before that block (scikit-learn's TimeSeriesSplit over the distinct times, so the rows of one time are
    never split between training and validation). The first block is never validated; every fold's training rows
    come before its validation rows, as a test set of later times would be scored.

    block: distinct times per validation block, the last `folds` blocks (TimeSeriesSplit's test_size), so that each
    is as long as the test period; 0: n // (folds + 1). gap: distinct times left out between each fold's training
    rows and its block, as between the training file's last date and the test's first."""
    import numpy as np

    if times is None:
        raise ValueError("a time split needs the rows' times")
    times = np.asarray(times, dtype="float64")
    distinct = np.unique(times)  # sorted
    n = len(distinct)
    if n <= folds and not block:
        raise KitError(
            f"a time split into {folds} folds needs more than {folds} distinct times, and the rows hold {n}",
            fix="fewer_folds",
            rows=n - 1,
        )
    size = block or n // (folds + 1)
    if n - gap - folds * size < 1:  # the first fold would learn from no time at all
        raise KitError(_no_training_times(n, folds, block, gap))
    position = np.searchsorted(distinct, times)  # each row's time, as its rank among the distinct times
    out = []
    for fit_times, valid_times in time_blocks(n, folds, size, gap):
        fit_rows = np.flatnonzero(position <= fit_times[-1])
        valid_rows = np.flatnonzero((position >= valid_times[0]) & (position <= valid_times[-1]))
        out.append((torch.as_tensor(fit_rows), torch.as_tensor(valid_rows)))
    return out


def _no_training_times(n: int, folds: int, block: int, gap: int) -> str:
    """Why a time split of these blocks leaves its first fold no training rows, and the settings that fit n times."""
    size = block or n // (folds + 1)
    fits = []
    if (n - gap - 1) // size >= 2:  # first: the blocks stay as long as the test period they were sized by
        fits.append(f"{(n - gap - 1) // size} folds or fewer")
    if (n - gap - 1) // folds >= 1:
        fits.append(f"[validation] block = {(n - gap - 1) // folds} or less")
    if gap and n - folds * size - 1 >= 0:
        fits.append(f"gap = {n - folds * size - 1} or less")
    fits = ", or ".join(fits) if fits else "fewer folds with a smaller block and gap"
    return (
        f"a time split into {folds} folds of {size} distinct times"
        + (f" after a gap of {gap}" if gap else "")
        + f" needs more than {folds * size + gap} distinct times, and the rows hold {n}, so its first fold would "
        f"have no training rows; what fits: {fits}"
    )


@dataclass
class ModelResult:
    """One model's (or the ensemble's) validation: out-of-fold predictions and fold scores."""

    oof: torch.Tensor  # (n_train[, k]) mean prediction over seeds and repeats; NaN for rows never validated
    test_pred: torch.Tensor  # (n_test[, k]) mean over folds and seeds
    fold_scores: list[float]
    losses: list[list[float]] = field(default_factory=list)  # per fold and seed, the training loss per epoch
    fold_preds: list = field(default_factory=list)  # per fold, (n_valid[, k]) predictions of its valid rows
    valid_losses: list[list[float]] = field(default_factory=list)  # per fold and seed, the validation loss
    valid_scores: list[list[float]] = field(default_factory=list)  # per fold, the metric after each epoch
    epochs: list[int] = field(default_factory=list)  # per fold, the epochs its models trained
    chosen_epochs: int | None = None  # with choose_epochs: the epochs the full-data fit trains
    weights: dict | None = None  # the ensemble with weights chosen (kit.ensemble): model -> the full fit's weight
    # ... and per fold, model -> its weight there (a single fold: each half of its rows', chosen on the other half)
    fold_weights: list = field(default_factory=list)
    cutpoints: list | None = None  # labels cut (kit.cutpoints): the full fit's cut-points, on the scores' scale
    fold_cutpoints: list = field(default_factory=list)  # ... and per fold, chosen on the other folds
    rounded_scores: list = field(default_factory=list)  # ... and per fold, the score with rounding instead
    scale: float | None = None  # a log target scaled back to its mean (kit.smearing): the full fit's factor
    fold_scales: list = field(default_factory=list)  # ... and per fold, chosen on the other folds
    unscaled_scores: list = field(default_factory=list)  # ... and per fold, the score of the unscaled values

    @property
    def mean(self) -> float:
        return statistics.fmean(self.fold_scores)

    @property
    def std(self) -> float:
        return statistics.pstdev(self.fold_scores)

    def summary(self) -> dict:
        out = {"fold_scores": self.fold_scores, "mean": self.mean, "std": self.std}
        if self.chosen_epochs is not None:
            out |= {"fold_epochs": self.epochs, "chosen_epochs": self.chosen_epochs}
            if self.valid_scores:  # how far the curves went: every epoch, unless patience stopped them
                out["epochs_tried"] = len(self.valid_scores[0])
        if self.weights is not None:
            out |= {"weights": self.weights, "fold_weights": self.fold_weights}
        if self.cutpoints is not None:
            rounded = {"fold_scores": self.rounded_scores, "mean": statistics.fmean(self.rounded_scores)}
            out |= {"cutpoints": self.cutpoints, "fold_cutpoints": self.fold_cutpoints, "rounded": rounded}
        if self.scale is not None:
            unscaled = {"fold_scores": self.unscaled_scores, "mean": statistics.fmean(self.unscaled_scores)}
            out |= {"scale": self.scale, "fold_scales": self.fold_scales, "unscaled": unscaled}
        return out


@dataclass
class CVResult:
    models: dict  # name -> ModelResult
    ensemble: ModelResult
    fit_seconds: float  # time spent training, in process
    recipe_states: list  # the recipe learned on each training fold; empty where every model's CV was reused
    task: object = None  # the kit.task.Task the scores are in: their metric and its direction
    folds: list = field(default_factory=list)  # (train_idx, valid_idx) per fold, as the models were validated
    reused: bool = False  # every model loaded from earlier runs (kit.cv_cache) rather than trained now
    reused_models: tuple = ()  # the models loaded so, where some trained now
    data: str = ""  # a fingerprint of the input files' bytes (kit.pipeline.data_fingerprint), for the run log
    fold_data: str = ""  # ... of the training file's alone, which the folds are cut from (extra files aside)
    per_target: dict | None = None  # multilabel: target -> the ensemble's out-of-fold score (kit.oof.per_target)
    # per fold, the score of one prediction for every row (constant_scores): the floor the models clear
    constant: list = field(default_factory=list)
    importance: dict | None = None  # model -> {recipe column: permutation importance}, when asked (kit.importance)

    def summary(self) -> dict:
        # the constant prediction's scores beside the models': a trial's reader of a sidecar could not tell 38.799
        # from the floor of 38.880 it barely cleared
        floor = {"fold_scores": self.constant, "mean": statistics.fmean(self.constant)} if self.constant else None
        return {
            "models": {name: r.summary() for name, r in self.models.items()},
            "ensemble": self.ensemble.summary(),
            **({"constant": floor} if floor else {}),
            **({"per_target": self.per_target} if self.per_target is not None else {}),
            "fit_seconds": self.fit_seconds,
        }

    def full_fit_epochs(self) -> dict:
        """model -> the epochs chosen by CV for the full-data fit (only models whose epochs were chosen)."""
        return {name: r.chosen_epochs for name, r in self.models.items() if r.chosen_epochs is not None}


def cross_validate(
    spec,
    train,
    test,
    y: torch.Tensor,
    plan: Plan,
    task,
    progress=None,
    groups=None,
    extra: int = 0,
    folds=None,
    importance: bool = False,
    on_epoch=None,
) -> CVResult:
    """Train every model and seed on every fold; keep out-of-fold and fold-averaged test predictions.

    progress, if given, is called with the number of folds each time a model finishes some; on_epoch, if given,
    with a model's name, its most epochs and the epochs it has trained, after each epoch of its curves.
    groups: one value per training row, for the group split. extra: the last rows that are extra rows,
    in every fold's training rows and never validated (split_indices; their out-of-fold predictions NaN).
    folds: the (train_idx, valid_idx) of each fold when they were cut before (kit.cv_cache keeps them).
    importance: also each recipe column's permutation importance per model (kit.importance), in .importance.
    """
    # One thread for everything but the fits, which choose their own (kit.threads): the many small
    # operations around them (seed means, scores, the test rows' chunks) waited on a second thread.
    with torch_threads(1):
        return _cross_validate(spec, train, test, y, plan, task, progress, groups, extra, folds, importance, on_epoch)


def _cross_validate(
    spec, train, test, y, plan, task, progress, groups, extra=0, folds=None, importance=False, on_epoch=None
) -> CVResult:
    device = resolve_device(plan.device)
    if folds is None:
        folds = split_indices(plan, y, groups, extra)
    data = _encode_folds(spec, train, test, folds)
    by_width = {width: [f for f, _ in members] for width, members in data.groups.items()}
    placed = {}  # width -> (x, y, mask, valid) on the device: moved there once, for every model
    shuffled = {}  # width -> whether its rows were put in an order of their own (kit.batched.shuffle_order)
    for width, fold_ids in by_width.items():
        stacks = data.stacks[width]
        if "order" in stacks:  # each slot's row's target, as the rows were put in their order
            ys = torch.stack([ordered_targets(y[folds[f][0]], o) for f, o in zip(fold_ids, stacks["order"])])
        else:
            ys, _ = pad_rows([y[folds[f][0]] for f in fold_ids])  # (F, n_max)
        yv, mv = pad_rows([y[folds[f][1]] for f in fold_ids])  # (F, m_max)
        valid = (stacks["valid"].to(device), yv.to(device), mv.to(device))
        placed[width] = (stacks["train"].to(device), ys.to(device), stacks["mask"].to(device), valid)
        shuffled[width] = "order" in stacks
    del stacks

    def train_model(name: str):
        """Every fold and seed of one model: (name, its CV results, its grids for the test rows)."""
        settings = plan.training.settings(name)
        n_folds = len(folds)
        valid_pred, histories = [None] * n_folds, [None] * n_folds
        curves, curve_losses, epochs = [None] * n_folds, [None] * n_folds, [settings.epochs] * n_folds
        by_fold = {}  # fold -> (its grid's params, its place in that grid)
        drops = {}  # with importance: recipe column -> its score's drop on each fold
        grids = {}  # width -> the fit with validation curves
        choosing = plan.choose_epochs and n_folds > 1
        held_out_all = held_out_sets(n_folds, plan.repeats)  # fold -> the folds its epochs are chosen on
        for width, fold_ids in by_width.items():  # every fold's curve first: a fold's epochs need all the others'
            x, ys, mask, valid = placed[width]
            # each epoch's params kept where they are small, so that the chosen epochs need no second training
            keep = choosing and _params_bytes(settings, x.shape[2], task.width, x.shape[0] * plan.seeds) <= KEEP_BYTES
            patience = plan.patience if choosing else 0
            # each fold's held-out folds among this group's (the group is every fold, but for rare recipes)
            local = {f: i for i, f in enumerate(fold_ids)}
            held_out = [[local[g] for g in held_out_all[f] if g in local] for f in fold_ids]
            grids[width] = fit(
                settings,
                task,
                x,
                ys,
                mask,
                seeds=plan.seed_list(),
                valid=valid,
                keep_each_epoch=keep,
                patience=patience,
                held_out=held_out if all(held_out) else None,
                shuffled=shuffled[width],
                on_epoch=partial(on_epoch, name, settings.epochs) if on_epoch else None,
            )
            for i, f in enumerate(fold_ids):
                curves[f] = grids[width].valid_scores[i]  # (epochs,)
                curve_losses[f] = grids[width].valid_losses[i].cpu().tolist()  # per seed, after each epoch
        if choosing:
            # Groups of folds (one per feature width: a fold whose training rows lack a level has a column less)
            # may stop by patience at different epochs. A curve that stopped is taken as flat after its last epoch,
            # as patience found it, so the others' longer curves still choose; a group chosen past where it
            # stopped trains again to there (below). Cut to the shortest, a lone fold's early stop bound them all.
            chosen, _ = held_out_best_epochs(flat_after_stop(curves), task, plan.repeats)
        for width, fold_ids in by_width.items():
            x, ys, mask, valid = placed[width]
            done = grids.pop(width)
            if choosing:
                # Fold f's models as they were after the epochs its sibling folds' curves chose, and no more
                stop_at = [chosen[f] for f in fold_ids]
                if done.each_epoch is not None and max(stop_at) <= len(done.each_epoch):
                    done = done.at_epochs(stop_at)
                else:
                    done = fit(
                        settings, task, x, ys, mask, seeds=plan.seed_list(), stop_at=stop_at, shuffled=shuffled[width]
                    )
                for i, f in enumerate(fold_ids):
                    epochs[f] = stop_at[i]
            losses = done.losses.cpu()  # waits for the device
            valid_all = predict(settings, task, done.params, valid[0]).cpu()  # (F, S, m_max[, k])
            for i, f in enumerate(fold_ids):
                valid_pred[f] = task.within_training_range(  # (n_valid[, k]) mean over seeds
                    valid_all[i, :, : len(folds[f][1])].mean(dim=0), y[folds[f][0]]
                )
                histories[f] = [h[: epochs[f]] for h in losses[i].tolist()]  # per seed, the loss per epoch
                by_fold[f] = (done.params, i)
            if importance:
                found = model_drops(
                    partial(predict, settings, task),
                    done.params,
                    valid[0],
                    fold_ids,
                    [len(folds[f][1]) for f in fold_ids],
                    partial(_better_up, task, y, folds),
                    [column_groups(spec, data.states[f]) for f in fold_ids],
                )
                for column, values in found.items():
                    drops.setdefault(column, []).extend(values)
            if progress:
                progress(len(fold_ids))
        importances[name] = {column: statistics.fmean(values) for column, values in drops.items()}
        if on_epoch:
            on_epoch(name, settings.epochs, None)  # done: its epochs no longer shown as running
        return name, (valid_pred, histories, curve_losses, curves, epochs), (settings, by_fold)

    importances = {}  # model -> {recipe column: its mean drop over the folds}, with importance
    # Models share nothing but the (read-only) fold stacks: large ones train side by side, one per core
    # (kit.threads.run_each), each exactly as it would alone; the larger first, so the cores finish together.
    n_folds, n_rows, width = next(iter(placed.values()))[0].shape  # the largest group's, in practice the only one
    settings = {name: plan.training.settings(name) for name in plan.models}
    order, workers = training_schedule(settings, n_rows, width, task.width, n_folds * plan.seeds, device)
    start = time.perf_counter()
    trained = run_each([partial(train_model, name) for name in order], workers)
    fit_seconds = time.perf_counter() - start
    release_freed_memory()  # the training steps' temporaries
    by_name = {name: (result, grid) for name, result, grid in trained}
    results = {name: by_name[name][0] for name in plan.models}  # a ModelResult each once test is in
    grids = {name: by_name[name][1] for name in plan.models}
    placed.clear()  # every model has trained: the fold stacks go before the test rows come
    del trained, by_name
    data.stacks.clear()
    test_pred = _test_predictions(data, spec, test, grids, task, device)
    test_pred = {
        name: [task.within_training_range(p, y[train_idx]) for p, (train_idx, _) in zip(preds, folds)]
        for name, preds in test_pred.items()
    }
    for name, (valid_pred, histories, curve_losses, curves, epochs) in results.items():
        result = _model_result(valid_pred, test_pred[name], [h for fold in histories for h in fold], y, folds, task)
        result.valid_losses = [h for fold in curve_losses for h in fold]
        result.valid_scores = [c.tolist() for c in curves]
        result.epochs = epochs
        if plan.choose_epochs:
            result.chosen_epochs = best_epoch(flat_after_stop(curves), task)  # every fold's curve: for the full fit
        results[name] = result
    combined = ensemble(results, y, folds, task, plan.ensemble, plan.repeats)
    out = CVResult(results, combined, fit_seconds, data.states, task, folds)
    if importance:
        out.importance = {name: importances[name] for name in plan.models}
    return out


def _better_up(task, y, folds, f: int, pred) -> float:
    """Fold f's score of its validation rows' prediction, negated for a metric where lower is better."""
    train_idx, valid_idx = folds[f]
    value = task.score(task.within_training_range(pred.cpu(), y[train_idx]), y[valid_idx])
    return value if task.greater_is_better else -value


def flat_after_stop(curves: list[torch.Tensor]) -> torch.Tensor:
    """Each fold's validation curve, (epochs,), as one (folds, longest) tensor: a curve that patience stopped
    earlier is taken as flat after its last epoch."""
    longest = max(len(c) for c in curves)
    return torch.stack([torch.cat([c, c[-1:].expand(longest - len(c))]) for c in curves])


# Each epoch's params are kept while choosing epochs (so the chosen epochs are taken, not trained again) when
# a model's params for every epoch take at most this: a few megabytes for kit's models, 10 GB for a grid
# of 50 models 1,000 inputs x 512 units wide, which trains twice instead.
KEEP_BYTES = 256 * 2**20


def _params_bytes(settings, n_in: int, n_out: int, n_models: int) -> int:
    """Bytes of a grid's weights and biases over all its epochs."""
    sizes = [n_in, *settings.hidden, n_out]
    return 4 * n_models * settings.epochs * sum(a * b + b for a, b in zip(sizes, sizes[1:]))


def training_cost(settings, n_in: int, n_out: int) -> int:
    """Multiply-adds per row of a model's training: its epochs times the sizes of its layers."""
    sizes = [n_in, *settings.hidden, n_out]
    return settings.epochs * sum(a * b for a, b in zip(sizes, sizes[1:]))


def training_schedule(settings: dict, n_rows: int, n_in: int, n_out: int, n_models: int, device) -> tuple:
    """(the order models train in, how many at once) for {name: Settings} on folds of n_rows rows, each a grid of
    n_models models: the costliest first, so that cores training side by side finish together, and side by side
    when one step of the smallest batch pays for a core of its own (kit.threads.model_workers)."""
    order = sorted(settings, key=lambda name: -training_cost(settings[name], n_in, n_out))
    steps = min(batch_rows(s, n_rows) or n_rows for s in settings.values())
    return order, model_workers(steps, n_in, n_models, len(order), device)


def _test_predictions(data, spec, test, grids: dict, task, device) -> dict:
    """model -> per fold, its seed-mean prediction of the test rows, (n_test[, k]).

    The test rows come last, when every model has trained: each distinct encoding is made once
    (folds whose states differ only in their scale, or in fills the test rows have no gap for, share
    one), and every model predicts its folds from it, TEST_CHUNK rows at a time.
    Only one encoding is held at a time, so a large test set costs its size once, not once per fold.
    """
    out = {name: [None] * len(data.states) for name in grids}
    for fold_ids, encoding in data.test_encodings(spec, test):
        for f in fold_ids:
            parts = {name: [] for name in grids}
            for chunk in data.scaled_test(f, encoding):
                chunk = chunk.to(device)  # (1, chunk, width): once for every model
                for name, (settings, by_fold) in grids.items():
                    params, i = by_fold[f]
                    one = {key: p[i : i + 1] for key, p in params.items()}  # fold f's models, a grid of one fold
                    parts[name].append(predict(settings, task, one, chunk)[0].mean(dim=0).cpu())  # (chunk[, k])
            for name in grids:
                out[name][f] = torch.cat(parts[name])  # (n_test[, k]) mean over seeds
    return out


# The first fold's test encoding is kept for the test rows' turn up to this size; a larger one (a
# 200,000-row test set: 46 MB) is encoded again then, 0.2 s, rather than held while models train.
TEST_CACHE_BYTES = 16 * 2**20

# Test rows are scaled and predicted this many at a time, so the grid never holds every fold's copy
# of a large test set; a test set this small or smaller is one chunk, as it always was.
TEST_CHUNK = 65_536


@dataclass
class _FoldData:
    """Every fold's features, stacked per width, ready for `kit.train.fit` and `predict`.

    The training stacks are stored rows-first, (F, n, width): mini-batches gather whole rows from them
    (kit.train.fit). Folds of more than kit.batched.RUN_ROWS rows are stored with each fold's rows in an
    order drawn once (`shuffle_order`, "order" its slots' rows): fit then takes its batches as runs of
    them (shuffled=True). The validation stacks are stored rows-last, (F, width, m), and handed out as
    (F, m, width) views: the validation curves and predict want rows last for their matmuls (kit.models),
    and a view already in that layout needs no second copy.
    """

    states: list  # per fold, the recipe learned on its training rows
    groups: dict  # width -> [(fold, position in that width's stacks)]
    stacks: dict  # width -> {"train": (F, n_max, width), "valid": (F, m_max, width), "mask": (F, n_max)[, "order"]}
    test_cache: dict  # 0 -> (the first fold's test encoding, its gaps) when small, made while encoding

    def test_encodings(self, spec, test):
        """(folds, unscaled test features (n_test, width) float32) for each distinct encoding, in turn: the
        folds whose states encode the test rows alike (kit.recipe.same_encoding) share one."""
        pending = list(range(len(self.states)))
        while pending:
            first = self.states[pending[0]]
            encoding, gaps = self.test_cache.pop(pending[0], (None, set()))
            if encoding is None:
                encoding = unscaled_features(spec, first, test, gaps)
                check_filled(spec, first, encoding, test)
                release_freed_memory()
            folds = [f for f in pending if same_encoding(first, self.states[f], gaps)]
            pending = [f for f in pending if f not in folds]
            yield folds, encoding
            del encoding  # before the next is made

    def scaled_test(self, f: int, encoding):
        """Fold f's test features, scaled by its state, TEST_CHUNK rows at a time: (1, chunk, width) views."""
        n_test, width = encoding.shape
        for start in range(0, max(n_test, 1), TEST_CHUNK):  # no test rows: one empty chunk, an empty prediction
            stop = min(start + TEST_CHUNK, n_test)
            rows = scale_into(self.states[f], encoding[start:stop], torch.empty(stop - start, width))
            # rows last, as predict wants them: one transposing copy is 2.5x faster than scaling into a transposed view
            block = torch.empty(1, width, stop - start)
            block[0].copy_(rows.T)
            yield block.transpose(1, 2)


# Large folds (more than RUN_ROWS rows, trained in runs of rows) whose training stack would take PACK_BYTES or more
# as float32 keep their 0/1 features a byte each there (kit.batched.PackedRows); PACK_BITS False: never. Each run of
# rows is then made afresh, which costs time: a trial's 1,500,000 rows of 3 numbers and 17 categories (152 features,
# a 3.6 GB stack; 5 folds, 2 epochs, one run each at load 1-1.5) peaked at 6.4 GB and trained in 12.3 s as float32,
# at 4.0 GB in 17.4 s packed (BENCHMARKS.md, "Twenty-fifth pass"). So packing is for data that would not fit
# otherwise: the real competition's 3,116,945 rows make a 7.5 GB stack.
PACK_BITS = True
PACK_BYTES = 4 * 2**30


class _Unpackable(Exception):
    """A fold whose features after the numbers are not all 0 or 1, or begin elsewhere than its stack's."""


def _encode_folds(spec, train, test, folds) -> _FoldData:
    """`_encode_folds_as`, the large folds' 0/1 features a byte each where every fold's are 0 or 1 (scale
    "standard" makes them other values; the stacks are then made again as float32)."""
    if PACK_BITS and spec.scale != "standard":
        try:
            return _encode_folds_as(spec, train, test, folds, pack=True)
        except _Unpackable:
            release_freed_memory()
    return _encode_folds_as(spec, train, test, folds, pack=False)


def _encode_folds_as(spec, train, test, folds, pack: bool) -> _FoldData:
    """Fit the recipe on each training fold and write the features straight into padded stacks.

    Folds whose recipes learned different levels have different columns; models stack only along
    equal widths, so each width is one group (almost always there is just one). Each fold's rows go
    into its slot of a stack sized for every fold, padding zeroed, so no per-fold copy is kept and
    no second stack is built. The test rows are encoded here for the first fold's state only (so a
    fill they lack stops the run before any training); `_FoldData.test_encodings` makes the others,
    once per distinct encoding (folds often learn the same levels and differ only in their maxima, and
    in medians or modes that fill no gap of the test rows: kit.recipe.same_encoding), and `scaled_test` divides an encoding by each fold's scale, the
    bytes apply gives.
    """
    n_train = max(len(t) for t, _ in folds)
    n_valid = max(len(v) for _, v in folds)
    shuffled = n_train > RUN_ROWS  # large folds: each one's rows in an order of its own
    pack = pack and shuffled  # only runs of rows read a packed stack (kit.train.fit); and only a large one (below)
    order = shuffle_order(len(folds), n_train) if shuffled else None  # (F, n_train)
    states, groups, stacks, cache = [], {}, {}, {}
    for train_idx, valid_idx in folds:
        state, x_train = fit_apply(spec, train.iloc[train_idx.numpy()])  # training rows only
        # each fit row's own target rate and id dropped: a fold's state is applied only to rows it was not fit on
        # (its validation rows, the test rows), and five folds of 2,500,000 rows held 17 rates each as a dict per
        # column: a helper's 3,116,945-row trial peaked at 16.2 GB and ran past 25 minutes
        state = without_per_row(state)
        states.append(state)
        width = x_train.shape[1]
        if width not in stacks:
            # torch.empty: slots of folds that fall in another width are never touched, so never paged in
            if pack and len(folds) * n_train * width * 4 >= PACK_BYTES:
                # (F, n_train_max, width) as the numbers (..., k) float32 and the rest (..., width - k) uint8
                k = number_features(spec, state)
                bits = torch.empty(len(folds), n_train, width - k, dtype=torch.uint8)
                rows = PackedRows(torch.empty(len(folds), n_train, k), bits)
            else:
                rows = torch.empty(len(folds), n_train, width)  # (F, n_train_max, width), rows first
            stacks[width] = {
                "train": rows,
                "mask": torch.zeros(len(folds), n_train),  # (F, n_train_max)
                "valid": torch.empty(len(folds), width, n_valid),  # (F, width, n_valid_max), rows last
            }
            if shuffled:
                stacks[width]["order"] = torch.empty(len(folds), n_train, dtype=torch.long)
        slot, stack = len(groups.setdefault(width, [])), stacks[width]
        f = len(states) - 1
        groups[width].append((f, slot))
        if shuffled:
            if isinstance(stack["train"], PackedRows):
                k = stack["train"].numbers.shape[2]
                bits = as_bits(x_train[:, k:]) if number_features(spec, state) == k else None
                if bits is None:
                    raise _Unpackable
                put_in_order(stack["train"].numbers[slot], x_train[:, :k], order[f])
                put_in_order(stack["train"].bits[slot], bits, order[f])
                del bits
            else:
                put_in_order(stack["train"][slot], x_train, order[f])
            stack["mask"][slot] = (order[f] < len(x_train)).float()
            stack["order"][slot] = order[f]
        else:
            stack["train"][slot, : len(x_train)] = x_train
            stack["train"][slot, len(x_train) :] = 0.0  # padding: zeros, as pad_rows gives
            stack["mask"][slot, : len(x_train)] = 1.0
        del x_train
        _put(stack["valid"][slot], apply_recipe(spec, state, train.iloc[valid_idx.numpy()]))
        if len(states) == 1:  # the first state's test encoding now: a fill the test rows lack stops the run early
            gaps = set()
            encoding = unscaled_features(spec, state, test, gaps)  # (n_test, width) float32
            check_filled(spec, state, encoding, test)
            if encoding.nbytes <= TEST_CACHE_BYTES:  # a large one is made again after training, not held through it
                cache[0] = (encoding, gaps)
            del encoding
        release_freed_memory()  # the fold's frames and temporaries
    for width, members in groups.items():  # (F, n, width) views of the slots in use: no copy
        stack = stacks[width]
        # rows up to the group's own longest fold, as its targets are padded (pad_rows): a group of folds
        # one row shorter than another group's would otherwise train on one row more than it has targets
        n, m = (max(len(folds[f][part]) for f, _ in members) for part in (0, 1))
        stacks[width] = {
            "train": stack["train"][: len(members), :n],
            "valid": stack["valid"][: len(members), :, :m].transpose(1, 2),
            "mask": stack["mask"][: len(members), :n],
        }
        if shuffled:  # every slot, padding spread among the rows: the order's targets come with them (ordered_targets)
            stacks[width] |= {
                "train": stack["train"][: len(members)],
                "mask": stack["mask"][: len(members)],
                "order": stack["order"][: len(members)],
            }
    return _FoldData(states, groups, stacks, cache)


def _put(slot: torch.Tensor, x: torch.Tensor) -> None:
    """x's rows into a rows-last stack slot (width, n_max), zeros after them: what `pad_rows` gives, transposed."""
    slot[:, : len(x)] = x.T
    slot[:, len(x) :] = 0.0


def out_of_fold(fold_preds: list, folds, n_rows: int) -> torch.Tensor:
    """(n_rows[, k]) each row's prediction by the folds that validated it, averaged where repeats validate a row more
    than once; NaN for a row no fold validated."""
    shape = (n_rows, *fold_preds[0].shape[1:])  # (n_train,) or (n_train, k)
    total, count = torch.zeros(shape), torch.zeros(n_rows)
    for pred, (_, valid_idx) in zip(fold_preds, folds):
        total[valid_idx] += pred
        count[valid_idx] += 1
    count = count.view(-1, *[1] * (len(shape) - 1))  # broadcast over classes
    return torch.where(count > 0, total / count.clamp(min=1), torch.tensor(float("nan")))


def constant_scores(task, y: torch.Tensor, folds) -> list[float]:
    """Each fold's score of one prediction for every validation row, learned from its training rows alone: the class
    shares (the commonest class, where a label is scored), or the mean target (the median where the metric takes
    absolute errors). The floor a model clears by learning anything from the features: a trial's user could not
    tell whether accuracy 0.969 was good where 0.729 of the rows were one class."""
    scores = []
    for train_idx, valid_idx in folds:
        fit = y[train_idx]
        if task.metric.loss == "balanced" and task.kind == "multiclass":  # its best constant: every class alike
            one = torch.full((task.width,), 1 / task.width, dtype=torch.float64)  # (k,) (the shares would score worse)
        elif task.metric.loss == "balanced":  # binary: the positive class's probability
            one = torch.tensor(0.5, dtype=torch.float64)
        elif task.kind == "multiclass":
            one = torch.bincount(fit, minlength=task.width).double() / len(fit)  # (k,)
        else:
            one = fit.double().median() if constant_of(task) == "median" else fit.double().mean(dim=0)  # () or (k,)
        pred = one.float().expand(len(valid_idx), *one.shape)
        scores.append(task.score(pred, y[valid_idx]))
    return scores


def constant_of(task) -> str:
    """What constant_scores predicts for every row, in words."""
    if task.kind in ("binary", "multiclass"):
        return "equal class shares" if task.metric.loss == "balanced" else "class shares"
    if task.kind == "multilabel":
        return "columns' shares"
    return "median" if task.metric.loss == "mae" or task.metric.name in ("mape", "smape") else "mean"


def _model_result(fold_preds: list, test_preds: list, losses: list, y: torch.Tensor, folds, task) -> ModelResult:
    """Out-of-fold predictions (averaged where repeats validate a row more than once) and fold scores."""
    oof = out_of_fold(fold_preds, folds, len(y))
    test_pred = torch.stack(test_preds).mean(dim=0)  # (n_test[, k]) mean over folds
    scores = [task.score(pred, y[valid_idx]) for pred, (_, valid_idx) in zip(fold_preds, folds)]
    return ModelResult(oof, test_pred, scores, losses, fold_preds)


def ensemble(results: dict, y: torch.Tensor, folds, task, method: str = "mean", repeats: int = 1) -> ModelResult:
    """The models' predictions combined (probabilities per class, or values; each model already a mean
    over its seeds), scored fold by fold: their mean, or with method "select" weights chosen for each fold
    on the other folds of its repeat and for the full fit on every fold (kit.ensemble)."""
    # one thread, as in cross_validate, also where the models were reused rather than trained now: the choice's
    # passes over all rows ran 2x slower on two threads beside a busy core (bank churn's 165,000 rows under roc_auc:
    # a reused CV 20.7 s, 8.5 s on one), and a sum's bits would depend on the thread count
    with torch_threads(1):
        return _ensemble(results, y, folds, task, method, repeats)


def _ensemble(results: dict, y: torch.Tensor, folds, task, method: str, repeats: int) -> ModelResult:
    if not results:
        raise ValueError("an ensemble needs at least one model")
    oofs = [r.oof for r in results.values()]
    tests = [r.test_pred for r in results.values()]
    if len({o.shape for o in oofs}) != 1 or len({t.shape for t in tests}) != 1:
        raise ValueError("ensemble members disagree on the number of rows")
    if method == "select":
        return _selected(results, y, folds, task, repeats)
    if all(r.fold_preds for r in results.values()):
        fold_preds = [torch.stack(preds).mean(dim=0) for preds in zip(*(r.fold_preds for r in results.values()))]
        return _model_result(fold_preds, tests, [], y, folds, task)
    oof = torch.stack(oofs).mean(dim=0)  # (n_train[, k])
    return ModelResult(oof, torch.stack(tests).mean(dim=0), _fold_scores(oof, y, folds, task))


def _selected(results: dict, y: torch.Tensor, folds, task, repeats: int) -> ModelResult:
    """The ensemble with weights chosen by greedy selection: each fold's on its held-out folds, the full fit's on all.

    A single fold (the random split) has no other fold to choose on: each half of its rows is weighed by the
    weights chosen on the other half (kit.train.halves), the full fit by those chosen on all its rows.
    """
    names = list(results)
    by_fold = list(zip(*(results[m].fold_preds for m in names)))  # per fold, each model's predictions of its rows
    if not all(by_fold) or len(by_fold) != len(folds):
        raise ValueError("choosing ensemble weights needs every model's out-of-fold predictions")

    def chosen_on(fold_ids: list[int], part=slice(None)) -> dict:  # part: of a single fold's rows
        preds = [torch.cat([by_fold[g][i][part] for g in fold_ids]) for i in range(len(names))]
        targets = [y[folds[g][1]][part] for g in fold_ids]
        weights = select_weights(preds, torch.cat(targets), task, groups=[len(t) for t in targets])
        return dict(zip(names, weights))

    full = chosen_on(list(range(len(folds))))
    if len(folds) == 1:
        parts = halves(len(folds[0][1]))
        fold_weights = [chosen_on([0], parts[1]), chosen_on([0], parts[0])]  # each half's, chosen on the other
        pred = by_fold[0][0].clone()  # (n_valid[, k]) filled half by half
        for part, w in zip(parts, fold_weights):
            pred[part] = combine([p[part] for p in by_fold[0]], list(w.values()))
        fold_preds = [pred]
    else:
        fold_weights = [chosen_on(fold_ids) for fold_ids in held_out_sets(len(folds), repeats)]
        fold_preds = [combine(list(preds), list(w.values())) for preds, w in zip(by_fold, fold_weights)]
    test_pred = combine([results[m].test_pred for m in names], list(full.values()))
    result = _model_result(fold_preds, [test_pred], [], y, folds, task)
    result.weights, result.fold_weights = full, fold_weights
    return result


def _fold_scores(oof: torch.Tensor, y: torch.Tensor, folds, task) -> list[float]:
    return [task.score(oof[valid_idx], y[valid_idx]) for _, valid_idx in folds]


def fit_full(
    spec, train, test, y: torch.Tensor, plan: Plan, task, epochs: dict | None = None, weights=None, progress=None
):
    """Fit the recipe and every model and seed on all training rows; return (test_pred, state).

    epochs: model -> epochs chosen by CV, overriding the plan's. weights: model -> its weight in the
    ensemble, as CV chose them (kit.ensemble); None: the mean. test_pred is the ensemble's prediction,
    each model a mean over its seeds, (n_test,) or (n_test, k). progress, if given: (model done, on_epoch), the
    callbacks cross_validate takes.
    """
    preds, state = fit_full_models(spec, train, test, y, plan, task, epochs, progress)
    with torch_threads(1):  # as the fits: the mean's bits the same whatever the thread count
        return combine([preds[m] for m in plan.models], [weights[m] for m in plan.models] if weights else None), state


def fit_full_models(spec, train, test, y: torch.Tensor, plan: Plan, task, epochs: dict | None = None, progress=None):
    """`fit_full`'s models before they are combined: (model -> its test prediction, a mean over its seeds, state)."""
    with torch_threads(1):  # as in cross_validate
        return _fit_full(spec, train, test, y, plan, task, epochs, progress or (None, None))


def _fit_full(spec, train, test, y, plan, task, epochs, progress) -> tuple:
    done, on_epoch = progress
    device = resolve_device(plan.device)
    state, x_train = fit_apply(spec, train)
    x_train = x_train[None].to(device)  # (1, n_train, n_features): one fold, all rows
    # test rows are never fit rows, whatever their ids: files that number their rows (row_ids) share every id, and
    # a test row would read its namesake training row's rate without its own label, and its count
    x_test = apply_recipe(spec, without_per_row(state), test)[None].to(device)  # (1, n_test, n_features)
    mask = torch.ones(1, len(y), device=device)  # (1, n_train)
    y_train = y[None].to(device)  # (1, n_train)
    shuffled = len(y) > RUN_ROWS  # large: the rows put in an order once for every model, as CV's folds are
    if shuffled:
        x_train, y_train, mask = shuffle_once(x_train, y_train, mask)
    settings = {name: plan.training.settings(name) for name in plan.models}
    for name, n in (epochs or {}).items():
        if name in settings:
            settings[name] = replace(settings[name], epochs=n)

    def train_model(name: str) -> torch.Tensor:
        said = partial(on_epoch, name, settings[name].epochs) if on_epoch else None
        fitted = fit(
            settings[name], task, x_train, y_train, mask, seeds=plan.seed_list(), shuffled=shuffled, on_epoch=said
        )
        pred = predict(settings[name], task, fitted.params, x_test)[0].mean(dim=0).cpu()  # mean over seeds
        if on_epoch:
            on_epoch(name, settings[name].epochs, None)  # done
        if done:
            done(1)
        return task.within_training_range(pred, y)

    # side by side when large, as in cross_validate
    order, workers = training_schedule(settings, len(y), x_train.shape[2], task.width, plan.seeds, device)
    trained = dict(zip(order, run_each([partial(train_model, name) for name in order], workers)))
    return {name: trained[name] for name in plan.models}, state  # in the plan's order, which fit_full's mean takes


def paired_comparison(a: CVResult, b: CVResult) -> dict:
    """A minus B fold by fold, for each model both ran and for the ensembles; the folds must be the same.

    A win is a fold where A is better in the metric's direction (lower is better for rmse or log loss).
    Per entry: the mean difference, its standard deviation across folds, and how many folds A won,
    tied and lost. Judging a difference against its own spread is what makes the comparison honest.
    """
    pairs = {m: (a.models[m], b.models[m]) for m in a.models if m in b.models}
    pairs["ensemble"] = (a.ensemble, b.ensemble)
    out = {}
    for name, (ra, rb) in pairs.items():
        if len(ra.fold_scores) != len(rb.fold_scores):
            raise ValueError("a paired comparison needs the same folds on both sides")
        diffs = [x - y for x, y in zip(ra.fold_scores, rb.fold_scores)]
        out[name] = {
            "mean_diff": statistics.fmean(diffs),
            "std_diff": statistics.pstdev(diffs),
            "wins": sum(a.task.better(x, y) for x, y in zip(ra.fold_scores, rb.fold_scores)),
            "ties": sum(x == y for x, y in zip(ra.fold_scores, rb.fold_scores)),
            "losses": sum(a.task.better(y, x) for x, y in zip(ra.fold_scores, rb.fold_scores)),
        }
    return out
