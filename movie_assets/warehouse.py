"""Transactional partition writes and reads against the DuckDB warehouse.

The stock DuckDB IO manager deletes a partition and inserts its rows in two
transactions, positionally (dagster issue #14091). Here both happen in one transaction,
by column name, with the quarantined rows of the same partition, so a failed
write leaves the previous rows and rejects exactly as they were. A window may
arrive as a stream of batches (``replace_partition_batches``): still one
transaction, with only one batch in memory at a time.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from movie_assets.schemas import TABLES, Table, column_types, conform, ddl, now


def replace_partition(
    con: duckdb.DuckDBPyConnection,
    table_name: str,
    frame: pd.DataFrame,
    first_day: date,
    last_day: date,
    rejects: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Replace the rows of days first_day..last_day; returns the frame as written."""
    written: list[pd.DataFrame] = []
    replace_partition_batches(
        con,
        table_name,
        [(frame, rejects)],
        first_day,
        last_day,
        with_rejects=rejects is not None,
        on_batch=written.append,
    )
    return written[0]


def replace_partition_batches(
    con: duckdb.DuckDBPyConnection,
    table_name: str,
    batches: Iterable[tuple[pd.DataFrame, pd.DataFrame | None]],
    first_day: date,
    last_day: date,
    with_rejects: bool = False,
    on_batch: Callable[[pd.DataFrame], None] | None = None,
    before_commit: Callable[[int], None] | None = None,
) -> int:
    """Replace the window with (rows, rejects) batches, all in one transaction; returns the rows.

    Batches are consumed one at a time, so memory is bounded by the largest batch (and
    DuckDB's memory_limit), not by the window. An error anywhere, the batches' own
    iterator included, rolls back the delete and every batch before it. With
    ``with_rejects`` the window's rejects of this asset are replaced too. ``on_batch``
    sees each batch as written: schema order and types, indexed by its position in the
    window's rows.
    """
    table = TABLES[table_name]
    written = 0
    with partition_transaction(
        con, table_name, first_day, last_day, with_rejects, before_commit
    ) as window:
        for rows, rejects in batches:
            frame = _in_window(table, rows, first_day, last_day, start=written)
            if len(frame):
                _insert(con, table_name, frame)
            if rejects is not None:
                if not with_rejects:
                    raise ValueError(f"{table_name}: rejects sent without with_rejects")
                _insert_rejects(con, table_name, rejects)
            written += len(frame)
            if on_batch is not None:
                on_batch(frame)
    return window.rows


class _Window:
    rows: int = 0


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN ... COMMIT; any error rolls back all of it."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException as first:
        # A COMMIT that failed (a full disk, say) has already ended the transaction: its
        # ROLLBACK fails too, and that second error must not replace the first.
        try:
            con.execute("ROLLBACK")
        except duckdb.Error as second:
            first.add_note(f"(the rollback that followed also failed: {second})")
        raise


def finish_window(
    con, table_name: str, first_day: date, last_day: date, rows: int, before_commit=None
) -> None:
    """The last steps of every write, inside its transaction: the window is logged as
    written, then ``before_commit(rows)`` (which sees the new rows: the checks are recorded
    there).
    """
    log_partition(con, table_name, first_day, last_day, rows)
    if before_commit is not None:
        before_commit(rows)


@contextmanager
def partition_transaction(
    con: duckdb.DuckDBPyConnection,
    table_name: str,
    first_day: date,
    last_day: date,
    with_rejects: bool = False,
    before_commit: Callable[[int], None] | None = None,
) -> Iterator[_Window]:
    """One transaction around a partition's replacement: whatever the body inserts, or nothing.

    Opens the transaction, creates or widens the table, deletes the window's rows (and,
    with ``with_rejects``, this asset's rejects of the window), lets the body insert,
    then finishes the window (``finish_window``) and commits. Any error rolls back all of it.
    """
    table = TABLES[table_name]
    col = table.partition_column
    window = _Window()
    with transaction(con):
        con.execute(ddl(table))
        _add_new_columns(con, table)
        con.execute(f"DELETE FROM {table_name} WHERE {col} BETWEEN ? AND ?", [first_day, last_day])
        if with_rejects:
            clear_rejects(con, table_name, first_day, last_day)
        yield window
        window.rows = con.execute(
            f"SELECT count(*) FROM {table_name} WHERE {col} BETWEEN ? AND ?", [first_day, last_day]
        ).fetchall()[0][0]
        finish_window(con, table_name, first_day, last_day, window.rows, before_commit)


