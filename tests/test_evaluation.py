"""Metrics against hand-computed examples; the splits against leakage on the real ratings."""

import math

import numpy as np
import pandas as pd
import pytest

from benchmarks.recommender import load as load_embedded
from movie_assets.model import evaluation


@pytest.fixture(scope="module")
def ratings() -> pd.DataFrame:
    return load_embedded()


def test_rating_metrics_by_hand():
    got = evaluation.rating_metrics([4.0, 2.0], [3.0, 3.0])
    assert got == pytest.approx({"rmse": 1.0, "mae": 1.0, "mse": 1.0, "mape": 37.5})
    got = evaluation.rating_metrics([5.0, 1.0, 2.0], [4.0, 1.0, 4.0])
    assert got["mse"] == pytest.approx(5 / 3)
    assert got["rmse"] == pytest.approx(math.sqrt(5 / 3))
    assert got["mape"] == pytest.approx((1 / 5 + 0 + 1) / 3 * 100)


def test_ranking_metrics_by_hand():
    top = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 2, 2, 2, 9, 9, 9],
            "rank": [1, 2, 3] * 3,
            "movie_id": [10, 20, 30, 10, 50, 60, 70, 80, 90],
        }
    )
    relevant = pd.DataFrame(
        {"user_id": [1, 1, 2, 2, 2, 2, 3], "movie_id": [20, 40, 50, 60, 70, 80, 10]}
    )
    popularity = pd.Series({10: 8, 20: 4, 30: 2, 50: 1, 60: 1, 70: 100})
    got = evaluation.ranking_metrics(top, relevant, popularity, catalogue_size=10, k=3)

    # user 1: hit at rank 2 of 2 relevant; user 2: hits at ranks 2 and 3 of 4; user 3: no list.
    # user 9 has no held-out ratings, so neither its list nor its movies count.
    d2, d3 = 1 / math.log2(3), 1 / math.log2(4)
    ndcg1 = d2 / (1 + d2)
    ndcg2 = (d2 + d3) / (1 + d2 + d3)
    ap1 = (1 / 2) / 2
    ap2 = (1 / 2 + 2 / 3) / 3
    assert got == pytest.approx(
        {
            "precision_at_3": (1 / 3 + 2 / 3 + 0) / 3,
            "recall_at_3": (1 / 2 + 2 / 4 + 0) / 3,
            "ndcg_at_3": (ndcg1 + ndcg2) / 3,
            "map_at_3": (ap1 + ap2) / 3,
            "catalogue_coverage": 5 / 10,
            "mean_popularity": (8 + 4 + 2 + 8 + 1 + 1) / 6,
        }
    )


def test_perfect_list_scores_one():
    top = pd.DataFrame({"user_id": [1] * 3, "rank": [1, 2, 3], "movie_id": [5, 6, 7]})
    relevant = pd.DataFrame({"user_id": [1] * 5, "movie_id": [5, 6, 7, 8, 9]})
    got = evaluation.ranking_metrics(top, relevant, pd.Series(dtype=float), 10, k=3)
    assert got["precision_at_3"] == got["ndcg_at_3"] == got["map_at_3"] == pytest.approx(1.0)
    assert got["recall_at_3"] == pytest.approx(3 / 5)


def test_chronological_holdout_has_no_leakage(ratings):
    train, test = evaluation.per_user_holdout(ratings)
    assert len(train) + len(test) == len(ratings)
    pairs = lambda f: set(zip(f["user_id"], f["movie_id"], strict=True))  # noqa: E731
    assert not pairs(train) & pairs(test)
    # Every held-out rating is at least as late as the same user's latest training rating.
    last_train = train.groupby("user_id")["rated_at"].max()
    first_test = test.groupby("user_id")["rated_at"].min()
    assert (first_test >= last_train.reindex(first_test.index)).all()
    sizes = ratings.groupby("user_id").size()
    expected = np.maximum(1, np.floor(sizes[sizes >= 5] * 0.1)).astype(int)
    assert test.groupby("user_id").size().sort_index().tolist() == expected.sort_index().tolist()


def test_random_folds_partition_the_rows(ratings):
    folds = evaluation.random_folds(ratings, n_splits=5, seed=0)
    test_index = np.concatenate([test.index.to_numpy() for _, test in folds])
    assert np.array_equal(np.sort(test_index), np.sort(ratings.index.to_numpy()))
    for train, test in folds:
        assert not set(train.index) & set(test.index)
        assert len(train) + len(test) == len(ratings)
