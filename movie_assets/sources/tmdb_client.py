"""TMDB API v3 over HTTP: a rate limiter, retries, a per-request deadline, a redacted credential.

HTTP is ``requests`` (pooled connections per thread); retries are ``tenacity``:
exponential backoff with jitter on 429 (never sooner than ``Retry-After``), 5xx,
timeouts, dropped connections and unreadable JSON, stopped before the per-request
time budget would be exceeded. Every request, retries included, waits for one
shared rate limiter (evenly spaced starts, default 40 per second).

requests' read timeout bounds each socket read, not the response: a server sending
a byte a second would hold an attempt for as long as it likes. So the body is read
as it arrives and an attempt that is not complete ``request_seconds`` after it
started is abandoned as a timeout (and retried like one).

The credential comes from TMDB_BEARER_TOKEN (sent as a header) or TMDB_API_KEY
(TMDB v3 takes it as a query parameter). Neither is ever put in a log line, an
exception, run metadata or the warehouse: errors are built from the path without
the query, raised outside the ``except`` block so no chained exception carries a
URL, and urllib3's debug log of request lines is redacted.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from datetime import date

import pandas as pd
import requests
import tenacity
import urllib3

from movie_assets.settings import current

TOKEN_ENV, KEY_ENV = "TMDB_BEARER_TOKEN", "TMDB_API_KEY"
MAX_PAGES = 500  # TMDB serves at most 500 pages of a discover query
CHUNK = 64 * 1024  # most bytes taken from the socket between two looks at the clock
DETAIL_FIELDS = [
    "id",
    "imdb_id",
    "title",
    "release_date",
    "genres",
    "runtime",
    "budget",
    "revenue",
    "popularity",
    "vote_average",
    "vote_count",
    "original_language",
    "production_companies",
    "production_countries",
]


class TmdbError(RuntimeError):
    """A request that failed for good; the message never holds the credential."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class _Transient(Exception):
    """Worth another try; ``wait`` is the server's Retry-After in seconds, if it sent one."""

    def __init__(self, message: str, wait: float = 0.0):
        super().__init__(message)
        self.wait = wait


class RateLimiter:
    """Evenly spaced request starts shared by all threads: at most ``rate`` in any second, +1."""

    def __init__(self, rate: float):
        if rate <= 0:
            raise ValueError("the TMDB rate limit must be positive")
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


class _Redact(logging.Filter):
    def __init__(self, secret: str):
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secret:
            message = record.getMessage()
            if self.secret in message:
                record.msg, record.args = message.replace(self.secret, "***"), None
        return True


def _credential() -> tuple[dict, dict, str]:
    """Headers, query parameters and the secret itself, from the environment."""
    settings = current()
    token = settings.tmdb_bearer_token.get_secret_value()
    key = settings.tmdb_api_key.get_secret_value()
    if token:
        return {"Authorization": f"Bearer {token}"}, {}, token
    if key:
        return {}, {"api_key": key}, key
    raise TmdbError(f"set {TOKEN_ENV} or {KEY_ENV} to use the TMDB source")


