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

import numpy as np
import pandas as pd

from movie_assets.model import als
from movie_assets.model.svd import Factors

# Saved MLlib models live under the engine's warehouse, beside its tables.
MODELS = "_models"


def baseline(ratings, **options) -> tuple[float, pd.Series, pd.Series]:
    """``als.baseline`` in the engine: global mean, user and item biases by id.

    Each half-epoch is checkpointed: without it every bias table carries the plan of
    all the epochs before it, and Spark's planning time grows with each epoch (ten
    epochs did not finish in minutes on 1,600 ratings).
    """
    from pyspark.sql import functions as F

    opts = {**als.BASELINE, **options}
    data = ratings.select(
        F.col("user_id").cast("long").alias("user_id"),
        F.col("movie_id").cast("long").alias("movie_id"),
        F.col("rating").cast("double").alias("rating"),
    )
    mu = float(data.agg(F.avg("rating")).first()[0])
    bu = data.select("user_id").distinct().withColumn("bias", F.lit(0.0))
    for _ in range(opts["n_epochs"]):  # items first, as Surprise does
        bi = _biases(data, bu, "movie_id", "user_id", opts["reg_i"], mu)
        bu = _biases(data, bi, "user_id", "movie_id", opts["reg_u"], mu)
    return mu, _by_id(bu, "user_id"), _by_id(bi, "movie_id")


def _biases(ratings, other, key: str, other_key: str, reg: float, mu: float):
    """One half-epoch: each ``key``'s regularized mean residual given the other side's biases."""
    from pyspark.sql import functions as F

    sums = (
        ratings.join(other, other_key)
        .groupBy(key)
        .agg(
            F.sum(F.col("rating") - mu - F.col("bias")).alias("s"),
            F.count("*").alias("n"),
        )
    )
    return sums.select(key, (F.col("s") / (reg + F.col("n"))).alias("bias")).localCheckpoint()


def _by_id(biases, key: str) -> pd.Series:
    return biases.toPandas().set_index(key)["bias"].astype("float64").sort_index()


def fit(
    spark_df,
    params: dict | None = None,
    seed: int = 0,
    baseline_options: dict | None = None,
):
    """MLlib ALS on the snapshot's ratings; returns (Factors, the fitted MLlib model).

    ``spark_df`` is the ratings as a Spark DataFrame (MLlib takes DataFrames, not Ibis
    expressions). Ids must fit MLlib's 32-bit integers.
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
    mu, bu, bi = baseline(spark_df, **(baseline_options or {}))
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


def model_path(root: str, day) -> str:
    """Where the day's MLlib model is saved, beside the engine tables (MLlib's own format)."""
    return f"{root.rstrip('/')}/{MODELS}/recommender/as_of={day.isoformat()}"


def recommend(model, ratings, n: int = 10):
    """Top n unseen movies per user, ranked by MLlib; most-popular for cold users.

    A Spark DataFrame of (user_id, rank, movie_id, score, source). MLlib ranks rated
    movies too, so a warm user is asked for n + their rated count (rounded up to a
    power of two: one ``recommendForUserSubset`` job per bucket, about log2 of the
    heaviest user's count); dropping the rated ones leaves at least n. One
    ``recommendForAllUsers`` with the heaviest user's count would score that many
    movies for every user. Ties in score go to the lower movie id, as in ``als.top_k``.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    rated = ratings.select(
        F.col("user_id").cast("long").alias("user_id"),
        F.col("movie_id").cast("long").alias("movie_id"),
    )
    per_user = rated.groupBy("user_id").agg(F.count("*").alias("rated"))
    items = model.itemFactors.count()
    warm = per_user.filter(F.col("rated") >= als.MIN_USER_RATINGS).withColumn(
        "k", F.least(F.pow(2, F.ceil(F.log2(F.col("rated") + n))).cast("int"), F.lit(items))
    )
    personal = None
    for (k,) in warm.select("k").distinct().collect():
        users = warm.filter(F.col("k") == k).select(F.col("user_id").cast("int").alias("user_id"))
        part = model.recommendForUserSubset(users, int(k))
        personal = part if personal is None else personal.unionByName(part)
    candidates = []
    if personal is not None:
        picked = personal.select("user_id", F.explode("recommendations").alias("r"))
        candidates.append(
            picked.select(
                F.col("user_id").cast("long").alias("user_id"),
                F.col("r.movie_id").cast("long").alias("movie_id"),
                F.col("r.rating").cast("double").alias("score"),
                F.lit("personalized").alias("source"),
            )
        )
    # A cold user has rated fewer than MIN_USER_RATINGS movies: the most rated n + that many
    # hold n unseen ones.
    popular = (
        rated.groupBy("movie_id")
        .agg(F.count("*").cast("double").alias("score"))
        .orderBy(F.desc("score"), "movie_id")
        .limit(n + als.MIN_USER_RATINGS)
    )
    cold = per_user.filter(F.col("rated") < als.MIN_USER_RATINGS).select("user_id")
    candidates.append(cold.crossJoin(popular).withColumn("source", F.lit("popular_cold_start")))
    every = candidates[0]
    for more in candidates[1:]:
        every = every.unionByName(more)
    unseen = every.join(rated, ["user_id", "movie_id"], "left_anti")
    order = Window.partitionBy("user_id").orderBy(F.desc("score"), "movie_id")
    ranked = unseen.withColumn("rank", F.row_number().over(order).cast("long"))
    return ranked.filter(F.col("rank") <= n).select(
        "user_id", "rank", "movie_id", "score", "source"
    )


def violations(top, ratings):
    """The ``unseen_only`` and ``every_user`` checks' failing rows, computed by the engine."""
    from pyspark.sql import functions as F

    rated = ratings.select(
        F.col("user_id").cast("long").alias("user_id"),
        F.col("movie_id").cast("long").alias("movie_id"),
    )
    seen = top.join(rated, ["user_id", "movie_id"]).toPandas()
    movies = rated.select("movie_id").distinct().count()
    per_user = rated.groupBy("user_id").agg(F.count("*").alias("rated"))
    could = per_user.filter(F.col("rated") < movies).select("user_id")
    missing = could.join(top.select("user_id").distinct(), "user_id", "left_anti").toPandas()
    return seen, missing
