"""The one way an asset writes: a transactional partition replace, then its checks and metadata."""

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date

import dagster as dg
import ibis
import ibis.expr.types as ir
import pandas as pd

from movie_assets import checks, engine
from movie_assets.schemas import TABLES, now
from movie_assets.warehouse import record_checks, replace_partition_batches, transaction

PREVIEW_ROWS = 5
# A range run copies its metadata to every partition: keep it small.
MAX_REASONS = 20


def reason_kinds(reasons: pd.Series) -> pd.Series:
    """Reasons without their place ("ratings.csv line 12: blank line" -> "blank line")."""
    return reasons.str.replace(r"^.*? line \d+: ", "", regex=True)


def write_partition(
    context: dg.AssetExecutionContext,
    con,
    table: str,
    frame: pd.DataFrame,
    first: date,
    last: date,
    rejects: pd.DataFrame | None = None,
    extra_checks: Iterable[dg.AssetCheckResult] = (),
    raw_rows: int | None = None,
    metadata: dict | None = None,
) -> dg.MaterializeResult:
    """The window's rows (and rejects) as one frame, on the step's open connection ``con``."""
    results = list(extra_checks)
    if raw_rows is not None:
        results.append(checks.reconciles(raw_rows, len(frame), len(rejects)))
    return write_partition_batches(
        context,
        con,
        table,
        [(frame, rejects)],
        first,
        last,
        with_rejects=rejects is not None,
        extra_checks=results,
        metadata=metadata,
    )


def write_partition_batches(
    context: dg.AssetExecutionContext,
    con,
    table: str,
    batches: Iterable[tuple[pd.DataFrame, pd.DataFrame | None]],
    first: date,
    last: date,
    with_rejects: bool = False,
    extra_checks: Iterable[dg.AssetCheckResult] = (),
    metadata: dict | None = None,
) -> dg.MaterializeResult:
    """The window's (rows, rejects) batches in one transaction; checks and metadata cover all.

    Only one batch is held at a time: the schema check, the row and reject counts and
    the preview are gathered batch by batch (warehouse.replace_partition_batches).
    """
    tally = _Tally(table)
    results: list[dg.AssetCheckResult] = []

    def evaluate(written_rows: int) -> None:
        """The checks, over the rows as written, recorded before they commit."""
        results.append(tally.schema.result())
        if TABLES[table].references:  # declared on snapshot tables only: first == last
            tables = engine.Tables(con)
            snapshot = tables.snapshot(table, first)
            results.extend(reference_results(tables, table, snapshot, first))
        results.extend(extra_checks)
        rows = check_rows(results, first, last, context.run.run_id)
        record_checks(con, table, first, last, rows)

    written = replace_partition_batches(
        con,
        table,
        tally.rejects_of(batches),
        first,
        last,
        with_rejects=with_rejects,
        on_batch=tally.add,
        before_commit=evaluate,
    )
    info = {
        "dagster/row_count": written,
        "window": f"{first}..{last}",
        "preview": dg.MetadataValue.md(tally.preview.to_markdown(index=False)),
    }
    if with_rejects:
        info["rejected_rows"] = tally.rejected
        if tally.rejected:
            top = tally.reasons.most_common(MAX_REASONS)
            info["reject_reasons"] = dg.MetadataValue.json(dict(top))
    context.log.info(f"{table}: wrote {written} rows for {first}..{last}")
    return dg.MaterializeResult(
        metadata={**info, **(metadata or {})},
        check_results=results,
    )


class _Tally:
    """What the checks and metadata need from the rows and rejects, kept as they pass."""

    def __init__(self, table: str):
        self.schema = checks.SchemaTally(table)
        self.preview = pd.DataFrame(columns=TABLES[table].columns)
        self.rejected = 0
        self.reasons: Counter = Counter()

    def add(self, written: pd.DataFrame) -> None:
        self.schema.add(written)
        self.preview = checks.first_rows(self.preview, written, PREVIEW_ROWS)

    def rejects_of(self, batches: Iterable) -> Iterator[tuple[pd.DataFrame, pd.DataFrame | None]]:
        for rows, rejects in batches:
            if rejects is not None:
                self.rejected += len(rejects)
                self.reasons.update(reason_kinds(rejects["reason"]).value_counts().to_dict())
            yield rows, rejects


