"""The job from a competition's files to a submission, shared by the CLI and the Kaggle notebook
so that both write byte-identical files from the same settings."""

from __future__ import annotations

import statistics
import sys
from dataclasses import asdict
from pathlib import Path

import torch

from kit import KitError, __version__
from kit.competition import (
    extra_rows,
    input_hashes,
    read_train_test,
    row_groups,
    row_times,
    target_tensor,
    task_of,
)
from kit.ensemble import combine
from kit.groups import without_per_row
from kit.oof import check_oof_path, oof_text, per_target, training_targets, write_oof
from kit.progress import epoch_note, progress_for
from kit.recipe import fit_recipe, unseen_levels
from kit.schema import toml_key
from kit.submission import (
    check_out_path,
    check_sample_ids,
    check_submission,
    git_commit,
    refuse_non_finite,
    submission_text,
    write_submission,
)
from kit.table import decimals
from kit.threads import torch_threads
from kit.validation import CVResult, constant_of, constant_scores, cross_validate, fit_full, fit_full_models
from kit.verdict import paired_verdict


def run_cv(comp, spec, train, test, plan, quiet: bool = False, folds: list | None = None, importance: bool = False):
    """Cross-validate the plan, its progress over folds x models shown (kit.progress); returns (CVResult, y).

    The extra rows ([files] extra, last in `train`) train in every fold; the checks and the folds are the
    competition's rows'. folds: the split's (train_idx, valid_idx) when an earlier CV of the same split kept
    them (kit.cv_cache), else they are cut here."""
    task = task_of(comp, train)
    y = target_tensor(comp, task, train)
    extra = extra_rows(comp, train)
    y, y_all = y[: len(y) - extra], y  # the competition's rows: the folds are theirs, and every score
    if plan.split != "random" and plan.folds > len(y):
        raise KitError(f"{plan.folds} folds are more than the {len(y)} training rows", fix="fewer_folds", rows=len(y))
    if task.kind != "regression" and len(torch.unique(y)) < 2:  # every model would score perfectly on nothing
        only = task.labels[int(y[0])] if task.labels else str(y[0].item())
        raise KitError(
            f"the target {comp.target} holds one class ({only}) in every training row; a classifier needs two or "
            "more, so check the file or the competition's task"
        )
    if plan.split == "stratified" and task.kind != "regression":
        counts = torch.unique(y, return_counts=True)[1]
        smallest, largest = int(counts.min()), int(counts.max())
        if plan.folds > largest:  # no class could put a row in every fold
            raise KitError(
                f"stratified folds need a class with {plan.folds} rows or more, and the largest has {largest}",
                fix="fewer_folds",
                rows=largest,
            )
        if plan.folds > smallest:  # said once, in kit's words
            print(
                f"kit: warning: the rarest class has {smallest} training rows, fewer than the {plan.folds} folds: "
                "some folds validate none of it",
                file=sys.stderr,
            )
    n_folds = plan.repeats * (1 if plan.split == "random" else plan.folds)
    # one value per row that the split reads: its group, or its time
    own = train.iloc[: len(y)]  # the extra rows have no group or time of their own
    groups = row_groups(comp, own) if plan.split == "group" else row_times(comp, own) if plan.split == "time" else None
    if plan.split == "group" and folds is None and (n_groups := len(set(groups))) < plan.folds:
        whose = f"{comp.validation['group']}'s" if "group" in comp.validation else "the distinct rows'"
        raise KitError(
            f"the group split keeps each of {whose} {n_groups} groups in one fold, too few for {plan.folds} folds",
            fix="fewer_folds",
            rows=n_groups,
        )
    y = y_all
    with progress_for(n_folds * len(plan.models), f"{comp.slug} cv", quiet) as progress:
        result = cross_validate(
            spec,
            train,
            test,
            y,
            plan,
            task,
            progress=progress.update,
            on_epoch=epoch_note(progress) if not progress.disable else None,
            groups=groups,
            extra=extra,
            folds=folds,
            importance=importance,
        )
    result.per_target = per_target(task, result.ensemble.oof, y)
    # A NaN probability is neither above nor below 0.5: scored, it would count as a wrong answer.
    train_ids = train[comp.id].tolist()
    for name, model in result.models.items():
        for k, (pred, (_, valid_idx)) in enumerate(zip(model.fold_preds, result.folds), start=1):
            if bool(pred.isfinite().all()):
                continue  # the common case, one pass: listing 15 folds' ids took 0.7 s at 300,000 rows (busy)
            ids = [train_ids[i] for i in valid_idx.tolist()]
            refuse_non_finite(ids, pred, f"train {comp.id}", f"model {name} in CV fold {k}")
    return result, y


