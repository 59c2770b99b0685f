"""Pure transformations, on small frames whose answers are worked out by hand."""

import json
from datetime import date

import ibis
import pandas as pd
import pytest

from movie_assets import checks
from movie_assets.clean import transforms as t
from movie_assets.clean.titles import display_title, match_key, split_year
from movie_assets.features import transforms as f

DAY = date(2016, 10, 16)


def test_titles():
    assert split_year("Toy Story (1995)") == ("Toy Story", 1995)
    assert split_year("Heat") == ("Heat", None)
    assert display_title("Matrix, The") == "The Matrix"
    assert display_title("Street Fighter, The (Gekitotsu! Satsujin ken)") == (
        "The Street Fighter (Gekitotsu! Satsujin ken)"
    )
    assert match_key("Amélie (Fabuleux destin d'Amélie Poulain, Le)") == "amelie"
    assert match_key("Kick-Ass") == match_key("Kick Ass") == "kick ass"


def test_clean_movies_quarantines_each_bad_row_with_its_reason():
    raw = pd.DataFrame(
        {
            "movie_id": [1, 2, 2, 3, 4],
            "title": ["Toy Story (1995)", "Jumanji", "Jumanji again", None, "Far Future"],
            "year": [None, 1995.0, 1995.0, 2000.0, 2300.0],
            "genres": ["Animation|Children", "(no genres listed)", "Adventure", "Drama", "Drama"],
            "source": "test",
        }
    )
    movies, rejects = t.clean_movies(raw, DAY)
    assert movies["movie_id"].tolist() == [1, 2]
    assert movies["title"].tolist() == ["Toy Story", "Jumanji"]
    assert movies["year"].tolist() == [1995, 1995]
    assert movies["genres"].tolist() == ["Animation|Children", ""]
    assert sorted(rejects["reason"]) == ["duplicate movie_id", "title missing", "year out of range"]
    assert len(movies) + len(rejects) == len(raw)


def test_clean_ratings_reasons_and_dedup():
    ratings, rejects = _clean_ratings(
        {
            "user_id": [1, 1, 1, 2, 2, 3],
            "movie_id": [10, 10, 11, 10, 99, 10],
            "rating": [3.0, 4.5, 3.3, 6.0, 4.0, None],
            "timestamp": [100, 200, 300, 400, 500, 600],
        }
    )
    assert ratings[["user_id", "movie_id", "rating"]].values.tolist() == [[1, 10, 4.5]]
    assert ratings["rated_at"].tolist() == [pd.Timestamp("1970-01-01 00:03:20")]
    assert _reasons(rejects) == {
        100: "superseded by a later rating of the same movie by the same user",
        300: "rating not in 0.5..5 in half stars",
        400: "rating not in 0.5..5 in half stars",
        500: "movie not in movies",
        600: "rating missing",
    }


def test_an_invalid_re_rating_never_discards_the_valid_one():
    """Validate first, then keep the latest valid rating (an out-of-range 9.0 came later)."""
    ratings, rejects = _clean_ratings(
        {"user_id": [4, 4], "movie_id": [10, 10], "rating": [4.0, 9.0], "timestamp": [700, 800]}
    )
    assert ratings[["user_id", "movie_id", "rating"]].values.tolist() == [[4, 10, 4.0]]
    assert _reasons(rejects) == {800: "rating not in 0.5..5 in half stars"}
    raw = json.loads(rejects["raw"].iloc[0])
    assert raw == {
        "user_id": 4,
        "movie_id": 10,
        "rating": 9.0,
        "timestamp": 800,
        "rating_date": "1970-01-01",
        "source": "test",
    }


