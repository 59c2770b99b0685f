"""Features and the star schema, each a snapshot as of the partition's day."""

from datetime import date

import dagster as dg
import ibis
import ibis.expr.types as ir
import pandas as pd

from movie_assets import checks
from movie_assets.features import transforms as f
from movie_assets.table_asset import Rows, table_asset


class MovieFeatureConfig(dg.Config):
    min_votes: int = f.DEFAULT_MIN_VOTES
    base_month: str = ""  # YYYY-MM; empty means the newest CPI month not after the as-of day


@table_asset(
    body_checks={
        "weighted_score_between": (
            "The Bayesian score lies between the global mean and the movie's mean."
        )
    }
)
def movie_features(
    movies: pd.DataFrame,
    ratings: ir.Table,
    films: pd.DataFrame,
    film_links: pd.DataFrame,
    cpi_monthly: pd.DataFrame,
    day: date,
    config: MovieFeatureConfig,
) -> Rows:
    """Rating stats, Bayesian score, categories, release timing, box office in constant dollars."""
    global_mean = float(ratings.rating.mean().execute())
    frame = f.movie_features(
        movies,
        f.rating_stats(ratings).execute(),
        global_mean,
        films,
        film_links,
        cpi_monthly,
        day,
        config.min_votes,
        config.base_month or None,
    )
    return Rows(
        frame,
        checks=[checks.weighted_score_between(frame, global_mean)],
        metadata={
            "global_mean": global_mean,
            "min_votes": config.min_votes,
            "base_month": str(frame["base_month"].iloc[0].date()),
            "with_box_office": int(frame["box_office_nominal"].notna().sum()),
        },
    )


@table_asset()
def user_features(ratings: ir.Table, day: date) -> Rows:
    """Per-user activity and rating bias."""
    return Rows(f.user_features(ratings, day))


@table_asset()
def genre_daily(ratings: ir.Table, movie_genres: ir.Table, genres: ir.Table, day: date) -> Rows:
    """Ratings per genre per day (a movie counts once per genre it has)."""
    return Rows(f.genre_daily(ratings, movie_genres, genres, day))


@table_asset()
def viewing_hourly(ratings: ir.Table, day: date) -> Rows:
    """Ratings by UTC weekday and hour."""
    return Rows(f.viewing_hourly(ratings, day))


@table_asset()
def trending(ratings: ir.Table, movies: ir.Table, day: date) -> Rows:
    """For every day, the top 10 movies by ratings in the 7 days ending that day."""
    return Rows(f.trending(ratings, movies, day))


@table_asset()
def fact_ratings(ratings: ir.Table) -> Rows:
    """Star schema fact: one row per rating, keyed to dim_date by date_key."""
    return Rows(f.fact_ratings(ratings))


@table_asset()
def dim_movie(movie_features: ir.Table) -> Rows:
    """Star schema movie dimension."""
    return Rows(movie_features)


@table_asset()
def dim_user(user_features: ir.Table) -> Rows:
    """Star schema user dimension."""
    return Rows(user_features)


@table_asset()
def dim_date(ratings: ir.Table, day: date) -> Rows:
    """Star schema calendar from the first rating to the as-of day."""
    return Rows(ibis.memtable(f.dim_date(ratings.rating_date.min().execute(), day)))
