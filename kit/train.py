"""Training: the settings (`Training`, resolved per model into `Settings`), the one `fit` and `predict`.

`fit` trains every fold and seed of one model at once, as a grid (kit.batched); a single model is
a grid of one. Each epoch: for each mini-batch (or the whole block), the task's loss over the
batch's rows, `backward`, one written-out optimiser step (kit.optim). With validation rows it also
records the validation loss of every model and the task's metric of each fold's seed-averaged
prediction after every epoch: the curves that show overfitting and that `best_epoch` chooses from.

Two presets: "article" gives the article's models exactly (its init constants, no bias on the
linear models, sigmoid, mean absolute error on probabilities, plain gradient descent with its
learning rates and epochs, full batch), which `kit reproduce` needs; "default" is kit's own: biases,
He initialisation, the loss the task calls for, Adam with a little weight decay, mini-batches on
large data, and for regression outputs put on the target's scale (each fold's target mean and
standard deviation, fixed). Any setting can be overridden, for all models or per model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import torch

from kit import smearing
from kit.batched import (
    RUN_ROWS,
    PackedRows,
    absolute_error_rows,
    batch_order,
    cross_entropy_rows,
    epoch_runs,
    init_grid,
    log_loss_rows,
    masked_mean,
    multilabel_log_loss_rows,
    run_of,
    shuffle_once,
    squared_error_rows,
)
from kit.memory import reuse_freed_blocks
from kit.models import MODELS, PRESETS, forward, forward_rows_first
from kit.optim import OPTIMIZERS, Optimizer, averaged, init_state, start_average, step
from kit.task import Task
from kit.threads import stop_asked, threads_for, torch_threads

LOSSES = ("task", "mae", "balanced")
# The loss each task trains with under loss = "task": per row, from raw outputs (kit.batched).
TASK_LOSS = {
    "binary": log_loss_rows,
    "multiclass": cross_entropy_rows,
    "multilabel": multilabel_log_loss_rows,
    "regression": squared_error_rows,
}


@dataclass(frozen=True)
class Settings:
    """How one model trains, every value resolved (see `Training` for what each means)."""

    model: str
    preset: str
    optimizer: str
    lr: float
    epochs: int
    batch_size: int  # 0: full batch
    weight_decay: float
    momentum: float
    hidden: tuple
    loss: str
    epoch_steps: int = 0  # at most this many steps an epoch (batches grow past batch_size); 0: no limit
    average: float = 0.0  # with mini-batches, the model is its weights averaged over about this many epochs; 0: none

    def opt(self) -> Optimizer:
        return Optimizer(self.optimizer, self.lr, self.weight_decay, self.momentum)

    @property
    def raw(self) -> bool:
        """The article's linear_raw: trained and predicting with no link, predictions clamped to [0, 1]."""
        return self.preset == "article" and MODELS[self.model].raw


# The article's learning rate, epochs and hidden sizes per model (fast.ai lesson 5).
ARTICLE = {"linear_raw": (0.2, 18, ()), "linear": (100.0, 30, ()), "nn": (20.0, 30, (20,)), "deep": (4.0, 30, (10, 10))}
# kit's hidden sizes under the default preset.
DEFAULT_HIDDEN = {"linear_raw": (), "linear": (), "nn": (32,), "deep": (32, 32)}


# Off in both presets: measured on five trial sets of 19,000-300,000 rows (BENCHMARKS.md, "Twenty-third pass"), the
# weights averaged over about an epoch's steps scored better CVs (insurance RMSLE 1.0251 -> 1.0243, steel plates AUC
# 0.8881 -> 0.8889, a 100,000-row Playground set 0.6841 -> 0.6863, each on 5 of 5 folds), but the hidden test rows
# did not follow where the fold models' mean predicts them (refit = false, the drafts'; that mean averages away the
# same noise): 1.0306 -> 1.0305, 0.8880 -> 0.8877, bank churn and card fraud the same; with a refit 1.0308 -> 1.0304
# and 0.8875 -> 0.8878. `average = 1` in [training] turns it on.
AVERAGE_EPOCHS = 0.0

