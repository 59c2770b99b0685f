"""Engineered features: pure functions over clean tables as of one day."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

INFLATION_SERIES = "CUUR0000SA0"  # CPI-U, not seasonally adjusted: what cpi.inflate uses
DEFAULT_MIN_VOTES = 10
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def bayesian_score(count: pd.Series, mean: pd.Series, global_mean: float, min_votes: int):
    """IMDb's weighted rating: v/(v+m)*R + m/(v+m)*C; a movie with no votes scores C."""
    v = count.astype(float)
    r = mean.astype(float).fillna(global_mean)
    return (v / (v + min_votes)) * r + (min_votes / (v + min_votes)) * global_mean


def rating_category(count: pd.Series, score: pd.Series) -> pd.Series:
    labels = np.select(
        [count == 0, score >= 4.0, score >= 3.5, score >= 2.5],
        ["Unrated", "Excellent", "Good", "Average"],
        "Poor",
    )
    return pd.Series(labels, index=count.index)


def popularity_bucket(count: pd.Series) -> pd.Series:
    bins = [-1, 0, 9, 49, 149, np.inf]
    names = ["Unrated", "Niche", "Moderate", "Popular", "Blockbuster"]
    return pd.cut(count, bins=bins, labels=names).astype(str)


def runtime_category(minutes: pd.Series) -> pd.Series:
    bins = [0, 89.99, 119.99, 149.99, np.inf]
    names = ["Short", "Standard", "Long", "Epic"]
    return (
        pd.cut(minutes.astype(float), bins=bins, labels=names).astype(str).replace("nan", "Unknown")
    )


def era(year: pd.Series) -> pd.Series:
    bins = [0, 1949, 1966, 1982, 1999, np.inf]
    names = ["Classic", "Golden", "New Hollywood", "Modern", "Digital"]
    return pd.cut(year.astype(float), bins=bins, labels=names).astype(str).replace("nan", "Unknown")


def base_month_for(cpi_monthly: pd.Series, as_of: date, configured: str | None) -> pd.Timestamp:
    """The configured month, or the newest CPI month not after as_of."""
    months = pd.to_datetime(cpi_monthly)
    if configured:
        month = pd.Timestamp(configured).to_period("M").to_timestamp()
        if month not in set(months):
            raise ValueError(f"base month {configured} has no CPI value")
        return month
    return months[months <= pd.Timestamp(as_of)].max()


def constant_dollars(
    nominal: pd.Series, release_date: pd.Series, cpi_monthly: pd.DataFrame, base: pd.Timestamp
) -> pd.Series:
    """Nominal dollars of the release month in dollars of the base month (CPI-U ratio)."""
    index = cpi_monthly[cpi_monthly["series_id"] == INFLATION_SERIES].set_index("month")["value"]
    release_month = pd.to_datetime(release_date).dt.to_period("M").dt.to_timestamp()
    return nominal * (index.get(base, np.nan) / release_month.map(index))


def movie_features(
    movies: pd.DataFrame,
    ratings: pd.DataFrame,
    films: pd.DataFrame,
    film_links: pd.DataFrame,
    cpi_monthly: pd.DataFrame,
    as_of: date,
    min_votes: int = DEFAULT_MIN_VOTES,
    base_month: str | None = None,
) -> pd.DataFrame:
    stats = ratings.groupby("movie_id")["rating"].agg(rating_count="size", rating_mean="mean")
    global_mean = float(ratings["rating"].mean())
    out = movies.drop(columns="as_of").merge(stats, on="movie_id", how="left")
    out["rating_count"] = out["rating_count"].fillna(0).astype(int)
    out["weighted_score"] = bayesian_score(
        out["rating_count"], out["rating_mean"], global_mean, min_votes
    )
    out["rating_category"] = rating_category(out["rating_count"], out["weighted_score"])
    out["popularity_bucket"] = popularity_bucket(out["rating_count"])
    out["genre_count"] = out["genres"].map(lambda g: len([x for x in g.split("|") if x]))

    film_cols = ["film_id", "release_date", "runtime_min", "box_office_usd"]
    linked = film_links[["movie_id", "film_id"]].merge(films[film_cols], on="film_id")
    out = out.merge(linked, on="movie_id", how="left")
    release = pd.to_datetime(out["release_date"])
    out["release_month"] = release.dt.month.astype("Int64")
    out["release_quarter"] = release.dt.quarter.astype("Int64")
    out["runtime_category"] = runtime_category(out["runtime_min"])
    out["era"] = era(out["year"])
    age = pd.Timestamp(as_of).year - out["year"]
    out["movie_age"] = age.where(age >= 0).astype("Int64")

    base = base_month_for(cpi_monthly["month"], as_of, base_month)
    out["box_office_nominal"] = out["box_office_usd"]
    out["box_office_real"] = constant_dollars(out["box_office_usd"], release, cpi_monthly, base)
    out["base_month"] = base
    out["as_of"] = pd.Timestamp(as_of)
    return out


