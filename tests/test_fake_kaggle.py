"""The fake Kaggle server speaks the protocol of the real `kaggle` client, proven by running that client.

The client runs in subprocesses (CLI and Python API) because `import kaggle` reads the environment and
authenticates at import time. A download cut short every time is checked with plain urllib only: the
real client retries it for about 65 s before it gives up.
"""

from __future__ import annotations

import csv
import http.client
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from base64 import b64encode
from pathlib import Path

import pytest
from fake_kaggle import FakeKaggle, fake_kaggle_fixture, zip_of  # noqa: F401 (registers the fake_kaggle fixture)

SHARED = Path(os.environ.get("KIT_SHARED", Path(__file__).resolve().parents[2] / "shared"))
TITANIC = SHARED / "data" / "titanic"
KAGGLE_CLI = Path(sys.executable).parent / "kaggle"
COMPETITIONS = "competitions.CompetitionApiService"
# Straight to the server, whatever proxy the test process itself has in its environment.
URLLIB = urllib.request.build_opener(urllib.request.ProxyHandler({}))

# Run before the caller's code in every API subprocess; `out` is what comes back, as JSON.
API_PRELUDE = """
import json, os, requests, kaggle
api = kaggle.api

def http_error(call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except requests.HTTPError as e:
        return {"status": e.response.status_code, "message": str(e),
                "retry_after": e.response.headers.get("Retry-After")}
    return None
"""


def client_environ(server: FakeKaggle, tmp_path: Path, **extra: str) -> dict[str, str]:
    # Every KAGGLE_* variable is read into the client's config, a stray token overrides the key.
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAGGLE_")}
    return env | server.client_env(tmp_path) | extra


def cli(server: FakeKaggle, tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(KAGGLE_CLI), *args],
        env=client_environ(server, tmp_path, **env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def api(server: FakeKaggle, tmp_path: Path, code: str, **env: str):
    """Runs `code` against `api` = kaggle.api in a fresh interpreter and returns its `out`."""
    script = API_PRELUDE + textwrap.dedent(code) + "\nprint('@@OUT' + json.dumps(out, default=str))\n"
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env=client_environ(server, tmp_path, **env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.rsplit("@@OUT", 1)[1])


def post(server: FakeKaggle, method: str, body: dict, service: str = COMPETITIONS) -> tuple[int, dict, dict]:
    """One RPC with plain urllib and the server's key: (status, headers, JSON reply)."""
    auth = b64encode(f"{server.username}:{server.key}".encode()).decode()
    request = urllib.request.Request(
        f"{server.url}/api/v1/{service}/{method}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Basic {auth}"},
    )
    try:
        with URLLIB.open(request, timeout=10) as reply:
            return reply.status, dict(reply.headers), json.loads(reply.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read())


def read_solution() -> dict[str, str]:
    with open(TITANIC / "gender_submission.csv", newline="") as f:
        return {pid: label for pid, label in list(csv.reader(f))[1:]}


@pytest.fixture
def titanic(fake_kaggle: FakeKaggle) -> FakeKaggle:
    """The server with the real Titanic zip, scored against gender_submission.csv."""
    zip_bytes = (TITANIC / "titanic.zip").read_bytes()
    fake_kaggle.add_competition("titanic", zip_bytes, solution=read_solution(), columns=("PassengerId", "Survived"))
    return fake_kaggle


def write_submission(path: Path, rows: dict[str, str], header: str = "PassengerId,Survived") -> Path:
    path.write_text(header + "\n" + "".join(f"{pid},{label}\n" for pid, label in rows.items()))
    return path


# ---- listing and downloading ------------------------------------------------------------------------


def test_cli_lists_competitions_and_files(titanic, tmp_path):
    listed = cli(titanic, tmp_path, "competitions", "list", "-s", "titanic")
    files = cli(titanic, tmp_path, "competitions", "files", "titanic")
    assert listed.returncode == 0 and "competitions/titanic" in listed.stdout
    assert files.returncode == 0, files.stdout + files.stderr
    assert all(name in files.stdout for name in ("train.csv", "test.csv", "gender_submission.csv"))
    assert [e["auth_kind"] for e in titanic.log] == ["basic", "basic"]
    assert titanic.calls("ListDataFiles")[0]["body"]["competitionName"] == "titanic"


