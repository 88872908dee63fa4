"""Competition definitions: the declarative files in competitions/ and the data they describe.

A competition is a TOML file (see competitions/titanic.toml). It loads into frozen dataclasses;
nothing in kit knows any competition by name.
"""

from __future__ import annotations

import hashlib
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from kit import KitError
from kit.recipe_spec import (
    RecipeSpec,
    RecipeTable,
    _regex_with_group,
    check_no_leave_out_step,
    parse_recipe,
    resolve_from,
)
from kit.schema import Name, Place, PositiveInt, Rule, SchemaError, check, show, toml_key
from kit.task import (
    LOG_SPACE,
    METRICS,
    TASKS,
    WHOLE_CUTS,
    Task,
    closest_metric,
    default_metric,
    make_task,
    metrics_for,
    unknown_metric,
)

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
MODEL_NAMES = ("linear_raw", "linear", "nn", "deep")  # kit.models.MODELS, named here to keep --help light


@dataclass(frozen=True)
class Competition:
    """One Kaggle competition: where its data is and what a submission looks like."""

    slug: str  # Kaggle's name for it, as in kaggle.com/competitions/<slug>
    title: str
    id: str  # id column, in test.csv and the submission
    target: str | tuple  # target column in train.csv and the submission; multilabel: a tuple of them
    metric: str  # a name in kit.task.METRICS
    files: dict  # role (train, test, sample_submission) -> file name
    columns: tuple  # submission header, in order; [id, target] when the definition does not list it
    labels: tuple  # classes as written in the CSV (binary: negative, positive); () = the training target's values
    recipes: dict  # name -> RecipeSpec
    default_recipe: str
    source: Path  # the definition file
    run: dict = field(default_factory=dict)  # `kit run` defaults (recipe, models, seeds): the chosen configuration
    training: dict = field(default_factory=dict)  # [training] as written: kit.train.Training.from_table reads it
    task: str = "binary"  # "binary", "multiclass", "multilabel" or "regression"
    validation: dict = field(default_factory=dict)  # [validation]: group (a column), group_pattern
    extra: tuple = ()  # [files] extra: CSVs of more training rows (a Playground's original set), never validated
    extra_labels: dict = field(default_factory=dict)  # [extra] labels: an extra file's target value -> train's
    extra_columns: dict = field(default_factory=dict)  # [extra] columns: an extra file's column name -> train's
    extra_dataset: str = ""  # [extra] dataset: the Kaggle dataset (owner/name) the extra files come from
    row_ids: int | None = None  # train and test have no id column: a row's id is its row number, from this
    data_dir: str = ""  # the folder of its files when not data/<slug>/ (the definition's data_dir); "": the default
    unlabelled: str = "refuse"  # training rows with an empty target: "refuse" them, or "skip" them (read_train_test)

    @property
    def targets(self) -> tuple:
        """The target columns: one, or a multilabel task's several."""
        return (self.target,) if isinstance(self.target, str) else self.target

    def recipe(self, name: str | None = None) -> RecipeSpec:
        name = name or self.default_recipe
        if name not in self.recipes:
            import difflib

            known = ", ".join(sorted(self.recipes))
            close = difflib.get_close_matches(name, list(self.recipes), n=1, cutoff=0.75)  # nodrainde: nodrained
            near = f"did you mean {close[0]!r}? " if close else ""
            raise KitError(f"competition {self.slug} has no recipe {name!r}; {near}choose one of: {known}.")
        return self.recipes[name]


def competition_dirs() -> list[Path]:
    """Where definitions are looked up: ./competitions first, then the one beside the kit package."""
    dirs = [Path.cwd() / "competitions", PACKAGE_ROOT / "competitions"]
    return list(dict.fromkeys(d.resolve() for d in dirs if d.is_dir()))


def known_competitions() -> list[str]:
    return sorted({p.stem for d in competition_dirs() for p in d.glob("*.toml")})


def load_competition(name: str) -> Competition:
    """Load a competition by name (competitions/<name>.toml) or by the path of a .toml file."""
    path = Path(name)
    if path.suffix != ".toml":
        path = next((d / f"{name}.toml" for d in competition_dirs() if (d / f"{name}.toml").is_file()), path)
    if not path.is_file() and Path(name).suffix == ".toml":
        raise KitError(f"the definition {name} does not exist", fix="new_definition")
    if not path.is_file():
        import difflib

        known = known_competitions()
        # a near miss (crab_age for crab-age) is named: drafting a second definition is seldom what was meant
        close = difflib.get_close_matches(name.lower().replace("_", "-"), known, n=1, cutoff=0.8)
        if close:
            raise KitError(f"unknown competition {name!r} (known: {', '.join(known)})", fix="near_definition",
                           slug=close[0], given=name)  # fmt: skip
        shown = ", ".join(known) or "none"
        raise KitError(f"unknown competition {name!r} (known: {shown})", fix="new_definition_for", slug=name)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as e:
        raise KitError(f"competition definition {path} is not readable TOML ({e}); fix the file.") from None
    return parse_definition(raw, path)


def undefined_competition(slug: str) -> Competition:
    """A competition known by its Kaggle slug alone, before `kit new` drafts its definition: enough to fetch its
    files (every file of its download is its own; none is required by name)."""
    return Competition(slug, slug, "", "", "", {}, (), (), {}, "", Path(f"{slug}.toml"))


def parse_definition(raw: dict, path: Path) -> Competition:
    """A definition's table, as tomllib reads it, checked against `Definition` and loaded."""
    try:
        return _parse(raw, path)
    except SchemaError as e:
        raise KitError(f"competition definition {path}: {e}; fix the file.") from None


# ---- the schema of a definition file: every key it may hold (kit.schema checks them) --------------

SLUG_PATTERN = r"[a-z0-9][a-z0-9-]*"  # as Kaggle writes it in a competition's URL
Slug = Annotated[str, Rule(pattern=SLUG_PATTERN, means="a plain slug (lowercase letters, digits and -)")]
DatasetRef = Annotated[
    str, Rule(pattern=r"[A-Za-z0-9][A-Za-z0-9_-]*/[A-Za-z0-9][A-Za-z0-9_.-]*", means="a dataset as owner/name")
]
FileName = Annotated[str, Rule(pattern=r"(?!\.\.?$)[^/\\\x00-\x1f\x7f]+", means="a plain file name, no folders")]
ModelName = Literal[MODEL_NAMES]
PositiveFloat = Annotated[float, Rule(min=1e-12, means="a number above 0")]


