"""The same graph on Spark: every table the DuckDB engine publishes, Spark publishes too.

One generated archive in the ml-25m layout (benchmarks/archives.py) is ingested and
every snapshot asset run, once with the DuckDB engine and once with
``MOVIE_ENGINE=spark`` in local mode (its ratings read by Spark's CSV reader), and the
Dash snapshots the two publish are compared table by table, row for row: exact for
everything but floats, which agree to a relative 1e-9 (the engines sum in different
orders), and the rejects' place, a split offset where DuckDB gives a line number. The
check results published beside them agree too. A Spark Connect server started here on
127.0.0.1 ingests the last month and runs the clean and feature slice the same way,
the slice on a copy of a warehouse the DuckDB engine ingested.

The reference is the DuckDB engine, whose tables other tests pin against pandas
(tests/test_engine.py, tests/test_scale_graph.py).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from benchmarks.archives import movielens_zip
from benchmarks.spark_engine import ENGINE_ASSETS as ENGINE_TABLES
from benchmarks.spark_engine import SLICE, resources
from movie_assets.build import BuildReport, run_history, run_snapshots
from movie_assets.definitions import build_defs
from movie_assets.publish import snapshot
from movie_assets.resources import Engine, build_resources
from movie_assets.schemas import TABLES
from movie_assets.sources.spark_csv import NO_LINE

pytestmark = pytest.mark.spark

RATINGS = 40_000
# Two years of history keep Dagster's per-day bookkeeping of the range run short.
FIRST, AS_OF = "2014-10-17", "2016-10-16"
RTOL = 1e-9
# Set by the clock, not by the data: when a row was received, rejected, published.
WALL_CLOCK = {"ingested_at", "rejected_at", "evaluated_at", "published_at", "run_id"}


def _snapshots(
    archive, name: str, spark: str | None = None, selection=None, ingest: bool = False
) -> Path:
    """A copy of the ingested warehouse, its snapshots run as of AS_OF; returns its path.

    ``spark`` None runs the DuckDB engine, "" Spark in local mode, else a Connect URL.
    ``ingest`` starts from an empty warehouse and ingests the ratings with that engine
    first, in the same Dagster instance, so the ingestion's checks are published too.
    """
    zip_path, base = archive
    path = base.parent.parent / name / "warehouse.duckdb"
    path.parent.mkdir()
    if not ingest:
        shutil.copy(base, path)
    engine = None
    if spark is not None:
        engine = Engine(
            kind="spark", spark_remote=spark, spark_warehouse=str(path.parent / "parquet")
        )
    defs = build_defs(resources(path, zip_path, engine))
    report = BuildReport()
    instance = dg.DagsterInstance.ephemeral()
    if ingest:
        run_history(defs, instance, FIRST, AS_OF, report)
    if selection is None:
        run_snapshots(defs, instance, AS_OF, report)
    else:
        job = defs.resolve_job_def("movie_graph")
        result = job.execute_in_process(
            instance=instance,
            partition_key=AS_OF,
            asset_selection=list(selection.resolve(defs.resolve_asset_graph())),
            raise_on_error=False,
        )
        report.runs.append(("slice", result.success, 0.0))
    assert report.ok, report
    return path


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Path, Path]:
    """The archive and a warehouse holding its raw ratings, ingested by the DuckDB path."""
    tmp = tmp_path_factory.mktemp("spark")
    zip_path = tmp / "ml-25m.zip"
    movielens_zip(zip_path, RATINGS, seed=3)
    base = tmp / "base" / "warehouse.duckdb"
    base.parent.mkdir()
    report = BuildReport()
    defs = build_defs(resources(base, zip_path))
    run_history(defs, dg.DagsterInstance.ephemeral(), FIRST, AS_OF, report)
    assert report.ok, report
    return zip_path, base


@pytest.fixture(scope="module")
def on_duckdb(archive) -> Path:
    return _snapshots(archive, "duckdb", ingest=True)


def _published(warehouse: Path) -> duckdb.DuckDBPyConnection:
    current = snapshot.current(snapshot.snapshot_dir(warehouse))
    assert current is not None, f"nothing published next to {warehouse}"
    return duckdb.connect(str(current.path), read_only=True)


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """The rows in a canonical order, clock-set columns left out, lists as text."""
    frame = con.execute(sql).df()
    frame = frame.drop(columns=[c for c in frame.columns if c in WALL_CLOCK])
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].map(lambda v: repr(list(v)) if hasattr(v, "tolist") else v)
    return frame.sort_values(list(frame.columns), ignore_index=True) if len(frame) else frame


def _assert_same(expected: pd.DataFrame, got: pd.DataFrame, table: str) -> None:
    assert list(got.columns) == list(expected.columns), table
    assert len(got) == len(expected), table
    pd.testing.assert_frame_equal(
        got, expected, check_dtype=False, check_exact=False, rtol=RTOL, obj=table
    )


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables ORDER BY 1"
        ).fetchall()
    ]


def test_every_published_table_equals_the_duckdb_engines(archive, on_duckdb):
    """Both engines ingest the ratings (Spark with its CSV reader), then run every snapshot."""
    path = _snapshots(archive, "spark", spark="", ingest=True)
    with _published(on_duckdb) as want, _published(path) as got:
        names = _tables(want)
        assert _tables(got) == names
        assert set(ENGINE_TABLES) < set(names)
        for name in names:
            sql = f"SELECT * FROM {name}"
            expected = _rows(want, sql)
            if name == "rejects":  # Spark gives the split's offset where DuckDB gives the line
                expected["reason"] = expected["reason"].str.replace(
                    r" line \d+: ", f" split at byte 0 ({NO_LINE}): ", regex=True
                )
                expected = expected.sort_values(list(expected.columns), ignore_index=True)
            _assert_same(expected, _rows(got, sql), name)
        assert (
            want.execute("SELECT count(*) FROM rejects WHERE asset = 'raw_ratings'").fetchone()[0]
            > 0
        )
        ingested = "SELECT status FROM dq_checks WHERE asset = 'raw_ratings'"
        assert {r[0] for r in got.execute(ingested).fetchall()} == {"passed"}
        # Not trivially equal: the engine tables and the rejects have rows, the checks ran.
        for name in [*ENGINE_TABLES, "rejects"]:
            assert want.execute(f"SELECT count(*) FROM {name}").fetchone()[0] > 0, name
        ran = got.execute("SELECT count(*) FROM dq_checks WHERE status = 'passed'").fetchone()
        assert ran[0] > 20
    # The engine tables are Parquet under the warehouse path, one directory per day; the star
    # schema's views are the warehouse's own, over them.
    root = path.parent / "parquet"
    for name in [n for n in ENGINE_TABLES if not TABLES[n].view]:
        days = [p.name for p in (root / name).iterdir() if p.is_dir()]
        assert days == [f"as_of={AS_OF}"], name
        assert list((root / name / days[0]).glob("*.parquet")), name
    assert (root / "rejects" / "asset=ratings" / f"partition_date={AS_OF}").is_dir()
    # raw_ratings is the engine's own table: ratings read it there, not through _exchange/.
    assert [p for p in (root / "raw_ratings").iterdir() if p.name.startswith("rating_date=")]
    assert not (root / "_exchange" / "raw_ratings.parquet").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop_sessions() -> None:
    """PySpark refuses a remote session beside a local one, and a remote session leaves
    the process in Connect mode (SPARK_CONNECT_MODE_ENABLED): undo both between tests."""
    from pyspark.sql import SparkSession
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    for kind in (SparkSession, ConnectSession):
        if (active := kind.getActiveSession()) is not None:
            active.stop()
    os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)


@pytest.fixture(scope="module")
def connect_server(tmp_path_factory):
    """A Spark Connect server on 127.0.0.1, as pyspark ships it (sbin/start-connect-server.sh)."""
    import pyspark

    home = Path(pyspark.__file__).parent
    logs = tmp_path_factory.mktemp("connect")
    port = _free_port()
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOG_DIR": str(logs),
        "SPARK_PID_DIR": str(logs),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    env.pop("SPARK_REMOTE", None)
    _stop_sessions()  # the local session of the test before
    command = [
        str(home / "sbin" / "start-connect-server.sh"),
        "--wait",  # in the foreground, so this process owns it
        "--master",
        "local[2]",
        "--driver-memory",
        "1g",
        "--conf",
        "spark.connect.grpc.binding.address=127.0.0.1",
        "--conf",
        f"spark.connect.grpc.binding.port={port}",
        "--conf",
        "spark.ui.enabled=false",
    ]
    out = open(logs / "server.out", "w")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert server.poll() is None, (logs / "server.out").read_text()[-2000:]
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(1)
        else:
            pytest.fail("the Spark Connect server did not listen within 180 s")
        yield f"sc://127.0.0.1:{port}"
        _stop_sessions()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        out.close()


def test_the_slice_through_spark_connect_equals_the_duckdb_engines(
    archive, on_duckdb, connect_server
):
    path = _snapshots(archive, "connect", spark=connect_server, selection=SLICE)
    with (
        duckdb.connect(str(on_duckdb), read_only=True) as want,
        duckdb.connect(str(path), read_only=True) as got,
    ):
        for name in [*ENGINE_TABLES, "movie_features"]:
            sql = f"SELECT * FROM {name} WHERE as_of = '{AS_OF}'"
            _assert_same(_rows(want, sql), _rows(got, sql), name)
        sql = f"SELECT * FROM rejects WHERE asset = 'ratings' AND partition_date = '{AS_OF}'"
        _assert_same(_rows(want, sql), _rows(got, sql), "rejects")
        assert got.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = 'ratings'"
        ).fetchone() == ("VIEW",)


def test_raw_ratings_read_through_spark_connect_equal_the_python_readers(
    archive, connect_server, tmp_path
):
    """The last month of ratings ingested by Spark's CSV reader through the Connect server."""
    zip_path, base = archive
    first = "2016-09-17"
    engine = Engine(kind="spark", spark_remote=connect_server, spark_warehouse=str(tmp_path / "pq"))
    defs = build_defs(resources(tmp_path / "warehouse.duckdb", zip_path, engine))
    report = BuildReport()
    run_history(defs, dg.DagsterInstance.ephemeral(), first, AS_OF, report)
    assert report.ok, report
    rows = f"SELECT * FROM raw_ratings WHERE rating_date BETWEEN '{first}' AND '{AS_OF}'"
    rejects = (
        "SELECT * FROM rejects WHERE asset = 'raw_ratings' "
        f"AND partition_date BETWEEN '{first}' AND '{AS_OF}'"
    )
    with (
        duckdb.connect(str(base), read_only=True) as want,
        duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as got,
    ):
        _assert_same(_rows(want, rows), _rows(got, rows), "raw_ratings")
        expected = _rows(want, rejects)
        assert len(expected) > 0
        expected["reason"] = expected["reason"].str.replace(
            r" line \d+: ", f" split at byte 0 ({NO_LINE}): ", regex=True
        )
        _assert_same(expected, _rows(got, rejects), "rejects")


