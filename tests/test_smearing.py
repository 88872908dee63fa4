"""log_target and smearing (kit.smearing): a regression learned in logs, its values scaled back to the mean by a factor
chosen on out-of-fold rows, each fold's on the other folds only, and the submission's values scaled by the full
fit's."""

from __future__ import annotations

import csv
import json
import math
import random
from pathlib import Path

import pytest
import torch
from conftest import definition, kit, record_full_fit, refused, write_tables

from kit import smearing
from kit.task import make_task
from kit.train import held_out_sets
from kit.validation import ModelResult

PRICES = make_task("regression", "rmse", (), ("id", "y"), log_target=True)


def test_the_factor_of_lognormal_errors_is_duans_smearing_estimate_and_scaled_values_are_that_many_times_larger():
    gen = torch.Generator().manual_seed(0)
    centre = 8 + torch.rand(200_000, generator=gen, dtype=torch.float64)  # the log of each row's median
    y = (centre + 0.5 * torch.randn(200_000, generator=gen, dtype=torch.float64)).exp().log1p()
    c = smearing.factor(centre.expm1().log1p(), y)
    assert c == pytest.approx(math.exp(0.5**2 / 2), rel=0.01)  # the mean of a lognormal: exp(s^2 / 2) its median
    pred = torch.tensor([1.0, 5.0, 9.0])
    assert smearing.scaled(pred, c).expm1().tolist() == pytest.approx((c * pred.expm1()).tolist(), rel=1e-6)
    assert smearing.factor(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])) == pytest.approx(1.0)


def test_only_a_log_target_scored_by_squared_errors_is_scaled():
    assert smearing.applies(PRICES) and smearing.applies(
        make_task("regression", "r2", (), ("id", "y"), log_target=True)
    )
    assert not smearing.applies(make_task("regression", "rmse", (), ("id", "y")))  # learned on its own scale
    assert not smearing.applies(make_task("regression", "rmsle", (), ("id", "y")))  # scored in logs: the median
    assert not smearing.applies(make_task("regression", "mae", (), ("id", "y"), log_target=True))  # mae's is one


def _folded(n_folds: int = 4, n: int = 800, seed: int = 0) -> tuple[ModelResult, torch.Tensor, list]:
    gen = torch.Generator().manual_seed(seed)
    centre = 3 + torch.rand(n, generator=gen)
    y = (centre + 0.6 * torch.randn(n, generator=gen)).exp().log1p()
    folds = [(torch.tensor([], dtype=torch.long), torch.arange(f, n, n_folds)) for f in range(n_folds)]
    preds = [centre.expm1().log1p()[valid] for _, valid in folds]
    scores = [PRICES.score(p, y[v]) for p, (_, v) in zip(preds, folds)]
    return ModelResult(torch.zeros(n), torch.zeros(3), scores, fold_preds=preds), y, folds


def test_each_fold_is_scored_with_the_factor_chosen_on_the_other_folds_and_the_full_fit_s_on_every_fold():
    result, y, folds = _folded()
    unscaled = list(result.fold_scores)
    smearing.tune(result, y, folds, PRICES)
    truth = [y[v] for _, v in folds]
    for f, others in enumerate(held_out_sets(len(folds))):
        chosen = smearing.factor(
            torch.cat([result.fold_preds[g] for g in others]), torch.cat([truth[g] for g in others])
        )
        assert result.fold_scales[f] == chosen
        assert result.fold_scores[f] == PRICES.score(smearing.scaled(result.fold_preds[f], chosen), truth[f])
    assert result.scale == smearing.factor(torch.cat(result.fold_preds), y[torch.cat([v for _, v in folds])])
    assert result.unscaled_scores == unscaled
    for f, (_, valid) in enumerate(folds):  # the OOF file's values: each row's, scaled by its fold's factor
        assert torch.equal(result.oof[valid], smearing.scaled(result.fold_preds[f], result.fold_scales[f]))
    assert sum(result.fold_scores) < sum(unscaled)  # the medians scaled toward the means: a smaller rmse
    assert {"scale", "fold_scales", "unscaled"} <= set(result.summary())


