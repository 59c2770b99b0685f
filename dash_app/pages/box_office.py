"""Box office: nominal against constant dollars, by genre and by release month and quarter."""

import calendar
from datetime import date

import dash
import plotly.graph_objects as go
from dash import Input, Output, callback, dcc, html

from dash_app import components as c
from dash_app import filters, inputs
from dash_app import queries as q
from dash_app.data import NoSnapshot

dash.register_page(
    __name__, path="/box-office", name="Box office", title="Box office · Movie analytics", order=4
)
ID = c.ids("box")
TITLES = (
    "Box office: constant against nominal dollars",
    "Which genres earn most after inflation?",
    "Do release months influence box office?",
    "Box office by release quarter",
)
MONTHS = [calendar.month_abbr[m] for m in range(1, 13)]


def _base_options() -> tuple[list[dict], str | None]:
    try:
        months = q.cpi_months()["month"]
        default = q.default_base_month().isoformat()
    except NoSnapshot:
        return [], None
    options = [{"label": f"{m:%B %Y}", "value": f"{m:%Y-%m-%d}"} for m in months]
    return options, default


def _base(value) -> str:
    """A CPI month, as the dropdown's ISO value."""
    month = inputs.day(value, "base")
    if month.day != 1:
        raise inputs.BadInput(f"base: {inputs.short(value)} is not the first of a month")
    return month.isoformat()


def _base_month(value) -> date:
    return date.fromisoformat(_base(value)) if value else q.default_base_month()


BASE = filters.Param("base", ID("base"), _base)
VIEW = filters.View("box_office", "/box-office", params=(BASE,)).register()


def layout(**query):
    options, default = _base_options()
    base = VIEW.value(query, BASE, default=default)
    return html.Div(
        [
            html.H1("Box office"),
            *VIEW.layout(query, [base]),
            html.Div(
                [
                    html.Label("Constant dollars of", htmlFor=ID("base")),
                    dcc.Dropdown(
                        id=ID("base"),
                        options=options,
                        value=base,
                        clearable=False,
                        style={"minWidth": "220px"},
                    ),
                    html.Span(
                        "CPI-U, all items, not seasonally adjusted (BLS CUUR0000SA0)",
                        className="note",
                    ),
                ],
                className="control",
            ),
            html.Div(id=ID("budget"), className="notice"),
            c.panel(c.chart(ID("scatter"), height=460)),
            html.Div(
                [
                    c.panel(c.chart(ID("genre"), height=460)),
                    c.panel(c.chart(ID("month"), height=460)),
                ],
                className="row",
            ),
            html.Div(
                [
                    c.panel(c.chart(ID("quarter"))),
                    c.section(
                        "Highest grossing, in constant dollars",
                        c.grid("box-office", [], "box_office.csv", height=380),
                    ),
                ],
                className="row",
            ),
            html.Div(id=ID("roi")),
        ]
    )


def _columns(base: date) -> list[dict]:
    return [
        c.column("title", "Title", minWidth=220),
        c.number("year", "Year", valueFormatter=None, width=90),
        c.column("release_date", "Released"),
        c.column("genres", "Genres"),
        c.number("nominal_usd", "Box office (nominal US$)"),
        c.number("real_usd", f"Box office ({c.money(base)})"),
    ]


