"""The rating models compared in ``model_metrics``, all Surprise algorithms trained on frames.

Ids stay integers from training to prediction (FIELD_NOTES: mixing int and str
ids makes biased SVD silently return the global mean).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from surprise import SVD, AlgoBase, BaselineOnly, Dataset, KNNBaseline, Reader

from movie_assets.model import evaluation
from movie_assets.model.svd import RATING_SCALE
from movie_assets.model.tuning import N_JOBS

KNN_OPTIONS = {
    "k": 40,
    "sim_options": {"name": "pearson_baseline", "user_based": False, "shrinkage": 100},
}


class GlobalMean(AlgoBase):
    """Every prediction is the training mean: the floor any model must beat."""

    def estimate(self, u, i):
        return self.trainset.global_mean


def trainset(ratings: pd.DataFrame):
    data = Dataset.load_from_df(
        ratings[["user_id", "movie_id", "rating"]], Reader(rating_scale=RATING_SCALE)
    )
    return data.build_full_trainset()


def predict(algo: AlgoBase, pairs: pd.DataFrame) -> np.ndarray:
    pairs = zip(pairs["user_id"], pairs["movie_id"], strict=True)
    return np.array([algo.predict(int(u), int(i)).est for u, i in pairs])


def factories(
    svd_params: dict, seed: int = 0, knn: bool = True
) -> dict[str, Callable[[], AlgoBase]]:
    """Name to a fresh, unfitted algorithm; ``knn`` off skips the slowest (item similarities)."""
    models = {
        "global_mean": GlobalMean,
        "baseline_only": lambda: BaselineOnly(verbose=False),
        "svd_default": lambda: SVD(random_state=seed),
        "svd_tuned": lambda: SVD(random_state=seed, **svd_params),
    }
    if knn:
        models["knn_baseline"] = lambda: KNNBaseline(**KNN_OPTIONS, verbose=False)
    return models


# A fixed-weight average needs no fitting on test data; both members are in the table too.
ENSEMBLE = {"svd_tuned": 0.5, "knn_baseline": 0.5}


def evaluate(
    models: dict[str, Callable[[], AlgoBase]],
    splits: list[tuple[pd.DataFrame, pd.DataFrame]],
) -> dict[str, dict[str, float]]:
    """Rating metrics of each model, averaged over the splits, plus the SVD+KNN ensemble.

    Splits are independent, so they run one per core.
    """
    jobs = min(len(splits), N_JOBS)
    scored = Parallel(n_jobs=jobs)(delayed(_score_split)(models, tr, te) for tr, te in splits)
    per_model: dict[str, list[dict[str, float]]] = {}
    for split_scores in scored:
        for name, metrics in split_scores.items():
            per_model.setdefault(name, []).append(metrics)
    return {name: pd.DataFrame(scores).mean().to_dict() for name, scores in per_model.items()}


def _score_split(
    models: dict[str, Callable[[], AlgoBase]], train: pd.DataFrame, test: pd.DataFrame
) -> dict[str, dict[str, float]]:
    data = trainset(train)
    predictions = {}
    for name, make in models.items():
        algo = make()
        algo.fit(data)
        predictions[name] = predict(algo, test)
    if all(name in predictions for name in ENSEMBLE):
        predictions["ensemble_svd_knn"] = sum(w * predictions[n] for n, w in ENSEMBLE.items())
    return {
        name: evaluation.rating_metrics(test["rating"], predicted)
        for name, predicted in predictions.items()
    }
