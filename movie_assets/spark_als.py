"""The scale model on the cluster: Spark MLlib ALS, stored in the single-machine layout.

Same model as ``als.fit``: implicit-feedback ALS (Hu, Koren and Volinsky 2008) whose
confidence is 1 + alpha * rating, MLlib's own definition of ``alpha``, plus the
baseline biases of ``als.baseline`` (global mean, user and item bias, Surprise's
BaselineOnly ALS rules) for predicted stars. Both are computed where the ratings are;
only the factors (users + movies rows, not ratings) reach the Dagster process, as
``svd.Factors``, so ``Factors.to_table`` writes the ``recommender`` table exactly as
the single-machine path does and every downstream scorer reads it unchanged.

MLlib regularizes each user's and item's least-squares by its number of ratings
(ALS-WR), ``implicit`` does not: the same ``regularization`` is a different strength,
and the factors of the two libraries are not interchangeable numbers.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from movie_assets.model import als
from movie_assets.model.svd import Factors


def baseline(ratings: ir.Table, **options) -> tuple[float, pd.Series, pd.Series]:
    """``als.baseline`` as engine expressions: global mean, user and item biases by id."""
    opts = {**als.BASELINE, **options}
    mu = float(ratings.rating.mean().execute())
    bu = ratings.select("user_id").distinct().mutate(bias=ibis.literal(0.0))
    for _ in range(opts["n_epochs"]):  # items first, as Surprise does
        bi = _biases(ratings, bu, "movie_id", "user_id", opts["reg_i"], mu)
        bu = _biases(ratings, bi, "user_id", "movie_id", opts["reg_u"], mu)
    return mu, _by_id(bu, "user_id"), _by_id(bi, "movie_id")


def _biases(ratings: ir.Table, other: ir.Table, key: str, other_key: str, reg: float, mu: float):
    """One half-epoch: each ``key``'s regularized mean residual given the other side's biases."""
    joined = ratings.join(other, other_key)
    sums = joined.group_by(key).aggregate(
        s=(joined.rating - mu - joined.bias).sum(), n=joined.count()
    )
    return sums.select(key, bias=sums.s / (reg + sums.n)).cache()


def _by_id(biases: ir.Table, key: str) -> pd.Series:
    return biases.execute().set_index(key)["bias"].sort_index()


def fit(
    spark_df,
    ratings: ir.Table,
    params: dict | None = None,
    seed: int = 0,
    baseline_options: dict | None = None,
):
    """MLlib ALS on the snapshot's ratings; returns (Factors, the fitted MLlib model).

    ``spark_df`` is the same ratings as a Spark DataFrame (MLlib takes DataFrames, not
    Ibis expressions). Ids must fit MLlib's 32-bit integers.
    """
    from pyspark.ml.recommendation import ALS

    params = {**als.DEFAULT_PARAMS, **(params or {})}
    data = spark_df.selectExpr(
        "CAST(user_id AS INT) AS user_id", "CAST(movie_id AS INT) AS movie_id", "rating"
    )
    model = ALS(
        rank=params["factors"],
        regParam=params["regularization"],
        alpha=params["alpha"],
        maxIter=params["iterations"],
        implicitPrefs=True,
        seed=seed,
        userCol="user_id",
        itemCol="movie_id",
        ratingCol="rating",
    ).fit(data)
    mu, bu, bi = baseline(ratings, **(baseline_options or {}))
    users = _vectors(model.userFactors.toPandas())
    items = _vectors(model.itemFactors.toPandas())
    factors = Factors(
        global_mean=mu,
        user_ids=bu.index.to_numpy(dtype=np.int64),
        item_ids=bi.index.to_numpy(dtype=np.int64),
        bu=bu.to_numpy(dtype=np.float64),
        bi=bi.to_numpy(dtype=np.float64),
        pu=np.stack(users.reindex(bu.index).to_numpy()),
        qi=np.stack(items.reindex(bi.index).to_numpy()),
    )
    return factors, model


def _vectors(frame: pd.DataFrame) -> pd.Series:
    """MLlib's (id, features) rows as float64 vectors by id."""
    return frame.set_index("id")["features"].map(lambda v: np.asarray(v, dtype=np.float64))


def top_for_all_users(model, n: int = 10) -> pd.DataFrame:
    """MLlib's own top n per user over every movie (rated ones included), ranked 1..n."""
    recs = model.recommendForAllUsers(n).toPandas()
    rows = [
        (int(user), rank, int(item["movie_id"]), float(item["rating"]))
        for user, items in zip(recs["user_id"], recs["recommendations"], strict=True)
        for rank, item in enumerate(items, start=1)
    ]
    return pd.DataFrame(rows, columns=["user_id", "rank", "movie_id", "score"])
