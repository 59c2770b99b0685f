"""Hold-out split and rating metrics, written out so tests can check them by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd


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


def rating_metrics(actual, predicted) -> dict[str, float]:
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
