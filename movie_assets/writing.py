"""The one way an asset writes: a transactional partition replace, then its checks and metadata."""

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from movie_assets import checks
from movie_assets.schemas import TABLES
from movie_assets.warehouse import replace_partition_batches

PREVIEW_ROWS = 5


def write_partition(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    table: str,
    frame: pd.DataFrame,
    first: date,
    last: date,
    rejects: pd.DataFrame | None = None,
    extra_checks: Iterable[dg.AssetCheckResult] = (),
    raw_rows: int | None = None,
    metadata: dict | None = None,
) -> dg.MaterializeResult:
    """The window's rows (and rejects) as one frame."""
    results = list(extra_checks)
    if raw_rows is not None:
        results.append(checks.reconciles(raw_rows, len(frame), len(rejects)))
    return write_partition_batches(
        context,
        duckdb,
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
    duckdb: DuckDBResource,
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
    with duckdb.get_connection() as con:
        written = replace_partition_batches(
            con,
            table,
            tally.rejects_of(batches),
            first,
            last,
            with_rejects=with_rejects,
            on_batch=tally.add,
        )
    info = {
        "dagster/row_count": written,
        "window": f"{first}..{last}",
        "preview": dg.MetadataValue.md(tally.preview.to_markdown(index=False)),
    }
    if with_rejects:
        info["rejected_rows"] = tally.rejected
        if tally.rejected:
            info["reject_reasons"] = dg.MetadataValue.json(dict(tally.reasons.most_common()))
    context.log.info(f"{table}: wrote {written} rows for {first}..{last}")
    return dg.MaterializeResult(
        metadata={**info, **(metadata or {})},
        check_results=[tally.schema.result(), *extra_checks],
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
                self.reasons.update(rejects["reason"].value_counts().to_dict())
            yield rows, rejects
