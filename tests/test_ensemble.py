"""The ensemble with weights chosen by CV (`ensemble = "select"`): greedy selection, chosen without a fold's rows."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch
from conftest import titanic_with_training

from kit.cli import main
from kit.ensemble import ROUNDS, combine, select_weights
from kit.task import METRICS, Task
from kit.validation import ModelResult, ensemble

BINARY = Task("binary", METRICS["accuracy"], ("0", "1"))
AUC = Task("binary", METRICS["roc_auc"], ("0", "1"))
REGRESSION = Task("regression", METRICS["rmse"])
MULTICLASS = Task("multiclass", METRICS["accuracy"], ("a", "b", "c"))


def test_a_model_that_predicts_the_target_takes_every_weight_and_noise_none():
    gen = torch.Generator().manual_seed(0)
    y = torch.randn(300, generator=gen)
    noise = torch.randn(300, generator=gen) * 3
    weights = select_weights([noise, y + 0.01 * torch.randn(300, generator=gen)], y, REGRESSION)
    assert weights == [0.0, 1.0]


def test_two_models_with_errors_of_their_own_share_the_weight_in_steps_of_one_round():
    gen = torch.Generator().manual_seed(1)
    y = torch.randn(2000, generator=gen)
    a, b = y + torch.randn(2000, generator=gen), y + torch.randn(2000, generator=gen)  # independent errors
    weights = select_weights([a, b, torch.full((2000,), 5.0)], y, REGRESSION)  # far off: no help
    assert sum(weights) == pytest.approx(1.0) and all(w * ROUNDS == round(w * ROUNDS) for w in weights)
    assert 0.3 <= weights[0] <= 0.7 and 0.3 <= weights[1] <= 0.7 and weights[2] == 0.0  # averaging halves the error


def test_a_label_metric_chooses_on_log_loss_where_accuracy_cannot_tell_models_apart():
    y = torch.tensor([0.0, 1.0] * 50)
    vague = torch.where(y == 1, 0.55, 0.45)  # the same labels as sure, worse probabilities
    sure = torch.where(y == 1, 0.95, 0.05)
    assert select_weights([vague, sure], y, BINARY) == [0.0, 1.0]  # by accuracy alone, the tie would go to vague


def test_roc_auc_chooses_on_the_auc_where_log_loss_would_choose_the_better_calibrated_model():
    gen = torch.Generator().manual_seed(2)
    y = (torch.rand(400, generator=gen) < 0.3).float()
    in_order = 0.5 + 0.01 * (y - 0.5) + 0.001 * torch.rand(400, generator=gen)  # ranks every row right, unsure
    wrong = torch.rand(400, generator=gen) < 0.1
    sure = torch.where((y == 1) != wrong, 0.95, 0.05)  # sure of itself, a tenth of the rows the wrong way round
    assert select_weights([sure, in_order], y, AUC) == [0.0, 1.0]
    assert select_weights([sure, in_order], y, BINARY)[0] > 0.5  # what log loss prefers


def test_roc_auc_is_chosen_on_each_folds_auc_not_on_the_folds_rows_pooled():
    # fold models set their own scale: one model ranks each fold's rows right, its second fold's scores all lower
    gen = torch.Generator().manual_seed(8)
    y = torch.tensor([0.0, 1.0] * 200)  # two folds of 200 rows
    shifted = 0.1 * y + 0.01 * torch.rand(400, generator=gen) + torch.cat([torch.full((200,), 0.5), torch.zeros(200)])
    steady = (y + 0.8 * torch.randn(400, generator=gen)).sigmoid()  # the same scale everywhere, ranks worse (~0.8)
    assert select_weights([steady, shifted], y, AUC, groups=[200, 200]) == [0.0, 1.0]  # each fold's AUC, their mean
    assert select_weights([steady, shifted], y, AUC)[0] > 0.5  # one AUC of both folds' rows: the scale shift costs


def test_multiclass_roc_auc_chooses_on_each_class_against_the_rest():
    gen = torch.Generator().manual_seed(4)
    y = torch.randint(0, 3, (300,), generator=gen)
    in_order = torch.nn.functional.one_hot(y, 3).double() * 0.02 + 0.98 / 3  # every class ranked right, unsure
    noisy = torch.nn.functional.one_hot((y + (torch.rand(300, generator=gen) < 0.2)) % 3, 3).double() * 0.9 + 0.1 / 3
    task = Task("multiclass", METRICS["roc_auc"], ("a", "b", "c"))
    assert select_weights([noisy, in_order], y, task) == [0.0, 1.0]
    assert select_weights([noisy, in_order], y, MULTICLASS)[0] > 0.5  # log loss: the sure one


def test_an_auc_is_chosen_on_at_most_so_many_rows_of_each_class_the_same_rows_every_time():
    from kit.ensemble import order_rows

    y = torch.cat([torch.zeros(900), torch.ones(30)])[torch.randperm(930, generator=torch.Generator().manual_seed(5))]
    assert order_rows(y, per_class=900) is None  # no class over the cap: every row
    drawn = order_rows(y, per_class=100)
    assert drawn.tolist() == sorted(set(drawn.tolist()))  # distinct rows, in order
    assert (y[drawn] == 0).sum() == 100 and (y[drawn] == 1).sum() == 30  # the rare class whole
    assert torch.equal(drawn, order_rows(y, per_class=100))  # a fixed draw: the weights keep their bytes
    multilabel = (torch.rand(500, 3, generator=torch.Generator().manual_seed(6)) < 0.5).float()
    assert len(order_rows(multilabel, per_class=100)) == 200 and order_rows(multilabel, per_class=250) is None


def test_roc_auc_weights_are_chosen_on_the_drawn_rows(monkeypatch):
    from kit import ensemble as kit_ensemble

    gen = torch.Generator().manual_seed(7)
    y = (torch.rand(3000, generator=gen) < 0.05).float()
    better, worse = (
        (y + torch.randn(3000, generator=gen)).sigmoid(),
        (y + 2 * torch.randn(3000, generator=gen)).sigmoid(),
    )
    assert select_weights([worse, better], y, AUC)[1] > 0.5  # on every row
    monkeypatch.setattr(kit_ensemble, "ORDER_ROWS", 500)  # 500 of the ~2,850 negatives, every positive
    drawn = kit_ensemble.order_rows(y, 500)
    seen = []
    monkeypatch.setattr(kit_ensemble, "roc_auc", lambda pred, target: seen.append(len(target)) or 0.5)
    select_weights([worse, better], y, AUC)
    assert set(seen) == {len(drawn)} and len(drawn) < 700  # every candidate scored on the drawn rows alone


def test_multiclass_weights_are_chosen_on_the_probability_of_the_true_class():
    y = torch.tensor([0, 1, 2] * 30)
    sure = torch.nn.functional.one_hot(y, 3).double() * 0.9 + 0.1 / 3  # rows sum to 1, the true class at 0.93
    vague = torch.nn.functional.one_hot(y, 3).double() * 0.2 + 0.8 / 3  # the same labels, 0.47
    assert select_weights([vague.float(), sure.float()], y, MULTICLASS) == [0.0, 1.0]


def test_an_mae_metric_chooses_on_the_absolute_error_where_squared_error_would_choose_the_other_model():
    y = torch.zeros(100)
    one_outlier = torch.zeros(100)
    one_outlier[0] = 100.0  # absolute error 1.0, squared error 100
    off_by_two = torch.full((100,), 2.0)  # absolute error 2.0, squared error 4
    assert select_weights([off_by_two, one_outlier], y, Task("regression", METRICS["mae"])) == [0.0, 1.0]
    assert select_weights([off_by_two, one_outlier], y, REGRESSION) == [1.0, 0.0]


def test_a_tie_goes_to_the_model_given_first():
    y = torch.tensor([0.0, 1.0, 1.0, 0.0])
    pred = torch.tensor([0.2, 0.7, 0.6, 0.4])
    assert select_weights([pred, pred.clone()], y, AUC) == [1.0, 0.0]


def test_combine_is_the_mean_without_weights_and_the_weighted_sum_with():
    a, b = torch.tensor([0.2, 0.4]), torch.tensor([0.6, 1.0])
    assert torch.equal(combine([a, b]), torch.stack([a, b]).mean(dim=0))
    assert torch.allclose(combine([a, b], [0.25, 0.75]), 0.25 * a + 0.75 * b)


def _results(preds: dict, folds, test_preds: dict | None = None) -> dict:
    """ModelResults holding each model's out-of-fold predictions, fold by fold."""
    return {
        name: ModelResult(
            oof=torch.zeros(sum(len(v) for _, v in folds)),
            test_pred=(test_preds or {}).get(name, torch.zeros(3)),
            fold_scores=[],
            fold_preds=per_fold,
        )
        for name, per_fold in preds.items()
    }


