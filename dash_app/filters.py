"""Every page's view: the shared filter bar, the page's own controls, and the URL.

A page declares a ``View``: whether it shows the filter bar and which controls of
its own belong in the URL. ``View.layout(query)`` builds the controls from the
query string, so a copied URL restores the view. One callback per page turns the
controls into one validated state: the shared ``Filters`` in the page's filters
store (what its charts read, one input instead of six) and the query string,
which ``assets/view.js`` writes to the address bar, one history entry per change
(only a slider's quick repeats, its keyboard steps, replace the entry). A grid's
sort and column filters are page controls too (``grid_state``). Back and Forward
fire ``popstate``; ``view.js`` hands the address to the page's pop store and the
same callback sets every control from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

import dash
from dash import Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update

from dash_app import data, inputs
from dash_app import queries as q
from dash_app.data import NoSnapshot
from movie_assets.schemas import ERAS, RATING_CATEGORIES, RUNTIME_CATEGORIES

YEAR_FROM, YEAR_TO = "year_from", "year_to"
BAR = ["years", "genre", "min_rating", "rating_category", "runtime_category", "era"]
# Keyboard steps of a slider within a second make one history entry, not one each.
SLIDERS = ("years", "min_rating")
LISTS = {
    "genre": "genres",
    "rating_category": "rating_categories",
    "runtime_category": "runtime_categories",
    "era": "eras",
}
DEFAULT_YEARS = (1900, 2020)


def _list(value) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    return tuple(value) if isinstance(value, list | tuple) else (value,)


def _bounds() -> tuple[int, int]:
    try:
        return q.year_bounds()
    except NoSnapshot:
        return DEFAULT_YEARS


LABELS = {
    "rating_categories": RATING_CATEGORIES,
    "runtime_categories": RUNTIME_CATEGORIES,
    "eras": ERAS,
}


def _ordered(name: str, values) -> list:
    """Genres alphabetically, categories in their own order: one cache key per selection."""
    if name not in LABELS:
        return sorted(values, key=str)
    order = {label: i for i, label in enumerate(LABELS[name])}
    last = len(order)  # not a label (nor even a string): the model refuses it next
    return sorted(
        values, key=lambda v: (order.get(v, last) if isinstance(v, str) else last, str(v))
    )


def from_query(query: dict) -> q.Filters:
    """Filters from a parsed query string; a value that is not valid is dropped, not fatal."""
    data: dict[str, Any] = {}
    for key in (YEAR_FROM, YEAR_TO, "min_rating"):
        value = query.get(key)
        data[key] = value[0] if isinstance(value, list) else value
    for key, name in LISTS.items():
        values = _list(query.get(key))[: q.MAX_ITEMS]
        data[name] = _ordered(name, (v for v in values if v in LABELS.get(name, [v])))
    for key in list(data):
        try:
            q.Filters.model_validate({key: data[key]})
        except ValueError:
            data.pop(key)
    filters = q.Filters.model_validate(data)
    return filters.model_copy(update={"min_rating": filters.min_rating or None})


def from_values(years, genres, min_rating, rating_categories, runtime_categories, eras):
    """Filters from the bar's component values; the full year range means no year filter."""
    if years is None:
        years = list(_bounds())
    if not isinstance(years, list | tuple) or len(years) != 2:
        raise inputs.BadInput("filters.years: expected [from, to]")
    low, high = _bounds()
    start = inputs.integer(years[0], "filters.years", 1000, 3000)
    end = inputs.integer(years[1], "filters.years", 1000, 3000)
    for name, value in [
        ("genres", genres),
        ("rating_categories", rating_categories),
        ("runtime_categories", runtime_categories),
        ("eras", eras),
    ]:
        if value is not None and not isinstance(value, list):
            raise inputs.BadInput(f"filters.{name}: expected a list")
    return inputs.model(
        q.Filters,
        {
            "year_from": start if start > low else None,
            "year_to": end if end < high else None,
            "genres": _ordered("genres", genres or ()),
            "min_rating": min_rating or None,
            "rating_categories": _ordered("rating_categories", rating_categories or ()),
            "runtime_categories": _ordered("runtime_categories", runtime_categories or ()),
            "eras": _ordered("eras", eras or ()),
        },
        "filters",
    )


