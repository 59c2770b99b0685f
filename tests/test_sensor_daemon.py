"""End to end: the real `dagster-daemon run` turns each new watch-log file into one run.

The code location is the repo's workspace.yaml; the instance is a temporary DAGSTER_HOME
holding a copy of the repo's dagster.yaml (as `movie-analytics serve` prepares it); the
warehouse, the watch folder and a one-week partition span are temporary too. Every
expected value is computed here from the rows the test writes, with plain Python.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from movie_assets.sensors import WATCH_TAG
from movie_assets.settings import PROJECT_ROOT

KEY = "daemon-test-watch-key-0123456789"
SENSOR = "watch_logs_sensor"
FOLLOW = "watch_logs_snapshots"
SENSOR_TAG = "dagster/sensor_name"
WAIT = 150  # seconds per phase: two cores, shared with other test runs
BIN = Path(sys.executable).parent


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


MOVIES = [1, 2, 32, 47, 50, 110, 150, 260, 296, 318, 356, 480, 527, 589, 593]


def day_rows(who: list[str], day: str, per_user: int, offset: int) -> list[tuple]:
    """Ratings logged on one day: user, movie, timestamp, rating, session (ISO every 3rd)."""
    rows = []
    for u, user in enumerate(who):
        for j in range(per_user):
            at = epoch(f"{day}T08:00:00+00:00") + 3600 * u + 60 * j
            stamp = str(at) if j % 3 else datetime.fromtimestamp(at, UTC).strftime("%FT%TZ")
            rating = f"{1 + (u * 7 + j * 3 + offset) % 9 / 2:.1f}"
            rows.append(
                (user, MOVIES[(u + j + offset) % len(MOVIES)], stamp, rating, f"sess-{u}{day}")
            )
    return rows


USERS = [f"viewer.{name}@example.com" for name in ("ann", "ben", "cy", "dee", "eli", "fay")]
# File 1: six people over 2015-03-02 and 03-03; two lines with an offset that moves the day.
FILE_1 = [
    *day_rows(USERS, "2015-03-02", 4, 0),
    *day_rows(USERS[:4], "2015-03-03", 3, 5),
    # 22:30 at UTC-2 is 00:30 UTC the next day: both rows belong to 2015-03-03
    (USERS[4], 356, "2015-03-02T22:30:00-02:00", "5.0", "sess-late"),
    (USERS[5], 593, "2015-03-02T23:10:00-02:00", "2.5", "sess-late"),
]
# File 2, landing later: two known people and a new one, on 2015-03-05 only.
FILE_2 = day_rows([USERS[1], USERS[3], "viewer.gus@example.com"], "2015-03-05", 3, 2)


def write_log(path: Path, rows) -> Path:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["user_id", "movie_id", "timestamp", "rating", "session_id"])
        writer.writerows(rows)
    return path


def pseudonym(user: str) -> int:
    """HMAC-SHA256 of the identifier under the key, first 63 bits (docs/sources.md)."""
    digest = hmac.new(KEY.encode(), user.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def expected_rows(rows) -> list[tuple[int, int, float, int, date]]:
    out = []
    for user, movie, stamp, rating, _ in rows:
        seconds = int(stamp) if stamp.isdigit() else epoch(stamp.replace("Z", "+00:00"))
        day = datetime.fromtimestamp(seconds, UTC).date()
        out.append((pseudonym(user), movie, float(rating), seconds, day))
    return sorted(out)


class Daemon:
    """A `dagster-daemon run` process group over a temporary instance."""

    def __init__(self, tmp_path: Path, env: dict[str, str]):
        self.env = env
        self.log = tmp_path / "daemon.log"
        self.proc: subprocess.Popen | None = None

    def cli(self, *args: str) -> None:
        done = subprocess.run(
            [str(BIN / "dagster"), *args, "-w", "workspace.yaml"],
            cwd=PROJECT_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    def start(self) -> None:
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: code server and run workers
            )

    def stop(self) -> None:
        """SIGTERM to the whole group, then SIGKILL to whatever of it is left."""
        if self.proc is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)  # the group's id is the daemon's pid
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                continue
            time.sleep(0.5)  # let the code server and run workers finish exiting

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


@pytest.fixture
def daemon_setup(tmp_path, monkeypatch):
    data = tmp_path / "data"
    home = data / "dagster_home"
    home.mkdir(parents=True)
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    logs = tmp_path / "watch"
    logs.mkdir()
    warehouse = data / "warehouse.duckdb"
    # The test process opens the same instance: dagster.yaml reads DAGSTER_HOME.
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("MOVIE_")}
    env = {
        **inherited,
        "DAGSTER_HOME": str(home),
        "MOVIE_DATA_DIR": str(data),
        "MOVIE_WAREHOUSE": str(warehouse),
        "MOVIE_SOURCE": "watch_logs",
        "MOVIE_WATCH_DIR": str(logs),
        "MOVIE_WATCH_KEY": KEY,
        "MOVIE_PARTITIONS_START": "2015-03-01",
        "MOVIE_PARTITIONS_END": "2015-03-08",
        "MOVIE_WATCH_INTERVAL_SECONDS": "5",
    }
    daemon = Daemon(tmp_path, env)
    try:
        yield daemon, logs, warehouse
    finally:
        daemon.stop()


def sensor_states(instance: dg.DagsterInstance) -> list:
    """Every sensor's state (types and statuses compared by value: no private import)."""
    return [s for s in instance.all_instigator_state() if s.instigator_type.value == "SENSOR"]


