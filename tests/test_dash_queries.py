"""The query module against the published snapshot, each result recomputed independently.

The expected values come from the live warehouse (read-only) with pandas or SQL of
the test's own, or from tables the pipeline computed another way.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs

import duckdb
import numpy as np
import pandas as pd
import pytest
from dash import no_update

from dash_app import components as c
from dash_app import data, inputs
from dash_app import filters as flt
from dash_app import queries as q
from dash_app.grid_state import GridState
from movie_assets.model.als import MIN_SIMILAR_RATINGS
from movie_assets.publish import snapshot
from movie_assets.publish.assets import RATING_ROLLUPS

DAY = date(2016, 10, 16)
COMEDY_90S = q.Filters(year_from=1990, year_to=1999, genres=("Comedy",))
MANY = q.Filters(
    year_from=1980,
    year_to=2010,
    genres=("Drama", "Thriller"),
    min_rating=3.0,
    rating_categories=("Good", "Excellent"),
    runtime_categories=("Standard", "Long"),
    eras=("Modern", "Digital"),
)


@pytest.fixture(scope="module", autouse=True)
def reads_snapshot(published):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MOVIE_SNAPSHOT_DIR", str(published.directory))
        yield
    # DuckDB refuses other in-process connections to the file with other settings.
    data.close()


@pytest.fixture(scope="module")
def live(full_warehouse):
    """Frames from the live warehouse as of the snapshot day, read once."""

    def read(sql):
        return full_warehouse.query(sql, [DAY])

    movies = read("SELECT * FROM movie_features WHERE as_of = ?")
    ratings = read("SELECT * FROM ratings WHERE as_of = ?")
    return {"movies": movies, "ratings": ratings}


def select(movies: pd.DataFrame, f: q.Filters) -> pd.DataFrame:
    """The filter semantics, restated in pandas."""
    keep = pd.Series(True, index=movies.index)
    if f.year_from is not None:
        keep &= movies["year"] >= f.year_from
    if f.year_to is not None:
        keep &= movies["year"] <= f.year_to
    if f.genres:
        keep &= movies["genres"].str.split("|").map(lambda gs: bool(set(gs) & set(f.genres)))
    if f.min_rating:
        keep &= movies["rating_mean"] >= f.min_rating
    for col, values in [
        ("rating_category", f.rating_categories),
        ("runtime_category", f.runtime_categories),
        ("era", f.eras),
    ]:
        if values:
            keep &= movies[col].isin(values)
    return movies[keep.fillna(False).astype(bool)]


def rated(live, f: q.Filters) -> pd.DataFrame:
    return live["ratings"][live["ratings"]["movie_id"].isin(select(live["movies"], f)["movie_id"])]


@pytest.mark.parametrize("f", [q.NO_FILTERS, COMEDY_90S, MANY], ids=["none", "comedy90s", "many"])
def test_kpis(live, f):
    got = q.kpis(f)
    movies, ratings = select(live["movies"], f), rated(live, f)
    genres = movies["genres"].str.split("|").explode()
    genres = genres[genres != ""]
    if f.genres:
        genres = genres[genres.isin(f.genres)]
    assert got["movies"] == len(movies)
    assert got["ratings"] == len(ratings)
    assert got["users"] == ratings["user_id"].nunique()
    assert got["average_rating"] == pytest.approx(ratings["rating"].mean())
    assert got["genres"] == genres.nunique()
    assert got["last_day"] == ratings["rating_date"].max()


@pytest.mark.parametrize("f", [q.NO_FILTERS, MANY], ids=["none", "many"])
def test_rating_distribution_and_years(live, f):
    ratings = rated(live, f)
    expected = ratings.groupby("rating").size()
    got = q.rating_distribution(f).set_index("rating")["ratings"]
    assert got.to_dict() == expected.to_dict()
    per_year = ratings.groupby(ratings["rating_date"].dt.year)["rating"].agg(["size", "mean"])
    got = q.ratings_per_year(f).set_index("year")
    assert got["ratings"].to_dict() == per_year["size"].to_dict()
    np.testing.assert_allclose(got["average_rating"], per_year["mean"])


@pytest.mark.parametrize("grain,rule", [("week", "W-SUN"), ("month", "MS"), ("year", "YS")])
def test_ratings_over_time(live, grain, rule):
    ratings = rated(live, COMEDY_90S).set_index("rating_date")["rating"]
    expected = ratings.resample(rule, label="left", closed="left").size()
    if grain == "week":  # ISO weeks start on Monday
        expected = ratings.groupby(ratings.index.to_period("W-SUN").start_time).size()
    expected = expected[expected > 0]
    got = q.ratings_over_time(COMEDY_90S, grain)
    assert got["ratings"].sum() == len(ratings)
    assert dict(zip(pd.to_datetime(got["period"]), got["ratings"], strict=True)) == {
        pd.Timestamp(k): v for k, v in expected.items()
    }


def test_genre_summary(live):
    movies = select(live["movies"], MANY)
    pairs = movies.assign(genre=movies["genres"].str.split("|")).explode("genre")
    pairs = pairs[pairs["genre"].isin(MANY.genres)]
    per_movie = pairs.groupby("genre").agg(
        movies=("movie_id", "size"), weighted=("weighted_score", "mean")
    )
    joined = pairs[["movie_id", "genre"]].merge(live["ratings"], on="movie_id")
    per_rating = joined.groupby("genre")["rating"].agg(["size", "mean"])
    got = q.genre_summary(MANY).set_index("genre")
    assert set(got.index) == set(MANY.genres)
    assert got["movies"].to_dict() == per_movie["movies"].to_dict()
    assert got["ratings"].to_dict() == per_rating["size"].to_dict()
    np.testing.assert_allclose(got.loc[per_rating.index, "average_rating"], per_rating["mean"])
    np.testing.assert_allclose(got.loc[per_movie.index, "weighted_score"], per_movie["weighted"])


def test_genre_breakdown(live):
    movies = select(live["movies"], q.NO_FILTERS)
    pairs = movies.assign(genre=movies["genres"].str.split("|")).explode("genre")
    pairs = pairs[pairs["genre"] != ""]
    expected = pairs.groupby(["genre", "runtime_category"]).size()
    got = q.genre_breakdown(q.NO_FILTERS, "runtime_category").set_index(["genre", "category"])
    assert got["movies"].to_dict() == expected.to_dict()


@pytest.mark.parametrize("kind", ["weighted", "highest", "most"])
def test_top_movies(live, kind):
    movies = select(live["movies"], COMEDY_90S)
    movies = movies[movies["rating_count"] > 0]
    if kind == "highest":
        movies = movies[movies["rating_count"] >= 30]
    key = {
        "weighted": ["weighted_score", "rating_count"],
        "highest": ["rating_mean", "rating_count"],
        "most": ["rating_count", "weighted_score"],
    }[kind]
    expected = movies.sort_values([*key, "movie_id"], ascending=[False, False, True]).head(20)
    got = q.top_movies(COMEDY_90S, kind, min_votes=30)
    assert got["movie_id"].tolist() == expected["movie_id"].tolist()


def usable(movies: pd.DataFrame) -> pd.Series:
    """The box-office rules, restated: a gross of $1,000 to $3 billion, released 1980 or later
    (earlier lifetime grosses span re-releases) and after CPI starts (1913)."""
    release = pd.to_datetime(movies["release_date"])
    gross = movies["box_office_nominal"].astype(float)
    return gross.between(1_000, 3e9) & (release.dt.year >= 1980)


def test_box_office_flags_follow_the_rules(live):
    movies = live["movies"].dropna(subset=["box_office_nominal", "release_date"])
    flagged = movies["box_office_flag"].notna().to_numpy()
    assert (flagged == ~usable(movies).to_numpy()).all()
    by_title = movies.set_index("title")["box_office_flag"]
    assert by_title.get("Bambi") == "re-releases"  # $267 million lifetime, first shown 1942
    counts = q.box_office_flags(q.NO_FILTERS)
    assert counts["movies"].sum() == movies["box_office_real"].notna().sum()
    assert (
        counts.loc[counts["flag"].isna(), "movies"].sum()
        == (movies["box_office_real"].notna() & ~flagged).sum()
    )


def test_box_office_in_the_pipelines_base_month_is_the_pipelines(live):
    """The app reads movie_features' constant dollars; flagged grosses only on request."""
    base = q.default_base_month()
    movies = live["movies"].set_index("movie_id")
    every = movies["box_office_real"].dropna()
    got = q.box_office_movies(q.NO_FILTERS, base, flagged=True).set_index("movie_id")
    assert set(got.index) == set(every.index)
    np.testing.assert_allclose(got.loc[every.index, "real_usd"], every, rtol=1e-9)
    default = q.box_office_movies(q.NO_FILTERS, base).set_index("movie_id")
    assert set(default.index) == set(movies.index[movies["box_office_flag"].isna()]) & set(
        every.index
    )