# The default preset's most steps per epoch: above 32 x 1024 = 32,768 rows its batches grow with the
# rows. Measured on a 300,000-row synthetic Playground set (BENCHMARKS.md, "Batch size"): an epoch costs
# about the same at any batch of 1,024 rows or more (it is a pass over the data either way), and
# after 30 epochs batches of 7,500 rows scored as well as 1,024 (and as scikit-learn's logistic
# regression) while the larger nets overfit less.
EPOCH_STEPS = 32


def batch_rows(settings: Settings, n_rows: int) -> int:
    """Rows per step for a fold of `n_rows` rows: 0 (full batch) when the batches would hold them all.

    batch_size rows, or more when that would take more than settings.epoch_steps steps an epoch:
    then ceil(n_rows / epoch_steps), so an epoch is epoch_steps steps whatever the size of the data.
    """
    rows = settings.batch_size
    if rows and settings.epoch_steps:
        rows = max(rows, math.ceil(n_rows / settings.epoch_steps))
    return 0 if rows >= n_rows else rows


def preset_settings(preset: str, model: str) -> Settings:
    """A model's settings under a preset, before any override."""
    if preset == "article":
        lr, epochs, hidden = ARTICLE[model]
        return Settings(model, "article", "sgd", lr, epochs, 0, 0.0, 0.0, hidden, "mae")
    return Settings(
        model,
        "default",
        optimizer="adam",
        lr=0.01,
        epochs=100,
        batch_size=1024,  # full batch on small data (at most 1024 rows)
        epoch_steps=EPOCH_STEPS,  # larger batches on large data: see batch_rows
        average=AVERAGE_EPOCHS,
        weight_decay=1e-4,
        momentum=0.9,
        hidden=DEFAULT_HIDDEN[model],
        loss="task",
    )


@dataclass(frozen=True)
class Training:
    """Training settings as a definition's `[training]` table and the command line give them.

    None means "the preset's". lr, epochs and hidden take one value for every model or a dict
    {model name: value} (models not named keep the preset's).
    """

    preset: str = "default"  # "default" (kit's) or "article" (the article's models, exactly)
    optimizer: str | None = None  # "sgd" (plain gradient descent), "momentum" (heavy ball) or "adam"
    lr: float | dict | None = None  # learning rate
    epochs: int | dict | None = None  # passes over the training rows
    batch_size: int | None = None  # rows per step, shuffled each epoch; 0: full batch (also when >= the rows)
    # at most this many steps an epoch: on large data batches grow past batch_size; 0: no limit. A batch_size
    # given without it is taken as it is (epoch_steps 0); the default preset's 1024 grows (EPOCH_STEPS)
    epoch_steps: int | None = None
    weight_decay: float | None = None  # L2 for sgd and momentum, decoupled (AdamW) for adam
    momentum: float | None = None  # momentum's decay; adam's beta1
    hidden: int | dict | None = None  # per model, {nn = [32], deep = [64, 32]}; an int: every hidden layer's width
    # "task" (log loss, cross-entropy or squared error, as the task calls for), "mae", or "balanced": the task's log
    # loss with each class's rows weighed 1 / (classes x its share), as a balanced log loss scores them
    loss: str | None = None
    # with mini-batches, the model is its weights averaged over about this many epochs of steps (an exponential
    # moving average, kit.optim.start_average); 0: the last step's weights
    average: float | None = None

    def __post_init__(self):
        if self.preset not in PRESETS:
            raise ValueError(f"preset {self.preset!r} is not one of {', '.join(PRESETS)}")
        if self.optimizer is not None and self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer {self.optimizer!r} is not one of {', '.join(OPTIMIZERS)}")
        if self.loss is not None and self.loss not in LOSSES:
            raise ValueError(f"loss {self.loss!r} is not one of {', '.join(LOSSES)}")
        for name in ("lr", "epochs", "hidden"):
            value = getattr(self, name)
            if isinstance(value, dict) and set(value) - set(MODELS):
                unknown = ", ".join(sorted(set(value) - set(MODELS)))
                raise ValueError(f"{name} names unknown model(s) {unknown}; the models are {', '.join(MODELS)}")
        for name, value in (("lr", self.lr), ("epochs", self.epochs)):
            for v in value.values() if isinstance(value, dict) else [value]:
                if v is not None and (isinstance(v, bool) or not isinstance(v, int | float) or v < 0):
                    raise ValueError(f"{name} must be a number >= 0, not {v!r}")
        if isinstance(self.hidden, list | tuple):
            raise ValueError("give hidden sizes per model, e.g. hidden = { nn = [32], deep = [64, 32] }")
        for v in self.hidden.values() if isinstance(self.hidden, dict) else [self.hidden]:
            sizes = [v] if isinstance(v, int) else v
            if v is not None and not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sizes):
                raise ValueError(f"hidden sizes must be whole numbers > 0, not {v!r}")
        average = self.average
        if average is not None and (isinstance(average, bool) or not isinstance(average, int | float) or average < 0):
            raise ValueError(f"average must be a number of epochs >= 0, not {average!r}")
        for name in ("batch_size", "epoch_steps"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise ValueError(f"{name} must be a whole number >= 0, not {value!r}")

    @classmethod
    def from_table(cls, table: dict) -> Training:
        """A `[training]` table as read from TOML; raises ValueError naming any key it does not know."""
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise ValueError(f"[training] has unknown key(s) {', '.join(unknown)}; use {', '.join(known)}")
        return cls(**table)

    def settings(self, model: str) -> Settings:
        """`model`'s settings: the preset's, then what this Training says for all models or for it."""
        base = preset_settings(self.preset, model)
        changes = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, dict):
                value = value.get(model)
            if value is None or f.name == "preset":
                continue
            if f.name == "hidden":
                value = (value,) * len(base.hidden) if isinstance(value, int) else tuple(value)
            changes[f.name] = value
        if self.batch_size is not None and self.epoch_steps is None:
            changes["epoch_steps"] = 0  # a batch size asked for is the batch size
        return replace(base, **changes)


