"""The Spark engine: the same Ibis expressions on Spark, the large tables as Parquet.

A table an engine asset writes lives under the Parquet root, one directory per
partition (``<root>/ratings/as_of=2016-10-16/part-*.parquet``); the DuckDB warehouse
keeps a view of the same name over it, so every reader of the warehouse (the model
layer, the publish step, the Dash snapshot) reads it unchanged, and the partition log
stays the one record of which days were written. The catalogue-sized tables stay in
DuckDB; an engine step that reads one gets it as a Parquet file DuckDB writes under
``<root>/_exchange``.

What is atomic on plain Parquet (docs/spark.md): the overwrite of one partition
directory is a delete then a rename of Spark's staged files, not one step. The
partition log is the commit mark instead: a day's entry is removed before its files
are replaced and written back after the rows and rejects are in place, so a reader
never takes a half-written day for a written one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date

import ibis
import ibis.expr.types as ir
from duckdb import DuckDBPyConnection

from movie_assets.schemas import TABLES, column_types, now
from movie_assets.warehouse import (
    PARTITION_LOG,
    clear_rejects,
    finish_window,
    table_exists,
    transaction,
    was_written,
)

# A local session's settings; a Spark Connect server brings its cluster's own.
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    # Adaptive execution merges small shuffle partitions; 200 tasks per shuffle on
    # two cores is all overhead for a day's aggregates.
    "spark.sql.shuffle.partitions": "8",
}
# Session settings the tables rely on, set on local and remote sessions alike.
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    # INT96, Spark's default, is a legacy encoding; DuckDB and Spark both read micros.
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
}
EXCHANGE = "_exchange"
REJECTS = "rejects"


def session(remote: str = "", master: str = "local[2]", driver_memory: str = "2g"):
    """A Spark Connect session for ``sc://`` URLs, else a local one (one per process)."""
    from pyspark.sql import SparkSession

    if remote:
        spark = SparkSession.builder.remote(remote).getOrCreate()
    else:
        builder = SparkSession.builder.master(master).appName("movie-analytics")
        for key, value in {**LOCAL_CONF, "spark.driver.memory": driver_memory}.items():
            builder = builder.config(key, value)
        spark = builder.getOrCreate()
    for key, value in SESSION_CONF.items():
        spark.conf.set(key, value)
    return spark


def is_engine_table(con: DuckDBPyConnection, name: str) -> bool:
    """An engine table is a view in the warehouse; a table DuckDB holds itself is a table."""
    found = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchall()
    return bool(found) and found[0][0] == "VIEW"


def _day(value: date) -> str:
    return value.isoformat()


