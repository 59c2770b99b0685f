"""One decorator for a snapshot table: the asset body is only its transformation.

The body's parameters say what it reads, so each upstream name is written once:

- a parameter named after a table and typed ``pd.DataFrame`` gets that table's rows
  as of the day, typed ``ir.Table`` the same snapshot as an engine expression, and
  typed ``History`` every partition of an event table up to the day;
- ``day`` gets the as-of day, and ``config`` the run's config of the annotated class;
- a parameter typed as a Dagster resource class (a source) gets that resource, and
  ``duckdb`` the warehouse, for a body that reads what it needs itself (the models).

The body returns ``Rows``. Pandas rows are written with writing.write_partition,
engine rows with writing.write_output's single ``INSERT ... SELECT``; either way the
schema and reference checks of schemas.TABLES, the reconciliation and the body's own
checks come with the write. Groups are set where definitions.py loads the modules.

``body_of(asset)`` returns the plain function, so a body is unit-tested with frames.
"""

import inspect
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, get_args, get_origin, get_type_hints

import dagster as dg
import ibis.expr.types as ir
import pandas as pd
from dagster_duckdb import DuckDBResource

from movie_assets import checks, engine
from movie_assets.partitions import daily_partitions, snapshot_day
from movie_assets.schemas import TABLES
from movie_assets.warehouse import read_snapshot
from movie_assets.writing import write_output, write_partition

HISTORY = "every partition up to the as-of day"
History = Annotated[ir.Table, HISTORY]
SPECIAL = ("day", "config", "return")
CODE_REFERENCES = "dagster/code_references"


@dataclass
class Rows:
    """What a body returns: its rows, its rejects (for a cleaner) and what only it can check.

    ``checks`` are results of the checks named in the decorator; ``metadata`` joins the
    writer's row counts and preview.
    """

    rows: pd.DataFrame | ir.Table
    rejects: pd.DataFrame | ir.Table | None = None
    checks: Sequence[dg.AssetCheckResult] = ()
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class _Input:
    name: str
    kind: type | str  # pd.DataFrame, ir.Table or HISTORY

    @property
    def dep(self) -> str | dg.AssetDep:
        if self.kind == HISTORY:
            return dg.AssetDep(self.name, partition_mapping=dg.AllPartitionMapping())
        return self.name

    def read(self, con, tables, day: date, whole: bool = False):
        if whole:  # a view's input: every snapshot
            return tables.whole(self.name)
        if self.kind is pd.DataFrame:
            return read_snapshot(con, self.name, day)
        if self.kind == HISTORY:
            return tables.events(self.name, daily_partitions.start.date(), day)
        return tables.snapshot(self.name, day)


def _inputs(body: Callable) -> tuple[list[_Input], type | None, dict[str, type]]:
    """(table inputs, config class, resources by name) from the body's annotations."""
    hints = get_type_hints(body, include_extras=True)
    inputs, resources = [], {}
    for name, hint in hints.items():
        if name in SPECIAL:
            continue
        if get_origin(hint) is Annotated and HISTORY in get_args(hint):
            inputs.append(_Input(name, HISTORY))
        elif hint in (pd.DataFrame, ir.Table):
            inputs.append(_Input(name, hint))
        elif isinstance(hint, type) and issubclass(hint, dg.ConfigurableResource):
            resources[name] = hint
        else:
            raise TypeError(
                f"{body.__name__}({name}: {hint}): an input is a frame, a table or a resource"
            )
    return inputs, hints.get("config"), resources


def _signature(config_class: type | None, resources: dict[str, type]) -> inspect.Signature:
    """What Dagster reads to inject the run's config and resources into ``compute``."""
    param = inspect.Parameter
    wanted = {"context": dg.AssetExecutionContext, "duckdb": DuckDBResource}
    if config_class is not None:
        wanted["config"] = config_class
    wanted |= resources
    return inspect.Signature(
        [param(name, param.POSITIONAL_OR_KEYWORD, annotation=t) for name, t in wanted.items()]
    )


