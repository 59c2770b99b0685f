"""The dashboard's read-only snapshot: the day's tables plus the pipeline's own data quality."""

import json
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource
from duckdb import connect as open_duckdb

from movie_assets import checks
from movie_assets.clean import assets as clean
from movie_assets.features import assets as features
from movie_assets.jobs import WEEKLY_ASSETS
from movie_assets.model import assets as model
from movie_assets.partitions import daily_partitions, snapshot_day
from movie_assets.publish import snapshot
from movie_assets.raw import assets as raw
from movie_assets.schemas import TABLES, ddl
from movie_assets.warehouse import table_exists

# Every snapshot table is an asset of the same name; the event table reaches Dash through them.
SNAPSHOT_ASSETS = [t.name for t in TABLES.values() if not t.is_event]
# Tables Dash shows over time rather than as of one day.
HISTORY = {"model_metrics"}

CHECK_COLUMNS = [
    "asset",
    "check_name",
    "description",
    "blocking",
    "status",
    "passed",
    "failures",
    "partition",
    "run_id",
    "evaluated_at",
    "metadata",
]
RECONCILIATION_COLUMNS = [
    "asset",
    "raw_rows",
    "clean_rows",
    "rejected_rows",
    "unaccounted_rows",
    "passed",
    "rejects_in_table",
    "consistent",
]


def check_results(con, specs: list[dg.AssetCheckSpec], day: date) -> pd.DataFrame:
    """Every given check's result as of the day, one row each, from the check_results table.

    Each asset records its checks in the transaction of the rows they checked
    (writing.py), so this is what was true of the data published, not whatever ran last.
    A weekly asset's result is that of its newest run up to the day.
    """
    con.execute(ddl(TABLES["check_results"]))
    recorded = con.execute(
        """SELECT * FROM check_results WHERE first_day <= ?
        QUALIFY row_number() OVER (
            PARTITION BY asset, check_name ORDER BY last_day DESC, evaluated_at DESC) = 1""",
        [day],
    ).df()
    by_key = {(r.asset, r.check_name): r for r in recorded.itertuples(index=False)}
    rows = []
    for spec in sorted(specs, key=lambda s: (s.asset_key.to_user_string(), s.name)):
        asset = spec.asset_key.to_user_string()
        record = by_key.get((asset, spec.name))
        rows.append(
            {
                "asset": asset,
                "check_name": spec.name,
                "description": spec.description,
                "blocking": bool(spec.blocking),
                "status": _status(record),
                "passed": None if record is None else bool(record.passed),
                "failures": None if record is None else record.failures,
                "partition": None if record is None else _window(record),
                "run_id": None if record is None else record.run_id,
                "evaluated_at": None if record is None else record.evaluated_at,
                "metadata": "{}" if record is None else record.metadata,
            }
        )
    frame = pd.DataFrame(rows, columns=CHECK_COLUMNS)
    frame["failures"] = frame["failures"].astype("Int64")
    frame["passed"] = frame["passed"].astype("boolean")
    frame["evaluated_at"] = pd.to_datetime(frame["evaluated_at"])
    return frame


def _status(record) -> str:
    if record is None:
        return "never run"
    return "passed" if record.passed else "failed"


def _window(record) -> str:
    first, last = (pd.Timestamp(d).date().isoformat() for d in (record.first_day, record.last_day))
    return first if first == last else f"{first}...{last}"


def upstream_checks() -> list[dg.AssetCheckSpec]:
    """Every check the layers upstream of this one declare (a run may select only this asset)."""
    layers = dg.load_assets_from_modules([raw, clean, features, model])
    return [spec for asset in layers for spec in asset.check_specs]


def reconciliation(quality: pd.DataFrame, rejects_by_asset: pd.Series) -> pd.DataFrame:
    """raw = clean + rejected per cleaner (check metadata), beside the rejects table's rows."""
    rows = []
    for row in quality[quality["check_name"] == "reconciles"].itertuples():
        counts = json.loads(row.metadata)
        in_table = int(rejects_by_asset.get(row.asset, 0))
        rejected = counts.get("rejected_rows")
        rows.append(
            {
                "asset": row.asset,
                "raw_rows": counts.get("raw_rows"),
                "clean_rows": counts.get("clean_rows"),
                "rejected_rows": rejected,
                "unaccounted_rows": counts.get("unaccounted_rows"),
                "passed": row.passed,
                "rejects_in_table": in_table,
                "consistent": rejected == in_table,
            }
        )
    frame = pd.DataFrame(rows, columns=RECONCILIATION_COLUMNS)
    for col in ["raw_rows", "clean_rows", "rejected_rows", "unaccounted_rows", "rejects_in_table"]:
        frame[col] = frame[col].astype("Int64")
    return frame.astype({"passed": "boolean", "consistent": "boolean"})


