"""The pipeline as a Kaggle notebook worth reading, and its kernel-metadata.json.

The notebook explains each step in markdown and carries, as readable cells, the competition's
definition and the source of exactly the kit modules the pipeline imports (written to a scratch
folder with `%%writefile`, then imported), so it runs on Kaggle with no internet and no pip install:
Kaggle's image already has torch, pandas and scikit-learn. It runs the same
`kit.pipeline.make_submission` as the local `kit submission`, so the same settings write the same bytes.
"""

from __future__ import annotations

import ast
import json
import pprint
import re
import textwrap
from dataclasses import asdict, dataclass
from pathlib import Path

from kit import KitError
from kit.competition import PACKAGE_ROOT, Competition
from kit.submission import write_atomic

OOF_NAME = "oof.csv"  # `kit notebook --oof`: the out-of-fold predictions, beside submission.csv
TITLE_LIMIT = 50  # Kaggle refuses a notebook title longer than this
HIDE_OVER = 30  # code cells longer than this many lines start collapsed
# Modules the pipeline reaches only through code a notebook never runs (the Kaggle API, the command
# line, the local ledgers); their imports are not followed.
LOCAL_ONLY = frozenset(
    {"kit.cli", "kit.commands", "kit.doctor", "kit.fetch", "kit.kaggle_client", "kit.ledger", "kit.notebook"}
    | {"kit.report", "kit.submit", "kit.__main__"}
)


@dataclass(frozen=True)
class Step:
    """One section of the notebook: what it explains, the modules it shows, and a cell that shows the result."""

    title: str
    text: str  # markdown; {slug}, {recipe}, {recipe_toml}, {metric}, {training}, {ensemble}, {final}, {predictions}
    modules: tuple[str, ...]  # shown here when the pipeline needs them
    demo: str = ""  # a code cell run after the modules, showing what the step makes
    demo_imports: tuple[str, ...] = ()  # the modules `demo` imports: written here at the latest


SETUP = """\
# kit's modules are written into a scratch folder below and imported from there, so that
# /kaggle/working (which Kaggle keeps as the notebook's output) holds only what the run writes.
import json
import sys
import tempfile
from pathlib import Path

WORKING = Path.cwd()  # /kaggle/working on Kaggle
DATA_DIR = WORKING.parent / "input" / CONFIG["competition"]  # the competition's files, mounted read-only
OUT = WORKING / "submission.csv"  # what Kaggle scores
SRC = Path(tempfile.mkdtemp(prefix="kit-src-"))
(SRC / "kit").mkdir()
(SRC / "competitions").mkdir()
sys.path.insert(0, str(SRC))
"""

# Only for a competition with extra training files ([files] extra): they come from the dataset that
# [extra] dataset names, which the notebook attaches, so Kaggle mounts it beside the competition's files.
EXTRA_SETUP = """\
# The extra training files come from the dataset this notebook attaches, mounted beside the competition's
# files; kit reads every file from one folder, so a scratch folder links them all there.
INPUT = DATA_DIR.parent
linked = Path(tempfile.mkdtemp(prefix="kit-data-"))
for path in sorted(DATA_DIR.iterdir()):
    (linked / path.name).symlink_to(path)
for name in CONFIG["extra"]["files"]:
    mounted = INPUT / CONFIG["extra"]["dataset"].split("/")[1] / name  # where Kaggle mounts a dataset
    found = [mounted] if mounted.is_file() else sorted(p for p in INPUT.rglob("*") if p.name == name and p.is_file())
    if len(found) != 1:  # none, or several that kit cannot choose between (as kit fetch refuses them too)
        raise FileNotFoundError(f"no single {name} under {INPUT}: add the dataset {CONFIG['extra']['dataset']} as input")
    (linked / name).symlink_to(found[0])
DATA_DIR = linked
"""

DATA_DEMO = """\
from kit.competition import load_competition, read_train_test

comp = load_competition(CONFIG["competition"])
spec = comp.recipe(CONFIG["recipe"])
train, test = read_train_test(comp, DATA_DIR, spec)
print(f"train: {train.shape[0]} rows, test: {test.shape[0]} rows")
train.head()
"""

RECIPE_DEMO = """\
import pandas as pd

from kit.recipe import apply_recipe, feature_names, fit_recipe

# For a look only: fit on all training rows. Cross-validation below refits it on each training fold.
state = fit_recipe(spec, train)
features = apply_recipe(spec, state, train)  # (n_train, n_features) float32
pd.DataFrame(features[:5].numpy(), columns=feature_names(state))
"""

