"""The product's Spark engine beside its DuckDB engine, on the same generated archive.

Generates an archive in the ml-25m layout (benchmarks/archives.py), ingests its
ratings once, then runs the relational slice (raw snapshots, clean and feature layers)
as of the last day on a copy of that warehouse per engine: DuckDB, then Spark in
``local[2]``. Prints each engine asset's step time as Dagster records it and the
slice's total; Spark's first step includes starting the session (the JVM). Heavy:

    flock /tmp/heavy.lock .venv/bin/python benchmarks/spark_engine.py --ratings 1000000

docs/spark.md says what the engines share; docs/scale.md has the hand-written PySpark
column, which measures Spark without Dagster, Ibis or the warehouse's checks.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import dagster as dg
import duckdb

from benchmarks.archives import movielens_zip
from movie_assets.build import BuildReport, run_history
from movie_assets.definitions import build_defs
from movie_assets.resources import Engine, build_resources
from movie_assets.sources.registry import SourceResource

SLICE = dg.AssetSelection.groups("raw", "clean", "features") - dg.AssetSelection.assets(
    "raw_ratings"
)
ENGINE_ASSETS = [
    "ratings",
    "user_features",
    "genre_daily",
    "viewing_hourly",
    "trending",
    "fact_ratings",
    "dim_movie",
    "dim_user",
    "dim_date",
]


def resources(path: Path, archive: Path, engine: Engine | None = None) -> dict:
    out = build_resources(path)
    if engine is not None:
        out["duckdb"] = out["duckdb"].model_copy(update={"engine": engine})
    out["source"] = SourceResource(kind="movielens", movielens=str(archive))
    return out


def run_slice(base: Path, archive: Path, day: str, spark_memory: str | None, name: str):
    """The slice on a copy of the ingested warehouse: (wall seconds, step seconds by asset).

    ``spark_memory`` None runs the DuckDB engine, else Spark local with that driver memory.
    """
    path = base.parent.parent / name / "warehouse.duckdb"
    path.parent.mkdir()
    shutil.copy(base, path)
    engine = None
    if spark_memory is not None:
        parquet = str(path.parent / "parquet")
        engine = Engine(kind="spark", spark_driver_memory=spark_memory, spark_warehouse=parquet)
    defs = build_defs(resources(path, archive, engine))
    keys = list(SLICE.resolve(defs.resolve_asset_graph()))
    started = time.perf_counter()
    result = defs.resolve_job_def("movie_graph").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), partition_key=day, asset_selection=keys
    )
    wall = time.perf_counter() - started
    steps = {
        e.step_key: e.event_specific_data.duration_ms / 1000
        for e in result.all_events
        if e.is_step_success
    }
    return wall, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--first", default="1995-01-09", help="first day ingested")
    parser.add_argument("--day", default="2016-10-16", help="the as-of day of the slice")
    parser.add_argument("--spark-memory", default="4g")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="spark_engine_") as tmp:
        archive = Path(tmp) / "ml-25m.zip"
        movielens_zip(archive, args.ratings, seed=args.seed)
        base = Path(tmp) / "base" / "warehouse.duckdb"
        base.parent.mkdir()
        report = BuildReport()
        started = time.perf_counter()
        defs = build_defs(resources(base, archive))
        run_history(defs, dg.DagsterInstance.ephemeral(), args.first, args.day, report)
        print(f"ingested {args.ratings:,} ratings in {time.perf_counter() - started:.1f} s")
        runs = {
            "duckdb": run_slice(base, archive, args.day, None, "duckdb"),
            "spark local[2]": run_slice(base, archive, args.day, args.spark_memory, "spark"),
        }
        with duckdb.connect(str(base.parent.parent / "duckdb" / "warehouse.duckdb")) as con:
            n = con.execute("SELECT count(*) FROM ratings WHERE as_of = ?", [args.day]).fetchone()
        print(f"clean ratings as of {args.day}: {n[0]:,}")
    print(f"{'asset':<16}" + "".join(f"{name:>16}" for name in runs))
    for asset in ENGINE_ASSETS:
        print(
            f"{asset:<16}"
            + "".join(f"{steps.get(asset, 0.0):>15.1f}s" for _, steps in runs.values())
        )
    engine_total = {n: sum(s.get(a, 0.0) for a in ENGINE_ASSETS) for n, (_, s) in runs.items()}
    print(f"{'engine assets':<16}" + "".join(f"{t:>15.1f}s" for t in engine_total.values()))
    print(f"{'slice (wall)':<16}" + "".join(f"{wall:>15.1f}s" for wall, _ in runs.values()))


if __name__ == "__main__":
    main()
