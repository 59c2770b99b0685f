"""What the code location tells a Dagster user: schemas, owners, code links, partitions, freshness.

The expectations come from DuckDB itself (the tables its DDL creates), from the files the
code references point at, and from a real in-process run; the live-source code location is
imported in a fresh interpreter with an open-ended partition span.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import requests

from movie_assets.definitions import build_defs
from movie_assets.partitions import (
    RANGE_END,
    RANGE_START,
    SNAPSHOT_RANGE_REFUSED,
    daily_partitions,
)
from movie_assets.resources import build_resources
from movie_assets.schemas import SHARED_TABLES, TABLES, ddl
from movie_assets.settings import PROJECT_ROOT

SOURCE_ASSETS = ["raw_ratings", "raw_movies", "raw_films", "cpi_series"]


@pytest.fixture(scope="module")
def located(tmp_path_factory):
    path = tmp_path_factory.mktemp("defs") / "shelf.duckdb"
    defs = build_defs(build_resources(path))
    return path, defs, defs.resolve_asset_graph()


def _node(graph, name: str):
    return graph.get(dg.AssetKey(name))


def _value(entry):
    """A metadata entry as given (definitions keep raw values) or as a MetadataValue."""
    return getattr(entry, "value", entry)


def test_every_table_asset_has_the_schema_duckdb_creates(located):
    path, _, graph = located
    with duckdb.connect(str(path)) as con:
        for name, table in TABLES.items():
            if name in SHARED_TABLES:  # written by every asset, not an asset of its own
                continue
            con.execute(ddl(table))
            created = con.execute(
                "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                "WHERE table_name = ? ORDER BY ordinal_position",
                [name],
            ).fetchall()
            meta = _node(graph, name).metadata
            schema = _value(meta["dagster/column_schema"])
            assert [(c.name, c.type) for c in schema.columns] == [(n, t) for n, t, _ in created], (
                name
            )
            # the qualified name resolves in the warehouse file
            assert _value(meta["dagster/table_name"]) == f"shelf.main.{name}"
            con.execute(f"SELECT count(*) FROM {_value(meta['dagster/table_name'])}")
    ratings = _value(_node(graph, "ratings").metadata["dagster/column_schema"])
    rating = next(c for c in ratings.columns if c.name == "rating")
    assert not rating.constraints.nullable
    assert set(rating.constraints.other) == {
        "greater_than_or_equal_to(0.5)",
        "less_than_or_equal_to(5.0)",
        "half_star_steps",
    }
    assert ratings.constraints.other == ["unique (as_of, user_id, movie_id)"]


def test_owners_and_code_references_point_at_the_asset_code(located):
    _, _, graph = located
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.owners, key
        (ref,) = node.metadata["dagster/code_references"].code_references
        line = Path(ref.file_path).read_text().splitlines()[ref.line_number - 1]
        assert Path(ref.file_path).is_relative_to(PROJECT_ROOT / "movie_assets")
        starts = ("def ", "@dg.asset(", "@dg.multi_asset(", "@table_asset(")
        assert line.lstrip().startswith(starts), (key, line)


def test_partitions_explain_themselves_and_backfills_are_one_run_per_range(located):
    _, defs, graph = located
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.backfill_policy == dg.BackfillPolicy.single_run(), key
        event = key.to_user_string() == "raw_ratings"
        assert ("ratings made on D" if event else "materializes the newest day") in (
            node.description
        ), key
    # one policy for all: resolving the daily job warns about nothing
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        build_defs(defs.resources).resolve_job_def("movie_graph")


def test_a_snapshot_over_a_range_of_days_is_refused_before_it_writes(located, tmp_path):
    path = tmp_path / "refused.duckdb"
    defs = build_defs(build_resources(path))
    result = defs.resolve_job_def("movie_graph").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        asset_selection=[dg.AssetKey("raw_movies")],
        tags={RANGE_START: "2005-01-01", RANGE_END: "2005-01-03"},
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert SNAPSHOT_RANGE_REFUSED in failure.step_failure_data.user_failure_data.description
    if path.exists():
        with duckdb.connect(str(path), read_only=True) as con:
            tables = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        assert ("raw_movies",) not in tables


FRESHNESS_PROBE = """
import json, warnings
warnings.simplefilter("ignore")
import dagster as dg
from movie_assets.definitions import defs
graph = defs.resolve_asset_graph()
out = {}
for key in graph.get_all_asset_keys():
    node = graph.get(key)
    policy = node.freshness_policy
    out[key.to_user_string()] = {
        "policy": None if policy is None else [policy.deadline_cron, policy.timezone,
                  policy.lower_bound_delta.total_seconds()],
        "reason": node.metadata.get("freshness"),
    }
