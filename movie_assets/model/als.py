"""The model of large data: implicit ALS on who-rated-what, a regularized baseline, batched top-k.

Surprise's SGD and item-item matrices stop fitting the time and memory budget
above a few hundred thousand ratings (docs/evaluation.md, "At scale"). Here:

- every rating is a positive interaction (preference 1) with confidence
  1 + alpha * rating; unrated pairs have preference 0 and confidence 1
  (Hu, Koren and Volinsky 2008), fitted by ``implicit``'s conjugate-gradient ALS;
- the predicted rating is a regularized baseline, global mean + user bias + item
  bias (Surprise's BaselineOnly ALS rules), since ALS scores preference, not stars;
- both are stored in the ``recommender`` layout as ``svd.Factors``, and every
  top-k (recommendations, similar movies, evaluation) is scored in batches of rows
  with BLAS, never as a users x items matrix.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from threadpoolctl import threadpool_limits

from movie_assets.model import ranking
from movie_assets.model.arrays import Indexed, RatingArrays
from movie_assets.model.svd import RATING_SCALE, Factors

DEFAULT_PARAMS = {"factors": 64, "regularization": 0.05, "alpha": 1.0, "iterations": 10}
# Surprise's BaselineOnly defaults (ALS, 10 epochs, reg_u 15, reg_i 10).
BASELINE = {"n_epochs": 10, "reg_u": 15.0, "reg_i": 10.0}
# Rows scored per BLAS call, and at most this many scores at once (64 MB of float64).
BATCH = 2048
CELLS = 8_000_000
# The same as the small path's: users below get most-popular, movies below popular neighbours.
MIN_USER_RATINGS = 5
MIN_SIMILAR_RATINGS = 5
THREADS = max(1, min(2, os.cpu_count() or 1))
# ALS sweeps of a warm start from an earlier day's factors (a full fit runs ``iterations``).
WARM_ITERATIONS = 3
# How old that earlier snapshot may be, in days.
WARM_MAX_AGE_DAYS = 7
# Days an item side serves before it is refitted; in between, a day's raters are folded in.
REFIT_DAYS = 7


def baseline(idx: Indexed, rating: np.ndarray, **options) -> tuple[float, np.ndarray, np.ndarray]:
    """Global mean and user and item biases by alternating regularized least squares."""
    opts = {**BASELINE, **options}
    r = rating.astype(np.float64)
    mu = float(r.mean())
    n_u = np.bincount(idx.users, minlength=len(idx.user_ids))
    n_i = np.bincount(idx.items, minlength=len(idx.item_ids))
    bu, bi = np.zeros(len(n_u)), np.zeros(len(n_i))
    for _ in range(opts["n_epochs"]):  # items first, as Surprise does
        bi = np.bincount(idx.items, r - mu - bu[idx.users], len(n_i)) / (opts["reg_i"] + n_i)
        bu = np.bincount(idx.users, r - mu - bi[idx.items], len(n_u)) / (opts["reg_u"] + n_u)
    return mu, bu, bi


def confidence(idx: Indexed, rating: np.ndarray, alpha: float) -> sp.csr_matrix:
    """Users x items confidences 1 + alpha * rating (float32)."""
    return idx.csr(1.0 + alpha * rating.astype(np.float32))


def _aligned(ids: np.ndarray, start: Factors, entity: str, rng: np.random.Generator) -> np.ndarray:
    """``start``'s vectors for ``ids``, in order; new ids get implicit's own initialization."""
    known_ids, vectors = (
        (start.user_ids, start.pu) if entity == "user" else (start.item_ids, start.qi)
    )
    out = (rng.random((len(ids), vectors.shape[1]), dtype=np.float32) * 0.01).astype(np.float32)
    at = np.searchsorted(known_ids, ids).clip(max=len(known_ids) - 1)
    known = known_ids[at] == ids
    out[known] = vectors[at[known]]
    return out


def fit(
    data: RatingArrays, params: dict | None = None, seed: int = 0, start: Factors | None = None
) -> Factors:
    """ALS factors and baseline biases of every user and movie in ``data``.

    ``start`` (an earlier day's factors, same parameters) warm-starts the fit: its
    vectors are the first iterate and WARM_ITERATIONS sweeps follow, instead of
    ``iterations`` from random vectors. A day's new ratings move the factors little.
    """
    params = {**DEFAULT_PARAMS, **(params or {})}
    idx = Indexed.of(data)
    iterations = params["iterations"] if start is None else WARM_ITERATIONS
    # implicit parallelizes over users itself: a threaded BLAS underneath oversubscribes.
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(
            factors=params["factors"],
            regularization=params["regularization"],
            alpha=1.0,  # the confidence matrix already holds 1 + alpha * rating
            iterations=iterations,
            random_state=seed,
            num_threads=THREADS,
        )
        if start is not None:
            rng = np.random.default_rng(seed)
            model.user_factors = _aligned(idx.user_ids, start, "user", rng)
            model.item_factors = _aligned(idx.item_ids, start, "item", rng)
        model.fit(confidence(idx, data.rating, params["alpha"]), show_progress=False)
    mu, bu, bi = baseline(idx, data.rating)
    return Factors(
        global_mean=mu,
        user_ids=idx.user_ids,
        item_ids=idx.item_ids,
        bu=bu,
        bi=bi,
        pu=np.asarray(model.user_factors, dtype=np.float64),
        qi=np.asarray(model.item_factors, dtype=np.float64),
    )


def fold_in(start: Factors, raters: RatingArrays, params: dict, day) -> Factors:
    """``start`` with ``raters``' users refitted against its fixed item side and mean.

    ``raters`` holds every rating of the users to refit (those who rated since
    ``start``). Each user gets one exact ALS user step against the item vectors
    (implicit's ``recalculate_user``) and the baseline's user step against the item
    biases; every other row is ``start``'s. Ratings of movies newer than the item
    side are left out until the weekly refit gives those movies vectors.
    """
    params = {**DEFAULT_PARAMS, **params}
    known = np.isin(raters.movie_id, start.item_ids)
    user_ids = np.unique(raters.user_id)
    users = np.searchsorted(user_ids, raters.user_id[known])
    items = np.searchsorted(start.item_ids, raters.movie_id[known])
    rating = raters.rating[known]
    shape = (len(user_ids), len(start.item_ids))
    weights = sp.csr_matrix((1.0 + params["alpha"] * rating, (users, items)), shape=shape)
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(
            factors=params["factors"],
            regularization=params["regularization"],
            alpha=1.0,
            num_threads=THREADS,
        )
        model.item_factors = start.qi.astype(np.float32)
        vectors = model.recalculate_user(np.arange(len(user_ids)), weights.astype(np.float32))
    residual = rating.astype(np.float64) - start.global_mean - start.bi[items]
    count = np.bincount(users, minlength=len(user_ids))
    bias = np.bincount(users, residual, len(user_ids)) / (BASELINE["reg_u"] + count)

    ids = np.union1d(start.user_ids, user_ids)
    old, new = np.searchsorted(ids, start.user_ids), np.searchsorted(ids, user_ids)
    pu = np.zeros((len(ids), start.pu.shape[1]))
    pu[old], pu[new] = start.pu, vectors
    bu = np.zeros(len(ids))
    bu[old], bu[new] = start.bu, bias
    fitted = np.full(len(ids), np.datetime64(day, "D"))
    if start.users_fitted_on is not None:
        fitted[old] = start.users_fitted_on.astype("datetime64[D]")
    fitted[new] = np.datetime64(day, "D")
    return Factors(
        global_mean=start.global_mean,
        user_ids=ids,
        item_ids=start.item_ids,
        bu=bu,
        bi=start.bi,
        pu=pu,
        qi=start.qi,
        items_fitted_on=start.items_fitted_on,
        users_fitted_on=fitted,
    )


def baseline_rating(factors: Factors, users: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Predicted stars at scale: global mean + user bias + item bias, clipped to the scale."""
    return np.clip(factors.global_mean + factors.bu[users] + factors.bi[items], *RATING_SCALE)


def top_k(scores: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """Each row's k best as flat (row, column, score, rank 1..k), by score then smaller id.

    Ties are exact (popularity counts): every column tied with the k-th score takes
    part in the id tie-break, not an arbitrary one of them. ``argpartition`` picks k
    columns per row; only rows with more ties at the k-th score than it took are
    compared cell by cell.
    """
    n_cols = scores.shape[1]
    k = min(k, n_cols)
    picked = np.argpartition(scores, n_cols - k, axis=1)[:, n_cols - k :]
    vals = np.take_along_axis(scores, picked, axis=1)
    kth = vals.min(axis=1)
    at_kth = scores == kth[:, None]
    ambiguous = np.flatnonzero(at_kth.sum(axis=1) > (vals == kth[:, None]).sum(axis=1))
    del at_kth
    clear = np.setdiff1d(np.arange(scores.shape[0]), ambiguous, assume_unique=True)
    rows = [np.repeat(clear, k)]
    cols = [picked[clear].ravel()]
    vals_out = [vals[clear].ravel()]
    if len(ambiguous):
        sub = scores[ambiguous]
        r, c = np.nonzero(sub >= kth[ambiguous, None])
        rows.append(ambiguous[r])
        cols.append(c)
        vals_out.append(sub[r, c])
    rows, cols, vals = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals_out)
    order = np.lexsort((ids[cols], -vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    starts = np.searchsorted(rows, np.arange(scores.shape[0]))
    rank = np.arange(len(rows)) - starts[rows] + 1
    keep = rank <= k
    return rows[keep], cols[keep], vals[keep], rank[keep]


def catalogue(data: RatingArrays) -> tuple[np.ndarray, pd.Series]:
    """The ranked movies (ranking.MIN_ITEM_RATINGS, at most ranking.MAX_ITEMS) and popularity."""
    ids, counts = np.unique(data.movie_id, return_counts=True)
    popularity = pd.Series(counts, index=ids, name="ratings")
    ranked = popularity[popularity >= ranking.MIN_ITEM_RATINGS]
    ranked = ranked.sort_values(ascending=False, kind="stable").head(ranking.MAX_ITEMS)
    return np.sort(ranked.index.to_numpy(dtype=np.int64)), popularity


def seen_matrix(data: RatingArrays, user_ids: np.ndarray, item_ids: np.ndarray) -> sp.csr_matrix:
    """users x item_ids, 1 where the user rated the movie (movies outside item_ids dropped)."""
    keep = np.isin(data.movie_id, item_ids) & np.isin(data.user_id, user_ids)
    rows = np.searchsorted(user_ids, data.user_id[keep])
    cols = np.searchsorted(item_ids, data.movie_id[keep])
    ones = np.ones(len(rows), dtype=np.float32)
    return sp.csr_matrix((ones, (rows, cols)), shape=(len(user_ids), len(item_ids)))


def ranked_lists(
    user_ids: np.ndarray,
    item_ids: np.ndarray,
    score_rows,
    seen: sp.csr_matrix,
    n: int = 10,
    batch: int = BATCH,
) -> pd.DataFrame:
    """Top n unseen items per user; ``score_rows(start, stop)`` gives that batch's scores.

    Only one batch of scores exists at a time (at most ``batch`` rows and CELLS scores);
    seen items are masked from the CSR rows.
    """
    batch = max(1, min(batch, CELLS // max(1, len(item_ids))))
    frames = []
    for start in range(0, len(user_ids), batch):
        stop = min(start + batch, len(user_ids))
        scores = score_rows(start, stop)
        if not scores.flags.writeable:
            scores = scores.copy()
        block = seen[start:stop]
        scores[np.repeat(np.arange(stop - start), np.diff(block.indptr)), block.indices] = -np.inf
        rows, cols, vals, rank = top_k(scores, item_ids, n)
        frame = pd.DataFrame(
            {
                "user_id": user_ids[start + rows],
                "rank": rank,
                "movie_id": item_ids[cols],
                "score": vals,
            }
        )
        frames.append(frame[np.isfinite(frame["score"])])
    if not frames:
        return pd.DataFrame(columns=["user_id", "rank", "movie_id", "score"])
    return pd.concat(frames, ignore_index=True)


def als_rows(factors: Factors, user_ids: np.ndarray, item_ids: np.ndarray):
    """Batch scorer: dot products of the stored factors, in float32 (half the memory traffic)."""
    users = factors.pu[np.searchsorted(factors.user_ids, user_ids)].astype(np.float32)
    items = factors.qi[np.searchsorted(factors.item_ids, item_ids)].T.astype(np.float32)
    return lambda start, stop: users[start:stop] @ items


def recommend(
    data: RatingArrays, factors: Factors, n: int = 10, users: np.ndarray | None = None
) -> pd.DataFrame:
    """Top n for every user (or only ``users``): ALS over the ranked catalogue, most-popular
    for cold users.

    Lists shorter than n (a user who rated nearly the whole catalogue) are filled
    with the most-rated movies they have not rated, as on the small path. Movies
    newer than the item side (a fold-in day) wait for the weekly refit.
    """
    item_ids, popularity = catalogue(data)
    item_ids = item_ids[np.isin(item_ids, factors.item_ids)]
    user_ids, per_user = np.unique(data.user_id, return_counts=True)
    if users is not None:
        chosen = np.isin(user_ids, users)
        user_ids, per_user = user_ids[chosen], per_user[chosen]
    seen = seen_matrix(data, user_ids, item_ids)
    warm = (per_user >= MIN_USER_RATINGS) & (np.diff(seen.indptr) > 0)
    popular = popularity.reindex(item_ids).to_numpy(dtype=float)
    personal = als_rows(factors, user_ids, item_ids)

    def rows(start: int, stop: int) -> np.ndarray:
        scores = personal(start, stop)
        scores[~warm[start:stop]] = popular
        return scores

    top = ranked_lists(user_ids, item_ids, rows, seen, n)
    is_warm = warm[np.searchsorted(user_ids, top["user_id"].to_numpy())]
    top["source"] = np.where(is_warm, "personalized", "popular_cold_start")
    filled = fill_short(data, top, popularity[popularity.index.isin(factors.item_ids)], n, user_ids)
    if len(filled):
        top = pd.concat([top, filled.astype(top.dtypes.to_dict())], ignore_index=True)
    top["predicted_rating"] = baseline_rating(
        factors,
        np.searchsorted(factors.user_ids, top["user_id"].to_numpy()),
        np.searchsorted(factors.item_ids, top["movie_id"].to_numpy()),
    )
    return top.sort_values(["user_id", "rank"], ignore_index=True)


def fill_short(
    data: RatingArrays, top: pd.DataFrame, popularity: pd.Series, n: int, users: np.ndarray
) -> pd.DataFrame:
    """Most-rated unseen movies (ties by id) completing ``users``' lists shorter than n."""
    columns = ["user_id", "rank", "movie_id", "score", "source"]
    have = pd.Series(0, index=users).add(top.groupby("user_id").size(), fill_value=0)
    short = have[have < n]
    if short.empty:
        return pd.DataFrame(columns=columns)
    order = popularity.sort_index().sort_values(ascending=False, kind="stable")
    rows = []
    for user, count in short.items():
        taken = set(data.movie_id[data.user_id == user]) | set(
            top.loc[top["user_id"] == user, "movie_id"]
        )
        extra = [m for m in order.index if m not in taken][: n - int(count)]
        rows += [
            (user, int(count) + i + 1, movie, float(order[movie]), "popular_fill")
            for i, movie in enumerate(extra)
        ]
    return pd.DataFrame(rows, columns=columns)


def unseen_violations(data: RatingArrays, top: pd.DataFrame) -> pd.DataFrame:
    """Listed (user, movie) pairs the user rated: the ``unseen_only`` check, on arrays.

    ``data`` is in (user, movie) order, so its pair keys are sorted and each listed
    pair is one binary search (``np.isin`` took 36 s at 25M ratings).
    """
    if len(data) == 0 or top.empty:
        return top.iloc[:0]
    width = int(max(data.movie_id.max(), top["movie_id"].max())) + 1
    rated = data.user_id * width + data.movie_id
    listed = top["user_id"].to_numpy(dtype=np.int64) * width + top["movie_id"].to_numpy(np.int64)
    at = np.searchsorted(rated, listed).clip(max=len(rated) - 1)
    return top[rated[at] == listed]


def missing_lists(data: RatingArrays, top: pd.DataFrame) -> pd.DataFrame:
    """Users without a list who have an unseen movie: the ``every_user`` check, on arrays."""
    users, per_user = np.unique(data.user_id, return_counts=True)
    catalogue_size = len(np.unique(data.movie_id))
    could = users[per_user < catalogue_size]
    return pd.DataFrame({"user_id": np.setdiff1d(could, top["user_id"].to_numpy())})


def warm_items(data: RatingArrays, min_ratings: int = MIN_SIMILAR_RATINGS) -> np.ndarray:
    ids, counts = np.unique(data.movie_id, return_counts=True)
    return ids[counts >= min_ratings]


def similar_items(
    factors: Factors, item_ids: np.ndarray, n: int = 10, batch: int = BATCH
) -> pd.DataFrame:
    """Top n neighbours of each item among ``item_ids`` by factor cosine, in row batches."""
    vectors = factors.qi[np.searchsorted(factors.item_ids, item_ids)]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)
    unit_t = unit.T.copy()
    own = sp.identity(len(item_ids), dtype=np.float32, format="csr")
    top = ranked_lists(item_ids, item_ids, lambda a, b: unit[a:b] @ unit_t, own, n, batch)
    return top.rename(columns={"user_id": "movie_id", "movie_id": "similar_movie_id"}).rename(
        columns={"score": "similarity"}
    )


def ease_weights(x: sp.csr_matrix, lam: float = ranking.EASE_LAMBDA) -> np.ndarray:
    """EASE's item-item weights from a sparse 0/1 users x items matrix (ranking.ease_scores)."""
    gram = (x.T @ x).toarray().astype(np.float64)
    gram[np.diag_indices_from(gram)] += lam
    inverse = np.linalg.inv(gram)
    del gram
    inverse /= -np.diag(inverse).copy()
    inverse[np.diag_indices_from(inverse)] = 0.0
    return inverse
