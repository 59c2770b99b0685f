"""dashboard_snapshot: a complete read-only copy, swapped in atomically, with the data quality."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from movie_assets.publish import snapshot
from movie_assets.publish.assets import RATING_ROLLUPS, check_results, selects
from movie_assets.warehouse import record_checks
from movie_assets.writing import check_rows

DAY = date(2016, 10, 16)


def test_the_snapshot_holds_the_day_and_its_data_quality(full_warehouse):
    directory = snapshot.snapshot_dir(full_warehouse.path)
    current = snapshot.current(directory)
    assert current.as_of == DAY
    pointer = json.loads((directory / snapshot.POINTER).read_text())
    assert pointer["file"] == current.path.name
    assert not list(directory.glob(".*tmp")), "no temporary file is left behind"

    with duckdb.connect(str(current.path), read_only=True) as copy:
        for name in selects(DAY):
            if name in RATING_ROLLUPS:
                continue  # below, against the ratings themselves
            column = "partition_date" if name == "rejects" else "as_of"
            live = full_warehouse.query(
                f"SELECT count(*) AS n, min({column}) AS first FROM {name}"
                f" WHERE {column} {'<=' if name == 'model_metrics' else '='} ?",
                [DAY],
            ).iloc[0]
            copied = copy.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            assert copied == live["n"], name
        rollups = {n: copy.execute(f"SELECT * FROM {n}").df() for n in RATING_ROLLUPS}
        checks = copy.execute("SELECT asset, check_name, status, failures FROM dq_checks").df()
        recon = copy.execute("SELECT * FROM dq_reconciliation").df().set_index("asset")
        info = copy.execute("SELECT as_of FROM snapshot_info").fetchone()[0]
    assert info == DAY

    # The rollups Dash reads instead of the ratings: the same counts and sums, in pandas.
    ratings = full_warehouse.query("SELECT * FROM ratings WHERE as_of = ?", [DAY])
    keys = {
        "dash_movie_year": ratings["rating_date"].dt.year.rename("year"),
        "dash_movie_month": ratings["rating_date"]
        .dt.to_period("M")
        .dt.to_timestamp()
        .rename("month"),
        "dash_movie_stars": ratings["rating"],
    }
    for name, key in keys.items():
        expected = ratings.groupby([ratings["movie_id"], key])["rating"].agg(["size", "sum"])
        got = rollups[name].set_index(["movie_id", key.name])
        assert got["ratings"].sum() == len(ratings), name
        assert got["ratings"].to_dict() == expected["size"].to_dict(), name
        if "rating_sum" in got:
            assert got["rating_sum"].sum() == pytest.approx(ratings["rating"].sum())

    report = full_warehouse.report
    published = {f"{a}:{c}": s for a, c, s, _ in checks.itertuples(index=False)}
    expected = {name: "passed" for name in report.passed_checks}
    expected |= {name: "failed" for name in report.failed_checks}
    expected.pop("dashboard_snapshot:matches_warehouse")  # evaluated after the copy is made
    assert published == expected

    rejects = full_warehouse.query(
        "SELECT asset, count(*) AS n FROM rejects WHERE partition_date = ? GROUP BY asset", [DAY]
    ).set_index("asset")["n"]
    cleaners = {name.split(":")[0] for name in expected if name.endswith(":reconciles")}
    assert set(recon.index) == cleaners
    for asset, row in recon.iterrows():
        assert row["rejected_rows"] == rejects.get(asset, 0)
        assert row["raw_rows"] == row["clean_rows"] + row["rejected_rows"]
        assert row["consistent"] and row["passed"]


def _publish(con, directory, day) -> tuple:
    path = snapshot.write(con, directory, day, {"t": ("SELECT * FROM t", [])}, {})
    return path, snapshot.publish(directory, path, day, keep=2)


def test_publish_swaps_the_pointer_and_prunes(tmp_path):
    directory = tmp_path / "snapshots"
    con = duckdb.connect()
    con.execute("CREATE TABLE t (x INTEGER)")
    first, swapped = _publish(con, directory, DAY)
    assert swapped and snapshot.current(directory).path == first
    reader = duckdb.connect(str(first), read_only=True)

    paths = []
    for x in range(1, 4):
        con.execute("INSERT INTO t VALUES (?)", [x])
        paths.append(_publish(con, directory, DAY)[0])
    assert snapshot.current(directory).path == paths[-1]
    assert sorted(p.name for p in directory.glob("dashboard_*")) == [p.name for p in paths[-2:]]
    assert reader.execute("SELECT count(*) FROM t").fetchone()[0] == 0  # still open, still whole
    with duckdb.connect(str(paths[-1]), read_only=True) as newest:
        assert newest.execute("SELECT sum(x) FROM t").fetchone()[0] == 6

    older, swapped = _publish(con, directory, date(2016, 1, 1))
    assert not swapped, "a backfill of an older day does not replace a newer snapshot"
    assert snapshot.current(directory).path == paths[-1]
    # ... and stays, for the app's time travel: the newest file of each day, newest day first.
    assert snapshot.published(directory) == {DAY: paths[-1], date(2016, 1, 1): older}
    assert snapshot.prune(directory, keep=2, days=1) == [older]
    assert not list(directory.glob(".*tmp"))


def test_check_results_are_those_recorded_as_of_the_day(tmp_path):
    day1, day2 = date(2016, 1, 1), date(2016, 1, 2)
    specs = [
        dg.AssetCheckSpec("ok", asset="scores"),
        dg.AssetCheckSpec("bad", asset="scores"),
        dg.AssetCheckSpec("never", asset="scores", description="not in any run"),
    ]

    def result(name, passed, failures):
        return dg.AssetCheckResult(check_name=name, passed=passed, metadata={"failures": failures})

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        for day, bad in [(day1, 3), (day2, 0)]:  # "bad" failed on day 1, passed on day 2
            rows = check_rows([result("ok", True, 0), result("bad", not bad, bad)], day, day, "r")
            record_checks(con, "scores", day, day, rows)
        # A re-run of day 1 replaces its results and leaves day 2's.
        rows = check_rows([result("ok", True, 0), result("bad", False, 5)], day1, day1, "r2")
        record_checks(con, "scores", day1, day1, rows)
        first = check_results(con, specs, day1).set_index("check_name")
        second = check_results(con, specs, day2).set_index("check_name")
        later = check_results(con, specs, date(2016, 1, 9)).set_index("check_name")
        recorded = con.execute("SELECT count(*) FROM check_results").fetchone()[0]
    assert recorded == 4
    assert first.loc["bad", "status"] == "failed" and first.loc["bad", "failures"] == 5
    assert first.loc["bad", "run_id"] == "r2"
    assert json.loads(first.loc["bad", "metadata"]) == {"failures": 5}
    assert second.loc["bad", "status"] == "passed" and second.loc["bad", "failures"] == 0
    assert later.loc["bad", "partition"] == "2016-01-02"  # the newest run up to the day
    assert first.loc["ok", "status"] == "passed"
    assert first.loc["never", "status"] == "never run" and pd.isna(first.loc["never", "passed"])


@pytest.mark.parametrize("table", ["ratings", "movie_features", "recommender"])
def test_snapshot_tables_keep_the_warehouse_schema(full_warehouse, table):
    current = snapshot.current(snapshot.snapshot_dir(full_warehouse.path))
    with duckdb.connect(str(current.path), read_only=True) as copy:
        copied = copy.execute(f"DESCRIBE {table}").df()[["column_name", "column_type"]]
    live = full_warehouse.query(f"DESCRIBE {table}")[["column_name", "column_type"]]
    pd.testing.assert_frame_equal(copied, live)


KILLED_WRITER = """
import sys
from datetime import date
from pathlib import Path

