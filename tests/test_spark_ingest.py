"""raw_ratings read by Spark's CSV reader equals raw_ratings read by the Dagster process.

One generated archive in the ml-25m layout, with bad lines of every kind slipped into
its ratings.csv, is ingested twice: with the DuckDB engine (the Python reader into
DuckDB) and with ``MOVIE_ENGINE=spark`` in local mode (Spark's CSV reader, Parquet
partitions). Then ``ratings`` and what it reads run as of the last day. The readers'
span is set to the ingested window (MOVIE_PARTITIONS_START/END, as a user sets them),
so every line of the file is booked inside it: as a row, or as a reject on the day
it names, on the span's nearest end, or on the first day when it has no date.

The reference for "every line lands once" is the file's own text, split here.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from benchmarks.archives import movielens_zip
from benchmarks.spark_engine import resources
from movie_assets.build import BuildReport, run_history
from movie_assets.definitions import build_defs
from movie_assets.resources import Engine
from movie_assets.sources.spark_csv import NO_LINE

pytestmark = pytest.mark.spark

RATINGS = 5_000
FIRST, LAST, END = "2014-10-17", "2016-10-16", "2016-10-17"
# The generator's bad lines (benchmarks/archives.py), then lines of the other kinds the
# Python reader knows, slipped in after the given line of ratings.csv.
GENERATED = {40: "missing_field", 400: "extra_field", 1_400: "rating", 2_400: "blank"}
SLIPPED = {
    100: "1,1,3.5,2016-01-01",  # date unparseable
    700: "x9,1,3.5,1450000000",  # user id not an integer
    1_000: "1,y,3.5,1450000000",  # movie id not an integer
    1_300: "1,1,,1450000000",  # empty rating
    1_900: "   ",  # spaces only: blank
    2_600: "1,1,four,1476000000",  # rating not a number, on the span's last day
    3_100: "1,1,3.5,1",  # dated 1970: before the span
    3_500: "",  # blank
}
SNAPSHOT = dg.AssetSelection.assets("ratings").upstream() - dg.AssetSelection.assets("raw_ratings")
# Set by the clock: when a row was received or rejected.
WALL_CLOCK = ["ingested_at", "rejected_at"]


@pytest.fixture(scope="module")
def span():
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MOVIE_PARTITIONS_START", FIRST)
        env.setenv("MOVIE_PARTITIONS_END", END)
        yield


@pytest.fixture(scope="module")
def archive(tmp_path_factory, span) -> tuple[Path, list[str]]:
    """The zip, and the lines of its ratings.csv after the header."""
    path = tmp_path_factory.mktemp("ingest") / "ml-25m.zip"
    movielens_zip(path, RATINGS, seed=11, bad_lines=GENERATED)
    with zipfile.ZipFile(path) as zipped:
        members = {n: zipped.read(n) for n in zipped.namelist()}
    name = next(n for n in members if n.endswith("ratings.csv"))
    lines = members[name].decode().removesuffix("\n").split("\n")
    for after, text in sorted(SLIPPED.items(), reverse=True):
        lines.insert(after, text)
    members[name] = ("\n".join(lines) + "\n").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zipped:
        for member, data in members.items():
            zipped.writestr(member, data)
    return path, lines[1:]


def _build(archive, directory: Path, engine: Engine | None) -> tuple[Path, dict]:
    """raw_ratings over the span (again for its last day), then ``ratings`` as of LAST.

    Returns the warehouse and every check's outcome by (asset, check).
    """
    path = directory / "warehouse.duckdb"
    defs = build_defs(resources(path, archive[0], engine))
    instance = dg.DagsterInstance.ephemeral()
    report = BuildReport()
    runs = [run_history(defs, instance, FIRST, LAST, report)]
    # A re-run of one day replaces that day's rows and rejects, and only those.
    runs.append(run_history(defs, instance, LAST, LAST, report))
    keys = list(SNAPSHOT.resolve(defs.resolve_asset_graph()))
    runs.append(
        defs.resolve_job_def("movie_graph").execute_in_process(
            instance=instance, partition_key=LAST, asset_selection=keys, raise_on_error=False
        )
    )
    assert report.ok and runs[-1].success, report
    outcomes = {
        (e.asset_key.to_user_string(), e.check_name): e.passed
        for run in runs
        for e in run.get_asset_check_evaluations()
    }
    return path, outcomes


@pytest.fixture(scope="module")
def on_duckdb(archive, tmp_path_factory):
    return _build(archive, tmp_path_factory.mktemp("duckdb"), None)


@pytest.fixture(scope="module")
def on_spark(archive, tmp_path_factory):
    directory = tmp_path_factory.mktemp("spark")
    return _build(
        archive, directory, Engine(kind="spark", spark_warehouse=str(directory / "parquet"))
    )


def _query(path: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        frame = con.execute(sql).df()
    frame = frame.drop(columns=[c for c in WALL_CLOCK if c in frame.columns])
    return frame.sort_values(list(frame.columns), ignore_index=True)


RAW = "SELECT * FROM raw_ratings"
REJECTS = "SELECT * FROM rejects WHERE asset = '{}'"


def test_raw_ratings_equal_the_python_readers(on_duckdb, on_spark):
    want, got = _query(on_duckdb[0], RAW), _query(on_spark[0], RAW)
    assert len(want) > 200
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    with duckdb.connect(str(on_spark[0]), read_only=True) as con:
        kind = con.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = 'raw_ratings'"
        ).fetchone()
    assert kind == ("VIEW",)
    root = on_spark[0].parent / "parquet"
    days = {p.name for p in (root / "raw_ratings").iterdir() if p.is_dir()}
    assert days == {f"rating_date={d.date()}" for d in want["rating_date"]}


def test_rejects_equal_the_python_readers_with_the_split_offset_for_the_line(on_duckdb, on_spark):
    want = _query(on_duckdb[0], REJECTS.format("raw_ratings"))
    got = _query(on_spark[0], REJECTS.format("raw_ratings"))
    label = "ml-25m.zip:ratings.csv"
    assert want["reason"].str.match(rf"{re.escape(label)} line \d+: ").all()
    # One split reads this small file: every Spark reject is at byte 0.
    want["reason"] = want["reason"].str.replace(
        r" line \d+: ", f" split at byte 0 ({NO_LINE}): ", regex=True
    )
    pd.testing.assert_frame_equal(got, want.sort_values(list(want.columns), ignore_index=True))
    kinds = set(want["reason"].str.split(": ", n=1).str[1])
    assert {
        "3 fields, expected 4 (truncated or shifted line?)",
        "5 fields, expected 4 (truncated or shifted line?)",
        "blank line",
        "date unparseable",
        "user id not an integer",
        "movie id not an integer",
        "rating not a number",
        f"dated before the first partition ({FIRST})",
        f"dated after the last partition ({LAST})",
    } <= kinds


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_every_line_lands_in_raw_ratings_or_rejects_once(archive, on_duckdb, on_spark, engine):
    path = {"duckdb": on_duckdb, "spark": on_spark}[engine][0]
    rows = _query(path, RAW)
    rejects = _query(path, REJECTS.format("raw_ratings"))
    as_text = [
        f"{u},{m},{r},{t}"
        for u, m, r, t in rows[["user_id", "movie_id", "rating", "timestamp"]].itertuples(
            index=False
        )
    ]
    # A blank line is kept as received, or as "" when its fields were read first.
    received = Counter(line if line.strip() else "" for line in archive[1])
    landed = Counter(as_text) + Counter(r if r.strip() else "" for r in rejects["raw"])
    assert landed == received
    assert len(rows) + len(rejects) == len(archive[1])


def test_checks_agree_and_raw_equals_clean_plus_rejected(on_duckdb, on_spark):
    assert on_spark[1] == on_duckdb[1]
    for check in [("raw_ratings", "schema"), ("raw_ratings", "rows_present")]:
        assert on_spark[1][check], check
    assert on_spark[1][("ratings", "reconciles")]


def test_the_ratings_step_reads_the_engine_table(on_duckdb, on_spark):
    sql = f"SELECT * FROM ratings WHERE as_of = '{LAST}'"
    want, got = _query(on_duckdb[0], sql), _query(on_spark[0], sql)
    assert len(want) > 200
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    rejected = REJECTS.format("ratings")
    pd.testing.assert_frame_equal(
        _query(on_spark[0], rejected), _query(on_duckdb[0], rejected), check_dtype=False
    )
    # Only the catalogue-sized input went through the exchange folder; the history did not.
    exchange = on_spark[0].parent / "parquet" / "_exchange"
    assert not (exchange / "raw_ratings.parquet").exists()
    assert (exchange / "movies.parquet").exists()


def test_a_window_replaces_exactly_its_days_and_an_unfinished_one_is_refused(tmp_path):
    """SparkTables.replace_events on hand-made rows: days outside the window keep their
    rows, a day of the window without new rows is emptied, a failed write is refused."""
    from pyspark.sql import functions as F

    from movie_assets import spark

    session = spark.session()
    d1, d2, d3 = (pd.Timestamp(d).date() for d in ["2016-01-01", "2016-01-02", "2016-01-03"])
    at = pd.Timestamp("2016-02-01").to_pydatetime()
    row_schema = (
        "user_id BIGINT, movie_id BIGINT, rating DOUBLE, timestamp BIGINT, rating_date DATE, "
        "source STRING, ingested_at TIMESTAMP"
    )
    reject_schema = (
        "partition_date DATE, source STRING, raw STRING, reason STRING, rejected_at TIMESTAMP"
    )

    def rows(*pairs):
        return session.createDataFrame(
            [(u, 1, 4.0, 0, d, "test", at) for u, d in pairs], row_schema
        )

    def rejects(*pairs):
        return session.createDataFrame(
            [(d, "test", raw, "bad", at) for raw, d in pairs], reject_schema
        )

    def state(con) -> tuple[list, list]:
        return (
            con.execute("SELECT user_id, rating_date FROM raw_ratings ORDER BY 1").fetchall(),
            con.execute("SELECT raw, partition_date FROM rejects ORDER BY 1").fetchall(),
        )

    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        tables = spark.SparkTables(con, session, str(tmp_path / "parquet"))
        by_day = tables.replace_events(
            "raw_ratings", d1, d3, rows((1, d1), (2, d2), (3, d2), (4, d3)), rejects(("a", d1))
        )
        assert by_day == {d1: 1, d2: 2, d3: 1}
        tables.replace_events("raw_ratings", d2, d3, rows((5, d2)), rejects(("b", d3)))
        assert state(con) == ([(1, d1), (5, d2)], [("a", d1), ("b", d3)])
        logged = con.execute(
            "SELECT first_day, last_day, row_count FROM partition_log ORDER BY 1"
        ).fetchall()
        assert logged == [(d1, d3, 4), (d2, d3, 1)]

        broken = rows((6, d2)).withColumn("rating", F.raise_error(F.lit("disk gone")))
        with pytest.raises(Exception, match="disk gone"):
            tables.replace_events("raw_ratings", d2, d3, broken, rejects())
        with pytest.raises(LookupError, match=f"{d2}..{d3} did not finish"):
            tables.events("raw_ratings", d1, d3)
        tables.replace_events("raw_ratings", d2, d3, rows((7, d3)), rejects())
        assert state(con) == ([(1, d1), (7, d3)], [("a", d1)])
        assert tables.events("raw_ratings", d1, d3).count().execute() == 2
