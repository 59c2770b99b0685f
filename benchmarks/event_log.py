"""What one stored event costs in each way of configuring the instance's SQLite event log.

The build books one event per daily partition of ``raw_ratings`` (7,952 for the embedded
history), so this per-event cost decides whether the embedded build fits its 90 s
(docs/partitions.md, "The cost that shaped the build"). Each variant stores ``--events``
runless materializations into a fresh instance, ``--repeat`` times, and prints the median:

- ``project``: the repo's dagster.yaml (the pooled event log of movie_assets/instance_storage.py);
- ``stock``: Dagster's default SQLite storage (``storage: sqlite``);
- ``stock-normal``: the same with ``synchronous=NORMAL`` set on every connection through a
  SQLAlchemy ``connect`` listener, and one connection per file kept open so that a
  write's connection never checkpoints on close: how much of the cost is fsync;
- ``stock-reuse``: the same, and one sqlite3 connection per file reused for every write
  through SQLAlchemy's ``do_connect`` event: the best public route measured.

    python benchmarks/event_log.py [--events 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STOCK_YAML = """telemetry:
  enabled: false
storage:
  sqlite:
    base_dir:
      env: DAGSTER_HOME
"""
VARIANTS = ["project", "stock", "stock-normal", "stock-reuse"]


class _Reused:
    """A DBAPI connection whose close() only ends its transaction, so the next write reuses it."""

    def __init__(self, connection: sqlite3.Connection):
        self._connection = connection

    def close(self) -> None:
        self._connection.rollback()

    def __getattr__(self, name):
        return getattr(self._connection, name)


def _public_hooks(reuse: bool) -> None:
    import sqlalchemy as sa
    from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

    kept: dict[str, sqlite3.Connection | _Reused] = {}

    def normal(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")
        path = dbapi_connection.execute("PRAGMA database_list").fetchone()[2]
        kept.setdefault(path, sqlite3.connect(path, check_same_thread=False))

    def reused(_dialect, _record, cargs, cparams):
        path = cargs[0]
        if path not in kept:
            connection = sqlite3.connect(*cargs, **cparams)
            connection.execute("PRAGMA synchronous=NORMAL")
            kept[path] = _Reused(connection)
        return kept[path]

    if reuse:
        sa.event.listen(SQLiteDialect_pysqlite, "do_connect", reused)
    else:
        sa.event.listen(sa.engine.Engine, "connect", normal)


def child(variant: str, events: int) -> None:
    """One variant in a fresh process (the hooks are process-wide): prints ms per event."""
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory(dir=ROOT / ".data") as home:
        if variant == "project":
            shutil.copyfile(ROOT / "dagster.yaml", Path(home) / "dagster.yaml")
        else:
            (Path(home) / "dagster.yaml").write_text(STOCK_YAML)
            if variant != "stock":
                _public_hooks(reuse=variant == "stock-reuse")
        os.environ["DAGSTER_HOME"] = home
        import dagster as dg

        with dg.DagsterInstance.get() as instance:
            started = time.perf_counter()
            for day in range(events):
                event = dg.AssetMaterialization("a", partition=str(day))
                instance.report_runless_asset_event(event)
            print(1000 * (time.perf_counter() - started) / events)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        child(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=VARIANTS)
    args = parser.parse_args()
    (ROOT / ".data").mkdir(exist_ok=True)
    medians = {}
    for variant in args.variants:
        runs = []
        for _ in range(args.repeat):
            command = [sys.executable, __file__, "_child", variant, str(args.events)]
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            runs.append(float(out.split()[-1]))
        medians[variant] = statistics.median(runs)
        shown = ", ".join(f"{r:.2f}" for r in runs)
        print(f"{variant:13s} median {medians[variant]:.2f} ms per event ({shown})")
    if "project" in medians:
        for variant, ms in medians.items():
            print(f"{variant:13s} {ms / medians['project']:.1f}x the project's event log")


if __name__ == "__main__":
    main()
