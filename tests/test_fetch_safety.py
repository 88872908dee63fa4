"""kit removes or replaces only what it wrote: `fetch` beside a user's files, data folders it refuses,
failed fetches that leave nothing behind, and the manifest check before any command reads the data.
Run as a user would, with the real `kaggle` client against the fake server (see test_kaggle.py)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import test_kaggle
from conftest import REPO, shared_data
from fake_kaggle import fake_kaggle_fixture, zip_of  # noqa: F401 (registers the fake_kaggle fixture)
from test_kaggle import _good_rows, one_error

from kit import KitError
from kit.competition import PACKAGE_ROOT
from kit.fetch import refuse_unsafe_data_dir

run, server = test_kaggle.run, test_kaggle.server  # the fixtures test_kaggle.py runs kit with

TITANIC = ("gender_submission.csv", "test.csv", "train.csv")


def user_files(folder: Path) -> dict[str, bytes]:
    """A user's notes and a subfolder of their own in `folder`; returns their bytes by relative path."""
    files = {"notes.md": b"# my notes\n", "work/model.py": b"print('mine')\n", "work/deep/data.bin": b"\x00\x01"}
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return files


def everything(folder: Path) -> dict[str, bytes | None]:
    """Every file (bytes) and folder (None) under `folder`, by relative path."""
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))
    }


def manifest_names(folder: Path) -> list[str]:
    return sorted(json.loads((folder / "kit-manifest.json").read_text())["files"])


# ---- fetch touches only the competition's own files -------------------------------------------------------


def test_fetch_force_leaves_a_users_notes_and_subfolder_byte_identical(run, server):
    data = run.work / "data" / "titanic"
    assert run("fetch").returncode == 0
    mine = user_files(data)
    out = run("fetch", "--force")
    assert out.returncode == 0, out.stderr
    assert len(server.calls("DownloadDataFiles")) == 2
    for name, content in mine.items():
        assert (data / name).read_bytes() == content
    assert manifest_names(data) == list(TITANIC)  # the manifest lists exactly the files kit put there


def test_fetch_into_a_folder_of_the_users_adds_the_files_and_deletes_nothing(run, server, tmp_path):
    folder = tmp_path / "mine"
    mine = user_files(folder)
    out = run("fetch", "--data-dir", str(folder))
    assert out.returncode == 0, out.stderr
    assert {name: data for name, data in everything(folder).items() if name in mine} == mine
    assert sorted(everything(folder)) == sorted([*mine, "work", "work/deep", "kit-manifest.json", *TITANIC])
    assert manifest_names(folder) == list(TITANIC)


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_a_file_of_the_same_name_that_kit_did_not_write_stops_the_fetch(run, server, tmp_path, force):
    folder = tmp_path / "copied"
    shutil.copytree(shared_data("titanic"), folder)  # files from ../shared: no kit manifest
    (folder / "train.csv").write_text("PassengerId,Survived\n1,0\n")  # and edited by their owner
    before = everything(folder)
    one_error(run("fetch", "--data-dir", str(folder), *force), f"{folder / 'gender_submission.csv'}", "move it away")
    assert everything(folder) == before


def test_a_kit_manifest_json_that_kit_cannot_read_is_not_replaced(run, server, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "kit-manifest.json").write_text('{"mine": true}\n')
    one_error(run("fetch", "--data-dir", str(folder)), "kit-manifest.json is already there and kit did not write it")
    assert everything(folder) == {"kit-manifest.json": b'{"mine": true}\n'}


def test_a_folder_kit_fetched_for_another_competition_is_not_overwritten(run, server):
    data = run.work / "data" / "titanic"
    assert run("fetch").returncode == 0
    manifest = json.loads((data / "kit-manifest.json").read_text())
    (data / "kit-manifest.json").write_text(json.dumps(manifest | {"competition": "another"}))
    before = everything(data)
    one_error(run("fetch", "--force"), "kit did not write it")
    assert everything(data) == before


