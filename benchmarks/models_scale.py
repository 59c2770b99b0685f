"""The model layer's pieces on synthetic ratings of 1M, 25M and 100M: time and peak memory.

Generate seeded arrays once, then time one piece per process so that
``/usr/bin/time -v`` reports that piece's peak RSS:

    python benchmarks/models_scale.py generate 25M            # /tmp/models_scale/25M.npz
    /usr/bin/time -v python benchmarks/models_scale.py als 25M        # saves the factors
    /usr/bin/time -v python benchmarks/models_scale.py recommend 25M  # scores from them
    /usr/bin/time -v python benchmarks/models_scale.py similar 25M
    /usr/bin/time -v python benchmarks/models_scale.py graph 25M
    /usr/bin/time -v python benchmarks/models_scale.py evaluate 25M
    /usr/bin/time -v python benchmarks/models_scale.py tune 25M
    /usr/bin/time -v python benchmarks/models_scale.py read 25M   # DuckDB to numpy
    /usr/bin/time -v python benchmarks/models_scale.py surprise 200k  # the small path's cost

Shapes follow the real data: 1M like ml-1m (6,040 users, 3,706 movies), 25M like
ml-25m (162,541 users, 59,047 movies), 100M like the Netflix Prize (480,189 users,
17,770 movies). User activity and movie popularity are power laws, ratings are
half stars around a movie quality and a user bias, timestamps span 1995-2019.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

SHAPES = {
    "100k": (671, 9_066),
    "200k": (1_350, 12_000),
    "1M": (6_040, 3_706),
    "5M": (32_500, 25_000),
    "25M": (162_541, 59_047),
    "100M": (480_189, 17_770),
}
OUT = Path(os.environ.get("MODELS_SCALE_DIR", "/tmp/models_scale"))


def size_of(label: str) -> int:
    number, unit = label[:-1], label[-1]
    return int(float(number) * {"k": 1e3, "M": 1e6}[unit])


def synthetic(label: str, seed: int = 0) -> dict[str, np.ndarray]:
    """Distinct (user, movie) pairs in key order, with ratings and epoch seconds."""
    n, (n_users, n_movies) = size_of(label), SHAPES[label]
    rng = np.random.default_rng(seed)
    activity = rng.pareto(1.2, n_users) + 1.0
    # No user rates more than a quarter of the catalogue (ml-25m's heaviest: about half).
    activity = np.minimum(activity / activity.sum() * n, n_movies / 4)
    # The most-rated movie gets about 0.3 % of the ratings, as in ml-25m (81k of 25M).
    popularity = 1.0 / (np.arange(n_movies) + 50.0)
    popularity = popularity[rng.permutation(n_movies)]
    keys = np.empty(0, dtype=np.int64)
    for _ in range(4):  # duplicates are dropped: top up a few times, then keep what there is
        if len(keys) >= n:
            break
        draw = int((n - len(keys)) * 1.5) + 1000
        users = rng.choice(n_users, draw, p=activity / activity.sum()).astype(np.int64)
        movies = rng.choice(n_movies, draw, p=popularity / popularity.sum()).astype(np.int64)
        keys = np.unique(np.concatenate([keys, users * n_movies + movies]))
    keys = np.sort(rng.choice(keys, min(n, len(keys)), replace=False))
    n = len(keys)
    user, movie = keys // n_movies, keys % n_movies
    quality = rng.normal(0, 0.5, n_movies)
    bias = rng.normal(0, 0.4, n_users)
    raw = 3.5 + quality[movie] + bias[user] + rng.normal(0, 0.9, n)
    rating = np.clip(np.round(raw * 2) / 2, 0.5, 5.0).astype(np.float32)
    start, end = 788_918_400, 1_577_836_800  # 1995-01-01 .. 2020-01-01
    first = rng.integers(start, end - 86_400 * 400, n_users)
    rated_at = first[user] + rng.integers(0, 86_400 * 400, n)
    return {
        "user_id": (user + 1).astype(np.int64),
        "movie_id": (movie + 1).astype(np.int64),
        "rating": rating,
        "rated_at": rated_at.astype(np.int64),
    }


def load(label: str):
    from movie_assets.model.arrays import RatingArrays

    data = np.load(OUT / f"{label}.npz")
    return RatingArrays(
        data["user_id"], data["movie_id"], data["rating"], data["rated_at"].astype(np.int64)
    )


def frame(label: str) -> pd.DataFrame:
    data = np.load(OUT / f"{label}.npz")
    return pd.DataFrame(
        {
            "user_id": data["user_id"],
            "movie_id": data["movie_id"],
            "rating": data["rating"].astype(float),
            "rated_at": pd.to_datetime(data["rated_at"], unit="s"),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "piece",
        choices=[
            "generate",
            "als",
            "recommend",
            "similar",
            "graph",
            "evaluate",
            "tune",
            "read",
            "surprise",
        ],
    )
    parser.add_argument("size", choices=list(SHAPES))
    parser.add_argument("--factors", type=int, default=None, help="ALS factors (als only)")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.piece == "generate":
        OUT.mkdir(parents=True, exist_ok=True)
        np.savez(OUT / f"{args.size}.npz", **synthetic(args.size))
    elif args.piece == "surprise":
        surprise_layer(frame(args.size))
    elif args.piece == "read":
        read_through_duckdb(args.size)
    else:
        scale_piece(args.piece, load(args.size), args.factors)
    print(f"{args.piece} {args.size}: {time.perf_counter() - started:.1f} s")


def scale_piece(piece: str, data, factors: int | None = None) -> None:
    from movie_assets.model import als, graph, scale_eval

    if piece == "als":
        model = als.fit(data, {"factors": factors} if factors else None)
        np.savez(OUT / "factors.npz", **vars(model))
        print(f"users {len(model.user_ids)}, items {len(model.item_ids)}")
    elif piece == "recommend":
        top = als.recommend(data, fitted())
        print(f"top-10 of {top['user_id'].nunique()} users")
    elif piece == "similar":
        out = als.similar_items(fitted(), als.warm_items(data))
        print(f"{len(out)} neighbours")
    elif piece == "graph":
        edges = graph.co_rating_edges_arrays(data)
        g = graph.build_graph(edges)
        tick = time.perf_counter()
        graph.communities(g)
        graph.centrality(g)
        print(
            f"{g.number_of_nodes()} nodes, {g.number_of_edges()} edges; "
            f"communities + centrality {time.perf_counter() - tick:.1f} s"
        )
    elif piece == "evaluate":
        out = scale_eval.evaluate(data, als.DEFAULT_PARAMS)
        print(out.pivot_table(index="model", columns="metric", values="value").to_string())
    elif piece == "tune":
        best, rows = scale_eval.tune(data)
        print(best)
        print(rows.to_string())


def fitted():
    """The factors the last ``als`` run saved (run it on the same size first)."""
    from movie_assets.model.svd import Factors

    saved = np.load(OUT / "factors.npz")
    return Factors(**{k: saved[k] for k in saved.files})


def read_through_duckdb(label: str) -> None:
    """Write the arrays as a ratings snapshot in a DuckDB file, then time the model's read."""
    import duckdb

    from movie_assets.model import arrays

    path = OUT / f"{label}.duckdb"
    if not path.exists():
        data = frame(label)
        with duckdb.connect(str(path)) as con:
            con.execute(
                "CREATE TABLE ratings AS SELECT DATE '2019-12-31' AS as_of, user_id, movie_id, "
                "rating::DOUBLE AS rating, rated_at, rated_at::DATE AS rating_date FROM data"
            )
        del data
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE IF NOT EXISTS partition_log AS SELECT 'ratings' AS table_name, "
            "DATE '2019-12-31' AS first_day, DATE '2019-12-31' AS last_day, count(*) AS row_count, "
            "now()::TIMESTAMP AS written_at FROM ratings"
        )
    tick = time.perf_counter()
    # The product's DuckDB settings (resources.py): 2 threads, a 2 GB memory limit.
    config = {"threads": 2, "memory_limit": "2GB"}
    with duckdb.connect(str(path), read_only=True, config=config) as con:
        got = arrays.fetch_ratings(con, pd.Timestamp("2019-12-31").date())
    print(f"{len(got.rating)} rows read in {time.perf_counter() - tick:.1f} s")


def surprise_layer(ratings: pd.DataFrame) -> None:
    """svd_tuning and model_metrics of the small path, with the build's default configuration."""
    from movie_assets.model import evaluation, rating_models, tuning
    from movie_assets.model.assets import UNTUNED, TuningConfig
    from movie_assets.model.lists import ranking_evaluation

    config = TuningConfig()
    train, test = evaluation.per_user_holdout(ratings)
    tick = time.perf_counter()
    grid = {k: getattr(config, k) for k in tuning.SVD_GRID}
    best, _ = tuning.search_svd(train, grid, config.method, config.n_iter, config.cv, 0)
    tuning.search_ranking(train, best, tuning.RANKING_GRID, 0)
    print(f"svd_tuning {time.perf_counter() - tick:.1f} s")
    tick = time.perf_counter()
    models = rating_models.factories(best, 0, False, False)
    rating_models.evaluate(models, evaluation.random_folds(ratings, 5, 0))
    rating_models.evaluate(models, [(train, test)])
    ranking_evaluation(train, test, best, UNTUNED["ranking_"])
    print(f"model_metrics {time.perf_counter() - tick:.1f} s")


if __name__ == "__main__":
    main()