@dataclass
class Fit:
    """A trained grid: F folds x S seeds of one model."""

    params: dict  # stacked (F, S, ...), no grad, on the training device
    losses: torch.Tensor  # (F, S, epochs): the training loss of each epoch (at its start when full batch)
    valid_losses: torch.Tensor | None = None  # (F, S, epochs): the validation loss after each epoch
    valid_scores: torch.Tensor | None = None  # (F, epochs) float64, CPU: task metric of the seed-mean prediction
    each_epoch: list | None = None  # with keep_each_epoch: the params after epoch 1, 2, ... (dicts like params)

    def at_epochs(self, stop_at: list[int]) -> Fit:
        """The grid `fit` with stop_at=stop_at trains, taken from this one's epochs: the same bytes, no training.

        A fit's epochs do not depend on how many follow them, so fold f after stop_at[f] epochs of this
        fit is fold f of a fit that stops there (tested). Needs each_epoch.
        """
        params = {
            name: torch.stack([self.each_epoch[e - 1][name][f] for f, e in enumerate(stop_at)]) for name in self.params
        }
        return Fit(params, self.losses[:, :, : max(stop_at)])


def fit(
    settings: Settings,
    task: Task,
    x: torch.Tensor,
    y: torch.Tensor,
    mask: torch.Tensor,
    *,
    seeds: list[int],
    valid: tuple | None = None,
    shuffle_seed: int = 0,
    stop_at: list[int] | None = None,
    keep_each_epoch: bool = False,
    patience: int = 0,
    held_out: list[list[int]] | None = None,
    shuffled: bool = False,
    on_epoch=None,
) -> Fit:
    """Train one model per fold and seed at once; fold f, seed s is the grid of one fit on x[f:f+1].

    x: (F, n, n_in) float32, fold f's training rows first and zeros after; y: (F, n) targets as
    `task.target` gives them; mask: (F, n), 1.0 on each fold's own rows (kit.batched.pad_rows).
    valid: optional (x_valid (F, m, n_in), y_valid (F, m), mask_valid (F, m)), padded the same way.
    Mini-batches: fold f shuffles its rows each epoch with a generator seeded shuffle_seed + f. Folds of
    more than kit.batched.RUN_ROWS rows instead take runs of rows shuffled once (`epoch_runs`, offset and
    order drawn each epoch by the generator seeded shuffle_seed): fit shuffles a copy of x first, unless
    shuffled says the caller has (`kit.batched.shuffle_once`: each fold's rows, padding spread among them,
    x stored rows first, y and mask in the same order), which costs no copy at all.
    stop_at: optional epochs per fold; fold f's models are kept as they were after stop_at[f] epochs
    (the grid trains max(stop_at) epochs in lockstep; settings.epochs is ignored).
    keep_each_epoch: keep a copy of the params after every epoch (`Fit.each_epoch`, `Fit.at_epochs`).
    patience: with valid, stop before settings.epochs once neither the curves epochs are chosen from nor the
    validation loss has improved for this many epochs (`_Curves.stalled`); the Fit then holds the epochs
    trained. 0: every epoch. held_out: for each fold, the folds its epochs are chosen on (`held_out_sets`);
    by default every other fold.
    on_epoch: called with the epochs trained after each (a progress bar's note).
    All tensors on the device to train on.
    """
    if stop_at is not None:
        settings = replace(settings, epochs=max(stop_at))
    reuse_freed_blocks()
    # a small grid trains on one thread: faster on a busy machine, and the same bytes whatever the thread count;
    # with mini-batches each step's matmuls are a batch's rows, however many rows the folds hold
    rows = batch_rows(settings, x.shape[1]) or x.shape[1]
    with torch_threads(threads_for(rows, x.shape[2], x.shape[0] * len(seeds)), x.device):
        return _fit(settings, task, x, y, mask, seeds, valid, shuffle_seed, stop_at, keep_each_epoch, patience,
                    held_out, shuffled, on_epoch)  # fmt: skip


