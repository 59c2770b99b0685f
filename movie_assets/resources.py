"""Resources, one name each: the DuckDB warehouse and the source reader."""

from __future__ import annotations

from pathlib import Path

from dagster_duckdb import DuckDBResource

from movie_assets.settings import warehouse_path
from movie_assets.sources.registry import SourceResource


def build_resources(path: Path | None = None) -> dict:
    path = Path(path or warehouse_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        # Two cores: leave one for the webserver and Dash.
        "duckdb": DuckDBResource(database=str(path), connection_config={"threads": 1}),
        "source": SourceResource(),
    }
