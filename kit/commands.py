"""What each command does, once the command line is parsed (kit.cli). Each `cmd_*` takes the parsed
arguments and returns the exit code; heavy imports happen inside, so `kit --help` stays light.

With kit.cli and kit.fixes this is the CLI layer: the argparse namespace stops here, turned into typed
values (a Plan, paths) for the core, and only these modules name a flag. A check of a flag's value is
worded here; the core raises KitError with the facts and a fix key that kit.fixes words."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from kit import KitError, paths
from kit.competition import MODEL_NAMES, grouped
from kit.fixes import worded
from kit.task import STRATIFIED, cuts_labels

SEED_LIMIT = 2**32  # torch and scikit-learn take seeds 0 <= seed < 2**32


# ---- shared steps -----------------------------------------------------------------------------


def _recipe(args, comp):
    """The recipe a command that trains uses: --recipe, else the competition's [run] recipe, else its default."""
    return comp.recipe(args.recipe or comp.run.get("recipe"))


def _load(args, training: bool = True):
    """Competition, recipe spec, train and test frames, and the data folder.

    training: False for `kit reproduce`, which runs the definition's default recipe (the article's)."""
    from kit.competition import default_data_dir, load_competition, read_train_test
    from kit.fetch import verify_data

    comp = load_competition(args.competition)
    spec = _recipe(args, comp) if training else comp.recipe(args.recipe)
    data_dir = args.data_dir or default_data_dir(comp)
    verify_data(comp, data_dir, args.allow_changed_data)
    train, test = read_train_test(comp, data_dir, spec)
    return comp, spec, train, test, data_dir


DEFAULT_MODELS = ("linear", "nn", "deep")


def _first(*values):
    """The first value that was given (not None): a flag, then the definition, then kit's default."""
    return next(v for v in values if v is not None)


def _plan(args, here: bool = True):
    """The flags as a Plan, resolved once: kit's defaults, then the competition's [run] and [training]
    tables, then the flags. Every range and name is checked before any data is read or anything trains.

    here: the plan trains on this machine (so --device cuda needs a GPU here); False for a notebook.
    """
    from kit.competition import load_competition

    comp = load_competition(args.competition)
    run = comp.run
    flagged = [m.strip() for m in args.models.split(",") if m.strip()] if args.models is not None else None
    models = tuple(_first(flagged, run.get("models"), DEFAULT_MODELS))
    unknown = [m for m in models if m not in MODEL_NAMES]
    if unknown or not models:
        raise KitError(f"unknown model {', '.join(unknown) or '(none)'}; choose from {', '.join(MODEL_NAMES)}.")
    repeated = sorted({m for m in models if models.count(m) > 1})
    if repeated:  # it would train twice and count twice in the ensemble
        raise KitError(f"the models list {', '.join(repeated)} more than once; name each model once.")
    split = _first(args.split, run.get("split"), _default_split(comp))
    folds = _first(args.folds, run.get("folds"), 5)
    seeds = _first(args.seeds, run.get("seeds"), 1)
    repeats = _first(args.repeats, run.get("repeats"), 1)
    if split == "random" and args.folds is not None:  # a [run] folds belongs to the definition, and is no mistake
        raise KitError(
            f"the random split is one 80/20 train/valid cut, so --folds {args.folds} would change nothing",
            fix="random_split_folds",
        )
    if split != "random" and folds < 2:
        raise KitError(f"--folds must be at least 2 (got {folds}).")
    if seeds < 1 or repeats < 1:
        raise KitError(f"--seeds and --repeats must be at least 1 (got {seeds} and {repeats}).")
    if args.epochs is not None and any(n < 1 for n in _values(args.epochs)):
        raise KitError(f"--epochs must be at least 1 (got {_given(args.epochs)}).")
    rows = _rows(args)
    if split == "stratified" and comp.task not in STRATIFIED:  # multilabel: scikit-learn cannot stratify it
        raise KitError(
            f"stratified folds need classes, one per row; a {comp.task} task splits with --split kfold (or group)."
        )
    if split == "group" and not grouped(comp):
        raise KitError(
            f"--split group needs [validation] group = COLUMN (or group_duplicates = true) in {comp.source}."
        )
    if split == "time" and "time" not in comp.validation:
        raise KitError(f"--split time needs [validation] time = COLUMN in {comp.source}.")
    if split == "time" and repeats > 1:  # the forward folds are the same every time
        raise KitError(f"a time split cuts the same folds every repeat, so --repeats {repeats} would add nothing.")
    # Seeds go to torch and scikit-learn, which take 0 <= seed < 2**32; every seed used must fit.
    for flag, first, count, count_flag in (
        ("--init-seed", args.init_seed, seeds, "--seeds"),
        ("--split-seed", args.split_seed, repeats, "--repeats"),
    ):
        if not 0 <= first <= SEED_LIMIT - count:
            raise KitError(
                f"{flag} {first} is out of range: with {count_flag} {count} it must be between 0 and "
                f"{SEED_LIMIT - count}, so that every seed used is 0 <= seed < 2**32."
            )
    choose_epochs = bool(_first(args.choose_epochs, comp.training.get("choose_epochs"), False))
    patience = _first(getattr(args, "patience", None), comp.training.get("patience"), 0)
    if patience < 0:
        raise KitError(f"--patience must be 0 (train every epoch) or more (got {patience}).")
    if patience and not choose_epochs and getattr(args, "patience", None) is None and args.choose_epochs is False:
        patience = 0  # --no-choose-epochs: the definition's patience was for the curves that choose them
    if patience and not choose_epochs:
        raise KitError(
            "patience stops training once the validation curves that choose the epochs stop improving, "
            "and this run does not choose its epochs: add --choose-epochs (choose_epochs = true in [training])."
        )
    ensemble = _first(getattr(args, "ensemble", None), comp.training.get("ensemble"), "mean")
    blend = _blend(args, comp)
    # qwk's labels, and a binary's where its metric's best threshold is seldom 0.5 (kit.cutpoints)
    cutpoints = cuts_labels(comp.task, comp.metric) and comp.training.get("cutpoints", True)
    refit = bool(_first(getattr(args, "refit", None), comp.training.get("refit"), True))
    _check_device(args.device, here, getattr(args, "gpu", False))
    training = _training(args, comp)  # torch is imported from here on (kit.train): a range above is said at once
    from kit.validation import Plan

    return Plan(
        models=models,
        split=split,
        folds=folds,
        seeds=seeds,
        init_seed=args.init_seed,
        split_seed=args.split_seed,
        repeats=repeats,
        block=comp.validation.get("block", 0),  # the time split's, from [validation]
        gap=comp.validation.get("gap", 0),
        device=args.device,
        training=training,
        choose_epochs=choose_epochs,
        patience=patience,
        ensemble=ensemble,
        rows=rows,
        blend=blend,
        cutpoints=cutpoints,
        refit=refit,
    )


