"""A grid's sort and column filters as page controls, kept in the URL.

The URL holds them compactly: ``sort=year:desc,title:asc`` (columns in sort order) and
one ``filter=column:type[:value[:to]]`` per filtered column, e.g. ``filter=title:contains:
star`` or ``filter=year:inRange:1990:1999``. The grid reports them as its ``columnState``
and ``filterModel``; each is a ``filters.Param`` whose value is the URL text, so the page's
View writes it to the address and sets it back on Back and Forward. Grids offer one
condition per column (``components.grid``), so every filter a reader can set fits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from dash import no_update

from dash_app import components as c
from dash_app import inputs
from dash_app.filters import Param

DIRECTIONS = ("asc", "desc")
NO_VALUE = ("blank", "notBlank")
TYPES = {
    "text": ("equals", "notEqual", "contains", "notContains", "startsWith", "endsWith"),
    "number": (
        "equals",
        "notEqual",
        "greaterThan",
        "greaterThanOrEqual",
        "lessThan",
        "lessThanOrEqual",
        "inRange",
    ),
}


def _number(value: Any, name: str) -> int | float:
    """A finite number, from the grid or from the URL's text."""
    if isinstance(value, str) and len(value) <= 32:
        try:
            value = float(value)
        except ValueError:
            pass
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise inputs.BadInput(f"{name}: {inputs.short(value)} is not a number")
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else value


def _order(sort: str) -> dict[str, tuple[int, str]]:
    """Column -> (sort index, direction) of a valid ``col:dir,...``."""
    pairs = (part.partition(":") for part in sort.split(",") if part)
    return {column: (i, direction) for i, (column, _, direction) in enumerate(pairs)}


