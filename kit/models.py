"""The models, from scratch: an `init` that draws a model's parameters and one `forward` for a grid.

Every model is a stack of layers `x @ w_i + b_i` with a ReLU between them: `linear` has no hidden
layer, `nn` one, `deep` two or more. Parameters are a dict of named tensors, `w0, b0, w1, b1, ...`,
so one written-out step (kit.optim) can update any model, and the models differ only in how they
are drawn. No torch.nn, no torch.optim.

Two ways to draw them:
- `preset="article"`: the article's models exactly, one output each, with its constants and its
  order of draws (its figures depend on both): no bias in `linear`, one bias on the output of `nn`,
  one scalar bias per layer of `deep`, all weights of `deep` drawn before any bias.
- `preset="default"`: a bias per unit in every layer, zero at the start, and weights drawn with
  fan-in scaling (He/Kaiming: std sqrt(2 / fan_in) before a ReLU, sqrt(1 / fan_in) for the output
  layer), so a signal keeps its size through any depth; `width` outputs (one per class, or one).

`forward` always works on a grid of models, every fold and seed trained at once (kit.train): each
tensor has leading (fold, seed) axes (F, S, ...), and a single model is a grid of one. Rows sit on
the last axis, because MKL multiplies (units, rows) blocks several times faster than (rows, units)
ones when a layer is only 10 or 20 units wide; `forward_rows_first` keeps them first, for the large batches
of a deep net, whose (rows, 32) x (32, 32) products are the faster ones (kit.train). It returns raw
outputs (logits, or values): the task's link (kit.task) turns them into predictions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

PRESETS = ("default", "article")


# ---- the article's draws: one output, its constants ---------------------------------------------


def _article_linear(n_in: int, gen: torch.Generator, hidden: tuple) -> dict:
    return {"w0": torch.rand(n_in, 1, generator=gen) - 0.5}  # (n_in, 1): the article's coeffs, no bias


def _article_nn(n_in: int, gen: torch.Generator, hidden: tuple) -> dict:
    (n_hidden,) = hidden
    # Dividing by n_hidden keeps the hidden layer's sum near the inputs' magnitude.
    w0 = (torch.rand(n_in, n_hidden, generator=gen) - 0.5) / n_hidden  # (n_in, n_hidden)
    w1 = torch.rand(n_hidden, 1, generator=gen) - 0.3  # (n_hidden, 1)
    b1 = torch.rand(1, generator=gen)[0]  # (): one bias, on the output only
    return {"w0": w0, "w1": w1, "b1": b1}


def _article_deep(n_in: int, gen: torch.Generator, hidden: tuple) -> dict:
    sizes = [n_in, *hidden, 1]
    # The article's finicky constants: slightly different ones and the net fails to train.
    weights = {
        f"w{i}": (torch.rand(a, b, generator=gen) - 0.3) / b * 4 for i, (a, b) in enumerate(zip(sizes, sizes[1:]))
    }
    biases = {f"b{i}": (torch.rand(1, generator=gen)[0] - 0.5) * 0.1 for i in range(len(sizes) - 1)}  # () each
    return weights | biases  # all weights are drawn before any bias, as in the article


# ---- kit's draws: biases everywhere, fan-in scaling ----------------------------------------------


def he_init(n_in: int, width: int, gen: torch.Generator, hidden: tuple) -> dict:
    """Layers n_in -> *hidden -> width; weights N(0, gain / fan_in) (gain 2 before a ReLU, 1 at the output), biases 0."""
    sizes = [n_in, *hidden, width]
    params = {}
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        gain = 2.0 if i < len(sizes) - 2 else 1.0
        params[f"w{i}"] = torch.randn(a, b, generator=gen) * math.sqrt(gain / a)  # (a, b)
        params[f"b{i}"] = torch.zeros(b)  # (b,)
    return params


@dataclass(frozen=True)
class Model:
    """A named model: how the article drew it, and whether it is the article's unlinked first model."""

    name: str
    article_init: Callable  # (n_in, gen, hidden) -> params: the article's draws
    raw: bool = False  # the article's linear_raw: no link, predictions clamped to [0, 1] (article preset only)

    def init(self, n_in: int, width: int, gen: torch.Generator, *, hidden: tuple = (), preset: str = "default"):
        """One model's parameters (no grid axes) for n_in inputs and `width` outputs."""
        if preset == "article":
            if width != 1:
                raise ValueError(f"the article's models have one output, not {width}; use preset default")
            return self.article_init(n_in, gen, tuple(hidden))
        if preset != "default":
            raise ValueError(f"preset {preset!r} is not one of {', '.join(PRESETS)}")
        return he_init(n_in, width, gen, tuple(hidden))


MODELS = {
    "linear_raw": Model("linear_raw", _article_linear, raw=True),  # the default preset trains it as `linear`
    "linear": Model("linear", _article_linear),
    "nn": Model("nn", _article_nn),
    "deep": Model("deep", _article_deep),
}