@dataclass(frozen=True)
class Files:
    """[files]: the competition's files by role, as Kaggle names them."""

    train: FileName
    test: FileName
    sample_submission: FileName = None  # optional: where the submission labels can be read
    # more training rows, such as the original dataset a Playground competition was made from: every fold trains
    # on them too and none is validated (kit.validation.split_indices); they may lack the id column
    extra: list[FileName] = field(default=None, metadata={"min_len": 1, "unique": True})


@dataclass(frozen=True)
class Extra:
    """[extra]: how the extra files ([files] extra) write what train.csv writes otherwise."""

    # their target's values -> train's, as text, such as { Yes = "1", No = "0" }
    labels: dict[Name, Name] = None
    # their column names -> train's, where they spell a column otherwise: { Shucked_weight = "Whole weight.1" }
    columns: dict[Name, Name] = None
    # the Kaggle dataset that holds them, owner/name as in kaggle.com/datasets/owner/name: `kit fetch` downloads
    # them from it and a Kaggle notebook attaches it
    dataset: DatasetRef = None


@dataclass(frozen=True)
class Submission:
    """[submission]: what a submission file looks like."""

    # default: [id, target]; a multiclass probability file lists the id, then one column per class
    columns: list[Name] = field(default=None, metadata={"min_len": 2, "unique": True})
    labels: list[Name] = field(
        default=None,
        metadata={"min_len": 2, "unique": True, "means": "two or more labels (binary: negative, positive)"},
    )  # default: the training target's values, sorted


@dataclass(frozen=True)
class Run:
    """[run]: the chosen configuration, used by every command that trains when no flag says otherwise."""

    recipe: Name = None  # one of [recipes]
    models: list[ModelName] = field(default=None, metadata={"min_len": 1, "unique": True})
    seeds: int = field(default=1, metadata={"min": 1})  # initialisations per model, averaged
    split: Literal["stratified", "kfold", "group", "time", "random"] = None  # default: by the task and [validation]
    folds: int = field(default=5, metadata={"min": 2})
    repeats: int = field(default=1, metadata={"min": 1})
    # other recipes whose models join the ensemble: each trains the same models on the same folds, and the weights
    # (or the mean) span them all; the submission averages the fold models' test predictions (refit = false)
    blend: list[Name] = field(default=None, metadata={"unique": True})


@dataclass(frozen=True)
class Training:
    """[training]: how the models train for this competition (kit.train.Training says what each does).

    lr, epochs and hidden take one value for every model or a table {model = value}.
    """

    preset: Literal["default", "article"] = "default"  # "article": the article's models and training, exactly
    optimizer: Literal["sgd", "momentum", "adam"] = None
    lr: PositiveFloat | dict[ModelName, PositiveFloat] = None
    epochs: PositiveInt | dict[ModelName, PositiveInt] = None
    batch_size: int = field(default=None, metadata={"min": 0})  # 0: full batch
    epoch_steps: int = field(default=None, metadata={"min": 0})  # at most this many steps an epoch; 0: no limit
    weight_decay: float = field(default=None, metadata={"min": 0})
    momentum: float = field(default=None, metadata={"min": 0, "max": 1})
    hidden: PositiveInt | dict[ModelName, PositiveInt | Annotated[list[PositiveInt], Rule(min_len=1)]] = None
    loss: Literal["task", "mae", "balanced"] = None
    average: float = field(default=None, metadata={"min": 0})  # mini-batches: the weights averaged over N epochs
    choose_epochs: bool = False  # train each model the epochs CV finds best (up to `epochs`)
    # choosing epochs, stop once neither the validation curves nor the loss improved for this many epochs; 0: never
    patience: int = field(default=0, metadata={"min": 0})
    # the ensemble: "mean" of the models, or "select": weights chosen on the folds' predictions (kit.ensemble)
    ensemble: Literal["mean", "select"] = "mean"
    # qwk, and a binary scored by f1, balanced_accuracy, mcc or f1_macro: each label cut from a score by cut-points
    # (a binary's threshold) tuned on the folds' predictions (kit.cutpoints); false: rounded, or cut at 0.5
    cutpoints: bool = True
    # the submission: every model trained again on all training rows (true), or the mean of the CV's fold models'
    # predictions of the test rows (false: nothing trains after the CV)
    refit: bool = True
    # regression: the models learn log(1 + target) and predict back with expm1, scaled to the mean by a factor chosen
    # on the folds' predictions where the metric is rmse or r2 (kit.smearing): for a skewed target of prices or
    # counts whose errors grow with it. Default: in logs for rmsle always, for mape and smape when no target is < 0
    log_target: bool = None


@dataclass(frozen=True)
class Validation:
    """[validation]: how rows are kept together when folds are cut."""

    group: Name = None  # rows with the same value in this column share a fold (GroupKFold)
    # the group is this pattern's first (group) in that column, such as '^(\d+)_' for ids like 0042_01
    group_pattern: str = field(default=None, metadata={"test": _regex_with_group})
    # rows whose input columns (all but the id and the target) are equal share a fold, each other row a group of
    # its own: random folds validate a repeated row on its twin the models learned (a trial's CV 0.897, hidden 0.816)
    group_duplicates: bool = None
    # rows are validated only on times after those they learn from: each fold is the next block of this column's
    # distinct values (numbers or ISO dates) and trains on the rows before it (TimeSeriesSplit), as a test set of
    # later dates would be scored
    time: Name = None
    # with time: each fold validates this many distinct times, the last `folds` blocks, as long as the test period
    # (default: TimeSeriesSplit's, the distinct times / (folds + 1), far longer than a test month of two years)
    block: int = field(default=None, metadata={"min": 1})
    # with time: distinct times left out between each fold's training rows and its block, for a test period that
    # starts after a gap
    gap: int = field(default=None, metadata={"min": 0})


@dataclass(frozen=True)
class Definition:
    """A competition definition file (competitions/*.toml)."""

    slug: Slug  # written into paths: submissions/<slug>/, data/<slug>/
    id: Name
    # a list of two or more columns, each binary, is a multilabel task: one probability per column
    target: Name | Annotated[list[Name], Rule(min_len=2, unique=True)] = field(
        metadata={"means": "a column name, or a list of two or more column names (a multilabel task)"}
    )
    files: Files = field(metadata={"section": True})
    recipes: dict[Name, RecipeTable] = field(metadata={"section": True, "min_len": 1})
    title: str = None  # default: the slug
    # the folder of the competition's files, when not data/<slug>/ (kit new writes the folder it drafted from);
    # relative to the folder kit runs in. --data-dir still overrides it; a Kaggle notebook reads its mounted input
    data_dir: str = field(default=None, metadata={"min_len": 1})
    # train and test have no id column: each row's id is its row number in its file counting from this (0 or 1),
    # as a sample submission that numbers the test rows 1, 2, 3, ... writes it
    row_ids: int = field(default=None, metadata={"min": 0, "max": 1})
    task: Literal[TASKS] = "binary"
    metric: Literal[tuple(METRICS)] = None  # default: accuracy for classification, rmse for regression
    # training rows whose target is empty (a Playground's sales never recorded): "refuse" stops the run naming the
    # first; "skip" leaves them out of training and says how many
    unlabelled: Literal["refuse", "skip"] = "refuse"
    recipe: Name = None  # the recipe used when --recipe is not given; default: the first of [recipes]
    submission: Submission = field(default=None, metadata={"section": True})
    run: Run = field(default=None, metadata={"section": True})
    training: Training = field(default=None, metadata={"section": True})
    validation: Validation = field(default=None, metadata={"section": True})
    extra: Extra = field(default=None, metadata={"section": True})


