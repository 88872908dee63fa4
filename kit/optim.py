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
    """One update of every parameter from its gradient; the gradients are zeroed after.

    Each line updates every parameter at once (torch's _foreach_ ops): on a GPU one kernel for all of
    them rather than one per parameter, which is most of a small model's step there; on the CPU the
    same elementwise operations one tensor after another, so the same bytes either way.
    """
    state["step"] += 1
    t = state["step"]
    names = [name for name, p in params.items() if p.grad is not None]  # not fixed tensors (a target's scale)
    ps, gs = [params[n] for n in names], [params[n].grad for n in names]
    if opt.name in ("sgd", "momentum") and opt.weight_decay:
        gs = torch._foreach_add(gs, torch._foreach_mul(ps, opt.weight_decay))  # L2: the gradient of wd / 2 * p**2
    if opt.name == "sgd":
        torch._foreach_sub_(ps, torch._foreach_mul(gs, opt.lr))
    elif opt.name == "momentum":
        ms = [state["m"][n] for n in names]
        torch._foreach_mul_(ms, opt.momentum)  # heavy ball: m = momentum * m + g (m = g on the first step)
        torch._foreach_add_(ms, gs)
        torch._foreach_sub_(ps, torch._foreach_mul(ms, opt.lr))
    else:  # adam, with decoupled weight decay
        if opt.weight_decay:
            torch._foreach_mul_(ps, 1 - opt.lr * opt.weight_decay)
        ms, vs = [state["m"][n] for n in names], [state["v"][n] for n in names]
        torch._foreach_mul_(ms, opt.momentum)  # running mean of the gradient
        torch._foreach_add_(ms, torch._foreach_mul(gs, 1 - opt.momentum))
        torch._foreach_mul_(vs, opt.beta2)  # running mean of its square
        torch._foreach_add_(vs, torch._foreach_mul(torch._foreach_mul(gs, gs), 1 - opt.beta2))
        m_hat = torch._foreach_div(ms, 1 - opt.momentum**t)  # both start at 0: undo that bias of the early steps
        v_hat = torch._foreach_div(vs, 1 - opt.beta2**t)
        denominator = torch._foreach_add(torch._foreach_sqrt(v_hat), opt.eps)
        torch._foreach_sub_(ps, torch._foreach_div(torch._foreach_mul(m_hat, opt.lr), denominator))
    torch._foreach_zero_([params[n].grad for n in names])
