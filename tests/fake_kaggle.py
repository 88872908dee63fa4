"""A fake Kaggle API server that the real `kaggle` client (CLI, Python API, subprocesses) talks to.

It owns the wire protocol the client speaks (see shared/notes/kaggle-api.md): JSON RPCs at
`/api/v1/<service>/<Method>`, downloads as a 302 to a blob URL, submissions as a three-step upload.
Around that it keeps what tests need: competitions scored against a solution, kernels, a request log
that never holds a secret, and fault injection. `client_env` points a client at it; callers must also
drop `KAGGLE_API_TOKEN` (best: every `KAGGLE_*` variable) from the environment they start from.
Stdlib only, apart from the `fake_kaggle` pytest fixture at the bottom and scikit-learn, which plays
Kaggle scoring by a metric other than accuracy.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import datetime as dt
import io
import json
import math
import re
import secrets
import threading
import time
import zipfile
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest

# Fixed, so a second download into the same folder is skipped by the client, as with real Kaggle.
LAST_MODIFIED = "Mon, 01 Jan 2024 00:00:00 GMT"

# Handed-out URLs use the client's LOCALHOST base; they reach us through HTTP_PROXY like the RPCs.
PUBLIC = "http://localhost"

_SUBMIT_RPCS = {"StartSubmissionUpload", "CreateSubmission", "upload"}

# What Kaggle holds of a competition's test rows: id -> label or value, or for a multilabel task
# id -> {target column: "0" or "1"}.
Solution = dict[str, str] | dict[str, dict[str, str]]


def zip_of(files: dict[str, bytes]) -> bytes:
    """A zip holding `files` under exactly the names given, `../evil.txt` and `/abs.txt` included."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            # ZipInfo keeps the name verbatim; ZipFile.write would sanitise it.
            zf.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


class _HttpError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


@dataclass
class _Redirect:
    location: str


@dataclass
class _Fault:
    rpc: str
    status: int
    times: int | None  # None: every matching call
    retry_after: int | None
    message: str | None


@dataclass
class _Competition:
    slug: str
    zip_bytes: bytes
    solution: Solution | None
    rules_accepted: bool
    columns: tuple[str, ...] | None
    metric: str = "accuracy"

    def members(self) -> dict[str, zipfile.ZipInfo]:
        with zipfile.ZipFile(io.BytesIO(self.zip_bytes)) as zf:
            return {i.filename: i for i in zf.infolist() if not i.is_dir()}

    def read(self, name: str) -> bytes:
        with zipfile.ZipFile(io.BytesIO(self.zip_bytes)) as zf:
            return zf.read(name)


@dataclass
class _Submission:
    ref: int
    competition: str
    file_name: str
    description: str
    total_bytes: int
    status: str  # what a look shows once the pending looks are used up
    score: str | None
    error: str | None
    pending_looks: int
    date: str  # when it was created, as Kaggle lists it
    looks: int = 0

    def look(self, username: str) -> dict:
        self.looks += 1
        pending = self.looks <= self.pending_looks
        status = "PENDING" if pending else self.status
        reply = {
            "ref": self.ref,
            "totalBytes": self.total_bytes,
            "date": self.date,
            "description": self.description,
            "fileName": self.file_name,
            "status": status,
            "privateScore": "",
            "submittedBy": username,
            "teamName": username,
            "url": f"/competitions/{self.competition}/submissions#{self.ref}",
        }
        if status == "COMPLETE" and self.score is not None:
            reply["publicScore"] = self.score
        if status == "ERROR":
            reply["errorDescription"] = self.error
        return reply


