"""The engine layer: Ibis expressions run by DuckDB, each checked against plain pandas.

The expected values are computed here with pandas over the same small input, never
with the expressions under test; the schema check in the engine must agree with
Pandera's own verdict on corrupted copies.
"""

from datetime import date

import duckdb
import ibis
import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from movie_assets import engine
from movie_assets.features import transforms as f
from movie_assets.schemas import TABLES, conform, ddl

AS_OF = date(2020, 3, 31)


@pytest.fixture(scope="module")
def ratings() -> pd.DataFrame:
    """3,000 clean ratings over 40 days, skewed towards a few movies and users."""
    rng = np.random.default_rng(7)
    n = 3000
    rated_at = pd.Timestamp("2020-02-20") + pd.to_timedelta(rng.integers(0, 40 * 86400, n), "s")
    frame = pd.DataFrame(
        {
            "as_of": pd.Timestamp(AS_OF),
            "user_id": rng.zipf(1.6, n) % 200,
            "movie_id": rng.zipf(1.4, n) % 300,
            "rating": rng.integers(1, 11, n) / 2,
            "rated_at": rated_at,
            "rating_date": rated_at.normalize(),
        }
    )
    return frame.drop_duplicates(["user_id", "movie_id"], ignore_index=True)


@pytest.fixture(scope="module")
def db(ratings):
    ratings_frame = ratings  # noqa: F841 (read by DuckDB by name)
    con = duckdb.connect()
    con.execute(ddl(TABLES["ratings"]))
    con.execute("INSERT INTO ratings BY NAME SELECT * FROM ratings_frame")
    yield engine.connect(con)
    con.close()


def test_user_features_match_pandas(db, ratings):
    got = f.user_features(db.table("ratings"), AS_OF).to_pandas().set_index("user_id").sort_index()
    grouped = ratings.groupby("user_id")
    assert got["rating_count"].tolist() == grouped.size().tolist()
    assert np.allclose(got["rating_mean"], grouped["rating"].mean())
    assert np.allclose(got["user_bias"], grouped["rating"].mean() - ratings["rating"].mean())
    assert got["active_days"].tolist() == grouped["rating_date"].nunique().tolist()
    assert (got["first_rated_at"] == grouped["rated_at"].min()).all()
    heavy = grouped.size() > 199
    assert (got.loc[heavy, "activity_level"] == "Heavy").all()
    assert (got.loc[grouped.size() <= 49, "activity_level"] == "Light").all()


def test_genre_daily_counts_a_movie_once_per_genre(db, ratings):
    movie_genres = pd.DataFrame({"movie_id": [0, 0, 1, 2], "genre_id": [1, 2, 1, 2]})
    genres = pd.DataFrame({"genre_id": [1, 2], "genre": ["Drama", "Comedy"]})
    got = f.genre_daily(
        db.table("ratings"), ibis.memtable(movie_genres), ibis.memtable(genres), AS_OF
    ).to_pandas()
    for genre, movies in {"Drama": [0, 1], "Comedy": [0, 2]}.items():
        mine = ratings[ratings["movie_id"].isin(movies)]
        expected = mine.groupby("rating_date")["rating"].agg(["size", "mean"])
        part = got[got["genre"] == genre].set_index("rating_date").sort_index()
        part.index = pd.to_datetime(part.index)
        assert part["rating_count"].tolist() == expected["size"].tolist()
        assert np.allclose(part["rating_mean"], expected["mean"])


def test_viewing_hourly_has_every_cell(db, ratings):
    got = f.viewing_hourly(db.table("ratings"), AS_OF).to_pandas()
    assert len(got) == 168
    stamp = ratings["rated_at"]
    expected = pd.crosstab(stamp.dt.weekday, stamp.dt.hour).reindex(
        index=range(7), columns=range(24), fill_value=0
    )
    table = got.pivot(index="weekday", columns="hour", values="rating_count")
    assert (table.to_numpy() == expected.to_numpy()).all()
    assert got.loc[got["weekday"] == 0, "weekday_name"].unique().tolist() == ["Monday"]


def test_trending_matches_a_day_by_day_count(db, ratings):
    titles = pd.DataFrame({"movie_id": range(300), "title": [f"m{i}" for i in range(300)]})
    got = f.trending(db.table("ratings"), ibis.memtable(titles), AS_OF).to_pandas()
    got["window_end"] = pd.to_datetime(got["window_end"])
    for end in pd.to_datetime(["2020-02-25", "2020-03-10", "2020-03-31"]):
        start = end - pd.Timedelta(days=6)
        window = ratings[ratings["rating_date"].between(start, end)]
        counts = window.groupby("movie_id").size().reset_index(name="n")
        counts = counts.sort_values(["n", "movie_id"], ascending=[False, True]).head(10)
        mine = got[got["window_end"] == end].sort_values("rank")
        assert mine[["movie_id", "ratings_7d"]].values.tolist() == counts.values.tolist()
        assert mine["rank"].tolist() == list(range(1, len(counts) + 1))


def test_fact_date_key(db, ratings):
    got = f.fact_ratings(db.table("ratings")).to_pandas()
    day = pd.to_datetime(got["rating_date"])
    assert (got["date_key"] == day.dt.year * 10000 + day.dt.month * 100 + day.dt.day).all()


@pytest.mark.parametrize(
    "corrupt, rule",
    [
        ("UPDATE t SET rating = 6.0 WHERE rowid = 3", "rating: less_than_or_equal_to"),
        ("UPDATE t SET rating = 3.3 WHERE rowid = 3", "rating: half_star_steps"),
        ("INSERT INTO t SELECT * FROM t WHERE rowid = 5", "unique: as_of, user_id, movie_id"),
        ("UPDATE t SET user_id = NULL WHERE rowid = 7", "user_id: not_nullable"),
    ],
)
def test_engine_schema_check_agrees_with_pandera(ratings, corrupt, rule):
    con = duckdb.connect()
    con.execute(ddl(TABLES["ratings"]).replace("ratings", "t", 1))
    con.execute("INSERT INTO t BY NAME SELECT * FROM ratings")
    table = engine.connect(con).table("t")
    assert engine.failing_counts(table, "ratings", 10)[0] == 0
    con.execute(corrupt)
    failures, by_rule, sample = engine.failing_counts(table, "ratings", 10)
    rows = 2 if rule.startswith("unique") else 1  # both copies of a key fail, as in Pandera
    assert by_rule == {rule: rows} and failures == rows
    assert len(sample) >= 1 or rule.startswith("unique")
    frame = conform(TABLES["ratings"], con.execute("SELECT * FROM t").df())
    with pytest.raises(pa.errors.SchemaErrors) as pandera_says:
        TABLES["ratings"].model.validate(frame, lazy=True)
    assert pandera_says.value.failure_cases["index"].nunique() == rows  # rows, not cells
