"""The scale path (ALS, batched top-k, sparse graph) against independent numpy and python.

The model switch is crossed by configuration: a copy of the slice warehouse is
rebuilt with MOVIE_MODEL_SCALE_THRESHOLD below its size, so the same assets train
ALS; every table is then recomputed here by brute force from the stored factors
and the ratings, never through the code under test.
"""

import json
import shutil
from datetime import date

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from surprise import BaselineOnly

from benchmarks.recommender import load as load_embedded
from movie_assets.definitions import build_defs
from movie_assets.model import als, arrays, evaluation, graph, ranking, rating_models
from movie_assets.model.arrays import RatingArrays
from movie_assets.resources import build_resources
from movie_assets.warehouse import log_partition

DAY = "2016-10-16"
GRID = {"als_factors": [4, 8], "als_regularization": [0.05], "als_alpha": [1.0]}
# A third of the embedded users (about 34,000 ratings): graph thresholds scaled to match,
# and a top-k cap low enough to bind.
GRAPH = {"min_movie_ratings": 15, "min_edge_users": 5, "top_k": 20}


@pytest.fixture(scope="module")
def embedded() -> pd.DataFrame:
    return load_embedded().sort_values(["user_id", "movie_id"], ignore_index=True)


def _arrays(frame: pd.DataFrame) -> RatingArrays:
    return RatingArrays(
        frame["user_id"].to_numpy(),
        frame["movie_id"].to_numpy(),
        frame["rating"].to_numpy(dtype=np.float32),
        (frame["rated_at"].astype("int64") // 10**9).to_numpy(),
    )


@pytest.fixture(scope="module")
def scaled(slice_warehouse, embedded, tmp_path_factory):
    """Model assets on the scale path over a third of the embedded users' ratings.

    The slice warehouse gives the movies and the partition bookkeeping; its ratings
    snapshot is replaced by the larger sample. Returns (path, metadata by asset).
    """
    path = tmp_path_factory.mktemp("scaled") / "warehouse.duckdb"
    shutil.copy(slice_warehouse.path, path)
    with duckdb.connect(str(path)) as con:
        known = con.execute("SELECT movie_id FROM movies WHERE as_of = ?", [DAY]).df()
        sample = embedded[  # noqa: F841 (read by the query below)
            (embedded["user_id"] % 3 == 0) & embedded["movie_id"].isin(known["movie_id"])
        ]
        con.execute("DELETE FROM ratings WHERE as_of = ?", [DAY])
        con.execute(
            "INSERT INTO ratings BY NAME SELECT DATE '2016-10-16' AS as_of, user_id, movie_id, "
            "rating, rated_at, rated_at::DATE AS rating_date FROM sample"
        )
    mp = pytest.MonkeyPatch()
    mp.setenv("MOVIE_MODEL_SCALE_THRESHOLD", "1000")
    try:
        defs = build_defs(build_resources(path))
        instance = dg.DagsterInstance.ephemeral()
        runs = [
            ("model_evaluation", ["svd_tuning"], {"svd_tuning": {"config": GRID}}),
            (
                "movie_graph",
                [
                    "recommender",
                    "recommendations",
                    "similar_movies",
                    "movie_communities",
                    "movie_centrality",
                ],
                {"co_rating_graph": {"config": GRAPH}},
            ),
            ("model_evaluation", ["model_metrics"], {}),
        ]
        metadata = {}
        for job, selection, ops in runs:
            result = defs.resolve_job_def(job).execute_in_process(
                instance=instance,
                partition_key=DAY,
                asset_selection=[dg.AssetKey(a) for a in selection],
                run_config={"ops": ops},
            )
            assert result.success
            failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
            assert not failed, failed
            for event in result.get_asset_materialization_events():
                mat = event.materialization
                metadata[mat.asset_key.to_user_string()] = mat.metadata
    finally:
        mp.undo()
    return path, metadata


def _query(path, sql, params=(DAY,)) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, list(params)).df()


@pytest.fixture(scope="module")
def ratings(scaled) -> pd.DataFrame:
    return _query(
        scaled[0], "SELECT user_id, movie_id, rating, rated_at FROM ratings WHERE as_of = ?"
    )


