"""The one daily partitions definition every asset shares.

A day means the day events happened for event tables (``raw_ratings``) and
"the data as of that day" for snapshot tables (everything else); see
docs/partitions.md. The default span is the embedded MovieLens ratings,
1995-01-09 to 2016-10-16; live sources move it with MOVIE_PARTITIONS_START and
MOVIE_PARTITIONS_END (exclusive; empty means open-ended, up to today).
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta

import dagster as dg

DEFAULT_START = "1995-01-09"
DEFAULT_END = "2016-10-17"

PARTITIONS_START = os.environ.get("MOVIE_PARTITIONS_START", DEFAULT_START)
PARTITIONS_END = os.environ.get("MOVIE_PARTITIONS_END", DEFAULT_END) or None

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=PARTITIONS_START, end_date=PARTITIONS_END, timezone="UTC"
)

# Range runs write one transaction for the whole window instead of one per day.
single_run = dg.BackfillPolicy.single_run()


def window_days(context: dg.AssetExecutionContext) -> tuple[date, date]:
    """First and last day (inclusive) of the run's partition window."""
    window = context.partition_time_window
    return window.start.date(), (window.end - timedelta(days=1)).date()


def snapshot_day(context: dg.AssetExecutionContext) -> date:
    """The as-of day of a snapshot asset; snapshots run one partition per run."""
    return day_of(context.partition_key)


def day_of(key: str) -> date:
    return datetime.strptime(key, "%Y-%m-%d").date()


def last_partition_key() -> str:
    key = daily_partitions.get_last_partition_key()
    if key is None:
        raise RuntimeError("the partitions definition has no partitions yet")
    return key