def _fit(
    settings, task, x, y, mask, seeds, valid, shuffle_seed, stop_at, keep_each_epoch, patience, held_out, shuffled,
    on_epoch=None,
) -> Fit:  # fmt: skip
    n_folds, n_max, n_in = x.shape
    epochs = settings.epochs
    n_rows = [int(n) for n in mask.sum(dim=1).tolist()]
    batch = batch_rows(settings, max(n_rows))
    mini = 0 < batch < n_max
    runs = mini and n_max > RUN_ROWS  # batches as runs of rows shuffled once: see kit.batched.RUN_ROWS
    if not runs and isinstance(x, PackedRows):  # the rows read otherwise than in runs: as the float32 they stand for
        x = x.dense()
    if runs and not shuffled:  # first: everything below sees the rows in one order, whoever shuffled them
        x, y, mask = shuffle_once(x, y, mask, shuffle_seed)
    model = MODELS[settings.model]
    params = init_grid(
        model, n_in, task.width, seeds, n_folds, hidden=settings.hidden, preset=settings.preset, device=x.device
    )
    if task.kind == "regression" and settings.preset == "default":
        params |= _target_scale(y, mask, len(seeds))
    opt = settings.opt()
    params, state = init_state(opt, params)  # trainable tensors now views into one block: see kit.optim
    if settings.average and mini:  # the model is the average of its weights over about settings.average epochs
        start_average(state, settings.average * math.ceil(n_max / batch))

    def model() -> dict:
        """The parameters the fit keeps, scores and predicts with: the running average's, or the last step's."""
        return averaged(state, params) if "average" in state else params

    # the rows' weights in the loss: the mask itself, or under loss "balanced" each row's class weight within it
    weight = _class_weights(task, y, mask) if settings.loss == "balanced" else None  # (F, n) or None
    loss_mask = mask if weight is None else mask * weight
    gens = [torch.Generator().manual_seed(shuffle_seed + f) for f in range(n_folds)]
    losses = torch.zeros(n_folds, len(seeds), epochs, device=x.device)  # (F, S, epochs)
    curves = _Curves(settings, task, valid, len(seeds), epochs) if valid is not None else None
    kept = {}  # fold -> its params after stop_at[fold] epochs
    each_epoch = [] if keep_each_epoch else None
    # every epoch's snapshot in one block per parameter, allocated now: thousands of small copies made between a
    # step's large temporaries fragmented the heap, which grew by 50 MB over 160 epochs of a 250,000-row deep net
    kept_store = (
        {name: p.detach().new_empty((epochs, *p.shape)) for name, p in params.items()} if keep_each_epoch else {}
    )
    if runs:
        fold_rows = mask.sum(dim=1)  # (F,)
        # x is stored rows first: each batch is rows side by side, as the first layer's weight gradient reads them
        # (x_batch.T @ grad). Measured on 240,000-row folds (BENCHMARKS.md, "Sixteenth pass"), an epoch of nn took
        # 25 % less and deep 15 % less than with rows-last storage.
        # The activations too where a hidden layer of 16 units or more feeds another (kit.models.forward_rows_first).
        # Measured on the same folds ("Seventeenth pass"): an epoch of deep (32 x 32) took 15-20 % less, a step of
        # 16 x 16 7 % less, 64 x 64 13 %, but 10 x 10 (the article's) 28 % more; nn's and linear's (products to 32
        # units or to one output) as long or longer, and so did forward passes alone (the curves, predict), so they
        # keep rows last.
        rows_first = len(settings.hidden) >= 2 and min(settings.hidden) >= 16
    elif mini:
        # Batches gather whole rows (n_in floats side by side) from one (F * n, n_in) table: gathering
        # them from rows-last storage would read one float per cache line, 10x slower on 240,000 rows.
        table = x.contiguous().view(n_folds * n_max, n_in)  # no copy when x is stored rows-first
        first_row = (torch.arange(n_folds, device=x.device) * n_max)[:, None]  # (F, 1) fold f's offset
    else:
        xt = x.transpose(1, 2).contiguous()  # (F, n_in, n): rows last, see kit.models
    for epoch in range(epochs):
        if stop_asked():  # models training beside this one failed or were interrupted (kit.threads.run_each)
            raise KeyboardInterrupt
        if runs:
            for start, stop in epoch_runs(n_max, batch, gens[0]):
                # (F, b, n_in): a view of a float32 x, a new tensor of a packed one (kit.batched.PackedRows); the two
                # may differ in the products' last bits (a view's folds lie n rows apart), each the same run to run
                xb, rows_mask = run_of(x, start, stop, 1), run_of(mask, start, stop, 1)  # (F, b, n_in), (F, b)
                z = forward_rows_first(params, xb) if rows_first else forward(params, xb.transpose(1, 2))  # (F, S, b)
                loss = _loss(settings, task, z, run_of(y, start, stop, 1), run_of(loss_mask, start, stop, 1))  # (F, S)
                loss.sum().backward()
                step(opt, state)
                losses[:, :, epoch] += loss.detach() * (rows_mask.sum(dim=1) / fold_rows)[:, None]
        elif not mini:
            loss = _loss(settings, task, forward(params, xt), y, loss_mask)  # (F, S)
            # The models share no parameter, so the gradient of the sum is each model's own gradient.
            loss.sum().backward()
            step(opt, state)
            losses[:, :, epoch] = loss.detach()  # kept on the device: no sync per epoch
        else:
            index, batch_mask = batch_order(n_rows, batch, gens, x.device)
            # the epoch's loss: each batch's mean weighted by its share of the fold's rows
            shares = batch_mask.sum(dim=2) / mask.sum(dim=1)[:, None]  # (F, n_batches)
            for b in range(index.shape[1]):
                rows, rows_mask = index[:, b], batch_mask[:, b]  # (F, per_batch)
                xb = table.index_select(0, (rows + first_row).view(-1)).view(n_folds, -1, n_in)  # (F, per_batch, n_in)
                # rows last as a transposed view: bmm reads it as it is, no copy (and the same bytes as one)
                xb = xb.transpose(1, 2)  # (F, n_in, per_batch)
                batch_weight = rows_mask if weight is None else rows_mask * weight.gather(1, rows)  # (F, per_batch)
                loss = _loss(settings, task, forward(params, xb), _rows_of(y, rows), batch_weight)  # (F, S)
                loss.sum().backward()
                step(opt, state)
                losses[:, :, epoch] += loss.detach() * shares[:, b, None]
            del index, batch_mask, rows, rows_mask  # before the next epoch's are made
        now = model() if curves is not None or stop_at or each_epoch is not None else None
        if curves is not None:
            curves.record(epoch, now)
        for f in [f for f, e in enumerate(stop_at or []) if e == epoch + 1 and e < epochs]:
            kept[f] = {name: p[f].detach().clone() for name, p in now.items()}  # fold f is done
        if each_epoch is not None:
            each_epoch.append({name: kept_store[name][epoch].copy_(p.detach()) for name, p in now.items()})
        if on_epoch is not None:
            on_epoch(epoch + 1)
        if patience and curves is not None and curves.stalled(epoch, patience, held_out):
            losses = losses[:, :, : epoch + 1]  # the epochs trained
            curves.keep(epoch + 1)
            break
    final = {name: p.detach() for name, p in model().items()}
    for f, snapshot in kept.items():
        for name, p in snapshot.items():
            final[name][f] = p
    done = Fit(final, losses, each_epoch=each_epoch)
    if curves is not None:
        done.valid_losses, done.valid_scores = curves.losses, curves.scores
    return done


