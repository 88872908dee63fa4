"""balanced_log_loss: each class's mean log loss, averaged over the classes (Kaggle's ICR competition). The models
learn it (each class's rows weighed alike in the loss), the ensemble's weights are chosen on it, and its constant is
every class alike. A trial's ICR copy (617 rows, 18 % positive) drafted as plain log loss scored 0.6033 on hidden
rows, level with 0.5/0.5's 0.6931."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.metrics import log_loss as sk_log_loss

from kit.metrics import balanced_log_loss
from kit.task import make_task
from kit.train import Training, _class_weights, fit, predict


@pytest.mark.parametrize("k", [2, 3, 5])
def test_it_matches_scikit_learns_log_loss_with_each_row_weighed_one_over_its_class_count(k):
    rng = np.random.default_rng(k)
    y = rng.choice(k, size=400, p=np.r_[0.7, np.full(k - 1, 0.3 / (k - 1))])  # (n,) a common class and rare ones
    p = rng.random((400, k))
    p /= p.sum(axis=1, keepdims=True)  # (n, k)
    weight = 1.0 / np.bincount(y)[y]  # (n,)
    expected = sk_log_loss(y, p, sample_weight=weight)
    pred = torch.tensor(p[:, 1]) if k == 2 else torch.tensor(p)  # binary: the positive class's probability
    assert balanced_log_loss(pred, torch.tensor(y)) == pytest.approx(expected, rel=1e-9)


def test_class_weights_give_each_class_of_a_fold_the_same_total_and_leave_padding_out():
    task = make_task("binary", "balanced_log_loss", ("0", "1"), ("id", "y"))
    y = torch.tensor([[1.0, 0, 0, 0, 0], [1, 1, 0, 0, 0]])  # (F, n): fold 0 one positive in 4 rows, fold 1 2 in 5
    mask = torch.tensor([[1.0, 1, 1, 1, 0], [1, 1, 1, 1, 1]])  # fold 0's last row is padding
    w = _class_weights(task, y, mask) * mask
    assert w[0].tolist() == pytest.approx([2.0, 2 / 3, 2 / 3, 2 / 3, 0.0])  # 4 / (2 x 1), 4 / (2 x 3)
    assert (w[0] * (y[0] == 1)).sum() == pytest.approx((w[0] * (y[0] == 0)).sum())  # each class weighs as much
    assert w.sum(dim=1).tolist() == pytest.approx(mask.sum(dim=1).tolist())  # the mean weight is 1


def test_a_balanced_loss_moves_a_rare_class_probability_up_toward_an_even_prior():
    # features that say nothing: the plain loss learns the 10 % rate, the balanced one 50 %
    y = (torch.arange(200) % 10 == 0).float()[None]  # (1, n)
    x, mask = torch.zeros(1, 200, 1), torch.ones(1, 200)
    task = make_task("binary", "balanced_log_loss", ("0", "1"), ("id", "y"))
    rates = {}
    for loss in ("task", "balanced"):
        settings = Training(epochs=300, lr=0.1, loss=loss).settings("linear")
        done = fit(settings, task, x, y, mask, seeds=[1])
        rates[loss] = predict(settings, task, done.params, x).mean().item()
    assert rates["task"] == pytest.approx(0.1, abs=0.02) and rates["balanced"] == pytest.approx(0.5, abs=0.02)


def test_kit_cv_learns_scores_and_chooses_weights_on_it_and_its_constant_is_every_class_alike(
    synthetic_dir, tmp_path, monkeypatch, capsys
):
    from conftest import kit

    from kit.competition import PACKAGE_ROOT

    path = tmp_path / "balanced.toml"
    text = (PACKAGE_ROOT / "competitions" / "titanic.toml").read_text()
    assert 'metric = "accuracy"' in text
    path.write_text(text.replace('metric = "accuracy"', 'metric = "balanced_log_loss"'))
    args = ["cv", "-c", str(path), "--data-dir", str(synthetic_dir), "--models", "linear,nn", "--folds", "3"]
    out = json.loads(kit(tmp_path, monkeypatch, capsys, *args, "--epochs", "5", "--ensemble", "select", "--json"))
    assert out["constant"]["mean"] == pytest.approx(np.log(2))  # 0.5 for every row: its best constant
    runs = json.loads((tmp_path / "submissions" / "titanic" / "runs.json").read_text())
    assert runs[-1]["training"]["linear"]["loss"] == "balanced"  # the metric's loss, as mae's brings its own
    table = kit(tmp_path, monkeypatch, capsys, *args, "--epochs", "5", "--ensemble", "select")
    assert "balanced_log_loss" in table and "(every row the training folds' equal class shares) scores 0.6931" in table


def test_a_binary_task_over_a_column_per_class_says_that_is_a_multiclass_tasks_submission():
    from kit import KitError

    # a trial's user set task = "binary" over ICR's Id, class_0, class_1 and read only that the columns were wrong
    with pytest.raises(
        KitError, match="a submission of a probability per class is a multiclass task's: task = \"multi"
    ):
        make_task("binary", "balanced_log_loss", ("0", "1"), ("Id", "class_0", "class_1"))
    with pytest.raises(KitError, match=r"not Id, a, b\.$"):
        make_task("binary", "balanced_log_loss", ("0", "1"), ("Id", "a", "b"))
