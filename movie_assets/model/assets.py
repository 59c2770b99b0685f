"""The recommender: tuned models, honest metrics, top-10 lists and similar movies.

``svd_tuning`` runs the searches (minutes); ``recommender`` trains the chosen
model and ``recommendations`` scores every user (seconds). Every model is stored
as tables, never pickled. The movie graph assets live in graph_assets.py.

Two engines behind the same assets and tables, chosen by the snapshot's size
(``settings.model_scale_threshold``): Surprise SVD, KNN and EASE for small data,
implicit ALS with batched scoring (als.py, scale_eval.py) above the threshold.
Each materialization records which in its metadata (``model``, ``engine_reason``).
"""

from datetime import date, timedelta

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from movie_assets import checks
from movie_assets.model import (
    als,
    arrays,
    evaluation,
    lists,
    rating_models,
    scale_eval,
    scale_model,
    svd,
    tuning,
)
from movie_assets.model.graph_assets import co_rating_graph
from movie_assets.model.scale_model import Engine, engine
from movie_assets.table_asset import Rows, table_asset
from movie_assets.warehouse import read_latest_snapshot, read_snapshot

__all__ = [
    "svd_tuning",
    "recommender",
    "model_metrics",
    "recommendations",
    "similar_movies",
    "co_rating_graph",
]

# The searches run weekly (job model_evaluation); daily training uses the newest tuning.
TUNING_MAX_AGE_DAYS = 7
WEEKLY_TUNING = dg.AssetDep(
    "svd_tuning",
    partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-(TUNING_MAX_AGE_DAYS - 1)),
)
SVD_SEARCH = "svd_"
RANKING_SEARCH = "ranking_"
ALS_SEARCH = "als_"


def _arrays(duckdb: DuckDBResource, day) -> arrays.RatingArrays:
    with duckdb.get_connection() as con:
        return arrays.fetch_ratings(con, day)


class TuningConfig(dg.Config):
    method: str = "random"
    n_iter: int = 6
    cv: int = 3
    n_factors: list[int] = tuning.SVD_GRID["n_factors"]
    n_epochs: list[int] = tuning.SVD_GRID["n_epochs"]
    lr_all: list[float] = tuning.SVD_GRID["lr_all"]
    reg_all: list[float] = tuning.SVD_GRID["reg_all"]
    ease_lambda: list[float] = tuning.RANKING_GRID["ease_lambda"]
    svd_weight: list[float] = tuning.RANKING_GRID["svd_weight"]
    als_factors: list[int] = scale_eval.ALS_GRID["factors"]
    als_regularization: list[float] = scale_eval.ALS_GRID["regularization"]
    als_alpha: list[float] = scale_eval.ALS_GRID["alpha"]
    seed: int = 0


class ModelConfig(dg.Config):
    seed: int = 0


class MetricsConfig(dg.Config):
    """The build's default is fast; the weekly schedule turns on ``knn`` and ``stacked``.

    ``knn`` adds item KNNBaseline and the fixed SVD+KNN average; ``stacked``
    adds user KNNBaseline and the stacked blend of SVD, item and user
    KNNBaseline and BaselineOnly, the only model under 0.860 random 5-fold RMSE.
    Both on: about 200 s instead of 30 s on 2 cores (docs/evaluation.md).
    """

    seed: int = 0
    folds: int = 5
    knn: bool = False
    stacked: bool = False


def _read(duckdb: DuckDBResource, day, *names: str) -> list[pd.DataFrame]:
    with duckdb.get_connection() as con:
        return [read_snapshot(con, name, day) for name in names]


# Used until a weekly tuning exists within TUNING_MAX_AGE_DAYS of the day (a first run, or a
# watch-log file for an old day): Surprise's SVD defaults and the middle of the ranking grid.
UNTUNED = {
    SVD_SEARCH: {},
    RANKING_SEARCH: {"ease_lambda": 100.0, "svd_weight": 0.1},
    ALS_SEARCH: {},
}
TUNING_FRESH_DESCRIPTION = (
    f"A weekly svd_tuning at most {TUNING_MAX_AGE_DAYS} days old chose the parameters "
    "(else the untuned defaults were used: a warning)."
)