def _check_target_mean(recipes: dict, task: str, raw: dict) -> None:
    """target_mean's options by the task: positive for binary, classes (required) for multiclass, neither for
    regression, where the group's mean value is its feature; no target_mean for a task of other targets."""
    labels = raw.get("submission", {}).get("labels")
    for name, spec in recipes.items():
        for new, t in spec.target_mean.items():
            place = Place(("recipes", name), ("target_mean", new))
            if task not in ("binary", "multiclass", "regression"):
                raise SchemaError(
                    f"{place}: target_mean learns from one target column, and {raw['slug']} is a {task} task; drop "
                    f"it and read {' and '.join(t['by'])} with one_hot or count instead"
                )
            if "positive" in t and task != "binary":
                raise SchemaError(
                    f"{place}: positive names the counted label of a binary task, and {raw['slug']} is a {task} "
                    f"task; drop it{' (classes names the labels whose rates it makes)' if task == 'multiclass' else ''}"
                )
            if "log1p" in t and task != "regression":
                raise SchemaError(f"{place}: log1p averages a regression's target, and {raw['slug']} is a {task} task")
            if "classes" in t and task != "multiclass":
                raise SchemaError(
                    f"{place}: classes is for a multiclass task, and {raw['slug']} is a {task} task; drop it"
                    + (" (positive names the label counted)" if task == "binary" else "")
                )
            if "classes" not in t and task == "multiclass":
                raise SchemaError(
                    f"{place}: a multiclass target_mean makes one rate per class, so it needs classes, the labels "
                    f"as the target writes them, such as classes = {show(list(labels or ['a', 'b']), 200)} (or "
                    "[submission] labels, which it takes when it names none)"
                )
            unknown = [c for c in t.get("classes", ()) if labels and c not in labels]
            if unknown:
                raise SchemaError(
                    f"{place}: classes lists {show(unknown[0])}, none of the [submission] labels ({', '.join(labels)})"
                )


def _parse(raw: dict, path: Path) -> Competition:
    if isinstance(raw.get("metric"), str):  # metric names match in any case: "RMSLE" is rmsle
        raw = {**raw, "metric": raw["metric"].lower()}
        if raw["metric"] not in METRICS:  # named with the metric it most likely means: auc, roc_auc
            close = closest_metric(raw["metric"])
            raise SchemaError(
                unknown_metric(show(raw["metric"])) + (f", the closest being {show(close)}" if close else "")
            )
    if isinstance(raw.get("recipes"), dict):
        check_no_leave_out_step(raw["recipes"])
        raw = {**raw, "recipes": resolve_from(raw["recipes"])}  # `from = "base"`: the base's table, changed
    check(raw, Definition)
    targets = raw["target"] if isinstance(raw["target"], list) else None  # several: a multilabel task
    if targets and raw.get("task", "multilabel") != "multilabel":
        raise SchemaError(
            f"target lists {len(targets)} columns, which makes a multilabel task, not a {raw['task']} one; "
            'drop task or write task = "multilabel"'
        )
    task = raw.get("task", "multilabel" if targets else "binary")
    single = None if targets else raw["target"]  # target_mean learns from one column; multilabel refuses it below
    labels = tuple(raw.get("submission", {}).get("labels", ()))  # a multiclass target_mean's classes by default
    recipes = {name: parse_recipe(name, spec, raw["id"], single, task, labels) for name, spec in raw["recipes"].items()}
    for name, spec in recipes.items():
        read = [t for t in targets or () if t in spec.input_columns()]
        if read:
            raise SchemaError(f"recipe {name} reads the target {read[0]} as an input; a recipe reads no target")
    for place, table in (("recipe", raw), ("[run] recipe", raw.get("run", {}))):
        if table.get("recipe", next(iter(recipes))) not in recipes:
            raise SchemaError(f"{place} {show(table['recipe'])} is none of the [recipes]: {', '.join(recipes)}")
    for name in raw.get("run", {}).get("blend", ()):
        if name not in recipes:
            raise SchemaError(f"[run] blend names {show(name)}, none of the [recipes]: {', '.join(recipes)}")
    task = "multilabel" if targets else raw.get("task", "binary")
    if task == "multilabel" and not targets:
        raise SchemaError('task = "multilabel" needs target to list its two or more target columns')
    metric = raw.get("metric") or default_metric(task)
    if metric not in metrics_for(task):
        raise SchemaError(f"metric {metric} does not score a {task} task; use one of {', '.join(metrics_for(task))}")
    _check_target_mean(recipes, task, raw)
    validation = raw.get("validation", {})
    if "group_pattern" in validation and "group" not in validation:
        raise SchemaError("[validation] group_pattern needs group, the column it reads")
    if "group" in validation and "time" in validation:
        raise SchemaError("[validation] names both group and time; a split keeps one of them, so keep one")
    if validation.get("group_duplicates") and ("group" in validation or "time" in validation):
        other = "group" if "group" in validation else "time"
        raise SchemaError(
            f"[validation] names both group_duplicates and {other}; a split keeps one of them, so keep one"
        )
    if "time" not in validation and ("block" in validation or "gap" in validation):
        key = "block" if "block" in validation else "gap"
        raise SchemaError(f"[validation] {key} sizes the time split's folds and needs time = COLUMN beside it")
    sub = raw.get("submission", {})
    if task in ("regression", "multilabel") and "labels" in sub:
        raise SchemaError(f"[submission] labels are for one class column; a {task} task has none")
    if task == "binary" and len(sub.get("labels", ())) not in (0, 2):
        raise SchemaError("[submission] labels of a binary task are two: [negative, positive]")
    files = dict(raw["files"])
    extra = tuple(files.pop("extra", ()))
    if "extra" in raw and not extra:
        raise SchemaError("[extra] says how the extra files write their target, and [files] names no extra file")
    renamed = raw.get("extra", {}).get("columns", {})
    if twice := sorted({n for n in renamed.values() if list(renamed.values()).count(n) > 1}):
        raise SchemaError(f"[extra] columns names {twice[0]} for more than one column; each of train's once")
    return Competition(
        slug=raw["slug"],
        title=raw.get("title", raw["slug"]),
        id=raw["id"],
        target=tuple(targets) if targets else raw["target"],
        metric=metric,
        files=files,
        columns=tuple(sub.get("columns", (raw["id"], *(targets or [raw["target"]])))),
        labels=tuple(sub.get("labels", ())),
        recipes=recipes,
        default_recipe=raw.get("recipe", next(iter(recipes))),
        source=path,
        run=dict(raw.get("run", {})),
        training=dict(raw.get("training", {})),
        task=task,
        validation=dict(validation),
        extra=extra,
        extra_labels=dict(raw.get("extra", {}).get("labels", {})),
        extra_columns=dict(renamed),
        extra_dataset=raw.get("extra", {}).get("dataset", ""),
        row_ids=raw.get("row_ids"),
        data_dir=raw.get("data_dir", ""),
        unlabelled=raw.get("unlabelled", "refuse"),
    )