def parse(data) -> q.Filters:
    """The filters store's data, as a request carries it: validated like any input."""
    return inputs.model(q.Filters, data or {}, "filters")


def to_pairs(f: q.Filters) -> list[tuple[str, Any]]:
    pairs = [
        (YEAR_FROM, f.year_from),
        (YEAR_TO, f.year_to),
        *(("genre", g) for g in f.genres),
        ("min_rating", f.min_rating),
        *(("rating_category", c) for c in f.rating_categories),
        *(("runtime_category", c) for c in f.runtime_categories),
        *(("era", e) for e in f.eras),
    ]
    return [(k, v) for k, v in pairs if v is not None]


def to_search(pairs: list[tuple[str, Any]]) -> str:
    """The query string; ':' and ',' stay as they are (a grid's ``sort=year:desc,title:asc``)."""
    return "?" + urlencode(pairs, safe=":,") if pairs else ""


def clicked_point(click) -> dict:
    """The first point of a chart's clickData."""
    try:
        point = click["points"][0]
    except (TypeError, KeyError, IndexError):
        raise inputs.BadInput("clickData: expected a clicked point") from None
    if not isinstance(point, dict):
        raise inputs.BadInput("clickData: expected a clicked point")
    return point


def toggle(value, current):
    """A clicked value selects it; clicking the selected one again clears the selection."""
    return None if current == value else value


def genre_click(point: dict, values: dict) -> dict:
    """A clicked genre selects it alone; clicking the only selected one clears the filter."""
    genre = point.get("label", point.get("x"))
    if genre not in q.genre_names():
        raise inputs.BadInput(f"clickData: {inputs.short(genre)} is not a genre")
    return {"genre": [] if values["genre"] == [genre] else [genre]}


def first(query: dict, key: str):
    value = query.get(key)
    return value[0] if isinstance(value, list) and value else value


