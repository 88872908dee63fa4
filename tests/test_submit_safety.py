"""A submission is sent once and only once, and every message after an upload tells the truth about what
Kaggle has: concurrent submits, dropped connections, Ctrl-C, unscored and unpublished results, exit codes,
and ledgers and run logs written by older versions or of the wrong shape. Kaggle is the fake server,
talked to by the real `kaggle` client from `python -m kit` subprocesses (the harness of test_kaggle)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_kaggle import FakeKaggle, fake_kaggle_fixture  # noqa: F401 (registers the fake_kaggle fixture)
from test_kaggle import Run, one_error, solution

from kit import submission
from kit.cli import main


@pytest.fixture
def server(fake_kaggle: FakeKaggle) -> FakeKaggle:
    """The fake server holding the real Titanic zip, scoring against the gender rule's labels."""
    from conftest import shared_data

    zip_bytes = (shared_data("titanic") / "titanic.zip").read_bytes()
    fake_kaggle.add_competition("titanic", zip_bytes, solution=solution(), columns=("PassengerId", "Survived"))
    return fake_kaggle


@pytest.fixture
def kit(server: FakeKaggle, tmp_path: Path) -> Run:
    """`python -m kit` in a work folder that holds the fetched data; the key never shows in any output."""
    work = tmp_path / "work"
    work.mkdir()
    runner = Run(server, work)
    assert runner("fetch").returncode == 0
    yield runner
    assert server.key not in "\n".join(runner.outputs), "the Kaggle key leaked into kit's output"


def rule_csv(kit: Run, name: str = "rule.csv") -> Path:
    """The gender rule's submission: a valid file that scores 1.0 against the fake's solution."""
    path = kit.work / name
    path.write_text("PassengerId,Survived\n" + "".join(f"{i},{label}\n" for i, label in solution().items()))
    return path


def ledger(kit: Run) -> list[dict]:
    return json.loads((kit.work / "submissions/titanic/ledger.json").read_text())


def start(kit: Run, *args: str) -> subprocess.Popen:
    """`python -m kit ARGS` started in the background, for what needs two at once or a Ctrl-C."""
    return subprocess.Popen(
        [sys.executable, "-m", "kit", *args],
        env=kit.env,
        cwd=kit.work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as a terminal delivers it, whatever this run inherited: a suite started in the background by a
        # shell without job control ignores SIGINT, and so would every kit started here
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def finish(kit: Run, proc: subprocess.Popen) -> subprocess.CompletedProcess:
    stdout, stderr = proc.communicate(timeout=300)
    kit.outputs += [stdout, stderr]
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def until(condition, what: str, limit: float = 120.0) -> None:
    """Wait for something another process does (a generous limit; no assertion on how long it took)."""
    end = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < end, f"gave up waiting for {what}"
        time.sleep(0.05)


# ---- one upload at a time, and never twice ---------------------------------------------------------


def test_two_concurrent_submits_of_the_same_file_make_one_submission(kit, server):
    server.delay("CreateSubmission", 3.0)  # the first upload is still going when the second starts
    path = rule_csv(kit)
    procs = [start(kit, "submit", str(path)) for _ in range(2)]
    outs = sorted((finish(kit, p) for p in procs), key=lambda o: o.returncode)
    assert [o.returncode for o in outs] == [0, 2], [o.stderr for o in outs]
    one_error(outs[1], "already submitted", "--force")
    assert len(server.submissions) == 1 and len(server.calls("StartSubmissionUpload")) == 1
    assert [e["ref"] for e in ledger(kit)] == [server.submissions[0].ref]


def test_a_connection_dropped_after_kaggle_created_the_submission_makes_no_second_one(kit, server):
    server.drop_reply("CreateSubmission")  # created, then the connection dies without a reply
    out = kit("submit", str(rule_csv(kit)))
    assert out.returncode == 0, out.stderr
    assert len(server.calls("CreateSubmission")) == 1 and len(server.submissions) == 1
    assert "Kaggle has the submission" in out.stderr
    [entry] = ledger(kit)
    assert (entry["ref"], entry["status"]) == (server.submissions[0].ref, "PENDING")


def test_a_create_that_failed_before_kaggle_made_anything_is_sent_again_once(kit, server):
    server.inject("CreateSubmission", 500, times=1)  # refused before anything was created
    out = kit("submit", str(rule_csv(kit)))
    assert out.returncode == 0, out.stderr
    assert len(server.calls("ListSubmissions")) == 1  # looked for it first
    assert len(server.calls("CreateSubmission")) == 2 and len(server.submissions) == 1
    assert [e["ref"] for e in ledger(kit)] == [server.submissions[0].ref]


def test_an_upload_kaggle_may_have_is_recorded_as_unknown_and_not_sent_again_blindly(kit, server):
    server.drop_reply("CreateSubmission")
    server.inject("ListSubmissions", 500, times=4)  # the check afterwards fails too (one try, three retries)
    path = rule_csv(kit)
    one_error(kit("submit", str(path)), "may have reached Kaggle", "kit submissions -c titanic", code=3)
    [entry] = ledger(kit)
    assert (entry["ref"], entry["status"]) == (None, "UNKNOWN")
    one_error(kit("submit", str(path)), "already submitted", "status unknown", "--force")
    assert len(server.calls("CreateSubmission")) == 1
    # once Kaggle's list can be read, the entry gets the ref of the submission the upload made
    assert kit("submissions").returncode == 0
    assert ledger(kit)[0]["ref"] == server.submissions[0].ref


# ---- what kit says after an upload -----------------------------------------------------------------


def test_ctrl_c_while_waiting_for_the_score_says_the_file_was_submitted(kit, server):
    server.pending_polls = 10**6
    proc = start(kit, "submit", str(rule_csv(kit)), "--wait", "--poll-interval", "0.1")
    until(lambda: server.calls("GetSubmission"), "the first status check")
    proc.send_signal(signal.SIGINT)
    out = finish(kit, proc)
    assert out.returncode == 130, out.stderr
    ref = server.submissions[0].ref
    assert f"rule.csv was submitted to titanic (ref {ref}" in out.stderr
    assert "kit submissions -c titanic" in out.stderr and "Traceback" not in out.stderr
    assert "nothing half-written" not in out.stderr
    assert [e["ref"] for e in ledger(kit)] == [ref]


def test_ctrl_c_during_the_upload_says_kaggle_may_have_it(kit, server):
    server.delay("CreateSubmission", 5.0)
    path = rule_csv(kit)
    proc = start(kit, "submit", str(path))
    until(lambda: server.calls("CreateSubmission"), "the create call")
    proc.send_signal(signal.SIGINT)
    out = finish(kit, proc)
    assert out.returncode == 130, out.stderr
    assert "may have reached Kaggle" in out.stderr and "kit submissions -c titanic" in out.stderr
    assert "nothing half-written" not in out.stderr and "Traceback" not in out.stderr
    assert [e["status"] for e in ledger(kit)] == ["UNKNOWN"]
    one_error(kit("submit", str(path)), "already submitted", "status unknown")


def test_ctrl_c_before_anything_was_sent_keeps_the_plain_message(monkeypatch, capsys):
    from kit import cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "cmd_report", interrupted)
    assert main(["report"]) == 130
    assert capsys.readouterr().err == "interrupted; nothing half-written was kept.\n"


