"""The hand-written optimisers step for step as torch.optim, the oracle, on the same gradients."""

from __future__ import annotations

import pytest
import torch

from kit.optim import Optimizer, averaged, init_state, start_average, step

# kit's settings, and the torch.optim optimiser that takes the same steps.
CASES = {
    "plain gradient descent": (Optimizer("sgd", lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "gradient descent with L2 decay": (
        Optimizer("sgd", lr=0.1, weight_decay=0.05),
        lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.05),
    ),
    "heavy-ball momentum": (
        Optimizer("momentum", lr=0.05, momentum=0.9),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
    ),
    "momentum with L2 decay": (
        Optimizer("momentum", lr=0.05, momentum=0.8, weight_decay=0.01),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, weight_decay=0.01),
    ),
    "adam": (Optimizer("adam", lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    "adam with decoupled decay (AdamW)": (
        Optimizer("adam", lr=0.01, weight_decay=0.1, momentum=0.85, beta2=0.99),
        lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1, betas=(0.85, 0.99)),
    ),
}


def _params(seed: int) -> dict:
    gen = torch.Generator().manual_seed(seed)
    return {"w": torch.randn(4, 3, generator=gen, dtype=torch.float64), "b": torch.randn(3, generator=gen).double()}


def _loss(params: dict, step_number: int) -> torch.Tensor:
    """A loss whose gradients change from step to step and differ in size between parameters."""
    x = torch.linspace(-1, 1, 12, dtype=torch.float64).reshape(3, 4) * (1 + step_number)
    return ((x @ params["w"] + params["b"]).tanh() - 0.3).pow(2).sum() + params["b"].pow(4).sum()


@pytest.mark.parametrize("case", list(CASES))
def test_each_step_equals_torch_optim_on_the_same_gradients(case):
    settings, oracle = CASES[case]
    ours = {k: v.clone().requires_grad_() for k, v in _params(0).items()}
    theirs = {k: v.clone().requires_grad_() for k, v in _params(0).items()}
    ours, state = init_state(settings, ours)
    reference = oracle(list(theirs.values()))
    for t in range(8):
        _loss(ours, t).backward()
        step(settings, state)
        reference.zero_grad()
        _loss(theirs, t).backward()
        reference.step()
        for key in ours:
            torch.testing.assert_close(ours[key], theirs[key], rtol=1e-12, atol=1e-12, msg=f"{key} after step {t + 1}")
    assert not torch.equal(ours["w"], _params(0)["w"]), "the parameters should have moved"


def test_a_step_zeroes_the_gradients_it_used():
    settings, _ = CASES["adam"]
    params, state = init_state(settings, {k: v.requires_grad_() for k, v in _params(1).items()})
    _loss(params, 0).backward()
    step(settings, state)
    assert all(torch.count_nonzero(p.grad) == 0 for p in params.values())
    assert state["step"] == 1


def test_a_grid_of_models_steps_as_each_model_alone():
    # optimiser updates are elementwise: stacking models on a leading axis changes nothing
    settings = Optimizer("adam", lr=0.05, weight_decay=0.01)
    singles = [{k: v.clone().requires_grad_() for k, v in _params(s).items()} for s in (3, 4)]
    grid = {k: torch.stack([p[k].detach() for p in singles]).requires_grad_() for k in singles[0]}
    singles, states = zip(*[init_state(settings, p) for p in singles])
    grid, grid_state = init_state(settings, grid)
    for t in range(5):
        for p, state in zip(singles, states):
            _loss(p, t).backward()
            step(settings, state)
        sum(_loss({k: v[i] for k, v in grid.items()}, t) for i in range(2)).backward()
        step(settings, grid_state)
    for i, p in enumerate(singles):
        for key in p:
            torch.testing.assert_close(grid[key][i], p[key], rtol=1e-12, atol=1e-12)


def test_an_unknown_optimiser_is_refused():
    with pytest.raises(ValueError, match="not one of sgd, momentum, adam"):
        Optimizer("lbfgs", lr=1.0)


def test_the_parameters_train_as_views_of_one_block_and_fixed_tensors_are_left_alone():
    given = {**_params(5), "scale": torch.tensor([2.0, 3.0], dtype=torch.float64)}  # fixed: no gradient
    given = {k: v.requires_grad_() if k != "scale" else v for k, v in given.items()}
    before = {k: v.detach().clone() for k, v in given.items()}
    params, state = init_state(Optimizer("adam", lr=0.1), given)
    assert params["scale"] is given["scale"]
    assert all(torch.equal(params[k], before[k]) for k in before)  # the same values
    block = state["params"].untyped_storage().data_ptr()
    assert params["w"].untyped_storage().data_ptr() == params["b"].untyped_storage().data_ptr() == block
    (_loss(params, 0) * params["scale"].sum()).backward()
    step(Optimizer("adam", lr=0.1), state)
    assert not torch.equal(params["w"], before["w"]) and not torch.equal(params["b"], before["b"])
    assert torch.equal(params["scale"], before["scale"])
    assert all(torch.equal(given[k], before[k]) for k in before), "the tensors given are not stepped"


def test_the_average_weighs_each_steps_parameters_as_an_exponential_moving_average_of_the_steps_taken():
    settings = Optimizer("adam", lr=0.05)
    given = {**_params(6), "scale": torch.tensor([2.0], dtype=torch.float64)}  # fixed: no gradient, never averaged
    params, state = init_state(settings, {k: v.requires_grad_() if k != "scale" else v for k, v in given.items()})
    start_average(state, 4.0)  # each step weighs 1/4: beta 0.75
    seen = []
    for t in range(6):
        _loss(params, t).backward()
        step(settings, state)
        seen.append({k: v.detach().clone() for k, v in params.items()})
    weights = [0.25 * 0.75 ** (5 - i) for i in range(6)]  # the latest step weighs most; they sum to 1 - 0.75**6
    got = averaged(state, params)
    for key in ("w", "b"):
        expected = sum(w * s[key] for w, s in zip(weights, seen)) / sum(weights)
        torch.testing.assert_close(got[key], expected, rtol=1e-12, atol=1e-12)
        assert got[key].shape == params[key].shape and not torch.equal(got[key], params[key])
    assert got["scale"] is params["scale"]
