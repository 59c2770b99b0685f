"""Paths and switches read from the environment, in one place."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("MOVIE_DATA_DIR", PROJECT_ROOT / ".data"))


def warehouse_path() -> Path:
    """The live DuckDB file; only Dagster writes it."""
    return Path(os.environ.get("MOVIE_WAREHOUSE", DATA_DIR / "warehouse.duckdb"))


def dagster_home() -> Path:
    return Path(os.environ.get("DAGSTER_HOME", DATA_DIR / "dagster_home"))


def model_scale_threshold() -> int:
    """Ratings above which the model layer trains ALS instead of Surprise (docs/evaluation.md)."""
    return int(os.environ.get("MOVIE_MODEL_SCALE_THRESHOLD", 120_000))
