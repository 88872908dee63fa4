"""The sessions a kit user runs. They hold no logic: each runs `python -m kit ...` or pytest.

Set KIT_TORCH to choose the torch build installed before kit, e.g. KIT_TORCH="torch==2.13.0"
for a CPU wheel that is already on disk; leave it unset to let pip pick torch as usual.
"""

from __future__ import annotations

import os

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"  # installing torch again each run would dominate a short job
nox.options.sessions = ["tests", "lint"]

PYPROJECT = nox.project.load_toml("pyproject.toml")


def _install(session: nox.Session, *groups: str) -> None:
    if torch_spec := os.environ.get("KIT_TORCH"):
        session.install(torch_spec)
    session.install("-e", ".", *nox.project.dependency_groups(PYPROJECT, *groups))


def _kit(session: nox.Session, *command: str) -> None:
    _install(session)
    session.run("python", "-m", "kit", *command, *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (needs ../shared/data or KIT_SHARED_DATA)."""
    _install(session, "test")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Check style with ruff."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(default=False)
def reproduce(session: nox.Session) -> None:
    """Rerun the article's experiments and print its figures."""
    _kit(session, "reproduce")


@nox.session(default=False)
def cv(session: nox.Session) -> None:
    """Cross-validate the models and their ensemble."""
    _kit(session, "cv")


@nox.session(default=False)
def submission(session: nox.Session) -> None:
    """Train on all rows and write a checked submission CSV under submissions/."""
    _kit(session, "submission")


@nox.session(default=False)
def fetch(session: nox.Session) -> None:
    """Download the competition's files through the Kaggle API."""
    _kit(session, "fetch")


@nox.session(default=False)
def doctor(session: nox.Session) -> None:
    """Check Kaggle credentials, the API and the data."""
    _kit(session, "doctor")


@nox.session(default=False)
def submit(session: nox.Session) -> None:
    """Check a submission CSV and upload it: nox -s submit -- FILE [-m MESSAGE] [--wait]."""
    _kit(session, "submit")


@nox.session(default=False)
def submissions(session: nox.Session) -> None:
    """List the competition's submissions beside their local CV scores."""
    _kit(session, "submissions")


@nox.session(default=False)
def titanic(session: nox.Session) -> None:
    """The main job for Titanic: fetch, cross-validate, write the submission; -- --submit [--wait] uploads it."""
    _kit(session, "run", "-c", "titanic")


@nox.session(default=False)
def notebook(session: nox.Session) -> None:
    """Build the pipeline as a Kaggle notebook; -- --push --wait --submit runs and submits it on Kaggle."""
    _kit(session, "notebook")


@nox.session(default=False)
def report(session: nox.Session) -> None:
    """Every recorded run, best CV first, with a plot of CV against public score."""
    _kit(session, "report")


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Benchmark batched against one-by-one training and write BENCHMARKS.md."""
    _install(session)
    session.run("python", "benchmarks/bench_cv.py", *session.posargs)
    session.run("python", "benchmarks/bench_scale.py", *session.posargs)