def test_a_submission_kaggle_cannot_score_stays_error_in_the_ledger_and_the_guard(kit, server):
    server.competitions["titanic"].columns = ("PassengerId", "Transported")
    path = rule_csv(kit)
    one_error(kit("submit", str(path), "--wait", "--poll-interval", "0.1"), "could not score", "ref", code=3)
    assert ledger(kit)[0]["status"] == "ERROR"
    again = kit("submit", str(path))
    one_error(again, "already submitted", "status ERROR", "Submission header must be")
    assert "pending" not in again.stderr


def test_a_score_kaggle_does_not_publish_says_not_published(kit, server):
    server.competitions["titanic"].solution = None  # scored, but no public score
    out = kit("submit", str(rule_csv(kit)), "--wait", "--poll-interval", "0.1")
    assert out.returncode == 0, out.stderr
    ref = server.submissions[0].ref
    assert out.stdout.splitlines() == [f"submitted: ref {ref}, status COMPLETE", "public score: not published"]
    listing = kit("submissions")
    assert "not published" in listing.stdout


def test_without_wait_the_outcome_names_the_ref_status_and_how_to_follow_it(kit, server):
    out = kit("submit", str(rule_csv(kit)))
    assert out.returncode == 0, out.stderr
    ref = server.submissions[0].ref
    assert out.stdout.strip() == f"submitted: ref {ref}, status PENDING; follow it with `kit submissions -c titanic`"


def test_a_wait_that_runs_out_exits_3_and_names_the_ref(kit, server):
    server.pending_polls = 10**6
    out = kit("submit", str(rule_csv(kit)), "--wait", "--poll-interval", "0.1", "--wait-timeout", "0.3")
    one_error(out, "was submitted", f"ref {server.submissions[0].ref}", "still PENDING", "kit submissions", code=3)


def test_a_status_check_that_keeps_failing_exits_3_not_2(kit, server):
    server.inject("GetSubmission", 500)
    out = kit("submit", str(rule_csv(kit)), "--wait", "--poll-interval", "0.1")
    one_error(out, "was submitted", "reading its status failed", code=3)
    assert len(server.submissions) == 1


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "soon"])
@pytest.mark.parametrize("option", ["--poll-interval", "--wait-timeout"])
def test_poll_interval_and_wait_timeout_must_be_above_zero_before_anything_is_sent(kit, server, option, value):
    before = len(server.log)
    out = kit("submit", str(rule_csv(kit)), "--wait", option, value)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"{option}: must be a number of seconds above 0" in out.stderr
    assert len(server.log) == before and not (kit.work / "submissions").exists()