def test_api_downloads_the_real_titanic_zip_byte_for_byte(titanic, tmp_path):
    out = api(
        titanic,
        tmp_path,
        """
        files = api.competition_list_files("titanic").files
        api.competition_download_files("titanic", path="dl", quiet=True)
        api.competition_download_file("titanic", "train.csv", path="one", quiet=True)
        out = {"files": sorted([f.name, f.total_bytes] for f in files), "mtime": os.path.getmtime("dl/titanic.zip")}
        """,
    )
    assert out["files"] == [["gender_submission.csv", 3258], ["test.csv", 28629], ["train.csv", 61194]]
    assert (tmp_path / "dl" / "titanic.zip").read_bytes() == (TITANIC / "titanic.zip").read_bytes()
    assert (tmp_path / "one" / "train.csv").read_bytes() == (TITANIC / "train.csv").read_bytes()
    assert time.gmtime(out["mtime"])[:3] == (2024, 1, 1)  # the fixed Last-Modified, as the file's date
    assert [e["path"] for e in titanic.calls("blob")] == ["/blobs/titanic.zip", "/blobs/titanic/train.csv"]


def test_a_zip_with_hostile_member_names_is_served_unchanged(fake_kaggle, tmp_path):
    hostile = zip_of({"../evil.txt": b"x", "/abs.txt": b"y", "train.csv": b"id,y\n1,0\n"})
    fake_kaggle.add_competition("hostile", hostile)
    out = api(
        fake_kaggle,
        tmp_path,
        """
        api.competition_download_files("hostile", path="dl", quiet=True)
        out = sorted(f.name for f in api.competition_list_files("hostile").files)
        """,
    )
    assert out == ["../evil.txt", "/abs.txt", "train.csv"]
    assert (tmp_path / "dl" / "hostile.zip").read_bytes() == hostile


# ---- submitting -------------------------------------------------------------------------------------


