"""Extra training files from a Kaggle dataset (`[extra] dataset = "owner/name"`): `kit fetch` downloads them with the
real client from the fake server and records them in the manifest, and `kit notebook` attaches the dataset, so the
notebook on Kaggle trains on the same rows as the local run and writes the same bytes."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import kit, refused
from fake_kaggle import FakeKaggle, fake_kaggle_fixture, zip_of  # noqa: F401 (registers the fake_kaggle fixture)
from test_extra_rows import FAST, define, playground
from test_kaggle import Run, one_error
from test_notebook import run_as_on_kaggle

from kit.cli import build_parser
from kit.commands import _plan
from kit.competition import load_competition
from kit.notebook import build_notebook

DATASET = "someone/play-original"
WITH_DATASET = f'extra = ["original.csv"]\n[extra]\nlabels = {{ Yes = "1", No = "0" }}\ndataset = "{DATASET}"'


@pytest.fixture
def files(tmp_path) -> dict[str, bytes]:
    folder = playground(tmp_path / "made")
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def run(fake_kaggle: FakeKaggle, files, tmp_path) -> Run:
    """The competition `play` on the server without original.csv, and the dataset holding it (and a file kit leaves)."""
    competition = {name: data for name, data in files.items() if name != "original.csv"}
    fake_kaggle.add_competition("play", zip_of(competition))
    fake_kaggle.add_dataset(DATASET, zip_of({"original.csv": files["original.csv"], "README.md": b"about\n"}))
    work = tmp_path / "work"
    work.mkdir()
    define(work, WITH_DATASET)
    return Run(fake_kaggle, work)


def test_fetch_takes_the_extra_files_from_the_dataset_and_the_manifest_guards_them(run, files):
    out = run("fetch", "-c", "play")
    assert out.returncode == 0, out.stderr
    data = run.work / "data" / "play"
    assert (data / "original.csv").read_bytes() == files["original.csv"]
    assert not (data / "README.md").exists()  # only the files [files] extra names
    manifest = json.loads((data / "kit-manifest.json").read_text())["files"]
    assert sorted(manifest) == sorted(files)  # the competition's and the extra file
    body = run.server.calls("DownloadDataset")[0]["body"]
    assert (body["ownerSlug"], body["datasetSlug"]) == tuple(DATASET.split("/"))
    again = run("fetch", "-c", "play")
    assert again.returncode == 0 and "nothing downloaded" in again.stderr
    assert len(run.server.calls("DownloadDataset")) == 1
    assert run("cv", "-c", "play", *FAST).returncode == 0  # trains on the extra rows it fetched
    (data / "original.csv").write_bytes(files["original.csv"].replace(b"Yes", b"No", 1))
    one_error(run("cv", "-c", "play", *FAST), "original.csv has changed since kit fetched it")


def test_a_dataset_added_to_a_fetched_competition_is_fetched_then(run, files):
    define(run.work, 'extra = ["original.csv"]\n[extra]\nlabels = { Yes = "1", No = "0" }')  # no dataset yet
    assert run("fetch", "-c", "play").returncode == 0
    assert not (run.work / "data" / "play" / "original.csv").exists()
    define(run.work, WITH_DATASET)
    out = run("fetch", "-c", "play")
    assert out.returncode == 0 and "nothing downloaded" not in out.stderr, out.stderr
    assert (run.work / "data" / "play" / "original.csv").read_bytes() == files["original.csv"]


@pytest.mark.parametrize(
    ("dataset_files", "ref", "message"),
    [
        ({"other.csv": b"x\n1\n"}, DATASET, f"the dataset {DATASET} holds no original.csv, which [files] extra names"),
        (
            {"a/original.csv": b"x\n", "b/original.csv": b"x\n"},
            DATASET,
            f"the dataset {DATASET} holds several original.csv",
        ),
        ({}, "someone/nothing", "Kaggle found nothing while downloading the dataset someone/nothing (404)"),
    ],
)
def test_a_dataset_without_the_file_is_one_sentence_and_leaves_nothing(run, dataset_files, ref, message):
    if dataset_files:
        run.server.add_dataset(DATASET, zip_of(dataset_files))
    define(run.work, WITH_DATASET.replace(DATASET, ref))
    one_error(run("fetch", "-c", "play"), message)
    assert run.leftovers() == []  # the competition's files were not kept either: nothing half-done


def test_an_extra_file_put_there_by_hand_is_never_replaced(run, files):
    mine = run.work / "data" / "play" / "original.csv"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"my own rows\n")
    one_error(run("fetch", "-c", "play"), "original.csv is already there and kit did not write it")
    assert mine.read_bytes() == b"my own rows\n" and sorted(p.name for p in mine.parent.iterdir()) == ["original.csv"]


def test_a_dataset_that_is_no_owner_and_name_is_refused_when_the_definition_loads(tmp_path, monkeypatch, capsys):
    folder = playground(tmp_path / "data")
    define(tmp_path, WITH_DATASET.replace(DATASET, "play-original"))
    error = refused(tmp_path, monkeypatch, capsys, "cv", "-c", "play", "--data-dir", str(folder), *FAST)
    assert "dataset" in error and "owner/name" in error


# ---- the notebook ----------------------------------------------------------------------------------

LOCAL = ["--models", "linear,nn", "--folds", "3", "--epochs", "5", "--seeds", "1"]


def test_a_notebook_of_extra_files_without_their_dataset_is_refused(tmp_path, monkeypatch, capsys):
    define(tmp_path)  # [files] extra, no [extra] dataset
    error = refused(tmp_path, monkeypatch, capsys, "notebook", "-c", "play", "--user", "someone")
    assert "trains on extra files (original.csv) that Kaggle does not mount with the competition" in error
    assert '[extra] dataset = "owner/name"' in error
    assert not (tmp_path / "notebooks").exists()


def test_the_notebook_attaches_the_dataset_and_on_kaggle_writes_the_local_bytes_and_oof(tmp_path, monkeypatch, capsys):
    folder = playground(tmp_path / "data" / "play")
    comp = load_competition(define(tmp_path, WITH_DATASET))
    plan = _plan(build_parser().parse_args(["submission", "-c", str(comp.source), *LOCAL]))
    built = build_notebook(comp, "base", plan, "someone", tmp_path / "build", oof=True)
    assert json.loads((built / "kernel-metadata.json").read_text())["dataset_sources"] == [DATASET]

    # Kaggle's folders: the competition and the dataset mounted side by side under input/
    root = tmp_path / "kaggle"
    (root / "input" / "play").mkdir(parents=True)
    for path in folder.iterdir():
        if path.name != "original.csv":
            shutil.copy(path, root / "input" / "play" / path.name)
    (root / "input" / "play-original").mkdir()
    shutil.copy(folder / "original.csv", root / "input" / "play-original" / "original.csv")
    notebook, on_kaggle = run_as_on_kaggle(built / "play.ipynb", root, monkeypatch)
    assert sorted(p.name for p in (root / "input" / "play").iterdir()) == sorted(
        p.name for p in folder.iterdir() if p.name != "original.csv"
    )  # nothing written into Kaggle's read-only input

    out = tmp_path / "local.csv"
    local = ["submission", "-c", "play", "--data-dir", str(folder), *LOCAL, "--out", str(out), "--oof", "oof.csv"]
    kit(tmp_path, monkeypatch, capsys, *local)
    assert on_kaggle == out.read_bytes()
    # and with --oof the out-of-fold predictions beside it, the local ones' bytes
    assert (root / "working" / "oof.csv").read_bytes() == (tmp_path / "oof.csv").read_bytes()
    shown = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "180 rows" in shown  # 120 of the competition's and 60 extra, read through the linked folder


def test_kit_run_fetches_extra_files_it_lacks_and_a_missing_one_says_to_fetch(run, files):
    define(run.work, 'extra = ["original.csv"]\n[extra]\nlabels = { Yes = "1", No = "0" }')
    assert run("fetch", "-c", "play").returncode == 0  # the competition's files, before the dataset was named
    define(run.work, WITH_DATASET)
    one_error(
        run("cv", "-c", "play", *FAST), "original.csv, an extra file of [files] extra, is missing", "kit fetch -c play"
    )
    out = run("run", "-c", "play", *FAST)
    assert out.returncode == 0, out.stderr
    assert (run.work / "data" / "play" / "original.csv").read_bytes() == files["original.csv"]


def test_doctor_says_which_extra_file_is_missing_and_whether_a_fetch_brings_it(run, files):
    from kit.fetch import data_status

    folder = run.work / "data" / "play"
    define(run.work, 'extra = ["original.csv"]\n[extra]\nlabels = { Yes = "1", No = "0" }')
    assert run("fetch", "-c", "play").returncode == 0  # the competition's files only: no dataset named
    by_hand = load_competition(run.work / "competitions" / "play.toml")
    assert data_status(by_hand, folder) == (
        f"{folder} lacks original.csv, which [files] extra names; put it there or drop it",
        False,
    )
    with_dataset = load_competition(define(run.work, WITH_DATASET))
    line, usable = data_status(with_dataset, folder)
    assert not usable and line.startswith(f"{folder} lacks original.csv; run `kit fetch -c play`")
    assert run("fetch", "-c", "play").returncode == 0
    assert data_status(with_dataset, folder) == (f"{folder} is present and intact", True)


def test_the_pushed_notebook_names_the_dataset_beside_the_competition(run):
    out = run("notebook", "-c", "play", "--push")
    assert out.returncode == 0, out.stderr
    body = run.server.calls("SaveKernel")[0]["body"]
    assert body["competitionDataSources"] == ["play"] and body["datasetDataSources"] == [DATASET]


def test_kit_run_in_any_kaggle_notebook_reads_the_extra_files_from_the_attached_dataset(run, files, tmp_path):
    inputs = tmp_path / "kaggle" / "input"
    (inputs / "play").mkdir(parents=True)
    for name, data in files.items():
        if name != "original.csv":
            (inputs / "play" / name).write_bytes(data)
    kaggle = {"KAGGLE_KERNEL_RUN_TYPE": "Interactive", "KIT_KAGGLE_ROOT": str(tmp_path / "kaggle")}
    kaggle["TMPDIR"] = str(tmp_path)  # where the linked folder goes
    one_error(
        run("cv", "-c", "play", *FAST, env=kaggle),
        "original.csv, an extra training file, is not in this notebook's inputs",
        f"add the dataset {DATASET} as input",
    )
    (inputs / "play-original").mkdir()
    (inputs / "play-original" / "original.csv").write_bytes(files["original.csv"])  # where Kaggle mounts it
    on_kaggle = run("run", "-c", "play", *FAST, "--out", "submissions/kaggle.csv", env=kaggle)
    assert on_kaggle.returncode == 0, on_kaggle.stderr
    assert run.server.log == []  # nothing downloaded inside the notebook
    assert run("run", "-c", "play", *FAST, "--out", "submissions/local.csv").returncode == 0  # fetched, then run
    submissions = run.work / "submissions"
    assert (submissions / "kaggle.csv").read_bytes() == (submissions / "local.csv").read_bytes()
    assert sorted(p.name for p in (inputs / "play").iterdir()) == sorted(n for n in files if n != "original.csv")
    assert (tmp_path / "kit-data-play" / "original.csv").resolve() == inputs / "play-original" / "original.csv"