def test_force_removes_a_file_of_the_previous_download_only_if_it_is_unchanged(run, server):
    data = run.work / "data" / "titanic"
    assert run("fetch").returncode == 0
    for name in ("old.csv", "edited.csv"):
        (data / name).write_text("from an older download\n")
    manifest = json.loads((data / "kit-manifest.json").read_text())
    old_digest = hashlib.sha256(b"from an older download\n").hexdigest()
    manifest["files"] |= {"old.csv": old_digest, "edited.csv": "0" * 64}  # edited.csv changed since kit wrote it
    (data / "kit-manifest.json").write_text(json.dumps(manifest))
    assert run("fetch", "--force").returncode == 0
    assert not (data / "old.csv").exists()  # kit's own, unchanged: gone with the download that brought it
    assert (data / "edited.csv").read_text() == "from an older download\n"  # changed by someone: kept
    assert manifest_names(data) == list(TITANIC)


def test_what_a_killed_fetch_left_is_cleared_by_the_next(run, server):
    data = run.work / "data" / "titanic"
    assert run("fetch").returncode == 0
    (data / ".kit-fetch-abc" / "files").mkdir(parents=True)
    (data / ".kit-fetch-def.json").write_text("{}")
    assert run("fetch", "--force").returncode == 0
    assert sorted(everything(data)) == sorted(["kit-manifest.json", *TITANIC])


# ---- data folders kit refuses -------------------------------------------------------------------------------


def test_data_dir_dot_in_a_checkout_is_refused_and_nothing_is_deleted(run, server):
    (run.work / "competitions").mkdir()
    (run.work / "competitions" / "mine.toml").write_text("slug = 'mine'\n")
    mine = user_files(run.work)
    before = everything(run.work)
    # -c named: one definition alone in competitions/ would be assumed (kit.cli._only_definition)
    one_error(run("fetch", "-c", "titanic", "--data-dir", "."), "is or holds the checkout kit runs in")
    assert everything(run.work) == before and mine
    assert server.log == []


def test_a_folder_holding_the_checkout_is_refused(run, server, tmp_path):
    outer = tmp_path / "outer"
    (outer / "repo" / ".git").mkdir(parents=True)
    (outer / "repo" / "sub").mkdir()
    mine = user_files(outer)
    before = everything(outer)
    one_error(run("fetch", "--data-dir", str(outer), cwd=outer / "repo" / "sub"), "the checkout kit runs in")
    assert everything(outer) == before and mine


def test_the_home_folder_is_refused_and_nothing_is_deleted(run, server):
    home = Path(run.env["HOME"])
    mine = user_files(home)
    one_error(run("fetch", "--data-dir", str(home)), "your home folder")
    assert {name: (home / name).read_bytes() for name in mine} == mine


@pytest.mark.parametrize("folder", [Path("/"), PACKAGE_ROOT, PACKAGE_ROOT.parent, REPO / "kit" / ".."])
def test_the_filesystem_root_and_kits_own_checkout_are_refused(folder):
    with pytest.raises(KitError, match="is or holds"):
        refuse_unsafe_data_dir(folder)


def test_a_folder_inside_the_checkout_is_accepted(monkeypatch, tmp_path):
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    refuse_unsafe_data_dir(Path("data") / "titanic")
    refuse_unsafe_data_dir(PACKAGE_ROOT / "data" / "titanic")


# ---- a failed fetch leaves no folder behind -----------------------------------------------------------------


