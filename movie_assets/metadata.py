"""What the Dagster UI shows about each asset, generated rather than written per asset.

Columns, types, rules and keys come from the Pandera models (``schemas.TABLES``); what a
partition means comes from whether the table is an event or a snapshot table. Row counts
are materialization metadata (``writing``): they describe a partition, not a definition.
"""

from __future__ import annotations

import warnings

import dagster as dg

from movie_assets.schemas import TABLES, Table, column_types
from movie_assets.table_asset import CODE_REFERENCES

# Who answers for each layer, by the asset group it is in.
OWNERS = {
    "raw": ["team:data-engineering"],
    "clean": ["team:data-engineering"],
    "features": ["team:analytics"],
    "model": ["team:machine-learning"],
    "publish": ["team:analytics"],
}

EVENT_PARTITION = (
    "Partition: day D holds the ratings made on D (UTC). The build loads every day in one "
    "run; each day is written once."
)
SNAPSHOT_PARTITION = (
    "Partition: day D holds the state of the data as it could be known on D: ratings and tags "
    "made up to D, films released by D, CPI months published by D (docs/partitions.md). The "
    "build materializes the newest day only, so the UI shows one partition of thousands "
    "filled, by design; an older day is materialized on demand, one day per run."
)


def column_schema(table: Table) -> dg.TableSchema:
    """The model's columns with their DuckDB types, nullability, rules and the table's key."""
    schema = table.model.to_schema()
    types = column_types(table)
    columns = [
        dg.TableColumn(
            name=name,
            type=types[name],
            description=column.description,
            constraints=dg.TableColumnConstraints(
                nullable=column.nullable,
                unique=column.unique,
                other=[check.error or check.name for check in column.checks],
            ),
        )
        for name, column in schema.columns.items()
    ]
    keys = schema.unique or []
    other = [f"unique ({', '.join(keys)})"] if keys else []
    return dg.TableSchema(columns=columns, constraints=dg.TableConstraints(other=other))


def table_metadata(table: Table, catalog: str) -> dict:
    return {
        "dagster/column_schema": column_schema(table),
        "dagster/table_name": f"{catalog}.main.{table.name}",
        "partition_column": table.partition_column,
    }


def _described(spec: dg.AssetSpec, catalog: str) -> dg.AssetSpec:
    name = spec.key.to_user_string()
    table = TABLES.get(name)
    event = table is not None and table.is_event
    note = EVENT_PARTITION if event else SNAPSHOT_PARTITION
    metadata = {
        **spec.metadata,
        **(table_metadata(table, catalog) if table else {}),
        "partition_meaning": (
            "event day: the ratings made that day"
            if event
            else "as-of day: the data as it could be known that day"
        ),
        "partitions_built": (
            "every day, in one range run" if event else "the newest day; others on demand"
        ),
    }
    return spec.replace_attributes(
        description=f"{spec.description or ''}\n\n{note}".strip(),
        metadata=metadata,
        owners=OWNERS.get(spec.group_name or "", []),
    )


def with_catalog_metadata(assets: list, catalog: str) -> list:
    """Every asset with its column schema, table name, owners, partition meaning and code link.

    ``catalog`` is the DuckDB catalog of the warehouse file (its name without ``.duckdb``).
    """
    described = dg.map_asset_specs(lambda spec: _described(spec, catalog), assets)
    # table_asset links its assets to their bodies itself; the rest link to their functions.
    linked = [a for a in described if any(CODE_REFERENCES in s.metadata for s in a.specs)]
    rest = [a for a in described if a not in linked]
    # with_source_code_references is a beta API in dagster 1.13; using it is our choice.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        return [*linked, *dg.with_source_code_references(rest)]
