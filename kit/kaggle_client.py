"""Every call to Kaggle, through the official `kaggle` client, and nothing else talks to Kaggle.

`import kaggle` authenticates and prints help to stdout when it finds no credentials, so the
client is imported lazily, only when a command really talks to Kaggle, with that output silenced.
Failures become one sentence that says what to do: missing or rejected credentials, rules not
accepted, an unknown competition. Rate limits, server errors and dropped connections are retried
with backoff (honouring Retry-After) a bounded number of times, except a submission: after a
failure that leaves it unclear whether Kaggle created it, Kaggle's list is read first, and it is
sent again only when it is certainly not there.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import stat
import sys
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from kit import KitError

TOKEN_URL = "https://www.kaggle.com/settings/api"
NO_CREDENTIALS = (
    f"no Kaggle credentials found; create an API token at {TOKEN_URL} and save it to ~/.kaggle/access_token "
    "(or set KAGGLE_API_TOKEN, or KAGGLE_USERNAME and KAGGLE_KEY, or put kaggle.json in ~/.kaggle with chmod 600)"
)


# Kaggle's clock and ours may differ a little: a submission listed up to this long before the upload
# started still counts as the one being looked for.
CLOCK_SLACK = dt.timedelta(minutes=5)


class SentError(KitError):
    """The file reached Kaggle (or may have), but what came after failed: exit code 3, not 2."""

    exit_code = 3


def rules_url(slug: str) -> str:
    return f"https://www.kaggle.com/competitions/{slug}/rules"


# ---- credentials ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    source: str  # what the client will use, in words
    path: Path | None  # the file holding them, if any


def config_dir() -> Path:
    """The folder the client reads kaggle.json from (its own rule, kaggle_api_extended.py)."""
    if os.environ.get("KAGGLE_CONFIG_DIR"):
        return Path(os.environ["KAGGLE_CONFIG_DIR"])
    home = Path.home() / ".kaggle"
    if home.exists():
        return home
    return Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "kaggle"


def find_credentials() -> Credentials | None:
    """The credentials the client will try first, in its own order; None when there are none."""
    env = os.environ
    if env.get("KAGGLE_KERNEL_RUN_TYPE") and env.get("KAGGLE_DATA_PROXY_URL") and env.get("KAGGLE_API_V1_TOKEN"):
        return Credentials("the Kaggle notebook's own token (KAGGLE_API_V1_TOKEN)", Path(env["KAGGLE_API_V1_TOKEN"]))
    if env.get("KAGGLE_API_TOKEN"):
        token = env["KAGGLE_API_TOKEN"]
        is_file = len(token) < 4096 and Path(token).is_file()
        return Credentials("the KAGGLE_API_TOKEN environment variable", Path(token) if is_file else None)
    for name in ("access_token", "access_token.txt"):
        path = Path.home() / ".kaggle" / name
        if path.is_file():
            return Credentials(f"the token file {path}", path)
    json_path = config_dir() / "kaggle.json"
    json_values = _read_kaggle_json(json_path)
    if env.get("KAGGLE_USERNAME") and env.get("KAGGLE_KEY"):
        return Credentials("the KAGGLE_USERNAME and KAGGLE_KEY environment variables", None)
    if {"username", "key"} <= set(json_values) or (
        ("username" in json_values or env.get("KAGGLE_USERNAME")) and ("key" in json_values or env.get("KAGGLE_KEY"))
    ):
        return Credentials(f"the API key in {json_path}", json_path)
    creds = Path.home() / ".kaggle" / "credentials.json"
    if creds.is_file():
        return Credentials(f"the OAuth login in {creds} (from `kaggle auth login`)", creds)
    return None


def configured_username() -> str | None:
    """The Kaggle user named by the environment or kaggle.json, without a network call."""
    return os.environ.get("KAGGLE_USERNAME") or _read_kaggle_json(config_dir() / "kaggle.json").get("username")


def _read_kaggle_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def readable_by_others(path: Path) -> bool:
    try:
        return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))
    except OSError:
        return False


# ---- the client -----------------------------------------------------------------------------


class Kaggle:
    """The official client behind kit's own small API; every method returns plain data."""

    def __init__(self, retries: int | None = None, backoff: float | None = None):
        # KIT_KAGGLE_RETRIES / KIT_KAGGLE_BACKOFF tune how long to keep trying (the tests shorten it).
        self.retries = int(os.environ.get("KIT_KAGGLE_RETRIES", 4)) if retries is None else retries
        self.backoff = float(os.environ.get("KIT_KAGGLE_BACKOFF", 2.0)) if backoff is None else backoff
        self._api = None

    @property
    def api(self):
        if self._api is None:
            if find_credentials() is None:
                raise KitError(NO_CREDENTIALS, fix="without_account")
            quiet = io.StringIO()
            # The client prints its help text to stdout and calls exit() when it finds nothing usable.
            try:
                with contextlib.redirect_stdout(quiet):
                    import kaggle

                    api = kaggle.api
                    if not getattr(api, "_authenticated", False):
                        api.authenticate()
            except SystemExit:
                raise KitError(NO_CREDENTIALS, fix="without_account") from None
            except ImportError as e:
                raise KitError(f"the kaggle client cannot be imported ({e}); run `pip install kaggle six`.") from None
            except Exception as e:
                raise self._explain(e, None, "signing in to Kaggle") from None
            self._api = api
        return self._api

    # -- calls --

    def whoami(self, slug: str) -> str:
        """One cheap call that needs working credentials; returns the user name the client uses."""
        self._call("checking the credentials", None, lambda: self.api.competitions_list(search=slug))
        return self.api.config_values.get("username") or "(token)"

    def download(self, slug: str, folder: Path, progress: bool = False) -> Path:
        """Download the competition's zip into `folder` (with the client's progress bar); returns its path."""
        fetch = partial(self.api.competition_download_files, slug, path=str(folder), force=True, quiet=not progress)
        return self._zip_into(folder, "downloading the data", slug, fetch, what=slug, slug=slug)

    def download_dataset(self, ref: str, slug: str, folder: Path, progress: bool = False) -> Path:
        """Download a dataset's zip (ref: owner/name, for competition `slug`) into `folder`; returns its path."""
        fetch = partial(self.api.dataset_download_files, ref, path=str(folder), force=True, quiet=not progress)
        return self._zip_into(
            folder, f"downloading the dataset {ref}", None, fetch, what=f"the dataset {ref}", slug=slug
        )

    def _zip_into(self, folder: Path, doing: str, competition: str | None, fetch, *, what: str, slug: str) -> Path:
        """Run the client's download `fetch` into `folder` (its URL and progress to stderr); the zip it left there."""
        folder.mkdir(parents=True, exist_ok=True)
        with contextlib.redirect_stdout(sys.stderr):
            self._call(doing, competition, fetch)
        zips = sorted(folder.glob("*.zip"))
        if not zips:
            raise KitError(f"Kaggle sent no zip for {what}", fix="download_later", slug=slug)
        return zips[0]

    def submit(self, slug: str, path: Path, message: str, known_refs: frozenset = frozenset()) -> int:
        """Upload the file and create the submission (the client's three steps); returns its ref.

        The create is never sent blindly twice: after a failure that may have come after Kaggle
        created it (a dropped connection, a timeout, a 5xx), Kaggle's list is read, and a submission
        of this file name and description dated after the upload started (not one of `known_refs`,
        those already recorded) is taken as this one. Only when it is certainly absent is the
        upload tried again; when the list cannot be read, SentError says it may have been sent.
        """
        what = "uploading the submission"
        started = dt.datetime.now(dt.UTC)
        for attempt in range(self.retries + 1):
            try:
                with contextlib.redirect_stdout(sys.stderr):
                    reply = self.api.competition_submit(str(path), message, slug, quiet=True)
                break
            except KitError:
                raise
            except Exception as e:
                delay = self._retry_delay(e, attempt)
                if delay is None:  # a clear refusal: Kaggle created nothing
                    raise self._explain(e, slug, what) from None
                cause = self._explain(e, slug, what)
                ref = self._find_submission(slug, path.name, message, started, known_refs, cause)
                if ref is not None:
                    print(f"kit: the connection failed, but Kaggle has the submission (ref {ref})", file=sys.stderr)
                    return ref
                if attempt == self.retries:
                    raise cause from None
                print(
                    f"kit: Kaggle is busy or unreachable while {what} and has no such submission; "
                    f"trying again in {delay:.1f} s",
                    file=sys.stderr,
                )
                time.sleep(delay)
        if not getattr(reply, "ref", None):
            text = getattr(reply, "message", "") or "no reference came back"
            raise KitError(f"Kaggle did not accept the upload ({_clause(text)}); try again later.")
        return int(reply.ref)

    def _find_submission(
        self, slug: str, file_name: str, message: str, started: dt.datetime, known_refs, cause: KitError
    ) -> int | None:
        """The ref of the submission an interrupted upload made, or None when Kaggle certainly has none."""
        try:
            listed = self.submissions(slug)
        except KitError as e:
            raise SentError(
                f"{file_name} may have reached Kaggle: the upload failed ({_clause(str(cause))}) and "
                f"Kaggle's list could not be read to check ({_clause(str(e))})",
                fix="look_then_resend",
                slug=slug,
            ) from None
        found = [
            s
            for s in listed
            if s["file"] == file_name
            and s["message"] == (message or "")
            and s["ref"] not in known_refs
            and (_parse_date(s["date"]) or started) >= started - CLOCK_SLACK
        ]
        return max(s["ref"] for s in found) if found else None

    def limits(self, slug: str) -> dict | None:
        """Submissions made today and allowed now, or None when Kaggle does not say."""
        try:
            reply = self._call(
                "reading the submission limits", slug, lambda: self.api.competition_get_submission_limits(slug)
            )
        except KitError:
            return None
        return {"today": reply.num_today, "total": reply.num_total, "allowed_now": reply.num_allowed_now}

    def submission(self, ref: int) -> dict:
        return _submission_dict(self._call("reading the submission", None, lambda: self.api.get_submission(int(ref))))

    def submissions(self, slug: str) -> list[dict]:
        reply = self._call("listing submissions", slug, lambda: self.api.competition_submissions(slug)) or []
        return [_submission_dict(s) for s in reply if s is not None]

    def kernels_push(self, folder: Path) -> dict:
        with contextlib.redirect_stdout(sys.stderr):
            reply = self._call("pushing the notebook", None, lambda: self.api.kernels_push(str(folder)))
        if getattr(reply, "error", None):
            raise KitError(f"Kaggle refused the notebook: {_clause(reply.error)}.")
        return {
            "ref": getattr(reply, "ref", None),
            "url": getattr(reply, "url", None),
            "version": getattr(reply, "version_number", None),
        }

    def kernels_status(self, kernel: str) -> dict:
        reply = self._call("reading the notebook's status", None, lambda: self.api.kernels_status(kernel))
        status = getattr(reply, "status", None)
        return {
            "status": getattr(status, "name", str(status)),
            "failure": getattr(reply, "failure_message", None) or "",
        }

    def kernels_output(self, kernel: str, folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        with contextlib.redirect_stdout(sys.stderr):
            self._call(
                "downloading the notebook's output",
                None,
                lambda: self.api.kernels_output(kernel, str(folder), force=True, quiet=True),
            )
        return sorted(p for p in folder.rglob("*") if p.is_file())

    # -- retries and errors --

    def _call(self, what: str, slug: str | None, fn):
        for attempt in range(self.retries + 1):
            try:
                return fn()
            except KitError:
                raise
            except Exception as e:
                error = self._explain(e, slug, what)
                delay = self._retry_delay(e, attempt)
                if delay is None or attempt == self.retries:
                    raise error from None
                print(f"kit: Kaggle is busy or unreachable while {what}; retrying in {delay:.1f} s", file=sys.stderr)
                time.sleep(delay)

    def _retry_delay(self, e: Exception, attempt: int) -> float | None:
        """Seconds to wait before trying again, or None when trying again cannot help."""
        status = _status(e)
        if status is not None and status != 429 and status < 500:
            return None
        if status is None and not _is_connection_error(e):
            return None
        retry_after = _retry_after(e)
        if retry_after is not None:
            return min(retry_after, 120.0)
        return self.backoff * 2**attempt

    def _explain(self, e: Exception, slug: str | None, what: str) -> KitError:
        status = _status(e)
        if status == 401:
            return KitError(
                f"Kaggle rejected the credentials from {_source()} (401): the key or token is wrong or was revoked; "
                f"create a new one at {TOKEN_URL}."
            )
        if status == 403 and slug:
            return KitError(
                f"Kaggle refused access to {slug} (403): accept the competition's rules at {rules_url(slug)} "
                "(this cannot be done through the API), then run the command again."
            )
        if status == 403:
            return KitError(f"Kaggle refused the request while {what} (403); check that your account may do this.")
        if status == 404 and slug:
            return KitError(
                f"Kaggle has no competition {slug!r} (404); check the slug, as in kaggle.com/competitions/<slug>."
            )
        if status == 404:
            return KitError(f"Kaggle found nothing while {what} (404); check the name or reference.")
        if status == 429:
            return KitError(f"Kaggle is rate-limiting requests (429) while {what}; wait a few minutes and try again.")
        if status is not None and status >= 500:
            return KitError(
                f"Kaggle's servers failed (HTTP {status}) while {what}, even after retries; try again later."
            )
        if _is_connection_error(e):
            return KitError(f"cannot reach Kaggle while {what}; check your network connection or proxy settings.")
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return KitError(f"the Kaggle client failed while {what}: {_clause(first)}.")


def _clause(text: str) -> str:
    """Text to quote inside kit's own sentence: without its final full stop, which kit adds."""
    return str(text).strip().rstrip(".")


def _parse_date(text: str) -> dt.datetime | None:
    """A date from Kaggle's list as an aware datetime (naive ones are UTC), or None if unreadable."""
    try:
        date = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return date if date.tzinfo else date.replace(tzinfo=dt.UTC)


def _source() -> str:
    found = find_credentials()
    return found.source if found else "your settings"


def _status(e: Exception) -> int | None:
    response = getattr(e, "response", None)
    return getattr(response, "status_code", None)


def _retry_after(e: Exception) -> float | None:
    response = getattr(e, "response", None)
    value = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _is_connection_error(e: Exception) -> bool:
    import requests

    return isinstance(
        e, requests.exceptions.ConnectionError | requests.exceptions.Timeout | requests.exceptions.ChunkedEncodingError
    )


def _submission_dict(s) -> dict:
    status = getattr(s, "status", None)
    date = getattr(s, "date", None)
    return {
        "ref": int(s.ref),
        "date": date.isoformat() if hasattr(date, "isoformat") else str(date or ""),
        "file": getattr(s, "file_name", "") or "",
        "message": getattr(s, "description", "") or "",
        "status": getattr(status, "name", str(status or "")).replace("SubmissionStatus.", ""),
        "public_score": getattr(s, "public_score", "") or "",
        "error": getattr(s, "error_description", "") or "",
    }
