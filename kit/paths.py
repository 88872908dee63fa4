"""Where kit reads and writes: every data and output path is named here, once.

All are relative to the folder kit runs in (a checkout, or a Kaggle notebook's working folder):

    data/<slug>/                   the competition's files (kit fetch); /kaggle/input/<slug>/ in a notebook
    submissions/<slug>/            <name>.csv with its sidecar <name>.json and plots, ledger.json (uploads),
                                   runs.json (every cv and submission run), report.png, .lock (one upload at a time),
                                   cv-cache.pt (the latest models' CVs, reused by a CV or submission that shares them)
    submissions/<slug>/cv/         the plots of `kit cv --plot`
    submissions/<slug>/notebook/   what a Kaggle notebook run wrote (kit notebook --push --wait)
    build/notebook/<slug>/         the notebook kit notebook builds
    competitions/<slug>.toml       a definition (kit new)
"""

from __future__ import annotations

import os
from pathlib import Path

DATA = Path("data")
SUBMISSIONS = Path("submissions")
BUILD = Path("build")
COMPETITIONS = Path("competitions")


def in_kaggle_notebook() -> bool:
    """True inside a Kaggle notebook, where the data is mounted and nothing is downloaded.

    Here, not in kit.kaggle_client: the notebook kit builds carries this module but not the client's (kit.notebook).
    """
    return bool(os.environ.get("KAGGLE_KERNEL_RUN_TYPE"))


def kaggle_root() -> Path:
    """Kaggle's /kaggle folder; KIT_KAGGLE_ROOT moves it (the tests simulate a notebook with it)."""
    return Path(os.environ.get("KIT_KAGGLE_ROOT", "/kaggle"))


def data_dir(slug: str) -> Path:
    """data/<slug>/ locally; the mounted /kaggle/input/<slug>/ inside a Kaggle notebook."""
    return kaggle_root() / "input" / slug if in_kaggle_notebook() else DATA / slug


def submissions_dir(slug: str) -> Path:
    return SUBMISSIONS / slug


def submission_path(slug: str, name: str) -> Path:
    return submissions_dir(slug) / f"{name}.csv"


def ledger_path(slug: str) -> Path:
    return submissions_dir(slug) / "ledger.json"


def runs_path(slug: str) -> Path:
    return submissions_dir(slug) / "runs.json"


def report_path(slug: str) -> Path:
    return submissions_dir(slug) / "report.png"


def lock_path(slug: str) -> Path:
    return submissions_dir(slug) / ".lock"


def cv_cache_path(slug: str) -> Path:
    return submissions_dir(slug) / "cv-cache.pt"


def cv_plots_dir(slug: str) -> Path:
    return submissions_dir(slug) / "cv"


def notebook_output_dir(slug: str) -> Path:
    return submissions_dir(slug) / "notebook"


def notebook_build_dir(slug: str) -> Path:
    return BUILD / "notebook" / slug


def definition_path(slug: str) -> Path:
    return COMPETITIONS / f"{slug}.toml"
