"""Resources, one name each: the DuckDB warehouse (with its engine) and the source reader."""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from movie_assets import engine
from movie_assets.settings import current
from movie_assets.sources.registry import SourceResource
from movie_assets.warehouse import connect, holding

ENGINES = ("duckdb", "spark")


class Engine(dg.ConfigurableResource):
    """Where engine assets run their Ibis expressions: DuckDB in the warehouse, or Spark.

    With Spark the engine tables are Parquet under ``spark_warehouse`` (docs/spark.md);
    ``spark_remote`` is a Spark Connect URL, empty for a local session on ``spark_master``.
    """

    kind: str = "duckdb"
    spark_remote: str = ""
    spark_master: str = "local[2]"
    spark_driver_memory: str = "2g"
    spark_warehouse: str = ""

    def tables(self, con):
        if self.kind == "duckdb":
            return engine.Tables(con)
        if self.kind != "spark":
            raise ValueError(f"unknown engine {self.kind!r}: one of {ENGINES}")
        if not self.spark_warehouse:
            raise ValueError("the Spark engine needs spark_warehouse (MOVIE_SPARK_WAREHOUSE)")
        from movie_assets import spark

        session = spark.session(self.spark_remote, self.spark_master, self.spark_driver_memory)
        return spark.SparkTables(con, session, self.spark_warehouse)


class Warehouse(DuckDBResource):
    """DuckDBResource that a run holds from start to end, and whose connections fail fast.

    - A run holds the warehouse (``warehouse.holding``) for its whole execution, so two
      builds or runs never interleave their steps; the second waits, saying so.
    - A connection is retried only while another process holds DuckDB's file lock;
      dagster-duckdb retries every I/O error for about 130 s, so a read-only or corrupted
      file failed only after minutes of silence.
    - The connection is closed even when the step fails (dagster-duckdb 0.29 closes it only
      after a clean exit, and the next connection with another configuration failed).
    """

    # Where engine assets run (None: DuckDB, in this warehouse).
    engine: Engine | None = None
    _held: ExitStack | None = PrivateAttr(default=None)

    def engine_tables(self, con):
        """The engine's upstream tables and partition writes, over an open connection."""
        return (self.engine or Engine()).tables(con)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Sensors get this resource too (to write alerts): only runs hold the warehouse.
        if context.run is None:
            return
        say = context.log.info if context.log else print
        self._held = ExitStack()
        self._held.enter_context(holding(self.database, f"run {context.run.run_id[:8]}", say=say))

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._held is not None:
            self._held.close()
            self._held = None

    @contextmanager
    def get_connection(self):
        conn = connect(self.database, {"custom_user_agent": "dagster", **self.connection_config})
        try:
            yield conn
        finally:
            conn.close()


def engine_from_env(path: Path) -> Engine:
    """MOVIE_ENGINE (duckdb or spark), SPARK_REMOTE, MOVIE_SPARK_WAREHOUSE, MOVIE_SPARK_MASTER.

    The Connect URL may carry a token: Dagster shows the variable's name, not its value.
    """
    settings = current()
    if settings.movie_engine == "duckdb":
        return Engine()
    return Engine(
        kind=settings.movie_engine,
        spark_remote=dg.EnvVar("SPARK_REMOTE") if settings.spark_remote.get_secret_value() else "",
        spark_master=settings.movie_spark_master,
        spark_driver_memory=settings.movie_spark_driver_memory,
        spark_warehouse=settings.movie_spark_warehouse or str(path.parent / "spark"),
    )


def build_resources(path: Path | None = None) -> dict:
    settings = current()
    path = Path(path or settings.warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        # DuckDB would otherwise take every core and cache up to 80% of RAM; beyond the
        # limit it spills to disk. The relational layers run inside DuckDB (docs/scale.md),
        # so a run uses both cores; set MOVIE_DUCKDB_THREADS=1 to leave one to the servers.
        "duckdb": Warehouse(
            database=str(path),
            connection_config={
                "threads": settings.movie_duckdb_threads,
                "memory_limit": settings.movie_duckdb_memory,
            },
            engine=engine_from_env(path),
        ),
        "source": SourceResource.from_settings(settings),
    }
