"""Genres: how many movies each genre has, how they rate, and how they break down."""

import dash
import plotly.graph_objects as go
from dash import Input, Output, callback, html

from dash_app import components as c
from dash_app import filters
from dash_app import queries as q
from dash_app.grid_state import GridState
from movie_assets.schemas import RATING_CATEGORIES, RUNTIME_CATEGORIES

dash.register_page(
    __name__, path="/genres", name="Genres", title="Genres · Movie analytics", order=2
)
ID = c.ids("genres")
TITLES = (
    "Movies per genre",
    "Average and weighted rating per genre",
    "Rating category by genre",
    "Runtime category by genre",
)
CATEGORY_ORDER = {"rating_category": RATING_CATEGORIES, "runtime_category": RUNTIME_CATEGORIES}

COLUMNS = [
    c.column("genre", "Genre"),
    c.number("movies", "Movies"),
    c.number("ratings", "Ratings"),
    c.number("average_rating", "Average rating (stars)", 3),
    c.number("weighted_score", "Mean weighted score (stars)", 3),
]
GRID = GridState("genre-summary", tuple(COLUMNS))
VIEW = filters.View(
    "genres",
    "/genres",
    params=GRID.params,
    clicks={ID("distribution"): filters.genre_click, ID("ratings"): filters.genre_click},
).register()


def layout(**query):
    return html.Div(
        [
            html.H1("Genres"),
            *VIEW.layout(query, GRID.values(query)),
            html.Div(
                [
                    c.panel(c.chart(ID("distribution"), height=460)),
                    c.panel(c.chart(ID("ratings"), height=460)),
                ],
                className="row",
            ),
            html.Div(
                [
                    c.panel(c.chart(ID("rating-category"), height=460)),
                    c.panel(c.chart(ID("runtime-category"), height=460)),
                ],
                className="row",
            ),
            c.section(
                "Genre summary",
                GRID.grid(query, "genre_summary.csv", height=360),
                note="A movie counts in every genre it has.",
            ),
        ]
    )


@callback(
    Output(ID("distribution"), "figure"),
    Output(ID("ratings"), "figure"),
    Output(c.grid_id("genre-summary"), "rowData"),
    Input(VIEW.filters, "data"),
    Input("snapshot-version", "data"),
)
@c.guarded(TITLES[0], TITLES[1], None)
def update_summary(stored, _version):
    frame = q.genre_summary(filters.parse(stored))
    if frame.empty:
        return c.message_figure(TITLES[0], c.EMPTY), c.message_figure(TITLES[1], c.EMPTY), []
    by_count = frame.sort_values(["movies", "genre"])
    dist = c.figure(TITLES[0], "Movies (count)", "")
    dist.add_trace(
        go.Bar(
            x=by_count["movies"],
            y=by_count["genre"],
            orientation="h",
            name="Movies",
            hovertemplate="%{y}: %{x:,} movies<extra></extra>",
        )
    )
    by_rating = frame.sort_values(["weighted_score", "genre"], ascending=[False, True])
    ratings = c.figure(TITLES[1], "", "Rating (stars)", barmode="group")
    ratings.add_trace(
        go.Bar(x=by_rating["genre"], y=by_rating["average_rating"], name="Average of all ratings")
    )
    ratings.add_trace(
        go.Bar(
            x=by_rating["genre"], y=by_rating["weighted_score"], name="Mean Bayesian weighted score"
        )
    )
    ratings.update_yaxes(range=[0, 5])
    return dist, ratings, c.records(frame)


def breakdown(f: q.Filters, by: str, title: str):
    frame = q.genre_breakdown(f, by)
    if frame.empty:
        return c.message_figure(title, c.EMPTY)
    wide = frame.pivot_table(index="genre", columns="category", values="movies", fill_value=0)
    fig = c.figure(title, "", "Movies (count)", barmode="stack")
    for category in [k for k in CATEGORY_ORDER[by] if k in wide.columns]:
        fig.add_trace(go.Bar(x=wide.index, y=wide[category], name=category))
    return fig


@callback(
    Output(ID("rating-category"), "figure"),
    Output(ID("runtime-category"), "figure"),
    Input(VIEW.filters, "data"),
    Input("snapshot-version", "data"),
)
@c.guarded(TITLES[2], TITLES[3])
def update_breakdowns(stored, _version):
    f = filters.parse(stored)
    return (breakdown(f, "rating_category", TITLES[2]), breakdown(f, "runtime_category", TITLES[3]))