def _tuned(duckdb: DuckDBResource, day, search: str):
    """The chosen params of the newest recent tuning, or the defaults; with a freshness check."""
    with duckdb.get_connection() as con:
        try:
            table = read_latest_snapshot(con, "svd_tuning", day, TUNING_MAX_AGE_DAYS)
            params = tuning.chosen(table, search)
        except LookupError as missing:
            check = dg.AssetCheckResult(
                check_name="tuning_fresh",
                passed=False,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"reason": str(missing), "params": UNTUNED[search]},
            )
            return UNTUNED[search], None, check
    tuned_as_of = str(table["as_of"].iloc[0].date())
    check = dg.AssetCheckResult(
        check_name="tuning_fresh", passed=True, metadata={"tuned_as_of": tuned_as_of}
    )
    return params, tuned_as_of, check


def _md(frame: pd.DataFrame) -> dg.MetadataValue:
    return dg.MetadataValue.md(frame.to_markdown(index=False, floatfmt=".4f"))


@table_asset(deps=["ratings"], kinds={"surprise"})
def svd_tuning(config: TuningConfig, day: date, duckdb: DuckDBResource) -> Rows:
    """SVD search by cross-validated RMSE, then the served ranking's blend by validation NDCG@10.

    Both see only the training side of the chronological hold-out (tuning.py). At
    scale, an ALS grid by NDCG@10 on a sample of users instead (scale_eval.tune).
    """
    eng = engine(duckdb, day)
    if eng.model == "als":
        grid = {
            "factors": config.als_factors,
            "regularization": config.als_regularization,
            "alpha": config.als_alpha,
        }
        best, rows = scale_eval.tune(_arrays(duckdb, day), grid, config.seed)
        return Rows(
            rows.assign(as_of=pd.Timestamp(day)),
            metadata={
                **eng.metadata,
                "chosen_model": "als",
                "chosen_als_params": best,
                "als_search": _md(rows.sort_values("rank")),
                "tuned_on_users": scale_eval.TUNE_USERS,
            },
        )
    (ratings,) = _read(duckdb, day, "ratings")
    train, _ = evaluation.per_user_holdout(ratings)
    grid = {k: getattr(config, k) for k in tuning.SVD_GRID}
    best_svd, svd_rows = tuning.search_svd(
        train, grid, config.method, config.n_iter, config.cv, config.seed
    )
    ranking_grid = {k: getattr(config, k) for k in tuning.RANKING_GRID}
    best_ranking, ranking_rows = tuning.search_ranking(train, best_svd, ranking_grid, config.seed)
    frame = pd.concat([svd_rows, ranking_rows], ignore_index=True).assign(as_of=pd.Timestamp(day))
    return Rows(
        frame,
        metadata={
            **eng.metadata,
            "chosen_model": "svd",
            "chosen_svd_params": best_svd,
            "chosen_svd_cv_rmse": float(svd_rows.loc[svd_rows["chosen"], "mean_score"].iloc[0]),
            "chosen_ranking_params": best_ranking,
            "svd_search": _md(svd_rows.sort_values("rank")),
            "ranking_search": _md(ranking_rows.sort_values("rank")),
            "tuned_on_rows": len(train),
        },
    )


def _previous_fit(
    duckdb: DuckDBResource, day, params: dict, tuned_as_of: str | None
) -> tuple[svd.Factors | None, str, bool]:
    """An earlier day's ALS factors to start from, how the fit is made, and whether to fold in.

    The newest ALS snapshot of the week before the day, if its item side was fitted
    with the parameters in use after the tuning: a new weekly tuning means a fit from
    scratch. An item side younger than ``als.REFIT_DAYS`` is kept and only the users
    who rated since are refitted (``als.fold_in``); an older one is refitted by warm
    start. Never the day's own snapshot, so a re-run of a day gives the same factors.
    """
    full = f"from scratch ({params['iterations']} iterations)"
    with duckdb.get_connection() as con:
        try:
            table = read_latest_snapshot(
                con, "recommender", day - timedelta(days=1), als.WARM_MAX_AGE_DAYS
            )
        except LookupError:
            return None, f"{full}: no recommender in the {als.WARM_MAX_AGE_DAYS} days before", False
    previous = table["as_of"].iloc[0].date()
    if not (table["model"] == "als").all():
        return None, f"{full}: the recommender of {previous} is not ALS", False
    factors = svd.Factors.from_table(table)
    items = factors.items_fitted_on
    if tuned_as_of and items < date.fromisoformat(tuned_as_of):
        return None, f"{full}: tuned on {tuned_as_of}, after the item side of {items}", False
    if factors.pu.shape[1] != params["factors"]:
        return None, f"{full}: the recommender of {previous} has other dimensions", False
    if (day - items).days < als.REFIT_DAYS:
        return (
            factors,
            f"fold-in of the users who rated since {previous} (item side of {items})",
            True,
        )
    return factors, f"warm start from {previous} ({als.WARM_ITERATIONS} iterations)", False