def selects(day: date) -> dict[str, tuple[str, list]]:
    """What the snapshot copies: each snapshot table as of the day, and that day's rejects."""
    out = {
        name: (f"SELECT * FROM {name} WHERE as_of {'<=' if name in HISTORY else '='} ?", [day])
        for name in SNAPSHOT_ASSETS
    }
    out["rejects"] = ("SELECT * FROM rejects WHERE partition_date = ?", [day])
    return out | {name: (sql, [day]) for name, sql in RATING_ROLLUPS.items()}


# Every Dash filter is a property of the movie, so the ratings the charts aggregate can be
# summed per movie ahead of time: a chart then joins the filtered movies to thousands of
# rollup rows instead of millions of ratings (at 25M ratings, 4 s cold became <0.2 s).
RATING_ROLLUPS = {
    "dash_movie_year": """SELECT movie_id, CAST(year(rating_date) AS INTEGER) AS year,
        count(*) AS ratings, sum(rating) AS rating_sum
        FROM ratings WHERE as_of = ? GROUP BY ALL ORDER BY ALL""",
    "dash_movie_month": """SELECT movie_id, CAST(date_trunc('month', rating_date) AS DATE) AS month,
        count(*) AS ratings, sum(rating) AS rating_sum
        FROM ratings WHERE as_of = ? GROUP BY ALL ORDER BY ALL""",
    "dash_movie_stars": """SELECT movie_id, rating, count(*) AS ratings
        FROM ratings WHERE as_of = ? GROUP BY ALL ORDER BY ALL""",
}


@dg.asset(
    partitions_def=daily_partitions,
    kinds={"duckdb"},
    deps=SNAPSHOT_ASSETS,
    check_specs=[
        checks.spec(
            "dashboard_snapshot",
            "matches_warehouse",
            "Every snapshot table holds as many rows as the warehouse as of the day.",
        ),
    ],
)
def dashboard_snapshot(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource
) -> dg.MaterializeResult:
    """A read-only DuckDB copy for Dash, with the latest check results and reconciliation counts."""
    day = snapshot_day(context)
    directory = snapshot.snapshot_dir(Path(duckdb.database))
    queries = selects(day)
    with duckdb.get_connection() as con:
        quality = check_results(con, upstream_checks(), day)
        # The weekly job's tables: a daily run on a new warehouse may come first, and then
        # publishes them empty rather than failing.
        for name in WEEKLY_ASSETS:
            con.execute(ddl(TABLES[name]))
        missing = [n for n in queries if n not in RATING_ROLLUPS and not table_exists(con, n)]
        if missing:
            raise LookupError(f"tables {missing} do not exist: materialize them first")
        rejects = con.execute(
            "SELECT asset, count(*) AS n FROM rejects WHERE partition_date = ? GROUP BY asset",
            [day],
        ).df()
        frames = {
            "dq_checks": quality,
            "dq_reconciliation": reconciliation(quality, rejects.set_index("asset")["n"]),
            "snapshot_info": pd.DataFrame(
                {
                    "as_of": pd.Series([day], dtype=object),  # a DATE, like every as_of
                    "run_id": [context.run.run_id],
                    "published_at": [pd.Timestamp.now(tz="UTC").tz_localize(None)],
                }
            ),
        }
        path = snapshot.write(con, directory, day, queries, frames)
        expected = {
            name: con.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0]
            for name, (sql, params) in queries.items()
        }
    with open_duckdb(str(path), read_only=True) as copy:
        copied = {
            name: copy.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in expected
        }
    wrong = pd.DataFrame(
        [
            {"table": n, "warehouse": expected[n], "snapshot": copied[n]}
            for n in expected
            if expected[n] != copied[n]
        ],
        columns=["table", "warehouse", "snapshot"],
    )
    swapped = snapshot.publish(directory, path, day)
    failed = quality[quality["status"] == "failed"]
    return dg.MaterializeResult(
        metadata={
            "path": str(path),
            "published": swapped,
            "checks": len(quality),
            "checks_failed": len(failed),
            "rows": dg.MetadataValue.json(copied),
        },
        check_results=[checks.failing_rows("matches_warehouse", wrong)],
    )