def _class_weights(task: Task, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Each row's weight under a balanced loss, (F, n): 1 / (classes x its class's share of the fold's rows), so
    that every class's rows weigh as much in all and the rows' mean weight is 1; a class a fold lacks weighs 0.

    y: (F, n) the class of each row (binary: 0 or 1); mask: (F, n) the fold's rows."""
    if task.kind not in ("binary", "multiclass"):
        raise ValueError(f"a balanced loss weighs classes, which a {task.kind} task has none of")
    k = 2 if task.kind == "binary" else task.width
    classes = y.long().clamp(0, k - 1)  # (F, n); padding rows (mask 0) may hold anything
    counts = torch.zeros(y.shape[0], k, dtype=mask.dtype, device=y.device).scatter_add_(1, classes, mask)  # (F, k)
    held = (counts > 0).sum(dim=1, keepdim=True)  # (F, 1) the classes the fold holds
    per_class = mask.sum(dim=1, keepdim=True) / (held * counts.clamp(min=1))  # (F, k) rows / (classes x rows of c)
    return per_class.gather(1, classes)  # (F, n)


def _rows_of(y: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """The targets of a batch's rows: y (F, n) or (F, n, k) (multilabel), rows (F, b) -> (F, b) or (F, b, k)."""
    return y.gather(1, rows) if y.dim() == 2 else y.gather(1, rows[:, :, None].expand(-1, -1, y.shape[2]))


def _target_scale(y: torch.Tensor, mask: torch.Tensor, n_seeds: int) -> dict:
    """Each fold's target mean and standard deviation, as fixed `shift` and `scale` (F, S) of its models.

    The models then learn outputs of size ~1 whatever the target's units: with a target in the
    thousands, Adam (whose steps are ~lr in size) would otherwise need thousands of steps to reach it.
    """
    n_rows = mask.sum(dim=1)  # (F,)
    mean = (y * mask).sum(dim=1) / n_rows  # (F,)
    std = (((y - mean[:, None]) ** 2 * mask).sum(dim=1) / n_rows).sqrt().clamp(min=1e-6)  # (F,)
    return {
        "scale": std[:, None].expand(-1, n_seeds).contiguous(),  # (F, S)
        "shift": mean[:, None].expand(-1, n_seeds).contiguous(),
    }


# Rows go through a forward pass with no gradient (the curves, predict) this many at a time: activations
# of a few megabytes stay in cache and memory stays bounded, where 60,000 rows x 32 units x every
# model at once would not.
ROW_CHUNK = 8192


class _Curves:
    """Validation loss and metric after each epoch, computed on the grid with no gradient.

    Each epoch costs one forward pass over the validation rows, chunk by chunk, and one copy of the
    seed-mean predictions to the CPU (a single sync on a GPU), where each fold is scored.
    """

    def __init__(self, settings: Settings, task: Task, valid: tuple, n_seeds: int, epochs: int):
        x, self.y, self.mask = valid
        self.settings, self.task = settings, task
        self.xt = x.transpose(1, 2).contiguous()  # (F, n_in, m): no copy when x is a view of rows-last storage
        self.n_rows = [int(n) for n in self.mask.sum(dim=1).tolist()]
        self.y_cpu = self.y.cpu()
        self.losses = torch.zeros(len(self.n_rows), n_seeds, epochs, device=x.device)  # (F, S, epochs)
        self.scores = torch.zeros(len(self.n_rows), epochs, dtype=torch.float64)  # (F, epochs)

    @torch.no_grad()
    def record(self, epoch: int, params: dict) -> None:
        n_folds, _, m = self.xt.shape
        total, pred = None, None
        for start in range(0, m, ROW_CHUNK):
            part = slice(start, start + ROW_CHUNK)
            z = forward(params, self.xt[:, :, part])  # (F, S, chunk) or (F, S, chunk, k)
            rows = _loss_rows(self.settings, self.task, z, self.y[:, part]) * self.mask[:, None, part]  # (F, S, chunk)
            total = rows.sum(dim=2) if total is None else total + rows.sum(dim=2)  # (F, S)
            mean = _predictions(self.settings, self.task, z).mean(dim=1)  # (F, chunk[, k]) mean over seeds
            if pred is None:
                pred = mean.new_empty((n_folds, m, *mean.shape[2:]))  # (F, m[, k])
            pred[:, part] = mean
        self.losses[:, :, epoch] = total / self.mask.sum(dim=1).clamp(min=1)[:, None]  # as masked_mean gives
        pred = pred.cpu()
        # a log target's values are scaled back to its mean after CV (kit.smearing): its curves score them so
        score = smearing.score_when_scaled if smearing.applies(self.task) else type(self.task).score
        for f, n in enumerate(self.n_rows):
            self.scores[f, epoch] = score(self.task, pred[f, :n], self.y_cpu[f, :n])

    def stalled(self, epoch: int, patience: int, held_out: list[list[int]] | None = None) -> bool:
        """True once neither the curves an epoch count is chosen from nor the validation loss has improved
        for `patience` epochs.

        Those curves: each fold's held-out curve (the mean of the folds in `held_out`, by default every other
        fold; `held_out_best_epochs`) and the mean of all folds (the full-data fit's, `best_epoch`); training
        past this point could change a choice only if a curve improved again after `patience` epochs without.
        The loss (the mean over folds
        and seeds) keeps a plateau of the metric from stopping a model still learning: accuracy can stay at
        the majority rate for a dozen one-step epochs of a small full-batch fit while its loss falls.
        """
        trained = epoch + 1
        if trained <= patience:
            return False
        loss = self.losses[:, :, :trained].mean(dim=(0, 1)).cpu()  # (trained,)
        if trained - (int(loss.argmin()) + 1) < patience:
            return False
        scores = self.scores[:, :trained]  # (F, trained)
        n_folds = scores.shape[0]
        if held_out is None:
            held_out = [[g for g in range(n_folds) if g != f] for f in range(n_folds)] if n_folds > 1 else []
        chosen_from = [None, *held_out]
        return all(trained - best_epoch(scores, self.task, folds) >= patience for folds in chosen_from)

    def keep(self, epochs: int) -> None:
        """Keep the first `epochs` epochs of the curves: the epochs trained when training stopped early."""
        self.losses, self.scores = self.losses[:, :, :epochs], self.scores[:, :epochs]


def _loss(settings: Settings, task: Task, z: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Each model's loss over its rows, (F, S): the task's loss from raw outputs, or MAE on predictions."""
    return masked_mean(_loss_rows(settings, task, z, y), mask)


def _loss_rows(settings: Settings, task: Task, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The loss of each model on each row, (F, S, n)."""
    if settings.loss == "mae":
        return absolute_error_rows(_link(settings, task, z), y)
    return TASK_LOSS[task.kind](z, y)


def _link(settings: Settings, task: Task, z: torch.Tensor) -> torch.Tensor:
    return z if settings.raw else task.link(z)


def _predictions(settings: Settings, task: Task, z: torch.Tensor) -> torch.Tensor:
    pred = _link(settings, task, z)
    return pred.clamp(0, 1) if settings.raw else pred


def predict(settings: Settings, task: Task, params: dict, x: torch.Tensor) -> torch.Tensor:
    """Predictions of every model of the grid on its fold's rows, in the task's form.

    x: (F, n, n_in). Returns (F, S, n) (probabilities of the positive class, or values) or
    (F, S, n, k) class probabilities. The article's linear_raw's outputs are clamped to [0, 1].
    """
    n_models = next(iter(params.values())).shape[:2].numel()  # F * S
    xt = x.transpose(1, 2)  # (F, n_in, n): a view, no copy
    rows = min(x.shape[1], ROW_CHUNK)  # the rows of each matmul
    with torch.no_grad(), torch_threads(threads_for(rows, x.shape[2], n_models), x.device):
        # ROW_CHUNK rows at a time: the activations of every model on a large test set never exist at once
        parts = [
            _predictions(settings, task, forward(params, xt[:, :, start : start + ROW_CHUNK].contiguous()))
            for start in range(0, max(x.shape[1], 1), ROW_CHUNK)
        ]
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=2)


# ---- epochs chosen by validation ---------------------------------------------------------------


def best_epoch(scores: torch.Tensor, task: Task, folds: list[int] | None = None) -> int:
    """The number of epochs whose mean validation score across `folds` (all by default) is best.

    scores: (F, epochs), `Fit.valid_scores`; column e is the score after e + 1 epochs. The earliest
    epoch wins a tie. Scores on the folds it was chosen on flatter that epoch: see `held_out_best_epochs`.
    """
    scores = torch.as_tensor(scores, dtype=torch.float64)
    mean = (scores if folds is None else scores[folds]).mean(dim=0)  # (epochs,)
    best = mean.argmax() if task.greater_is_better else mean.argmin()  # the first of equal values
    return int(best) + 1


def held_out_sets(n_folds: int, repeats: int = 1) -> list[list[int]]:
    """For each fold, the folds its epochs are chosen on: the other folds of its own repeat.

    Folds come repeat by repeat (kit.validation.split_indices) and each repeat validates every row once,
    so another repeat's folds validate this fold's own rows: only its own repeat's other folds are
    disjoint from them. A repeat of a single fold (the random split) has no such fold, so there each is
    chosen on all the others, which share about a fifth of its rows.
    """
    per_repeat = n_folds // max(repeats, 1)
    if per_repeat < 2 or n_folds % per_repeat:
        return [[g for g in range(n_folds) if g != f] for f in range(n_folds)]
    return [[g for g in range(f - f % per_repeat, f - f % per_repeat + per_repeat) if g != f] for f in range(n_folds)]


def halves(n: int) -> list[torch.Tensor]:
    """A single fold's n validation rows as two halves, by alternate positions (the random split's rows come in a
    shuffled order). With no other fold to choose on, each half's ensemble weights, cut-points or scale are chosen
    on the other half, as a fold's are on the other folds (`held_out_sets`), so its score is of a choice its rows
    took no part in; the full fit's is chosen on all n."""
    return [torch.arange(0, n, 2), torch.arange(1, n, 2)]


def held_out_best_epochs(scores: torch.Tensor, task: Task, repeats: int = 1) -> tuple[list[int], list[float]]:
    """For each fold, the epoch chosen on the other folds' curves of its repeat and this fold's score at it.

    Each fold's score is then of an epoch its own rows took no part in choosing (`held_out_sets`): an
    honest estimate of what choosing the epoch by CV gives. Needs two folds or more.
    """
    scores = torch.as_tensor(scores, dtype=torch.float64)
    n_folds = scores.shape[0]
    if n_folds < 2:
        raise ValueError("choosing an epoch on other folds needs two folds or more")
    chosen = [best_epoch(scores, task, folds) for folds in held_out_sets(n_folds, repeats)]
    return chosen, [float(scores[f, e - 1]) for f, e in enumerate(chosen)]
