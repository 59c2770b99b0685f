"""Who reads the ratings for ``raw_ratings``: the Dagster process, or the Spark engine.

``raw_ratings`` asks ``of(duckdb, source)`` and calls ``write`` on the answer, so its
body is the same on both engines (docs/spark.md, "Ingestion"). Both book rows and
rejects by day as docs/sources.md says, and both return what the source held per
day, which the asset compares with what the warehouse holds.

- ``InProcess``: the source's reader, in batches, into DuckDB in one transaction.
- ``OnSpark``: the Spark engine with ratings from a MovieLens ``ratings.csv``. Spark's
  CSV reader parses the file (sources/spark_csv.py) and writes the window's days as
  Parquet partitions; the rejects reach the ``rejects`` table with the split's byte
  offset where the Python reader gives the line number. A zipped release's
  ``ratings.csv`` is first copied out of the zip next to the engine's tables, once
  per zip. Every other source is read in process on either engine.
"""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from movie_assets.resources import Warehouse
from movie_assets.schemas import now, quarantine
from movie_assets.settings import partition_span
from movie_assets.sources import spark_csv
from movie_assets.sources.base import Received, ratings_batches
from movie_assets.sources.composite import parse_spec
from movie_assets.sources.files import SourceFileError, first_partition_day
from movie_assets.sources.movielens_files import LAYOUTS, MovieLensFiles, Release, _without_header
from movie_assets.sources.registry import PROVIDES, SourceResource
from movie_assets.warehouse import record_checks
from movie_assets.writing import (
    MAX_REASONS,
    PREVIEW_ROWS,
    check_rows,
    engine_schema_result,
    write_partition_batches,
)

TABLE = "raw_ratings"
# Where a zipped release's ratings.csv is copied for the engine, under its warehouse.
LANDING = "_landing"


def parse_rejects(received: Received, source: str) -> pd.DataFrame:
    """Rows the reader could not parse, in the rejects layout."""
    bad = received.rejects
    rejects = quarantine(
        bad[["raw"]],
        bad["reason"].reset_index(drop=True),
        source,
        bad["partition_date"].reset_index(drop=True),
    )
    rejects["raw"] = bad["raw"].astype(str).to_numpy()
    return rejects


class InProcess:
    """The source's reader in the Dagster process, its batches written as they are read."""

    def __init__(self, duckdb: DuckDBResource, source: SourceResource):
        self.duckdb = duckdb
        self.source = source

    def write(
        self, context: dg.AssetExecutionContext, first: date, last: date
    ) -> tuple[dg.MaterializeResult, Counter]:
        """(the write's result, the source's rows per day)."""
        reader = self.source.reader()
        ingested_at = now()
        expected: Counter = Counter()

        def batches():
            for received in ratings_batches(reader, first, last):
                rows = received.rows
                day = pd.to_datetime(rows["timestamp"], unit="s").dt.normalize()
                expected.update(day.value_counts().to_dict())
                frame = rows.assign(source=reader.name, ingested_at=ingested_at, rating_date=day)
                yield frame, parse_rejects(received, reader.name)

        with self.duckdb.get_connection() as con:
            result = write_partition_batches(
                context, con, TABLE, batches(), first, last, with_rejects=True
            )
        return result, expected