@pytest.fixture(scope="module")
def stored(scaled):
    return _factors(_query(scaled[0], "SELECT * FROM recommender WHERE as_of = ?"))


def _factors(table: pd.DataFrame):
    """(table, global mean, {entity: (ids, biases, vectors)}) read by hand from the layout."""
    factors = {}
    for entity in ["user", "item"]:
        rows = table[table["entity"] == entity].sort_values("inner_id")
        factors[entity] = (
            rows["raw_id"].to_numpy(dtype=np.int64),
            rows["bias"].to_numpy(dtype=float),
            np.vstack(rows["factors"].to_numpy()),
        )
    mean = float(table.loc[table["entity"] == "global", "bias"].iloc[0])
    return table, mean, factors


def test_every_model_asset_records_the_scale_engine(scaled, ratings):
    _, metadata = scaled
    assert len(ratings) > 30_000
    for asset in ["svd_tuning", "recommender", "recommendations", "similar_movies"]:
        assert metadata[asset]["model"].value == "als", asset
    assert metadata["model_metrics"]["model"].value == "als"
    reason = metadata["recommender"]["engine_reason"].value
    assert reason == f"{len(ratings):,} ratings > MOVIE_MODEL_SCALE_THRESHOLD 1,000"


def test_tuning_is_the_als_grid_and_the_recommender_uses_its_choice(scaled, stored):
    path, metadata = scaled
    tuning = _query(path, "SELECT * FROM svd_tuning WHERE as_of = ? ORDER BY candidate")
    assert set(tuning["search"]) == {"als_grid_inner_holdout"}
    assert len(tuning) == 2 and tuning["chosen"].sum() == 1
    chosen = tuning.loc[tuning["chosen"]].iloc[0]
    assert chosen["mean_score"] == tuning["mean_score"].max()
    table, _, factors = stored
    assert set(table["model"]) == {"als"}
    width = json.loads(chosen["params"])["factors"]
    assert factors["user"][2].shape[1] == factors["item"][2].shape[1] == width
    # The first ALS snapshot has no earlier one to start from.
    assert metadata["recommender"]["fit"].value.startswith("from scratch (10 iterations): no ")


def _implicit_loss(data: RatingArrays, factors, alpha: float, reg: float) -> float:
    """Hu, Koren and Volinsky's objective over every user x movie cell, computed densely."""
    users = np.searchsorted(factors.user_ids, data.user_id)
    items = np.searchsorted(factors.item_ids, data.movie_id)
    preference = np.zeros((len(factors.user_ids), len(factors.item_ids)))
    confidence = np.ones_like(preference)
    preference[users, items] = 1.0
    confidence[users, items] = 1.0 + alpha * data.rating
    error = confidence * (preference - factors.pu @ factors.qi.T) ** 2
    return float(error.sum() + reg * ((factors.pu**2).sum() + (factors.qi**2).sum()))


def test_a_warm_start_continues_from_the_earlier_days_factors(embedded):
    """Three sweeps from yesterday's converged factors fit today's data about as well as a
    full fit, and far better than three sweeps from random vectors; new users are fitted."""
    sample = embedded[embedded["user_id"] % 3 == 0]
    today = _arrays(sample)
    cut = sample["rated_at"].quantile(0.98)
    yesterday = _arrays(sample[sample["rated_at"] < cut])
    params = {"factors": 8, "regularization": 0.05, "alpha": 1.0, "iterations": 15}
    earlier = als.fit(yesterday, params)
    warm = als.fit(today, params, start=earlier)
    full = als.fit(today, params)
    three = als.fit(today, {**params, "iterations": als.WARM_ITERATIONS})
    loss = {
        name: _implicit_loss(today, f, params["alpha"], params["regularization"])
        for name, f in [("warm", warm), ("full", full), ("three", three)]
    }
    assert loss["warm"] < 0.98 * loss["three"], loss
    assert loss["warm"] < 1.02 * loss["full"], loss
    new_users = np.setdiff1d(today.user_id, yesterday.user_id)
    assert len(new_users) and np.all(np.isfinite(warm.pu)), "the sample must have new users"
    rows = np.searchsorted(warm.user_ids, new_users)
    assert np.abs(warm.pu[rows]).max() > 0.02  # trained, not left at the 0.01-scale start


