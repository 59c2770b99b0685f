"""The scale model on the Spark engine: MLlib ALS trained in the graph, stored as implicit's is.

A generated archive in the ml-25m layout is ingested, then the ``recommender`` and
``recommendations`` assets (and what they read) run with ``MOVIE_ENGINE=spark`` in
local mode and MOVIE_MODEL_SCALE_THRESHOLD below the snapshot's size, so the assets
take the ALS branch. The factor table is compared with the layout of the in-process
ALS fit on the same ratings; the top 10 of every user is recomputed here from the
stored factors with numpy (dot products over every trained movie, rated ones
dropped) and from the ratings (most-rated for cold users).
"""

from __future__ import annotations

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest

from benchmarks.archives import movielens_zip
from benchmarks.spark_engine import resources
from movie_assets.build import BuildReport, run_history
from movie_assets.definitions import build_defs
from movie_assets.model import als, arrays
from movie_assets.resources import Engine
from movie_assets.schemas import TABLES, column_types, conform

pytestmark = pytest.mark.spark

RATINGS = 30_000
FIRST, AS_OF = "2014-10-17", "2016-10-16"
THRESHOLD = 1000
# MLlib scores in float32.
TOL = 1e-4


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(warehouse path, materialization metadata by asset, check results by name)."""
    tmp = tmp_path_factory.mktemp("spark_als")
    zip_path = tmp / "ml-25m.zip"
    movielens_zip(zip_path, RATINGS, seed=5)
    path = tmp / "warehouse.duckdb"
    report = BuildReport()
    run_history(
        build_defs(resources(path, zip_path)), dg.DagsterInstance.ephemeral(), FIRST, AS_OF, report
    )
    assert report.ok, report
    engine = Engine(kind="spark", spark_warehouse=str(tmp / "parquet"))
    mp = pytest.MonkeyPatch()
    mp.setenv("MOVIE_MODEL_SCALE_THRESHOLD", str(THRESHOLD))
    try:
        defs = build_defs(resources(path, zip_path, engine))
        wanted = dg.AssetSelection.assets("recommender", "recommendations")
        selection = wanted.upstream() - dg.AssetSelection.assets("raw_ratings", "svd_tuning")
        result = defs.resolve_job_def("movie_graph").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(),
            partition_key=AS_OF,
            asset_selection=list(selection.resolve(defs.resolve_asset_graph())),
        )
    finally:
        mp.undo()
    assert result.success
    metadata = {
        e.materialization.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    checks = {
        (e.asset_key.to_user_string(), e.check_name): e.passed
        for e in result.get_asset_check_evaluations()
    }
    return path, metadata, checks, tmp / "parquet"


def _query(path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, [AS_OF]).df()


@pytest.fixture(scope="module")
def ratings(built) -> pd.DataFrame:
    return _query(
        built[0], "SELECT user_id, movie_id, rating, rated_at FROM ratings WHERE as_of = ?"
    )


def test_the_recommender_is_mllib_in_the_engine_stored_in_the_single_machine_layout(built, ratings):
    path, metadata, _, parquet = built
    assert len(ratings) > THRESHOLD
    meta = metadata["recommender"]
    assert meta["model"].value == "als"
    assert meta["trained_by"].value == "Spark MLlib ALS, Spark engine"
    assert meta["trained_on"].value == len(ratings)
    assert metadata["recommendations"]["ranked_by"].value.startswith("Spark MLlib")
    assert (parquet / "_models" / "recommender" / f"as_of={AS_OF}" / "metadata").is_dir()

    table = _query(path, "SELECT * FROM recommender WHERE as_of = ?")
    # The in-process ALS on the same ratings writes the same columns, types and entities.
    data = arrays.RatingArrays(
        ratings["user_id"].to_numpy(),
        ratings["movie_id"].to_numpy(),
        ratings["rating"].to_numpy(dtype=np.float32),
        (ratings["rated_at"].astype("int64") // 10**9).to_numpy(),
    )
    local = conform(
        TABLES["recommender"],
        als.fit(data, {"iterations": 1}).to_table(pd.Timestamp(AS_OF).date(), model="als"),
    )
    assert list(table.columns) == list(local.columns) == list(column_types(TABLES["recommender"]))
    assert table.groupby("entity").size().to_dict() == local.groupby("entity").size().to_dict()
    for entity, ids in [("user", ratings["user_id"]), ("item", ratings["movie_id"])]:
        rows = table[table["entity"] == entity]
        assert sorted(rows["raw_id"]) == sorted(ids.unique()), entity
        assert set(rows["factors"].map(len)) == {als.DEFAULT_PARAMS["factors"]}
    assert set(table["model"]) == {"als"}


def _factors(table: pd.DataFrame, entity: str):
    rows = table[table["entity"] == entity].sort_values("inner_id")
    return (
        rows["raw_id"].to_numpy(dtype=np.int64),
        rows["bias"].to_numpy(dtype=float),
        np.vstack(rows["factors"].to_numpy()),
    )


def test_the_top_10_is_the_stored_factors_ranking_of_unseen_movies(built, ratings):
    path, _, checks, _ = built
    table = _query(path, "SELECT * FROM recommender WHERE as_of = ?")
    recs = _query(path, "SELECT * FROM recommendations WHERE as_of = ?")
    user_ids, bu, pu = _factors(table, "user")
    item_ids, bi, qi = _factors(table, "item")
    mean = float(table.loc[table["entity"] == "global", "bias"].iloc[0])
    seen = ratings.groupby("user_id")["movie_id"].agg(set)
    counts = ratings.groupby("movie_id").size()
    scores = pu @ qi.T

    assert set(recs["user_id"]) == set(seen.index)
    assert recs.merge(ratings, on=["user_id", "movie_id"]).empty
    sizes = recs.groupby("user_id").size()
    assert sizes.max() <= 10
    warm_users = 0
    for user, got in recs.sort_values("rank").groupby("user_id"):
        assert got["rank"].tolist() == list(range(1, len(got) + 1)), user
        unseen = np.array([m for m in item_ids if m not in seen[user]])
        assert len(got) == min(10, len(unseen)), user
        if len(seen[user]) >= als.MIN_USER_RATINGS:
            warm_users += 1
            row = scores[np.searchsorted(user_ids, user)]
            score = row[np.searchsorted(item_ids, unseen)]
            source = "personalized"
        else:
            score = counts.reindex(unseen).to_numpy(dtype=float)
            source = "popular_cold_start"
        best = np.sort(score)[::-1][: len(got)]
        by_id = dict(zip(unseen.tolist(), score, strict=True))
        picked = np.array([by_id[m] for m in got["movie_id"]])
        # Scores, and the picked movies' own scores, equal numpy's best: near-ties may swap.
        assert got["score"].to_numpy() == pytest.approx(best, rel=TOL, abs=TOL), user
        assert picked == pytest.approx(best, rel=TOL, abs=TOL), user
        assert set(got["source"]) == {source}, user
        at = np.searchsorted(item_ids, got["movie_id"].to_numpy())
        stars = np.clip(mean + bu[np.searchsorted(user_ids, user)] + bi[at], 0.5, 5.0)
        assert got["predicted_rating"].to_numpy() == pytest.approx(stars, abs=1e-9), user
    assert warm_users > 0.5 * len(sizes)
    for check in ["unseen_only", "every_user"]:
        assert checks[("recommendations", check)] is True, check
