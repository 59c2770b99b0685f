"""The whole graph materialized from each live source, on files and a server made by the tests."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import dagster as dg
import duckdb

from movie_assets.build import build
from movie_assets.definitions import build_defs
from movie_assets.resources import build_resources
from movie_assets.sources.registry import SourceResource
from tests import fixtures_sources as fx
from tests import fixtures_tmdb as ft

FIRST, LAST = (d.isoformat() for d in (fx.DAYS[0], fx.DAYS[-1]))


def run_graph(tmp_path: Path, source: SourceResource):
    resources = build_resources(tmp_path / "warehouse.duckdb")
    resources["source"] = source
    defs = build_defs(resources)
    instance = dg.DagsterInstance.ephemeral()
    report = build(defs, instance, FIRST, LAST)
    return report, duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True), instance


def scalar(con, sql: str, *params):
    return con.execute(sql, list(params)).fetchone()[0]


def assert_source_layers_built(report) -> None:
    """Every run and every check succeeds, the model layer's on a dozen users included."""
    assert all(ok for _, ok, _ in report.runs), (report.runs, report.causes)
    assert not report.failed_checks, report.check_causes


def test_graph_from_movielens_kaggle_and_fred(tmp_path):
    s = fx.sample()
    ts = s.ratings[0][3]
    extra = [f"1,2,abc,{ts}", f"2,3,7.5,{ts}"]  # one unparseable, one out of range
    tags = [f"1,1,Funny,{ts + 5}", f"2,999,scary,{ts}", f"x,1,bad,{ts}"]
    zip_path = fx.movielens_csv_zip(
        tmp_path / "ml-latest-small.zip", s, extra_ratings=extra, extra_tags=tags
    )
    # links.csv (fixture): movie m has IMDb tt{114700 + m} and TMDB m + 800 (none if m % 5 == 0).
    meta = tmp_path / "movies_metadata.csv"
    kaggle = [
        fx.KAGGLE_HEADER,
        fx.kaggle_row(801, "Retitled One", "1980-05-01", 1000, 5000),  # movie 1 by TMDB id
        fx.kaggle_row(2, "Film Number 2, The", "1992-05-01", 0, 0),  # movie 2 by title, year
        fx.kaggle_row(2, "Film Number 2, The", "1992-05-01", 0, 0),
        fx.kaggle_row(3, "Unrelated", "1970-05-01"),  # TMDB id 3 is not MovieLens id 3
        fx.kaggle_row(9999, "Quatre", "1900-05-01", imdb_id="tt0114704"),  # movie 4 by IMDb
        '"False","",0,"[]","",1997-08-20,tt1,en,x,"cut',
    ]
    meta.write_text("\n".join(kaggle) + "\n")
    # Months up to December 2014: all published by the snapshot's day (2015-03-03).
    rows = fx.cpi_rows(date(2012, 7, 1))
    rows[-1] = (rows[-1][0], ".")  # FRED's '.' for a month not yet published
    cpi = fx.fred_csv(tmp_path / "CPIAUCNS.csv", rows)
    source = SourceResource(
        kind="movielens,films=kaggle,cpi=fred",
        movielens=str(zip_path),
        kaggle=str(meta),
        fred_cpi=str(cpi),
    )
    report, con, _ = run_graph(tmp_path, source)
    with con:
        assert_source_layers_built(report)
        raw = scalar(con, "SELECT count(*) FROM raw_ratings")
        assert raw == len(s.ratings) + 1  # the 7.5 parses; the clean layer rejects it
        assert scalar(con, "SELECT min(source) || max(source) FROM raw_ratings") == "movielens" * 2
        assert scalar(con, "SELECT count(*) FROM rejects WHERE asset = 'raw_ratings'") == 1
        clean = scalar(con, "SELECT count(*) FROM ratings WHERE as_of = ?", LAST)
        clean_rejects = scalar(con, "SELECT count(*) FROM rejects WHERE asset = 'ratings'")
        assert clean == len(s.ratings) and clean + clean_rejects == raw
        assert scalar(con, "SELECT reason FROM rejects WHERE asset = 'ratings'") == (
            "rating not in 0.5..5 in half stars"
        )
        assert scalar(con, "SELECT count(*) FROM movies") == len(s.movies)
        assert scalar(con, "SELECT title FROM movies WHERE movie_id = 1") == "The Film Number 1"
        assert scalar(con, "SELECT count(*) FROM raw_films WHERE source = 'kaggle'") == 5
        assert scalar(con, "SELECT count(*) FROM films") == 4
        assert scalar(con, "SELECT budget_usd FROM films WHERE film_id = 2") is None  # 0: unknown
        film_rejects = con.execute(
            "SELECT asset, reason FROM rejects WHERE asset IN ('raw_films', 'films') ORDER BY 1"
        ).fetchall()
        assert [a for a, _ in film_rejects] == ["films", "raw_films"]
        assert film_rejects[0][1] == "duplicate film_id"
        assert f"movies_metadata.csv line {len(kaggle)}" in film_rejects[1][1]
        links = con.execute(
            "SELECT movie_id, film_id, method FROM film_links ORDER BY movie_id"
        ).fetchall()
        assert links == [(1, 801, "tmdb_id"), (2, 2, "title_year"), (4, 9999, "imdb_id")]
        assert scalar(con, "SELECT count(*) FROM raw_links") == len(s.movies)
        assert scalar(con, "SELECT count(*) FROM raw_tags") == 3  # 'x' is not a user id
        tag_rejects = con.execute(
            "SELECT asset, reason FROM rejects WHERE asset IN ('raw_tags', 'tags') ORDER BY reason"
        ).fetchall()
        assert tag_rejects == [
            (
                "raw_tags",
                "ml-latest-small.zip:tags.csv line 5: user id, movie id or timestamp "
                "not an integer",
            ),
            ("tags", "movie not in movies"),
            ("tags", "same tag by the same user on the same movie earlier"),
        ]
        assert con.execute("SELECT user_id, movie_id, tag FROM tags").fetchall() == [
            (1, 1, "funny")
        ]
        assert scalar(con, "SELECT count(*) FROM cpi_monthly") == len(rows) - 1
        assert scalar(con, "SELECT reason FROM rejects WHERE asset = 'cpi_monthly'") == (
            "CPI value missing"
        )
        assert scalar(con, "SELECT value FROM cpi_monthly WHERE month = ?", rows[0][0]) == float(
            rows[0][1]
        )


