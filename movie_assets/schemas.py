"""One Pandera model per warehouse table: the single source of its columns, types and order.

Writers order columns from these models, DuckDB DDL is derived from them and the
asset checks run them. A table's name is its asset's name (``TABLES``).
Event tables are partitioned by the day the event happened; snapshot tables by
``as_of``, the day whose state they hold (docs/partitions.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import pandera.pandas as pa
from pandera.typing.pandas import Series

Int = Series[pd.Int64Dtype]
Float = Series[pd.Float64Dtype]
Str = Series[pd.StringDtype]
Time = Series[pa.DateTime]
Bool = Series[pd.BooleanDtype]


def _date(**kwargs) -> Time:
    """A DATE column: pandas holds it as a timestamp at midnight."""
    return pa.Field(metadata={"sql": "DATE"}, **kwargs)


def _as_of() -> Time:
    return _date(nullable=False)


def _half_stars(series: pd.Series) -> pd.Series:
    return (series * 2).round() == series * 2


RATING = {"ge": 0.5, "le": 5.0}


class Base(pa.DataFrameModel):
    class Config:
        coerce = True
        strict = True
        ordered = True


# --- raw layer: as received, plus ingestion metadata -------------------------------------------


class RawRatings(Base):
    user_id: Int = pa.Field(nullable=False)
    movie_id: Int = pa.Field(nullable=False)
    rating: Float = pa.Field(nullable=True)
    timestamp: Int = pa.Field(nullable=False, description="seconds since the epoch, UTC")
    rating_date: Time = _date(nullable=False)
    source: Str
    ingested_at: Time


class RawMovies(Base):
    as_of: Time = _as_of()
    movie_id: Int = pa.Field(nullable=False)
    title: Str = pa.Field(nullable=True)
    year: Float = pa.Field(nullable=True)
    genres: Str = pa.Field(nullable=True)
    source: Str
    ingested_at: Time


class RawFilms(Base):
    as_of: Time = _as_of()
    film_id: Int = pa.Field(nullable=False, description="the source's own id")
    imdb_id: Str = pa.Field(nullable=True)
    tmdb_id: Int = pa.Field(nullable=True, description="TMDB id; the film_id for TMDB and Kaggle")
    title: Str = pa.Field(nullable=True)
    year: Int = pa.Field(nullable=True)
    released: Str = pa.Field(nullable=True)
    runtime: Float = pa.Field(nullable=True)
    genre: Str = pa.Field(nullable=True)
    language: Str = pa.Field(nullable=True)
    country: Str = pa.Field(nullable=True)
    director: Str = pa.Field(nullable=True)
    metacritic: Int = pa.Field(nullable=True)
    tomato_meter: Int = pa.Field(nullable=True)
    tomato_rating: Float = pa.Field(nullable=True)
    box_office: Float = pa.Field(nullable=True)
    budget: Float = pa.Field(nullable=True, description="absent in the embedded source")
    popularity: Float = pa.Field(nullable=True, description="TMDB popularity; absent in Wikidata")
    vote_average: Float = pa.Field(nullable=True)
    vote_count: Float = pa.Field(nullable=True)
    production_companies: Str = pa.Field(nullable=True, description="', '-separated")
    source: Str
    ingested_at: Time


class RawLinks(Base):
    """MovieLens ``links.csv``: the only bridge from a MovieLens id to IMDb and TMDB ids."""

    as_of: Time = _as_of()
    movie_id: Int = pa.Field(nullable=False)
    imdb_id: Str = pa.Field(nullable=True, str_matches=r"^tt\d{7,}$")
    tmdb_id: Int = pa.Field(nullable=True)
    source: Str
    ingested_at: Time


class RawTags(Base):
    """MovieLens ``tags.csv``: free-text tags users put on movies."""

    as_of: Time = _as_of()
    user_id: Int = pa.Field(nullable=False)
    movie_id: Int = pa.Field(nullable=False)
    tag: Str = pa.Field(nullable=True)
    timestamp: Int = pa.Field(nullable=False, description="seconds since the epoch, UTC")
    source: Str
    ingested_at: Time


class CpiSeries(Base):
    as_of: Time = _as_of()
    series_id: Str = pa.Field(nullable=False)
    year: Int = pa.Field(nullable=False)
    period: Str = pa.Field(nullable=False)
    value: Float = pa.Field(nullable=True)
    source: Str
    ingested_at: Time


# --- clean layer ----------------------------------------------------------------------------


class Movies(Base):
    as_of: Time = _as_of()
    movie_id: Int = pa.Field(nullable=False)
    title: Str = pa.Field(nullable=False, str_length={"min_value": 1})
    year: Int = pa.Field(nullable=True, ge=1870, le=2100)
    genres: Str = pa.Field(nullable=False, description="pipe-separated, empty if none listed")

    class Config:
        unique = ["as_of", "movie_id"]


class Genres(Base):
    as_of: Time = _as_of()
    genre_id: Int = pa.Field(nullable=False)
    genre: Str = pa.Field(nullable=False)

    class Config:
        unique = ["as_of", "genre_id"]


class MovieGenres(Base):
    as_of: Time = _as_of()
    movie_id: Int = pa.Field(nullable=False)
    genre_id: Int = pa.Field(nullable=False)

    class Config:
        unique = ["as_of", "movie_id", "genre_id"]


class Films(Base):
    as_of: Time = _as_of()
    film_id: Int = pa.Field(nullable=False)
    imdb_id: Str = pa.Field(nullable=True)
    tmdb_id: Int = pa.Field(nullable=True)
    title: Str = pa.Field(nullable=False)
    year: Int = pa.Field(nullable=True)
    release_date: Time = _date(nullable=True)
    runtime_min: Float = pa.Field(nullable=True, gt=0)
    genres: Str = pa.Field(nullable=True)
    language: Str = pa.Field(nullable=True)
    country: Str = pa.Field(nullable=True)
    director: Str = pa.Field(nullable=True)
    metacritic: Int = pa.Field(nullable=True, ge=0, le=100)
    tomato_meter: Int = pa.Field(nullable=True, ge=0, le=100)
    box_office_usd: Float = pa.Field(nullable=True, gt=0)
    budget_usd: Float = pa.Field(nullable=True, gt=0)
    popularity: Float = pa.Field(nullable=True, ge=0)
    vote_average: Float = pa.Field(nullable=True, ge=0, le=10)
    vote_count: Int = pa.Field(nullable=True, ge=0)
    production_companies: Str = pa.Field(nullable=True, description="pipe-separated")

    class Config:
        unique = ["as_of", "film_id"]


LINK_METHODS = ("tmdb_id", "imdb_id", "title_year")


class FilmLinks(Base):
    as_of: Time = _as_of()
    movie_id: Int = pa.Field(nullable=False)
    film_id: Int = pa.Field(nullable=False)
    method: Str = pa.Field(
        nullable=False, isin=LINK_METHODS, description="links.csv ids first, then title and year"
    )
    match_key: Str = pa.Field(nullable=False, description="the id or 'title|year' that matched")

    class Config:
        unique = ["as_of", "movie_id"]


class Tags(Base):
    as_of: Time = _as_of()
    user_id: Int = pa.Field(nullable=False)
    movie_id: Int = pa.Field(nullable=False)
    tag: Str = pa.Field(nullable=False, str_length={"min_value": 1}, description="as written")
    tag_key: Str = pa.Field(nullable=False, description="lower-case, single-spaced: for grouping")
    tagged_at: Time = pa.Field(nullable=False)

    class Config:
        unique = ["as_of", "user_id", "movie_id", "tag_key"]


class Ratings(Base):
    as_of: Time = _as_of()
    user_id: Int = pa.Field(nullable=False)
    movie_id: Int = pa.Field(nullable=False)
    rating: Float = pa.Field(nullable=False, **RATING)
    rated_at: Time = pa.Field(nullable=False)
    rating_date: Time = _date(nullable=False)

    class Config:
        unique = ["as_of", "user_id", "movie_id"]

    @pa.check("rating", name="half_star_steps")
    def half_star_steps(cls, rating: Series[float]) -> Series[bool]:
        return _half_stars(rating)


class CpiMonthly(Base):
    as_of: Time = _as_of()
    series_id: Str = pa.Field(nullable=False)
    month: Time = _date(nullable=False)
    value: Float = pa.Field(nullable=False, gt=0)

    class Config:
        unique = ["as_of", "series_id", "month"]


# --- features -------------------------------------------------------------------------------


# Why a box-office figure is left out of rankings and aggregates (features.box_office_flag).
BOX_OFFICE_FLAGS = ("under $1,000", "above the largest known", "before CPI", "re-releases")
# Category labels of movie_features, in their order; the app offers them as filters.
RATING_CATEGORIES = ("Unrated", "Poor", "Average", "Good", "Excellent")
RUNTIME_CATEGORIES = ("Unknown", "Short", "Standard", "Long", "Epic")
ERAS = ("Unknown", "Classic", "Golden", "New Hollywood", "Modern", "Digital")


class MovieFeatures(Base):
    as_of: Time = _as_of()
    movie_id: Int = pa.Field(nullable=False)
    title: Str = pa.Field(nullable=False)
    year: Int = pa.Field(nullable=True)
    genres: Str = pa.Field(nullable=False)
    genre_count: Int = pa.Field(ge=0)
    rating_count: Int = pa.Field(ge=0)
    rating_mean: Float = pa.Field(nullable=True, **RATING)
    weighted_score: Float = pa.Field(nullable=False, **RATING)
    rating_category: Str = pa.Field(isin=list(RATING_CATEGORIES))
    popularity_bucket: Str = pa.Field(
        isin=["Unrated", "Niche", "Moderate", "Popular", "Blockbuster"]
    )
    film_id: Int = pa.Field(nullable=True)
    release_date: Time = _date(nullable=True)
    release_month: Int = pa.Field(nullable=True, ge=1, le=12)
    release_quarter: Int = pa.Field(nullable=True, ge=1, le=4)
    runtime_min: Float = pa.Field(nullable=True)
    runtime_category: Str = pa.Field(isin=list(RUNTIME_CATEGORIES))
    era: Str = pa.Field(isin=list(ERAS))
    movie_age: Int = pa.Field(nullable=True, ge=0)
    box_office_nominal: Float = pa.Field(nullable=True, gt=0)
    box_office_real: Float = pa.Field(nullable=True, gt=0)
    base_month: Time = _date(nullable=True)
    box_office_flag: Str = pa.Field(
        nullable=True,
        isin=list(BOX_OFFICE_FLAGS),
        description="null: a gross the app ranks and aggregates",
    )

    class Config:
        unique = ["as_of", "movie_id"]


class UserFeatures(Base):
    as_of: Time = _as_of()
    user_id: Int = pa.Field(nullable=False)
    rating_count: Int = pa.Field(ge=1)
    rating_mean: Float = pa.Field(**RATING)
    user_bias: Float = pa.Field(ge=-4.5, le=4.5)
    first_rated_at: Time
    last_rated_at: Time
    active_days: Int = pa.Field(ge=1)
    activity_level: Str = pa.Field(isin=["Light", "Regular", "Heavy"])

    class Config:
        unique = ["as_of", "user_id"]


class GenreDaily(Base):
    as_of: Time = _as_of()
    rating_date: Time = _date(nullable=False)
    genre: Str = pa.Field(nullable=False)
    rating_count: Int = pa.Field(ge=1)
    rating_mean: Float = pa.Field(**RATING)

    class Config:
        unique = ["as_of", "rating_date", "genre"]


class ViewingHourly(Base):
    as_of: Time = _as_of()
    weekday: Int = pa.Field(ge=0, le=6, description="0 is Monday, UTC")
    weekday_name: Str
    hour: Int = pa.Field(ge=0, le=23)
    rating_count: Int = pa.Field(ge=0)

    class Config:
        unique = ["as_of", "weekday", "hour"]


class Trending(Base):
    as_of: Time = _as_of()
    window_end: Time = _date(nullable=False)
    rank: Int = pa.Field(ge=1, le=10)
    movie_id: Int = pa.Field(nullable=False)
    title: Str = pa.Field(nullable=False)
    ratings_7d: Int = pa.Field(ge=1)

    class Config:
        unique = ["as_of", "window_end", "rank"]


class FactRatings(Base):
    as_of: Time = _as_of()
    user_id: Int = pa.Field(nullable=False)
    movie_id: Int = pa.Field(nullable=False)
    date_key: Int = pa.Field(nullable=False)
    rating: Float = pa.Field(nullable=False, **RATING)
    rated_at: Time

    class Config:
        unique = ["as_of", "user_id", "movie_id"]


class DimMovie(Base):
    as_of: Time = _as_of()
    movie_id: Int = pa.Field(nullable=False)
    title: Str = pa.Field(nullable=False)
    year: Int = pa.Field(nullable=True)
    genres: Str
    era: Str
    runtime_category: Str
    release_date: Time = _date(nullable=True)
    box_office_nominal: Float = pa.Field(nullable=True)

    class Config:
        unique = ["as_of", "movie_id"]


class DimUser(Base):
    as_of: Time = _as_of()
    user_id: Int = pa.Field(nullable=False)
    rating_count: Int = pa.Field(ge=1)
    first_rated_at: Time
    activity_level: Str

    class Config:
        unique = ["as_of", "user_id"]


class DimDate(Base):
    as_of: Time = _as_of()
    date_key: Int = pa.Field(nullable=False)
    date: Time = _date(nullable=False)
    year: Int
    quarter: Int = pa.Field(ge=1, le=4)
    month: Int = pa.Field(ge=1, le=12)
    day: Int = pa.Field(ge=1, le=31)
    weekday: Int = pa.Field(ge=0, le=6)
    is_weekend: Bool

    class Config:
        unique = ["as_of", "date_key"]


# --- model ----------------------------------------------------------------------------------


class Recommender(Base):
    """Biased SVD parameters: one 'global' row (mean in ``bias``), one row per user and item."""

    as_of: Time = _as_of()
    entity: Str = pa.Field(isin=["global", "user", "item"])
    raw_id: Int = pa.Field(nullable=True)
    inner_id: Int = pa.Field(nullable=True)
    bias: Float = pa.Field(nullable=False)
    factors: Series[object] = pa.Field(nullable=True, metadata={"sql": "DOUBLE[]"})
    model: Str = pa.Field(
        nullable=True,
        isin=["svd", "als"],
        description="svd: Surprise, dot product adds to the rating; als: preference factors, "
        "the rating is the baseline alone (docs/evaluation.md)",
    )
    fitted_on: Time = _date(
        nullable=True,
        description="the day this row's vector was fitted: earlier than as_of when ALS folds "
        "a day's raters into the week's item side (docs/evaluation.md, 'Daily runs')",
    )

    class Config:
        unique = ["as_of", "entity", "raw_id"]


class SvdTuning(Base):
    """Every candidate of the hyper-parameter searches, with its score and the one chosen."""

    as_of: Time = _as_of()
    search: Str = pa.Field(nullable=False)
    candidate: Int = pa.Field(nullable=False, ge=0)
    params: Str = pa.Field(nullable=False, description="JSON")
    metric: Str = pa.Field(nullable=False)
    mean_score: Float = pa.Field(
        nullable=True, description="empty when undefined: NDCG with no validation hit (tiny data)"
    )
    std_score: Float = pa.Field(nullable=True)
    rank: Int = pa.Field(nullable=False, ge=1)
    chosen: Bool = pa.Field(nullable=False)

    class Config:
        unique = ["as_of", "search", "candidate"]


# How model_metrics evaluated a model (docs/evaluation.md).
PROTOCOLS = ("random_5fold", "per_user_chronological")


class ModelMetrics(Base):
    """One row per model, protocol and metric (definitions in docs/evaluation.md)."""

    as_of: Time = _as_of()
    model: Str = pa.Field(nullable=False)
    protocol: Str = pa.Field(isin=list(PROTOCOLS))
    metric: Str = pa.Field(nullable=False)
    value: Float = pa.Field(nullable=False, ge=0)

    class Config:
        unique = ["as_of", "model", "protocol", "metric"]


class Recommendations(Base):
    """Top 10 per user; ``score`` orders the list, ``predicted_rating`` is SVD's estimate."""

    as_of: Time = _as_of()
    user_id: Int = pa.Field(nullable=False)
    rank: Int = pa.Field(ge=1, le=10)
    movie_id: Int = pa.Field(nullable=False)
    score: Float = pa.Field(nullable=False)
    predicted_rating: Float = pa.Field(nullable=False, **RATING)
    source: Str = pa.Field(
        isin=["personalized", "popular_cold_start", "popular_fill"],
        description="popular_fill: the user had rated nearly every ranked movie (tiny data)",
    )

    class Config:
        unique = ["as_of", "user_id", "rank"]


