"""Recommendations: a user's top 10 beside what they loved, a movie's neighbours, model metrics."""

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from dash_app import components as c
from dash_app import filters, inputs
from dash_app import queries as q
from dash_app.data import NoSnapshot

dash.register_page(
    __name__,
    path="/recommendations",
    name="Recommendations",
    title="Recommendations · Movie analytics",
    order=6,
)
ID = c.ids("recs")
TITLE = "Model metrics per partition"

RECOMMENDED = [
    c.number("rank", "#", width=70),
    c.column("title", "Title", minWidth=240),
    c.column("genres", "Genres"),
    c.number("predicted_rating", "Predicted rating (stars)", 2),
]
RATED = [
    c.column("title", "Title", minWidth=240),
    c.number("rating", "Their rating (stars)", 1),
    c.column("rated_on", "Rated on"),
]
METRICS = [
    c.column("model", "Model"),
    c.column("protocol", "Protocol"),
    c.column("metric", "Metric"),
    c.number("value", "Value", 4),
    c.column("as_of", "As of"),
]
SIMILAR = [
    c.column("title", "Title", minWidth=240),
    c.number("similarity", "Cosine similarity", 3),
    c.number("rating_count", "Ratings"),
]


def _id(name: str):
    return lambda value: inputs.integer(value, name, 0, 2**62)


def _name(name: str):
    return lambda value: inputs.text(value, name, 100) or None


USER = filters.Param("user", ID("user"), _id("user"))
MOVIE = filters.Param("movie", ID("movie"), _id("movie"))
METRIC = filters.Param("metric", ID("metric"), _name("metric"))
PROTOCOL = filters.Param("protocol", ID("protocol"), _name("protocol"))
VIEW = filters.View(
    "recommendations", "/recommendations", bar=False, params=(USER, MOVIE, METRIC, PROTOCOL)
).register()


def layout(**query):
    try:
        users = q.recommended_users()
        search = q.movie_search("")
    except NoSnapshot as missing:
        return html.Div([html.H1("Recommendations"), html.P(str(missing), className="notice")])
    user_options = [
        {"label": f"User {u} ({n:,} ratings)", "value": int(u)}
        for u, n in zip(users["user_id"], users["rating_count"], strict=True)
    ]
    user = VIEW.value(query, USER, user_options[0]["value"] if user_options else None)
    movie = VIEW.value(query, MOVIE, int(search["movie_id"].iloc[0]) if len(search) else None)
    scores = q.model_metrics()
    metrics = sorted(scores["metric"].unique())
    protocols = sorted(scores["protocol"].unique())
    metric = "rmse" if "rmse" in metrics else (metrics[0] if metrics else None)
    chronological = [p for p in protocols if "chronological" in p]
    metric = VIEW.value(query, METRIC, metric)
    protocol = VIEW.value(query, PROTOCOL, (chronological or protocols or [None])[0])
    return html.Div(
        [
            html.H1("Recommendations"),
            *VIEW.layout(query, [user, movie, metric, protocol]),
            html.P(
                "Filters do not apply here: the model scores every movie for every user.",
                className="note",
            ),
            c.section(
                "For a user",
                html.Div(
                    [
                        html.Label("User", htmlFor=ID("user")),
                        dcc.Dropdown(
                            id=ID("user"),
                            options=user_options,
                            value=user,
                            clearable=False,
                            style={"minWidth": "260px"},
                        ),
                    ],
                    className="control",
                ),
                html.Div(
                    [
                        html.Div(
                            [
                                html.H3("Top 10 recommended (unseen)"),
                                c.grid("user-recs", RECOMMENDED, "recommendations.csv", height=420),
                            ]
                        ),
                        html.Div(
                            [
                                html.H3("What they rated highest"),
                                c.grid("user-rated", RATED, "rated_highest.csv", height=420),
                            ]
                        ),
                    ],
                    className="row",
                ),
            ),
            c.section(
                "Similar movies",
                html.Div(
                    [
                        html.Label("Movie", htmlFor=ID("movie")),
                        dcc.Dropdown(
                            id=ID("movie"),
                            value=movie,
                            options=_movie_options("", movie),
                            clearable=False,
                            placeholder="Type part of a title",
                            style={"minWidth": "360px"},
                        ),
                    ],
                    className="control",
                ),
                c.grid(
                    "similar",
                    SIMILAR,
                    "similar_movies.csv",
                    height=420,
                    no_rows="No similar movies with enough ratings.",
                ),
                note="Nearest movies by cosine similarity of their SVD item factors, among "
                "movies with at least 20 ratings.",
            ),
            c.section(
                "Model metrics",
                html.Div(
                    [
                        html.Label("Metric", htmlFor=ID("metric")),
                        dcc.Dropdown(
                            id=ID("metric"),
                            options=metrics,
                            value=metric,
                            clearable=False,
                            style={"minWidth": "200px"},
                        ),
                        html.Label("Protocol", htmlFor=ID("protocol")),
                        dcc.Dropdown(
                            id=ID("protocol"),
                            options=protocols,
                            value=protocol,
                            clearable=False,
                            style={"minWidth": "240px"},
                        ),
                    ],
                    className="control",
                ),
                c.chart(ID("metrics")),
                c.grid("metrics", METRICS, "model_metrics.csv", height=360),
                note="Every model the pipeline evaluated, as published with the snapshot.",
            ),
        ]
    )