FAULTS = {
    "404": lambda server: server.competitions.pop("titanic"),
    "403": lambda server: setattr(server.competitions["titanic"], "rules_accepted", False),
    "corrupt zip": lambda server: setattr(server.competitions["titanic"], "zip_bytes", b"PK\x03\x04 not a zip"),
    "zip without test.csv": lambda server: setattr(
        server.competitions["titanic"], "zip_bytes", zip_of({"train.csv": b"PassengerId,Survived\n1,0\n"})
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_failed_fetch_removes_the_folders_it_created(run, server, fault):
    FAULTS[fault](server)
    assert run("fetch").returncode == 2
    assert not (run.work / "data").exists()


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_failed_fetch_removes_only_what_it_created(run, server, fault, tmp_path):
    (run.work / "data" / "other").mkdir(parents=True)
    user_files(tmp_path / "mine")
    before = everything(tmp_path / "mine")
    FAULTS[fault](server)
    assert run("fetch").returncode == 2
    assert run("fetch", "--data-dir", str(tmp_path / "mine")).returncode == 2
    assert everything(run.work / "data") == {"other": None}
    assert everything(tmp_path / "mine") == before  # no temp folder, no manifest


def test_no_credentials_says_the_main_job_runs_with_data_dir(run, server):
    run.env = {k: v for k, v in run.env.items() if k not in ("KAGGLE_USERNAME", "KAGGLE_KEY")}
    one_error(run("fetch"), "no Kaggle credentials", "without an account", "`kit run --data-dir DIR`")
    one_error(run("fetch", "-c", "titanic"), "`kit run -c titanic --data-dir DIR`")  # the command runs as printed
    assert not (run.work / "data").exists()


# ---- the manifest is checked before any command reads the data ----------------------------------------------


FAST = ["--models", "linear", "--folds", "2", "--epochs", "1", "--quiet"]


@pytest.fixture
def fetched(run):
    assert run("fetch").returncode == 0
    return run


def _change(data: Path, name: str) -> None:
    lines = (data / name).read_text().splitlines(keepends=True)
    (data / name).write_text("".join(lines[:-1]))  # one row fewer


@pytest.mark.parametrize("name", TITANIC)
def test_cv_stops_before_training_when_a_fetched_file_has_changed(fetched, name):
    _change(fetched.work / "data/titanic", name)
    one_error(fetched("cv", *FAST), f"{Path('data/titanic') / name} has changed", "--allow-changed-data", "--force")
    assert not (fetched.work / "submissions").exists()  # nothing trained, nothing recorded


def test_a_fetched_file_that_is_gone_is_named_as_missing(fetched):
    (fetched.work / "data/titanic/gender_submission.csv").unlink()
    one_error(fetched("cv", *FAST), "gender_submission.csv is missing since kit fetched it", "--force")


@pytest.mark.parametrize(
    "command",
    [["reproduce"], ["cv", *FAST], ["submission", *FAST], ["run", *FAST], ["notebook", "--push", "--submit"]],
)
def test_every_command_that_reads_the_data_checks_the_manifest_first(fetched, server, command):
    _change(fetched.work / "data/titanic", "test.csv")
    one_error(fetched(*command), "test.csv has changed since kit fetched it")
    assert not (fetched.work / "submissions").exists()
    assert server.calls("SaveKernel") == [] and len(server.calls("DownloadDataFiles")) == 1


def test_submit_checks_the_manifest_before_the_csv_is_checked_against_test(fetched, server):
    data = fetched.work / "data/titanic"
    _change(data, "test.csv")  # the last passenger is gone from test.csv...
    csv = fetched.work / "rule.csv"
    csv.write_text("PassengerId,Survived\n" + "\n".join(_good_rows()[:-1]) + "\n")  # ...and from the CSV
    one_error(fetched("submit", str(csv)), "test.csv has changed since kit fetched it")
    assert server.uploads == [] and server.calls("StartSubmissionUpload") == []


def test_allow_changed_data_goes_on_with_a_warning(fetched):
    _change(fetched.work / "data/titanic", "train.csv")
    out = fetched("cv", *FAST, "--json", "--allow-changed-data")
    assert out.returncode == 0, out.stderr
    warnings = [line for line in out.stderr.splitlines() if line.startswith("kit: warning:")]
    assert len(warnings) == 1 and "train.csv has changed" in warnings[0]
    assert json.loads(out.stdout)["ensemble"]["mean"] > 0.5


def test_a_folder_without_a_kit_manifest_is_read_as_it_is(run, tmp_path):
    folder = tmp_path / "by-hand"
    shutil.copytree(shared_data("titanic"), folder)
    _change(folder, "train.csv")
    out = run("cv", *FAST, "--json", "--data-dir", str(folder))
    assert out.returncode == 0, out.stderr
    assert "warning" not in out.stderr
