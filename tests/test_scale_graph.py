"""The whole graph on a generated archive in the exact ml-25m layout, on the scale path.

200,000 ratings with bad lines at known positions, dated 1995 to 2019 while the
partitions end on 2016-10-16: every line lands in one place, the clean layer and the
features equal plain pandas over the file, and with the model threshold lowered the
recommender is the ALS path. Expected values come from reading ratings.csv with pandas
here, never from the warehouse code under test.
"""

from __future__ import annotations

import io
import zipfile

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest

from benchmarks.archives import movielens_zip
from movie_assets.build import build
from movie_assets.definitions import build_defs
from movie_assets.resources import build_resources
from movie_assets.settings import PARTITIONS_END
from movie_assets.sources.registry import SourceResource

RATINGS = 200_000
BAD = {2: "missing_field", 50_000: "extra_field", 120_000: "rating", 150_000: "blank"}
AS_OF = "2016-10-16"
LAST_SPAN_DAY = pd.Timestamp(PARTITIONS_END) - pd.Timedelta(days=1)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scale")
    archive = tmp / "ml-25m.zip"
    movielens_zip(archive, RATINGS, seed=11, bad_lines=BAD)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOVIE_MODEL_SCALE_THRESHOLD", "50000")
        resources = build_resources(tmp / "warehouse.duckdb")
        resources["source"] = SourceResource(kind="movielens", movielens=str(archive))
        instance = dg.DagsterInstance.ephemeral()
        report = build(build_defs(resources), instance)
    with zipfile.ZipFile(archive) as z:
        text = z.read("ml-25m/ratings.csv")
        movies = pd.read_csv(io.BytesIO(z.read("ml-25m/movies.csv")))
    con = duckdb.connect(str(tmp / "warehouse.duckdb"), read_only=True)
    yield report, con, text, movies, instance
    con.close()


def _good_lines(text: bytes) -> pd.DataFrame:
    """ratings.csv's well-formed lines, parsed here with pandas (bad lines skipped)."""
    lines = text.decode().split("\n")[1:]
    good = [line for i, line in enumerate(lines, start=2) if i not in BAD and line]
    frame = pd.read_csv(io.StringIO("\n".join(good)), names=["u", "m", "r", "t"])
    frame["day"] = pd.to_datetime(frame["t"], unit="s").dt.normalize()
    return frame


def test_every_line_lands_in_one_place(built):
    report, con, text, _, _ = built
    assert report.ok, report
    lines = len(text.decode().rstrip("\n").split("\n")) - 1  # less the header
    raw = con.execute("SELECT count(*) FROM raw_ratings").fetchone()[0]
    rejected = con.execute(
        "SELECT reason FROM rejects WHERE asset = 'raw_ratings' ORDER BY reason"
    ).df()["reason"]
    assert raw + len(rejected) == lines
    good = _good_lines(text)
    after = good["day"] > LAST_SPAN_DAY
    assert raw == (~after).sum()
    assert rejected.str.contains("dated after the last partition").sum() == after.sum()
    for line in BAD:
        assert rejected.str.contains(f"ml-25m.zip:ratings.csv line {line}: ").sum() == 1


def test_clean_ratings_and_features_equal_pandas(built):
    _, con, text, movies, _ = built
    good = _good_lines(text)
    good = good[(good["day"] <= LAST_SPAN_DAY) & good["m"].isin(movies["movieId"])]
    latest = good.sort_values(["t", "r"]).drop_duplicates(["u", "m"], keep="last")
    clean = con.execute(
        "SELECT user_id, movie_id, rating FROM ratings WHERE as_of = ? ORDER BY 1, 2", [AS_OF]
    ).df()
    expected = latest.sort_values(["u", "m"])
    assert len(clean) == len(expected)
    assert (clean["rating"].to_numpy() == expected["r"].to_numpy()).all()
    features = con.execute(
        "SELECT movie_id, rating_count, rating_mean FROM movie_features WHERE as_of = ? "
        "AND rating_count > 0 ORDER BY movie_id",
        [AS_OF],
    ).df()
    stats = expected.groupby("m")["r"].agg(["size", "mean"])
    assert features["rating_count"].tolist() == stats["size"].tolist()
    assert np.allclose(features["rating_mean"], stats["mean"])
    hourly = con.execute(
        "SELECT sum(rating_count) FROM viewing_hourly WHERE as_of = ?", [AS_OF]
    ).fetchone()[0]
    assert hourly == len(expected)


def test_models_switch_to_the_scale_path(built):
    report, con, _, _, instance = built
    assert not report.failed_checks, report.failed_checks
    event = instance.get_latest_materialization_event(dg.AssetKey("recommender"))
    assert event.asset_materialization.metadata["model"].value == "als"
    users = con.execute(
        "SELECT count(DISTINCT user_id) FROM ratings WHERE as_of = ?", [AS_OF]
    ).fetchone()[0]
    per_user = con.execute(
        "SELECT user_id, count(*) AS n FROM recommendations WHERE as_of = ? GROUP BY 1", [AS_OF]
    ).df()
    assert len(per_user) == users and (per_user["n"] == 10).all()
    seen = con.execute(
        "SELECT count(*) FROM recommendations r JOIN ratings x ON x.user_id = r.user_id "
        "AND x.movie_id = r.movie_id AND x.as_of = r.as_of WHERE r.as_of = ?",
        [AS_OF],
    ).fetchone()[0]
    assert seen == 0
