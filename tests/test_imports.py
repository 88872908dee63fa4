"""Commands that do not train start fast: `kit --help` imports neither torch, scikit-learn nor pandas."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kit.cli import build_parser

HEAVY = ("torch", "sklearn", "pandas")


def _heavy_imports(*args: str, code: int = 0) -> list[str]:
    """Top-level packages from HEAVY that `python -m kit ARGS` imports, read from -X importtime."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kit", *args], capture_output=True, text=True, check=False
    )
    assert run.returncode == code, run.stderr[-2000:]
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


def _uses(tree, dotted: str) -> bool:
    """Whether the code (not its comments or strings) imports `dotted` or reads it as an attribute chain."""
    import ast

    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if any(n == dotted or n.startswith(dotted + ".") for n in names):
                return True
        if isinstance(node, ast.Attribute) and ast.unparse(node).startswith(dotted):
            return True
    return False


@pytest.mark.parametrize("banned", ["torch.nn", "torch.optim", "sklearn"])
def test_kit_uses_no_torch_nn_no_torch_optim_and_no_scikit_learn(banned):
    """The models are raw tensors with a written-out step, and the folds kit's own (kit.folds)."""
    import ast
    from pathlib import Path

    import kit

    users = [
        path.name
        for path in sorted(Path(kit.__file__).parent.glob("*.py"))
        if _uses(ast.parse(path.read_text()), banned)
    ]
    assert users == []


@pytest.mark.parametrize("flags", [["--rows", "-5"], ["--folds", "1"], ["--epochs", "0"], ["--seeds", "0"]])
def test_a_flag_out_of_range_is_said_before_torch_is_imported(flags):
    """A new user's trial: `kit cv --rows -5` took 3.5 s (10 s on a busy machine) to say so, an unknown flag 0.6 s."""
    assert "torch" not in _heavy_imports("cv", *flags, code=2)
