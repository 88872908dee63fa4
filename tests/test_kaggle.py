"""kit's Kaggle commands, run as a user would (subprocesses), with the real `kaggle` client talking
to the fake Kaggle server: fetch, doctor, submit, submissions, and every fault a user can meet."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, shared_data
from fake_kaggle import FakeKaggle, fake_kaggle_fixture, zip_of  # noqa: F401 (registers the fake_kaggle fixture)

COMPETITIONS = "competitions.CompetitionApiService"


def solution() -> dict[str, str]:
    lines = (shared_data("titanic") / "gender_submission.csv").read_text().splitlines()[1:]
    return dict(line.split(",") for line in lines)


@pytest.fixture
def server(fake_kaggle: FakeKaggle) -> FakeKaggle:
    """The fake server holding the real Titanic zip, scoring against the gender rule's labels."""
    zip_bytes = (shared_data("titanic") / "titanic.zip").read_bytes()
    fake_kaggle.add_competition("titanic", zip_bytes, solution=solution(), columns=("PassengerId", "Survived"))
    return fake_kaggle


class Run:
    """Runs `python -m kit` in a work folder with the client pointed at the server; keeps every output."""

    def __init__(self, server: FakeKaggle, work: Path):
        self.server, self.work = server, work
        self.outputs: list[str] = []
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("KAGGLE_", "KIT_"))}
        self.env = clean | server.client_env(work.parent) | {"KIT_KAGGLE_BACKOFF": "0.05", "KIT_KAGGLE_RETRIES": "3"}
        # this interpreter first on PATH, so that nox --no-venv runs the same `python`
        self.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{self.env.get('PATH', '')}"

    def __call__(self, *args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
        out = subprocess.run(
            [sys.executable, "-m", "kit", *args],
            env=self.env | (env or {}),
            cwd=cwd or self.work,
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.outputs += [out.stdout, out.stderr]
        return out

    def leftovers(self) -> list[str]:
        """Everything under data/ and submissions/ in the work folder."""
        return sorted(
            str(p.relative_to(self.work)) for d in ("data", "submissions") for p in (self.work / d).rglob("*")
        )


@pytest.fixture
def run(server: FakeKaggle, tmp_path: Path) -> Run:
    work = tmp_path / "work"
    work.mkdir()
    runner = Run(server, work)
    yield runner
    every = "\n".join(runner.outputs)
    assert server.key not in every, "the Kaggle key leaked into kit's output"
    for path in work.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".csv", ".txt", ".log"):
            assert server.key not in path.read_text(errors="ignore"), path


def one_error(out: subprocess.CompletedProcess, *fragments: str, code: int = 2) -> None:
    """Exit 2 (or `code`), one sentence on stderr starting with error:, no traceback."""
    assert out.returncode == code, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    error_lines = [line for line in out.stderr.splitlines() if line.startswith("error: ")]
    assert len(error_lines) == 1, out.stderr
    for fragment in fragments:
        assert fragment in error_lines[0], error_lines[0]


# ---- fetch ----------------------------------------------------------------------------------------


def test_fetch_downloads_verifies_and_records_the_files(run, server):
    out = run("fetch")
    assert out.returncode == 0, out.stderr
    assert "%|" not in out.stderr  # no progress bar when stderr is not a terminal
    data = run.work / "data" / "titanic"
    assert out.stdout.strip().splitlines()[-1] == str(Path("data") / "titanic")
    for name in ("train.csv", "test.csv", "gender_submission.csv"):
        assert (data / name).read_bytes() == (shared_data("titanic") / name).read_bytes()
    manifest = json.loads((data / "kit-manifest.json").read_text())
    sums = dict(line.split()[::-1] for line in (shared_data("titanic") / "SHA256SUMS").read_text().splitlines())
    assert manifest["files"]["train.csv"] == sums["train.csv"]
    names = ("train.csv", "test.csv", "gender_submission.csv", "kit-manifest.json")
    assert run.leftovers() == sorted(["data/titanic", *(f"data/titanic/{n}" for n in names)])


def test_a_competition_without_a_definition_is_fetched_for_kit_new_to_draft_one(run, server):
    files = {name: (shared_data("titanic") / name).read_bytes() for name in ("train.csv", "test.csv")}
    files["sample_submission.csv"] = (shared_data("titanic") / "gender_submission.csv").read_bytes()
    server.add_competition("playground-x", zip_of(files))
    out = run("fetch", "-c", "playground-x")
    assert out.returncode == 0, out.stderr
    assert "no definition of playground-x yet: draft one from its files with `kit new playground-x`" in out.stderr
    data = run.work / "data" / "playground-x"
    assert out.stdout.strip().splitlines()[-1] == str(Path("data") / "playground-x")
    assert sorted(json.loads((data / "kit-manifest.json").read_text())["files"]) == sorted(files)
    again = run("fetch", "-c", "playground-x")
    assert again.returncode == 0 and "nothing downloaded" in again.stderr  # intact: no network work
    assert len(server.calls("DownloadDataFiles")) == 1
    assert run("new", "playground-x").returncode == 0  # drafted from the fetched files
    fast = ["--models", "linear", "--epochs", "2", "--folds", "2", "--quiet"]
    assert run("cv", "-c", "playground-x", *fast).returncode == 0
    one_error(run("fetch", "-c", "no-such-competition"), "Kaggle has no competition 'no-such-competition' (404)")


def test_a_second_fetch_does_no_network_work_and_force_downloads_again(run, server):
    assert run("fetch").returncode == 0
    downloads = len(server.calls("DownloadDataFiles"))
    again = run("fetch")
    assert again.returncode == 0 and "nothing downloaded" in again.stderr
    assert len(server.calls("DownloadDataFiles")) == downloads
    assert len(server.log) == downloads + len(server.calls("blob"))  # no call of any kind
    assert run("fetch", "--force").returncode == 0
    assert len(server.calls("DownloadDataFiles")) == downloads + 1


def test_a_damaged_file_is_noticed_and_fetched_again(run, server):
    assert run("fetch").returncode == 0
    (run.work / "data" / "titanic" / "train.csv").write_text("PassengerId\n1\n")
    assert run("fetch").returncode == 0
    assert len(server.calls("DownloadDataFiles")) == 2
    assert (run.work / "data/titanic/train.csv").read_bytes() == (shared_data("titanic") / "train.csv").read_bytes()


def test_inside_a_kaggle_notebook_fetch_uses_the_mounted_input_and_downloads_nothing(run, server, tmp_path):
    mounted = tmp_path / "kaggle" / "input" / "titanic"
    shutil.copytree(shared_data("titanic"), mounted)
    out = run("fetch", env={"KAGGLE_KERNEL_RUN_TYPE": "Interactive", "KIT_KAGGLE_ROOT": str(tmp_path / "kaggle")})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(mounted)
    assert server.log == [] and run.leftovers() == []


# ---- faults: each says what to do, exits 2, leaves nothing partial ----------------------------------


def test_no_credentials_says_where_to_put_them(run, server):
    env = {k: v for k, v in run.env.items() if k not in ("KAGGLE_USERNAME", "KAGGLE_KEY")}
    run.env = env
    out = run("fetch")
    one_error(out, "no Kaggle credentials", "~/.kaggle/access_token", "KAGGLE_USERNAME")
    assert "Authentication required" not in out.stdout + out.stderr  # the client's own help is kept quiet
    assert server.log == [] and run.leftovers() == []


def test_a_wrong_key_is_401_and_says_it_is_wrong_or_revoked(run, server):
    run.env["KAGGLE_KEY"] = "0" * 32
    one_error(run("fetch"), "401", "wrong or was revoked", "https://www.kaggle.com/settings/api")
    assert run.leftovers() == []


def test_rules_not_accepted_is_403_and_points_at_the_rules_page(run, server):
    server.competitions["titanic"].rules_accepted = False
    one_error(
        run("fetch"), "403", "https://www.kaggle.com/competitions/titanic/rules", "cannot be done through the API"
    )
    assert run.leftovers() == []


def test_an_unknown_competition_is_404(run, server, tmp_path):
    definition = (REPO / "competitions" / "titanic.toml").read_text().replace('slug = "titanic"', 'slug = "no-such"')
    (tmp_path / "no-such.toml").write_text(definition)
    one_error(run("fetch", "-c", str(tmp_path / "no-such.toml")), "no competition 'no-such'", "404")
    assert run.leftovers() == []


def test_429_is_retried_after_the_retry_after_delay(run, server):
    server.inject("DownloadDataFiles", 429, times=1, retry_after=1)
    out = run("fetch")
    assert out.returncode == 0, out.stderr
    assert "retrying in 1.0 s" in out.stderr  # the server's Retry-After, not kit's own backoff
    assert len(server.calls("DownloadDataFiles")) == 2


def test_429_that_never_ends_gives_up_with_a_clear_message(run, server):
    server.inject("DownloadDataFiles", 429, retry_after=0)
    one_error(run("fetch"), "rate-limiting", "wait a few minutes")
    assert len(server.calls("DownloadDataFiles")) == 4  # one try and three retries: bounded
    assert run.leftovers() == []


def test_500_for_the_first_calls_is_retried_until_it_works(run, server):
    server.inject("DownloadDataFiles", 500, times=2)
    out = run("fetch")
    assert out.returncode == 0, out.stderr
    assert len(server.calls("DownloadDataFiles")) == 3


def test_500_every_time_gives_up_with_a_clear_message(run, server):
    server.inject("DownloadDataFiles", 500)
    one_error(run("fetch"), "servers failed (HTTP 500)", "try again later")
    assert run.leftovers() == []


def test_no_connection_gives_up_with_a_clear_message(run, server):
    server.stop()  # the proxy address now refuses connections
    one_error(run("fetch"), "cannot reach Kaggle", "network")
    assert run.leftovers() == []


def test_a_truncated_download_extracts_nothing_and_leaves_nothing(run, server):
    whole = (shared_data("titanic") / "titanic.zip").read_bytes()
    server.competitions["titanic"].zip_bytes = whole[: len(whole) // 2]
    one_error(run("fetch"), "truncated or corrupt", "nothing was extracted")
    assert not (run.work / "data").exists()  # a failed fetch leaves no folder behind


def test_a_connection_cut_mid_download_is_retried_by_the_client(run, server):
    server.truncate_downloads = 1  # the client resumes by itself (about 2.5 s later)
    assert run("fetch").returncode == 0
    assert (run.work / "data/titanic/test.csv").is_file()


@pytest.mark.parametrize("member", ["../evil.txt", "/abs.txt", "sub/../../evil.txt"])
def test_a_zip_with_a_member_outside_the_folder_is_refused(run, server, member):
    whole = (shared_data("titanic") / "train.csv").read_bytes()
    server.competitions["titanic"].zip_bytes = zip_of({"train.csv": whole, "test.csv": whole, member: b"x"})
    one_error(run("fetch"), "unsafe path", "nothing was extracted")
    assert not (run.work / "data").exists()  # a failed fetch leaves no folder behind
    assert not (run.work / "evil.txt").exists() and not (run.work / "data" / "evil.txt").exists()


def test_a_zip_that_unpacks_past_the_cap_is_refused(run, server):
    out = run("fetch", env={"KIT_MAX_UNZIPPED_BYTES": "1000"})
    one_error(out, "over the 1,000 byte cap", "nothing was extracted")
    assert not (run.work / "data").exists()  # a failed fetch leaves no folder behind


def test_a_slow_server_is_waited_for(run, server):
    server.slow_seconds = 1.5
    out = run("fetch")
    assert out.returncode == 0, out.stderr


def test_a_failed_fetch_keeps_the_previous_good_data(run, server):
    assert run("fetch").returncode == 0
    server.inject("DownloadDataFiles", 500)
    one_error(run("fetch", "--force"), "HTTP 500")
    assert (run.work / "data/titanic/train.csv").read_bytes() == (shared_data("titanic") / "train.csv").read_bytes()
    assert sorted(p.name for p in (run.work / "data/titanic").iterdir()) == [
        "gender_submission.csv", "kit-manifest.json", "test.csv", "train.csv"
    ]  # fmt: skip


# ---- submit -------------------------------------------------------------------------------------------


@pytest.fixture
def fetched(run):
    assert run("fetch").returncode == 0
    return run


def _write(run: Run, name: str, text: str) -> Path:
    path = run.work / name
    path.write_text(text)
    return path


def _good_rows() -> list[str]:
    return [f"{pid},{label}" for pid, label in solution().items()]


INVALID = {
    "wrong header": lambda rows: "Id,Survived\n" + "\n".join(rows) + "\n",
    "417 rows": lambda rows: "PassengerId,Survived\n" + "\n".join(rows[:-1]) + "\n",
    "a duplicate id": lambda rows: "PassengerId,Survived\n" + "\n".join([rows[0], *rows[:-1]]) + "\n",
    "floats": lambda rows: "PassengerId,Survived\n" + "\n".join(r + ".0" for r in rows) + "\n",
    "NaN": lambda rows: "PassengerId,Survived\n" + "\n".join([rows[0].split(",")[0] + ",nan", *rows[1:]]) + "\n",
}


@pytest.mark.parametrize("case", list(INVALID))
def test_an_invalid_csv_never_reaches_the_server(fetched, server, case):
    path = _write(fetched, "bad.csv", INVALID[case](_good_rows()))
    one_error(fetched("submit", str(path)), "bad.csv was not sent")
    assert server.calls("StartSubmissionUpload") == [] and server.uploads == []
    assert not (fetched.work / "submissions").exists()


def test_submit_without_credentials_says_how_to_check_the_file_and_upload_it_by_hand(fetched, server):
    # a trial's user, file in hand, was told that `kit run --data-dir DIR` trains and writes one
    path = _write(fetched, "rule.csv", "PassengerId,Survived\n" + "\n".join(_good_rows()) + "\n")
    calls = len(server.log)
    fetched.env = {k: v for k, v in fetched.env.items() if k not in ("KAGGLE_USERNAME", "KAGGLE_KEY")}
    one_error(fetched("submit", str(path)), "no Kaggle credentials", f"`kit submit {path} --check`", "Submit page")
    # with -c, the command it gives names the competition too: run as printed, it checks against that one's files
    one_error(fetched("submit", str(path), "-c", "titanic"), f"`kit submit {path} -c titanic --check`")
    assert len(server.log) == calls and server.uploads == []
    assert not (fetched.work / "submissions").exists()


def test_submit_uploads_records_waits_and_prints_the_public_score(fetched, server):
    server.pending_polls = 2
    path = _write(fetched, "rule.csv", "PassengerId,Survived\n" + "\n".join(_good_rows()) + "\n")
    out = fetched("submit", str(path), "-m", "gender rule", "--wait", "--poll-interval", "0.1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1].startswith("public score: 1.00000")
    assert "submissions left today" in out.stderr
    assert server.uploads == [path.read_bytes()]
    ledger = json.loads((fetched.work / "submissions/titanic/ledger.json").read_text())
    assert len(ledger) == 1
    entry = ledger[0]
    assert (entry["message"], entry["status"], entry["public_score"]) == ("gender rule", "COMPLETE", "1.00000")
    assert entry["file"].endswith("rule.csv") and len(entry["sha256"]) == 64 and entry["ref"]


def test_submit_check_runs_the_upload_checks_with_no_account_and_sends_nothing(fetched, server):
    fetched.env = {k: v for k, v in fetched.env.items() if k not in ("KAGGLE_USERNAME", "KAGGLE_KEY")}
    good = _write(fetched, "rule.csv", "PassengerId,Survived\n" + "\n".join(_good_rows()) + "\n")
    out = fetched("submit", str(good), "--check")
    assert out.returncode == 0, out.stderr
    assert "rule.csv passes every check" in out.stdout and "nothing was sent" in out.stdout
    bad = _write(fetched, "bad.csv", INVALID["417 rows"](_good_rows()))
    one_error(fetched("submit", str(bad), "--check"), "bad.csv was not sent")
    assert server.calls("StartSubmissionUpload") == [] and server.uploads == []
    assert not (fetched.work / "submissions").exists()  # no ledger entry: nothing was sent


def test_submit_check_says_when_the_same_file_was_sent_before(fetched, server):
    path = _write(fetched, "rule.csv", "PassengerId,Survived\n" + "\n".join(_good_rows()) + "\n")
    assert fetched("submit", str(path)).returncode == 0
    out = fetched("submit", str(path), "--check")
    assert out.returncode == 1 and "already submitted" in out.stdout
    assert len(server.uploads) == 1


def test_the_same_file_is_not_sent_twice_unless_forced(fetched, server):
    path = _write(fetched, "rule.csv", "PassengerId,Survived\n" + "\n".join(_good_rows()) + "\n")
    assert fetched("submit", str(path)).returncode == 0
    one_error(fetched("submit", str(path)), "already submitted", "--force")
    assert len(server.uploads) == 1
    assert fetched("submit", str(path), "--force").returncode == 0
    assert len(server.uploads) == 2


def test_a_submission_kaggle_cannot_score_is_reported(fetched, server):
    server.competitions["titanic"].columns = ("PassengerId", "Transported")  # the server expects another header
    path = _write(fetched, "rule.csv", "PassengerId,Survived\n" + "\n".join(_good_rows()) + "\n")
    # exit 3, not 2: the file was sent
    one_error(fetched("submit", str(path), "--wait", "--poll-interval", "0.1"), "could not score", "ref", code=3)
    assert json.loads((fetched.work / "submissions/titanic/ledger.json").read_text())[0]["status"] == "ERROR"


# ---- the main job, end to end -----------------------------------------------------------------------


def _clean_checkout(dest: Path) -> Path:
    """The repository's files as a fresh clone would have them (tracked and not ignored), no outputs."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for name in listed:
        if (REPO / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    return dest


def test_nox_titanic_submit_wait_end_to_end_then_submissions_shows_cv_beside_public(run, server, tmp_path):
    checkout = _clean_checkout(tmp_path / "checkout")
    assert not (checkout / "data").exists()
    # --no-venv --no-install: this interpreter already has kit's dependencies; nox still runs the
    # session's own command line, `python -m kit run -c titanic ...`, in the checkout.
    out = subprocess.run(
        [sys.executable, "-m", "nox", "--no-venv", "--no-install", "-s", "titanic", "--",
         "--submit", "--wait", "--poll-interval", "0.1"],
        cwd=checkout, env=run.env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    run.outputs += [out.stdout, out.stderr]
    assert out.returncode == 0, out.stdout + out.stderr
    assert (checkout / "data/titanic/kit-manifest.json").is_file()
    csvs = list((checkout / "submissions/titanic").glob("*.csv"))
    assert len(csvs) == 1 and server.uploads == [csvs[0].read_bytes()]
    expected = server.submissions[0].score
    assert f"public score: {expected}" in out.stdout

    listing = run("submissions", cwd=checkout)
    assert listing.returncode == 0, listing.stderr
    header, row = listing.stdout.strip().splitlines()
    cv = json.loads(csvs[0].with_suffix(".json").read_text())["cv_score"]
    assert header.split() == ["date", "file", "message", "status", "public", "cv"]
    assert csvs[0].name in row and "COMPLETE" in row and expected in row and f"{cv:.4f}" in row


# ---- doctor ---------------------------------------------------------------------------------------------


def test_doctor_names_the_credential_source_and_checks_the_api(fetched, server):
    out = fetched("doctor")
    assert out.returncode == 0, out.stdout
    assert "credentials: the KAGGLE_USERNAME and KAGGLE_KEY environment variables" in out.stdout
    assert "kaggle api: works (signed in as fakeuser)" in out.stdout
    assert "data: data/titanic is present and intact" in out.stdout
    assert "training: torch " in out.stdout and " CPU threads, " in out.stdout
    assert "competition: titanic (no -c was given; -c SLUG checks yours)" in out.stdout  # a trial read it as theirs
    assert "competition: titanic\n" in fetched("doctor", "-c", "titanic").stdout


def test_doctor_warns_about_a_kaggle_json_readable_by_others(run, server):
    config = Path(run.env["KAGGLE_CONFIG_DIR"])
    (config / "kaggle.json").write_text(json.dumps({"username": server.username, "key": server.key}))
    (config / "kaggle.json").chmod(0o644)
    env = {k: v for k, v in run.env.items() if k not in ("KAGGLE_USERNAME", "KAGGLE_KEY")}
    run.env = env
    out = run("doctor")
    assert out.returncode == 1
    assert f"credentials: the API key in {config / 'kaggle.json'}" in out.stdout
    assert f"chmod 600 {config / 'kaggle.json'}" in out.stdout
    assert "kaggle api: works" in out.stdout
    assert "does not exist; run `kit fetch -c titanic`" in out.stdout


def test_doctor_reports_a_rejected_key_without_printing_it(run, server):
    run.env["KAGGLE_KEY"] = "f" * 32
    out = run("doctor")
    assert out.returncode == 1 and "kaggle api: fails" in out.stdout and "401" in out.stdout
    assert "f" * 32 not in out.stdout + out.stderr


def test_a_failed_upload_is_reported_and_not_recorded(fetched, server):
    server.inject("upload", 503)
    path = _write(fetched, "rule.csv", "PassengerId,Survived\n" + "\n".join(_good_rows()) + "\n")
    one_error(fetched("submit", str(path)), "did not accept the upload")
    assert server.calls("CreateSubmission") == []
    assert not (fetched.work / "submissions/titanic/ledger.json").exists()  # only the lock file is there


def test_doctor_says_what_the_models_would_train_on(monkeypatch):
    import torch

    from kit import threads
    from kit.doctor import training_hardware

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert training_hardware().endswith(", no CUDA GPU (models train on the CPU)")
    monkeypatch.setattr(threads, "_GIVEN", 7)  # what a large grid trains on, not the one thread kit works on between
    assert f"torch {torch.__version__}, 7 CPU threads" in training_hardware()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: "Fake GPU 80GB")
    assert training_hardware().endswith(", CUDA GPU Fake GPU 80GB (device cuda trains on it)")
