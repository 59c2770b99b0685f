"""Operating the warehouse and the servers: real faults, real processes.

- A full disk: a 1 MiB tmpfs mounted in a private mount namespace (``unshare -r -m``,
  no root needed where unprivileged user namespaces are allowed), so DuckDB's COMMIT
  meets a real ENOSPC from the kernel.
- A read-only warehouse: a read-only bind mount in such a namespace (file modes do
  not stop root, and these tests may run as root).
- A corrupted warehouse, lock contention, two builds at once, a failed build's
  summary and the servers' stop are plain processes on this machine.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from movie_assets.cli import _exposure_refused
from movie_assets.resources import Warehouse
from movie_assets.settings import PROJECT_ROOT
from movie_assets.warehouse import connect, holding

BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def _dagster_home(monkeypatch):
    """instance_at changes DAGSTER_HOME (dagster.yaml reads it); this restores it."""
    monkeypatch.setenv("DAGSTER_HOME", os.environ.get("DAGSTER_HOME", ""))


def instance_at(home: Path) -> dg.DagsterInstance:
    os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.get()


def _can_mount() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = "mount -t tmpfs -o size=64k tmpfs /mnt"
    return subprocess.run(["unshare", "-r", "-m", "sh", "-c", probe]).returncode == 0


needs_namespace = pytest.mark.skipif(
    not _can_mount(), reason="needs unprivileged user and mount namespaces (unshare -r -m)"
)


def in_namespace(setup: str, script: str, **env: str) -> subprocess.CompletedProcess:
    """Python ``script`` run after the shell commands ``setup``, in a private mount namespace."""
    command = setup + ' && exec "$0" -c "$1"'
    return subprocess.run(
        ["unshare", "-r", "-m", "sh", "-c", command, sys.executable, script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
    )


# --- 12.10: the first error is the one the user sees ----------------------------------------------

FULL_DISK = """
import os
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from movie_assets.warehouse import replace_partition


def ratings(day, n):
    rng = np.random.default_rng(0)  # random ids: DuckDB cannot compress them away
    ts = pd.Timestamp(day)
    return pd.DataFrame({
        "user_id": rng.integers(1, 2**40, n), "movie_id": rng.integers(1, 2**30, n),
        "rating": rng.integers(1, 11, n) / 2, "timestamp": int(ts.timestamp()),
        "rating_date": ts, "source": "test", "ingested_at": pd.Timestamp("2026-01-01"),
    })


path = os.environ["WAREHOUSE"]
con = duckdb.connect(path)
replace_partition(con, "raw_ratings", ratings("2020-01-01", 10), date(2020, 1, 1), date(2020, 1, 1))
try:
    # Fits in memory, not on the 1 MiB disk: the COMMIT is what fails.
    replace_partition(
        con, "raw_ratings", ratings("2020-01-02", 40_000), date(2020, 1, 2), date(2020, 1, 2)
    )
except Exception as err:
    print("ERROR", type(err).__name__, str(err).replace("\\n", " "))
    print("NOTES", getattr(err, "__notes__", []))
con.close()
with duckdb.connect(path, read_only=True) as again:
    print("LEFT", again.execute("SELECT count(*) FROM raw_ratings").fetchall()[0][0])