def _insert(con: duckdb.DuckDBPyConnection, table_name: str, frame: pd.DataFrame) -> None:
    """INSERT BY NAME from a DataFrame, named for this one statement (``Relation.query``).

    Not a replacement scan: Ibis turns those off on the connections it wraps, and a step
    writes on the connection it read through. Not ``con.register`` either: inside a
    transaction the registered view, and the frame with it, lives until COMMIT even after
    ``unregister``, so a window written in batches would keep every batch in memory
    (measured: about 55 bytes per rating).
    """
    con.from_df(frame).query(
        "incoming_frame", f"INSERT INTO {table_name} BY NAME SELECT * FROM incoming_frame"
    )


def _in_window(
    table: Table, rows: pd.DataFrame, first_day: date, last_day: date, start: int
) -> pd.DataFrame:
    """Rows conformed to the model; rows outside the window would escape the next delete."""
    frame = conform(table, rows)
    frame.index = pd.RangeIndex(start, start + len(frame))
    days = frame[table.partition_column].dt.normalize()
    outside = frame[(days < pd.Timestamp(first_day)) | (days > pd.Timestamp(last_day))]
    if len(outside):
        raise ValueError(
            f"{table.name}: {len(outside)} rows fall outside the partition window "
            f"{first_day}..{last_day} (first: {outside.iloc[0].to_dict()})"
        )
    return frame


PARTITION_LOG = (
    "CREATE TABLE IF NOT EXISTS partition_log (table_name VARCHAR, first_day DATE, "
    "last_day DATE, row_count BIGINT, written_at TIMESTAMP)"
)


def log_partition(con, table_name: str, first_day: date, last_day: date, rows: int) -> None:
    """Which windows were written, so an empty snapshot is told apart from a missing one."""
    con.execute(PARTITION_LOG)
    con.execute(
        "DELETE FROM partition_log WHERE table_name = ? AND first_day >= ? AND last_day <= ?",
        [table_name, first_day, last_day],
    )
    con.execute(
        "INSERT INTO partition_log VALUES (?, ?, ?, ?, ?)",
        [table_name, first_day, last_day, rows, now()],
    )


def was_written(con: duckdb.DuckDBPyConnection, table_name: str, day: date) -> bool:
    if not table_exists(con, "partition_log"):
        return False
    return bool(
        con.execute(
            "SELECT count(*) FROM partition_log WHERE table_name = ? AND ? BETWEEN first_day "
            "AND last_day",
            [table_name, day],
        ).fetchall()[0][0]
    )


def _add_new_columns(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    """Columns the model gained since the table was made are added (NULL in older rows).

    Anything else (a column dropped or retyped) is an error that names the table:
    the warehouse is derived data, so the fix is to rebuild it.
    """
    existing = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' AND table_name = ?",
            [table.name],
        ).fetchall()
    )
    wanted = column_types(table)
    removed = sorted(set(existing) - set(wanted))
    retyped = sorted(c for c in wanted if c in existing and existing[c] != wanted[c])
    if removed or retyped:
        raise RuntimeError(
            f"warehouse table {table.name} has an older layout (columns no longer in the schema: "
            f"{removed}; changed types: {retyped}); rebuild the warehouse "
            "(delete the MOVIE_WAREHOUSE file and run `movie-analytics build`)"
        )
    for name, sql_type in wanted.items():
        if name not in existing:
            con.execute(f'ALTER TABLE {table.name} ADD COLUMN "{name}" {sql_type}')


def clear_rejects(con, asset: str, first_day: date, last_day: date) -> None:
    con.execute(ddl(TABLES["rejects"]))
    con.execute(
        "DELETE FROM rejects WHERE asset = ? AND partition_date BETWEEN ? AND ?",
        [asset, first_day, last_day],
    )


def record_checks(con, asset: str, first_day: date, last_day: date, rows: pd.DataFrame) -> None:
    """The asset's check results for the window, replacing earlier ones (no transaction here:
    the caller's, so they commit or roll back with the rows they checked)."""
    con.execute(ddl(TABLES["check_results"]))
    con.execute(
        "DELETE FROM check_results WHERE asset = ? AND check_name IN (SELECT unnest(?)) "
        "AND first_day >= ? AND last_day <= ?",
        [asset, rows["check_name"].tolist(), first_day, last_day],
    )
    _insert(con, "check_results", conform(TABLES["check_results"], rows.assign(asset=asset)))


def _insert_rejects(con, asset: str, rejects: pd.DataFrame) -> None:
    if len(rejects):
        _insert(con, "rejects", conform(TABLES["rejects"], rejects.assign(asset=asset)))


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchall()[0][0]
    )


def is_view(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_name = ? AND table_type = 'VIEW'",
            [name],
        ).fetchall()[0][0]
    )


