"""Building blocks every page shares: charts with titles and units, grids with CSV, messages."""

from __future__ import annotations

import functools
from collections.abc import Callable
from urllib.parse import unquote_plus

import dash_ag_grid as dag
import pandas as pd
from dash import ALL, MATCH, Input, Output, State, callback, dcc, html

from dash_app import data
from dash_app.data import NoSnapshot
from dash_app.inputs import BadInput, text

FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
COLORS = [
    "#2f6690",
    "#d1495b",
    "#edae49",
    "#66a182",
    "#8d5a97",
    "#00798c",
    "#e07a5f",
    "#3d405b",
    "#81b29a",
    "#f2cc8f",
    "#6d597a",
    "#b56576",
    "#355070",
    "#eaac8b",
    "#1b998b",
    "#c5d86d",
    "#f46036",
    "#2e294e",
    "#9b5de5",
]


def ids(page: str) -> Callable[[str], str]:
    """Component ids prefixed by their page, so two pages never collide."""
    return lambda name: f"{page}-{name}"


# Every legend sits at the figure's bottom edge, under the x axis title.
LEGEND_BELOW = {
    "orientation": "h",
    "yref": "container",
    "y": 0,
    "yanchor": "bottom",
    "x": 0,
    "xanchor": "left",
}


# The look of plotly_white, without its trace defaults.
AXIS = {
    "gridcolor": "#EBF0F8",
    "linecolor": "#EBF0F8",
    "zerolinecolor": "#EBF0F8",
    "zerolinewidth": 2,
    "automargin": True,
}


def _merge(target: dict, changes: dict) -> None:
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


class Figure(dict):
    """A Plotly figure as the plain dict dcc.Graph takes.

    plotly.graph_objects' property machinery cost 100-150 ms of server time per figure
    (most of a warm callback); a dict costs microseconds. Traces may still be written as
    ``go.Scatter(...)``: they are kept as their JSON.
    """

    def __init__(self, layout: dict):
        super().__init__(data=[], layout=layout)

    def add_trace(self, trace) -> Figure:
        self["data"].append(trace.to_plotly_json() if hasattr(trace, "to_plotly_json") else trace)
        return self

    def update_layout(self, **changes) -> Figure:
        _merge(self["layout"], changes)
        return self

    def update_xaxes(self, **changes) -> Figure:
        return self.update_layout(xaxis=changes)

    def update_yaxes(self, **changes) -> Figure:
        return self.update_layout(yaxis=changes)


def figure(title: str, x: str, y: str, **layout) -> Figure:
    """An empty figure with the title and axis labels (units included) every chart must have."""
    # The title holds the top of the figure and the legend its bottom edge, under the axis
    # title: at any width, however many rows the legend wraps to, neither covers the other.
    fig = Figure(
        {
            "title": {
                "text": title,
                "x": 0.01,
                "xanchor": "left",
                "y": 0.99,
                "yanchor": "top",
                "yref": "container",
            },
            "xaxis": {**AXIS, "title": {"text": x}},
            "yaxis": {**AXIS, "title": {"text": y}},
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            "font": {"family": FONT, "size": 13, "color": "#2a3f5f"},
            "hoverlabel": {"align": "left"},
            "margin": {"l": 70, "r": 20, "t": 60, "b": 120},
            "colorway": COLORS,
            "legend": dict(LEGEND_BELOW),
        }
    )
    return fig.update_layout(**layout)


def message_figure(title: str, message: str) -> Figure:
    """A titled figure that says why there is nothing to draw, with no empty axes."""
    fig = figure(title, "", "")
    fig.update_layout(
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[
            {
                "text": message,
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "font": {"size": 15, "color": "#555"},
            }
        ],
    )
    return fig


EMPTY = "No data matches these filters. Widen the filters to see results."


def chart(id_: str, height: int = 380) -> dcc.Loading:
    return dcc.Loading(
        dcc.Graph(id=id_, config={"displaylogo": False}, style={"height": f"{height}px"}),
        type="default",
        delay_show=150,
    )


def guarded(*titles: str):
    """Wrap a callback: a missing snapshot or an empty result becomes a message per output.

    ``titles`` name each figure output in order (None for non-figure outputs, which get
    their empty value). The callback returns figures itself otherwise.
    """

    def wrap(func):
        @functools.wraps(func)
        def inner(*args, **kwargs):
            try:
                return func(*args, **kwargs)
            except NoSnapshot as missing:
                outputs = [message_figure(t, str(missing)) if t else [] for t in titles]
                return outputs[0] if len(outputs) == 1 else outputs

        return inner

    return wrap


