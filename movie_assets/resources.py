"""Resources, one name each: the DuckDB warehouse (with its engine) and the source reader."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from movie_assets import engine
from movie_assets.settings import warehouse_path
from movie_assets.sources.registry import SourceResource

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
    """DuckDBResource whose connection is closed even when the step fails.

    dagster-duckdb 0.29 closes it only after a clean exit; a failed step left the file
    open in the run's process, and the next connection with another configuration failed.
    """

    # Where engine assets run (None: DuckDB, in this warehouse).
    engine: Engine | None = None

    def engine_tables(self, con):
        """The engine's upstream tables and partition writes, over an open connection."""
        return (self.engine or Engine()).tables(con)

    @contextmanager
    def get_connection(self):
        with super().get_connection() as conn:
            try:
                yield conn
            finally:
                conn.close()


def engine_from_env(path: Path) -> Engine:
    """MOVIE_ENGINE (duckdb or spark), SPARK_REMOTE, MOVIE_SPARK_WAREHOUSE, MOVIE_SPARK_MASTER.

    The Connect URL may carry a token: Dagster shows the variable's name, not its value.
    """
    kind = os.environ.get("MOVIE_ENGINE", "duckdb")
    if kind not in ENGINES:
        raise ValueError(f"MOVIE_ENGINE={kind!r}: one of {ENGINES}")
    if kind == "duckdb":
        return Engine()
    return Engine(
        kind=kind,
        spark_remote=dg.EnvVar("SPARK_REMOTE") if os.environ.get("SPARK_REMOTE") else "",
        spark_master=os.environ.get("MOVIE_SPARK_MASTER", "local[2]"),
        spark_driver_memory=os.environ.get("MOVIE_SPARK_DRIVER_MEMORY", "2g"),
        spark_warehouse=os.environ.get("MOVIE_SPARK_WAREHOUSE", str(path.parent / "spark")),
    )


def build_resources(path: Path | None = None) -> dict:
    path = Path(path or warehouse_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        # DuckDB would otherwise take every core and cache up to 80% of RAM; beyond the
        # limit it spills to disk. The relational layers run inside DuckDB (docs/scale.md),
        # so a run uses both cores; set MOVIE_DUCKDB_THREADS=1 to leave one to the servers.
        "duckdb": Warehouse(
            database=str(path),
            connection_config={
                "threads": int(os.environ.get("MOVIE_DUCKDB_THREADS", "2")),
                "memory_limit": os.environ.get("MOVIE_DUCKDB_MEMORY", "2GB"),
            },
            engine=engine_from_env(path),
        ),
        "source": SourceResource(),
    }