def _cut(n: int, n_folds: int, repeats: int = 1):
    """n rows cut into n_folds contiguous folds, the same cut `repeats` times: (train_idx, valid_idx) per fold."""
    size = n // n_folds
    valid = [torch.arange(f * size, (f + 1) * size) for f in range(n_folds)]
    one = [(torch.cat([v for g, v in enumerate(valid) if g != f]), valid[f]) for f in range(n_folds)]
    return one * repeats


def _plain_and_rigged(folds, rigged_fold: int, repeats: int = 1, seed: int = 0):
    """The selected ensemble of a good and a poor model, and the same with the poor model perfect in one fold alone."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.randn(300, generator=gen)
    good = [y[v] + 0.3 * torch.randn(len(v), generator=gen) for _, v in folds]
    poor = [y[v] + 1.0 * torch.randn(len(v), generator=gen) for _, v in folds]
    rigged_poor = [y[v].clone() if f == rigged_fold else p for f, (p, (_, v)) in enumerate(zip(poor, folds))]
    return [
        ensemble(_results({"good": good, "poor": p}, folds), y, folds, REGRESSION, "select", repeats)
        for p in (poor, rigged_poor)
    ]


def test_a_folds_weights_are_chosen_without_its_own_rows():
    plain, rigged = _plain_and_rigged(_cut(300, 3), rigged_fold=0, seed=2)
    assert rigged.fold_weights[0] == plain.fold_weights[0]  # fold 0's weights never saw its own rows
    assert rigged.fold_weights[1] != plain.fold_weights[1]  # the others' did see fold 0: the rigging is felt
    assert rigged.weights != plain.weights  # and the full fit's weights are chosen on every fold


def test_with_repeats_a_folds_weights_are_chosen_on_the_other_folds_of_its_own_repeat():
    # repeat 2 validates the same rows again: its first fold (3) validates fold 0's rows
    plain, rigged = _plain_and_rigged(_cut(300, 3, repeats=2), rigged_fold=3, repeats=2, seed=3)
    assert rigged.fold_weights[:3] == plain.fold_weights[:3]
    assert rigged.fold_weights[4] != plain.fold_weights[4]


def test_the_ensembles_fold_predictions_and_test_prediction_use_the_weights_chosen():
    gen = torch.Generator().manual_seed(4)
    folds = _cut(300, 3)
    y = torch.randn(300, generator=gen)
    a = [y[v] + 0.3 * torch.randn(len(v), generator=gen) for _, v in folds]
    b = [y[v] + 0.6 * torch.randn(len(v), generator=gen) for _, v in folds]
    tests = {"a": torch.tensor([1.0, 2.0, 3.0]), "b": torch.tensor([3.0, 2.0, 1.0])}
    result = ensemble(_results({"a": a, "b": b}, folds, tests), y, folds, REGRESSION, "select")
    for f, (_, valid_idx) in enumerate(folds):
        w = result.fold_weights[f]
        expected = w["a"] * a[f].double() + w["b"] * b[f].double()
        assert torch.allclose(result.fold_preds[f], expected.float())
        assert result.fold_scores[f] == pytest.approx(REGRESSION.score(expected.float(), y[valid_idx]))
    assert torch.allclose(result.test_pred, result.weights["a"] * tests["a"] + result.weights["b"] * tests["b"])
    assert 0.0 < result.weights["b"] < result.weights["a"]  # both help, the better more


def test_a_single_fold_weighs_each_half_of_its_rows_by_the_weights_chosen_on_the_other_half():
    from kit.train import halves

    folds = _cut(100, 1 + 1)[:1]  # one fold, as the random split gives
    y = torch.randn(50, generator=torch.Generator().manual_seed(3))
    first, second = halves(50)
    a, b = y.clone(), y.clone()
    a[second], b[first] = 0.0, 0.0  # a right on the first half's rows alone, b on the second's
    result = ensemble(_results({"a": [a], "b": [b]}, folds), y, folds, REGRESSION, "select")
    # the first half weighed as the second chose (b), the second as the first chose (a): neither by its own rows
    assert result.fold_weights == [{"a": 0.0, "b": 1.0}, {"a": 1.0, "b": 0.0}]
    assert torch.equal(result.fold_preds[0], torch.zeros(50))  # each model where it is wrong: an honest score
    assert result.weights == dict(zip("ab", select_weights([a, b], y, REGRESSION)))  # the full fit's: every row
    assert 0 < result.weights["a"] < 1


def test_the_full_fits_test_prediction_is_the_weighted_sum_of_each_models_own():
    import pandas as pd

    from kit.recipe_spec import RecipeSpec
    from kit.task import make_task
    from kit.train import Training
    from kit.validation import Plan, fit_full

    gen = torch.Generator().manual_seed(5)
    a, b = torch.randn(200, generator=gen), torch.randn(200, generator=gen)
    frame = pd.DataFrame({"a": a.tolist(), "b": b.tolist()})
    y = torch.tensor(((a * b > 0) ^ (a > 1.0)).float().tolist())
    spec = RecipeSpec(name="t", numeric=["a", "b"])
    task = make_task("binary", "accuracy", ("0", "1"), ("id", "y"))
    plan = Plan(folds=3, seeds=2, training=Training(epochs=5), models=("linear", "nn"))
    alone = {m: fit_full(spec, frame, frame.iloc[:20], y, replace(plan, models=(m,)), task)[0] for m in plan.models}
    weighted, _ = fit_full(spec, frame, frame.iloc[:20], y, plan, task, weights={"linear": 0.25, "nn": 0.75})
    assert torch.allclose(weighted, 0.25 * alone["linear"] + 0.75 * alone["nn"])
    assert torch.equal(fit_full(spec, frame, frame.iloc[:20], y, plan, task)[0], (alone["linear"] + alone["nn"]) / 2)


def test_select_comes_from_the_flag_then_the_definition_and_is_shown_and_recorded(
    synthetic_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    definition = titanic_with_training(tmp_path, '[training]\npreset = "default"\nensemble = "select"\n')
    args = ["cv", "-c", definition, "--data-dir", str(synthetic_dir), "--folds", "3", "--models", "linear,nn"]
    assert main([*args, "--epochs", "20", "--seeds", "1"]) == 0
    table = capsys.readouterr().out
    assert "ensemble weights for the full fit: linear " in table
    (run,) = json.loads((tmp_path / "submissions/titanic/runs.json").read_text())
    assert run["ensemble"] == "select" and sum(run["ensemble_weights"].values()) == pytest.approx(1.0)
    assert main([*args, "--epochs", "20", "--seeds", "1", "--ensemble", "mean", "--json"]) == 0  # the flag wins
    summary = json.loads(capsys.readouterr().out)
    assert "weights" not in summary["ensemble"]
    runs = json.loads((tmp_path / "submissions/titanic/runs.json").read_text())
    assert [r["ensemble"] for r in runs] == ["select", "mean"] and runs[1]["ensemble_weights"] is None
    assert main(["report", "-c", definition]) == 0
    report = capsys.readouterr().out
    assert sum("linear,nn selected " in line for line in report.splitlines()) == 1  # two rows, told apart
    assert main([*args, "--epochs", "20", "--seeds", "1", "--ensemble", "mean"]) == 0  # the table says which it is
    table = capsys.readouterr().out
    assert "ensemble: the models' mean, equal weights" in table and "ensemble weights" not in table


def test_the_random_split_s_one_fold_says_its_weights_were_chosen_half_on_half(
    synthetic_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    definition = titanic_with_training(tmp_path, '[training]\npreset = "default"\nensemble = "select"\n')
    args = ["cv", "-c", definition, "--data-dir", str(synthetic_dir), "--split", "random", "--models", "linear,nn"]
    assert main([*args, "--epochs", "20", "--seeds", "1", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert len(summary["ensemble"]["fold_weights"]) == 2  # the fold's two halves'
    assert main([*args, "--epochs", "20", "--seeds", "1"]) == 0
    table = capsys.readouterr().out
    assert "(each half of the fold scored with those chosen on the other half)" in table
    assert "each fold's chosen on the other folds" not in table


def test_an_unknown_ensemble_is_refused_in_one_sentence(synthetic_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    definition = titanic_with_training(tmp_path, '[training]\nensemble = "stacked"\n')
    assert main(["cv", "-c", definition, "--data-dir", str(synthetic_dir), "--folds", "3"]) == 2
    err = capsys.readouterr().err.strip()
    assert "ensemble" in err and "select" in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "submissions").exists()


def test_a_submission_with_weights_chosen_records_them_in_its_sidecar_and_the_run_log(
    synthetic_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    args = ["submission", "--data-dir", str(synthetic_dir), "--folds", "3", "--models", "linear,nn", "--seeds", "1"]
    assert main([*args, "--epochs", "20", "--ensemble", "select", "--out", "select.csv"]) == 0
    sidecar = json.loads((tmp_path / "select.json").read_text())
    weights = sidecar["cv"]["ensemble"]["weights"]
    assert sidecar["config"]["plan"]["ensemble"] == "select" and sum(weights.values()) == pytest.approx(1.0)
    assert len(sidecar["cv"]["ensemble"]["fold_weights"]) == 3
    (run,) = json.loads((tmp_path / "submissions/titanic/runs.json").read_text())
    assert run["ensemble_weights"] == weights and run["file"].endswith("select.csv")
