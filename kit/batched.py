"""Training many models at once: every fold and seed of one architecture in a single loop.

Each (fold, seed) pair is an independent model with its parameters stacked along two leading
axes, (F, S, ...). A fold's training rows are one block of a padded (F, n_max, n_in) tensor, and a
0/1 row mask keeps the padding out of its loss; the S models of a fold share that block, so each
layer costs one matmul per fold rather than one per model. Every model starts from the
initialisation `kit.train.fit` draws for its seed, takes the same mean absolute error over its own
rows and the same written-out step, so the grid equals the one-by-one fits to float tolerance.
"""

from __future__ import annotations

import torch

from kit import KitError
from kit.models import Model
from kit.threads import threads_for, torch_threads


def resolve_device(name: str) -> torch.device:
    """torch.device for "cpu", "cuda" or "cuda:N", refusing CUDA when torch cannot see a GPU."""
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise KitError(
            f"device {name} was asked for, but torch sees no CUDA GPU (torch {torch.__version__}); "
            "use --device cpu, or install a CUDA build of torch on a machine with a GPU."
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


def init_many(model: Model, n_in: int, seeds: list[int], n_folds: int, device=None) -> dict:
    """Each seed's initialisation, drawn exactly as `fit` draws it, repeated for every fold.

    Returns params stacked (F, S, ...), leaf tensors that require grad, on `device`.
    """
    per_seed = [model.init(n_in, torch.Generator().manual_seed(seed)) for seed in seeds]
    params = {}
    for name in per_seed[0]:
        stacked = torch.stack([p[name] for p in per_seed])  # (S, ...)
        grid = stacked.expand(n_folds, *stacked.shape).contiguous()  # (F, S, ...), one copy per fold
        params[name] = grid.to(device).requires_grad_()
    return params


def mae_many(pred: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Each model's mean absolute error over its own fold's rows.

    pred: (F, S, n); y and mask: (F, n). Returns (F, S).
    """
    n_rows = mask.sum(dim=1)  # (F,)
    return ((pred - y[:, None]).abs() * mask[:, None]).sum(dim=2) / n_rows[:, None]  # (F, S)


def fit_many(
    model: Model, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, *, lr: float, epochs: int, seeds: list[int]
):
    """Train one `model` per fold and seed at once; fold f, seed s equals `fit(model, x_f, y_f, seed=s)`.

    x: (F, n, n_in) float32, fold f's training rows first and zeros after; y: (F, n) of 0/1;
    mask: (F, n), 1.0 on each fold's own rows (see `pad_rows`). All on the device to train on.
    Returns (params, losses): params stacked (F, S, ...) with no grad, and losses (F, S, epochs),
    each model's loss at the start of each epoch, on the training device.
    """
    with torch_threads(threads_for(x.shape[1], x.shape[2], x.shape[0] * len(seeds)), x.device):
        return _fit_many(model, x, y, mask, lr=lr, epochs=epochs, seeds=seeds)


def _fit_many(model: Model, x, y, mask, *, lr: float, epochs: int, seeds: list[int]):
    n_folds = x.shape[0]
    xt = x.transpose(1, 2).contiguous()  # (F, n_in, n): rows last, see kit.models
    params = init_many(model, x.shape[2], seeds, n_folds, x.device)
    losses = torch.empty(n_folds, len(seeds), epochs, device=x.device)  # (F, S, epochs)
    for epoch in range(epochs):
        loss = mae_many(model.predict_many(params, xt), y, mask)  # (F, S)
        # The models share no parameter, so the gradient of the sum is each model's own gradient.
        loss.sum().backward()
        with torch.no_grad():
            for p in params.values():
                p.sub_(p.grad * lr)
                p.grad.zero_()
        losses[:, :, epoch] = loss.detach()  # kept on the device: no sync per epoch
    return {name: p.detach() for name, p in params.items()}, losses


def predict_many(model: Model, params: dict, x: torch.Tensor) -> torch.Tensor:
    """Probabilities of every model of the grid on its fold's rows: x (F, n, n_in) -> (F, S, n).

    A raw linear model's outputs are clamped to [0, 1], as `kit.train.predict_proba` does.
    """
    n_models = next(iter(params.values())).shape[:2].numel()  # F * S
    with torch.no_grad(), torch_threads(threads_for(x.shape[1], x.shape[2], n_models), x.device):
        pred = model.predict_many(params, x.transpose(1, 2).contiguous())  # (F, S, n)
    return pred if model.probabilities else pred.clamp(0, 1)
