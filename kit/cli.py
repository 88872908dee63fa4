"""The command line: `kit <command>` and `python -m kit <command>`: parsing, and errors as one sentence.

Parsing stays light (no torch, pandas or scikit-learn at import time); each command imports what
it needs when it runs. A KitError ends the run with one sentence on stderr and exit code 2: the fact the
core raised, then what to do in the command line's words (kit.fixes).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from kit import KitError, __version__
from kit.commands import (
    MODEL_NAMES,
    cmd_cv,
    cmd_doctor,
    cmd_drift,
    cmd_fetch,
    cmd_list,
    cmd_new,
    cmd_notebook,
    cmd_recipe_show,
    cmd_report,
    cmd_reproduce,
    cmd_run,
    cmd_submission,
    cmd_submissions,
    cmd_submit,
)
from kit.fixes import sentence
from kit.task import METRICS  # light: torch comes only when a task scores


class _Default(str):
    """A default argparse keeps as it is, so that a value the user did not give can be told from one they did."""


DEFAULT_COMPETITION = _Default("titanic")  # the competition a command without -c runs


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors are one sentence naming the command's help, not the top level's usage.

    An option another command takes (`kit cv --metric auc`) is told where that setting lives instead.
    """

    words: list[str] = []  # the command line being parsed (main sets it): which command an unknown option was given to

    def __init__(self, *args, **kwargs):
        # No abbreviations: `--row 0` was taken as --rows and `--epoch` as --epochs, so a script's flags would change
        # meaning the day a second flag shares their start; a near miss is named instead (error, below)
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        command = self.prog
        if message.startswith("unrecognized arguments: "):  # raised by the top level, after the command's parser
            parser, names = self, []  # down the commands named (`kit recipe show`) to the one given the option
            while name := next((w for w in self.words if w in _subcommands(parser)), None):
                parser, names = _subcommands(parser)[name], [*names, name]
            command = " ".join(["kit", *names])
            given = message.split(": ", 1)[1]
            hint = ""
            if "--metric" in given.split() and names[:1] != ["new"]:
                hint = f" ({_metric_lives(self.words)}; `kit new --metric M` drafts a definition with it)"
            elif near := _near_flags(parser, given.split()):
                hint = f" (did you mean {near}?)"
            message = f"{command} does not take {given}{hint}"
        self.exit(2, f"error: {message}; `{command} --help` lists what it takes.\n")


def _near_flags(parser: argparse.ArgumentParser, given: list[str]) -> str:
    """The flags of `parser` closest to the unknown ones given (`--row` -> `--rows`), or ""."""
    import difflib

    known = [s for action in parser._actions for s in action.option_strings if s.startswith("--")]
    flags = [word.split("=", 1)[0] for word in given if word.startswith("--")]
    near = [m for f in flags for m in difflib.get_close_matches(f, known, n=1, cutoff=0.75)]
    return " or ".join(dict.fromkeys(near))


def _metric_lives(words: list[str]) -> str:
    """Where the metric of the competition a command line names (-c, else the default) is set: its definition's
    `metric` line, quoted as it stands where the definition reads."""
    from kit.competition import load_competition

    given = [w for w in words if w.startswith(("-c=", "--competition="))]
    named = [b for a, b in zip(words, words[1:]) if a in ("-c", "--competition")]
    slug = named[-1] if named else given[-1].split("=", 1)[1] if given else str(DEFAULT_COMPETITION)
    try:
        comp = load_competition(slug)
        return f'the metric is {slug}\'s: `metric = "{comp.metric}"` in its definition, {comp.source}'
    except Exception:  # a competition that does not load: its own error comes once the flag is gone
        return "a competition's metric is the `metric` line of its definition, competitions/SLUG.toml"


