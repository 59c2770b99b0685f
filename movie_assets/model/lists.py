"""The served lists as pure functions of frames and factors: top 10 per user, similar movies.

The assets in assets.py read the snapshots, call these and write the results; tests
call them with small frames.
"""

import numpy as np
import pandas as pd

from movie_assets.model import als, arrays, evaluation, ranking, svd


def ranking_evaluation(
    train: pd.DataFrame, test: pd.DataFrame, svd_params: dict, ranking_params: dict, seed: int = 0
) -> dict[str, dict[str, float]]:
    """Top-10 lists of each ranking model, from training data only, scored on the hold-out."""
    data = ranking.Interactions.from_ratings(train)
    factors = svd.Factors.from_algo(svd.fit_svd(train, seed=seed, **svd_params))
    ease = ranking.ease_scores(data, ranking_params["ease_lambda"])
    svd_scores = ranking.svd_scores(data, factors)
    scores = {
        "most_popular": ranking.popularity_scores(data),
        "svd_tuned": svd_scores,
        "ease": ease,
        "served_hybrid": ranking.hybrid(data, ease, svd_scores, ranking_params["svd_weight"]),
    }
    return {
        name: evaluation.ranking_metrics(
            ranking.top_n(data, s), test, data.popularity, len(data.item_ids)
        )
        for name, s in scores.items()
    }


def recommend(ratings: pd.DataFrame, factors: svd.Factors, ranking_params: dict) -> pd.DataFrame:
    """Top 10 for every user: the served hybrid, or most-popular below als.MIN_USER_RATINGS."""
    data = ranking.Interactions.from_ratings(ratings)
    counts = ratings.groupby("user_id").size().reindex(data.user_ids).to_numpy()
    warm = (counts >= als.MIN_USER_RATINGS) & data.seen.any(axis=1)
    personal = ranking.hybrid_scores(
        data, factors, ranking_params["svd_weight"], ranking_params["ease_lambda"]
    )
    scores = np.where(warm[:, None], personal, ranking.popularity_scores(data))
    top = ranking.top_n(data, scores)
    predicted = ranking.svd_scores(data, factors)
    rows = np.searchsorted(data.user_ids, top["user_id"])
    top["predicted_rating"] = predicted[rows, np.searchsorted(data.item_ids, top["movie_id"])]
    is_warm = pd.Series(warm, index=data.user_ids)[top["user_id"]].to_numpy()
    top["source"] = np.where(is_warm, "personalized", "popular_cold_start")
    return _fill_short_lists(top, ratings, factors)


def missing_lists(top: pd.DataFrame, ratings: pd.DataFrame) -> pd.DataFrame:
    """Users without a list who have an unseen movie to be given (someone else rated it)."""
    catalogue = ratings["movie_id"].nunique()
    rated = ratings.groupby("user_id")["movie_id"].nunique()
    could = rated[rated < catalogue].index
    return pd.DataFrame({"user_id": np.setdiff1d(could, top["user_id"])})


def _fill_short_lists(
    top: pd.DataFrame, ratings: pd.DataFrame, factors: svd.Factors, n: int = 10
) -> pd.DataFrame:
    """Complete lists shorter than n with the most-rated movies the user has not rated.

    Only on tiny data (an early day): a user who rated nearly every movie of the ranked
    catalogue has fewer than n unseen ones there, but unseen movies outside it remain.
    """
    have = top.groupby("user_id").size().reindex(ratings["user_id"].unique(), fill_value=0)
    short = have[have < n]
    if short.empty:
        return top
    counts = ratings.groupby("movie_id").size()
    by_popularity = sorted(counts.index, key=lambda m: (-counts[m], m))
    seen = ratings.groupby("user_id")["movie_id"].agg(set)
    listed = top.groupby("user_id")["movie_id"].agg(set)
    rows = []
    for user, count in short.items():
        taken = seen[user] | listed.get(user, set())
        extra = [m for m in by_popularity if m not in taken][: n - count]
        rows += [
            {
                "user_id": user,
                "rank": count + i + 1,
                "movie_id": movie,
                "score": float(counts[movie]),
                "predicted_rating": factors.predict(user, movie),
                "source": "popular_fill",
            }
            for i, movie in enumerate(extra)
        ]
    filled = pd.DataFrame(rows, columns=top.columns).astype(top.dtypes.to_dict())
    return pd.concat([top, filled], ignore_index=True).sort_values(
        ["user_id", "rank"], ignore_index=True
    )