def test_box_office_in_another_base_month(full_warehouse, live):
    cpi = full_warehouse.query(
        "SELECT month, value FROM cpi_monthly WHERE as_of = ? AND series_id = 'CUUR0000SA0'", [DAY]
    ).set_index("month")["value"]
    base = date(1990, 1, 1)
    got = q.box_office_movies(COMEDY_90S, base).set_index("movie_id")
    movies = select(live["movies"], COMEDY_90S).dropna(subset=["box_office_nominal"])
    movies = movies[usable(movies)]
    month = movies["release_date"].dt.to_period("M").dt.to_timestamp()
    real = movies["box_office_nominal"] * cpi[pd.Timestamp(base)] / month.map(cpi).to_numpy()
    expected = pd.Series(real.to_numpy(), index=movies["movie_id"]).dropna()
    assert set(got.index) == set(expected.index)
    np.testing.assert_allclose(got.loc[expected.index, "real_usd"], expected, rtol=1e-9)

    by_month = q.box_office_by_period(COMEDY_90S, base, "month").set_index("period")
    frame = pd.DataFrame({"real": expected, "m": movies.set_index("movie_id")["release_month"]})
    medians = frame.dropna().groupby("m")["real"].median()
    np.testing.assert_allclose(by_month.loc[medians.index, "median_real"], medians)
    assert by_month["movies"].sum() == len(expected)


