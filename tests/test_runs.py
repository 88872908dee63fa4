"""Large folds: mini-batches as runs of rows shuffled once (kit.batched.RUN_ROWS), not gathered each epoch.

The threshold is lowered here so that a few hundred rows take the large folds' path.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

import kit.batched as batched
import kit.train as train
import kit.validation as validation
from kit.batched import init_grid
from kit.competition import load_competition, read_train_test, target_vector
from kit.models import MODELS, forward, forward_rows_first
from kit.recipe import apply_recipe
from kit.task import make_task
from kit.train import Training, fit
from kit.validation import Plan, cross_validate, split_indices

COMP = load_competition("titanic")
SPEC = COMP.recipe()
TASK = make_task(COMP.task, COMP.metric, COMP.labels, COMP.columns)


@pytest.fixture
def small_runs(monkeypatch):
    """Folds of more than 30 rows take the large folds' path, their 0/1 features packed (kit.batched.PackedRows)."""
    for module in (batched, train, validation):
        monkeypatch.setattr(module, "RUN_ROWS", 30)
    monkeypatch.setattr(validation, "PACK_BYTES", 0)


@pytest.mark.parametrize(("n", "batch"), [(10, 4), (100, 7), (64, 64), (1000, 333)])
def test_each_epoch_takes_every_slot_once_in_runs_that_move_from_epoch_to_epoch(n, batch):
    gen = torch.Generator().manual_seed(3)
    epochs = [batched.epoch_runs(n, batch, gen) for _ in range(4)]
    for runs in epochs:
        slots = [s % n for start, stop in runs for s in range(start, stop)]
        assert sorted(slots) == list(range(n))  # every slot once
        lengths = [stop - start for start, stop in runs]
        assert len(runs) == -(-n // batch) and max(lengths) - min(lengths) <= 1
        assert all(0 <= start < n and stop - start <= n for start, stop in runs)
    if n > batch:  # the cuts (and the order they are taken in) change between epochs
        assert len({tuple(runs) for runs in epochs}) == len(epochs)


def test_a_run_past_the_last_slot_wraps_to_the_first():
    t = torch.arange(10.0).view(1, 10)
    assert batched.run_of(t, 3, 6, 1).tolist() == [[3.0, 4.0, 5.0]]
    assert batched.run_of(t, 8, 12, 1).tolist() == [[8.0, 9.0, 0.0, 1.0]]
    assert batched.run_of(t, 3, 6, 1).data_ptr() == t[:, 3:].data_ptr()  # a view: no copy


def test_shuffle_once_keeps_each_rows_features_with_its_target_and_spreads_the_padding():
    sizes = [50, 47, 30]
    xs = [
        torch.stack([torch.arange(n, dtype=torch.float32) + 1000 * f, torch.zeros(n)], dim=1)
        for f, n in enumerate(sizes)
    ]
    ys = [x[:, 0] * 2 for x in xs]  # each row's target is twice its first feature
    x, mask = batched.pad_rows(xs)
    y, _ = batched.pad_rows(ys)
    xs_, ys_, mask_ = batched.shuffle_once(x, y, mask, seed=4)
    assert xs_.shape == x.shape and xs_.is_contiguous()  # rows first: a batch's rows lie side by side
    assert torch.equal(ys_, xs_[:, :, 0] * 2)  # features and target moved together, padding slots too
    for f, n in enumerate(sizes):
        rows = xs_[f, mask_[f] == 1, 0]
        assert sorted(rows.tolist()) == (torch.arange(n) + 1000 * f).tolist()  # each row once, in a new order
        assert not torch.equal(rows, torch.arange(n, dtype=torch.float32) + 1000 * f)
    padding = (mask_[2] == 0).nonzero().flatten()  # 20 padding slots of the 30-row fold: not all at the end
    assert len(padding) == 20 and padding.min() < 30
    again = batched.shuffle_once(x, y, mask, seed=4)
    assert all(torch.equal(a, b) for a, b in zip(again, (xs_, ys_, mask_)))  # the same seed, the same order


def _blocks(sizes, seed=0):
    gen = torch.Generator().manual_seed(seed)
    xs = [torch.randn(n, 5, generator=gen) for n in sizes]
    ys = [(x[:, 0] - x[:, 1] > 0).float() for x in xs]
    x, mask = batched.pad_rows(xs)
    return x, batched.pad_rows(ys)[0], mask


def test_large_folds_train_on_runs_of_rows_shuffled_once_by_fit_itself_or_by_the_caller(small_runs, monkeypatch):
    x, y, mask = _blocks([90, 87])
    settings = Training(epochs=6, batch_size=16).settings("nn")

    def no_gather(*args, **kwargs):
        raise AssertionError("a large fold gathered its batches")

    monkeypatch.setattr(train, "batch_order", no_gather)
    own = fit(settings, TASK, x, y, mask, seeds=[1, 2], shuffle_seed=7)
    given = fit(settings, TASK, *batched.shuffle_once(x, y, mask, seed=7), seeds=[1, 2], shuffle_seed=7, shuffled=True)
    for key in own.params:
        assert torch.equal(own.params[key], given.params[key]), key
    assert torch.equal(own.losses, given.losses)
    assert (own.losses[:, :, -1] < own.losses[:, :, 0]).all()  # it learns


def test_folds_below_the_threshold_still_gather_a_fresh_shuffle_each_epoch(monkeypatch):
    x, y, mask = _blocks([90, 87])
    calls = []
    real = train.batch_order
    monkeypatch.setattr(train, "batch_order", lambda *a: calls.append(1) or real(*a))
    fit(Training(epochs=3, batch_size=16).settings("linear"), TASK, x, y, mask, seeds=[1])
    assert len(calls) == 3


def test_cross_validation_stores_large_folds_shuffled_with_each_rows_own_target(small_runs, synthetic_dir):
    train_frame, test = read_train_test(COMP, synthetic_dir, SPEC)
    y = torch.tensor(target_vector(COMP, train_frame))
    folds = split_indices(Plan(folds=3), y)
    data = validation._encode_folds(SPEC, train_frame, test, folds)
    for width, members in data.groups.items():
        stacks = data.stacks[width]
        assert isinstance(stacks["train"], batched.PackedRows)  # the article's one-hot columns a byte each
        for f, slot in members:
            rows = folds[f][0]
            order = stacks["order"][slot]
            real = order < len(rows)
            expected = apply_recipe(SPEC, data.states[f], train_frame.iloc[rows.numpy()])
            stored = stacks["train"][slot : slot + 1].dense()[0]  # as float32
            assert torch.equal(stored[real], expected[order[real]])  # the same bytes, shuffled
            assert stacks["mask"][slot].sum() == len(rows) and torch.equal(stacks["mask"][slot], real.float())
            assert sorted(order[real].tolist()) == list(range(len(rows)))
            assert not torch.equal(order[real], torch.arange(len(rows)))


def test_cross_validation_on_large_folds_learns_and_repeats_its_bytes(small_runs, synthetic_dir, monkeypatch):
    train_frame, test = read_train_test(COMP, synthetic_dir, SPEC)
    y = torch.tensor(target_vector(COMP, train_frame))
    plan = Plan(models=("linear", "nn"), folds=2, training=Training(epochs=20, batch_size=16))
    seen = []
    real = validation.fit
    monkeypatch.setattr(validation, "fit", lambda *a, **k: seen.append(k.get("shuffled")) or real(*a, **k))
    first = cross_validate(SPEC, train_frame, test, y, plan, TASK)
    assert seen and all(seen)  # the folds' stacks were handed over as shuffled
    again = cross_validate(SPEC, train_frame, test, y, plan, TASK)
    for name in plan.models:
        assert torch.equal(first.models[name].oof, again.models[name].oof)
    # a target misaligned with its rows would score the majority rate; the sexes alone score ~0.75 here
    majority = max(y.float().mean().item(), 1 - y.float().mean().item())
    assert first.ensemble.fold_scores and min(first.ensemble.fold_scores) > majority


def test_the_full_fit_puts_large_training_sets_in_one_order_for_every_model(small_runs, synthetic_dir, monkeypatch):
    train_frame, test = read_train_test(COMP, synthetic_dir, SPEC)
    y = torch.tensor(target_vector(COMP, train_frame))
    seen = []
    real = validation.fit

    def spy(settings, task, x, y_, mask, **kwargs):
        seen.append((kwargs.get("shuffled"), x.is_contiguous(), x.data_ptr()))  # rows first, shuffled
        return real(settings, task, x, y_, mask, **kwargs)

    monkeypatch.setattr(validation, "fit", spy)
    plan = Plan(models=("linear", "nn"), training=Training(epochs=5, batch_size=16))
    pred, _ = validation.fit_full(SPEC, train_frame, test, y, plan, TASK)
    assert [s[:2] for s in seen] == [(True, True)] * 2 and len({s[2] for s in seen}) == 1  # one copy, shared
    assert pred.shape == (len(test),) and not torch.isnan(pred).any()


@pytest.mark.parametrize("model", ["linear", "deep"])  # deep's activations are rows first (forward_rows_first)
@pytest.mark.parametrize(
    ("kind", "metric", "labels", "columns"),
    [
        ("multiclass", "accuracy", ("a", "b", "c"), ("id", "y")),
        ("regression", "rmse", (), ("id", "y")),
        ("multilabel", "roc_auc", ("A", "B"), ("id", "A", "B")),
    ],
)
def test_every_task_trains_on_runs_of_its_rows_with_each_rows_own_target(
    small_runs, kind, metric, labels, columns, model
):
    task = make_task(kind, metric, labels, columns)
    gen = torch.Generator().manual_seed(0)
    xs = [torch.randn(n, 4, generator=gen) for n in (90, 87)]
    if kind == "multiclass":
        ys = [(x[:, 0] > 0.5).long() + (x[:, 0] > -0.5).long() for x in xs]  # three classes along x0
    elif kind == "regression":
        ys = [3 * x[:, 0] - x[:, 1] + 100 for x in xs]
    else:
        ys = [torch.stack([(x[:, 0] > 0).float(), (x[:, 1] > 0).float()], dim=1) for x in xs]
    x, mask = batched.pad_rows(xs)
    y, _ = batched.pad_rows(ys)
    settings = Training(epochs=30, batch_size=16, lr=0.05).settings(model)
    own = fit(settings, task, x, y, mask, seeds=[1])
    given = fit(settings, task, *batched.shuffle_once(x, y, mask), seeds=[1], shuffled=True)
    assert all(torch.equal(own.params[k], given.params[k]) for k in own.params)
    assert (own.losses[:, :, -1] < own.losses[:, :, 0] / 2).all()  # rows and targets moved together: it learns


def test_put_in_order_writes_each_slot_its_rows_features():
    x = torch.arange(20 * 4, dtype=torch.float32).view(20, 4)  # 20 rows of 4 features, each cell its own value
    order = batched.shuffle_order(1, 23, seed=5)[0]  # 23 slots: 3 of them padding
    out = torch.full((23, 4), float("nan"))
    batched.put_in_order(out, x, order)
    for slot, row in enumerate(order.tolist()):
        assert torch.equal(out[slot], x[min(row, 19)])  # a padding slot holds the last row


ROWS_FIRST_CASES = [(name, "default", width, n_seeds) for name in ("linear", "nn", "deep")
                    for width, n_seeds in [(1, 1), (1, 3), (3, 2)]]  # fmt: skip
ROWS_FIRST_CASES += [(name, "article", 1, n_seeds) for name in ("nn", "deep") for n_seeds in (1, 3)]  # scalar biases


@pytest.mark.parametrize(("name", "preset", "width", "n_seeds"), ROWS_FIRST_CASES)
def test_rows_first_activations_give_forwards_outputs_and_gradients(name, preset, width, n_seeds):
    gen = torch.Generator().manual_seed(0)
    n_folds, n, n_in = 2, 50, 5
    model = MODELS[name]
    hidden = {"linear": (), "nn": (7,), "deep": (7, 4)}[name]
    drawn = init_grid(model, n_in, width, list(range(n_seeds)), n_folds, hidden=hidden, preset=preset)
    params = {k: v.detach() + 0.1 * torch.randn(v.shape, generator=gen) for k, v in drawn.items()}  # folds differ
    if width == 1 and name == "deep":  # a regression's fixed scale and shift
        params |= {"scale": torch.rand(n_folds, n_seeds, generator=gen), "shift": torch.rand(n_folds, n_seeds)}
    x = torch.randn(n_folds, n, n_in, generator=gen)  # rows first
    grads = []
    for run in (lambda p: forward(p, x.transpose(1, 2)), lambda p: forward_rows_first(p, x.contiguous())):
        p = {k: v.clone().requires_grad_(k not in ("scale", "shift")) for k, v in params.items()}
        z = run(p)
        assert z.shape == ((n_folds, n_seeds, n) if width == 1 else (n_folds, n_seeds, n, width))
        (z * torch.linspace(-1, 1, z.numel()).view(z.shape)).sum().backward()  # a different weight on every output
        grads.append((z.detach(), {k: v.grad for k, v in p.items() if v.requires_grad}))
    (z0, g0), (z1, g1) = grads
    torch.testing.assert_close(z1, z0, rtol=1e-5, atol=1e-6)
    for k in g0:
        torch.testing.assert_close(g1[k], g0[k], rtol=1e-4, atol=1e-6, msg=k)


@pytest.mark.parametrize(
    ("hidden", "rows_first"), [((32, 32), True), ((16, 16), True), ((10, 10), False), ((32,), False)]
)
def test_large_folds_keep_activations_rows_first_only_where_a_wide_hidden_layer_feeds_another(
    small_runs, monkeypatch, hidden, rows_first
):
    calls = []
    real = train.forward_rows_first
    monkeypatch.setattr(train, "forward_rows_first", lambda *a: calls.append(1) or real(*a))
    x, y, mask = _blocks([90, 87])
    model = "deep" if len(hidden) > 1 else "nn"
    fit(Training(epochs=2, batch_size=16, hidden={model: list(hidden)}).settings(model), TASK, x, y, mask, seeds=[1])
    assert bool(calls) == rows_first  # measured: 10 x 10 and nn's one layer are faster rows last


def _cv_tensors(plan, data) -> list[torch.Tensor]:
    """Every model's and the ensemble's out-of-fold and test predictions of a CV on data (train, test)."""
    train_frame, test = data
    y = torch.tensor(target_vector(COMP, train_frame))
    result = cross_validate(SPEC, train_frame, test, y, plan, TASK)
    return [t for r in [*result.models.values(), result.ensemble] for t in (r.oof, r.test_pred)]


def _same_bytes(a: list, b: list) -> bool:
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b))


