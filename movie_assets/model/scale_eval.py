"""Evaluation and tuning of the scale path, with the pinned definitions of docs/evaluation.md.

Same per-user chronological hold-out, same candidates (the ranked catalogue
minus the user's training movies), same metrics (``evaluation.ranking_metrics``);
the lists are scored for a seeded sample of the users with held-out ratings,
because every user's list costs as much as the daily recommendations.
"""

from __future__ import annotations

import json
from itertools import product

import numpy as np
import pandas as pd

from movie_assets.model import als, evaluation, ranking
from movie_assets.model.arrays import Indexed, RatingArrays, per_user_holdout, sample_users

# Users whose lists are scored: the metrics' standard error at P@10 ~ 0.05 is ~ 0.002.
EVAL_USERS = 10_000
# Users whose training ratings train the evaluated ALS (a third of ml-25m's): a full
# second fit would double the model layer's time; item factors from fewer users make
# the figures a slight underestimate of the served model.
EVAL_TRAIN_USERS = 50_000
# The grid's fits see only this many users' training ratings, so tuning stays bounded.
TUNE_USERS = 10_000
ALS_GRID = {"factors": [32, 64], "regularization": [0.05, 0.5], "alpha": [1.0]}
ALS_SEARCH = "als_grid_inner_holdout"


def _lists(
    name: str,
    train: RatingArrays,
    users: np.ndarray,
    item_ids: np.ndarray,
    rows,
) -> pd.DataFrame:
    seen = als.seen_matrix(train, users, item_ids)
    return als.ranked_lists(users, item_ids, rows, seen).assign(model=name)


def ranking_lists(
    train: RatingArrays,
    users: np.ndarray,
    factors,
    lam: float | None = ranking.EASE_LAMBDA,
    trainers: np.ndarray | None = None,
) -> tuple[dict[str, pd.DataFrame], pd.Series, int]:
    """Top-10 lists of ``users`` for most-popular, ALS and (unless lam is None) EASE.

    The catalogue and popularity count all of ``train``; EASE's Gram matrix counts
    the ``trainers`` (default: every user), over the catalogue's at most 5,000 movies.
    """
    item_ids, popularity = als.catalogue(train)
    popular = popularity.reindex(item_ids).to_numpy(dtype=float)
    known = np.isin(users, factors.user_ids)
    users = users[known]
    lists = {
        "most_popular": _lists(
            "most_popular",
            train,
            users,
            item_ids,
            lambda a, b: np.broadcast_to(popular, (b - a, len(popular))),
        ),
        "als": _lists("als", train, users, item_ids, als.als_rows(factors, users, item_ids)),
    }
    if lam is not None:
        gram_users = np.unique(train.user_id) if trainers is None else trainers
        x = als.seen_matrix(train, gram_users, item_ids)
        weights = als.ease_weights(x, lam)
        mine = als.seen_matrix(train, users, item_ids)
        lists["ease"] = _lists("ease", train, users, item_ids, lambda a, b: mine[a:b] @ weights)
    return lists, popularity, len(item_ids)


def evaluate(
    data: RatingArrays,
    params: dict,
    seed: int = 0,
    n_users: int = EVAL_USERS,
    n_train_users: int = EVAL_TRAIN_USERS,
) -> pd.DataFrame:
    """model, protocol, metric, value on the per-user chronological hold-out.

    Rating metrics (global mean and the baseline that gives the predicted rating)
    over every held-out rating. Ranking metrics over ``n_users`` sampled test users,
    with ALS and EASE trained on the training side of ``n_train_users`` sampled users
    (the ranked ones among them); most-popular counts every training rating.
    """
    train_mask, test_mask = per_user_holdout(data)
    train, test = data.take(train_mask), data.take(test_mask)
    trainers = sample_users(data, n_train_users, seed)
    ranked = sample_users(test.take(np.isin(test.user_id, trainers)), n_users, seed)
    factors = als.fit(train.take(np.isin(train.user_id, trainers)), params, seed)
    rows = []
    idx = Indexed.of(train)
    mu, bu, bi = als.baseline(idx, train.rating)
    known_u = np.isin(test.user_id, idx.user_ids)
    known_i = np.isin(test.movie_id, idx.item_ids)
    u = np.searchsorted(idx.user_ids, test.user_id)
    i = np.searchsorted(idx.item_ids, test.movie_id)
    est = mu + np.where(known_u, bu[np.minimum(u, len(bu) - 1)], 0.0)
    est += np.where(known_i, bi[np.minimum(i, len(bi) - 1)], 0.0)
    predictions = {
        "global_mean": np.full(len(test), mu),
        "baseline_only": np.clip(est, *als.RATING_SCALE),
    }
    for name, predicted in predictions.items():
        for metric, value in evaluation.rating_metrics(test.rating, predicted).items():
            rows.append((name, metric, value))
    lists, popularity, size = ranking_lists(train, ranked, factors, trainers=trainers)
    in_sample = np.isin(test.user_id, ranked)
    relevant = pd.DataFrame(
        {"user_id": test.user_id[in_sample], "movie_id": test.movie_id[in_sample]}
    )
    for name, top in lists.items():
        for metric, value in evaluation.ranking_metrics(top, relevant, popularity, size).items():
            rows.append((name, metric, value))
    return pd.DataFrame(rows, columns=["model", "metric", "value"]).assign(
        protocol="per_user_chronological", sampled_users=len(ranked)
    )


def tune(
    data: RatingArrays,
    grid: dict[str, list] | None = None,
    seed: int = 0,
    n_users: int = TUNE_USERS,
) -> tuple[dict, pd.DataFrame]:
    """Every ALS candidate scored by NDCG@10 on an inner per-user hold-out of the training side.

    Only a seeded sample of users' training ratings is used, so the grid's cost is
    bounded whatever the data size; the hold-out of ``model_metrics`` is never seen.
    """
    grid = grid or ALS_GRID
    train_mask, _ = per_user_holdout(data)
    train = data.take(train_mask)
    train = train.take(np.isin(train.user_id, sample_users(train, n_users, seed)))
    inner_mask, valid_mask = per_user_holdout(train)
    inner, valid = train.take(inner_mask), train.take(valid_mask)
    relevant = pd.DataFrame({"user_id": valid.user_id, "movie_id": valid.movie_id})
    users = np.unique(valid.user_id)
    keys = list(grid)
    candidates = [dict(zip(keys, v, strict=True)) for v in product(*(grid[k] for k in keys))]
    records = []
    for params in candidates:
        factors = als.fit(inner, {**als.DEFAULT_PARAMS, **params}, seed)
        lists, popularity, size = ranking_lists(inner, users, factors, lam=None)
        metrics = evaluation.ranking_metrics(lists["als"], relevant, popularity, size)
        records.append({"params": params, "ndcg_at_10": metrics["ndcg_at_10"]})
    frame = pd.DataFrame(records)
    score = frame["ndcg_at_10"].fillna(-1.0)
    best_at = int(score.idxmax())
    rows = pd.DataFrame(
        {
            "search": ALS_SEARCH,
            "candidate": np.arange(len(frame)),
            "params": [json.dumps(p, sort_keys=True) for p in frame["params"]],
            "metric": "ndcg_at_10",
            "mean_score": frame["ndcg_at_10"],
            "std_score": np.nan,
            "rank": score.rank(ascending=False, method="min").astype(int),
            "chosen": np.arange(len(frame)) == best_at,
        }
    )
    return frame["params"].iloc[best_at], rows
