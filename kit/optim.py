"""Hand-written optimisers: plain gradient descent, heavy-ball momentum and Adam, each step written out.

No torch.optim: an optimiser is its settings (`Optimizer`), a dict of state tensors shaped like the
parameters (`init_state`) and one `step` that reads each parameter's `.grad`, updates the
parameter in place and zeroes the gradient. Every update is elementwise, so a grid of models
stacked (F, S, ...) steps exactly as each model would alone.

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


def init_state(opt: Optimizer, params: dict) -> dict:
    """The optimiser's running state: zeros shaped like each parameter, and the step count."""
    state = {"step": 0}
    if opt.name in ("momentum", "adam"):
        state["m"] = {name: torch.zeros_like(p) for name, p in params.items()}  # running direction / mean
    if opt.name == "adam":
        state["v"] = {name: torch.zeros_like(p) for name, p in params.items()}  # running mean of grad**2
    return state


@torch.no_grad()
def step(opt: Optimizer, params: dict, state: dict) -> None:
    """One update of every parameter from its gradient; the gradients are zeroed after."""
    state["step"] += 1
    t = state["step"]
    for name, p in params.items():
        g = p.grad
        if g is None:  # a fixed tensor, such as a regression model's target scale
            continue
        if opt.name == "sgd":
            if opt.weight_decay:
                g = g + opt.weight_decay * p  # L2: the gradient of weight_decay / 2 * p**2
            p.sub_(g * opt.lr)
        elif opt.name == "momentum":
            if opt.weight_decay:
                g = g + opt.weight_decay * p
            m = state["m"][name]
            m.mul_(opt.momentum).add_(g)  # heavy ball: m = momentum * m + g (m = g on the first step)
            p.sub_(m * opt.lr)
        else:  # adam, with decoupled weight decay
            if opt.weight_decay:
                p.mul_(1 - opt.lr * opt.weight_decay)
            m, v = state["m"][name], state["v"][name]
            m.mul_(opt.momentum).add_(g * (1 - opt.momentum))  # running mean of the gradient
            v.mul_(opt.beta2).add_(g * g * (1 - opt.beta2))  # running mean of its square
            m_hat = m / (1 - opt.momentum**t)  # both start at 0: undo that bias of the early steps
            v_hat = v / (1 - opt.beta2**t)
            p.sub_(opt.lr * m_hat / (v_hat.sqrt() + opt.eps))
        p.grad.zero_()
