"""Every question the pages ask, as parameterized SQL over the published snapshot.

User input only ever reaches DuckDB as a bound parameter; the few SQL fragments
chosen by the user (a time grain, a grouping column) come from fixed whitelists.
Aggregation happens here, in SQL, over the per-movie rating rollups the publish step
writes (``dash_movie_year``, ``dash_movie_month``, ``dash_movie_stars``) wherever a chart
needs no finer grain; pages only shape results into figures.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from dash_app.data import cached, query
from movie_assets.features.transforms import INFLATION_SERIES
from movie_assets.schemas import ERAS, RATING_CATEGORIES, RUNTIME_CATEGORIES

GRAINS = {"day": "day", "week": "week", "month": "month", "year": "year"}
BREAKDOWNS = {"rating_category": "m.rating_category", "runtime_category": "m.runtime_category"}
PERIODS = {"month": "m.release_month", "quarter": "m.release_quarter"}
TOP_KINDS = {
    "weighted": "m.weighted_score DESC, m.rating_count DESC",
    "highest": "m.rating_mean DESC, m.rating_count DESC",
    "most": "m.rating_count DESC, m.weighted_score DESC",
}


MAX_ITEMS = 64  # longer than any list a control offers (19 genres in MovieLens, 20 in ml-25m)
Year = Annotated[int, Field(ge=1000, le=3000)]
Name = Annotated[str, Field(max_length=100)]


def _labels(values: tuple[str, ...]):
    return Annotated[tuple[Literal[tuple(values)], ...], Field(max_length=len(values))]


class Filters(BaseModel):
    """The filters every page shares; empty means no restriction.

    Typed and bounded: a request's filters are validated before they reach SQL or a
    cache key (frozen, so hashable).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    year_from: Year | None = None
    year_to: Year | None = None
    genres: Annotated[tuple[Name, ...], Field(max_length=MAX_ITEMS)] = ()
    min_rating: Annotated[float, Field(ge=0, le=5)] | None = None
    rating_categories: _labels(RATING_CATEGORIES) = ()
    runtime_categories: _labels(RUNTIME_CATEGORIES) = ()
    eras: _labels(ERAS) = ()

    def where(self, alias: str = "m") -> tuple[str, list]:
        """A WHERE clause on movie_features (as ``alias``) and its parameters."""
        clauses, params = ["TRUE"], []
        if self.year_from is not None:
            clauses.append(f"{alias}.year >= ?")
            params.append(self.year_from)
        if self.year_to is not None:
            clauses.append(f"{alias}.year <= ?")
            params.append(self.year_to)
        if self.genres:
            clauses.append(f"list_has_any(string_split({alias}.genres, '|'), ?::VARCHAR[])")
            params.append(list(self.genres))
        if self.min_rating:
            clauses.append(f"{alias}.rating_mean >= ?")
            params.append(self.min_rating)
        for column, values in [
            ("rating_category", self.rating_categories),
            ("runtime_category", self.runtime_categories),
            ("era", self.eras),
        ]:
            if values:
                clauses.append(f"list_contains(?::VARCHAR[], {alias}.{column})")
                params.append(list(values))
        return " AND ".join(clauses), params

    def genre_where(self, alias: str = "g") -> tuple[str, list]:
        """Genre-level results show only the chosen genres."""
        if not self.genres:
            return "TRUE", []
        return f"list_contains(?::VARCHAR[], {alias}.genre)", [list(self.genres)]


NO_FILTERS = Filters()


def _movies(f: Filters) -> tuple[str, list]:
    """The filtered movies as a CTE named fm."""
    where, params = f.where("m")
    return f"fm AS (SELECT m.* FROM movie_features m WHERE {where})", params


def _movie_genres(f: Filters) -> tuple[str, list]:
    """fm plus (movie_id, genre) pairs of the filtered movies, restricted to chosen genres."""
    movies, params = _movies(f)
    genre_where, genre_params = f.genre_where("g")
    sql = (
        f"{movies}, fg AS (SELECT mg.movie_id, g.genre FROM fm "
        "JOIN movie_genres mg ON mg.movie_id = fm.movie_id "
        f"JOIN genres g ON g.genre_id = mg.genre_id WHERE {genre_where})"
    )
    return sql, params + genre_params