@table_asset(
    deps=["ratings", WEEKLY_TUNING],
    kinds={"surprise"},
    advisory_checks={"tuning_fresh": TUNING_FRESH_DESCRIPTION},
)
def recommender(config: ModelConfig, day: date, duckdb: DuckDBResource) -> Rows:
    """Biased SVD (ALS and a baseline at scale) with the tuned parameters, as tables.

    At scale it starts from its own snapshot of an earlier day of the week
    (``_previous_fit``); that read is not declared as a dependency, since Dagster would
    draw it as a loop and map it to partitions before the first.
    """
    eng = engine(duckdb, day)
    if eng.model == "als":
        params, tuned_as_of, fresh = _tuned(duckdb, day, ALS_SEARCH)
        start, how, fold = _previous_fit(duckdb, day, {**als.DEFAULT_PARAMS, **params}, tuned_as_of)
        factors, trained = scale_model.of(duckdb).fit(day, params, config.seed, start, how, fold)
        return Rows(
            factors.to_table(day, model="als"),
            checks=[fresh],
            metadata={
                **eng.metadata,
                "params": {**als.DEFAULT_PARAMS, **params},
                "confidence": "1 + alpha * rating",
                "tuned_as_of": tuned_as_of or "untuned: no svd_tuning in the last week",
                **trained,
                "seed": config.seed,
            },
        )
    (ratings,) = _read(duckdb, day, "ratings")
    params, tuned_as_of, fresh = _tuned(duckdb, day, SVD_SEARCH)
    algo = svd.fit_svd(ratings, seed=config.seed, **params)
    return Rows(
        svd.to_table(algo, day),
        checks=[fresh],
        metadata={
            **eng.metadata,
            "params": params,
            "tuned_as_of": tuned_as_of or "untuned: no svd_tuning in the last week",
            "seed": config.seed,
            "trained_on": len(ratings),
        },
    )


@table_asset(deps=["ratings", "svd_tuning"], kinds={"surprise", "numpy"})
def model_metrics(config: MetricsConfig, day: date, duckdb: DuckDBResource) -> Rows:
    """Rating metrics on random k-fold and the chronological hold-out; ranking on the latter.

    Definitions are pinned in docs/evaluation.md. At scale: the chronological
    hold-out only, ranking over a seeded sample of users (scale_eval.evaluate).
    """
    eng = engine(duckdb, day)
    if eng.model == "als":
        frame, metadata = _metrics_at_scale(duckdb, day, config)
    else:
        frame, metadata = _metrics(duckdb, day, config)
    wide = frame.pivot_table(index=["protocol", "model"], columns="metric", values="value")
    return Rows(
        frame.assign(as_of=pd.Timestamp(day)),
        metadata={**eng.metadata, "summary": _md(wide.reset_index()), **metadata},
    )


def _metrics_at_scale(duckdb: DuckDBResource, day, config: MetricsConfig):
    """ALS on the chronological hold-out, ranking over a seeded sample of users."""
    (search,) = _read(duckdb, day, "svd_tuning")
    try:
        params = tuning.chosen(search, ALS_SEARCH)
    except LookupError:
        params = UNTUNED[ALS_SEARCH]
    got = scale_eval.evaluate(_arrays(duckdb, day), params, config.seed)
    metadata = {
        "als_params": {**als.DEFAULT_PARAMS, **params},
        "ranked_users_sampled": int(got["sampled_users"].iloc[0]),
    }
    return got[["model", "protocol", "metric", "value"]], metadata