def test_recommender_layout_and_baseline_equal_surprise_baseline_only(ratings, stored):
    table, mean, factors = stored
    user_ids, bu, _ = factors["user"]
    item_ids, bi, _ = factors["item"]
    assert (table["entity"] == "global").sum() == 1
    assert np.array_equal(user_ids, np.sort(ratings["user_id"].unique()))
    assert np.array_equal(item_ids, np.sort(ratings["movie_id"].unique()))
    # Surprise's BaselineOnly with the same ALS options gives the same mean and biases.
    algo = BaselineOnly(
        bsl_options={"method": "als", "n_epochs": 10, "reg_u": 15, "reg_i": 10}, verbose=False
    )
    algo.fit(rating_models.trainset(ratings))
    trainset = algo.trainset
    assert mean == pytest.approx(trainset.global_mean, rel=1e-6)
    expected_bu = {trainset.to_raw_uid(i): b for i, b in enumerate(algo.bu)}
    expected_bi = {trainset.to_raw_iid(i): b for i, b in enumerate(algo.bi)}
    assert bu == pytest.approx([expected_bu[u] for u in user_ids], abs=1e-5)
    assert bi == pytest.approx([expected_bi[i] for i in item_ids], abs=1e-5)


def _assert_brute_force_top10(recs, ratings, mean, factors) -> None:
    """Each user's list in ``recs`` is the top 10 of the stored factors, recomputed by hand."""
    user_ids, bu, pu = factors["user"]
    item_ids, bi, qi = factors["item"]
    counts = ratings.groupby("movie_id").size()
    catalogue = sorted(counts[counts >= ranking.MIN_ITEM_RATINGS].index)
    seen = ratings.groupby("user_id")["movie_id"].agg(set)
    per_user = ratings.groupby("user_id").size()
    u_at = {u: k for k, u in enumerate(user_ids)}
    i_at = {m: k for k, m in enumerate(item_ids)}
    assert recs.merge(ratings, on=["user_id", "movie_id"]).empty
    for user, got in recs.sort_values("rank").groupby("user_id"):
        unseen = [m for m in catalogue if m not in seen[user]]
        warm = per_user[user] >= 5 and len(unseen) < len(catalogue)
        if warm:
            score = {m: float(pu[u_at[user]] @ qi[i_at[m]]) for m in unseen}
        else:
            score = {m: float(counts[m]) for m in unseen}
        expected = sorted(unseen, key=lambda m: (-score[m], m))[:10]
        assert got["score"].to_numpy() == pytest.approx([score[m] for m in expected], abs=1e-4)
        top = [score[m] for m in got["movie_id"]]
        assert top == pytest.approx([score[m] for m in expected], abs=1e-4)
        assert set(got["source"]) == {"personalized" if warm else "popular_cold_start"}
        stars = np.clip(mean + bu[u_at[user]] + bi[[i_at[m] for m in got["movie_id"]]], 0.5, 5)
        assert got["predicted_rating"].to_numpy() == pytest.approx(stars, abs=1e-9)


def test_recommendations_are_the_brute_force_top10_of_the_stored_factors(scaled, ratings, stored):
    recs = _query(scaled[0], "SELECT * FROM recommendations WHERE as_of = ?")
    _, mean, factors = stored
    assert set(recs["user_id"]) == set(factors["user"][0])
    _assert_brute_force_top10(recs, ratings, mean, factors)


def test_similar_movies_are_the_brute_force_cosine_neighbours(scaled, ratings, stored):
    similar = _query(scaled[0], "SELECT * FROM similar_movies WHERE as_of = ?")
    item_ids, _, qi = stored[2]["item"]
    counts = ratings.groupby("movie_id").size()
    warm = np.sort(counts[counts >= 5].index.to_numpy())
    assert set(similar.loc[similar["source"] == "personalized", "movie_id"]) == set(warm)
    vectors = qi[np.searchsorted(item_ids, warm)]
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    for movie, got in similar[similar["source"] == "personalized"].groupby("movie_id"):
        me = unit[np.searchsorted(warm, movie)]
        cosine = {m: float(me @ unit[k]) for k, m in enumerate(warm) if m != movie}
        expected = sorted(cosine, key=lambda m: (-cosine[m], m))[:10]
        got = got.sort_values("rank")
        assert got["similarity"].to_numpy() == pytest.approx(
            [cosine[m] for m in expected], abs=1e-5
        )


