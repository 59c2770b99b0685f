"""Asset bodies as plain functions of small tables (table_asset.body_of), no Dagster run.

Each expected value is worked out here, by hand or in plain pandas, from the same input.
"""

from datetime import date

import ibis
import pandas as pd
import pytest

from movie_assets.clean import assets as clean
from movie_assets.features import assets as features
from movie_assets.raw import assets as raw
from movie_assets.sources.registry import SourceResource
from movie_assets.table_asset import History, Rows, body_of, table_asset
from tests import fixtures_sources as fx

DAY = date(2016, 10, 16)


def _movies() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "as_of": pd.Timestamp(DAY),
            "movie_id": [1, 2, 3],
            "title": ["Heat", "Up", "Fargo"],
            "year": [1995, 2009, 1996],
            "genres": ["Crime|Drama", "Animation", "Crime|Drama|Thriller"],
        }
    )


def test_a_body_is_a_function_of_its_inputs_and_the_decorator_reads_its_signature():
    spec = next(iter(clean.ratings.specs))
    assert [d.asset_key.path[-1] for d in spec.deps] == ["raw_ratings", "movies"]
    assert spec.description.startswith("Every rating made up to the as-of day")
    assert {c.name for c in clean.cpi_monthly.check_specs} >= {"reconciles", "contiguous_months"}
    assert "reconciles" not in {c.name for c in clean.genres.check_specs}
    assert set(next(iter(features.movie_features.specs)).kinds) == {"duckdb", "ibis", "pandas"}


def test_an_input_that_is_neither_a_frame_nor_a_table_is_refused():
    with pytest.raises(TypeError, match="an input is a frame, a table or a resource"):

        @table_asset()
        def odd(ratings: list) -> Rows:
            return Rows(pd.DataFrame())


def test_genres_are_numbered_alphabetically_and_paired_with_their_movies():
    movies = _movies()
    genres = body_of(clean.genres)(movies=movies).rows
    names = sorted({g for text in movies["genres"] for g in text.split("|")})
    assert genres["genre"].tolist() == names == ["Animation", "Crime", "Drama", "Thriller"]
    ids = dict(zip(genres["genre"], genres["genre_id"], strict=True))
    pairs = body_of(clean.movie_genres)(movies=movies).rows
    got = {(m, g) for m, g in zip(pairs["movie_id"], pairs["genre_id"], strict=True)}
    want = {
        (m, ids[g])
        for m, text in zip(movies["movie_id"], movies["genres"], strict=True)
        for g in text.split("|")
    }
    assert got == want and len(pairs) == 6


def test_cpi_months_without_a_value_are_rejected_and_checked_for_gaps():
    series = pd.DataFrame(
        {
            "as_of": pd.Timestamp(DAY),
            "series_id": "CUUR0000SA0",
            "year": 2016,
            "period": ["M01", "M02", "M03", "M04"],
            "value": [236.9, 237.1, None, 239.3],
            "source": "test",
            "ingested_at": pd.Timestamp(DAY),
        }
    )
    out = body_of(clean.cpi_monthly)(cpi_series=series, day=DAY)
    assert out.rows["value"].tolist() == [236.9, 237.1, 239.3]
    assert len(out.rejects) == 1
    (gaps,) = out.checks  # March went to the rejects, so the months have a gap
    assert gaps.check_name == "contiguous_months" and not gaps.passed


def test_ratings_keep_the_latest_valid_rating_per_user_and_movie():
    raw = ibis.memtable(
        pd.DataFrame(
            {
                "user_id": [1, 1, 1, 2, 2, 3],
                "movie_id": [1, 1, 1, 2, 9, 3],
                "rating": [3.0, 4.5, 7.0, 2.0, 4.0, 3.3],
                "timestamp": [100, 200, 300, 100, 100, 100],
                "rating_date": pd.Timestamp(DAY),
                "source": "test",
                "ingested_at": pd.Timestamp(DAY),
            }
        )
    )
    body = body_of(clean.ratings)
    out = body(raw_ratings=raw, movies=ibis.memtable(_movies()), day=DAY)
    rows = out.rows.to_pandas().sort_values(["user_id", "movie_id"])
    # user 1: 7.0 is off the scale, so 4.5 (t=200) is the latest valid and 3.0 is superseded;
    # user 2 rated movie 9, not in movies; user 3's 3.3 is not a half star.
    assert list(zip(rows["user_id"], rows["movie_id"], rows["rating"], strict=True)) == [
        (1, 1, 4.5),
        (2, 2, 2.0),
    ]
    assert out.rejects.count().to_pyarrow().as_py() == 4


def test_genre_daily_counts_a_movie_once_per_genre():
    movies = _movies()
    ratings = pd.DataFrame(
        {
            "as_of": pd.Timestamp(DAY),
            "user_id": [1, 2, 3, 1],
            "movie_id": [1, 1, 2, 3],
            "rating": [4.0, 3.0, 5.0, 2.5],
            "rated_at": pd.to_datetime(["2016-10-14 10:00", "2016-10-15 11:00"] * 2),
        }
    ).assign(rating_date=lambda r: r["rated_at"].dt.normalize())
    genres = body_of(clean.genres)(movies=movies).rows
    pairs = body_of(clean.movie_genres)(movies=movies).rows
    out = body_of(features.genre_daily)(
        ratings=ibis.memtable(ratings),
        movie_genres=ibis.memtable(pairs),
        genres=ibis.memtable(genres),
        day=DAY,
    ).rows.to_pandas()
    split = movies.assign(genre=movies["genres"].str.split("|")).explode("genre")
    per_day = ratings.merge(split[["movie_id", "genre"]]).groupby(["rating_date", "genre"]).size()
    got = out.set_index(["rating_date", "genre"])["rating_count"]
    assert got.sort_index().to_dict() == per_day.to_dict()


def test_history_marks_an_input_read_over_every_day():
    spec = next(iter(clean.ratings.specs))
    (history,) = [d for d in spec.deps if d.asset_key.path[-1] == "raw_ratings"]
    assert history.partition_mapping is not None
    assert History.__metadata__  # the marker the decorator reads


def test_a_raw_body_takes_its_source_and_keeps_each_line_once(tmp_path):
    sample = fx.sample()
    bad = ["x7,Not A Number (1999),Drama", "11,Only Two Fields (2001)"]
    archive = fx.movielens_csv_zip(tmp_path / "ml.zip", sample, extra_movies=bad)
    spec = next(iter(raw.raw_movies.specs))
    assert spec.deps == [] and set(spec.kinds) == {"duckdb"}
    assert spec.description.startswith("The MovieLens catalogue")
    source = SourceResource(kind="movielens", movielens=str(archive))
    got = body_of(raw.raw_movies)(source=source, day=DAY)
    assert got.rows["movie_id"].tolist() == [m for m, _, _ in sample.movies]
    assert got.rows["title"].tolist() == [t for _, t, _ in sample.movies]
    assert (got.rows["as_of"] == pd.Timestamp(DAY)).all()
    assert (got.rows["source"] == "movielens").all()
    line = len(sample.movies) + 2  # the first bad line: after the header and the good ones
    assert sorted(got.rejects["reason"]) == [
        f"ml.zip:movies.csv line {line}: movie id not an integer",
        f"ml.zip:movies.csv line {line + 1}: 2 fields, expected 3 (truncated or shifted line?)",
    ]
    assert len(got.rows) + len(got.rejects) == len(sample.movies) + len(bad)
