"""Transactional partition writes and reads against the DuckDB warehouse.

The stock DuckDB IO manager deletes a partition and inserts its rows in two
transactions, positionally (FIELD_NOTES). Here both happen in one transaction,
by column name, with the quarantined rows of the same partition, so a failed
write leaves the previous rows and rejects exactly as they were.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import duckdb
import pandas as pd

from movie_assets.schemas import TABLES, Table, column_types, conform, ddl


def replace_partition(
    con: duckdb.DuckDBPyConnection,
    table_name: str,
    frame: pd.DataFrame,
    first_day: date,
    last_day: date,
    rejects: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Replace the rows of days first_day..last_day; returns the frame as written."""
    table = TABLES[table_name]
    frame = conform(table, frame)
    days = pd.to_datetime(frame[table.partition_column]).dt.date
    outside = frame[(days < first_day) | (days > last_day)]
    if len(outside):
        raise ValueError(
            f"{table_name}: {len(outside)} rows fall outside the partition window "
            f"{first_day}..{last_day} (first: {outside.iloc[0].to_dict()})"
        )
    col = table.partition_column
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(ddl(table))
        _add_new_columns(con, table)
        con.execute(f"DELETE FROM {table_name} WHERE {col} BETWEEN ? AND ?", [first_day, last_day])
        con.register("incoming_frame", frame)
        con.execute(f"INSERT INTO {table_name} BY NAME SELECT * FROM incoming_frame")
        con.unregister("incoming_frame")
        if rejects is not None:
            _replace_rejects(con, table_name, rejects, first_day, last_day)
        _log_partition(con, table_name, first_day, last_day, len(frame))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return frame


PARTITION_LOG = (
    "CREATE TABLE IF NOT EXISTS partition_log (table_name VARCHAR, first_day DATE, "
    "last_day DATE, row_count BIGINT, written_at TIMESTAMP)"
)


def _log_partition(con, table_name: str, first_day: date, last_day: date, rows: int) -> None:
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
        ).fetchone()[0]
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


def _replace_rejects(con, asset: str, rejects: pd.DataFrame, first_day: date, last_day: date):
    table = TABLES["rejects"]
    con.execute(ddl(table))
    con.execute(
        "DELETE FROM rejects WHERE asset = ? AND partition_date BETWEEN ? AND ?",
        [asset, first_day, last_day],
    )
    if len(rejects):
        frame = conform(table, rejects.assign(asset=asset))
        con.register("incoming_rejects", frame)
        con.execute("INSERT INTO rejects BY NAME SELECT * FROM incoming_rejects")
        con.unregister("incoming_rejects")


def quarantine(
    rows: pd.DataFrame, reason: str | pd.Series, source: str, partition_date
) -> pd.DataFrame:
    """Rows in the rejects layout; ``raw`` keeps every field as received, as JSON."""
    received = rows.drop(columns=["ingested_at"], errors="ignore")
    raw = [json.dumps(r, default=str) for r in received.to_dict(orient="records")]
    return pd.DataFrame(
        {
            "partition_date": partition_date
            if not isinstance(partition_date, pd.Series)
            else partition_date.to_numpy(),
            "source": source,
            "raw": raw,
            "reason": reason if not isinstance(reason, pd.Series) else reason.to_numpy(),
            "rejected_at": now(),
        },
        index=range(len(rows)),
    )


def no_rejects() -> pd.DataFrame:
    return pd.DataFrame(columns=TABLES["rejects"].columns)


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchone()[0]
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
        ).fetchone()[0]
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


def now() -> pd.Timestamp:
    return pd.Timestamp(datetime.now(UTC).replace(tzinfo=None))