def _blend_line(a: str, b: str, blended, alone, other, task) -> str:
    """What blending B into A would score on these folds, against the better of A's ensemble (`alone`) and B's
    (`other`), with the flag that does it: two recipes within noise of each other may still gain together. Against
    the better: a trial's blend read "better" than the weaker recipe by 0.0022, 0.0007 above the stronger."""
    from kit.table import decimals
    from kit.verdict import paired_verdict

    best = a
    if task.better(other.mean, alone.mean):
        best, alone = b, other
    moves = [task.better(x, y) - task.better(y, x) for x, y in zip(blended.fold_scores, alone.fold_scores)]
    up, down = moves.count(1), moves.count(-1)
    gain = (blended.mean - alone.mean) * (1 if task.greater_is_better else -1)
    places = decimals([blended.mean, alone.mean])
    said = paired_verdict(up, down, gain)
    return (
        f"blended, {a}'s models and {b}'s (--blend {b}): {task.metric.name} {blended.mean:.{places}f} against "
        f"{best}'s {alone.mean:.{places}f}, {said} ({up} of {len(moves)} folds better, {down} worse)"
    )


def _blend(args, comp) -> tuple:
    """--blend's recipes (comma-separated), else [run] blend, else none; each one of the definition's, named once,
    and not the recipe the run trains."""
    given = getattr(args, "blend", None)
    names = (
        tuple(n.strip() for n in given.split(",") if n.strip())
        if given is not None
        else tuple(comp.run.get("blend") or ())
    )
    own = _recipe(args, comp).name
    for name in names:
        if name not in comp.recipes:
            raise KitError(f"--blend names {name}, none of {comp.slug}'s recipes: {', '.join(comp.recipes)}.")
        if name == own or names.count(name) > 1:
            raise KitError(
                f"--blend names {name} twice, or the recipe the run trains itself; name each other recipe once."
            )
    return names


def _rows(args) -> int:
    """kit cv --rows N: a CV on N training rows drawn at random; 0 (every row) for the other commands."""
    rows = getattr(args, "rows", None)
    if rows is None:
        return 0
    if rows < 1:
        raise KitError(f"--rows must be at least 1 (got {rows}).")
    if getattr(args, "oof", None):
        raise KitError(
            "an out-of-fold file holds every training row, so --rows and --oof cannot go together; "
            "write it from a CV of every row."
        )
    return rows


def _note_split_over_time(args, comp, plan) -> None:
    """Say so when --split sets aside the definition's time split: a trial's kfold CV on a forecast scored MAPE
    0.07 where its test rows (the next three years) scored 0.73, and nothing had said the split was changed."""
    if args.split is None or plan.split == "time" or "time" not in comp.validation:
        return
    column = comp.validation["time"]
    folds = (
        f", with the [run] folds = {plan.folds} chosen for that split"
        if args.folds is None and "folds" in comp.run
        else ""
    )
    print(
        f"kit: note: {comp.source} validates on later {column} values ([validation] time), as the test rows come "
        f"after the training rows; --split {plan.split}{folds} scores each fold on {column} values among its "
        "training rows', which can score far better than the test rows will",
        file=sys.stderr,
    )


def _default_split(comp) -> str:
    if grouped(comp):
        return "group"
    if "time" in comp.validation:
        return "time"
    return "stratified" if comp.task in STRATIFIED else "kfold"


TRAINING_FLAGS = {  # flag attribute -> its [training] key
    "preset": "preset", "optimizer": "optimizer", "lr": "lr", "epochs": "epochs", "batch_size": "batch_size",
    "weight_decay": "weight_decay", "hidden": "hidden",
}  # fmt: skip


def _training(args, comp):
    """The competition's [training] table with the flags given on top, as a kit.train.Training."""
    from kit.train import Training

    planned = ("choose_epochs", "patience", "ensemble", "cutpoints", "refit")  # the Plan's
    table = {k: v for k, v in comp.training.items() if k not in (*planned, "log_target")}  # log_target: the Task's
    for flag, key in TRAINING_FLAGS.items():
        value = getattr(args, flag, None)
        if value is None:
            continue
        if flag == "hidden":
            try:
                sizes = [int(v) for v in value.split(",")]
            except ValueError:
                raise KitError(f"--hidden takes sizes such as 64 or 64,32, not {value!r}.") from None
            value = {"nn": sizes[:1], "deep": sizes if len(sizes) > 1 else sizes * 2}
        if flag == "lr" and not all(0 < v < float("inf") for v in _values(value)):
            raise KitError(f"--lr must be a number above 0 (got {_given(value)}).")
        if flag == "weight_decay" and not (0 <= value < float("inf")):
            raise KitError(f"--weight-decay must be a number >= 0 (got {value}).")
        if isinstance(value, dict):  # --lr nn=0.001: the models named, over what the definition says for each
            value = _over_definition(value, table.get(key), f"--{flag.replace('_', '-')}")
        table[key] = value
    from kit.task import METRICS

    metric = METRICS.get(comp.metric)
    if "loss" not in table and table.get("preset", "default") == "default" and metric and metric.loss != "task":
        # the metric's loss unless [training] names one: a definition whose metric was set to mae by hand learns
        # the absolute error, as one drafted with it does (a trial's crab ages: mae 1.3375 -> 1.3287, 5 folds)
        table["loss"] = metric.loss
    try:
        return Training.from_table(table)
    except ValueError as e:
        raise KitError(f"training settings: {e}.") from None


def _values(value) -> list:
    """A flag's value for every model, or its values per model (kit.cli._per_model)."""
    return list(value.values()) if isinstance(value, dict) else [value]


def _given(value) -> str:
    """A flag's value as it was written: 0.01, or nn=0.001,deep=0.001."""
    return ",".join(f"{m}={v}" for m, v in value.items()) if isinstance(value, dict) else str(value)


def _over_definition(named: dict, defined, flag: str) -> dict:
    """Per-model values given on the command line over the definition's: one number for every model, or its own
    per model; a model not named keeps the definition's."""
    from kit.models import MODELS

    unknown = sorted(set(named) - set(MODELS))
    if unknown:
        raise KitError(f"{flag} names no model called {', '.join(unknown)}; the models are {', '.join(MODELS)}.")
    if isinstance(defined, dict):
        return defined | named
    if defined is not None:
        return {model: defined for model in MODELS} | named
    return named


def _check_device(name: str, here: bool, gpu: bool) -> None:
    """An unknown device, or cuda without a GPU to train on, is refused before any data is read."""
    if here:
        from kit.batched import resolve_device

        resolve_device(name)  # refuses a name torch does not know, and cuda where torch sees no GPU
    elif not re.fullmatch(r"cpu|cuda(:\d+)?", name):
        raise KitError(f"unknown device {name!r}; a Kaggle notebook trains on cpu, or on cuda with --gpu.")
    elif name.startswith("cuda") and not gpu:
        raise KitError(f"--device {name} needs a GPU on Kaggle; add --gpu, or use --device cpu.")


