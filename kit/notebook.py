"""The pipeline as a self-contained Kaggle notebook, and its kernel-metadata.json.

The notebook carries kit inside itself (a packed, collapsed cell that unpacks on first run), so it
runs on Kaggle with no internet and no pip install: Kaggle's image already has torch, pandas and
scikit-learn. It runs the same `kit.pipeline.make_submission` as the local `kit submission`, so the
same settings write the same bytes.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from dataclasses import asdict
from pathlib import Path

from kit.competition import PACKAGE_ROOT, Competition

FIXED_TIME = (2020, 1, 1, 0, 0, 0)  # zip timestamps: the same source packs to the same bytes


def pack_source() -> str:
    """kit's Python files and the competition definitions as a base64 zip."""
    files = sorted((PACKAGE_ROOT / "kit").glob("*.py")) + sorted((PACKAGE_ROOT / "competitions").glob("*.toml"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            name = path.relative_to(PACKAGE_ROOT).as_posix()
            zf.writestr(zipfile.ZipInfo(name, date_time=FIXED_TIME), path.read_bytes())
    return base64.b64encode(buf.getvalue()).decode()


UNPACK = '''\
# kit's source, packed by `kit notebook`; unpacked into a temp folder (not /kaggle/working, which is output).
import base64, io, sys, tempfile, zipfile
KIT_SOURCE = """{packed}"""
_kit_dir = tempfile.mkdtemp(prefix="kit-src-")
zipfile.ZipFile(io.BytesIO(base64.b64decode(KIT_SOURCE))).extractall(_kit_dir)
sys.path.insert(0, _kit_dir)
'''

CONFIG = """\
CONFIG = {config}
"""

RUN_CV = """\
from pathlib import Path

from kit.competition import default_data_dir, load_competition
from kit.kaggle_client import kaggle_root
from kit.pipeline import format_cv, make_submission
from kit.validation import Plan

comp = load_competition(CONFIG["competition"])
spec = comp.recipe(CONFIG["recipe"])
plan = Plan(**CONFIG["plan"])
data_dir = default_data_dir(comp)  # /kaggle/input/<slug> inside Kaggle
out = kaggle_root() / "working" / "submission.csv"
result = make_submission(comp, spec, plan, data_dir, out)
print(format_cv(comp, spec, plan, result))
"""

PLOTS = """\
from IPython.display import Image, display

for picture in (out.with_suffix(".loss.png"), out.with_suffix(".cv.png")):
    display(Image(filename=str(picture)))
"""

SHOW = """\
print(out.read_text()[:200])
print(f"{len(out.read_text().splitlines()) - 1} rows written to {out}")
"""


def build_notebook(comp: Competition, recipe: str, plan, user: str, folder: Path, gpu: bool = False) -> Path:
    """Write <folder>/<slug>.ipynb and kernel-metadata.json; returns the folder."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    config = {"competition": comp.slug, "recipe": recipe, "plan": asdict(plan)}
    hidden = {"jupyter": {"source_hidden": True}, "collapsed": True}
    cells = [
        new_markdown_cell(
            f"# {comp.title}: from-scratch models with kit\n\n"
            "This notebook was built by `kit notebook`. It cross-validates linear and neural-net models written "
            "from scratch in PyTorch (fast.ai lesson 5), averages them into an ensemble, and writes "
            "`submission.csv`, the same file `kit submission` writes locally with the same settings."
        ),
        new_markdown_cell(
            "## kit itself\n\nThe next cell (collapsed) holds kit's source, packed, so that the "
            "notebook needs no internet and no pip install."
        ),
        new_code_cell(UNPACK.format(packed=pack_source()), metadata=hidden),
        new_markdown_cell(
            "## Configuration\n\nEverything the run depends on: competition, recipe, models, "
            "validation split and seeds."
        ),
        new_code_cell(CONFIG.format(config=json.dumps(config, indent=4))),
        new_markdown_cell(
            "## Cross-validation, then the submission\n\nThe recipe is fit on each training fold "
            "only; the table shows each model's and the ensemble's accuracy per fold. Then every "
            "model is trained on all rows and the ensemble's predictions are checked and written."
        ),
        new_code_cell(RUN_CV),
        new_markdown_cell(
            "## Training loss and CV scores\n\nLoss per epoch for each model (mean over folds "
            "and seeds, with its range), and each model's CV accuracy with its folds."
        ),
        new_code_cell(PLOTS),
        new_markdown_cell("## The submission file"),
        new_code_cell(SHOW),
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
    folder.mkdir(parents=True, exist_ok=True)
    code_file = f"{comp.slug}.ipynb"
    (folder / code_file).write_text(nbformat.writes(notebook) + "\n")
    metadata = kernel_metadata(comp, user, code_file, gpu)
    (folder / "kernel-metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")
    return folder


def kernel_metadata(comp: Competition, user: str, code_file: str, gpu: bool = False) -> dict:
    return {
        "id": f"{user}/{comp.slug}",
        "title": comp.slug,  # Kaggle derives the kernel's slug from its title; they must agree
        "code_file": code_file,
        "language": "python",
        "kernel_type": "notebook",
        "is_private": True,
        "enable_gpu": gpu,
        "enable_internet": False,
        "competition_sources": [comp.slug],
        "dataset_sources": [],
        "kernel_sources": [],
    }