@callback(
    Output(ID("scatter"), "figure"),
    Output(ID("genre"), "figure"),
    Output(c.grid_id("box-office"), "rowData"),
    Output(c.grid_id("box-office"), "columnDefs"),
    Input(ID("base"), "value"),
    Input(VIEW.filters, "data"),
    Input("snapshot-version", "data"),
)
@c.guarded(TITLES[0], TITLES[1], None, None)
def update_movies(base_value, stored, _version):
    f = filters.parse(stored)
    base = _base_month(base_value)
    money = c.money(base)
    movies = q.box_office_movies(f, base)
    columns = _columns(base)
    if movies.empty:
        empty = c.message_figure(
            TITLES[0],
            c.EMPTY + " Only movies with a box office figure and a release date appear here.",
        )
        return empty, c.message_figure(TITLES[1], c.EMPTY), [], columns
    scatter = c.figure(
        TITLES[0],
        "Nominal box office (US$ of the release month, log scale)",
        f"Box office ({money}, log scale)",
    )
    scatter.add_trace(
        go.Scatter(
            x=movies["nominal_usd"],
            y=movies["real_usd"],
            mode="markers",
            text=movies["title"],
            name="Movies",
            marker={"size": 6, "opacity": 0.6},
            hovertemplate="%{text}<br>nominal $%{x:,.0f}<br>constant $%{y:,.0f}<extra></extra>",
        )
    )
    low, high = float(movies["nominal_usd"].min()), float(movies["real_usd"].max())
    scatter.add_trace(
        go.Scatter(
            x=[low, high],
            y=[low, high],
            mode="lines",
            name="No inflation (y = x)",
            line={"dash": "dot"},
        )
    )
    scatter.update_xaxes(type="log")
    scatter.update_yaxes(type="log")

    genres = q.box_office_by_genre(f, base)
    by_genre = c.figure(TITLES[1], "", f"Median box office ({money})")
    by_genre.add_trace(
        go.Bar(
            x=genres["genre"],
            y=genres["median_real"],
            name="Median",
            customdata=genres[["movies", "total_real"]],
            hovertemplate="%{x}: median $%{y:,.0f}<br>%{customdata[0]} movies, total "
            "$%{customdata[1]:,.0f}<extra></extra>",
        )
    )
    return scatter, by_genre, c.records(movies.head(200)), columns


@callback(
    Output(ID("month"), "figure"),
    Output(ID("quarter"), "figure"),
    Input(ID("base"), "value"),
    Input(VIEW.filters, "data"),
    Input("snapshot-version", "data"),
)
@c.guarded(TITLES[2], TITLES[3])
def update_periods(base_value, stored, _version):
    f = filters.parse(stored)
    base = _base_month(base_value)
    money = c.money(base)
    figures = []
    for period, title, labels in [
        ("month", TITLES[2], MONTHS),
        ("quarter", TITLES[3], ["Q1", "Q2", "Q3", "Q4"]),
    ]:
        frame = q.box_office_by_period(f, base, period)
        if frame.empty:
            figures.append(c.message_figure(title, c.EMPTY))
            continue
        fig = c.figure(
            title, f"Release {period}", f"Box office per movie ({money})", barmode="group"
        )
        x = [labels[int(p) - 1] for p in frame["period"]]
        fig.add_trace(
            go.Bar(
                x=x,
                y=frame["median_real"],
                name="Median",
                customdata=frame["movies"],
                hovertemplate="%{x}: median $%{y:,.0f} over %{customdata} movies<extra></extra>",
            )
        )
        fig.add_trace(go.Bar(x=x, y=frame["mean_real"], name="Mean"))
        figures.append(fig)
    return tuple(figures)


@callback(
    Output(ID("budget"), "children"),
    Output(ID("roi"), "children"),
    Input(VIEW.filters, "data"),
    Input("snapshot-version", "data"),
)
def update_budget(stored, _version):
    f = filters.parse(stored)
    try:
        coverage = q.budget_coverage(f)
    except NoSnapshot as missing:
        return str(missing), None
    if coverage["with_budget"] == 0:
        return (
            html.Strong("Budget and ROI: not available. "),
            f"No source in this build provides budgets (0 of {coverage['linked']:,} linked films "
            "have one), so budget and return on investment are not shown.",
        ), None
    roi = q.return_on_investment(f)
    columns = [
        c.column("title", "Title"),
        c.number("year", "Year", valueFormatter=None),
        c.number("budget_usd", "Budget (nominal US$)"),
        c.number("box_office_usd", "Box office (nominal US$)"),
        c.number("roi", "Box office / budget", 2),
    ]
    note = (
        f"Budgets known for {coverage['with_budget']:,} of {coverage['linked']:,} linked "
        "films; ROI is box office over budget, both nominal."
    )
    grid = c.grid("roi", columns, "roi.csv", height=360)
    grid.children[1].children.rowData = c.records(roi)
    return note, c.section("Return on investment", grid)
