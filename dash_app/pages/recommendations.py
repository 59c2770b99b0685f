"""Recommendations: a user's top 10 beside what they loved, a movie's neighbours, model metrics."""

import re

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from dash_app import components as c
from dash_app import filters, grid_state, inputs
from dash_app import queries as q
from dash_app.data import NoSnapshot
from movie_assets.model.als import MIN_SIMILAR_RATINGS
from movie_assets.schemas import PROTOCOLS

dash.register_page(
    __name__,
    path="/recommendations",
    name="Recommendations",
    title="Recommendations · Movie analytics",
    order=6,
)
ID = c.ids("recs")
TITLE = "Model metrics"
METRIC_LABELS = {
    "rmse": "RMSE (stars)",
    "mae": "MAE (stars)",
    "mse": "MSE (stars²)",
    "mape": "MAPE (%)",
    "precision_at_10": "Precision at 10",
    "recall_at_10": "Recall at 10",
    "map_at_10": "MAP at 10",
    "ndcg_at_10": "NDCG at 10",
    "catalogue_coverage": "Catalogue coverage (share)",
    "mean_popularity": "Mean popularity of the top 10",
}
PROTOCOL_LABELS = dict(
    zip(
        PROTOCOLS,
        ["Random 5-fold cross-validation", "Each user's latest ratings held out"],
        strict=True,
    )
)
MODEL_LABELS = {
    "global_mean": "Global mean",
    "baseline_only": "Baseline (user and movie biases)",
    "svd_default": "SVD, default parameters",
    "svd_tuned": "SVD, tuned",
    "ease": "EASE (item neighbours)",
    "most_popular": "Most popular",
    "served_hybrid": "Served: EASE + SVD",
    "als": "ALS",
}
RANKING = (
    "Sorted by rank. The ranking score orders the list: how strongly the model expects this "
    "user to pick the movie among all they have not rated (higher first; a relative score, "
    "not stars). The predicted rating is a separate estimate, of the stars they would give: "
    "a movie can rank high with a modest predicted rating."
)

RECOMMENDED = [
    c.number("rank", "#", width=70, flex=0, minWidth=60),
    c.title(),
    c.number("score", "Ranking score", 2, minWidth=110),
    c.number("predicted_rating", "Predicted rating (stars)", 2, minWidth=120),
    c.column("why", "Why", minWidth=220, flex=2, wrapText=True, autoHeight=True),
    c.column("genres", "Genres", minWidth=140),
]
RATED = [
    c.title(),
    c.number("rating", "Their rating (stars)", 1),
    c.column("rated_on", "Rated on"),
]
METRICS = [
    c.column("model_label", "Model", minWidth=180),
    c.column("protocol_label", "Protocol", minWidth=200),
    c.column("metric_label", "Metric", minWidth=150),
    c.number("value", "Value", 4),
    c.column("as_of", "As of", minWidth=110),
]
SIMILAR = [
    c.number("rank", "#", width=70, flex=0, minWidth=60),
    c.title(),
    c.number("similarity", "Cosine similarity", 3, minWidth=110),
    c.number("rating_count", "Ratings"),
]


def label(labels: dict[str, str], name: str) -> str:
    return labels.get(name, name.replace("_", " "))


def why(row) -> str:
    """The reason a movie is on the list, in words."""
    if isinstance(row.because_title, str):
        return (
            f"You rated {row.because_title} {row.liked_rating:g}★; the model places them close "
            f"(similarity {row.similarity:.2f})."
        )
    if row.source == "popular_cold_start":
        return "Popular with everyone: too few of your ratings to personalize yet."
    if row.source == "popular_fill":
        return "Popular: you have rated nearly every movie the model ranks."
    return "Liked by users whose ratings resemble yours."


def _id(name: str):
    return lambda value: inputs.integer(value, name, 0, 2**62)


def _name(name: str):
    return lambda value: inputs.text(value, name, 100) or None


USER = filters.Param("user", ID("user"), _id("user"))
MOVIE = filters.Param("movie", ID("movie"), _id("movie"))
METRIC = filters.Param("metric", ID("metric"), _name("metric"))
PROTOCOL = filters.Param("protocol", ID("protocol"), _name("protocol"))
GRIDS = (
    grid_state.GridState("user-recs", tuple(RECOMMENDED), "recs_"),
    grid_state.GridState("user-rated", tuple(RATED), "rated_"),
    grid_state.GridState("similar", tuple(SIMILAR), "similar_"),
    grid_state.GridState("metrics", tuple(METRICS), "metrics_"),
)
VIEW = filters.View(
    "recommendations",
    "/recommendations",
    bar=False,
    params=(USER, MOVIE, METRIC, PROTOCOL, *grid_state.params(GRIDS)),
).register()


