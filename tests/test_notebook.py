"""kit notebook: a Kaggle notebook that explains each step, carries the code it runs as readable cells,
and writes the same submission as the local run."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import REPO, shared_data
from fake_kaggle import FakeKaggle, fake_kaggle_fixture  # noqa: F401 (registers the fake_kaggle fixture)
from slugify import slugify as python_slugify  # the kaggle client's own slug function
from test_kaggle import Run, solution

from kit.cli import build_parser, main
from kit.commands import _plan
from kit.competition import load_competition
from kit.notebook import build_notebook, needed_modules

COMP = load_competition("titanic")
LOCAL = ["--recipe", "article", "--models", "linear,nn,deep", "--seeds", "2", "--epochs", "20"]
PLAN = _plan(build_parser().parse_args(["submission", *LOCAL]))  # what `kit submission` with LOCAL trains


@pytest.fixture
def built(tmp_path) -> Path:
    return build_notebook(COMP, "article", PLAN, "someone", tmp_path / "build")


def test_the_notebook_run_as_on_kaggle_writes_the_local_submission_byte_for_byte(built, tmp_path, monkeypatch, capsys):
    # Kaggle's folders, simulated: the competition mounted under input/, outputs in working/.
    root = tmp_path / "kaggle"
    shutil.copytree(shared_data("titanic"), root / "input" / "titanic")
    notebook, on_kaggle = run_as_on_kaggle(built / "titanic.ipynb", root, monkeypatch)

    monkeypatch.chdir(tmp_path)
    local = tmp_path / "local.csv"
    args = ["submission", "--data-dir", str(shared_data("titanic")), *LOCAL]
    assert main([*args, "--out", str(local)]) == 0
    assert on_kaggle == local.read_bytes()
    shown = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "ensemble" in shown and "418 rows written" in shown  # the CV table and the file, shown in the notebook
    images = [
        o
        for c in notebook.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]
    assert len(images) == 2  # the loss and CV plots, inline


def run_as_on_kaggle(path: Path, root: Path, monkeypatch) -> tuple:
    """Execute the notebook as Kaggle runs it, root/input mounted and root/working its folder:
    (the executed notebook, the bytes of the submission.csv it wrote)."""
    from nbclient import NotebookClient

    (root / "working").mkdir()
    (root / "tmp").mkdir()
    # the kernel's scratch folders (kit's sources, the linked inputs) under root, not left in the machine's /tmp
    monkeypatch.setenv("TMPDIR", str(root / "tmp"))
    monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Batch")
    monkeypatch.setenv("KIT_KAGGLE_ROOT", str(root))
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(NO_KIT_INSTALLED))
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(root / "working")}}
    ).execute()
    monkeypatch.delenv("KAGGLE_KERNEL_RUN_TYPE")
    assert any((root / "tmp").glob("kit-src-*"))  # the kernel's scratch went where TMPDIR said
    del notebook.cells[0]
    return notebook, (root / "working" / "submission.csv").read_bytes()


# Kaggle's image has no kit: the kernel here must import only the modules the notebook writes, not this checkout
# (which pip's editable install would otherwise hand it for any module the notebook forgot to carry).
NO_KIT_INSTALLED = """\
import sys
from pathlib import Path

sys.meta_path[:] = [finder for finder in sys.meta_path if "editable" not in repr(finder).lower()]
sys.path[:] = [p for p in sys.path if not (Path(p or ".") / "kit" / "__init__.py").exists()]
"""


def _cells(built: Path) -> list:
    return nbformat.read(built / "titanic.ipynb", as_version=4).cells


def _written(built: Path) -> dict[str, str]:
    """The files the notebook's %%writefile cells write: path under the scratch folder -> text."""
    found = {}
    for cell in _cells(built):
        first, _, body = cell.source.partition("\n")
        if first.startswith("%%writefile {SRC}/"):
            found[first.removeprefix("%%writefile {SRC}/")] = body
    return found


def test_markdown_explains_each_step_under_a_real_title(built):
    markdown = [c.source for c in _cells(built) if c.cell_type == "markdown"]
    assert markdown[0].startswith(f"# {COMP.title}: ")
    headings = " ".join(line for text in markdown for line in text.splitlines() if line.startswith("## ")).lower()
    for step in ("data", "recipe", "models", "training", "cross-validation", "ensemble", "submission"):
        assert step in headings, step
    assert "[recipes.article]" in "".join(markdown)  # the recipe this run uses, as the definition writes it