class SimilarMovies(Base):
    """Top 10 neighbours per movie by item-factor cosine; cold-start movies get popular ones."""

    as_of: Time = _as_of()
    movie_id: Int = pa.Field(nullable=False)
    rank: Int = pa.Field(ge=1, le=10)
    similar_movie_id: Int = pa.Field(nullable=False)
    similarity: Float = pa.Field(nullable=True, ge=-1.000001, le=1.000001)
    source: Str = pa.Field(isin=["personalized", "popular_cold_start"])

    class Config:
        unique = ["as_of", "movie_id", "rank"]


def _built_on() -> Time:
    return _date(
        nullable=True,
        description="the day the co-rating graph was built: earlier than as_of when a day at "
        "scale carries the week's graph over (docs/evaluation.md, 'Daily runs')",
    )


class MovieCommunities(Base):
    as_of: Time = _as_of()
    community_id: Int = pa.Field(nullable=False, ge=0)
    size: Int = pa.Field(ge=1)
    top_genres: Str = pa.Field(nullable=False)
    representative_titles: Str = pa.Field(nullable=False, description="pipe-separated")
    built_on: Time = _built_on()

    class Config:
        unique = ["as_of", "community_id"]


class MovieCentrality(Base):
    as_of: Time = _as_of()
    movie_id: Int = pa.Field(nullable=False)
    title: Str = pa.Field(nullable=False)
    community_id: Int = pa.Field(nullable=False, ge=0)
    degree: Int = pa.Field(ge=1)
    strength: Int = pa.Field(ge=1, description="sum of edge weights")
    pagerank: Float = pa.Field(ge=0, le=1)
    betweenness: Float = pa.Field(ge=0, le=1)
    built_on: Time = _built_on()

    class Config:
        unique = ["as_of", "movie_id"]