@callback(
    Output(c.grid_id("user-recs"), "rowData"),
    Output(c.grid_id("user-rated"), "rowData"),
    Input(ID("user"), "value"),
    Input("snapshot-version", "data"),
)
@c.guarded(None, None)
def update_user(user, _version):
    if user is None:
        return [], []
    user = USER.parse(user)
    return c.records(q.user_recommendations(user)), c.records(q.user_top_rated(user))


def _movie_options(text: str, chosen: int | None) -> list[dict]:
    found = q.movie_search(text)
    options = [
        {"label": f"{t} ({y})" if pd.notna(y) else t, "value": int(m)}
        for m, t, y in zip(found["movie_id"], found["title"], found["year"], strict=True)
    ]
    if chosen is not None and chosen not in set(found["movie_id"]):
        options.insert(
            0, {"label": q.movie_title(int(chosen)) or str(chosen), "value": int(chosen)}
        )
    return options


@callback(
    Output(ID("movie"), "options"),
    Input(ID("movie"), "search_value"),
    State(ID("movie"), "value"),
    prevent_initial_call=True,
)
@c.guarded(None)
def movie_options(text, chosen):
    """Options follow the typed text; the search text is a bound SQL parameter."""
    if not text:
        raise PreventUpdate
    chosen = None if chosen is None else MOVIE.parse(chosen)
    return _movie_options(inputs.text(text, "search"), chosen)


@callback(
    Output(c.grid_id("similar"), "rowData"),
    Input(ID("movie"), "value"),
    Input("snapshot-version", "data"),
)
@c.guarded(None)
def update_similar(movie, _version):
    if movie is None:
        return []
    return c.records(q.similar_movies(MOVIE.parse(movie)))


@callback(
    Output(ID("metrics"), "figure"),
    Output(c.grid_id("metrics"), "rowData"),
    Input(ID("metric"), "value"),
    Input(ID("protocol"), "value"),
    Input("snapshot-version", "data"),
)
@c.guarded(TITLE, None)
def update_metrics(metric, protocol, _version):
    metric, protocol = METRIC.parse(metric), PROTOCOL.parse(protocol)
    frame = q.model_metrics()
    latest = frame[frame["as_of"] == frame["as_of"].max()] if len(frame) else frame
    if frame.empty:
        note = "No evaluation yet: the weekly model_evaluation job has not run for this data."
        return c.message_figure(TITLE, note), []
    chosen = frame[(frame["metric"] == metric) & (frame["protocol"] == protocol)]
    if chosen.empty:
        return c.message_figure(TITLE, "No such metric for this protocol."), c.records(latest)
    unit = " (stars)" if metric in ("rmse", "mae") else ""
    fig = c.figure(
        f"{TITLE}: {metric} ({protocol.replace('_', ' ')})", "Partition (as of)", f"{metric}{unit}"
    )
    for model, part in chosen.groupby("model", sort=True):
        fig.add_trace(
            go.Scatter(
                x=part["as_of"],
                y=part["value"],
                mode="lines+markers",
                name=model,
                marker={"size": 9},
            )
        )
    fig.update_xaxes(type="date")
    return fig, c.records(latest)