@dataclass(frozen=True)
class GridState:
    """The sort and filter params of grid ``name``, whose columns are ``columns``.

    ``prefix`` tells apart the params of pages with several grids (``recs_sort``).
    """

    name: str
    columns: tuple[dict, ...]
    prefix: str = ""

    @property
    def kinds(self) -> dict[str, str]:
        """Each column's filter: numbers have the number filter, the rest the text one."""
        return {
            col["field"]: "number" if col.get("filter") == c.NUMBER_FILTER else "text"
            for col in self.columns
        }

    @property
    def params(self) -> tuple[Param, Param]:
        grid = c.grid_id(self.name)
        return (
            Param(
                self.prefix + "sort",
                grid,
                self.sort,
                default="",
                prop="columnState",
                control=self.column_state,
            ),
            Param(
                self.prefix + "filter",
                grid,
                self.filters,
                default=[],
                prop="filterModel",
                many=True,
                control=self.filter_model,
            ),
        )

    def _column(self, value: Any, name: str) -> str:
        if not isinstance(value, str) or value not in self.kinds:
            raise inputs.BadInput(f"{name}: {inputs.short(value)} is not a column of this table")
        return value

    # --- sort ---------------------------------------------------------------------------

    def sort(self, value: Any) -> str:
        """``col:dir,...`` from the URL's text or from the grid's column state."""
        name = self.prefix + "sort"
        if value in (None, ""):
            return ""
        if isinstance(value, list):
            return self._sort_of_state(value, name)
        if not isinstance(value, str) or len(value) > inputs.MAX_TEXT:
            raise inputs.BadInput(f"{name}: expected column:asc or column:desc")
        seen, parts = set(), []
        for part in value.split(","):
            column, _, direction = part.partition(":")
            self._column(column, name)
            if column in seen:
                raise inputs.BadInput(f"{name}: {column} is sorted twice")
            if direction not in DIRECTIONS:
                raise inputs.BadInput(f"{name}: {inputs.short(part)} is not column:asc or :desc")
            seen.add(column)
            parts.append(f"{column}:{direction}")
        return ",".join(parts)

    def _sort_of_state(self, state: list, name: str) -> str:
        if len(state) > inputs.MAX_ITEMS:
            raise inputs.BadInput(f"{name}: too many columns")
        sorted_ = []
        for item in state:
            if not isinstance(item, dict):
                raise inputs.BadInput(f"{name}: expected the grid's column state")
            column = self._column(item.get("colId"), name)
            direction, index = item.get("sort"), item.get("sortIndex")
            if direction is None:
                continue
            if direction not in DIRECTIONS:
                raise inputs.BadInput(f"{name}: {inputs.short(direction)} is not asc or desc")
            order = 0 if index is None else inputs.integer(index, name, 0, inputs.MAX_ITEMS)
            sorted_.append((order, f"{column}:{direction}"))
        return ",".join(text for _, text in sorted(sorted_))

    def column_state(self, sort: str, current: Any) -> Any:
        """The grid's column state with this sort: every column, in its current order."""
        if self.sort(current) == sort or not isinstance(current, list) or not current:
            return no_update  # (the current state is validated like any request value)
        order = _order(sort)
        return [
            {
                "colId": item["colId"],
                "sort": order.get(item["colId"], (None, None))[1],
                "sortIndex": order.get(item["colId"], (None, None))[0],
            }
            for item in current
        ]

    # --- filters ------------------------------------------------------------------------

    def filters(self, value: Any) -> list[str]:
        """``col:type[:value[:to]]`` per column, from the URL's texts or the grid's model."""
        name = self.prefix + "filter"
        if value in (None, "", []):
            return []
        if isinstance(value, dict):
            if len(value) > inputs.MAX_ITEMS:
                raise inputs.BadInput(f"{name}: too many columns")
            texts = [self._from_model(column, model, name) for column, model in value.items()]
            return sorted(t for t in texts if t)
        items = value if isinstance(value, list) else [value]
        if len(items) > inputs.MAX_ITEMS:
            raise inputs.BadInput(f"{name}: too many columns")
        found: dict[str, str] = {}
        for item in items:
            text = inputs.text(item, name)
            column, _, rest = text.partition(":")
            if self._column(column, name) in found:
                raise inputs.BadInput(f"{name}: {column} is filtered twice")
            found[column] = self._condition(column, rest, name)
        return [found[k] for k in sorted(found)]

    def _condition(self, column: str, text: str, name: str) -> str:
        """``type[:value[:to]]`` for the column's filter, as canonical URL text."""
        kind = self.kinds[column]
        type_, _, rest = text.partition(":")
        if type_ in NO_VALUE:
            return f"{column}:{type_}"
        if type_ not in TYPES[kind]:
            raise inputs.BadInput(f"{name}: {inputs.short(type_)} is not a {kind} filter")
        if kind == "text":
            if not rest:
                raise inputs.BadInput(f"{name}: {column}:{type_} needs a value")
            return f"{column}:{type_}:{rest}"
        low, _, high = rest.partition(":") if type_ == "inRange" else (rest, "", "")
        values = [_number(low, name)] + ([_number(high, name)] if type_ == "inRange" else [])
        return ":".join([column, type_, *map(str, values)])

    def _from_model(self, column: Any, model: Any, name: str) -> str | None:
        """One column's filter model as URL text; None for a condition still being typed."""
        self._column(column, name)
        if not isinstance(model, dict) or "conditions" in model:
            raise inputs.BadInput(f"{name}: expected one condition for {column}")
        type_ = model.get("type")
        if type_ in NO_VALUE:
            return f"{column}:{type_}"
        if model.get("filter") is None:
            return None
        if not isinstance(type_, str):
            raise inputs.BadInput(f"{name}: {inputs.short(type_)} is not a filter type")
        low = model["filter"]
        if not isinstance(low, str | int | float) or isinstance(low, bool):
            raise inputs.BadInput(f"{name}: {inputs.short(low)} is not a filter value")
        if type_ == "inRange":
            high = model.get("filterTo")
            if high is None:
                return None
            return self._condition(column, f"{type_}:{low}:{high}", name)
        return self._condition(column, f"{type_}:{low}", name)

    def new_columns(self, columns: list[dict], shown: Any, state: Any) -> Any:
        """``columns`` for a callback to set, or no_update when the grid shows the same ones.

        New column definitions rebuild the grid's columns, and for a moment its column
        state (which the URL's sort follows) can lack the sort; so a callback sets them
        only when a header really changes, and then with the sort the grid's ``state`` has.
        """
        if isinstance(shown, list) and all(isinstance(col, dict) for col in shown):
            headers = [(col.get("field"), col.get("headerName")) for col in shown]
            if headers == [(col["field"], col.get("headerName")) for col in columns]:
                return no_update
        sort = self.sort(state) if isinstance(state, list) else ""
        return _with_sort(columns, _order(sort))

    def values(self, query: dict) -> list:
        """The URL's sort and filters (a value the grid cannot use: none)."""
        return [p.value(query) for p in self.params]

    def grid(self, query: dict, csv_name: str, columns: list[dict] | None = None, **kwargs):
        """The grid as the URL has it, sorted and filtered."""
        sort, texts = self.values(query)
        shown = _with_sort(list(self.columns if columns is None else columns), _order(sort))
        model = self._model(texts)
        return c.grid(self.name, shown, csv_name, filterModel=model, **kwargs)

    def filter_model(self, texts: list[str], current: Any) -> dict:
        """The grid's filter model for these URL texts ({} clears every filter)."""
        model = self._model(texts)
        return no_update if current is not None and self.filters(current) == texts else model

    def _model(self, texts: list[str]) -> dict:
        model = {}
        for text in texts:
            column, _, rest = text.partition(":")
            kind = self.kinds[column]
            type_, _, value = rest.partition(":")
            entry: dict[str, Any] = {"filterType": kind, "type": type_}
            if type_ == "inRange":
                low, _, high = value.partition(":")
                entry.update(filter=_number(low, ""), filterTo=_number(high, ""))
            elif type_ not in NO_VALUE:
                entry["filter"] = _number(value, "") if kind == "number" else value
            model[column] = entry
        return model


def _with_sort(columns: list[dict], order: dict[str, tuple[int, str]]) -> list[dict]:
    """Column definitions carrying ``order``'s sort (column -> (sort index, direction))."""
    return [
        {**col, "sort": order[col["field"]][1], "sortIndex": order[col["field"]][0]}
        if col["field"] in order
        else col
        for col in columns
    ]


def params(grids) -> tuple[Param, ...]:
    """The sort and filter params of several grids, for one View."""
    return tuple(p for grid in grids for p in grid.params)


def values(query: dict, grids) -> list:
    """Their values from the URL, in the order of ``params``."""
    return [v for grid in grids for v in grid.values(query)]