def test_large_folds_packed_a_byte_per_level_train_as_float32_stacks_and_repeat_their_bytes(
    small_runs, synthetic_dir, monkeypatch
):
    data = read_train_test(COMP, synthetic_dir, SPEC)
    plan = Plan(models=("linear", "nn", "deep"), folds=3, training=Training(epochs=6, batch_size=16))
    full = replace(plan, training=Training(epochs=6, batch_size=0))  # a fit that reads every row at once
    packed = [_cv_tensors(plan, data), _cv_tensors(full, data)]
    assert _same_bytes(_cv_tensors(plan, data), packed[0])  # the same bytes run to run
    monkeypatch.setattr(validation, "PACK_BITS", False)
    for got, want in zip(_cv_tensors(plan, data), packed[0]):  # a view's products may differ in the last bits
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
    assert _same_bytes(_cv_tensors(full, data), packed[1])  # full batch: the packed stack read as the float32 one


def test_only_a_stack_of_pack_bytes_or_more_is_packed(small_runs, synthetic_dir, monkeypatch):
    train_frame, test = read_train_test(COMP, synthetic_dir, SPEC)
    folds = split_indices(Plan(folds=3), torch.tensor(target_vector(COMP, train_frame)))
    (stacks,) = validation._encode_folds(SPEC, train_frame, test, folds).stacks.values()
    n_folds, n, width = stacks["train"].shape
    monkeypatch.setattr(validation, "PACK_BYTES", n_folds * n * width * 4 + 1)  # a byte more than it would take
    (stacks,) = validation._encode_folds(SPEC, train_frame, test, folds).stacks.values()
    assert isinstance(stacks["train"], torch.Tensor)