def test_a_single_fold_scales_each_half_of_its_rows_by_the_other_half_s_factor_and_the_full_fit_by_all_rows():
    from kit.train import halves

    result, y, folds = _folded(n_folds=4)
    one, pred = [folds[0]], result.fold_preds[0]
    single = ModelResult(result.oof, result.test_pred, result.fold_scores[:1], fold_preds=[pred])
    smearing.tune(single, y, one, PRICES)
    truth, parts = y[folds[0][1]], halves(len(pred))
    on = [smearing.factor(pred[p], truth[p]) for p in parts]
    assert single.fold_scales == [on[1], on[0]] and on[0] != on[1]  # each half's chosen on the other
    scaled = pred.clone()  # in the fold's own row order
    scaled[parts[0]], scaled[parts[1]] = smearing.scaled(pred[parts[0]], on[1]), smearing.scaled(pred[parts[1]], on[0])
    assert single.fold_scores == [PRICES.score(scaled, truth)]
    assert torch.equal(single.oof[folds[0][1]], scaled)  # the OOF file holds what CV scored
    assert single.scale == smearing.factor(pred, truth) > 1


def test_a_fold_s_own_rows_never_choose_its_factor():
    result, y, folds = _folded()
    other, moved = _folded()[0], y.clone()
    moved[folds[0][1]] += 1.0  # fold 0's targets e times larger: its own factor must not follow
    smearing.tune(result, y, folds, PRICES)
    smearing.tune(other, moved, folds, PRICES)
    assert other.fold_scales[0] == result.fold_scales[0]
    assert other.fold_scales[1] != result.fold_scales[1] and other.scale != result.scale


# ---- the definition, kit cv and kit submission --------------------------------------------------------------------


def _prices(folder: Path, n: int = 600, seed: int = 0, negative: bool = False, errors: str = "lognormal") -> None:
    """train.csv, test.csv and sample_submission.csv of prices whose effects multiply, with errors that grow with them
    (lognormal) or that keep one size ("one size"); or ("adding") effects that add, errors that grow."""
    rng = random.Random(seed)
    train, test, sample = [["id", "x1", "shade", "y"]], [["id", "x1", "shade"]], [["id", "y"]]
    for i in range(n):
        x1, shade = rng.gauss(0, 1), rng.choice("abc")
        if errors == "lognormal":
            price = math.exp(9 + 0.8 * x1 + 0.5 * (shade == "a") + rng.gauss(0, 0.6))
        elif errors == "one size":
            price = max(0.0, 1000 * math.exp(0.8 * x1 + 0.5 * (shade == "a")) + rng.gauss(0, 900))
        else:  # the effects of a long-tailed size and of the shade add
            x1 = math.exp(3 + 0.8 * x1)
            price = (20 * x1 + 300 * (shade == "a")) * math.exp(rng.gauss(0, 0.3))
        cells = [str(i), f"{x1:.4f}", shade]
        if i % 4 == 0:
            test.append(cells)
            sample.append([str(i), "1000"])
        else:
            train.append([*cells, f"{-price if negative and i == 1 else price:.2f}"])
    folder.mkdir(parents=True, exist_ok=True)
    write_tables(folder, {"train.csv": train, "test.csv": test, "sample_submission.csv": sample})


def _competition(tmp_path: Path, training: str, task: str = "regression", metric: str = "rmse") -> None:
    recipe = '[recipes.base]\nnumeric = ["x1"]\none_hot = ["shade"]\nscale = "standard_numbers"\n'
    (tmp_path / "competitions").mkdir(exist_ok=True)
    (tmp_path / "competitions" / "prices.toml").write_text(definition("prices", task, metric, f"{recipe}\n{training}"))