def score_submission(
    content: bytes, solution: Solution | None, columns: tuple[str, ...] | None, metric: str = "accuracy"
) -> tuple[str, str | None, str | None]:
    """(status, publicScore, errorDescription) for an uploaded CSV, scored by the competition's metric to 5 places.

    Kaggle's side is played by scikit-learn's metrics (smape and map_at_3 written out by Kaggle's definitions), so
    a test that compares the public score with kit's CV score compares two independent implementations. Labels are
    compared as exact strings: "1.0" is wrong where the solution says "1"; qwk's labels must be whole numbers
    written as such ("2", not "2.0"), ordered as numbers. Probability files: binary ones hold the positive class's
    probability (the positive class is the larger of the solution's two labels, f1's positive class too);
    multiclass ones one column per class; multilabel ones (a solution of {target column: 0 or 1} per id) one
    column per target. A metric the server cannot score is an ERROR naming it, never a score.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "ERROR", None, "Submission file is not UTF-8 text."
    rows = [r for r in csv.reader(io.StringIO(text)) if r]
    if not rows:
        return "ERROR", None, "Submission file is empty."
    header, body = rows[0], rows[1:]
    if columns is not None and tuple(header) != tuple(columns):
        return "ERROR", None, f"Submission header must be {','.join(columns)}, found {','.join(header)}."
    if solution is None:
        return "COMPLETE", None, None
    if len(header) < 2 or any(len(r) != len(header) for r in body):
        return "ERROR", None, f"Each submission row must have exactly {len(header)} values: an id and predictions."
    ids = [r[0] for r in body]
    if len(set(ids)) != len(ids):
        return "ERROR", None, "Submission has duplicate ids."
    if set(ids) != set(solution):
        missing, extra = len(set(solution) - set(ids)), len(set(ids) - set(solution))
        error = (
            f"Submission must have {len(solution)} rows, one per test id; "
            f"found {len(ids)} rows, {missing} ids missing and {extra} unexpected."
        )
        return "ERROR", None, error
    if metric not in SCORED:
        return "ERROR", None, f"The fake server cannot score metric {metric!r}; it scores {', '.join(SCORED)}."
    if metric == "accuracy":
        hits = sum(solution[r[0]] == r[1] for r in body)
        return "COMPLETE", f"{hits / len(solution):.5f}", None
    try:
        return "COMPLETE", f"{_sklearn_score(metric, header, body, solution):.5f}", None
    except ValueError as e:
        return "ERROR", None, f"Submission could not be scored by {metric}: {e}"


# The metrics the server scores, by what a submission's cells after the id hold.
ON_LABELS = ("accuracy", "balanced_accuracy", "f1", "f1_micro", "f1_macro", "mcc", "qwk")  # one label
ON_VALUES = ("rmse", "rmsle", "mae", "medae", "r2", "mape", "smape")  # one number
# one per class (binary: the positive one's) or per target column; balanced_log_loss is log loss with each row weighed
# 1 / its class's rows (Kaggle's ICR scoring)
ON_PROBABILITIES = ("roc_auc", "log_loss", "balanced_log_loss")
ON_RANKED = ("map_at_3",)  # up to 3 labels separated by spaces, best first
SCORED = ON_LABELS + ON_VALUES + ON_PROBABILITIES + ON_RANKED


def _sklearn_score(metric: str, header: list[str], body: list[list[str]], solution: Solution) -> float:
    from sklearn import metrics as skm

    truth = [solution[r[0]] for r in body]
    if metric in ON_PROBABILITIES:
        return _probability_score(skm, metric, header, body, truth, solution)
    if len(header) != 2:
        raise ValueError(f"it scores one prediction column after the id, not {len(header) - 1}")
    pred = [r[1] for r in body]
    if metric in ON_VALUES:
        y, p = _numbers(truth), _numbers(pred)
        if metric == "smape":  # Kaggle's: 100 * mean(|F - A| / ((|A| + |F|) / 2)), a row where both are 0 scoring 0
            ratios = [0.0 if a == f == 0 else abs(f - a) / ((abs(a) + abs(f)) / 2) for a, f in zip(y, p)]
            return 100 * sum(ratios) / len(ratios)
        return {
            "rmse": skm.root_mean_squared_error,
            "rmsle": skm.root_mean_squared_log_error,
            "mae": skm.mean_absolute_error,
            "medae": skm.median_absolute_error,
            "r2": skm.r2_score,
            "mape": skm.mean_absolute_percentage_error,
        }[metric](y, p)
    if metric == "map_at_3":
        return sum(_average_precision_at_3(t, cell.split()) for t, cell in zip(truth, pred)) / len(truth)
    if metric == "qwk":  # ordered classes: whole numbers, ordered as numbers
        return skm.cohen_kappa_score(_whole_numbers(truth), _whole_numbers(pred), weights="quadratic")
    if metric == "f1":
        return skm.f1_score(truth, pred, pos_label=max(set(solution.values())))
    if metric in ("f1_micro", "f1_macro"):
        return skm.f1_score(truth, pred, average=metric.removeprefix("f1_"))
    return {"balanced_accuracy": skm.balanced_accuracy_score, "mcc": skm.matthews_corrcoef}[metric](truth, pred)


def _probability_score(skm, metric: str, header: list[str], body: list[list[str]], truth: list, solution) -> float:
    """roc_auc or log_loss of a binary, multiclass or multilabel probability file."""
    values = [_numbers(r[1:]) for r in body]
    if isinstance(truth[0], dict):  # multilabel: each target column scored on its own, the mean over columns
        targets = header[1:]
        if sorted(targets) != sorted(truth[0]):
            raise ValueError(f"its columns after the id must be the targets {', '.join(truth[0])}")
        scores = []
        for c, target in enumerate(targets):
            y, p = [_flag(t[target]) for t in truth], [v[c] for v in values]
            scores.append(skm.log_loss(y, p, labels=[0, 1]) if metric == "log_loss" else skm.roc_auc_score(y, p))
        return sum(scores) / len(scores)
    if len(header) > 2:  # one probability column per class
        classes = header[1:]
        if metric in ("log_loss", "balanced_log_loss"):
            return skm.log_loss(truth, values, labels=classes, sample_weight=_class_weights(metric, truth))
        return skm.roc_auc_score(truth, values, labels=classes, multi_class="ovr")
    positive = max(set(solution.values()))
    y, p = [t == positive for t in truth], [v[0] for v in values]
    if metric in ("log_loss", "balanced_log_loss"):
        return skm.log_loss(y, p, labels=[False, True], sample_weight=_class_weights(metric, y))
    return skm.roc_auc_score(y, p)


def _class_weights(metric: str, truth: list) -> list[float] | None:
    """balanced_log_loss's row weights, 1 / the rows of the row's class; None (every row alike) for log_loss."""
    if metric != "balanced_log_loss":
        return None
    counts = {c: truth.count(c) for c in set(truth)}
    return [1 / counts[t] for t in truth]


def _numbers(cells: list[str]) -> list[float]:
    """Cells as finite floats; ValueError naming the first that is not one."""
    bad = next((c for c in cells if not _finite(c)), None)
    if bad is not None:
        raise ValueError(f"{bad!r} is not a finite number")
    return [float(c) for c in cells]


def _finite(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return False


def _whole_numbers(cells: list[str]) -> list[int]:
    """qwk's labels as ints; ValueError for one not written as a whole number ("2.0" included)."""
    bad = next((c for c in cells if not re.fullmatch(r"-?[0-9]+", c)), None)
    if bad is not None:
        raise ValueError(f"{bad!r} is not a whole number; qwk scores ordered classes written as whole numbers")
    return [int(c) for c in cells]


