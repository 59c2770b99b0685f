"""The weekly evaluation asks for the thorough metrics; the build keeps the fast defaults."""

from datetime import UTC, datetime

import dagster as dg

from movie_assets.definitions import build_defs, weekly_evaluation
from movie_assets.model.assets import MetricsConfig
from movie_assets.partitions import daily_partitions
from movie_assets.resources import build_resources


def test_weekly_run_request_enables_knn_and_the_stacked_blend(tmp_path):
    tick = datetime(2016, 10, 23, 1, tzinfo=UTC)
    request = weekly_evaluation(dg.build_schedule_context(scheduled_execution_time=tick))
    # The newest partition up to the tick (the default span ends 2016-10-16).
    expected = daily_partitions.get_partition_keys(current_time=tick)[-1]
    assert request.partition_key == expected
    config = request.run_config["ops"]["model_metrics"]["config"]
    assert config == {"knn": True, "stacked": True}
    job = build_defs(build_resources(tmp_path / "warehouse.duckdb")).resolve_job_def(
        "model_evaluation"
    )
    assert dg.validate_run_config(job, request.run_config)


def test_build_default_metrics_config_is_the_fast_one():
    config = MetricsConfig()
    assert (config.knn, config.stacked) == (False, False)


def test_weekly_schedule_skips_before_the_first_partition():
    tick = datetime(1990, 1, 7, 1, tzinfo=UTC)
    result = weekly_evaluation(dg.build_schedule_context(scheduled_execution_time=tick))
    assert isinstance(result, dg.SkipReason)