ARGS = ("-c", "prices", "--data-dir", "data", "--folds", "4", "--epochs", "40", "--quiet")


def test_a_log_target_cvs_and_submits_values_scaled_by_the_factor_chosen_on_every_fold(tmp_path, monkeypatch, capsys):
    _prices(tmp_path / "data")
    _competition(tmp_path, "[training]\nlog_target = true\n")
    seen = record_full_fit(monkeypatch)
    table = kit(tmp_path, monkeypatch, capsys, "cv", *ARGS)
    assert "values learned in logs, scaled back to the mean by" in table and "unscaled (the median):" in table
    kit(tmp_path, monkeypatch, capsys, "submission", *ARGS, "--out", "sub.csv")
    sidecar = json.loads((tmp_path / "sub.json").read_text())
    ensemble = sidecar["cv"]["ensemble"]
    assert ensemble["scale"] > 1.05  # lognormal errors of spread 0.6: the mean is about 1.2 times the median
    assert ensemble["mean"] < ensemble["unscaled"]["mean"]  # scaled on the other folds, and still better
    with open(tmp_path / "sub.csv", newline="") as f:
        written = [float(row["y"]) for row in csv.DictReader(f)]
    task = make_task("regression", "rmse", (), ("id", "y"), log_target=True)
    expected = [float(row[0]) for row in task.cells(smearing.scaled(seen["test_pred"], ensemble["scale"]))]
    assert written == expected  # the full fit's values, each scaled by the factor chosen on every fold
    assert min(written) > 0  # learned in logs: no negative price


def test_log_target_changes_the_run_s_key_and_an_unset_one_keeps_the_metric_s_way(tmp_path, monkeypatch, capsys):
    _prices(tmp_path / "data")
    means = {}  # kept CVs are reused by key (kit.cv_cache): a key without log_target would reuse the first CV
    for training in ("", "[training]\nlog_target = false\n", "[training]\nlog_target = true\n"):
        _competition(tmp_path, training)
        out = json.loads(kit(tmp_path, monkeypatch, capsys, "cv", *ARGS, "--epochs", "3", "--json"))
        means[training] = out["ensemble"]["mean"]
        assert ("scale" in out["ensemble"]) == ("true" in training)
    assert means[""] == means["[training]\nlog_target = false\n"] != means["[training]\nlog_target = true\n"]


@pytest.mark.parametrize(
    ("training", "task", "metric", "negative", "says"),
    [
        ("log_target = true", "binary", "accuracy", False, "log_target learns a regression's values in logs"),
        ("log_target = false", "regression", "rmsle", False, "its models always learn in logs"),
        ("log_target = true", "regression", "rmse", True, "cannot learn in logs; fix the file or drop log_target"),
    ],
)
def test_a_log_target_that_cannot_be_is_one_sentence(
    training, task, metric, negative, says, tmp_path, monkeypatch, capsys
):
    _prices(tmp_path / "data", negative=negative)
    if task == "binary":  # a target of two values
        for name in ("train.csv",):
            path = tmp_path / "data" / name
            rows = path.read_text().splitlines()
            path.write_text(
                "\n".join([rows[0], *(r.rsplit(",", 1)[0] + f",{i % 2}" for i, r in enumerate(rows[1:]))]) + "\n"
            )
    _competition(tmp_path, f"[training]\n{training}\n", task, metric)
    assert says in refused(tmp_path, monkeypatch, capsys, "cv", *ARGS)