class TmdbClient:
    """GET requests against TMDB with rate limiting, retries and a per-request time budget.

    ``request_seconds`` is one attempt's wall-clock deadline: a body still arriving then is
    abandoned (the attempt ends by the deadline plus at most one read ``timeout``).
    ``retry_seconds`` is the budget of a request, retries included: no attempt starts once
    it would be exceeded.
    """

    def __init__(
        self,
        base_url: str = "https://api.themoviedb.org/3",
        rate: float = 40.0,
        retry_seconds: float = 60.0,
        max_attempts: int = 8,
        timeout: tuple[float, float] = (5.0, 15.0),
        backoff: float = 0.5,
        request_seconds: float = 30.0,
    ):
        self.base_url = base_url.rstrip("/")
        self.limiter = RateLimiter(rate)
        self.retry_seconds = retry_seconds
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.backoff = backoff
        self.request_seconds = request_seconds
        self.attempts = 0  # every request sent, retries included
        self._count_lock = threading.Lock()
        self._local = threading.local()
        self._headers, self._params, secret = _credential()
        redact = _Redact(secret)
        for name in ("urllib3.connectionpool", "requests", __name__):
            logger = logging.getLogger(name)
            if not any(isinstance(f, _Redact) and f.secret == secret for f in logger.filters):
                logger.addFilter(redact)

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.update({"Accept": "application/json", **self._headers})
            self._local.session = session
        return session

    def _attempt(self, path: str, params: dict) -> dict:
        self.limiter.wait()
        with self._count_lock:
            self.attempts += 1
        deadline = time.monotonic() + self.request_seconds
        failure, data = None, None
        try:
            with self._session().get(
                self.base_url + path,
                params={**params, **self._params},
                timeout=self.timeout,
                stream=True,
            ) as response:
                data = _read_body(response, deadline)
        # urllib3's own errors: the body is read from response.raw, which requests doesn't wrap
        except (requests.Timeout, urllib3.exceptions.TimeoutError):
            failure = _Transient(f"GET {path}: timed out")
        except (requests.ConnectionError, urllib3.exceptions.HTTPError):
            failure = _Transient(f"GET {path}: connection failed")
        if failure is not None:
            raise failure
        if data is None:
            raise _Transient(
                f"GET {path}: timed out (no complete response in {self.request_seconds:g} s)"
            )
        status = response.status_code
        if status == 429 or status >= 500:
            raise _Transient(f"GET {path}: HTTP {status}", _retry_after(response))
        try:
            body = json.loads(data)
        except ValueError:
            body = None
        if status != 200:
            raise TmdbError(f"GET {path}: HTTP {status}: {_status_message(body)}", status)
        if not isinstance(body, dict):
            raise _Transient(f"GET {path}: response is not a JSON object (malformed JSON?)")
        if body.get("success") is False:
            raise TmdbError(f"GET {path}: {_status_message(body)}", status)
        return body

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exponential = self.backoff * 2 ** (state.attempt_number - 1)
        jittered = random.uniform(0, exponential)
        error = state.outcome.exception() if state.outcome else None
        server = error.wait if isinstance(error, _Transient) else 0.0
        return max(server, jittered)

    def get(self, path: str, **params) -> dict:
        """The JSON object at ``path``; TmdbError once retries are used up or on a 4xx."""
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Transient),
            wait=self._wait,
            stop=tenacity.stop_after_attempt(self.max_attempts)
            | tenacity.stop_before_delay(self.retry_seconds),
            reraise=True,
        )
        failure = None
        try:
            return retrying(self._attempt, path, params)
        except _Transient as err:
            attempts = retrying.statistics.get("attempt_number", 1)
            failure = TmdbError(f"{err} (gave up after {attempts} attempts)")
        raise failure

    def discover_day(self, day: date) -> tuple[list[int], int]:
        """Ids of the films whose primary release is ``day``, every page; and total_results."""
        ids: dict[int, None] = {}
        page, pages, total = 1, 1, 0
        while page <= pages:
            body = self.get(
                "/discover/movie",
                **{
                    "primary_release_date.gte": day.isoformat(),
                    "primary_release_date.lte": day.isoformat(),
                    "sort_by": "original_title.asc",
                    "include_adult": "false",
                    "page": page,
                },
            )
            pages, total = int(body.get("total_pages", 0)), int(body.get("total_results", 0))
            if pages > MAX_PAGES:
                raise TmdbError(f"discover {day}: {pages} pages, TMDB serves {MAX_PAGES}")
            ids.update((int(r["id"]), None) for r in body.get("results", []))
            page += 1
        return list(ids), total

    def details(self, movie_id: int) -> dict:
        body = self.get(f"/movie/{movie_id}")
        return {k: body.get(k) for k in DETAIL_FIELDS}


def _read_body(response: requests.Response, deadline: float) -> bytes | None:
    """The decoded body, or None once ``deadline`` passes before it is complete.

    ``read1`` returns what one socket read brings (``iter_content`` would wait for a
    whole chunk), so the clock is looked at between every two reads.
    """
    parts = []
    while time.monotonic() < deadline:
        part = response.raw.read1(CHUNK, decode_content=True)
        if not part:
            return b"".join(parts)
        parts.append(part)
    return None


def _retry_after(response: requests.Response) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = pd.Timestamp(value)
        return max(0.0, (when - pd.Timestamp.now(tz="UTC")).total_seconds())
    except (ValueError, TypeError):
        return 0.0


def _status_message(body) -> str:
    if isinstance(body, dict) and "status_message" in body:
        return f"{body['status_message']} (TMDB status_code {body.get('status_code')})"
    return "no JSON error body"