def test_a_fold_whose_features_are_not_all_0_or_1_makes_the_stacks_float32_again(
    small_runs, synthetic_dir, monkeypatch
):
    train_frame, test = read_train_test(COMP, synthetic_dir, SPEC)
    y = torch.tensor(target_vector(COMP, train_frame))
    folds = split_indices(Plan(folds=3), y)
    calls, real = [], batched.as_bits
    monkeypatch.setattr(validation, "as_bits", lambda x: None if calls.append(1) or len(calls) == 2 else real(x))
    data = validation._encode_folds(SPEC, train_frame, test, folds)  # the second fold's "not all 0 or 1"
    assert len(calls) == 2 and all(isinstance(s["train"], torch.Tensor) for s in data.stacks.values())
    monkeypatch.setattr(validation, "as_bits", real)
    packed = validation._encode_folds(SPEC, train_frame, test, folds)
    for width, stacks in data.stacks.items():
        assert torch.equal(stacks["train"], packed.stacks[width]["train"].dense())


def test_as_bits_takes_only_zeros_and_ones():
    assert batched.as_bits(torch.tensor([[0.0, 1.0], [1.0, 0.0]])).dtype == torch.uint8
    for other in (0.5, 2.0, -1.0, float("nan")):
        assert batched.as_bits(torch.tensor([[0.0, 1.0], [other, 0.0]])) is None


