"""Where the scale model trains and ranks: in the Dagster process, or in the Spark engine.

The ``recommender`` and ``recommendations`` assets ask ``of(duckdb)`` and call the same
two methods on either answer, so their bodies do not change between engines. Both
write the same tables: the factors in ``Factors.to_table``'s layout, the top 10 in
the ``recommendations`` schema.

- ``InProcess``: ``implicit`` ALS on arrays read through DuckDB (als.py). Within a week
  of a fit, a day's raters are folded into its item side and only their lists are
  ranked again; otherwise a fit warm-started from an earlier day's factors. Top 10 by
  batched numpy scoring over the ranked catalogue.
- ``OnSpark``: MLlib ALS where the ratings are (spark_als.py). Only the factors and
  the top 10 reach the Dagster process. MLlib takes no initial factors, so every fit
  starts from scratch. The fitted model is saved under the engine's warehouse, and
  ``recommendations`` ranks with it (``recommendForUserSubset``) over every trained
  movie.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd
from dagster_duckdb import DuckDBResource

from movie_assets import settings
from movie_assets.model import als, arrays
from movie_assets.model.svd import Factors
from movie_assets.resources import Warehouse
from movie_assets.warehouse import read_latest_snapshot


class InProcess:
    """implicit ALS in the Dagster process, on the ratings as arrays."""

    def __init__(self, duckdb: DuckDBResource):
        self.duckdb = duckdb

    def _arrays(self, day, raters_since=None) -> arrays.RatingArrays:
        with self.duckdb.get_connection() as con:
            return arrays.fetch_ratings(con, day, raters_since)

    def fit(self, day, params: dict, seed: int, start: Factors | None, how: str, fold: bool):
        """(factors, metadata): ``start``'s item side with the day's raters folded in, or a
        fit warm-started from ``start`` when there is one."""
        if fold:
            since = pd.Timestamp(start.users_fitted_on.max()).date()
            raters = self._arrays(day, raters_since=since)
            factors = als.fold_in(start, raters, params, day)
            folded = {"folded_users": len(np.unique(raters.user_id)), "trained_on": len(raters)}
        else:
            data = self._arrays(day)
            factors = als.fit(data, params, seed, start)
            folded = {"trained_on": len(data)}
        return factors, {"trained_by": "implicit ALS, Dagster process", "fit": how, **folded}

    def recommend(self, day, factors: Factors):
        """(top 10, unseen_only failures, every_user failures, metadata).

        After a fold-in, only the users refitted since the newest earlier lists are
        ranked again; the others keep those lists, made from the same vectors.
        """
        data = self._arrays(day)
        earlier = self._earlier_lists(day, factors)
        if earlier is None:
            top = als.recommend(data, factors)
            meta = {"ranked_users": int(top["user_id"].nunique())}
        else:
            since = earlier["as_of"].iloc[0]
            again = factors.user_ids[factors.users_fitted_on > since.to_datetime64()]
            kept = earlier[~earlier["user_id"].isin(again)].drop(columns="as_of")
            top = pd.concat([kept, als.recommend(data, factors, users=again)], ignore_index=True)
            top = top.sort_values(["user_id", "rank"], ignore_index=True)
            meta = {"ranked_users": len(again), "other_lists_from": str(since.date())}
        meta["ranked_by"] = "batched numpy top-k over the stored factors, Dagster process"
        return top, als.unseen_violations(data, top), als.missing_lists(data, top), meta

    def _earlier_lists(self, day, factors: Factors) -> pd.DataFrame | None:
        return same_item_side(self.duckdb, "recommendations", day, factors)


def same_item_side(duckdb: DuckDBResource, name: str, day, factors: Factors) -> pd.DataFrame | None:
    """The newest snapshot of ``name`` before the day made with ``factors``' item side, if any.

    Only after a fold-in: the item vectors are those of ``items_fitted_on``, so what
    was computed from them since (similar movies, other users' lists) still holds.
    """
    if factors.items_fitted_on is None or factors.items_fitted_on >= day:
        return None
    with duckdb.get_connection() as con:
        try:
            table = read_latest_snapshot(con, name, day - timedelta(days=1), als.WARM_MAX_AGE_DAYS)
        except LookupError:
            return None
    return table if table["as_of"].iloc[0].date() >= factors.items_fitted_on else None


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

    def fit(self, day, params: dict, seed: int, start: Factors | None, how: str, fold: bool):
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


@dataclass(frozen=True)
class Engine:
    """Which models a snapshot gets: "svd" (Surprise) or "als" (the scale path), and why."""

    model: str
    reason: str

    @property
    def metadata(self) -> dict:
        return {"model": self.model, "engine_reason": self.reason}


def engine(duckdb: DuckDBResource, day) -> Engine:
    """Which models a snapshot of this many ratings gets (settings.model_scale_threshold)."""
    with duckdb.get_connection() as con:
        n = arrays.count_ratings(con, day)
    limit = settings.model_scale_threshold()
    if n > limit:
        return Engine("als", f"{n:,} ratings > MOVIE_MODEL_SCALE_THRESHOLD {limit:,}")
    return Engine("svd", f"{n:,} ratings <= MOVIE_MODEL_SCALE_THRESHOLD {limit:,}")


def of(duckdb: DuckDBResource) -> InProcess | OnSpark:
    """The scale model's trainer for the warehouse's engine."""
    engine = duckdb.engine if isinstance(duckdb, Warehouse) else None
    return OnSpark(duckdb) if engine is not None and engine.kind == "spark" else InProcess(duckdb)
