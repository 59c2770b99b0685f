"""Movie graph analytics: communities and centrality of the co-rating graph, for the dashboard.

The same code at every size: ratings arrive as arrays and the graph is bounded
(graph.MAX_MOVIES nodes, graph.TOP_K edges per node, sampled betweenness). At
scale it is rebuilt weekly, with the model's item side.
"""

from datetime import timedelta

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from movie_assets import checks
from movie_assets.model import als, arrays, graph, scale_model
from movie_assets.partitions import daily_partitions, snapshot_day
from movie_assets.warehouse import read_latest_snapshot, read_snapshot
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


def _this_weeks(duckdb: DuckDBResource, day) -> dict[str, pd.DataFrame] | None:
    """At scale, the newest earlier graph tables if built less than als.REFIT_DAYS ago."""
    if scale_model.engine(duckdb, day).model != "als":
        return None
    with duckdb.get_connection() as con:
        try:
            frames = {
                name: read_latest_snapshot(con, name, day - timedelta(days=1), als.REFIT_DAYS)
                for name in GRAPH_TABLES
            }
        except LookupError:
            return None
    centrality = frames["movie_centrality"]
    if centrality.empty or len({f["as_of"].iloc[0] for f in frames.values() if len(f)}) != 1:
        return None
    # Tables written before the column existed were built on their own day.
    frames = {
        name: f.assign(built_on=f["built_on"].fillna(f["as_of"])).drop(columns="as_of")
        for name, f in frames.items()
    }
    if (day - frames["movie_centrality"]["built_on"].iloc[0].date()).days >= als.REFIT_DAYS:
        return None
    return frames


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
    """Both graph tables from one build of the graph and one community detection.

    At scale the graph is weekly, as the model's item side: a day whose newest
    earlier graph is younger than als.REFIT_DAYS carries it over (``_this_weeks``).
    """
    day = snapshot_day(context)
    frames = _this_weeks(duckdb, day)
    if frames is not None:
        built = frames["movie_centrality"]["built_on"].iloc[0].date()
        metadata = dict.fromkeys(GRAPH_TABLES, {"built_on": str(built)})
    else:
        g, movies = _graph(duckdb, day, config)
        members = graph.communities(g, config.seed)
        strength = pd.Series(dict(g.degree(weight="weight")), dtype=float)
        centrality = (
            graph.centrality(g, config.seed)
            .join(members)
            .join(movies.set_index("movie_id")["title"])
            .reset_index()
        )
        frames = {
            "movie_communities": graph.describe_communities(members, movies, strength),
            "movie_centrality": centrality,
        }
        modularity = graph.modularity(g, members) if len(members) else 0.0
        metadata = {
            "movie_communities": {
                **_metadata(g, config),
                "modularity": modularity,
                "seed": config.seed,
            },
            "movie_centrality": _metadata(g, config),
        }
        frames = {name: f.assign(built_on=pd.Timestamp(day)) for name, f in frames.items()}
    with duckdb.get_connection() as con:
        results = {
            name: write_partition(
                context,
                con,
                name,
                frames[name].assign(as_of=pd.Timestamp(day)),
                day,
                day,
                metadata=metadata[name],
            )
            for name in GRAPH_TABLES
        }
    for name, written in results.items():
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
