"""Clean layer: typed, deduplicated, linked; every dropped row is quarantined with its reason."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from movie_assets import checks
from movie_assets.clean import transforms as t
from movie_assets.partitions import daily_partitions, snapshot_day
from movie_assets.warehouse import read_snapshot
from movie_assets.writing import Output, write_engine, write_partition

GROUP = "clean"
ALL_EVENTS = dg.AssetDep("raw_ratings", partition_mapping=dg.AllPartitionMapping())


def _reconciles(asset: str) -> dg.AssetCheckSpec:
    return checks.spec(asset, "reconciles", checks.RECONCILES_DESCRIPTION)


def _clean_asset(name: str, upstream: str, clean, description: str, extra=()):
    """A one-input cleaner: raw snapshot in, clean snapshot and rejects out.

    ``extra`` pairs a check spec with the function that evaluates it on the clean frame.
    """

    @dg.asset(
        name=name,
        partitions_def=daily_partitions,
        group_name=GROUP,
        kinds={"duckdb", "pandas"},
        deps=[upstream],
        description=description,
        check_specs=[*checks.table_specs(name), _reconciles(name), *(s for s, _ in extra)],
    )
    def _asset(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
        day = snapshot_day(context)
        with duckdb.get_connection() as con:
            raw = read_snapshot(con, upstream, day)
        return _write_cleaned(
            context, duckdb, name, raw, clean(raw, day), day, lambda f: [e(f) for _, e in extra]
        )

    return _asset


def _write_cleaned(context, duckdb, name: str, raw, cleaned, day, checks_of=lambda frame: []):
    """A cleaner's (rows, rejects) as the day's snapshot: raw = clean + rejected is checked."""
    frame, rejects = cleaned
    return write_partition(
        context,
        duckdb,
        name,
        frame,
        day,
        day,
        rejects=rejects,
        raw_rows=len(raw),
        extra_checks=checks_of(frame),
    )


def _write_known_movies(context, duckdb, name: str, clean, raw, movie_rows, day):
    """Clean rows that belong to a catalogue movie, with their rejects and reconciliation."""
    rows = clean(raw, movie_rows["movie_id"], day)
    return _write_cleaned(context, duckdb, name, raw, rows, day)


movies = _clean_asset(
    "movies",
    "raw_movies",
    t.clean_movies,
    "One row per MovieLens movie: display title without the year, year, genre list.",
)
films = _clean_asset(
    "films",
    "raw_films",
    t.clean_films,
    "Typed film metadata; zero budgets, grosses and runtimes mean unknown.",
)
cpi_monthly = _clean_asset(
    "cpi_monthly",
    "cpi_series",
    t.clean_cpi,
    "CPI-U by series and month (first of the month).",
    extra=[
        (
            checks.spec(
                "cpi_monthly",
                "contiguous_months",
                "Months are contiguous except the documented gaps (October 2025).",
            ),
            checks.contiguous_months,
        )
    ],
)


def _genre_asset(name: str, pick: int, description: str):
    @dg.asset(
        name=name,
        partitions_def=daily_partitions,
        group_name=GROUP,
        kinds={"duckdb"},
        deps=["movies"],
        description=description,
        check_specs=[*checks.table_specs(name)],
    )
    def _asset(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
        day = snapshot_day(context)
        with duckdb.get_connection() as con:
            frame = t.normalize_genres(read_snapshot(con, "movies", day))[pick]
        return write_partition(context, duckdb, name, frame, day, day)

    return _asset


genres = _genre_asset("genres", 0, "Genre names with stable ids (alphabetical).")
movie_genres = _genre_asset("movie_genres", 1, "Movie-to-genre pairs.")


@dg.asset(
    partitions_def=daily_partitions,
    group_name=GROUP,
    kinds={"duckdb"},
    deps=["movies", "films", "raw_links"],
    check_specs=[
        *checks.table_specs("film_links"),
        checks.spec("film_links", "links_resolve", "Every link points at a known movie and film."),
    ],
)
def film_links(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    """MovieLens movie to film, one-to-one: by links.csv's TMDB or IMDb id, else title and year."""
    day = snapshot_day(context)
    with duckdb.get_connection() as con:
        movie_rows = read_snapshot(con, "movies", day)
        film_rows = read_snapshot(con, "films", day)
        id_rows = read_snapshot(con, "raw_links", day)
    links = t.link_films(movie_rows, film_rows, id_rows)
    orphans = links[
        ~links["movie_id"].isin(movie_rows["movie_id"])
        | ~links["film_id"].isin(film_rows["film_id"])
    ]
    rate = len(links) / len(movie_rows) if len(movie_rows) else 0.0
    return write_partition(
        context,
        duckdb,
        "film_links",
        links,
        day,
        day,
        extra_checks=[checks.failing_rows("links_resolve", orphans)],
        metadata={
            "match_rate": round(rate, 4),
            "movies": len(movie_rows),
            "films": len(film_rows),
            "movies_with_link_ids": len(id_rows),
            "linked_by": dg.MetadataValue.json(links["method"].value_counts().to_dict()),
        },
    )


@dg.asset(
    partitions_def=daily_partitions,
    group_name=GROUP,
    kinds={"duckdb", "pandas"},
    deps=["raw_tags", "movies"],
    check_specs=[
        *checks.table_specs("tags"),
        _reconciles("tags"),
    ],
)
def tags(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    """Users' tags on catalogue movies, one per user, movie and tag; empty without tags.csv."""
    day = snapshot_day(context)
    with duckdb.get_connection() as con:
        raw = read_snapshot(con, "raw_tags", day)
        movie_rows = read_snapshot(con, "movies", day)
    return _write_known_movies(context, duckdb, "tags", t.clean_tags, raw, movie_rows, day)


@dg.asset(
    partitions_def=daily_partitions,
    group_name=GROUP,
    kinds={"duckdb", "ibis"},
    deps=[ALL_EVENTS, "movies"],
    check_specs=[
        *checks.table_specs("ratings"),
        _reconciles("ratings"),
    ],
)
def ratings(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    """Every rating made up to the as-of day, typed, deduplicated (latest per user and movie).

    A snapshot, not a daily slice: a user re-rating a movie on a later day supersedes
    the earlier rating, so deduplication needs the whole history. Runs in the engine.
    """
    day = snapshot_day(context)

    def build(tables):
        raw = tables.events("raw_ratings", daily_partitions.start.date(), day)
        rows, rejects = t.clean_ratings(raw, tables.snapshot("movies", day), day)
        return Output(rows, rejects, received=raw)

    return write_engine(context, duckdb, "ratings", day, build)