def test_the_base_month_list_is_short_and_a_search_reaches_every_month(full_warehouse):
    """Each January and the newest twelve months are listed; typing finds any other month."""
    import dash_app.app  # noqa: F401 (pages register with the app; then they can be imported)
    from dash_app.pages import box_office

    months = full_warehouse.query(
        "SELECT month FROM cpi_monthly WHERE as_of = ? AND series_id = 'CUUR0000SA0'", [DAY]
    )["month"].sort_values(ascending=False)
    listed = set(months.head(12)) | set(months[months.dt.month == 1])

    def values(options):
        return [pd.Timestamp(o["value"]) for o in options]

    default = box_office.base_options(None)
    assert values(default) == sorted(listed, reverse=True)
    assert [o["label"] for o in default[:1]] == [f"{months.iloc[0]:%B %Y}"]
    assert len(default) < len(months) / 5
    march = box_office.update_base_options("March 1987", None)
    assert set(values(march)) == listed | {pd.Timestamp("1987-03-01")}
    assert {"label": "March 1987", "value": "1987-03-01"} in march
    septembers = box_office.update_base_options("sept", None)
    assert set(values(septembers)) == listed | set(months[months.dt.month == 9])
    # "1" is in every month's value: the newest 240 are added, not all of them.
    assert set(values(box_office.update_base_options("1", None))) == listed | set(
        months.head(box_office.MAX_FOUND)
    )
    # The chosen month stays an option whatever is typed (Back sets months not listed).
    chosen = box_office.update_base_options(None, "1931-06-01")
    assert set(values(chosen)) == listed | {pd.Timestamp("1931-06-01")}
    with pytest.raises(inputs.BadInput):
        box_office.update_base_options(None, "1931-06-15")
    with pytest.raises(inputs.BadInput):
        box_office.update_base_options("x" * 1000, None)