def sample_rows(comp, train, plan):
    """`train` less all but plan.rows of the competition's rows, drawn at random (seeded by the split seed) and
    kept in the file's order; extra rows ([files] extra, last) are drawn at the same rate. Every row when
    plan.rows is 0 or covers them all."""
    extra = extra_rows(comp, train)
    n = len(train) - extra
    if not plan.rows or plan.rows >= n:
        return train
    gen = torch.Generator().manual_seed(plan.split_seed)
    own = torch.randperm(n, generator=gen)[: plan.rows].sort().values
    more = torch.randperm(extra, generator=gen)[: round(extra * plan.rows / n)].sort().values + n
    # the rows keep their index, their place in the file: a message about one names its line there
    return train.iloc[torch.cat([own, more]).numpy()]


def cached_cv(
    comp, spec, plan, data_dir: Path, train, test, quiet: bool = False, importance: bool = False, cut: bool = True
):
    """`run_cv`, training only the models that no kept CV of the same data, recipe, split, seeds and model
    settings holds (kit.cv_cache); the ensemble is made again from all of the plan's. The models trained
    here are kept for the next. Returns (CVResult, y). importance: every model trains (a kept CV holds no
    models to shuffle columns for), and the result carries each recipe column's importance."""
    from dataclasses import replace

    from kit import cv_cache
    from kit.paths import in_kaggle_notebook
    from kit.validation import ensemble

    if in_kaggle_notebook():  # one run per notebook: nothing to reuse, and the file would join its outputs
        result, y = run_cv(comp, spec, train, test, plan, quiet, importance=importance)
        result.data, result.fold_data = data_fingerprint(comp, data_dir), fold_fingerprint(comp, data_dir)
        return (with_cutpoints(result, y, plan) if cut else result), y
    split_key, keys = cv_keys(comp, spec, plan, data_dir)
    keys = {name: (key, epochs_free_key(split_key, plan, name)) for name, key in keys.items()}
    caps = {name: plan.settings(name)["epochs"] for name in plan.models}
    kept, split, stopped = cv_cache.load(comp.slug, split_key, keys, caps)
    if importance:  # the kept split's folds still serve
        kept = {}
    to_train = tuple(name for name in plan.models if name not in kept)
    # kept as int32 (kit.cv_cache); reused, they spare cutting the folds again
    kept_folds = [tuple(idx.long() for idx in fold) for fold in split["folds"]] if split is not None else None
    if to_train:
        trained, y = run_cv(
            comp, spec, train, test, replace(plan, models=to_train), quiet, folds=kept_folds, importance=importance
        )
        folds, states, fit_seconds = trained.folds, trained.recipe_states, trained.fit_seconds
        models = {name: kept[name] if name in kept else trained.models[name] for name in plan.models}
        task = trained.task
    else:
        task = task_of(comp, train)
        y = target_tensor(comp, task, train)
        folds = kept_folds
        states = []  # the folds' recipe states served the CV that made these predictions: not kept (kit.cv_cache)
        fit_seconds = 0.0  # no model trained now
        models = {name: kept[name] for name in plan.models}
    # said before the others train, so the wait is explained; when nothing trains, the table says it at once
    if kept and to_train and not quiet:
        reused = ", ".join(name for name in plan.models if name in kept)
        print(f"kit: the CV of {reused} is reused from an earlier run of the same data, recipe, split and "
              f"settings{_stopped_note(stopped)}; {', '.join(to_train)} trained now", file=sys.stderr)  # fmt: skip
    elif stopped and not quiet:
        print(f"kit: every model's CV is reused{_stopped_note(stopped)}", file=sys.stderr)
    if to_train == plan.models:  # every model trained now: the ensemble run_cv made is this one (2 s of a "select")
        combined = trained.ensemble
    else:
        combined = ensemble(models, y, folds, task, plan.ensemble, plan.repeats)
    result = CVResult(models, combined, fit_seconds, states, task, folds, reused=not to_train)
    result.reused_models = tuple(name for name in plan.models if name in kept)
    result.per_target = per_target(task, combined.oof, y)
    result.constant = constant_scores(task, y, folds)
    result.data, result.fold_data = data_fingerprint(comp, data_dir), fold_fingerprint(comp, data_dir)
    if importance:
        result.importance = trained.importance
    cv_cache.save(comp.slug, split_key, keys, result, caps)  # as trained: cut-points are chosen again from the folds
    return (with_cutpoints(result, y, plan) if cut else result), y  # cut: False where a blend chooses them (below)


