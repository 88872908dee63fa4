"""Splits, cross-validation and the ensemble."""

from __future__ import annotations

import json

import pytest
import torch

import kit.train as kit_train
import kit.validation as validation
from kit.competition import load_competition, read_train_test, target_vector
from kit.recipe import apply_recipe, fit_recipe
from kit.task import make_task
from kit.train import Training, best_epoch, fit, held_out_best_epochs, predict
from kit.validation import CVResult, ModelResult, Plan, cross_validate, ensemble, random_split, split_indices

COMP = load_competition("titanic")
SPEC = COMP.recipe()
TASK = make_task(COMP.task, COMP.metric, COMP.labels, COMP.columns)


def test_random_split_has_fastai_semantics():
    torch.manual_seed(42)  # what fastai's RandomSplitter(seed=42) does with the global generator
    perm = torch.randperm(891)
    train_idx, valid_idx = random_split(891, 0.2, 42)
    assert (len(train_idx), len(valid_idx)) == (713, 178)
    assert torch.equal(valid_idx, perm[:178]) and torch.equal(train_idx, perm[178:])


@pytest.mark.parametrize("split", ["kfold", "stratified"])
def test_folds_validate_every_row_exactly_once(split):
    y = torch.tensor([0.0, 1.0] * 25 + [0.0] * 30)
    folds = split_indices(Plan(split=split, folds=5, split_seed=3), y)
    valid = torch.cat([v for _, v in folds])
    assert sorted(valid.tolist()) == list(range(len(y)))
    for train_idx, valid_idx in folds:
        assert not set(train_idx.tolist()) & set(valid_idx.tolist())
    if split == "stratified":
        rates = [y[v].mean().item() for _, v in folds]
        assert max(rates) - min(rates) < 0.07


def test_recipe_is_fit_on_training_folds_only(synthetic_dir, monkeypatch):
    train, test = read_train_test(COMP, synthetic_dir, SPEC)
    y = torch.tensor(target_vector(COMP, train))
    seen = []
    real_fit = validation.fit_apply
    monkeypatch.setattr(
        validation, "fit_apply", lambda spec, rows: seen.append(set(rows.index)) or real_fit(spec, rows)
    )
    plan = Plan(models=("linear",), folds=4)
    result = cross_validate(SPEC, train, test, y, plan, TASK)
    folds = split_indices(plan, y)
    assert [(t.tolist(), v.tolist()) for t, v in result.folds] == [(t.tolist(), v.tolist()) for t, v in folds]
    assert len(seen) == len(folds)
    for rows, (_, valid_idx) in zip(seen, folds):
        assert not rows & set(valid_idx.tolist())


def test_cross_validation_keeps_oof_predictions_and_scores(synthetic_dir):
    train, test = read_train_test(COMP, synthetic_dir, SPEC)
    y = torch.tensor(target_vector(COMP, train))
    result = cross_validate(SPEC, train, test, y, Plan(models=("linear", "nn"), folds=4, seeds=2), TASK)
    assert isinstance(result, CVResult)
    for r in result.models.values():
        assert not torch.isnan(r.oof).any() and r.oof.shape == (len(train),)
        assert r.test_pred.shape == (len(test),)
        assert len(r.fold_scores) == 4 and len(r.losses) == 4 * 2
    # the ensemble is the mean of the members' probabilities
    mean = (result.models["linear"].oof + result.models["nn"].oof) / 2
    assert torch.allclose(result.ensemble.oof, mean)
    assert result.ensemble.mean == pytest.approx(sum(result.ensemble.fold_scores) / 4)


def test_oof_prediction_is_the_mean_over_seeds_of_independent_fits(synthetic_dir, monkeypatch):
    # CV trains its fits batched, so they match one-by-one fits to float tolerance, not bit for bit.
    # At the article's lr of 20 this net is chaotic on 53 rows (nudging x by one ulp moves its
    # predictions by up to 0.9), so the comparison runs at a rate where training is stable.
    monkeypatch.setitem(kit_train.ARTICLE, "nn", (2.0, 30, (20,)))
    train, test = read_train_test(COMP, synthetic_dir, SPEC)
    y = torch.tensor(target_vector(COMP, train))
    plan = Plan(models=("nn",), folds=3, seeds=2)
    result = cross_validate(SPEC, train, test, y, plan, TASK)
    train_idx, valid_idx = split_indices(plan, y)[0]
    state = fit_recipe(SPEC, train.iloc[train_idx.numpy()])
    x_t = apply_recipe(SPEC, state, train.iloc[train_idx.numpy()])
    x_v = apply_recipe(SPEC, state, train.iloc[valid_idx.numpy()])
    settings = plan.training.settings("nn")
    ones = torch.ones(1, len(train_idx))
    preds = [
        predict(settings, TASK, fit(settings, TASK, x_t[None], y[train_idx][None], ones, seeds=[s]).params, x_v[None])
        for s in (442, 443)
    ]
    assert torch.allclose(result.models["nn"].oof[valid_idx], (preds[0][0, 0] + preds[1][0, 0]) / 2, atol=1e-6)


