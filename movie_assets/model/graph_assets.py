"""Movie graph analytics: communities and centrality of the co-rating graph, for the dashboard.

The same code at every size: ratings arrive as arrays and the graph is bounded
(graph.MAX_MOVIES nodes, graph.TOP_K edges per node, sampled betweenness).
"""

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from movie_assets import checks
from movie_assets.model import arrays, graph
from movie_assets.partitions import daily_partitions, snapshot_day
from movie_assets.warehouse import read_snapshot
from movie_assets.writing import write_partition


class GraphConfig(dg.Config):
    min_movie_ratings: int = graph.MIN_MOVIE_RATINGS
    min_edge_users: int = graph.MIN_EDGE_USERS
    max_movies: int = graph.MAX_MOVIES
    top_k: int = graph.TOP_K
    seed: int = 0


def _graph(duckdb: DuckDBResource, day, config: GraphConfig):
    with duckdb.get_connection() as con:
        ratings = arrays.fetch_ratings(con, day)
        movies = read_snapshot(con, "movies", day)
    edges = graph.co_rating_edges_arrays(
        ratings,
        min_movie_ratings=config.min_movie_ratings,
        min_edge_users=config.min_edge_users,
        max_movies=config.max_movies,
        top_k=config.top_k,
    )
    return graph.build_graph(edges), movies


def _metadata(g, config: GraphConfig) -> dict:
    return {
        "nodes": g.number_of_nodes(),
        "edges": g.number_of_edges(),
        "limits": {"max_movies": config.max_movies, "top_k_edges_per_movie": config.top_k},
    }


GRAPH_TABLES = ("movie_communities", "movie_centrality")


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            name,
            partitions_def=daily_partitions,
            kinds={"duckdb", "networkx"},
            deps=["ratings", "movies"],
            description=description,
        )
        for name, description in [
            (
                "movie_communities",
                "Louvain communities of the co-rating graph: size, top genres, most "
                "connected titles.",
            ),
            (
                "movie_centrality",
                "Degree, weighted degree, PageRank and betweenness of every movie in the "
                "co-rating graph, with its community.",
            ),
        ]
    ],
    check_specs=[spec for name in GRAPH_TABLES for spec in checks.table_specs(name)],
)
def co_rating_graph(context: dg.AssetExecutionContext, config: GraphConfig, duckdb: DuckDBResource):
    """Both graph tables from one build of the graph and one community detection."""
    day = snapshot_day(context)
    g, movies = _graph(duckdb, day, config)
    members = graph.communities(g, config.seed)
    strength = pd.Series(dict(g.degree(weight="weight")), dtype=float)
    communities = graph.describe_communities(members, movies, strength)
    centrality = (
        graph.centrality(g, config.seed)
        .join(members)
        .join(movies.set_index("movie_id")["title"])
        .reset_index()
    )
    modularity = graph.modularity(g, members) if len(members) else 0.0
    extra = {"movie_communities": {"modularity": modularity, "seed": config.seed}}
    for name, frame in zip(GRAPH_TABLES, [communities, centrality], strict=True):
        written = write_partition(
            context,
            duckdb,
            name,
            frame.assign(as_of=pd.Timestamp(day)),
            day,
            day,
            metadata={**_metadata(g, config), **extra.get(name, {})},
        )
        yield dg.MaterializeResult(
            asset_key=name,
            metadata=written.metadata,
            check_results=[
                dg.AssetCheckResult(
                    asset_key=name,
                    check_name=result.check_name,
                    passed=result.passed,
                    severity=result.severity,
                    metadata=result.metadata,
                )
                for result in written.check_results
            ],
        )
