"""Engineered features: pure functions over clean tables as of one day."""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from movie_assets.schemas import BOX_OFFICE_FLAGS

INFLATION_SERIES = "CUUR0000SA0"  # CPI-U, not seasonally adjusted: what cpi.inflate uses
# Sources report one lifetime gross. Before home video, hits returned to cinemas every few
# years (Disney's classics, Star Wars), so an older film's lifetime gross is not money of
# its release month and inflating it from then overstates it many times.
RERELEASE_ERA_END = 1980
MIN_PLAUSIBLE_GROSS = 1_000
MAX_PLAUSIBLE_GROSS = 3_000_000_000  # Avatar (2009), the largest known: $2.92 billion
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


def box_office_flag(
    nominal: pd.Series, release_date: pd.Series, first_cpi_month: pd.Timestamp
) -> pd.Series:
    """Why a gross cannot be read as constant dollars of its release month; None if it can."""
    gross = nominal.astype(float).to_numpy()
    release = pd.to_datetime(release_date)
    small, large, before_cpi, rereleases = BOX_OFFICE_FLAGS
    labels = np.select(
        [
            np.isnan(gross),
            gross < MIN_PLAUSIBLE_GROSS,
            gross > MAX_PLAUSIBLE_GROSS,
            (release < first_cpi_month).to_numpy(),
            (release.dt.year < RERELEASE_ERA_END).to_numpy(),
        ],
        [None, small, large, before_cpi, rereleases],
        None,
    )
    return pd.Series(labels, index=nominal.index, dtype="string")


def rating_stats(ratings: ir.Table) -> ir.Table:
    """Count and mean per movie: the one pass over the ratings that movie features need."""
    return ratings.group_by("movie_id").aggregate(
        rating_count=ratings.count(), rating_mean=ratings.rating.mean()
    )


def movie_features(
    movies: pd.DataFrame,
    stats: pd.DataFrame,
    global_mean: float,
    films: pd.DataFrame,
    film_links: pd.DataFrame,
    cpi_monthly: pd.DataFrame,
    as_of: date,
    min_votes: int = DEFAULT_MIN_VOTES,
    base_month: str | None = None,
) -> pd.DataFrame:
    """Catalogue-sized: the per-movie stats come from the engine (``rating_stats``)."""
    stats = stats[["movie_id", "rating_count", "rating_mean"]]
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
    cpi = cpi_monthly.loc[cpi_monthly["series_id"] == INFLATION_SERIES, "month"]
    out["box_office_flag"] = box_office_flag(
        out["box_office_nominal"], release, pd.Timestamp(cpi.min())
    )
    out["as_of"] = pd.Timestamp(as_of)
    return out


def user_features(ratings: ir.Table, as_of: date) -> ir.Table:
    per_user = ratings.group_by("user_id").aggregate(
        rating_count=ratings.count(),
        rating_mean=ratings.rating.mean(),
        first_rated_at=ratings.rated_at.min(),
        last_rated_at=ratings.rated_at.max(),
        active_days=ratings.rating_date.nunique(),
    )
    count = per_user.rating_count
    return per_user.mutate(
        user_bias=per_user.rating_mean - ratings.rating.mean().as_scalar(),
        activity_level=ibis.cases((count <= 49, "Light"), (count <= 199, "Regular"), else_="Heavy"),
        as_of=ibis.literal(as_of),
    )


def genre_daily(
    ratings: ir.Table, movie_genres: ir.Table, genres: ir.Table, as_of: date
) -> ir.Table:
    """Ratings per genre per day: a movie counts once for each genre it has."""
    named = movie_genres.select("movie_id", "genre_id").join(
        genres.select("genre_id", "genre"), "genre_id"
    )
    joined = ratings.select("movie_id", "rating_date", "rating").join(named, "movie_id")
    return (
        joined.group_by(["rating_date", "genre"])
        .aggregate(rating_count=joined.count(), rating_mean=joined.rating.mean())
        .mutate(as_of=ibis.literal(as_of))
    )


def weekday_hour_grid() -> ir.Table:
    """All 168 cells of the week, so an hour without ratings is a zero, not a gap."""
    cells = [(d, name, h) for d, name in enumerate(WEEKDAYS) for h in range(24)]
    return ibis.memtable(pd.DataFrame(cells, columns=["weekday", "weekday_name", "hour"]))


