"""Build-time figures on the embedded data, from a clean state, with the real instance config.

Prints, for each repeat and as medians:
- the full build (`movie-analytics build`: the ratings history as one range run, then every
  snapshot as of the newest day), and the share of it Dagster spends outside asset code;
- one new day's run of the daily job `movie_graph` (that day's ratings and every daily
  snapshot), on a warehouse built up to the day before.

- with ``--weekly``, after the first build: the weekly ``model_evaluation`` run (item and
  user KNNBaseline and the stacked blend added to the metrics) as of the newest day.

Each full build also prints its slowest steps (Dagster's step durations).

    python benchmarks/build.py [--repeat 3] [--daily-repeat 3] [--weekly]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEW_DAY = "2016-10-16"
DAY_BEFORE = "2016-10-15"


def _fresh_instance(directory: Path):
    import dagster as dg

    home = directory / "dagster_home"
    home.mkdir()
    shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.get()


SLOWEST = 8


def full_build(directory: Path) -> tuple[float, float, dict[str, float]]:
    from movie_assets.build import build
    from movie_assets.definitions import build_defs
    from movie_assets.resources import build_resources

    instance = _fresh_instance(directory)
    defs = build_defs(build_resources(directory / "warehouse.duckdb"))
    started = time.perf_counter()
    report = build(defs, instance)
    total = time.perf_counter() - started
    if not report.ok:
        sys.exit(f"build failed: {report.runs} {report.failed_checks}")
    # The raw_ratings step also books one event per day; its own code is timed apart.
    snapshot_code = report.asset_seconds - report.step_seconds["raw_ratings"]
    return total, snapshot_code + history_code_seconds(directory), report.step_seconds


def weekly_run(directory: Path) -> dict[str, float]:
    """The weekly evaluation on the first build's warehouse and instance: its step durations."""
    import dagster as dg

    from movie_assets.definitions import WEEKLY_METRICS, build_defs
    from movie_assets.partitions import last_partition_key
    from movie_assets.resources import build_resources

    defs = build_defs(build_resources(directory / "warehouse.duckdb"))
    with dg.DagsterInstance.get() as instance:
        result = defs.resolve_job_def("model_evaluation").execute_in_process(
            instance=instance, partition_key=last_partition_key(), run_config=WEEKLY_METRICS
        )
        if not result.success:
            sys.exit("the weekly run failed")
        stats = instance.get_run_step_stats(result.run_id)
    return {s.step_key: (s.end_time or 0) - (s.start_time or 0) for s in stats}


def _slowest(steps: dict[str, float]) -> str:
    slowest = sorted(steps.items(), key=lambda item: -item[1])[:SLOWEST]
    return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in slowest)


def history_code_seconds(directory: Path) -> float:
    """raw_ratings' work outside Dagster: read the whole history, write it in one transaction."""
    import duckdb
    import pandas as pd

    from movie_assets.partitions import daily_partitions, day_of, last_partition_key
    from movie_assets.schemas import now
    from movie_assets.sources.embedded import EmbeddedSource
    from movie_assets.warehouse import replace_partition

    first, last = daily_partitions.start.date(), day_of(last_partition_key())
    started = time.perf_counter()
    rows = EmbeddedSource().ratings(first, last).rows
    frame = rows.assign(
        rating_date=pd.to_datetime(rows["timestamp"], unit="s").dt.normalize(),
        source="embedded",
        ingested_at=now(),
    )
    with duckdb.connect(str(directory / "history_only.duckdb")) as con:
        replace_partition(con, "raw_ratings", frame, first, last)
    return time.perf_counter() - started


def new_day_runs(directory: Path, repeat: int) -> list[float]:
    """Build up to the day before, then time the daily job for the new day (re-runs redo it all)."""
    from movie_assets.build import build
    from movie_assets.definitions import build_defs
    from movie_assets.resources import build_resources

    instance = _fresh_instance(directory)
    defs = build_defs(build_resources(directory / "warehouse.duckdb"))
    if not build(defs, instance, last=DAY_BEFORE).ok:
        sys.exit("the build up to the day before failed")
    job = defs.resolve_job_def("movie_graph")
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = job.execute_in_process(instance=instance, partition_key=NEW_DAY)
        seconds.append(time.perf_counter() - started)
        if not result.success:
            sys.exit("the new day's run failed")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="full builds to time")
    parser.add_argument("--daily-repeat", type=int, default=3, help="new-day runs to time")
    parser.add_argument("--weekly", action="store_true", help="time the weekly evaluation run")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    totals, outside = [], []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            total, in_assets, steps = full_build(Path(tmp))
            totals.append(total)
            outside.append((total - in_assets) / total)
            print(f"full build {i + 1}: {total:.1f} s, {100 * outside[-1]:.0f}% outside asset code")
            print(f"  slowest steps: {_slowest(steps)}")
            if args.weekly and i == 0:
                print(f"weekly model_evaluation run, steps: {_slowest(weekly_run(Path(tmp)))}")
    days = []
    if args.daily_repeat:
        with tempfile.TemporaryDirectory() as tmp:
            days = new_day_runs(Path(tmp), args.daily_repeat)
    for i, seconds in enumerate(days):
        print(f"new day run {i + 1}: {seconds:.1f} s")
    print(
        f"median full build: {statistics.median(totals):.1f} s "
        f"(target 90); Dagster outside asset code: "
        f"{100 * statistics.median(outside):.0f}%"
    )
    if days:
        print(f"median new-day run: {statistics.median(days):.1f} s (target 30)")


if __name__ == "__main__":
    main()
