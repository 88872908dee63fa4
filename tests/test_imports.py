"""Commands that do not train start fast: `kit --help` imports neither torch, scikit-learn nor pandas."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kit.cli import build_parser

HEAVY = ("torch", "sklearn", "pandas")


def _heavy_imports(*args: str) -> list[str]:
    """Top-level packages from HEAVY that `python -m kit ARGS` imports, read from -X importtime."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kit", *args], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr[-2000:]
    # Lines read "import time: self | cumulative | <indent>package.module".
    names = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")}
    return sorted({name.split(".")[0] for name in names} & set(HEAVY))


def _commands() -> list[str]:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return sorted(subparsers.choices)


def test_help_imports_no_heavy_package():
    assert _heavy_imports("--help") == []


@pytest.mark.parametrize("command", _commands())
def test_each_commands_help_imports_no_heavy_package(command):
    assert _heavy_imports(command, "--help") == []