RUN = """\
from kit.pipeline import format_cv, make_submission
from kit.train import Training
from kit.validation import Plan

# The same plan the local run resolved: models, split, seeds and training settings
plan = Plan(**{**CONFIG["plan"], "training": Training(**CONFIG["plan"]["training"])})
oof = WORKING / CONFIG["oof"] if "oof" in CONFIG else None  # the out-of-fold predictions too, when asked
result = make_submission(comp, spec, plan, DATA_DIR, OUT, oof=oof)
print(format_cv(comp, spec, plan, result))
"""

PLOTS = """\
from IPython.display import Image, display

for picture in (OUT.with_suffix(".loss.png"), OUT.with_suffix(".cv.png")):
    display(Image(filename=str(picture)))
"""

SHOW = """\
print(OUT.read_text()[:200])
print(f"{len(OUT.read_text().splitlines()) - 1} rows written to {OUT}")
"""

STEPS = (
    Step(
        "1. The competition and its data",
        "A competition is a declarative file, `competitions/{slug}.toml`: where its files are, the id and "
        "target columns, the form of a submission, and the feature recipes, as data. "
        "`kit/competition.py` loads it into frozen dataclasses and reads the CSVs, checking the columns the "
        "recipe and the submission need; nothing in kit knows a competition by name. Kaggle mounts the "
        "competition's files read-only under `/kaggle/input/{slug}/`.",
        ("kit", "kit.recipe_spec", "kit.competition"),
        DATA_DEMO,
        ("kit.competition",),
    ),
    Step(
        "2. The recipe: features learned on training rows only",
        "Every step of a recipe is *fit* on training rows (fill values, category levels, group rates, scales, "
        "kept as plain data) and then *applied* unchanged to validation rows and the test set, so every frame "
        "gets exactly the training columns and no row's own label leaks into its features. "
        "This run uses the `{recipe}` recipe of the definition above:\n\n```toml\n{recipe_toml}\n```",
        ("kit.values", "kit.groups", "kit.recipe"),
        RECIPE_DEMO,
        ("kit.recipe",),
    ),
    Step(
        "3. The models, from scratch",
        "The models of fast.ai's lesson 5 as pairs of pure functions, `init(n_in, gen) -> params` and "
        "`predict(params, x) -> outputs`: a linear model, a net with one hidden layer, and a deeper one, each with "
        "as many outputs as the task needs. Raw tensors only: no `torch.nn` layers.",
        ("kit.models",),
    ),
    Step(
        "4. Training",
        "{training}: autograd computes the gradient, and one visible step updates the parameters under "
        "`torch.no_grad()` (no `torch.optim`). Every fold and seed of a model trains at once, its parameters "
        "stacked on leading axes.",
        ("kit.train", "kit.batched"),
    ),
    Step(
        "5. Cross-validation and the ensemble",
        "The recipe is refit on each training fold, each model trains there (several seeds, averaged) and "
        "predicts the held-out fold. The ensemble {ensemble}, scored fold by "
        "fold like the models ({metric}). {final}",
        ("kit.folds", "kit.validation"),
    ),
    Step(
        "6. The submission",
        "The ensemble's test predictions become {predictions}, as {metric} needs. The file is checked before it "
        "is written (the header, every test id exactly once, cells that {metric} can score) with a JSON sidecar "
        "holding the configuration, the recipe's learned values and the CV scores, plus two plots.",
        ("kit.submission", "kit.plots", "kit.progress", "kit.pipeline"),
    ),
)
RUN_IMPORTS = ("kit.pipeline", "kit.validation")


