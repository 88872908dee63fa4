"""The article's models, from scratch: each an `init(n_in, gen) -> params` and a
`predict(params, x) -> predictions` pair over raw tensors. No torch.nn, no torch.optim.

Parameters are a dict of named tensors so that one gradient-descent step can update any model.
The init constants are the article's; its figures depend on them and on the order of the draws.

Each model also has `predict_many`, the same function over a grid of models trained at once
(kit.batched): every tensor gains leading (fold, seed) axes, and rows move to the last axis,
because MKL multiplies (units, rows) blocks several times faster than (rows, units) ones when a
layer is only 10 or 20 units wide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch


def linear_init(n_in: int, gen: torch.Generator) -> dict:
    return {"coeffs": torch.rand(n_in, generator=gen) - 0.5}  # (n_in,)


def linear_raw_predict(params: dict, x: torch.Tensor) -> torch.Tensor:
    """The article's first model: a weighted sum with no squashing, so outputs can leave [0, 1]."""
    return (x * params["coeffs"]).sum(dim=1)  # (n,)


def linear_predict(params: dict, x: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid((x * params["coeffs"]).sum(dim=1))  # (n,)


def linear_raw_predict_many(params: dict, xt: torch.Tensor) -> torch.Tensor:
    """xt: (F, n_in, n), one feature block per fold; coeffs: (F, S, n_in). Returns (F, S, n)."""
    return torch.bmm(params["coeffs"], xt)  # (F, S, n): a fold's seeds share one matmul


def linear_predict_many(params: dict, xt: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(torch.bmm(params["coeffs"], xt))  # (F, S, n)


def nn_init(n_in: int, gen: torch.Generator, n_hidden: int = 20) -> dict:
    # Dividing by n_hidden keeps the hidden layer's sum near the inputs' magnitude.
    w1 = (torch.rand(n_in, n_hidden, generator=gen) - 0.5) / n_hidden  # (n_in, n_hidden)
    w2 = torch.rand(n_hidden, 1, generator=gen) - 0.3  # (n_hidden, 1)
    b = torch.rand(1, generator=gen)[0]  # ()
    return {"w1": w1, "w2": w2, "b": b}


def nn_predict(params: dict, x: torch.Tensor) -> torch.Tensor:
    hidden = torch.relu(x @ params["w1"])  # (n, n_hidden)
    return torch.sigmoid(hidden @ params["w2"] + params["b"])[:, 0]  # (n,)


def nn_predict_many(params: dict, xt: torch.Tensor) -> torch.Tensor:
    n_folds, n_seeds, _, n_hidden = params["w1"].shape
    hidden = torch.relu(_first_layer(params["w1"], xt)).view(n_folds * n_seeds, n_hidden, -1)  # (F*S, n_hidden, n)
    w2 = params["w2"].reshape(n_folds * n_seeds, n_hidden, 1).transpose(1, 2)  # (F*S, 1, n_hidden)
    out = torch.baddbmm(params["b"].reshape(-1, 1, 1), w2, hidden)  # (F*S, 1, n)
    return torch.sigmoid(out).view(n_folds, n_seeds, -1)  # (F, S, n)


def _first_layer(w: torch.Tensor, xt: torch.Tensor) -> torch.Tensor:
    """x @ w for every model of the grid, as one matmul per fold: its seeds share the fold's rows.

    w: (F, S, n_in, n_out); xt: (F, n_in, n). Returns (F, S, n_out, n).
    """
    n_folds, n_seeds, n_in, n_out = w.shape
    w_t = w.transpose(2, 3).reshape(n_folds, n_seeds * n_out, n_in)  # (F, S*n_out, n_in)
    return torch.bmm(w_t, xt).view(n_folds, n_seeds, n_out, -1)  # (F, S, n_out, n)


def deep_init(n_in: int, gen: torch.Generator, hidden: tuple = (10, 10)) -> dict:
    sizes = [n_in, *hidden, 1]
    # The article's finicky constants: slightly different ones and the net fails to train.
    weights = {
        f"w{i}": (torch.rand(a, b, generator=gen) - 0.3) / b * 4 for i, (a, b) in enumerate(zip(sizes, sizes[1:]))
    }
    biases = {f"b{i}": (torch.rand(1, generator=gen)[0] - 0.5) * 0.1 for i in range(len(sizes) - 1)}
    return weights | biases  # all weights are drawn before any bias, as in the article


def deep_predict(params: dict, x: torch.Tensor) -> torch.Tensor:
    n_layers = sum(name.startswith("w") for name in params)
    out = x  # (n, n_in)
    for i in range(n_layers):
        out = out @ params[f"w{i}"] + params[f"b{i}"]  # (n, sizes[i + 1])
        if i < n_layers - 1:
            out = torch.relu(out)
    return torch.sigmoid(out)[:, 0]  # (n,)


def deep_predict_many(params: dict, xt: torch.Tensor) -> torch.Tensor:
    n_layers = sum(name.startswith("w") for name in params)
    n_folds, n_seeds = params["w0"].shape[:2]
    n_models = n_folds * n_seeds
    out = _first_layer(params["w0"], xt) + params["b0"][:, :, None, None]  # (F, S, sizes[1], n)
    out = out.view(n_models, out.shape[2], -1)  # (F*S, sizes[1], n)
    for i in range(1, n_layers):
        w = params[f"w{i}"]  # (F, S, sizes[i], sizes[i + 1])
        w_t = w.reshape(n_models, *w.shape[2:]).transpose(1, 2)  # (F*S, sizes[i + 1], sizes[i])
        out = torch.baddbmm(params[f"b{i}"].reshape(-1, 1, 1), w_t, torch.relu(out))  # (F*S, sizes[i + 1], n)
    return torch.sigmoid(out).view(n_folds, n_seeds, -1)  # (F, S, n)


@dataclass(frozen=True)
class Model:
    """A named model with the article's training settings."""

    name: str
    init: Callable  # (n_in, gen) -> params
    predict: Callable  # (params, x) -> (n,)
    predict_many: Callable  # (params stacked (F, S, ...), xt (F, n_in, n)) -> (F, S, n): predict for a grid
    lr: float  # learning rate of the article
    epochs: int
    probabilities: bool = True  # False: outputs are clamped to [0, 1] before they are averaged


MODELS = {
    "linear_raw": Model(
        "linear_raw", linear_init, linear_raw_predict, linear_raw_predict_many, lr=0.2, epochs=18, probabilities=False
    ),
    "linear": Model("linear", linear_init, linear_predict, linear_predict_many, lr=100.0, epochs=30),
    "nn": Model("nn", nn_init, nn_predict, nn_predict_many, lr=20.0, epochs=30),
    "deep": Model("deep", deep_init, deep_predict, deep_predict_many, lr=4.0, epochs=30),
}