_BODIES: dict[dg.AssetKey, Callable] = {}


def body_of(asset: dg.AssetsDefinition) -> Callable:
    """The plain function behind a table asset."""
    return _BODIES[asset.key]


def table_asset(
    *,
    body_checks: dict[str, str] | None = None,
    advisory_checks: dict[str, str] | None = None,
    reconciles: str | None = None,
    deps: Sequence[str | dg.AssetDep] = (),
    kinds: Sequence[str] = (),
    **asset_args,
) -> Callable[[Callable], dg.AssetsDefinition]:
    """A daily snapshot asset from ``body``, named after it, described by its docstring.

    ``body_checks`` names and describes the checks the body reports (``advisory_checks``
    the ones that warn without blocking); ``reconciles`` names the input whose every row
    must land in the rows or the rejects (raw = clean + rejected). ``deps`` are what the
    body reads itself through its ``duckdb`` parameter (the model layer reads ratings as
    arrays, never as a frame), beside the inputs its parameters name.
    """
    extra = body_checks or {}
    advisory = advisory_checks or {}

    def decorate(body: Callable) -> dg.AssetsDefinition:
        name = body.__name__
        inputs, config_class, resources = _inputs(body)
        tags = {"duckdb", *kinds} | {"pandas" if i.kind is pd.DataFrame else "ibis" for i in inputs}
        specs = [*checks.table_specs(name)]
        if reconciles:
            specs.append(checks.spec(name, "reconciles", checks.RECONCILES_DESCRIPTION))
        specs += [checks.spec(name, check, text) for check, text in extra.items()]
        specs += [checks.spec(name, c, text, blocking=False) for c, text in advisory.items()]
        wants_day = "day" in get_type_hints(body)
        wants_warehouse = "duckdb" in resources
        in_engine = any(i.kind is not pd.DataFrame for i in inputs)
        # A view is defined in the warehouse over what it holds, whichever engine wrote it.
        view = TABLES[name].view

        def compute(context, duckdb: DuckDBResource, **given) -> dg.MaterializeResult:
            day = snapshot_day(context)
            if wants_day:
                given["day"] = day
            if wants_warehouse:
                given["duckdb"] = duckdb
            with duckdb.get_connection() as con:
                tables = None
                if in_engine:
                    tables = engine.Tables(con) if view else duckdb.engine_tables(con)
                args = {i.name: i.read(con, tables, day, view) for i in inputs}
                out = body(**args, **given)
                received = args[reconciles] if reconciles else None
                if isinstance(out.rows, ir.Table):
                    return write_output(
                        context,
                        con,
                        tables,
                        name,
                        day,
                        out.rows,
                        rejects=out.rejects,
                        received=received,
                        extra_checks=out.checks,
                        metadata=out.metadata,
                    )
                return write_partition(
                    context,
                    con,
                    name,
                    out.rows,
                    day,
                    day,
                    rejects=out.rejects,
                    raw_rows=None if received is None else len(received),
                    extra_checks=out.checks,
                    metadata=out.metadata,
                )

        compute.__signature__ = _signature(config_class, resources)
        compute.__name__ = name

        # The UI's link to the code points at the body, not at this module's wrapper.
        with warnings.catch_warnings():  # beta in dagster 1.13; using it is our choice
            warnings.simplefilter("ignore", dg.BetaWarning)
            where = dg.CodeReferencesMetadataValue(
                code_references=[
                    dg.LocalFileCodeReference(
                        file_path=os.path.abspath(inspect.getsourcefile(body)),
                        line_number=inspect.getsourcelines(body)[1],
                    )
                ]
            )
        asset = dg.asset(
            name=name,
            metadata={CODE_REFERENCES: where},
            partitions_def=daily_partitions,
            kinds=tags,
            deps=[i.dep for i in inputs] + list(deps),
            description=inspect.getdoc(body),
            check_specs=specs,
            **asset_args,
        )(compute)
        _BODIES[asset.key] = body
        return asset

    return decorate