def similar(
    factors: svd.Factors, ratings: pd.DataFrame, movies: pd.DataFrame, n: int = 10
) -> pd.DataFrame:
    """Factor-cosine neighbours of well-rated movies; the rest get popular ones sharing a genre."""
    counts = ratings.groupby("movie_id").size()
    warm_ids = np.sort(counts[counts >= als.MIN_SIMILAR_RATINGS].index.to_numpy(dtype=np.int64))
    frames = []
    if len(warm_ids) > 1:
        frames.append(svd.similar_items(factors, warm_ids, n).assign(source="personalized"))
    cold = movies.loc[~movies["movie_id"].isin(warm_ids), ["movie_id", "genres"]]
    if len(cold) and len(warm_ids):
        frames.append(popular_neighbours(cold, movies, counts.reindex(warm_ids), n))
    if not frames:  # no movie has enough ratings yet: nothing to call similar
        columns = ["movie_id", "rank", "similar_movie_id", "similarity", "source"]
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)


def similar_at_scale(
    factors: svd.Factors, data: arrays.RatingArrays, movies: pd.DataFrame, n: int = 10
) -> pd.DataFrame:
    """``similar`` on the scale path: cosine top-k in batches, popular neighbours for cold."""
    ids, counts = np.unique(data.movie_id, return_counts=True)
    warm_ids = ids[counts >= als.MIN_SIMILAR_RATINGS]
    frames = []
    if len(warm_ids) > 1:
        frames.append(als.similar_items(factors, warm_ids, n).assign(source="personalized"))
    cold = movies.loc[~movies["movie_id"].isin(warm_ids), ["movie_id", "genres"]]
    if len(cold) and len(warm_ids):
        popularity = pd.Series(counts, index=ids).reindex(warm_ids)
        frames.append(popular_neighbours(cold, movies, popularity, n))
    if not frames:
        columns = ["movie_id", "rank", "similar_movie_id", "similarity", "source"]
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)


def popular_neighbours(
    cold: pd.DataFrame, movies: pd.DataFrame, popularity: pd.Series, n: int
) -> pd.DataFrame:
    """Most-rated movies sharing a genre with each cold movie, then the most-rated overall."""
    ranked = popularity.sort_values(ascending=False, kind="stable").index.to_list()
    position = {movie: pos for pos, movie in enumerate(ranked)}
    genres = movies.set_index("movie_id")["genres"].str.split("|").explode()
    genres = genres[genres.index.isin(position)].reset_index()
    genres["position"] = genres["movie_id"].map(position)
    top_by_genre = (
        genres.sort_values("position")
        .groupby("genres")["movie_id"]
        .agg(lambda ids: ids.head(n + 1).to_list())
        .to_dict()
    )
    rows = []
    for movie_id, names in zip(cold["movie_id"], cold["genres"].fillna(""), strict=True):
        shared = {m for g in names.split("|") for m in top_by_genre.get(g, [])}
        picks = [*sorted(shared, key=position.get), *ranked[: n + 1]]
        picks = [m for m in dict.fromkeys(picks) if m != movie_id][:n]
        rows.append((movie_id, picks))
    frame = pd.DataFrame(rows, columns=["movie_id", "similar_movie_id"]).explode("similar_movie_id")
    frame["rank"] = frame.groupby("movie_id").cumcount() + 1
    return frame.assign(similarity=np.nan, source="popular_cold_start").reset_index(drop=True)