def test_random_split_scores_only_the_validation_rows(synthetic_dir):
    train, test = read_train_test(COMP, synthetic_dir, SPEC)
    y = torch.tensor(target_vector(COMP, train))
    result = cross_validate(SPEC, train, test, y, Plan(models=("linear",), split="random"), TASK)
    assert torch.isnan(result.models["linear"].oof).sum() == len(y) - int(0.2 * len(y))
    assert len(result.ensemble.fold_scores) == 1


def test_ensemble_refuses_members_of_different_lengths():
    a = ModelResult(torch.zeros(3), torch.zeros(2), [1.0])
    b = ModelResult(torch.zeros(4), torch.zeros(2), [1.0])
    with pytest.raises(ValueError, match="disagree"):
        ensemble({"a": a, "b": b}, torch.zeros(3), [(torch.tensor([0]), torch.tensor([1, 2]))], TASK)


def test_repeats_give_the_folds_of_each_split_seed_in_turn():
    y = torch.tensor([0.0, 1.0] * 40)
    once = split_indices(Plan(folds=4, split_seed=7), y)
    again = split_indices(Plan(folds=4, split_seed=8), y)
    repeated = split_indices(Plan(folds=4, split_seed=7, repeats=2), y)
    assert len(repeated) == 8
    assert all(torch.equal(r[1], o[1]) for r, o in zip(repeated, once + again))


def test_with_repeats_oof_averages_each_rows_validations_and_folds_are_scored_one_by_one(synthetic_dir):
    train, test = read_train_test(COMP, synthetic_dir, SPEC)
    y = torch.tensor(target_vector(COMP, train))
    plan = Plan(models=("linear", "nn"), folds=4, repeats=3)
    result = cross_validate(SPEC, train, test, y, plan, TASK)
    folds = split_indices(plan, y)
    r = result.models["linear"]
    assert len(r.fold_scores) == len(r.fold_preds) == 12
    row = int(folds[0][1][0])  # validated once in each repeat
    seen = [pred[(v == row).nonzero()[0, 0]] for pred, (_, v) in zip(r.fold_preds, folds) if row in v.tolist()]
    assert len(seen) == 3 and torch.isclose(r.oof[row], torch.stack(seen).mean())
    # the ensemble is scored on each fold's own mean prediction, not on the averaged oof
    for f, (_, v) in enumerate(folds):
        mean = (result.models["linear"].fold_preds[f] + result.models["nn"].fold_preds[f]) / 2
        assert result.ensemble.fold_scores[f] == pytest.approx(((mean > 0.5) == y[v].bool()).float().mean().item())


def test_folds_whose_recipes_learn_different_columns_still_train(synthetic_dir):
    train, test = read_train_test(COMP, synthetic_dir, SPEC)
    train.loc[train.index[0], "Embarked"] = "Z"  # a port of one row: the fold validating it never learns it
    y = torch.tensor(target_vector(COMP, train))
    plan = Plan(models=("linear", "deep"), folds=4, seeds=2)
    result = cross_validate(SPEC, train, test, y, plan, TASK)
    assert len({len(state["columns"]) for state in result.recipe_states}) == 2
    assert not torch.isnan(result.models["deep"].oof).any() and len(result.ensemble.fold_scores) == 4