def blended_cv(comp, spec, plan, data_dir: Path, train, test, quiet: bool = False, importance: bool = False):
    """`cached_cv`, and with plan.blend each of those recipes' CV of the same models on the same folds (kept CVs
    reused as ever): the ensemble spans every recipe's models, theirs named RECIPE/MODEL. Blending two recipes'
    out-of-fold predictions is what competitors do by hand (nyaggle's averaging of experiments); here the weights
    ("select") are chosen for each fold on the other folds, so the blend's CV is no more flattered than one
    recipe's. Returns (CVResult, y)."""
    if not plan.blend:
        return cached_cv(comp, spec, plan, data_dir, train, test, quiet, importance)
    from kit.validation import ensemble

    own, y = cached_cv(comp, spec, plan, data_dir, train, test, quiet, importance, cut=False)
    models, seconds, reused = dict(own.models), own.fit_seconds, own.reused
    for name in plan.blend:
        other = comp.recipe(name)
        theirs_train, theirs_test = read_train_test(comp, data_dir, other, noted=False)
        if plan.rows:  # the same rows drawn, and no test rows, as the CV's own (kit cv --rows)
            theirs_train, theirs_test = sample_rows(comp, theirs_train, plan), theirs_test.iloc[:0]
        theirs, _ = cached_cv(comp, other, plan, data_dir, theirs_train, theirs_test, quiet, cut=False)
        models |= {f"{name}/{model}": result for model, result in theirs.models.items()}
        seconds, reused = seconds + theirs.fit_seconds, reused and theirs.reused
    combined = ensemble(models, y, own.folds, own.task, plan.ensemble, plan.repeats)
    result = CVResult(models, combined, seconds, own.recipe_states, own.task, own.folds, reused=reused)
    result.reused_models = getattr(own, "reused_models", ())
    result.per_target = per_target(own.task, combined.oof, y)
    result.constant = getattr(own, "constant", None)
    result.data, result.fold_data = own.data, own.fold_data
    if importance:
        result.importance = own.importance  # the run's recipe's columns, for its own models
    return with_cutpoints(result, y, plan), y


def blend_of(a, b, b_name: str, y, plan):
    """The ensemble of two recipes' CVs on the same folds as a blend makes it (`blended_cv`: A's models and B's,
    named B_NAME/MODEL), or None where cut-points or a log target's scale are chosen on the folds: those were chosen
    for each recipe's models already, and a blend chooses them once, for all."""
    from kit import cutpoints, smearing
    from kit.validation import ensemble

    if (plan.cutpoints and cutpoints.applies(a.task)) or smearing.applies(a.task):
        return None
    models = dict(a.models) | {f"{b_name}/{model}": result for model, result in b.models.items()}
    return ensemble(models, y, a.folds, a.task, plan.ensemble, plan.repeats)


def _stopped_note(stopped: dict) -> str:
    """`` (patience stopped linear at epoch 23 of 100 before, so a cap at or above that trains the same epochs)``,
    or "" when no model was reused under another cap."""
    if not stopped:
        return ""
    said = ", ".join(f"{name} at epoch {trained} of {cap}" for name, (trained, cap) in stopped.items())
    return f" (patience stopped {said} before, so a cap at or above that trains the same epochs)"