# ---- the data files -------------------------------------------------------------------------


def default_data_dir(comp: Competition) -> Path:
    """The definition's data_dir, else data/<slug>/, locally; the mounted /kaggle/input/<slug>/ inside a Kaggle
    notebook (kit.paths), or with extra files a folder linking them beside the competition's
    (kit.fetch.kaggle_data_dir)."""
    from kit.paths import data_dir, in_kaggle_notebook

    if in_kaggle_notebook():
        if comp.extra:
            from kit.fetch import kaggle_data_dir

            return kaggle_data_dir(comp)
        return data_dir(comp.slug)
    return Path(comp.data_dir).expanduser() if comp.data_dir else data_dir(comp.slug)


def data_file(comp: Competition, data_dir: Path, role: str) -> Path:
    """Path of one of the competition's files, with a clear error when it is missing."""
    data_dir = Path(data_dir)
    if data_dir.is_file():  # a trial's --data-dir playground-series-s4e2.zip was said not to exist
        raise KitError(f"{data_dir} is a file, not a data folder", fix="extract_to_folder")
    if not data_dir.is_dir():
        raise KitError(f"data folder {data_dir} does not exist", fix="fetch_or_data_dir", slug=comp.slug)
    path = data_dir / comp.files[role]
    if not path.is_file():
        if packed := compressed(data_dir, path.name):
            raise KitError(f"{path} is missing, but {packed[0]} is there, compressed", fix="extract", folder=data_dir)
        raise KitError(f"{path} is missing", fix="refetch_or_data_dir", slug=comp.slug)
    return path


ARCHIVES = (".zip", ".gz", ".bz2", ".xz", ".7z", ".tar")


def compressed(folder: Path, name: str = "") -> list[str]:
    """Archives in folder, sorted: those of the file `name` (name.zip, name.gz, ...), or with no name every one.
    A hand download of a competition is a zip of its CSVs, and Playground files come as train.csv.zip."""
    found = sorted(p.name for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in ARCHIVES)
    return [n for n in found if n.lower().startswith(name.lower() + ".")] if name else found


def read_csv(path: Path, required: list[str], id_column: str, usecols=None, made=()):
    """Read a CSV into a DataFrame, ids as strings, with one clear error for any problem.

    The whole file is parsed as one piece (low_memory=False): each column's type is inferred from all
    its values, and pandas keeps no per-chunk copies to concatenate; the parser's freed buffers are
    then handed back to the system (`release_freed_memory`): a 300,000-row file then holds about 40 %
    less memory. pandas parsed files of fewer than about 2**20 / columns rows (a few tens of thousands)
    in one piece before too.
    The header is read first: a column the file lacks is said before the rows are read (8.7 s and 1.4 GB of a
    trial's 580 MB train.csv). made: the columns the recipe makes, named where a missing one is close to them.
    """
    import pandas as pd

    try:
        header = pd.read_csv(path, nrows=0, usecols=usecols)
    except Exception:  # the whole read below says what is wrong with the file
        header = None
    if header is not None:
        refuse_other_separator(header, path)
        _refuse_missing_columns(path, required, header.columns, made)

    try:
        frame = pd.read_csv(path, dtype={id_column: str}, keep_default_na=True, usecols=usecols, low_memory=False)
    except pd.errors.EmptyDataError:
        raise KitError(f"{path} is empty", fix="download_again" if _fetched(path) else "fix_the_file") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as e:
        reason = str(e).strip().splitlines()[0]
        raise KitError(
            f"{path} is not a readable CSV ({reason})", fix="download_again" if _fetched(path) else "fix_the_file"
        ) from None
    refuse_other_separator(frame, path)
    _refuse_missing_columns(path, required, frame.columns, made)
    if frame.empty:
        raise KitError(f"{path} has a header but no rows", fix="download_again" if _fetched(path) else "fix_the_file")
    if usecols is None:
        refuse_short_rows(frame, path)
    release_freed_memory()
    return frame


def _refuse_missing_columns(path: Path, required: list[str], columns, made=()) -> None:
    """KitError naming each required column the file lacks, with the near miss the file has or the recipe makes."""
    missing = [c for c in required if c not in columns]
    if missing:
        told = ", ".join(c + (_the_file_has(c, columns) or _the_recipe_makes(c, made)) for c in missing)
        raise KitError(f"{path} lacks the column(s) {told}", fix="check_columns")


def _the_recipe_makes(name: str, made) -> str:
    """` (the recipe makes NMiss)` for a column read from the file that is a near miss of one a step makes: a name
    misspelt in `numeric` is read as the file's, so the file is said to lack it."""
    import difflib

    close = difflib.get_close_matches(name, [str(c) for c in made], n=1, cutoff=0.75)
    return f" (the recipe makes {close[0]})" if close else ""


def refuse_other_separator(frame, path: Path) -> None:
    """A file read as one column whose name holds a semicolon, a tab or a bar is a CSV saved with that separator
    (a spreadsheet's export in many locales): said as such, where a missing column would puzzle."""
    if len(frame.columns) == 1 and (sep := next((s for s in ";\t|" if s in str(frame.columns[0])), None)):
        shown = {"\t": "tabs"}.get(sep, repr(sep))
        raise KitError(f"{path} separates its columns with {shown}, and kit reads comma-separated files as Kaggle "
                       "serves them", fix="save_with_commas")  # fmt: skip


def _fetched(path: Path) -> bool:
    """Whether kit fetched the file (its manifest is beside it): a broken one is then downloaded again, where one
    the user put there is fixed."""
    return (Path(path).parent / "kit-manifest.json").is_file()


