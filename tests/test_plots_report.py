"""Plots are real PNGs with one series per model, and `kit report` lists runs best CV first."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.image
import pytest
import torch

from kit.cli import main
from kit.plots import cv_figure, loss_figure, write_plots
from kit.validation import CVResult, ModelResult

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def fake_result(models=("linear", "nn", "deep"), folds=3, seeds=2, epochs=5) -> CVResult:
    gen = torch.Generator().manual_seed(0)
    results = {
        m: ModelResult(
            oof=torch.rand(10, generator=gen),
            test_pred=torch.rand(4, generator=gen),
            fold_scores=torch.rand(folds, generator=gen).tolist(),
            losses=[torch.rand(epochs, generator=gen).tolist() for _ in range(folds * seeds)],
        )
        for m in models
    }
    ensemble = ModelResult(torch.rand(10, generator=gen), torch.rand(4, generator=gen), [0.8] * folds)
    return CVResult(results, ensemble, fit_seconds=0.1, recipe_states=[])


def test_the_loss_plot_has_one_line_and_one_band_per_model():
    fig = loss_figure(fake_result(models=("linear", "nn")))
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["linear (6 fits)", "nn (6 fits)"]
    assert len(ax.collections) == 2  # the min-max bands
    assert len(ax.get_lines()[0].get_xdata()) == 5  # one point per epoch


def test_the_cv_plot_shows_each_model_and_the_ensemble_with_its_folds():
    fig = cv_figure(fake_result(folds=4))
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["linear", "nn", "deep", "ensemble"]
    dots = [c for c in ax.collections if len(c.get_offsets()) == 4]
    assert len(dots) == 4  # one set of fold dots per series
    assert len(ax.patches) == 4  # one bar per series


def test_the_loss_plot_draws_validation_curves_beside_the_training_ones():
    result = fake_result(models=("linear", "nn"), folds=3, seeds=2, epochs=5)
    for r in result.models.values():
        r.valid_losses = [[0.5] * 5 for _ in range(6)]
        r.valid_scores = [[0.7, 0.8, 0.9, 0.85, 0.8] for _ in range(3)]
    loss_ax, metric_ax = loss_figure(result).axes
    labels = [line.get_label() for line in loss_ax.get_lines()]
    assert labels == ["linear (6 fits)", "linear validation", "nn (6 fits)", "nn validation"]
    assert [line.get_label() for line in metric_ax.get_lines()] == ["linear", "nn"]
    assert list(metric_ax.get_lines()[0].get_ydata()) == pytest.approx([0.7, 0.8, 0.9, 0.85, 0.8])
    for r in result.models.values():  # epochs chosen: the fits end at each fold's, the validation curves run on
        r.chosen_epochs, r.losses = 3, [h[:3] for h in r.losses]
    labels = [line.get_label() for line in loss_figure(result).axes[0].get_lines()]
    assert labels[:2] == ["linear (6 fits, to the earliest chosen epoch)", "linear validation"]


def test_plots_are_written_as_valid_pngs(tmp_path):
    paths = write_plots(fake_result(), tmp_path, "run")
    assert [p.name for p in paths] == ["run.loss.png", "run.cv.png"]
    for path in paths:
        assert path.read_bytes().startswith(PNG_SIGNATURE)
        height, width, _ = matplotlib.image.imread(path).shape
        assert (width, height) == (700, 450)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.cv.png", "run.loss.png"]  # no temp files


def test_a_submission_writes_its_plots_beside_it(synthetic_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["submission", "--data-dir", str(synthetic_dir), "--folds", "3"]) == 0
    csv = tmp_path / capsys.readouterr().out.strip().splitlines()[-1]
    for suffix in (".loss.png", ".cv.png"):
        assert csv.with_name(csv.stem + suffix).read_bytes().startswith(PNG_SIGNATURE)


def test_cv_plot_writes_the_pictures_for_a_cv_run(synthetic_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["cv", "--data-dir", str(synthetic_dir), "--folds", "3", "--plot"]) == 0
    written = capsys.readouterr().out.strip().splitlines()[-2:]
    assert all((tmp_path / p).read_bytes().startswith(PNG_SIGNATURE) for p in written)


def test_report_lists_every_run_in_cv_order(synthetic_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    runs = [["--models", "linear_raw"], ["--models", "linear,nn", "--seeds", "2"], ["--models", "deep"]]
    for extra in runs:
        assert main(["cv", "--data-dir", str(synthetic_dir), "--folds", "3", *extra]) == 0
    assert main(["submission", "--data-dir", str(synthetic_dir), "--folds", "3", "--models", "linear"]) == 0
    capsys.readouterr()
    recorded = json.loads((tmp_path / "submissions/titanic/runs.json").read_text())
    assert len(recorded) == 4

    assert main(["report"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    table, png = out[:-1], tmp_path / out[-1]
    assert not any(line.startswith("splits differ") for line in table)  # every run stratified
    assert main(["cv", "--data-dir", str(synthetic_dir), "--folds", "3", "--models", "linear", "--split", "kfold"]) == 0
    capsys.readouterr()
    assert main(["report"]) == 0
    assert "splits differ (kfold, stratified): their CV scores are of other folds; compare runs of one split" in (
        capsys.readouterr().out.splitlines()
    )
    head = ["when", "models", "recipe", "split", "seeds", "training", "epochs", "cv", "accuracy"]
    assert table[0].split()[:9] == head
    cv_column = [float(line.split("±")[0].split()[-1]) for line in table[1:]]
    assert len(cv_column) == 4 and cv_column == sorted(cv_column, reverse=True)
    # the submitted run names its file
    assert sum("plus_linear_stratified3_seeds5.csv" in line for line in table) == 1
    assert png.name == "report.png" and png.read_bytes().startswith(PNG_SIGNATURE)


def test_a_cv_and_the_submission_made_of_it_are_one_row_of_the_report(synthetic_dir, tmp_path, monkeypatch, capsys):
    """A new user's trial: `kit cv` then `kit submission` of one configuration were two rows."""
    from kit.report import report_rows

    monkeypatch.chdir(tmp_path)
    args = ["--data-dir", str(synthetic_dir), "--folds", "3", "--models", "linear", "--epochs", "5", "--quiet"]
    assert main(["cv", *args]) == 0 and main(["submission", *args]) == 0
    assert main(["cv", *args, "--lr", "0.05"]) == 0  # another configuration, never submitted: a row of its own
    rows = report_rows("titanic")
    assert len(json.loads((tmp_path / "submissions/titanic/runs.json").read_text())) == 3
    assert sorted((Path(r["file"]).name if r["file"] else "-", r["runs"]) for r in rows) == [
        ("-", 1),
        ("plus_linear_stratified3_seeds5.csv", 2),
    ]