def training_words(comp: Competition, plan) -> str:
    """How the plan's first model trains, in words: "Adam on mini-batches of 1024 rows, on the log loss"."""
    from kit.train import TASK_LOSS

    s = plan.training.settings(plan.models[0])
    optimizer = {"sgd": "Plain gradient descent", "momentum": "Gradient descent with momentum", "adam": "Adam"}
    batches = "full batch" if s.batch_size == 0 else f"mini-batches of up to {s.batch_size} rows"
    if s.batch_size and s.epoch_steps:  # kit.train.batch_rows: they grow on large data
        batches = f"mini-batches of {s.batch_size} rows (more on large data: at most {s.epoch_steps} steps an epoch)"
    if s.batch_size and s.average:  # kit.optim.start_average: what the mini-batches' model is
        batches += f", the weights averaged over about {s.average:g} epoch{'s' if s.average != 1 else ''} of steps"
    epochs = f"{s.epochs} epochs"
    if plan.choose_epochs:
        patience = f", stopping {plan.patience} epochs after the last improvement" if plan.patience else ""
        epochs = f"up to {s.epochs} epochs, as many as CV finds best{patience}"
    loss = "mean absolute error" if s.loss == "mae" else TASK_LOSS[comp.task].__name__.removesuffix("_rows")
    loss = f"{loss}, each class's rows weighed alike" if s.loss == "balanced" else loss
    return f"{optimizer[s.optimizer]}, {batches}, {epochs}, on the {loss.replace('_', ' ')}"


def final_words(plan) -> str:
    """Which models predict the test set, in words."""
    if plan.refit:
        return "Then every model is trained on all training rows to predict the test set."
    return "The fold models predict the test set, their predictions averaged: nothing trains after the CV."


def ensemble_words(plan) -> str:
    """How the ensemble combines the models, in words."""
    if plan.ensemble == "select" and len(plan.models) > 1 and plan.split == "random" and plan.repeats == 1:
        return "weighs the models' predictions by CV (each half of the fold's rows by weights chosen on the other)"
    if plan.ensemble == "select" and len(plan.models) > 1:
        return "weighs the models' predictions by CV (each fold's weights chosen on the other folds)"
    return "is the mean of the models' predictions"


def prediction_words(comp: Competition) -> str:
    """What a submission row holds, in words, from the form of prediction the metric needs."""
    from kit.task import METRICS, RANKED

    submits = METRICS[comp.metric].submits
    if comp.task == "multilabel":
        return "one probability per target column, each in [0, 1] on its own (a row need not sum to 1)"
    if submits == "probability" and len(comp.columns) > 2:
        return "one probability per class, each row summing to 1"
    if submits == "ranked":
        return f"the {RANKED} most probable labels, best first, separated by spaces"
    return {"label": "the competition's labels", "probability": "probabilities", "value": "values"}[submits]


def module_file(name: str) -> Path:
    """kit/__init__.py for `kit`, kit/models.py for `kit.models`."""
    parts = name.split(".")
    if len(parts) == 1:
        return PACKAGE_ROOT / name / "__init__.py"
    return PACKAGE_ROOT.joinpath(*parts[:-1], f"{parts[-1]}.py")