def _the_file_has(name: str, columns) -> str:
    """What a message adds for a near miss of a column name (case, a space, a typo): `(the file has Soil Type)`
    after a space, else nothing. Another case alone first, then other punctuation: "ID" and id, or X_2 and x2, are
    too short for difflib to call close."""
    import difflib
    import re

    names = [str(c) for c in columns]
    by_case = {c.lower(): c for c in names}
    squeezed = {re.sub(r"[^0-9a-z]", "", c.lower()): c for c in names}  # x_2 for x2, "Whole weight" for Whole_weight
    close = (
        [by_case[name.lower()]]
        if name.lower() in by_case
        else [squeezed[key]]
        if (key := re.sub(r"[^0-9a-z]", "", name.lower())) in squeezed and key
        else difflib.get_close_matches(name, names, n=1, cutoff=0.75)
    )
    return f" (the file has {close[0]})" if close else ""


def refuse_short_rows(frame, path: Path) -> None:
    """KitError naming the first row with fewer fields than the header (a file cut off mid-line), if any.

    pandas fills a short row's missing fields with NaN, so a short row has its last column missing: only when
    some row does is the file itself counted (`_field_counts`), once, in blocks of bytes. A count that does not
    give one record per parsed row means the file is quoted in a way the count does not follow; pandas' reading
    then stands.
    """
    if not frame.iloc[:, -1].isna().any():
        return
    fields, lines = _field_counts(path)
    if len(fields) != len(frame) + 1:
        return
    short = (fields[1:] < fields[0]).nonzero()[0]
    if len(short):
        row = int(short[0])
        cut = ": the file looks cut off" if row == len(frame) - 1 else ""  # the last row: a download cut short
        raise KitError(
            f"{path} line {lines[row + 1]} has {fields[row + 1]} fields where the header has {fields[0]}{cut}",
            fix="download_again" if _fetched(path) else "fix_the_file",
        )


def _field_counts(path: Path, block: int = 1 << 22):
    """(fields, lines): per record of a CSV, header first, blank lines left out as pandas leaves them, the
    number of fields (commas outside quotes + 1) and the line of the file the record ends on; both (n_records,).

    A comma or newline is inside quotes when an odd number of quotes come before it (a doubled quote inside a
    quoted field counts twice), so the file is read in blocks of `block` bytes with numpy, never row by row.
    """
    import numpy as np

    fields, lines, filled = [], [], []  # one array per block
    quoted, commas, content, line = 0, 0, False, 1  # carried from block to block: the record still open
    with open(path, "rb") as f:
        while chunk := f.read(block):
            buf = np.frombuffer(chunk, dtype=np.uint8)  # (n,)
            quotes = (buf == ord('"')).nonzero()[0]
            newlines, comma = (buf == ord("\n")).nonzero()[0], (buf == ord(",")).nonzero()[0]
            ends_at = (np.searchsorted(quotes, newlines) + quoted) % 2 == 0  # after an even number of quotes
            ends = newlines[ends_at]  # (k,) where records end
            comma = comma[(np.searchsorted(quotes, comma) + quoted) % 2 == 0]  # the commas that part fields
            before = np.searchsorted(comma, ends)  # (k,) commas before each end
            n_fields = np.diff(before, prepend=0) + 1
            has_text = np.zeros(len(ends), dtype=bool)  # (k,) not a blank line: a byte above spaces, tabs, \r
            if len(ends):  # the first record began in an earlier block
                starts = np.concatenate(([0], ends[:-1] + 1))
                has_text = np.maximum.reduceat(buf[: ends[-1] + 1], starts) > ord(" ")
                n_fields[0] += commas
                has_text[0] |= content
                commas, content = 0, False
            fields.append(n_fields)
            filled.append(has_text)
            lines.append(ends_at.nonzero()[0] + line)
            tail = ends[-1] + 1 if len(ends) else 0
            commas += len(comma) - (int(before[-1]) if len(ends) else 0)
            content |= bool(len(buf) > tail and buf[tail:].max() > ord(" "))
            line += len(newlines)
            quoted = (quoted + len(quotes)) % 2
    if content:  # the last record, with no newline after it
        fields.append(np.array([commas + 1]))
        filled.append(np.array([True]))
        lines.append(np.array([line]))
    if not fields:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    keep = np.concatenate(filled)
    return np.concatenate(fields)[keep], np.concatenate(lines)[keep]


def release_freed_memory() -> None:
    """Hand memory the process has freed back to the system (glibc's malloc_trim; elsewhere nothing).

    glibc keeps freed small blocks for reuse, but large arrays are mapped afresh, so after a parse
    or a fold's recipe the freed blocks would count in the peak memory for the rest of the run.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        ctypes.CDLL(name).malloc_trim(0)
    except (OSError, AttributeError, TypeError):  # not glibc (macOS, Windows, musl): nothing to do
        pass


def read_train_test(comp: Competition, data_dir: Path, recipe: RecipeSpec, noted: bool = True):
    """The training and test frames, checked for the columns the recipe and the submission need.

    inf and -inf (a cell such as `inf` or `1e400`) in a column the recipe reads stop the run, unless
    the recipe says `infinite = "missing"`: then they are read as missing values, which its fill
    steps must fill. In the target they always stop it.
    """
    inputs = recipe.input_columns()
    train_path, test_path = data_file(comp, data_dir, "train"), data_file(comp, data_dir, "test")
    ids = [] if comp.row_ids is not None else [comp.id]  # numbered by with_row_ids instead
    made = recipe.produced()  # a misspelt name of a column a step makes is said to be near it
    train = with_row_ids(comp, read_csv(train_path, [*ids, *comp.targets, *inputs], comp.id, made=made), train_path)
    test = with_row_ids(comp, read_csv(test_path, [*ids, *inputs], comp.id, made=made), test_path)
    for name, frame in (("train", train), ("test", test)):
        if frame[comp.id].isna().any() or frame[comp.id].duplicated().any():
            raise KitError(f"{comp.files[name]} has missing or repeated {comp.id} values; check the file.")
    if comp.unlabelled == "skip":
        train = _labelled(comp, train, noted)
    refuse_infinite(train, train_path, list(comp.targets), comp.id)
    if recipe.infinite == "missing":
        train, test = _infinite_as_missing(train, inputs), _infinite_as_missing(test, inputs)
    for frame, path in ((train, train_path), (test, test_path)):
        refuse_infinite(frame, path, inputs, comp.id, 'or add infinite = "missing" to the recipe to read them as gaps')
    return with_extra_rows(comp, data_dir, recipe, train), test


def _labelled(comp: Competition, train, noted: bool = True):
    """The training rows whose target is not empty (unlabelled = "skip"), each keeping its index (its file line);
    says on stderr how many were left out, unless `noted` is False (the same file read again for a second recipe)."""
    import numpy as np

    from kit.values import map_distinct  # pandas and numpy: not for every command's start

    empty = np.zeros(len(train), dtype=bool)
    for column in comp.targets:
        empty |= map_distinct(train[column], label).isna().to_numpy()
    if empty.all():
        raise KitError(
            f"{comp.files['train']} has no row with a value for {' or '.join(comp.targets)}; check the file."
        )
    if empty.any() and noted:
        target = " or ".join(comp.targets)
        print(
            f"kit: note: {int(empty.sum()):,} of {len(train):,} rows of {comp.files['train']} have no {target}: left "
            'out of training, as the definition\'s unlabelled = "skip" says.',
            file=sys.stderr,
        )
    return train[~empty]


def with_row_ids(comp: Competition, frame, path: Path):
    """`frame` with its id column made of the row numbers, as text (comp.row_ids, comp.row_ids + 1, ...), when the
    definition says the files have none ([row_ids]); else `frame` itself."""
    import warnings

    import numpy as np
    import pandas as pd

    if comp.row_ids is None:
        return frame
    if comp.id in frame.columns:  # two sources of ids: which one Kaggle scores by is not for kit to guess
        raise KitError(
            f"{path} has a column {comp.id}, and row_ids says its rows are numbered instead; drop row_ids from "
            "the definition to use the column."
        )
    with warnings.catch_warnings():  # a frame of many columns: see kit.recipe._run_steps
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        frame.insert(0, comp.id, np.arange(comp.row_ids, comp.row_ids + len(frame)).astype(str).astype(object))
    return frame


def test_ids(comp: Competition, data_dir: Path) -> list[str]:
    """The test file's ids as text: its id column, or, numbered by row ([row_ids]), its row numbers."""
    path = data_file(comp, data_dir, "test")
    if comp.row_ids is None:
        return read_csv(path, [comp.id], comp.id)[comp.id].tolist()
    first = read_csv(path, [], comp.id, usecols=[0])  # the rows are counted, one column is enough
    return with_row_ids(comp, first, path)[comp.id].tolist()


