"""Materialize the whole graph headless: the ratings history in one range run, then every snapshot.

Dagster books a "planned" and a "materialized" event per asset per partition
(about 10-20 ms each here), so only the event table is run over every day; the
snapshots are run for the newest day, which already holds all history
(docs/partitions.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import dagster as dg

from movie_assets.partitions import daily_partitions, last_partition_key

QUIET = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


@dataclass
class BuildReport:
    runs: list[tuple[str, bool, float]] = field(default_factory=list)
    step_seconds: dict[str, float] = field(default_factory=dict)
    passed_checks: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)

    @property
    def asset_seconds(self) -> float:
        """Time inside asset code; the rest of a run is Dagster's own work."""
        return sum(self.step_seconds.values())

    @property
    def ok(self) -> bool:
        return all(ok for _, ok, _ in self.runs) and not self.failed_checks


def _record(report: BuildReport, label: str, result, seconds: float) -> None:
    report.runs.append((label, result.success, seconds))
    for event in result.all_events:
        if event.is_step_success:
            report.step_seconds[event.step_key] = event.event_specific_data.duration_ms / 1000
    for evaluation in result.get_asset_check_evaluations():
        name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        (report.passed_checks if evaluation.passed else report.failed_checks).append(name)


def run_history(defs: dg.Definitions, instance: dg.DagsterInstance, first: str, last: str, report):
    job = defs.resolve_job_def("ratings_history")
    started = time.perf_counter()
    result = job.execute_in_process(
        instance=instance,
        run_config=QUIET,
        raise_on_error=False,
        tags={
            "dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": last,
        },
    )
    _record(report, f"raw_ratings {first}..{last}", result, time.perf_counter() - started)
    return result


def run_snapshots(defs: dg.Definitions, instance: dg.DagsterInstance, day: str, report):
    from movie_assets.jobs import SNAPSHOTS

    graph = defs.resolve_asset_graph()
    keys = list(SNAPSHOTS.resolve(graph))
    job = defs.resolve_job_def("movie_graph")
    started = time.perf_counter()
    result = job.execute_in_process(
        instance=instance,
        run_config=QUIET,
        raise_on_error=False,
        partition_key=day,
        asset_selection=keys,
    )
    _record(report, f"snapshots as of {day}", result, time.perf_counter() - started)
    return result


def build(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    first: str | None = None,
    last: str | None = None,
) -> BuildReport:
    first = first or daily_partitions.get_first_partition_key()
    last = last or last_partition_key()
    report = BuildReport()
    if run_history(defs, instance, first, last, report).success:
        run_snapshots(defs, instance, last, report)
    return report
