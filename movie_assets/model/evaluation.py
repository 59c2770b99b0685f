"""Splits and metrics, written out so tests can check them by hand.

The ranking metrics follow the one definition pinned in docs/evaluation.md:
every held-out movie of a user is relevant, candidates are the whole training
catalogue minus the movies the user rated in training, and each metric is a
mean over the users who have held-out ratings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

K = 10


def per_user_holdout(
    ratings: pd.DataFrame, fraction: float = 0.1, min_ratings: int = 5
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each user's latest ratings (at least one) form the test set.

    Most users rated everything in one session, so a global time cut leaves few
    test users with any history; a per-user cut keeps every user in training.
    Users with fewer than ``min_ratings`` ratings stay wholly in training.
    """
    ordered = ratings.sort_values(["user_id", "rated_at", "movie_id"], kind="stable")
    position_from_end = ordered.groupby("user_id").cumcount(ascending=False)
    size = ordered.groupby("user_id")["rating"].transform("size")
    n_test = np.maximum(1, np.floor(size * fraction)).astype(int)
    is_test = (size >= min_ratings) & (position_from_end < n_test)
    return ordered[~is_test].copy(), ordered[is_test].copy()


def random_folds(
    ratings: pd.DataFrame, n_splits: int = 5, seed: int = 0
) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """Shuffled k-fold over rating rows, the protocol of Surprise's published table."""
    order = np.random.default_rng(seed).permutation(len(ratings))
    parts = np.array_split(order, n_splits)
    return [
        (ratings.iloc[np.concatenate(parts[:i] + parts[i + 1 :])], ratings.iloc[part])
        for i, part in enumerate(parts)
    ]


def rating_metrics(actual, predicted) -> dict[str, float]:
    """RMSE, MAE, MSE and MAPE (in percent; ratings are never zero)."""
    actual = np.asarray(actual, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    err = predicted - actual
    mse = float(np.mean(err**2))
    return {
        "rmse": float(np.sqrt(mse)),
        "mae": float(np.mean(np.abs(err))),
        "mse": mse,
        "mape": float(np.mean(np.abs(err) / actual) * 100),
    }


def ranking_metrics(
    top: pd.DataFrame,
    relevant: pd.DataFrame,
    popularity: pd.Series,
    catalogue_size: int,
    k: int = K,
) -> dict[str, float]:
    """precision, recall, NDCG and MAP at k, coverage and mean popularity of a top-k list.

    ``top`` has user_id, rank (1..k) and movie_id; ``relevant`` has the held-out
    user_id, movie_id pairs; ``popularity`` is training ratings per movie_id.
    Users in ``relevant`` without a list count as all misses.
    """
    top = top[top["rank"] <= k]
    n_rel = relevant.groupby("user_id").size()
    users = n_rel.index
    pairs = relevant[["user_id", "movie_id"]].drop_duplicates()
    hits = top.merge(pairs, on=["user_id", "movie_id"])
    hits = hits[hits["user_id"].isin(users)].sort_values(["user_id", "rank"])
    hit_count = hits.groupby("user_id").size().reindex(users, fill_value=0)

    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (
        hits.assign(gain=discounts[hits["rank"].to_numpy() - 1])
        .groupby("user_id")["gain"]
        .sum()
        .reindex(users, fill_value=0.0)
    )
    ideal = np.cumsum(discounts)[np.minimum(n_rel.to_numpy(), k) - 1]

    # AP@k: precision at the rank of each hit, summed, over min(|relevant|, k).
    hits = hits.assign(precision_at_hit=(hits.groupby("user_id").cumcount() + 1) / hits["rank"])
    ap_sum = hits.groupby("user_id")["precision_at_hit"].sum().reindex(users, fill_value=0.0)

    served = top[top["user_id"].isin(users)]
    return {
        f"precision_at_{k}": float((hit_count / k).mean()),
        f"recall_at_{k}": float((hit_count / n_rel).mean()),
        f"ndcg_at_{k}": float((dcg / ideal).mean()),
        f"map_at_{k}": float((ap_sum / np.minimum(n_rel, k)).mean()),
        # No training items at all (a tiny first day): coverage is undefined, not an error.
        "catalogue_coverage": (
            served["movie_id"].nunique() / catalogue_size if catalogue_size else float("nan")
        ),
        "mean_popularity": float(
            popularity.reindex(served["movie_id"]).fillna(0).mean() if len(served) else 0.0
        ),
    }
