"""Clean layer: typed, deduplicated, linked; every dropped row is quarantined with its reason."""

from datetime import date

import dagster as dg
import ibis.expr.types as ir
import pandas as pd

from movie_assets import checks
from movie_assets.clean import transforms as t
from movie_assets.table_asset import History, Rows, table_asset


@table_asset(reconciles="raw_movies")
def movies(raw_movies: pd.DataFrame, day: date) -> Rows:
    """One row per MovieLens movie: display title without the year, year, genre list."""
    return Rows(*t.clean_movies(raw_movies, day))


@table_asset(reconciles="raw_films")
def films(raw_films: pd.DataFrame, day: date) -> Rows:
    """Typed film metadata; zero budgets, grosses and runtimes mean unknown."""
    return Rows(*t.clean_films(raw_films, day))


@table_asset(
    reconciles="cpi_series",
    body_checks={
        "contiguous_months": "Months are contiguous except the documented gaps (October 2025)."
    },
)
def cpi_monthly(cpi_series: pd.DataFrame, day: date) -> Rows:
    """CPI-U by series and month (first of the month)."""
    rows, rejects = t.clean_cpi(cpi_series, day)
    return Rows(rows, rejects, checks=[checks.contiguous_months(rows)])


@table_asset()
def genres(movies: pd.DataFrame) -> Rows:
    """Genre names with stable ids (alphabetical)."""
    return Rows(t.normalize_genres(movies)[0])


@table_asset()
def movie_genres(movies: pd.DataFrame) -> Rows:
    """Movie-to-genre pairs."""
    return Rows(t.normalize_genres(movies)[1])


@table_asset(body_checks={"links_resolve": "Every link points at a known movie and film."})
def film_links(movies: pd.DataFrame, films: pd.DataFrame, raw_links: pd.DataFrame) -> Rows:
    """MovieLens movie to film, one-to-one: by links.csv's TMDB or IMDb id, else title and year."""
    links = t.link_films(movies, films, raw_links)
    orphans = links[
        ~links["movie_id"].isin(movies["movie_id"]) | ~links["film_id"].isin(films["film_id"])
    ]
    rate = len(links) / len(movies) if len(movies) else 0.0
    return Rows(
        links,
        checks=[checks.failing_rows("links_resolve", orphans)],
        metadata={
            "match_rate": round(rate, 4),
            "movies": len(movies),
            "films": len(films),
            "movies_with_link_ids": len(raw_links),
            "linked_by": dg.MetadataValue.json(links["method"].value_counts().to_dict()),
        },
    )


@table_asset(reconciles="raw_tags")
def tags(raw_tags: pd.DataFrame, movies: pd.DataFrame, day: date) -> Rows:
    """Users' tags on catalogue movies, one per user, movie and tag; empty without tags.csv."""
    return Rows(*t.clean_tags(raw_tags, movies["movie_id"], day))


@table_asset(reconciles="raw_ratings")
def ratings(raw_ratings: History, movies: ir.Table, day: date) -> Rows:
    """Every rating made up to the as-of day, typed, deduplicated (latest per user and movie).

    A snapshot, not a daily slice: a user re-rating a movie on a later day supersedes
    the earlier rating, so deduplication needs the whole history. Runs in the engine.
    """
    return Rows(*t.clean_ratings(raw_ratings, movies, day))
