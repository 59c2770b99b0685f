"""The TMDB client against a real HTTP server on 127.0.0.1 that injects faults."""

from __future__ import annotations

import logging
import traceback
from datetime import date

import pytest

from movie_assets.sources.tmdb import TmdbSource
from movie_assets.sources.tmdb_client import DETAIL_FIELDS, TmdbClient, TmdbError
from tests import fixtures_tmdb as ft

DAY1, DAY2, DAY3 = date(2015, 3, 1), date(2015, 3, 2), date(2015, 3, 3)


@pytest.fixture(autouse=True)
def credentials(monkeypatch, tmp_path):
    monkeypatch.setenv("TMDB_API_KEY", ft.API_KEY)
    monkeypatch.delenv("TMDB_BEARER_TOKEN", raising=False)
    monkeypatch.setenv("MOVIE_SOURCE_CACHE", str(tmp_path / "cache"))


def fast_client(server: ft.FakeTmdb, **options) -> TmdbClient:
    settings = {"rate": 500.0, "retry_seconds": 10.0, "backoff": 0.05, "timeout": (1.0, 0.4)}
    return TmdbClient(server.url, **{**settings, **options})


def test_all_films_arrive_through_pages_and_faults():
    films = ft.catalogue({DAY1: 45, DAY2: 5, DAY3: 0})
    ids = [f["id"] for f in films[DAY1]]
    with ft.FakeTmdb(films) as server:
        server.fail(f"discover:{DAY1}:2", ("429", 1), ("500",))
        server.fail(f"/3/movie/{ids[0]}", ("malformed",))
        server.fail(f"/3/movie/{ids[1]}", ("slow", 1.0))  # longer than the 0.4 s read timeout
        server.fail(f"/3/movie/{ids[2]}", ("500",), ("500",))
        server.always[f"/3/movie/{ids[3]}"] = ("404",)
        source = TmdbSource(fast_client(server), as_of=DAY3, released_from=DAY1, workers=4)
        got = source.films()
        retry_after = server.times(f"discover:{DAY1}:2")

    expected = [f for day in (DAY1, DAY2) for f in films[day] if f["id"] != ids[3]]
    rows = got.rows.set_index("film_id")
    assert sorted(rows.index) == sorted(f["id"] for f in expected)
    for f in expected:
        row = rows.loc[f["id"]]
        assert row["title"] == f["title"] and row["imdb_id"] == f["imdb_id"]
        assert row["released"] == f["release_date"] and row["year"] == 2015
        assert row["runtime"] == f["runtime"]
        assert row["budget"] == f["budget"] and row["box_office"] == f["revenue"]
        assert row["genre"] == ", ".join(g["name"] for g in f["genres"])
        assert row["country"] == "United States of America"
    assert list(got.rejects["reason"]) == [
        f"TMDB details of film {ids[3]}: GET /movie/{ids[3]}: HTTP 404: The resource you "
        "requested could not be found. (TMDB status_code 34)"
    ]
    # 429, then 500, then success; the retry after the 429 waited for Retry-After (1 s)
    assert len(retry_after) == 3
    assert retry_after[1] - retry_after[0] >= 0.95


def test_details_keep_every_field_the_issue_names():
    films = ft.catalogue({DAY1: 2})
    with ft.FakeTmdb(films) as server:
        details = fast_client(server).details(films[DAY1][0]["id"])
    wanted = {
        "id",
        "imdb_id",
        "title",
        "release_date",
        "genres",
        "runtime",
        "budget",
        "revenue",
        "popularity",
        "vote_average",
        "vote_count",
        "original_language",
        "production_companies",
    }
    assert wanted <= set(details)
    assert details["vote_count"] == films[DAY1][0]["vote_count"]
    assert "overview" not in details


def test_rate_limit_holds_under_parallel_workers():
    rate = 20
    films = ft.catalogue({DAY1: 30, DAY2: 10})
    with ft.FakeTmdb(films) as server:
        TmdbSource(
            fast_client(server, rate=rate), as_of=DAY2, released_from=DAY1, workers=8
        ).films()
        arrivals = sorted(t for t, _ in server.log)
    assert len(arrivals) == 2 + 1 + 40  # discover pages: 2 for 30 films, 1 for 10; 40 details
    most_in_a_second = max(
        sum(1 for t in arrivals[i:] if t < start + 1.0) for i, start in enumerate(arrivals)
    )
    assert most_in_a_second <= rate + 2  # evenly spaced starts: rate + 1, and 1 of jitter
    spread = arrivals[-1] - arrivals[0]
    assert spread >= (len(arrivals) - 1) / rate * 0.9


def test_retry_budget_is_respected():
    films = ft.catalogue({DAY1: 1})
    movie = f"/3/movie/{films[DAY1][0]['id']}"
    with ft.FakeTmdb(films) as server:
        server.always[movie] = ("500",)
        client = fast_client(server, retry_seconds=1.5, backoff=0.2, max_attempts=100)
        with pytest.raises(TmdbError, match=r"HTTP 500 \(gave up after \d+ attempts\)") as err:
            client.get(movie.removeprefix("/3"))
        arrivals = server.times(movie)
    assert f"gave up after {len(arrivals)} attempts" in str(err.value)
    assert 2 <= len(arrivals) < 100
    assert arrivals[-1] - arrivals[0] <= 1.5  # no attempt starts once the budget is spent

    with ft.FakeTmdb(films) as server:
        server.always[movie] = ("429", 30)  # Retry-After beyond the budget: give up, don't sleep
        with pytest.raises(TmdbError, match="HTTP 429"):
            fast_client(server, retry_seconds=2.0).get(movie.removeprefix("/3"))
        assert len(server.times(movie)) == 1


