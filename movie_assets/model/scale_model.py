"""Where the scale model trains and ranks: in the Dagster process, or in the Spark engine.

The ``recommender`` and ``recommendations`` assets ask ``of(duckdb)`` and call the same
two methods on either answer, so their bodies do not change between engines. Both
write the same tables: the factors in ``Factors.to_table``'s layout, the top 10 in
the ``recommendations`` schema.

- ``InProcess``: ``implicit`` ALS on arrays read through DuckDB (als.py), warm-started
  from an earlier day's factors, top 10 by batched numpy scoring over the ranked
  catalogue.
- ``OnSpark``: MLlib ALS where the ratings are (spark_als.py). Only the factors and
  the top 10 reach the Dagster process. MLlib takes no initial factors, so every fit
  starts from scratch. The fitted model is saved under the engine's warehouse, and
  ``recommendations`` ranks with it (``recommendForUserSubset``) over every trained
  movie.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from dagster_duckdb import DuckDBResource

from movie_assets.model import als, arrays
from movie_assets.model.svd import Factors
from movie_assets.resources import Warehouse


class InProcess:
    """implicit ALS in the Dagster process, on the ratings as arrays."""

    def __init__(self, duckdb: DuckDBResource):
        self.duckdb = duckdb

    def _arrays(self, day) -> arrays.RatingArrays:
        with self.duckdb.get_connection() as con:
            return arrays.fetch_ratings(con, day)

    def fit(self, day, params: dict, seed: int, start: Factors | None, how: str):
        """(factors, metadata): the fit, warm-started from ``start`` when there is one."""
        data = self._arrays(day)
        factors = als.fit(data, params, seed, start)
        return factors, {
            "trained_by": "implicit ALS, Dagster process",
            "fit": how,
            "trained_on": len(data),
        }

    def recommend(self, day, factors: Factors):
        """(top 10, unseen_only failures, every_user failures, metadata)."""
        data = self._arrays(day)
        top = als.recommend(data, factors)
        meta = {"ranked_by": "batched numpy top-k over the stored factors, Dagster process"}
        return top, als.unseen_violations(data, top), als.missing_lists(data, top), meta


class OnSpark:
    """MLlib ALS in the Spark engine; the engine's ratings never enter the Dagster process."""

    def __init__(self, duckdb: Warehouse):
        self.duckdb = duckdb

    def _ratings(self, day):
        """(the engine's warehouse path, the day's ratings as a Spark DataFrame)."""
        with self.duckdb.get_connection() as con:
            tables = self.duckdb.engine_tables(con)
            ratings = tables.snapshot("ratings", day)
        return tables.root, tables.dataframe(ratings)

    def fit(self, day, params: dict, seed: int, start: Factors | None, how: str):
        from movie_assets.model import spark_als

        root, frame = self._ratings(day)
        factors, model = spark_als.fit(frame, params, seed)
        model.write().overwrite().save(spark_als.model_path(root, day))
        iterations = {**als.DEFAULT_PARAMS, **params}["iterations"]
        return factors, {
            "trained_by": "Spark MLlib ALS, Spark engine",
            "fit": f"from scratch ({iterations} iterations): MLlib ALS takes no initial factors",
            "trained_on": frame.count(),
        }

    def recommend(self, day, factors: Factors):
        from pyspark.ml.recommendation import ALSModel

        from movie_assets.model import spark_als

        root, frame = self._ratings(day)
        path = spark_als.model_path(root, day)
        try:
            model = ALSModel.load(path)
        except Exception as missing:  # Spark raises its own AnalysisException, by path
            raise LookupError(
                f"no MLlib model at {path}: materialize recommender for {day} on Spark"
            ) from missing
        top = spark_als.recommend(model, frame).cache()
        seen, missing_lists = spark_als.violations(top, frame)
        ranked = top.toPandas().astype({"user_id": "int64", "rank": "int64", "movie_id": "int64"})
        top.unpersist()
        ranked["predicted_rating"] = als.baseline_rating(
            factors,
            np.searchsorted(factors.user_ids, ranked["user_id"].to_numpy()),
            np.searchsorted(factors.item_ids, ranked["movie_id"].to_numpy()),
        )
        ranked = ranked.sort_values(["user_id", "rank"], ignore_index=True)
        meta = {"ranked_by": "Spark MLlib recommendForUserSubset, Spark engine"}
        return ranked, seen, pd.DataFrame({"user_id": missing_lists["user_id"]}), meta


def of(duckdb: DuckDBResource) -> InProcess | OnSpark:
    """The scale model's trainer for the warehouse's engine."""
    engine = duckdb.engine if isinstance(duckdb, Warehouse) else None
    return OnSpark(duckdb) if engine is not None and engine.kind == "spark" else InProcess(duckdb)
