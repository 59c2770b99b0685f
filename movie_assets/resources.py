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
        # Two cores: leave one for the webserver and Dash. DuckDB would otherwise cache up
        # to 80% of RAM while a large source streams in (benchmarks/ingest_memory.py).
        "duckdb": Warehouse(
            database=str(path),
            connection_config={
                "threads": 1,
                "memory_limit": os.environ.get("MOVIE_DUCKDB_MEMORY", "1GB"),
            },
        ),
        "source": SourceResource(),
    }
