"""Hyper-parameter search: SVD by cross-validated RMSE, the served ranking by validation NDCG@10.

Both searches see only the training part of the per-user chronological split,
so the hold-out that ``model_metrics`` reports was never used to choose anything.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
from surprise import SVD, Dataset, Reader
from surprise.model_selection import GridSearchCV, KFold, RandomizedSearchCV

from movie_assets.model import evaluation, ranking, svd
from movie_assets.model.svd import RATING_SCALE

SVD_GRID = {
    "n_factors": [50, 100, 150],
    "n_epochs": [40, 60],
    "lr_all": [0.005, 0.007, 0.01],
    "reg_all": [0.06, 0.08, 0.1, 0.12],
}
RANKING_GRID = {"ease_lambda": [50.0, 100.0, 300.0], "svd_weight": [0.0, 0.1, 0.25]}

# One fit per core: the searches are the longest steps of a build.
N_JOBS = max(1, min(2, os.cpu_count() or 1))

COLUMNS = ["search", "candidate", "params", "metric", "mean_score", "std_score", "rank", "chosen"]


def search_svd(
    ratings: pd.DataFrame,
    grid: dict[str, list],
    method: str = "random",
    n_iter: int = 10,
    cv: int = 3,
    seed: int = 0,
) -> tuple[dict, pd.DataFrame]:
    """GridSearchCV or RandomizedSearchCV over SVD on RMSE; returns the best params and all rows."""
    if len(ratings) <= cv:
        raise ValueError(
            f"a {cv}-fold search needs more than {cv} ratings; this snapshot has {len(ratings)}"
        )
    # Same rows in the same order, and a seeded SVD per candidate: the same search every time.
    rows_in_order = ratings[["user_id", "movie_id", "rating"]].sort_values(["user_id", "movie_id"])
    data = Dataset.load_from_df(rows_in_order, Reader(rating_scale=RATING_SCALE))
    grid = {**grid, "random_state": [seed]}
    folds = KFold(n_splits=cv, random_state=seed, shuffle=True)
    common = {"measures": ["rmse", "mae"], "cv": folds, "n_jobs": N_JOBS, "joblib_verbose": 0}
    if method == "grid":
        search = GridSearchCV(SVD, grid, **common)
    else:
        # Surprise 1.1.5 samples an all-list grid with the global numpy RNG and ignores
        # random_state there, so the candidates are drawn under a seeded, restored global state.
        state = np.random.get_state()
        np.random.seed(seed)
        try:
            search = RandomizedSearchCV(SVD, grid, n_iter=n_iter, random_state=seed, **common)
        finally:
            np.random.set_state(state)
    search.fit(data)
    res = search.cv_results
    unseeded = [{k: v for k, v in p.items() if k != "random_state"} for p in res["params"]]
    best = {k: v for k, v in search.best_params["rmse"].items() if k != "random_state"}
    rows = pd.DataFrame(
        {
            "search": f"svd_{method}_search_cv{cv}",
            "candidate": np.arange(len(res["params"])),
            "params": [json.dumps(p, sort_keys=True) for p in unseeded],
            "metric": "rmse",
            "mean_score": res["mean_test_rmse"],
            "std_score": res["std_test_rmse"],
            "rank": res["rank_test_rmse"],
        }
    )
    rows["chosen"] = rows["params"] == json.dumps(best, sort_keys=True)
    # Surprise samples candidates in an order that varies between runs: number them canonically.
    rows = rows.sort_values("params", ignore_index=True).assign(candidate=lambda r: r.index)
    return best, rows


def search_ranking(
    ratings: pd.DataFrame, svd_params: dict, grid: dict[str, list], seed: int = 0
) -> tuple[dict, pd.DataFrame]:
    """Every (EASE lambda, SVD weight) pair scored by NDCG@10 on an inner per-user hold-out."""
    train, valid = evaluation.per_user_holdout(ratings)
    data = ranking.Interactions.from_ratings(train)
    factors = svd.Factors.from_algo(svd.fit_svd(train, seed=seed, **svd_params))
    svd_z = ranking.standardize(ranking.svd_scores(data, factors), data.seen)
    keys = list(grid)
    records = []
    for lam in grid["ease_lambda"]:
        ease_z = ranking.standardize(ranking.ease_scores(data, lam), data.seen)
        for weight in grid["svd_weight"]:
            top = ranking.top_n(data, ease_z + weight * svd_z)
            metrics = evaluation.ranking_metrics(top, valid, data.popularity, len(data.item_ids))
            params = {"ease_lambda": lam, "svd_weight": weight}
            records.append({"params": {k: params[k] for k in keys}, **metrics})
    frame = pd.DataFrame(records)
    # With no validation hits at all (tiny data) every NDCG is undefined: keep the first candidate.
    best_at = int(frame["ndcg_at_10"].fillna(-1.0).idxmax())
    rows = pd.DataFrame(
        {
            "search": "ranking_grid_inner_holdout",
            "candidate": np.arange(len(frame)),
            "params": [json.dumps(p, sort_keys=True) for p in frame["params"]],
            "metric": "ndcg_at_10",
            "mean_score": frame["ndcg_at_10"],
            "std_score": np.nan,
            "rank": frame["ndcg_at_10"]
            .fillna(-1.0)
            .rank(ascending=False, method="min")
            .astype(int),
            "chosen": np.arange(len(frame)) == best_at,
        }
    )
    return frame["params"].iloc[best_at], rows


def chosen(table: pd.DataFrame, search_prefix: str) -> dict:
    """The chosen params of one search, read back from the svd_tuning table."""
    rows = table[table["search"].str.startswith(search_prefix) & table["chosen"].astype(bool)]
    if rows.empty:
        raise LookupError(f"svd_tuning has no chosen candidate for {search_prefix}")
    return json.loads(rows["params"].iloc[0])