@dataclass(frozen=True)
class Param:
    """A page control kept in the URL under ``key``.

    ``parse`` takes the URL's string or the control's value and returns the control's
    value, raising ``inputs.BadInput``; ``default`` (when static) is left out of the URL.
    ``clears``: None is a choice of its own (any month, no period), so a URL without the
    key empties the control; otherwise None leaves the layout's default in place.
    """

    key: str
    component: str | dict
    parse: Callable[[Any], Any]
    default: Any = None
    prop: str = "value"
    clears: bool = False
    # The URL may repeat the key: ``parse`` gets the list of its values.
    many: bool = False
    # A control whose value is not its URL text (a grid's column state): the value to set
    # from the parsed URL value and the control's current one.
    control: Callable[[Any, Any], Any] | None = None

    def value(self, query: dict, default: Any = None) -> Any:
        """The control's initial value: the URL's if valid, else the default."""
        raw = self.raw(query)
        if raw is not None:
            try:
                return self.parse(raw)
            except inputs.BadInput:
                pass
        return self.default if default is None else default

    def raw(self, query: dict):
        """The URL's value for this control: the first, or all for ``many``."""
        if not self.many:
            return first(query, self.key)
        value = query.get(self.key)
        return None if value is None else value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class View:
    page: str
    path: str
    bar: bool = True
    params: tuple[Param, ...] = field(default=())
    # Cross-filtering: graph id -> a function of the clicked point and the controls' current
    # values (by bar key or URL key) that returns the values it changes.
    clicks: dict[str, Callable[[dict, dict], dict]] = field(default_factory=dict)

    def id(self, kind: str) -> dict:
        return {"view": kind, "page": self.page}

    def bar_id(self, key: str) -> str:
        return f"{self.page}-filter-{key}"

    @property
    def filters(self) -> dict:
        """The id of the page's filters store, the input its charts read."""
        return self.id("filters")

    def value(self, query: dict, param: Param, default: Any = None) -> Any:
        return param.value(query, default)

    def state(self, f: q.Filters, values: list, source: str | None, merge: bool = False) -> dict:
        """What view.js needs: the page's query string, the navigation links' one, the source
        of the change, and whether it may merge with the last one (a slider's keyboard steps).
        """
        pairs = zip(self.params, values, strict=True)
        own = [
            (p.key, item)
            for p, v in pairs
            if v not in (None, p.default)
            for item in (v if isinstance(v, list) else [v])
        ]
        day = data.chosen_day()
        shared = to_pairs(f) + ([(data.PARAM, day.isoformat())] if day else [])
        carried = to_search(shared)
        nav = [
            {"id": {"type": "nav", "page": page["module"]}, "href": page["relative_path"] + carried}
            for page in dash.page_registry.values()
        ]
        # A page without the bar carries the filters to the next page but does not show them.
        day_pair = shared[len(shared) - 1 :] if day else []
        search = to_search((shared if self.bar else day_pair) + own)
        return {"search": search, "nav": nav, "source": source, "merge": merge}

    def layout(self, query: dict, values: list) -> list:
        """The bar (if any), the stores and the marker view.js looks for; ``values`` are the
        page controls' initial values, in the order of ``params``."""
        f = from_query(query)
        return [
            *self._ignored(query),
            *([self._bar(f)] if self.bar else []),
            dcc.Store(id=self.filters, data=f.model_dump(mode="json")),
            dcc.Store(id=self.id("url"), data=self.state(f, values, None)),
            dcc.Store(id=self.id("pop")),
            dcc.Store(id=self.id("written")),
            html.Div(
                hidden=True,
                className="view-marker",
                **{"data-view": self.page, "data-path": self.path},
            ),
        ]

    def _ignored(self, query: dict) -> list:
        """A notice naming the page's URL values it cannot use (each left at its default)."""
        problems = []
        for param in self.params:
            raw = param.raw(query)
            try:
                if raw is not None:
                    param.parse(raw)
            except inputs.BadInput as error:
                problems.append(str(error))
        if not problems:
            return []
        text = "The address held values this page cannot use, so they were left out: "
        return [
            html.P(text + "; ".join(problems) + ".", id=f"{self.page}-ignored", className="notice")
        ]

    def _dropdown(self, key: str, label: str, options, value) -> html.Div:
        return html.Div(
            [
                html.Label(label, htmlFor=self.bar_id(key)),
                dcc.Dropdown(
                    id=self.bar_id(key),
                    options=list(options),
                    value=list(value),
                    multi=True,
                    placeholder="All",
                    clearable=True,
                ),
            ],
            className="filter",
        )

    def _bar(self, f: q.Filters) -> html.Div:
        low, high = _bounds()
        try:
            genres = q.genre_names()
        except NoSnapshot:
            genres = []
        start = min(max(f.year_from or low, low), high)
        end = max(min(f.year_to or high, high), start)
        marks = {y: str(y) for y in range(low - low % 10 + 10, high + 1, 20)}
        return html.Div(
            [
                html.Div(
                    [
                        html.Label("Release year", htmlFor=self.bar_id("years")),
                        dcc.RangeSlider(
                            id=self.bar_id("years"),
                            min=low,
                            max=high,
                            step=1,
                            value=[start, end],
                            marks=marks,
                            tooltip={"placement": "bottom"},
                            allowCross=False,
                            updatemode="mouseup",
                        ),
                    ],
                    className="filter filter-wide",
                ),
                self._dropdown("genre", "Genres (any of)", genres, f.genres),
                html.Div(
                    [
                        html.Label(
                            "Minimum average rating (stars)",
                            htmlFor=self.bar_id("min_rating"),
                        ),
                        dcc.Slider(
                            id=self.bar_id("min_rating"),
                            min=0,
                            max=5,
                            step=0.5,
                            value=f.min_rating or 0,
                            marks={i: str(i) for i in range(6)},
                            updatemode="mouseup",
                        ),
                    ],
                    className="filter",
                ),
                self._dropdown(
                    "rating_category", "Rating category", RATING_CATEGORIES, f.rating_categories
                ),
                self._dropdown(
                    "runtime_category",
                    "Runtime category",
                    RUNTIME_CATEGORIES,
                    f.runtime_categories,
                ),
                self._dropdown("era", "Era", ERAS, f.eras),
            ],
            className="filter-bar",
            id=f"filter-bar-{self.page}",
        )

    def register(self) -> View:
        """The page's one view callback: controls to state, and a popped URL back to controls."""
        bar = [(self.bar_id(k), "value") for k in BAR] if self.bar else []
        controls = bar + [(p.component, p.prop) for p in self.params]
        outputs = [Output(i, prop) for i, prop in controls]
        outputs += [Output(self.filters, "data"), Output(self.id("url"), "data")]
        pop = self.id("pop")
        clicks = list(self.clicks)
        sliders = {self.bar_id(k) for k in SLIDERS} if self.bar else set()

        @callback(
            *outputs,
            *[Input(i, prop) for i, prop in controls],
            *[Input(graph, "clickData") for graph in clicks],
            Input(pop, "data"),
            State(self.filters, "data"),
            prevent_initial_call=True,
        )
        def view(*args):
            values, popped, stored = list(args[: len(controls)]), args[-2], args[-1]
            if ctx.triggered_id == pop:
                return self._restore(inputs.text(popped, "view.pop", 4000), stored, values)
            changed = [no_update] * len(controls)
            # "id.prop" (a grid reports its sort and its filters as two props).
            source = ctx.triggered[0]["prop_id"]
            merge = isinstance(ctx.triggered_id, str) and ctx.triggered_id in sliders
            if ctx.triggered_id in clicks:
                keys = (BAR if self.bar else []) + [p.key for p in self.params]
                click = args[len(controls) + clicks.index(ctx.triggered_id)]
                changes = self.clicks[ctx.triggered_id](
                    clicked_point(click), dict(zip(keys, values, strict=True))
                )
                for key, value in changes.items():
                    values[keys.index(key)] = changed[keys.index(key)] = value
                # Each click is a view of its own: quick clicks must not read as repeats.
                source = f"{source} {sorted(changes.items(), key=str)}"
            f = from_values(*values[: len(bar)]) if self.bar else parse(stored)
            own = [p.parse(v) for p, v in zip(self.params, values[len(bar) :], strict=True)]
            return [*changed, _changed(f, stored), self.state(f, own, source, merge)]

        return self

    def _restore(self, search: str, stored, values: list) -> list:
        query = parse_qs(search.split("#")[0].lstrip("?"))
        f = from_query(query) if self.bar else parse(stored)
        own = [self.value(query, p) for p in self.params]
        current = values[len(values) - len(self.params) :]
        bar = []
        if self.bar:
            low, high = _bounds()
            bar = [
                [f.year_from or low, f.year_to or high],
                list(f.genres),
                f.min_rating or 0,
                list(f.rating_categories),
                list(f.runtime_categories),
                list(f.eras),
            ]
        own_values = [
            p.control(v, now) if p.control else no_update if v is None and not p.clears else v
            for p, v, now in zip(self.params, own, current, strict=True)
        ]
        return [*bar, *own_values, _changed(f, stored), self.state(f, own, None)]


def _changed(f: q.Filters, stored) -> Any:
    """The filters store's new data, or no_update: setting it reruns every chart of the page,
    and most changes (a grid's sort, a column resized, a page's own control) leave it as is."""
    data = f.model_dump(mode="json")
    return no_update if data == stored else data


clientside_callback(
    dash.ClientsideFunction("view", "write"),
    Output({"view": "written", "page": dash.MATCH}, "data"),
    Input({"view": "url", "page": dash.MATCH}, "data"),
)
