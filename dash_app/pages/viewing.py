"""Viewing patterns: when people rate, what was trending on a day, and each genre's share."""

from datetime import date

import dash
import plotly.graph_objects as go
from dash import Input, Output, callback, dcc, html

from dash_app import components as c
from dash_app import filters, inputs
from dash_app import queries as q
from dash_app.data import NoSnapshot
from dash_app.grid_state import GridState

dash.register_page(
    __name__,
    path="/viewing",
    name="Viewing patterns",
    title="Viewing patterns · Movie analytics",
    order=5,
)
ID = c.ids("viewing")
TITLES = ("When people rate: weekday by hour (UTC)", "Genre share of ratings over time")
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
COLUMNS = [
    c.number("rank", "#", width=70, flex=0, minWidth=60),
    c.title(),
    c.number("ratings_7d", "Ratings in the 7 days"),
    c.number("average", "Average rating (stars)", 2),
    c.number("movie_id", "Movie id", valueFormatter=None, hide=True),
]


def _day(value) -> str:
    return inputs.day(value, "day").isoformat()


DAY = filters.Param("day", ID("day"), _day, prop="date")
TRENDING = GridState("trending", tuple(COLUMNS))
VIEW = filters.View("viewing", "/viewing", params=(DAY, *TRENDING.params)).register()


def layout(**query):
    try:
        first, last = q.rating_days()
        shown = q.last_trending_day() or last
    except NoSnapshot:
        first = last = shown = date.today()
    day = VIEW.value(query, DAY, default=shown.isoformat())
    return html.Div(
        [
            html.H1("Viewing patterns"),
            *VIEW.layout(query, [day, *TRENDING.values(query)]),
            c.panel(c.chart(ID("heatmap"), height=420)),
            html.Div(
                [
                    c.section(
                        "Top 10 trending",
                        html.Div(
                            [
                                html.Label("Seven days ending", htmlFor=ID("day")),
                                dcc.DatePickerSingle(
                                    id=ID("day"),
                                    date=day,
                                    min_date_allowed=first,
                                    max_date_allowed=last,
                                    display_format="YYYY-MM-DD",
                                ),
                            ],
                            className="control",
                        ),
                        html.P(
                            f"Movies with at least {q.MIN_TRENDING_RATINGS} ratings in the "
                            "seven days; fewer is not a trend.",
                            className="note",
                        ),
                        TRENDING.grid(
                            query,
                            "trending.csv",
                            height=440,
                            no_rows=f"No movie has {q.MIN_TRENDING_RATINGS} or more ratings "
                            "in these 7 days (with these filters).",
                        ),
                    ),
                    c.panel(c.chart(ID("share"), height=520)),
                ],
                className="row",
            ),
        ]
    )


@callback(
    Output(ID("heatmap"), "figure"),
    Output(ID("share"), "figure"),
    Input(VIEW.filters, "data"),
    Input("snapshot-version", "data"),
)
@c.guarded(*TITLES)
def update_charts(stored, _version):
    f = filters.parse(stored)
    cells = q.weekday_hour(f)
    if cells["ratings"].sum() == 0:
        heat = c.message_figure(TITLES[0], c.EMPTY)
    else:
        grid = cells.pivot(index="weekday", columns="hour", values="ratings")
        heat = c.figure(TITLES[0], "Hour of day (UTC)", "")
        heat.add_trace(
            go.Heatmap(
                z=grid.to_numpy(),
                x=list(grid.columns),
                y=[WEEKDAYS[d] for d in grid.index],
                colorscale="Blues",
                colorbar={"title": "Ratings"},
                hovertemplate="%{y} %{x}:00: %{z:,} ratings<extra></extra>",
            )
        )
        heat.update_yaxes(autorange="reversed")
        heat.update_xaxes(dtick=2)

    shares = q.genre_ratings_per_year(f)
    if shares.empty:
        share = c.message_figure(TITLES[1], c.EMPTY)
    else:
        wide = shares.pivot_table(index="year", columns="genre", values="share", fill_value=0)
        share = c.figure(TITLES[1], "Year rated", "Share of genre ratings (%)")
        for genre in wide.columns:
            share.add_trace(
                go.Scatter(
                    x=wide.index,
                    y=wide[genre] * 100,
                    name=genre,
                    mode="lines",
                    stackgroup="share",
                    line={"width": 0.5},
                    hovertemplate=f"{genre}: %{{y:.1f}}%<extra></extra>",
                )
            )
        share.update_yaxes(range=[0, 100])
        share.update_layout(margin={"b": 200})
    return heat, share


@callback(
    Output(c.grid_id("trending"), "rowData"),
    Input(ID("day"), "date"),
    Input(VIEW.filters, "data"),
    Input("snapshot-version", "data"),
)
@c.guarded(None)
def update_trending(day, stored, _version):
    chosen = inputs.day(day, "day") if day else q.rating_days()[1]
    frame = q.trending(filters.parse(stored), chosen)
    return c.records(frame.assign(rank=range(1, len(frame) + 1)))