def with_cutpoints(result, y, plan):
    """The CVResult with, where the plan cuts qwk's labels (kit.cutpoints), each model's and the ensemble's fold
    scores those of cut-points chosen on the other folds, and the full fit's cut-points chosen on every fold; where
    a log target is scored by squared errors (kit.smearing), those of values scaled back to the mean alike."""
    from kit import cutpoints, smearing

    if plan.cutpoints and cutpoints.applies(result.task):
        for model in (*result.models.values(), result.ensemble):
            cutpoints.tune(model, y, result.folds, result.task, plan.repeats)
    if smearing.applies(result.task):
        for model in (*result.models.values(), result.ensemble):
            smearing.tune(model, y, result.folds, result.task, plan.repeats)
    return result


def data_fingerprint(comp, data_dir: Path) -> str:
    """A short fingerprint of the input files' bytes: runs on other files are told apart in the run log."""
    return _digest(input_hashes(comp, data_dir))[:8]


def fold_fingerprint(comp, data_dir: Path) -> str:
    """A short fingerprint of the training file's bytes, which the folds are cut from: CVs that differ only in their
    extra files (an original dataset's rows, trained on and never validated) validate the same rows."""
    train = comp.files["train"]
    return _digest({name: sha for name, sha in input_hashes(comp, data_dir).items() if name == train})[:8]


def cv_keys(comp, spec, plan, data_dir: Path) -> tuple[str, dict]:
    """(the split's key, model -> its key): what decides a model's CV, for kit.cv_cache.

    The split's key is the run key's facts (`run_key`) less the plan's models, ensemble, training, cut-points and
    refit; a model's adds its name and its own settings (Plan.settings), so another model or ensemble changes neither.
    """
    facts = _run_facts(comp, spec, plan, data_dir)
    less = ("models", "ensemble", "training", "cutpoints", "refit", "blend")  # each model's own, or after the folds
    facts["plan"] = {k: v for k, v in facts["plan"].items() if k not in less}
    split_key = _digest(facts)
    return split_key, {name: _digest({"split": split_key, name: plan.settings(name)}) for name in plan.models}


def epochs_free_key(split_key: str, plan, name: str) -> str:
    """Model `name`'s key less its epochs: under it kit.cv_cache finds a CV whose curves patience stopped before
    its cap, which any cap at or above where they stopped would repeat."""
    settings = {k: v for k, v in plan.settings(name).items() if k != "epochs"}
    return _digest({"split": split_key, "less epochs": {name: settings}})


def run_key(comp, spec, plan, data_dir: Path) -> str:
    """A fingerprint of everything that decides a submission's bytes: kit's version and commit, what the
    definition says of the task, columns, groups and files, the recipe, the plan and the input files' sha256.

    Two runs with the same key write the same file, so a rerun of a submitted configuration can be
    recognised before any training (kit run) and cost nothing.
    """
    return _digest(_run_facts(comp, spec, plan, data_dir))


def _run_facts(comp, spec, plan, data_dir: Path) -> dict:
    return {
        "kit": [__version__, git_commit()],
        # everything of the definition a CV reads, beyond the recipe and plan: the columns it trains on and
        # groups by, how extra rows' targets read, the files (their bytes are the inputs')
        "competition": [
            comp.slug,
            comp.task,
            comp.metric,
            list(comp.columns),
            list(comp.labels),
            comp.id,
            comp.target,
            comp.files,
            comp.validation,
            comp.extra_labels,
            *([comp.extra_columns] if comp.extra_columns else []),  # only where set: other runs keep their keys
            # the space the models learn in (it changes every target): only where set, as above
            *([{"log_target": comp.training["log_target"]}] if "log_target" in comp.training else []),
        ],
        "recipe": asdict(spec),
        "plan": asdict(plan),
        "inputs": input_hashes(comp, data_dir),
    }


def _digest(facts: dict) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()


