"""The one daily partitions definition every asset shares.

A day means the day events happened for event tables (``raw_ratings``) and
"the data as of that day" for snapshot tables (everything else); see
docs/partitions.md. The default span is the embedded MovieLens ratings,
1995-01-09 to 2016-10-16; live sources move it with MOVIE_PARTITIONS_START and
MOVIE_PARTITIONS_END (exclusive; empty means open-ended, up to today).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

import dagster as dg
import pandas as pd

from movie_assets.settings import PARTITIONS_END, PARTITIONS_START

# An open-ended span means a live source: a new day arrives every day (sensors.with_freshness).
LIVE = PARTITIONS_END is None

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=PARTITIONS_START, end_date=PARTITIONS_END, timezone="UTC"
)

# Every asset: a backfill becomes one run per contiguous range of days, never one run per
# day. The event table writes a range in one transaction; a snapshot refuses a range of
# more than one day (snapshot_day), so "materialize all missing" is one run that says why.
single_run = dg.BackfillPolicy.single_run()

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
SNAPSHOT_RANGE_REFUSED = (
    "A snapshot asset holds the data as of one day, and each day is a full copy of the "
    "history up to it: it is materialized one day per run. Pick one day (the build "
    "materializes the newest), or run the feature_history job on chosen days such as "
    "month ends (docs/partitions.md)."
)


def window_days(context: dg.AssetExecutionContext) -> tuple[date, date]:
    """First and last day (inclusive) of the run's partition window."""
    window = context.partition_time_window
    return window.start.date(), (window.end - timedelta(days=1)).date()


def snapshot_day(context: dg.AssetExecutionContext) -> date:
    """The as-of day of a snapshot asset; a run over more than one day is refused."""
    keys = context.partition_key_range
    if keys.start != keys.end:
        raise dg.Failure(
            description=f"{keys.start}..{keys.end}: {SNAPSHOT_RANGE_REFUSED}",
            allow_retries=False,
        )
    return day_of(keys.start)


def run_day(tags: Mapping[str, str]) -> date | None:
    """The one day a run is about: its partition, or a range of a single day (as a
    single-run backfill tags it); None for a range of several days or no partition."""
    key = tags.get("dagster/partition")
    if key is None and tags.get(RANGE_START) == tags.get(RANGE_END):
        key = tags.get(RANGE_START)
    return day_of(key) if key else None


def day_of(key: str) -> date:
    return datetime.strptime(key, "%Y-%m-%d").date()


def last_partition_key() -> str:
    key = daily_partitions.get_last_partition_key()
    if key is None:
        raise RuntimeError("the partitions definition has no partitions yet")
    return key


def month_end_keys(first: str, last: str) -> list[str]:
    """The last day of every month from ``first`` to ``last`` (YYYY-MM), within the span."""
    days = pd.date_range(pd.Period(first, "M").start_time, pd.Period(last, "M").end_time, freq="ME")
    keys = set(daily_partitions.get_partition_keys())
    return [k for k in days.strftime("%Y-%m-%d") if k in keys]


if __name__ == "__main__":
    # python -m movie_assets.partitions 2010-01 2016-09: the keys for `dagster job backfill`.
    import sys

    print(",".join(month_end_keys(*sys.argv[1:3])))