print(json.dumps(out))
"""


def _freshness(data_dir: Path, env_end: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOVIE_")}
    env["MOVIE_DATA_DIR"] = str(data_dir)
    if env_end is not None:
        env["MOVIE_PARTITIONS_END"] = env_end
    done = subprocess.run(
        [sys.executable, "-c", FRESHNESS_PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_freshness_is_off_for_the_frozen_embedded_data_with_the_reason(tmp_path):
    assets = _freshness(tmp_path, None)
    assert all(a["policy"] is None for a in assets.values())
    for name in SOURCE_ASSETS:
        assert "frozen" in assets[name]["reason"] and "2016-10-16" in assets[name]["reason"]


def test_a_live_source_keeps_a_daily_deadline(tmp_path):
    assets = _freshness(tmp_path, "")
    with_policy = {name for name, a in assets.items() if a["policy"]}
    assert with_policy == set(SOURCE_ASSETS)
    for name in SOURCE_ASSETS:
        assert assets[name]["policy"] == ["0 6 * * *", "UTC", 86400.0]
        assert assets[name]["reason"] is None


LAUNCH_BACKFILL = """
mutation ($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}
"""
BACKFILL = """
query ($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    ... on PartitionBackfill {
      status
      runs(limit: 100) {
        runId status
        tags { key value }
        eventConnection { events {
          __typename
          ... on ExecutionStepFailureEvent { error { message } }
        } }
      }
    }
  }
}
"""


def _graphql(port: int, query: str, variables: dict) -> dict:
    response = requests.post(
        f"http://127.0.0.1:{port}/graphql",
        json={"query": query, "variables": variables},
        timeout=120,
    )
    response.raise_for_status()
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def _backfill(port: int, keys: list[str], asset: str = "raw_movies") -> dict:
    """A backfill launched as the asset page's launch dialog sends it; its finished state."""
    params = {"assetSelection": [{"path": [asset]}], "partitionNames": keys, "fromFailure": False}
    launched = _graphql(port, LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        state = _graphql(port, BACKFILL, {"id": launched["backfillId"]})
        backfill = state["partitionBackfillOrError"]
        if backfill["status"] not in ("REQUESTED", "CANCELING", "FAILING"):
            return backfill
        time.sleep(2)
    raise AssertionError(f"backfill still {backfill['status']} after 10 minutes")


def _range(run: dict) -> tuple[str, str]:
    tags = {t["key"]: t["value"] for t in run["tags"]}
    return tags[RANGE_START], tags[RANGE_END]


@pytest.mark.slow
def test_a_backfill_of_all_missing_snapshot_days_is_one_refused_run_per_gap(tmp_path):
    """The real webserver and daemon (`movie-analytics serve`): month ends backfilled from the
    UI run one day each; "all missing" then plans one run per gap between them, each
    refused with the reason before it writes, and the warehouse keeps only the chosen days."""
    from tests.test_operations import Served

    served = Served(tmp_path)
    try:
        port = served.ports[0]
        chosen = ["2005-06-30", "2016-10-16"]
        done = _backfill(port, chosen)
        assert done["status"] == "COMPLETED_SUCCESS", done
        assert sorted(_range(r) for r in done["runs"]) == [(d, d) for d in chosen]

        keys = daily_partitions.get_partition_keys()
        missing = [k for k in keys if k not in chosen]
        assert len(missing) == 7950
        done = _backfill(port, missing)
        assert done["status"] in ("COMPLETED_FAILED", "FAILED"), done
        runs = sorted(done["runs"], key=_range)
        assert [_range(r) for r in runs] == [
            ("1995-01-09", "2005-06-29"),
            ("2005-07-01", "2016-10-15"),
        ]
        for run in runs:
            assert run["status"] == "FAILURE"
            errors = [
                e["error"]["message"]
                for e in run["eventConnection"]["events"]
                if e["__typename"] == "ExecutionStepFailureEvent"
            ]
            assert len(errors) == 1 and SNAPSHOT_RANGE_REFUSED in errors[0], errors
    finally:
        served.stop()
    with duckdb.connect(str(served.data / "warehouse.duckdb"), read_only=True) as con:
        days = con.execute("SELECT DISTINCT as_of::VARCHAR FROM raw_movies ORDER BY 1").fetchall()
    assert days == [(d,) for d in chosen]


def test_every_table_asset_reports_the_rows_it_holds(slice_warehouse):
    """dagster/row_count of each table asset's newest materialization is the rows of its
    window in the warehouse (views counted as of the day)."""
    graph = slice_warehouse.defs.resolve_asset_graph()
    tables = {k for k in graph.get_all_asset_keys() if k.to_user_string() in TABLES}
    assert len(tables) >= 30
    with slice_warehouse.connect() as con:
        for key in sorted(tables):
            table = TABLES[key.to_user_string()]
            event = slice_warehouse.instance.get_latest_materialization_event(key)
            reported = event.asset_materialization.metadata["dagster/row_count"].value
            where = "" if table.is_event else "WHERE as_of = DATE '2016-10-16'"
            (rows,) = con.execute(f"SELECT count(*) FROM {table.name} {where}").fetchone()
            assert reported == rows, table.name
