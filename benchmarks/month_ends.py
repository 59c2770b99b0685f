"""What month-end snapshots of the feature layer cost: time per day and warehouse growth.

On the embedded data, with the real instance configuration: the build (the ratings history
as one range run, the whole graph as of the newest day), then the optional
``feature_history`` job once per month end of the chosen span, in process (the daemon
would start one process per run on top of this); each run also publishes that day for the
app. ``--step`` takes every n-th month end, so a sample spread over the span stands for all
of it. Prints each run, the mean, the warehouse size and the published file added per month
end, and the estimate for every month end of the embedded span.

    python benchmarks/month_ends.py [--first 1995-01] [--last 2016-09] [--step 24]
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
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _size(path: Path) -> int:
    import duckdb

    with duckdb.connect(str(path)) as con:
        con.execute("CHECKPOINT")
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--first", default="1995-01", help="first month, YYYY-MM")
    parser.add_argument("--last", default="2016-09", help="last month, YYYY-MM")
    parser.add_argument("--step", type=int, default=24, help="every n-th month end")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    directory = Path(tempfile.mkdtemp(prefix="month_ends_"))
    home = directory / "dagster_home"
    home.mkdir()
    shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)

    import dagster as dg

    from movie_assets.build import build
    from movie_assets.definitions import build_defs
    from movie_assets.partitions import daily_partitions, day_of, month_end_keys
    from movie_assets.publish import snapshot
    from movie_assets.resources import build_resources

    instance = dg.DagsterInstance.get()
    path = directory / "warehouse.duckdb"
    defs = build_defs(build_resources(path))
    first, last = (
        daily_partitions.get_first_partition_key(),
        daily_partitions.get_last_partition_key(),
    )
    if not build(defs, instance, say=lambda _: None).ok:
        sys.exit("the build failed")
    before = _size(path)
    job = defs.resolve_job_def("feature_history")
    days = month_end_keys(args.first, args.last)[:: args.step]
    seconds = []
    for day in days:
        started = time.perf_counter()
        result = job.execute_in_process(
            instance=instance, partition_key=day, run_config=QUIET, raise_on_error=False
        )
        seconds.append(time.perf_counter() - started)
        print(f"{day}: {seconds[-1]:.1f} s {'ok' if result.success else 'FAILED'}", flush=True)
    grown = _size(path) - before
    files = snapshot.published(snapshot.snapshot_dir(path))
    published = statistics.mean(files[d].stat().st_size for d in map(day_of, days) if d in files)
    every = month_end_keys(first[:7], last[:7])
    mean, per_day = statistics.mean(seconds), grown / len(days)
    print(
        f"\n{len(days)} month ends ({days[0]}..{days[-1]}): mean {mean:.1f} s per run "
        f"(min {min(seconds):.1f}, max {max(seconds):.1f}); warehouse +{per_day / 2**20:.1f} MiB "
        f"and a published file of {published / 2**20:.1f} MiB per month end"
    )
    print(
        f"every month end of the span ({len(every)}, {every[0]}..{every[-1]}): about "
        f"{mean * len(every) / 60:.0f} min and {per_day * len(every) / 2**30:.1f} GiB"
    )
    shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