def test_budgets_are_absent_in_the_embedded_source(full_warehouse):
    coverage = q.budget_coverage(q.NO_FILTERS)
    linked = full_warehouse.query("SELECT count(*) AS n FROM film_links WHERE as_of = ?", [DAY])[
        "n"
    ].iloc[0]
    assert coverage == {"linked": linked, "with_budget": 0}
    assert q.return_on_investment(q.NO_FILTERS).empty


@pytest.mark.parametrize("f", [q.NO_FILTERS, MANY], ids=["none", "many"])
def test_genre_ratings_per_year_and_month(live, f):
    """Unfiltered from the pipeline's genre_daily, filtered from the rollups: both as pandas."""
    movies = select(live["movies"], f)
    pairs = movies.assign(genre=movies["genres"].str.split("|")).explode("genre")
    pairs = pairs[pairs["genre"] != ""]
    if f.genres:
        pairs = pairs[pairs["genre"].isin(f.genres)]
    joined = pairs[["movie_id", "genre"]].merge(live["ratings"], on="movie_id")
    per_year = joined.groupby([joined["rating_date"].dt.year.rename("year"), "genre"]).size()
    share = per_year / per_year.groupby(level="year").transform("sum")
    got = q.genre_ratings_per_year(f).set_index(["year", "genre"])
    assert got["ratings"].to_dict() == per_year.to_dict()
    np.testing.assert_allclose(got["share"], share.loc[got.index])
    window = (date(2000, 1, 1), date(2005, 1, 1))
    inside = joined[
        (joined["rating_date"] >= pd.Timestamp(window[0]))
        & (joined["rating_date"] < pd.Timestamp(window[1]))
    ]
    month = inside["rating_date"].dt.to_period("M").dt.start_time.rename("month")
    per_month = inside.groupby([month, "genre"]).size()
    got = q.genre_ratings_per_month(f, window)
    assert {
        (pd.Timestamp(m), g): n for m, g, n in got[["month", "genre", "ratings"]].itertuples(False)
    } == per_month.to_dict()


def test_weekday_hour_matches_the_pipelines_viewing_hourly(full_warehouse):
    expected = full_warehouse.query(
        "SELECT weekday, hour, rating_count FROM viewing_hourly WHERE as_of = ?", [DAY]
    ).set_index(["weekday", "hour"])["rating_count"]
    got = q.weekday_hour(q.NO_FILTERS).set_index(["weekday", "hour"])["ratings"]
    assert len(got) == 168
    assert got.to_dict() == expected.to_dict()


def test_trending_matches_the_pipelines_trending(full_warehouse):
    day = date(2016, 6, 30)
    expected = full_warehouse.query(
        "SELECT movie_id, ratings_7d FROM trending WHERE as_of = ? AND window_end = ?", [DAY, day]
    )
    got = q.trending(q.NO_FILTERS, day)
    assert got["ratings_7d"].tolist() == sorted(expected["ratings_7d"], reverse=True)
    tenth = got["ratings_7d"].iloc[-1]
    above = set(got.loc[got["ratings_7d"] > tenth, "movie_id"])
    assert above == set(expected.loc[expected["ratings_7d"] > tenth, "movie_id"])


