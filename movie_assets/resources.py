"""Resources, one name each: the DuckDB warehouse and the source reader."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from dagster_duckdb import DuckDBResource

from movie_assets.settings import warehouse_path
from movie_assets.sources.registry import SourceResource


class Warehouse(DuckDBResource):
    """DuckDBResource whose connection is closed even when the step fails.

    dagster-duckdb 0.29 closes it only after a clean exit; a failed step left the file
    open in the run's process, and the next connection with another configuration failed.
    """

    @contextmanager
    def get_connection(self):
        with super().get_connection() as conn:
            try:
                yield conn
            finally:
                conn.close()


def build_resources(path: Path | None = None) -> dict:
    path = Path(path or warehouse_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        # DuckDB would otherwise take every core and cache up to 80% of RAM; beyond the
        # limit it spills to disk. The relational layers run inside DuckDB (docs/scale.md),
        # so a run uses both cores; set MOVIE_DUCKDB_THREADS=1 to leave one to the servers.
        "duckdb": Warehouse(
            database=str(path),
            connection_config={
                "threads": int(os.environ.get("MOVIE_DUCKDB_THREADS", "2")),
                "memory_limit": os.environ.get("MOVIE_DUCKDB_MEMORY", "2GB"),
            },
        ),
        "source": SourceResource(),
    }