def _out_path(args, comp, spec, plan) -> Path:
    """The submission CSV: --out, or submissions/<slug>/<name>.csv named after what made it."""
    from kit.submission import default_name

    return Path(args.out) if args.out else paths.submission_path(comp.slug, default_name(spec.name, plan))


# ---- commands -----------------------------------------------------------------------------------


def cmd_reproduce(args) -> int:
    from kit.reproduce import format_reproduction, reproduce

    comp, spec, train, _, _ = _load(args, training=False)
    result = reproduce(comp, spec, train)
    print(json.dumps(result) if args.json else format_reproduction(result))
    return 0


def cmd_cv(args) -> int:
    from dataclasses import replace

    from kit.competition import extra_rows, load_competition, read_train_test

    plan = _plan(args)  # first: a flag out of range is said before torch is imported (3 s)
    _note_split_over_time(args, load_competition(args.competition), plan)
    from kit.pipeline import blend_of, blended_cv, cached_cv, format_comparison, format_cv, sample_rows, write_oof_file
    from kit.report import against_last, format_against_last, last_run, record_run
    from kit.submission import default_name
    from kit.validation import paired_comparison

    if args.against and plan.blend:  # the one compares two recipes, the other joins them
        raise KitError(
            f"--against compares two recipes and a blend joins {', '.join(plan.blend)} in; run one at a time."
        )
    if args.against:
        comp = load_competition(args.competition)
        other = comp.recipe(args.against)  # an unknown name costs no CV
        if other.name == _recipe(args, comp).name:  # two CVs of one recipe would differ by nothing but noise
            others = ", ".join(sorted(set(comp.recipes) - {other.name})) or "none: write one in the definition"
            raise KitError(
                f"--against {other.name} names the recipe this CV runs (--recipe, else the definition's); compare it "
                f"with another (the definition's others: {others}) or pass --recipe the one to set beside it."
            )
    if args.oof:  # refused before any data is read
        from kit.competition import default_data_dir
        from kit.oof import check_oof_path

        check_oof_path(args.oof, args.data_dir or default_data_dir(load_competition(args.competition)))
    comp, spec, train, test, data_dir = _load(args)
    if plan.rows:
        full = len(train) - extra_rows(comp, train)
        if plan.rows >= full:  # every row: the CV of the whole file, which a submission may reuse
            plan = replace(plan, rows=0)
        else:
            from kit.competition import target_tensor, task_of

            task = task_of(comp, train)
            target_tensor(comp, task, train)  # every row's target checked, not the sample's alone
            if comp.task in ("binary", "multiclass") and not comp.labels:
                # every row's classes, not the sample's: a trial's 2-row class was missing from 50,000 drawn rows, and
                # a recipe's rates, which name it, were refused (and the models' width is every class's)
                comp = replace(comp, labels=task.labels)
            _read_every_row(spec, train, test)
            # no test rows either: a sampled CV's models never make a submission (their keys name the sample)
            train, test = sample_rows(comp, train, plan), test.iloc[:0]
            sampled = f"kit: a CV on {plan.rows:,} of the {full:,} training rows, drawn at random; a submission "
            sampled += "trains on every row"
    if args.against:  # its columns are checked too before the first CV trains
        other_spec = comp.recipe(args.against)
        other_train, other_test = read_train_test(comp, data_dir, other_spec, noted=False)  # its rows said once
        if plan.rows:
            _read_every_row(other_spec, other_train, other_test)
        other_data = (sample_rows(comp, other_train, plan), other_test.iloc[: len(test)])  # as this CV's
    # models of earlier CVs reused, unless --importance needs them here
    result, y = blended_cv(comp, spec, plan, data_dir, train, test, args.quiet, importance=args.importance)
    if plan.rows:  # said once the CV has run: an error in it is the one sentence
        print(sampled, file=sys.stderr)
    last = last_run(comp.slug, result.task.metric.name, plan.rows)  # the last CV on as many rows
    last_of_recipe = last_run(comp.slug, result.task.metric.name, plan.rows, recipe=spec.name)  # ... of this recipe
    # with --against, logged after the other recipe's (below): the log's last CV is then of the recipe asked for, so
    # that the next CV of it compares with this one first (a trial's user read a comparison with the other first)
    entry = None if args.against else record_run(comp, spec, plan, result)
    # with --against the paired comparison below is the one asked for: a second one against the last CV (often
    # the other recipe's own) printed between the tables muddled it
    diff = None if args.against else against_last(last, entry, result.task.greater_is_better)
    # after a CV of another recipe, the last of this one too: a trial's user read a seeds change against the other
    # recipe's CV ("changed: recipe nobins -> base; seeds 1 -> 3") as the seeds' gain
    same_recipe = None
    if diff is not None and last["recipe"] != spec.name:
        same_recipe = against_last(last_of_recipe, entry, result.task.greater_is_better)
    if args.oof:
        write_oof_file(comp, spec, plan, data_dir, result, train, args.oof)
    report = {"competition": comp.slug, "recipe": spec.name, "split": plan.split, "folds": plan.folds,
              "repeats": plan.repeats, "seeds": plan.seeds, **result.summary()}  # fmt: skip
    if result.reused_models:  # loaded from earlier runs (kit.cv_cache), not trained now
        report["reused"] = list(result.reused_models)
    if plan.rows:  # a CV on a sample of the rows
        report["rows"] = plan.rows
    if diff is not None:  # the last CV of this competition's metric, and what changed since
        report["against_last"] = diff
    if same_recipe is not None:  # ... and the last of this recipe, where the last CV was of another
        report["against_last_of_recipe"] = same_recipe
    if args.importance:
        report["importance"] = result.importance
    text = [format_cv(comp, spec, plan, result)]
    if diff is not None:
        text[0] += "\n" + format_against_last(diff, result.task.metric.name)
    if same_recipe is not None:
        text[0] += "\n" + format_against_last(same_recipe, result.task.metric.name, of_recipe=spec.name)
    if args.importance:
        text[0] += "\n\n" + format_importance(result.importance, result.task.metric.name, spec)
    if args.against:
        other, _ = cached_cv(comp, other_spec, plan, data_dir, *other_data, args.quiet)
        record_run(comp, other_spec, plan, other)
        record_run(comp, spec, plan, result)
        comparison = paired_comparison(result, other)
        report["against"] = {"recipe": other_spec.name, **other.summary(), "comparison": comparison}
        n_folds = len(result.ensemble.fold_scores)
        text += [
            format_cv(comp, other_spec, plan, other),
            format_comparison(spec.name, other_spec.name, comparison, n_folds, result.task),
        ]
        if (blended := blend_of(result, other, other_spec.name, y, plan)) is not None:
            report["against"]["blend"] = blended.summary()  # what --blend would score: its ensemble's folds
            text[-1] += "\n\n" + _blend_line(
                spec.name, other_spec.name, blended, result.ensemble, other.ensemble, result.task
            )
    print(json.dumps(report) if args.json else "\n\n".join(text))
    _note_extra_rows(comp, train, result, sys.stderr if args.json else sys.stdout)
    _notes_on_training(plan, result, comp.slug, entry)
    if args.plot:
        from kit.plots import write_plots

        written = write_plots(result, paths.cv_plots_dir(comp.slug), default_name(spec.name, plan))
        print("\n".join(str(p) for p in written), file=sys.stderr if args.json else sys.stdout)
    return 0


