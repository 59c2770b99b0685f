"""The product's Spark engine beside its DuckDB engine, on the same generated archives.

For each size, generates an archive in the ml-25m layout (benchmarks/archives.py); then
each engine, in a warehouse of its own, ingests the ratings of the span itself (DuckDB:
the Python readers; Spark in ``local[2]``: its CSV reader) and runs the relational slice
(raw snapshots, clean and feature layers) as of the last day. Prints, per size, the
ingestion time, each engine asset's step time as Dagster records it, the slice's wall
time and Spark's ratio to DuckDB, so the crossover shows (or that there is none on one
machine). Spark's first step of each run includes starting the session (the JVM). Heavy:

    flock /tmp/heavy.lock .venv/bin/python benchmarks/spark_engine.py \
        --ratings 100000 1000000 5000000 --first 2012-01-01

docs/spark.md has the figures and says what the engines share; docs/scale.md has the
hand-written PySpark column, which measures Spark without Dagster, Ibis or the checks.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg
import duckdb

if __package__ in (None, ""):  # run as a script: make the benchmarks package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.archives import movielens_zip  # noqa: E402
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


def steps_of(result) -> dict[str, float]:
    return {
        e.step_key: e.event_specific_data.duration_ms / 1000
        for e in result.all_events
        if e.is_step_success
    }


def run_engine(tmp: Path, archive: Path, first: str, day: str, spark_memory: str | None):
    """Ingest, then the slice, in a new warehouse: (ingest s, slice wall s, steps, rows).

    ``spark_memory`` None runs the DuckDB engine, else Spark local with that driver memory.
    """
    name = "duckdb" if spark_memory is None else "spark"
    path = tmp / name / "warehouse.duckdb"
    path.parent.mkdir()
    engine = None
    if spark_memory is not None:
        parquet = str(path.parent / "parquet")
        engine = Engine(kind="spark", spark_driver_memory=spark_memory, spark_warehouse=parquet)
    defs = build_defs(resources(path, archive, engine))
    instance = dg.DagsterInstance.ephemeral()
    report = BuildReport()
    started = time.perf_counter()
    history = run_history(defs, instance, first, day, report)
    ingest = time.perf_counter() - started
    if not history.success:
        raise SystemExit(f"{name}: ingestion failed")
    keys = list(SLICE.resolve(defs.resolve_asset_graph()))
    started = time.perf_counter()
    result = defs.resolve_job_def("movie_graph").execute_in_process(
        instance=instance, partition_key=day, asset_selection=keys, raise_on_error=False
    )
    wall = time.perf_counter() - started
    if not result.success:
        raise SystemExit(f"{name}: the slice failed")
    with duckdb.connect(str(path), read_only=True) as con:
        n = con.execute("SELECT count(*) FROM ratings WHERE as_of = ?", [day]).fetchone()[0]
    return ingest, wall, steps_of(result), n


def report_size(ratings: int, runs: dict) -> None:
    print(f"\n{ratings:,} ratings in the archive")
    print(f"{'':<22}" + "".join(f"{name:>16}" for name in runs) + f"{'spark/duckdb':>13}")
    rows = {"ingest (raw_ratings)": [r[0] for r in runs.values()]}
    for asset in ENGINE_ASSETS:
        rows[asset] = [r[2].get(asset, 0.0) for r in runs.values()]
    rows["engine assets"] = [sum(r[2].get(a, 0.0) for a in ENGINE_ASSETS) for r in runs.values()]
    rows["slice (wall)"] = [r[1] for r in runs.values()]
    rows["ingest + slice"] = [r[0] + r[1] for r in runs.values()]
    for label, values in rows.items():
        ratio = f"{values[1] / values[0]:>12.1f}x" if values[0] else ""
        print(f"{label:<22}" + "".join(f"{v:>15.1f}s" for v in values) + ratio)
    counts = {name: r[3] for name, r in runs.items()}
    print(f"clean ratings in the snapshot: {counts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--first", default="1995-01-09", help="first day ingested")
    parser.add_argument("--day", default="2016-10-16", help="the as-of day of the slice")
    parser.add_argument("--spark-memory", default="4g")
    args = parser.parse_args()
    for ratings in args.ratings:
        with tempfile.TemporaryDirectory(prefix="spark_engine_") as tmp:
            archive = Path(tmp) / "ml-25m.zip"
            movielens_zip(archive, ratings, seed=args.seed)
            runs = {
                "duckdb": run_engine(Path(tmp), archive, args.first, args.day, None),
                "spark local[2]": run_engine(
                    Path(tmp), archive, args.first, args.day, args.spark_memory
                ),
            }
        report_size(ratings, runs)


if __name__ == "__main__":
    main()