def test_recommendations_and_similar_movies(full_warehouse):
    user = int(q.recommended_users()["user_id"].iloc[3])
    expected = full_warehouse.query(
        "SELECT movie_id FROM recommendations WHERE as_of = ? AND user_id = ? ORDER BY rank",
        [DAY, user],
    )
    recs = q.user_recommendations(user)
    assert recs["movie_id"].tolist() == expected["movie_id"].tolist()
    top = q.user_top_rated(user)
    assert top["rating"].is_monotonic_decreasing

    items = full_warehouse.query(
        "SELECT raw_id, factors FROM recommender WHERE as_of = ? AND entity = 'item'", [DAY]
    )
    counts = full_warehouse.query(
        "SELECT movie_id, rating_count FROM movie_features WHERE as_of = ?", [DAY]
    ).set_index("movie_id")["rating_count"]
    matrix = np.vstack(items["factors"].to_numpy())
    unit = pd.DataFrame(
        matrix / np.linalg.norm(matrix, axis=1, keepdims=True), index=items["raw_id"]
    )

    # Each recommendation's reason: the movie the user rated 4+ whose factors are nearest.
    liked = full_warehouse.query(
        "SELECT movie_id FROM ratings WHERE as_of = ? AND user_id = ? AND rating >= 4", [DAY, user]
    )["movie_id"]
    liked = liked[liked.isin(unit.index)]
    titles = full_warehouse.query(
        "SELECT movie_id, title FROM movie_features WHERE as_of = ?", [DAY]
    ).set_index("movie_id")["title"]
    for row in recs.itertuples():
        cosines = unit.loc[liked] @ unit.loc[row.movie_id]
        assert row.because_title == titles[cosines.idxmax()]
        assert row.similarity == pytest.approx(round(cosines.max(), 3), abs=1e-3)

    cosine = (unit @ unit.loc[1]).drop(1)
    cosine = cosine[counts.reindex(cosine.index).fillna(0).to_numpy() >= MIN_SIMILAR_RATINGS]
    expected = cosine.sort_values(ascending=False).head(10)
    got = q.similar_movies(1)
    assert got["movie_id"].tolist() == expected.index.tolist()
    np.testing.assert_allclose(got["similarity"], expected.round(4), atol=1e-4)


def test_user_text_is_only_a_parameter():
    hostile = "x' OR 1=1; DROP TABLE ratings; --"
    assert q.movie_search(hostile).empty
    assert q.kpis(q.Filters(genres=(hostile,)))["movies"] == 0
    assert q.kpis(q.NO_FILTERS)["ratings"] > 0
    assert len(q.movie_search("Toy Story")) >= 1


def test_data_quality_tables(full_warehouse):
    checks = q.check_results()
    evaluated = set(full_warehouse.report.passed_checks) | set(full_warehouse.report.failed_checks)
    names = {f"{a}:{c}" for a, c in zip(checks["asset"], checks["check_name"], strict=True)}
    assert names == evaluated - {"dashboard_snapshot:matches_warehouse"}
    failed = {
        f"{a}:{c}"
        for a, c, s in checks[["asset", "check_name", "status"]].itertuples(index=False)
        if s == "failed"
    }
    assert failed == set(full_warehouse.report.failed_checks)

    recon = q.reconciliation().set_index("asset")
    rejects = full_warehouse.query(
        "SELECT asset, count(*) AS n FROM rejects WHERE partition_date = ? GROUP BY asset", [DAY]
    ).set_index("asset")["n"]
    for asset, row in recon.iterrows():
        assert row["raw_rows"] == row["clean_rows"] + row["rejected_rows"]
        assert row["rejects_in_table"] == rejects.get(asset, 0)
    assert q.rejects_by_reason()["rows"].sum() == rejects.sum()

    methods = q.film_link_methods().set_index("method")
    by_method = full_warehouse.query(
        "SELECT method, count(*) AS n FROM film_links WHERE as_of = ? GROUP BY method", [DAY]
    ).set_index("method")["n"]
    movies = full_warehouse.query("SELECT count(*) AS n FROM movies WHERE as_of = ?", [DAY])["n"][0]
    # The embedded source has no links.csv: every link is a title-and-year match.
    assert set(by_method.index) == {"title_year"}
    assert methods.loc["title_year", "movies"] == by_method["title_year"]
    assert methods.loc["not linked", "movies"] == movies - by_method.sum()
    assert methods["share"].sum() == pytest.approx(1.0)


def test_filters_round_trip_through_the_url():
    search = flt.to_search(flt.to_pairs(MANY))
    parsed = {}
    for pair in search.lstrip("?").split("&"):
        key, value = pair.split("=")
        parsed.setdefault(key, []).append(value.replace("+", " "))
    query = {k: v[0] if len(v) == 1 else v for k, v in parsed.items()}
    assert flt.from_query(query) == MANY
    assert flt.to_search(flt.to_pairs(q.NO_FILTERS)) == ""
    assert flt.from_query({"era": "Bogus", "year_from": "x"}) == q.NO_FILTERS