@pytest.mark.parametrize("command", [["run", "--submit"], ["notebook", "--push"]])
def test_run_and_notebook_check_the_poll_interval_before_any_work(command, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--poll-interval", "-1"])
    assert exit_.value.code == 2 and "must be a number of seconds above 0" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_submit_help_documents_the_exit_codes_and_the_wait_timeout():
    out = subprocess.run([sys.executable, "-m", "kit", "submit", "--help"], capture_output=True, text=True)
    text = " ".join(out.stdout.split())
    assert "--wait-timeout SECONDS" in text and "(default 3600)" in text
    assert "2 nothing was sent" in text and "3 sent, or possibly sent" in text


def test_the_daily_limit_message_is_one_sentence_without_doubled_punctuation(kit, server):
    server.daily_limit = 0
    out = kit("submit", str(rule_csv(kit)))
    one_error(out, "daily Submission allowance")
    error = next(line for line in out.stderr.splitlines() if line.startswith("error: "))
    for doubled in ("..", ".).", ").)", ".;"):
        assert doubled not in error, error


# ---- ledgers and run logs ------------------------------------------------------------------------------


def test_a_ledger_entry_without_time_from_an_older_kit_still_guards_against_a_resend(kit, server):
    path = rule_csv(kit)
    from kit.competition import sha256_file

    old = [{"file": str(path), "sha256": sha256_file(path), "ref": 7, "status": "COMPLETE", "public_score": "0.7"}]
    (kit.work / "submissions/titanic").mkdir(parents=True)
    (kit.work / "submissions/titanic/ledger.json").write_text(json.dumps(old))
    one_error(kit("submit", str(path)), "already submitted", "ref 7", "public score 0.7")
    assert server.uploads == []


@pytest.mark.parametrize("content", ['{"entries": []}', "[1, 2]", '[{"ref": 1}, "x"]'])
def test_a_ledger_of_the_wrong_shape_is_refused_and_kept(kit, server, content):
    (kit.work / "submissions/titanic").mkdir(parents=True)
    ledger_file = kit.work / "submissions/titanic/ledger.json"
    ledger_file.write_text(content)
    one_error(kit("submit", str(rule_csv(kit))), "ledger.json", "not", "aside")
    assert server.uploads == [] and ledger_file.read_text() == content


def test_kit_report_reads_runs_written_by_older_versions(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    runs = [
        {"time": "2024-01-02T00:00:00+00:00", "models": ["linear"], "recipe": "article", "recipe_hash": "abc",
         "split": "stratified", "folds": 5, "seeds": 1, "cv_mean": 0.8, "cv_std": 0.01, "file": None},
        {"time": "2024-01-01T00:00:00+00:00", "models": ["nn"], "recipe": "article", "split": "kfold",
         "folds": 5, "cv_mean": 0.82, "file": "old.csv"},  # no cv_std, seeds, recipe_hash, sha256
        {"models": ["deep"], "recipe": "article", "split": "random", "cv_mean": 0.79},  # no time
        {"recipe": "article"},  # no score at all: listed last
    ]  # fmt: skip
    (tmp_path / "submissions/titanic").mkdir(parents=True)
    (tmp_path / "submissions/titanic/runs.json").write_text(json.dumps(runs))
    (tmp_path / "submissions/titanic/ledger.json").write_text(json.dumps([{"ref": 1, "public_score": "0.7"}]))
    assert main(["report"]) == 0
    table = capsys.readouterr().out.splitlines()[1:-1]  # under the header, above the plot's path
    assert ["nn" in table[0].split(), "linear" in table[1].split(), "deep" in table[2].split()] == [True] * 3
    assert "0.8200" in table[0] and "kfold5" in table[0] and "old.csv" in table[0]
    assert table[3].split()[:2] == ["-", "-"]


@pytest.mark.parametrize("content", ['{"runs": []}', '["x"]'])
def test_a_run_log_of_the_wrong_shape_is_refused_and_kept(content, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "submissions/titanic").mkdir(parents=True)
    runs = tmp_path / "submissions/titanic/runs.json"
    runs.write_text(content)
    assert main(["report"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "runs.json" in err and len(err.splitlines()) == 1
    assert runs.read_text() == content


# ---- the CSV and its sidecar ----------------------------------------------------------------------------


def test_ctrl_c_between_the_sidecar_and_the_csv_leaves_both_or_neither(tmp_path, monkeypatch):
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's own, whatever this run inherited
    try:
        _ctrl_c_between_the_sidecar_and_the_csv(tmp_path, monkeypatch)
    finally:
        signal.signal(signal.SIGINT, previous)


def _ctrl_c_between_the_sidecar_and_the_csv(tmp_path, monkeypatch):
    real_replace = os.replace
    renamed = []

    def replace_then_ctrl_c(src, dst):
        real_replace(src, dst)
        renamed.append(Path(dst).name)
        if len(renamed) == 1:  # the first file is in place: Ctrl-C now
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(os, "replace", replace_then_ctrl_c)
    csv = tmp_path / "sub.csv"
    with pytest.raises(KeyboardInterrupt):
        submission.write_submission(csv, "PassengerId,Survived\n1,0\n", {"cv_score": 0.8})
    assert csv.exists() == csv.with_suffix(".json").exists() == True  # noqa: E712 (both, not just one)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub.csv", "sub.json"]  # no temp files
