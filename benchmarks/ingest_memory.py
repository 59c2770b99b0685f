"""Peak memory of ingesting Netflix Prize files into raw_ratings, for growing numbers of ratings.

For each N, writes N ratings in the Netflix Prize layout with benchmarks/archives.py
(combined_data_1..4.txt, 17,770 movies at 100M and fewer below, probe.txt holding about
1.4% of the pairs, movie_titles.csv), then
materializes raw_ratings over the whole span in a fresh process, in process with
Dagster, exactly as the build's ratings_history run does (MOVIE_SOURCE=netflix). The
child's peak RSS comes from wait4(2). Streaming is working when the peak barely moves
while N grows tenfold; --whole reads the window into one frame first (the behaviour
before streaming) for comparison.

    python benchmarks/ingest_memory.py --ratings 1e6 1e7 1e8 [--repeat 1] [--whole]
        [--memory-limit 1GB] [--chunk-rows 250000] [--workdir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make the benchmarks package importable
    sys.path.insert(0, str(ROOT))
from benchmarks.archives import NETFLIX_FIRST as FIRST_DAY  # noqa: E402
from benchmarks.archives import NETFLIX_LAST as LAST_DAY  # noqa: E402
from benchmarks.archives import netflix_folder  # noqa: E402


def generate(folder: Path, ratings: int, seed: int = 0) -> int:
    """Writes the folder; returns how many ratings are probe pairs (ingested like any other)."""
    return netflix_folder(folder, ratings, seed).probe_pairs


def child(
    folder: str, warehouse: str, memory_limit: str | None, whole: bool, chunk_rows: int | None
) -> None:
    """One ingestion, the build's way: raw_ratings over the whole span in one step."""
    import warnings

    warnings.simplefilter("ignore")
    os.environ.update(
        MOVIE_SOURCE="netflix",
        MOVIE_NETFLIX_DIR=folder,
        MOVIE_PARTITIONS_START=FIRST_DAY.isoformat(),
        MOVIE_PARTITIONS_END=(LAST_DAY + timedelta(days=1)).isoformat(),
    )
    import dagster as dg
    import duckdb

    from movie_assets.partitions import daily_partitions, last_partition_key
    from movie_assets.raw.assets import raw_ratings
    from movie_assets.resources import Warehouse, build_resources
    from movie_assets.sources import netflix, ratings_parse

    resources = build_resources(Path(warehouse))
    if memory_limit:
        config = {"threads": 1, "memory_limit": memory_limit}
        resources["duckdb"] = Warehouse(database=warehouse, connection_config=config)
    if chunk_rows:
        netflix.CHUNK_ROWS = chunk_rows
    if whole:
        streamed = netflix.NetflixPrize.ratings_batches
        netflix.NetflixPrize.ratings_batches = lambda self, first, last: iter(
            [ratings_parse.gather(streamed(self, first, last))]
        )
    started = time.perf_counter()
    result = dg.materialize(
        [raw_ratings],
        resources=resources,
        instance=dg.DagsterInstance.ephemeral(),
        tags={
            "dagster/asset_partition_range_start": daily_partitions.start.date().isoformat(),
            "dagster/asset_partition_range_end": last_partition_key(),
        },
        raise_on_error=False,
    )
    seconds = time.perf_counter() - started
    with duckdb.connect(warehouse, read_only=True) as con:
        rows = con.execute("SELECT count(*) FROM raw_ratings").fetchone()[0]
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    print(json.dumps({"ok": result.success, "seconds": seconds, "rows": rows, "checks": checks}))


def measure(folder: Path, memory_limit: str | None, whole: bool, chunk_rows: int | None) -> dict:
    """A fresh process per run, so that its peak RSS is this ingestion's alone."""
    warehouse = folder.parent / f"{folder.name}.duckdb"
    warehouse.unlink(missing_ok=True)
    command = [sys.executable, __file__, "--child", str(folder), str(warehouse)]
    command += ["--memory-limit", memory_limit] if memory_limit else []
    command += ["--whole"] if whole else []
    command += ["--chunk-rows", str(chunk_rows)] if chunk_rows else []
    log = folder.parent / f"{folder.name}.log"
    with log.open("w") as errors:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=errors, cwd=ROOT, text=True
        )
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    warehouse.unlink(missing_ok=True)
    if process.returncode != 0:
        sys.exit(f"ingestion of {folder} failed (exit {process.returncode}); see {log}")
    log.unlink()
    report = json.loads(output.strip().splitlines()[-1])
    report["peak_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", nargs="+", type=float, default=[1e6, 1e7])
    parser.add_argument("--repeat", type=int, default=1, help="ingestions per N")
    parser.add_argument("--whole", action="store_true", help="one frame per window (no streaming)")
    parser.add_argument(
        "--memory-limit",
        help="DuckDB memory_limit, e.g. 128MB (default: MOVIE_DUCKDB_MEMORY or 1GB)",
    )
    parser.add_argument("--chunk-rows", type=int, help="lines per block (default: CHUNK_ROWS)")
    parser.add_argument("--workdir", type=Path, help="where the files go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.memory_limit, args.whole, args.chunk_rows)
        return

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="ingest_memory-"))
    workdir.mkdir(parents=True, exist_ok=True)
    mode = "whole window" if args.whole else "streamed"
    print(
        f"mode: {mode}; chunk rows: {args.chunk_rows or 'CHUNK_ROWS'}; "
        f"DuckDB memory_limit: {args.memory_limit or 'the resource default'}; files in {workdir}"
    )
    print(
        f"{'ratings':>12} {'seconds':>9} {'peak RSS MB':>12} {'rows in table':>14} {'expected':>12}"
    )
    peaks = {}
    try:
        for n in sorted(int(r) for r in args.ratings):
            folder = workdir / f"netflix_{n}"
            if not (folder / "probe_hits.txt").exists():
                started = time.perf_counter()
                hits = generate(folder, n)
                (folder / "probe_hits.txt").write_text(str(hits))
                print(f"  (generated {n:,} ratings in {time.perf_counter() - started:.0f} s)")
            # probe.txt's pairs are a subset of the training lines and land like every other
            # line (docs/sources.md): every generated rating is expected in raw_ratings.
            expected = n
            runs = [
                measure(folder, args.memory_limit, args.whole, args.chunk_rows)
                for _ in range(args.repeat)
            ]
            for run in runs:
                if not run["ok"] or run["rows"] != expected or not all(run["checks"].values()):
                    sys.exit(f"N={n:,}: run failed or wrong rows: {run}")
            seconds = statistics.median(r["seconds"] for r in runs)
            peaks[n] = [r["peak_mb"] for r in runs]
            print(
                f"{n:>12,} {seconds:>9.1f} {statistics.median(peaks[n]):>12.0f} "
                f"{runs[0]['rows']:>14,} {expected:>12,}"
                + (
                    f"   (peaks: {', '.join(f'{p:.0f}' for p in peaks[n])})"
                    if len(runs) > 1
                    else ""
                )
            )
            if not args.keep:
                shutil.rmtree(folder)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    if len(peaks) > 1:
        small, large = min(peaks), max(peaks)
        ratio = statistics.median(peaks[large]) / statistics.median(peaks[small])
        print(
            f"peak RSS ratio, {large:,} vs {small:,} ratings "
            f"({large / small:.0f}x the data): {ratio:.2f}"
        )


if __name__ == "__main__":
    main()
