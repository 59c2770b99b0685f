"""The weekly evaluation asks for the thorough metrics; the build keeps the fast defaults."""

import shutil
from datetime import UTC, datetime

import dagster as dg
import duckdb
from surprise import SVD

from movie_assets.definitions import build_defs, weekly_evaluation
from movie_assets.jobs import DAILY_SNAPSHOTS
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


def test_a_day_without_recent_tuning_trains_untuned_and_warns(slice_warehouse, tmp_path):
    """A watch-log file for an old day: no weekly tuning within 7 days, so defaults and a WARN."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(slice_warehouse.path, path)
    defs = build_defs(build_resources(path))
    day = "2016-09-20"  # the slice was tuned as of 2016-10-16, 26 days later
    result = defs.resolve_job_def("movie_graph").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        partition_key=day,
        asset_selection=list(DAILY_SNAPSHOTS.resolve(defs.resolve_asset_graph())),
        raise_on_error=False,
    )
    assert result.success
    fresh = {
        e.asset_key.to_user_string(): e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "tuning_fresh"
    }
    assert set(fresh) == {"recommender", "recommendations"}
    assert all(not e.passed and e.severity == dg.AssetCheckSeverity.WARN for e in fresh.values())
    (materialization,) = result.asset_materializations_for_node("recommender")
    assert materialization.metadata["params"].data == {}
    with duckdb.connect(str(path), read_only=True) as con:
        lengths = con.execute(
            "SELECT DISTINCT len(factors) FROM recommender WHERE as_of = ? AND entity = 'user'",
            [day],
        ).fetchall()
        users = con.execute(
            "SELECT count(DISTINCT user_id) FROM ratings WHERE as_of = ?", [day]
        ).fetchone()[0]
        listed = con.execute(
            "SELECT count(DISTINCT user_id) FROM recommendations WHERE as_of = ?", [day]
        ).fetchone()[0]
    assert lengths == [(SVD().n_factors,)]  # Surprise's default, not the tuned value
    assert listed == users > 0