def layout(**query):
    try:
        users = q.recommended_users()
        search = q.movie_search("")
    except NoSnapshot as missing:
        return html.Div([html.H1("Recommendations"), html.P(str(missing), className="notice")])
    first = int(users["user_id"].iloc[0]) if len(users) else None
    user = VIEW.value(query, USER, first)
    movie = VIEW.value(query, MOVIE, int(search["movie_id"].iloc[0]) if len(search) else None)
    scores = q.model_metrics()
    metrics = [
        {"label": label(METRIC_LABELS, m), "value": m} for m in sorted(scores["metric"].unique())
    ]
    protocols = [
        {"label": label(PROTOCOL_LABELS, p), "value": p}
        for p in sorted(scores["protocol"].unique())
    ]
    names = [m["value"] for m in metrics]
    metric = "rmse" if "rmse" in names else (names[0] if names else None)
    chronological = [p["value"] for p in protocols if "chronological" in p["value"]]
    metric = VIEW.value(query, METRIC, metric)
    protocol = VIEW.value(
        query, PROTOCOL, (chronological or [p["value"] for p in protocols] or [None])[0]
    )
    return html.Div(
        [
            html.H1("Recommendations"),
            *VIEW.layout(
                query,
                [user, movie, metric, protocol, *grid_state.values(query, GRIDS)],
            ),
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
                            options=_user_options("", user),
                            placeholder="Type a user id",
                            value=user,
                            clearable=False,
                            className="control-wide",
                        ),
                    ],
                    className="control",
                ),
                html.Div(
                    [
                        html.Div(
                            [
                                html.H3("Top 10 recommended (unseen)"),
                                html.P(RANKING, className="note"),
                                GRIDS[0].grid(query, "recommendations.csv", height=420),
                            ]
                        ),
                        html.Div(
                            [
                                html.H3("What they rated highest"),
                                GRIDS[1].grid(query, "rated_highest.csv", height=420),
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
                            className="control-wide",
                        ),
                    ],
                    className="control",
                ),
                GRIDS[2].grid(
                    query,
                    "similar_movies.csv",
                    height=420,
                    no_rows="No similar movies with enough ratings.",
                ),
                note="The pipeline's ten nearest movies by cosine similarity of the model's "
                f"item factors, among movies with at least {MIN_SIMILAR_RATINGS} ratings.",
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
                            className="control-wide",
                        ),
                        html.Label("Protocol", htmlFor=ID("protocol")),
                        dcc.Dropdown(
                            id=ID("protocol"),
                            options=protocols,
                            value=protocol,
                            clearable=False,
                            className="control-wide",
                        ),
                    ],
                    className="control",
                ),
                c.chart(ID("metrics")),
                GRIDS[3].grid(query, "model_metrics.csv", height=360),
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
    recs = q.user_recommendations(user)
    recs["why"] = [why(row) for row in recs.itertuples()]
    return c.records(recs), c.records(q.user_top_rated(user))


def _user_options(text: str, chosen: int | None) -> list[dict]:
    found = q.recommended_users(re.sub(r"\D", "", text)[:18])
    ids = [int(u) for u in found["user_id"]]
    options = [
        {"label": f"User {u} ({n:,} ratings)", "value": u}
        for u, n in zip(ids, found["rating_count"], strict=True)
    ]
    if chosen is not None and chosen not in ids:
        options.insert(0, {"label": f"User {chosen}", "value": chosen})
    return options


@callback(
    Output(ID("user"), "options"),
    Input(ID("user"), "search_value"),
    State(ID("user"), "value"),
    prevent_initial_call=True,
)
@c.guarded(None)
def user_options(text, chosen):
    """Options follow the typed id; the digits are a bound SQL parameter."""
    if not text:
        raise PreventUpdate
    chosen = None if chosen is None else USER.parse(chosen)
    return _user_options(inputs.text(text, "search"), chosen)


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
    if frame.empty:
        note = "No evaluation yet: the weekly model_evaluation job has not run for this data."
        return c.message_figure(TITLE, note), []
    frame = frame.assign(
        model_label=[label(MODEL_LABELS, m) for m in frame["model"]],
        protocol_label=[label(PROTOCOL_LABELS, p) for p in frame["protocol"]],
        metric_label=[label(METRIC_LABELS, m) for m in frame["metric"]],
    )
    latest = frame[frame["as_of"] == frame["as_of"].max()]
    chosen = frame[(frame["metric"] == metric) & (frame["protocol"] == protocol)]
    if chosen.empty:
        return c.message_figure(TITLE, "No such metric for this protocol."), c.records(latest)
    name, how = label(METRIC_LABELS, metric), label(PROTOCOL_LABELS, protocol)
    days = chosen["as_of"].nunique()
    if days == 1:
        # One evaluation: a bar per model, not a time axis with one instant on it.
        ranked = chosen.sort_values("value")
        fig = c.figure(f"{name}, {how.lower()}, as of {chosen['as_of'].iloc[0]:%Y-%m-%d}", name, "")
        fig.add_trace(
            go.Bar(
                x=ranked["value"],
                y=ranked["model_label"],
                orientation="h",
                name=name,
                hovertemplate="%{y}: %{x:.4f}<extra></extra>",
            )
        )
        fig.update_layout(showlegend=False, margin={"l": 220})
        return fig, c.records(latest)
    fig = c.figure(f"{name} over evaluations, {how.lower()}", "Evaluated as of", name)
    for model, part in chosen.groupby("model_label", sort=True):
        fig.add_trace(
            go.Scatter(
                x=part["as_of"],
                y=part["value"],
                mode="lines+markers",
                name=model,
                marker={"size": 9},
            )
        )
    fig.update_xaxes(type="date", tickformat="%Y-%m-%d", dtick=86400000.0 * max(1, days // 8))
    return fig, c.records(latest)