def test_graph_from_netflix_and_tmdb(tmp_path, monkeypatch):
    monkeypatch.setenv("TMDB_API_KEY", ft.API_KEY)
    monkeypatch.setenv("MOVIE_SOURCE_CACHE", str(tmp_path / "cache"))
    s = fx.sample()
    probe = {(m, u) for u, m, _, _ in s.ratings[:4]}
    folder = fx.netflix_dir(tmp_path / "netflix", s, probe)
    films = ft.catalogue({fx.DAYS[0]: 25, fx.DAYS[1]: 3, fx.DAYS[2]: 0})
    with ft.FakeTmdb(films) as server:
        server.fail(f"discover:{fx.DAYS[0]}:2", ("429", 0), ("500",))
        source = SourceResource(
            kind="netflix,films=tmdb",
            netflix=str(folder),
            tmdb_url=server.url,
            tmdb_released_from=FIRST,
            tmdb_rate=200,
        )
        report, con, instance = run_graph(tmp_path, source)
    with con:
        assert_source_layers_built(report)
        # probe.txt pairs are training data: ingested like every other rating
        assert scalar(con, "SELECT count(*) FROM raw_ratings") == len(s.ratings)
        assert scalar(con, "SELECT count(*) FROM movies") == len(s.movies)
        assert scalar(con, "SELECT year FROM movies WHERE movie_id = 3") is None  # NULL year
        assert scalar(con, "SELECT count(*) FROM raw_films WHERE source = 'tmdb'") == 28
        assert scalar(con, "SELECT count(*) FROM films WHERE budget_usd IS NULL") == sum(
            1 for day in films.values() for f in day if f["budget"] == 0
        )
        # the key is in no table, no run metadata and no event
        for (table,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
            text = con.execute(f"SELECT * FROM {table}").df().to_csv()
            assert ft.API_KEY not in text, table
    events = instance.all_logs(instance.get_runs()[0].run_id) + instance.all_logs(
        instance.get_runs()[1].run_id
    )
    assert events and all(ft.API_KEY not in str(e) for e in events)


def test_watch_log_sensor_runs_each_new_file_once(tmp_path, monkeypatch):
    from movie_assets.sensors import WATCH_TAG, watch_logs_sensor, watch_logs_snapshots

    monkeypatch.setenv("MOVIE_WATCH_KEY", "watch-key-for-the-tests-0123456789")
    logs = tmp_path / "logs"
    logs.mkdir()
    day1 = int(datetime(2015, 3, 1, 9, tzinfo=UTC).timestamp())
    fx.watch_log(
        logs / "2015-03-01.csv",
        [
            ("ann@example.com", 1, str(day1), "4.0", "s1"),
            ("ben@example.com", 2, str(day1 + 86400), "3.5", "s2"),  # 2015-03-02
            ("ben@example.com", 3, str(day1 + 60), "9", "s2"),  # out of range: clean rejects it
        ],
    )
    source = SourceResource(kind="watch_logs", watch_dir=str(logs))
    resources = build_resources(tmp_path / "warehouse.duckdb")
    resources["source"] = source
    defs = build_defs(resources)
    instance = dg.DagsterInstance.ephemeral()

    def tick(cursor):
        context = dg.build_sensor_context(
            instance=instance, cursor=cursor, resources={"source": source}, definitions=defs
        )
        return watch_logs_sensor(context)

    first = tick(None)
    assert [r.tags["dagster/asset_partition_range_start"] for r in first.run_requests] == [
        "2015-03-01"
    ]
    assert first.run_requests[0].tags["dagster/asset_partition_range_end"] == "2015-03-02"
    again = tick(first.cursor)
    assert isinstance(again, dg.SkipReason)  # the same file is not picked up twice

    request = first.run_requests[0]
    job = defs.resolve_job_def(request.job_name or "ratings_history")
    result = job.execute_in_process(instance=instance, tags=request.tags, raise_on_error=False)
    assert result.success
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        assert scalar(con, "SELECT count(*) FROM raw_ratings") == 3
        text = con.execute("SELECT * FROM raw_ratings").df().to_csv()
        assert "example.com" not in text and "ann" not in text
        assert scalar(con, "SELECT count(DISTINCT user_id) FROM raw_ratings") == 2

    run = instance.get_run_by_id(result.run_id)
    follow = watch_logs_snapshots(
        dg.build_run_status_sensor_context(
            sensor_name="watch_logs_snapshots",
            dagster_instance=instance,
            dagster_run=run,
            dagster_event=result.get_run_success_event(),
            repository_def=defs.get_repository_def(),
        )
    )
    assert follow.partition_key == "2015-03-02" and watch_logs_snapshots.job_name == "movie_graph"
    selected = {k.to_user_string() for k in follow.asset_selection}
    assert "raw_ratings" not in selected and {"ratings", "dashboard_snapshot"} <= selected
    assert not selected & {"svd_tuning", "model_metrics"}  # the weekly evaluation stays weekly
    assert follow.tags[WATCH_TAG] == "2015-03-01.csv"

    later = fx.watch_log(logs / "2015-03-03.csv", [("cy", 5, str(day1 + 2 * 86400), "5", "s")])
    os.utime(later, None)
    third = tick(first.cursor)
    assert [
        (r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
        for r in third.run_requests
    ] == [("2015-03-03", "2015-03-03")]


class _Webhook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Webhook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()


def test_run_failure_sensor_records_an_alert_and_posts_it(tmp_path, monkeypatch):
    from movie_assets.sensors import alert_on_run_failure

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
    Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("MOVIE_ALERT_WEBHOOK", f"http://127.0.0.1:{server.server_address[1]}/")

    source = SourceResource(kind="movielens", movielens=str(tmp_path / "missing.zip"))
    resources = build_resources(tmp_path / "warehouse.duckdb")
    resources["source"] = source
    defs = build_defs(resources)
    instance = dg.DagsterInstance.ephemeral()
    report = build(defs, instance, FIRST, LAST)
    assert not report.ok
    run = instance.get_runs()[0]
    failure = next(
        e
        for e in instance.all_logs(run.run_id)
        if e.dagster_event and e.dagster_event.event_type == dg.DagsterEventType.RUN_FAILURE
    )
    # The warehouse resource sets itself up (a run holds the warehouse): open the context.
    with dg.build_run_status_sensor_context(
        sensor_name="alert_on_run_failure",
        dagster_instance=instance,
        dagster_run=run,
        dagster_event=failure.dagster_event,
        repository_def=defs.get_repository_def(),
        resources={"duckdb": resources["duckdb"]},
    ) as context:
        alert_on_run_failure(context.for_run_failure())
    server.shutdown()
    server.server_close()
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        row = con.execute(
            "SELECT job_name, partition, failed_steps, webhook_status FROM alerts"
        ).fetchall()
    assert row == [("ratings_history", f"{FIRST}..{LAST}", "raw_ratings", "HTTP 204")]
    assert [(a["run_id"], a["job_name"]) for a in _Webhook.received] == [
        (run.run_id, "ratings_history")
    ]