"""


@needs_namespace
def test_a_full_disk_is_reported_as_a_full_disk(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    done = in_namespace(
        f"mount -t tmpfs -o size=1m tmpfs {disk}", FULL_DISK, WAREHOUSE=str(disk / "w.duckdb")
    )
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    # The error raised is COMMIT's own, naming the file and the cause ...
    assert lines["ERROR"].startswith("TransactionException")
    assert "No space left on device" in lines["ERROR"]
    assert "cannot rollback" not in lines["ERROR"]
    # ... the ROLLBACK that DuckDB refused after it is a note, not the error ...
    assert "cannot rollback - no transaction is active" in lines["NOTES"]
    # ... and the partition written before the failed one is intact.
    assert lines["LEFT"] == "10"


def test_a_file_size_limit_at_commit_is_reported_as_such(tmp_path):
    """The same fault where namespaces are not allowed: the kernel refuses writes past
    RLIMIT_FSIZE (EFBIG, "File too large"), also at COMMIT."""
    import resource

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an error from write(), not a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))

    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK],
        preexec_fn=limit,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
        env={**os.environ, "WAREHOUSE": str(tmp_path / "w.duckdb")},
    )
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert lines["ERROR"].startswith("TransactionException")
    assert "File too large" in lines["ERROR"] and "cannot rollback" not in lines["ERROR"]
    assert "cannot rollback - no transaction is active" in lines["NOTES"]
    assert lines["LEFT"] == "10"


# --- 12.11: retry only on lock contention ---------------------------------------------------------

OPEN = """
import os, time
from movie_assets.resources import Warehouse

started = time.monotonic()
try:
    with Warehouse(database=os.environ["WAREHOUSE"]).get_connection() as con:
        con.execute("CREATE TABLE t (a INT)")
    print("OPENED")
except Exception as err:
    print("ERROR", type(err).__name__, str(err).replace("\\n", " "))
print("SECONDS", round(time.monotonic() - started, 2))
"""


@needs_namespace
def test_a_read_only_warehouse_fails_at_once_with_its_message(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    duckdb.connect(str(folder / "w.duckdb")).close()
    done = in_namespace(
        f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder}",
        OPEN,
        WAREHOUSE=str(folder / "w.duckdb"),
    )
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert "Read-only file system" in lines["ERROR"], done.stdout
    assert str(folder / "w.duckdb") in lines["ERROR"]
    assert float(lines["SECONDS"]) < 5


def test_a_corrupted_warehouse_fails_at_once_with_its_message(tmp_path):
    path = tmp_path / "w.duckdb"
    path.write_bytes(b"this is not a database " * 500)
    started = time.monotonic()
    with pytest.raises(duckdb.IOException, match="not a valid DuckDB database file"):
        with Warehouse(database=str(path)).get_connection():
            pass
    assert time.monotonic() - started < 5


HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("HOLDING", flush=True)
time.sleep(float(sys.argv[2]))
"""


def _hold(path: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "HOLDING"
    return holder


def test_lock_contention_is_waited_out_and_then_reported(tmp_path):
    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    # Another process holds the file for 3 s: the connection waits, then succeeds.
    holder = _hold(path, 3)
    said = []
    started = time.monotonic()
    with connect(str(path), wait_seconds=30, say=said.append) as con:
        assert con.execute("SELECT 42").fetchall() == [(42,)]
    assert 1 < time.monotonic() - started < 25
    assert said and "locked by another process" in said[0]
    holder.wait()
    # Held for longer than the wait: DuckDB's lock message, and how long it waited.
    holder = _hold(path, 30)
    try:
        with pytest.raises(duckdb.IOException, match="Could not set lock") as raised:
            connect(str(path), wait_seconds=1)
        assert "still locked after waiting 1 s" in "".join(raised.value.__notes__)
    finally:
        holder.kill()
        holder.wait()


# --- 12.7, 12.12: the build's summary; two builds at once ----------------------------------------

SLICE = ("--start", "2016-09-01", "--end", "2016-10-16")  # the slice conftest builds


def cli_env(data: Path, **extra: str) -> dict[str, str]:
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith(("MOVIE_", "DAGSTER_HOME"))
    }
    return {**inherited, "MOVIE_DATA_DIR": str(data), "MOVIE_DUCKDB_THREADS": "1", **extra}


def cli(*args: str, env: dict, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "movie_assets.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **popen,
    )


