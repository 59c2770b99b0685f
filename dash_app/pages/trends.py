"""Trends: how much and how well people rated over time, overall and per genre."""

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, callback, dcc, html

from dash_app import components as c
from dash_app import filters, inputs
from dash_app import queries as q

dash.register_page(
    __name__, path="/trends", name="Trends", title="Trends · Movie analytics", order=1
)
ID = c.ids("trends")
TITLES = ("Ratings over time", "Average rating over time", "Genre popularity over time")
GRAIN_LABELS = {"day": "Day", "week": "Week", "month": "Month", "year": "Year"}
FREQ = {"day": "D", "week": "W-MON", "month": "MS", "year": "YS"}
# Daily and weekly means jump with a handful of ratings: a trailing mean shows the trend.
ROLLING = {"day": (28, "28 days"), "week": (8, "8 weeks")}


def _grain(value) -> str:
    return inputs.choice(value, q.GRAINS, "grain")


GRAIN = filters.Param("grain", ID("grain"), _grain, default="month")
VIEW = filters.View("trends", "/trends", params=(GRAIN,)).register()


def layout(**query):
    return html.Div(
        [
            html.H1("Trends"),
            *VIEW.layout(query, [VIEW.value(query, GRAIN)]),
            html.Div(
                [
                    html.Label("Ratings per", htmlFor=ID("grain")),
                    dcc.RadioItems(
                        id=ID("grain"),
                        value=VIEW.value(query, GRAIN),
                        inline=True,
                        options=[{"label": v, "value": k} for k, v in GRAIN_LABELS.items()],
                    ),
                ],
                className="control",
            ),
            html.Div(
                [
                    c.panel(c.chart(ID("count"))),
                    c.panel(c.chart(ID("mean"))),
                ],
                className="row",
            ),
            c.panel(
                c.chart(ID("genres"), height=460),
                note="Ratings of movies in each genre per year; a movie counts once per genre.",
            ),
        ]
    )


@callback(
    Output(ID("count"), "figure"),
    Output(ID("mean"), "figure"),
    Input(ID("grain"), "value"),
    Input(VIEW.filters, "data"),
    Input("snapshot-version", "data"),
)
@c.guarded(*TITLES[:2])
def update_time(grain, stored, _version):
    f, grain = filters.parse(stored), _grain(grain)
    frame = q.ratings_over_time(f, grain)
    if frame.empty:
        return c.message_figure(TITLES[0], c.EMPTY), c.message_figure(TITLES[1], c.EMPTY)
    label = GRAIN_LABELS[grain]
    frame = every_period(frame, grain)
    count = c.figure(f"{TITLES[0]} (per {label.lower()})", label, "Ratings (count)")
    count.add_trace(
        go.Scatter(
            x=frame["period"],
            y=frame["ratings"],
            mode="lines",
            name="Ratings",
            line={"width": 1.5},
            hovertemplate="%{x|%Y-%m-%d}: %{y:,} ratings<extra></extra>",
        )
    )
    mean = c.figure(f"{TITLES[1]} (per {label.lower()})", label, "Average rating (stars)")
    noisy = grain in ROLLING
    mean.add_trace(
        go.Scatter(
            x=frame["period"],
            y=frame["average_rating"],
            customdata=frame["ratings"],
            mode="markers" if noisy else "lines+markers",
            name=f"Per {label.lower()}",
            marker={"size": 4 if noisy else 6, "opacity": 0.35 if noisy else 1},
            connectgaps=False,
            hovertemplate="%{x|%Y-%m-%d}: %{y:.2f} stars over %{customdata:,} ratings"
            "<extra></extra>",
        )
    )
    if noisy:
        periods, text = ROLLING[grain]
        mean.add_trace(
            go.Scatter(
                x=frame["period"],
                y=rolling_mean(frame, periods),
                mode="lines",
                name=f"Rolling mean over {text}",
                line={"width": 2},
                connectgaps=False,
                hovertemplate="%{x|%Y-%m-%d}: %{y:.2f} stars" + f" ({text})<extra></extra>",
            )
        )
    mean.update_yaxes(range=[0.5, 5])
    return count, mean


def every_period(frame: pd.DataFrame, grain: str) -> pd.DataFrame:
    """One row per period from the first to the last: none rated is 0 ratings and no mean,
    so lines show a gap instead of joining straight across it."""
    periods = pd.to_datetime(frame["period"])
    full = pd.date_range(periods.min(), periods.max(), freq=FREQ[grain])
    out = frame.assign(period=periods).set_index("period").reindex(full)
    out["ratings"] = out["ratings"].fillna(0).astype(int)
    out = out.rename_axis("period").reset_index()
    # ISO strings: Plotly reads them as dates, and they serialize ~20x faster than Timestamps.
    return out.assign(period=out["period"].dt.strftime("%Y-%m-%d"))


def rolling_mean(frame: pd.DataFrame, periods: int) -> pd.Series:
    """The mean of every rating in the trailing window (weighted by each period's count)."""
    total = (frame["average_rating"].fillna(0) * frame["ratings"]).rolling(periods, 1).sum()
    count = frame["ratings"].rolling(periods, 1).sum()
    return (total / count).where(count > 0)


@callback(
    Output(ID("genres"), "figure"),
    Input(VIEW.filters, "data"),
    Input("snapshot-version", "data"),
)
@c.guarded(TITLES[2])
def update_genres(stored, _version):
    frame = q.genre_ratings_per_year(filters.parse(stored))
    if frame.empty:
        return c.message_figure(TITLES[2], c.EMPTY)
    fig = c.figure(TITLES[2], "Year rated", "Ratings (count, stacked by genre)")
    wide = frame.pivot_table(index="year", columns="genre", values="ratings", fill_value=0)
    for genre in wide.columns:
        fig.add_trace(
            go.Scatter(
                x=wide.index,
                y=wide[genre],
                name=genre,
                mode="lines",
                stackgroup="genres",
                line={"width": 0.5},
            )
        )
    fig.update_layout(margin={"b": 200})
    return fig
