"""One full-batch gradient-descent `fit` for every model, with the update step written out."""

from __future__ import annotations

import torch

from kit.models import Model


def mae(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean absolute error, the article's loss."""
    return (pred - y).abs().mean()


def fit(model: Model, x: torch.Tensor, y: torch.Tensor, *, lr: float, epochs: int, seed: int):
    """Train `model` on (x, y) from the initialisation drawn with `seed`.

    x: (n, n_features) float32; y: (n,) float32 of 0/1.
    Returns (params, losses): the trained parameters (no grad) and the loss at the start of each epoch.
    """
    gen = torch.Generator().manual_seed(seed)
    # Drawn by a CPU generator, then moved: a seed starts from the same numbers on every device.
    params = {name: p.to(x.device).requires_grad_() for name, p in model.init(x.shape[1], gen).items()}
    losses = []
    for _ in range(epochs):
        loss = mae(model.predict(params, x), y)
        loss.backward()
        with torch.no_grad():
            for p in params.values():
                p.sub_(p.grad * lr)
                p.grad.zero_()
        losses.append(loss.item())
    return {name: p.detach() for name, p in params.items()}, losses


def predict_proba(model: Model, params: dict, x: torch.Tensor) -> torch.Tensor:
    """Predictions as probabilities, shape (n,); a raw linear model's are clamped to [0, 1]."""
    with torch.no_grad():
        pred = model.predict(params, x)
    return pred if model.probabilities else pred.clamp(0, 1)


def accuracy(prob: torch.Tensor, y: torch.Tensor) -> float:
    """Share of rows where prob > 0.5 matches the 0/1 target."""
    return ((prob > 0.5) == y.bool()).float().mean().item()
