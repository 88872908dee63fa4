"""What each command does, once the command line is parsed (kit.cli). Each `cmd_*` takes the parsed
arguments and returns the exit code; heavy imports happen inside, so `kit --help` stays light."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from kit import KitError

MODEL_NAMES = ("linear_raw", "linear", "nn", "deep")  # kit.models.MODELS, named here to keep --help light


# ---- shared steps -----------------------------------------------------------------------------


def _load(args):
    """Competition, recipe spec, train and test frames, and the data folder."""
    from kit.competition import default_data_dir, load_competition, read_train_test, with_sample_labels

    comp = load_competition(args.competition)
    spec = comp.recipe(args.recipe)
    data_dir = args.data_dir or default_data_dir(comp)
    comp = with_sample_labels(comp, data_dir)
    train, test = read_train_test(comp, data_dir, spec)
    return comp, spec, train, test, data_dir


def _plan(args):
    from kit.competition import load_competition
    from kit.validation import Plan

    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    unknown = [m for m in models if m not in MODEL_NAMES]
    if unknown or not models:
        raise KitError(f"unknown model {', '.join(unknown) or '(none)'}; choose from {', '.join(MODEL_NAMES)}.")
    if args.split != "random" and args.folds < 2:
        raise KitError(f"--folds must be at least 2 (got {args.folds}).")
    if args.seeds < 1 or args.repeats < 1:
        raise KitError(f"--seeds and --repeats must be at least 1 (got {args.seeds} and {args.repeats}).")
    if args.epochs is not None and args.epochs < 1:
        raise KitError(f"--epochs must be at least 1 (got {args.epochs}).")
    # --epochs for every model; otherwise the competition's [training] epochs; otherwise the article's
    epochs = {m: args.epochs for m in models} if args.epochs else load_competition(args.competition).epochs
    if set(epochs) - set(MODEL_NAMES):
        raise KitError(
            f"[training] epochs names unknown models {sorted(set(epochs) - set(MODEL_NAMES))}; fix the definition."
        )
    return Plan(
        models=models,
        split=args.split,
        folds=args.folds,
        seeds=args.seeds,
        init_seed=args.init_seed,
        split_seed=args.split_seed,
        repeats=args.repeats,
        device=args.device,
        epochs={m: n for m, n in epochs.items() if m in models},
    )


# ---- commands -----------------------------------------------------------------------------------


def cmd_reproduce(args) -> int:
    from kit.reproduce import format_reproduction, reproduce

    comp, spec, train, _, _ = _load(args)
    result = reproduce(comp, spec, train)
    print(json.dumps(result) if args.json else format_reproduction(result))
    return 0


def cmd_cv(args) -> int:
    from kit.competition import read_train_test
    from kit.pipeline import format_comparison, format_cv, run_cv
    from kit.report import record_run
    from kit.submission import default_name
    from kit.validation import paired_comparison

    plan = _plan(args)
    comp, spec, train, test, data_dir = _load(args)
    result, _ = run_cv(comp, spec, train, test, plan, args.quiet)
    record_run(comp, spec, plan, result)
    report = {"competition": comp.slug, "recipe": spec.name, "split": plan.split, "folds": plan.folds,
              "repeats": plan.repeats, "seeds": plan.seeds, **result.summary()}  # fmt: skip
    text = [format_cv(comp, spec, plan, result)]
    if args.against:
        other_spec = comp.recipe(args.against)
        other, _ = run_cv(comp, other_spec, *read_train_test(comp, data_dir, other_spec), plan, args.quiet)
        record_run(comp, other_spec, plan, other)
        comparison = paired_comparison(result, other)
        report["against"] = {"recipe": other_spec.name, **other.summary(), "comparison": comparison}
        n_folds = len(result.ensemble.fold_scores)
        text += [
            format_cv(comp, other_spec, plan, other),
            format_comparison(spec.name, other_spec.name, comparison, n_folds),
        ]
    print(json.dumps(report) if args.json else "\n\n".join(text))
    if args.plot:
        from kit.plots import write_plots

        paths = write_plots(result, Path("submissions") / comp.slug / "cv", default_name(spec.name, plan))
        print("\n".join(str(p) for p in paths), file=sys.stderr if args.json else sys.stdout)
    return 0


def cmd_submission(args) -> int:
    print(write_submission(args))
    return 0


def write_submission(args) -> Path:
    """Cross-validate, train on all rows, write the checked CSV and its sidecar; returns the CSV path."""
    from kit.competition import default_data_dir, load_competition
    from kit.pipeline import format_cv, make_submission
    from kit.report import record_run
    from kit.submission import default_name

    plan = _plan(args)
    comp = load_competition(args.competition)
    spec = comp.recipe(args.recipe)
    out = args.out or Path("submissions") / comp.slug / f"{default_name(spec.name, plan)}.csv"
    result = make_submission(comp, spec, plan, args.data_dir or default_data_dir(comp), out, quiet=args.quiet)
    record_run(comp, spec, plan, result, out)
    print(json.dumps(result.summary()) if args.json else format_cv(comp, spec, plan, result))
    return out


def cmd_report(args) -> int:
    from kit.competition import load_competition
    from kit.plots import report_figure, save
    from kit.report import format_report, report_rows, runs_path

    comp = load_competition(args.competition)
    rows = report_rows(comp.slug)
    print(format_report(rows))
    if rows:
        print(save(report_figure(rows), runs_path(comp.slug).with_name("report.png")))
    return 0


def cmd_fetch(args) -> int:
    from kit.competition import default_data_dir, load_competition
    from kit.fetch import fetch

    comp = load_competition(args.competition)
    print(fetch(comp, args.data_dir or default_data_dir(comp), force=args.force, quiet=args.quiet))
    return 0


def cmd_doctor(args) -> int:
    from kit.competition import default_data_dir, load_competition
    from kit.doctor import doctor

    comp = load_competition(args.competition)
    lines, ok = doctor(comp, args.data_dir or default_data_dir(comp))
    print("\n".join(lines))
    return 0 if ok else 1


def cmd_submit(args) -> int:
    from kit.competition import default_data_dir, load_competition

    comp = load_competition(args.competition)
    _submit(args, comp, args.file, args.data_dir or default_data_dir(comp))
    return 0


def _submit(args, comp, path: Path, data_dir: Path) -> None:
    """Send `path` with the submit options in args, and print the outcome."""
    from kit.kaggle_client import Kaggle
    from kit.submit import submit

    entry = submit(comp, path, data_dir, args.message, wait=args.wait, force=args.force, client=Kaggle(),
                   poll_seconds=args.poll_interval)  # fmt: skip
    _print_outcome(entry)


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

    comp = load_competition(args.competition)
    chosen = comp.run
    args.recipe = args.recipe or chosen.get("recipe")
    args.models = args.models or ",".join(chosen.get("models", ["linear", "nn", "deep"]))
    args.seeds = args.seeds or chosen.get("seeds", 1)
    data_dir = args.data_dir or default_data_dir(comp)
    if not all((Path(data_dir) / comp.files[role]).is_file() for role in ("train", "test")):
        data_dir = fetch(comp, data_dir, quiet=args.quiet)
    args.data_dir = data_dir
    out = write_submission(args)
    print(out)
    if args.submit:
        _submit(args, comp, out, data_dir)
    return 0


def cmd_notebook(args) -> int:
    from kit.competition import default_data_dir, load_competition
    from kit.kaggle_client import Kaggle, configured_username
    from kit.notebook import build_notebook

    plan = _plan(args)
    if args.gpu:
        from dataclasses import replace

        plan = replace(plan, device="cuda")  # Kaggle's GPU, asked for in the metadata
    comp = load_competition(args.competition)
    spec = comp.recipe(args.recipe)
    client = Kaggle() if args.push else None
    user = args.user or configured_username() or (client.whoami(comp.slug) if client else None)
    if user is None:
        user = "your-kaggle-username"
        print("kit: no Kaggle user known; set --user before pushing", file=sys.stderr)
    folder = build_notebook(comp, spec.name, plan, user, args.out or Path("build") / "notebook" / comp.slug, args.gpu)
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
        )
        if entry:
            _print_outcome(entry)
    print(folder)
    return 0


def _print_outcome(entry: dict) -> None:
    if entry.get("status") == "COMPLETE":
        cv = entry.get("cv_score")
        print(f"public score: {entry['public_score']}" + (f"  (local CV {cv:.4f})" if cv is not None else ""))
    else:
        print(f"submitted: ref {entry['ref']}, status {entry['status']}")
