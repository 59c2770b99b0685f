"""Paths and switches read from the environment, in one place."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("MOVIE_DATA_DIR", PROJECT_ROOT / ".data"))


# The daily partitions' span (docs/partitions.md): the embedded MovieLens ratings by default;
# live sources move it. The end is exclusive; empty means open-ended, up to today.
PARTITIONS_START = os.environ.get("MOVIE_PARTITIONS_START", "1995-01-09")
PARTITIONS_END = os.environ.get("MOVIE_PARTITIONS_END", "2016-10-17") or None


def partition_span() -> tuple[date, date | None]:
    """First and last day of the partitions, inclusive (None: open-ended, up to today)."""
    last = date.fromisoformat(PARTITIONS_END) - timedelta(days=1) if PARTITIONS_END else None
    return date.fromisoformat(PARTITIONS_START), last


def warehouse_path() -> Path:
    """The live DuckDB file; only Dagster writes it."""
    return Path(os.environ.get("MOVIE_WAREHOUSE", DATA_DIR / "warehouse.duckdb"))


def dagster_home() -> Path:
    return Path(os.environ.get("DAGSTER_HOME", DATA_DIR / "dagster_home"))


def model_scale_threshold() -> int:
    """Ratings above which the model layer trains ALS instead of Surprise (docs/evaluation.md)."""
    return int(os.environ.get("MOVIE_MODEL_SCALE_THRESHOLD", 120_000))
