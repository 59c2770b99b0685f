"""Each check passes on the real tables and fails on a copy corrupted on purpose."""

from datetime import date

import ibis
import pandas as pd
import pytest

from movie_assets import checks, engine
from movie_assets.build import check_cause
from movie_assets.schemas import TABLES, conform
from movie_assets.writing import engine_schema_result, reference_results

AS_OF = "2016-10-16"


@pytest.fixture(scope="module")
def tables(full_warehouse) -> dict[str, pd.DataFrame]:
    names = ["ratings", "movies", "cpi_monthly", "movie_features", "raw_ratings"]
    out = {}
    for name in names:
        column = TABLES[name].partition_column
        where = "" if name == "raw_ratings" else f"WHERE {column} = '{AS_OF}'"
        out[name] = conform(TABLES[name], full_warehouse.query(f"SELECT * FROM {name} {where}"))
    return out


def _failures(result) -> int:
    return result.metadata["failures"].value


@pytest.mark.parametrize(
    "corrupt, failing_check",
    [
        (lambda f: f.assign(rating=f["rating"].mask(f.index == 3, 6.0)), "less_than_or_equal_to"),
        (lambda f: f.assign(rating=f["rating"].mask(f.index == 3, 3.3)), "half_star_steps"),
        (lambda f: pd.concat([f, f.iloc[[5]]], ignore_index=True), "multiple_fields_uniqueness"),
        (lambda f: f.assign(user_id=f["user_id"].mask(f.index == 7)), "not_nullable"),
    ],
)
def test_ratings_schema(tables, corrupt, failing_check):
    assert checks.schema_result("ratings", tables["ratings"]).passed
    result = checks.schema_result("ratings", corrupt(tables["ratings"].copy()))
    assert not result.passed
    by_check = result.metadata["failures_by_check"].value
    assert any(name.split(": ")[1].startswith(failing_check) for name in by_check), by_check
    assert _failures(result) >= 1


def test_schema_reports_a_missing_column(tables):
    result = checks.schema_result("movies", tables["movies"].drop(columns="genres"))
    assert not result.passed


def test_a_declared_reference_fails_on_orphans(full_warehouse):
    """ratings.movie_id references movies (schemas.TABLES): the generated check counts orphans."""
    assert ("movie_id", "movies") in TABLES["ratings"].references
    with full_warehouse.connect() as con:
        tables = engine.Tables(con)
        day = date.fromisoformat(AS_OF)
        written = tables.snapshot("ratings", day)
        (result,) = reference_results(tables, "ratings", written, day)
        assert result.passed and result.check_name == "movie_id_in_movies"
        assert result.metadata["failing_sample"].value == []
        frame = written.execute()
        orphaned = frame.assign(movie_id=frame["movie_id"].mask(frame.index < 4, -1))
        (result,) = reference_results(tables, "ratings", ibis.memtable(orphaned), day)
    assert not result.passed and _failures(result) == 4
    sample = result.metadata["failing_sample"].value
    assert [row["movie_id"] for row in sample] == [-1] * 4


def test_rows_present(tables):
    days = tables["raw_ratings"]["rating_date"].dt.date.value_counts()
    assert checks.rows_present(days, days).passed
    short = days.copy()
    short.iloc[0] -= 1
    lost = days.drop(days.index[1])
    assert _failures(checks.rows_present(days, short)) == 1
    assert _failures(checks.rows_present(days, lost)) == 1


def test_contiguous_months(tables):
    cpi = tables["cpi_monthly"]
    assert pd.Timestamp("2025-10-01") not in set(cpi["month"])  # the documented gap
    assert checks.contiguous_months(cpi).passed
    holed = cpi[cpi["month"] != pd.Timestamp("2001-06-01")]
    result = checks.contiguous_months(holed)
    assert not result.passed and _failures(result) == 2  # both series lose June 2001


def test_weighted_score_between(tables, full_warehouse):
    features = tables["movie_features"]
    global_mean = full_warehouse.query(
        f"SELECT avg(rating) FROM ratings WHERE as_of = '{AS_OF}'"
    ).iloc[0, 0]
    assert checks.weighted_score_between(features, global_mean).passed
    rated = features["rating_count"] > 0
    broken = features.assign(weighted_score=features["weighted_score"].mask(rated, 5.0))
    result = checks.weighted_score_between(broken, global_mean)
    below_five = (features.loc[rated, "rating_mean"] < 5.0).sum()
    assert not result.passed and _failures(result) == below_five


def test_reconciles():
    assert checks.reconciles(10, 7, 3).passed
    result = checks.reconciles(10, 7, 2)
    assert not result.passed and result.metadata["unaccounted_rows"].value == 1


def test_a_failed_schema_check_says_its_rules_in_one_line():
    """What the build prints for a failed check: rules by failing rows, on either engine."""
    day = pd.Timestamp(AS_OF)
    frame = conform(
        TABLES["ratings"],
        pd.DataFrame(
            {
                "as_of": day,
                "user_id": [1, 2, 3, 4, 5],
                "movie_id": [10, 10, 11, 12, 13],
                "rating": [4.0, 6.0, 3.3, 2.2, 2.0],
                "rated_at": day,
                "rating_date": day,
            }
        ),
    )
    pandas_result = checks.schema_result("ratings", frame)
    engine_result = engine_schema_result(ibis.memtable(frame), "ratings", len(frame))
    for result in (pandas_result, engine_result):
        why = check_cause(result.metadata)
        assert why.startswith("rating: half_star_steps (2 rows), rating: less_than_or_equal_to")
        assert why.endswith("(1 row)") and "\n" not in why
