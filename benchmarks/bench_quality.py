"""Benchmark: the quality of kit's models against scikit-learn's, on the same folds.

On five data sets it cross-validates kit's linear, nn and deep models and their ensemble, and
scikit-learn's LogisticRegression (Ridge for regression) and HistGradientBoosting, every model on the
same folds (kit.validation.split_indices) and the same inputs: kit's recipe fit on each training fold,
standardised (scale = "standard"). The data sets:

- Titanic and Spaceship Titanic (the real files), kit with the main job's configuration: the plan
  `kit cv -c titanic` resolves from the definition's [run] and [training];
- scikit-learn's bundled digits (multiclass, 1,797 rows, 10 classes) and diabetes (regression, 442 rows);
- a synthetic binary set of 100,000 rows that this script generates (numbers on very different
  scales and offsets, a few categories, an interaction and a threshold in the truth, 2 % missing);

the last three with kit's defaults (no [training]: the default preset, models linear, nn and deep,
one seed), once as they are and once with the epochs chosen by CV (`--choose-epochs`). It then checks the goals of issue 12 and prints which are met:

- kit's best at or above LogisticRegression / Ridge on every data set;
- within 0.01 accuracy (or 5 % of the error) of gradient boosting on at least half of them;
- Spaceship Titanic's main job at CV 0.80 or more;
- the deep net trains on Titanic: 10 seeds x 5 folds, each seed's model scored on its own, none at
  the majority rate, the worst >= 0.70 and the mean >= 0.80 (with the main job's recipe and with the
  article's features).

The figures go into BENCHMARKS.md under the "quality" heading; the other sections are kept.

    python benchmarks/bench_quality.py --data-dir ../shared/data/titanic [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from bench_cv import write_section  # noqa: E402

HEADING = "## quality: kit against scikit-learn on the same folds"
SYNTHETIC_ROWS = 100_000


@dataclass
class Case:
    """One data set: its rows, task, recipe and the plan kit trains with."""

    name: str
    config: str  # which configuration kit trains, in words
    task: object  # kit.task.Task
    train: object  # pandas DataFrame
    test: object  # a few rows: cross_validate wants a test frame, the benchmark scores none
    y: object  # the target tensor, as kit.task.Task.target gives it
    spec: object  # kit.recipe_spec.RecipeSpec
    plan: object  # kit.validation.Plan


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data/titanic"), help="Titanic's folder")
    parser.add_argument("--spaceship-dir", type=Path, help="Spaceship's folder (default: beside Titanic's)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the 5-fold split on the small sets")
    parser.add_argument("--rows", type=int, default=SYNTHETIC_ROWS, help="rows of the synthetic set")
    parser.add_argument("--quick", action="store_true", help="one repeat, 20,000 synthetic rows; nothing written")
    parser.add_argument(
        "--training", default="{}", help="a [training] table as JSON over kit's defaults, to compare candidates"
    )
    parser.add_argument("--only", help="comma-separated data set names to run (nothing written)")
    parser.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md", help="file to write the section into")
    args, _ = parser.parse_known_args(argv)  # nox -s bench passes bench_cv.py's options here too
    command = shlex.join(["python", "benchmarks/bench_quality.py", *(sys.argv[1:] if argv is None else argv)])
    if args.quick:
        args.repeats, args.rows = 1, 20_000
    load_before = os.getloadavg()[0]

    import torch

    from kit.train import Training

    defaults = Training(**json.loads(args.training))
    titanic_dir = args.data_dir.resolve()
    spaceship_dir = (args.spaceship_dir or titanic_dir.parent / "spaceship-titanic").resolve()
    builders = {
        "titanic": lambda: main_job("titanic", titanic_dir, args.repeats),
        "spaceship-titanic": lambda: main_job("spaceship-titanic", spaceship_dir, args.repeats),
        "digits": lambda: bundled("digits", defaults, args.repeats),
        "diabetes": lambda: bundled("diabetes", defaults, args.repeats),
        "synthetic": lambda: synthetic(args.rows, defaults),
    }
    only = args.only.split(",") if args.only else list(builders)
    blocks, verdicts = [], []
    for name in only:
        case = builders[name]()
        print(f"{case.name}: {len(case.y)} rows, {case.config}", flush=True)
        rows, best = compare(case)
        blocks.append(_table(case, rows))
        print(blocks[-1], flush=True)
        verdicts.append((case, best))

    goals = goal_lines(verdicts)
    deep = []
    if "titanic" in only:
        deep = deep_net_lines(titanic_dir)
        goals += deep
    print("\n".join(goals), flush=True)
    if args.quick or args.only:
        print("(a quick or partial run: BENCHMARKS.md is not written)")
        return 0
    load = f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after (1 min)"
    meta = [
        f"- date: {dt.date.today().isoformat()}",
        f"- machine: {os.cpu_count()} cores ({platform.machine()}), torch {torch.__version__}, on the CPU",
        f"- command: `{command}` (run from the repository root)",
        f"- {load}",
        "- every model on the same folds, with the same inputs: kit's recipe fit on each training fold, "
        "standardised; scikit-learn's models at their defaults (LogisticRegression max_iter=5000, Ridge "
        "alpha=1, HistGradientBoosting random_state=0), on one thread; mean ± std over folds, the worst fold, "
        "training seconds (kit's: every model's CV, its recipe included)",
    ]
    section = "\n".join([HEADING, "", *meta, "", *blocks, "### Goals (issue 12)", "", *goals, ""])
    write_section(args.out, HEADING, section)
    print(f"wrote {args.out}")
    return 0


# ---- the data sets -------------------------------------------------------------------------------


def main_job(slug: str, data_dir: Path, repeats: int) -> Case:
    """A competition with kit's plan for it as `kit cv -c SLUG` resolves it, over `repeats` repeats of its split."""
    from kit.cli import build_parser
    from kit.commands import _plan, _recipe
    from kit.competition import load_competition, read_train_test, target_tensor, task_of

    args = build_parser().parse_args(["cv", "-c", slug, "--data-dir", str(data_dir)])
    comp = load_competition(slug)
    plan = replace(_plan(args), repeats=repeats)
    spec = _recipe(args, comp)
    train, test = read_train_test(comp, data_dir, spec)
    task = task_of(comp, train)
    t = plan.training
    config = (
        f"main job: recipe {spec.name} (scale {spec.scale}), models {','.join(plan.models)}, {plan.seeds} seed(s), "
        f"preset {t.preset}"
        + "".join(f", {k} {v}" for k, v in (("lr", t.lr), ("batch_size", t.batch_size)) if v is not None)
        + (", epochs chosen by CV" if plan.choose_epochs else "")
    )
    return Case(slug, config, task, train, test, target_tensor(comp, task, train), spec, plan)