def test_a_grids_sort_and_filters_round_trip_through_the_url():
    grid = GridState("g", (c.title(), c.number("year", "Year"), c.column("genres", "Genres")))
    model = {  # as AG Grid reports its filters
        "title": {"filterType": "text", "type": "contains", "filter": "star: a"},
        "year": {"filterType": "number", "type": "inRange", "filter": 1990, "filterTo": 1999.5},
        "genres": {"filterType": "text", "type": "blank"},
    }
    texts = grid.filters(model)
    assert texts == ["genres:blank", "title:contains:star: a", "year:inRange:1990:1999.5"]
    search = flt.to_search([("filter", t) for t in texts])
    assert (
        search
        == "?filter=genres:blank&filter=title:contains:star:+a&filter=year:inRange:1990:1999.5"
    )
    assert grid.filter_model(grid.filters(parse_qs(search[1:])["filter"]), None) == model
    assert grid.filter_model(texts, model) is no_update  # the grid has it already

    state = [
        {"colId": "title", "sort": "asc", "sortIndex": 1, "width": 200},
        {"colId": "year", "sort": "desc", "sortIndex": 0},
        {"colId": "genres", "sort": None, "sortIndex": None},
    ]
    assert grid.sort(state) == "year:desc,title:asc"
    unsorted = [{**s, "sort": None, "sortIndex": None} for s in state]
    assert grid.sort(unsorted) == ""
    assert grid.column_state("year:desc,title:asc", unsorted) == [
        {"colId": "title", "sort": "asc", "sortIndex": 1},
        {"colId": "year", "sort": "desc", "sortIndex": 0},
        {"colId": "genres", "sort": None, "sortIndex": None},
    ]
    assert grid.column_state("", state) == [
        {"colId": s["colId"], "sort": None, "sortIndex": None} for s in state
    ]


@pytest.mark.parametrize(
    "data,message",
    [
        ({"genres": ["Drama"] * (q.MAX_ITEMS + 1)}, "at most 64 items"),
        ({"genres": "Drama"}, "valid tuple"),
        ({"genres": [{"a": 1}]}, "valid string"),
        ({"year_from": "nineteen"}, "valid integer"),
        ({"min_rating": 6}, "less than or equal to 5"),
        ({"eras": ["Bogus"]}, "Input should be"),
        ({"sql": "1"}, "Extra inputs"),
    ],
)
def test_the_filter_model_refuses_wrong_types_and_long_lists(data, message):
    with pytest.raises(inputs.BadInput, match=message):
        flt.parse(data)


def test_the_filter_model_accepts_what_the_bar_sends():
    got = flt.parse(MANY.model_dump(mode="json"))
    assert got == MANY and hash(got) == hash(MANY)  # a cache key
    with pytest.raises(inputs.BadInput, match="expected a list"):
        flt.from_values([1990, 1999], "Drama", None, None, None, None)
    with pytest.raises(inputs.BadInput, match="from"):
        flt.from_values("1990", None, None, None, None, None)


def test_a_new_snapshot_invalidates_the_cache(published, tmp_path, monkeypatch):
    directory = tmp_path / "snapshots"
    directory.mkdir()
    first = directory / "dashboard_20161016_20000101T000000000000Z.duckdb"
    shutil.copy(published.path, first)
    snapshot.publish(directory, first, DAY)
    monkeypatch.setenv("MOVIE_SNAPSHOT_DIR", str(directory))
    before = q.kpis(q.NO_FILTERS)["ratings"]
    assert q.kpis(q.NO_FILTERS)["ratings"] == before  # served from the cache

    second = directory / "dashboard_20161016_20000101T000001000000Z.duckdb"
    shutil.copy(first, second)
    with duckdb.connect(str(second)) as con:
        removed = con.execute("DELETE FROM ratings WHERE movie_id = 1").fetchone()[0]
        for name, sql in RATING_ROLLUPS.items():  # as the publish step writes them
            con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}", [DAY])
    assert removed > 0
    assert snapshot.publish(directory, second, DAY)
    assert data.version() == second.name
    assert q.kpis(q.NO_FILTERS)["ratings"] == before - removed