def test_cli_submission_of_gender_submission_scores_one(titanic, tmp_path):
    done = cli(
        titanic,
        tmp_path,
        "competitions",
        "submit",
        "titanic",
        "-f",
        str(TITANIC / "gender_submission.csv"),
        "-m",
        "gender baseline",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Submission ref: 1000001" in done.stdout and "9 submissions remaining today." in done.stdout
    out = api(
        titanic,
        tmp_path,
        """
        s = api.get_submission(1000001)
        out = [s.status.name, s.public_score, s.description, s.file_name]
        """,
    )
    assert out == ["COMPLETE", "1.00000", "gender baseline", "gender_submission.csv"]
    assert titanic.uploads == [(TITANIC / "gender_submission.csv").read_bytes()]
    start = titanic.calls("StartSubmissionUpload")[0]["body"]
    assert start["fileName"] == "gender_submission.csv" and start["contentLength"] == len(titanic.uploads[0])
    assert [e["auth_kind"] for e in titanic.calls("upload")] == [None]  # the client sends the PUT bare
    assert titanic.calls("CreateSubmission")[0]["body"]["submissionDescription"] == "gender baseline"


def test_submissions_are_scored_by_accuracy_listed_newest_first_and_counted(titanic, tmp_path):
    solution = read_solution()
    write_submission(tmp_path / "zeros.csv", dict.fromkeys(solution, "0"))
    write_submission(tmp_path / "gender.csv", solution)
    out = api(
        titanic,
        tmp_path,
        """
        refs = [api.competition_submit(f, "m", "titanic", quiet=True).ref for f in ("zeros.csv", "gender.csv")]
        listed = [[s.ref, s.public_score] for s in api.competition_submissions("titanic")]
        limits = api.competition_get_submission_limits("titanic")
        out = {"refs": refs, "listed": listed, "limits": [limits.num_today, limits.num_total, limits.num_allowed_now]}
        """,
    )
    zeros_score = f"{sum(v == '0' for v in solution.values()) / len(solution):.5f}"
    assert out["refs"] == [1000001, 1000002]
    assert out["listed"] == [[1000002, "1.00000"], [1000001, zeros_score]]
    assert out["limits"] == [2, 2, 8]


def test_a_new_submission_stays_pending_for_the_configured_looks(titanic, tmp_path):
    titanic.pending_polls = 2
    write_submission(tmp_path / "gender.csv", read_solution())
    out = api(
        titanic,
        tmp_path,
        """
        ref = api.competition_submit("gender.csv", "m", "titanic", quiet=True).ref
        looks = [api.get_submission(ref) for _ in range(3)]
        out = [[s.status.name, s.public_score] for s in looks]
        """,
    )
    assert out == [["PENDING", ""], ["PENDING", ""], ["COMPLETE", "1.00000"]]  # no score reads as ""


def test_a_malformed_submission_is_accepted_then_ends_in_error(titanic, tmp_path):
    solution = read_solution()
    write_submission(tmp_path / "header.csv", solution, header="id,Survived")
    write_submission(tmp_path / "short.csv", dict(list(solution.items())[:-1]))
    out = api(
        titanic,
        tmp_path,
        """
        refs = [api.competition_submit(f, "m", "titanic", quiet=True).ref for f in ("header.csv", "short.csv")]
        out = [[s.status.name, s.error_description] for s in map(api.get_submission, refs)]
        """,
    )
    assert out[0] == ["ERROR", "Submission header must be PassengerId,Survived, found id,Survived."]
    assert out[1][0] == "ERROR" and "1 ids missing" in out[1][1]


def test_submissions_beyond_the_daily_limit_are_refused(titanic, tmp_path):
    titanic.daily_limit = 1
    write_submission(tmp_path / "gender.csv", read_solution())
    out = api(
        titanic,
        tmp_path,
        """
        api.competition_submit("gender.csv", "m", "titanic", quiet=True)
        out = [http_error(api.competition_submit, "gender.csv", "m", "titanic", quiet=True),
               api.competition_get_submission_limits("titanic").num_allowed_now]
        """,
    )
    assert out[0]["status"] == 400 and "daily Submission allowance" in out[0]["message"]
    assert out[1] == 0


# ---- kernels ----------------------------------------------------------------------------------------


def test_kernel_push_status_and_output(fake_kaggle, tmp_path):
    kernel = tmp_path / "kernel"
    kernel.mkdir()
    (kernel / "main.py").write_text("print('hi')\n")
    meta = {
        "id": "fakeuser/titanic-baseline",
        "title": "Titanic Baseline",
        "code_file": "main.py",
        "language": "python",
        "kernel_type": "script",
        "competition_sources": ["titanic"],
    }
    (kernel / "kernel-metadata.json").write_text(json.dumps(meta))
    fake_kaggle.kernel_outputs["fakeuser/titanic-baseline"] = {"submission.csv": b"PassengerId,Survived\n892,0\n"}
    fake_kaggle.kernel_logs["fakeuser/titanic-baseline"] = "[]"

    pushed = cli(fake_kaggle, tmp_path, "kernels", "push", "-p", str(kernel))
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert "Kernel version 1 successfully pushed" in pushed.stdout
    body = fake_kaggle.calls("SaveKernel")[0]["body"]
    assert body["slug"] == "fakeuser/titanic-baseline" and body["text"] == "print('hi')\n"
    assert body["competitionDataSources"] == ["titanic"] and body["newTitle"] == "Titanic Baseline"

    out = api(
        fake_kaggle,
        tmp_path,
        """
        statuses = [api.kernels_status("fakeuser/titanic-baseline").status.name for _ in range(3)]
        files, _ = api.kernels_output("fakeuser/titanic-baseline", "out")
        out = {"statuses": statuses, "files": sorted(os.path.basename(f) for f in files)}
        """,
    )
    assert out == {"statuses": ["RUNNING", "COMPLETE", "COMPLETE"], "files": ["submission.csv", "titanic-baseline.log"]}
    assert (tmp_path / "out" / "submission.csv").read_bytes() == b"PassengerId,Survived\n892,0\n"
    listed = fake_kaggle.calls("ListKernelSessionOutput")[0]["body"]
    assert listed["userName"] == "fakeuser" and listed["kernelSlug"] == "titanic-baseline"


# ---- auth -------------------------------------------------------------------------------------------


def test_a_wrong_key_gets_401_and_no_secret_is_ever_logged_or_echoed(titanic, tmp_path):
    refused = cli(titanic, tmp_path, "competitions", "files", "titanic", KAGGLE_KEY="0" * 32)
    assert refused.returncode == 1
    assert titanic.log[-1]["auth_kind"] == "basic"
    assert post(titanic, "ListDataFiles", {"competitionName": "titanic"})[0] == 200

    titanic.tokens.add("tok-live-123")
    accepted = cli(titanic, tmp_path, "competitions", "files", "titanic", KAGGLE_API_TOKEN="tok-live-123")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert [e["auth_kind"] for e in titanic.calls("ListDataFiles")][-1] == "bearer"
    assert titanic.calls("IntrospectToken")[0]["body"] == {"token": "<redacted>"}

    everything = json.dumps(titanic.log) + "".join(titanic.access_log) + refused.stdout + refused.stderr
    everything += accepted.stdout + accepted.stderr
    assert titanic.key not in everything and "tok-live-123" not in everything


def test_a_stale_token_is_still_sent_as_bearer_and_refused(titanic, tmp_path):
    stale = cli(titanic, tmp_path, "competitions", "files", "titanic", KAGGLE_API_TOKEN="stale")
    assert stale.returncode == 1
    assert [e["rpc"] for e in titanic.log] == ["IntrospectToken", "ListDataFiles"]
    assert titanic.log[-1]["auth_kind"] == "bearer"  # despite the valid KAGGLE_USERNAME/KAGGLE_KEY

    titanic.accept_any_bearer = True
    assert cli(titanic, tmp_path, "competitions", "files", "titanic", KAGGLE_API_TOKEN="stale").returncode == 0


# ---- faults -----------------------------------------------------------------------------------------


def test_unaccepted_rules_forbid_download_and_submit_but_not_listing(fake_kaggle, tmp_path):
    fake_kaggle.add_competition("rules", zip_of({"train.csv": b"id,y\n"}), rules_accepted=False)
    write_submission(tmp_path / "s.csv", {"1": "0"})
    out = api(
        fake_kaggle,
        tmp_path,
        """
        out = [http_error(api.competition_download_files, "rules", path="dl", quiet=True),
               http_error(api.competition_submit, "s.csv", "m", "rules", quiet=True),
               http_error(api.competition_list_files, "rules")]
        """,
    )
    assert out[0]["status"] == 403 and "accept this competition's rules" in out[0]["message"]
    assert out[1]["status"] == 403 and "able to submit" in out[1]["message"]
    assert out[2] is None


def test_an_unknown_competition_is_404_and_the_cli_says_so(fake_kaggle, tmp_path):
    write_submission(tmp_path / "s.csv", {"1": "0"})
    done = cli(fake_kaggle, tmp_path, "competitions", "submit", "nope", "-f", "s.csv", "-m", "m")
    assert done.returncode == 1 and "Could not find competition" in done.stderr


def test_injected_errors_reach_the_client_for_the_first_n_calls(titanic, tmp_path):
    titanic.inject("ListDataFiles", 500, times=2)
    titanic.inject("GetSubmissionLimits", 429, retry_after=7)
    titanic.inject("ListSubmissions", 401, times=1)
    titanic.inject("DownloadDataFiles", 403, times=1)
    titanic.inject("blob", 404, times=1)
    out = api(
        titanic,
        tmp_path,
        """
        files = [http_error(api.competition_list_files, "titanic") for _ in range(3)]
        out = {"files": [e and e["status"] for e in files],
               "limits": http_error(api.competition_get_submission_limits, "titanic"),
               "list": [http_error(api.competition_submissions, "titanic") for _ in range(2)],
               "rules": http_error(api.competition_download_files, "titanic", path="dl", quiet=True),
               "blob": http_error(api.competition_download_files, "titanic", path="dl", quiet=True),
               "ok": http_error(api.competition_download_files, "titanic", path="dl", quiet=True)}
        """,
    )
    assert out["files"] == [500, 500, None]
    assert out["limits"]["status"] == 429 and out["limits"]["retry_after"] == "7"
    assert out["list"][0]["status"] == 401 and out["list"][1] is None
    assert out["rules"]["status"] == 403 and "rules" in out["rules"]["message"]
    assert out["blob"]["status"] == 404 and out["ok"] is None


def test_a_failed_upload_makes_the_cli_submit_fail(titanic, tmp_path):
    titanic.inject("upload", 503)
    done = cli(
        titanic, tmp_path, "competitions", "submit", "titanic", "-f", str(TITANIC / "gender_submission.csv"), "-m", "m"
    )
    assert done.returncode == 1 and "Could not submit" in done.stderr
    assert titanic.calls("CreateSubmission") == []


def test_a_truncated_download_announces_every_byte_but_sends_half(titanic):
    titanic.truncate_downloads = 1
    full = (TITANIC / "titanic.zip").read_bytes()
    with URLLIB.open(f"{titanic.url}/blobs/titanic.zip", timeout=10) as reply:
        assert int(reply.headers["Content-Length"]) == len(full)
        with pytest.raises(http.client.IncompleteRead) as cut:
            reply.read()
    assert cut.value.partial == full[: len(full) // 2]
    with URLLIB.open(f"{titanic.url}/blobs/titanic.zip", timeout=10) as reply:
        assert reply.read() == full  # the count is used up


def test_the_client_retries_a_truncated_download_and_recovers(titanic, tmp_path):
    titanic.truncate_downloads = 1  # the client's first retry comes after 2-3 s; every cut costs ~65 s
    done = cli(titanic, tmp_path, "competitions", "download", "titanic", "-p", "dl")
    assert done.returncode == 0 and "IncompleteRead" in done.stdout
    assert (tmp_path / "dl" / "titanic.zip").read_bytes() == (TITANIC / "titanic.zip").read_bytes()
    assert len(titanic.calls("blob")) == 2


def test_a_slow_server_delays_every_rpc(titanic):
    titanic.slow_seconds = 0.3
    start = time.monotonic()
    assert post(titanic, "ListDataFiles", {"competitionName": "titanic"})[0] == 200
    assert time.monotonic() - start >= 0.3


def test_many_concurrent_requests_are_all_answered(titanic):
    replies: list[int] = []
    threads = [
        threading.Thread(target=lambda: replies.append(post(titanic, "ListCompetitions", {})[0])) for _ in range(40)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert replies == [200] * 40 and len(titanic.calls("ListCompetitions")) == 40
    assert titanic.errors == []


def test_the_server_replies_json_without_an_api_version_header(titanic):
    status, headers, reply = post(titanic, "GetSubmissionLimits", {"competitionName": "titanic"})
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert "X-Kaggle-APIVersion" not in headers
    assert reply == {"numToday": 0, "numTotal": 0, "numAllowedNow": 10, "limitedByTotal": False}
    assert post(titanic, "Nope", {})[0] == 404


def test_stop_closes_the_port():
    with FakeKaggle() as server:
        url = server.url
        assert post(server, "ListCompetitions", {})[0] == 200
    with pytest.raises(urllib.error.URLError):
        URLLIB.open(url, timeout=2)


def test_the_fake_server_scores_by_the_competitions_metric():
    from fake_kaggle import score_submission
    from sklearn.metrics import log_loss, roc_auc_score, root_mean_squared_error

    solution = {"1": "0", "2": "1", "3": "1", "4": "0"}
    probs = b"id,y\n1,0.2\n2,0.9\n3,0.4\n4,0.5\n"
    status, score, _ = score_submission(probs, solution, ("id", "y"), "roc_auc")
    assert status == "COMPLETE" and float(score) == round(roc_auc_score([0, 1, 1, 0], [0.2, 0.9, 0.4, 0.5]), 5)
    _, score, _ = score_submission(probs, solution, ("id", "y"), "log_loss")
    assert float(score) == round(log_loss([0, 1, 1, 0], [0.2, 0.9, 0.4, 0.5]), 5)
    values = {"1": "3.0", "2": "5.5"}
    _, score, _ = score_submission(b"id,v\n1,2.5\n2,6\n", values, ("id", "v"), "rmse")
    assert float(score) == round(root_mean_squared_error([3.0, 5.5], [2.5, 6.0]), 5)
    classes = {"1": "a", "2": "c"}
    text = b"id,a,b,c\n1,0.7,0.2,0.1\n2,0.1,0.1,0.8\n"
    _, score, _ = score_submission(text, classes, ("id", "a", "b", "c"), "log_loss")
    assert float(score) == round(log_loss(["a", "c"], [[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], labels=["a", "b", "c"]), 5)
    status, _, error = score_submission(b"id,y\n1,0\n2,1\n3,yes\n4,0\n", solution, ("id", "y"), "roc_auc")
    assert status == "ERROR" and "could not be scored" in error


# ---- every metric kit supports, scored as scikit-learn (or Kaggle's written definition) scores it ---------------

LABELS = {"1": "a", "2": "b", "3": "c", "4": "a", "5": "b", "6": "c"}
LABELS_SENT = ["a", "b", "b", "a", "c", "c"]
VALUES = {"1": "100", "2": "50", "3": "0", "4": "7.5"}
VALUES_SENT = [110.0, 40.0, 0.0, 5.0]


def _sent(cells: list) -> bytes:
    """A submission file of header id,y holding one cell per id 1, 2, ..., in order."""
    return ("id,y\n" + "".join(f"{i},{c}\n" for i, c in enumerate(cells, start=1))).encode()


def _scored(metric: str, content: bytes, solution: dict, columns=("id", "y")) -> float:
    from fake_kaggle import score_submission

    status, score, error = score_submission(content, solution, columns, metric)
    assert status == "COMPLETE", error
    return float(score)


def test_the_fake_server_scores_every_metric_kit_supports():
    from fake_kaggle import SCORED

    from kit.task import METRICS

    assert sorted(SCORED) == sorted(METRICS)


@pytest.mark.parametrize(
    ("metric", "oracle"),
    [
        ("balanced_accuracy", lambda skm, y, p: skm.balanced_accuracy_score(y, p)),
        ("f1_micro", lambda skm, y, p: skm.f1_score(y, p, average="micro")),
        ("f1_macro", lambda skm, y, p: skm.f1_score(y, p, average="macro")),
        ("mcc", lambda skm, y, p: skm.matthews_corrcoef(y, p)),
    ],
)
@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")  # balanced accuracy's, of the miss "A"
def test_a_label_metric_of_several_classes_is_scikit_learns_of_the_exact_strings(metric, oracle):
    from sklearn import metrics as skm

    expected = oracle(skm, list(LABELS.values()), LABELS_SENT)
    assert _scored(metric, _sent(LABELS_SENT), LABELS) == round(expected, 5)
    # "A" is not "a": a label written otherwise is a miss, as accuracy counts it
    miss = ["A", *LABELS_SENT[1:]]
    assert _scored(metric, _sent(miss), LABELS) == round(oracle(skm, list(LABELS.values()), miss), 5)
    assert _scored(metric, _sent(miss), LABELS) < _scored(metric, _sent(LABELS_SENT), LABELS)


def test_binary_f1_is_the_f1_of_the_larger_label():
    from sklearn.metrics import f1_score

    solution = {"1": "no", "2": "yes", "3": "yes", "4": "no", "5": "yes"}
    sent = ["no", "yes", "no", "yes", "yes"]
    expected = f1_score(list(solution.values()), sent, pos_label="yes")
    assert _scored("f1", _sent(sent), solution) == round(expected, 5) == 0.66667


def test_qwk_is_cohens_quadratic_kappa_of_whole_numbers_ordered_as_numbers_and_2_0_is_refused():
    from fake_kaggle import score_submission
    from sklearn.metrics import cohen_kappa_score

    solution = {"1": "8", "2": "9", "3": "10", "4": "8", "5": "10", "6": "9"}
    sent = ["8", "10", "10", "9", "10", "8"]
    expected = cohen_kappa_score([8, 9, 10, 8, 10, 9], [8, 10, 10, 9, 10, 8], weights="quadratic")
    assert _scored("qwk", _sent(sent), solution) == round(expected, 5)
    # ordered as text, 10 would come before 8 and 9: a different (wrong) score
    as_text = cohen_kappa_score(list(solution.values()), sent, weights="quadratic")
    assert round(as_text, 5) != round(expected, 5)
    status, score, error = score_submission(_sent(["8.0", *sent[1:]]), solution, ("id", "y"), "qwk")
    assert (status, score) == ("ERROR", None) and "'8.0' is not a whole number" in error


@pytest.mark.parametrize(
    ("metric", "oracle"),
    [
        ("rmse", "root_mean_squared_error"),
        ("rmsle", "root_mean_squared_log_error"),
        ("mae", "mean_absolute_error"),
        ("medae", "median_absolute_error"),
        ("r2", "r2_score"),
    ],
)
def test_a_metric_of_values_is_scikit_learns(metric, oracle):
    from sklearn import metrics as skm

    expected = getattr(skm, oracle)([float(v) for v in VALUES.values()], VALUES_SENT)
    assert _scored(metric, _sent(VALUES_SENT), VALUES) == round(expected, 5)


def test_mape_is_scikit_learns_fraction():
    from sklearn.metrics import mean_absolute_percentage_error

    solution = {"1": "100", "2": "50", "3": "8"}
    expected = mean_absolute_percentage_error([100, 50, 8], [110, 40, 6])
    assert _scored("mape", _sent([110, 40, 6]), solution) == round(expected, 5) == round((0.1 + 0.2 + 0.25) / 3, 5)


def test_smape_is_kaggles_percent_with_a_row_of_two_zeros_scoring_zero():
    # |F - A| / ((|A| + |F|) / 2) row by row: 10 / 105, 10 / 45, 0 (both 0), 2.5 / 6.25
    expected = 100 * (10 / 105 + 10 / 45 + 0 + 2.5 / 6.25) / 4
    assert _scored("smape", _sent(VALUES_SENT), VALUES) == round(expected, 5)


def test_map_at_3_is_kaggles_mean_average_precision_of_the_first_three_labels_named():
    solution = {"1": "a", "2": "b", "3": "c", "4": "d", "5": "a", "6": "d", "7": "c"}
    # ranks 1, 2, 3, unnamed; "a" named after a repeated "b" is still third; a fourth label is not scored; the true
    # label named twice counts once
    sent = ["a b c", "a b c", "a b c", "a b c", "b b a", "a b c d", "c c a"]
    expected = (1 + 1 / 2 + 1 / 3 + 0 + 1 / 3 + 0 + 1) / 7
    assert _scored("map_at_3", _sent(sent), solution) == round(expected, 5)


@pytest.mark.parametrize("metric", ["roc_auc", "log_loss"])
def test_a_multilabel_file_scores_the_mean_over_target_columns_whatever_their_order(metric):
    from sklearn import metrics as skm

    truth = {"p": [1, 0, 1, 0], "q": [0, 0, 1, 1]}
    probs = {"p": [0.8, 0.3, 0.4, 0.35], "q": [0.2, 0.6, 0.7, 0.9]}
    solution = {str(i): {t: str(truth[t][i - 1]) for t in truth} for i in range(1, 5)}
    content = ("id,q,p\n" + "".join(f"{i},{probs['q'][i - 1]},{probs['p'][i - 1]}\n" for i in range(1, 5))).encode()
    scorer = skm.roc_auc_score if metric == "roc_auc" else skm.log_loss
    expected = (scorer(truth["p"], probs["p"]) + scorer(truth["q"], probs["q"])) / 2
    assert _scored(metric, content, solution, ("id", "q", "p")) == round(expected, 5)


@pytest.mark.parametrize(
    ("metric", "content", "solution", "why"),
    [
        ("spearman", _sent(VALUES_SENT), VALUES, "cannot score metric 'spearman'"),  # never scored as something else
        ("mcc", b"id,a,b,c\n" + b"".join(b"%d,0.2,0.3,0.5\n" % i for i in range(1, 7)), LABELS, "one prediction col"),
        ("r2", _sent(["high", 40, 0, 5]), VALUES, "'high' is not a finite number"),
        ("smape", _sent(["nan", 40, 0, 5]), VALUES, "'nan' is not a finite number"),
        ("rmsle", _sent([-2, 40, 0, 5]), VALUES, "could not be scored by rmsle"),
    ],
)
def test_a_file_the_metric_cannot_score_is_an_error_naming_why(metric, content, solution, why):
    from fake_kaggle import score_submission

    status, score, error = score_submission(content, solution, None, metric)
    assert (status, score) == ("ERROR", None) and why in error