def _kit_imports(name: str) -> set[str]:
    """The kit modules a module imports, at its top or inside functions."""
    found = {"kit"}  # a submodule's import runs the package's __init__ first
    for node in ast.walk(ast.parse(module_file(name).read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "kit"}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "kit":
            found.add(node.module)
            if node.module == "kit":  # `from kit import ledger` names a module; `from kit import KitError` does not
                found |= {f"kit.{a.name}" for a in node.names if module_file(f"kit.{a.name}").is_file()}
    return found


def needed_modules(roots) -> set[str]:
    """Every kit module that importing `roots` and running the pipeline needs, found by reading the source."""
    needed, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name not in needed and name not in LOCAL_ONLY:
            needed.add(name)
            todo += sorted(_kit_imports(name))
    return needed


def recipe_toml(comp: Competition, recipe: str) -> str:
    """The `[recipes.<recipe>]` table of the definition, as written there, with the comments just above it."""
    lines = comp.source.read_text().splitlines()
    start = end = lines.index(f"[recipes.{recipe}]")
    while start > 0 and lines[start - 1].startswith("#"):
        start -= 1
    while end + 1 < len(lines) and not lines[end + 1].startswith("["):
        end += 1
    while lines[end].startswith("#") or not lines[end].strip():  # those belong to the next table
        end -= 1
    return "\n".join(lines[start : end + 1])


def kernel_title(comp: Competition) -> str:
    """The notebook's title on Kaggle: the competition's title and what the notebook is, within Kaggle's limit."""
    for title in (f"{comp.title}: from-scratch models", f"{comp.title} with kit", f"{comp.slug} with kit"):
        if len(title) <= TITLE_LIMIT:
            return title
    return comp.slug[:TITLE_LIMIT]


def slugify(title: str) -> str:
    """The slug Kaggle (and its client, which warns on a mismatch) derives from an ASCII title."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower().replace("'", "")).strip("-")


def _markdown(text: str):
    """A markdown cell, its prose paragraphs wrapped (code blocks kept as they are)."""
    from nbformat.v4 import new_markdown_cell

    paragraphs, in_code = [], False
    for paragraph in text.split("\n\n"):
        prose = not in_code and not paragraph.startswith(("```", "#"))
        paragraphs.append(textwrap.fill(paragraph, 100, break_on_hyphens=False) if prose else paragraph)
        in_code ^= paragraph.count("```") % 2 == 1  # a blank line inside a fenced block
    return new_markdown_cell("\n\n".join(paragraphs))


def _code(source: str, writes_file: bool = False):
    from nbformat.v4 import new_code_cell

    metadata = {}
    if source.count("\n") > HIDE_OVER:  # collapsed in Kaggle's viewer (_kg_) and in Jupyter
        metadata |= {"_kg_hide-input": True, "jupyter": {"source_hidden": True}}
    if writes_file:  # its only output is "Writing ..."
        metadata["_kg_hide-output"] = True
        metadata.setdefault("jupyter", {})["outputs_hidden"] = True
    return new_code_cell(source, metadata=metadata)


def _write_cell(path: str, text: str):
    return _code(f"%%writefile {{SRC}}/{path}\n{text}", writes_file=True)


def _module_cells(name: str) -> list:
    path = module_file(name).relative_to(PACKAGE_ROOT).as_posix()
    doc = ast.get_docstring(ast.parse(module_file(name).read_text())) or ""
    summary = " ".join(doc.split("\n\n")[0].split())
    return [_markdown(f"`{path}`: {summary}"), _write_cell(path, module_file(name).read_text())]


def build_notebook(
    comp: Competition, recipe: str, plan, user: str, folder: Path, gpu: bool = False, oof: bool = False
) -> Path:
    """Write <folder>/<slug>.ipynb and kernel-metadata.json; returns the folder. With oof, the notebook also writes
    the out-of-fold predictions, OOF_NAME, beside the submission (kit.oof)."""
    import nbformat
    from nbformat.v4 import new_notebook

    if comp.extra and not comp.extra_dataset:
        raise KitError(
            f"{comp.slug} trains on extra files ({', '.join(comp.extra)}) that Kaggle does not mount with the "
            'competition; name the Kaggle dataset that holds them in its definition, [extra] dataset = "owner/name", '
            "and the notebook attaches it"
        )
    # the plan as the local run resolved it; its blend only where it blends (kit.pipeline.run_config)
    config = {
        "competition": comp.slug,
        "recipe": recipe,
        "plan": {k: v for k, v in asdict(plan).items() if k != "blend" or v},
    }
    if comp.extra:
        config["extra"] = {"dataset": comp.extra_dataset, "files": list(comp.extra)}
    if oof:
        config["oof"] = OOF_NAME
    fill = {"slug": comp.slug, "recipe": recipe, "recipe_toml": recipe_toml(comp, recipe), "metric": comp.metric}
    fill |= {"training": training_words(comp, plan), "ensemble": ensemble_words(plan), "final": final_words(plan)}
    fill |= {"predictions": prediction_words(comp)}
    needed = needed_modules({m for step in STEPS for m in step.demo_imports} | set(RUN_IMPORTS))
    shown: set[str] = set()
    cells = [
        _markdown(
            f"# {comp.title}: from-scratch models with kit\n\n"
            "Linear and neural-net models written from scratch in PyTorch (fast.ai's lesson 5), "
            "cross-validated, averaged into an ensemble, and a checked `submission.csv`. It was built by "
            "`kit notebook` and writes the same bytes as `kit submission` run locally with the same settings.\n\n"
            "Each section explains a step and holds the code that does it: kit's own modules, written to a "
            "scratch folder and imported, so the notebook needs no internet and no pip install. The longer "
            "cells are collapsed; open them to read the code."
        ),
        _markdown(
            "## Configuration\n\nEverything the run depends on: the competition, the recipe, the models, "
            "the validation split and the seeds. Then the folders: Kaggle's input, its output, and the scratch "
            "folder for kit's code."
        ),
        _code(f"CONFIG = {pprint.pformat(config, indent=1, width=100, sort_dicts=False)}\n"),  # a Python literal
        _code(SETUP + ("\n" + EXTRA_SETUP if comp.extra else "")),
    ]
    for i, step in enumerate(STEPS):
        cells.append(_markdown(f"## {step.title}\n\n{step.text.format(**fill)}"))
        if i == 0:
            cells.append(_write_cell(f"competitions/{comp.slug}.toml", comp.source.read_text()))
        last = i == len(STEPS) - 1
        for name in _step_modules(step, needed, shown, everything_left=last):
            cells += _module_cells(name)
            shown.add(name)
        if step.demo:
            cells.append(_code(step.demo))
    cells += [
        _markdown(
            "## Run: cross-validation, then the submission\n\nThe table shows each model's and the "
            f"ensemble's score per fold; then {'every model is trained on all rows and ' if plan.refit else ''}the "
            "ensemble's test predictions are checked and written."
        ),
        _code(RUN),
        _markdown(
            "## Training loss and CV scores\n\nLoss per epoch for each model (mean over folds and seeds, "
            "with its range), and each model's CV score with its folds."
        ),
        _code(PLOTS),
        _markdown("## The submission file"),
        _code(SHOW),
    ]
    for i, cell in enumerate(cells):
        cell["id"] = f"kit-{i}"  # fixed ids: the same build gives the same file
    notebook = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
    )
    code_file = f"{comp.slug}.ipynb"
    check_notebook_folder(Path(folder), code_file)
    metadata = kernel_metadata(comp, user, code_file, gpu)
    write_atomic(Path(folder) / code_file, nbformat.writes(notebook) + "\n")
    write_atomic(Path(folder) / "kernel-metadata.json", json.dumps(metadata, indent=2) + "\n")
    return folder


def check_notebook_folder(folder: Path, code_file: str) -> None:
    """Refuse a folder whose notebook or kernel-metadata.json kit did not write (they would be replaced),
    a folder that is a file, and the filesystem root or the home folder themselves."""
    resolved = folder.expanduser().resolve()
    if resolved in (Path(resolved.anchor), Path.home().resolve()):
        raise KitError(f"{folder} is {'the filesystem root' if resolved == Path(resolved.anchor) else 'your home folder'}; "
                       "the notebook needs a folder of its own", fix="other_notebook_out")  # fmt: skip
    blocker = next((f for f in (folder, *folder.parents) if f.exists() and not f.is_dir()), None)
    if blocker is not None:
        raise KitError(f"the notebook's folder {folder} needs {blocker}, but that is a file", fix="other_notebook_out")
    notebook, metadata = folder / code_file, folder / "kernel-metadata.json"
    for path in (notebook, metadata):
        if path.exists() and not (_kit_notebook(notebook) and _kit_metadata(metadata, code_file)):
            raise KitError(f"{path} exists and kit did not write it; it would be replaced", fix="other_notebook_out")


def _kit_notebook(path: Path) -> bool:
    """A notebook kit built: its cells carry kit's fixed ids (kit-0, kit-1, ...)."""
    try:
        cells = json.loads(path.read_text())["cells"]
        return bool(cells) and all(c.get("id") == f"kit-{i}" for i, c in enumerate(cells))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _kit_metadata(path: Path, code_file: str) -> bool:
    """kernel-metadata.json as kit writes it: absent yet, or naming kit's notebook as its code file."""
    if not path.exists():
        return True
    try:
        return json.loads(path.read_text()).get("code_file") == code_file
    except (OSError, ValueError, AttributeError):
        return False


def _step_modules(step: Step, needed: set[str], shown: set[str], everything_left: bool) -> list[str]:
    """The modules a step shows: its own that the pipeline needs, those its demo imports not shown yet,
    and in the last step every needed module no step claimed (one added to kit later)."""
    names = [m for m in step.modules if m in needed]
    names += sorted(needed_modules(step.demo_imports) - set(names))
    if everything_left:
        names += sorted(needed - set(names) - shown)
    return [m for m in dict.fromkeys(names) if m not in shown]


def kernel_metadata(comp: Competition, user: str, code_file: str, gpu: bool = False) -> dict:
    title = kernel_title(comp)
    return {
        "id": f"{user}/{slugify(title)}",  # Kaggle derives the notebook's slug from its title: they agree
        "title": title,
        "code_file": code_file,
        "language": "python",
        "kernel_type": "notebook",
        "is_private": True,
        "enable_gpu": gpu,
        "enable_internet": False,
        "competition_sources": [comp.slug],
        "dataset_sources": [comp.extra_dataset] if comp.extra else [],
        "kernel_sources": [],
    }