def sensor_errors(instance: dg.DagsterInstance) -> list[str]:
    """Ticks that failed, of every sensor: a sensor error fails the test at once."""
    return [
        f"{state.instigator_name}: {tick.error.to_string() if tick.error else '?'}"
        for state in sensor_states(instance)
        for tick in instance.get_ticks(state.instigator_origin_id, state.selector_id)
        if tick.status.value == "FAILURE"
    ]


def wait_for(instance, predicate, what: str, daemon: Daemon, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        assert daemon.proc is not None and daemon.proc.poll() is None, (
            f"the daemon exited while waiting for {what}:\n{daemon.tail()}"
        )
        errors = sensor_errors(instance)
        assert not errors, f"a sensor failed while waiting for {what}:\n" + "\n".join(errors)
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}:\n{daemon.tail()}")


def sensor_state(instance: dg.DagsterInstance, name: str):
    return next(s for s in sensor_states(instance) if s.instigator_name == name)


def cursor(instance: dg.DagsterInstance, name: str) -> str | None:
    data = sensor_state(instance, name).sensor_instigator_data
    return data.cursor if data else None


def ticks(instance: dg.DagsterInstance, name: str):
    state = sensor_state(instance, name)
    return instance.get_ticks(state.instigator_origin_id, state.selector_id)


def runs_of(instance: dg.DagsterInstance, sensor: str) -> list[dg.DagsterRun]:
    records = instance.get_run_records(dg.RunsFilter(tags={SENSOR_TAG: sensor}), ascending=True)
    return [r.dagster_run for r in records]


def finished(runs: list[dg.DagsterRun], count: int) -> bool:
    return len(runs) >= count and all(r.is_finished for r in runs)


def skipped_after(instance: dg.DagsterInstance, run: dg.DagsterRun) -> bool:
    """A tick of the watch sensor after the one that requested `run` found nothing new."""
    requested = next(t for t in ticks(instance, SENSOR) if run.run_id in t.run_ids)
    return any(
        t.timestamp > requested.timestamp
        and t.status.value == "SKIPPED"
        and t.skip_reason == "no new watch-log files"
        for t in ticks(instance, SENSOR)
    )


def raw_ratings(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT user_id, movie_id, rating, timestamp, rating_date::DATE, source "
            "FROM raw_ratings ORDER BY ALL"
        ).fetchall()
    assert {r[-1] for r in rows} == {"watch_logs"}
    return sorted(r[:-1] for r in rows)


def assert_no_personal_data(warehouse: Path, rows) -> None:
    """No table holds a logged identifier or session id, in any column."""
    secrets = {user for user, *_ in rows} | {session for *_, session in rows}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        assert "raw_ratings" in tables
        for table in tables:
            text = con.execute(f'SELECT * FROM "{table}"').df().to_csv()
            leaked = sorted(s for s in secrets if s in text)
            assert not leaked and "@example.com" not in text, (table, leaked)


def failed_steps(instance: dg.DagsterInstance, runs: list[dg.DagsterRun]) -> dict:
    return {
        run.run_id: sorted(
            e.dagster_event.step_key
            for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
        )
        for run in runs
        if run.status != dg.DagsterRunStatus.SUCCESS
    }