def test_popularity_points_stand_for_every_rated_movie(live):
    f = q.Filters(year_from=1990, year_to=2005, genres=("Drama",))
    points = q.popularity_vs_rating(f)
    rated = select(live["movies"], f)
    rated = rated[rated["rating_count"] > 0]
    half_up = lambda x: np.floor(x + 0.5)  # noqa: E731  (DuckDB's round())
    cells = rated.groupby(
        [half_up(np.log(rated["rating_count"]) * 20), half_up(rated["rating_mean"] * 20)]
    )
    expected = cells.agg(n=("title", "size"), count=("rating_count", "mean"))
    assert points["movies"].sum() == len(rated)
    assert len(points) == len(expected)
    assert sorted(points["movies"]) == sorted(expected["n"])
    np.testing.assert_allclose(sorted(points["rating_count"]), sorted(expected["count"]))
    most = points.loc[points["movies"].idxmax()]
    biggest = expected["n"].idxmax()
    titles = cells.get_group(biggest)["title"].sort_values()
    assert most["titles"].split("<br>") == titles.head(3).tolist()


def republished(published, tmp_path, monkeypatch, change) -> Path:
    """A copy of the snapshot, changed by ``change(connection)``, published as the newest."""
    directory = tmp_path / "snapshots"
    directory.mkdir()
    path = directory / "dashboard_20161016_20000101T000000000000Z.duckdb"
    shutil.copy(published.path, path)
    with duckdb.connect(str(path)) as con:
        change(con)
    snapshot.publish(directory, path, DAY)
    monkeypatch.setenv("MOVIE_SNAPSHOT_DIR", str(directory))
    return path


def test_no_evaluation_yet_is_said_not_drawn(published, tmp_path, monkeypatch):
    """A daily run on a new warehouse publishes the weekly tables empty."""
    import dash_app.app  # noqa: F401 (pages register with the app; then they can be imported)
    from dash_app.pages import recommendations

    path = republished(
        published, tmp_path, monkeypatch, lambda con: con.execute("DELETE FROM model_metrics")
    )
    figure, rows = recommendations.update_metrics("rmse", "per_user_chronological", path.name)
    assert rows == []
    assert "weekly model_evaluation job has not run" in figure["layout"]["annotations"][0]["text"]


def test_the_release_month_answer_follows_a_rank_test():
    import dash_app.app  # noqa: F401 (pages register with the app; then they can be imported)
    from dash_app.pages import box_office

    def months(frame):
        per = frame.groupby("release_month")["real_usd"].agg(["median", "size"]).reset_index()
        return per.set_axis(["period", "median_real", "movies"], axis=1)

    rng = np.random.default_rng(0)
    apart = pd.DataFrame(
        {
            "release_month": [6] * 40 + [1] * 40,
            "real_usd": np.r_[rng.normal(9e7, 1e7, 40), rng.normal(2e7, 1e7, 40)],
        }
    )
    answer = box_office.month_answer(apart, months(apart))
    assert answer.startswith("Films released in June have the highest median gross")
    assert "(Kruskal–Wallis p < 0.001)" in answer and "over 80 films" in answer
    alike = apart.assign(real_usd=rng.normal(5e7, 1e7, 80))
    assert "within what chance explains" in box_office.month_answer(alike, months(alike))


