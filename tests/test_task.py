"""kit's own metrics against scikit-learn's as the oracle, and what a Task does with targets and predictions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from kit import KitError
from kit.task import METRICS, closest_metric, infer_task, make_task


def _binary(n=200, seed=0):
    gen = torch.Generator().manual_seed(seed)
    y = (torch.rand(n, generator=gen) < 0.4).float()
    p = (torch.rand(n, generator=gen) * 0.6 + y * 0.3).clamp(0, 1)  # informative but imperfect
    return p, y


def _multiclass(n=300, k=4, seed=1):
    gen = torch.Generator().manual_seed(seed)
    y = torch.randint(0, k, (n,), generator=gen)
    logits = torch.randn(n, k, generator=gen) + torch.nn.functional.one_hot(y, k) * 1.0
    probs = torch.softmax(logits.double(), dim=1)
    return probs / probs.sum(dim=1, keepdim=True), y


def _regression(n=150, seed=2):
    gen = torch.Generator().manual_seed(seed)
    y = torch.rand(n, generator=gen) * 100
    return y + torch.randn(n, generator=gen) * 5, y


def test_accuracy_f1_and_balanced_accuracy_match_sklearn():
    p, y = _binary()
    hard = (p > 0.5).numpy().astype(int)
    assert METRICS["accuracy"].score(p, y) == pytest.approx(skm.accuracy_score(y.numpy(), hard), abs=1e-7)
    assert METRICS["f1"].score(p, y) == pytest.approx(skm.f1_score(y.numpy(), hard))
    assert METRICS["balanced_accuracy"].score(p, y) == pytest.approx(skm.balanced_accuracy_score(y.numpy(), hard))
    pm, ym = _multiclass()
    hard_m = pm.argmax(dim=1).numpy()
    assert METRICS["accuracy"].score(pm, ym) == pytest.approx(skm.accuracy_score(ym.numpy(), hard_m), abs=1e-7)
    assert METRICS["balanced_accuracy"].score(pm, ym) == pytest.approx(skm.balanced_accuracy_score(ym.numpy(), hard_m))


def test_roc_auc_matches_sklearn_including_ties():
    p, y = _binary()
    assert METRICS["roc_auc"].score(p, y) == pytest.approx(skm.roc_auc_score(y.numpy(), p.numpy()))
    tied = (p * 4).round() / 4  # five distinct scores: many ties across the classes
    assert len(torch.unique(tied)) <= 5
    assert METRICS["roc_auc"].score(tied, y) == pytest.approx(skm.roc_auc_score(y.numpy(), tied.numpy()))
    assert METRICS["roc_auc"].score(torch.full_like(p, 0.3), y) == pytest.approx(0.5)  # all tied: chance
    pm, ym = _multiclass()
    expected = skm.roc_auc_score(ym.numpy(), pm.numpy(), multi_class="ovr", average="macro")
    assert METRICS["roc_auc"].score(pm, ym) == pytest.approx(expected)


@pytest.mark.parametrize("positive_share", [0.003, 0.5, 0.997])
def test_roc_auc_matches_sklearn_whichever_class_is_the_fewer(positive_share):
    # the fewer class is the one searched for among the other's sorted scores: both ways round must give the AUC
    gen = torch.Generator().manual_seed(3)
    y = (torch.rand(5000, generator=gen) < positive_share).float()
    y[:2] = torch.tensor([0.0, 1.0])  # both classes, however few
    for p in (torch.rand(5000, generator=gen) + y * 0.4, torch.randint(0, 6, (5000,), generator=gen) + y):  # ties
        assert METRICS["roc_auc"].score(p, y) == pytest.approx(skm.roc_auc_score(y.numpy(), p.numpy()), abs=1e-12)


def test_roc_auc_with_one_class_only_is_a_clear_error():
    with pytest.raises(KitError, match="both classes"):
        METRICS["roc_auc"].score(torch.tensor([0.2, 0.7]), torch.tensor([1.0, 1.0]))


def test_log_loss_matches_sklearn_including_clipping():
    p, y = _binary()
    assert METRICS["log_loss"].score(p, y) == pytest.approx(skm.log_loss(y.numpy(), p.double().numpy()))
    certain_and_wrong = torch.tensor([0.0, 1.0, 1.0, 0.0], dtype=torch.float64)
    y4 = torch.tensor([1.0, 0.0, 1.0, 0.0])
    kit_value = METRICS["log_loss"].score(certain_and_wrong, y4)
    assert np.isfinite(kit_value)
    assert kit_value == pytest.approx(skm.log_loss(y4.numpy(), certain_and_wrong.numpy()))
    pm, ym = _multiclass()
    assert METRICS["log_loss"].score(pm, ym) == pytest.approx(skm.log_loss(ym.numpy(), pm.double().numpy()))


def test_regression_metrics_match_sklearn():
    pred, y = _regression()
    pred = pred.clamp(min=0)
    assert METRICS["rmse"].score(pred, y) == pytest.approx(skm.root_mean_squared_error(y.numpy(), pred.numpy()))
    assert METRICS["mae"].score(pred, y) == pytest.approx(skm.mean_absolute_error(y.numpy(), pred.numpy()))
    assert METRICS["rmsle"].score(pred, y) == pytest.approx(
        skm.root_mean_squared_log_error(y.numpy(), pred.numpy()), rel=1e-6
    )


@pytest.mark.parametrize(
    ("name", "closest"),
    [
        ("auc", "roc_auc"),
        ("AUC", "roc_auc"),
        ("auroc", "roc_auc"),
        ("logloss", "log_loss"),
        ("mse", "rmse"),
        ("MAP@3", "map_at_3"),
        ("root_mean_squared_log_error", "rmsle"),  # scikit-learn's names
        ("mean_absolute_error", "mae"),
        ("roc_auc_score", "roc_auc"),
        ("spearman", None),
        # as Kaggle's Evaluation pages word them (Playground's cirrhosis: "the multi-class logarithmic loss")
        ("multi-class logarithmic loss", "log_loss"),
        ("Multi-class log loss", "log_loss"),
        ("multiclass logloss", "log_loss"),
        ("binary_crossentropy", "log_loss"),
        ("area under the ROC curve", "roc_auc"),
        ("Matthews correlation coefficient", "mcc"),
        # RMSLE in words, as House Prices' page words it: difflib took "rmse log" to rmse, which trains on the values
        ("root mean squared logarithmic error", "rmsle"),
        ("RMSE between the logarithm of the predicted value and the logarithm of the observed", "rmsle"),
        ("rmse log", "rmsle"),
        ("mean_squared_log_error", "rmsle"),
        ("root mean squared error", "rmse"),
    ],
)
def test_an_unknown_metric_name_leads_to_the_metric_it_most_likely_means(name, closest):
    assert closest_metric(name) == closest


def test_every_metric_knows_its_direction():
    better = ["accuracy", "balanced_accuracy", "f1", "f1_micro", "f1_macro", "mcc", "qwk", "roc_auc", "map_at_3", "r2"]
    assert [m for m in METRICS if METRICS[m].greater_is_better] == better
    task = make_task("regression", "rmse", (), ("id", "y"))
    assert task.better(1.0, 2.0) and not task.better(2.0, 1.0)
    assert sorted([3.0, 1.0, 2.0], key=task.sort_key) == [1.0, 2.0, 3.0]
    binary = make_task("binary", "accuracy", ("0", "1"), ("id", "y"))
    assert binary.better(0.9, 0.8) and sorted([0.7, 0.9], key=binary.sort_key) == [0.9, 0.7]


def test_binary_accuracy_writes_labels_and_roc_auc_writes_probabilities():
    labels = ("No", "Yes")
    acc = make_task("binary", "accuracy", labels, ("id", "Churn"))
    assert acc.target(["Yes", "No"], "train.csv", "Churn").tolist() == [1.0, 0.0]
    assert acc.cells(torch.tensor([0.7, 0.2])) == [["Yes"], ["No"]]
    auc = make_task("binary", "roc_auc", labels, ("id", "Churn"))
    assert auc.cells(torch.tensor([0.25, 0.5])) == [["0.25"], ["0.5"]]
    assert auc.check_cells(["0.25"]) is None
    assert "probabilities" in auc.check_cells(["1.5"])
    assert "not a number" in auc.check_cells(["Yes"])
    assert "allowed" in acc.check_cells(["0.25"])


def test_multiclass_probabilities_follow_the_submission_columns():
    task = make_task("multiclass", "log_loss", ("a", "b", "c"), ("id", "c", "a", "b"))
    assert task.width == 3
    assert task.target(["b", "c", "a"], "train.csv", "y").tolist() == [1, 2, 0]
    (row,) = task.cells(torch.tensor([[0.5, 0.25, 0.25]]))
    assert row == ["0.25", "0.5", "0.25"]  # c, a, b
    assert task.check_cells(row) is None
    assert "sum to" in task.check_cells(["0.5", "0.5", "0.5"])
    with pytest.raises(KitError, match="one probability column per class"):
        make_task("multiclass", "log_loss", ("a", "b", "c"), ("id", "y"))


def test_probability_columns_may_name_each_class_after_one_shared_prefix():
    # Playground's cirrhosis competition: classes C, CL and D, submitted as Status_C, Status_CL and Status_D
    task = make_task("multiclass", "log_loss", ("C", "CL", "D"), ("id", "Status_D", "Status_C", "Status_CL"))
    assert task.prob_columns == ("D", "C", "CL")
    (row,) = task.cells(torch.tensor([[0.5, 0.25, 0.25]]))
    assert row == ["0.25", "0.5", "0.25"]  # D, C, CL
    with pytest.raises(KitError, match="one shared prefix"):
        make_task("multiclass", "log_loss", ("C", "CL", "D"), ("id", "Status_C", "Status_CL", "Other_D"))


def test_rmsle_trains_on_log1p_and_writes_the_original_scale():
    task = make_task("regression", "rmsle", (), ("id", "price"))
    y = task.target(["0", "9", "99"], "train.csv", "price")
    assert y.tolist() == pytest.approx([0.0, np.log(10), np.log(100)], rel=1e-6)
    assert [float(c[0]) for c in task.cells(y)] == pytest.approx([0.0, 9.0, 99.0], rel=1e-5)
    assert task.score(y, y) == 0.0


def test_a_prediction_that_is_not_finite_is_never_written():
    task = make_task("binary", "accuracy", ("0", "1"), ("id", "y"))
    with pytest.raises(KitError, match="not a finite number"):
        task.cells(torch.tensor([0.7, float("nan")]))


def test_bad_targets_and_pairs_are_one_sentence():
    task = make_task("binary", "accuracy", ("0", "1"), ("id", "y"))
    with pytest.raises(KitError, match="holds '2'"):
        task.target(["0", "2"], "train.csv", "y")
    reg = make_task("regression", "rmse", (), ("id", "y"))
    with pytest.raises(KitError, match="not a number"):
        reg.target(["1.5", "abc"], "train.csv", "y")
    with pytest.raises(ValueError, match="does not score"):
        make_task("regression", "accuracy", (), ("id", "y"))


def test_the_task_is_guessed_from_the_target_values():
    assert infer_task(["0", "1", "1"]) == "binary"
    assert infer_task(["Adelie", "Gentoo", "Chinstrap"]) == "multiclass"
    assert infer_task([str(v / 3) for v in range(50)]) == "regression"