def make_submission(
    comp, spec, plan, data_dir: Path, out: Path, plots: bool = True, quiet: bool = False, oof: Path | None = None
):
    """Cross-validate, train on all rows, write the checked CSV, its sidecar and (with plots) the
    loss and CV pictures beside it, and with `oof` the out-of-fold predictions (kit.oof); returns the CVResult."""
    check_out_path(out)  # before the data is read: a refused path costs no training
    if oof is not None:
        check_oof_path(oof, data_dir, out)
    train, test = read_train_test(comp, data_dir, spec)
    # before training: Kaggle would score no row, or refuse the header
    unchecked = not check_sample_ids(comp, data_dir, test[comp.id].tolist()) and comp.files.get("sample_submission")
    task = task_of(comp, train)
    result, y = blended_cv(comp, spec, plan, data_dir, train, test, quiet)
    if plan.refit and plan.blend:
        test_pred, state = _blend_on_every_row(comp, spec, plan, data_dir, train, test, y, task, result, quiet)
    elif plan.refit:
        epochs, weights = result.full_fit_epochs(), result.ensemble.weights
        with progress_for(len(plan.models), f"{comp.slug} training on every row", quiet) as progress:
            said = (progress.update, epoch_note(progress) if not progress.disable else None)
            test_pred, state = fit_full(spec, train, test, y, plan, task, epochs=epochs, weights=weights, progress=said)
    else:  # the CV's fold models, each at the epochs chosen for its fold, their predictions weighted as the ensemble's
        test_pred, state = result.ensemble.test_pred, fit_recipe(spec, train)  # the state: for the sidecar and notes
    test_ids = test[comp.id].tolist()
    refuse_non_finite(test_ids, test_pred, f"test {comp.id}")  # the predictions, not the labels
    if result.ensemble.scale is not None:  # a log target's values scaled by the factor chosen on every fold
        from kit.smearing import scaled

        test_pred = scaled(test_pred, result.ensemble.scale)
    if result.ensemble.cutpoints is not None:  # the labels the cut-points chosen on every fold give
        from kit.cutpoints import labelled, ladder

        test_pred = labelled(task, test_pred, result.ensemble.cutpoints, ladder(task, y)[0])
    text = submission_text(comp, task, test_ids, test_pred)
    check_submission(comp, task, text, test_ids)  # never write a file Kaggle would reject
    sidecar = run_facts(comp, spec, plan, data_dir, result) | {
        # with choose_epochs: what the full-data fit trained (without a refit, each fold's are in the CV's)
        "chosen_epochs": (result.full_fit_epochs() or None) if plan.refit else None,
        "recipe_state": without_per_row(state),  # each training row's own target rate counted, not listed
        "run_key": run_key(comp, spec, plan, data_dir),
    }
    sidecar["cv_score"] = sidecar["cv"]["ensemble"]["mean"]
    write_submission(Path(out), text, sidecar)
    if unchecked:
        print(
            f"kit: note: {comp.files['sample_submission']} is not in {data_dir}, so the submission's header and ids "
            "are checked against the definition and the test file only",
            file=sys.stderr,
        )
    if unseen := unseen_levels(spec, state, test):  # silently all 0 otherwise: say how many rows it touches
        levels = "; ".join(f"{col} {', '.join(names[:3])}{', ...' if len(names) > 3 else ''}: {rows:,} rows"
                           for col, (rows, names) in unseen.items())  # fmt: skip
        # in the recipe's own words: a trial's user added the line as given beside the draft's `rare` table, and
        # the file was no longer TOML (a key defined twice)
        entries = ", ".join(f"{toml_key(col)} = 10" for col in unseen)
        fix = f"add {entries} to the recipe's rare table" if spec.rare else f"rare = {{ {entries} }} in the recipe"
        print(
            f"kit: note: test rows hold levels training never saw, whose one-hot features are all 0 ({levels}); "
            f"{fix} pools them with the rare levels instead",
            file=sys.stderr,
        )
    if oof is not None:
        write_oof_file(comp, spec, plan, data_dir, result, train, oof)
    if plots:
        from kit.plots import write_plots

        write_plots(result, Path(out).parent, Path(out).stem)
    return result


