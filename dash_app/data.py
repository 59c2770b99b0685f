"""The one way Dash reads data: a published snapshot, read-only, cached per version.

Dash never opens the live warehouse (DuckDB has one writing process or many
readers). The pipeline's ``dashboard_snapshot`` asset publishes complete files
behind a pointer; every query reads the pointer, so results are cached under the
snapshot's version and a new publish invalidates the cache by changing the key.

Time travel: a page's URL may name a published day (``snapshot=YYYY-MM-DD``).
Every request the page makes carries that URL as its Referer, so ``choose_day``
(run before each request) picks that day's newest file for the whole request;
without one, or for a day not published, the pointer's snapshot answers.
"""

from __future__ import annotations

import functools
import threading
from datetime import date, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import duckdb
import flask
import pandas as pd

from movie_assets import settings
from movie_assets.publish import snapshot

# Gunicorn runs several workers on two cores: keep each one's DuckDB small.
_SETTINGS = settings.current()
DUCKDB_CONFIG = {
    "threads": _SETTINGS.movie_dash_duckdb_threads,
    "memory_limit": _SETTINGS.movie_dash_duckdb_memory,
}
CACHE_SIZE = 1024
OPEN_FILES = 4  # the newest snapshot and a few past days readers travel to


class NoSnapshot(LookupError):
    """The pipeline has not published a snapshot yet."""


_lock = threading.Lock()
_open: dict[str, duckdb.DuckDBPyConnection] = {}


def directory() -> Path:
    return snapshot.snapshot_dir()


PARAM = "snapshot"


def days() -> dict[date, Path]:
    """Published days, newest first, each with its newest file."""
    return snapshot.published(directory())


def _referer_day() -> date | None:
    query = parse_qs(urlparse(flask.request.referrer or "").query)
    value = (query.get(PARAM) or [""])[0]
    try:
        return date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


def choose_day() -> None:
    """Before each request: the day the page's URL asks for, if it was published."""
    day = _referer_day()
    flask.g.snapshot_day = day if day is not None and day in days() else None


def chosen_day() -> date | None:
    """The past day this request reads, or None for the newest snapshot."""
    return flask.g.get("snapshot_day") if flask.has_request_context() else None


def current() -> snapshot.Snapshot:
    day = chosen_day()
    if day is not None:
        path = days().get(day)
        if path is not None:
            return snapshot.Snapshot(path, day, _published_at(path))
    published = snapshot.current(directory())
    if published is None:
        raise NoSnapshot(
            f"no snapshot published in {directory()}: run the pipeline "
            "(movie-analytics build) to materialize dashboard_snapshot"
        )
    return published


def _published_at(path: Path) -> str:
    """A past file's publish time is in its name (``dashboard_<day>_<UTC stamp>``)."""
    stamp = path.stem.split("_")[-1]
    return datetime.strptime(stamp, "%Y%m%dT%H%M%S%fZ").isoformat(timespec="seconds")


def version() -> str:
    return current().version


def _connection(published: snapshot.Snapshot) -> duckdb.DuckDBPyConnection:
    with _lock:
        con = _open.get(str(published.path))
        if con is None:
            con = duckdb.connect(str(published.path), read_only=True, config=DUCKDB_CONFIG)
            # The least recently opened goes; it closes once no request holds a cursor on it.
            while len(_open) >= OPEN_FILES:
                _open.pop(next(iter(_open)))
            _open[str(published.path)] = con
        return con


def close() -> None:
    """Close the open snapshot connection (a test module's teardown, a worker's shutdown)."""
    with _lock:
        for con in _open.values():
            con.close()
        _open.clear()


def query(sql: str, params: list | tuple = ()) -> pd.DataFrame:
    """Run parameterized SQL on the newest snapshot with a cursor of its own."""
    with _connection(current()).cursor() as cur:
        return cur.execute(sql, list(params)).df()


def cached(func):
    """Memoize a query function on its (hashable) arguments and the snapshot file."""

    @functools.lru_cache(maxsize=CACHE_SIZE)
    def by_version(_version: str, *args, **kwargs):
        return func(*args, **kwargs)

    @functools.wraps(func)
    def wrapper(*args, **kwargs) -> pd.DataFrame:
        return by_version(str(current().path), *args, **kwargs)

    wrapper.cache_clear = by_version.cache_clear
    return wrapper
