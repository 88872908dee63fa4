"""The grid: every fold and seed trained at once equals a grid of one per (fold, seed); the losses.

Batched matmuls add in another order than a grid of one, so the two agree to float tolerance,
not bit for bit, and only where training is stable: at the article's rates the nets are chaotic
on a few dozen rows (nudging x by one ulp moves an nn's predictions by up to 0.9). The article
preset's comparisons therefore run at rates where training is stable.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as nnf

import kit.batched as batched
import kit.train as train
from kit import KitError
from kit.competition import load_competition, read_train_test, target_vector
from kit.models import MODELS
from kit.recipe import apply_recipe, fit_recipe
from kit.task import make_task
from kit.train import Training, fit, predict
from kit.validation import Plan, cross_validate, fit_full, split_indices

COMP = load_competition("titanic")
SPEC = COMP.recipe()
TASK = make_task(COMP.task, COMP.metric, COMP.labels, COMP.columns)
TRAIN_SIZES = (37, 41, 29)  # training rows per fold: different, so the blocks are padded
VALID_SIZES = (11, 9, 14)
SEEDS = [5, 9]
STABLE_ARTICLE = {"linear_raw": 0.2, "linear": 25.0, "nn": 2.0, "deep": 0.4}
TOL = {"rtol": 1e-4, "atol": 1e-5}


def _blocks(sizes, seed, n_in=6):
    """Feature blocks with a learnable target: y is 1 where a fixed mix of the features is high."""
    gen = torch.Generator().manual_seed(seed)
    mix = torch.tensor([1.0, -2.0, 0.5, 1.5, -1.0, 0.3])[:n_in]
    xs = [torch.rand(n, n_in, generator=gen) for n in sizes]
    ys = [((x @ mix) > 0.2).float() for x in xs]
    return xs, ys


def _settings(name: str, preset: str, batch_size: int = 0):
    if preset == "article":
        return Training(preset="article", lr=STABLE_ARTICLE[name]).settings(name)
    return Training(epochs=25, batch_size=batch_size).settings(name)


@pytest.fixture
def stable_article(monkeypatch):
    """The article preset at stable rates, for code (cross_validate, fit_full) that reads them from kit.train."""
    for name, lr in STABLE_ARTICLE.items():
        _, epochs, hidden = train.ARTICLE[name]
        monkeypatch.setitem(train.ARTICLE, name, (lr, epochs, hidden))


@pytest.mark.parametrize(
    ("preset", "batch_size", "sizes"),
    [("article", 0, TRAIN_SIZES), ("default", 0, TRAIN_SIZES), ("default", 16, (37, 41, 39))],
    ids=["article", "default full batch", "default mini-batches"],
)
@pytest.mark.parametrize("name", list(MODELS))
def test_a_grid_of_folds_and_seeds_equals_a_grid_of_one_per_fold_and_seed(name, preset, batch_size, sizes):
    settings = _settings(name, preset, batch_size)
    xs, ys = _blocks(sizes, seed=0)
    valid_x, valid_y = _blocks(VALID_SIZES, seed=1)
    x, mask = batched.pad_rows(xs)
    y, _ = batched.pad_rows(ys)
    xv, mv = batched.pad_rows(valid_x)
    yv, _ = batched.pad_rows(valid_y)
    grid = fit(settings, TASK, x, y, mask, seeds=SEEDS, valid=(xv, yv, mv), shuffle_seed=3)
    valid_pred = predict(settings, TASK, grid.params, xv)  # (F, S, n_valid_max)
    assert grid.losses.shape == grid.valid_losses.shape == (len(sizes), len(SEEDS), settings.epochs)
    for f in range(len(sizes)):
        for s, seed in enumerate(SEEDS):
            one = fit(
                settings, TASK, xs[f][None], ys[f][None], torch.ones(1, sizes[f]), seeds=[seed],
                valid=(valid_x[f][None], valid_y[f][None], torch.ones(1, VALID_SIZES[f])), shuffle_seed=3 + f,
            )  # fmt: skip
            for key in one.params:
                msg = f"{key} of fold {f} seed {seed}"
                torch.testing.assert_close(grid.params[key][f, s], one.params[key][0, 0], **TOL, msg=msg)
            torch.testing.assert_close(grid.losses[f, s], one.losses[0, 0], **TOL)
            torch.testing.assert_close(grid.valid_losses[f, s], one.valid_losses[0, 0], **TOL)
            expected = predict(settings, TASK, one.params, valid_x[f][None])[0, 0]
            torch.testing.assert_close(valid_pred[f, s, : VALID_SIZES[f]], expected, **TOL)
    assert (grid.losses[:, :, -1] != grid.losses[:, :, 0]).all(), "every model should have moved"


@pytest.mark.parametrize("preset", ["article", "default"])
@pytest.mark.parametrize("name", list(MODELS))
def test_with_no_epochs_every_model_is_exactly_the_initialisation_drawn_for_its_seed(name, preset):
    settings = Training(preset=preset, epochs=0).settings(name)
    xs, ys = _blocks(TRAIN_SIZES, seed=0)
    x, mask = batched.pad_rows(xs)
    params = fit(settings, TASK, x, batched.pad_rows(ys)[0], mask, seeds=SEEDS).params
    for s, seed in enumerate(SEEDS):
        drawn = MODELS[name].init(6, 1, torch.Generator().manual_seed(seed), hidden=settings.hidden, preset=preset)
        for key in drawn:
            for f in range(len(TRAIN_SIZES)):
                assert torch.equal(params[key][f, s], drawn[key]), (key, f, seed)


@pytest.mark.parametrize("batch_size", [0, 8], ids=["full batch", "mini-batches"])
def test_padding_rows_take_no_part_in_training_whatever_they_hold(batch_size):
    settings = Training(epochs=10, batch_size=batch_size).settings("nn")
    xs, ys = _blocks(TRAIN_SIZES, seed=0)
    x, mask = batched.pad_rows(xs)
    y, _ = batched.pad_rows(ys)
    padding = mask == 0  # (F, n_max)
    assert padding.any()
    noisy_x, noisy_y = x.clone(), y.clone()
    noisy_x[padding], noisy_y[padding] = 7.0, 1.0
    clean = fit(settings, TASK, x, y, mask, seeds=SEEDS)
    noisy = fit(settings, TASK, noisy_x, noisy_y, mask, seeds=SEEDS)
    for key in clean.params:
        assert torch.equal(clean.params[key], noisy.params[key]), key
    assert torch.equal(clean.losses, noisy.losses)


def test_mini_batches_deal_each_folds_own_rows_once_per_epoch():
    gens = [torch.Generator().manual_seed(s) for s in (1, 2)]
    index, mask = batched.batch_order([10, 7], 4, gens)
    assert index.shape == mask.shape == (2, 3, 4)  # ceil(10 / 4) batches for every fold
    for f, n in enumerate([10, 7]):
        rows = index[f][mask[f] == 1]
        assert sorted(rows.tolist()) == list(range(n))
        per_batch = mask[f].sum(dim=1)
        assert per_batch.max() - per_batch.min() <= 1


# ---- losses: closed forms, and torch.nn.functional as the oracle --------------------------------


def _logits(shape, seed=0, scale=3.0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * scale


def test_binary_log_loss_is_the_closed_form_and_torchs_and_stays_finite_for_huge_logits():
    z, y = _logits((2, 3, 20)), (torch.rand(2, 20, generator=torch.Generator().manual_seed(1)) > 0.5).double()
    p = torch.sigmoid(z)
    closed = -(y[:, None] * p.log() + (1 - y[:, None]) * (1 - p).log())
    torch.testing.assert_close(batched.log_loss_rows(z, y), closed)
    oracle = nnf.binary_cross_entropy_with_logits(z, y[:, None].expand_as(z), reduction="none")
    torch.testing.assert_close(batched.log_loss_rows(z, y), oracle)
    huge = torch.tensor([[[200.0, -200.0, 200.0, -200.0]]])  # (1, 1, 4): sigmoid rounds to 0 or 1 in float32
    loss = batched.log_loss_rows(huge, torch.tensor([[1.0, 0.0, 0.0, 1.0]]))
    assert torch.isfinite(loss).all()
    torch.testing.assert_close(loss, torch.tensor([[[0.0, 0.0, 200.0, 200.0]]]))


def test_cross_entropy_is_minus_the_log_softmax_of_the_true_class_and_torchs():
    z = _logits((2, 3, 20, 4))  # (F, S, n, k)
    y = torch.randint(0, 4, (2, 20), generator=torch.Generator().manual_seed(2))
    p = torch.exp(z) / torch.exp(z).sum(dim=-1, keepdim=True)
    closed = -p.gather(-1, y[:, None, :, None].expand(2, 3, 20, 1))[..., 0].log()
    torch.testing.assert_close(batched.cross_entropy_rows(z, y), closed)
    oracle = nnf.cross_entropy(z.reshape(-1, 4), y[:, None].expand(2, 3, 20).reshape(-1), reduction="none")
    torch.testing.assert_close(batched.cross_entropy_rows(z, y), oracle.view(2, 3, 20))
    assert torch.isfinite(batched.cross_entropy_rows(z * 1000, y)).all()


def test_squared_and_absolute_errors_are_their_closed_forms():
    z, y = _logits((2, 3, 5)), _logits((2, 5), seed=1)
    torch.testing.assert_close(batched.squared_error_rows(z, y), (z - y[:, None]) ** 2)
    torch.testing.assert_close(
        batched.squared_error_rows(z, y), nnf.mse_loss(z, y[:, None].expand_as(z), reduction="none")
    )
    torch.testing.assert_close(batched.absolute_error_rows(z, y), (z - y[:, None]).abs())
    probs = torch.softmax(_logits((1, 1, 3, 4)), dim=-1)
    labels = torch.tensor([[0, 3, 1]])
    expected = (probs - torch.eye(4, dtype=probs.dtype)[labels][:, None]).abs().sum(dim=-1)  # summed over classes
    torch.testing.assert_close(batched.absolute_error_rows(probs, labels), expected)


def test_a_models_loss_is_the_mean_over_its_own_folds_rows_only():
    per_row = torch.tensor([[[1.0, 2.0, 3.0, 100.0]], [[4.0, 5.0, 6.0, 7.0]]])  # (F=2, S=1, n=4)
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    torch.testing.assert_close(batched.masked_mean(per_row, mask), torch.tensor([[2.0], [5.5]]))


# ---- cross-validation and the full fit, through the grid ----------------------------------------


def _one_by_one_cv(train_rows, test, y, plan):
    """What cross_validate computes, as grids of one: fit per fold, model and seed."""
    folds = split_indices(plan, y)
    oof = {m: torch.full((len(y),), float("nan")) for m in plan.models}
    test_pred = {m: torch.zeros(len(test)) for m in plan.models}
    losses = {m: [] for m in plan.models}
    for train_idx, valid_idx in folds:
        state = fit_recipe(SPEC, train_rows.iloc[train_idx.numpy()])
        x_train = apply_recipe(SPEC, state, train_rows.iloc[train_idx.numpy()])[None]
        x_valid = apply_recipe(SPEC, state, train_rows.iloc[valid_idx.numpy()])[None]
        x_test = apply_recipe(SPEC, state, test)[None]
        for name in plan.models:
            settings = plan.training.settings(name)
            valid_sum, test_sum = torch.zeros(len(valid_idx)), torch.zeros(len(test))
            for seed in plan.seed_list():
                one = fit(settings, TASK, x_train, y[train_idx][None], torch.ones(1, len(train_idx)), seeds=[seed])
                valid_sum += predict(settings, TASK, one.params, x_valid)[0, 0]
                test_sum += predict(settings, TASK, one.params, x_test)[0, 0]
                losses[name].append(one.losses[0, 0].tolist())
            oof[name][valid_idx] = valid_sum / plan.seeds
            test_pred[name] += test_sum / plan.seeds / len(folds)
    return oof, test_pred, losses


def test_cross_validation_equals_the_one_by_one_path(synthetic_dir, stable_article):
    train_rows, test = read_train_test(COMP, synthetic_dir, SPEC)
    y = torch.tensor(target_vector(COMP, train_rows))
    plan = Plan(models=tuple(MODELS), folds=3, seeds=2)
    result = cross_validate(SPEC, train_rows, test, y, plan, TASK)
    oof, test_pred, losses = _one_by_one_cv(train_rows, test, y, plan)
    for name in plan.models:
        got = result.models[name]
        torch.testing.assert_close(got.oof, oof[name], **TOL, msg=name)
        torch.testing.assert_close(got.test_pred, test_pred[name], **TOL, msg=name)
        torch.testing.assert_close(torch.tensor(got.losses), torch.tensor(losses[name]), **TOL, msg=name)
        folds = split_indices(plan, y)
        expected_scores = [((oof[name][v] > 0.5) == y[v].bool()).float().mean().item() for _, v in folds]
        assert got.fold_scores == expected_scores, name
    assert result.fit_seconds > 0


def test_training_on_all_rows_equals_the_one_by_one_fits(synthetic_dir, stable_article):
    train_rows, test = read_train_test(COMP, synthetic_dir, SPEC)
    y = torch.tensor(target_vector(COMP, train_rows))
    plan = Plan(models=("linear", "deep"), seeds=3)
    test_pred, state = fit_full(SPEC, train_rows, test, y, plan, TASK)
    x_train, x_test = apply_recipe(SPEC, state, train_rows)[None], apply_recipe(SPEC, state, test)[None]
    per_model = []
    for name in plan.models:
        settings = plan.training.settings(name)
        fits = [fit(settings, TASK, x_train, y[None], torch.ones(1, len(y)), seeds=[s]) for s in plan.seed_list()]
        per_model.append(torch.stack([predict(settings, TASK, one.params, x_test)[0, 0] for one in fits]).mean(0))
    torch.testing.assert_close(test_pred, torch.stack(per_model).mean(dim=0), **TOL)


def test_plans_train_on_the_cpu_unless_told_otherwise():
    assert Plan().device == "cpu"


def test_asking_for_cuda_without_a_gpu_is_one_clear_error(synthetic_dir, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    train_rows, test = read_train_test(COMP, synthetic_dir, SPEC)
    y = torch.tensor(target_vector(COMP, train_rows))
    with pytest.raises(KitError, match="no CUDA GPU") as error:  # the CLI words the fix: use --device cpu
        cross_validate(SPEC, train_rows, test, y, Plan(models=("linear",), folds=2, device="cuda"), TASK)
    assert error.value.fix == "device_cpu"
    with pytest.raises(KitError, match="no CUDA GPU"):
        fit_full(SPEC, train_rows, test, y, Plan(models=("linear",), device="cuda"), TASK)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("preset", ["article", "default"])
def test_a_grid_trained_on_the_gpu_equals_the_grid_trained_on_the_cpu(preset):
    xs, ys = _blocks(TRAIN_SIZES, seed=0)
    x, mask = batched.pad_rows(xs)
    y, _ = batched.pad_rows(ys)
    for name in MODELS:
        settings = _settings(name, preset, batch_size=16)
        on_cpu = fit(settings, TASK, x, y, mask, seeds=SEEDS)
        on_gpu = fit(settings, TASK, x.cuda(), y.cuda(), mask.cuda(), seeds=SEEDS)
        for key in on_cpu.params:
            torch.testing.assert_close(on_gpu.params[key].cpu(), on_cpu.params[key], **TOL, msg=f"{name} {key}")
        torch.testing.assert_close(on_gpu.losses.cpu(), on_cpu.losses, **TOL, msg=name)


def test_training_on_all_rows_reports_each_model_done_and_each_epoch(synthetic_dir):
    train_rows, test = read_train_test(COMP, synthetic_dir, SPEC)
    y = torch.tensor(target_vector(COMP, train_rows))
    plan = Plan(models=("linear", "deep"), seeds=2, training=Training(preset="article", epochs=3))
    done, epochs = [], []
    said = (done.append, lambda model, cap, epoch: epochs.append((model, cap, epoch)))
    fit_full(SPEC, train_rows, test, y, plan, TASK, epochs={"deep": 2}, progress=said)
    assert done == [1, 1]
    assert sorted(epochs, key=str) == [
        ("deep", 2, 1), ("deep", 2, 2), ("deep", 2, None), ("linear", 3, 1), ("linear", 3, 2), ("linear", 3, 3),
        ("linear", 3, None),
    ]  # each epoch, then None: done  # fmt: skip