def test_the_recipe_models_and_training_are_readable_source(built):
    written = _written(built)
    assert written["competitions/titanic.toml"] == (REPO / "competitions/titanic.toml").read_text()
    for module in ("kit/models.py", "kit/batched.py", "kit/recipe.py", "kit/validation.py", "kit/task.py"):
        assert written[module] == (REPO / module).read_text(), module
    for cell in _cells(built):
        assert max(map(len, cell.source.splitlines() or [""])) <= 300  # no packed blob, no minified line
        assert "base64" not in cell.source and "b64decode" not in cell.source


def test_it_carries_the_modules_the_pipeline_imports_and_no_others(built):
    modules = {name for name in _written(built) if name.startswith("kit/")}
    assert {"kit/__init__.py", "kit/pipeline.py", "kit/plots.py", "kit/competition.py", "kit/recipe.py"} <= modules
    for local in ("kit/cli.py", "kit/commands.py", "kit/doctor.py", "kit/ledger.py", "kit/kaggle_client.py"):
        assert local not in modules


def test_the_module_list_follows_imports_inside_functions_but_not_into_local_only_ones():
    needed = needed_modules(["kit.pipeline"])
    assert "kit.plots" in needed  # imported inside make_submission
    assert {"kit", "kit.models"} <= needed  # the package itself, and a module reached through kit.validation
    assert "kit.kaggle_client" not in needed  # imported only by default_data_dir, which the notebook never calls


def test_long_code_cells_are_collapsed_on_kaggle_and_the_configuration_is_not(built):
    code = [c for c in _cells(built) if c.cell_type == "code"]
    long = [c for c in code if len(c.source.splitlines()) > 40]
    assert len(long) >= 5
    for cell in long:
        assert cell.metadata["_kg_hide-input"] is True and cell.metadata["jupyter"]["source_hidden"] is True
    config = next(c for c in code if c.source.startswith("CONFIG = "))
    assert "_kg_hide-input" not in config.metadata
    assert ast.literal_eval(config.source.split("=", 1)[1].split("  #")[0])["plan"]["seeds"] == 2


def test_the_metadata_is_what_kaggle_needs(built):
    meta = json.loads((built / "kernel-metadata.json").read_text())
    assert meta["title"].startswith(COMP.title) and 5 <= len(meta["title"]) <= 50  # Kaggle's limits
    assert meta["id"] == f"someone/{python_slugify(meta['title'])}"  # the slug Kaggle derives from the title
    assert meta["code_file"] == "titanic.ipynb"
    assert meta["competition_sources"] == ["titanic"] and meta["is_private"] is True
    assert (meta["language"], meta["kernel_type"], meta["enable_internet"]) == ("python", "notebook", False)


def test_the_notebook_holds_no_local_paths_no_credentials_and_no_data(built, tmp_path):
    text = (built / "titanic.ipynb").read_text() + (built / "kernel-metadata.json").read_text()
    for local in {str(REPO), str(Path.home()), str(tmp_path), str(shared_data("titanic"))}:
        assert local not in text
    assert "Braund, Mr. Owen Harris" not in text  # no competition data