# Ids of the extra files' rows: extra:<file>:<line>. No competition row may have one (read_train_test refuses it),
# so the rows are told apart by id, and count/target_mean, which tell fit rows by id, see them as rows of their own.
EXTRA_ID = "extra:"


def with_extra_rows(comp: Competition, data_dir: Path, recipe: RecipeSpec, train):
    """The training frame with the rows of [files] extra after the competition's own, each file in turn: the
    recipe's input columns and the target (named as train names them by [extra] columns, the target's values mapped
    by [extra] labels), ids extra:<file>:<line>, other columns missing. Without extra files, `train` itself."""
    import pandas as pd

    if not comp.extra:
        return train
    if train[comp.id].str.startswith(EXTRA_ID).any():
        first = train[comp.id][train[comp.id].str.startswith(EXTRA_ID)].iloc[0]
        raise KitError(
            f"{comp.files['train']} has the {comp.id} {first}, written as kit writes the extra files' ids; "
            "rename it or drop [files] extra."
        )
    inputs = recipe.input_columns()
    frames = [train]
    for name in comp.extra:
        path = Path(data_dir) / name
        if not path.is_file() and comp.extra_dataset:  # the dataset [extra] dataset names holds it
            raise KitError(f"{path}, an extra file of [files] extra, is missing", fix="fetch", slug=comp.slug)
        if not path.is_file():
            raise KitError(f"{path}, an extra file of [files] extra, is missing; add it or drop it from the list.")
        extra = _extra_columns(comp, read_csv(path, [], comp.id), [*comp.targets, *inputs], path)
        extra[comp.id] = _extra_ids(name, len(extra))  # its own ids, if it has any, may be the competition's
        refuse_infinite(extra, path, list(comp.targets), comp.id)
        if recipe.infinite == "missing":
            extra = _infinite_as_missing(extra, inputs)
        refuse_infinite(extra, path, inputs, comp.id, 'or add infinite = "missing" to the recipe to read them as gaps')
        rows = extra[[comp.id, *dict.fromkeys(inputs)]].copy()
        for column in comp.targets:
            rows[column] = _extra_targets(comp, train, extra, column, path)
        frames.append(rows)
    return pd.concat(frames, ignore_index=True)


def _extra_columns(comp: Competition, extra, required: list[str], path: Path):
    """An extra file's frame with its columns named as train names them ([extra] columns); KitError naming the first
    column the file lacks, or a column it would hold twice."""
    renamed = {theirs: ours for theirs, ours in comp.extra_columns.items() if theirs in extra.columns}
    if clash := [ours for ours in renamed.values() if ours in extra.columns and ours not in renamed]:
        raise KitError(
            f"[extra] columns renames a column of {path} to {clash[0]}, which the file already holds; "
            "rename only one of them."
        )
    extra = extra.rename(columns=renamed)
    missing = [c for c in dict.fromkeys(required) if c not in extra.columns]
    if missing:
        told = ", ".join(c + _the_file_has(c, extra.columns) for c in missing)
        near = {c: _the_file_has(c, extra.columns)[len(" (the file has ") : -1] for c in missing}
        ours = next((c for c in missing if near[c]), missing[0])  # the example: a near miss if there is one
        raise KitError(
            f"{path}, an extra file, lacks the column(s) {told}; where it writes one under another name, map that "
            f'name to train\'s in [extra] columns, such as {{ {toml_key(near[ours] or "THEIR_NAME")} = "{ours}" }}, '
            "else add it to the file or leave the column out of the recipe."
        )
    return extra


def _extra_ids(name: str, n: int) -> list[str]:
    """The ids of an extra file's n rows, by their line in the file (the header is line 1)."""
    return [f"{EXTRA_ID}{name}:{line}" for line in range(2, n + 2)]


