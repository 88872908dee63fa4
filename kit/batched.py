"""The grid's plumbing: folds padded into one tensor, parameters stacked, masked losses, mini-batches.

Each (fold, seed) pair is an independent model with its parameters stacked along two leading
axes, (F, S, ...). A fold's training rows are one block of a padded (F, n_max, n_in) tensor, and a
0/1 row mask keeps the padding out of its loss; the S models of a fold share that block, so each
layer costs one matmul per fold rather than one per model (kit.models.forward). Every model's loss
is its own mean over its own rows, so the gradient of their sum is each model's own gradient.
"""

from __future__ import annotations

import math

import torch

from kit import KitError
from kit.models import Model


def resolve_device(name: str) -> torch.device:
    """torch.device for "cpu", "cuda" or "cuda:N", refusing CUDA when torch cannot see a GPU."""
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise KitError(
            f"device {name} was asked for, but torch sees no CUDA GPU (torch {torch.__version__})", fix="device_cpu"
        )
    try:
        return torch.device(name)
    except RuntimeError as e:
        raise KitError(f"unknown device {name!r}; use cpu or cuda.") from e


def pad_rows(blocks: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack blocks of different row counts, (n_f, ...) each, into (F, n_max, ...) padded with zeros.

    Returns (stacked, mask): mask is (F, n_max) float, 1.0 on a block's own rows and 0.0 on padding.
    """
    n_max = max(len(b) for b in blocks)
    stacked = blocks[0].new_zeros((len(blocks), n_max, *blocks[0].shape[1:]))  # (F, n_max, ...)
    mask = blocks[0].new_zeros((len(blocks), n_max), dtype=torch.float32)  # (F, n_max)
    for f, block in enumerate(blocks):
        stacked[f, : len(block)] = block
        mask[f, : len(block)] = 1.0
    return stacked, mask


def init_grid(
    model: Model, n_in: int, width: int, seeds: list[int], n_folds: int, *, hidden: tuple, preset: str, device=None
) -> dict:
    """Each seed's initialisation, drawn by a CPU generator seeded with it, repeated for every fold.

    Drawn on the CPU, then moved: a seed starts from the same numbers on every device.
    Returns params stacked (F, S, ...), leaf tensors that require grad, on `device`.
    """
    per_seed = [
        model.init(n_in, width, torch.Generator().manual_seed(seed), hidden=hidden, preset=preset) for seed in seeds
    ]
    params = {}
    for name in per_seed[0]:
        stacked = torch.stack([p[name] for p in per_seed])  # (S, ...)
        grid = stacked.expand(n_folds, *stacked.shape).contiguous()  # (F, S, ...), one copy per fold
        params[name] = grid.to(device).requires_grad_()
    return params


# ---- losses: per row, then each model's mean over its own rows -----------------------------------
# z: raw outputs (F, S, n) or (F, S, n, k); pred: the same after the task's link; y: (F, n) targets,
# floats (0/1 or values) or class indices for (F, S, n, k). Each returns (F, S, n).


def log_loss_rows(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Binary log loss from logits: -(y log sigmoid(z) + (1 - y) log sigmoid(-z)).

    Written as max(z, 0) - z y + log(1 + exp(-|z|)), which never overflows: exp only sees -|z|.
    """
    return z.clamp(min=0) - z * y[:, None] + torch.log1p(torch.exp(-z.abs()))


def multilabel_log_loss_rows(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Multilabel: each target column's binary log loss from its logit, averaged over the k columns.

    z (F, S, n, k), y (F, n, k) of 0/1 -> (F, S, n); the mean, not the sum, keeps the loss (and the step
    a learning rate makes) the size of one binary task's whatever k is.
    """
    return log_loss_rows(z, y).mean(dim=-1)


def cross_entropy_rows(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Multiclass cross-entropy from logits: -log softmax(z)[true class], via logsumexp (stable)."""
    log_p = z - torch.logsumexp(z, dim=-1, keepdim=True)  # (F, S, n, k) log-softmax
    index = y[:, None, :, None].expand(*z.shape[:-1], 1)  # (F, S, n, 1) the true class of each row
    return -log_p.gather(-1, index)[..., 0]


def squared_error_rows(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (z - y[:, None]) ** 2


def absolute_error_rows(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The article's loss, on predictions (probabilities or values); for k classes, summed over them;
    for k target columns (y (F, n, k)), averaged over them."""
    if y.dim() == 3:
        return (pred - y[:, None]).abs().mean(dim=-1)
    if pred.dim() == 4:
        one_hot = (y[..., None] == torch.arange(pred.shape[-1], device=y.device)).to(pred.dtype)  # (F, n, k)
        return (pred - one_hot[:, None]).abs().sum(dim=-1)
    return (pred - y[:, None]).abs()


def masked_mean(per_row: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Each model's mean over its own fold's rows: per_row (F, S, n), mask (F, n) -> (F, S)."""
    n_rows = mask.sum(dim=1).clamp(min=1)  # (F,) a batch with none of a fold's rows counts 0, not NaN
    return (per_row * mask[:, None]).sum(dim=2) / n_rows[:, None]


# ---- mini-batches --------------------------------------------------------------------------------


def batch_order(
    n_rows: list[int], batch_size: int, gens: list[torch.Generator], device=None
) -> tuple[torch.Tensor, torch.Tensor]:
    """One epoch's mini-batches for every fold: each fold's rows shuffled by its own generator.

    Every fold takes the same number of steps, ceil(n_max / batch_size), so the grid moves in
    lockstep; fold f deals its shuffled rows out in turn, so its batches differ by at most one row.
    Returns (index, mask), both (F, n_batches, rows_per_batch): row numbers into the fold's block,
    and 1.0 where a slot holds a row (0.0 where a smaller fold has none to fill it), on `device`.
    The shuffles are drawn on the CPU (the same order on every device); the rest is built where it is used.
    """
    n_batches = math.ceil(max(n_rows) / batch_size)
    per_batch = math.ceil(max(n_rows) / n_batches)
    index = torch.full((len(n_rows), n_batches * per_batch), -1, dtype=torch.long, device=device)  # (F, slots)
    for f, (n, gen) in enumerate(zip(n_rows, gens)):
        index[f, :n] = torch.randperm(n, generator=gen).to(device)
    # dealt out in turn: batch b holds slots b, b + n_batches, ...; made contiguous so that each batch's
    # rows are side by side in memory (gathering with a strided index was a fifth of a linear model's step)
    index = index.view(len(n_rows), per_batch, n_batches).transpose(1, 2).contiguous()  # (F, n_batches, per_batch)
    mask = (index >= 0).float()
    return index.clamp_(min=0), mask  # in place: on 1,200,000 rows each copy is 10 MB


# ---- mini-batches on large folds: runs of rows shuffled once --------------------------------------
# Above this many rows a fold (padding included) takes its mini-batches as runs of rows that were put in a
# random order once, not as rows gathered afresh each epoch (batch_order). Gathering copied every row
# of every fold once an epoch, a pass over the data as large as the first layer's matmul: on the
# 300,000-row Playground case (BENCHMARKS.md, "Seventh pass") an epoch of linear took 67 against 138 ms,
# deep 352 against 383, and `kit cv` trained in 12.1 against 15.4 s, with the same CV accuracy (0.7168
# against 0.7165 for the ensemble). Below it the rows are few enough to fit in cache and a fresh shuffle
# each epoch is cheap (every competition kit ships trains there, as it did).
RUN_ROWS = 32_768


def shuffle_order(n_folds: int, n_max: int, seed: int = 0) -> torch.Tensor:
    """Each fold's slots in a random order of its own, (F, n_max) long, drawn by a generator seeded seed + f.

    Slot i of fold f holds its row order[f, i]; a number at or past the fold's row count is padding, so a
    fold's padding is spread at random among its rows and every run of slots holds its fair share of them.
    """
    return torch.stack(
        [torch.randperm(n_max, generator=torch.Generator().manual_seed(seed + f)) for f in range(n_folds)]
    )


def put_in_order(out: torch.Tensor, x: torch.Tensor, order: torch.Tensor) -> None:
    """out (n_max, n_in), a fold's slot, gets x (n, n_in)'s rows in `order` (n_max,), gathered straight into it.

    A padding slot (order >= n) takes a copy of the last row: the mask keeps it out of every loss, and no
    slot is left as uninitialised memory.
    """
    torch.index_select(x, 0, order.clamp(max=len(x) - 1), out=out)


def ordered_targets(y: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """A fold's targets y (n[, k]) for its slots in `order` (n_max,): a padding slot takes the last row's."""
    return y.index_select(0, order.clamp(max=len(y) - 1))


def shuffle_once(x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, seed: int = 0) -> tuple:
    """(x, y, mask) with each fold's rows in the order `shuffle_order` draws: a copy.

    x: (F, n, n_in) with fold f's n_f rows first (pad_rows); returns x (F, n, n_in), y (F, n[, k]) and
    mask (F, n) in the same order: what `kit.train.fit` takes with shuffled=True. Callers that build the
    stacks themselves (kit.validation) write them this way at once.
    """
    n_rows = [int(n) for n in mask.sum(dim=1).tolist()]
    order = shuffle_order(len(n_rows), x.shape[1], seed).to(x.device)  # (F, n)
    shuffled = torch.empty_like(x)  # (F, n, n_in)
    for f, n in enumerate(n_rows):
        put_in_order(shuffled[f], x[f, :n], order[f])
    y = torch.stack([ordered_targets(y[f, :n], order[f]) for f, n in enumerate(n_rows)])
    mask = (order < torch.tensor(n_rows, device=x.device)[:, None]).float()
    return shuffled, y, mask


def epoch_runs(n: int, batch_size: int, gen: torch.Generator) -> list[tuple[int, int]]:
    """One epoch's batches over n slots in a fixed shuffled order: (start, stop) of each, in the order taken.

    The slots, read as a circle, are cut into ceil(n / batch_size) runs of (nearly) equal length from a
    random offset, and the runs are taken in a random order: every slot once an epoch, batches that change
    from one epoch to the next, and each batch a slice of the stored rows, no copy (but the one run
    that wraps past the last slot, whose `stop` is then > n).
    """
    n_batches = math.ceil(n / batch_size)
    offset = int(torch.randint(n, (1,), generator=gen))
    bounds = [offset + i * n // n_batches for i in range(n_batches + 1)]
    runs = [(start % n, start % n + stop - start) for start, stop in zip(bounds, bounds[1:])]
    return [runs[i] for i in torch.randperm(n_batches, generator=gen).tolist()]


class PackedRows:
    """A large fold stack (F, n, n_in) held as its leading number features in float32 and its 0/1 features (one-hot
    levels, words) in one byte each. Its rows come back as the float32 rows they stand for, the same values, a
    run at a time (`narrow`, what `run_of` asks). A trial's 1,500,000 rows of 3 numbers and 17 categories (152
    features) peaked at 6.4 GB with the folds' training rows as float32, 3.6 GB of them, and at 4.0 GB packed
    (kit.validation.PACK_BYTES says when a stack is packed).
    """

    def __init__(self, numbers: torch.Tensor, bits: torch.Tensor):
        self.numbers, self.bits = numbers, bits  # (F, n, k) float32, (F, n, n_in - k) uint8
        self.shape = torch.Size((*numbers.shape[:2], numbers.shape[2] + bits.shape[2]))
        self.device = numbers.device

    def narrow(self, dim: int, start: int, length: int) -> torch.Tensor:
        """Rows start..start + length of every fold, as float32 (F, length, n_in): dim is the rows' (1)."""
        if dim != 1:
            raise ValueError("PackedRows gives runs of rows (dim 1) only")
        out = torch.empty(self.shape[0], length, self.shape[2], device=self.device)
        k = self.numbers.shape[2]
        out[:, :, :k] = self.numbers.narrow(1, start, length)
        out[:, :, k:] = self.bits.narrow(1, start, length)  # converted as copied: one pass, no float32 temporary
        return out

    def dense(self) -> torch.Tensor:
        """The whole stack as float32 (F, n, n_in): for a fit that does not take runs of rows (full batch)."""
        return self.narrow(1, 0, self.shape[1])

    def to(self, device) -> PackedRows:
        return PackedRows(self.numbers.to(device), self.bits.to(device))

    def __getitem__(self, folds: slice) -> PackedRows:
        """The folds asked for (a slice of the first dimension), every row."""
        return PackedRows(self.numbers[folds], self.bits[folds])


BITS_ROWS = 65_536  # rows per block of `as_bits`' check: its float32 copy of a block is a few MB


def as_bits(x: torch.Tensor) -> torch.Tensor | None:
    """x (n, w) float32 as uint8 where every value is 0 or 1; None where one is not (a standardised level)."""
    bits = x.to(torch.uint8)
    for start in range(0, len(x), BITS_ROWS):
        block = bits[start : start + BITS_ROWS]
        if not torch.equal(block.to(torch.float32), x[start : start + BITS_ROWS]) or bool((block > 1).any()):
            return None
    return bits


def run_of(t: torch.Tensor, start: int, stop: int, dim: int) -> torch.Tensor:
    """Slots start..stop of t along `dim`, wrapping past the end: a view unless it wraps."""
    n = t.shape[dim]
    if stop <= n:
        return t.narrow(dim, start, stop - start)
    return torch.cat([t.narrow(dim, start, n - start), t.narrow(dim, 0, stop - n)], dim=dim)