def test_a_trickling_body_is_abandoned_at_the_deadline_and_retried():
    films = ft.catalogue({DAY1: 1})
    film = films[DAY1][0]
    movie = f"/3/movie/{film['id']}"
    with ft.FakeTmdb(films) as server:
        # Without a deadline the trickle is waited out: each read takes 0.05 s, well inside
        # the 0.4 s read timeout, so requests never times out.
        server.fail(movie, ("trickle", 1.5))
        assert fast_client(server).details(film["id"])["title"] == film["title"]
        assert len(server.times(movie)) == 1
        assert server.trickle_outcomes(1) == [True]  # the whole body was waited for

        server.fail(movie, ("trickle", 3.0))
        client = fast_client(server, request_seconds=0.5)
        details = client.details(film["id"])
        attempts = len(server.times(movie)) - 1
        outcomes = server.trickle_outcomes(2)
    assert details == {k: film[k] for k in DETAIL_FIELDS}  # the retry's normal response
    assert client.attempts == attempts == 2
    assert outcomes == [True, False]  # the client hung up before the trickle ended


def use_credential(mode: str, monkeypatch) -> str:
    """The secret the test must never see: the v3 key, or a bearer token in its place."""
    if mode == "bearer":
        monkeypatch.delenv("TMDB_API_KEY")
        monkeypatch.setenv("TMDB_BEARER_TOKEN", ft.TOKEN)
        return ft.TOKEN
    return ft.API_KEY


@pytest.mark.parametrize("mode", ["api_key", "bearer"])
def test_an_always_trickling_server_is_bounded_by_the_retry_budget(mode, monkeypatch, caplog):
    secret = use_credential(mode, monkeypatch)
    caplog.set_level(logging.DEBUG)
    films = ft.catalogue({DAY1: 1})
    movie = f"/3/movie/{films[DAY1][0]['id']}"
    with ft.FakeTmdb(films) as server:
        server.always[movie] = ("trickle", 3.0)
        client = fast_client(server, retry_seconds=1.5, request_seconds=0.5, max_attempts=100)
        with pytest.raises(TmdbError) as err:
            client.get(movie.removeprefix("/3"))
        attempts = len(server.times(movie))
        outcomes = server.trickle_outcomes(attempts)
    assert str(err.value) == (
        f"GET {movie.removeprefix('/3')}: timed out (no complete response in 0.5 s) "
        f"(gave up after {attempts} attempts)"
    )
    assert 2 <= attempts <= 3  # 0.5 s each within the 1.5 s budget, not 100 attempts
    assert outcomes == [False] * attempts  # every attempt hung up mid-body
    texts = [str(err.value), repr(err.value), "".join(traceback.format_exception(err.value))]
    assert "GET /3/movie/" in caplog.text  # urllib3's request lines were logged, redacted
    for text in [*texts, caplog.text]:
        assert secret not in text


def test_a_json_error_body_is_a_clear_error():
    films = ft.catalogue({DAY1: 1})
    with ft.FakeTmdb(films) as server:
        client = fast_client(server)
        with pytest.raises(TmdbError, match="HTTP 401: Invalid API key") as err:
            client._params = {"api_key": "wrong"}
            client.get("/discover/movie")
    assert err.value.status == 401


@pytest.mark.parametrize("mode", ["api_key", "bearer"])
def test_credential_never_in_logs_errors_or_data(mode, monkeypatch, caplog, capsys):
    secret = use_credential(mode, monkeypatch)
    caplog.set_level(logging.DEBUG)
    films = ft.catalogue({DAY1: 3})
    texts = []
    with ft.FakeTmdb(films) as server:
        server.always[f"/3/movie/{films[DAY1][0]['id']}"] = ("500",)
        server.fail(f"/3/movie/{films[DAY1][1]['id']}", ("slow", 1.0))
        client = fast_client(server, retry_seconds=1.0, backoff=0.05)
        got = TmdbSource(client, as_of=DAY1, released_from=DAY1).films()
        texts += [got.rows.to_csv(), got.rejects.to_csv()]
        client.base_url = "http://127.0.0.1:9/3"  # nothing listens: connection refused
        try:
            client.get("/movie/1")
        except TmdbError as err:
            texts += [str(err), repr(err), "".join(traceback.format_exception(err))]
        if mode == "api_key":
            assert any(ft.API_KEY in url for url in server.urls)  # it was sent, as TMDB wants
    assert len(got.rejects) == 1 and len(got.rows) == 2
    captured = capsys.readouterr()
    texts += [caplog.text, captured.out, captured.err]
    assert any("GET /" in t for t in texts)  # the checks below looked at real log output
    for text in texts:
        assert secret not in text