def _extra_targets(comp: Competition, train, extra, column: str, path: Path):
    """An extra file's target column as train.csv writes it: mapped by [extra] labels, and each value one that
    train's column holds (classes) or a number (regression); KitError at the first one that is not."""
    import pandas as pd

    values = extra[column].map(label, na_action="ignore")
    if comp.extra_labels:
        mapped = values.map(comp.extra_labels)
        unmapped = (values.notna() & mapped.isna()).to_numpy().nonzero()[0]
        if len(unmapped):
            row = int(unmapped[0])
            raise KitError(
                f"{path} column {column} holds {values.iloc[row]!r} (line {row + 2} of the file), which [extra] "
                f"labels does not map; add it there ({', '.join(sorted(comp.extra_labels))} are mapped)."
            )
        values = mapped
    empty = values.isna().to_numpy().nonzero()[0]
    if len(empty):
        raise KitError(
            f"{path} column {column} is empty at line {int(empty[0]) + 2} of the file; every training row needs "
            "a target, so fill it or drop the row."
        )
    if comp.task == "regression":
        numbers = pd.to_numeric(values, errors="coerce")
        bad = numbers.isna().to_numpy().nonzero()[0]
        if len(bad):
            raise KitError(
                f"{path} column {column} holds {values.iloc[int(bad[0])]!r} (line {int(bad[0]) + 2} of the file), "
                "not a number; fix the file or map it in [extra] labels."
            )
        return numbers.to_numpy()
    # classes: each extra value as the training file's own value of the same text, so the columns join alike
    known = {label(v): v for v in train[column].dropna()}
    unknown = (~values.isin(list(known))).to_numpy().nonzero()[0]
    if len(unknown):
        row = int(unknown[0])
        shown = ", ".join(sorted(known))
        raise KitError(
            f"{path} column {column} holds {values.iloc[row]!r} (line {row + 2} of the file), which "
            f"{comp.files['train']} never holds ({shown}); map it to one of them in [extra] labels."
        )
    return values.map(known).to_numpy()


def extra_rows(comp: Competition, train) -> int:
    """How many rows at the end of `train` come from the extra files (with_extra_rows): trained on, never validated."""
    if not comp.extra:
        return 0
    return int(train[comp.id].str.startswith(EXTRA_ID).sum())


def _infinite_cells(frame, columns: list[str]):
    """(n_rows, n_columns) bool array: True where a cell reads as the number inf or -inf.

    A column of numbers is checked as it is; a column of text is read as numbers once per distinct
    value (kit.values.distinct), not once per cell, and each row takes its value's answer.
    """
    import numpy as np
    import pandas as pd

    from kit.values import distinct

    def infinite(column) -> np.ndarray:  # (n,) bool
        return np.isinf(pd.to_numeric(column, errors="coerce").astype("float64").to_numpy())

    # columns first, so that each column's answer is one contiguous write (strided, they took 4.4 s of a 42,000-row,
    # 784-column file's 10.9 s check on a loaded 2-core machine)
    cells = np.zeros((len(columns), len(frame)), dtype=bool).T  # (n_rows, n_columns)
    for j, col in enumerate(columns):
        column = frame[col]
        if pd.api.types.is_integer_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue  # whole numbers hold no inf: nothing to read (the pixels of an image, 784 columns)
        if pd.api.types.is_numeric_dtype(column):
            cells[:, j] = infinite(column)
        else:
            codes, first = distinct(column)  # a missing cell (code -1) reads as NaN, never inf
            cells[:, j] = np.append(infinite(column.iloc[first]), False)[codes]
    return cells


def refuse_infinite(frame, path: Path, columns: list[str], id_column: str, remedy: str = "") -> None:
    """KitError naming the file, column and first row (its id and its line in the file) of an inf or -inf."""
    cells = _infinite_cells(frame, columns)
    rows = cells.any(axis=1).nonzero()[0]
    if len(rows) == 0:
        return
    row, col = int(rows[0]), columns[int(cells[rows[0]].nonzero()[0][0])]
    raise KitError(
        f"{path} column {col} holds {str(frame[col].iloc[row])!r}, not a finite number, at {id_column} "
        f"{frame[id_column].iloc[row]} (line {row + 2} of the file); fix the file{' ' + remedy if remedy else ''}."
    )


def _infinite_as_missing(frame, columns: list[str]):
    """A copy of `frame` with every inf and -inf in `columns` made a missing value."""
    cells = _infinite_cells(frame, columns)
    out = frame.copy()
    for j, col in enumerate(columns):
        if cells[:, j].any():
            out[col] = out[col].mask(cells[:, j])
    return out


def task_of(comp: Competition, train) -> Task:
    """The competition's Task; class labels from [submission] labels, else the training target's values, sorted."""
    labels = comp.labels
    if comp.task == "multilabel":  # its "labels" are the target columns
        labels = comp.targets
    elif comp.task != "regression" and not labels:
        labels = tuple(sorted({label(v) for v in train[comp.target].dropna()}))
    for name, spec in comp.recipes.items():  # [submission] labels, when given, were checked at load
        for new, t in spec.target_mean.items():
            if unknown := [c for c in t.get("classes", ()) if c not in labels]:
                raise KitError(
                    f"recipe {name}'s target_mean {new} lists the class {unknown[0]!r}, which {comp.target} never "
                    f"holds ({', '.join(labels)}); fix the definition."
                )
    nonnegative = whole = False
    if comp.task == "regression" and comp.metric in (*LOG_SPACE, *WHOLE_CUTS) and train is not None:
        import pandas as pd

        values = pd.to_numeric(train[comp.target], errors="coerce").dropna()  # a value that is no number: refused later
        nonnegative = bool((values >= 0).all())
        whole = bool((values % 1 == 0).all())
    log_target = comp.training.get("log_target")  # None: the metric's default
    return make_task(comp.task, comp.metric, labels, comp.columns, nonnegative, whole, log_target)


def read_task(comp: Competition, data_dir: Path) -> Task:
    """The Task, reading only the training file's target column (for checks that need no training: a regression's
    Task here does not know whether its models learn in logs, which no such check needs)."""
    if comp.task in ("regression", "multilabel") or comp.labels:
        return task_of(comp, None)
    path = data_file(comp, data_dir, "train")
    return task_of(comp, read_csv(path, [comp.target], comp.id, usecols=lambda c: c == comp.target))


def target_tensor(comp: Competition, task: Task, train):
    """The target column as the tensor models learn from (see Task.target), naming the first bad row.
    Multilabel: each target column checked so, then all of them as one (n, k) tensor."""
    if comp.task == "multilabel":
        columns = [_target_values(comp, task, train, column) for column in comp.targets]
        return task.target(columns, comp.files["train"], comp.targets)
    return task.target(_target_values(comp, task, train, comp.target), comp.files["train"], comp.target)