class Rejects(Base):
    """Quarantined source rows: nothing is dropped without a reason."""

    asset: Str = pa.Field(nullable=False)
    partition_date: Time = _date(nullable=False)
    source: Str = pa.Field(nullable=False)
    raw: Str = pa.Field(nullable=False, description="the row as received, JSON")
    reason: Str = pa.Field(nullable=False)
    rejected_at: Time


class CheckResults(Base):
    """Every asset check's result, written in the transaction of the rows it checked."""

    asset: Str = pa.Field(nullable=False)
    check_name: Str = pa.Field(nullable=False)
    first_day: Time = _date(nullable=False)
    last_day: Time = _date(nullable=False, description="the window the check covered")
    passed: Bool = pa.Field(nullable=False)
    severity: Str = pa.Field(nullable=False, isin=["ERROR", "WARN"])
    failures: Int = pa.Field(nullable=True)
    metadata: Str = pa.Field(nullable=False, description="the check's metadata, JSON")
    run_id: Str = pa.Field(nullable=True)
    evaluated_at: Time


@dataclass(frozen=True)
class Table:
    name: str
    model: type[Base]
    partition_column: str
    order: tuple[str, ...] = ()  # read order where no key is declared (raw tables)
    # (column, parent table): every value exists in the parent's snapshot of the same day.
    # The key is the model's Config.unique; checks.table_specs makes a check of each.
    references: tuple[tuple[str, str], ...] = ()
    # A view over every snapshot of its inputs (the star schema): nothing copied per day.
    view: bool = False

    @property
    def sort_key(self) -> list[str]:
        keys = self.order or tuple(getattr(self.model.Config, "unique", None) or ())
        return [k for k in keys if k != self.partition_column]

    @property
    def columns(self) -> list[str]:
        return list(self.model.to_schema().columns)

    @property
    def is_event(self) -> bool:
        return self.partition_column != "as_of"