def _blend_on_every_row(comp, spec, plan, data_dir: Path, train, test, y, task, result, quiet: bool) -> tuple:
    """A blend's refit: each recipe's models trained on every training row at the epochs CV chose for them (a blended
    recipe's under its RECIPE/MODEL names), their test predictions combined as the CV's ensemble weighs them (the
    mean, or the weights chosen on every fold). Returns (test_pred, the run's recipe's state)."""
    epochs, weights = result.full_fit_epochs(), result.ensemble.weights
    preds, states = {}, []
    with progress_for(len(plan.models) * (1 + len(plan.blend)), f"{comp.slug} training on every row", quiet) as shown:
        said = (shown.update, epoch_note(shown) if not shown.disable else None)
        for name in (None, *plan.blend):
            other = spec if name is None else comp.recipe(name)
            prefix = "" if name is None else f"{name}/"
            theirs = (train, test) if name is None else read_train_test(comp, data_dir, other, noted=False)
            chosen = {m: epochs[prefix + m] for m in plan.models if prefix + m in epochs}
            fitted, state = fit_full_models(other, *theirs, y, plan, task, epochs=chosen, progress=said)
            preds |= {prefix + m: pred for m, pred in fitted.items()}
            states.append(state)
    with torch_threads(1):  # as fit_full's mean
        return combine(list(preds.values()), [weights[m] for m in preds] if weights else None), states[0]


def write_oof_file(comp, spec, plan, data_dir: Path, result, train, path: Path) -> None:
    """The training rows' out-of-fold predictions as a CSV (kit.oof), with a sidecar saying how CV made them."""
    ids = train[comp.id].tolist()[: len(train) - extra_rows(comp, train)]  # the extra rows are never validated
    text = oof_text(comp, result.task, result, ids, training_targets(comp, data_dir, ids))
    write_oof(Path(path), text, run_facts(comp, spec, plan, data_dir, result))


def run_facts(comp, spec, plan, data_dir: Path, result) -> dict:
    """What a sidecar says of the run that made its file: kit, the competition and task, the configuration, the CV
    (without its timing, which would make two identical runs differ) and the input files' sha256, in this order."""
    cv_summary = result.summary()
    del cv_summary["fit_seconds"]
    return {
        "kit_version": __version__,
        "git_commit": git_commit(),
        "competition": comp.slug,
        **result.task.describe(),
        "config": run_config(spec, plan),
        "cv": cv_summary,
        "inputs": input_hashes(comp, data_dir),
    }


def run_config(spec, plan) -> dict:
    """The configuration a sidecar records: the plan, the recipe and each model's resolved settings. A plan's blend
    only where it blends: a sidecar or notebook of one recipe reads as before."""
    recorded = {k: v for k, v in asdict(plan).items() if k != "blend" or v}
    return {"plan": recorded, "recipe": asdict(spec), "models": {m: plan.settings(m) for m in plan.models}}


def _under_the_constant(result, constant: list, places: int) -> list[str]:
    """Lines for where the models do not clear the constant: a model whose mean scores worse than it, and an
    ensemble that beats it on only some folds (paired on the same rows: the folds' spread is of their rows, not of
    the gain). A trial's quick look at a weak signal showed linear at RMSE 26.372 against the constant's 26.313,
    unremarked, and a user took its ranking for a verdict."""
    sign = 1 if result.task.greater_is_better else -1
    floor = statistics.fmean(constant)
    lines = []
    worse = [(name, r.mean) for name, r in result.models.items() if sign * (r.mean - floor) < 0]
    if worse:
        shown = ", ".join(f"{name} {mean:.{places}f}" for name, mean in worse)
        lines.append(f"worse than the constant: {shown} (what it learned does not hold on the validation rows)")
    folds = result.ensemble.fold_scores
    if len(folds) == len(constant) >= 3:
        won = sum(sign * (score - const) > 0 for score, const in zip(folds, constant))
        if won < len(folds):
            lines.append(
                f"the ensemble beats the constant on {won} of {len(folds)} folds{' only' if won else ''}: what the "
                "models learned may be noise on these rows"
            )
    return lines