def test_kit_new_offers_log_target_for_a_skewed_target_scored_by_rmse_and_the_offer_runs(tmp_path, monkeypatch, capsys):
    from test_playground_metrics import write_playground

    _prices(tmp_path / "data")
    kit(tmp_path, monkeypatch, capsys, "new", "drafted", "--data-dir", "data", "--metric", "rmse")
    path = tmp_path / "competitions" / "drafted.toml"
    draft = path.read_text()
    assert "\n# log_target = true  # the models learn log(1 + target)" in draft  # offered, not chosen: CV decides
    assert "Too few rows to tell which here" in draft  # 450 training rows: the held-out test's shares are noise
    path.write_text(draft.replace("\n# log_target = true", "\nlog_target = true"))
    table = kit(tmp_path, monkeypatch, capsys, "cv", "-c", "drafted", "--data-dir", "data", "--folds", "3", "--quiet")
    assert "values learned in logs, scaled back to the mean by" in table
    write_playground(tmp_path / "symmetric", "amount")  # 50 + 10 x a sum of normals: no tail to learn in logs
    kit(tmp_path, monkeypatch, capsys, "new", "amounts", "--data-dir", "symmetric", "--metric", "rmse")
    assert "log_target" not in (tmp_path / "competitions" / "amounts.toml").read_text()


@pytest.mark.parametrize(("errors", "chosen"), [("lognormal", True), ("one size", False), ("adding", False)])
def test_kit_new_chooses_log_target_where_held_out_rows_find_effects_that_multiply_and_errors_that_grow(
    tmp_path, monkeypatch, capsys, errors, chosen
):
    _prices(tmp_path / "data", n=4000, errors=errors)  # 3,000 training rows
    kit(tmp_path, monkeypatch, capsys, "new", "drafted", "--data-dir", "data", "--metric", "rmse")
    draft = (tmp_path / "competitions" / "drafted.toml").read_text()
    assert ("\nlog_target = true  # the models learn log(1 + target)" in draft) == chosen
    assert ("\n# log_target = true  # the models learn log(1 + target)" in draft) == (not chosen)
    said = " ".join(line[2:] for line in draft.splitlines() if line.startswith("# ")).replace("\n", " ")
    assert "Fitted on half the rows and scored on the other" in said
    verdict = "effects that multiply and errors that grow with the target. Drop it if CV falls"
    assert (verdict in said) == chosen and ("not both effects that multiply" in said) == (not chosen)


def test_the_run_against_the_last_names_log_target_as_the_change(tmp_path, monkeypatch, capsys):
    _prices(tmp_path / "data")
    _competition(tmp_path, "")
    kit(tmp_path, monkeypatch, capsys, "cv", *ARGS, "--epochs", "3")
    _competition(tmp_path, "[training]\nlog_target = true\n")
    out = kit(tmp_path, monkeypatch, capsys, "cv", *ARGS, "--epochs", "3")
    assert "learned in logs False -> True" in out


@pytest.mark.parametrize("skewed", [True, False])
def test_kit_new_averages_a_skewed_target_s_rates_in_logs_and_a_symmetric_one_s_as_values(
    skewed, tmp_path, monkeypatch, capsys
):
    rng = random.Random(0)
    level = {f"m{i:02d}": rng.gauss(0, 0.5) for i in range(60)}  # many levels: drafted as their rates
    train, test, sample = [["id", "model", "y"]], [["id", "model"]], [["id", "y"]]
    for i in range(2000):
        model = rng.choice(sorted(level))
        noise = level[model] + rng.gauss(0, 0.6)
        y = math.exp(9 + noise) if skewed else 100 + 10 * noise
        if i % 4 == 0:
            test.append([str(i), model])
            sample.append([str(i), "0"])
        else:
            train.append([str(i), model, f"{y:.2f}"])
    (tmp_path / "data").mkdir()
    write_tables(tmp_path / "data", {"train.csv": train, "test.csv": test, "sample_submission.csv": sample})
    kit(tmp_path, monkeypatch, capsys, "new", "cars", "--data-dir", "data", "--metric", "rmse")
    draft = (tmp_path / "competitions" / "cars.toml").read_text()
    recipe = draft[draft.index("[recipes.base]") :]
    assert 'target_mean = { model_rate = { by = ["model"]' in recipe
    assert ("log1p = true" in recipe) == skewed
    assert ("# log_target = true" in draft) == skewed
