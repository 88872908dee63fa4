"""The command line: `kit <command>` and `python -m kit <command>`.

Parsing stays light (no torch, pandas or scikit-learn at import time); each command imports what
it needs when it runs. A KitError ends the run with one sentence on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kit import KitError, __version__

MODEL_NAMES = ("linear_raw", "linear", "nn", "deep")  # kit.models.MODELS, named here to keep --help light


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args) or 0
    except KitError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing half-written was kept.", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kit", description="Kaggle competition workflow: data, recipe, from-scratch models, CV, submission."
    )
    parser.add_argument("--version", action="version", version=f"kit {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    p = commands.add_parser("reproduce", help="rerun the fast.ai lesson 5 experiments and print its figures")
    _data_options(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=cmd_reproduce)

    p = commands.add_parser("cv", help="cross-validate models and their ensemble")
    _data_options(p)
    _plan_options(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", action="store_true", help="write loss and CV plots under submissions/<competition>/cv/")
    p.add_argument(
        "--against", metavar="RECIPE", help="also run this recipe on the same folds and compare, fold by fold"
    )
    p.set_defaults(run=cmd_cv)

    p = commands.add_parser("submission", help="train on all rows, write a checked submission CSV and its sidecar")
    _data_options(p)
    _plan_options(p)
    p.add_argument("--out", type=Path, help="CSV path (default submissions/<competition>/<name>.csv)")
    p.add_argument("--json", action="store_true", help="print the CV summary as JSON before the path")
    p.set_defaults(run=cmd_submission)

    p = commands.add_parser("report", help="every recorded run, best CV first, and a plot of CV vs public score")
    p.add_argument("-c", "--competition", default="titanic", help="name in competitions/ or a .toml path")
    p.set_defaults(run=cmd_report)

    p = commands.add_parser("fetch", help="download the competition's files through the Kaggle API")
    _data_options(p)
    p.add_argument("--force", action="store_true", help="download again even if the files are intact")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=cmd_fetch)

    p = commands.add_parser("doctor", help="check credentials, the Kaggle API and the data")
    _data_options(p)
    p.set_defaults(run=cmd_doctor)

    p = commands.add_parser("submit", help="check a submission CSV and upload it to Kaggle")
    p.add_argument("file", type=Path, help="the CSV to submit")
    _data_options(p)
    _submit_options(p)
    p.set_defaults(run=cmd_submit)

    p = commands.add_parser("submissions", help="list the competition's submissions beside their CV scores")
    _data_options(p)
    p.set_defaults(run=cmd_submissions)

    p = commands.add_parser(
        "run", help="the whole job: fetch if needed, cross-validate, write the submission, submit when asked"
    )
    _data_options(p)
    _plan_options(p)
    p.add_argument("--out", type=Path, help="CSV path (default submissions/<competition>/<name>.csv)")
    p.add_argument("--submit", action="store_true", help="upload the submission to Kaggle")
    _submit_options(p)
    # None: take the competition's [run] configuration, then kit's defaults.
    p.set_defaults(run=cmd_run, json=False, recipe=None, models=None, seeds=None)

    p = commands.add_parser("notebook", help="build the pipeline as a Kaggle notebook; push, run and submit it")
    _data_options(p)
    _plan_options(p)
    p.add_argument("--user", help="Kaggle user owning the notebook (default: from your credentials)")
    p.add_argument("--out", type=Path, help="build folder (default build/notebook/<competition>/)")
    p.add_argument("--gpu", action="store_true", help="ask Kaggle for a GPU (enable_gpu in the metadata)")
    p.add_argument("--push", action="store_true", help="push it to Kaggle, which runs it")
    p.add_argument("--wait", action="store_true", help="after --push, wait for the run and fetch its output")
    p.add_argument("--submit", action="store_true", help="submit the notebook's submission.csv (implies --wait)")
    p.add_argument("-m", "--message", help="submission description")
    p.add_argument("--force", action="store_true", help="submit even if the same file was submitted before")
    p.add_argument("--poll-interval", type=float, default=15.0, help="seconds between status checks")
    p.set_defaults(run=cmd_notebook)
    return parser


def _submit_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-m", "--message", help="submission description (default: the file name and CV score)")
    p.add_argument("--wait", action="store_true", help="wait until Kaggle scores it and print the public score")
    p.add_argument("--force", action="store_true", help="send it even if the same file was submitted before")
    p.add_argument("--poll-interval", type=float, default=10.0, help="seconds between checks with --wait")


def _data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-c", "--competition", default="titanic", help="name in competitions/ or a .toml path")
    p.add_argument("--data-dir", type=Path, help="folder holding the competition's files (default data/<slug>/)")
    p.add_argument("--recipe", help="named recipe of the competition (default: its first)")


def _plan_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models", default="linear,nn,deep", help=f"comma-separated, from {','.join(MODEL_NAMES)}")
    p.add_argument(
        "--split",
        choices=["stratified", "kfold", "random"],
        default="stratified",
        help="stratified k-fold (default), k-fold, or the article's 80/20 random split",
    )
    p.add_argument("--folds", type=int, default=5, help="folds for kfold and stratified (default 5)")
    p.add_argument("--seeds", type=int, default=1, help="initialisations per model, averaged (default 1)")
    p.add_argument("--init-seed", type=int, default=442, help="first initialisation seed (default 442)")
    p.add_argument("--split-seed", type=int, default=42, help="seed of the split (default 42)")
    p.add_argument("--repeats", type=int, default=1, help="repeat the split with the next split seeds (default 1)")
    p.add_argument("--device", default="cpu", help="where to train: cpu (default) or cuda")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


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
    from kit.validation import Plan

    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    unknown = [m for m in models if m not in MODEL_NAMES]
    if unknown or not models:
        raise KitError(f"unknown model {', '.join(unknown) or '(none)'}; choose from {', '.join(MODEL_NAMES)}.")
    if args.split != "random" and args.folds < 2:
        raise KitError(f"--folds must be at least 2 (got {args.folds}).")
    if args.seeds < 1 or args.repeats < 1:
        raise KitError(f"--seeds and --repeats must be at least 1 (got {args.seeds} and {args.repeats}).")
    return Plan(
        models=models,
        split=args.split,
        folds=args.folds,
        seeds=args.seeds,
        init_seed=args.init_seed,
        split_seed=args.split_seed,
        repeats=args.repeats,
        device=args.device,
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
    user = args.user or configured_username() or (client.whoami() if client else None)
    if user is None:
        user = "your-kaggle-username"
        print("kit: no Kaggle user known; set --user before pushing", file=sys.stderr)
    folder = build_notebook(comp, spec.name, plan, user, args.out or Path("build") / "notebook" / comp.slug, args.gpu)
    if args.push:
        from kit.submit import run_notebook

        entry = run_notebook(
            comp,
            folder,
            f"{user}/{comp.slug}",
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