import duckdb

from movie_assets.publish import snapshot

con = duckdb.connect()
slow = "SELECT i, md5(i::VARCHAR) AS h FROM range(2000000000) t(i)"
snapshot.write(con, Path(sys.argv[1]), date(2016, 10, 16), {"t": (slow, [])}, {})
"""


def test_a_killed_publish_leaves_nothing_behind_once_the_next_one_runs(tmp_path):
    directory = tmp_path / "snapshots"
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(directory)], cwd=Path(__file__).parent.parent
    )
    try:
        deadline = time.monotonic() + 60
        while not list(directory.glob(".*.tmp*")) or not _grew(directory):
            assert writer.poll() is None, "the writer finished before it could be killed"
            assert time.monotonic() < deadline, "the writer never started writing"
            time.sleep(0.2)
    finally:
        writer.kill()
        writer.wait()
    left = sorted(p.name for p in directory.iterdir())
    assert any(name.endswith(".tmp") for name in left), left
    # Another publish in progress (this process is alive) keeps its temporary file.
    in_progress = directory / f".dashboard_20161017_x.duckdb.{os.getpid()}.tmp"
    in_progress.write_bytes(b"being written")

    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 1 AS x")
    path, swapped = _publish(con, directory, DAY)
    assert swapped
    remaining = sorted(p.name for p in directory.iterdir())
    assert remaining == sorted([snapshot.POINTER, path.name, in_progress.name])


def _grew(directory: Path) -> bool:
    return sum(p.stat().st_size for p in directory.glob(".*.tmp*")) > 0
