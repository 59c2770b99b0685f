"""The movie co-rating graph: communities (Louvain) and centrality, with networkx.

Two movies are linked when users rated both highly; the edge weight is how many
did. Only the most-rated movies with enough ratings, edges with enough such
users and each movie's heaviest edges are kept, which bounds the graph at any
data size (320 nodes and 11,597 edges on the embedded data, at most 1,000 nodes
and 150,000 edges at any size). The counts come from a sparse product X'X over
users, never a dense users x movies matrix.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp

from movie_assets.model.arrays import RatingArrays

HIGH_RATING = 4.0
MIN_MOVIE_RATINGS = 50
MIN_EDGE_USERS = 20
# Size limits: the most-rated MAX_MOVIES movies, each keeping its TOP_K heaviest edges
# (133 keeps every edge of the embedded graph), so at most 150,000 edges at any data size.
MAX_MOVIES = 1000
TOP_K = 150
# Sampled betweenness: up to 200 sources, fewer on big graphs so that sources x edges
# stays under the budget (about 10 s of networkx on 2 cores).
BETWEENNESS_SAMPLES = 200
BETWEENNESS_EDGE_BUDGET = 4_000_000
TOP_GENRES = 3
REPRESENTATIVES = 5


def co_rating_edges(ratings: pd.DataFrame, **options) -> pd.DataFrame:
    """edges_of on a ratings frame: movie_a < movie_b, weight = users who liked both."""
    return edges_of(
        ratings["user_id"].to_numpy(),
        ratings["movie_id"].to_numpy(),
        ratings["rating"].to_numpy(),
        **options,
    )


def co_rating_edges_arrays(data: RatingArrays, **options) -> pd.DataFrame:
    """co_rating_edges on the scale path's arrays."""
    return edges_of(data.user_id, data.movie_id, data.rating, **options)


def edges_of(
    user_id: np.ndarray,
    movie_id: np.ndarray,
    rating: np.ndarray,
    min_movie_ratings: int = MIN_MOVIE_RATINGS,
    min_edge_users: int = MIN_EDGE_USERS,
    high_rating: float = HIGH_RATING,
    max_movies: int = MAX_MOVIES,
    top_k: int = TOP_K,
) -> pd.DataFrame:
    """The bounded co-rating graph from a sparse users x movies 0/1 matrix and its X'X.

    Nodes: the ``max_movies`` most-rated movies with at least ``min_movie_ratings``
    ratings. An edge needs ``min_edge_users`` co-raters and must be among the
    ``top_k`` heaviest edges (ties by smaller id) of at least one of its two movies,
    so the graph has at most max_movies * top_k edges whatever the data size.
    """
    ids, counts = np.unique(movie_id, return_counts=True)
    eligible = counts >= min_movie_ratings
    by_count = np.lexsort((ids[eligible], -counts[eligible]))[:max_movies]
    movies = np.sort(ids[eligible][by_count])
    keep = (rating >= high_rating) & np.isin(movie_id, movies)
    users, rows = np.unique(user_id[keep], return_inverse=True)
    liked = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.int32), (rows, np.searchsorted(movies, movie_id[keep]))),
        shape=(len(users), len(movies)),
    )
    both = sp.triu(liked.T @ liked, k=1).tocoo()
    strong = both.data >= min_edge_users
    edges = pd.DataFrame(
        {"a": both.row[strong], "b": both.col[strong], "weight": both.data[strong].astype(int)}
    )
    ranked = pd.concat(
        [
            edges.rename(columns={"a": "node", "b": "other"}),
            edges.rename(columns={"b": "node", "a": "other"}),
        ]
    ).sort_values(["node", "weight", "other"], ascending=[True, False, True], kind="stable")
    ranked = ranked[ranked.groupby("node").cumcount() < top_k]
    kept = ranked.assign(
        a=np.minimum(ranked["node"], ranked["other"]), b=np.maximum(ranked["node"], ranked["other"])
    ).drop_duplicates(["a", "b"])
    kept = kept.sort_values(["a", "b"], ignore_index=True)
    return pd.DataFrame(
        {
            "movie_a": movies[kept["a"].to_numpy()],
            "movie_b": movies[kept["b"].to_numpy()],
            "weight": kept["weight"].to_numpy(dtype=int),
        }
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
    budget = BETWEENNESS_EDGE_BUDGET // max(1, graph.number_of_edges())
    samples = min(BETWEENNESS_SAMPLES, graph.number_of_nodes(), max(20, budget))
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