def _defaults_plan(split: str, repeats: int, training):
    from kit.commands import DEFAULT_MODELS
    from kit.validation import Plan

    return Plan(models=DEFAULT_MODELS, split=split, repeats=repeats, training=training)


def bundled(name: str, training, repeats: int) -> Case:
    """scikit-learn's bundled digits (multiclass) or diabetes (regression), every column a number."""
    import pandas as pd
    import torch
    from sklearn.datasets import load_diabetes, load_digits

    from kit.recipe_spec import RecipeSpec
    from kit.task import make_task

    data = (load_digits if name == "digits" else load_diabetes)()
    columns = [f"x{j}" for j in range(data.data.shape[1])]
    train = pd.DataFrame(data.data, columns=columns)
    spec = RecipeSpec(name="numbers", numeric=tuple(columns), scale="standard")
    if name == "digits":
        task = make_task("multiclass", "accuracy", tuple(str(k) for k in range(10)), ("id", "label"))
        y, split = torch.as_tensor(data.target, dtype=torch.int64), "stratified"
    else:
        task = make_task("regression", "rmse", (), ("id", "target"))
        y, split = torch.as_tensor(data.target, dtype=torch.float32), "kfold"
    plan = _defaults_plan(split, repeats, training)
    return Case(name, "kit's defaults", task, train, train.head(8), y, spec, plan)


def synthetic(n: int, training, seed: int = 0) -> Case:
    """A binary set of n rows: 12 numbers on scales from 0.5 to 1,000 with offsets, 3 categories.

    The truth is mostly linear in the numbers, plus an interaction, a threshold and the categories'
    effects, with logistic noise: a set where unscaled or uncentred inputs hurt, and where a model
    that can bend beats a straight line by a little.
    """
    import numpy as np
    import pandas as pd
    import torch

    from kit.recipe_spec import RecipeSpec
    from kit.task import make_task

    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 12))  # (n, 12) the numbers before their units
    scales, offsets = rng.uniform(0.5, 1000, size=12), rng.uniform(-5, 5, size=12)
    logit = z[:, :6] @ rng.normal(size=6) * 0.6 + 0.8 * z[:, 0] * z[:, 1] + 1.2 * (z[:, 2] > 0.7)
    frame = pd.DataFrame({f"num{j}": (z[:, j] + offsets[j]) * scales[j] for j in range(12)})
    for j, k in enumerate((4, 7, 12)):
        codes = rng.integers(0, k, size=n)
        logit += rng.normal(size=k)[codes] * 0.5
        frame[f"cat{j}"] = np.array([f"c{j}_{i}" for i in range(k)], dtype=object)[codes]
    for column in frame:
        frame.loc[rng.random(n) < 0.02, column] = None
    y = torch.as_tensor((logit - logit.mean() + rng.logistic(size=n) > 0).astype("float32"))
    nums, cats = [f"num{j}" for j in range(12)], ["cat0", "cat1", "cat2"]
    spec = RecipeSpec(
        name="synthetic",
        fill_mode=tuple(nums + cats),
        numeric=tuple(nums),
        one_hot=tuple(cats),
        scale="standard",
    )
    task = make_task("binary", "accuracy", ("0", "1"), ("id", "target"))
    plan = _defaults_plan("stratified", 1, training)
    return Case(f"synthetic {n:,} rows", "kit's defaults", task, frame, frame.head(8), y, spec, plan)


