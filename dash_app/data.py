"""The one way Dash reads data: the newest published snapshot, read-only, cached per version.

Dash never opens the live warehouse (DuckDB has one writing process or many
readers). The pipeline's ``dashboard_snapshot`` asset publishes complete files
behind a pointer; every query reads the pointer, so results are cached under the
snapshot's version and a new publish invalidates the cache by changing the key.
"""

from __future__ import annotations

import functools
import os
import threading
from pathlib import Path

import duckdb
import pandas as pd

from movie_assets.publish import snapshot

# Gunicorn runs several workers on two cores: keep each one's DuckDB small.
DUCKDB_CONFIG = {
    "threads": os.environ.get("MOVIE_DASH_DUCKDB_THREADS", "2"),
    "memory_limit": os.environ.get("MOVIE_DASH_DUCKDB_MEMORY", "1GB"),
}
CACHE_SIZE = 1024


class NoSnapshot(LookupError):
    """The pipeline has not published a snapshot yet."""


_lock = threading.Lock()
_open: dict[str, duckdb.DuckDBPyConnection] = {}


def directory() -> Path:
    return snapshot.snapshot_dir()


def current() -> snapshot.Snapshot:
    published = snapshot.current(directory())
    if published is None:
        raise NoSnapshot(
            f"no snapshot published in {directory()}: run the pipeline "
            "(movie-analytics build) to materialize dashboard_snapshot"
        )
    return published


def version() -> str:
    return current().version


def _connection(published: snapshot.Snapshot) -> duckdb.DuckDBPyConnection:
    with _lock:
        con = _open.get(published.version)
        if con is None:
            con = duckdb.connect(str(published.path), read_only=True, config=DUCKDB_CONFIG)
            # Older versions close once no request holds a cursor on them.
            _open.clear()
            _open[published.version] = con
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
    """Memoize a query function on its (hashable) arguments and the snapshot version."""

    @functools.lru_cache(maxsize=CACHE_SIZE)
    def by_version(_version: str, *args, **kwargs):
        return func(*args, **kwargs)

    @functools.wraps(func)
    def wrapper(*args, **kwargs) -> pd.DataFrame:
        return by_version(version(), *args, **kwargs)

    wrapper.cache_clear = by_version.cache_clear
    return wrapper