def test_runs_that_differ_only_in_training_settings_are_told_apart_by_their_training_fingerprint(
    synthetic_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    args = ["cv", "--data-dir", str(synthetic_dir), "--folds", "3", "--models", "linear", "--epochs", "5"]
    for extra in (["--lr", "0.01"], ["--lr", "0.1"], ["--lr", "0.01"]):
        assert main([*args, *extra]) == 0
    runs = json.loads((tmp_path / "submissions/titanic/runs.json").read_text())
    assert [r["training"]["linear"]["lr"] for r in runs] == [0.01, 0.1, 0.01]
    assert runs[0]["training_hash"] == runs[2]["training_hash"] != runs[1]["training_hash"]
    capsys.readouterr()
    assert main(["report"]) == 0
    out = capsys.readouterr().out.strip().splitlines()[:-1]
    table, legend = out[:3], out[3:]
    assert sorted(line.split()[6] for line in table[1:]) == sorted({r["training_hash"] for r in runs})
    # and what each fingerprint stands for: the one setting the runs differ in
    assert sorted(legend) == sorted(
        f"training {r['training_hash']}: linear lr {r['training']['linear']['lr']}" for r in runs[:2]
    )


def test_report_joins_the_public_score_of_a_submitted_file(synthetic_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["submission", "--data-dir", str(synthetic_dir), "--folds", "3", "--models", "linear"]) == 0
    recorded = json.loads((tmp_path / "submissions/titanic/runs.json").read_text())[0]
    ledger = [{"sha256": recorded["sha256"], "public_score": "0.77511", "ref": 1, "status": "COMPLETE"}]
    (tmp_path / "submissions/titanic/ledger.json").write_text(json.dumps(ledger))
    capsys.readouterr()
    assert main(["report"]) == 0
    assert "0.77511" in capsys.readouterr().out


@pytest.mark.parametrize("command", [["report"], ["report", "-c", "titanic"]])
def test_report_with_no_runs_says_so_and_names_the_competition_it_looked_at(command, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(command) == 0
    assert "no runs recorded yet for titanic; run `kit cv -c titanic`" in capsys.readouterr().out
    # two definitions of the user's own: titanic is assumed, and said to be, where no -c was given
    (tmp_path / "competitions").mkdir()
    for slug in ("horses", "horses-orig"):
        (tmp_path / "competitions" / f"{slug}.toml").write_text('slug = "x"\n')
    assert main(command) == 0
    said = capsys.readouterr().out
    assert ("(no -c was given, so titanic was assumed; for yours pass -c horses or -c horses-orig)." in said) == (
        command == ["report"]
    )


def test_report_shows_one_row_per_distinct_configuration_with_its_reruns_counted(
    synthetic_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    for _ in range(3):
        assert main(["cv", "--data-dir", str(synthetic_dir), "--folds", "3", "--models", "linear"]) == 0
    assert main(["cv", "--data-dir", str(synthetic_dir), "--folds", "3", "--models", "linear", "--epochs", "7"]) == 0
    capsys.readouterr()
    assert main(["report"]) == 0
    table = capsys.readouterr().out.strip().splitlines()[:-1]
    assert len(table) == 3  # the header, the rerun configuration once, the 7-epoch one
    runs = sorted(line.split()[-1] for line in table[1:])
    assert runs == ["1", "3"]
    assert any(" 7 " in line for line in table[1:]) and any(" 100 " in line for line in table[1:])


def test_report_orders_a_lower_is_better_metric_smallest_first(tmp_path, monkeypatch):
    from kit.report import RUN_DEFAULTS, report_rows

    monkeypatch.chdir(tmp_path)
    rows = [RUN_DEFAULTS | {"cv_mean": v, "time": str(v), "sha256": str(v)} for v in (0.3, 0.1, 0.2)]
    (tmp_path / "submissions" / "toy").mkdir(parents=True)
    (tmp_path / "submissions" / "toy" / "runs.json").write_text(json.dumps(rows))
    assert [r["cv_mean"] for r in report_rows("toy", greater_is_better=False)] == [0.1, 0.2, 0.3]
    assert [r["cv_mean"] for r in report_rows("toy", greater_is_better=True)] == [0.3, 0.2, 0.1]


def test_report_tells_apart_runs_that_differ_only_in_choosing_the_epochs(synthetic_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["cv", "--data-dir", str(synthetic_dir), "--folds", "3", "--models", "linear,nn", "--epochs", "12"]
    assert main([*args, "--no-choose-epochs"]) == 0 and main([*args, "--choose-epochs"]) == 0
    plain, chose = json.loads((tmp_path / "submissions/titanic/runs.json").read_text())
    assert (plain["choose_epochs"], plain["chosen_epochs"], plain["fold_epochs"]) == (False, None, None)
    assert chose["choose_epochs"] is True and sorted(chose["chosen_epochs"]) == ["linear", "nn"]
    assert all(len(chose["fold_epochs"][m]) == 3 for m in ("linear", "nn"))  # each fold's, beside the full fit's
    capsys.readouterr()
    assert main(["report"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()[1:-1]
    chosen = "chosen {linear}/{nn} of at most 12".format(**chose["chosen_epochs"])
    assert len(rows) == 2 and sum(chosen in r for r in rows) == 1
    assert sum(" 12 " in r and "chosen" not in r for r in rows) == 1  # the plain run: the 12 epochs it was given


def test_report_keeps_apart_runs_that_differ_only_in_the_epochs_chosen(tmp_path, monkeypatch):
    from kit.report import RUN_DEFAULTS, format_report, report_rows

    monkeypatch.chdir(tmp_path)
    base = RUN_DEFAULTS | {"models": ["linear", "nn"], "epochs": {"linear": 100, "nn": 100}, "cv_mean": 0.8}
    runs = [base, base | {"choose_epochs": True, "chosen_epochs": {"linear": 60, "nn": 26}}]
    (tmp_path / "submissions" / "toy").mkdir(parents=True)
    (tmp_path / "submissions" / "toy" / "runs.json").write_text(json.dumps(runs))
    table = format_report(report_rows("toy")).splitlines()
    assert len(table) == 3 and table[1] != table[2]
    assert "chosen 60/26 of at most 100" in format_report(report_rows("toy"))


def test_report_shows_small_scores_to_four_significant_digits_in_one_column(tmp_path, monkeypatch):
    # a trial's report ranked three runs that all read 0.0551 (RMSE near its noise floor of 0.055)
    from kit.report import RUN_DEFAULTS, format_report, report_rows

    monkeypatch.chdir(tmp_path)
    base = RUN_DEFAULTS | {"models": ["linear"], "epochs": {"linear": 100}, "cv_std": 0.0001}
    log = tmp_path / "submissions" / "toy" / "runs.json"
    log.parent.mkdir(parents=True)
    log.write_text(json.dumps([base | {"cv_mean": 0.05511}, base | {"cv_mean": 0.05518, "seeds": 3}]))
    table = format_report(report_rows("toy", greater_is_better=False))
    assert "0.05511 ± 0.00010" in table and "0.05518 ± 0.00010" in table


def test_report_tells_runs_learned_in_logs_from_runs_learned_in_values(tmp_path, monkeypatch):
    # a trial's log_target = false run (MAPE 0.6797) showed the same training fingerprint as its runs in logs
    from kit.report import RUN_DEFAULTS, format_report, report_rows

    monkeypatch.chdir(tmp_path)
    base = RUN_DEFAULTS | {"models": ["linear"], "epochs": {"linear": 100}, "cv_mean": 0.2, "log_target": True}
    log = tmp_path / "submissions" / "toy" / "runs.json"
    log.parent.mkdir(parents=True)
    log.write_text(json.dumps([base, base | {"log_target": False, "cv_mean": 0.7}]))
    table = format_report(report_rows("toy")).splitlines()
    assert " learns " in table[0] and {" log(1+y) " in row for row in table[1:]} == {True, False}
    assert [" y " in row for row in table[1:]].count(True) == 1
    log.write_text(json.dumps([base, base | {"cv_mean": 0.3}]))
    assert " learns " not in format_report(report_rows("toy"))  # all alike: nothing to tell apart


def test_a_run_logged_before_epochs_could_be_chosen_reads_as_trained_its_epochs(tmp_path, monkeypatch):
    from kit.report import format_report, report_rows

    monkeypatch.chdir(tmp_path)
    old = {"time": "2024-01-01T00:00:00+00:00", "models": ["linear"], "recipe": "base", "split": "stratified",
           "folds": 5, "seeds": 1, "epochs": {"linear": 100}, "cv_mean": 0.8, "cv_std": 0.01}  # fmt: skip
    (tmp_path / "submissions" / "toy").mkdir(parents=True)
    (tmp_path / "submissions" / "toy" / "runs.json").write_text(json.dumps([old]))
    (row,) = report_rows("toy")
    assert row["choose_epochs"] is False and row["chosen_epochs"] is None
    assert " 100 " in format_report([row]) and "chosen" not in format_report([row])


def test_the_report_plot_puts_each_submitted_file_against_the_y_equals_x_line():
    from kit.plots import report_figure
    from kit.report import RUN_DEFAULTS

    rows = [
        RUN_DEFAULTS | {"cv_mean": 0.84, "public_score": "0.775", "sha256": "a", "file": "a.csv", "runs": 2},
        RUN_DEFAULTS | {"cv_mean": 0.84, "public_score": "0.775", "sha256": "a", "file": "a.csv", "runs": 1},
        RUN_DEFAULTS | {"cv_mean": 0.82, "public_score": "0.79", "sha256": "b", "file": "b.csv", "runs": 1},
        RUN_DEFAULTS | {"cv_mean": 0.83, "public_score": "", "sha256": "c", "file": "c.csv", "runs": 1},
    ]
    ax = report_figure(rows, "accuracy", "Titanic").axes[0]
    (points,) = [c for c in ax.collections if len(c.get_offsets())]
    assert len(points.get_offsets()) == 2  # one point per submitted file, none for the unsubmitted
    assert [line.get_label() for line in ax.get_lines()] == ["y = x"]
    assert ax.get_xlabel() == "local CV accuracy" and ax.get_ylabel() == "public accuracy"
    assert "Titanic" in ax.get_title()


def test_the_legend_names_the_settings_that_tell_fingerprints_apart_for_the_models_all_runs_train():
    from kit.report import training_legend

    nn = {"lr": 0.01, "hidden": [32]}
    rows = [
        {"training_hash": "aaaaaa", "training": {"nn": nn, "deep": {"lr": 0.01, "hidden": [32, 32]}}},
        {"training_hash": "bbbbbb", "training": {"nn": nn, "deep": {"lr": 0.04, "hidden": [64, 32]}}},
        {"training_hash": "aaaaaa", "training": {"nn": nn, "deep": {"lr": 0.01, "hidden": [32, 32]}}},
        {"training_hash": "cccccc", "training": {"nn": nn, "deep": {"lr": 0.01, "hidden": [32, 32]}, "linear": {}}},
    ]
    assert training_legend(rows) == [
        "training aaaaaa (nn, deep): deep hidden 32/32, deep lr 0.01",  # two that read alike name their models
        "training bbbbbb: deep hidden 64/32, deep lr 0.04",
        "training cccccc (nn, deep, linear): deep hidden 32/32, deep lr 0.01",
    ]
    assert training_legend(rows[:1] + rows[2:3]) == []  # one fingerprint: nothing to tell apart


# ---- kit cv against the last CV: the score then and now, and what changed in between ----


def test_kit_cv_says_how_it_compares_with_the_last_cv_and_what_changed(synthetic_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["cv", "--data-dir", str(synthetic_dir), "--folds", "3", "--epochs", "5", "--quiet"]
    assert main([*args, "--models", "linear"]) == 0
    assert "against the last CV" not in capsys.readouterr().out  # the first CV has nothing to compare with
    assert main([*args, "--models", "linear,nn", "--lr", "0.05", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    runs = json.loads((tmp_path / "submissions/titanic/runs.json").read_text())
    diff = report["against_last"]
    assert diff["ensemble"] == [runs[0]["cv_mean"], runs[1]["cv_mean"]]
    assert diff["models"] == {"linear": [runs[0]["model_means"]["linear"], runs[1]["model_means"]["linear"]]}
    assert diff["changed"] == ["models linear -> linear,nn", "linear lr 0.01 -> 0.05"]
    # the same 3 folds: paired, and 3 folds are too few for a sign test to call any change more than noise
    up = sum(b > a for a, b in zip(runs[0]["fold_scores"], runs[1]["fold_scores"]))
    down = sum(b < a for a, b in zip(runs[0]["fold_scores"], runs[1]["fold_scores"]))
    same = runs[1]["cv_mean"] == runs[0]["cv_mean"]
    assert diff["verdict"] == ("the same" if same else f"within noise ({up} of 3 folds better, {down} worse)")
    then, now = runs[0]["model_fold_scores"]["linear"], runs[1]["model_fold_scores"]["linear"]
    up, down = sum(b > a for a, b in zip(then, now)), sum(b < a for a, b in zip(then, now))
    same = diff["models"]["linear"][0] == diff["models"]["linear"][1]
    assert diff["model_verdicts"] == {
        "linear": "the same" if same else f"within noise ({up} of 3 folds better, {down} worse)"
    }

    assert main([*args, "--models", "linear,nn", "--lr", "0.05", "--recipe", "article"]) == 0
    lines = capsys.readouterr().out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("against the last CV ("))
    then, now = runs[1]["cv_mean"], json.loads((tmp_path / "submissions/titanic/runs.json").read_text())[2]["cv_mean"]
    assert f"accuracy {then:.4f} -> {now:.4f}" in lines[at]
    assert lines[at + 1] == "  changed: recipe plus -> article"

    assert main([*args, "--models", "linear,nn", "--lr", "0.05", "--recipe", "article"]) == 0  # a rerun
    assert "the same configuration and CV score as the last CV (" in capsys.readouterr().out


def _run(folds: list, split_seed: int = 42, **more) -> dict:
    """A run entry of the run log, as record_run writes it, with these ensemble fold scores (linear's the same)."""
    from kit.report import _complete

    mean = sum(folds) / len(folds)
    return _complete({"time": "2026-11-29T10:00:00+00:00", "models": ["linear"], "split": "stratified", "folds": len(folds),
                      "split_seed": split_seed, "cv_mean": mean, "model_means": {"linear": mean}, "fold_scores": folds,
                      "model_fold_scores": {"linear": folds}, **more})  # fmt: skip


@pytest.mark.parametrize(
    ("now", "greater_is_better", "verdict"),
    [
        ([0.81, 0.82, 0.83, 0.84, 0.86], True, "better on 5 of 5 folds"),  # every fold up: 1 in 32 by chance
        ([0.81, 0.82, 0.83, 0.84, 0.84], True, "within noise (4 of 5 folds better, 1 worse)"),  # 3 in 16 by chance
        ([0.79, 0.79, 0.79, 0.79, 0.79], True, "worse on 5 of 5 folds"),
        ([0.81, 0.82, 0.83, 0.84, 0.86], False, "worse on 5 of 5 folds"),  # rmse: higher is worse
        ([0.80, 0.80, 0.80, 0.80, 0.85], True, "the same"),
    ],
)
def test_against_the_last_cv_on_the_same_folds_the_verdict_counts_the_folds_each_way(now, greater_is_better, verdict):
    from kit.report import against_last

    last, run = _run([0.80, 0.80, 0.80, 0.80, 0.85]), _run(now)
    diff = against_last(last, run, greater_is_better)
    assert diff["verdict"] == verdict and diff["model_verdicts"] == {"linear": verdict}


def test_the_report_lists_a_time_splits_runs_before_random_folds_of_the_same_rows():
    from kit.report import _splits_note, ranked

    rows = [_run([0.10, 0.12], split="time"), _run([0.06, 0.08], split="kfold"), _run([0.09, 0.11], split="time")]
    assert [r["cv_mean"] for r in ranked(rows, greater_is_better=False)] == pytest.approx([0.10, 0.11, 0.07])
    assert [r["cv_mean"] for r in ranked(rows[1:2] * 2 + rows[:1], greater_is_better=False)] == pytest.approx(
        [0.11, 0.07, 0.07]
    )
    without_time = [_run([0.06, 0.08], split="kfold"), _run([0.05, 0.07], split="stratified")]
    assert [r["cv_mean"] for r in ranked(without_time, greater_is_better=False)] == pytest.approx([0.06, 0.07])
    assert _splits_note(rows)[0].endswith("; the time split's runs first (random folds of rows over time promise more)")
    assert not _splits_note(without_time)[0].endswith("promise more)")


def test_the_report_lists_quick_looks_on_rows_drawn_after_the_runs_on_every_row():
    from kit.report import _drawn_note, ranked

    # a trial's 50,000-row looks (other rows, a lower constant) topped the report above every full run
    rows = [
        _run([26.27, 26.26], rows=50_000),
        _run([26.29, 26.30]),
        _run([26.26, 26.27], rows=100_000),
        _run([26.28, 26.28]),
    ]
    listed = ranked(rows, greater_is_better=False)
    assert [r["rows"] for r in listed] == [0, 0, 100_000, 50_000]
    assert [r["cv_mean"] for r in listed] == pytest.approx([26.28, 26.295, 26.265, 26.265])
    assert _drawn_note(rows) == [
        "runs on rows drawn at random (`on N rows`) come after the runs on every row: their folds hold other rows"
    ]
    assert _drawn_note(rows[1:2] + rows[3:]) == [] and _drawn_note(rows[:1]) == []  # all full, or all drawn


def test_against_the_last_cv_on_other_folds_the_move_is_judged_by_the_spread_and_an_older_log_by_the_means():
    from kit.report import against_last

    last, now = _run([0.80, 0.80, 0.80, 0.80, 0.85]), [0.81, 0.82, 0.83, 0.84, 0.84]
    # other folds pair no fold with another: a move of 0.018 against a standard error of 0.012 is noise (a trial's
    # user read "better" into 0.8640 -> 0.8640 after --split kfold), one of 0.094 is not
    said = against_last(last, _run(now, split_seed=7), True)
    assert said["verdict"] == "within noise (the folds differ: a move under twice its error)"
    clear = against_last(last, _run([0.90, 0.91, 0.90, 0.91, 0.90], split_seed=7), True)
    assert clear["verdict"] == "better (the folds differ: over twice its error)"
    assert against_last(last, _run([0.70, 0.71, 0.70, 0.71, 0.70], split_seed=7), True)["verdict"].startswith("worse")
    older = {**last, "fold_scores": None, "model_fold_scores": None}  # a run logged before kit kept fold scores
    assert against_last(older, _run(now), True)["verdict"] == "better"
    # a time split against random folds: no verdict, either way round (a trial's random folds read "better" by 0.039
    # MAPE than its time split, on rows whose hidden score was no better)
    timed = _run([0.80, 0.80, 0.80, 0.80, 0.85], split="time")
    said = against_last(timed, _run([0.90, 0.91, 0.90, 0.91, 0.90], split="kfold"), True)
    assert said["verdict"] == "not comparable (the split changed: time -> kfold)"
    assert said["model_verdicts"] == {"linear": said["verdict"]}
    assert against_last(last, timed, True)["verdict"] == "not comparable (the split changed: stratified -> time)"


def test_kit_cv_against_a_recipe_shows_the_paired_comparison_alone(synthetic_dir, tmp_path, monkeypatch, capsys):
    """A new user's trial: after a CV of one recipe, `--against` it printed an "against the last CV" line between
    the two tables, comparing the same two recipes a second way."""
    monkeypatch.chdir(tmp_path)
    args = ["cv", "--data-dir", str(synthetic_dir), "--folds", "3", "--epochs", "5", "--models", "linear", "--quiet"]
    assert main([*args, "--recipe", "article"]) == 0
    capsys.readouterr()
    assert main([*args, "--recipe", "plus", "--against", "article"]) == 0
    out = capsys.readouterr().out
    assert "plus vs article, paired on the same 3 folds" in out and "against the last CV" not in out
    # which recipe is subtracted from which, and which way is better, as a trial's user could not tell
    assert "paired on the same 3 folds: plus's accuracy minus article's (higher is better)" in out
    assert "folds plus won/tied/lost" in out
    assert main([*args, "--recipe", "plus", "--against", "article", "--json"]) == 0
    assert "against_last" not in json.loads(capsys.readouterr().out)
    runs = json.loads((tmp_path / "submissions/titanic/runs.json").read_text())
    # each CV still logged, the recipe asked for after the one it was against: the next CV of it compares with it
    # first (a trial's user read a comparison with the other recipe first)
    assert [r["recipe"] for r in runs] == ["article", "article", "plus", "article", "plus"]
    assert main([*args, "--recipe", "plus"]) == 0
    out = capsys.readouterr().out
    assert "the same configuration and CV score as the last CV" in out and "of recipe" not in out
    assert main([*args, "--recipe", "article"]) == 0  # the other recipe: against the last CV, then its own last
    out = capsys.readouterr().out
    assert "changed: recipe plus -> article" in out and "as the last CV of recipe article (" in out


def test_kit_submission_says_how_its_cv_compares_when_made_straight_after_a_change(
    synthetic_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    args = ["--data-dir", str(synthetic_dir), "--folds", "3", "--epochs", "5", "--models", "linear", "--quiet"]
    assert main(["cv", *args]) == 0
    capsys.readouterr()
    assert main(["submission", *args, "--out", "a.csv"]) == 0  # the CV just run: nothing new to say
    assert "against the last CV" not in capsys.readouterr().out
    assert main(["submission", *args, "--lr", "0.05", "--out", "b.csv"]) == 0
    out = capsys.readouterr().out
    runs = json.loads((tmp_path / "submissions/titanic/runs.json").read_text())
    assert "against the last CV (" in out and f"{runs[1]['cv_mean']:.4f} -> {runs[2]['cv_mean']:.4f}" in out
    assert "  changed: linear lr 0.01 -> 0.05" in out
    # the floor each CV is judged against, logged: the majority's share, the same on the same folds
    assert {run["constant_mean"] for run in runs} == {runs[0]["constant_mean"]} and 0.5 < runs[0]["constant_mean"] < 1
    assert main(["submission", *args, "--lr", "0.01", "--out", "c.csv", "--json"]) == 0
    report = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("{"))  # then the path
    assert json.loads(report)["against_last"]["changed"] == ["linear lr 0.05 -> 0.01"]


def test_kit_cv_compares_with_the_last_cv_on_as_many_rows(synthetic_dir, tmp_path, monkeypatch, capsys):
    """A new user's trial: a CV of every row was called "worse" than the 50,000-row look before it."""
    monkeypatch.chdir(tmp_path)
    args = ["cv", "--data-dir", str(synthetic_dir), "--folds", "3", "--epochs", "5", "--models", "linear", "--quiet"]
    assert main([*args, "--rows", "40"]) == 0
    assert main([*args, "--lr", "0.05"]) == 0
    assert "against the last CV" not in capsys.readouterr().out  # the first CV of every row
    assert main([*args, "--rows", "40", "--lr", "0.05"]) == 0
    assert "  changed: linear lr 0.01 -> 0.05\n" in capsys.readouterr().out  # against the last look at 40 rows
    assert main([*args]) == 0
    assert "  changed: linear lr 0.05 -> 0.01\n" in capsys.readouterr().out  # against the last CV of every row


def test_the_comparison_shows_scores_to_about_five_significant_digits():
    """An RMSE of 44,815 was shown as 44815.4500 -> 45009.8831."""
    from kit.report import format_against_last

    diff = {"time": "2026-11-28T09:00:00+00:00", "ensemble": [44815.45, 45009.8831], "verdict": "worse",
            "models": {"nn": [45100.2, 45300.7]}, "changed": ["recipe base -> plus"]}  # fmt: skip
    assert format_against_last(diff, "rmse").splitlines()[0] == (
        "against the last CV (2026-11-28 09:00 UTC): rmse 44815 -> 45010, worse (nn 45100 -> 45301)"
    )
    diff |= {"models": {"nn": [45100.2, 45300.7], "deep": [46000.0, 45000.0]}}
    diff |= {"model_verdicts": {"nn": "worse", "deep": "better"}}  # each model's own, whatever the ensemble's
    assert (
        format_against_last(diff, "rmse")
        .splitlines()[0]
        .endswith("worse (nn 45100 -> 45301 worse; deep 46000 -> 45000 better)")
    )
    diff |= {"ensemble": [0.71684, 0.71862], "models": {}, "verdict": "better"}
    assert "accuracy 0.7168 -> 0.7186, better" in format_against_last(diff, "accuracy")
    # a move below the table's digits gets the digits it takes: a trial read "0.4484 -> 0.4484, within noise"
    diff |= {"ensemble": [0.448412, 0.448381], "verdict": "within noise (4 of 5 folds better, 1 worse)"}
    assert "log_loss 0.44841 -> 0.44838, within noise" in format_against_last(diff, "log_loss")
    assert format_against_last(diff, "log_loss").endswith("changed: recipe base -> plus")  # one change: its verdict
    # a recipe and its seeds at once: a trial read "worse on 5 of 5" for a recipe that scored better on hidden rows
    diff |= {"changed": ["recipe base -> bins", "seeds 3 -> 1"]}
    assert format_against_last(diff, "log_loss").endswith(
        "changed: recipe base -> bins; seeds 3 -> 1 (the verdict is of these together; the recipe's own move needs "
        "the rest as it was)"
    )


def test_what_changed_names_an_edited_recipe_epochs_patience_and_a_sample():
    from kit.report import RUN_DEFAULTS, what_changed

    last = RUN_DEFAULTS | {"models": ["linear"], "recipe": "base", "recipe_hash": "a", "split": "stratified",
                           "folds": 5, "epochs": {"linear": 30}, "training_hash": "t"}  # fmt: skip
    run = last | {"recipe_hash": "b", "epochs": {"linear": 100}, "choose_epochs": True, "patience": 10, "rows": 500}
    assert what_changed(last, run) == [
        "recipe base edited",
        "split stratified5 -> stratified5 on 500 rows",
        "epochs 30 -> 100",
        "choose epochs False -> True",
        "patience 0 -> 10",
    ]
    assert what_changed(last, last) == []


def test_runs_on_other_input_files_are_told_apart_in_the_comparison_and_the_report(
    synthetic_dir, tmp_path, monkeypatch, capsys
):
    import shutil

    edited = tmp_path / "edited"
    shutil.copytree(synthetic_dir, edited)
    lines = (edited / "train.csv").read_text().splitlines()
    lines[1] = lines[1].replace(",63,", ",64,", 1)  # one passenger a year older
    assert lines[1] != (synthetic_dir / "train.csv").read_text().splitlines()[1]
    (edited / "train.csv").write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(tmp_path)
    args = ["cv", "--folds", "3", "--epochs", "3", "--models", "linear", "--quiet"]
    assert main([*args, "--data-dir", str(synthetic_dir)]) == 0
    assert main([*args, "--data-dir", str(edited), "--json"]) == 0
    runs = json.loads((tmp_path / "submissions/titanic/runs.json").read_text())
    first, second = (r["data"] for r in runs)
    assert len(first) == 8 and first != second
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["against_last"]["changed"] == [f"input files {first} -> {second}"]
    assert main(["report"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:5] == ["when", "models", "recipe", "data", "split"]
    assert sorted(line.split()[4] for line in table[1:3]) == sorted([first, second])


def test_runs_that_differ_only_in_their_seeds_are_told_apart(synthetic_dir, tmp_path, monkeypatch, capsys):
    from kit.report import DEFAULT_INIT_SEED, DEFAULT_SPLIT_SEED
    from kit.validation import Plan

    assert (DEFAULT_SPLIT_SEED, DEFAULT_INIT_SEED) == (Plan().split_seed, Plan().init_seed)
    monkeypatch.chdir(tmp_path)
    args = ["cv", "--data-dir", str(synthetic_dir), "--folds", "3", "--epochs", "3", "--models", "linear", "--quiet"]
    assert main(args) == 0
    assert main([*args, "--split-seed", "7", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["against_last"]["changed"] == ["split seed 42 -> 7"]
    assert main([*args, "--split-seed", "7", "--init-seed", "9", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["against_last"]["changed"] == ["init seed 442 -> 9"]
    assert main(["report"]) == 0
    table = capsys.readouterr().out.splitlines()[1:4]
    assert sum(" seed 7 " in line for line in table) == 2 and sum(" from 9 " in line for line in table) == 1


def test_a_file_written_outside_the_submissions_folder_is_shown_by_its_path(
    synthetic_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    args = ["submission", "--data-dir", str(synthetic_dir), "--folds", "3", "--models", "linear", "--epochs", "3"]
    assert main(args) == 0
    (tmp_path / "elsewhere").mkdir()
    assert main([*args, "--out", "elsewhere/copy.csv"]) == 0  # the same bytes: the row takes the latest name
    capsys.readouterr()
    assert main(["report"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert sum("elsewhere/copy.csv" in line for line in table) == 1  # a trial's user lost sight of where it was
    assert main([*args[:-1], "4"]) == 0  # a file kit wrote itself: its name alone
    capsys.readouterr()
    assert main(["report"]) == 0
    assert sum(" plus_linear_stratified3_seeds5-" in line for line in capsys.readouterr().out.splitlines()) == 1


def test_the_paired_comparison_says_better_worse_or_within_noise_by_a_sign_test_on_its_folds():
    from types import SimpleNamespace

    from kit.pipeline import format_comparison
    from kit.verdict import paired_verdict

    assert paired_verdict(5, 0, 0.01) == "better" and paired_verdict(0, 5, -0.01) == "worse"
    assert paired_verdict(4, 1, 0.01) == "within noise"  # 3 in 16 by chance
    assert paired_verdict(5, 0, -0.01) == "within noise"  # the folds and the mean disagree
    assert paired_verdict(0, 0, 0.0) == "within noise"
    rmse = SimpleNamespace(greater_is_better=False, metric=SimpleNamespace(name="rmse"))
    comparison = {
        "nn": {"mean_diff": -0.02, "std_diff": 0.01, "wins": 5, "ties": 0, "losses": 0},  # lower rmse, every fold
        "ensemble": {"mean_diff": 0.001, "std_diff": 0.003, "wins": 2, "ties": 0, "losses": 3},
    }
    lines = format_comparison("logs", "base", comparison, 5, rmse).splitlines()
    assert lines[2].endswith("folds logs won/tied/lost   logs is")
    assert lines[3].split()[-1] == "better" and lines[4].endswith("within noise")
    comparison["ensemble"]["mean_diff"] = -0.000001  # a difference that rounds to nothing has no sign
    assert " 0.00000 ± 0.00300   2/0/3" in format_comparison("logs", "base", comparison, 5, rmse).splitlines()[4]
    small = {"ensemble": {"mean_diff": 0.0000312, "std_diff": 0.0000101, "wins": 5, "ties": 0, "losses": 0}}
    assert "+0.00003120 ± 0.00001010   5/0/0" in format_comparison("a", "b", small, 5, rmse)  # RMSEs near 0.055


def test_after_a_cv_of_another_recipe_the_last_cv_of_this_one_is_compared_too(
    synthetic_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    args = ["cv", "--data-dir", str(synthetic_dir), "--folds", "3", "--epochs", "5", "--models", "linear"]
    assert main([*args, "--recipe", "article"]) == 0
    assert main([*args, "--recipe", "plus"]) == 0
    capsys.readouterr()
    assert main([*args, "--recipe", "article", "--lr", "0.05", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["against_last"]["changed"] == ["recipe plus -> article", "linear lr 0.01 -> 0.05"]
    assert report["against_last_of_recipe"]["changed"] == ["linear lr 0.01 -> 0.05"]  # the one change made
    assert main([*args, "--recipe", "article", "--lr", "0.05"]) == 0  # the last CV was of this recipe: one block
    out = capsys.readouterr().out
    assert "against the last CV of recipe" not in out and "the same configuration and CV score as the last CV (" in out
    assert main([*args, "--recipe", "plus"]) == 0
    lines = capsys.readouterr().out.splitlines()
    at = next(
        i for i, line in enumerate(lines) if line.startswith("the same configuration and CV score as the last CV of")
    )
    assert lines[at].startswith("the same configuration and CV score as the last CV of recipe plus (")
    # kit submission says the same two: a trial's wider nets read against another recipe's CV alone
    submission = ["submission", "--data-dir", str(synthetic_dir), "--folds", "3", "--epochs", "5", "--models", "linear"]
    assert main([*submission, "--recipe", "article", "--lr", "0.05", "--quiet", "--json"]) == 0
    report = json.loads(next(line for line in capsys.readouterr().out.splitlines() if line.startswith("{")))
    assert report["against_last"]["changed"] == ["recipe plus -> article", "linear lr 0.01 -> 0.05"]
    assert report["against_last_of_recipe"]["changed"] == []  # its recipe's last CV: the same configuration
    assert main([*submission, "--recipe", "plus", "--lr", "0.05", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "changed: recipe article -> plus" in out and "against the last CV of recipe plus (" in out