def grid(
    name: str,
    columns: list[dict],
    csv_name: str,
    height: int = 420,
    no_rows: str = EMPTY,
    **kwargs,
) -> html.Div:
    """An AG Grid with sort, filter and a CSV button exporting exactly the rows it shows."""
    return html.Div(
        [
            html.Div(
                html.Button("Download CSV", id={"type": "csv", "name": name}, className="csv"),
                className="grid-tools",
            ),
            dcc.Loading(
                dag.AgGrid(
                    id={"type": "grid", "name": name},
                    columnDefs=columns,
                    rowData=[],
                    # Columns share the width but never shrink below what their content
                    # needs (the grid scrolls inside itself instead); headers wrap rather
                    # than end in an ellipsis.
                    defaultColDef={
                        "sortable": True,
                        # Text unless a column says number; one condition per column, so
                        # every filter a reader sets fits in the URL (grid_state).
                        "filter": "agTextColumnFilter",
                        "filterParams": {"maxNumConditions": 1},
                        # Not inferred from the first row (dates, booleans): a column's
                        # filter is the one its spec names, as the URL knows it.
                        "cellDataType": False,
                        "resizable": True,
                        "flex": 1,
                        "minWidth": 100,
                        "wrapHeaderText": True,
                        "autoHeaderHeight": True,
                        # CSV holds the values, not their display formatting.
                        "useValueFormatterForExport": False,
                    },
                    csvExportParams={"fileName": csv_name},
                    dashGridOptions={
                        "localeText": {"noRowsToShow": no_rows},
                        "animateRows": False,
                    },
                    style={"height": f"{height}px"},
                    **kwargs,
                ),
                type="default",
                delay_show=150,
            ),
        ],
        id=f"{name}-table",
        className="table-block",
    )


def grid_id(name: str) -> dict:
    return {"type": "grid", "name": name}


def records(frame: pd.DataFrame) -> list[dict]:
    """Grid rows: dates as ISO strings, missing values as empty cells."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return out.astype(object).where(out.notna(), None).to_dict("records")


def column(field: str, header: str, **kwargs) -> dict:
    return {"field": field, "headerName": header, **kwargs}


def title(field: str = "title", header: str = "Title", **kwargs) -> dict:
    """A long-text column: wraps inside its row rather than being cut."""
    spec = {"minWidth": 200, "flex": 2, "wrapText": True, "autoHeight": True, **kwargs}
    return column(field, header, **spec)


NUMBER_FILTER = "agNumberColumnFilter"


def number(field: str, header: str, decimals: int = 0, **kwargs) -> dict:
    """A right-aligned number column with thousands separators; valueFormatter=None for ids."""
    fmt = f"d3.format(',.{decimals}f')(params.value)"
    spec = column(
        field,
        header,
        type="numericColumn",
        filter=NUMBER_FILTER,
        valueFormatter={"function": f"params.value == null ? '' : {fmt}"},
    )
    spec.update(kwargs)
    return {k: v for k, v in spec.items() if v is not None}


def kpi(label: str, value_id: str) -> html.Div:
    return html.Div(
        [
            html.Div(label, className="kpi-label"),
            dcc.Loading(html.Div("–", id=value_id, className="kpi-value"), type="dot"),
        ],
        className="kpi",
    )


def panel(*children, note: str | None = None) -> html.Section:
    """A card around a chart, whose figure carries the title."""
    return html.Section(
        [*children, html.P(note, className="note")] if note else children, className="card"
    )


def section(title: str, *children, note: str | None = None) -> html.Section:
    parts = [html.H2(title)]
    if note:
        parts.append(html.P(note, className="note"))
    return html.Section([*parts, *children], className="card")


@callback(
    Output({"type": "grid", "name": MATCH}, "csvExportParams"),
    Output({"type": "grid", "name": MATCH}, "exportDataAsCsv"),
    Input({"type": "csv", "name": MATCH}, "n_clicks"),
    State({"type": "grid", "name": MATCH}, "csvExportParams"),
    State({"view": "url", "page": ALL}, "data"),
    prevent_initial_call=True,
)
def export_csv(_clicks, params, views):
    """The file starts with one line of context: the page's filters and the snapshot day."""
    name = params.get("fileName") if isinstance(params, dict) else None
    if not isinstance(name, str) or not name.endswith(".csv") or len(name) > 80:
        raise BadInput("csvExportParams: expected the grid's own file name")
    return {"fileName": name, "prependContent": csv_context(views)}, True


def csv_context(views) -> str:
    search = ""
    if isinstance(views, list) and views and isinstance(views[0], dict):
        search = text(views[0].get("search"), "view.search", 4000)
    try:
        published = data.current()
        day = f"data as of {published.as_of:%Y-%m-%d} (snapshot {published.version})"
    except NoSnapshot:
        day = "no snapshot"
    shown = unquote_plus(search.lstrip("?")).replace("&", ", ") or "none"
    return f"# Movie analytics export; filters: {shown}; {day}"


def money(base) -> str:
    """The dollar base of constant-dollar figures, for axis titles."""
    return f"US$ of {base:%b %Y}"