def _metrics(duckdb: DuckDBResource, day, config: MetricsConfig):
    """Surprise's models on random k-fold and the chronological hold-out, ranking on the latter."""
    ratings, search = _read(duckdb, day, "ratings", "svd_tuning")
    svd_params = tuning.chosen(search, SVD_SEARCH)
    ranking_params = tuning.chosen(search, RANKING_SEARCH)
    models = rating_models.factories(svd_params, config.seed, config.knn, config.stacked)
    train, test = evaluation.per_user_holdout(ratings)
    folds = evaluation.random_folds(ratings, config.folds, config.seed)
    results = {
        "random_5fold": rating_models.evaluate(models, folds, config.stacked, config.seed),
        "per_user_chronological": rating_models.evaluate(
            models, [(train, test)], config.stacked, config.seed
        ),
    }
    for name, metrics in lists.ranking_evaluation(train, test, svd_params, ranking_params).items():
        results["per_user_chronological"].setdefault(name, {}).update(metrics)
    frame = pd.DataFrame(
        [
            {"model": model, "protocol": protocol, "metric": metric, "value": value}
            for protocol, by_model in results.items()
            for model, metrics in by_model.items()
            for metric, value in metrics.items()
        ]
    )
    metadata = {
        "train_rows": len(train),
        "test_rows": len(test),
        "test_users": int(test["user_id"].nunique()),
        "knn": config.knn,
        "stacked_members": list(rating_models.STACK_MEMBERS) if config.stacked else [],
    }
    return frame, metadata


@table_asset(
    deps=["ratings", WEEKLY_TUNING],
    kinds={"numpy"},
    body_checks={
        "unseen_only": "No user is recommended a movie they already rated.",
        "every_user": "Every user with a rating has a list (but one who rated every rated movie).",
    },
    advisory_checks={"tuning_fresh": TUNING_FRESH_DESCRIPTION},
)
def recommendations(recommender: pd.DataFrame, day: date, duckdb: DuckDBResource) -> Rows:
    """Top 10 unseen movies for every user, from the stored factors and the ratings."""
    factors = svd.Factors.from_table(recommender)
    if _model_of(recommender) == "als":
        eng = Engine("als", "the recommender table holds ALS factors")
        ranking_params, fresh = {}, _tuned(duckdb, day, ALS_SEARCH)[2]
        top, seen, missing, ranked = scale_model.of(duckdb).recommend(day, factors)
        top = top.assign(as_of=pd.Timestamp(day))
    else:
        eng = Engine("svd", "the recommender table holds Surprise SVD factors")
        (ratings,) = _read(duckdb, day, "ratings")
        ranking_params, _, fresh = _tuned(duckdb, day, RANKING_SEARCH)
        top = lists.recommend(ratings, factors, ranking_params).assign(as_of=pd.Timestamp(day))
        seen = top.merge(ratings[["user_id", "movie_id"]], on=["user_id", "movie_id"])
        missing = lists.missing_lists(top, ratings)
        ranked = {}
    return Rows(
        top,
        checks=[
            checks.failing_rows("unseen_only", seen),
            checks.failing_rows("every_user", missing),
            fresh,
        ],
        metadata={
            **eng.metadata,
            **ranked,
            "users": int(top["user_id"].nunique()),
            "cold_start_users": int(top.loc[top["source"] != "personalized", "user_id"].nunique()),
            "ranking_params": ranking_params,
            "distinct_movies": int(top["movie_id"].nunique()),
        },
    )


def _model_of(table: pd.DataFrame) -> str:
    """The engine that wrote a recommender snapshot (rows before the column existed: svd)."""
    models = table["model"].dropna().unique()
    return str(models[0]) if len(models) else "svd"


@table_asset(deps=["ratings"], kinds={"numpy"})
def similar_movies(
    recommender: pd.DataFrame, movies: pd.DataFrame, day: date, duckdb: DuckDBResource
) -> Rows:
    """Top 10 neighbours of every movie by item-factor cosine (popular ones for cold movies)."""
    factors = svd.Factors.from_table(recommender)
    carried = scale_model.same_item_side(duckdb, "similar_movies", day, factors)
    extra = {}
    if _model_of(recommender) == "als":
        eng = Engine("als", "the recommender table holds ALS factors")
        if carried is not None:  # the item vectors have not changed since
            frame = carried.drop(columns="as_of")
            extra = {"carried_from": str(carried["as_of"].iloc[0].date())}
        else:
            frame = lists.similar_at_scale(factors, _arrays(duckdb, day), movies)
    else:
        eng = Engine("svd", "the recommender table holds Surprise SVD factors")
        (ratings,) = _read(duckdb, day, "ratings")
        frame = lists.similar(factors, ratings, movies)
    return Rows(
        frame.assign(as_of=pd.Timestamp(day)),
        metadata={
            **eng.metadata,
            **extra,
            "movies": int(frame["movie_id"].nunique()),
            "cold_start_movies": int(
                frame.loc[frame["source"] != "personalized", "movie_id"].nunique()
            ),
            "min_ratings_for_factors": als.MIN_SIMILAR_RATINGS,
        },
    )