def read_snapshot(con: duckdb.DuckDBPyConnection, name: str, as_of: date) -> pd.DataFrame:
    """An upstream snapshot as of exactly this day; missing means the graph was run out of order."""
    if not table_exists(con, name):
        raise LookupError(f"table {name} does not exist: materialize it first")
    # Key order, so that seeded models and folds see the same rows in the same order every run.
    keys = [f'"{k}"' for k in TABLES[name].sort_key]
    order = f" ORDER BY {', '.join(keys)}" if keys else ""
    if not was_written(con, name, as_of):
        raise LookupError(f"{name} has no snapshot as of {as_of}: materialize that partition first")
    frame = con.execute(f"SELECT * FROM {name} WHERE as_of = ?{order}", [as_of]).df()
    return conform(TABLES[name], frame)


def read_latest_snapshot(
    con: duckdb.DuckDBPyConnection, name: str, as_of: date, max_age_days: int
) -> pd.DataFrame:
    """The newest snapshot at most max_age_days older than as_of, for assets refreshed weekly."""
    found = None
    if table_exists(con, "partition_log"):
        found = con.execute(
            "SELECT max(last_day) FROM partition_log WHERE table_name = ? AND last_day <= ? "
            "AND last_day > ? - INTERVAL (?) DAY",
            [name, as_of, as_of, max_age_days],
        ).fetchall()[0][0]
    if found is None:
        raise LookupError(
            f"{name} has no snapshot in the {max_age_days} days up to {as_of}: materialize it"
        )
    return read_snapshot(con, name, found)


def read_events(con: duckdb.DuckDBPyConnection, name: str, first: date, last: date) -> pd.DataFrame:
    table = TABLES[name]
    if not table_exists(con, name):
        raise LookupError(f"table {name} does not exist: materialize it first")
    frame = con.execute(
        f"SELECT * FROM {name} WHERE {table.partition_column} BETWEEN ? AND ?", [first, last]
    ).df()
    return conform(table, frame)


# --- Opening the warehouse, and holding it for a whole build ------------------------------------

LOCK_WAIT_SECONDS = 100
LOCK_CONFLICT = "Could not set lock on file"


def is_lock_conflict(err: BaseException) -> bool:
    """DuckDB's error when another process has the file open (one writer, or many readers)."""
    return isinstance(err, duckdb.IOException) and LOCK_CONFLICT in str(err)


def connect(
    database: str,
    config: dict | None = None,
    wait_seconds: float = LOCK_WAIT_SECONDS,
    say: Callable[[str], None] | None = None,
) -> duckdb.DuckDBPyConnection:
    """A read-write connection; waits only while another process holds DuckDB's file lock.

    Every other error (a read-only file system, a file that is not a DuckDB database, a
    full disk) is raised at once with DuckDB's own message, which names the file.
    """
    deadline = time.monotonic() + wait_seconds
    delay = 0.2
    while True:
        try:
            return duckdb.connect(database, read_only=False, config=config or {})
        except duckdb.IOException as err:
            if not is_lock_conflict(err):
                raise
            if time.monotonic() + delay > deadline:
                err.add_note(f"(still locked after waiting {wait_seconds:.0f} s)")
                raise
            if say is not None and delay == 0.2:
                say(f"{database} is locked by another process; retrying for {wait_seconds:.0f} s")
        time.sleep(delay)
        delay = min(delay * 2, 5.0)


_held: dict[str, list] = {}
_held_guard = threading.Lock()


def lock_path(database: str) -> Path:
    return Path(os.path.realpath(database) + ".build.lock")


@contextmanager
def holding(database: str, who: str, say: Callable[[str], None] = print) -> Iterator[None]:
    """Hold the warehouse for a whole build or run; another one waits until it is released.

    DuckDB's own lock lasts one connection, and a build opens one per step, so two
    builds would interleave step by step. This is an exclusive ``flock`` on a file next
    to the warehouse, taken for the whole build: the kernel drops it when its process
    ends, killed or not, so a crashed build never leaves it behind. Re-entrant within a
    process (the CLI's build holds it and so do the runs it executes in process).
    """
    if database == ":memory:" or database.startswith("md:"):
        yield
        return
    path = lock_path(database)
    key = str(path)
    with _held_guard:
        if key in _held:
            _held[key][1] += 1
            entry = _held[key]
        else:
            entry = None
    if entry is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            say(f"waiting: the warehouse {database} is held by {holder}")
            fcntl.flock(handle, fcntl.LOCK_EX)
            say(f"the warehouse {database} is free; {who} starts")
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} ({who}, since {now():%Y-%m-%d %H:%M:%S} UTC)\n")
        handle.flush()
        with _held_guard:
            entry = _held[key] = [handle, 1]
    try:
        yield
    finally:
        with _held_guard:
            entry[1] -= 1
            last = entry[1] == 0
            if last:
                del _held[key]
        if last:
            handle = entry[0]
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