# --- snapshot-wide facts --------------------------------------------------------------------


@cached
def year_bounds() -> tuple[int, int]:
    low, high = query("SELECT min(year), max(year) FROM movie_features").iloc[0]
    return int(low), int(high)


@cached
def genre_names() -> list[str]:
    return query("SELECT genre FROM genres ORDER BY genre")["genre"].tolist()


# --- overview -------------------------------------------------------------------------------


@cached
def kpis(f: Filters) -> dict:
    """Counts and the mean from the per-movie rollup; distinct users need the ratings, except
    unfiltered (every user in user_features has rated)."""
    movies, params = _movie_genres(f)
    if f == NO_FILTERS:
        people = """SELECT (SELECT count(*) FROM user_features) AS users,
            min(rating_date) AS first_day, max(rating_date) AS last_day FROM ratings"""
    else:
        people = """SELECT count(DISTINCT r.user_id) AS users, min(r.rating_date) AS first_day,
            max(r.rating_date) AS last_day FROM ratings r JOIN fm ON fm.movie_id = r.movie_id"""
    row = query(
        f"""WITH {movies},
        counts AS (
            SELECT CAST(sum(y.ratings) AS BIGINT) AS ratings,
                   sum(y.rating_sum) / sum(y.ratings) AS average
            FROM dash_movie_year y JOIN fm ON fm.movie_id = y.movie_id
        ),
        people AS ({people})
        SELECT (SELECT count(*) FROM fm) AS movies, coalesce(c.ratings, 0) AS ratings,
               p.users, c.average AS average_rating,
               (SELECT count(DISTINCT genre) FROM fg) AS genres, p.first_day, p.last_day
        FROM counts c CROSS JOIN people p""",
        params,
    ).iloc[0]
    return row.to_dict()


@cached
def rating_distribution(f: Filters) -> pd.DataFrame:
    movies, params = _movies(f)
    return query(
        f"""WITH {movies}
        SELECT s.rating, CAST(sum(s.ratings) AS BIGINT) AS ratings
        FROM dash_movie_stars s JOIN fm ON fm.movie_id = s.movie_id
        GROUP BY s.rating ORDER BY s.rating""",
        params,
    )


@cached
def ratings_per_year(f: Filters) -> pd.DataFrame:
    movies, params = _movies(f)
    return query(
        f"""WITH {movies}
        SELECT y.year, CAST(sum(y.ratings) AS BIGINT) AS ratings,
               sum(y.rating_sum) / sum(y.ratings) AS average_rating
        FROM dash_movie_year y JOIN fm ON fm.movie_id = y.movie_id
        GROUP BY 1 ORDER BY 1""",
        params,
    )


# Popularity against rating is drawn as cells: 5% steps in the number of ratings, 0.05 stars.
COUNT_STEPS_PER_E, STAR_STEPS = 20, 20


@cached
def popularity_vs_rating(f: Filters) -> pd.DataFrame:
    """One row per cell of (ratings on a log scale, mean rating): its step on each axis
    (``count_step``: ln of the ratings x COUNT_STEPS_PER_E; ``star_step``: stars x
    STAR_STEPS), how many movies it holds, their mean position and first titles.

    Every movie as a point was 9,000 SVG markers on the embedded data and 28,000 at 25M
    ratings, seconds to draw; the page draws the cells as one heatmap.
    """
    movies, params = _movies(f)
    return query(
        f"""WITH {movies}
        SELECT round(ln(rating_count) * {COUNT_STEPS_PER_E}) AS count_step,
               round(rating_mean * {STAR_STEPS}) AS star_step,
               avg(rating_count) AS rating_count, avg(rating_mean) AS rating_mean,
               avg(weighted_score) AS weighted_score, count(*) AS movies,
               array_to_string(list_slice(list(title ORDER BY title), 1, 3), '<br>') AS titles
        FROM fm WHERE rating_count > 0
        GROUP BY 1, 2 ORDER BY 1, 2""",
        params,
    )


# --- trends ---------------------------------------------------------------------------------


Window = tuple[date, date] | None  # ratings on or after the first day and before the second