def _dense_edges(
    ratings: pd.DataFrame, min_movie: int, min_edge: int, top_k: int | None = None
) -> dict:
    """Co-rating counts from a dense users x movies 0/1 matrix: the graph before it was sparse.

    With ``top_k``, an edge stays if it is among the k heaviest (ties by id) of either movie.
    """
    counts = ratings.groupby("movie_id").size()
    movies = sorted(counts[counts >= min_movie].index)
    high = ratings[(ratings["rating"] >= 4.0) & ratings["movie_id"].isin(movies)]
    users = sorted(high["user_id"].unique())
    liked = np.zeros((len(users), len(movies)))
    liked[np.searchsorted(users, high["user_id"]), np.searchsorted(movies, high["movie_id"])] = 1
    both = liked.T @ liked
    edges = {
        (movies[a], movies[b]): int(both[a, b])
        for a in range(len(movies))
        for b in range(a + 1, len(movies))
        if both[a, b] >= min_edge
    }
    if top_k is None:
        return edges
    lists = {}
    for (a, b), w in edges.items():
        lists.setdefault(a, []).append((-w, b))
        lists.setdefault(b, []).append((-w, a))
    keep = {(min(n, o), max(n, o)) for n, nbrs in lists.items() for _, o in sorted(nbrs)[:top_k]}
    return {pair: w for pair, w in edges.items() if pair in keep}


def test_graph_tables_match_dense_co_rating_counts(scaled, ratings):
    central = _query(scaled[0], "SELECT * FROM movie_centrality WHERE as_of = ?")
    communities = _query(scaled[0], "SELECT * FROM movie_communities WHERE as_of = ?")
    edges = _dense_edges(
        ratings, GRAPH["min_movie_ratings"], GRAPH["min_edge_users"], GRAPH["top_k"]
    )
    assert len(edges) < len(_dense_edges(ratings, 15, 5))  # the cap binds
    degree, strength = {}, {}
    for (a, b), w in edges.items():
        for node in (a, b):
            degree[node] = degree.get(node, 0) + 1
            strength[node] = strength.get(node, 0) + w
    got = central.set_index("movie_id")
    assert set(got.index) == set(degree)
    assert got["degree"].to_dict() == degree
    assert got["strength"].to_dict() == strength
    assert communities["size"].sum() == len(degree)


def test_sparse_edges_equal_dense_counts_on_the_embedded_data(embedded):
    got = graph.co_rating_edges(embedded)
    assert {(a, b): w for a, b, w in got.itertuples(index=False)} == _dense_edges(
        embedded, graph.MIN_MOVIE_RATINGS, graph.MIN_EDGE_USERS
    )


def test_top_k_keeps_an_edge_among_the_heaviest_of_either_movie(embedded):
    k = 5
    full = _dense_edges(embedded, 50, 20)
    lists = {}
    for (a, b), w in full.items():
        lists.setdefault(a, []).append((-w, b))
        lists.setdefault(b, []).append((-w, a))
    keep = {(min(n, o), max(n, o)) for n, nbrs in lists.items() for _, o in sorted(nbrs)[:k]}
    got = graph.co_rating_edges(embedded, top_k=k)
    assert {(a, b) for a, b, _ in got.itertuples(index=False)} == keep
    assert set(got["weight"]) <= set(full.values())
    capped = graph.co_rating_edges(embedded, max_movies=40)
    most_rated = embedded.groupby("movie_id").size().sort_values(ascending=False, kind="stable")
    allowed = set(most_rated.index[:40])
    assert set(capped["movie_a"]) | set(capped["movie_b"]) <= allowed