@pytest.mark.slow
def test_a_failed_step_is_summarized_by_its_cause_once(tmp_path):
    """A FRED file without its date column: the summary names file, line and reason."""
    bad = tmp_path / "cpi.csv"
    bad.write_text("when,CPIAUCNS\n2013-01-01,230.1\n")
    env = cli_env(tmp_path / "data", MOVIE_SOURCE="embedded,cpi=fred", MOVIE_FRED_CPI=str(bad))
    out, _ = cli("build", "--start", "2016-10-10", "--end", "2016-10-16", env=env).communicate(
        timeout=600
    )
    reason = "cpi.csv line 1: missing the date column (observation_date or DATE)"
    summary = out[out.index("ok   raw_ratings") :]
    assert re.search(r"FAIL snapshots as of 2016-10-16 \(\d+\.\d s\)\n", summary), out
    cause = re.search(r"\n     cpi_series: (.*)\n", summary).group(1)
    assert cause.startswith("movie_assets.sources.files.SourceFileError: " + reason)
    assert re.search(r"\n     traceback: Dagster UI, /runs/[0-9a-f-]{36}\n", summary)
    # The reason appears once in all the output, and no traceback is printed.
    assert out.count(reason) == 1, out
    assert "Traceback" not in out and "Stack Trace" not in out and 'File "' not in out
    assert re.search(r"\nbuild failed in \d+\.\d s$", out.rstrip())
    # The traceback is in the run's event log.
    home = tmp_path / "data" / "dagster_home"
    run_id = re.search(r"/runs/([0-9a-f-]{36})", summary).group(1)
    with instance_at(home) as instance:
        failures = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    (cpi,) = [f for f in failures if f.step_key == "cpi_series"]
    assert 'File "' in cpi.dagster_event.step_failure_data.error.to_string()


def runs_in(home: Path) -> list[tuple[str, float, float]]:
    with instance_at(home) as instance:
        records = instance.get_run_records(ascending=True)
        return [
            (r.dagster_run.tags.get("movie_assets/build_pid"), r.start_time, r.end_time)
            for r in records
        ]


@pytest.mark.slow
def test_two_builds_at_once_run_one_after_the_other(tmp_path):
    data = tmp_path / "data"
    env = cli_env(data)
    first = cli("build", *SLICE, env=env)
    lock = data / "warehouse.duckdb.build.lock"
    deadline = time.monotonic() + 120
    while not (lock.exists() and f"pid {first.pid}" in lock.read_text()):
        assert time.monotonic() < deadline and first.poll() is None, first.stdout.read()
        time.sleep(0.2)
    second = cli("build", *SLICE, env=env)
    out_first, _ = first.communicate(timeout=900)
    out_second, _ = second.communicate(timeout=900)
    assert first.returncode == 0 and second.returncode == 0, out_first + out_second
    waiting = (
        f"waiting: the warehouse {data / 'warehouse.duckdb'} is held by pid {first.pid} "
        "(movie-analytics build, since "
    )
    assert waiting in out_second, out_second
    # It said so before running anything.
    assert out_second.index(waiting) < out_second.index("raw_ratings")
    assert "is free; movie-analytics build starts" in out_second
    # Two runs each, the second build's after the first's: no step of one between the other's.
    runs = runs_in(data / "dagster_home")
    assert [pid for pid, _, _ in runs] == [str(first.pid)] * 2 + [str(second.pid)] * 2
    for (_, _, end), (_, start, _) in zip(runs, runs[1:], strict=False):
        assert end <= start


# --- 12.16: exposure ----------------------------------------------------------------------------