def _window(column: str, window: Window) -> tuple[str, list]:
    if window is None:
        return "TRUE", []
    return f"{column} >= ? AND {column} < ?", list(window)


@cached
def ratings_over_time(f: Filters, grain: str, window: Window = None) -> pd.DataFrame:
    unit = GRAINS[grain]
    movies, params = _movies(f)
    if grain in ("month", "year"):
        within, dates = _window("m.month", window)
        return query(
            f"""WITH {movies}
            SELECT CAST(date_trunc('{unit}', m.month) AS DATE) AS period,
                   CAST(sum(m.ratings) AS BIGINT) AS ratings,
                   sum(m.rating_sum) / sum(m.ratings) AS average_rating
            FROM dash_movie_month m JOIN fm ON fm.movie_id = m.movie_id
            WHERE {within} GROUP BY 1 ORDER BY 1""",
            params + dates,
        )
    within, dates = _window("r.rating_date", window)
    return query(
        f"""WITH {movies}
        SELECT CAST(date_trunc('{unit}', r.rating_date) AS DATE) AS period,
               count(*) AS ratings, avg(r.rating) AS average_rating
        FROM ratings r JOIN fm ON fm.movie_id = r.movie_id
        WHERE {within} GROUP BY 1 ORDER BY 1""",
        params + dates,
    )


def _genre_periods(f: Filters, period: str) -> tuple[str, list]:
    """A CTE ``gp(period, genre, ratings)``: ratings per genre per year or month.

    Unfiltered, it sums the pipeline's ``genre_daily``; filtered, the per-movie rollups
    of the filtered movies (``genre_daily`` has no movie to filter on). Both count a
    rating once for each genre of its movie.
    """
    if f == NO_FILTERS:
        bucket = {
            "year": "CAST(year(rating_date) AS INTEGER)",
            "month": "CAST(date_trunc('month', rating_date) AS DATE)",
        }[period]
        return (
            f"gp AS (SELECT {bucket} AS period, genre, sum(rating_count) AS ratings "
            "FROM genre_daily GROUP BY ALL)",
            [],
        )
    movies, params = _movie_genres(f)
    rollup = {"year": "dash_movie_year", "month": "dash_movie_month"}[period]
    return (
        f"{movies}, gp AS (SELECT r.{period} AS period, fg.genre, sum(r.ratings) AS ratings "
        f"FROM {rollup} r JOIN fg ON fg.movie_id = r.movie_id GROUP BY ALL)",
        params,
    )


@cached
def genre_ratings_per_year(f: Filters) -> pd.DataFrame:
    """Ratings per genre per year, with each genre's share of that year's genre tags."""
    periods, params = _genre_periods(f, "year")
    return query(
        f"""WITH {periods}
        SELECT period AS year, genre, CAST(ratings AS BIGINT) AS ratings,
               ratings / sum(ratings) OVER (PARTITION BY period) AS share
        FROM gp ORDER BY 1, 2""",
        params,
    )


@cached
def genre_ratings_per_month(f: Filters, window: Window) -> pd.DataFrame:
    """Ratings per genre per month within ``window`` (months: the first day of each)."""
    periods, params = _genre_periods(f, "month")
    within, dates = _window("period", window)
    return query(
        f"""WITH {periods}
        SELECT period AS month, genre, CAST(ratings AS BIGINT) AS ratings
        FROM gp WHERE {within} ORDER BY 1, 2""",
        params + dates,
    )


# --- genres ---------------------------------------------------------------------------------


@cached
def genre_summary(f: Filters) -> pd.DataFrame:
    movies, params = _movie_genres(f)
    return query(
        f"""WITH {movies},
        per_movie AS (
            SELECT fg.genre, count(*) AS movies, avg(fm.weighted_score) AS weighted_score
            FROM fg JOIN fm ON fm.movie_id = fg.movie_id GROUP BY fg.genre
        ),
        per_rating AS (
            SELECT fg.genre, CAST(sum(y.ratings) AS BIGINT) AS ratings,
                   sum(y.rating_sum) / sum(y.ratings) AS average_rating
            FROM fg JOIN dash_movie_year y ON y.movie_id = fg.movie_id GROUP BY fg.genre
        )
        SELECT p.genre, p.movies, coalesce(q.ratings, 0) AS ratings, q.average_rating,
               p.weighted_score
        FROM per_movie p LEFT JOIN per_rating q ON q.genre = p.genre
        ORDER BY p.movies DESC, p.genre""",
        params,
    )