def test_model_metrics_at_scale_keep_the_pinned_definitions(scaled, ratings):
    metrics = _query(scaled[0], "SELECT * FROM model_metrics WHERE as_of = ?")
    wide = metrics.pivot_table(index="model", columns="metric", values="value")
    assert {"most_popular", "als", "ease", "global_mean", "baseline_only"} <= set(wide.index)
    assert set(metrics["protocol"]) == {"per_user_chronological"}
    # Most-popular by hand: pandas hold-out, python lists, precision and recall at 10.
    train, test = evaluation.per_user_holdout(ratings)
    counts = train.groupby("movie_id").size()
    catalogue = counts[counts >= ranking.MIN_ITEM_RATINGS]
    order = sorted(catalogue.index, key=lambda m: (-catalogue[m], m))
    seen = train.groupby("user_id")["movie_id"].agg(set)
    held = test.groupby("user_id")["movie_id"].agg(set)
    precision, recall = [], []
    for user, relevant in held.items():
        top = [m for m in order if m not in seen.get(user, set())][:10]
        hits = len(set(top) & relevant)
        precision.append(hits / 10)
        recall.append(hits / len(relevant))
    assert wide.loc["most_popular", "precision_at_10"] == pytest.approx(np.mean(precision))
    assert wide.loc["most_popular", "recall_at_10"] == pytest.approx(np.mean(recall))
    assert wide.loc["global_mean", "rmse"] == pytest.approx(
        np.sqrt(np.mean((test["rating"] - train["rating"].mean()) ** 2)), rel=1e-5
    )


def test_array_holdout_equals_the_pandas_holdout(embedded):
    train_mask, test_mask = arrays.per_user_holdout(_arrays(embedded))
    _, test = evaluation.per_user_holdout(embedded)
    assert set(embedded.index[test_mask]) == set(test.index)
    assert (train_mask ^ test_mask).all()


def test_ease_weights_from_sparse_equal_the_dense_closed_form():
    rng = np.random.default_rng(0)
    x = (rng.random((30, 8)) < 0.4).astype(float)
    data = ranking.Interactions(
        np.arange(30), np.arange(8), x, pd.Series(x.sum(axis=0), index=np.arange(8))
    )
    weights = als.ease_weights(sp.csr_matrix(x), 5.0)
    assert x @ weights == pytest.approx(ranking.ease_scores(data, 5.0), rel=1e-9, abs=1e-12)


def test_indexed_positions_equal_a_python_dictionary(embedded):
    data = _arrays(embedded)
    idx = arrays.Indexed.of(data)
    users = sorted(set(embedded["user_id"]))
    movies = sorted(set(embedded["movie_id"]))
    assert idx.user_ids.tolist() == users and idx.item_ids.tolist() == movies
    at_user = {u: i for i, u in enumerate(users)}
    at_movie = {m: i for i, m in enumerate(movies)}
    assert idx.users.tolist() == [at_user[u] for u in embedded["user_id"]]
    assert idx.items.tolist() == [at_movie[m] for m in embedded["movie_id"]]


def test_unseen_violations_are_the_listed_pairs_the_user_rated(embedded):
    data = _arrays(embedded)
    rated = set(zip(embedded["user_id"], embedded["movie_id"], strict=True))
    rng = np.random.default_rng(1)
    pick = rng.choice(len(embedded), 40, replace=False)
    listed = pd.DataFrame(
        {  # 40 rated pairs, 40 random pairs (mostly unrated), a movie id above every rated one
            "user_id": np.r_[embedded["user_id"].to_numpy()[pick], rng.choice(671, 40) + 1, 1],
            "movie_id": np.r_[
                embedded["movie_id"].to_numpy()[pick],
                rng.choice(embedded["movie_id"].unique(), 40),
                embedded["movie_id"].max() + 7,
            ],
        }
    )
    expected = [
        i
        for i, pair in enumerate(zip(listed["user_id"], listed["movie_id"], strict=True))
        if pair in rated
    ]
    assert len(expected) >= 40
    assert als.unseen_violations(data, listed).index.tolist() == expected


DAY0 = "2016-10-15"
GRAPH_TABLES = ["movie_communities", "movie_centrality"]
MODEL_TABLES = [
    "ratings",
    "movies",
    "svd_tuning",
    "recommender",
    "recommendations",
    "similar_movies",
    *GRAPH_TABLES,
]