def _clean_ratings(columns: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """clean_ratings run by DuckDB through Ibis on a small frame, back as pandas."""
    raw = pd.DataFrame(columns)
    raw["rating_date"] = pd.to_datetime(raw["timestamp"], unit="s").dt.date
    raw["source"] = "test"
    movies = ibis.memtable(pd.DataFrame({"movie_id": [10, 11]}))
    ratings, rejects = t.clean_ratings(ibis.memtable(raw), movies, DAY)
    return ratings.to_pandas().sort_values(["user_id", "movie_id"]), rejects.to_pandas()


def _reasons(rejects: pd.DataFrame) -> dict[int, str]:
    stamps = [json.loads(r)["timestamp"] for r in rejects["raw"]]
    return dict(zip(stamps, rejects["reason"], strict=True))


def test_clean_cpi_rejects_missing_values_and_builds_months():
    raw = pd.DataFrame(
        {
            "series_id": ["S", "S", "S"],
            "year": [2020, 2020, 2020],
            "period": ["M01", "M02", "M03"],
            "value": [100.0, None, 101.0],
            "source": "test",
        }
    )
    cpi, rejects = t.clean_cpi(raw, DAY)
    assert cpi["month"].dt.strftime("%Y-%m").tolist() == ["2020-01", "2020-03"]
    assert rejects["reason"].tolist() == ["CPI value missing"]
    assert checks.months_missing(cpi["month"]) == [pd.Timestamp("2020-02-01")]


NO_IDS = pd.DataFrame(
    {
        "movie_id": pd.Series(dtype="Int64"),
        "imdb_id": pd.Series(dtype="string"),
        "tmdb_id": pd.Series(dtype="Int64"),
    }
)


def _films(film_id, title, year, imdb=None, tmdb=None) -> pd.DataFrame:
    n = len(film_id)
    return pd.DataFrame(
        {
            "film_id": film_id,
            "title": title,
            "year": year,
            "imdb_id": pd.Series(imdb or [None] * n, dtype="string"),
            "tmdb_id": pd.Series(tmdb or [None] * n, dtype="Int64"),
        }
    )


def test_link_films_keeps_only_one_to_one_matches():
    movies = pd.DataFrame(
        {
            "as_of": pd.Timestamp(DAY),
            "movie_id": [1, 2, 3],
            "title": ["The Matrix", "Heat", "Twin"],
            "year": [1999, 1995, 2001],
        }
    )
    films = _films(
        [10, 11, 12, 13], ["Matrix, The", "Heat", "Twin", "Twin"], [1999, 1996, 2001, 2001]
    )
    links = t.link_films(movies, films, NO_IDS)
    assert links[["movie_id", "film_id", "method"]].values.tolist() == [[1, 10, "title_year"]]
    assert links["match_key"].tolist() == ["the matrix|1999"]


def test_link_films_goes_through_links_ids_never_movielens_id_to_tmdb_id():
    movies = pd.DataFrame(
        {
            "as_of": pd.Timestamp(DAY),
            "movie_id": [1, 2, 3, 4],
            "title": ["Toy Story", "Jumanji", "Heat", "Sabrina"],
            "year": [1995, 1995, 1995, 1995],
        }
    )
    links = pd.DataFrame(
        {
            "movie_id": pd.Series([1, 2, 3], dtype="Int64"),
            "imdb_id": pd.Series(["tt0114709", "tt0113497", "tt0113277"], dtype="string"),
            "tmdb_id": pd.Series([862, None, 949], dtype="Int64"),
        }
    )
    # Film 100 has TMDB id 2, the MovieLens id of Jumanji: it must not link to Jumanji.
    # Heat's TMDB id is missing from the films, its IMDb id is there (film 103).
    # Sabrina has no links row: title and year decide, and a film already linked is not reused.
    films = _films(
        [100, 101, 102, 103, 104],
        ["Some Other Film", "Toy Story (re-titled)", "Jumanji", "Heat", "Sabrina"],
        [1980, 1995, 1995, 1995, 1995],
        imdb=["tt0000001", None, "tt0113497", "tt0113277", None],
        tmdb=[2, 862, None, None, None],
    )
    got = t.link_films(movies, films, links)
    assert got[["movie_id", "film_id", "method"]].values.tolist() == [
        [1, 101, "tmdb_id"],
        [2, 102, "imdb_id"],
        [3, 103, "imdb_id"],
        [4, 104, "title_year"],
    ]
    assert got["match_key"].tolist() == ["tmdb:862", "tt0113497", "tt0113277", "sabrina|1995"]


def test_clean_tags_quarantines_empty_unknown_and_repeated_tags():
    raw = pd.DataFrame(
        {
            "as_of": pd.Timestamp(DAY),
            "user_id": [1, 1, 1, 2, 2],
            "movie_id": [10, 10, 99, 10, 10],
            "tag": ["Dark  Comedy", "dark comedy", "funny", " ", "twist"],
            "timestamp": [200, 100, 100, 100, 100],
            "source": "movielens",
        }
    )
    tags, rejects = t.clean_tags(raw, pd.Series([10]), DAY)
    # The earlier of the two spellings stays: the one at t=100 written "dark comedy".
    assert tags[["user_id", "movie_id", "tag", "tag_key"]].values.tolist() == [
        [1, 10, "dark comedy", "dark comedy"],
        [2, 10, "twist", "twist"],
    ]
    assert sorted(rejects["reason"]) == [
        "movie not in movies",
        "same tag by the same user on the same movie earlier",
        "tag empty",
    ]
    assert len(tags) + len(rejects) == len(raw)


def test_bayesian_score_by_hand():
    # v=10 votes of mean 4.0, m=10, C=3.0: (10/20)*4 + (10/20)*3 = 3.5
    score = f.bayesian_score(pd.Series([10, 0]), pd.Series([4.0, None]), 3.0, 10)
    assert score.tolist() == pytest.approx([3.5, 3.0])


def test_categories():
    assert f.runtime_category(pd.Series([80, 90, 125, 200, None])).tolist() == [
        "Short",
        "Standard",
        "Long",
        "Epic",
        "Unknown",
    ]
    assert f.era(pd.Series([1940, 1960, 1975, 1995, 2010, None])).tolist() == [
        "Classic",
        "Golden",
        "New Hollywood",
        "Modern",
        "Digital",
        "Unknown",
    ]
    assert f.popularity_bucket(pd.Series([0, 5, 20, 100, 400])).tolist() == [
        "Unrated",
        "Niche",
        "Moderate",
        "Popular",
        "Blockbuster",
    ]


def test_trending_counts_the_seven_days_ending_each_day():
    ratings = pd.DataFrame(
        {
            "movie_id": [1, 1, 2],
            "rating_date": pd.to_datetime(["2020-01-01", "2020-01-07", "2020-01-08"]),
        }
    )
    movies = pd.DataFrame({"movie_id": [1, 2], "title": ["A", "B"]})
    out = f.trending(ibis.memtable(ratings), ibis.memtable(movies), date(2020, 1, 8)).to_pandas()
    out["window_end"] = pd.to_datetime(out["window_end"])
    on_7th = out[out["window_end"] == "2020-01-07"]
    on_8th = out[out["window_end"] == "2020-01-08"].sort_values("rank")
    assert on_7th[["movie_id", "ratings_7d"]].values.tolist() == [[1, 2]]
    # 2020-01-01 has left the window ending 2020-01-08; ties rank by movie id
    assert on_8th[["movie_id", "ratings_7d"]].values.tolist() == [[1, 1], [2, 1]]