@cached
def genre_breakdown(f: Filters, by: str) -> pd.DataFrame:
    column = BREAKDOWNS[by]
    movies, params = _movie_genres(f)
    return query(
        f"""WITH {movies}
        SELECT fg.genre, {column} AS category, count(*) AS movies
        FROM fg JOIN fm m ON m.movie_id = fg.movie_id
        GROUP BY 1, 2 ORDER BY 1, 2""",
        params,
    )


# --- top movies -----------------------------------------------------------------------------


@cached
def top_movies(f: Filters, kind: str, min_votes: int = 50, limit: int = 20) -> pd.DataFrame:
    order = TOP_KINDS[kind]
    where, params = f.where("m")
    if kind == "highest":
        where += " AND m.rating_count >= ?"
        params = [*params, min_votes]
    return query(
        f"""SELECT m.movie_id, m.title, m.year, replace(m.genres, '|', ', ') AS genres,
               m.rating_count, round(m.rating_mean, 3) AS rating_mean,
               round(m.weighted_score, 3) AS weighted_score
        FROM movie_features m
        WHERE {where} AND m.rating_count > 0
        ORDER BY {order}, m.movie_id LIMIT ?""",
        [*params, limit],
    )


# --- movie graph ----------------------------------------------------------------------------


@cached
def graph_communities() -> pd.DataFrame:
    """Louvain communities of the co-rating graph, largest first."""
    return query(
        """SELECT community_id, size, replace(top_genres, '|', ', ') AS top_genres,
               replace(representative_titles, '|', '; ') AS representative_titles
        FROM movie_communities ORDER BY size DESC, community_id"""
    )


@cached
def community_movies(community_id: int) -> pd.DataFrame:
    """A community's movies ranked by PageRank, with their centrality in the whole graph."""
    return query(
        """SELECT row_number() OVER (ORDER BY pagerank DESC, movie_id) AS rank, movie_id, title,
               degree, strength, pagerank, betweenness
        FROM movie_centrality WHERE community_id = ? ORDER BY rank""",
        [community_id],
    )


# --- box office -----------------------------------------------------------------------------


@cached
def cpi_months() -> pd.DataFrame:
    return query(
        "SELECT month FROM cpi_monthly WHERE series_id = ? ORDER BY month DESC",
        [INFLATION_SERIES],
    )


@cached
def default_base_month() -> date:
    return query("SELECT max(base_month) AS m FROM movie_features")["m"].iloc[0].date()


def _released_in(month: int | None) -> tuple[str, list]:
    """Movies released in a calendar month (1-12; None: any), as a condition on fm."""
    return ("TRUE", []) if month is None else ("fm.release_month = ?", [month])


def _box_office(f: Filters, base_month: date, flagged: bool, month: int | None) -> tuple[str, list]:
    """CTE bo: filtered movies with box office, in nominal and in base-month dollars.

    The pipeline computed constant dollars of its base month (``box_office_real``); another
    base month only rescales them by that month's CPI against the pipeline's. Flagged
    grosses (``box_office_flag``) stay out unless ``flagged``; ``month`` keeps one release
    month.
    """
    movies, params = _movies(f)
    released, month_params = _released_in(month)
    keep = "TRUE" if flagged else "fm.box_office_flag IS NULL"
    return (
        f"""{movies},
        cpi AS (SELECT month, value FROM cpi_monthly WHERE series_id = ?),
        bo AS (
            SELECT fm.*, fm.box_office_nominal AS nominal,
                   fm.box_office_real * (SELECT value FROM cpi WHERE month = ?) / b.value
                       AS real
            FROM fm JOIN cpi b ON b.month = fm.base_month
            WHERE fm.box_office_real IS NOT NULL AND {keep} AND {released}
        )""",
        [*params, INFLATION_SERIES, base_month, *month_params],
    )


