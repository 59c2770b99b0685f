"""The schema checks counted in the engine give the same verdict on Spark as on DuckDB.

Each table below is written with known defects; the expected failures per rule are
stated here by hand from those defects, and both engines must count exactly them.
"""

from __future__ import annotations

from datetime import date

import duckdb
import ibis
import pandas as pd
import pytest

from movie_assets import engine
from movie_assets.schemas import TABLES, conform, ddl

pytestmark = pytest.mark.spark

DAY = pd.Timestamp(date(2020, 3, 31))
STAMP = pd.Timestamp("2020-03-31 12:00:00")


def _ratings() -> tuple[pd.DataFrame, dict[str, int]]:
    rows = [(1, 10, 4.0), (1, 11, 6.0), (2, 10, 3.3), (3, 12, 2.5), (3, 12, 1.0), (None, 13, 5.0)]
    frame = pd.DataFrame(rows, columns=["user_id", "movie_id", "rating"])
    frame["rated_at"] = STAMP
    frame["rating_date"] = DAY
    return frame, {
        "rating: less_than_or_equal_to": 1,
        "rating: half_star_steps": 1,
        "user_id: not_nullable": 1,
        "unique: as_of, user_id, movie_id": 2,  # both copies of the key, as in Pandera
    }


def _raw_links() -> tuple[pd.DataFrame, dict[str, int]]:
    ids = ["tt0114709", "tt12", "xx1234567", None, "tt01147090"]
    frame = pd.DataFrame({"movie_id": range(1, 6), "imdb_id": ids, "tmdb_id": 862})
    frame["source"] = "links.csv"
    frame["ingested_at"] = STAMP
    return frame, {"imdb_id: str_matches": 2}


def _movies() -> tuple[pd.DataFrame, dict[str, int]]:
    frame = pd.DataFrame(
        {
            "movie_id": [1, 2, 3, 4],
            "title": ["Heat", "", "Up", "Old"],
            "year": [1995, 2000, None, 1800],
            "genres": ["Action", "", "", "Drama"],
        }
    )
    return frame, {"title: str_length": 1, "year: greater_than_or_equal_to": 1}


def _film_links() -> tuple[pd.DataFrame, dict[str, int]]:
    frame = pd.DataFrame(
        {
            "movie_id": [1, 2, 3],
            "film_id": [7, 8, 9],
            "method": ["tmdb_id", "guess", "title_year"],
            "match_key": ["tmdb:862", "x", "heat|1995"],
        }
    )
    return frame, {"method: isin": 1}


CASES = {"ratings": _ratings, "raw_links": _raw_links, "movies": _movies, "film_links": _film_links}


@pytest.fixture(scope="module")
def backends(tmp_path_factory):
    """Each defective table in DuckDB, and the same rows as Parquet read by Spark."""
    from movie_assets import spark

    tmp = tmp_path_factory.mktemp("checks")
    con = duckdb.connect()
    on_spark = ibis.pyspark.connect(spark.session())
    tables = {}
    for name, case in CASES.items():
        frame, expected = case()
        con.register("incoming", conform(TABLES[name], frame.assign(as_of=DAY)))
        con.execute(ddl(TABLES[name]))
        con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM incoming")
        con.execute(f"COPY {name} TO '{tmp}/{name}.parquet' (FORMAT parquet)")
        tables[name] = (
            engine.connect(con).table(name),
            on_spark.read_parquet(f"{tmp}/{name}.parquet"),
            expected,
        )
    yield tables
    con.close()


@pytest.mark.parametrize("name", CASES)
def test_failing_counts_agree_on_both_engines(backends, name):
    on_duckdb, on_spark, expected = backends[name]
    for table in (on_duckdb, on_spark):
        failures, by_rule, sample = engine.failing_counts(table, name, 10)
        assert by_rule == expected
        assert failures == sum(expected.values())
        row_rules = {rule for rule in expected if not rule.startswith("unique")}
        assert set(sample["check"]) == row_rules