def _snapshot(
    name: str, model: type[Base], order: tuple[str, ...] = (), view: bool = False, **references: str
) -> Table:
    """A snapshot table; keyword arguments name its references (column=parent)."""
    return Table(name, model, "as_of", order, tuple(references.items()), view)


TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table("raw_ratings", RawRatings, "rating_date"),
        _snapshot("raw_movies", RawMovies, ("movie_id",)),
        _snapshot("raw_films", RawFilms, ("film_id",)),
        _snapshot("cpi_series", CpiSeries, ("series_id", "year", "period")),
        _snapshot("raw_links", RawLinks, ("movie_id",)),
        _snapshot("raw_tags", RawTags, ("user_id", "movie_id", "timestamp")),
        _snapshot("movies", Movies),
        _snapshot("genres", Genres),
        _snapshot("movie_genres", MovieGenres, movie_id="movies", genre_id="genres"),
        _snapshot("films", Films),
        _snapshot("film_links", FilmLinks, movie_id="movies", film_id="films"),
        _snapshot("tags", Tags, movie_id="movies"),
        _snapshot("ratings", Ratings, movie_id="movies"),
        _snapshot("cpi_monthly", CpiMonthly),
        _snapshot("movie_features", MovieFeatures, movie_id="movies"),
        _snapshot("user_features", UserFeatures),
        _snapshot("genre_daily", GenreDaily),
        _snapshot("viewing_hourly", ViewingHourly),
        _snapshot("trending", Trending, movie_id="movies"),
        _snapshot("fact_ratings", FactRatings, view=True),
        _snapshot("dim_movie", DimMovie, view=True),
        _snapshot("dim_user", DimUser, view=True),
        _snapshot("dim_date", DimDate),
        _snapshot("recommender", Recommender),
        _snapshot("model_metrics", ModelMetrics),
        _snapshot("recommendations", Recommendations, movie_id="movies"),
        _snapshot("svd_tuning", SvdTuning),
        _snapshot("similar_movies", SimilarMovies, movie_id="movies"),
        _snapshot("movie_communities", MovieCommunities),
        _snapshot("movie_centrality", MovieCentrality),
        Table("rejects", Rejects, "partition_date"),
        Table("check_results", CheckResults, "first_day"),
    ]
}
# Written by every asset beside its own rows, so no asset of their own.
SHARED_TABLES = ("rejects", "check_results")