def format_cv(comp, spec, plan, result) -> str:
    """The CV table: mean ± std and per-fold scores of each model and of the ensemble; with epochs chosen by
    CV, each model's too: the full-data fit's, then each fold's."""
    split = "random 80/20" if plan.split == "random" else f"{plan.split} {plan.folds} folds"
    if plan.repeats > 1:
        split += f" x {plan.repeats} repeats"
    sample = f"  rows={plan.rows:,} drawn at random" if plan.rows else ""
    recipes = "+".join((spec.name, *getattr(plan, "blend", ())))  # a blend's: every recipe whose models it holds
    lines = [f"{comp.slug}  recipe={recipes}  split={split}  seeds={plan.seeds}{sample}", ""]
    rows = [*result.models.items(), ("ensemble", result.ensemble)]
    places = decimals([s for _, r in rows for s in r.fold_scores])
    folds = {name: " ".join(f"{s:.{places}f}" for s in r.fold_scores) for name, r in rows}
    cells = {name: f"{r.mean:.{places}f} ± {r.std:.{places}f}" for name, r in rows}
    score_width = max(20, len(comp.metric), *map(len, cells.values()))
    width = max(len("folds"), *map(len, folds.values()))
    chosen = result.full_fit_epochs()
    # without a refit the fold models predict the test rows: each at its fold's epochs, and the weights, cut-points
    # and factor chosen on every fold serve their mean
    refit, full = plan.refit, "for the full fit" if plan.refit else "for the test rows"
    if plan.rows:  # a CV of a sample predicts no test rows: its choices on every fold serve no submission
        full = "chosen on every fold"
    # a single fold (the random split) has no other fold: each half of its rows takes the choice made on the other
    elsewhere = "each fold scored with those chosen on the other folds"
    if plan.split == "random" and plan.repeats == 1:  # its one fold
        elsewhere = "each half of the fold scored with those chosen on the other half"
    epochs_head = f"   chosen epochs: {'full fit (each fold)' if refit else 'each fold'}" if chosen else ""
    if chosen and plan.patience:  # the curves may have stopped early: how far they went
        # "of 18": the most epochs a fold ran, not the cap (two trials' users read it as neither)
        whose = "full fit (each fold's)" if refit else "each fold's"
        epochs_head = f"   chosen epochs: {whose}, of the most any fold ran (a fold stops after {plan.patience} epochs "
        epochs_head += "without gain)"
    named = max(12, *(len(name) + 2 for name, _ in rows))  # a blend's RECIPE/MODEL names are longer
    lines.append(f"{'model':<{named}}{comp.metric:>{score_width}}   {'folds':<{width}}{epochs_head}".rstrip())
    for name, r in rows:
        each = "/".join(map(str, r.epochs))
        epochs = (f"   {chosen[name]} ({each})" if refit else f"   {each}") if name in chosen else ""
        if epochs and plan.patience and r.valid_scores:
            epochs += f" of {max(map(len, r.valid_scores))}"  # the longest a fold trained: each stops on its own
        lines.append(f"{name:<{named}}{cells[name]:>{score_width}}   {folds[name]:<{width}}{epochs}".rstrip())
    lines.append("")
    constant = getattr(result, "constant", None)
    if constant:  # the floor: what the models learned from the features is their distance from it
        floor = statistics.fmean(constant)
        said = _signed(floor, places).lstrip("+")  # a constant's R2 of -0.00001: 0.0000
        # an error's gain in proportion: a trial's noisy prices (RMSE 38.799 against the constant's 38.880) read the
        # two figures alone, unweighed
        if not result.task.greater_is_better and floor > 0:
            gain = (floor - result.ensemble.mean) / floor
            said += f"; the ensemble's {comp.metric} is {abs(gain):.1%} {'below' if gain >= 0 else 'above'} it"
        lines.append(f"a constant prediction (every row the training folds' {constant_of(result.task)}) scores {said}")
        lines += _under_the_constant(result, constant, places)
    if result.ensemble.weights is not None:  # the ensemble's fold scores are of weights chosen without their rows
        shares = ", ".join(f"{name} {w:.2f}" for name, w in result.ensemble.weights.items())
        weights = result.ensemble.weights
        # (one model asked for is alone by itself: a trial's --models linear read "the others added nothing")
        alone = [name for name, w in weights.items() if round(w, 2) == 1] if len(weights) > 1 else []
        # one model's weight all of it: the "ensemble" is that model (a trial's user saw deep 1.00 unremarked)
        shares += f": {alone[0]} alone, the others added nothing on the folds" if alone else ""
        lines.append(f"ensemble weights {full}: {shares} ({elsewhere})")
    elif len(result.models) > 1:  # said, as the weights are: a user could not tell which ensemble the row was
        lines.append(
            'ensemble: the models\' mean, equal weights ([training] ensemble = "select" chooses weights by CV)'
        )
    if getattr(result.ensemble, "cutpoints", None) is not None:  # fold scores of cut-points chosen elsewhere
        cuts = " ".join(f"{c:.2f}" for c in result.ensemble.cutpoints)
        kind = result.task.kind
        what = f"{comp.metric} threshold" if kind == "binary" else f"{comp.metric} cut-points"
        if result.task.whole:  # cut-points at n.5: no choice to show
            lines.append(f"{comp.metric} of each value rounded to a whole number, as every training target is one")
        else:
            lines.append(f"{what} {full}: {cuts} ({elsewhere})")
        rounded = [f"{name} {statistics.fmean(r.rounded_scores):.{places}f}" for name, r in rows if r.rounded_scores]
        plain = {"regression": "each value rounded", "binary": "cut at 0.5"}.get(kind, "the most probable class")
        without = "without it" if kind == "binary" else "without them"
        without = "not rounded" if result.task.whole else f"{without} ({plain})"
        lines.append(f"{without}: {', '.join(rounded)}")
    if getattr(result.ensemble, "scale", None) is not None:  # fold scores of factors chosen elsewhere
        lines.append(
            f"values learned in logs, scaled back to the mean by {result.ensemble.scale:.4f} {full} ({elsewhere})"
        )
        unscaled = [f"{name} {statistics.fmean(r.unscaled_scores):.{places}f}" for name, r in rows if r.unscaled_scores]
        lines.append(f"unscaled (the median): {', '.join(unscaled)}")
    targets = getattr(result, "per_target", None)  # multilabel: which targets the mean hides
    if targets is not None:
        scores = ", ".join(f"{name} {score:.{places}f}" for name, score in targets.items())
        # every out-of-fold row at once: a trial's user found its mean (0.8878) not the table's (0.8881) and wondered
        lines.append(f"per target (ensemble, every out-of-fold row at once): {scores}")
    if not refit and not plan.rows and plan.split == "time":  # a draft's refit = false kept when a time split was added
        lines.append(
            "test predictions: the mean of the fold models', none of which learnt from the latest dates "
            "(refit = true in [training] trains every model again on all training rows)"
        )
    elif not refit and not plan.rows:
        lines.append("test predictions: the mean of the fold models' (no refit on all training rows)")
    if result.reused:  # nothing trained for this table now: say so rather than time it
        lines.append("no CV trained: every model's CV is reused from an earlier run of the same data and settings")
    else:
        reused = f" ({', '.join(result.reused_models)} reused from an earlier run)" if result.reused_models else ""
        lines.append(f"training took {result.fit_seconds:.2f} s{reused}")
    return "\n".join(lines)