def test_a_packed_stack_gives_the_float32_rows_and_trains_as_its_float32_stack():
    gen = torch.Generator().manual_seed(0)
    n_folds, n, width, k = 3, 34_000, 60, 3  # above RUN_ROWS: runs of rows
    x = torch.randn(n_folds, n, width, generator=gen)
    x[:, :, k:] = (torch.rand(n_folds, n, width - k, generator=gen) > 0.9).float()
    y = (torch.rand(n_folds, n, generator=gen) > 0.5).float()
    mask = torch.ones(n_folds, n)
    packed = batched.PackedRows(x[:, :, :k].contiguous(), x[:, :, k:].to(torch.uint8))
    assert packed.shape == x.shape and torch.equal(packed.dense(), x)
    assert torch.equal(batched.run_of(packed, n - 5, n + 7, 1), batched.run_of(x, n - 5, n + 7, 1))  # wrapping
    for model in ("linear", "nn"):
        settings = Training(epochs=1).settings(model)
        one = fit(settings, TASK, x, y, mask, seeds=[1], shuffled=True).params
        other = fit(settings, TASK, packed, y, mask, seeds=[1], shuffled=True).params
        # a view of x and the packed stack's new tensors may differ in the products' last bits (on these rows linear
        # did, as a view and as a copy of the same run)
        assert all(torch.allclose(one[p], other[p], rtol=1e-5, atol=1e-6) for p in one), model
        again = fit(settings, TASK, packed, y, mask, seeds=[1], shuffled=True).params
        assert all(torch.equal(other[p], again[p]) for p in one), model
