"""Top movies: by Bayesian weighted score, by mean rating with enough votes, by number of votes."""

import dash
from dash import Input, Output, callback, dcc, html

from dash_app import components as c
from dash_app import filters, inputs
from dash_app import queries as q
from dash_app.grid_state import GridState

dash.register_page(
    __name__, path="/top-movies", name="Top movies", title="Top movies · Movie analytics", order=3
)
ID = c.ids("top")

KINDS = {
    "weighted": "Top 20 by Bayesian weighted score",
    "highest": "Highest rated (minimum number of ratings)",
    "most": "Most rated",
}
COLUMNS = [
    c.number("rank", "#", width=70, flex=0, minWidth=60),
    c.title(),
    c.number("year", "Year", valueFormatter=None, width=90),
    c.column("genres", "Genres", minWidth=200),
    c.number("rating_count", "Ratings"),
    c.number("rating_mean", "Average rating (stars)", 3),
    c.number("weighted_score", "Weighted score (stars)", 3),
    c.number("movie_id", "Movie id", valueFormatter=None, hide=True),
]


MAX_VOTES = 10_000_000


def _kind(value) -> str:
    return inputs.choice(value, KINDS, "list")


def _min_votes(value) -> int:
    """An emptied box means the default, not an error."""
    return 50 if value in (None, "") else inputs.integer(value, "min_votes", 1, MAX_VOTES)


KIND = filters.Param("list", ID("kind"), _kind, default="weighted")
MIN_VOTES = filters.Param("min_votes", ID("min-votes"), _min_votes, default=50)
GRID = GridState("top-movies", tuple(COLUMNS))
VIEW = filters.View("top_movies", "/top-movies", params=(KIND, MIN_VOTES, *GRID.params)).register()


def layout(**query):
    return html.Div(
        [
            html.H1("Top movies"),
            *VIEW.layout(query, [VIEW.value(query, p) for p in VIEW.params]),
            html.Div(
                [
                    html.Label("List", htmlFor=ID("kind")),
                    dcc.RadioItems(
                        id=ID("kind"),
                        value=VIEW.value(query, KIND),
                        inline=True,
                        options=[{"label": v, "value": k} for k, v in KINDS.items()],
                    ),
                    html.Label("Minimum ratings", htmlFor=ID("min-votes")),
                    dcc.Input(
                        id=ID("min-votes"),
                        type="number",
                        min=1,
                        step=1,
                        value=VIEW.value(query, MIN_VOTES),
                        debounce=True,
                    ),
                ],
                className="control",
            ),
            c.section(
                "Top 20",
                html.Div(id=ID("caption"), className="note"),
                GRID.grid(query, "top_movies.csv", height=660),
            ),
        ]
    )


@callback(
    Output(c.grid_id("top-movies"), "rowData"),
    Output(ID("caption"), "children"),
    Input(ID("kind"), "value"),
    Input(ID("min-votes"), "value"),
    Input(VIEW.filters, "data"),
    Input("snapshot-version", "data"),
)
@c.guarded(None, None)
def update(kind, min_votes, stored, _version):
    kind, min_votes = _kind(kind), _min_votes(min_votes)
    frame = q.top_movies(filters.parse(stored), kind, min_votes)
    caption = KINDS[kind] + (f": at least {min_votes:,} ratings" if kind == "highest" else "")
    caption += ". The weighted score shrinks a movie's mean towards the global mean."
    return c.records(frame.assign(rank=range(1, len(frame) + 1))), caption
