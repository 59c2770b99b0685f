"""Materialize the whole graph headless: the ratings history in one range run, then every snapshot.

Dagster books a "planned" and a "materialized" event per asset per partition
(about 10-20 ms each here), so only the event table is run over every day; the
snapshots are run for the newest day, which already holds all history
(docs/partitions.md).

A build holds the warehouse from its first run to its last (``warehouse.holding``):
a second build, or a run the daemon launches meanwhile, waits for it and says so.
Its console shows one line per log message; a failed step's cause (file, line,
reason) is collected for the summary, and its traceback stays in the run's event
log (the Dagster UI's run page).
"""

from __future__ import annotations

import logging
import os
import re
import socket
import sys
import time
from dataclasses import dataclass, field

import dagster as dg
import psutil

from movie_assets.partitions import daily_partitions, last_partition_key
from movie_assets.warehouse import holding

QUIET = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
PID_TAG = "movie_assets/build_pid"
HOST_TAG = "movie_assets/build_host"
RUN_ID = re.compile(r" - [0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}")


class _FirstLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        first = RUN_ID.sub("", record.getMessage().split("\n", 1)[0])
        return f"{self.formatTime(record, '%H:%M:%S')} {record.levelname:<7} {first}"


@dg.logger(
    {"log_level": dg.Field(str, is_required=False, default_value="INFO")},
    description="One line per message on stderr; tracebacks stay in the event log.",
)
def one_line_console(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.Logger("movie_assets.build", init_context.logger_config["log_level"])
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_FirstLine())
    logger.addHandler(handler)
    return logger


@dataclass
class BuildReport:
    runs: list[tuple[str, bool, float]] = field(default_factory=list)
    step_seconds: dict[str, float] = field(default_factory=dict)
    passed_checks: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    # (run label, step, one-line cause) for every failed step, and each run's id.
    causes: list[tuple[str, str, str]] = field(default_factory=list)
    # Why each failed check failed, on one line (its rules and counts, or its reason).
    check_causes: dict[str, str] = field(default_factory=dict)
    run_ids: dict[str, str] = field(default_factory=dict)

    @property
    def asset_seconds(self) -> float:
        """Time inside asset code; the rest of a run is Dagster's own work."""
        return sum(self.step_seconds.values())

    @property
    def interrupted(self) -> bool:
        """Stopped by SIGINT or SIGTERM: Dagster ends the run as failed with this error."""
        return any("DagsterExecutionInterruptedError" in c for _, _, c in self.causes)

    @property
    def ok(self) -> bool:
        return all(ok for _, ok, _ in self.runs) and not self.failed_checks


def cause(error) -> str:
    """The user's own error in Dagster's wrapping, on one line (with what caused it, if any)."""
    chain = []
    while error is not None:
        chain.append(error)
        error = error.cause
    ours = [e for e in chain if not e.cls_name.startswith("Dagster")] or chain[:1]
    lines = [" ".join(e.message.strip().split()) for e in ours]
    return " <- ".join(dict.fromkeys(lines))


def _record(report: BuildReport, label: str, result, seconds: float) -> None:
    report.runs.append((label, result.success, seconds))
    report.run_ids[label] = result.run_id
    for event in result.all_events:
        if event.is_step_success:
            report.step_seconds[event.step_key] = event.event_specific_data.duration_ms / 1000
        elif event.is_step_failure:
            report.causes.append((label, event.step_key, cause(event.step_failure_data.error)))
        elif event.is_run_failure and not any(e.is_step_failure for e in result.all_events):
            # A run that failed outside any step (a resource, say).
            error = event.event_specific_data.error
            if error is not None:
                report.causes.append((label, "run", cause(error)))
    for evaluation in result.get_asset_check_evaluations():
        name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        (report.passed_checks if evaluation.passed else report.failed_checks).append(name)
        if not evaluation.passed:
            report.check_causes[name] = check_cause(evaluation.metadata)


