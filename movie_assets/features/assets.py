"""Features and the star schema, each a snapshot as of the partition's day."""

import dagster as dg
import ibis
import pandas as pd
from dagster_duckdb import DuckDBResource

from movie_assets import checks, engine
from movie_assets.features import transforms as f
from movie_assets.partitions import daily_partitions, snapshot_day
from movie_assets.warehouse import read_snapshot
from movie_assets.writing import Output, write_engine, write_partition

GROUP = "features"


class MovieFeatureConfig(dg.Config):
    min_votes: int = f.DEFAULT_MIN_VOTES
    base_month: str = ""  # YYYY-MM; empty means the newest CPI month not after the as-of day


def _read(duckdb: DuckDBResource, day, *names: str) -> list[pd.DataFrame]:
    with duckdb.get_connection() as con:
        return [read_snapshot(con, name, day) for name in names]


@dg.asset(
    partitions_def=daily_partitions,
    group_name=GROUP,
    kinds={"duckdb", "pandas"},
    deps=["movies", "ratings", "films", "film_links", "cpi_monthly"],
    check_specs=[
        *checks.table_specs("movie_features"),
        checks.spec(
            "movie_features",
            "weighted_score_between",
            "The Bayesian score lies between the global mean and the movie's mean.",
        ),
    ],
)
def movie_features(
    context: dg.AssetExecutionContext, config: MovieFeatureConfig, duckdb: DuckDBResource
) -> dg.MaterializeResult:
    """Rating stats, Bayesian score, categories, release timing, box office in constant dollars."""
    day = snapshot_day(context)
    movies, films, links, cpi = _read(duckdb, day, "movies", "films", "film_links", "cpi_monthly")
    with duckdb.get_connection() as con:
        ratings = duckdb.engine_tables(con).snapshot("ratings", day)
        stats = f.rating_stats(ratings).execute()
        global_mean = float(ratings.rating.mean().execute())
    frame = f.movie_features(
        movies,
        stats,
        global_mean,
        films,
        links,
        cpi,
        day,
        config.min_votes,
        config.base_month or None,
    )
    return write_partition(
        context,
        duckdb,
        "movie_features",
        frame,
        day,
        day,
        extra_checks=[checks.weighted_score_between(frame, global_mean)],
        metadata={
            "global_mean": global_mean,
            "min_votes": config.min_votes,
            "base_month": str(frame["base_month"].iloc[0].date()),
            "with_box_office": int(frame["box_office_nominal"].notna().sum()),
        },
    )


def _engine_feature(name: str, inputs: list[str], build, description: str):
    """A snapshot feature computed in the engine from its inputs' snapshots of the day."""

    @dg.asset(
        name=name,
        partitions_def=daily_partitions,
        group_name=GROUP,
        kinds={"duckdb", "ibis"},
        deps=inputs,
        description=description,
        check_specs=[*checks.table_specs(name)],
    )
    def _asset(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
        day = snapshot_day(context)

        def rows(tables: engine.Tables) -> Output:
            return Output(build(*[tables.snapshot(i, day) for i in inputs], day))

        return write_engine(context, duckdb, name, day, rows)

    return _asset


user_features = _engine_feature(
    "user_features", ["ratings"], f.user_features, "Per-user activity and rating bias."
)
genre_daily = _engine_feature(
    "genre_daily",
    ["ratings", "movie_genres", "genres"],
    f.genre_daily,
    "Ratings per genre per day (a movie counts once per genre it has).",
)
viewing_hourly = _engine_feature(
    "viewing_hourly", ["ratings"], f.viewing_hourly, "Ratings by UTC weekday and hour."
)
trending = _engine_feature(
    "trending",
    ["ratings", "movies"],
    f.trending,
    "For every day, the top 10 movies by ratings in the 7 days ending that day.",
)
fact_ratings = _engine_feature(
    "fact_ratings",
    ["ratings"],
    lambda r, day: f.fact_ratings(r),
    "Star schema fact: one row per rating, keyed to dim_date by date_key.",
)
dim_movie = _engine_feature(
    "dim_movie", ["movie_features"], lambda m, day: m, "Star schema movie dimension."
)
dim_user = _engine_feature(
    "dim_user", ["user_features"], lambda u, day: u, "Star schema user dimension."
)
dim_date = _engine_feature(
    "dim_date",
    ["ratings"],
    lambda r, day: ibis.memtable(f.dim_date(r.rating_date.min().execute(), day)),
    "Star schema calendar from the first rating to the as-of day.",
)
