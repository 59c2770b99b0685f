"""Features and the star schema, each a snapshot as of the partition's day."""

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from movie_assets import checks
from movie_assets.features import transforms as f
from movie_assets.partitions import daily_partitions, snapshot_day
from movie_assets.warehouse import read_snapshot
from movie_assets.writing import write_partition

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
        checks.schema_spec("movie_features"),
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
    movies, ratings, films, links, cpi = _read(
        duckdb, day, "movies", "ratings", "films", "film_links", "cpi_monthly"
    )
    frame = f.movie_features(
        movies, ratings, films, links, cpi, day, config.min_votes, config.base_month or None
    )
    global_mean = float(ratings["rating"].mean())
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


def _feature(name: str, inputs: list[str], build, description: str):
    """A snapshot feature built by one pure function of its inputs and the day."""

    @dg.asset(
        name=name,
        partitions_def=daily_partitions,
        group_name=GROUP,
        kinds={"duckdb", "pandas"},
        deps=inputs,
        description=description,
        check_specs=[checks.schema_spec(name)],
    )
    def _asset(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
        day = snapshot_day(context)
        frame = build(*_read(duckdb, day, *inputs), day)
        return write_partition(context, duckdb, name, frame, day, day)

    return _asset


user_features = _feature(
    "user_features", ["ratings"], f.user_features, "Per-user activity and rating bias."
)
genre_daily = _feature(
    "genre_daily",
    ["ratings", "movie_genres", "genres"],
    f.genre_daily,
    "Ratings per genre per day (a movie counts once per genre it has).",
)
viewing_hourly = _feature(
    "viewing_hourly", ["ratings"], f.viewing_hourly, "Ratings by UTC weekday and hour."
)
trending = _feature(
    "trending",
    ["ratings", "movies"],
    f.trending,
    "For every day, the top 10 movies by ratings in the 7 days ending that day.",
)
fact_ratings = _feature(
    "fact_ratings",
    ["ratings"],
    lambda r, day: f.fact_ratings(r),
    "Star schema fact: one row per rating, keyed to dim_date by date_key.",
)
dim_movie = _feature(
    "dim_movie", ["movie_features"], lambda m, day: m, "Star schema movie dimension."
)
dim_user = _feature("dim_user", ["user_features"], lambda u, day: u, "Star schema user dimension.")
dim_date = _feature(
    "dim_date",
    ["ratings"],
    lambda r, day: f.dim_date(r["rating_date"].min(), day),
    "Star schema calendar from the first rating to the as-of day.",
)
