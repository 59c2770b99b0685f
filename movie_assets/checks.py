"""Asset checks: generated from the Pandera models, plus the cross-table rules.

Each check is a plain function from data to ``AssetCheckResult`` so tests call
it directly; assets declare the specs and return the results with their
materialization, so a range run reports once for the whole window.
"""

from __future__ import annotations

import json

import dagster as dg
import pandas as pd
import pandera.pandas as pa

from movie_assets.schemas import TABLES

SAMPLE_ROWS = 10

# BLS did not publish CPI-U for October 2025 (the federal shutdown); months known to be absent.
DOCUMENTED_CPI_GAPS = {pd.Timestamp("2025-10-01")}


def schema_spec(asset: str, blocking: bool = True) -> dg.AssetCheckSpec:
    model = TABLES[asset].model
    return dg.AssetCheckSpec(
        name="schema",
        asset=asset,
        blocking=blocking,
        description=f"Pandera {model.__name__}: columns, types, order, keys and value rules.",
    )


def spec(asset: str, name: str, description: str, blocking: bool = True) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(name=name, asset=asset, blocking=blocking, description=description)


def _sample(frame: pd.DataFrame) -> dg.MetadataValue:
    records = frame.head(SAMPLE_ROWS).astype(object).where(frame.head(SAMPLE_ROWS).notna(), None)
    return dg.MetadataValue.json(json.loads(records.to_json(orient="records", date_format="iso")))


def failing_rows(check_name: str, failing: pd.DataFrame, **metadata) -> dg.AssetCheckResult:
    """Pass when no row fails; otherwise the count and a sample of the failing rows."""
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=failing.empty,
        metadata={"failures": len(failing), "failing_sample": _sample(failing), **metadata},
    )


def schema_result(table_name: str, frame: pd.DataFrame) -> dg.AssetCheckResult:
    model = TABLES[table_name].model
    try:
        model.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        by_check = cases.groupby("check").size().sort_values(ascending=False)
        return failing_rows(
            "schema",
            cases[["column", "check", "failure_case", "index"]].astype(str),
            failures_by_check=dg.MetadataValue.json(by_check.to_dict()),
            rows=len(frame),
        )
    return failing_rows("schema", frame.iloc[0:0], rows=len(frame))


def foreign_key(
    check_name: str, frame: pd.DataFrame, column: str, parent: pd.Series, parent_name: str
) -> dg.AssetCheckResult:
    orphans = frame[~frame[column].isin(parent)]
    return failing_rows(check_name, orphans, parent=parent_name)


def rows_present(expected: pd.Series, written: pd.Series) -> dg.AssetCheckResult:
    """Every day the source had rows holds exactly that many rows in the warehouse."""
    both = pd.concat({"source": expected, "warehouse": written}, axis=1).fillna(0).astype(int)
    both.index.name = "day"
    wrong = both[(both["source"] > 0) & (both["warehouse"] != both["source"])].reset_index()
    return failing_rows(
        "rows_present",
        wrong,
        source_days=int((both["source"] > 0).sum()),
        source_rows=int(both["source"].sum()),
        warehouse_rows=int(both["warehouse"].sum()),
    )


def contiguous_months(frame: pd.DataFrame) -> dg.AssetCheckResult:
    from movie_assets.clean.transforms import months_missing

    gaps = []
    for series_id, group in frame.groupby("series_id"):
        for month in months_missing(group["month"]):
            if month not in DOCUMENTED_CPI_GAPS:
                gaps.append({"series_id": series_id, "month": month.date().isoformat()})
    return failing_rows(
        "contiguous_months",
        pd.DataFrame(gaps, columns=["series_id", "month"]),
        documented_gaps=[m.date().isoformat() for m in sorted(DOCUMENTED_CPI_GAPS)],
    )


def weighted_score_between(frame: pd.DataFrame, global_mean: float) -> dg.AssetCheckResult:
    """A Bayesian score shrinks the movie's mean towards the global mean, never past either."""
    rated = frame[frame["rating_count"] > 0]
    low = rated["rating_mean"].clip(upper=global_mean) - 1e-9
    high = rated["rating_mean"].clip(lower=global_mean) + 1e-9
    outside = rated[(rated["weighted_score"] < low) | (rated["weighted_score"] > high)]
    return failing_rows(
        "weighted_score_between",
        outside[["movie_id", "rating_count", "rating_mean", "weighted_score"]],
        global_mean=global_mean,
    )


def reconciles(raw_rows: int, clean_rows: int, rejected_rows: int) -> dg.AssetCheckResult:
    """raw = clean + rejected: nothing is lost silently."""
    difference = raw_rows - clean_rows - rejected_rows
    return dg.AssetCheckResult(
        check_name="reconciles",
        passed=difference == 0,
        metadata={
            "raw_rows": raw_rows,
            "clean_rows": clean_rows,
            "rejected_rows": rejected_rows,
            "unaccounted_rows": difference,
        },
    )


RECONCILES_DESCRIPTION = "raw rows = clean rows + rejected rows"
