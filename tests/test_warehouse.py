"""Partition writes against a real DuckDB file: exact replacement; a failed write loses nothing."""

from datetime import date

import dagster as dg
import duckdb
import pandas as pd
import pandera.errors
import pytest

from movie_assets.schemas import TABLES, conform, quarantine
from movie_assets.warehouse import (
    read_events,
    record_checks,
    replace_partition,
    replace_partition_batches,
)
from movie_assets.writing import check_rows


def _ratings(days: list[str], user: int = 1) -> pd.DataFrame:
    day = pd.to_datetime(days)
    return pd.DataFrame(
        {
            "user_id": user,
            "movie_id": range(len(days)),
            "rating": 4.0,
            "timestamp": (day.astype("int64") // 10**9),
            "rating_date": day,
            "source": "test",
            "ingested_at": pd.Timestamp("2026-01-01"),
        }
    )


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        yield connection


def _count_by_day(con) -> dict:
    rows = con.execute(
        "SELECT strftime(rating_date, '%Y-%m-%d'), count(*) FROM raw_ratings GROUP BY 1 ORDER BY 1"
    ).fetchall()
    return dict(rows)


def test_replace_is_exact_for_the_window(con):
    replace_partition(
        con,
        "raw_ratings",
        _ratings(["2020-01-01", "2020-01-02", "2020-01-03"]),
        date(2020, 1, 1),
        date(2020, 1, 3),
    )
    # Rewriting day 2 with two rows touches neither day 1 nor day 3; again, idempotent.
    for _ in range(2):
        replace_partition(
            con,
            "raw_ratings",
            _ratings(["2020-01-02", "2020-01-02"], user=2),
            date(2020, 1, 2),
            date(2020, 1, 2),
        )
        assert _count_by_day(con) == {"2020-01-01": 1, "2020-01-02": 2, "2020-01-03": 1}


def test_unparseable_frame_is_refused_and_nothing_is_lost(con):
    replace_partition(
        con,
        "raw_ratings",
        _ratings(["2020-01-01", "2020-01-02"]),
        date(2020, 1, 1),
        date(2020, 1, 2),
    )
    before = con.execute("SELECT * FROM raw_ratings ORDER BY movie_id").df()
    bad = _ratings(["2020-01-01"]).astype({"user_id": object})
    bad["user_id"] = ["not a number"]
    with pytest.raises(pandera.errors.ParserError):
        replace_partition(con, "raw_ratings", bad, date(2020, 1, 1), date(2020, 1, 2))
    after = con.execute("SELECT * FROM raw_ratings ORDER BY movie_id").df()
    pd.testing.assert_frame_equal(before, after)


def test_failure_after_delete_inside_the_transaction_restores_rows_and_rejects(con):
    replace_partition(
        con,
        "raw_ratings",
        _ratings(["2020-01-01"]),
        date(2020, 1, 1),
        date(2020, 1, 1),
        rejects=quarantine(pd.DataFrame({"x": [1]}), "r", "t", pd.Timestamp("2020-01-01")),
    )
    # The rejects frame lacks a required column: the failure happens after the DELETE ran.
    broken_rejects = pd.DataFrame({"partition_date": [pd.Timestamp("2020-01-01")]})
    with pytest.raises(ValueError, match="missing columns"):
        replace_partition(
            con,
            "raw_ratings",
            _ratings(["2020-01-01", "2020-01-01"]),
            date(2020, 1, 1),
            date(2020, 1, 1),
            rejects=broken_rejects,
        )
    assert _count_by_day(con) == {"2020-01-01": 1}
    assert con.execute("SELECT count(*) FROM rejects").fetchone()[0] == 1


def test_rows_outside_the_window_are_refused(con):
    with pytest.raises(ValueError, match="outside the partition window"):
        replace_partition(
            con, "raw_ratings", _ratings(["2020-01-05"]), date(2020, 1, 1), date(2020, 1, 2)
        )


def test_columns_are_written_by_name_not_position(con):
    frame = _ratings(["2020-01-01"])
    shuffled = frame[list(reversed(frame.columns))]
    replace_partition(con, "raw_ratings", shuffled, date(2020, 1, 1), date(2020, 1, 1))
    got = read_events(con, "raw_ratings", date(2020, 1, 1), date(2020, 1, 1))
    pd.testing.assert_frame_equal(got, conform(TABLES["raw_ratings"], frame))


def test_a_step_writes_frames_on_the_connection_ibis_wraps(con):
    """A step reads through Ibis and writes its frames on the same connection: Ibis turns
    DuckDB's replacement scans off there, and the writes still land by name."""
    from movie_assets import engine

    engine.connect(con)
    assert con.execute("SELECT current_setting('python_enable_replacements')").fetchone() == (
        False,
    )
    day = date(2020, 1, 1)
    # check_results made with its columns in another order than the schema's
    reordered = list(reversed(TABLES["check_results"].columns))
    con.execute(
        f"CREATE TABLE check_results AS SELECT {', '.join(reordered)} "
        f"FROM ({_empty_select('check_results')}) LIMIT 0"
    )
    bad = quarantine(_ratings(["2020-01-01"]), "rating missing", "test", pd.Timestamp(day))

    def record(rows: int):
        result = dg.AssetCheckResult(check_name="c", passed=True, metadata={"failures": 0})
        record_checks(con, "raw_ratings", day, day, check_rows([result], day, day, "r1"))

    batches = [(_ratings(["2020-01-01", "2020-01-01"]), bad)]
    replace_partition_batches(
        con, "raw_ratings", batches, day, day, with_rejects=True, before_commit=record
    )
    assert _count_by_day(con) == {"2020-01-01": 2}
    assert con.execute("SELECT asset, reason FROM rejects").fetchall() == [
        ("raw_ratings", "rating missing")
    ]
    recorded = con.execute("SELECT asset, check_name, passed, run_id FROM check_results")
    assert recorded.fetchall() == [("raw_ratings", "c", True, "r1")]


def _empty_select(name: str) -> str:
    from movie_assets.schemas import column_types

    return "SELECT " + ", ".join(
        f'NULL::{sql} AS "{col}"' for col, sql in column_types(TABLES[name]).items()
    )


def test_empty_partition_still_creates_the_table(con):
    replace_partition(con, "raw_ratings", _ratings([]), date(2020, 1, 1), date(2020, 1, 1))
    assert read_events(con, "raw_ratings", date(2020, 1, 1), date(2020, 1, 1)).empty


def test_a_column_added_to_the_schema_is_added_to_an_older_table(con):
    con.execute(
        "CREATE TABLE raw_ratings (user_id BIGINT, movie_id BIGINT, rating DOUBLE, "
        "timestamp BIGINT, rating_date DATE, source VARCHAR)"
    )
    con.execute("INSERT INTO raw_ratings VALUES (9, 9, 3.0, 0, DATE '2019-12-31', 'old')")
    replace_partition(
        con, "raw_ratings", _ratings(["2020-01-01"]), date(2020, 1, 1), date(2020, 1, 1)
    )
    rows = con.execute("SELECT user_id, ingested_at FROM raw_ratings ORDER BY user_id").fetchall()
    assert rows == [(1, pd.Timestamp("2026-01-01").to_pydatetime()), (9, None)]


def test_a_table_with_a_column_the_schema_dropped_is_a_clear_error(con):
    con.execute("CREATE TABLE raw_ratings (user_id BIGINT, retired VARCHAR)")
    with pytest.raises(RuntimeError, match=r"raw_ratings has an older layout.*retired"):
        replace_partition(
            con, "raw_ratings", _ratings(["2020-01-01"]), date(2020, 1, 1), date(2020, 1, 1)
        )


def test_an_empty_snapshot_reads_as_empty_and_a_missing_one_is_an_error(con):
    from movie_assets.warehouse import read_snapshot

    empty = pd.DataFrame({c: [] for c in TABLES["genres"].columns})
    replace_partition(con, "genres", empty, date(2020, 1, 2), date(2020, 1, 2))
    assert read_snapshot(con, "genres", date(2020, 1, 2)).empty
    with pytest.raises(LookupError, match="no snapshot as of 2020-01-03"):
        read_snapshot(con, "genres", date(2020, 1, 3))


def test_check_results_commit_or_roll_back_with_the_rows_they_checked(con):
    day = date(2020, 1, 1)

    def recorded(passed: bool):
        def record(rows: int):
            result = dg.AssetCheckResult(check_name="c", passed=passed, metadata={"failures": 0})
            record_checks(con, "raw_ratings", day, day, check_rows([result], day, day, "run"))
            if not passed:
                raise RuntimeError("a check that cannot be recorded fails the write")

        return record

    batches = [(_ratings(["2020-01-01"]), None)]
    replace_partition_batches(con, "raw_ratings", batches, day, day, before_commit=recorded(True))
    again = [(_ratings(["2020-01-01", "2020-01-01"]), None)]
    with pytest.raises(RuntimeError):
        replace_partition_batches(
            con, "raw_ratings", again, day, day, before_commit=recorded(False)
        )
    # Neither the two new rows nor the failed result: the first write and its result stand.
    assert _count_by_day(con) == {"2020-01-01": 1}
    assert con.execute("SELECT passed FROM check_results").fetchall() == [(True,)]


def test_a_snapshot_written_before_a_nullable_column_existed_reads_it_as_null():
    """A new nullable column reads as null on older rows; a missing required one is a
    ValueError, so that no caller mistakes it for a missing snapshot (a LookupError)."""
    table = TABLES["recommender"]
    older = pd.DataFrame(
        {
            "as_of": [pd.Timestamp("2016-10-16")],
            "entity": ["global"],
            "raw_id": [None],
            "inner_id": [None],
            "bias": [3.5],
            "factors": [None],
            "model": ["als"],
        }
    )
    read = conform(table, older)
    assert list(read.columns) == table.columns
    assert read["fitted_on"].isna().all() and read["bias"].tolist() == [3.5]
    with pytest.raises(ValueError, match="missing columns \\['bias'\\]"):
        conform(table, older.drop(columns="bias"))
