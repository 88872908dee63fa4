"""The hand-written gradient-descent step, checked against finite differences."""

from __future__ import annotations

import pytest
import torch

from kit.models import MODELS
from kit.train import fit, mae


def _data(n=40, n_in=5, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(n, n_in, generator=gen, dtype=torch.float64)
    y = (torch.rand(n, generator=gen) > 0.5).double()
    return x, y


@pytest.mark.parametrize("name", list(MODELS))
def test_autograd_gradient_matches_a_finite_difference(name):
    model = MODELS[name]
    x, y = _data()
    params = {
        k: v.double().requires_grad_() for k, v in model.init(x.shape[1], torch.Generator().manual_seed(1)).items()
    }
    mae(model.predict(params, x), y).backward()
    eps = 1e-6
    for key, p in params.items():
        flat = p.detach().reshape(-1)
        for i in range(min(flat.numel(), 6)):

            def loss_at(delta, key=key, i=i):
                moved = {k: v.detach().clone() for k, v in params.items()}
                moved[key].reshape(-1)[i] += delta
                return mae(model.predict(moved, x), y).item()

            numeric = (loss_at(eps) - loss_at(-eps)) / (2 * eps)
            assert p.grad.reshape(-1)[i].item() == pytest.approx(numeric, abs=1e-6), (key, i)


def test_one_epoch_subtracts_lr_times_the_gradient():
    model = MODELS["linear"]
    x, y = _data()
    x, y = x.float(), y.float()
    start = {k: v.requires_grad_() for k, v in model.init(x.shape[1], torch.Generator().manual_seed(3)).items()}
    mae(model.predict(start, x), y).backward()
    expected = start["coeffs"].detach() - 0.5 * start["coeffs"].grad
    params, losses = fit(model, x, y, lr=0.5, epochs=1, seed=3)
    assert torch.allclose(params["coeffs"], expected)
    assert len(losses) == 1


def test_training_lowers_the_loss_and_is_deterministic():
    x, y = _data(n=200)
    x, y = x.float(), y.float()
    for name, model in MODELS.items():
        a, losses = fit(model, x, y, lr=model.lr / 10, epochs=10, seed=7)
        b, again = fit(model, x, y, lr=model.lr / 10, epochs=10, seed=7)
        assert losses == again
        assert all(torch.equal(a[k], b[k]) for k in a)
        assert losses[-1] < losses[0], name