class SparkTables:
    """Upstream tables as Spark expressions, and the partition writes of engine assets.

    The interface of ``engine.Tables``: ``snapshot``, ``events``, ``replace``, ``db``.
    """

    def __init__(self, con: DuckDBPyConnection, spark, root: str):
        self.con = con
        self.session = spark
        self.db = ibis.pyspark.connect(spark)
        self.root = root.rstrip("/")

    def dataframe(self, table: ir.Table):
        """An expression as a Spark DataFrame, for libraries that take DataFrames (MLlib)."""
        return self.session.sql(self.db.compile(table))

    def snapshot(self, name: str, as_of: date) -> ir.Table:
        if not was_written(self.con, name, as_of):
            raise LookupError(f"{name} has no snapshot as of {as_of}: materialize that partition")
        return self._read(name, as_of, as_of)

    def events(self, name: str, first: date, last: date) -> ir.Table:
        if not table_exists(self.con, name):
            raise LookupError(f"table {name} does not exist: materialize it first")
        self._refuse_unfinished(name, first, last)
        return self._read(name, first, last)

    def _refuse_unfinished(self, name: str, first: date, last: date) -> None:
        """A window whose write began and never finished is logged without a row count."""
        if not table_exists(self.con, "partition_log"):
            return
        begun, ended = self.con.execute(
            "SELECT min(first_day), max(last_day) FROM partition_log WHERE table_name = ? "
            "AND row_count IS NULL AND first_day <= ? AND last_day >= ?",
            [name, last, first],
        ).fetchone()
        if begun is not None:
            raise LookupError(
                f"{name}: the write of {begun}..{ended} did not finish: "
                "materialize those days again"
            )

    def _read(self, name: str, first: date, last: date) -> ir.Table:
        col = TABLES[name].partition_column
        if is_engine_table(self.con, name):
            table = self.db.read_parquet(f"{self.root}/{name}")
        else:
            path = f"{self.root}/{EXCHANGE}/{name}.parquet"
            if "://" not in path:
                os.makedirs(os.path.dirname(path), exist_ok=True)
            self.con.execute(
                f"COPY (SELECT * FROM {name} WHERE {col} BETWEEN DATE '{_day(first)}' "
                f"AND DATE '{_day(last)}') TO '{path}' (FORMAT parquet)"
            )
            table = self.db.read_parquet(path)
        return table.filter(table[col].between(first, last))

    def replace(
        self,
        name: str,
        day: date,
        rows: ir.Table,
        rejects: ir.Table | None,
        before_commit: Callable[[int], None] | None = None,
    ) -> int:
        """The day's partition (and this asset's rejects of the day) replaced; returns its rows.

        Rows and rejects are written by Spark, each partition into its own directory
        in overwrite mode (an empty day still replaces the old files, which dynamic
        partition overwrite would leave in place). The warehouse then reads the rejects
        into its ``rejects`` table, and the log marks the day as written.
        """
        col = TABLES[name].partition_column
        self._refuse_duckdb_table(name)
        if table_exists(self.con, "partition_log"):
            self.con.execute(
                "DELETE FROM partition_log WHERE table_name = ? AND ? BETWEEN first_day "
                "AND last_day",
                [name, day],
            )
        self.db.to_parquet(rows.drop(col), self._partition(name, col, day), mode="overwrite")
        if rejects is not None:
            self.db.to_parquet(
                rejects.drop("asset", "partition_date"),
                self._rejects(name, day),
                mode="overwrite",
            )
        with transaction(self.con):
            self.con.execute(self._view(name))
            if rejects is not None:
                clear_rejects(self.con, name, day, day)
                self.con.execute(
                    f"INSERT INTO rejects BY NAME SELECT * FROM read_parquet('"
                    f"{self._rejects(name, day)}/*.parquet', hive_partitioning = true, "
                    "hive_types = {'partition_date': DATE})"
                )
            written = self.con.execute(
                f"SELECT count(*) FROM {name} WHERE {col} = ?", [day]
            ).fetchone()[0]
            finish_window(self.con, name, day, day, written, before_commit)
        return written

    def replace_events(
        self,
        name: str,
        first: date,
        last: date,
        rows,
        rejects,
        before_commit: Callable[[int], None] | None = None,
    ) -> dict[date, int]:
        """Days first..last of an event table, and this asset's rejects of them, replaced.

        ``rows`` and ``rejects`` are Spark DataFrames in the table's and the rejects'
        layout (without ``asset``). Each is written in one job, partitioned by day with
        dynamic partition overwrite; a day of the window that held files and has no new
        rows gets an empty file instead, so the window holds exactly the new rows. The
        window is logged as unfinished first (``events`` refuses it) and as written
        once the warehouse has read the rejects; ``before_commit`` runs in that last
        transaction (the checks go there). Returns the rows per day, as Spark counted
        them.
        """
        col = TABLES[name].partition_column
        self._refuse_duckdb_table(name)
        self.con.execute(PARTITION_LOG)
        self.con.execute(
            "DELETE FROM partition_log WHERE table_name = ? AND first_day >= ? AND last_day <= ?",
            [name, first, last],
        )
        self.con.execute(
            "INSERT INTO partition_log VALUES (?, ?, ?, NULL, ?)", [name, first, last, now()]
        )
        by_day = {d: n for d, n in rows.groupBy(col).count().collect()}
        self._overwrite_days(rows, f"{self.root}/{name}", col, first, last, set(by_day))
        rejects = rejects.withColumn("partition_date", rejects["partition_date"].cast("date"))
        reject_days = {r[0] for r in rejects.select("partition_date").distinct().collect()}
        self._overwrite_days(
            rejects, self._rejects_root(name), "partition_date", first, last, reject_days
        )
        with transaction(self.con):
            self.con.execute(self._view(name))
            clear_rejects(self.con, name, first, last)
            self.con.execute(
                f"INSERT INTO rejects BY NAME SELECT * FROM read_parquet('"
                f"{self._rejects_root(name)}/*/*.parquet', hive_partitioning = true, "
                "hive_types = {'partition_date': DATE}) WHERE partition_date BETWEEN ? AND ?",
                [first, last],
            )
            written = self.con.execute(
                f"SELECT count(*) FROM {name} WHERE {col} BETWEEN ? AND ?", [first, last]
            ).fetchone()[0]
            finish_window(self.con, name, first, last, written, before_commit)
        return by_day

    def _overwrite_days(self, frame, path: str, col: str, first: date, last: date, days: set):
        """``frame`` written by day under ``path``; the window's other days left empty."""
        frame.write.mode("overwrite").option("partitionOverwriteMode", "dynamic").partitionBy(
            col
        ).parquet(path)
        empty = self.session.createDataFrame([], frame.drop(col).schema)
        stale = self._days_on_disk(path, col, first, last) - days
        if not days and not self._days_on_disk(path, col, date.min, date.max):
            stale = {first}  # an empty file, so that a table with no rows yet can be read
        for day in sorted(stale):
            empty.write.mode("overwrite").parquet(f"{path}/{col}={_day(day)}")

    def _days_on_disk(self, path: str, col: str, first: date, last: date) -> set[date]:
        """The days of first..last that have a directory under ``path``."""
        found = self.con.execute(
            f"SELECT DISTINCT regexp_extract(file, '{col}=(\\d{{4}}-\\d{{2}}-\\d{{2}})', 1) "
            f"FROM glob('{path}/{col}=*/*.parquet')"
        ).fetchall()
        days = {date.fromisoformat(d) for (d,) in found if d}
        return {d for d in days if first <= d <= last}

    def _refuse_duckdb_table(self, name: str) -> None:
        if table_exists(self.con, name) and not is_engine_table(self.con, name):
            raise RuntimeError(
                f"warehouse table {name} was written by the DuckDB engine; the Spark engine "
                "needs a warehouse of its own (set MOVIE_WAREHOUSE to a new file)"
            )

    def _rejects_root(self, name: str) -> str:
        return f"{self.root}/{REJECTS}/asset={name}"

    def _partition(self, name: str, col: str, day: date) -> str:
        return f"{self.root}/{name}/{col}={_day(day)}"

    def _rejects(self, name: str, day: date) -> str:
        return f"{self._rejects_root(name)}/partition_date={_day(day)}"

    def _view(self, name: str) -> str:
        """The warehouse's view over an engine table: schema order and types, by name."""
        table = TABLES[name]
        col = table.partition_column
        cols = ", ".join(f'CAST("{c}" AS {t}) AS "{c}"' for c, t in column_types(table).items())
        return (
            f"CREATE OR REPLACE VIEW {name} AS SELECT {cols} FROM read_parquet("
            f"'{self.root}/{name}/*/*.parquet', hive_partitioning = true, "
            f"hive_types = {{'{col}': DATE}}, union_by_name = true)"
        )