@pytest.mark.parametrize("choose_epochs", [False, True])
def test_folds_of_different_columns_and_different_sizes_train_each_on_its_own_rows(choose_epochs, synthetic_dir):
    train, test = read_train_test(COMP, synthetic_dir, SPEC)
    train = train.iloc[: len(train) // 2 * 2 - 1].copy()  # an odd count: one fold trains a row more
    train.loc[train.index[0], "Embarked"] = "Z"  # learned by one of two folds: each is a width of its own
    y = torch.tensor(target_vector(COMP, train))
    plan = Plan(models=("linear",), folds=2, training=Training(epochs=6), choose_epochs=choose_epochs)
    result = cross_validate(SPEC, train, test, y, plan, TASK)
    assert len({len(state["columns"]) for state in result.recipe_states}) == 2
    assert len({len(t) for t, _ in result.folds}) == 2  # the fold of fewer rows had stacks of the larger's
    linear = result.models["linear"]
    assert not torch.isnan(linear.oof).any() and len(result.ensemble.fold_scores) == 2
    # with choose_epochs each fold trains what the other fold's curve chose, whichever width it is
    expected = held_out_best_epochs(torch.tensor(linear.valid_scores), TASK)[0] if choose_epochs else [6, 6]
    assert linear.epochs == expected


def test_a_paired_comparison_reports_fold_by_fold_differences(synthetic_dir):
    from kit.validation import paired_comparison

    train, test = read_train_test(COMP, synthetic_dir, SPEC)
    y = torch.tensor(target_vector(COMP, train))
    a = cross_validate(SPEC, train, test, y, Plan(models=("linear", "nn"), folds=4), TASK)
    b = cross_validate(SPEC, train, test, y, Plan(models=("linear",), folds=4, init_seed=1), TASK)
    comparison = paired_comparison(a, b)
    assert set(comparison) == {"linear", "ensemble"}
    diffs = [x - z for x, z in zip(a.models["linear"].fold_scores, b.models["linear"].fold_scores)]
    c = comparison["linear"]
    assert c["mean_diff"] == pytest.approx(sum(diffs) / 4)
    assert c["wins"] + c["ties"] + c["losses"] == 4 and c["wins"] == sum(d > 0 for d in diffs)


def test_fold_stacks_hold_exactly_what_fit_and_apply_give_each_fold_and_test_is_encoded_once_per_encoding(
    titanic_dir, monkeypatch
):
    monkeypatch.setattr(validation, "TEST_CHUNK", 100)  # Titanic's 418 test rows in five chunks
    train, test = read_train_test(COMP, titanic_dir, SPEC)
    y = torch.tensor(target_vector(COMP, train))
    folds = split_indices(Plan(folds=5), y)
    encoded = []
    real = validation.unscaled_features
    monkeypatch.setattr(validation, "unscaled_features", lambda *a: encoded.append(1) or real(*a))
    data = validation._encode_folds(SPEC, train, test, folds)
    assert len(encoded) == 1  # the first fold's state, to check the test rows' fills before training
    encodings = {f: encoding for fold_ids, encoding in data.test_encodings(SPEC, test) for f in fold_ids}
    shared = {json.dumps({k: v for k, v in s.items() if k != "scale"}, sort_keys=True) for s in data.states}
    # Titanic's folds learn the same levels; some differ only in Fare's mode, which fills no test row (the
    # recipe fills a missing Fare with 0 first, as the article does): they share an encoding
    assert len(encoded) < len(shared) < len(folds)
    for width, members in data.groups.items():
        stacks = data.stacks[width]
        for f, slot in members:
            state = fit_recipe(SPEC, train.iloc[folds[f][0].numpy()])
            assert state == data.states[f]
            for name, rows in (("train", folds[f][0]), ("valid", folds[f][1])):
                x = apply_recipe(SPEC, state, train.iloc[rows.numpy()])
                assert torch.equal(stacks[name][slot, : len(x)], x)  # the same bytes, not just close
                assert not stacks[name][slot, len(x) :].any()  # padding is zeros
            tests = torch.cat([x[0] for x in data.scaled_test(f, encodings[f])])
            assert torch.equal(tests, apply_recipe(SPEC, state, test))
            assert stacks["mask"][slot].sum() == len(folds[f][0])


@pytest.mark.parametrize("test_gaps", [(), ("num",), ("cat",), ("num", "cat")])
def test_folds_that_differ_only_in_fills_the_test_rows_never_use_share_one_test_encoding(monkeypatch, test_gaps):
    import pandas as pd

    from kit.recipe_spec import RecipeSpec

    # Every fold learns a median and a mode of its own (the levels are about equally common, as in a
    # Playground set); the test rows need them only where they have gaps.
    spec = RecipeSpec(name="t", numeric=["num", "other"], fill_median=["num"], fill_mode=["cat"], one_hot=["cat"])
    gen = torch.Generator().manual_seed(0)
    n = 400
    train = pd.DataFrame(
        {
            "num": torch.randn(n, generator=gen).tolist(),
            "other": torch.rand(n, generator=gen).tolist(),
            "cat": [f"c{int(i) % 3}" for i in torch.randperm(n, generator=gen)],  # about a third each
        }
    )
    train.loc[::7, "num"] = float("nan")
    train.loc[3::11, "cat"] = None
    test = train.iloc[:60].copy()
    test["num"] = test["num"].fillna(0.5)
    test["cat"] = test["cat"].fillna("c1")
    for col in test_gaps:
        test.loc[test.index[5], col] = None if col == "cat" else float("nan")
    folds = split_indices(Plan(split="kfold", folds=5), torch.zeros(n))
    encoded = []
    real = validation.unscaled_features
    monkeypatch.setattr(validation, "unscaled_features", lambda *a: encoded.append(1) or real(*a))
    data = validation._encode_folds(spec, train, test, folds)
    assert len({json.dumps(s["medians"]) for s in data.states}) == 5  # the folds' own medians
    assert len({json.dumps(s["modes"]) for s in data.states}) > 1
    encodings = {f: encoding for fold_ids, encoding in data.test_encodings(spec, test) for f in fold_ids}
    expected = len({json.dumps([s["medians"] if "num" in test_gaps else 0, s["modes"] if "cat" in test_gaps else 0])
                    for s in data.states})  # fmt: skip
    assert len(encoded) == expected  # one encoding per distinct fill the test rows do use
    for f, state in enumerate(data.states):
        tests = torch.cat([x[0] for x in data.scaled_test(f, encodings[f])])
        assert torch.equal(tests, apply_recipe(spec, state, test))  # each fold's own bytes


def test_each_folds_epochs_are_chosen_on_the_other_folds_and_the_full_fits_on_every_fold(synthetic_dir):
    train, test = read_train_test(COMP, synthetic_dir, SPEC)
    y = torch.tensor(target_vector(COMP, train))
    plan = Plan(models=("linear", "nn"), folds=4, seeds=2, training=Training(epochs=15), choose_epochs=True)
    result = cross_validate(SPEC, train, test, y, plan, TASK)
    for name, r in result.models.items():
        curves = torch.tensor(r.valid_scores, dtype=torch.float64)  # (F, epochs): each fold's curve, every epoch
        assert curves.shape == (4, 15)
        chosen, held_out = held_out_best_epochs(curves, TASK)  # fold f's epoch from the folds other than f
        assert r.epochs == chosen, name
        # each fold is scored with the models kept after its chosen epoch: its own curve at that epoch
        assert r.fold_scores == pytest.approx(held_out), name
        assert r.chosen_epochs == best_epoch(curves, TASK), name  # the full-data fit: every fold's curve
    assert result.full_fit_epochs() == {name: r.chosen_epochs for name, r in result.models.items()}


def test_with_repeats_each_folds_epochs_are_chosen_on_its_own_repeats_other_folds(synthetic_dir):
    train, test = read_train_test(COMP, synthetic_dir, SPEC)
    y = torch.tensor(target_vector(COMP, train))
    plan = Plan(models=("nn",), folds=3, repeats=2, training=Training(epochs=15), choose_epochs=True)
    r = cross_validate(SPEC, train, test, y, plan, TASK).models["nn"]
    curves = torch.tensor(r.valid_scores, dtype=torch.float64)  # (6, 15): repeat 0's three folds, then repeat 1's
    chosen, held_out = held_out_best_epochs(curves, TASK, repeats=2)
    assert r.epochs == chosen and r.fold_scores == pytest.approx(held_out)
    for f in range(6):  # written out: the mean of the other two folds of its repeat
        mine = [g for g in range(3 * (f // 3), 3 * (f // 3) + 3) if g != f]
        assert chosen[f] == int(curves[mine].mean(dim=0).argmax()) + 1


def test_choosing_epochs_takes_them_from_the_curves_fit_without_training_again_and_the_same_bytes(
    synthetic_dir, monkeypatch
):
    train, test = read_train_test(COMP, synthetic_dir, SPEC)
    y = torch.tensor(target_vector(COMP, train))
    plan = Plan(models=("linear", "nn"), folds=4, seeds=2, training=Training(epochs=15), choose_epochs=True)
    calls = []
    real_fit = validation.fit
    monkeypatch.setattr(validation, "fit", lambda *a, **k: calls.append(k.get("stop_at")) or real_fit(*a, **k))
    taken = cross_validate(SPEC, train, test, y, plan, TASK)
    assert calls == [None, None]  # one fit per model: the chosen epochs are taken from its kept epochs
    calls.clear()
    monkeypatch.setattr(validation, "KEEP_BYTES", 0)  # params too large to keep: each model trains again
    trained = cross_validate(SPEC, train, test, y, plan, TASK)
    assert len(calls) == 4 and sum(stop_at is None for stop_at in calls) == 2
    for name in plan.models:
        a, b = taken.models[name], trained.models[name]
        assert a.epochs == b.epochs and a.fold_scores == b.fold_scores and a.losses == b.losses
        assert torch.equal(a.oof, b.oof) and torch.equal(a.test_pred, b.test_pred)


def test_without_choose_epochs_every_fold_trains_the_settings_epochs(synthetic_dir):
    train, test = read_train_test(COMP, synthetic_dir, SPEC)
    y = torch.tensor(target_vector(COMP, train))
    plan = Plan(models=("nn",), folds=3, training=Training(epochs=9))
    result = cross_validate(SPEC, train, test, y, plan, TASK)
    assert result.models["nn"].epochs == [9, 9, 9] and result.full_fit_epochs() == {}


def test_regression_predictions_stay_within_the_range_of_the_targets_their_models_learned_from():
    import pandas as pd

    from kit.recipe_spec import RecipeSpec
    from kit.task import make_task
    from kit.train import Training
    from kit.validation import Plan, cross_validate, fit_full

    x = torch.linspace(0, 1, 120)
    frame = pd.DataFrame({"x": x.tolist()})
    test = pd.DataFrame({"x": [2.0, 3.0, -1.0]})  # far outside: a line through the rows overshoots both ways
    y = 10 * x
    spec = RecipeSpec(name="t", numeric=["x"], scale="none")
    task = make_task("regression", "rmse", (), ("id", "y"))
    plan = Plan(split="group", folds=2, models=("linear",), training=Training(epochs=60, lr=0.1))
    groups = (x > 0.5).long().numpy()  # the fold that validates the high half learns from the low half alone
    result = cross_validate(spec, frame, test, y, plan, task, groups=groups)
    bounds = []  # each fold's training range
    for pred, (train_idx, _) in zip(result.models["linear"].fold_preds, result.folds):
        bounds.append((y[train_idx].min().item(), y[train_idx].max().item()))
        assert bounds[-1][0] <= pred.min().item() and pred.max().item() <= bounds[-1][1]
    # the test rows' prediction, the folds' mean: each fold's line would give about 20, 30 and -10
    highs, lows = [h for _, h in bounds], [lo for lo, _ in bounds]
    expected = [sum(highs) / 2, sum(highs) / 2, sum(lows) / 2]
    assert result.models["linear"].test_pred.tolist() == pytest.approx(expected)
    high_half = next(p for p, (_, v) in zip(result.models["linear"].fold_preds, result.folds) if x[v].min() > 0.5)
    assert (high_half == y[x <= 0.5].max()).sum() >= 30  # the low half's line overshoots most of the high half
    test_pred, _ = fit_full(spec, frame, test, y, plan, task)
    assert test_pred.tolist() == [10.0, 10.0, 0.0]
    binary = make_task("binary", "accuracy", ("0", "1"), ("id", "y"))
    probabilities = torch.tensor([0.2, 0.9])
    assert binary.within_training_range(probabilities, torch.tensor([0.0, 0.0])) is probabilities  # only values


def test_a_constant_predictions_score_is_learned_on_each_folds_training_rows_alone():
    folds = [(torch.arange(0, 6), torch.arange(6, 10)), (torch.arange(4, 10), torch.arange(0, 4))]
    labels = torch.tensor([1.0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    binary = make_task("binary", "accuracy", ("0", "1"), ("id", "y"))
    # fold 1 learns 4 of 6 are 1 and predicts 1 for rows of 0: 0.0; fold 2 learns 0 and is right on none: 0.0
    assert validation.constant_scores(binary, labels, folds) == [0.0, 0.0]
    assert validation.constant_scores(binary, labels, [(torch.arange(10), torch.arange(10))]) == [pytest.approx(0.6)]
    values = torch.tensor([1.0, 2, 3, 100, 5, 6, 7, 8, 9, 10])
    mae = make_task("regression", "mae", (), ("id", "y"))
    rmse = make_task("regression", "rmse", (), ("id", "y"))
    every = [(torch.arange(10), torch.tensor([3]))]  # the row of 100 scored by what every row learns
    assert validation.constant_scores(mae, values, every) == [
        pytest.approx(100 - 6.0)
    ]  # the median (the lower of 6 and 7)
    assert validation.constant_scores(rmse, values, every) == [pytest.approx(100 - 15.1)]  # the mean
    assert (validation.constant_of(mae), validation.constant_of(rmse), validation.constant_of(binary)) == (
        "median",
        "mean",
        "class shares",
    )
    classes = make_task("multiclass", "log_loss", ("a", "b", "c"), ("id", "a", "b", "c"))
    shares = validation.constant_scores(classes, torch.tensor([0, 0, 1, 2]), [(torch.arange(4), torch.arange(4))])
    assert shares == [pytest.approx(-(2 * torch.tensor(0.5).log() + 2 * torch.tensor(0.25).log()).item() / 4)]