@pytest.fixture(scope="module")
def folded(scaled, embedded, tmp_path_factory):
    """The scaled warehouse's model snapshots moved to DAY0, then 20 new users and 5 known
    ones rate on DAY: the day after a full fit keeps the item side and refits the raters.

    Returns (path, metadata by asset, the users who rated since DAY0).
    """
    path = tmp_path_factory.mktemp("folded") / "warehouse.duckdb"
    shutil.copy(scaled[0], path)
    with duckdb.connect(str(path)) as con:
        for table in MODEL_TABLES:
            con.execute(f"UPDATE {table} SET as_of = DATE '{DAY0}' WHERE as_of = DATE '{DAY}'")
            con.execute(
                f"UPDATE partition_log SET first_day = DATE '{DAY0}', last_day = DATE '{DAY0}' "
                f"WHERE table_name = '{table}' AND last_day = DATE '{DAY}'"
            )
        con.execute(f"UPDATE recommender SET fitted_on = DATE '{DAY0}'")
        for table in GRAPH_TABLES:
            con.execute(f"UPDATE {table} SET built_on = DATE '{DAY0}'")
        day0 = con.execute("SELECT * FROM ratings WHERE as_of = ?", [DAY0]).df()
        known = set(
            con.execute("SELECT movie_id FROM movies WHERE as_of = ?", [DAY0]).df()["movie_id"]
        )
        newcomers = sorted(set(embedded["user_id"]) - set(day0["user_id"]))[:20]
        fresh = embedded[embedded["user_id"].isin(newcomers) & embedded["movie_id"].isin(known)]
        regulars = sorted(day0["user_id"].unique())[:5]
        popular = day0["movie_id"].value_counts().index[:40]
        rated = set(zip(day0["user_id"], day0["movie_id"], strict=True))
        more = [
            (u, m, 4.5) for u in regulars for m in [m for m in popular if (u, m) not in rated][:3]
        ]
        noon = pd.Timestamp(DAY) + pd.Timedelta(hours=12)
        added = pd.concat(
            [
                fresh[["user_id", "movie_id", "rating"]],
                pd.DataFrame(more, columns=["user_id", "movie_id", "rating"]),
            ],
            ignore_index=True,
        ).assign(rated_at=noon)
        day = pd.concat([day0.drop(columns="as_of"), added], ignore_index=True)
        raters = sorted(set(day.loc[day["rated_at"] >= pd.Timestamp(DAY), "user_id"]))
        con.execute(
            f"INSERT INTO ratings BY NAME SELECT DATE '{DAY}' AS as_of, user_id, movie_id, "
            "rating, rated_at, rated_at::DATE AS rating_date FROM day"
        )
        con.execute(
            f"INSERT INTO movies SELECT * REPLACE (DATE '{DAY}' AS as_of) FROM movies "
            "WHERE as_of = ?",
            [DAY0],
        )
        for table in ["ratings", "movies"]:
            log_partition(con, table, date.fromisoformat(DAY), date.fromisoformat(DAY), 0)
    mp = pytest.MonkeyPatch()
    mp.setenv("MOVIE_MODEL_SCALE_THRESHOLD", "1000")
    try:
        defs = build_defs(build_resources(path))
        result = defs.resolve_job_def("movie_graph").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(),
            partition_key=DAY,
            asset_selection=[
                dg.AssetKey(a)
                for a in ["recommender", "recommendations", "similar_movies", *GRAPH_TABLES]
            ],
        )
    finally:
        mp.undo()
    assert result.success
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert not failed, failed
    metadata = {
        e.materialization.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    return path, metadata, raters


def test_a_fold_in_refits_only_the_days_raters_against_the_weeks_item_side(folded):
    path, metadata, raters = folded
    before = _factors(_query(path, "SELECT * FROM recommender WHERE as_of = ?", [DAY0]))
    table, mean, after = _factors(_query(path, "SELECT * FROM recommender WHERE as_of = ?", [DAY]))
    fit = metadata["recommender"]["fit"].value
    assert fit.startswith(f"fold-in of the users who rated since {DAY0}"), fit
    assert metadata["recommender"]["folded_users"].value == len(raters) >= 25
    # The item side and the mean are the week's.
    assert mean == before[1]
    for part in range(3):
        assert np.array_equal(after["item"][part], before[2]["item"][part])
    # Users who did not rate keep their rows; the day's raters are refitted.
    user_ids, bu, pu = after["user"]
    old_ids, old_bu, old_pu = before[2]["user"]
    assert set(user_ids) == set(old_ids) | set(raters)
    stay = ~np.isin(user_ids, raters)
    at_old = np.searchsorted(old_ids, user_ids[stay])
    assert np.array_equal(pu[stay], old_pu[at_old]) and np.array_equal(bu[stay], old_bu[at_old])
    users = table[table["entity"] == "user"].sort_values("inner_id")
    days = users["fitted_on"].dt.strftime("%Y-%m-%d").to_numpy()
    assert set(days[stay]) == {DAY0} and set(days[~stay]) == {DAY}
    assert set(table.loc[table["entity"] != "user", "fitted_on"].dt.strftime("%Y-%m-%d")) == {DAY0}
    # Each rater's vector solves the implicit-feedback normal equations against fixed items
    # (Hu, Koren and Volinsky): (Q'Q + reg I + sum (c-1) q q') x = sum c q, c = 1 + alpha r.
    params = json.loads(
        _query(path, "SELECT params FROM svd_tuning WHERE as_of = ? AND chosen", [DAY0])["params"][
            0
        ]
    )
    alpha, reg = params["alpha"], params["regularization"]
    item_ids, bi, qi = after["item"]
    today = _query(path, "SELECT user_id, movie_id, rating FROM ratings WHERE as_of = ?", [DAY])
    for user in raters:
        mine = today[(today["user_id"] == user) & today["movie_id"].isin(item_ids)]
        q = qi[np.searchsorted(item_ids, mine["movie_id"])]
        c = 1.0 + alpha * mine["rating"].to_numpy()
        a = qi.T @ qi + reg * np.eye(qi.shape[1]) + (q.T * (c - 1)) @ q
        x = np.linalg.solve(a, q.T @ c)
        row = np.searchsorted(user_ids, user)
        assert pu[row] == pytest.approx(x, rel=1e-3, abs=1e-4), user
        residual = (
            mine["rating"].to_numpy() - mean - bi[np.searchsorted(item_ids, mine["movie_id"])]
        )
        assert bu[row] == pytest.approx(residual.sum() / (als.BASELINE["reg_u"] + len(mine)))


def test_after_a_fold_in_only_the_raters_lists_change(folded):
    path, metadata, raters = folded
    recs = _query(path, "SELECT * FROM recommendations WHERE as_of = ?", [DAY])
    earlier = _query(path, "SELECT * FROM recommendations WHERE as_of = ?", [DAY0])
    assert metadata["recommendations"]["ranked_users"].value == len(raters)
    assert metadata["recommendations"]["other_lists_from"].value == DAY0
    columns = ["user_id", "rank", "movie_id", "score", "source"]
    kept = recs[~recs["user_id"].isin(raters)][columns].reset_index(drop=True)
    expected = earlier[~earlier["user_id"].isin(raters)][columns]
    pd.testing.assert_frame_equal(
        kept, expected.sort_values(["user_id", "rank"], ignore_index=True)
    )
    _, mean, factors = _factors(_query(path, "SELECT * FROM recommender WHERE as_of = ?", [DAY]))
    ratings = _query(path, "SELECT user_id, movie_id, rating FROM ratings WHERE as_of = ?", [DAY])
    assert set(recs["user_id"]) == set(ratings["user_id"])
    _assert_brute_force_top10(recs[recs["user_id"].isin(raters)], ratings, mean, factors)
    # Similar movies come from item vectors, which did not change.
    columns = ["movie_id", "rank", "similar_movie_id", "similarity", "source"]
    similar = _query(
        path, "SELECT * FROM similar_movies WHERE as_of = ? ORDER BY movie_id, rank", [DAY]
    )
    before = _query(
        path, "SELECT * FROM similar_movies WHERE as_of = ? ORDER BY movie_id, rank", [DAY0]
    )
    pd.testing.assert_frame_equal(similar[columns], before[columns])
    assert metadata["similar_movies"]["carried_from"].value == DAY0


def test_at_scale_a_day_within_the_week_carries_the_graph_over(folded):
    path, metadata, _ = folded
    for table, key in zip(GRAPH_TABLES, ["community_id", "movie_id"], strict=True):
        sql = f"SELECT * EXCLUDE (as_of) FROM {table} WHERE as_of = ? ORDER BY {key}"
        today, week = _query(path, sql, [DAY]), _query(path, sql, [DAY0])
        assert len(week) > 0
        pd.testing.assert_frame_equal(today, week)
        assert metadata[table]["built_on"].value == DAY0
