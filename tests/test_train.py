"""Training: gradients, the written-out step, the settings, the loss each task trains with, the
validation curves and the epoch they choose."""

from __future__ import annotations

import pytest
import torch

from kit.batched import cross_entropy_rows, log_loss_rows
from kit.models import MODELS, forward
from kit.task import METRICS, Task
from kit.train import (
    ARTICLE,
    EPOCH_STEPS,
    Settings,
    Training,
    batch_rows,
    best_epoch,
    fit,
    held_out_best_epochs,
    predict,
)

BINARY = Task("binary", METRICS["accuracy"], ("0", "1"))
MULTICLASS = Task("multiclass", METRICS["accuracy"], ("a", "b", "c"))
REGRESSION = Task("regression", METRICS["rmse"])


def _data(n=40, n_in=5, seed=0, dtype=torch.float32):
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(n, n_in, generator=gen, dtype=torch.float64)
    y = (torch.rand(n, generator=gen) > 0.5).double()
    return x.to(dtype), y.to(dtype)


def _learnable(n=300, n_in=6, seed=0, kind="binary"):
    """Standardised features and a target a small net can learn (not linearly for binary)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, n_in, generator=gen)
    if kind == "binary":
        y = ((x[:, 0] * x[:, 1] > 0) ^ (x[:, 2] > 1.0)).float()  # an xor: no linear model gets it
    elif kind == "multiclass":
        y = (x[:, 0] > -0.5).long() + (x[:, 1] > 0.5).long()  # 3 classes
    else:
        y = 2 * x[:, 0] - x[:, 1] ** 2 + 0.1 * torch.randn(n, generator=gen)
    return x, y


def _grid_of_one(x, y):
    return x[None], y[None], torch.ones(1, len(y))


@pytest.mark.parametrize("preset", ["article", "default"])
@pytest.mark.parametrize("name", list(MODELS))
def test_autograd_gradient_matches_a_finite_difference(name, preset):
    settings = Training(preset=preset).settings(name)
    x, y = _data(dtype=torch.float64)
    drawn = MODELS[name].init(x.shape[1], 1, torch.Generator().manual_seed(1), hidden=settings.hidden, preset=preset)
    params = {k: v.double()[None, None].clone().requires_grad_() for k, v in drawn.items()}  # a grid of one
    xt = x.T[None]  # (1, n_in, n)

    def loss_of(p):
        z = forward(p, xt)  # (1, 1, n)
        return log_loss_rows(z, y[None]).mean()

    loss_of(params).backward()
    eps = 1e-6
    for key, p in params.items():
        flat = p.detach().reshape(-1)
        for i in range(min(flat.numel(), 6)):
            moved = {k: v.detach().clone() for k, v in params.items()}
            moved[key].reshape(-1)[i] += eps
            up = loss_of(moved).item()
            moved[key].reshape(-1)[i] -= 2 * eps
            numeric = (up - loss_of(moved).item()) / (2 * eps)
            assert p.grad.reshape(-1)[i].item() == pytest.approx(numeric, abs=1e-6), (key, i)


def test_one_epoch_of_gradient_descent_subtracts_lr_times_the_gradient():
    settings = Training(preset="article", lr=0.5, epochs=1).settings("linear")
    x, y = _data()
    start = MODELS["linear"].init(x.shape[1], 1, torch.Generator().manual_seed(3), preset="article")
    w = start["w0"][None, None].clone().requires_grad_()  # (1, 1, n_in, 1)
    (torch.sigmoid(forward({"w0": w}, x.T[None])) - y).abs().mean().backward()  # the article's MAE
    done = fit(settings, BINARY, *_grid_of_one(x, y), seeds=[3])
    assert torch.allclose(done.params["w0"], w.detach() - 0.5 * w.grad)
    assert done.losses.shape == (1, 1, 1)


@pytest.mark.parametrize("batch_size", [0, 64], ids=["full batch", "mini-batches"])
def test_training_lowers_the_loss_and_the_same_seeds_give_the_same_bytes(batch_size):
    x, y = _learnable()
    for name in MODELS:
        settings = Training(epochs=20, batch_size=batch_size).settings(name)
        a = fit(settings, BINARY, *_grid_of_one(x, y), seeds=[7, 8], shuffle_seed=1)
        b = fit(settings, BINARY, *_grid_of_one(x, y), seeds=[7, 8], shuffle_seed=1)
        assert torch.equal(a.losses, b.losses)
        assert all(torch.equal(a.params[k], b.params[k]) for k in a.params)
        assert (a.losses[..., -1] < a.losses[..., 0]).all(), name


def test_mini_batches_are_shuffled_by_the_seed_they_are_given():
    x, y = _learnable()
    settings = Training(epochs=3, batch_size=50).settings("nn")
    one = fit(settings, BINARY, *_grid_of_one(x, y), seeds=[7], shuffle_seed=1)
    other = fit(settings, BINARY, *_grid_of_one(x, y), seeds=[7], shuffle_seed=2)
    assert not torch.equal(one.params["w0"], other.params["w0"])
    full = Training(epochs=3, batch_size=0).settings("nn")
    as_large = Training(epochs=3, batch_size=10_000).settings("nn")  # a batch as large as the data is the full batch
    a = fit(full, BINARY, *_grid_of_one(x, y), seeds=[7])
    b = fit(as_large, BINARY, *_grid_of_one(x, y), seeds=[7], shuffle_seed=5)
    assert torch.equal(a.params["w0"], b.params["w0"])


def test_on_large_data_the_default_batches_grow_so_an_epoch_takes_at_most_epoch_steps_steps():
    x, y = _learnable()  # 300 rows
    capped = Training(epochs=3, batch_size=8, epoch_steps=4).settings("nn")  # 300 / 4 -> batches of 75
    assert batch_rows(capped, 300) == 75 and batch_rows(capped, 20) == 8 and batch_rows(capped, 8) == 0
    fixed = Training(epochs=3, batch_size=75, epoch_steps=0).settings("nn")
    a = fit(capped, BINARY, *_grid_of_one(x, y), seeds=[7], shuffle_seed=1)
    b = fit(fixed, BINARY, *_grid_of_one(x, y), seeds=[7], shuffle_seed=1)
    assert all(torch.equal(a.params[k], b.params[k]) for k in a.params)
    default = Training().settings("nn")
    assert (default.batch_size, default.epoch_steps) == (1024, EPOCH_STEPS)
    assert batch_rows(default, 240_000) == 7_500 and batch_rows(default, 7_000) == 1024
    asked = Training(batch_size=512).settings("nn")  # a batch size asked for is kept, whatever the rows
    assert asked.epoch_steps == 0 and batch_rows(asked, 240_000) == 512


# ---- settings -----------------------------------------------------------------------------------


def test_the_article_preset_is_the_articles_settings():
    for name, (lr, epochs, hidden) in ARTICLE.items():
        s = Training(preset="article").settings(name)
        assert (s.optimizer, s.lr, s.epochs, s.batch_size, s.weight_decay, s.hidden, s.loss) == (
            "sgd", lr, epochs, 0, 0.0, hidden, "mae"
        )  # fmt: skip
    assert Training(preset="article").settings("linear_raw").raw
    assert not Training().settings("linear_raw").raw  # under the default preset linear_raw is linear


def test_settings_take_one_value_for_every_model_or_one_per_model():
    training = Training(lr=0.05, epochs={"linear": 60}, hidden={"deep": [16, 8, 4]}, optimizer="momentum")
    linear, deep = training.settings("linear"), training.settings("deep")
    assert (linear.lr, linear.epochs, linear.optimizer) == (0.05, 60, "momentum")
    assert deep.epochs == Training().settings("deep").epochs and deep.hidden == (16, 8, 4)
    assert Training(hidden=64).settings("deep").hidden == (64, 64)
    assert Training(hidden=64).settings("linear").hidden == ()
    assert Training(preset="article", epochs={"linear": 60}).settings("linear") == Settings(
        "linear", "article", "sgd", 100.0, 60, 0, 0.0, 0.0, (), "mae"
    )


def test_a_training_table_is_read_and_its_mistakes_named():
    assert Training.from_table({"lr": 0.1, "epochs": {"nn": 5}}) == Training(lr=0.1, epochs={"nn": 5})
    with pytest.raises(ValueError, match="unknown key.*learning_rate"):
        Training.from_table({"learning_rate": 0.1})
    with pytest.raises(ValueError, match="optimizer 'rmsprop' is not one of sgd, momentum, adam"):
        Training(optimizer="rmsprop")
    with pytest.raises(ValueError, match="unknown model.*forest"):
        Training(epochs={"forest": 3})
    with pytest.raises(ValueError, match="per model"):
        Training(hidden=[32, 16])
    with pytest.raises(ValueError, match="preset"):
        Training(preset="fastai")
    with pytest.raises(ValueError, match="lr must be a number"):
        Training(lr="fast")
    with pytest.raises(ValueError, match="epoch_steps must be a whole number"):
        Training(epoch_steps=-1)
    with pytest.raises(ValueError, match="average must be a number of epochs >= 0"):
        Training(average=-1)


def test_with_mini_batches_the_model_is_its_weights_averaged_and_average_0_keeps_the_last_steps():
    x, y = _learnable(n=200)
    xs, ys, mask = x[None], y[None], torch.ones(1, 200)
    averaged = Training(epochs=4, batch_size=32, average=1).settings("nn")  # about one epoch's steps
    assert Training().settings("nn").average == 0  # off unless asked: the hidden rows did not follow the CV's gain
    last = fit(Training(epochs=4, batch_size=32, average=0).settings("nn"), BINARY, xs, ys, mask, seeds=[1])
    kept = fit(averaged, BINARY, xs, ys, mask, seeds=[1])
    assert torch.equal(last.losses, kept.losses)  # the same steps were taken ...
    assert all(not torch.equal(last.params[k], kept.params[k]) for k in last.params)  # ... another model kept
    # a full batch's steps hold no noise to average: the same bytes either way
    full = [
        fit(Training(epochs=4, batch_size=0, average=a).settings("nn"), BINARY, xs, ys, mask, seeds=[1]) for a in (0, 1)
    ]
    assert all(torch.equal(full[0].params[k], full[1].params[k]) for k in full[0].params)
    assert Training(preset="article").settings("nn").average == 0  # the article's models exactly


# ---- the task sets the width, the link and the loss ---------------------------------------------


def test_models_have_one_output_per_class_and_predict_class_probabilities():
    x, y = _learnable(kind="multiclass")
    for name in ("linear", "nn", "deep"):
        settings = Training(epochs=150).settings(name)
        done = fit(settings, MULTICLASS, *_grid_of_one(x, y), seeds=[1, 2])
        last = max(k for k in done.params if k.startswith("w"))
        assert done.params[last].shape[-1] == 3
        pred = predict(settings, MULTICLASS, done.params, x[None])  # (1, 2, n, 3)
        assert pred.shape == (1, 2, len(y), 3)
        torch.testing.assert_close(pred.sum(dim=-1), torch.ones(1, 2, len(y)))
        assert MULTICLASS.score(pred[0].mean(dim=0), y) > 0.8, name


def test_the_article_preset_refuses_more_than_one_output():
    x, y = _learnable(kind="multiclass")
    with pytest.raises(ValueError, match="one output"):
        fit(Training(preset="article").settings("nn"), MULTICLASS, *_grid_of_one(x, y), seeds=[1])


@pytest.mark.parametrize(
    ("task", "loss"),
    [
        (BINARY, lambda z, y: -(y * torch.sigmoid(z).log() + (1 - y) * (1 - torch.sigmoid(z)).log())),
        (MULTICLASS, lambda z, y: -torch.log_softmax(z, dim=-1).gather(-1, y[:, None])[:, 0]),
        (REGRESSION, lambda z, y: (z - y) ** 2),
    ],
    ids=["binary: log loss", "multiclass: cross-entropy", "regression: squared error"],
)
def test_the_loss_follows_the_task(task, loss):
    x, y = _learnable(kind=task.kind)
    settings = Training(epochs=1).settings("nn")
    drawn = MODELS["nn"].init(x.shape[1], task.width, torch.Generator().manual_seed(4), hidden=settings.hidden)
    z = forward({k: v[None, None] for k, v in drawn.items()}, x.T[None])[0, 0]  # the first epoch's outputs
    if task.kind == "regression":
        z = z * y.std(correction=0) + y.mean()  # on the target's scale (see the next test)
    done = fit(settings, task, *_grid_of_one(x, y), seeds=[4])
    torch.testing.assert_close(done.losses[0, 0, 0], loss(z, y).mean())


def test_regression_outputs_start_on_each_folds_target_scale():
    x, _ = _learnable(n=200, kind="regression")
    y = (2 * x[:, 0] - x[:, 1]) * 1000 + 5000  # a linear target in the thousands
    folds = torch.stack([y[:100], y[100:]])  # (F, 100)
    done = fit(Training(epochs=0).settings("linear"), REGRESSION, torch.stack([x[:100], x[100:]]), folds,
               torch.ones(2, 100), seeds=[1, 2])  # fmt: skip
    torch.testing.assert_close(done.params["shift"], folds.mean(dim=1)[:, None].expand(2, 2))
    torch.testing.assert_close(done.params["scale"], folds.std(dim=1, correction=0)[:, None].expand(2, 2))
    assert not done.params["scale"].requires_grad
    trained = fit(Training(epochs=300).settings("linear"), REGRESSION, x[None], y[None], torch.ones(1, 200), seeds=[1])
    pred = predict(Training().settings("linear"), REGRESSION, trained.params, x[None])[0, 0]
    assert REGRESSION.score(pred, y) < 0.05 * y.std().item()  # without the scale, 300 steps of ~0.01 get nowhere


def test_the_articles_absolute_error_is_an_option_for_any_task():
    x, y = _learnable(kind="regression")
    settings = Training(epochs=1, loss="mae").settings("linear")
    drawn = MODELS["linear"].init(x.shape[1], 1, torch.Generator().manual_seed(4))
    z = (x @ drawn["w0"][:, 0] + drawn["b0"]) * y.std(correction=0) + y.mean()
    done = fit(settings, REGRESSION, *_grid_of_one(x, y), seeds=[4])
    torch.testing.assert_close(done.losses[0, 0, 0], (z - y).abs().mean())


def test_regression_learns_with_the_default_preset():
    x, y = _learnable(kind="regression")
    done = fit(Training(epochs=200).settings("nn"), REGRESSION, *_grid_of_one(x, y), seeds=[1])
    pred = predict(Training(epochs=200).settings("nn"), REGRESSION, done.params, x[None])[0, 0]
    assert REGRESSION.score(pred, y) < 0.5 * REGRESSION.score(torch.full_like(y, y.mean().item()), y)


def test_the_deep_net_with_the_default_preset_is_not_dead():
    x, y = _learnable(n=400)
    x_train, y_train, x_valid, y_valid = x[:300], y[:300], x[300:], y[300:]
    majority = max(y_valid.mean().item(), 1 - y_valid.mean().item())
    settings = Training(epochs=150).settings("deep")
    seeds = list(range(10))
    done = fit(settings, BINARY, *_grid_of_one(x_train, y_train), seeds=seeds)
    pred = predict(settings, BINARY, done.params, x_valid[None])[0]  # (S, n_valid)
    for s in range(len(seeds)):
        assert pred[s].std() > 0.05, f"seed {s} predicts one value for every row"
        assert BINARY.score(pred[s], y_valid) > majority + 0.1, f"seed {s}"


# ---- validation curves and the epoch they choose ------------------------------------------------


def test_validation_curves_are_the_loss_and_metric_after_each_epoch():
    x, y = _learnable(n=200)
    folds = [(torch.arange(0, 150), torch.arange(150, 200)), (torch.arange(50, 200), torch.arange(0, 50))]
    xs, ys = torch.stack([x[t] for t, _ in folds]), torch.stack([y[t] for t, _ in folds])
    xv, yv = torch.stack([x[v] for _, v in folds]), torch.stack([y[v] for _, v in folds])
    settings = Training(epochs=12).settings("nn")
    done = fit(settings, BINARY, xs, ys, torch.ones(2, 150), seeds=[1, 2, 3], valid=(xv, yv, torch.ones(2, 50)))
    assert done.valid_losses.shape == (2, 3, 12) and done.valid_scores.shape == (2, 12)
    pred = predict(settings, BINARY, done.params, xv)  # (F, S, 50): after the last epoch
    for f in range(2):
        assert done.valid_scores[f, -1].item() == BINARY.score(pred[f].mean(dim=0), yv[f])  # seed-averaged
        for s in range(3):
            z = torch.logit(pred[f, s].double())[None, None]  # (1, 1, 50): the outputs back from the probabilities
            expected = log_loss_rows(z, yv[f][None].double()).mean()
            assert done.valid_losses[f, s, -1].item() == pytest.approx(expected.item(), rel=1e-4)
        shorter = fit(
            Training(epochs=5).settings("nn"), BINARY, xs[f : f + 1], ys[f : f + 1], torch.ones(1, 150),
            seeds=[1, 2, 3], valid=(xv[f : f + 1], yv[f : f + 1], torch.ones(1, 50)),
        )  # fmt: skip
        torch.testing.assert_close(shorter.valid_scores[0], done.valid_scores[f, :5])


def test_validation_rows_take_no_part_in_training():
    x, y = _learnable(n=200)
    settings = Training(epochs=8).settings("deep")
    plain = fit(settings, BINARY, *_grid_of_one(x[:150], y[:150]), seeds=[1])
    watched = fit(settings, BINARY, *_grid_of_one(x[:150], y[:150]), seeds=[1], valid=_grid_of_one(x[150:], y[150:]))
    assert all(torch.equal(plain.params[k], watched.params[k]) for k in plain.params)
    assert plain.valid_scores is None and plain.valid_losses is None


def test_multiclass_curves_score_class_probabilities():
    x, y = _learnable(kind="multiclass")
    done = fit(Training(epochs=4).settings("linear"), MULTICLASS, *_grid_of_one(x[:200], y[:200]), seeds=[1],
               valid=_grid_of_one(x[200:], y[200:]))  # fmt: skip
    assert done.valid_scores.shape == (1, 4) and ((done.valid_scores > 0) & (done.valid_scores <= 1)).all()
    z = forward(done.params, x[200:].T[None])
    torch.testing.assert_close(done.valid_losses[..., -1], cross_entropy_rows(z, y[None, 200:]).mean(dim=-1))


def test_the_best_epoch_follows_the_metrics_direction_and_takes_the_earliest_of_equals():
    scores = torch.tensor([[0.70, 0.80, 0.80, 0.75], [0.72, 0.78, 0.82, 0.74]])  # (F, epochs)
    assert best_epoch(scores, BINARY) == 3  # mean 0.71, 0.79, 0.81, 0.745
    assert best_epoch(scores, REGRESSION) == 1  # lower is better
    assert best_epoch(torch.tensor([[0.5, 0.9, 0.9]]), BINARY) == 2
    assert best_epoch(scores, BINARY, folds=[0]) == 2


def test_an_epoch_chosen_for_a_fold_is_never_chosen_on_that_folds_rows():
    gen = torch.Generator().manual_seed(0)
    scores = torch.rand(5, 30, generator=gen, dtype=torch.float64)
    chosen, held_out = held_out_best_epochs(scores, BINARY)
    for f in range(5):
        rigged = scores.clone()
        rigged[f] = torch.rand(30, generator=gen, dtype=torch.float64) * 10  # the fold's own curve, anything at all
        assert held_out_best_epochs(rigged, BINARY)[0][f] == chosen[f]
        others = [g for g in range(5) if g != f]
        assert chosen[f] == int(scores[others].mean(dim=0).argmax()) + 1
        assert held_out[f] == scores[f, chosen[f] - 1].item()
    with pytest.raises(ValueError, match="two folds"):
        held_out_best_epochs(scores[:1], BINARY)


@pytest.mark.parametrize("batch_size", [0, 32])  # the whole fold a step, and shuffled mini-batches
@pytest.mark.parametrize("name", ["linear", "nn", "deep"])
def test_the_epochs_a_fit_kept_are_the_bytes_of_fits_that_stop_there(name, batch_size):
    x, y = _learnable(n=200)
    folds = [(torch.arange(0, 150), torch.arange(150, 200)), (torch.arange(50, 200), torch.arange(0, 50))]
    xs, ys = torch.stack([x[t] for t, _ in folds]), torch.stack([y[t] for t, _ in folds])
    valid = (torch.stack([x[v] for _, v in folds]), torch.stack([y[v] for _, v in folds]), torch.ones(2, 50))
    settings = Training(epochs=9, batch_size=batch_size).settings(name)
    whole = fit(settings, BINARY, xs, ys, torch.ones(2, 150), seeds=[1, 2], valid=valid, keep_each_epoch=True)
    assert len(whole.each_epoch) == 9
    for stop_at in ([3, 7], [9, 1], [5, 5]):
        stopped = fit(settings, BINARY, xs, ys, torch.ones(2, 150), seeds=[1, 2], stop_at=stop_at)
        taken = whole.at_epochs(stop_at)
        assert taken.params.keys() == stopped.params.keys()
        for key in stopped.params:
            assert torch.equal(taken.params[key], stopped.params[key]), (stop_at, key)
        assert torch.equal(taken.losses, stopped.losses)
    plain = fit(settings, BINARY, xs, ys, torch.ones(2, 150), seeds=[1, 2])
    assert plain.each_epoch is None  # nothing kept unless asked
    assert all(torch.equal(plain.params[k], whole.each_epoch[-1][k]) for k in plain.params)
    # every epoch's copy lives in one block per parameter, made before training: no heap of small copies
    for key in whole.params:
        blocks = {epoch[key].untyped_storage().data_ptr() for epoch in whole.each_epoch}
        assert len(blocks) == 1, key


def test_with_repeats_a_folds_epoch_is_chosen_on_its_own_repeats_other_folds_only():
    # Each repeat validates every row once: another repeat's folds hold this fold's own validation rows.
    from kit.train import held_out_sets

    assert held_out_sets(6, repeats=2) == [[1, 2], [0, 2], [0, 1], [4, 5], [3, 5], [3, 4]]
    assert held_out_sets(3) == [[1, 2], [0, 2], [0, 1]]  # one repeat: every other fold
    assert held_out_sets(3, repeats=3) == [[1, 2], [0, 2], [0, 1]]  # random split: one fold a repeat, no other
    gen = torch.Generator().manual_seed(1)
    scores = torch.rand(6, 20, generator=gen, dtype=torch.float64)  # 3 folds x 2 repeats
    chosen, _ = held_out_best_epochs(scores, BINARY, repeats=2)
    for f in range(6):
        rigged = scores.clone()
        other_repeat = range(3, 6) if f < 3 else range(0, 3)
        for g in [f, *other_repeat]:  # its own curve and every curve of the other repeat: anything at all
            rigged[g] = torch.rand(20, generator=gen, dtype=torch.float64) * 10
        assert held_out_best_epochs(rigged, BINARY, repeats=2)[0][f] == chosen[f]
    assert held_out_best_epochs(scores, BINARY)[0] != chosen  # without repeats every other fold counts
