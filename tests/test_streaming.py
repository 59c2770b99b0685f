"""Ratings streamed from file to raw_ratings in batches: exact, reconciled, atomic, bounded.

Real Netflix Prize files written by the test, a real DuckDB file, Dagster in process,
and a chunk size of a few lines so that a window is written in many batches. Every
expected value comes from a plain-Python reading of the files, never from the reader.
"""

from __future__ import annotations

import gc
import re
import weakref
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

import movie_assets.sources.movielens_files as movielens_files
import movie_assets.sources.netflix as netflix
import movie_assets.sources.watch_logs as watch_logs
from movie_assets import checks
from movie_assets.raw.assets import raw_ratings
from movie_assets.resources import build_resources
from movie_assets.schemas import TABLES, quarantine
from movie_assets.sources.base import Received, ratings_batches
from movie_assets.sources.registry import SourceResource
from movie_assets.warehouse import replace_partition, replace_partition_batches
from tests import fixtures_sources as fx

CHUNK = 16
FIRST, LAST = fx.DAYS[0], fx.DAYS[-1]
BAD_LINES = ["7,x,2015-03-01", "abc,3,2015-03-02", "9,4,2015-03-03"]  # the last one is fine


@pytest.fixture
def folder(tmp_path) -> Path:
    s = fx.sample(users=40, movies=16, seed=11)
    probe = {(m, u) for u, m, _, _ in s.ratings[::9]}
    return fx.netflix_dir(tmp_path / "netflix", s, probe, extra_lines=BAD_LINES)


@pytest.fixture
def spy(monkeypatch):
    """Small chunks, and a record of every batch the Netflix reader hands on."""
    monkeypatch.setattr(netflix, "CHUNK_ROWS", CHUNK)
    seen = {"sizes": [], "alive": [], "older_alive": []}
    original = netflix.NetflixPrize.ratings_batches

    def recorded(self, first, last):
        for batch in original(self, first, last):
            gc.collect()
            # When a batch arrives, no batch before the previous one may still be held.
            seen["older_alive"].append(sum(r() is not None for r in seen["alive"][:-1]))
            seen["alive"].append(weakref.ref(batch.rows))
            seen["sizes"].append(len(batch.rows))
            yield batch

    monkeypatch.setattr(netflix.NetflixPrize, "ratings_batches", recorded)
    return seen


def plain_parse(folder: Path, first: date, last: date) -> dict:
    """The window read line by line with str.split: rows, reject reasons and line counts.

    probe.txt's pairs are training data: their lines are rows like the others.
    """
    probe, movie = set(), None
    for text in (folder / "probe.txt").read_text().splitlines():
        if text.endswith(":"):
            movie = int(text[:-1])
        elif text:
            probe.add((movie, int(text)))
    out = {"rows": Counter(), "reasons": [], "lines": 0, "headers": 0, "probe": 0}
    for path in sorted(folder.glob("combined_data_*.txt")):
        for number, text in enumerate(path.read_text().splitlines(), start=1):
            out["lines"] += 1
            if re.fullmatch(r"\d+:", text):
                movie = int(text[:-1])
                out["headers"] += 1
                continue
            user, rating, day = text.split(",")
            reason = None
            if not user.isdigit():
                reason = "user id not an integer"
            elif not re.fullmatch(r"\d+(\.\d*)?", rating):
                reason = "rating not a number"
            if reason:  # every bad line of these files names a day inside the window
                out["reasons"].append(f"{path.name} line {number}: {reason}")
                continue
            day = date.fromisoformat(day)
            if not first <= day <= last:
                continue
            out["probe"] += (movie, int(user)) in probe
            midnight = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
            out["rows"][(int(user), movie, float(rating), midnight, day)] += 1
    return out


def materialize(tmp_path: Path, folder: Path, **kwargs):
    resources = build_resources(tmp_path / "warehouse.duckdb")
    resources["source"] = SourceResource(kind="netflix", netflix=str(folder))
    return dg.materialize(
        [raw_ratings],
        resources=resources,
        instance=dg.DagsterInstance.ephemeral(),
        tags={
            "dagster/asset_partition_range_start": FIRST.isoformat(),
            "dagster/asset_partition_range_end": LAST.isoformat(),
        },
        **kwargs,
    )


def warehouse_state(tmp_path: Path) -> dict:
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        return {
            table: con.execute(
                f"SELECT * EXCLUDE ({volatile}) FROM {table} ORDER BY ALL"
            ).fetchall()
            for table, volatile in [
                ("raw_ratings", "ingested_at"),
                ("rejects", "rejected_at"),
                ("partition_log", "written_at"),
            ]
        }