# columns shown by --importance; --json has them all. A table a few rows longer is shown whole: a trial's 23 columns
# hid the three of least worth, the name column among them that its user ran --importance to judge
IMPORTANCE_ROWS, IMPORTANCE_WHOLE = 20, 30


# the steps whose output holds their inputs' values (an is_missing flag holds only where a gap is)
CARRYING_STEPS = ("sum", "product", "row", "target_mean", "ratio", "log1p")


def format_importance(importance: dict, metric: str, spec=None) -> str:
    """Each recipe column's permutation importance per model and their mean, the most important first; and, with the
    recipe, which columns another feature also carries (a pair's rate keeps what its two columns hold when one of them
    is shuffled: a trial read lighting and weather as worth little where lighting_weather_rate held them)."""
    from kit.table import aligned

    models = list(importance)
    columns = list(next(iter(importance.values())))
    mean = {c: sum(importance[m].get(c, 0.0) for m in models) / len(models) for c in columns}
    ranked = sorted(columns, key=lambda c: (-mean[c], c))
    shown = IMPORTANCE_ROWS if len(ranked) > IMPORTANCE_WHOLE else len(ranked)
    rows = [(c, *(f"{importance[m][c]:+.4f}" if c in importance[m] else "-" for m in models), f"{mean[c]:+.4f}")
            for c in ranked[:shown]]  # fmt: skip
    head = (
        f"permutation importance: how much {metric} each column is worth, the score lost when its values are "
        "shuffled among each fold's validation rows (mean over folds; below 0, the models do better without it)"
    )
    more = f"\n{len(ranked) - shown} more columns in --json" if len(ranked) > shown else ""
    carried = {}  # column -> the features made from its values that are columns of the table too (a gap's flag is not)
    for step, read, made in spec.entries() if spec is not None else ():
        if step in CARRYING_STEPS:
            for column in read:
                carried.setdefault(column, []).extend(m for m in made if m in columns and m != column)
    shown = {c: list(dict.fromkeys(carried[c])) for c in ranked[:IMPORTANCE_ROWS] if carried.get(c)}
    also = "".join(
        f"\n{c}: also in {', '.join(made)} (shuffling {c} alone leaves {'them as they were' if len(made) > 1 else 'it as it was'})"
        for c, made in shown.items()
    )
    return head + "\n" + aligned(("column", *models, "mean"), rows) + more + also


def _note_extra_rows(comp, train, result, stream) -> None:
    """One line, with [files] extra: how many extra rows each fold trained on (none is ever validated)."""
    from kit.competition import extra_rows

    n_extra = extra_rows(comp, train)
    if n_extra:
        first = len(train) - n_extra  # the extra rows are the last ones
        counts = sorted({int((train_idx >= first).sum()) for train_idx, _ in result.folds})
        print(
            f"each fold also trained on {'/'.join(f'{c:,}' for c in counts)} extra rows ({', '.join(comp.extra)}), "
            "validated on none",
            file=stream,
        )
        # extra rows that copy a competition row train every fold, the one validating that row too: a trial's user
        # added the positives three times over, and CV said 0.26 where the hidden rows said 0.66
        import numpy as np

        from kit.values import row_hashes

        columns = [c for c in train.columns if c != comp.id]
        hashes = row_hashes(train, columns)  # (n,) the rows' inputs and target
        copies = int(np.isin(hashes[first:], hashes[:first]).sum())
        if copies:
            print(
                f"kit: note: {copies:,} extra rows repeat a row of {comp.files['train']} (every column but the id): "
                "each trains the fold that validates its twin, so CV scores those rows on what it learned from them",
                file=sys.stderr,
            )


def _read_every_row(spec, train, test) -> None:
    """The recipe fitted and applied on every row, its output dropped: a CV on a sample refuses what a CV of every row
    would (a trial's "forty" in Age, in a row the sample left out, passed it). Measured: 0.15 s for 200,000 +
    100,000 rows of 8 columns, 1.1-1.3 s for bench_scale's 300,000 + 200,000 rows of 25."""
    from kit.recipe import apply_recipe, fit_apply

    state, _ = fit_apply(spec, train)
    apply_recipe(spec, state, test)


def cmd_submission(args) -> int:
    print(write_submission(args))
    return 0


def write_submission(args) -> Path:
    """Cross-validate, train on all rows, write the checked CSV and its sidecar; returns the CSV path."""
    from kit.competition import default_data_dir, load_competition
    from kit.fetch import verify_data
    from kit.pipeline import format_cv, make_submission
    from kit.report import against_last, changed_since_file, format_against_last, last_run, record_run

    plan = _plan(args)
    comp = load_competition(args.competition)
    _note_split_over_time(args, comp, plan)
    spec = _recipe(args, comp)
    out = taken = _out_path(args, comp, spec, plan)
    data_dir = args.data_dir or default_data_dir(comp)
    verify_data(comp, data_dir, args.allow_changed_data)
    if not args.out and out.exists():
        # the default name holds the recipe, models, split and seeds, not the training (--lr, --epochs) or the data:
        # a run of other settings or data gets a name of its own, and the earlier file stays as it was
        from kit import __version__
        from kit.competition import input_hashes
        from kit.pipeline import run_config, run_key
        from kit.submission import git_commit, read_sidecar, unclaimed_path

        made = read_sidecar(out) or {}  # the file's run, for the note below
        key = run_key(comp, spec, plan, data_dir)
        taken, out = out, unclaimed_path(out, key, run_config(spec, plan), input_hashes(comp, data_dir))
    # make_submission checks `out` before it reads the data, so a refused path costs no training
    result = make_submission(comp, spec, plan, data_dir, out, quiet=args.quiet, oof=getattr(args, "oof", None))
    last = last_run(comp.slug, result.task.metric.name, 0)  # read before this run is logged
    last_of_recipe = last_run(comp.slug, result.task.metric.name, 0, recipe=spec.name)
    entry = record_run(comp, spec, plan, result, out)
    diff = against_last(last, entry, result.task.greater_is_better)
    if diff is not None and not diff["changed"] and diff["ensemble"][0] == diff["ensemble"][1]:
        diff = None  # the submission of the CV just run: nothing to say about it
    # after a CV of another recipe, the last of this one too, as kit cv says it: a trial's submission of wider nets
    # read 0.8126 -> 0.8138 against another recipe's CV, where its own recipe's last said 0.8158 -> 0.8138
    same_recipe = None
    if diff is not None and last["recipe"] != spec.name:
        same_recipe = against_last(last_of_recipe, entry, result.task.greater_is_better)
    if out != taken:  # said once the file is written: a run refused in a sentence names no file
        # what differs, in the definition's words: the new name's hash says only that something does
        changed = changed_since_file(comp.slug, taken, entry)
        if not changed and (made.get("kit_version"), made.get("git_commit")) != (__version__, git_commit()):
            changed = ["made by another version of kit"]  # its bytes may differ: kept, as any other run's
        changed = f" ({'; '.join(changed)})" if changed else ""
        print(f"kit: note: {taken} holds a run of other settings or data{changed}, so this one is {out.name}; "
              "pass --out NAME.csv to name it", file=sys.stderr)  # fmt: skip
    # a submission made straight after a change (`kit submission --epochs 60`) says how its CV compares, as kit cv does
    if args.json:
        more = {"against_last": diff} if diff else {}
        more |= {"against_last_of_recipe": same_recipe} if same_recipe else {}
        print(json.dumps({**result.summary(), **more}))
    else:
        print(
            format_cv(comp, spec, plan, result)
            + (f"\n{format_against_last(diff, result.task.metric.name)}" if diff else "")
            + (
                f"\n{format_against_last(same_recipe, result.task.metric.name, of_recipe=spec.name)}"
                if same_recipe
                else ""
            )
        )
    _notes_on_training(plan, result, comp.slug, entry)
    return out


