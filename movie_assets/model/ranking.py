"""Top-N over the whole catalogue: popularity, SVD and an item-neighbour model (EASE), in numpy.

A rating model ranks obscure movies with a few high ratings first, so plain
SVD scores far below most-popular on what users watch next. A linear
item-to-item model on who-rated-what (EASE, Steck 2019) learns "people who
rated these also rated that" and beats popularity (docs/evaluation.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from movie_assets.model.svd import Factors

# Only movies with enough ratings are ranked; the cap bounds EASE's matrix inverse (cubic).
MIN_ITEM_RATINGS = 3
MAX_ITEMS = 5000
EASE_LAMBDA = 100.0


@dataclass
class Interactions:
    """Who rated what, as a dense 0/1 users x items matrix over the ranked catalogue."""

    user_ids: np.ndarray
    item_ids: np.ndarray
    matrix: np.ndarray
    popularity: pd.Series  # training ratings per movie_id, over every rated movie

    @classmethod
    def from_ratings(
        cls,
        ratings: pd.DataFrame,
        min_item_ratings: int = MIN_ITEM_RATINGS,
        max_items: int = MAX_ITEMS,
    ) -> Interactions:
        popularity = ratings.groupby("movie_id").size().rename("ratings")
        ranked = popularity[popularity >= min_item_ratings]
        ranked = ranked.sort_values(ascending=False, kind="stable").head(max_items)
        item_ids = np.sort(ranked.index.to_numpy(dtype=np.int64))
        user_ids = np.sort(ratings["user_id"].unique().astype(np.int64))
        matrix = np.zeros((len(user_ids), len(item_ids)))
        kept = ratings[ratings["movie_id"].isin(item_ids)]
        matrix[
            np.searchsorted(user_ids, kept["user_id"].to_numpy()),
            np.searchsorted(item_ids, kept["movie_id"].to_numpy()),
        ] = 1.0
        return cls(user_ids, item_ids, matrix, popularity)

    @property
    def seen(self) -> np.ndarray:
        return self.matrix > 0


def popularity_scores(data: Interactions) -> np.ndarray:
    counts = data.popularity.reindex(data.item_ids).to_numpy(dtype=float)
    return np.broadcast_to(counts, data.matrix.shape)


def ease_scores(data: Interactions, lam: float = EASE_LAMBDA) -> np.ndarray:
    """EASE: X B with item-item weights B = I - P / diag(P), P = (X'X + lam I)^-1.

    B's diagonal is zero by construction. With fewer users than items (671 x 4,417 on
    the embedded data) P comes through the Woodbury identity,
    P = (I - X'(XX' + lam I)^-1 X) / lam, so only a users x users system is solved
    and no items x items matrix is formed: about 50x faster than the inverse.
    """
    x = data.matrix
    users, items = x.shape
    if users < items:
        kernel = x @ x.T
        solved = np.linalg.solve(kernel + lam * np.eye(users), x)  # (XX' + lam I)^-1 X
        x_p = (x - kernel @ solved) / lam
        p_diag = (1.0 - np.einsum("ui,ui->i", x, solved)) / lam
    else:
        gram = x.T @ x
        gram[np.diag_indices_from(gram)] += lam
        inverse = np.linalg.inv(gram)
        x_p, p_diag = x @ inverse, np.diag(inverse)
    return x - x_p / p_diag


def svd_scores(data: Interactions, factors: Factors) -> np.ndarray:
    """Predicted ratings for the catalogue's users and items, from the stored factors."""
    users = pd.Series(np.arange(len(factors.user_ids)), factors.user_ids)[data.user_ids]
    items = pd.Series(np.arange(len(factors.item_ids)), factors.item_ids)[data.item_ids]
    return factors.scores()[np.ix_(users.to_numpy(), items.to_numpy())]


def standardize(scores: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Each user's scores as z-scores over the movies they have not rated, so models can mix."""
    unseen = np.where(seen, np.nan, scores)
    mean = np.nanmean(unseen, axis=1, keepdims=True)
    std = np.nanstd(unseen, axis=1, keepdims=True)
    return (scores - mean) / np.where(std > 0, std, 1.0)


def hybrid_scores(
    data: Interactions, factors: Factors, svd_weight: float, lam: float = EASE_LAMBDA
) -> np.ndarray:
    """EASE, optionally re-weighted by SVD's predicted rating (both standardized per user)."""
    svd = svd_scores(data, factors) if svd_weight else None
    return hybrid(data, ease_scores(data, lam), svd, svd_weight)


def hybrid(
    data: Interactions, ease: np.ndarray, svd: np.ndarray | None, svd_weight: float
) -> np.ndarray:
    """The served mix of already computed EASE and SVD scores."""
    mixed = standardize(ease, data.seen)
    if svd_weight == 0:
        return mixed
    return mixed + svd_weight * standardize(svd, data.seen)


def top_n(data: Interactions, scores: np.ndarray, n: int = 10) -> pd.DataFrame:
    """Top n unseen movies per user (ties by movie id): user_id, rank, movie_id, score."""
    masked = np.where(data.seen, -np.inf, np.broadcast_to(scores, data.matrix.shape))
    n = min(n, masked.shape[1])
    order = np.lexsort((np.broadcast_to(data.item_ids, masked.shape), -masked), axis=1)[:, :n]
    rows = np.repeat(np.arange(len(data.user_ids)), n)
    cols = order.ravel()
    out = pd.DataFrame(
        {
            "user_id": data.user_ids[rows],
            "rank": np.tile(np.arange(1, n + 1), len(data.user_ids)),
            "movie_id": data.item_ids[cols],
            "score": masked[rows, cols],
        }
    )
    return out[np.isfinite(out["score"])].reset_index(drop=True)
