"""The movie co-rating graph: communities (Louvain) and centrality, with networkx.

Two movies are linked when users rated both highly; the edge weight is how many
did. Only movies with enough ratings and edges with enough such users are kept,
which bounds the graph (a few hundred nodes on the embedded data).
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

HIGH_RATING = 4.0
MIN_MOVIE_RATINGS = 50
MIN_EDGE_USERS = 20
BETWEENNESS_SAMPLES = 200
TOP_GENRES = 3
REPRESENTATIVES = 5


def co_rating_edges(
    ratings: pd.DataFrame,
    min_movie_ratings: int = MIN_MOVIE_RATINGS,
    min_edge_users: int = MIN_EDGE_USERS,
    high_rating: float = HIGH_RATING,
) -> pd.DataFrame:
    """movie_a < movie_b, weight = users who rated both at least ``high_rating``."""
    counts = ratings.groupby("movie_id").size()
    movies = np.sort(counts[counts >= min_movie_ratings].index.to_numpy())
    high = ratings[(ratings["rating"] >= high_rating) & ratings["movie_id"].isin(movies)]
    users = np.sort(high["user_id"].unique())
    liked = np.zeros((len(users), len(movies)))
    liked[np.searchsorted(users, high["user_id"]), np.searchsorted(movies, high["movie_id"])] = 1
    both = liked.T @ liked
    a, b = np.nonzero(np.triu(both, k=1) >= min_edge_users)
    return pd.DataFrame(
        {"movie_a": movies[a], "movie_b": movies[b], "weight": both[a, b].astype(int)}
    )


def build_graph(edges: pd.DataFrame) -> nx.Graph:
    graph = nx.Graph()
    graph.add_weighted_edges_from(edges[["movie_a", "movie_b", "weight"]].itertuples(index=False))
    return graph


def communities(graph: nx.Graph, seed: int = 0) -> pd.Series:
    """Louvain community of every node, numbered 0.. by decreasing size (ties by smallest id)."""
    found = nx.community.louvain_communities(graph, weight="weight", seed=seed)
    ordered = sorted(found, key=lambda c: (-len(c), min(c)))
    return pd.Series(
        {node: cid for cid, members in enumerate(ordered) for node in members},
        name="community_id",
    ).sort_index()


def centrality(graph: nx.Graph, seed: int = 0) -> pd.DataFrame:
    """Degree, weighted degree, PageRank and sampled betweenness (distance = 1 / weight)."""
    for _, _, data in graph.edges(data=True):
        data["distance"] = 1.0 / data["weight"]
    samples = min(BETWEENNESS_SAMPLES, graph.number_of_nodes())
    frame = pd.DataFrame(
        {
            "degree": dict(graph.degree()),
            "strength": dict(graph.degree(weight="weight")),
            "pagerank": nx.pagerank(graph, weight="weight"),
            "betweenness": nx.betweenness_centrality(
                graph, k=samples, weight="distance", seed=seed
            ),
        }
    )
    frame.index.name = "movie_id"
    return frame.sort_index()


def describe_communities(
    members: pd.Series, movies: pd.DataFrame, strength: pd.Series
) -> pd.DataFrame:
    """One row per community: size, most frequent genres, most connected titles."""
    info = (
        movies.set_index("movie_id")[["title", "genres"]]
        .join(members, how="inner")
        .join(strength.rename("strength"))
    )
    rows = []
    for cid, group in info.groupby("community_id"):
        genres = group["genres"].str.split("|").explode()
        genres = genres[genres.notna() & (genres != "")]
        top = genres.value_counts().sort_index().sort_values(ascending=False, kind="stable")
        titles = group.sort_values(["strength", "title"], ascending=[False, True])["title"]
        rows.append(
            {
                "community_id": cid,
                "size": len(group),
                "top_genres": "|".join(top.index[:TOP_GENRES]),
                "representative_titles": "|".join(titles.head(REPRESENTATIVES)),
            }
        )
    columns = ["community_id", "size", "top_genres", "representative_titles"]
    return pd.DataFrame(rows, columns=columns)  # a graph too small for edges has no community


def modularity(graph: nx.Graph, members: pd.Series) -> float:
    groups = [set(ids) for _, ids in members.groupby(members).groups.items()]
    return float(nx.community.modularity(graph, groups, weight="weight"))