def test_building_twice_gives_the_same_files(tmp_path):
    a = build_notebook(COMP, "article", PLAN, "someone", tmp_path / "a")
    b = build_notebook(COMP, "article", PLAN, "someone", tmp_path / "b")
    for name in ("titanic.ipynb", "kernel-metadata.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes()


@pytest.fixture
def server(fake_kaggle: FakeKaggle) -> FakeKaggle:
    zip_bytes = (shared_data("titanic") / "titanic.zip").read_bytes()
    fake_kaggle.add_competition("titanic", zip_bytes, solution=solution(), columns=("PassengerId", "Survived"))
    return fake_kaggle


def test_push_wait_submit_with_the_real_client(server, tmp_path):
    run = Run(server, tmp_path / "work")
    run.work.mkdir()
    output = "PassengerId,Survived\n" + "".join(f"{pid},{label}\n" for pid, label in solution().items())
    kernel = "fakeuser/titanic-machine-learning-from-disaster-with-kit"  # the slug of the notebook's title
    server.kernel_outputs[kernel] = {"submission.csv": output.encode()}
    server.kernel_statuses = ["RUNNING", "RUNNING", "COMPLETE"]
    out = run("notebook", "--push", "--submit", "--poll-interval", "0.1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == str(Path("build/notebook/titanic"))
    assert "public score: 1.00000" in out.stdout

    body = server.calls("SaveKernel")[0]["body"]
    assert body["slug"] == kernel and body["newTitle"] == "Titanic - Machine Learning from Disaster with kit"
    assert body["competitionDataSources"] == ["titanic"] and body["isPrivate"] is True
    assert body["kernelType"] == "notebook" and body["language"] == "python"
    built = nbformat.reads((run.work / "build/notebook/titanic/titanic.ipynb").read_text(), as_version=4)
    sent = json.loads(body["text"])  # the client sends the notebook as JSON, outputs stripped
    assert [c["source"] for c in sent["cells"]] == [c.source for c in built.cells]
    assert (run.work / "submissions/titanic/notebook/submission.csv").read_text() == output
    assert server.uploads == [output.encode()]
    assert server.key not in "\n".join(run.outputs)


def test_a_failed_notebook_run_is_one_sentence(server, tmp_path):
    run = Run(server, tmp_path / "work")
    run.work.mkdir()
    server.kernel_statuses = ["ERROR"]
    server.kernel_failure_message = "out of memory"
    out = run("notebook", "--push", "--wait", "--poll-interval", "0.1")
    assert out.returncode == 2 and "ended ERROR: out of memory" in out.stderr and "Traceback" not in out.stderr
    assert not (run.work / "submissions").exists()


def test_kit_notebook_prints_the_build_folder_last(tmp_path):
    out = subprocess.run([sys.executable, "-m", "kit", "notebook", "--user", "me"], cwd=tmp_path,
                         capture_output=True, text=True)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == str(Path("build/notebook/titanic"))
    meta = json.loads((tmp_path / "build/notebook/titanic/kernel-metadata.json").read_text())
    assert meta["id"] == "me/titanic-machine-learning-from-disaster-with-kit"


def test_the_notebook_trains_what_kit_run_trains_when_no_flag_says_otherwise(tmp_path, monkeypatch, capsys):
    """One source of defaults: the notebook's CONFIG is the plan `kit run` resolves (the definition's [run])."""
    from kit.cli import build_parser, main
    from kit.commands import _plan, _recipe

    monkeypatch.chdir(tmp_path)
    assert main(["notebook", "--user", "someone", "--out", str(tmp_path / "nb")]) == 0
    nb = nbformat.read(tmp_path / "nb" / "titanic.ipynb", as_version=4)
    config_cell = next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith("CONFIG = "))
    config = ast.literal_eval(config_cell.source.split("=", 1)[1])
    args = build_parser().parse_args(["run"])
    plan = _plan(args)
    assert config["recipe"] == _recipe(args, COMP).name == "plus"
    assert tuple(config["plan"]["models"]) == plan.models and config["plan"]["seeds"] == plan.seeds == 5


@pytest.mark.parametrize("mine", ["titanic.ipynb", "kernel-metadata.json"])
def test_the_notebook_never_replaces_a_notebook_or_metadata_kit_did_not_write(mine, tmp_path, monkeypatch, capsys):
    from kit.cli import main

    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "myproj"
    folder.mkdir()
    (folder / mine).write_text('{"id": "me/my-precious-kernel"}\n')
    assert main(["notebook", "--user", "someone", "--out", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "kit did not write it" in err and "--out" in err and "Traceback" not in err
    assert [p.name for p in folder.iterdir()] == [mine]  # untouched, nothing added
    assert (folder / mine).read_text() == '{"id": "me/my-precious-kernel"}\n'


def test_the_notebook_rebuilds_its_own_folder_and_refuses_the_root_and_a_file(tmp_path, monkeypatch, capsys):
    from kit.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["notebook", "--user", "someone", "--out", "nb"]) == 0
    assert main(["notebook", "--user", "someone", "--out", "nb"]) == 0  # kit's own files: rebuilt
    capsys.readouterr()
    assert main(["notebook", "--user", "someone", "--out", "/"]) == 2
    assert "filesystem root" in capsys.readouterr().err
    (tmp_path / "afile").write_text("x")
    assert main(["notebook", "--user", "someone", "--out", "afile/nb"]) == 2
    assert "but that is a file" in capsys.readouterr().err
    assert (tmp_path / "afile").read_text() == "x"


def test_the_notebook_says_when_the_weights_are_averaged():
    from kit.notebook import training_words
    from kit.train import Training
    from kit.validation import Plan

    comp = load_competition("spaceship-titanic")
    plain = training_words(comp, Plan(training=Training()))
    averaged = training_words(comp, Plan(training=Training(average=2)))
    assert "averaged" not in plain
    assert "mini-batches of 1024 rows (more on large data: at most 32 steps an epoch), the weights averaged over " in (
        averaged
    )
    assert "about 2 epochs of steps" in averaged
