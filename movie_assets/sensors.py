"""Sensors and freshness: new watch-log files become runs, failed runs become alerts.

- ``watch_logs_sensor`` looks at MOVIE_WATCH_DIR; each new file (by name, size and
  modification time, kept in the cursor) requests one ``ratings_history`` run over
  the days the file touches, so each file is picked up exactly once.
- ``watch_logs_snapshots`` follows each such run that succeeded with the snapshot
  assets as of its last day (a snapshot needs the events written first).
- The two look every 60 s and 30 s; MOVIE_WATCH_INTERVAL_SECONDS, when set, paces
  both (the daemon's loop itself wakes every 5 s).
- ``alert_on_run_failure`` records every failed run in the ``alerts`` table and, when
  MOVIE_ALERT_WEBHOOK is set, posts it there as JSON.
- ``with_freshness``: with a live source (the partitions are open-ended, so a new day
  arrives every day) the raw source assets get a cron freshness policy: by 06:00 UTC
  each day they must have been materialized in the previous 24 hours (the daily
  schedule runs at 03:00), so the UI shows a source whose newest partition is late.
  With a frozen source (the partitions end on the data's newest day, as for the
  embedded data) there is no policy: no new day ever comes, and a deadline measured
  on the wall clock would call the assets stale forever after the first day.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import dagster as dg
import requests
from dagster_duckdb import DuckDBResource

from movie_assets.jobs import DAILY_SNAPSHOTS, movie_graph
from movie_assets.partitions import LIVE, RANGE_END, RANGE_START, daily_partitions
from movie_assets.schemas import now
from movie_assets.settings import current
from movie_assets.sources.registry import SourceResource

WATCH_TAG = "movie_assets/watch_file"
WEBHOOK_ENV = "MOVIE_ALERT_WEBHOOK"
INTERVAL_ENV = "MOVIE_WATCH_INTERVAL_SECONDS"
SOURCE_ASSETS = ("raw_ratings", "raw_movies", "raw_films", "cpi_series")
FRESHNESS = dg.FreshnessPolicy.cron(
    deadline_cron="0 6 * * *", lower_bound_delta=timedelta(hours=24), timezone="UTC"
)
ALERTS_DDL = """
CREATE TABLE IF NOT EXISTS alerts (
    alerted_at TIMESTAMP NOT NULL,
    run_id VARCHAR NOT NULL,
    job_name VARCHAR NOT NULL,
    partition VARCHAR,
    failed_steps VARCHAR,
    message VARCHAR,
    webhook_status VARCHAR
)
"""
MESSAGE_CHARS = 2000


FROZEN_REASON = (
    "No freshness policy: the source is frozen (its partitions end on {last}, the data's "
    "newest day). No newer day will arrive, so a wall-clock deadline would only report "
    "the asset stale forever."
)


def with_freshness(assets: list, live: bool = LIVE) -> list:
    """The raw source assets with the daily freshness policy if the source is live; if it is
    frozen, without one, and the reason in their metadata."""

    def fresh(spec: dg.AssetSpec) -> dg.AssetSpec:
        if spec.key.to_user_string() not in SOURCE_ASSETS:
            return spec
        if live:
            return spec.replace_attributes(freshness_policy=FRESHNESS)
        reason = FROZEN_REASON.format(last=daily_partitions.get_last_partition_key())
        return spec.merge_attributes(metadata={"freshness": reason})

    return dg.map_asset_specs(fresh, assets)


def _interval(default: int) -> int:
    return current().movie_watch_interval_seconds or default


def _file_id(path: Path) -> str:
    stat = path.stat()
    return f"{path.name}|{stat.st_size}|{stat.st_mtime_ns}"


@dg.sensor(
    job_name="ratings_history",
    minimum_interval_seconds=_interval(60),
    description="One ratings_history run per new watch-log file, over the days it touches.",
)
def watch_logs_sensor(context: dg.SensorEvaluationContext, source: SourceResource):
    from movie_assets.sources.watch_logs import PATTERN, file_days, watch_key

    if not source.watch_dir:
        return dg.SkipReason("MOVIE_WATCH_DIR is not set")
    folder = Path(source.watch_dir)
    if not folder.is_dir():
        return dg.SkipReason(f"{folder} does not exist yet")
    seen = set(json.loads(context.cursor)) if context.cursor else set()
    first_day = daily_partitions.start.date()
    last_key = daily_partitions.get_last_partition_key()
    requests_, new = [], []
    for path in sorted(folder.glob(PATTERN)):
        file_id = _file_id(path)
        if file_id in seen:
            continue
        new.append(file_id)
        days = sorted(file_days(path, watch_key()))
        inside = [d for d in days if first_day <= d and (last_key is None or str(d) <= last_key)]
        if len(inside) < len(days):
            context.log.warning(
                f"{path.name}: {len(days) - len(inside)} day(s) outside the partitions "
                f"{first_day}..{last_key} are not loaded; widen MOVIE_PARTITIONS_START/END"
            )
        if not inside:
            continue
        requests_.append(
            dg.RunRequest(
                run_key=file_id,
                tags={
                    RANGE_START: str(inside[0]),
                    RANGE_END: str(inside[-1]),
                    WATCH_TAG: path.name,
                },
            )
        )
    if not new:
        return dg.SkipReason("no new watch-log files")
    return dg.SensorResult(run_requests=requests_, cursor=json.dumps(sorted(seen | set(new))))


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    request_job=movie_graph,
    minimum_interval_seconds=_interval(30),
    description="After a watch-log run, the snapshots as of the newest day it loaded.",
)
def watch_logs_snapshots(context: dg.RunStatusSensorContext):
    tags = context.dagster_run.tags
    if WATCH_TAG not in tags or context.dagster_run.job_name != "ratings_history":
        # None, not a SkipReason: a returned value ends the tick, so every unrelated run
        # would cost one interval before the next watch-log run is seen.
        return None
    day = tags[RANGE_END]
    return dg.RunRequest(
        run_key=f"{context.dagster_run.run_id}:snapshots",
        partition_key=day,
        asset_selection=list(DAILY_SNAPSHOTS.resolve(context.repository_def.asset_graph)),
        tags={WATCH_TAG: tags[WATCH_TAG]},
    )


def _post(url: str, alert: dict) -> str:
    try:
        response = requests.post(url, json=alert, timeout=5)
    except requests.RequestException as err:
        return f"failed: {type(err).__name__}"
    return f"HTTP {response.status_code}"


@dg.run_failure_sensor(description="Every failed run: a row in alerts, and the webhook if set.")
def alert_on_run_failure(context: dg.RunFailureSensorContext, duckdb: DuckDBResource):
    run = context.dagster_run
    steps = sorted({e.step_key for e in context.get_step_failure_events() if e.step_key})
    alert = {
        "alerted_at": now().isoformat(),
        "run_id": run.run_id,
        "job_name": run.job_name,
        "partition": run.tags.get("dagster/partition")
        or "..".join(
            filter(
                None,
                [
                    run.tags.get(RANGE_START),
                    run.tags.get(RANGE_END),
                ],
            )
        )
        or None,
        "failed_steps": ", ".join(steps),
        "message": (context.failure_event.message or "")[:MESSAGE_CHARS],
    }
    url = current().movie_alert_webhook.get_secret_value()
    alert["webhook_status"] = _post(url, alert) if url else None
    with duckdb.get_connection() as con:
        con.execute(ALERTS_DDL)
        con.execute(
            "INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                now(),
                alert["run_id"],
                alert["job_name"],
                alert["partition"],
                alert["failed_steps"],
                alert["message"],
                alert["webhook_status"],
            ],
        )


SENSORS = [watch_logs_sensor, watch_logs_snapshots, alert_on_run_failure]