# ---- the comparison --------------------------------------------------------------------------------


def compare(case: Case):
    """Rows (model, fold scores, seconds) for kit's models, the ensemble and scikit-learn's, and kit's best."""
    from kit.validation import cross_validate, ensemble, split_indices

    rows = []
    # kit's defaults leave choose_epochs off; the sets trained with them also run with it on
    plans = [case.plan] if case.plan.choose_epochs else [case.plan, replace(case.plan, choose_epochs=True)]
    for plan in plans:
        suffix = ", epochs by CV" if plan.choose_epochs and plan is not case.plan else ""
        start = time.perf_counter()
        result = cross_validate(case.spec, case.train, case.test, case.y, plan, case.task)
        kit_seconds = time.perf_counter() - start
        rows += [(f"kit {name}{suffix}", r.fold_scores, None) for name, r in result.models.items()]
        rows.append((f"kit ensemble{suffix}", result.ensemble.fold_scores, kit_seconds))
        if plan.ensemble == "mean":  # the same models weighted by CV (ensemble = "select"), each fold's on the others
            weighted = ensemble(result.models, case.y, result.folds, case.task, "select", plan.repeats)
            rows.append((f"kit ensemble, weights by CV{suffix}", weighted.fold_scores, None))
    folds = split_indices(case.plan, case.y)
    rows += baselines(case, folds)
    kit_rows = [r for r in rows if r[0].startswith("kit")]
    best = _best(case.task, kit_rows)
    as_given = next(r for r in kit_rows if r[0] == "kit ensemble")  # the configuration as given
    return rows, {"kit": best, "ensemble": as_given, "linear": rows[-2], "boosting": rows[-1], "rows": rows}


def baselines(case: Case, folds) -> list:
    """LogisticRegression (or Ridge) and HistGradientBoosting on each fold's standardised recipe features."""
    import torch
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    from threadpoolctl import threadpool_limits

    from kit.recipe import apply_recipe, fit_apply

    spec = replace(case.spec, scale="standard")
    regression = case.task.kind == "regression"
    makers = {
        "Ridge" if regression else "LogisticRegression": lambda: (
            Ridge() if regression else LogisticRegression(max_iter=5000)
        ),
        "HistGradientBoosting": lambda: (
            HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier
        )(random_state=0),
    }
    scores = {name: [] for name in makers}
    seconds = dict.fromkeys(makers, 0.0)
    # One thread, as kit trains grids this size (kit.threads): on a shared machine, OpenMP's waits
    # made gradient boosting on Titanic's 891 rows take 300 s on two threads.
    with threadpool_limits(limits=1):
        for train_idx, valid_idx in folds:
            state, x_train = fit_apply(spec, case.train.iloc[train_idx.numpy()])
            x_valid = apply_recipe(spec, state, case.train.iloc[valid_idx.numpy()]).numpy()
            y_train = case.y[train_idx].numpy()
            for name, make in makers.items():
                start = time.perf_counter()
                model = make().fit(x_train.numpy(), y_train if regression else y_train.astype(int))
                seconds[name] += time.perf_counter() - start
                if regression:
                    pred = torch.as_tensor(model.predict(x_valid), dtype=torch.float32)
                else:
                    proba = torch.as_tensor(model.predict_proba(x_valid), dtype=torch.float32)  # (m, k), classes 0..k-1
                    pred = proba[:, 1] if case.task.kind == "binary" else proba
                scores[name].append(case.task.score(pred, case.y[valid_idx]))
    return [(name, scores[name], seconds[name]) for name in makers]


def _best(task, rows):
    means = [statistics.fmean(s) for _, s, _ in rows]
    pick = max if task.greater_is_better else min
    return rows[means.index(pick(means))]


def _table(case: Case, rows) -> str:
    metric = case.task.metric.name
    worst = min if case.task.greater_is_better else max
    lines = [f"### {case.name} ({case.task.kind}, {metric}; {len(case.y):,} rows, {len(rows[0][1])} folds)", ""]
    lines += [f"kit: {case.config}.", ""]
    lines += [f"| model | {metric} | worst fold | seconds |", "| --- | --- | --- | --- |"]
    for name, scores, seconds in rows:
        shown = "" if seconds is None else f"{seconds:.1f}"
        if name.startswith("kit ensemble"):
            shown += " (the kit models above it)"
        mean, std = statistics.fmean(scores), statistics.pstdev(scores)
        lines.append(f"| {name} | {mean:.4f} ± {std:.4f} | {worst(scores):.4f} | {shown} |")
    return "\n".join(lines) + "\n"


