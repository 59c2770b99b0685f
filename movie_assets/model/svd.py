"""Biased SVD with Surprise, stored as plain tables and scored with numpy.

``surprise.dump`` is pickle, so the model is never saved that way: the global
mean, biases and factors go to the ``recommender`` table, and scoring from that
table reproduces ``SVD.predict`` (tests/test_model.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from surprise import SVD, Dataset, Reader

RATING_SCALE = (0.5, 5.0)
DEFAULT_PARAMS = {"n_factors": 100, "n_epochs": 20, "lr_all": 0.005, "reg_all": 0.02}


def fit_svd(ratings: pd.DataFrame, seed: int = 0, **params) -> SVD:
    """Train on (user_id, movie_id, rating); ids stay integers so predict() must use integers."""
    # A fixed row order: SGD visits ratings in trainset order, so order changes the model.
    rows = ratings[["user_id", "movie_id", "rating"]].sort_values(["user_id", "movie_id"])
    data = Dataset.load_from_df(rows, Reader(rating_scale=RATING_SCALE))
    algo = SVD(random_state=seed, **{**DEFAULT_PARAMS, **params})
    algo.fit(data.build_full_trainset())
    return algo


def to_table(algo: SVD, as_of: date) -> pd.DataFrame:
    return Factors.from_algo(algo).to_table(as_of)


@dataclass
class Factors:
    """The model as arrays, rebuilt from the recommender table."""

    global_mean: float
    user_ids: np.ndarray
    item_ids: np.ndarray
    bu: np.ndarray
    bi: np.ndarray
    pu: np.ndarray
    qi: np.ndarray
    # The day each side was fitted, when older than the snapshot (ALS's daily fold-in,
    # als.fold_in): the item side and mean, and each user's vector (datetime64[D]).
    items_fitted_on: date | None = None
    users_fitted_on: np.ndarray | None = None

    @classmethod
    def from_algo(cls, algo: SVD) -> Factors:
        trainset = algo.trainset
        return cls(
            global_mean=float(trainset.global_mean),
            user_ids=np.array([trainset.to_raw_uid(i) for i in range(trainset.n_users)], np.int64),
            item_ids=np.array([trainset.to_raw_iid(i) for i in range(trainset.n_items)], np.int64),
            bu=np.asarray(algo.bu, dtype=float),
            bi=np.asarray(algo.bi, dtype=float),
            pu=np.asarray(algo.pu, dtype=float),
            qi=np.asarray(algo.qi, dtype=float),
        )

    def to_table(self, as_of: date, model: str = "svd") -> pd.DataFrame:
        """One 'global' row (mean in ``bias``), then one row per user and per item."""
        items_day = pd.Timestamp(self.items_fitted_on or as_of)
        glob = pd.DataFrame(
            {
                "entity": ["global"],
                "raw_id": [pd.NA],
                "inner_id": [pd.NA],
                "bias": [self.global_mean],
                "fitted_on": [items_day],
            }
        ).assign(factors=[None])
        users_day = pd.Timestamp(as_of) if self.users_fitted_on is None else self.users_fitted_on
        parts = [glob]
        for entity, ids, bias, vectors, fitted in [
            ("user", self.user_ids, self.bu, self.pu, users_day),
            ("item", self.item_ids, self.bi, self.qi, items_day),
        ]:
            parts.append(
                pd.DataFrame(
                    {
                        "entity": entity,
                        "raw_id": ids,
                        "inner_id": np.arange(len(ids)),
                        "bias": bias,
                        "factors": list(vectors),
                        "fitted_on": fitted,
                    }
                )
            )
        return pd.concat(parts, ignore_index=True).assign(as_of=pd.Timestamp(as_of), model=model)

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> Factors:
        glob = table[table["entity"] == "global"]
        users = table[table["entity"] == "user"].sort_values("inner_id")
        items = table[table["entity"] == "item"].sort_values("inner_id")
        return cls(
            global_mean=float(glob["bias"].iloc[0]),
            user_ids=users["raw_id"].to_numpy(dtype=np.int64),
            item_ids=items["raw_id"].to_numpy(dtype=np.int64),
            bu=users["bias"].to_numpy(dtype=float),
            bi=items["bias"].to_numpy(dtype=float),
            pu=np.vstack(users["factors"].to_numpy()).astype(float),
            qi=np.vstack(items["factors"].to_numpy()).astype(float),
            **_fitted_on(glob, users, table["as_of"].iloc[0]),
        )

    def scores(self) -> np.ndarray:
        """Predicted rating of every user (rows) and item (columns), clipped like predict()."""
        est = self.global_mean + self.bu[:, None] + self.bi[None, :] + self.pu @ self.qi.T
        return np.clip(est, *RATING_SCALE)

    def predict(self, user_id: int, movie_id: int) -> float:
        """Surprise's rules for unknown ids: drop the unknown side's bias and the dot product."""
        u = np.flatnonzero(self.user_ids == user_id)
        i = np.flatnonzero(self.item_ids == movie_id)
        est = self.global_mean
        if u.size:
            est += self.bu[u[0]]
        if i.size:
            est += self.bi[i[0]]
        if u.size and i.size:
            est += float(self.qi[i[0]] @ self.pu[u[0]])
        return float(np.clip(est, *RATING_SCALE))


def _fitted_on(glob: pd.DataFrame, users: pd.DataFrame, as_of) -> dict:
    """The fit days of a stored snapshot; snapshots written before the column: its as_of."""
    if "fitted_on" not in glob or glob["fitted_on"].isna().all():
        day = pd.Timestamp(as_of)
        return {"items_fitted_on": day.date(), "users_fitted_on": np.full(len(users), day)}
    return {
        "items_fitted_on": pd.Timestamp(glob["fitted_on"].iloc[0]).date(),
        "users_fitted_on": users["fitted_on"].fillna(pd.Timestamp(as_of)).to_numpy(),
    }


def similar_items(factors: Factors, item_ids: np.ndarray, n: int = 10) -> pd.DataFrame:
    """Top n neighbours of each item among ``item_ids`` by cosine of the item factors."""
    pos = pd.Series(np.arange(len(factors.item_ids)), factors.item_ids)[item_ids].to_numpy()
    vectors = factors.qi[pos]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms > 0, norms, 1.0)
    cosine = unit @ unit.T
    np.fill_diagonal(cosine, -np.inf)
    n = min(n, len(item_ids) - 1)
    order = np.lexsort((np.broadcast_to(item_ids, cosine.shape), -cosine), axis=1)[:, :n]
    rows = np.repeat(np.arange(len(item_ids)), n)
    cols = order.ravel()
    return pd.DataFrame(
        {
            "movie_id": item_ids[rows],
            "rank": np.tile(np.arange(1, n + 1), len(item_ids)),
            "similar_movie_id": item_ids[cols],
            "similarity": cosine[rows, cols],
        }
    )
