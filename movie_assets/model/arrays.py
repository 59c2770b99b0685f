"""Ratings as numpy arrays, for the models built for large data.

At 25M ratings a pandas frame with the snapshot's columns costs gigabytes; the
scale path fetches only user, movie, rating and time, typed narrow, in key order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import duckdb
import numpy as np
import scipy.sparse as sp

from movie_assets.warehouse import table_exists, was_written


@dataclass
class RatingArrays:
    """One rating per (user_id, movie_id), sorted by user then movie; ``rated_at`` in seconds."""

    user_id: np.ndarray
    movie_id: np.ndarray
    rating: np.ndarray
    rated_at: np.ndarray

    def __len__(self) -> int:
        return len(self.rating)

    def take(self, mask_or_index: np.ndarray) -> RatingArrays:
        return RatingArrays(
            self.user_id[mask_or_index],
            self.movie_id[mask_or_index],
            self.rating[mask_or_index],
            self.rated_at[mask_or_index],
        )


def count_ratings(con: duckdb.DuckDBPyConnection, as_of: date) -> int:
    """Ratings in the snapshot: the model switch's input (a count, nothing loaded)."""
    _require(con, as_of)
    # fetchall, not fetchone: a result left open would stop the next query's Arrow stream.
    return con.execute("SELECT count(*) FROM ratings WHERE as_of = ?", [as_of]).fetchall()[0][0]


# Rows converted at a time: Python holds the final arrays and one batch, never a frame.
FETCH_BATCH = 1_000_000


def fetch_ratings(
    con: duckdb.DuckDBPyConnection, as_of: date, raters_since: date | None = None
) -> RatingArrays:
    """The snapshot's ratings in (user_id, movie_id) order: 28 bytes per rating.

    Streamed as Arrow record batches into preallocated arrays, so the peak is the
    arrays plus one batch (DuckDB's sort stays within its own memory_limit).
    ``raters_since``: only the users who rated after that day, all their ratings.
    """
    n = count_ratings(con, as_of)
    where, params = "as_of = $1", [as_of]
    if raters_since is not None:
        where += " AND user_id IN (SELECT user_id FROM ratings WHERE as_of = $1 AND rated_at >= $2)"
        params.append(datetime.combine(raters_since + timedelta(days=1), time()))
        n = con.execute(f"SELECT count(*) FROM ratings WHERE {where}", params).fetchall()[0][0]
    out = RatingArrays(
        np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.float32), np.empty(n, np.int64)
    )
    # A relation streams its batches; a DB-API result would copy every row first.
    reader = con.sql(
        "SELECT user_id, movie_id, rating::FLOAT AS rating, epoch(rated_at)::BIGINT AS rated_at "
        f"FROM ratings WHERE {where} ORDER BY user_id, movie_id",
        params=params,
    ).to_arrow_reader(FETCH_BATCH)
    at = 0
    for batch in reader:
        size = batch.num_rows
        for name in ["user_id", "movie_id", "rating", "rated_at"]:
            getattr(out, name)[at : at + size] = batch.column(name).to_numpy()
        at += size
    return out


def _require(con: duckdb.DuckDBPyConnection, as_of: date) -> None:
    if not table_exists(con, "ratings"):
        raise LookupError("table ratings does not exist: materialize it first")
    if not was_written(con, "ratings", as_of):
        raise LookupError(
            f"ratings has no snapshot as of {as_of}: materialize that partition first"
        )


@dataclass
class Indexed:
    """Dense positions of the raw ids: rows of user factors and of item factors."""

    user_ids: np.ndarray
    item_ids: np.ndarray
    users: np.ndarray  # position of each rating's user in user_ids
    items: np.ndarray

    @classmethod
    def of(cls, data: RatingArrays) -> Indexed:
        user_ids, users = _positions(data.user_id)
        item_ids, items = _positions(data.movie_id)
        return cls(user_ids, item_ids, users, items)

    def csr(self, values: np.ndarray | None = None, dtype=np.float32) -> sp.csr_matrix:
        """Users x items; 1 where rated unless ``values`` are given."""
        data = np.ones(len(self.users), dtype=dtype) if values is None else values.astype(dtype)
        shape = (len(self.user_ids), len(self.item_ids))
        return sp.csr_matrix((data, (self.users, self.items)), shape=shape)


def _positions(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct ids ascending, each value's position among them), in linear time.

    ``np.unique(return_inverse=True)`` sorts: 12 s for 25M ratings against about a
    second through a lookup table indexed by id (ids are small non-negative integers).
    """
    if len(ids) == 0:
        return ids.astype(np.int64), np.empty(0, np.int32)
    present = np.bincount(ids) > 0
    distinct = np.flatnonzero(present).astype(np.int64)
    lookup = np.cumsum(present, dtype=np.int64) - 1
    return distinct, lookup[ids].astype(np.int32)


def per_user_holdout(
    data: RatingArrays, fraction: float = 0.1, min_ratings: int = 5
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (train, test): evaluation.per_user_holdout's split, on arrays.

    Each user with at least ``min_ratings`` ratings holds out their latest
    max(1, floor(fraction * n)) ratings, ordered by rated_at then movie_id.
    """
    order = np.lexsort((data.movie_id, data.rated_at, data.user_id))
    users = data.user_id[order]
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    sizes = np.diff(np.r_[starts, len(users)])
    size = np.repeat(sizes, sizes)
    from_end = np.repeat(starts + sizes, sizes) - np.arange(len(users)) - 1
    n_test = np.maximum(1, np.floor(size * fraction)).astype(np.int64)
    is_test = np.zeros(len(users), dtype=bool)
    is_test[order] = (size >= min_ratings) & (from_end < n_test)
    return ~is_test, is_test


def sample_users(data: RatingArrays, n: int, seed: int = 0) -> np.ndarray:
    """A seeded sample of n distinct user ids (all of them when there are fewer)."""
    users = np.unique(data.user_id)
    if len(users) <= n:
        return users
    return np.sort(np.random.default_rng(seed).choice(users, n, replace=False))