def test_the_table_is_the_files_parsed_line_by_line(tmp_path, folder, spy):
    result = materialize(tmp_path, folder)
    assert result.success
    expected = plain_parse(folder, FIRST, LAST)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT user_id, movie_id, rating, timestamp, rating_date::DATE FROM raw_ratings"
        ).fetchall()
        reasons = [
            r
            for (r,) in con.execute(
                "SELECT reason FROM rejects WHERE asset = 'raw_ratings' ORDER BY reason"
            ).fetchall()
        ]
    assert Counter(rows) == expected["rows"]
    assert reasons == sorted(expected["reasons"]) and len(reasons) == 2
    # Every line is accounted for: a rating (probe pairs among them), a reject or a header.
    assert expected["probe"] > 0
    assert expected["lines"] == len(rows) + len(reasons) + expected["headers"]

    # Many batches, none longer than a chunk, and none kept once the next two have come.
    assert len(spy["sizes"]) >= 10 and max(spy["sizes"]) <= CHUNK
    assert sum(spy["sizes"]) == len(rows)
    assert set(spy["older_alive"]) == {0}

    # One check result each for the whole window, over every batch.
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert evaluations["schema"].passed and evaluations["rows_present"].passed
    assert evaluations["schema"].metadata["rows"].value == len(rows)
    assert evaluations["rows_present"].metadata["source_rows"].value == len(rows)
    metadata = result.asset_materializations_for_node("raw_ratings")[0].metadata
    assert metadata["dagster/row_count"].value == len(rows)
    assert metadata["rejected_rows"].value == 2
    # Reasons are counted by kind, without the file and line each reject row keeps.
    kinds = Counter(r.split(": ", 1)[1] for r in expected["reasons"])
    assert metadata["reject_reasons"].value == dict(kinds)
    assert len(metadata["preview"].value.splitlines()) == 2 + 5  # header, rule, 5 rows


def test_a_file_that_breaks_midway_leaves_the_window_as_it_was(tmp_path, folder, spy):
    assert materialize(tmp_path, folder).success
    before = warehouse_state(tmp_path)
    assert before["raw_ratings"] and before["rejects"]
    # The second file is gone when the reader reaches it, after many batches went in.
    second = folder / "combined_data_2.txt"
    second.unlink()
    second.symlink_to(folder / "nowhere.txt")
    spy["sizes"].clear()
    result = materialize(tmp_path, folder, raise_on_error=False)
    assert not result.success
    assert "combined_data_2.txt" in str(result.get_step_failure_events()[0].event_specific_data)
    assert len(spy["sizes"]) >= 10  # batches were written before the failure
    assert warehouse_state(tmp_path) == before


def _ratings(days: list[str], user: int) -> pd.DataFrame:
    day = pd.to_datetime(days)
    return pd.DataFrame(
        {
            "user_id": user,
            "movie_id": range(len(days)),
            "rating": 4.0,
            "timestamp": day.astype("int64") // 10**9,
            "rating_date": day,
            "source": "test",
            "ingested_at": pd.Timestamp("2026-01-01"),
        }
    )


def _reject(day: str) -> pd.DataFrame:
    return quarantine(pd.DataFrame({"x": [1]}), "bad", "test", pd.Timestamp(day))


def test_a_failing_batch_iterator_rolls_back_every_batch_and_the_delete(tmp_path):
    window = (date(2020, 1, 1), date(2020, 1, 2))
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        replace_partition(
            con,
            "raw_ratings",
            _ratings(["2020-01-01", "2020-01-02"], 1),
            *window,
            _reject("2020-01-01"),
        )
        before = con.execute("SELECT * FROM raw_ratings ORDER BY ALL").fetchall()

        def batches():
            yield _ratings(["2020-01-01"] * 3, 2), _reject("2020-01-01")
            yield _ratings(["2020-01-02"] * 3, 3), None
            raise OSError("the source went away")

        with pytest.raises(OSError, match="went away"):
            replace_partition_batches(con, "raw_ratings", batches(), *window, with_rejects=True)
        assert con.execute("SELECT * FROM raw_ratings ORDER BY ALL").fetchall() == before
        assert con.execute("SELECT count(*) FROM rejects").fetchone()[0] == 1
        assert con.execute("SELECT row_count FROM partition_log").fetchall() == [(2,)]

        # The same batches without the failure replace the window; positions run on.
        seen = []
        good = [(_ratings(["2020-01-01"] * 3, 2), None), (_ratings(["2020-01-02"] * 3, 3), None)]
        written = replace_partition_batches(con, "raw_ratings", good, *window, on_batch=seen.append)
        assert written == 6
        assert [list(f.index) for f in seen] == [[0, 1, 2], [3, 4, 5]]
        assert con.execute(
            "SELECT count(*), count(DISTINCT user_id) FROM raw_ratings"
        ).fetchone() == (6, 2)
        assert con.execute("SELECT row_count FROM partition_log").fetchall() == [(6,)]


