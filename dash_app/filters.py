"""The shared filter bar and its round trip through the URL query string.

Each page builds the bar from its own ``layout(**query)``, so a copied URL
restores the view; changing a filter rewrites the query string in place (a
second ``dcc.Location`` with ``refresh=False``, so the page is not rebuilt) and
the navigation links carry it to the next page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from dash import ALL, Input, Output, State, callback, dcc, html

from dash_app import queries as q
from dash_app.data import NoSnapshot

YEAR_FROM, YEAR_TO = "year_from", "year_to"
IDS = {
    "years": "filter-years",
    "genre": "filter-genre",
    "min_rating": "filter-min-rating",
    "rating_category": "filter-rating-category",
    "runtime_category": "filter-runtime-category",
    "era": "filter-era",
}
INPUTS = [Input(IDS["years"], "value")] + [
    Input(IDS[k], "value")
    for k in ["genre", "min_rating", "rating_category", "runtime_category", "era"]
]
DEFAULT_YEARS = (1900, 2020)


def _list(value) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    return tuple(value) if isinstance(value, list | tuple) else (value,)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value) -> float | None:
    try:
        return float(value) or None
    except (TypeError, ValueError):
        return None


def _known(values: tuple[str, ...], allowed: list[str]) -> tuple[str, ...]:
    """Drop unknown values from a URL rather than querying for them."""
    return tuple(v for v in values if v in allowed)


def from_query(query: dict) -> q.Filters:
    """Filters from a parsed query string (values may be strings or lists of strings)."""
    return q.Filters(
        year_from=_int(query.get(YEAR_FROM)),
        year_to=_int(query.get(YEAR_TO)),
        genres=tuple(sorted(_list(query.get("genre")))),
        min_rating=_float(query.get("min_rating")),
        rating_categories=_known(_list(query.get("rating_category")), q.RATING_CATEGORIES),
        runtime_categories=_known(_list(query.get("runtime_category")), q.RUNTIME_CATEGORIES),
        eras=_known(_list(query.get("era")), q.ERAS),
    )


def _bounds() -> tuple[int, int]:
    try:
        return q.year_bounds()
    except NoSnapshot:
        return DEFAULT_YEARS


def from_values(years, genres, min_rating, rating_categories, runtime_categories, eras):
    """Filters from the bar's component values; the full year range means no year filter."""
    low, high = _bounds()
    years = years or [low, high]
    return q.Filters(
        year_from=int(years[0]) if years[0] > low else None,
        year_to=int(years[1]) if years[1] < high else None,
        genres=tuple(sorted(genres or ())),
        min_rating=float(min_rating) if min_rating else None,
        rating_categories=tuple(rating_categories or ()),
        runtime_categories=tuple(runtime_categories or ()),
        eras=tuple(eras or ()),
    )


def to_search(f: q.Filters) -> str:
    pairs = [
        (YEAR_FROM, f.year_from),
        (YEAR_TO, f.year_to),
        *(("genre", g) for g in f.genres),
        ("min_rating", f.min_rating),
        *(("rating_category", c) for c in f.rating_categories),
        *(("runtime_category", c) for c in f.runtime_categories),
        *(("era", e) for e in f.eras),
    ]
    pairs = [(k, v) for k, v in pairs if v is not None]
    return "?" + urlencode(pairs) if pairs else ""


def _dropdown(key: str, label: str, options: list[str], value: tuple[str, ...]) -> html.Div:
    return html.Div(
        [
            html.Label(label, htmlFor=IDS[key]),
            dcc.Dropdown(
                id=IDS[key],
                options=options,
                value=list(value),
                multi=True,
                placeholder="All",
                clearable=True,
            ),
        ],
        className="filter",
    )


def bar(query: dict) -> html.Div:
    """The filter bar, set from the page's query string."""
    f = from_query(query)
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
                    html.Label("Release year", htmlFor=IDS["years"]),
                    dcc.RangeSlider(
                        id=IDS["years"],
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
            _dropdown("genre", "Genres (any of)", genres, f.genres),
            html.Div(
                [
                    html.Label("Minimum average rating (stars)", htmlFor=IDS["min_rating"]),
                    dcc.Slider(
                        id=IDS["min_rating"],
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
            _dropdown(
                "rating_category", "Rating category", q.RATING_CATEGORIES, f.rating_categories
            ),
            _dropdown(
                "runtime_category", "Runtime category", q.RUNTIME_CATEGORIES, f.runtime_categories
            ),
            _dropdown("era", "Era", q.ERAS, f.eras),
        ],
        className="filter-bar",
        id="filter-bar",
    )


@callback(Output("url", "search"), *INPUTS, prevent_initial_call=True)
def write_url(*values):
    return to_search(from_values(*values))


@callback(
    Output({"type": "nav", "page": ALL}, "href"),
    Input("url", "search"),
    State({"type": "nav", "page": ALL}, "id"),
)
def carry_filters(search, links):
    """Navigation keeps the filters: every link gets the current query string."""
    from dash import page_registry

    paths = {p["module"]: p["relative_path"] for p in page_registry.values()}
    return [paths[link["page"]] + (search or "") for link in links]
