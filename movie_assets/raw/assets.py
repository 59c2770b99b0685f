"""Raw layer: what the source sent, plus where and when it was received."""

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from movie_assets import checks
from movie_assets.partitions import daily_partitions, snapshot_day, window_days
from movie_assets.raw import ingest
from movie_assets.raw.ingest import parse_rejects
from movie_assets.schemas import now
from movie_assets.sources.registry import SourceResource
from movie_assets.writing import record_after, write_partition

GROUP = "raw"


def _stamp(rows: pd.DataFrame, source: str, **columns) -> pd.DataFrame:
    return rows.assign(source=source, ingested_at=now(), **columns)


@dg.asset(
    partitions_def=daily_partitions,
    group_name=GROUP,
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


def _snapshot_asset(name: str, read, description: str):
    """A raw snapshot: the whole catalogue as received on the partition's day."""

    @dg.asset(
        name=name,
        partitions_def=daily_partitions,
        group_name=GROUP,
        kinds={"duckdb"},
        description=description,
        check_specs=[*checks.table_specs(name)],
    )
    def _asset(
        context: dg.AssetExecutionContext, duckdb: DuckDBResource, source: SourceResource
    ) -> dg.MaterializeResult:
        day = snapshot_day(context)
        reader = source.reader()
        received = read(reader)
        frame = _stamp(received.rows, reader.name, as_of=pd.Timestamp(day))
        return write_partition(
            context, duckdb, name, frame, day, day, rejects=parse_rejects(received, reader.name)
        )

    return _asset


raw_movies = _snapshot_asset(
    "raw_movies", lambda r: r.movies(), "The MovieLens catalogue (title, year, genres) as received."
)
raw_films = _snapshot_asset(
    "raw_films",
    lambda r: r.films(),
    "Film metadata (release date, runtime, box office) as received.",
)
cpi_series = _snapshot_asset(
    "cpi_series", lambda r: r.cpi(), "Monthly CPI-U observations as received (BLS ids)."
)
raw_links = _snapshot_asset(
    "raw_links",
    lambda r: r.links(),
    "MovieLens links.csv: each movie's IMDb and TMDB ids (empty for sources without one).",
)
raw_tags = _snapshot_asset(
    "raw_tags",
    lambda r: r.tags(),
    "MovieLens tags.csv: users' free-text tags on movies (empty for sources without one).",
)