def check_cause(metadata: dict) -> str:
    """A failed check's metadata on one line: its failing rules with counts, else its reason."""
    values = {k: getattr(v, "value", v) for k, v in metadata.items()}
    by_rule = values.get("failures_by_check")
    if isinstance(by_rule, dict) and by_rule:
        top = sorted(by_rule.items(), key=lambda kv: -kv[1])[:3]
        more = f" and {len(by_rule) - 3} more rules" if len(by_rule) > 3 else ""
        rows = {rule: f"{n:,} row{'s' if n != 1 else ''}" for rule, n in top}
        return ", ".join(f"{rule} ({rows[rule]})" for rule, _ in top) + more
    if "reason" in values:
        return " ".join(str(values["reason"]).split())
    if values.get("failures") is not None:
        return f"{values['failures']:,} failing rows (sample in the Dagster UI)"
    return "failed (details in the Dagster UI)"


def _job(defs: dg.Definitions, name: str) -> dg.JobDefinition:
    """The job with the one-line console logger (the code location keeps Dagster's default)."""
    with_logger = dg.Definitions.merge(defs, dg.Definitions(loggers={"console": one_line_console}))
    return with_logger.resolve_job_def(name)


def _tags() -> dict[str, str]:
    """Which process runs the build, so a build killed outright can be marked failed later."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _execute(defs: dg.Definitions, job: str, label: str, report, tags=None, **options):
    """One job in process, quietly, its outcome and causes recorded under ``label``."""
    started = time.perf_counter()
    result = _job(defs, job).execute_in_process(
        run_config=QUIET, raise_on_error=False, tags={**(tags or {}), **_tags()}, **options
    )
    _record(report, label, result, time.perf_counter() - started)
    return result


def run_history(defs: dg.Definitions, instance: dg.DagsterInstance, first: str, last: str, report):
    span = {
        "dagster/asset_partition_range_start": first,
        "dagster/asset_partition_range_end": last,
    }
    label = f"raw_ratings {first}..{last}"
    return _execute(defs, "ratings_history", label, report, span, instance=instance)


def run_snapshots(defs: dg.Definitions, instance: dg.DagsterInstance, day: str, report):
    from movie_assets.jobs import SNAPSHOTS

    keys = list(SNAPSHOTS.resolve(defs.resolve_asset_graph()))
    return _execute(
        defs,
        "movie_graph",
        f"snapshots as of {day}",
        report,
        instance=instance,
        partition_key=day,
        asset_selection=keys,
    )


def fail_orphaned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Runs of builds killed outright (SIGKILL, power cut) are marked failed; their ids.

    Such a run stays STARTED in the instance, and with ``max_concurrent_runs: 1`` it
    would keep every queued run waiting. Only runs started by a build on this host
    whose process is gone are touched.
    """
    failed = []
    records = instance.get_run_records(
        dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING],
            tags={HOST_TAG: socket.gethostname()},
        )
    )
    for record in records:
        run = record.dagster_run
        pid = int(run.tags.get(PID_TAG, "0"))
        if pid and not alive(pid):
            instance.report_run_failed(
                run, f"the build process (pid {pid}) ended without finishing this run"
            )
            failed.append(run.run_id)
    return failed


def alive(pid: int) -> bool:
    """Running, and not a zombie: a killed worker whose parent died too may stay one."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:  # someone else's process: it exists
        return True


def build(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    first: str | None = None,
    last: str | None = None,
    say=print,
) -> BuildReport:
    first = first or daily_partitions.get_first_partition_key()
    last = last or last_partition_key()
    report = BuildReport()
    with holding(defs.resources["duckdb"].database, "movie-analytics build", say=say):
        for run_id in fail_orphaned_runs(instance):
            say(f"marked run {run_id} failed: the build that started it was killed")
        if run_history(defs, instance, first, last, report).success:
            run_snapshots(defs, instance, last, report)
    return report