@pytest.mark.slow
def test_daemon_runs_each_new_watch_log_file_once(daemon_setup):
    clock, phases = time.perf_counter(), {}

    def lap(name: str) -> None:
        phases[name] = round(time.perf_counter() - clock - sum(phases.values()), 1)

    daemon, logs, warehouse = daemon_setup
    # Sensor state lives in the instance: start them before the daemon, as an operator would.
    daemon.cli("sensor", "start", "--start-all")
    lap("sensor start")
    daemon.start()

    with dg.DagsterInstance.get() as instance:

        def wait(predicate, what: str):
            return wait_for(instance, predicate, what, daemon)

        def drop(path: Path, rows, count: int) -> dg.DagsterRun:
            """Write a file; wait for its run, its snapshot run and a tick that skips it."""
            write_log(path, rows)
            wait(lambda: finished(runs_of(instance, SENSOR), count), f"{path.name}'s run")
            lap(f"{path.name} run")
            wait(lambda: finished(runs_of(instance, FOLLOW), count), f"{path.name}'s snapshots")
            lap(f"{path.name} snapshots")
            run = runs_of(instance, SENSOR)[count - 1]
            wait(lambda: skipped_after(instance, run), "a later watch tick")
            lap(f"{path.name} skip tick")
            return run

        # Both sensors have ticked once: the folder is empty, and the run status sensor has
        # set its cursor (it only follows runs that end after that).
        wait(lambda: ticks(instance, SENSOR), "the watch sensor's first tick")
        wait(lambda: cursor(instance, FOLLOW), "the snapshot sensor's cursor")
        assert instance.get_run_records() == []
        lap("daemon up")

        # File 1: one ratings_history run over 2015-03-02..03, then its snapshot run.
        first = drop(logs / "2015-03-02.csv", FILE_1, 1)

        assert first.status == dg.DagsterRunStatus.SUCCESS, failed_steps(instance, [first])
        assert first.job_name == "ratings_history"
        assert first.tags[WATCH_TAG] == "2015-03-02.csv"
        assert first.tags["dagster/asset_partition_range_start"] == "2015-03-02"
        assert first.tags["dagster/asset_partition_range_end"] == "2015-03-03"
        assert len(instance.get_run_records()) == 2  # and its snapshot run
        # Nothing runs while the warehouse is read: no file is new, no run is pending.
        assert raw_ratings(warehouse) == expected_rows(FILE_1)

        # File 2: exactly one more run, over 2015-03-05 only; file 1 is not run again.
        second = drop(logs / "2015-03-05.csv", FILE_2, 2)
        daemon.stop()
        lap("daemon stop")

        watch_runs, follow_runs = runs_of(instance, SENSOR), runs_of(instance, FOLLOW)
        assert watch_runs[0].run_id == first.run_id
        assert [r.tags[WATCH_TAG] for r in watch_runs] == ["2015-03-02.csv", "2015-03-05.csv"]
        assert (
            second.tags["dagster/asset_partition_range_start"],
            second.tags["dagster/asset_partition_range_end"],
        ) == ("2015-03-05", "2015-03-05")
        assert len({r.tags["dagster/run_key"] for r in watch_runs}) == 2
        # Each watch-log run is followed by one snapshot run as of its last day.
        assert [
            (r.job_name, r.tags[WATCH_TAG], r.tags["dagster/partition"]) for r in follow_runs
        ] == [
            ("movie_graph", "2015-03-02.csv", "2015-03-03"),
            ("movie_graph", "2015-03-05.csv", "2015-03-05"),
        ]
        everything = [*watch_runs, *follow_runs]
        assert failed_steps(instance, everything) == {}
        assert sensor_errors(instance) == []
        # The two sensors' runs are every run there is.
        assert len(instance.get_run_records()) == len(everything) == 4

    expected = expected_rows(FILE_1 + FILE_2)
    assert raw_ratings(warehouse) == expected
    days = Counter(day for *_, day in expected)
    assert days == {date(2015, 3, 2): 24, date(2015, 3, 3): 14, date(2015, 3, 5): 9}
    # The same person has one pseudonym across files: seven people, seven ids.
    assert len({user for user, *_ in expected}) == 7
    assert_no_personal_data(warehouse, FILE_1 + FILE_2)
    lap("checks")
    print(f"\n{phases}: {time.perf_counter() - clock:.0f} s")
