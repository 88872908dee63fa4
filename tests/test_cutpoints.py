"""qwk's cut-points (kit.cutpoints): tuned on out-of-fold predictions, each fold's on the other folds only, and the
submission's labels cut at the cut-points chosen on every fold."""

from __future__ import annotations

import csv
import json
import statistics
from pathlib import Path

import pytest
import torch
from conftest import definition, kit, record_full_fit
from test_playground_metrics import write_playground

from kit import cutpoints
from kit.metrics import qwk, qwk_of_values
from kit.task import make_task
from kit.train import held_out_sets
from kit.validation import ModelResult

REGRESSION = make_task("regression", "qwk", (), ("id", "y"))


def shrunk_ratings(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(scores, ratings 3 to 8): a regression's predictions pulled toward the mean, as squared error pulls them, so
    rounding at n.5 gives too few of the outer classes."""
    gen = torch.Generator().manual_seed(seed)
    latent = torch.randn(n, generator=gen, dtype=torch.float64)
    y = (5.5 + 1.2 * latent).round().clamp(3, 8)
    score = 5.5 + 0.6 * (latent + 0.5 * torch.randn(n, generator=gen, dtype=torch.float64))
    return score, y


@pytest.mark.parametrize("seed", range(4))
def test_tuned_cut_points_score_at_least_rounding_on_the_rows_they_are_fitted_on(seed):
    score, y = shrunk_ratings(2000, seed)
    cuts = cutpoints.fit(score, (y - 3).long(), cutpoints.midpoints(3.0, 6))
    tuned = qwk_of_values(cutpoints.cut(score, cuts).double() + 3, y)
    assert tuned > qwk_of_values(score, y) + 0.01  # the shrunk scores' outer classes won back
    assert cuts == sorted(cuts) and len(set(cuts)) == 5


def test_cut_points_never_score_below_their_start_and_always_ascend_even_on_ties_and_a_single_class():
    gen = torch.Generator().manual_seed(0)
    for score, y in [
        (torch.randint(0, 4, (300,), generator=gen).double() / 2, torch.randint(0, 4, (300,), generator=gen)),
        (torch.full((50,), 1.2, dtype=torch.float64), torch.ones(50, dtype=torch.long)),  # one score, one class
        (torch.rand(200, generator=gen, dtype=torch.float64) * 3, torch.randint(0, 4, (200,), generator=gen)),
    ]:
        start = cutpoints.midpoints(0.0, 4)
        cuts = cutpoints.fit(score, y, start)
        assert all(a < b for a, b in zip(cuts, cuts[1:]))
        assert qwk_of_values(cutpoints.cut(score, cuts).double(), y) >= qwk_of_values(
            cutpoints.cut(score, start).double(), y
        )
        assert cutpoints.fit(score, y, start) == cuts  # deterministic


def test_the_search_scores_candidates_as_kit_metrics_qwk_does():
    gen = torch.Generator().manual_seed(1)
    c = torch.randint(0, 30, (5, 4, 4), generator=gen).double()
    for matrix, kappa in zip(c, cutpoints._kappas(c)):
        y = torch.repeat_interleave(torch.arange(16) // 4, matrix.flatten().long())
        given = torch.repeat_interleave(torch.arange(16) % 4, matrix.flatten().long())
        assert kappa.item() == pytest.approx(qwk(torch.eye(4)[given], y), abs=1e-12)


def test_a_multiclass_score_is_the_expected_class_place_and_its_labels_are_the_cut_classes():
    task = make_task("multiclass", "qwk", ("3", "4", "5"), ("id", "y"))
    pred = torch.tensor([[0.6, 0.3, 0.1], [0.1, 0.3, 0.6], [0.3, 0.3, 0.4]])
    assert cutpoints.score_of(task, pred).tolist() == pytest.approx([0.5, 1.5, 1.1])
    given = cutpoints.labelled(task, pred, [0.4, 1.2], 0.0)
    assert task.cells(given) == [["4"], ["5"], ["4"]]  # 0.5 and 1.1 lie between the cut-points: the middle class


def _folded(seed: int, n_folds: int = 4, n: int = 400) -> tuple[ModelResult, torch.Tensor, list]:
    score, y = shrunk_ratings(n, seed)
    folds = [(torch.tensor([], dtype=torch.long), torch.arange(f, n, n_folds)) for f in range(n_folds)]
    preds = [score[valid].float() for _, valid in folds]
    return ModelResult(score.float(), torch.zeros(1), [0.0] * n_folds, fold_preds=preds), y.float(), folds


def test_each_fold_s_cut_points_are_chosen_on_the_other_folds_only():
    result, y, folds = _folded(0)
    cutpoints.tune(result, y, folds, REGRESSION)
    changed, _, _ = _folded(0)
    changed.fold_preds[2] = changed.fold_preds[2] + 0.7  # fold 2's own predictions: its cut-points stay
    cutpoints.tune(changed, y, folds, REGRESSION)
    assert changed.fold_cutpoints[2] == result.fold_cutpoints[2]
    assert changed.fold_cutpoints[0] != result.fold_cutpoints[0]  # the others saw fold 2 move
    others = held_out_sets(4)[2]
    scores = torch.cat([result.fold_preds[g] for g in others])
    truth = torch.cat([y[folds[g][1]] for g in others]) - 3
    assert result.fold_cutpoints[2] == cutpoints.fit(scores, truth.long(), cutpoints.midpoints(3.0, 6))


def test_tuning_keeps_the_rounded_fold_scores_beside_the_tuned_ones_and_chooses_the_full_fit_s_on_every_fold():
    result, y, folds = _folded(1)
    cutpoints.tune(result, y, folds, REGRESSION)
    assert result.rounded_scores == [REGRESSION.score(p, y[v]) for p, (_, v) in zip(result.fold_preds, folds)]
    every = torch.cat(result.fold_preds)
    truth = torch.cat([y[v] for _, v in folds]) - 3
    assert result.cutpoints == cutpoints.fit(every, truth.long(), cutpoints.midpoints(3.0, 6))
    honest = [
        qwk_of_values(cutpoints.cut(p, c).double() + 3, y[v])
        for p, c, (_, v) in zip(result.fold_preds, result.fold_cutpoints, folds)
    ]
    assert result.fold_scores == pytest.approx(honest, abs=1e-12)
    assert {"cutpoints", "fold_cutpoints", "rounded"} <= set(result.summary())


# ---- kit cv and kit submission ---------------------------------------------------------------------------------------


def _rating_competition(tmp_path: Path, task: str, training: str = "") -> None:
    """The rating playground (0 to 10, ordered) as a `task` scored by qwk, in tmp_path/competitions/play.toml."""
    write_playground(tmp_path / "data", "rating", n=400)
    text = definition("play", task, "qwk", f'[recipes.base]\nnumeric = ["x1", "x2"]\none_hot = ["shade"]\n{training}')
    text = text.replace('target = "y"', 'target = "rating"').replace('["id", "y"]', '["id", "rating"]')
    (tmp_path / "competitions").mkdir(exist_ok=True)
    (tmp_path / "competitions" / "play.toml").write_text(text)


def _submission(tmp_path, monkeypatch, capsys, out: str, *more: str) -> tuple[list[str], dict]:
    args = ("submission", "-c", "play", "--data-dir", "data", "--folds", "3", "--epochs", "30", "--quiet")
    kit(tmp_path, monkeypatch, capsys, *args, "--out", out, *more)
    with open(tmp_path / out, newline="") as f:
        cells = [row["rating"] for row in csv.DictReader(f)]
    return cells, json.loads((tmp_path / out).with_suffix(".json").read_text())


@pytest.mark.parametrize("task", ["regression", "multiclass"])
def test_the_submission_cuts_the_full_fit_s_predictions_at_the_cut_points_chosen_on_every_fold(
    task, tmp_path, monkeypatch, capsys
):
    import kit.pipeline

    _rating_competition(tmp_path, task)
    seen = record_full_fit(monkeypatch)
    with_cutpoints = kit.pipeline.with_cutpoints

    def tuned(result, y, plan):
        seen["result"], seen["y"] = with_cutpoints(result, y, plan), y
        return seen["result"]

    monkeypatch.setattr(kit.pipeline, "with_cutpoints", tuned)
    cells, sidecar = _submission(tmp_path, monkeypatch, capsys, "sub.csv")
    ensemble = seen["result"].ensemble
    folds, y = seen["result"].folds, seen["y"]
    first, k = cutpoints.ladder(ensemble_task := seen["result"].task, y)
    every = torch.cat([cutpoints.score_of(ensemble_task, p) for p in ensemble.fold_preds])
    truth = torch.cat([cutpoints.places(ensemble_task, y[v], first) for _, v in folds])
    assert ensemble.cutpoints == cutpoints.fit(every, truth, cutpoints.midpoints(first, k))  # all folds' rows
    assert sidecar["cv"]["ensemble"]["cutpoints"] == ensemble.cutpoints
    given = cutpoints.labelled(ensemble_task, seen["test_pred"], ensemble.cutpoints, first)
    assert cells == [row[0] for row in ensemble_task.cells(given)]
    assert sidecar["cv_score"] == sidecar["cv"]["ensemble"]["mean"] != sidecar["cv"]["ensemble"]["rounded"]["mean"]


def test_cutpoints_false_rounds_as_before_and_its_scores_are_the_tuned_run_s_rounded_ones(
    tmp_path, monkeypatch, capsys
):
    _rating_competition(tmp_path, "regression", "\n[training]\ncutpoints = false\n")
    cells, sidecar = _submission(tmp_path, monkeypatch, capsys, "rounded.csv")
    assert "cutpoints" not in sidecar["cv"]["ensemble"] and sidecar["config"]["plan"]["cutpoints"] is False
    path = tmp_path / "competitions" / "play.toml"
    path.write_text(path.read_text().replace("cutpoints = false", "cutpoints = true"))
    tuned_cells, tuned = _submission(tmp_path, monkeypatch, capsys, "tuned.csv")
    assert tuned["cv"]["ensemble"]["rounded"]["fold_scores"] == sidecar["cv"]["ensemble"]["fold_scores"]
    assert tuned_cells != cells  # the outer ratings won back


def test_the_same_submission_twice_writes_the_same_bytes(tmp_path, monkeypatch, capsys):
    _rating_competition(tmp_path, "multiclass")
    _submission(tmp_path, monkeypatch, capsys, "a.csv")
    (tmp_path / "submissions").rename(tmp_path / "first")  # the second trains afresh, reusing no kept CV
    _submission(tmp_path, monkeypatch, capsys, "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    _submission(tmp_path, monkeypatch, capsys, "c.csv")  # its CV kept from b's: the cut-points chosen again alike
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "c.csv").read_bytes()


def test_kit_cv_shows_the_cut_points_and_the_rounded_scores_and_a_metric_other_than_qwk_has_neither(
    tmp_path, monkeypatch, capsys
):
    _rating_competition(tmp_path, "multiclass")
    args = ("cv", "-c", "play", "--data-dir", "data", "--folds", "3", "--epochs", "30", "--quiet")
    out = kit(tmp_path, monkeypatch, capsys, *args)
    assert "qwk cut-points for the full fit: " in out
    assert "without them (the most probable class): linear 0." in out
    path = tmp_path / "competitions" / "play.toml"
    path.write_text(path.read_text().replace('metric = "qwk"', 'metric = "accuracy"'))
    out = json.loads(kit(tmp_path, monkeypatch, capsys, *args, "--json"))
    assert "cutpoints" not in out["ensemble"] and "cut-points" not in json.dumps(out)


# ---- a binary task's threshold ---------------------------------------------------------------------------------------

BINARY_F1 = make_task("binary", "f1", ("0", "1"), ("id", "y"))


def rare_positives(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(probabilities, 0/1 target): a positive class in about a fifth of the rows, its probabilities mostly below 0.5,
    as a model trained on log loss gives them: F1 at 0.5 finds too few positives."""
    gen = torch.Generator().manual_seed(seed)
    latent = torch.randn(n, generator=gen, dtype=torch.float64)
    y = (latent + 0.8 * torch.randn(n, generator=gen, dtype=torch.float64) > 0.9).double()
    return torch.sigmoid(1.5 * latent - 1.8), y


@pytest.mark.parametrize("metric", ["f1", "f1_macro", "balanced_accuracy", "mcc", "qwk"])
def test_the_binary_search_scores_candidates_as_kit_metrics_does(metric):
    import kit.metrics

    gen = torch.Generator().manual_seed(2)
    c = torch.randint(0, 30, (8, 2, 2), generator=gen).double()
    c[0, 1] = 0  # no positive row: F1 has nothing to find, balanced accuracy one class
    c[1, :, 1] = 0  # nothing given positive: MCC undefined
    for matrix, value in zip(c, cutpoints.SCORERS[metric](c)):
        y = torch.repeat_interleave(torch.arange(4) // 2, matrix.flatten().long())
        given = torch.repeat_interleave(torch.arange(4) % 2, matrix.flatten().long()).double()
        assert value.item() == pytest.approx(getattr(kit.metrics, metric)(given, y.double()), abs=1e-12)


def test_a_binary_f1_task_cuts_at_a_threshold_below_one_half_where_positives_are_rare_and_scores_more():
    score, y = rare_positives(3000, 0)
    assert cutpoints.applies(BINARY_F1) and not cutpoints.applies(
        make_task("binary", "accuracy", ("0", "1"), ("id", "y"))
    )
    first, k = cutpoints.ladder(BINARY_F1, y)
    assert cutpoints.midpoints(first, k) == [0.5]
    (threshold,) = cutpoints.fit(score, y.long(), [0.5], "f1")
    assert threshold < 0.45
    tuned = cutpoints.labelled(BINARY_F1, score.float(), [threshold], first)
    assert BINARY_F1.score(tuned, y) > BINARY_F1.score(score.float(), y) + 0.02
    assert BINARY_F1.cells(tuned) == [["1" if p >= threshold else "0"] for p in score.tolist()]


def test_each_binary_fold_s_threshold_is_chosen_on_the_other_folds_and_the_0_5_scores_are_kept():
    score, y = rare_positives(800, 1)
    folds = [(torch.tensor([], dtype=torch.long), torch.arange(f, 800, 4)) for f in range(4)]
    result = ModelResult(score.float(), torch.zeros(1), [0.0] * 4, fold_preds=[score[v].float() for _, v in folds])
    cutpoints.tune(result, y, folds, BINARY_F1)
    assert result.rounded_scores == [BINARY_F1.score(score[v].float(), y[v]) for _, v in folds]
    others = held_out_sets(4)[1]
    rows = torch.cat([folds[g][1] for g in others])
    chosen = cutpoints.fit(torch.cat([result.fold_preds[g] for g in others]), y[rows].long(), [0.5], "f1")
    assert result.fold_cutpoints[1] == chosen
    assert statistics.fmean(result.fold_scores) > statistics.fmean(result.rounded_scores)


def test_a_single_fold_cuts_each_half_of_its_rows_at_the_threshold_chosen_on_the_other_half():
    from kit.train import halves

    score, y = rare_positives(800, 2)
    folds = [(torch.tensor([], dtype=torch.long), torch.arange(800))]  # one fold, as the random split gives
    result = ModelResult(score.float(), torch.zeros(1), [0.0], fold_preds=[score.float()])
    cutpoints.tune(result, y, folds, BINARY_F1)
    parts = halves(800)
    on = [cutpoints.fit(score[p].float(), y[p].long(), [0.5], "f1") for p in parts]
    assert result.fold_cutpoints == [on[1], on[0]] and on[0] != on[1]
    labels = torch.empty(800)
    for p, cuts in zip(parts, result.fold_cutpoints):
        labels[p] = cutpoints.labelled(BINARY_F1, score[p].float(), cuts, 0.0).float()
    assert result.fold_scores == [BINARY_F1.score(labels, y)]
    assert result.cutpoints == cutpoints.fit(score.float(), y.long(), [0.5], "f1") != [0.5]  # no longer 0.5


def _edible_competition(tmp_path: Path, metric: str, training: str = "") -> None:
    """The mushroom playground (e/p, p the positive) scored by `metric`, in tmp_path/competitions/play.toml."""
    write_playground(tmp_path / "data", "edible", n=400)
    text = definition(
        "play", "binary", metric, f'[recipes.base]\nnumeric = ["x1", "x2"]\none_hot = ["shade"]\n{training}'
    )
    text = text.replace('target = "y"', 'target = "edible"').replace('["id", "y"]', '["id", "edible"]')
    (tmp_path / "competitions").mkdir(exist_ok=True)
    (tmp_path / "competitions" / "play.toml").write_text(text)


def test_a_binary_f1_submission_writes_labels_cut_at_the_threshold_chosen_on_every_fold(tmp_path, monkeypatch, capsys):
    _edible_competition(tmp_path, "f1")
    seen = record_full_fit(monkeypatch)
    args = ("submission", "-c", "play", "--data-dir", "data", "--folds", "3", "--epochs", "30", "--quiet")
    kit(tmp_path, monkeypatch, capsys, *args, "--out", "sub.csv")
    sidecar = json.loads((tmp_path / "sub.json").read_text())
    (threshold,) = sidecar["cv"]["ensemble"]["cutpoints"]
    with open(tmp_path / "sub.csv", newline="") as f:
        cells = [row["edible"] for row in csv.DictReader(f)]
    assert cells == ["p" if p >= threshold else "e" for p in seen["test_pred"].double().tolist()]
    assert sidecar["config"]["plan"]["cutpoints"] is True and "rounded" in sidecar["cv"]["ensemble"]
    out = kit(tmp_path, monkeypatch, capsys, *args[:-1], "--out", "again.csv")  # the CV kept: chosen again alike
    assert (tmp_path / "again.csv").read_bytes() == (tmp_path / "sub.csv").read_bytes()
    out = kit(tmp_path, monkeypatch, capsys, "cv", *args[1:-1])
    assert (
        f"f1 threshold for the full fit: {threshold:.2f} (each fold scored with those chosen on the other folds)" in out
    )
    assert "without it (cut at 0.5): linear 0." in out


def test_cutpoints_false_cuts_a_binary_f1_task_at_one_half(tmp_path, monkeypatch, capsys):
    _edible_competition(tmp_path, "f1", "\n[training]\ncutpoints = false\n")
    args = ("submission", "-c", "play", "--data-dir", "data", "--folds", "3", "--epochs", "30", "--quiet")
    kit(tmp_path, monkeypatch, capsys, *args, "--out", "half.csv")
    sidecar = json.loads((tmp_path / "half.json").read_text())
    assert "cutpoints" not in sidecar["cv"]["ensemble"] and sidecar["config"]["plan"]["cutpoints"] is False


# ---- mae of whole-number targets: each value rounded ----------------------------------------------------------------


def test_mae_of_whole_number_targets_rounds_each_fold_s_values_and_keeps_the_values_as_predicted_beside():
    task = make_task("regression", "mae", (), ("id", "y"), whole=True)
    assert cutpoints.applies(task) and not cutpoints.applies(make_task("regression", "mae", (), ("id", "y")))
    assert not cutpoints.applies(make_task("regression", "rmse", (), ("id", "y"), whole=True))  # a mean: not whole
    result, y, folds = _folded(2)
    cutpoints.tune(result, y, folds, task)
    assert result.cutpoints == cutpoints.midpoints(3.0, 6) == result.fold_cutpoints[0]  # rounded, not searched
    rounded = [(p.double().round() - y[v].double()).abs().mean().item() for p, (_, v) in zip(result.fold_preds, folds)]
    assert result.fold_scores == pytest.approx(rounded, abs=1e-12)
    as_predicted = [(p.double() - y[v].double()).abs().mean().item() for p, (_, v) in zip(result.fold_preds, folds)]
    assert result.rounded_scores == pytest.approx(as_predicted, abs=1e-6)


def _counted_competition(tmp_path: Path, target: str) -> None:
    """The playground's `target` (rating: whole numbers 0-10; amount: two decimals) as a regression scored by mae."""
    write_playground(tmp_path / "data", target, n=400)
    text = definition("play", "regression", "mae", '[recipes.base]\nnumeric = ["x1", "x2"]\none_hot = ["shade"]\n')
    text = text.replace('target = "y"', f'target = "{target}"').replace('["id", "y"]', f'["id", "{target}"]')
    (tmp_path / "competitions").mkdir(exist_ok=True)
    (tmp_path / "competitions" / "play.toml").write_text(text)


@pytest.mark.parametrize("target", ["rating", "amount"])
def test_an_mae_submission_of_whole_number_targets_writes_whole_numbers_and_one_of_decimals_its_values(
    target, tmp_path, monkeypatch, capsys
):
    _counted_competition(tmp_path, target)
    args = ("submission", "-c", "play", "--data-dir", "data", "--folds", "3", "--epochs", "30", "--quiet")
    out = kit(tmp_path, monkeypatch, capsys, *args, "--out", "sub.csv")
    with open(tmp_path / "sub.csv", newline="") as f:
        values = [float(row[target]) for row in csv.DictReader(f)]
    sidecar = json.loads((tmp_path / "sub.json").read_text())
    whole = target == "rating"
    assert all(v.is_integer() for v in values) == whole
    assert ("mae of each value rounded to a whole number, as every training target is one" in out) == whole
    assert ("not rounded: linear " in out) == whole
    assert ("cutpoints" in sidecar["cv"]["ensemble"]) == whole