def _signed(value: float, places: int) -> str:
    """+0.0012 or -0.0012; a difference that rounds to nothing is 0.0000, not -0.0000 (a trial read a loss in it)."""
    text = f"{value:+.{places}f}"
    return text if float(text) else f"{0:.{places}f}"


def format_comparison(name_a: str, name_b: str, comparison: dict, n_folds: int, task) -> str:
    """The paired comparison: A minus B per model and for the ensemble, on the same folds, and which way is better
    (a trial's user could not tell which recipe was subtracted, or whether a negative RMSE difference was a gain)."""
    better = "higher" if task.greater_is_better else "lower"
    lines = [
        f"{name_a} vs {name_b}, paired on the same {n_folds} folds: {name_a}'s {task.metric.name} minus {name_b}'s "
        f"({better} is better)",
        "",
    ]
    places = decimals([v for c in comparison.values() for v in (c["mean_diff"], c["std_diff"])])
    cells = {
        model: f"{_signed(c['mean_diff'], places)} ± {c['std_diff']:.{places}f}" for model, c in comparison.items()
    }
    width = max(20, *map(len, cells.values()))
    head = f"folds {name_a} won/tied/lost"
    lines.append(f"{'model':<12}{'difference':>{width}}   {head}   {name_a} is")
    for model, c in comparison.items():
        counts = f"{c['wins']}/{c['ties']}/{c['losses']}"
        # as the run log's "against the last CV" says it: a sign test on the folds (kit.verdict)
        said = paired_verdict(c["wins"], c["losses"], c["mean_diff"] * (1 if task.greater_is_better else -1))
        lines.append(f"{model:<12}{cells[model]:>{width}}   {counts:<{len(head)}}   {said}")
    return "\n".join(lines)
