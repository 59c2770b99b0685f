"""Relational work inside the engine: Ibis expressions over the warehouse tables.

The clean and feature layers that grow with the ratings are Ibis expressions,
compiled to SQL and run by DuckDB out of core; the same expressions run on any
Ibis backend. Nothing here pulls a ratings-sized table into Python: reads are
expressions, writes are ``INSERT ... SELECT`` inside the warehouse's transaction,
and the schema check counts failures in the engine and brings back a sample.

Where Ibis has no operation the check factory needs (a custom Pandera check), its
engine form is written once in ``CUSTOM_CHECKS``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import ibis
import ibis.expr.types as ir
import pandas as pd

from movie_assets.schemas import TABLES, Table, column_types
from movie_assets.warehouse import (
    finish_window,
    is_view,
    partition_transaction,
    table_exists,
    transaction,
    was_written,
)

_IBIS_TYPES = {
    "BIGINT": "int64",
    "DOUBLE": "float64",
    "VARCHAR": "string",
    "BOOLEAN": "boolean",
    "TIMESTAMP": "timestamp",
    "DATE": "date",
}


def connect(con) -> ibis.BaseBackend:
    """The Ibis backend over an open warehouse connection (same transaction, same lock)."""
    return ibis.duckdb.from_connection(con)


def ibis_schema(table: Table) -> ibis.Schema:
    return ibis.schema({c: _IBIS_TYPES[t] for c, t in column_types(table).items()})


def conformed(expr: ir.Table, name: str) -> ir.Table:
    """Columns in schema order, cast to the schema's types: inserts never depend on position."""
    schema = ibis_schema(TABLES[name])
    return expr.select(*[expr[c].cast(t).name(c) for c, t in schema.items()])


def json_text(values: dict[str, ir.Value]) -> ir.StringValue:
    """A row as JSON text, written with portable string operations (Ibis has no to_json).

    Numbers and dates as JSON numbers and strings; NULL as null. Used for the ``raw``
    column of rejects, which keeps every field as received.
    """
    parts = []
    for i, (key, value) in enumerate(values.items()):
        text = value.cast("string")
        if not value.type().is_numeric():
            text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        prefix = ("{" if i == 0 else ", ") + f'"{key}": '
        parts.append(prefix + value.isnull().ifelse("null", text))
    return ibis.literal("").concat(*parts) + "}" if parts else ibis.literal("{}")


# --- checks in the engine, generated from the Pandera models ---------------------------------


def _custom_half_stars(col: ir.NumericColumn) -> ir.BooleanValue:
    return (col * 2).round() == col * 2


# Pandera checks written as Python functions have an engine form here, by check name.
CUSTOM_CHECKS = {"half_star_steps": _custom_half_stars}


def _passes(check, col: ir.Column) -> ir.BooleanValue:
    """The engine form of one Pandera check (built-in checks by their statistics)."""
    stats = check.statistics or {}
    name = check.name
    if name == "greater_than_or_equal_to":
        return col >= stats["min_value"]
    if name == "less_than_or_equal_to":
        return col <= stats["max_value"]
    if name == "greater_than":
        return col > stats["min_value"]
    if name == "less_than":
        return col < stats["max_value"]
    if name == "in_range":
        return col.between(stats["min_value"], stats["max_value"])
    if name == "isin":
        return col.isin(list(stats["allowed_values"]))
    if name == "str_length":
        length = col.length()
        ok = ibis.literal(True)
        if stats.get("min_value") is not None:
            ok &= length >= stats["min_value"]
        if stats.get("max_value") is not None:
            ok &= length <= stats["max_value"]
        return ok
    if name == "str_matches":
        return col.re_search(str(getattr(stats["pattern"], "pattern", stats["pattern"])))
    if name in CUSTOM_CHECKS:
        return CUSTOM_CHECKS[name](col)
    raise NotImplementedError(f"no engine form for the Pandera check {name!r}")