def _flag(value: str) -> int:
    """A multilabel solution's cell, 0 or 1."""
    if value not in ("0", "1"):
        raise ValueError(f"the solution holds {value!r} where a multilabel target holds 0 or 1")
    return int(value)


def _average_precision_at_3(truth: str, named: list[str]) -> float:
    """Kaggle's AP@3 of one row with one true label: the first 3 labels named, each a hit's precision at its rank
    counted once (a label named twice counts at its first place); the row's score is 1, 1/2, 1/3 or 0."""
    score, hits = 0.0, 0
    for i, label in enumerate(named[:3]):
        if label == truth and label not in named[:i]:
            hits += 1
            score += hits / (i + 1)
    return score


def _rules_message(slug: str, rpc: str) -> str:
    action = "submit" if rpc in _SUBMIT_RPCS else "download files"
    return (
        f"You must accept this competition's rules before you'll be able to {action}. "
        f"Accept them at https://www.kaggle.com/competitions/{slug}/rules"
    )


def _fault_message(status: int, rpc: str, slug: str | None) -> str:
    if status == 401:
        return "Unauthenticated: no valid API key or token."
    if status == 403 and slug:
        return _rules_message(slug, rpc)
    if status == 404:
        return f"Competition '{slug}' not found." if slug else "Not found."
    if status == 429:
        return "Too many requests. Please slow down and try again later."
    if status >= 500:
        return "Internal server error."
    return f"Request failed with status {status}."


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        self.server.fake._handle(self)

    do_GET = do_PUT = do_POST

    def log_message(self, format: str, *args) -> None:
        self.server.fake.access_log.append(format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # bursts of parallel clients must not be refused
    fake: FakeKaggle


class FakeKaggle:
    """The server and its state. Configure by attributes and `add_competition`/`inject`."""

    def __init__(self, username: str = "fakeuser", key: str | None = None):
        self.username = username
        self.key = key or secrets.token_hex(16)
        self.tokens: set[str] = set()  # bearer tokens IntrospectToken calls active
        # Real Kaggle would refuse a stale token, which the client still sends (notes 2.3); set
        # this to accept any bearer token instead.
        self.accept_any_bearer = False
        self.daily_limit = 10
        self.pending_polls = 0  # looks a new submission stays PENDING for
        self.kernel_statuses = ["RUNNING", "COMPLETE"]  # per kernel, in order; the last repeats
        self.kernel_failure_message: str | None = None  # sent with an ERROR status
        self.kernel_outputs: dict[str, dict[str, bytes]] = {}  # "owner/slug" -> {name: bytes}
        self.kernel_logs: dict[str, str] = {}  # "owner/slug" -> log text the client saves
        self.truncate_downloads: bool | int = False  # True: every blob GET; N: the next N
        self.slow_seconds = 0.0  # delay before every RPC reply
        self.delays: dict[str, float] = {}  # rpc -> seconds it takes (see `delay`)

        self.competitions: dict[str, _Competition] = {}
        self.datasets: dict[str, bytes] = {}  # "owner/name" -> the dataset's zip
        self.submissions: list[_Submission] = []
        self.log: list[dict] = []
        self.uploads: list[bytes] = []
        self.access_log: list[str] = []  # http.server's own lines, kept instead of printed
        self.errors: list[str] = []  # exceptions inside the fake: a bug here, not in the client

        self._faults: list[_Fault] = []
        self._drops: dict[str, int] = {}  # rpc -> calls still to answer by hanging up (see `drop_reply`)
        self._upload_slots: dict[str, dict] = {}  # blob token -> {competition, file_name, data}
        self._kernel_versions: dict[str, int] = {}
        self._status_looks: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._rpcs = {
            "ListCompetitions": self._list_competitions,
            "ListDataFiles": self._list_data_files,
            "DownloadDataFiles": self._download_data_files,
            "DownloadDataFile": self._download_data_file,
            "DownloadDataset": self._download_dataset,
            "StartSubmissionUpload": self._start_submission_upload,
            "CreateSubmission": self._create_submission,
            "GetSubmission": self._get_submission,
            "ListSubmissions": self._list_submissions,
            "GetSubmissionLimits": self._get_submission_limits,
            "SaveKernel": self._save_kernel,
            "GetKernelSessionStatus": self._get_kernel_session_status,
            "ListKernelSessionOutput": self._list_kernel_session_output,
            "IntrospectToken": self._introspect_token,
        }

    # ---- lifecycle and configuration -------------------------------------------------------------

    def start(self) -> FakeKaggle:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> FakeKaggle:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client_env(self, tmp_path: str | Path) -> dict[str, str]:
        """Variables that point the real client at this server; merge them over a cleaned os.environ."""
        home, config = Path(tmp_path) / "home", Path(tmp_path) / "kaggle-config"
        home.mkdir(parents=True, exist_ok=True)  # a fresh HOME: no stray ~/.kaggle token or OAuth
        config.mkdir(parents=True, exist_ok=True)
        return {
            "KAGGLE_API_ENVIRONMENT": "LOCALHOST",
            "HTTP_PROXY": self.url,
            "http_proxy": self.url,
            "NO_PROXY": "",  # a NO_PROXY covering localhost would send the client to port 80
            "no_proxy": "",
            "KAGGLE_USERNAME": self.username,
            "KAGGLE_KEY": self.key,
            "KAGGLE_CONFIG_DIR": str(config),
            "HOME": str(home),
        }

    def add_competition(
        self,
        slug: str,
        zip_bytes: bytes,
        solution: Solution | None = None,
        rules_accepted: bool = True,
        columns: tuple[str, ...] | None = None,
        metric: str = "accuracy",
    ) -> None:
        """`solution` maps id -> label (or value; multilabel: {target column: "0" or "1"}); `columns` is the
        header a submission must have, if given; `metric` scores it (see score_submission)."""
        self.competitions[slug] = _Competition(slug, zip_bytes, solution, rules_accepted, columns, metric)

    def add_dataset(self, ref: str, zip_bytes: bytes) -> None:
        """A public dataset, `ref` as owner/name, that DownloadDataset serves as this zip."""
        self.datasets[ref] = zip_bytes

    def inject(
        self,
        rpc: str,
        status: int,
        times: int | None = None,
        retry_after: int | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next `times` calls (all, if None) of `rpc` with an error `status`.

        `rpc` is a method name like "ListDataFiles", or "blob" (download GETs, kernel output
        included) or "upload" (the submission PUT). Faults come before the auth check.
        """
        self._faults.append(_Fault(rpc, status, times, retry_after, message))

    def delay(self, rpc: str, seconds: float) -> None:
        """Make every call of `rpc` take `seconds` before it is handled (other calls are not held up)."""
        self.delays[rpc] = seconds

    def drop_reply(self, rpc: str, times: int = 1) -> None:
        """Handle the next `times` calls of `rpc` (a CreateSubmission really creates the submission), then
        hang up without a reply: what the client sees when a connection dies after the server acted."""
        self._drops[rpc] = self._drops.get(rpc, 0) + times

    def calls(self, rpc: str) -> list[dict]:
        """Log entries for an RPC method name, or "blob"/"upload"."""
        return [e for e in self.log if _route(e["method"], e["path"]) == rpc]

    # ---- request handling --------------------------------------------------------------------------

    def _handle(self, h: _Handler) -> None:
        path = urlsplit(h.path).path  # proxied requests arrive in absolute form
        raw = _read_body(h)
        route = _route(h.command, path)
        body = None
        if h.command == "POST" and raw:
            with contextlib.suppress(ValueError):
                body = json.loads(raw)
        auth_kind, authorized = self._check_auth(h.headers.get("Authorization", ""))
        logged = dict(body, token="<redacted>") if route == "IntrospectToken" and body else body
        with self._lock:
            self.log.append(
                {
                    "method": h.command,
                    "path": path,
                    "rpc": _rpc_name(h.command, path),
                    "body": logged,
                    "auth_kind": auth_kind,
                }
            )
        try:
            if h.command == "POST" and self.slow_seconds:
                time.sleep(self.slow_seconds)
            if self.delays.get(route):
                time.sleep(self.delays[route])
            fault = self._take_fault(route)
            if fault is not None:
                slug = (body or {}).get("competitionName") or _blob_slug(path)
                message = fault.message or _fault_message(fault.status, route, slug)
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
                raise _HttpError(fault.status, message, headers)
            if route == "blob":
                self._serve_blob(h, path)
            elif route == "upload":
                self._receive_upload(path, raw)
                _send_json(h, 200, {})
            elif h.command == "POST" and route in self._rpcs:
                if route != "IntrospectToken" and not authorized:
                    raise _HttpError(401, _fault_message(401, route, None))
                with self._lock:
                    reply = self._rpcs[route](body or {})
                    dropped = self._drops.get(route, 0) > 0
                    if dropped:
                        self._drops[route] -= 1
                if dropped:
                    h.close_connection = True  # no status line, no body: the client's read fails
                elif isinstance(reply, _Redirect):
                    _send(h, 302, b"", {"Location": reply.location})
                else:
                    _send_json(h, 200, reply)
            else:
                raise _HttpError(404, f"No such endpoint: {h.command} {path}")
        except _HttpError as e:
            _send_json(h, e.status, {"code": e.status, "message": e.message}, e.headers)
        except Exception as e:
            self.errors.append(f"{h.command} {path}: {e!r}")
            _send_json(h, 500, {"code": 500, "message": "Internal server error."})

    def _check_auth(self, header: str) -> tuple[str | None, bool]:
        scheme, _, cred = header.partition(" ")
        if scheme == "Basic":
            try:
                user_key = base64.b64decode(cred).decode()
            except ValueError:
                return "basic", False
            return "basic", secrets.compare_digest(user_key, f"{self.username}:{self.key}")
        if scheme == "Bearer":
            return "bearer", bool(cred) and (self.accept_any_bearer or cred in self.tokens)
        return None, False

    def _take_fault(self, route: str | None) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.rpc == route and (fault.times is None or fault.times > 0):
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    def _take_truncation(self) -> bool:
        with self._lock:
            if self.truncate_downloads is True:
                return True
            if self.truncate_downloads:
                self.truncate_downloads -= 1
                return True
            return False

    def _serve_blob(self, h: _Handler, path: str) -> None:
        with self._lock:
            data = self._blob_bytes(path)
        headers = {"Content-Type": "application/octet-stream", "Last-Modified": LAST_MODIFIED}
        if not self._take_truncation():
            _send(h, 200, data, headers)
            return
        # Announce every byte, send half, hang up: what a dropped connection looks like.
        h.send_response(200)
        for name, value in {**headers, "Content-Length": str(len(data))}.items():
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(data[: len(data) // 2])
        h.wfile.flush()
        h.close_connection = True

    def _blob_bytes(self, path: str) -> bytes:
        parts = [unquote(p) for p in path.split("/")[2:]]
        if path.startswith("/kernel-output/") and len(parts) >= 3:
            files = self.kernel_outputs.get(f"{parts[0]}/{parts[1]}", {})
            name = "/".join(parts[2:])
            if name in files:
                return files[name]
        elif parts[0] == "_datasets" and len(parts) == 3 and parts[2].endswith(".zip"):
            ref = f"{parts[1]}/{parts[2][: -len('.zip')]}"
            if ref in self.datasets:
                return self.datasets[ref]
        elif len(parts) == 1 and parts[0].endswith(".zip"):
            comp = self.competitions.get(parts[0][: -len(".zip")])
            if comp is not None:
                return comp.zip_bytes
        elif len(parts) >= 2 and parts[0] in self.competitions:
            comp, name = self.competitions[parts[0]], "/".join(parts[1:])
            if name in comp.members():
                return comp.read(name)
        raise _HttpError(404, "No such blob.")

    def _receive_upload(self, path: str, data: bytes) -> None:
        token = unquote(path.removeprefix("/upload/"))
        with self._lock:
            if token not in self._upload_slots:
                raise _HttpError(404, "Unknown upload URL.")
            self._upload_slots[token]["data"] = data
            self.uploads.append(data)

    # ---- competitions ------------------------------------------------------------------------------

    def _competition(self, body: dict, rpc: str, need_rules: bool = False) -> _Competition:
        slug = body.get("competitionName", "")
        comp = self.competitions.get(slug)
        if comp is None:
            raise _HttpError(404, _fault_message(404, rpc, slug))
        if need_rules and not comp.rules_accepted:
            raise _HttpError(403, _rules_message(slug, rpc))
        return comp

    def _list_competitions(self, body: dict) -> dict:
        search = body.get("search", "").lower()
        return {
            "competitions": [
                {
                    "ref": f"https://www.kaggle.com/competitions/{c.slug}",
                    "title": c.slug,
                    "url": f"https://www.kaggle.com/competitions/{c.slug}",
                    "deadline": "2030-01-01T00:00:00.000Z",
                    "category": "Getting Started",
                    "reward": "Knowledge",
                    "teamCount": 1,
                    "userHasEntered": c.rules_accepted,
                    "maxDailySubmissions": self.daily_limit,
                }
                for c in self.competitions.values()
                if search in c.slug.lower()
            ],
            "nextPageToken": "",
        }

    def _list_data_files(self, body: dict) -> dict:
        comp = self._competition(body, "ListDataFiles")
        files = [
            {"name": name, "totalBytes": info.file_size, "creationDate": _iso(info.date_time)}
            for name, info in comp.members().items()
        ]
        return {"files": files, "nextPageToken": ""}

    def _download_data_files(self, body: dict) -> _Redirect:
        comp = self._competition(body, "DownloadDataFiles", need_rules=True)
        # The client names the file after the competition and the extension of this URL.
        return _Redirect(f"{PUBLIC}/blobs/{quote(comp.slug)}.zip")

    def _download_data_file(self, body: dict) -> _Redirect:
        comp = self._competition(body, "DownloadDataFile", need_rules=True)
        name = body.get("fileName", "")
        if name not in comp.members():
            raise _HttpError(404, f"File '{name}' not found in competition '{comp.slug}'.")
        # The last URL segment becomes the local file name.
        return _Redirect(f"{PUBLIC}/blobs/{quote(comp.slug)}/{quote(name)}")

    def _download_dataset(self, body: dict) -> _Redirect:
        ref = f"{body.get('ownerSlug', '')}/{body.get('datasetSlug', '')}"
        if ref not in self.datasets:
            raise _HttpError(404, f"Dataset '{ref}' not found.")
        # The client names the file after the dataset; "_datasets" is no competition's slug
        return _Redirect(f"{PUBLIC}/blobs/_datasets/{quote(ref)}.zip")

    def _start_submission_upload(self, body: dict) -> dict:
        comp = self._competition(body, "StartSubmissionUpload", need_rules=True)
        token = secrets.token_hex(12)
        self._upload_slots[token] = {"competition": comp.slug, "file_name": body.get("fileName", ""), "data": None}
        return {"token": token, "createUrl": f"{PUBLIC}/upload/{token}"}

    def _create_submission(self, body: dict) -> dict:
        comp = self._competition(body, "CreateSubmission", need_rules=True)
        slot = self._upload_slots.get(body.get("blobFileTokens", ""))
        if slot is None or slot["data"] is None or slot["competition"] != comp.slug:
            raise _HttpError(400, "The submission file was not uploaded.")
        if self._num_today(comp.slug) >= self.daily_limit:
            raise _HttpError(
                400,
                f"Your team has used its daily Submission allowance ({self.daily_limit}) today. "
                "Please try again tomorrow UTC.",
            )
        status, score, error = score_submission(slot["data"], comp.solution, comp.columns, comp.metric)
        ref = 1000001 + len(self.submissions)  # never 0: the client treats ref 0 as "no ref"
        self.submissions.append(
            _Submission(
                ref=ref,
                competition=comp.slug,
                file_name=slot["file_name"],
                description=body.get("submissionDescription", ""),
                total_bytes=len(slot["data"]),
                status=status,
                score=score,
                error=error,
                pending_looks=self.pending_polls,
                date=dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            )
        )
        return {"message": f"Successfully submitted to {comp.slug}", "ref": ref}

    def _get_submission(self, body: dict) -> dict:
        for sub in self.submissions:
            if sub.ref == int(body.get("ref", 0)):
                return sub.look(self.username)
        raise _HttpError(404, "Submission not found.")

    def _list_submissions(self, body: dict) -> dict:
        comp = self._competition(body, "ListSubmissions")
        subs = [s for s in self.submissions if s.competition == comp.slug]
        subs.sort(key=lambda s: s.ref, reverse=True)  # newest first
        return {"submissions": [s.look(self.username) for s in subs], "nextPageToken": ""}

    def _get_submission_limits(self, body: dict) -> dict:
        comp = self._competition(body, "GetSubmissionLimits")
        used = self._num_today(comp.slug)
        return {
            "numToday": used,
            "numTotal": used,
            "numAllowedNow": max(0, self.daily_limit - used),
            "limitedByTotal": False,
        }

    def _num_today(self, slug: str) -> int:
        # Every submission counts, errored ones too, and all of them are "today".
        return sum(s.competition == slug for s in self.submissions)

    # ---- kernels and tokens ------------------------------------------------------------------------

    def _save_kernel(self, body: dict) -> dict:
        slug = body.get("slug", "")
        self._kernel_versions[slug] = self._kernel_versions.get(slug, 0) + 1
        return {
            "ref": f"/code/{slug}",
            "url": f"https://www.kaggle.com/code/{slug}",
            "versionNumber": self._kernel_versions[slug],
            "kernelId": 1000 + list(self._kernel_versions).index(slug),
        }

    def _get_kernel_session_status(self, body: dict) -> dict:
        ref = f"{body.get('userName', '')}/{body.get('kernelSlug', '')}"
        seen = self._status_looks.get(ref, 0)
        self._status_looks[ref] = seen + 1
        status = self.kernel_statuses[min(seen, len(self.kernel_statuses) - 1)]
        reply = {"status": status}
        if status == "ERROR" and self.kernel_failure_message:
            reply["failureMessage"] = self.kernel_failure_message
        return reply

    def _list_kernel_session_output(self, body: dict) -> dict:
        owner, slug = body.get("userName", ""), body.get("kernelSlug", "")
        files = self.kernel_outputs.get(f"{owner}/{slug}", {})
        reply = {
            "files": [
                {"fileName": name, "url": f"{PUBLIC}/kernel-output/{quote(owner)}/{quote(slug)}/{quote(name)}"}
                for name in files
            ],
            "nextPageToken": "",
        }
        if f"{owner}/{slug}" in self.kernel_logs:
            reply["log"] = self.kernel_logs[f"{owner}/{slug}"]
        return reply

    def _introspect_token(self, body: dict) -> dict:
        if body.get("token") in self.tokens:
            return {"active": True, "username": self.username}
        return {"active": False}


def _rpc_name(method: str, path: str) -> str | None:
    if method == "POST" and path.startswith("/api/v1/"):
        return path.rsplit("/", 1)[-1]
    return None


def _route(method: str, path: str) -> str | None:
    """The name faults and `calls` match on: the RPC method name, "blob" or "upload"."""
    if method == "GET" and path.startswith(("/blobs/", "/kernel-output/")):
        return "blob"
    if method == "PUT" and path.startswith("/upload/"):
        return "upload"
    return _rpc_name(method, path)


def _iso(date_time: tuple[int, ...]) -> str:
    y, mo, d, h, mi, s = date_time
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.000Z"


def _blob_slug(path: str) -> str | None:
    if path.startswith("/blobs/"):
        return unquote(path.split("/")[2]).removesuffix(".zip")
    return None


def _read_body(h: _Handler) -> bytes:
    if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while size := int(h.rfile.readline().split(b";")[0], 16):
            chunks.append(h.rfile.read(size))
            h.rfile.readline()
        while h.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
            pass
        return b"".join(chunks)
    return h.rfile.read(int(h.headers.get("Content-Length") or 0))


def _send(h: _Handler, status: int, data: bytes, headers: dict[str, str]) -> None:
    h.send_response(status)
    for name, value in headers.items():
        h.send_header(name, value)
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)


def _send_json(h: _Handler, status: int, obj: dict, headers: dict[str, str] | None = None) -> None:
    data = json.dumps(obj).encode()
    _send(h, status, data, {"Content-Type": "application/json", **(headers or {})})


@pytest.fixture(name="fake_kaggle")
def fake_kaggle_fixture():
    """A started FakeKaggle, stopped after the test."""
    with FakeKaggle() as server:
        yield server


# Importing either name registers the `fake_kaggle` fixture. In a module whose tests take a
# `fake_kaggle` argument, import `fake_kaggle_fixture`: the argument would shadow the import (F811).
fake_kaggle = fake_kaggle_fixture