def user_features(ratings: pd.DataFrame, as_of: date) -> pd.DataFrame:
    global_mean = ratings["rating"].mean()
    out = (
        ratings.groupby("user_id")
        .agg(
            rating_count=("rating", "size"),
            rating_mean=("rating", "mean"),
            first_rated_at=("rated_at", "min"),
            last_rated_at=("rated_at", "max"),
            active_days=("rating_date", "nunique"),
        )
        .reset_index()
    )
    out["user_bias"] = out["rating_mean"] - global_mean
    out["activity_level"] = pd.cut(
        out["rating_count"], bins=[0, 49, 199, np.inf], labels=["Light", "Regular", "Heavy"]
    ).astype(str)
    out["as_of"] = pd.Timestamp(as_of)
    return out


def genre_daily(
    ratings: pd.DataFrame, movie_genres: pd.DataFrame, genres: pd.DataFrame, as_of: date
) -> pd.DataFrame:
    named = movie_genres.merge(genres[["genre_id", "genre"]], on="genre_id")[["movie_id", "genre"]]
    joined = ratings[["movie_id", "rating_date", "rating"]].merge(named, on="movie_id")
    out = (
        joined.groupby(["rating_date", "genre"])["rating"]
        .agg(rating_count="size", rating_mean="mean")
        .reset_index()
    )
    out["as_of"] = pd.Timestamp(as_of)
    return out


def viewing_hourly(ratings: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Ratings by UTC weekday and hour, all 168 cells present."""
    stamp = pd.to_datetime(ratings["rated_at"])
    counts = pd.crosstab(stamp.dt.weekday.rename("weekday"), stamp.dt.hour.rename("hour"))
    counts = counts.reindex(index=range(7), columns=range(24), fill_value=0)
    out = counts.stack().rename("rating_count").reset_index()
    out["weekday_name"] = out["weekday"].map(dict(enumerate(WEEKDAYS)))
    out["as_of"] = pd.Timestamp(as_of)
    return out


def trending(
    ratings: pd.DataFrame, movies: pd.DataFrame, as_of: date, window: int = 7, top: int = 10
):
    """For every day, the top movies by ratings in the `window` days ending that day."""
    daily = ratings.groupby(["rating_date", "movie_id"]).size().rename("n").reset_index()
    shifted = pd.concat(
        [
            daily.assign(window_end=daily["rating_date"] + pd.Timedelta(days=k))
            for k in range(window)
        ]
    )
    shifted = shifted[shifted["window_end"] <= pd.Timestamp(as_of)]
    counts = (
        shifted.groupby(["window_end", "movie_id"])["n"].sum().rename("ratings_7d").reset_index()
    )
    counts = counts.sort_values(
        ["window_end", "ratings_7d", "movie_id"], ascending=[True, False, True]
    )
    counts["rank"] = counts.groupby("window_end").cumcount() + 1
    out = counts[counts["rank"] <= top].merge(movies[["movie_id", "title"]], on="movie_id")
    out["as_of"] = pd.Timestamp(as_of)
    return out


def date_key(stamp: pd.Series) -> pd.Series:
    stamp = pd.to_datetime(stamp)
    return stamp.dt.year * 10000 + stamp.dt.month * 100 + stamp.dt.day


def fact_ratings(ratings: pd.DataFrame) -> pd.DataFrame:
    return ratings.assign(date_key=date_key(ratings["rating_date"]))


def dim_date(first: pd.Timestamp, as_of: date) -> pd.DataFrame:
    days = pd.date_range(first, pd.Timestamp(as_of), freq="D")
    return pd.DataFrame(
        {
            "as_of": pd.Timestamp(as_of),
            "date_key": date_key(pd.Series(days)),
            "date": days,
            "year": days.year,
            "quarter": days.quarter,
            "month": days.month,
            "day": days.day,
            "weekday": days.weekday,
            "is_weekend": days.weekday >= 5,
        }
    )