def test_a_period_without_ratings_is_a_gap_and_the_rolling_mean_weighs_ratings():
    import dash_app.app  # noqa: F401 (pages register with the app; then they can be imported)
    from dash_app.pages import trends

    rated_days = pd.DataFrame(
        {
            "period": ["2020-01-01", "2020-01-02", "2020-01-05"],
            "ratings": [2, 1, 3],
            "average_rating": [4.0, 2.0, 3.0],
        }
    )
    days = trends.every_period(rated_days, "day")
    assert days["period"].tolist() == [f"2020-01-0{d}" for d in range(1, 6)]
    assert days["ratings"].tolist() == [2, 1, 0, 0, 3]
    # No mean where nothing was rated: Plotly (connectgaps=False) breaks the line there.
    assert days["average_rating"].isna().tolist() == [False, False, True, True, False]
    # Three-day trailing windows: (2×4)/2, (8+2)/3, (8+2)/3, 2/1, (3×3)/3 stars.
    np.testing.assert_allclose(trends.rolling_mean(days, 3), [4, 10 / 3, 10 / 3, 2, 3])
    weeks = trends.every_period(
        pd.DataFrame({"period": ["2020-01-06", "2020-01-27"], "ratings": [5, 1]}), "week"
    )
    assert weeks["period"].tolist() == ["2020-01-06", "2020-01-13", "2020-01-20", "2020-01-27"]
    assert weeks["ratings"].tolist() == [5, 0, 0, 1]


def test_return_on_investment_where_a_source_has_budgets(published, tmp_path, monkeypatch):
    """The embedded source has no budgets (TMDB and Kaggle do): give three films one."""
    import dash_app.app  # noqa: F401 (pages register with the app; then they can be imported)
    from dash_app.pages import box_office

    films = published.query(
        """SELECT f.film_id, any_value(f.box_office_usd) AS gross
        FROM films f JOIN movie_features m ON m.film_id = f.film_id
        WHERE f.box_office_usd IS NOT NULL GROUP BY 1 HAVING count(*) = 1 ORDER BY 1 LIMIT 3"""
    )
    films = list(zip(films["film_id"].astype(int), films["gross"], strict=True))
    budgets = {film_id: 1e6 * (i + 1) for i, (film_id, _) in enumerate(films)}
    linked = int(
        published.query(
            "SELECT count(*) AS n FROM movie_features m JOIN films f ON f.film_id = m.film_id"
        )["n"][0]
    )

    def give_budgets(con):
        for film_id, budget in budgets.items():
            con.execute("UPDATE films SET budget_usd = ? WHERE film_id = ?", [budget, film_id])

    path = republished(published, tmp_path, monkeypatch, give_budgets)

    assert q.budget_coverage(q.NO_FILTERS) == {"linked": linked, "with_budget": 3}
    expected = sorted((gross / budgets[film_id] for film_id, gross in films), reverse=True)
    np.testing.assert_allclose(q.return_on_investment(q.NO_FILTERS)["roi"], expected)
    note, section = box_office.update_budget(None, {}, path.name)
    assert note.startswith(f"Budgets known for 3 of {linked:,} linked films")
    rows = section.children[1].children[1].children.rowData
    np.testing.assert_allclose([r["roi"] for r in rows], expected)


def test_graph_communities_and_their_movies(published):
    communities = published.query("SELECT * FROM movie_communities")
    centrality = published.query("SELECT * FROM movie_centrality")
    assert len(communities) >= 2, "the embedded data's co-rating graph has communities"
    got = q.graph_communities()
    # Each community's size is the number of its movies in the centrality table.
    sizes = centrality["community_id"].value_counts()
    assert dict(zip(got["community_id"], got["size"], strict=True)) == sizes.to_dict()
    assert got["size"].is_monotonic_decreasing
    assert got["top_genres"].tolist() == [
        communities.set_index("community_id").loc[i, "top_genres"].replace("|", ", ")
        for i in got["community_id"]
    ]
    for community in got["community_id"]:
        members = centrality[centrality["community_id"] == community]
        expected = members.sort_values(["pagerank", "movie_id"], ascending=[False, True])
        movies = q.community_movies(int(community))
        assert movies["movie_id"].tolist() == expected["movie_id"].tolist()
        assert movies["rank"].tolist() == list(range(1, len(members) + 1))
        assert np.allclose(movies["pagerank"], expected["pagerank"])
    assert q.community_movies(int(got["community_id"].max()) + 1).empty
