"""Batched training: every fold and seed trained at once equals the same fits done one by one.

The oracle is `kit.train.fit`, the article's one-model loop. Batched matmuls add in another order,
so the two agree to float tolerance, not bit for bit, and only where training is stable: at the
article's rates the nets are chaotic on a few dozen rows (nudging x by one ulp moves an nn's
predictions by up to 0.9). The comparisons therefore run at rates where training is stable.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

import kit.batched as batched
from kit import KitError
from kit.competition import load_competition, read_train_test, target_vector
from kit.models import MODELS
from kit.recipe import apply_recipe, fit_recipe
from kit.task import make_task
from kit.train import fit, predict_proba
from kit.validation import Plan, cross_validate, fit_full, split_indices

COMP = load_competition("titanic")
SPEC = COMP.recipe()
TASK = make_task(COMP.task, COMP.metric, COMP.labels, COMP.columns)
TRAIN_SIZES = (37, 41, 29)  # training rows per fold: different, so the blocks are padded
VALID_SIZES = (11, 9, 14)
SEEDS = [5, 9]
STABLE_LR = {"linear_raw": 0.2, "linear": 25.0, "nn": 2.0, "deep": 0.4}
TOL = {"rtol": 1e-4, "atol": 1e-5}


def _blocks(sizes, seed, n_in=6):
    """Feature blocks with a learnable target: y is 1 where a fixed mix of the features is high."""
    gen = torch.Generator().manual_seed(seed)
    mix = torch.tensor([1.0, -2.0, 0.5, 1.5, -1.0, 0.3])[:n_in]
    xs = [torch.rand(n, n_in, generator=gen) for n in sizes]
    ys = [((x @ mix) > 0.2).float() for x in xs]
    return xs, ys


@pytest.fixture
def stable_models(monkeypatch):
    """MODELS at the stable rates, for code (cross_validate, fit_full) that reads them from MODELS."""
    for name, lr in STABLE_LR.items():
        monkeypatch.setitem(MODELS, name, replace(MODELS[name], lr=lr))
    return MODELS


@pytest.mark.parametrize("name", list(MODELS))
def test_a_grid_of_folds_and_seeds_equals_the_same_fits_one_by_one(name):
    model = MODELS[name]
    xs, ys = _blocks(TRAIN_SIZES, seed=0)
    valid, _ = _blocks(VALID_SIZES, seed=1)
    x, mask = batched.pad_rows(xs)
    y, _ = batched.pad_rows(ys)
    lr = STABLE_LR[name]
    params, losses = batched.fit_many(model, x, y, mask, lr=lr, epochs=model.epochs, seeds=SEEDS)
    valid_prob = batched.predict_many(model, params, batched.pad_rows(valid)[0])  # (F, S, n_valid_max)
    assert losses.shape == (len(TRAIN_SIZES), len(SEEDS), model.epochs)
    for f in range(len(TRAIN_SIZES)):
        for s, seed in enumerate(SEEDS):
            one, history = fit(model, xs[f], ys[f], lr=lr, epochs=model.epochs, seed=seed)
            for key in one:
                torch.testing.assert_close(params[key][f, s], one[key], **TOL, msg=f"{key} of fold {f} seed {seed}")
            torch.testing.assert_close(losses[f, s], torch.tensor(history), **TOL)
            expected = predict_proba(model, one, valid[f])
            torch.testing.assert_close(valid_prob[f, s, : VALID_SIZES[f]], expected, **TOL)
    assert (losses[:, :, -1] != losses[:, :, 0]).all(), "every model should have moved"


@pytest.mark.parametrize("name", list(MODELS))
def test_with_no_epochs_every_model_is_exactly_the_initialisation_fit_draws_for_its_seed(name):
    model = MODELS[name]
    xs, ys = _blocks(TRAIN_SIZES, seed=0)
    x, mask = batched.pad_rows(xs)
    params, _ = batched.fit_many(model, x, batched.pad_rows(ys)[0], mask, lr=1.0, epochs=0, seeds=SEEDS)
    for s, seed in enumerate(SEEDS):
        drawn, _ = fit(model, xs[0], ys[0], lr=1.0, epochs=0, seed=seed)
        for key in drawn:
            for f in range(len(TRAIN_SIZES)):
                assert torch.equal(params[key][f, s], drawn[key]), (key, f, seed)


def test_padding_rows_take_no_part_in_training_whatever_they_hold():
    model = MODELS["nn"]
    xs, ys = _blocks(TRAIN_SIZES, seed=0)
    x, mask = batched.pad_rows(xs)
    y, _ = batched.pad_rows(ys)
    padding = mask == 0  # (F, n_max)
    assert padding.any()
    noisy_x, noisy_y = x.clone(), y.clone()
    noisy_x[padding], noisy_y[padding] = 7.0, 1.0
    clean = batched.fit_many(model, x, y, mask, lr=2.0, epochs=10, seeds=SEEDS)
    noisy = batched.fit_many(model, noisy_x, noisy_y, mask, lr=2.0, epochs=10, seeds=SEEDS)
    for key in clean[0]:
        assert torch.equal(clean[0][key], noisy[0][key]), key
    assert torch.equal(clean[1], noisy[1])


def _one_by_one_cv(train, test, y, plan):
    """The one-by-one path cross_validate took before it was batched: fit per fold, model and seed."""
    folds = split_indices(plan, y)
    oof = {m: torch.full((len(y),), float("nan")) for m in plan.models}
    test_pred = {m: torch.zeros(len(test)) for m in plan.models}
    losses = {m: [] for m in plan.models}
    for train_idx, valid_idx in folds:
        state = fit_recipe(SPEC, train.iloc[train_idx.numpy()])
        x_train = apply_recipe(SPEC, state, train.iloc[train_idx.numpy()])
        x_valid = apply_recipe(SPEC, state, train.iloc[valid_idx.numpy()])
        x_test = apply_recipe(SPEC, state, test)
        for name in plan.models:
            model = MODELS[name]
            valid_sum, test_sum = torch.zeros(len(valid_idx)), torch.zeros(len(test))
            for seed in plan.seed_list():
                params, history = fit(model, x_train, y[train_idx], lr=model.lr, epochs=model.epochs, seed=seed)
                valid_sum += predict_proba(model, params, x_valid)
                test_sum += predict_proba(model, params, x_test)
                losses[name].append(history)
            oof[name][valid_idx] = valid_sum / plan.seeds
            test_pred[name] += test_sum / plan.seeds / len(folds)
    return oof, test_pred, losses


def test_cross_validation_equals_the_one_by_one_path(synthetic_dir, stable_models):
    train, test = read_train_test(COMP, synthetic_dir, SPEC)
    y = torch.tensor(target_vector(COMP, train))
    plan = Plan(models=tuple(stable_models), folds=3, seeds=2)
    result = cross_validate(SPEC, train, test, y, plan, TASK)
    oof, test_pred, losses = _one_by_one_cv(train, test, y, plan)
    for name in plan.models:
        got = result.models[name]
        torch.testing.assert_close(got.oof, oof[name], **TOL, msg=name)
        torch.testing.assert_close(got.test_pred, test_pred[name], **TOL, msg=name)
        torch.testing.assert_close(torch.tensor(got.losses), torch.tensor(losses[name]), **TOL, msg=name)
        folds = split_indices(plan, y)
        expected_scores = [((oof[name][v] > 0.5) == y[v].bool()).float().mean().item() for _, v in folds]
        assert got.fold_scores == expected_scores, name
    assert result.fit_seconds > 0


def test_training_on_all_rows_equals_the_one_by_one_fits(synthetic_dir, stable_models):
    train, test = read_train_test(COMP, synthetic_dir, SPEC)
    y = torch.tensor(target_vector(COMP, train))
    plan = Plan(models=("linear", "deep"), seeds=3)
    test_pred, state = fit_full(SPEC, train, test, y, plan, TASK)
    x_train, x_test = apply_recipe(SPEC, state, train), apply_recipe(SPEC, state, test)
    per_model = []
    for name in plan.models:
        model = stable_models[name]
        fits = [fit(model, x_train, y, lr=model.lr, epochs=model.epochs, seed=s)[0] for s in plan.seed_list()]
        per_model.append(torch.stack([predict_proba(model, p, x_test) for p in fits]).mean(dim=0))
    torch.testing.assert_close(test_pred, torch.stack(per_model).mean(dim=0), **TOL)


def test_plans_train_on_the_cpu_unless_told_otherwise():
    assert Plan().device == "cpu"


def test_asking_for_cuda_without_a_gpu_is_one_clear_error(synthetic_dir, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    train, test = read_train_test(COMP, synthetic_dir, SPEC)
    y = torch.tensor(target_vector(COMP, train))
    with pytest.raises(KitError, match="no CUDA GPU.*--device cpu"):
        cross_validate(SPEC, train, test, y, Plan(models=("linear",), folds=2, device="cuda"), TASK)
    with pytest.raises(KitError, match="no CUDA GPU"):
        fit_full(SPEC, train, test, y, Plan(models=("linear",), device="cuda"), TASK)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_grid_trained_on_the_gpu_equals_the_grid_trained_on_the_cpu():
    xs, ys = _blocks(TRAIN_SIZES, seed=0)
    x, mask = batched.pad_rows(xs)
    y, _ = batched.pad_rows(ys)
    for name, model in MODELS.items():
        lr = STABLE_LR[name]
        on_cpu = batched.fit_many(model, x, y, mask, lr=lr, epochs=model.epochs, seeds=SEEDS)
        on_gpu = batched.fit_many(model, x.cuda(), y.cuda(), mask.cuda(), lr=lr, epochs=model.epochs, seeds=SEEDS)
        for key in on_cpu[0]:
            torch.testing.assert_close(on_gpu[0][key].cpu(), on_cpu[0][key], **TOL, msg=f"{name} {key}")
        torch.testing.assert_close(on_gpu[1].cpu(), on_cpu[1], **TOL, msg=name)
