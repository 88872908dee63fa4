"""The sessions a kit user runs. They hold no logic: each runs `python -m kit ...` or pytest.

The workflow sessions (titanic, cv, report, ...) share one environment, .nox/env, made by the `env`
session they require; tests and lint have their own. An environment installs again only when
pyproject.toml or KIT_TORCH changed. Set KIT_TORCH to the torch build pip installs first, e.g.
KIT_TORCH="torch==2.13.0" for a CPU wheel already on disk; unset, pip picks torch as usual.
The tests read the real competition files from ../shared/data (or $KIT_SHARED/data).
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import nox
from nox.virtualenv import PassthroughEnv

nox.needs_version = ">=2025.2.9"
# venv, not uv: pip honours the user's pip configuration (a local wheel folder, an index mirror).
nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"  # installing torch again each run would dominate a short job
nox.options.sessions = ["tests", "lint"]

# nox looks for uv whatever the backend (to list the optional ones) and logs its absence; kit uses
# venv, so the line is noise.
logging.getLogger("nox").addFilter(lambda record: record.getMessage() != "uv binary not found.")

HERE = Path(__file__).resolve().parent
PYPROJECT = nox.project.load_toml(HERE / "pyproject.toml")
SHARED_ENV = "env"  # the session that makes the workflow sessions' environment, .nox/env
STAMP = "kit-installed.txt"  # in each environment: what was installed, to skip installing it again


def _install(session: nox.Session, *groups: str, project: bool = True) -> None:
    """Install KIT_TORCH first, then kit (editable) and the dependency groups, unless the environment
    already holds exactly that (same pyproject.toml, same KIT_TORCH, same groups)."""
    torch_spec = os.environ.get("KIT_TORCH", "")
    if isinstance(session.virtualenv, PassthroughEnv):  # --no-venv: nox decides (with --no-install, nothing)
        stamp, wanted = None, ""
    else:
        stamp = Path(session.virtualenv.location) / STAMP
        key = b"\0".join([(HERE / "pyproject.toml").read_bytes(), torch_spec.encode(), *map(str.encode, groups)])
        wanted = hashlib.sha256(key).hexdigest() + "\n"
        if stamp.is_file() and stamp.read_text() == wanted:
            session.log("environment up to date (pyproject.toml and KIT_TORCH unchanged): nothing to install")
            return
    if torch_spec and project:
        session.install(torch_spec)
    session.install(*(["-e", "."] if project else []), *nox.project.dependency_groups(PYPROJECT, *groups))
    if stamp is not None:
        stamp.write_text(wanted)


def _shared_python(session: nox.Session) -> str:
    """The python of the shared environment; under `nox --no-venv` (no .nox/env) the one on PATH."""
    bin_dir = "Scripts" if os.name == "nt" else "bin"
    python = session.env_dir.parent / SHARED_ENV / bin_dir / "python"  # env_dir.parent honours --envdir
    return str(python) if python.exists() or python.with_suffix(".exe").exists() else "python"


def _run(session: nox.Session, *args: str) -> None:
    session.run(_shared_python(session), *args, *session.posargs, external=True)


def _kit(session: nox.Session, *command: str) -> None:
    _run(session, "-m", "kit", *command)


# Each workflow session runs no installer of its own: it requires `env` and runs there.
workflow = nox.session(default=False, venv_backend="none", requires=[SHARED_ENV])


@nox.session(name=SHARED_ENV, default=False)
def env(session: nox.Session) -> None:
    """The environment the workflow sessions share (.nox/env): KIT_TORCH, then kit; reinstalled only on change."""
    _install(session)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (needs ../shared/data or KIT_SHARED)."""
    _install(session, "test")
    # one worker per core (pytest-xdist): most tests wait on a `python -m kit` of their own, one core each;
    # arguments after -- come last, so -- -n 0 runs them in one process
    session.run("pytest", "-n", "auto", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Check style with ruff."""
    _install(session, "lint", project=False)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@workflow
def reproduce(session: nox.Session) -> None:
    """Rerun the article's experiments and print its figures."""
    _kit(session, "reproduce")


@workflow
def cv(session: nox.Session) -> None:
    """Cross-validate the models and their ensemble."""
    _kit(session, "cv")


@workflow
def submission(session: nox.Session) -> None:
    """Train on all rows and write a checked submission CSV under submissions/."""
    _kit(session, "submission")


@workflow
def fetch(session: nox.Session) -> None:
    """Download the competition's files through the Kaggle API."""
    _kit(session, "fetch")


@workflow
def doctor(session: nox.Session) -> None:
    """Check Kaggle credentials, the API and the data."""
    _kit(session, "doctor")


@workflow
def submit(session: nox.Session) -> None:
    """Check a submission CSV and upload it: nox -s submit -- FILE [-m MESSAGE] [--wait]."""
    _kit(session, "submit")


@workflow
def submissions(session: nox.Session) -> None:
    """List the competition's submissions beside their local CV scores."""
    _kit(session, "submissions")


@workflow
def titanic(session: nox.Session) -> None:
    """The main job for Titanic: fetch, cross-validate, write the submission; -- --submit [--wait] uploads it."""
    _kit(session, "run", "-c", "titanic")


@workflow
def notebook(session: nox.Session) -> None:
    """Build the pipeline as a Kaggle notebook; -- --push --wait --submit runs and submits it on Kaggle."""
    _kit(session, "notebook")


@workflow
def report(session: nox.Session) -> None:
    """Every recorded run, best CV first, with a plot of CV against public score."""
    _kit(session, "report")


@workflow
def drift(session: nox.Session) -> None:
    """Adversarial validation: how well a model tells the test rows from the training rows, and by what."""
    _kit(session, "drift")


@workflow
def bench(session: nox.Session) -> None:
    """Benchmark batched against one-by-one training and kit's models against scikit-learn; write BENCHMARKS.md."""
    _run(session, "benchmarks/bench_cv.py")
    _run(session, "benchmarks/bench_scale.py")
    _run(session, "benchmarks/bench_quality.py")