def viewing_hourly(ratings: ir.Table, as_of: date) -> ir.Table:
    """Ratings by UTC weekday (0 is Monday) and hour, all 168 cells present."""
    stamped = ratings.select(
        weekday=ratings.rated_at.day_of_week.index(), hour=ratings.rated_at.hour()
    )
    counts = stamped.group_by(["weekday", "hour"]).aggregate(rating_count=stamped.count())
    grid = weekday_hour_grid()
    joined = grid.left_join(counts, ["weekday", "hour"])
    return joined.select(
        as_of=ibis.literal(as_of),
        weekday=grid.weekday,
        weekday_name=grid.weekday_name,
        hour=grid.hour,
        rating_count=joined.rating_count.fill_null(0),
    )


def trending(
    ratings: ir.Table, movies: ir.Table, as_of: date, window: int = 7, top: int = 10
) -> ir.Table:
    """For every day, the top movies by ratings in the ``window`` days ending that day.

    Each day's count per movie counts towards the ``window`` days whose window holds it.
    Spreading every count over ``window`` days is 7 rows per movie and day (130M at 25M
    ratings), so the spread is pruned first, exactly: on day D, the ``top``-th best count
    among movies rated on D (``floor``) is a lower bound of the ``top``-th best of all; a
    movie's count on any day of d..d+6 is at most its count over d-6..d+6 (``reach``);
    a count whose reach is below the floor of a day can only feed a total that is too.
    Ties rank by movie id.
    """
    before = window - 1
    daily = ratings.group_by(["movie_id", "rating_date"]).aggregate(n=ratings.count())
    days = dict(group_by="movie_id", order_by="rating_date")
    trailing = ibis.window(preceding=ibis.interval(days=before), following=0, **days)
    around = ibis.window(
        preceding=ibis.interval(days=before), following=ibis.interval(days=before), **days
    )
    daily = daily.mutate(on_day=daily.n.sum().over(trailing), reach=daily.n.sum().over(around))
    best_that_day = ibis.window(group_by="rating_date", order_by=ibis.desc("on_day"))
    floors = (
        daily.mutate(place=ibis.row_number().over(best_that_day))
        .filter(ibis._.place == top - 1)
        .select(window_end=ibis._.rating_date, floor=ibis._.on_day)
    )
    offsets = ibis.memtable(pd.DataFrame({"k": range(window)}))
    spread = daily.cross_join(offsets)
    spread = spread.select(
        "movie_id",
        "n",
        "reach",
        window_end=(spread.rating_date + spread.k.as_interval("D")).cast("date"),
    )
    spread = spread.filter(spread.window_end <= as_of).left_join(floors, "window_end")
    spread = spread.filter(spread.reach >= spread.floor.fill_null(0))
    counts = spread.group_by(["window_end", "movie_id"]).aggregate(ratings_7d=spread.n.sum())
    order = ibis.window(
        group_by="window_end", order_by=[ibis.desc("ratings_7d"), ibis.asc("movie_id")]
    )
    ranked = counts.mutate(rank=ibis.row_number().over(order) + 1)
    ranked = ranked.filter(ranked["rank"] <= top)
    return ranked.join(movies.select("movie_id", "title"), "movie_id").mutate(
        as_of=ibis.literal(as_of)
    )


def date_key(day: ir.DateValue) -> ir.IntegerValue:
    return day.year() * 10000 + day.month() * 100 + day.day()


def fact_ratings(ratings: ir.Table) -> ir.Table:
    return ratings.mutate(date_key=date_key(ratings.rating_date))


def dim_date(first: date, as_of: date) -> pd.DataFrame:
    """The calendar from the first rating to the as-of day (small: one row per day)."""
    days = pd.date_range(first, pd.Timestamp(as_of), freq="D")
    return pd.DataFrame(
        {
            "as_of": pd.Timestamp(as_of),
            "date_key": days.year * 10000 + days.month * 100 + days.day,
            "date": days,
            "year": days.year,
            "quarter": days.quarter,
            "month": days.month,
            "day": days.day,
            "weekday": days.weekday,
            "is_weekend": days.weekday >= 5,
        }
    )