@cached
def box_office_movies(
    f: Filters, base_month: date, flagged: bool = False, month: int | None = None
) -> pd.DataFrame:
    sql, params = _box_office(f, base_month, flagged, month)
    return query(
        f"""WITH {sql}
        SELECT movie_id, title, year, CAST(release_date AS DATE) AS release_date,
               release_month, replace(genres, '|', ', ') AS genres, nominal AS nominal_usd,
               real AS real_usd, box_office_flag AS flag
        FROM bo ORDER BY real DESC NULLS LAST, movie_id""",
        params,
    )


@cached
def box_office_flags(f: Filters, month: int | None = None) -> pd.DataFrame:
    """Filtered movies with a box-office figure, by flag (None: ranked and aggregated)."""
    movies, params = _movies(f)
    released, month_params = _released_in(month)
    return query(
        f"""WITH {movies}
        SELECT box_office_flag AS flag, count(*) AS movies FROM fm
        WHERE box_office_real IS NOT NULL AND {released} GROUP BY 1 ORDER BY 1 NULLS FIRST""",
        params + month_params,
    )


@cached
def box_office_by_genre(
    f: Filters, base_month: date, flagged: bool = False, month: int | None = None
) -> pd.DataFrame:
    sql, params = _box_office(f, base_month, flagged, month)
    genre_where, genre_params = f.genre_where("g")
    return query(
        f"""WITH {sql}
        SELECT g.genre, count(*) AS movies, sum(bo.real) AS total_real,
               median(bo.real) AS median_real, avg(bo.real) AS mean_real
        FROM bo JOIN movie_genres mg ON mg.movie_id = bo.movie_id
        JOIN genres g ON g.genre_id = mg.genre_id
        WHERE {genre_where}
        GROUP BY g.genre ORDER BY median_real DESC, g.genre""",
        params + genre_params,
    )


@cached
def box_office_by_period(
    f: Filters, base_month: date, period: str, flagged: bool = False
) -> pd.DataFrame:
    column = PERIODS[period].replace("m.", "bo.")
    sql, params = _box_office(f, base_month, flagged, None)
    return query(
        f"""WITH {sql}
        SELECT {column} AS period, count(*) AS movies, median(bo.real) AS median_real,
               avg(bo.real) AS mean_real, sum(bo.real) AS total_real
        FROM bo GROUP BY 1 ORDER BY 1""",
        params,
    )


@cached
def budget_coverage(f: Filters, month: int | None = None) -> dict:
    """How many filtered movies have a budget from some source (none in the embedded data)."""
    movies, params = _movies(f)
    released, month_params = _released_in(month)
    row = query(
        f"""WITH {movies}
        SELECT count(*) AS linked, count(films.budget_usd) AS with_budget
        FROM fm JOIN films ON films.film_id = fm.film_id WHERE {released}""",
        params + month_params,
    ).iloc[0]
    return {k: int(v) for k, v in row.items()}


@cached
def return_on_investment(f: Filters, month: int | None = None) -> pd.DataFrame:
    movies, params = _movies(f)
    released, month_params = _released_in(month)
    return query(
        f"""WITH {movies}
        SELECT fm.movie_id, fm.title, fm.year, films.budget_usd, films.box_office_usd,
               films.box_office_usd / films.budget_usd AS roi
        FROM fm JOIN films ON films.film_id = fm.film_id
        WHERE films.budget_usd IS NOT NULL AND films.box_office_usd IS NOT NULL AND {released}
        ORDER BY roi DESC, fm.movie_id""",
        params + month_params,
    )


# --- viewing patterns -----------------------------------------------------------------------


@cached
def weekday_hour(f: Filters) -> pd.DataFrame:
    """All 168 UTC weekday x hour cells (0 = Monday), zeros included.

    Unfiltered, this is the pipeline's ``viewing_hourly``; filtered, the same count over
    the filtered movies.
    """
    if f == NO_FILTERS:
        return query(
            "SELECT weekday, hour, rating_count AS ratings FROM viewing_hourly ORDER BY 1, 2"
        )
    movies, params = _movies(f)
    return query(
        f"""WITH {movies},
        counts AS (
            SELECT isodow(r.rated_at) - 1 AS weekday, hour(r.rated_at) AS hour, count(*) AS n
            FROM ratings r JOIN fm ON fm.movie_id = r.movie_id GROUP BY 1, 2
        )
        SELECT w.weekday, h.hour, coalesce(c.n, 0) AS ratings
        FROM range(7) w(weekday) CROSS JOIN range(24) h(hour)
        LEFT JOIN counts c ON c.weekday = w.weekday AND c.hour = h.hour
        ORDER BY 1, 2""",
        params,
    )


