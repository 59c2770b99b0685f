"""MLlib ALS stored in the single-machine layout: the factor table ranks as MLlib does.

The biases are checked against the baseline rules written out here with pandas; the
factors against MLlib's own ``recommendForAllUsers``, scored back from the stored
``recommender`` table with numpy.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from movie_assets.model.als import BASELINE
from movie_assets.model.svd import Factors
from movie_assets.schemas import TABLES, conform

pytestmark = pytest.mark.spark

DAY = date(2020, 3, 31)
# Fewer epochs than the model's ten: each is two Spark jobs, and the rules are the same.
EPOCHS = 3


@pytest.fixture(scope="module")
def ratings(tmp_path_factory) -> tuple[pd.DataFrame, str]:
    rng = np.random.default_rng(4)
    n = 2500
    frame = pd.DataFrame(
        {
            "user_id": rng.integers(1, 80, n) * 3,
            "movie_id": rng.zipf(1.3, n) % 150 + 1000,
            "rating": rng.integers(1, 11, n) / 2,
        }
    ).drop_duplicates(["user_id", "movie_id"], ignore_index=True)
    path = str(tmp_path_factory.mktemp("als") / "ratings.parquet")
    frame.to_parquet(path)
    return frame, path


@pytest.fixture(scope="module")
def fitted(ratings):
    from movie_assets import spark
    from movie_assets.model import spark_als

    _, path = ratings
    params = {"factors": 8, "iterations": 6, "regularization": 0.05, "alpha": 1.0}
    return spark_als.fit(
        spark.session().read.parquet(path),
        params,
        seed=1,
        baseline_options={"n_epochs": EPOCHS},
    )


def _baseline(frame: pd.DataFrame) -> tuple[float, pd.Series, pd.Series]:
    """Global mean and biases by the BaselineOnly ALS rules, items first."""
    mu = frame["rating"].mean()
    bu = pd.Series(0.0, index=sorted(frame["user_id"].unique()))
    for _ in range(EPOCHS):
        residual = frame["rating"] - mu - frame["user_id"].map(bu)
        grouped = residual.groupby(frame["movie_id"])
        bi = grouped.sum() / (BASELINE["reg_i"] + grouped.size())
        residual = frame["rating"] - mu - frame["movie_id"].map(bi)
        grouped = residual.groupby(frame["user_id"])
        bu = grouped.sum() / (BASELINE["reg_u"] + grouped.size())
    return mu, bu, bi


def test_biases_follow_the_baseline_rules(ratings, fitted):
    frame, _ = ratings
    factors, _ = fitted
    mu, bu, bi = _baseline(frame)
    assert factors.global_mean == pytest.approx(mu, rel=1e-12)
    assert factors.user_ids.tolist() == bu.index.tolist()
    assert factors.item_ids.tolist() == bi.index.tolist()
    assert np.allclose(factors.bu, bu.to_numpy(), rtol=1e-9, atol=1e-12)
    assert np.allclose(factors.bi, bi.to_numpy(), rtol=1e-9, atol=1e-12)


def test_the_stored_factors_rank_as_mllib_does(fitted):
    from movie_assets.model import spark_als

    factors, model = fitted
    table = conform(TABLES["recommender"], factors.to_table(DAY, model="als"))
    TABLES["recommender"].model.validate(table)
    stored = Factors.from_table(table)
    assert stored.pu.shape == (len(stored.user_ids), 8)
    scores = stored.pu @ stored.qi.T
    mllib = spark_als.top_for_all_users(model, 10)
    assert set(mllib["user_id"]) == set(stored.user_ids.tolist())
    for user, got in mllib.groupby("user_id"):
        row = scores[np.searchsorted(stored.user_ids, user)]
        # MLlib scores in float32: compare scores, and the ids where they are not near-tied.
        mine = np.sort(row)[::-1][:10]
        assert np.allclose(got["score"].to_numpy(), mine, rtol=1e-4, atol=1e-5), user
        picked = row[np.searchsorted(stored.item_ids, got["movie_id"].to_numpy())]
        assert np.allclose(picked, got["score"].to_numpy(), rtol=1e-4, atol=1e-5), user