def _per_model(kind, flag: str, one: str, named: str):
    """A flag's value for every model (`--lr 0.01`), or for the models named (`--lr nn=0.001,deep=0.001`: the others
    keep theirs, so their CVs are reused), as the definition's `lr = { nn = 0.001 }` says it."""

    def parse(text: str):
        try:
            if "=" not in text:
                return kind(text)
            pairs = [part.split("=") for part in text.split(",")]
            if any(len(pair) != 2 or not pair[0].strip() for pair in pairs):
                raise ValueError
            return {model.strip(): kind(value) for model, value in pairs}
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"takes one value ({flag} {one}) or one per model ({flag} {named}), not {text!r}"
            ) from None

    return parse


def _subcommands(parser: argparse.ArgumentParser) -> dict:
    """A parser's commands by name ({} for a command that has none)."""
    return next((a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction)), {})


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    _Parser.words = list(sys.argv[1:] if argv is None else argv)
    defaulted = False  # no -c given: the default competition was assumed
    args = None
    try:
        args = parser.parse_args(argv)  # a value kit cannot take (`--metric auc`) is a KitError too
        defaulted = isinstance(getattr(args, "competition", None), _Default)
        if defaulted and args.run is not cmd_reproduce and (only := _only_definition()):
            # a user's own folder after `kit new`: a trial's user, -c left off, had Titanic assumed there (but the
            # article's figures are Titanic's: `kit reproduce` reruns them wherever it runs)
            args.competition, defaulted = _Default(only), False
            print(f"kit: -c {only} assumed: the one definition in competitions/", file=sys.stderr)
        return args.run(args) or 0
    except KitError as e:
        yours = _own_definitions() if defaulted else []
        named = " or ".join(f"-c {slug}" for slug in yours[:3])  # the user drafted their own and forgot -c
        if defaulted and e.fix == "check_columns":  # the user's own files, read as another competition's
            if yours:
                e = KitError(str(e), fix="check_columns_yours", slug=str(DEFAULT_COMPETITION), yours=named)
            else:
                e = KitError(str(e), fix="check_columns_default", slug=str(DEFAULT_COMPETITION))
        named_slug = getattr(args, "competition", None)
        if type(named_slug) is str:  # a fix's command repeats the -c given (kit.fixes.worded)
            e.values.setdefault("competition", f" -c {named_slug}")
        told = sentence(e)
        if yours and e.fix != "check_columns_yours":  # an error about a competition they never named
            told = assumed(told, yours)
        print(f"error: {told}", file=sys.stderr)
        return e.exit_code  # 3: a submission was sent, what followed failed
    except KeyboardInterrupt as e:
        # A Ctrl-C once a file may have reached Kaggle carries a sentence saying what Kaggle has.
        print(f"interrupted; {sentence(e).rstrip('.') or 'nothing half-written was kept'}.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`kit recipe show | head`): what was asked is written; stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
        return 0


def _only_definition() -> str | None:
    """The competition ./competitions defines where it defines exactly one, and that one is not the default's."""
    folder = Path("competitions")
    found = sorted(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else []
    return found[0] if len(found) == 1 and found[0] != DEFAULT_COMPETITION else None


def assumed(told: str, yours: list[str]) -> str:
    """A sentence about the default competition, said to have been assumed, with the -c of the user's own."""
    named = " or ".join(f"-c {slug}" for slug in yours[:3])
    return f"{told.rstrip('.')} (no -c was given, so {DEFAULT_COMPETITION} was assumed; for yours pass {named})."


def _own_definitions() -> list[str]:
    """The competitions defined in ./competitions other than the default one, by name."""
    folder = Path("competitions")
    return sorted(p.stem for p in folder.glob("*.toml") if p.stem != DEFAULT_COMPETITION) if folder.is_dir() else []


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
    p.add_argument(
        "--rows",
        type=int,
        metavar="N",
        help="cross-validate on N training rows drawn at random (seeded by the split seed), for a quick look at "
        "a large competition; submissions always train on every row",
    )
    p.add_argument(
        "--importance",
        action="store_true",
        help="also each recipe column's permutation importance: the score lost when its values are shuffled among "
        "each fold's validation rows (every model trains: none is reused)",
    )
    _oof_option(p)
    p.set_defaults(run=cmd_cv)

    p = commands.add_parser(
        "submission",
        help="train on all rows (or average the CV's fold models), write a checked submission CSV and its sidecar",
    )
    _data_options(p)
    _plan_options(p)
    p.add_argument("--out", type=Path, help="CSV path (default submissions/<competition>/<name>.csv)")
    p.add_argument("--json", action="store_true", help="print the CV summary as JSON before the path")
    _oof_option(p)
    _refit_option(p)
    _rows_refused(p)
    p.set_defaults(run=cmd_submission)

    p = commands.add_parser("report", help="every recorded run, best CV first, and a plot of CV vs public score")
    p.add_argument("-c", "--competition", default=DEFAULT_COMPETITION, help="name in competitions/ or a .toml path")
    p.set_defaults(run=cmd_report)

    p = commands.add_parser("list", help="the competitions kit knows: task, metric, recipes, whether the data is here")
    p.set_defaults(run=cmd_list)

    p = commands.add_parser("new", help="draft competitions/SLUG.toml from the competition's files")
    p.add_argument("slug", help="the competition's name on Kaggle, as in kaggle.com/competitions/SLUG")
    p.add_argument("--data-dir", type=Path, help="folder holding its train, test and sample CSVs (default data/SLUG/)")
    p.add_argument(
        "--metric",
        type=_metric,
        help="the metric it is scored by, from its Evaluation page, in any case: "
        + ", ".join(sorted(METRICS))
        + " (default: a guess from the target, marked as one)",
    )
    p.add_argument("--out", type=Path, help="where to write the definition (default competitions/SLUG.toml)")
    p.set_defaults(run=cmd_new)

    p = commands.add_parser("recipe", help="look at a recipe: `kit recipe show` prints the features it makes")
    actions = p.add_subparsers(title="actions", required=True, metavar="ACTION")
    show = actions.add_parser("show", help="the feature columns and the values learned on the training rows")
    _data_options(show)
    show.set_defaults(run=cmd_recipe_show)

    p = commands.add_parser(
        "drift", help="adversarial validation: how well a model tells the test rows from the training rows, and by what"
    )
    _data_options(p)
    p.add_argument("--folds", type=int, help="folds of the stratified split (default 5)")
    p.add_argument("--split-seed", type=int, default=42, help="seed of the split and of the rows drawn (default 42)")
    p.add_argument(
        "--rows", type=int, metavar="N", help="at most N rows drawn at random from each file (default 50,000)"
    )
    p.add_argument(
        "--without",
        metavar="COLUMNS",
        help="comma-separated feature columns of the recipe to leave out, to see what else tells the rows apart",
    )
    p.add_argument(
        "--top", type=int, default=10, metavar="N", help="the N recipe columns that tell them apart most (default 10)"
    )
    p.add_argument("--device", default="cpu", help="where the models train: cpu (default) or cuda")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    # taken as cv and submission take it (a trial's script passed it to all three): drift shows no progress
    p.add_argument("--quiet", action="store_true", help="no progress output (drift prints none: accepted as cv's)")
    p.set_defaults(run=cmd_drift)

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
    p.add_argument(
        "--check",
        action="store_true",
        help="only run the checks an upload runs first (file, ids, values, sent before?); send nothing, no account needed",
    )
    p.epilog += " With --check nothing is sent: 0 it would be sent, 1 the same file was sent before, 2 a check failed."
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
    _oof_option(p)
    _refit_option(p)
    _submit_options(p)
    _rows_refused(p)
    # None: take the competition's [run] configuration, then kit's defaults.
    p.set_defaults(run=cmd_run, json=False)

    p = commands.add_parser("notebook", help="build the pipeline as a Kaggle notebook; push, run and submit it")
    _data_options(p)
    _plan_options(p)
    p.add_argument("--user", help="Kaggle user owning the notebook (default: from your credentials)")
    p.add_argument("--out", type=Path, help="build folder (default build/notebook/<competition>/)")
    p.add_argument("--gpu", action="store_true", help="ask Kaggle for a GPU (enable_gpu in the metadata)")
    _refit_option(p)
    _rows_refused(p)
    p.add_argument(
        "--oof",
        action="store_true",
        help="the notebook also writes oof.csv, the training rows' out-of-fold predictions, beside submission.csv",
    )
    p.add_argument("--push", action="store_true", help="push it to Kaggle, which runs it")
    p.add_argument("--wait", action="store_true", help="after --push, wait for the run and fetch its output")
    p.add_argument("--submit", action="store_true", help="submit the notebook's submission.csv (implies --wait)")
    p.add_argument("-m", "--message", help="submission description")
    p.add_argument("--force", action="store_true", help="submit even if the same file was submitted before")
    _wait_options(p, 15.0, "seconds between status checks", "give up each wait (the notebook's run, then the score)")
    p.set_defaults(run=cmd_notebook)
    return parser


SUBMIT_EXIT_CODES = (
    "exit codes: 0 sent (and scored, with --wait); 2 nothing was sent (a check failed, or Kaggle refused it); "
    "3 sent, or possibly sent, but what followed failed: the wait ran out or broke off, or Kaggle could not score "
    "it (the message gives the ref; `kit submissions` follows it); 130 interrupted (the message says whether the "
    "file reached Kaggle). One kit at a time submits to a competition; another waits for it."
)


class _RowsRefused(argparse.Action):
    """`--rows` given to a command that trains on every row: said in a sentence, not argparse's "unrecognized"."""

    def __call__(self, parser, namespace, values, option_string=None):
        raise KitError(
            f"kit {parser.prog.split()[-1]} trains on every row: --rows is for kit cv's quick look on a sample; "
            "drop it here."
        )


def _rows_refused(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rows", action=_RowsRefused, help=argparse.SUPPRESS)


def _submit_options(p: argparse.ArgumentParser) -> None:
    p.epilog = SUBMIT_EXIT_CODES
    p.add_argument("-m", "--message", help="submission description (default: the file name and CV score)")
    p.add_argument("--wait", action="store_true", help="wait until Kaggle scores it and print the public score")
    p.add_argument("--force", action="store_true", help="send it even if the same file was submitted before")
    _wait_options(p, 10.0, "seconds between checks with --wait", "with --wait, give up waiting for the score")


def _wait_options(p: argparse.ArgumentParser, poll: float, poll_help: str, timeout_help: str) -> None:
    """--poll-interval and --wait-timeout, both checked to be seconds above 0 when the command line is read."""
    p.add_argument("--poll-interval", type=_seconds, default=poll, metavar="SECONDS", help=poll_help)
    p.add_argument(
        "--wait-timeout",
        type=_seconds,
        default=3600.0,
        metavar="SECONDS",
        help=f"{timeout_help} after this long (default 3600); a file sent stays submitted",
    )


def _seconds(text: str) -> float:
    """A number of seconds above 0, checked when the command line is read: before anything is sent."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, not {text!r}")
    return value


def _metric(text: str) -> str:
    """One of kit's metrics, in any case ("RMSLE" is rmsle), checked before any file is read; another name is
    refused (a KitError: one sentence, as main prints it) with the closest metric (auc: roc_auc)."""
    from kit.task import check_metric_name  # light: kit.task imports torch only to score

    return check_metric_name(text.lower())


def _refit_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--refit",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="train every model again on all training rows for the test predictions; --no-refit averages the CV's "
        "fold models' predictions instead, and nothing trains after the CV (default: the competition's [training] "
        "refit, else refit)",
    )


def _oof_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--oof",
        type=Path,
        metavar="PATH.csv",
        help="also write the training rows' out-of-fold predictions there: the id, each model's and the ensemble's "
        "prediction, the target (empty cells for rows no fold validated)",
    )


def _data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-c", "--competition", default=DEFAULT_COMPETITION, help="name in competitions/ or a .toml path")
    p.add_argument("--data-dir", type=Path, help="folder holding the competition's files (default data/<slug>/)")
    p.add_argument("--recipe", help="named recipe of the competition (default: its [run] recipe, else its first)")
    p.add_argument(
        "--allow-changed-data",
        action="store_true",
        help="read data files that no longer match kit-manifest.json (you edited them on purpose)",
    )


RUN = "the competition's [run]"  # where a plan option not given on the command line comes from first
TRAINING = "the competition's [training], else kit's default preset"


def _plan_options(p: argparse.ArgumentParser) -> None:
    """What to train and how to validate it. Every default comes from the definition first (its [run] and
    [training] tables), then kit's own, so cv, submission, run and notebook train the same configuration."""
    p.add_argument(
        "--models", help=f"comma-separated, from {','.join(MODEL_NAMES)} (default: {RUN}, else linear,nn,deep)"
    )
    p.add_argument(
        "--blend",
        metavar="RECIPE,...",
        help="other recipes whose models (the same, on the same folds) join the ensemble, named RECIPE/MODEL "
        f"(default: {RUN} blend, else none)",
    )
    p.add_argument(
        "--split",
        choices=["stratified", "kfold", "group", "time", "random"],
        help=f"stratified k-fold, k-fold, group k-fold ([validation] group), forward folds over time ([validation] "
        f"time) or the article's 80/20 random split (default: {RUN}, else group or time when [validation] names one, "
        "stratified for classes, k-fold for regression)",
    )
    p.add_argument("--folds", type=int, help=f"folds for kfold, stratified, group and time (default: {RUN}, else 5)")
    p.add_argument("--seeds", type=int, help=f"initialisations per model, averaged (default: {RUN}, else 1)")
    p.add_argument("--init-seed", type=int, default=442, help="first initialisation seed (default 442)")
    p.add_argument("--split-seed", type=int, default=42, help="seed of the split (default 42)")
    p.add_argument("--repeats", type=int, help=f"repeat the split with the next split seeds (default: {RUN}, else 1)")
    p.add_argument(
        "--epochs",
        type=_per_model(int, "--epochs", "200", "nn=200,deep=200"),
        help=f"epochs for every model, or for those named: nn=200,deep=200 (default: {TRAINING})",
    )
    p.add_argument("--preset", choices=["default", "article"], help=f"kit's training or the article's ({TRAINING})")
    p.add_argument("--optimizer", choices=["sgd", "momentum", "adam"], help=f"the update step (default: {TRAINING})")
    p.add_argument(
        "--lr",
        type=_per_model(float, "--lr", "0.01", "nn=0.001,deep=0.001"),
        help=f"learning rate for every model, or for those named: nn=0.001,deep=0.001 (default: {TRAINING})",
    )
    p.add_argument("--batch-size", type=int, help=f"rows per step; 0 for full batch (default: {TRAINING})")
    p.add_argument("--weight-decay", type=float, help=f"weight decay (default: {TRAINING})")
    p.add_argument(
        "--hidden",
        help="hidden layer sizes: 64 (nn 64, deep 64 x 64) or 64,32 (deep 64 x 32, nn one layer of the first, 64); "
        f"per model in [training] hidden (default: {TRAINING})",
    )
    p.add_argument(
        "--choose-epochs",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="train each model the epochs CV finds best, up to --epochs; the sidecar records the choice "
        f"(default: {TRAINING} choose_epochs, else no)",
    )
    p.add_argument(
        "--patience",
        type=int,
        metavar="N",
        help="choosing epochs, stop training once neither the validation curves nor the validation loss has "
        "improved for this many epochs; 0 trains every epoch (default: the competition's [training] patience, "
        "else 0)",
    )
    p.add_argument(
        "--ensemble",
        choices=["mean", "select"],
        help="combine the models as their mean, or with weights chosen on the folds' predictions, each fold's on "
        "the other folds (default: the competition's [training] ensemble, else mean)",
    )
    p.add_argument("--device", default="cpu", help="where to train: cpu (default) or cuda")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
