"""Movie graph: communities of the co-rating graph, and a community's movies by centrality."""

import dash
from dash import Input, Output, callback, dcc, html

from dash_app import components as c
from dash_app import filters, grid_state, inputs
from dash_app import queries as q
from dash_app.data import NoSnapshot

dash.register_page(
    __name__,
    path="/movie-graph",
    name="Movie graph",
    title="Movie graph · Movie analytics",
    order=3.5,  # beside Top movies
)
ID = c.ids("graph")

EMPTY_GRAPH = (
    "The co-rating graph is empty: no two movies share enough users who rated both highly."
)
COMMUNITIES = [
    c.number("community_id", "Community", valueFormatter=None, width=140, flex=0, minWidth=130),
    c.number("size", "Movies"),
    c.column("top_genres", "Top genres", minWidth=180),
    c.title("representative_titles", "Most connected titles", minWidth=320, flex=3),
]
MOVIES = [
    c.number("rank", "#", width=70, flex=0, minWidth=60),
    c.title(),
    c.number("pagerank", "PageRank", 4),
    c.number("degree", "Linked movies"),
    c.number("strength", "Shared high ratings", headerTooltip="Sum of the edge weights"),
    c.number("betweenness", "Betweenness", 4),
    c.number("movie_id", "Movie id", valueFormatter=None, hide=True),
]
NOTE = (
    "Two movies are linked when users rated both highly; an edge weighs how many did. "
    "Communities are Louvain's; the graph keeps the most-rated movies and each one's "
    "heaviest links."
)


MAX_ID = 2**31 - 1  # community ids are INTEGER


def _community(value) -> int | None:
    return None if value in (None, "") else inputs.integer(value, "community", 0, MAX_ID)


COMMUNITY = filters.Param("community", ID("community"), _community)
GRIDS = (
    grid_state.GridState("communities", tuple(COMMUNITIES), "communities_"),
    grid_state.GridState("community-movies", tuple(MOVIES), "movies_"),
)
VIEW = filters.View(
    "movie_graph",
    "/movie-graph",
    bar=False,
    params=(COMMUNITY, *grid_state.params(GRIDS)),
).register()


def _option(row) -> dict:
    return {
        "label": f"{row.community_id}: {row.size:,} movies, {row.top_genres}",
        "value": int(row.community_id),
    }


def layout(**query):
    try:
        communities = q.graph_communities()
    except NoSnapshot as missing:
        return html.Div([html.H1("Movie graph"), html.P(str(missing), className="notice")])
    largest = int(communities["community_id"].iloc[0]) if len(communities) else None
    chosen = VIEW.value(query, COMMUNITY, largest)
    notice = None
    if chosen is not None and chosen not in set(communities["community_id"]):
        # A dropdown drops a value it does not offer: say so, and show the largest instead.
        shown = ": the largest is shown." if largest is not None else "."
        notice = f"No community {chosen} in this snapshot{shown}"
        chosen = largest
    return html.Div(
        [
            html.H1("Movie graph"),
            html.P(notice, id=ID("notice"), className="notice"),
            *VIEW.layout(query, [chosen, *grid_state.values(query, GRIDS)]),
            c.section(
                "Communities",
                GRIDS[0].grid(
                    query,
                    "movie_communities.csv",
                    height=320,
                    no_rows=EMPTY_GRAPH,
                    getRowId="params.data.community_id",
                ),
                note=NOTE + " Click a community to list its movies.",
            ),
            c.section(
                "A community's movies by PageRank",
                html.Div(
                    [
                        html.Label("Community", htmlFor=ID("community")),
                        dcc.Dropdown(
                            id=ID("community"),
                            options=[_option(r) for r in communities.itertuples()],
                            value=chosen,
                            clearable=False,
                            placeholder="No community",
                        ),
                    ],
                    className="control",
                ),
                html.Div(id=ID("caption"), className="note"),
                GRIDS[1].grid(
                    query,
                    "community_movies.csv",
                    height=520,
                    no_rows=EMPTY_GRAPH if communities.empty else "No such community.",
                ),
                note="Centrality in the whole graph: PageRank weighs links by shared high "
                "ratings; betweenness is sampled.",
            ),
        ]
    )


@callback(
    Output(c.grid_id("communities"), "rowData"),
    Input("snapshot-version", "data"),
)
@c.guarded(None)
def communities(_version):
    return c.records(q.graph_communities())


@callback(
    Output(ID("community"), "value"),
    Input(c.grid_id("communities"), "cellClicked"),
    prevent_initial_call=True,
)
def choose(cell):
    """A clicked row of the communities grid chooses that community below."""
    row = cell.get("rowId") if isinstance(cell, dict) else None
    return inputs.integer(row, "cellClicked.rowId", 0, MAX_ID)


@callback(
    Output(c.grid_id("community-movies"), "rowData"),
    Output(ID("caption"), "children"),
    Input(ID("community"), "value"),
    Input("snapshot-version", "data"),
)
@c.guarded(None, None)
def movies(community, _version):
    community = _community(community)
    if community is None:
        return [], ""
    frame = q.community_movies(community)
    if frame.empty:
        return [], f"No community {community} in this snapshot."
    return c.records(frame), f"Community {community}: {len(frame):,} movies."