def goal_lines(verdicts) -> list[str]:
    """The goals on comparisons, each with its figures and whether it is met."""
    lines, near = [], 0
    beat_all = True
    for case, best in verdicts:
        name, scores, _ = best["kit"]
        kit = statistics.fmean(scores)
        linear = statistics.fmean(best["linear"][1])
        boost = statistics.fmean(best["boosting"][1])
        beats = kit >= linear if case.task.greater_is_better else kit <= linear
        if case.task.greater_is_better:
            close = kit >= boost - 0.01
            gap = f"{kit - boost:+.4f}"
        else:
            close = kit <= boost * 1.05
            gap = f"{(kit - boost) / boost:+.1%} of the error"
        beat_all &= beats
        near += close
        line = (
            f"- {case.name}: kit's best ({name}) {kit:.4f}; {best['linear'][0]} {linear:.4f} "
            f"({'at or above' if beats else 'BELOW'}); gradient boosting {boost:.4f} ({gap}, "
            f"{'within' if close else 'not within'} the margin)"
        )
        if name.endswith("epochs by CV"):  # say what the configuration as given scored too
            given = _best(case.task, [r for r in best["rows"] if r[0].startswith("kit") and "by CV" not in r[0]])
            mean = statistics.fmean(given[1])
            above = mean >= linear if case.task.greater_is_better else mean <= linear
            line += f"; without choosing epochs, {given[0]} {mean:.4f} ({'at or above' if above else 'below'})"
        lines.append(line)
    n = len(verdicts)
    head = [
        f"- kit's best at or above LogisticRegression/Ridge on every data set: {'met' if beat_all else 'NOT met'}",
        f"- within 0.01 accuracy (5 % of the error) of gradient boosting on at least half: "
        f"{near} of {n}, {'met' if 2 * near >= n else 'NOT met'}",
    ]
    for case, best in verdicts:
        if case.name == "spaceship-titanic":
            ens = statistics.fmean(best["ensemble"][1])
            head.append(
                f"- Spaceship Titanic's main job (the ensemble) at CV 0.80 or more: {ens:.4f}, "
                + ("met" if ens >= 0.80 else "NOT met")
            )
    return head + lines


def deep_net_lines(titanic_dir: Path) -> list[str]:
    """The deep net on Titanic, 10 seeds x 5 folds, each seed's model scored on its own.

    Once with the main job's recipe and training, once with the article's features (standardised)
    and kit's default training: cross_validate with one seed at a time gives each seed's fold scores.
    """
    from kit.competition import load_competition, read_train_test
    from kit.train import Training
    from kit.validation import cross_validate, split_indices

    lines = []
    case = main_job("titanic", titanic_dir, 1)
    comp = load_competition("titanic")
    article = replace(comp.recipe("article"), scale="standard")
    train_a, test_a = read_train_test(comp, titanic_dir, article)
    variants = [
        (
            f"main job (recipe {case.spec.name}, {case.plan.training.preset} preset)",
            case.spec,
            case.train,
            case.test,
            case.plan,
        ),
        (
            "article's features, standardised, default preset",
            article,
            train_a,
            test_a,
            replace(case.plan, training=Training(), choose_epochs=False),
        ),
    ]
    for label, spec, train, test, plan in variants:
        scores, majority = [], []
        for seed in range(10):
            one = replace(plan, models=("deep",), seeds=1, init_seed=442 + seed, repeats=1)
            result = cross_validate(spec, train, test, case.y, one, case.task)
            scores += result.models["deep"].fold_scores
        for _, valid_idx in split_indices(replace(plan, repeats=1), case.y):
            rate = float(case.y[valid_idx].mean())
            majority.append(max(rate, 1 - rate))
        at_majority = sum(s <= majority[i % 5] + 1e-9 for i, s in enumerate(scores))
        met = at_majority == 0 and min(scores) >= 0.70 and statistics.fmean(scores) >= 0.80
        lines.append(
            f"- the deep net trains on Titanic, {label}: 10 seeds x 5 folds, mean {statistics.fmean(scores):.4f}, "
            f"worst {min(scores):.4f}, best {max(scores):.4f}, {at_majority} of 50 at or below the fold's majority "
            f"rate ({min(majority):.4f}-{max(majority):.4f}): {'met' if met else 'NOT met'}"
        )
    return lines


if __name__ == "__main__":
    sys.exit(main())
