"""Shared fixtures: real builds of the asset graph into temporary DuckDB warehouses.

Builds use an in-memory Dagster instance: the tests are about the data, and the
persistent instance's bookkeeping is measured in benchmarks/build.py instead.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from movie_assets.build import BuildReport, build
from movie_assets.definitions import build_defs
from movie_assets.resources import build_resources

# Fixtures shared across modules, available to every test without an import.
from tests.dash_fixtures import browser, page, published, server  # noqa: F401
from tests.fixtures_sources import http_files  # noqa: F401

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)


@dataclass
class Built:
    path: Path
    defs: dg.Definitions
    instance: dg.DagsterInstance
    report: BuildReport

    def connect(self) -> duckdb.DuckDBPyConnection:
        """Read-only: a test never holds the writer lock while Dagster might write."""
        return duckdb.connect(str(self.path), read_only=True)

    def query(self, sql: str, params=None):
        with self.connect() as con:
            return con.execute(sql, params or []).df()


def make_build(directory: Path, first: str | None = None, last: str | None = None) -> Built:
    path = directory / "warehouse.duckdb"
    defs = build_defs(build_resources(path))
    instance = dg.DagsterInstance.ephemeral()
    report = build(defs, instance, first, last)
    return Built(path, defs, instance, report)


@pytest.fixture(scope="session")
def full_warehouse(tmp_path_factory) -> Built:
    """The whole graph on the embedded data: every day of ratings, snapshots as of the last day."""
    built = make_build(tmp_path_factory.mktemp("full"))
    assert built.report.ok, built.report
    return built


@pytest.fixture(scope="session")
def slice_warehouse(tmp_path_factory) -> Built:
    """The graph on a slice: ratings of 2016-09-01..2016-10-16, snapshots as of 2016-10-16."""
    built = make_build(tmp_path_factory.mktemp("slice"), "2016-09-01", "2016-10-16")
    assert built.report.ok, built.report
    return built


def pytest_collection_modifyitems(items):
    """Anything that needs the full-range build is slow (`make test-fast` skips it)."""
    for item in items:
        if "full_warehouse" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
