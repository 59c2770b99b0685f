"""The recommender: Surprise SVD stored as tables, its hold-out metrics and top-10 lists."""

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from movie_assets import checks
from movie_assets.model import evaluation, svd
from movie_assets.partitions import daily_partitions, snapshot_day
from movie_assets.warehouse import read_snapshot
from movie_assets.writing import write_partition

GROUP = "model"


class SvdConfig(dg.Config):
    n_factors: int = svd.DEFAULT_PARAMS["n_factors"]
    n_epochs: int = svd.DEFAULT_PARAMS["n_epochs"]
    lr_all: float = svd.DEFAULT_PARAMS["lr_all"]
    reg_all: float = svd.DEFAULT_PARAMS["reg_all"]
    seed: int = 0

    def params(self) -> dict:
        return {k: getattr(self, k) for k in svd.DEFAULT_PARAMS}


def _ratings(duckdb: DuckDBResource, day) -> pd.DataFrame:
    with duckdb.get_connection() as con:
        return read_snapshot(con, "ratings", day)


@dg.asset(
    partitions_def=daily_partitions,
    group_name=GROUP,
    kinds={"duckdb", "surprise"},
    deps=["ratings"],
    check_specs=[checks.schema_spec("recommender")],
)
def recommender(
    context: dg.AssetExecutionContext, config: SvdConfig, duckdb: DuckDBResource
) -> dg.MaterializeResult:
    """Biased SVD trained on every rating up to the as-of day; factors stored, never pickled."""
    day = snapshot_day(context)
    ratings = _ratings(duckdb, day)
    algo = svd.fit_svd(ratings, seed=config.seed, **config.params())
    return write_partition(
        context, duckdb, "recommender", svd.to_table(algo, day), day, day,
        metadata={"params": config.params(), "seed": config.seed, "trained_on": len(ratings)},
    )


@dg.asset(
    partitions_def=daily_partitions,
    group_name=GROUP,
    kinds={"duckdb", "surprise"},
    deps=["ratings"],
    check_specs=[checks.schema_spec("model_metrics")],
)
def model_metrics(
    context: dg.AssetExecutionContext, config: SvdConfig, duckdb: DuckDBResource
) -> dg.MaterializeResult:
    """RMSE, MAE, MSE and MAPE of SVD and the global mean on a per-user chronological hold-out."""
    day = snapshot_day(context)
    train, test = evaluation.per_user_holdout(_ratings(duckdb, day))
    algo = svd.fit_svd(train, seed=config.seed, **config.params())
    predictions = [algo.predict(u, i).est for u, i in zip(test["user_id"], test["movie_id"])]
    scores = {
        "svd": evaluation.rating_metrics(test["rating"], predictions),
        "global_mean": evaluation.rating_metrics(
            test["rating"], [train["rating"].mean()] * len(test)
        ),
    }
    frame = pd.DataFrame(
        [
            {"model": model, "protocol": "per_user_last_10pct", "metric": metric, "value": value}
            for model, metrics in scores.items()
            for metric, value in metrics.items()
        ]
    ).assign(as_of=pd.Timestamp(day))
    return write_partition(
        context, duckdb, "model_metrics", frame, day, day,
        metadata={
            "svd_rmse": scores["svd"]["rmse"],
            "global_mean_rmse": scores["global_mean"]["rmse"],
            "train_rows": len(train),
            "test_rows": len(test),
        },
    )


@dg.asset(
    partitions_def=daily_partitions,
    group_name=GROUP,
    kinds={"duckdb", "numpy"},
    deps=["recommender", "ratings"],
    check_specs=[
        checks.schema_spec("recommendations"),
        checks.spec("recommendations", "unseen_only",
                    "No user is recommended a movie they already rated."),
    ],
)
def recommendations(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource
) -> dg.MaterializeResult:
    """Top 10 unseen movies for every user, scored from the stored factors with numpy."""
    day = snapshot_day(context)
    with duckdb.get_connection() as con:
        factors = svd.Factors.from_table(read_snapshot(con, "recommender", day))
        ratings = read_snapshot(con, "ratings", day)
    top = svd.top_n(factors, ratings).assign(as_of=pd.Timestamp(day))
    seen = top.merge(ratings[["user_id", "movie_id"]], on=["user_id", "movie_id"])
    return write_partition(
        context, duckdb, "recommendations", top, day, day,
        extra_checks=[checks.failing_rows("unseen_only", seen)],
        metadata={"users": int(top["user_id"].nunique())},
    )
