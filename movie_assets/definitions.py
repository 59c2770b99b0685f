"""The code location: every asset, check, resource, job and schedule, assembled here."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from movie_assets.clean import assets as clean
from movie_assets.features import assets as features
from movie_assets.jobs import feature_history, model_evaluation, movie_graph, ratings_history
from movie_assets.metadata import with_catalog_metadata
from movie_assets.model import assets as model
from movie_assets.partitions import daily_partitions, single_run
from movie_assets.publish import assets as publish
from movie_assets.raw import assets as raw
from movie_assets.resources import build_resources
from movie_assets.sensors import SENSORS, with_freshness

# One backfill policy for every asset (partitions.single_run): a backfill is one run per
# contiguous range of days, and a snapshot asset refuses a range of more than one day.
# Each layer's assets are its group, named here once.
LAYERS = {"raw": raw, "clean": clean, "features": features, "model": model, "publish": publish}
ALL_ASSETS = [
    asset
    for group, module in LAYERS.items()
    for asset in dg.load_assets_from_modules([module], group_name=group, backfill_policy=single_run)
]

daily_schedule = dg.build_schedule_from_partitioned_job(movie_graph, hour_of_day=3)
# The weekly run's metrics: the build keeps MetricsConfig's fast defaults (docs/evaluation.md).
WEEKLY_METRICS = {"ops": {"model_metrics": {"config": {"knn": True, "stacked": True}}}}


@dg.schedule(job=model_evaluation, cron_schedule="0 1 * * 0", execution_timezone="UTC")
def weekly_evaluation(context: dg.ScheduleEvaluationContext):
    """Sunday 01:00 UTC: tune and evaluate as of the newest day, with the thorough metrics.

    The build's run keeps MetricsConfig's fast defaults; the weekly run adds item and
    user KNNBaseline and the stacked blend (docs/evaluation.md).
    """
    # get_last_partition_key() takes no current_time in dagster 1.13: list the keys up to the tick.
    keys = daily_partitions.get_partition_keys(current_time=context.scheduled_execution_time)
    if not keys:
        return dg.SkipReason("no partition yet")
    key = keys[-1]
    return dg.RunRequest(run_key=f"evaluation-{key}", partition_key=key, run_config=WEEKLY_METRICS)


def build_defs(resources: dict | None = None) -> dg.Definitions:
    """Tests pass their own resources (a temporary warehouse); the code location the defaults."""
    resources = resources or build_resources()
    catalog = Path(resources["duckdb"].database).stem
    return dg.Definitions(
        assets=with_catalog_metadata(with_freshness(ALL_ASSETS), catalog),
        jobs=[movie_graph, model_evaluation, ratings_history, feature_history],
        schedules=[daily_schedule, weekly_evaluation],
        sensors=SENSORS,
        resources=resources,
        # DuckDB has one writer at a time: steps run one after another in the run's process.
        executor=dg.in_process_executor,
    )


defs = build_defs()
