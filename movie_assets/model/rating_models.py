"""The rating models compared in ``model_metrics``, all Surprise algorithms trained on frames.

Ids stay integers from training to prediction (mixing int and str
ids makes biased SVD silently return the global mean).

The most accurate model is a stacked blend (``stacked_predictions``): a linear
regression over the members' predictions, each also weighted by how many
training ratings the user and the movie have (feature-weighted linear stacking,
Sill et al. 2009). Its weights are fitted on an inner hold-out of the training
data only, never on the test side.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
KNN_USER_OPTIONS = {
    "k": 40,
    "sim_options": {"name": "pearson_baseline", "user_based": True, "shrinkage": 100},
}

# The stacked blend's members, its inner hold-out share and the name it is reported under.
STACK_MEMBERS = ("svd_tuned", "knn_baseline", "knn_baseline_user", "baseline_only")
STACK_HOLDOUT = 0.1
STACKED = "stacked_blend"


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
    svd_params: dict, seed: int = 0, knn: bool = True, stacked: bool = False
) -> dict[str, Callable[[], AlgoBase]]:
    """Name to a fresh, unfitted algorithm.

    ``knn`` off skips the slowest (item similarities); ``stacked`` adds every
    member of the stacked blend (item and user KNNBaseline included).
    """
    models = {
        "global_mean": GlobalMean,
        "baseline_only": lambda: BaselineOnly(verbose=False),
        "svd_default": lambda: SVD(random_state=seed),
        "svd_tuned": lambda: SVD(random_state=seed, **svd_params),
    }
    if knn or stacked:
        models["knn_baseline"] = lambda: KNNBaseline(**KNN_OPTIONS, verbose=False)
    if stacked:
        models["knn_baseline_user"] = lambda: KNNBaseline(**KNN_USER_OPTIONS, verbose=False)
    return models


# A fixed-weight average needs no fitting on test data; both members are in the table too.
ENSEMBLE = {"svd_tuned": 0.5, "knn_baseline": 0.5}


def stack_features(
    predictions: Sequence[np.ndarray], user_support: np.ndarray, item_support: np.ndarray
) -> np.ndarray:
    """Columns: 1, each prediction, each prediction times s_u and s_i, then s_u and s_i.

    s = (log(1 + training ratings of the user or movie) - 4) / 2, roughly centred
    and scaled, so the blend can trust a member more where it has more data.
    """
    preds = [np.asarray(p, dtype=float) for p in predictions]
    supports = [
        (np.log1p(np.asarray(s, dtype=float)) - 4.0) / 2.0 for s in (user_support, item_support)
    ]
    columns = [np.ones(len(preds[0])), *preds]
    for s in supports:
        columns += [p * s for p in preds]
    return np.column_stack([*columns, *supports])


def fit_blend(features: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Least-squares weights of the stacking features."""
    weights, *_ = np.linalg.lstsq(features, np.asarray(actual, dtype=float), rcond=None)
    return weights


def supports(train: pd.DataFrame, pairs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Training ratings of each pair's user and movie (0 when unknown)."""
    users = train.groupby("user_id").size().reindex(pairs["user_id"], fill_value=0)
    items = train.groupby("movie_id").size().reindex(pairs["movie_id"], fill_value=0)
    return users.to_numpy(), items.to_numpy()


def inner_split(
    train: pd.DataFrame, fraction: float = STACK_HOLDOUT, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A random share of the training rows to fit the blend on; the rest trains its members."""
    held = np.random.default_rng(seed).random(len(train)) < fraction
    return train[~held], train[held]


def stacked_predictions(
    models: dict[str, Callable[[], AlgoBase]],
    train: pd.DataFrame,
    pairs: pd.DataFrame,
    members: Sequence[str] = STACK_MEMBERS,
    fitted: dict[str, np.ndarray] | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The blend's predictions of ``pairs`` (user_id, movie_id; ratings unused) and its weights.

    Members fitted on the inner training part predict the inner hold-out; the
    blend is fitted there. The members refitted on all of ``train`` (or their
    predictions of ``pairs``, passed as ``fitted``) then feed the blend.
    """
    inner_train, inner_held = inner_split(train, seed=seed)
    data = trainset(inner_train)
    held = [_fit_predict(models[name], data, inner_held) for name in members]
    weights = fit_blend(
        stack_features(held, *supports(inner_train, inner_held)), inner_held["rating"]
    )
    fitted = fitted or {}
    full = trainset(train) if any(name not in fitted for name in members) else None
    outer = [fitted[n] if n in fitted else _fit_predict(models[n], full, pairs) for n in members]
    blended = stack_features(outer, *supports(train, pairs)) @ weights
    return np.clip(blended, *RATING_SCALE), weights


def _fit_predict(make: Callable[[], AlgoBase], data, pairs: pd.DataFrame) -> np.ndarray:
    algo = make()
    algo.fit(data)
    return predict(algo, pairs)


def evaluate(
    models: dict[str, Callable[[], AlgoBase]],
    splits: list[tuple[pd.DataFrame, pd.DataFrame]],
    stacked: bool = False,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """Rating metrics of each model, averaged over the splits, plus the ensembles.

    The fixed SVD+KNN average when both are among ``models``; the stacked
    blend when ``stacked`` (its members must be among ``models``). Splits are
    independent, so they run one per core.
    """
    jobs = min(len(splits), N_JOBS)
    scored = Parallel(n_jobs=jobs)(
        delayed(_score_split)(models, tr, te, stacked, seed + i)
        for i, (tr, te) in enumerate(splits)
    )
    per_model: dict[str, list[dict[str, float]]] = {}
    for split_scores in scored:
        for name, metrics in split_scores.items():
            per_model.setdefault(name, []).append(metrics)
    return {name: pd.DataFrame(scores).mean().to_dict() for name, scores in per_model.items()}


def _score_split(
    models: dict[str, Callable[[], AlgoBase]],
    train: pd.DataFrame,
    test: pd.DataFrame,
    stacked: bool = False,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    data = trainset(train)
    predictions = {name: _fit_predict(make, data, test) for name, make in models.items()}
    if all(name in predictions for name in ENSEMBLE):
        predictions["ensemble_svd_knn"] = sum(w * predictions[n] for n, w in ENSEMBLE.items())
    if stacked:
        pairs = test[["user_id", "movie_id"]]
        predictions[STACKED], _ = stacked_predictions(
            models, train, pairs, fitted=predictions, seed=seed
        )
    return {
        name: evaluation.rating_metrics(test["rating"], predicted)
        for name, predicted in predictions.items()
    }