# ---- the grid's forward pass ----------------------------------------------------------------------


def forward(params: dict, xt: torch.Tensor) -> torch.Tensor:
    """Raw outputs of every model of a grid on its fold's rows.

    params: w_i (F, S, fan_in, fan_out); b_i (F, S, fan_out), (F, S) for one shared bias, or absent;
    optionally `scale` and `shift` (F, S), fixed, that put a single output on the target's scale.
    xt: (F, n_in, n), each fold's rows as columns. Returns (F, S, n) when the models have one
    output, else (F, S, n, width).
    """
    n_layers = sum(name.startswith("w") for name in params)
    n_folds, n_seeds = params["w0"].shape[:2]
    n_models = n_folds * n_seeds
    out = _first_layer(params["w0"], xt).view(n_models, params["w0"].shape[3], -1)  # (F*S, fan_out, n)
    if "b0" in params:
        out = out + params["b0"].reshape(n_models, -1, 1)
    for i in range(1, n_layers):
        w = params[f"w{i}"]  # (F, S, fan_in, fan_out)
        w_t = w.reshape(n_models, *w.shape[2:]).transpose(1, 2)  # (F*S, fan_out, fan_in)
        # in place: the sum before the ReLU is needed by no gradient, and one activation less per layer
        # stays in cache for the backward pass (3-4 % of a 300,000-row net's epoch; the same bytes)
        hidden = out.relu_()  # (F*S, fan_in, n)
        if f"b{i}" in params:
            out = torch.baddbmm(params[f"b{i}"].reshape(n_models, -1, 1), w_t, hidden)  # (F*S, fan_out, n)
        else:
            out = torch.bmm(w_t, hidden)
    out = out.view(n_folds, n_seeds, out.shape[1], -1)  # (F, S, width, n)
    if out.shape[2] > 1:
        return out.transpose(2, 3)  # (F, S, n, width)
    out = out[:, :, 0]  # (F, S, n)
    if "scale" in params:
        out = out * params["scale"][:, :, None] + params["shift"][:, :, None]
    return out


def forward_rows_first(params: dict, x: torch.Tensor) -> torch.Tensor:
    """`forward` on rows stored first: x (F, n, n_in), each fold's rows as rows. The same outputs, summed in
    another order (so not the same bytes): for large batches, where every activation is rows first too.

    Measured on 7,500-row batches (5 folds, 57 inputs; BENCHMARKS.md, "Seventeenth pass"): a hidden layer's
    (rows, 32) x (32, 32) product took 1.3 ms against 3.1 ms rows last, its weight gradient 0.85 against 3.1 ms.
    """
    n_layers = sum(name.startswith("w") for name in params)
    n_folds, n_seeds, n_in, n_out = params["w0"].shape
    n_models = n_folds * n_seeds
    w0 = params["w0"].transpose(1, 2).reshape(n_folds, n_in, n_seeds * n_out)  # (F, n_in, S*n_out)
    out = torch.bmm(x, w0)  # (F, n, S*n_out): a fold's seeds share its rows
    if n_seeds > 1:  # each model's units side by side, as the next layer's products read them
        out = out.view(n_folds, -1, n_seeds, n_out).transpose(1, 2).contiguous()  # (F, S, n, n_out)
    out = out.view(n_models, -1, n_out)  # (F*S, n, n_out)
    if "b0" in params:
        out = out + params["b0"].reshape(n_models, 1, -1)
    for i in range(1, n_layers):
        w = params[f"w{i}"]
        hidden = out.relu_()  # in place, as in `forward`
        out = torch.bmm(hidden, w.reshape(n_models, *w.shape[2:]))  # (F*S, n, fan_out)
        if f"b{i}" in params:
            out = out + params[f"b{i}"].reshape(n_models, 1, -1)
    out = out.view(n_folds, n_seeds, -1, out.shape[2])  # (F, S, n, width)
    if out.shape[3] > 1:
        return out
    out = out[..., 0]  # (F, S, n)
    if "scale" in params:
        out = out * params["scale"][:, :, None] + params["shift"][:, :, None]
    return out


def _first_layer(w: torch.Tensor, xt: torch.Tensor) -> torch.Tensor:
    """x @ w for every model of the grid, as one matmul per fold: its seeds share the fold's rows.

    w: (F, S, n_in, n_out); xt: (F, n_in, n). Returns (F, S, n_out, n).
    """
    n_folds, n_seeds, n_in, n_out = w.shape
    w_t = w.transpose(2, 3).reshape(n_folds, n_seeds * n_out, n_in)  # (F, S*n_out, n_in)
    return torch.bmm(w_t, xt).view(n_folds, n_seeds, n_out, -1)  # (F, S, n_out, n)