# A movie trends only with this many ratings in the 7 days: one rating is not a trend.
MIN_TRENDING_RATINGS = 3


@cached
def trending(f: Filters, day: date, limit: int = 10) -> pd.DataFrame:
    """Most rated movies in the 7 days ending on ``day``, with at least MIN_TRENDING_RATINGS.

    Unfiltered, this is the pipeline's own ``trending`` table; a filter asks for movies
    the table's top 10 may not hold, so the same count is taken over the filtered movies.
    """
    if f == NO_FILTERS:
        return query(
            """SELECT t.movie_id, t.title, t.ratings_7d,
                   (SELECT round(avg(r.rating), 2) FROM ratings r WHERE r.movie_id = t.movie_id
                    AND r.rating_date BETWEEN t.window_end - 6 AND t.window_end) AS average
            FROM trending t WHERE t.window_end = ? AND t.ratings_7d >= ?
            ORDER BY t.rank LIMIT ?""",
            [day, MIN_TRENDING_RATINGS, limit],
        )
    movies, params = _movies(f)
    return query(
        f"""WITH {movies}
        SELECT fm.movie_id, fm.title, count(*) AS ratings_7d, round(avg(r.rating), 2) AS average
        FROM ratings r JOIN fm ON fm.movie_id = r.movie_id
        WHERE r.rating_date BETWEEN CAST(? AS DATE) - 6 AND CAST(? AS DATE)
        GROUP BY fm.movie_id, fm.title HAVING count(*) >= ?
        ORDER BY ratings_7d DESC, fm.movie_id LIMIT ?""",
        [*params, day, day, MIN_TRENDING_RATINGS, limit],
    )


@cached
def last_trending_day() -> date | None:
    """The newest day with a movie that trends (the last days of a dataset may have none)."""
    day = query(
        "SELECT max(window_end) AS d FROM trending WHERE ratings_7d >= ?", [MIN_TRENDING_RATINGS]
    )["d"].iloc[0]
    return None if pd.isna(day) else pd.Timestamp(day).date()


@cached
def rating_days() -> tuple[date, date]:
    low, high = query("SELECT min(rating_date), max(rating_date) FROM ratings").iloc[0]
    return pd.Timestamp(low).date(), pd.Timestamp(high).date()


# --- recommendations ------------------------------------------------------------------------


@cached
def recommended_users(prefix: str = "", limit: int = 50) -> pd.DataFrame:
    """Users with recommendations whose id starts with ``prefix`` (digits), in id order.

    A dropdown of every user was 162,000 options at 25M ratings: the page offers these and
    searches as the reader types.
    """
    return query(
        """SELECT u.user_id, u.rating_count FROM user_features u
        WHERE CAST(u.user_id AS VARCHAR) LIKE ? || '%'
          AND u.user_id IN (SELECT user_id FROM recommendations)
        ORDER BY u.user_id LIMIT ?""",
        [prefix, limit],
    )


# A rated movie explains a recommendation when the user liked it (this many stars or more).
LIKED = 4.0