def test_schema_check_over_batches_matches_the_whole_frame():
    frame = _ratings(["2020-01-01"] * 30, 1).reset_index(drop=True)
    frame["user_id"] = frame["user_id"].astype("Int64").mask(frame.index % 4 == 0)  # 8 nulls
    whole = checks.schema_result("raw_ratings", frame)
    tally = checks.SchemaTally("raw_ratings")
    for start in range(0, 30, 7):
        tally.add(frame.iloc[start : start + 7])
    batched = tally.result()
    assert not batched.passed
    for key in ("failures", "rows", "failures_by_check"):
        assert batched.metadata[key].value == whole.metadata[key].value, key
    assert batched.metadata["failures"].value == 8
    sample = batched.metadata["failing_sample"].value
    assert sample == whole.metadata["failing_sample"].value
    assert [row["index"] for row in sample] == [str(i) for i in range(0, 30, 4)]


def test_uniqueness_rules_cannot_be_split_across_batches():
    model = TABLES["ratings"]
    tally = checks.SchemaTally("ratings")
    tally.add(pd.DataFrame(columns=model.columns))
    with pytest.raises(ValueError, match="uniqueness rules"):
        tally.add(pd.DataFrame(columns=model.columns))


def test_every_file_reader_streams_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setenv("MOVIE_WATCH_KEY", "a-test-key-of-32-characters-long")
    s = fx.sample(users=20, movies=10)
    logs = tmp_path / "logs"
    logs.mkdir()
    for i, day in enumerate(fx.DAYS):
        rows = [(f"user{u}", m, str(ts), f"{r:g}", "s") for u, m, r, ts in s.ratings if i == u % 3]
        fx.watch_log(logs / f"{day}.csv", rows)
    readers = {
        "netflix": (
            netflix,
            SourceResource(kind="netflix", netflix=str(fx.netflix_dir(tmp_path / "nf", s, set()))),
        ),
        "movielens": (
            movielens_files,
            SourceResource(
                kind="movielens", movielens=str(fx.movielens_csv_zip(tmp_path / "ml.zip", s))
            ),
        ),
        "watch_logs": (watch_logs, SourceResource(kind="watch_logs", watch_dir=str(logs))),
    }
    for name, (module, source) in readers.items():
        whole = source.reader().ratings(FIRST, LAST).rows
        monkeypatch.setattr(module, "CHUNK_ROWS", 7)
        batches = list(ratings_batches(source.reader(), FIRST, LAST))  # through CompositeSource
        assert len(batches) > 3 and max(len(b.rows) for b in batches) <= 7, name
        streamed = pd.concat([b.rows for b in batches], ignore_index=True)
        pd.testing.assert_frame_equal(streamed, whole, check_dtype=True, obj=name)


def test_a_reader_without_batches_is_one_batch():
    class OneFrame:
        name = "one"

        def ratings(self, first, last):
            return Received(pd.DataFrame({"user_id": [1]}))

    assert [len(b.rows) for b in ratings_batches(OneFrame(), FIRST, LAST)] == [1]


ODD_FILE = (
    "5,3,2015-03-01\n"  # before any movie
    "1:\n10,4,2015-03-01\n0000011,5,2015-03-02\r\n12,3,2016-02-29\n13,3,2015-02-29\n"
    "14, 3 ,2015-03-02\n1234567890,3,2015-03-01\n2:,\n15,4,2015-03-03\n007:\n16,2,2015-03-01\n"
    "17,x,2015-03-01\n\n19,1,2015-03-01\n20,2,2015-03-02\n21,3,2015-03-03\n22,4,2015-03-01\n"
    "18,5,2015-03-02"  # no final newline
)


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 8, 1000])
def test_the_numpy_path_reads_exactly_what_the_general_parser_reads(tmp_path, monkeypatch, chunk):
    (tmp_path / "combined_data_1.txt").write_text(ODD_FILE)
    (tmp_path / "combined_data_2.txt").write_text("3:\n30,5,2015-03-01\n31,4,2015-03-02\n")
    monkeypatch.setattr(netflix, "CHUNK_ROWS", chunk)
    standard = netflix._standard_block
    fast_blocks = []

    def counted(*args):
        rows = standard(*args)
        fast_blocks.append(rows is not None)
        return rows

    window = (date(1995, 1, 9), date(2016, 12, 31))  # holds the day undated rejects go to
    monkeypatch.setattr(netflix, "_standard_block", counted)
    fast = netflix.NetflixPrize(str(tmp_path)).ratings(*window)
    monkeypatch.setattr(netflix, "_standard_block", lambda *args: None)
    general = netflix.NetflixPrize(str(tmp_path)).ratings(*window)
    assert any(fast_blocks)
    pd.testing.assert_frame_equal(fast.rows, general.rows)
    pd.testing.assert_frame_equal(fast.rejects, general.rejects)
    # Rejected: the line before any movie, 30 February, rating 'x', the blank line.
    assert len(fast.rows) == 14 and len(fast.rejects) == 4