def failing_counts(
    expr: ir.Table, name: str, sample_rows: int
) -> tuple[int, dict[str, int], pd.DataFrame]:
    """Every rule of the table's Pandera model counted in the engine.

    Returns the total of failures, the failures per rule and a sample of failing rows
    (at most ``sample_rows`` per rule). A NULL fails nullability only, as in Pandera.
    """
    schema = TABLES[name].model.to_schema()
    rules: dict[str, ir.BooleanValue] = {}
    for col_name, column in schema.columns.items():
        col = expr[col_name]
        if not column.nullable:
            rules[f"{col_name}: not_nullable"] = col.notnull()
        for check in column.checks:
            rules[f"{col_name}: {check.name}"] = col.isnull() | _passes(check, col)
    counts = expr.aggregate(
        **{f"r{i}": (~rule).sum().fill_null(0) for i, rule in enumerate(rules.values())},
        rows=expr.count(),
    ).execute()
    by_rule = {label: int(counts[f"r{i}"].iloc[0]) for i, label in enumerate(rules)}
    keys = list(schema.unique or [])
    if keys:
        dupes = expr.group_by(keys).aggregate(n=expr.count()).filter(ibis._.n > 1)
        by_rule[f"unique: {', '.join(keys)}"] = int(dupes.n.sum().fill_null(0).execute())
    failing = {label: n for label, n in by_rule.items() if n}
    samples = [
        expr.filter(~rules[label]).limit(sample_rows).execute().assign(check=label)
        for label in failing
        if label in rules
    ]
    sample = pd.concat(samples, ignore_index=True) if samples else pd.DataFrame()
    return sum(failing.values()), failing, sample.head(sample_rows)


class Tables:
    """Upstream tables as expressions over one open warehouse connection, and partition writes.

    The Spark engine's ``spark.SparkTables`` has the same methods.
    """

    def __init__(self, con):
        self.con = con
        self.db = connect(con)

    def snapshot(self, name: str, as_of: date) -> ir.Table:
        """A snapshot as of exactly this day; missing means the graph was run out of order."""
        if not was_written(self.con, name, as_of):
            raise LookupError(f"{name} has no snapshot as of {as_of}: materialize that partition")
        return self.db.table(name).filter(ibis._.as_of == as_of)

    def whole(self, name: str) -> ir.Table:
        """Every snapshot of a table: what a view is defined over."""
        return self.db.table(name)

    def view(
        self,
        name: str,
        day: date,
        rows: ir.Table,
        before_commit: Callable[[int], None] | None = None,
    ) -> int:
        """``rows`` (over every snapshot) as a view; the day is logged with its row count.

        Nothing is copied: a star-schema table is a projection of tables the warehouse
        already holds. A table of that name from an older warehouse is dropped.
        """
        with transaction(self.con):
            if table_exists(self.con, name) and not is_view(self.con, name):
                self.con.execute(f"DROP TABLE {name}")
            self.con.execute(f"CREATE OR REPLACE VIEW {name} AS {ibis.to_sql(rows, 'duckdb')}")
            count = f"SELECT count(*) FROM {name} WHERE as_of = ?"
            written = self.con.execute(count, [day]).fetchone()[0]
            finish_window(self.con, name, day, day, written, before_commit)
        return written

    def events(self, name: str, first: date, last: date) -> ir.Table:
        if not table_exists(self.con, name):
            raise LookupError(f"table {name} does not exist: materialize it first")
        col = TABLES[name].partition_column
        return self.db.table(name).filter(ibis._[col].between(first, last))

    def replace(
        self,
        name: str,
        day: date,
        rows: ir.Table,
        rejects: ir.Table | None,
        before_commit: Callable[[int], None] | None = None,
    ) -> int:
        """The day's partition (and this asset's rejects of the day) in one transaction.

        ``before_commit`` runs inside it, after the rows are in: the checks go there.
        """
        with partition_transaction(
            self.con, name, day, day, rejects is not None, before_commit
        ) as window:
            self.db.insert(name, rows)
            if rejects is not None:
                self.db.insert("rejects", rejects)
        return window.rows