def _target_values(comp: Competition, task: Task, train, column: str) -> list[str]:
    """One target column's values as the submission would write them; KitError at the first empty or unknown one."""
    from kit.values import map_distinct  # pandas and numpy: not for every command's start

    values = map_distinct(train[column], label)  # label once per distinct value, not once per row
    missing = values.isna().to_numpy().nonzero()[0]
    if len(missing):
        raise KitError(
            f"{comp.files['train']} column {column} is empty{_at_row(comp, train, int(missing[0]))}; every "
            'training row needs a target: fill it, or add unlabelled = "skip" to the definition to train without '
            "such rows."
        )
    if task.kind == "regression" and task.metric.name == "rmsle":  # Kaggle's RMSLE refuses a negative value
        import pandas as pd

        negative = (pd.to_numeric(values, errors="coerce") < 0).to_numpy().nonzero()[0]
        if len(negative):
            row = int(negative[0])
            raise KitError(
                f"{comp.files['train']} column {column} is {values.iloc[row]}{_at_row(comp, train, row)}, below 0, "
                "which rmsle cannot score (it takes log(1 + x)); fix the file or score by rmse."
            )
    if task.kind == "regression" and task.metric.name == "mape":  # |y - pred| / |y| has no value at y = 0
        import pandas as pd

        zero = (pd.to_numeric(values, errors="coerce") == 0).to_numpy().nonzero()[0]
        if len(zero):
            row = int(zero[0])
            raise KitError(
                f"{comp.files['train']} column {column} is {values.iloc[row]}{_at_row(comp, train, row)}, which mape "
                "cannot score (it divides by the target); fix the file or score by smape or mae."
            )
    values = values.tolist()
    if task.labels and task.kind != "multilabel":
        known = set(task.labels)
        bad = next((i for i, v in enumerate(values) if v not in known), None)
        if bad is not None:
            raise KitError(
                f"{comp.files['train']} column {column} holds {values[bad]!r}{_at_row(comp, train, bad)}, not one "
                f"of {list(task.labels)}; check the file or [submission] labels."
            )
    return values


def _at_row(comp: Competition, frame, row: int) -> str:
    """The frame's row at position `row` by its id and its line, as an error names it: `at PassengerId 7 (line 8 of
    the file)`, after a space."""
    where = f" at {comp.id} {frame[comp.id].iloc[row]}" if comp.id in frame else ""
    return f"{where} (line {_line(frame, row)} of the file)"


def _line(frame, row: int) -> int:
    """The file line of the frame's row at position `row`: the header is line 1, and a frame of some of the
    file's rows (a sample of them) keeps each row's place in its index."""
    return int(frame.index[row]) + 2


def grouped(comp: Competition) -> bool:
    """Whether [validation] keeps rows together in groups: by a column (group) or by equal inputs
    (group_duplicates)."""
    return "group" in comp.validation or bool(comp.validation.get("group_duplicates"))


def row_groups(comp: Competition, train) -> list | None:
    """Each training row's group for the group split ([validation] group, through group_pattern; or with
    group_duplicates, the row of equal inputs it repeats, by its first), or None."""
    if comp.validation.get("group_duplicates"):
        return duplicate_groups(train, [c for c in train.columns if c not in (comp.id, *comp.targets)]).tolist()
    column = comp.validation.get("group")
    if column is None:
        return None
    if column not in train:
        has = _the_file_has(column, train.columns)
        raise KitError(f"{comp.files['train']} lacks the column {column} that [validation] group names{has}.")
    from kit.values import map_distinct  # pandas and numpy: not for every command's start

    values = map_distinct(train[column], label)  # label once per distinct value, not once per row
    pattern = comp.validation.get("group_pattern")
    if pattern:
        values = values.str.extract(pattern, expand=False)  # the first (group); no match is missing
    missing = values.isna().to_numpy().nonzero()[0]
    if len(missing):
        row = int(missing[0])
        raise KitError(
            f"{comp.files['train']} row {row + 2} has no group in {column}"
            + (f" matching {pattern!r}" if pattern else "")
            + "; fix the file or [validation]."
        )
    return values.tolist()


def duplicate_groups(frame, columns: list):
    """(n,) int64: each row's group, the position of the first row whose `columns` hold the same values (gaps equal
    to gaps); a row repeated nowhere is its own group."""
    import numpy as np
    import pandas as pd

    from kit.values import row_hashes

    if not columns:
        return np.arange(len(frame))
    codes = pd.factorize(row_hashes(frame, columns))[0]  # (n,) a code per distinct row, in the order first seen
    first = np.full(codes.max() + 1, -1)
    first[codes[::-1]] = np.arange(len(codes))[::-1]  # each code's first row: the last write, in reverse, wins
    return first[codes]


def row_times(comp: Competition, train):
    """Each training row's time for the time split ([validation] time): (n,) float64, numbers as they are and ISO
    dates as nanoseconds since 1970; or None when the definition names no time."""
    import numpy as np
    import pandas as pd

    from kit.values import as_dates

    column = comp.validation.get("time")
    if column is None:
        return None
    if column not in train:
        raise KitError(f"{comp.files['train']} lacks the column {column} that [validation] time names.")
    values = train[column]
    # the id column is read as text (its cells are written back as they are): a day's number as an id orders the rows
    # too (a trial's daily rainfall, `time = "id"`, was refused as no date)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        times = values.to_numpy(dtype="float64")
    elif _all_numbers(values):
        times = pd.to_numeric(values).to_numpy(dtype="float64")
    else:
        codes, when = as_dates(values, column, train[comp.id] if comp.id in train else None)
        stamps = np.asarray(when.asi8, dtype="float64")
        stamps[np.asarray(when.isna())] = np.nan
        times = stamps[codes]  # code -1 (missing) takes the last, NaT
    missing = np.flatnonzero(np.isnan(times))
    if len(missing):
        raise KitError(
            f"{comp.files['train']} row {int(missing[0]) + 2} has no time in {column}, which [validation] time "
            "orders the folds by; fill it in the file or drop [validation] time."
        )
    return times


def _all_numbers(values) -> bool:
    """Whether a column of text holds a number in every cell that is not empty (and in one at least)."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(values) or not values.notna().any():
        return False
    return int(pd.to_numeric(values, errors="coerce").notna().sum()) == int(values.notna().sum())


def target_vector(comp: Competition, train) -> list:
    """The target as a list (0.0/1.0 for binary), for code that needs no Task of its own."""
    return target_tensor(comp, task_of(comp, train), train).tolist()


def label(value) -> str:
    """A target value as it would be written in a submission: 1.0 -> "1", True -> "True"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_HASHED = {}  # (path, size, mtime) -> sha256: a run's keys and its run log hash the same inputs once


def _input_sha256(path: Path) -> str:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHED:
        _HASHED[key] = sha256_file(path)
    return _HASHED[key]


def input_hashes(comp: Competition, data_dir: Path) -> dict[str, str]:
    """sha256 of the competition files present in data_dir, the extra files among them, by file name (each file
    hashed once a process while its size and modification time stay)."""
    return {
        name: _input_sha256(Path(data_dir) / name)
        for name in sorted({*comp.files.values(), *comp.extra})
        if (Path(data_dir) / name).is_file()
    }
