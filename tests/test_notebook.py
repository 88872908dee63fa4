"""kit notebook: a self-contained Kaggle notebook that writes the same submission as the local run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import REPO, shared_data
from fake_kaggle import FakeKaggle, fake_kaggle_fixture  # noqa: F401 (registers the fake_kaggle fixture)
from test_kaggle import Run, solution

from kit.cli import main
from kit.competition import load_competition
from kit.notebook import build_notebook
from kit.validation import Plan

COMP = load_competition("titanic")
PLAN = Plan(models=("linear", "nn", "deep"), seeds=2)


@pytest.fixture
def built(tmp_path) -> Path:
    return build_notebook(COMP, "article", PLAN, "someone", tmp_path / "build")


def test_the_notebook_run_as_on_kaggle_writes_the_local_submission_byte_for_byte(built, tmp_path, monkeypatch, capsys):
    from nbclient import NotebookClient

    # Kaggle's folders, simulated: the competition mounted under input/, outputs in working/.
    root = tmp_path / "kaggle"
    shutil.copytree(shared_data("titanic"), root / "input" / "titanic")
    (root / "working").mkdir()
    monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Batch")
    monkeypatch.setenv("KIT_KAGGLE_ROOT", str(root))
    notebook = nbformat.read(built / "titanic.ipynb", as_version=4)
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(root / "working")}}
    ).execute()
    on_kaggle = (root / "working" / "submission.csv").read_bytes()

    monkeypatch.delenv("KAGGLE_KERNEL_RUN_TYPE")
    monkeypatch.chdir(tmp_path)
    local = tmp_path / "local.csv"
    args = ["submission", "--data-dir", str(shared_data("titanic")), "--models", "linear,nn,deep", "--seeds", "2"]
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


def test_the_cells_read_as_steps_with_the_packed_source_collapsed(built):
    notebook = nbformat.read(built / "titanic.ipynb", as_version=4)
    headings = [c.source.splitlines()[0] for c in notebook.cells if c.cell_type == "markdown"]
    assert headings[0].startswith("# ") and any("Configuration" in h for h in headings)
    packed = [c for c in notebook.cells if "KIT_SOURCE" in c.source]
    assert len(packed) == 1 and packed[0].metadata["jupyter"]["source_hidden"] is True
    config = next(c for c in notebook.cells if c.source.startswith("CONFIG = "))
    assert json.loads(config.source.split("=", 1)[1])["plan"]["seeds"] == 2


def test_the_metadata_is_what_kaggle_needs(built):
    meta = json.loads((built / "kernel-metadata.json").read_text())
    assert meta["id"] == "someone/titanic" and meta["code_file"] == "titanic.ipynb"
    assert meta["competition_sources"] == ["titanic"] and meta["is_private"] is True
    assert (meta["language"], meta["kernel_type"], meta["enable_internet"]) == ("python", "notebook", False)


def test_the_notebook_holds_no_local_paths_no_credentials_and_no_data(built, monkeypatch, tmp_path):
    text = (built / "titanic.ipynb").read_text() + (built / "kernel-metadata.json").read_text()
    for local in {str(REPO), str(Path.home()), str(tmp_path), str(shared_data("titanic"))}:
        assert local not in text
    import base64
    import io
    import zipfile

    packed = json.loads((built / "titanic.ipynb").read_text())["cells"]
    source = next("".join(c["source"]) for c in packed if "KIT_SOURCE" in "".join(c["source"]))
    blob = source.split('KIT_SOURCE = """')[1].split('"""')[0]
    names = zipfile.ZipFile(io.BytesIO(base64.b64decode(blob))).namelist()
    assert all(n.endswith((".py", ".toml")) for n in names) and "kit/pipeline.py" in names
    unpacked = b"".join(zipfile.ZipFile(io.BytesIO(base64.b64decode(blob))).read(n) for n in names).decode()
    for local in (str(REPO), str(Path.home())):
        assert local not in unpacked
    assert "Braund, Mr. Owen Harris" not in text + unpacked  # no competition data


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
    server.kernel_outputs["fakeuser/titanic"] = {"submission.csv": output.encode()}
    server.kernel_statuses = ["RUNNING", "RUNNING", "COMPLETE"]
    out = run("notebook", "--push", "--submit", "--poll-interval", "0.1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == str(Path("build/notebook/titanic"))
    assert "public score: 1.00000" in out.stdout

    body = server.calls("SaveKernel")[0]["body"]
    assert body["slug"] == "fakeuser/titanic" and body["newTitle"] == "titanic"
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
    assert json.loads((tmp_path / "build/notebook/titanic/kernel-metadata.json").read_text())["id"] == "me/titanic"
