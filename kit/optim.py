"""Hand-written optimisers: plain gradient descent, heavy-ball momentum and Adam, each step written out.

No torch.optim: an optimiser is its settings (`Optimizer`), its state (`init_state`: the parameters
rebuilt in one block, and running tensors shaped like it) and one `step` that reads the block's
gradient, updates the parameters in place and zeroes the gradient. Every update is elementwise, so
a grid of models stacked (F, S, ...) steps exactly as each model would alone.

Averaged weights (`start_average`, `averaged`): each step also moves a running average of the parameters, an
exponential moving average over about a given number of steps (Polyak averaging); the model a fit keeps, scores and
predicts with is then that average, which smooths out the noise of the last mini-batches' steps.

Weight decay: `sgd` and `momentum` add `weight_decay * p` to the gradient (L2, as torch.optim.SGD
does); `adam` shrinks the weights directly, `p *= 1 - lr * weight_decay`, before its step
(decoupled, as torch.optim.AdamW does), so the decay is not rescaled by Adam's per-weight step size.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

OPTIMIZERS = ("sgd", "momentum", "adam")


@dataclass(frozen=True)
class Optimizer:
    """An optimiser's settings."""

    name: str  # "sgd", "momentum" or "adam"
    lr: float  # step size
    weight_decay: float = 0.0  # L2 for sgd and momentum, decoupled for adam (see the module docstring)
    momentum: float = 0.9  # momentum's decay of its running direction; adam's beta1
    beta2: float = 0.999  # adam: decay of the running mean of squared gradients
    eps: float = 1e-8  # adam: keeps the step finite where the squared gradients are ~0

    def __post_init__(self):
        if self.name not in OPTIMIZERS:
            raise ValueError(f"optimizer {self.name!r} is not one of {', '.join(OPTIMIZERS)}")


def init_state(opt: Optimizer, params: dict) -> tuple[dict, dict]:
    """The parameters to train, rebuilt in one block, and the optimiser's running state.

    Returns (params, state): params holds the same values, each trainable tensor now a view into one
    block of memory and its `.grad` a view into another, so that every line of `step` is one
    elementwise operation on a single tensor rather than one per parameter (the tensors given are
    left as they were). Elementwise updates give the same bytes either way. Measured on the folds of
    an 8,693-row competition (nn and deep, 15 models each, 2,800 steps of 256 rows of 63 inputs;
    BENCHMARKS.md, "Eighteenth pass"): training took 27.4 s against 29.1 s (medians of 6 alternating
    runs), the same bytes out.
    Tensors that do not require a gradient (a target's fixed scale) are kept as they are, never stepped.
    The state: the step count, and zeros shaped like the block (the running direction or mean, and
    Adam's running mean of squared gradients).
    """
    trainable = [name for name, p in params.items() if p.requires_grad]
    block = torch.cat([params[name].detach().reshape(-1) for name in trainable])
    grads = torch.zeros_like(block)
    params, start = dict(params), 0
    for name in trainable:
        shape, size = params[name].shape, params[name].numel()
        params[name] = block[start : start + size].view(shape).requires_grad_()  # a leaf sharing block's memory
        params[name].grad = grads[start : start + size].view(shape)  # backward adds into it in place
        start += size
    state = {"step": 0, "params": block, "grads": grads, "layout": trainable}
    if opt.name in ("momentum", "adam"):
        state["m"] = torch.zeros_like(block)  # running direction / mean
    if opt.name == "adam":
        state["v"] = torch.zeros_like(block)  # running mean of grad**2
    return params, state


@torch.no_grad()
def step(opt: Optimizer, state: dict) -> None:
    """One update of every parameter from its gradient, in place; the gradients are zeroed after."""
    state["step"] += 1
    t = state["step"]
    p, g = state["params"], state["grads"]  # every trainable parameter, and its gradient, in one block
    if opt.name in ("sgd", "momentum") and opt.weight_decay:
        g = g + p * opt.weight_decay  # L2: the gradient of wd / 2 * p**2
    if opt.name == "sgd":
        p.sub_(g * opt.lr)
    elif opt.name == "momentum":
        m = state["m"]
        m.mul_(opt.momentum)  # heavy ball: m = momentum * m + g (m = g on the first step)
        m.add_(g)
        p.sub_(m * opt.lr)
    else:  # adam, with decoupled weight decay
        if opt.weight_decay:
            p.mul_(1 - opt.lr * opt.weight_decay)
        m, v = state["m"], state["v"]
        m.mul_(opt.momentum)  # running mean of the gradient
        m.add_(g * (1 - opt.momentum))
        v.mul_(opt.beta2)  # running mean of its square
        v.add_(g * g * (1 - opt.beta2))
        m_hat = m / (1 - opt.momentum**t)  # both start at 0: undo that bias of the early steps
        v_hat = v / (1 - opt.beta2**t)
        p.sub_(m_hat * opt.lr / (v_hat.sqrt() + opt.eps))
    state["grads"].zero_()
    if "average" in state:  # the running average moves a share of the way to where the step went
        state["average"].mul_(state["beta"]).add_(p, alpha=1 - state["beta"])


def start_average(state: dict, steps: float) -> None:
    """From now on every `step` also keeps an exponential moving average of the parameters over about `steps`
    steps (each step weighs 1/steps): `averaged` reads it. Started before the first step, it starts at 0 and
    `averaged` divides out that start, as Adam does its moments'."""
    state["average"] = torch.zeros_like(state["params"])
    state["beta"] = 1 - 1 / steps


def averaged(state: dict, params: dict) -> dict:
    """`params` with each trainable tensor read from the running average (`start_average`): new tensors, shaped as
    the parameters are; the tensors that are not trained (a target's fixed scale) as they are."""
    block = state["average"] / (1 - state["beta"] ** state["step"])  # the average of the steps taken, unbiased
    out, start = dict(params), 0
    for name in state["layout"]:
        size = params[name].numel()
        out[name] = block[start : start + size].view(params[name].shape)
        start += size
    return out
