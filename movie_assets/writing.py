"""The one way an asset writes: a transactional partition replace, then its checks and metadata."""

from collections.abc import Iterable
from datetime import date

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from movie_assets import checks
from movie_assets.warehouse import replace_partition

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
    with duckdb.get_connection() as con:
        written = replace_partition(con, table, frame, first, last, rejects)
    results = [checks.schema_result(table, written), *extra_checks]
    info = {
        "dagster/row_count": len(written),
        "window": f"{first}..{last}",
        "preview": dg.MetadataValue.md(written.head(PREVIEW_ROWS).to_markdown(index=False)),
    }
    if rejects is not None:
        info["rejected_rows"] = len(rejects)
        if len(rejects):
            info["reject_reasons"] = dg.MetadataValue.json(
                rejects["reason"].value_counts().to_dict()
            )
    if raw_rows is not None:
        results.append(checks.reconciles(raw_rows, len(written), len(rejects)))
    context.log.info(f"{table}: wrote {len(written)} rows for {first}..{last}")
    return dg.MaterializeResult(metadata={**info, **(metadata or {})}, check_results=results)
