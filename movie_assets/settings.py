"""Every environment variable the project reads, with its type and default, in one place.

A field is named after its variable (``movie_warehouse`` is MOVIE_WAREHOUSE); the docs'
tables list the same variables (tests/test_settings.py checks both ways). ``current()``
reads the environment when called, so a process that changes its own environment (the
CLI, a test) sees the change. Dagster's partitions definition reads the span once, at
import (``PARTITIONS_START``/``PARTITIONS_END``), because it is fixed when the code
location loads.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    # Where things live (README, "Configuration").
    movie_data_dir: Path = PROJECT_ROOT / ".data"
    movie_warehouse: Path | None = None  # default: <data dir>/warehouse.duckdb
    dagster_home: Path | None = None  # default: <data dir>/dagster_home
    movie_snapshot_dir: Path | None = None  # default: snapshots/ next to the warehouse
    movie_source_cache: Path | None = None  # default: <data dir>/source_cache
    # The daily partitions' span (docs/partitions.md). The end is exclusive; empty means
    # open-ended, up to today.
    movie_partitions_start: date = date(1995, 1, 9)
    movie_partitions_end: str = "2016-10-17"
    movie_model_scale_threshold: int = 120_000
    movie_duckdb_threads: int = 2
    movie_duckdb_memory: str = "2GB"
    # Engines (docs/spark.md).
    movie_engine: Literal["duckdb", "spark"] = "duckdb"
    spark_remote: SecretStr = SecretStr("")  # a Connect URL may carry a token
    movie_spark_warehouse: str = ""  # default: spark/ next to the warehouse
    movie_spark_master: str = "local[2]"
    movie_spark_driver_memory: str = "2g"
    # Sources (docs/sources.md).
    movie_source: str = "embedded"
    movie_movielens: str = ""
    movie_kaggle_metadata: str = ""
    movie_fred_cpi: str = ""
    movie_netflix_dir: str = ""
    movie_watch_dir: str = ""
    movie_watch_key: SecretStr = SecretStr("")
    movie_watch_interval_seconds: int | None = None
    tmdb_bearer_token: SecretStr = SecretStr("")
    tmdb_api_key: SecretStr = SecretStr("")
    movie_tmdb_url: str = "https://api.themoviedb.org/3"
    movie_tmdb_rate: float = 40.0
    movie_tmdb_workers: int = 8
    movie_tmdb_released_from: str = ""
    movie_tmdb_retry_seconds: float = 60.0
    movie_tmdb_request_seconds: float = 30.0
    movie_alert_webhook: SecretStr = SecretStr("")  # a webhook URL often embeds its token
    # Servers (README, docs/operations.md, docs/dashboard.md).
    movie_host: str = "127.0.0.1"
    movie_allow_remote: bool = False
    dagster_ui_url: str = "http://127.0.0.1:3000"
    movie_dash_duckdb_threads: int = 2
    movie_dash_duckdb_memory: str = "1GB"
    movie_dash_poll_ms: int = 10_000

    @field_validator("*", mode="before")
    @classmethod
    def _empty_means_default(cls, value, info: ValidationInfo):
        """A variable set to "" is the default, except the span's end ("": open-ended)."""
        if value == "" and info.field_name != "movie_partitions_end":
            return cls.model_fields[info.field_name].default
        return value

    @property
    def warehouse(self) -> Path:
        """The live DuckDB file; only Dagster writes it."""
        return self.movie_warehouse or self.movie_data_dir / "warehouse.duckdb"

    @property
    def home(self) -> Path:
        return self.dagster_home or self.movie_data_dir / "dagster_home"

    @property
    def source_cache(self) -> Path:
        return self.movie_source_cache or self.movie_data_dir / "source_cache"

    @property
    def span(self) -> tuple[date, date | None]:
        """First and last day of the partitions, inclusive (None: open-ended, up to today)."""
        end = self.movie_partitions_end
        last = date.fromisoformat(end) - timedelta(days=1) if end else None
        return self.movie_partitions_start, last


class SettingsError(ValueError):
    """A variable the project cannot use, named as the user set it."""


def current() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])).upper()}={e['input']!r}: {e['msg']}"
            for e in error.errors()
        )
        raise SettingsError(problems) from None


_AT_IMPORT = current()
DATA_DIR = _AT_IMPORT.movie_data_dir
PARTITIONS_START = _AT_IMPORT.movie_partitions_start.isoformat()
PARTITIONS_END = _AT_IMPORT.movie_partitions_end or None


def partition_span() -> tuple[date, date | None]:
    """The span the readers book days in: the same variables the partitions definition read."""
    return current().span


def warehouse_path() -> Path:
    return current().warehouse


def dagster_home() -> Path:
    return current().home


def model_scale_threshold() -> int:
    """Ratings above which the model layer trains ALS instead of Surprise (docs/evaluation.md)."""
    return current().movie_model_scale_threshold