@cached
def user_recommendations(user_id: int) -> pd.DataFrame:
    """The user's top 10 in rank order, each with the liked movie nearest to it in the model.

    "Nearest" is the cosine of the model's item factors, the same measure the similar-movies
    table uses; a popular pick (cold start, fill) has none, even for a user with a liked movie.
    """
    return query(
        """WITH recs AS (
            SELECT rank, movie_id, score, predicted_rating, source
            FROM recommendations WHERE user_id = ?
        ),
        liked AS (SELECT movie_id, rating FROM ratings WHERE user_id = ? AND rating >= ?),
        pairs AS (
            SELECT recs.movie_id, l.movie_id AS liked_id, l.rating,
                   list_cosine_similarity(a.factors, b.factors) AS similarity
            FROM recs
            JOIN recommender a ON a.entity = 'item' AND a.raw_id = recs.movie_id
            CROSS JOIN liked l
            JOIN recommender b ON b.entity = 'item' AND b.raw_id = l.movie_id
            WHERE recs.source = 'personalized'
        ),
        best AS (
            SELECT movie_id, arg_max(liked_id, similarity) AS liked_id,
                   arg_max(rating, similarity) AS liked_rating, max(similarity) AS similarity
            FROM pairs GROUP BY movie_id
        )
        SELECT recs.rank, recs.movie_id, m.title, replace(m.genres, '|', ', ') AS genres,
               round(recs.score, 3) AS score, round(recs.predicted_rating, 3) AS predicted_rating,
               recs.source, lm.title AS because_title, best.liked_rating,
               round(best.similarity, 3) AS similarity
        FROM recs JOIN movie_features m ON m.movie_id = recs.movie_id
        LEFT JOIN best ON best.movie_id = recs.movie_id
        LEFT JOIN movie_features lm ON lm.movie_id = best.liked_id
        ORDER BY recs.rank""",
        [user_id, user_id, LIKED],
    )


@cached
def user_top_rated(user_id: int, limit: int = 10) -> pd.DataFrame:
    return query(
        """SELECT r.movie_id, m.title, r.rating, CAST(r.rated_at AS DATE) AS rated_on
        FROM ratings r JOIN movie_features m ON m.movie_id = r.movie_id
        WHERE r.user_id = ? ORDER BY r.rating DESC, r.rated_at DESC, r.movie_id LIMIT ?""",
        [user_id, limit],
    )


@cached
def movie_search(text: str, limit: int = 30) -> pd.DataFrame:
    """Movies the model has factors for, best known first; ``text`` is only ever a parameter."""
    return query(
        """SELECT m.movie_id, m.title, m.year, m.rating_count
        FROM movie_features m JOIN recommender i ON i.raw_id = m.movie_id AND i.entity = 'item'
        WHERE m.title ILIKE '%' || ? || '%'
        ORDER BY m.rating_count DESC, m.movie_id LIMIT ?""",
        [text, limit],
    )


@cached
def movie_title(movie_id: int) -> str | None:
    found = query("SELECT title FROM movie_features WHERE movie_id = ?", [movie_id])
    return None if found.empty else found["title"].iloc[0]


@cached
def similar_movies(movie_id: int) -> pd.DataFrame:
    """The pipeline's ten nearest movies (similar_movies: item-factor cosine, its own
    minimum of ratings; popular movies for a cold one)."""
    return query(
        """SELECT s.rank, s.similar_movie_id AS movie_id, m.title, m.rating_count,
               round(s.similarity, 4) AS similarity, s.source
        FROM similar_movies s JOIN movie_features m ON m.movie_id = s.similar_movie_id
        WHERE s.movie_id = ? ORDER BY s.rank""",
        [movie_id],
    )


@cached
def model_metrics() -> pd.DataFrame:
    return query(
        """SELECT CAST(as_of AS DATE) AS as_of, model, protocol, metric, value
        FROM model_metrics ORDER BY as_of, model, metric"""
    )


# --- data quality ---------------------------------------------------------------------------


@cached
def check_results() -> pd.DataFrame:
    return query(
        """SELECT asset, check_name, status, failures, blocking, description,
               strftime(evaluated_at, '%Y-%m-%d %H:%M:%S') AS evaluated_at, run_id, metadata
        FROM dq_checks ORDER BY status = 'passed', asset, check_name"""
    )


@cached
def reconciliation() -> pd.DataFrame:
    return query("SELECT * FROM dq_reconciliation ORDER BY asset")


@cached
def film_link_methods() -> pd.DataFrame:
    """How catalogue movies found their film: links.csv ids first, then title and year."""
    return query(
        """SELECT coalesce(l.method, 'not linked') AS method, count(*) AS movies,
               count(*) / sum(count(*)) OVER () AS share
        FROM movies m LEFT JOIN film_links l USING (movie_id)
        GROUP BY 1 ORDER BY movies DESC, method"""
    )


@cached
def rejects_by_reason() -> pd.DataFrame:
    return query(
        """SELECT asset, reason, source, count(*) AS rows
        FROM rejects GROUP BY ALL ORDER BY rows DESC, asset, reason"""
    )
