"""Asset checks: generated from the Pandera models, plus the cross-table rules.

Each check is a plain function from data to ``AssetCheckResult`` so tests call
it directly; assets declare the specs and return the results with their
materialization, so a range run reports once for the whole window.
"""

from __future__ import annotations

import json
from collections import Counter

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


def reference_name(column: str, parent: str) -> str:
    return f"{column}_in_{parent}"


def table_specs(asset: str) -> list[dg.AssetCheckSpec]:
    """The table's declared rules: its Pandera model, then one check per reference."""
    return [
        schema_spec(asset),
        *(
            spec(
                asset,
                reference_name(column, parent),
                f"Every {column} exists in {parent} as of the same day.",
            )
            for column, parent in TABLES[asset].references
        ),
    ]


def spec(asset: str, name: str, description: str, blocking: bool = True) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(name=name, asset=asset, blocking=blocking, description=description)


def sample_metadata(frame: pd.DataFrame) -> dg.MetadataValue:
    records = frame.head(SAMPLE_ROWS).astype(object).where(frame.head(SAMPLE_ROWS).notna(), None)
    return dg.MetadataValue.json(json.loads(records.to_json(orient="records", date_format="iso")))


def failing_rows(check_name: str, failing: pd.DataFrame, **metadata) -> dg.AssetCheckResult:
    """Pass when no row fails; otherwise the count and a sample of the failing rows.

    ``failures`` in metadata overrides the count when ``failing`` is only a sample.
    """
    failures = metadata.pop("failures", len(failing))
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=failures == 0,
        metadata={"failures": failures, "failing_sample": sample_metadata(failing), **metadata},
    )


def schema_result(table_name: str, frame: pd.DataFrame) -> dg.AssetCheckResult:
    tally = SchemaTally(table_name)
    tally.add(frame)
    return tally.result()


def first_rows(kept: pd.DataFrame | None, more: pd.DataFrame, n: int) -> pd.DataFrame:
    """The first n rows of a stream of frames, kept as the frames pass (a copy, no views)."""
    if kept is not None and len(kept) >= n:
        return kept
    head = more.head(n - (0 if kept is None else len(kept))).copy()
    return head if kept is None or kept.empty else pd.concat([kept, head], ignore_index=True)


class SchemaTally:
    """The schema check of a window written in batches: every batch validated, failures summed.

    Memory stays bounded: only counts and the first SAMPLE_ROWS failure cases are kept.
    Pandera's uniqueness rules cannot see across batches, so a model that has them
    takes one frame only.
    """

    def __init__(self, table_name: str):
        self.model = TABLES[table_name].model
        schema = self.model.to_schema()
        self.table_name = table_name
        self.unique = bool(schema.unique) or any(c.unique for c in schema.columns.values())
        self.batches = self.rows = self.failures = 0
        self.by_check: Counter = Counter()
        self.sample: pd.DataFrame | None = None

    def add(self, frame: pd.DataFrame) -> None:
        if self.batches and self.unique:
            raise ValueError(
                f"{self.table_name}: its uniqueness rules cannot be checked across batches; "
                "write it as one frame"
            )
        self.batches += 1
        self.rows += len(frame)
        try:
            self.model.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as err:
            cases = err.failure_cases
            self.failures += len(cases)
            # "column: check", as the engine's counts label their rules.
            labels = cases["column"].astype(str) + ": " + cases["check"].astype(str)
            self.by_check.update(labels.value_counts().to_dict())
            # astype copies the head: no view keeps every failure case of the batch alive.
            cases = cases[["column", "check", "failure_case", "index"]].head(SAMPLE_ROWS)
            cases = cases.astype(str)
            self.sample = first_rows(self.sample, cases, SAMPLE_ROWS)

    def result(self) -> dg.AssetCheckResult:
        if not self.failures:
            return failing_rows("schema", pd.DataFrame(), rows=self.rows)
        return dg.AssetCheckResult(
            check_name="schema",
            passed=False,
            metadata={
                "failures": self.failures,
                "failing_sample": sample_metadata(self.sample),
                "failures_by_check": dg.MetadataValue.json(dict(self.by_check.most_common())),
                "rows": self.rows,
            },
        )


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


def months_missing(months: pd.Series) -> list[pd.Timestamp]:
    """Calendar months absent between the first and last month of a series."""
    if months.empty:
        return []
    full = pd.date_range(months.min(), months.max(), freq="MS")
    return sorted(set(full) - set(pd.to_datetime(months)))


def contiguous_months(frame: pd.DataFrame) -> dg.AssetCheckResult:
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
