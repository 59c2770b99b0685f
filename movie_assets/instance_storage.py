"""A faster SQLite event log for the local Dagster instance (referenced from dagster.yaml).

Dagster's SQLite storage builds a new engine and connection for every write: each write
connects, compiles its statements for a fresh dialect and closes the file again. A build
books one event per partition of ``raw_ratings`` (7,952 for the embedded history), and at
about 10 ms an event against this class's 1.5 ms that alone decides whether the embedded
build fits its 90 s (docs/partitions.md, ``python benchmarks/event_log.py``). This keeps one
pooled engine and uses WAL with ``synchronous=NORMAL``, which SQLite documents as safe
from corruption in WAL mode: an application crash loses nothing; a power cut may lose the
last commits. A range run books one "planned" event for its whole range of days.

It is the project's only use of a private Dagster module; ``tests/test_instance_storage.py``
is the contract an upgrade must pass. The public routes measured are slower (docs/partitions.md).
"""

from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as db
from dagster._core.storage.event_log.sqlite.consolidated_sqlite_event_log import (
    ConsolidatedSqliteEventLogStorage,
)

BUSY_TIMEOUT_SECONDS = 30


def _pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class PooledSqliteEventLogStorage(ConsolidatedSqliteEventLogStorage):
    """Consolidated SQLite event log with one pooled engine and WAL ``synchronous=NORMAL``."""

    _engine = None

    def _pooled_engine(self):
        if self._engine is None:
            engine = db.create_engine(
                self._conn_string,
                connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            db.event.listen(engine, "connect", _pragmas)
            self._engine = engine
        return self._engine

    @property
    def supports_partition_subset_in_asset_materialization_planned_events(self) -> bool:
        """A range run books one "planned" event per asset, not one per day (7,952 here).

        The same switch as DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS, set for every
        process that opens this instance. Its cost, as Dagster documents it: the days of a
        range run that fails are shown as missing, not as failed.
        """
        return True

    @contextmanager
    def _connect(self):
        with self._pooled_engine().connect() as conn:
            with conn.begin():
                yield conn