def test_the_engine_is_chosen_by_the_environment_and_the_token_stays_out_of_logs(
    tmp_path, monkeypatch
):
    url = "sc://spark.example:443/;use_ssl=true;token=s3cr3t-t0ken"
    monkeypatch.setenv("MOVIE_ENGINE", "spark")
    monkeypatch.setenv("SPARK_REMOTE", url)
    monkeypatch.setenv("MOVIE_SPARK_WAREHOUSE", "s3a://bucket/warehouse")

    @dg.asset
    def engine_config(duckdb: dg.ConfigurableResource) -> dict:
        return duckdb.engine.model_dump()

    instance = dg.DagsterInstance.ephemeral()
    resources = build_resources(tmp_path / "warehouse.duckdb")
    result = dg.materialize([engine_config], resources=resources, instance=instance)
    got = result.output_for_node("engine_config")
    assert (got["kind"], got["spark_remote"]) == ("spark", url)
    assert got["spark_warehouse"] == "s3a://bucket/warehouse"
    logged = [str(e) for e in instance.all_logs(result.run_id)]
    assert logged and not [e for e in logged if "s3cr3t" in e]
    assert "s3cr3t" not in str(instance.get_run_by_id(result.run_id).run_config)
    monkeypatch.setenv("MOVIE_ENGINE", "sparky")
    with pytest.raises(ValueError, match="MOVIE_ENGINE"):
        build_resources(tmp_path / "other.duckdb")