def test_binding_beyond_loopback_needs_the_opt_in(tmp_path, capsys):
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert _exposure_refused(host, allow_remote=False) is None
    refused = _exposure_refused("0.0.0.0", allow_remote=False)
    assert "refusing to serve on 0.0.0.0" in refused and "--allow-remote" in refused
    assert capsys.readouterr().err == ""
    assert _exposure_refused("0.0.0.0", allow_remote=True) is None
    assert "WARNING: serving on 0.0.0.0 without authentication" in capsys.readouterr().err
    # The command itself refuses before starting anything.
    env = cli_env(tmp_path / "data", MOVIE_HOST="0.0.0.0")
    for command in ("serve", "up"):
        started = time.monotonic()
        out, _ = cli(command, env=env).communicate(timeout=120)
        assert "refusing to serve on 0.0.0.0" in out, out
        assert time.monotonic() - started < 60  # `up` refuses before it builds
    assert not (tmp_path / "data" / "logs").exists()
    assert not (tmp_path / "data" / "warehouse.duckdb").exists()


# --- 12.17, 12.8, 12.16: the servers as a process tree --------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid: int) -> set[int]:
    """Every live process below pid, from /proc (zombies count as gone)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Served:
    """`movie-analytics serve` (or `up`) on free ports in a temporary data folder."""

    def __init__(self, tmp_path: Path, command: tuple[str, ...] = ("serve",)):
        self.data = tmp_path / "data"
        self.ports = (free_port(), free_port())
        self.env = cli_env(self.data)
        self.proc = cli(
            *command,
            *("--dagster-port", str(self.ports[0]), "--dash-port", str(self.ports[1])),
            env=self.env,
        )
        self.lines: list[str] = []
        deadline = time.monotonic() + 900
        while not any(line.startswith("Server logs in") for line in self.lines):
            assert time.monotonic() < deadline, self.lines
            line = self.proc.stdout.readline()
            assert line or self.proc.poll() is None, "".join(self.lines)
            self.lines.append(line)

    def stop(self) -> None:
        if self.proc.poll() is None:
            tree = descendants(self.proc.pid)
            self.proc.kill()
            for pid in tree:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.wait()


@pytest.fixture
def served(tmp_path):
    server = Served(tmp_path)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def up(tmp_path):
    server = Served(tmp_path, ("up", *SLICE))
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.slow
def test_sigterm_to_up_stops_every_server_and_its_children(up):
    """`up` builds, then serves; the URLs end its output, and SIGTERM ends it all."""
    served = up
    assert "build succeeded in " in "".join(served.lines)
    host = "127.0.0.1"
    dagster_port, dash_port = served.ports
    # The URLs are the last lines, printed once the servers answer.
    assert [line.strip() for line in served.lines if line.strip()][-3:] == [
        f"Dagster UI: http://{host}:{dagster_port}",
        f"Dash app:   http://{host}:{dash_port}",
        f"Server logs in {served.data / 'logs'}; Ctrl-C stops everything.",
    ]
    tree = descendants(served.proc.pid)
    names = {Path(f"/proc/{pid}/cmdline").read_bytes() for pid in tree}
    for server in (b"dagster-webserver", b"dagster-daemon", b"gunicorn", b"code-server"):
        assert any(server in n for n in names), server
    # gunicorn's control socket is this instance's own.
    assert (served.data / "run" / f"gunicorn-{dash_port}.ctl").exists()
    started = time.monotonic()
    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(timeout=30) == 0
    took = time.monotonic() - started
    # multiprocessing's resource tracker (a child of `up` itself) ends on its own once
    # `up` has exited and its pipe closes: give it a moment, never a kill.
    settle = time.monotonic() + 10
    while (left := [pid for pid in tree if alive(pid)]) and time.monotonic() < settle:
        time.sleep(0.2)
    assert left == [], [Path(f"/proc/{p}/cmdline").read_bytes() for p in left]
    assert took < 20


@pytest.mark.slow
def test_the_code_server_is_not_replaced_while_idle(served):
    """Webserver and daemon share one code server: no restart, no heartbeat miss (90 s idle)."""
    time.sleep(90)
    log = (served.data / "logs" / "code-server.log").read_text()
    daemon = (served.data / "logs" / "dagster-daemon.log").read_text()
    assert log.count("Started Dagster code server for module") == 1, log
    assert "No heartbeat received" not in log + daemon
    assert "BetaWarning" not in daemon and "multiple backfill policies" not in daemon


def launch(served: Served, first: str, last: str) -> str:
    """A ratings_history run submitted to the queue as the UI does; its run id."""
    tags = (
        f'{{"dagster/asset_partition_range_start": "{first}", '
        f'"dagster/asset_partition_range_end": "{last}"}}'
    )
    done = subprocess.run(
        [str(BIN / "dagster"), "job", "launch", "-j", "ratings_history", "--tags", tags]
        + ["-w", str(served.data / "run" / "workspace.yaml")],
        cwd=PROJECT_ROOT,
        env={**served.env, "DAGSTER_HOME": str(served.data / "dagster_home")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    with instance_at(served.data / "dagster_home") as instance:
        records = instance.get_run_records(limit=1)
    return records[0].dagster_run.run_id


def wait_run(served: Served, run_id: str, predicate, what: str, timeout: float = 300):
    deadline = time.monotonic() + timeout
    with instance_at(served.data / "dagster_home") as instance:
        while time.monotonic() < deadline:
            run = instance.get_run_by_id(run_id)
            value = predicate(instance, run)
            if value:
                return value
            assert served.proc.poll() is None, "serve exited"
            time.sleep(0.5)
    daemon = (served.data / "logs" / "dagster-daemon.log").read_text()[-3000:]
    raise AssertionError(f"timed out waiting for {what}; status {run.status}\n{daemon}")


def worker_pid(instance: dg.DagsterInstance, run: dg.DagsterRun) -> int | None:
    if run.status != dg.DagsterRunStatus.STARTED:
        return None
    for entry in instance.all_logs(run.run_id):
        found = re.search(r"Started process for run \(pid: (\d+)\)", entry.message or "")
        if found:
            return int(found.group(1))
    return None


@pytest.mark.slow
def test_a_killed_run_is_marked_failed_and_the_next_queued_run_launches(served):
    """max_concurrent_runs is 1: the second run waits in the queue behind the first."""
    killed = launch(served, "1995-01-09", "2016-10-16")
    queued = launch(served, "2016-10-10", "2016-10-16")
    pid = wait_run(served, killed, worker_pid, "the first run's worker process")
    with instance_at(served.data / "dagster_home") as instance:
        assert instance.get_run_by_id(queued).status == dg.DagsterRunStatus.QUEUED
    os.kill(pid, signal.SIGKILL)
    wait_run(served, killed, lambda _, r: r.is_finished, "the killed run to be marked")
    wait_run(served, queued, lambda _, r: r.is_finished, "the queued run to run")
    with instance_at(served.data / "dagster_home") as instance:
        first, second = instance.get_run_by_id(killed), instance.get_run_by_id(queued)
        messages = [e.message for e in instance.all_logs(killed)]
    assert first.status == dg.DagsterRunStatus.FAILURE
    assert any("unexpectedly" in m or "SIGKILL" in m or "signal 9" in m for m in messages), messages
    assert second.status == dg.DagsterRunStatus.SUCCESS
    with duckdb.connect(str(served.data / "warehouse.duckdb"), read_only=True) as con:
        days = con.execute(
            "SELECT min(rating_date)::DATE::VARCHAR, max(rating_date)::DATE::VARCHAR "
            "FROM raw_ratings WHERE rating_date >= '2016-10-10'"
        ).fetchall()
    assert days == [("2016-10-10", "2016-10-16")]


@pytest.mark.slow
def test_a_run_left_started_when_every_server_died_is_failed_by_the_next_serve(tmp_path):
    """As after a power cut: the run's worker and the code server that watched it are gone
    at once. The next serve marks the run failed, and a run queued after it runs."""
    served = Served(tmp_path)
    try:
        killed = launch(served, "1995-01-09", "2016-10-16")
        worker = wait_run(served, killed, worker_pid, "the run's worker process")
        tree = descendants(served.proc.pid)
        assert worker in tree
        for pid in [served.proc.pid, *tree]:
            os.kill(pid, signal.SIGKILL)
        served.proc.wait()
        deadline = time.monotonic() + 30
        while any(alive(pid) for pid in tree):
            assert time.monotonic() < deadline, "the killed servers did not end"
            time.sleep(0.2)
        with instance_at(served.data / "dagster_home") as instance:
            assert instance.get_run_by_id(killed).status == dg.DagsterRunStatus.STARTED
    finally:
        served.stop()
    again = Served(tmp_path)
    try:
        said = f"marked run {killed} failed: its run worker and code server are gone"
        assert said in "".join(again.lines), again.lines
        queued = launch(again, "2016-10-10", "2016-10-16")
        wait_run(again, queued, lambda _, r: r.is_finished, "the next run to run")
        with instance_at(again.data / "dagster_home") as instance:
            assert instance.get_run_by_id(killed).status == dg.DagsterRunStatus.FAILURE
            assert instance.get_run_by_id(queued).status == dg.DagsterRunStatus.SUCCESS
    finally:
        again.stop()


def wait_for_build_run(home: Path, build: subprocess.Popen) -> str:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert build.poll() is None, build.stdout.read()
        if (home / "dagster.yaml").exists():
            with instance_at(home) as instance:
                started = instance.get_run_records(
                    dg.RunsFilter(
                        statuses=[dg.DagsterRunStatus.STARTED],
                        tags={"movie_assets/build_pid": str(build.pid)},
                    )
                )
            if started:
                return started[0].dagster_run.run_id
        time.sleep(0.2)
    raise AssertionError("the build's run never started")


@pytest.mark.slow
def test_a_stopped_or_killed_build_leaves_no_run_started(tmp_path):
    from movie_assets.build import fail_orphaned_runs

    data = tmp_path / "data"
    home = data / "dagster_home"
    # SIGTERM, as a service manager stops it: the build ends its run as failed and exits.
    build = cli("build", *SLICE, env=cli_env(data))
    run_id = wait_for_build_run(home, build)
    build.send_signal(signal.SIGTERM)
    out, _ = build.communicate(timeout=60)
    assert build.returncode == 130, out
    assert out.rstrip().endswith("stopped: the build was interrupted")
    assert f"FAIL raw_ratings {SLICE[1]}..{SLICE[3]}" in out
    with instance_at(home) as instance:
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
    # SIGKILL: nothing runs in the build any more; the next build (or serve) marks it failed.
    build = cli("build", *SLICE, env=cli_env(data))
    run_id = wait_for_build_run(home, build)
    build.kill()
    build.communicate(timeout=60)
    with instance_at(home) as instance:
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED
        assert fail_orphaned_runs(instance) == [run_id]
        run = instance.get_run_by_id(run_id)
        assert run.status == dg.DagsterRunStatus.FAILURE
        assert fail_orphaned_runs(instance) == []


HOLDER = """
import sys, time
from movie_assets.warehouse import holding
with holding(sys.argv[1], "test holder"):
    print("HELD", flush=True)
    time.sleep(2)
"""


def test_a_second_holder_waits_saying_who_holds_and_a_process_may_hold_twice(tmp_path):
    database = str(tmp_path / "w.duckdb")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, database],
        stdout=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert holder.stdout.readline().strip() == "HELD"
    said: list[str] = []
    started = time.monotonic()
    with holding(database, "second", say=said.append):
        waited = time.monotonic() - started
        with holding(database, "the same process again", say=said.append):
            pass  # re-entrant: no wait, nothing said
    assert waited > 0.5
    assert said[0].startswith(
        f"waiting: the warehouse {database} is held by pid {holder.pid} (test holder, since "
    )
    assert said[1:] == [f"the warehouse {database} is free; second starts"]
    holder.wait()