def _models_of(names: list) -> list:
    """The models of result names, a blended recipe's RECIPE/MODEL read as MODEL, each once: the flags that set a
    model's epochs or lr set it in every recipe."""
    return list(dict.fromkeys(name.rsplit("/", 1)[-1] for name in names))


def _latest_choice(model) -> int:
    """The latest epoch CV chose for a model: its full fit's or one fold's (`epochs`, each fold's, where kept)."""
    return max([model.chosen_epochs, *(getattr(model, "epochs", None) or [])])


def _choice_shown(name: str, model, cap: int, within: int) -> str:
    """`nn 49 of 50`, the full fit's choice; `nn 86 of 100, fold 5's 100` where only folds chose within `within`
    of the cap (the first of them named)."""
    said = f"{name} {model.chosen_epochs} of {cap}"
    if model.chosen_epochs > cap - within:
        return said
    fold, epochs = next((k, e) for k, e in enumerate(model.epochs, start=1) if e > cap - within)
    return f"{said}, fold {fold}'s {epochs}"


def _notes_on_training(plan, result, slug: str | None = None, entry: dict | None = None) -> None:
    """Say so when CV chose a model's last epoch: its curves were still improving where training stopped; and
    when linear_raw trains as linear (the article's unlinked model exists only under its preset). `entry`: this
    run as the run log holds it, against which a change already tried (runs.json of `slug`) is not suggested."""
    if "linear_raw" in plan.models and plan.training.settings("linear_raw").preset != "article":
        print(
            "kit: note: linear_raw is the article's linear model without a link, which only the article preset "
            "trains (--preset article); this preset trains it as linear",
            file=sys.stderr,
        )
    # With patience, a choice within its last `patience` epochs of the cap means patience never stopped the curves:
    # they were still gaining when the cap did (a trial's nets chose 98-100 of 100 and 195-199 of 200, unremarked)
    within = getattr(plan, "patience", 0) or 1
    weights = getattr(getattr(result, "ensemble", None), "weights", None)  # model -> weight, with "select"
    # a model the chosen weights leave out is not named: a trial's linear at weight 0 was sent to 200, then 400 epochs
    # a fold's own choice counts too: a trial's nn chose 86 of 100 for the full fit and 100 of 100 on one fold, which
    # the fold models' mean (refit = false) predicts with, unremarked
    capped = [
        name
        for name, r in result.models.items()
        if r.chosen_epochs is not None
        and _latest_choice(r) > plan.settings(name)["epochs"] - within
        and (weights is None or weights.get(name, 0) > 0)
    ]
    if capped:
        most = max(plan.settings(name)["epochs"] for name in capped)
        more = str(2 * most)  # every model's; where some were capped, theirs alone: the others' CVs are reused
        if set(_models_of(capped)) != set(plan.models):
            more = ",".join(f"{name}={2 * plan.settings(name)['epochs']}" for name in _models_of(capped))
        # the cost said where it is one: a trial's 1,500,000 rows trained 22 minutes, and the note came unpriced
        took = getattr(result, "fit_seconds", 0) or 0
        took = f"; this CV's training took {took:,.0f} s" if took >= 60 else ""
        fix = f"more epochs may score better (--epochs {more}, or epochs in [training]{took})"
        if all(result.models[name].chosen_epochs == plan.settings(name)["epochs"] for name in capped):
            print(f"kit: note: CV chose the last epoch trained for {', '.join(capped)}: {fix}", file=sys.stderr)
        else:
            shown = ", ".join(_choice_shown(n, result.models[n], plan.settings(n)["epochs"], within) for n in capped)
            print(
                f"kit: note: CV chose an epoch within patience's {within} of the last trained ({shown}): the curves "
                f"were still improving when the cap stopped them; {fix}",
                file=sys.stderr,
            )
    # A best epoch among the first few of many: the validation score peaked and fell while the training loss went
    # on down, as steps too long for the data can make it. A hint, not a rule: on a 120,000-row 5-class set whose
    # nets peaked at epochs 6-10 of 100, lr 0.01 -> 0.001 took the ensemble's log loss 1.3341 -> 1.3336 (linear
    # 1.3404 -> 1.3366, nn 1.3412 -> 1.3404, deep 1.3420 -> 1.3457); on five drafts it moved the ensemble -0.0017
    # to +0.0007 in 2.5-3.5x the training (BENCHMARKS.md, "Twelfth pass"), and a trial's 300,000-row AUC set +0.0004
    # in CV, the hidden rows' score the same, in 2.4x: the note says the cost
    # A model the chosen weights leave out moves no submission: on a trial's 300,000-row RMSLE set the note named
    # linear alone (weight 0), and --lr 0.001 trained all three again for nothing (ensemble 1.0245 -> 1.0249).
    early = [
        name
        for name, r in result.models.items()
        if r.chosen_epochs is not None
        and plan.settings(name)["epochs"] >= 20  # of a few epochs, any is early
        and r.chosen_epochs <= max(3, plan.settings(name)["epochs"] // 20)
        and (weights is None or weights.get(name, 0) > 0)
    ]
    # A model that an earlier run of this recipe on these folds trained at a lower lr, for no better score, is not
    # named again: a trial's user followed the note for all three models (CV worse on 5 of 5 folds, twice the
    # training), and the note came back after each later run of the recipe
    if entry is not None and getattr(result, "task", None) is not None:
        from kit.report import lower_lr_tried

        early = [n for n in early if not lower_lr_tried(slug, entry, n, result.task.greater_is_better)]
    if early:
        lr = min(plan.settings(name)["lr"] for name in early)
        # --lr sets every model's: where only some peaked early, their own lr leaves the others' CVs to be reused
        how = f"--lr {lr / 10:g}, or lr in [training]"
        if set(_models_of(early)) != set(plan.models):
            lower = {name: plan.settings(name)["lr"] / 10 for name in _models_of(early)}
            how = f"--lr {','.join(f'{n}={v:g}' for n, v in lower.items())}, or lr = {{ "
            how += ", ".join(f"{n} = {v:g}" for n, v in lower.items()) + " } in [training]: the others' CVs are reused"
        if any("/" in name for name in early):  # a blended recipe's model: the flag sets that model in every recipe
            how += f"; it sets {', '.join(_models_of(early))} in every recipe the run blends"
        shown = ", ".join(
            # "of up to": the cap, which the table's "of N" (the most a fold trained before patience) is not
            f"{name} {result.models[name].chosen_epochs} of up to {plan.settings(name)['epochs']}"
            for name in early
        )
        print(
            f"kit: note: CV chose an early epoch ({shown}): the "
            f"validation score peaked early, and a lower learning rate may score a little better, in 2-3x the "
            f"training time ({how})",
            file=sys.stderr,
        )


def cmd_report(args) -> int:
    from kit.competition import load_competition
    from kit.plots import report_figure, save
    from kit.report import format_report, load_runs, report_rows, run_metric
    from kit.task import METRICS

    comp = load_competition(args.competition)
    rows = report_rows(comp.slug, METRICS[comp.metric].greater_is_better, comp.metric)
    if not rows:  # say which competition was looked at: -c defaults to titanic
        told = worded(f"no runs recorded yet for {comp.slug}", fix="record_runs_for", slug=comp.slug)
        if type(args.competition) is not str:  # not given: name the user's own, as a failed command's error does
            from kit.cli import _own_definitions, assumed

            if yours := _own_definitions():
                told = assumed(told, yours)
        print(told)
    else:
        print(format_report(rows, comp.metric))
    others = sorted({run_metric(r) for r in load_runs(comp.slug)} - {comp.metric})
    if others:
        print(f"(runs scored by {', '.join(others)}, not {comp.metric}, are left out)")
    if rows:
        print(save(report_figure(rows, comp.metric, comp.title), paths.report_path(comp.slug)))
    return 0


def cmd_fetch(args) -> int:
    from kit.competition import SLUG_PATTERN, default_data_dir, load_competition, undefined_competition
    from kit.fetch import fetch

    name = args.competition
    if isinstance(name, str) and re.fullmatch(SLUG_PATTERN, name) and not _known(name):
        # a competition kit has no definition for yet: its files, so that `kit new` can draft one from them
        comp = undefined_competition(name)
        folder = fetch(comp, args.data_dir or default_data_dir(comp), force=args.force, quiet=args.quiet)
        print(f"kit: no definition of {name} yet: draft one from its files with `kit new {name}`", file=sys.stderr)
        print(folder)
        return 0
    comp = load_competition(name)
    print(fetch(comp, args.data_dir or default_data_dir(comp), force=args.force, quiet=args.quiet))
    return 0


def _known(name: str) -> bool:
    from kit.competition import competition_dirs

    return any((d / f"{name}.toml").is_file() for d in competition_dirs())


def cmd_doctor(args) -> int:
    from kit.cli import DEFAULT_COMPETITION
    from kit.competition import default_data_dir, load_competition
    from kit.doctor import doctor

    comp = load_competition(args.competition)
    lines, ok = doctor(comp, args.data_dir or default_data_dir(comp))
    # which competition's data was looked at: a trial's user, whose folder held only their own, read Titanic's
    # missing data as theirs (the default's class marks a -c not given: kit.cli._Default; a default other than
    # DEFAULT_COMPETITION is the folder's one definition, kit.cli._only_definition, and said so)
    given = type(args.competition) is str or args.competition != DEFAULT_COMPETITION
    lines.append(f"competition: {comp.slug}" + ("" if given else " (no -c was given; -c SLUG checks yours)"))
    print("\n".join(lines))
    return 0 if ok else 1


def cmd_submit(args) -> int:
    from kit.competition import default_data_dir, load_competition
    from kit.fetch import verify_data

    comp = load_competition(_file_competition(args))
    data_dir = args.data_dir or default_data_dir(comp)
    verify_data(comp, data_dir, args.allow_changed_data)  # the CSV is checked against test.csv: the right one
    if args.check:
        return _check_only(comp, args.file, data_dir)
    from kit.kaggle_client import NO_CREDENTIALS, find_credentials

    if find_credentials() is None:  # before the checks and the ledger: nothing can be sent
        raise KitError(NO_CREDENTIALS, fix="submit_by_hand", file=args.file)
    _submit(args, comp, args.file, data_dir)
    return 0


def _file_competition(args) -> str:
    """The competition `kit submit FILE` checks against: -c where given, else the one FILE's sidecar names where it
    has one kit can load (a trial's user, -c left off the printed command, had their file checked as Titanic's),
    else the default."""
    from kit.competition import known_competitions
    from kit.submission import read_sidecar

    if type(args.competition) is str:  # -c given (kit.cli._Default marks the default)
        return args.competition
    named = (read_sidecar(args.file) or {}).get("competition")
    if isinstance(named, str) and named != args.competition and named in known_competitions():
        print(f"kit: {args.file} was made for {named} (its sidecar says so): checked as {named}'s", file=sys.stderr)
        return named
    return args.competition


def _check_only(comp, path: Path, data_dir: Path) -> int:
    """`kit submit --check`: the checks an upload makes first, and nothing sent. Exit 0 when it would be sent."""
    from kit import ledger
    from kit.submit import describe, preflight

    sha = preflight(comp, path, data_dir)  # a KitError (exit 2) names what is wrong
    earlier = ledger.by_sha256(comp.slug, sha)
    if earlier:
        when = str(earlier.get("time") or "")[:10] or "an earlier run"
        print(
            f"kit: {path.name} passes the checks, but was already submitted on {when} "
            f"(ref {earlier.get('ref') or 'unknown'}, {describe(earlier)}); `kit submit` would refuse it without --force"
        )
        return 1
    print(f"kit: {path.name} passes every check an upload makes first (header, ids, values); nothing was sent")
    return 0


def _submit(args, comp, path: Path, data_dir: Path) -> None:
    """Send `path` with the submit options in args, and print the outcome."""
    from kit.kaggle_client import Kaggle
    from kit.submit import submit

    entry = submit(comp, path, data_dir, args.message, wait=args.wait, force=args.force, client=Kaggle(),
                   poll_seconds=args.poll_interval, timeout_seconds=args.wait_timeout)  # fmt: skip
    _print_outcome(entry, comp.slug)


def cmd_submissions(args) -> int:
    from kit.competition import load_competition
    from kit.kaggle_client import Kaggle
    from kit.submit import format_table, submissions_table

    comp = load_competition(args.competition)
    print(format_table(submissions_table(comp, Kaggle())))
    return 0


def cmd_run(args) -> int:
    from kit.competition import default_data_dir, load_competition
    from kit.fetch import fetch
    from kit.kaggle_client import NO_CREDENTIALS, find_credentials
    from kit.submission import check_out_path

    comp = load_competition(args.competition)
    spec, plan = _recipe(args, comp), _plan(args)
    # Every cheap check before a download or any training: the flags, the recipe, the output path, and
    # credentials when the file is to be sent (the upload would refuse without them, after all the training).
    check_out_path(_out_path(args, comp, spec, plan))
    if args.oof:
        from kit.oof import check_oof_path

        check_oof_path(args.oof, args.data_dir or default_data_dir(comp), out=_out_path(args, comp, spec, plan))
    if args.submit and find_credentials() is None:
        raise KitError(NO_CREDENTIALS, fix="without_account")
    data_dir = args.data_dir or default_data_dir(comp)
    needed = [comp.files["train"], comp.files["test"], *(comp.extra if comp.extra_dataset else ())]
    if not all((Path(data_dir) / name).is_file() for name in needed):  # what kit fetch would bring
        data_dir = fetch(comp, data_dir, quiet=args.quiet)
    args.data_dir = data_dir
    earlier = None if args.force else _submitted_before(comp, spec, plan, data_dir, args.allow_changed_data)
    if earlier:  # the same configuration on the same data was submitted: training again would only repeat it
        print(
            f"kit: this configuration was already submitted on {str(earlier.get('time', ''))[:10] or 'an earlier run'}"
            f" as {earlier['file']}; nothing trained (--force trains and sends it again)",
            file=sys.stderr,
        )
        if args.oof:
            print(f"kit: so no out-of-fold predictions were written to {args.oof}", file=sys.stderr)
        print(earlier["file"])
        _print_outcome(earlier, comp.slug)
        return 0
    out = write_submission(args)
    print(out)
    if args.submit:
        _submit(args, comp, out, data_dir)
    return 0


def _submitted_before(comp, spec, plan, data_dir, allow_changed: bool) -> dict | None:
    """The ledger entry of a submitted file that this exact run would write again, if its file is still there.

    Known before any training: the run key (kit.pipeline.run_key) fingerprints kit's version, the
    definition, the recipe, the plan and the input files, all of which decide the file's bytes.
    """
    from kit import ledger
    from kit.competition import sha256_file
    from kit.fetch import verify_data
    from kit.pipeline import run_key

    verify_data(comp, data_dir, allow_changed)
    key = run_key(comp, spec, plan, data_dir)
    for entry in reversed(ledger.load(comp.slug)):
        file = Path(str(entry.get("file") or ""))
        if (
            entry.get("run_key") == key
            and entry.get("ref")
            and file.is_file()
            and sha256_file(file) == entry.get("sha256")
        ):
            return entry
    return None


def cmd_notebook(args) -> int:
    from kit.competition import default_data_dir, load_competition
    from kit.kaggle_client import Kaggle, configured_username
    from kit.notebook import build_notebook

    plan = _plan(args, here=False)  # it trains on Kaggle, not here
    if args.gpu:
        from dataclasses import replace

        plan = replace(plan, device="cuda")  # Kaggle's GPU, asked for in the metadata
    comp = load_competition(args.competition)
    spec = _recipe(args, comp)
    if args.submit:  # the notebook's CSV is checked against the local test file before it is sent
        from kit.fetch import verify_data

        verify_data(comp, args.data_dir or default_data_dir(comp), args.allow_changed_data)
    client = Kaggle() if args.push else None
    user = args.user or configured_username() or (client.whoami(comp.slug) if client else None)
    if user is None:
        user = "your-kaggle-username"
        print("kit: no Kaggle user known; set --user before pushing", file=sys.stderr)
    out = args.out or paths.notebook_build_dir(comp.slug)
    folder = build_notebook(comp, spec.name, plan, user, out, args.gpu, oof=args.oof)
    if args.push:
        from kit.submit import run_notebook

        entry = run_notebook(
            comp,
            folder,
            json.loads((folder / "kernel-metadata.json").read_text())["id"],  # the slug Kaggle makes of the title
            client,
            wait=args.wait or args.submit,
            send=args.submit,
            message=args.message,
            force=args.force,
            data_dir=args.data_dir or default_data_dir(comp),
            poll_seconds=args.poll_interval,
            timeout_seconds=args.wait_timeout,
        )
        if entry:
            _print_outcome(entry, comp.slug)
    print(folder)
    return 0


def _print_outcome(entry: dict, slug: str) -> None:
    """What Kaggle has: that the file was submitted, its ref and status, and the public score once there."""
    status = entry.get("status")
    line = f"submitted: ref {entry['ref']}, status {status}"
    print(line if status == "COMPLETE" else f"{line}; follow it with `kit submissions -c {slug}`")
    if status == "COMPLETE":
        cv = entry.get("cv_score")
        local = f"  (local CV {cv:.4f})" if isinstance(cv, int | float) else ""
        print(f"public score: {entry.get('public_score') or 'not published'}{local}")


def cmd_list(args) -> int:
    from kit.competition import default_data_dir
    from kit.describe import competitions_table

    print(competitions_table(default_data_dir))
    return 0


def cmd_new(args) -> int:
    from kit.competition import SLUG_PATTERN, load_competition
    from kit.draft import draft
    from kit.submission import write_atomic

    if not re.fullmatch(SLUG_PATTERN, args.slug):
        raise KitError(f"{args.slug!r} is not a competition slug (lowercase letters, digits and -, as in its URL).")
    out = Path(args.out or paths.definition_path(args.slug))
    if out.exists():
        raise KitError(  # a trial's user, redrafting with another --metric, wrote a second definition of one slug
            f"{out} already exists; kit does not replace it: to draft it again (with another --metric, say), rename or "
            "remove it first, or pass --out PATH to write the draft elsewhere."
        )
    data_dir = args.data_dir or paths.DATA / args.slug
    if Path(data_dir).is_file():  # a zip, most often: Kaggle's download
        raise KitError(f"{data_dir} is a file, not a data folder", fix="extract_to_folder")
    if not Path(data_dir).is_dir():
        raise KitError(f"data folder {data_dir} does not exist; pass --data-dir DIR holding the competition's CSVs.")
    # a folder other than data/<slug>/ goes into the definition: later commands need no --data-dir
    record = args.data_dir is not None and Path(args.data_dir) != paths.DATA / args.slug
    text, notes = draft(args.slug, data_dir, args.metric, record_folder=record)
    write_atomic(out, text)
    comp = load_competition(str(out))  # a draft kit cannot read is a bug, not something to hand over
    print(out)
    for note in notes:
        print(f"kit: note: {note}.", file=sys.stderr)
    print(f"kit: {_drafted(comp, args.metric is None, str(out) if args.out else args.slug)}.", file=sys.stderr)
    return 0


def _drafted(comp, metric_guessed: bool, name: str) -> str:
    """What kit new drafted, in one sentence: the guesses to check (they are the file's comments) and what to run."""
    spec = comp.recipe()
    # a rate is a numeric feature (a multiclass's, one per class: rate_A, rate_B), counted once, as a category
    rates = [c for c in spec.numeric if c in spec.target_mean or any(c.startswith(f"{r}_") for r in spec.target_mean)]
    pairs = sum(len(t["by"]) > 1 for t in spec.target_mean.values())  # a rate by two columns (an interaction)
    # a number that is a feature and also keys a rate (kit.draft's repeated exact values)
    valued = sum(len(t["by"]) == 1 and t["by"][0] in spec.numeric for t in spec.target_mean.values())
    kinds = [
        (len(spec.numeric) - len(rates), "number", "numbers"),
        (len(spec.one_hot), "category one-hot", "categories one-hot"),
        (len(spec.target_mean) - pairs - valued, "category as its target rate", "categories as their target rates"),
        (valued, "number's values as their rate too", "numbers' values as their rates too"),
        (pairs, "pair of columns as its target rate", "pairs of columns as their target rates"),
        (len(spec.words), "text column as its words", "text columns as their words"),
    ]
    inputs = ", ".join(f"{n} {one if n == 1 else more}" for n, one, more in kinds if n) or "none"
    guess = " (a guess: see the competition's Evaluation page)" if metric_guessed else ""
    return f"drafted a {comp.task} task scored by {comp.metric}{guess}; features: {inputs}; next: kit cv -c {name}"


def cmd_drift(args) -> int:
    from kit.competition import extra_rows, load_competition
    from kit.drift import ROWS, adversarial

    if args.folds is not None and args.folds < 2:
        raise KitError(f"--folds must be 2 or more (got {args.folds}).")
    if args.rows is not None and args.rows < 2 * (args.folds or 5):
        raise KitError(f"--rows must be at least two per fold (got {args.rows}).")
    _check_device(args.device, True, False)
    comp = load_competition(args.competition)
    spec = _recipe(args, comp)
    without = tuple(dict.fromkeys(c.strip() for c in (args.without or "").split(",") if c.strip()))
    features = tuple(dict.fromkeys((*spec.numeric, *spec.piecewise, *spec.one_hot, *spec.words)))
    if unknown := [c for c in without if c not in features]:  # checked before any data is read
        if column := next(
            (c for c in (*spec.piecewise, *spec.one_hot, *spec.words) if unknown[0].startswith(f"{c}_")), None
        ):
            raise KitError(
                f"--without names {unknown[0]}, one of the columns {column} makes; the recipe leaves out whole "
                f"columns, so pass --without {column}"
            )
        raise KitError(
            f"--without names {unknown[0]}, which is not a feature column of recipe {spec.name} "
            f"({', '.join(features)}); name columns of its numeric, piecewise, one_hot or words"
        )
    if not [c for c in features if c not in without]:
        raise KitError(f"--without leaves recipe {spec.name} no feature columns; leave one in")
    comp, spec, train, test, _ = _load(args)
    if len(test) < (args.folds or 5):
        raise KitError(f"{comp.slug}'s test file holds {len(test)} rows: too few to tell from the training rows.")
    own = train.iloc[: len(train) - extra_rows(comp, train)]  # extra rows ([files] extra) are not train.csv's
    found = adversarial(spec, own, test, folds=args.folds or 5, seed=args.split_seed, rows=args.rows or ROWS,
                        without=without, device=args.device)  # fmt: skip
    if args.json:
        print(json.dumps({"competition": comp.slug, "recipe": spec.name, **found.summary()}))
    else:
        print(format_drift(comp, spec, found, args.top))
    return 0


def format_drift(comp, spec, found, top: int) -> str:
    """The adversarial validation's table, what it means, and the features that tell the rows apart most."""
    from kit.drift import verdict
    from kit.table import aligned

    n_train, n_test = found.rows
    head = f"{comp.slug}  recipe={spec.name}  adversarial validation: {n_train:,} training rows against {n_test:,} "
    head += f"test rows, stratified {found.folds} folds"
    rows = [(name, f"{r.mean:.4f} ± {r.std:.4f}", " ".join(f"{s:.4f}" for s in r.fold_scores))
            for name, r in found.models.items()]  # fmt: skip
    auc = found.auc
    # where the definition validates forward in time already, the advice says so rather than asking for it
    forward = "validated forward in time ([validation] time, `--split time`)"
    if "time" in comp.validation:
        forward = f"validated forward in time, as this definition does ([validation] time = {comp.validation['time']})"
    meaning = {
        "alike": f"the test rows look like the training rows (ROC AUC {auc:.4f}, 0.5 when nothing tells them "
        "apart): random folds score as the test set will.",
        "somewhat": f"the test rows differ somewhat from the training rows (ROC AUC {auc:.4f}): the features "
        "below say where; CV may promise a little more than the test set gives.",
        "apart": f"the test rows differ from the training rows (ROC AUC {auc:.4f}): a model may lean on what the "
        "test rows do not hold. Look at the features below: one that orders the rows (a date, an id that counts "
        f"up) is better left out or {forward}; a number whose range moved, or a level only one side holds, may "
        "want its rows pooled (`rare`).",
    }[verdict(auc)]
    shown = found.columns[:top]
    lines = [head, "", aligned(("model", "roc_auc", "folds"), rows), "", meaning]
    if shown:
        lines += ["", f"the recipe columns that tell test rows from training rows most, each by its most telling "
                      f"feature alone (ROC AUC; 0.5 tells nothing), {len(shown)} of {len(found.columns)}:"]  # fmt: skip
        table = [(column, f"{auc:.4f}", "" if name == column else name) for column, auc, name in shown]
        lines += ["  " + line.rstrip() for line in aligned(("column", "roc_auc", "feature"), table).split("\n")]
    if found.without:
        lines += ["", f"left out with --without: {', '.join(found.without)}"]
    if found.left_out:
        lines += ["", f"left out, made from the target: {', '.join(found.left_out)}"]
    return "\n".join(lines)


def cmd_recipe_show(args) -> int:
    from kit.describe import recipe_table
    from kit.recipe import apply_recipe, fit_recipe

    comp, spec, train, _, _ = _load(args)
    state = fit_recipe(spec, train)
    print(f"{comp.slug}  recipe={spec.name}  {len(train)} training rows, {len(state['columns'])} features\n")
    print(recipe_table(state, apply_recipe(spec, state, train)))
    return 0
