"""Overview: the headline numbers and the shape of the ratings."""

import math

import dash
import plotly.graph_objects as go
from dash import Input, Output, callback, html

from dash_app import components as c
from dash_app import filters
from dash_app import queries as q
from dash_app.data import NoSnapshot

dash.register_page(__name__, path="/", name="Overview", title="Overview · Movie analytics", order=0)
ID = c.ids("overview")
VIEW = filters.View("overview", "/").register()

KPIS = [
    ("Movies", "movies"),
    ("Ratings", "ratings"),
    ("Users", "users"),
    ("Average rating", "average_rating"),
    ("Genres", "genres"),
    ("Rating dates", "span"),
]
TITLES = ("Rating distribution", "Ratings per year", "Popularity against rating")


def layout(**query):
    return html.Div(
        [
            html.H1("Overview"),
            *VIEW.layout(query, []),
            html.Div([c.kpi(label, ID(key)) for label, key in KPIS], className="kpis"),
            html.Div(
                [
                    c.panel(c.chart(ID("distribution"))),
                    c.panel(c.chart(ID("per-year"))),
                ],
                className="row",
            ),
            c.panel(
                c.chart(ID("popularity"), height=460),
                note="Movies per cell of ratings (steps of 5%) and average rating (steps of "
                "0.05 stars); hover a cell for its movies.",
            ),
        ]
    )


def _kpi_values(k: dict) -> list[str]:
    if not k["ratings"]:
        return [f"{k['movies']:,}", "0", "0", "–", f"{k['genres']:,}", "–"]
    return [
        f"{k['movies']:,}",
        f"{k['ratings']:,}",
        f"{k['users']:,}",
        f"{k['average_rating']:.2f} ★",
        f"{k['genres']:,}",
        f"{k['first_day']:%Y-%m-%d} to {k['last_day']:%Y-%m-%d}",
    ]


@callback(
    *[Output(ID(key), "children") for _, key in KPIS],
    Input(VIEW.filters, "data"),
    Input("snapshot-version", "data"),
)
def update_kpis(stored, _version):
    try:
        return _kpi_values(q.kpis(filters.parse(stored)))
    except NoSnapshot:
        return ["–"] * len(KPIS)


@callback(
    Output(ID("distribution"), "figure"),
    Output(ID("per-year"), "figure"),
    Output(ID("popularity"), "figure"),
    Input(VIEW.filters, "data"),
    Input("snapshot-version", "data"),
)
@c.guarded(*TITLES)
def update_charts(stored, _version):
    f = filters.parse(stored)
    return distribution(f), per_year(f), popularity(f)


def distribution(f: q.Filters) -> c.Figure:
    frame = q.rating_distribution(f)
    if frame.empty:
        return c.message_figure(TITLES[0], c.EMPTY)
    fig = c.figure(TITLES[0], "Rating (stars)", "Ratings (count)")
    fig.add_trace(
        go.Bar(
            x=frame["rating"],
            y=frame["ratings"],
            name="Ratings",
            hovertemplate="%{x} stars: %{y:,} ratings<extra></extra>",
        )
    )
    fig.update_xaxes(dtick=0.5)
    return fig


def per_year(f: q.Filters) -> c.Figure:
    frame = q.ratings_per_year(f)
    if frame.empty:
        return c.message_figure(TITLES[1], c.EMPTY)
    fig = c.figure(TITLES[1], "Year rated", "Ratings (count)")
    fig.add_trace(
        go.Bar(
            x=frame["year"],
            y=frame["ratings"],
            name="Ratings",
            hovertemplate="%{x}: %{y:,} ratings<extra></extra>",
        )
    )
    return fig


def popularity(f: q.Filters) -> c.Figure:
    """A heatmap of movies per cell: one image, where 5,800 SVG markers (25M ratings) took
    seconds to draw."""
    frame = q.popularity_vs_rating(f)
    if frame.empty:
        return c.message_figure(TITLES[2], c.EMPTY)
    first_x, first_y = int(frame["count_step"].min()), int(frame["star_step"].min())
    columns = int(frame["count_step"].max()) - first_x + 1
    rows = int(frame["star_step"].max()) - first_y + 1
    z = [[None] * columns for _ in range(rows)]
    text = [[None] * columns for _ in range(rows)]
    for cell in frame.itertuples(index=False):
        row, column = int(cell.star_step) - first_y, int(cell.count_step) - first_x
        z[row][column] = math.log10(cell.movies)
        more = f"<br>and {cell.movies - 3:,} more" if cell.movies > 3 else ""
        text[row][column] = (
            f"{cell.movies:,} movie(s), about {cell.rating_count:,.0f} ratings, "
            f"{cell.rating_mean:.2f} stars<br>{cell.titles}{more}"
        )
    decades = range(math.ceil(math.log10(frame["rating_count"].max())) + 1)
    fig = c.figure(TITLES[2], "Ratings per movie (count, log scale)", "Average rating (stars)")
    fig.add_trace(
        {
            "type": "heatmap",
            # Cell centres: log10 of the ratings, stars.
            "x": [(first_x + i) / q.COUNT_STEPS_PER_E / math.log(10) for i in range(columns)],
            "y": [(first_y + j) / q.STAR_STEPS for j in range(rows)],
            "z": z,
            "text": text,
            "hovertemplate": "%{text}<extra></extra>",
            "hoverongaps": False,
            "colorscale": "Viridis",
            "colorbar": {
                "title": {"text": "Movies"},
                "tickvals": list(range(5)),
                "ticktext": [f"{10**k:,}" for k in range(5)],
            },
            "name": "Movies",
        }
    )
    fig.update_xaxes(tickvals=list(decades), ticktext=[f"{10**k:,}" for k in decades])
    return fig
