"""Raw layer: what the source sent, plus where and when it was received."""

from datetime import date

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from movie_assets import checks
from movie_assets.partitions import daily_partitions, window_days
from movie_assets.raw import ingest
from movie_assets.raw.ingest import parse_rejects
from movie_assets.schemas import now
from movie_assets.sources.registry import SourceResource
from movie_assets.table_asset import Rows, table_asset
from movie_assets.writing import record_after


def _stamp(rows: pd.DataFrame, source: str, **columns) -> pd.DataFrame:
    return rows.assign(source=source, ingested_at=now(), **columns)


@dg.asset(
    partitions_def=daily_partitions,
    kinds={"duckdb"},
    check_specs=[
        *checks.table_specs("raw_ratings"),
        checks.spec(
            "raw_ratings",
            "rows_present",
            "Every day the source has ratings holds exactly those rows in the warehouse.",
        ),
    ],
)
def raw_ratings(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, source: SourceResource
) -> dg.MaterializeResult:
    """Ratings as received, partitioned by the UTC day they were made. Range runs are one step.

    Read in batches by the Dagster process into DuckDB, or by Spark's CSV reader on the
    Spark engine (raw/ingest.py); either way the window is written as one replacement.
    """
    first, last = window_days(context)
    result, expected = ingest.of(duckdb, source).write(context, first, last)
    with duckdb.get_connection() as con:
        written = con.execute(
            "SELECT rating_date, count(*) AS n FROM raw_ratings "
            "WHERE rating_date BETWEEN ? AND ? GROUP BY 1",
            [first, last],
        ).df()
    source_days = pd.Series(expected, dtype="int64")
    source_days.index = pd.DatetimeIndex(source_days.index).date
    stored = written.set_index(pd.to_datetime(written["rating_date"]).dt.date)["n"]
    present = checks.rows_present(source_days, stored)
    with duckdb.get_connection() as con:
        record_after(context, con, "raw_ratings", first, last, [present])
    return dg.MaterializeResult(
        metadata=result.metadata, check_results=[*result.check_results, present]
    )


def _as_received(reader, received, day: date) -> Rows:
    """A catalogue as the source sent it on the day, stamped; its unparseable lines rejected."""
    rows = _stamp(received.rows, reader.name, as_of=pd.Timestamp(day))
    return Rows(rows, rejects=parse_rejects(received, reader.name))


@table_asset()
def raw_movies(source: SourceResource, day: date) -> Rows:
    """The MovieLens catalogue (title, year, genres) as received."""
    reader = source.reader()
    return _as_received(reader, reader.movies(), day)


@table_asset()
def raw_films(source: SourceResource, day: date) -> Rows:
    """Film metadata (release date, runtime, box office) as received."""
    reader = source.reader()
    return _as_received(reader, reader.films(), day)


@table_asset()
def cpi_series(source: SourceResource, day: date) -> Rows:
    """Monthly CPI-U observations as received (BLS ids)."""
    reader = source.reader()
    return _as_received(reader, reader.cpi(), day)


@table_asset()
def raw_links(source: SourceResource, day: date) -> Rows:
    """MovieLens links.csv: each movie's IMDb and TMDB ids (empty for sources without one)."""
    reader = source.reader()
    return _as_received(reader, reader.links(), day)


@table_asset()
def raw_tags(source: SourceResource, day: date) -> Rows:
    """MovieLens tags.csv: users' free-text tags on movies (empty for sources without one)."""
    reader = source.reader()
    return _as_received(reader, reader.tags(), day)