def write_output(
    context: dg.AssetExecutionContext,
    con,
    tables: engine.Tables,
    table: str,
    day: date,
    rows: ir.Table,
    rejects: ir.Table | None = None,
    received: ir.Table | None = None,
    extra_checks: Iterable[dg.AssetCheckResult] = (),
    metadata: dict | None = None,
) -> dg.MaterializeResult:
    """Engine rows (and a cleaner's rejects) as the day's snapshot: one ``INSERT ... SELECT``.

    No row passes through Python. The schema and reference checks, the reconciliation
    (``received``: the input whose every row must land in the rows or the rejects), the
    counts and the preview are queries over the written partition, made before the
    transaction commits, and the results are recorded in it (``check_results``).
    """
    stamped = None
    if rejects is not None:
        stamped = engine.conformed(
            rejects.mutate(
                asset=ibis.literal(table), rejected_at=ibis.literal(now().to_pydatetime())
            ),
            "rejects",
        )
    results: list[dg.AssetCheckResult] = []
    info: dict = {"window": f"{day}..{day}", **(metadata or {})}

    def evaluate(written_rows: int) -> None:
        written = tables.snapshot(table, day)
        info["dagster/row_count"] = written_rows
        results.append(engine_schema_result(written, table, written_rows))
        results.extend(reference_results(tables, table, written, day))
        if rejects is not None:
            rejected = _reject_reasons(con, table, day, info)
            if received is not None:
                got = int(received.count().execute())
                results.append(checks.reconciles(got, written_rows, rejected))
        keys = TABLES[table].sort_key
        if keys:
            preview = written.order_by(keys).limit(PREVIEW_ROWS).execute()
            info["preview"] = dg.MetadataValue.md(preview.to_markdown(index=False))
        results.extend(extra_checks)
        record_checks(con, table, day, day, check_rows(results, day, day, context.run.run_id))

    conformed = engine.conformed(rows, table)
    if TABLES[table].view:
        written = tables.view(table, day, conformed, before_commit=evaluate)
    else:
        written = tables.replace(table, day, conformed, stamped, before_commit=evaluate)
    context.log.info(f"{table}: wrote {written} rows as of {day} in the engine")
    return dg.MaterializeResult(metadata=info, check_results=results)


def _reject_reasons(con, table: str, day: date, info: dict) -> int:
    """The asset's rejects of the day: their count, and the commonest reasons in ``info``."""
    reasons = (
        engine.connect(con)
        .table("rejects")
        .filter((ibis._.asset == table) & (ibis._.partition_date == day))
        .reason.value_counts()
        .execute()
    )
    rejected = int(reasons.iloc[:, 1].sum())
    info["rejected_rows"] = rejected
    if rejected:
        top = reasons.sort_values(reasons.columns[1], ascending=False).head(MAX_REASONS)
        info["reject_reasons"] = dg.MetadataValue.json(
            {str(r): int(n) for r, n in top.itertuples(index=False)}
        )
    return rejected


def engine_schema_result(written: ir.Table, table: str, rows: int) -> dg.AssetCheckResult:
    """The table's Pandera model, counted in the engine: failures, per rule, and a sample."""
    failures, by_rule, sample = engine.failing_counts(written, table, checks.SAMPLE_ROWS)
    if not failures:
        return checks.failing_rows("schema", pd.DataFrame(), rows=rows)
    return dg.AssetCheckResult(
        check_name="schema",
        passed=False,
        metadata={
            "failures": failures,
            "failing_sample": checks.sample_metadata(sample),
            "failures_by_check": dg.MetadataValue.json(by_rule),
            "rows": rows,
        },
    )


def reference_results(
    tables, table: str, written: ir.Table, day: date
) -> list[dg.AssetCheckResult]:
    """The table's declared references (schemas.Table.references), counted in the engine.

    The sample of orphans is fetched only when there are some: one query when it passes.
    """
    results = []
    for column, parent in TABLES[table].references:
        keys = tables.snapshot(parent, day)[column]
        orphans = written.filter(~written[column].isin(keys))
        failures = int(orphans.count().execute())
        sample = orphans.limit(checks.SAMPLE_ROWS).execute() if failures else pd.DataFrame()
        results.append(
            checks.failing_rows(
                checks.reference_name(column, parent), sample, parent=parent, failures=failures
            )
        )
    return results


def record_after(context, con, table: str, first: date, last: date, results: list) -> None:
    """Results of checks that ran after the rows were committed, in a transaction of their own."""
    with transaction(con):
        record_checks(con, table, first, last, check_rows(results, first, last, context.run.run_id))


def check_rows(
    results: list[dg.AssetCheckResult], first: date, last: date, run_id: str | None
) -> pd.DataFrame:
    """Check results as rows of the check_results table (schemas.CheckResults)."""
    rows = []
    for result in results:
        metadata = {k: getattr(v, "value", v) for k, v in (result.metadata or {}).items()}
        failures = metadata.get("failures", metadata.get("unaccounted_rows"))
        rows.append(
            {
                "check_name": result.check_name,
                "passed": bool(result.passed),
                "severity": result.severity.value,
                "failures": None if failures is None else int(failures),
                "metadata": json.dumps(metadata, default=str, sort_keys=True),
            }
        )
    frame = pd.DataFrame(rows, columns=["check_name", "passed", "severity", "failures", "metadata"])
    return frame.assign(first_day=first, last_day=last, run_id=run_id, evaluated_at=now())
