"""The core raises with the facts; the CLI layer (kit.cli, kit.commands, kit.fixes) words the fix with the
flags and commands that carry it out, and is the only place that names them."""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from kit import KitError
from kit.cli import build_parser
from kit.competition import data_file, load_competition
from kit.fixes import FIXES, sentence, worded
from kit.submit import Interrupted

CLI_LAYER = {"cli.py", "commands.py", "fixes.py"}
# Text kit writes into documents for people to read, not messages: a drafted definition's comments and the
# notebook's introduction say which command made them and how to look further.
DOCUMENTS = (
    "drafted by `kit new`",
    "used when --recipe is not given",
    "`kit recipe show` prints what it makes",
    "built by `kit notebook` and writes the same bytes as `kit submission`",
)


def _commands() -> list[str]:
    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(subparsers.choices)


def _strings(path: Path):
    """(line, text) of every string constant in a module, f-string pieces included, docstrings left out:
    a docstring says what a function does, and may name the flag that asks for it."""
    tree = ast.parse(path.read_text())
    bodies = [n.body for n in ast.walk(tree) if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef)]
    docstrings = {id(b[0].value) for b in bodies if b and isinstance(b[0], ast.Expr)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def _fix_keys(path: Path):
    """(line, key) of every fix a module names: the strings given as `fix=` (KitError, worded), either way of
    a conditional expression."""
    for node in ast.walk(ast.parse(path.read_text())):
        for keyword in node.keywords if isinstance(node, ast.Call) else ():
            values = [keyword.value] if keyword.arg == "fix" else []
            while values:
                value = values.pop()
                if isinstance(value, ast.IfExp):
                    values += [value.body, value.orelse]
                elif isinstance(value, ast.Constant) and isinstance(value.value, str):
                    yield value.lineno, value.value


def test_no_module_below_the_cli_layer_names_a_flag_or_a_command():
    commands = "|".join(_commands())
    # --force, --data-dir...; `kit fetch` in backticks, or kit fetch followed by an option (not "a kit submission")
    named = re.compile(rf"(?<![\w-])--[a-z]|`kit ({commands})\b|\bkit ({commands}) -")
    offenders = []
    for path in sorted((REPO / "kit").glob("*.py")):
        if path.name in CLI_LAYER:
            continue
        for line, text in _strings(path):
            for document in DOCUMENTS:
                text = text.replace(document, "")
            if named.search(text):
                offenders.append(f"kit/{path.name}:{line}: {text.strip()[:80]!r}")
    assert not offenders, "raise KitError(fact, fix=KEY) and word the fix in kit/fixes.py:\n" + "\n".join(offenders)


def test_every_fix_the_core_names_has_words_and_every_wording_is_used():
    used = {key: f"kit/{p.name}:{line}" for p in (REPO / "kit").glob("*.py") for line, key in _fix_keys(p)}
    assert {key: where for key, where in used.items() if key not in FIXES} == {}
    assert sorted(set(FIXES) - set(used)) == []


def test_an_error_reads_as_its_fact_then_its_fix_in_the_command_lines_words():
    error = KitError("data/titanic/train.csv is missing", fix="refetch_or_data_dir", slug="titanic")
    assert str(error) == "data/titanic/train.csv is missing"
    assert sentence(error) == (
        "data/titanic/train.csv is missing; run `kit fetch -c titanic --force` or pass --data-dir DIR."
    )
    assert sentence(KitError("no fix here.")) == "no fix here."
    assert worded("nothing to do") == "nothing to do"
    assert KitError("x").exit_code == 2


def test_an_interrupt_words_its_fix_like_an_error():
    interrupted = Interrupted("a.csv was submitted to titanic (ref 7, status PENDING)", fix="follow", slug="titanic")
    assert sentence(interrupted).endswith("status PENDING); follow it with `kit submissions -c titanic`.")


def test_a_missing_train_csv_is_a_fact_in_the_core_and_a_fix_on_the_command_line(tmp_path):
    with pytest.raises(KitError) as error:
        data_file(load_competition("titanic"), tmp_path, "train")
    assert str(error.value) == f"{tmp_path / 'train.csv'} is missing"  # the fact, no flag
    out = subprocess.run(
        [sys.executable, "-m", "kit", "cv", "--data-dir", str(tmp_path), "--models", "linear"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr == (
        f"error: {tmp_path / 'train.csv'} is missing; run `kit fetch -c titanic --force` or pass --data-dir DIR.\n"
    )


def test_a_refused_output_path_names_the_flag_only_on_the_command_line(tmp_path, monkeypatch, capsys):
    from kit.cli import main
    from kit.submission import check_out_path

    monkeypatch.chdir(tmp_path)
    with pytest.raises(KitError) as error:
        check_out_path(Path("x.txt"))
    assert "--out" not in str(error.value)
    assert main(["submission", "--data-dir", str(tmp_path), "--out", "x.txt"]) == 2
    assert (
        capsys.readouterr().err
        == "error: x.txt does not end in .csv; a submission is a CSV, so pass --out <name>.csv.\n"
    )
