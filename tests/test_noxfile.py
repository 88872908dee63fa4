"""The noxfile: the workflow sessions share one environment, and a warm environment installs nothing."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nox
import pytest
from conftest import REPO

WORKFLOW = ("titanic", "cv", "submission", "fetch", "doctor", "submit", "submissions", "notebook", "report", "bench",
            "reproduce", "drift")  # fmt: skip


class FakeSession:
    """Records what a session function asks nox to run and install."""

    def __init__(self, env_dir: Path, location: Path | None = None):
        self.env_dir, self.posargs = env_dir, ["--extra"]
        self.virtualenv = SimpleNamespace(location=str(location))
        self.runs: list[tuple[str, ...]] = []
        self.installs: list[tuple[str, ...]] = []

    def run(self, *args: str, **kwargs) -> None:
        self.runs.append(args)

    def install(self, *args: str) -> None:
        self.installs.append(args)

    def log(self, *args) -> None:
        pass


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the noxfile and pyproject.toml, so that a test can change pyproject.toml."""
    for name in ("noxfile.py", "pyproject.toml"):
        shutil.copy2(REPO / name, tmp_path / name)
    return tmp_path


@pytest.fixture
def sessions(project: Path) -> dict:
    """The noxfile's sessions, as nox registers them when it loads the file."""
    nox.registry.reset()
    spec = importlib.util.spec_from_file_location("noxfile_under_test", project / "noxfile.py")
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    yield nox.registry.get()
    nox.registry.reset()


def test_every_workflow_session_runs_in_the_one_shared_environment(sessions, tmp_path):
    envdir = tmp_path / ".nox"
    shared = envdir / "env" / ("Scripts" if os.name == "nt" else "bin") / "python"
    shared.parent.mkdir(parents=True)
    shared.touch()
    for name in WORKFLOW:
        func = sessions[name]
        assert (func.venv_backend, func.requires) == ("none", ["env"]), name  # no environment of its own
        session = FakeSession(envdir / name)
        func(session)
        assert {run[0] for run in session.runs} == {str(shared)}, name  # bench runs three scripts there
        assert session.runs[-1][-1] == "--extra" and session.installs == [], name
    own = {name for name, func in sessions.items() if func.venv_backend != "none"}
    assert own == {"env", "tests", "lint"}


def test_under_no_venv_the_workflow_sessions_run_the_python_on_path(sessions, tmp_path):
    session = FakeSession(tmp_path / ".nox" / "report")  # no .nox/env: `nox --no-venv` made none
    sessions["report"](session)
    assert session.runs == [("python", "-m", "kit", "report", "--extra")]


def test_a_warm_environment_installs_nothing_until_pyproject_or_kit_torch_changes(sessions, project, monkeypatch):
    location = project / ".nox" / "env"
    location.mkdir(parents=True)

    def install_env() -> list[tuple[str, ...]]:
        session = FakeSession(location, location)
        sessions["env"](session)
        return session.installs

    monkeypatch.setenv("KIT_TORCH", "torch==2.13.0")
    assert install_env() == [("torch==2.13.0",), ("-e", ".")]  # the chosen torch first, then kit
    assert install_env() == []
    monkeypatch.setenv("KIT_TORCH", "torch==2.12.0")
    assert install_env() == [("torch==2.12.0",), ("-e", ".")]
    assert install_env() == []
    (project / "pyproject.toml").write_text((project / "pyproject.toml").read_text() + "\n# a new dependency\n")
    assert install_env() == [("torch==2.12.0",), ("-e", ".")]


def test_the_tests_spread_over_the_cores_and_the_users_arguments_come_last(sessions, project):
    location = project / ".nox" / "tests"
    location.mkdir(parents=True)
    session = FakeSession(location, location)
    sessions["tests"](session)
    assert session.runs == [("pytest", "-n", "auto", "--extra")]  # `-- -n 0` would then override the workers
    installed = [name for args in session.installs for name in args]
    assert any(name.startswith("pytest-xdist") for name in installed)  # -n needs the plugin in the test group


def test_nox_does_not_log_that_uv_is_missing(project):
    # --no-venv --no-install: nothing is created or installed, but nox still probes for uv.
    env = {k: v for k, v in os.environ.items() if k != "UV"} | {"PATH": str(Path(sys.executable).parent)}
    out = subprocess.run([sys.executable, "-m", "nox", "--no-venv", "--no-install", "-s", "env"],
                         cwd=project, env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Running session env" in out.stderr and "uv" not in out.stderr