_SQL_TYPES = {
    "Int64": "BIGINT",
    "Float64": "DOUBLE",
    "string": "VARCHAR",
    "string[python]": "VARCHAR",
    "boolean": "BOOLEAN",
    "datetime64[ns]": "TIMESTAMP",
}


def column_types(table: Table) -> dict[str, str]:
    """DuckDB type of every column, in schema order."""
    return {
        name: (col.metadata or {}).get("sql") or _SQL_TYPES[str(col.dtype)]
        for name, col in table.model.to_schema().columns.items()
    }


def ddl(table: Table) -> str:
    """CREATE TABLE statement derived from the model, so the table exists even when empty."""
    cols = ", ".join(f'"{name}" {sql}' for name, sql in column_types(table).items())
    return f"CREATE TABLE IF NOT EXISTS {table.name} ({cols})"


def conform(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """Columns in schema order with schema dtypes.

    A nullable column the rows lack (a snapshot written before the column existed)
    reads as null; a missing required column raises ValueError, never a LookupError,
    which callers take to mean "no snapshot".
    """
    columns = table.model.to_schema().columns
    missing = [c for c in table.columns if c not in frame.columns]
    required = [c for c in missing if not columns[c].nullable]
    if required:
        raise ValueError(f"{table.name}: missing columns {required}")
    out = frame.reindex(columns=table.columns)
    for name, col in columns.items():
        if str(col.dtype) != "object":
            out[name] = col.dtype.try_coerce(out[name])
    return out


# --- Rows the pipeline stamps ---------------------------------------------------------------


def now() -> pd.Timestamp:
    """The warehouse's timestamps (ingested_at, rejected_at): UTC, without a zone."""
    return pd.Timestamp(datetime.now(UTC).replace(tzinfo=None))


def quarantine(
    rows: pd.DataFrame, reason: str | pd.Series, source: str, partition_date
) -> pd.DataFrame:
    """Rows in the rejects layout; ``raw`` keeps every field as received, as JSON."""
    received = rows.drop(columns=["ingested_at"], errors="ignore")
    raw = [json.dumps(r, default=str) for r in received.to_dict(orient="records")]
    return pd.DataFrame(
        {
            "partition_date": partition_date
            if not isinstance(partition_date, pd.Series)
            else partition_date.to_numpy(),
            "source": source,
            "raw": raw,
            "reason": reason if not isinstance(reason, pd.Series) else reason.to_numpy(),
            "rejected_at": now(),
        },
        index=range(len(rows)),
    )