class OnSpark:
    """Spark's CSV reader on the release's ratings.csv; no rating passes through Dagster."""

    def __init__(self, duckdb: Warehouse, release: Release):
        self.duckdb = duckdb
        self.release = release

    def write(
        self, context: dg.AssetExecutionContext, first: date, last: date
    ) -> tuple[dg.MaterializeResult, Counter]:
        from pyspark.sql import functions as F

        label = self.release.label("ratings")
        with self.release.open("ratings") as stream:  # the header, checked as in process
            _without_header(stream.readline(), label)
        with self.duckdb.get_connection() as con:
            tables = self.duckdb.engine_tables(con)
            stamped = {
                "source": F.lit(MovieLensFiles.name),
                "ingested_at": F.lit(now().to_pydatetime()),
            }
            read = spark_csv.lines(tables.session, landed(self.release, tables.root))
            rows, rejects = spark_csv.in_window(
                read, label, first, last, partition_span(), first_partition_day()
            )
            reasons = Counter(dict(rejects.groupBy("kind").count().collect()))
            results: list[dg.AssetCheckResult] = []

            def evaluate(rows_written: int) -> None:
                """The schema check over the files just written, recorded before the commit."""
                written = tables.events(TABLE, first, last)
                results.append(engine_schema_result(written, TABLE, rows_written))
                run = check_rows(results, first, last, context.run.run_id)
                record_checks(con, TABLE, first, last, run)

            by_day = tables.replace_events(
                TABLE,
                first,
                last,
                rows.withColumns(stamped),
                rejects.drop("kind").withColumns(
                    {"source": stamped["source"], "rejected_at": stamped["ingested_at"]}
                ),
                before_commit=evaluate,
            )
            read.unpersist()
            rows_written = sum(by_day.values())
            preview = con.execute(
                f"SELECT * FROM {TABLE} WHERE rating_date BETWEEN ? AND ? LIMIT ?",
                [first, last, PREVIEW_ROWS],
            ).df()
        info = {
            "dagster/row_count": rows_written,
            "window": f"{first}..{last}",
            "preview": dg.MetadataValue.md(preview.to_markdown(index=False)),
            "rejected_rows": sum(reasons.values()),
            "read_by": "Spark's CSV reader, Spark engine",
        }
        if reasons:
            info["reject_reasons"] = dg.MetadataValue.json(dict(reasons.most_common(MAX_REASONS)))
        context.log.info(f"{TABLE}: wrote {rows_written} rows for {first}..{last} in the engine")
        return dg.MaterializeResult(metadata=info, check_results=results), Counter(by_day)


def landed(release: Release, root: str) -> str:
    """A path the engine reads the release's ratings.csv at.

    An unpacked release is read where it is. A zip's member is copied once under the
    engine's warehouse (again when the zip changes), which needs a local warehouse
    path; on object storage, unpack the release where the cluster reads it.
    """
    member = release.members[LAYOUTS[release.layout]["ratings"]]
    if isinstance(member, Path):
        return str(member.resolve())
    if "://" in root:
        raise SourceFileError(
            f"{release.path}: Spark cannot read inside a zip, and {root} is not a local "
            "folder to unpack it into; unpack the release where the cluster can read it "
            "and set MOVIE_MOVIELENS to that folder"
        )
    target = Path(root) / LANDING / release.path.stem / "ratings.csv"
    stat = release.path.stat()
    stamp = f"{release.path.resolve()} {stat.st_size} {stat.st_mtime_ns}"
    marker = target.with_name("ratings.csv.from")
    if target.exists() and marker.exists() and marker.read_text() == stamp:
        return str(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name("ratings.csv.part")
    with release.open("ratings") as stream, partial.open("wb") as out:
        shutil.copyfileobj(stream, out, 1 << 20)
    partial.replace(target)
    marker.write_text(stamp)
    return str(target)


def of(duckdb: DuckDBResource, source: SourceResource) -> InProcess | OnSpark:
    """The ratings ingestion for the warehouse's engine and the source's ratings."""
    engine = duckdb.engine if isinstance(duckdb, Warehouse) else None
    if engine is None or engine.kind != "spark":
        return InProcess(duckdb, source)
    if parse_spec(source.kind, PROVIDES)["ratings"] != "movielens":
        return InProcess(duckdb, source)
    release = Release(source.movielens)
    if release.layout != "csv":  # ml-1m and ml-100k: small, and not comma-separated
        return InProcess(duckdb, source)
    return OnSpark(duckdb, release)
