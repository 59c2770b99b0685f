"""The Dash app in headless Chromium against gunicorn on a published snapshot.

One module, so one Playwright instance serves every browser test.

Every expected value is the test's own SQL on the snapshot file. A test fails on
any browser console error or failed request (the ``page`` fixture).
"""

from __future__ import annotations

import calendar
import io
import json
import re
import shutil
import threading
import time
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import plotly
import pytest
import requests
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from dash_app import bundles
from movie_assets.build import QUIET
from movie_assets.definitions import build_defs
from movie_assets.model.als import MIN_USER_RATINGS
from movie_assets.partitions import last_partition_key
from movie_assets.publish import snapshot
from movie_assets.publish.assets import RATING_ROLLUPS
from movie_assets.resources import build_resources
from tests.dash_fixtures import (
    PAGES,
    Published,
    copy_published,
    figure,
    grid_rows,
    republish,
    screenshot,
    settle,
    start_server,
)

pytestmark = pytest.mark.browser

HEADINGS = {
    "overview": "Overview",
    "trends": "Trends",
    "genres": "Genres",
    "top_movies": "Top movies",
    "movie_graph": "Movie graph",
    "box_office": "Box office",
    "viewing": "Viewing patterns",
    "recommendations": "Recommendations",
    "data_quality": "Data quality",
}
MOVIES = "movie_features m"


def open_page(tab, server, path: str) -> None:
    tab.goto(server.url + path)
    settle(tab)


def bar(key: str) -> str:
    """The filter bar's control ``key`` on whichever page is open (ids are page-scoped)."""
    return f"[id$='-filter-{key}']"


def choose(tab, selector: str, label: str, search: str | None = None, exact=True) -> None:
    """Pick an option in a Dash 4 dropdown the way a person does."""
    tab.click(selector)
    if search:
        tab.fill(".dash-dropdown-search", search)
    tab.get_by_role("option", name=label, exact=exact).click()
    tab.keyboard.press("Escape")


def set_years(tab, low: int, high: int) -> None:
    for cls, value in [("min", low), ("max", high)]:
        box = tab.locator(f"{bar('years')} .dash-range-slider-{cls}-input")
        box.fill(str(value))
        box.press("Tab")


def query_of(tab) -> dict:
    return parse_qs(urlparse(tab.url).query)


def where(genres=(), years=None, eras=(), min_rating=None, rating_categories=()):
    """The filter semantics as the test states them, for its own SQL."""
    clauses, params = ["TRUE"], []
    if years:
        clauses.append("m.year BETWEEN ? AND ?")
        params += list(years)
    if genres:
        clauses.append("(" + " OR ".join(["('|' || m.genres || '|') LIKE ?"] * len(genres)) + ")")
        params += [f"%|{g}|%" for g in genres]
    if eras:
        clauses.append(f"m.era IN ({', '.join('?' * len(eras))})")
        params += list(eras)
    if min_rating:
        clauses.append("m.rating_mean >= ?")
        params.append(min_rating)
    if rating_categories:
        clauses.append(f"m.rating_category IN ({', '.join('?' * len(rating_categories))})")
        params += list(rating_categories)
    return " AND ".join(clauses), params


def published_day(snap: Published) -> str:
    return f"{snap.query('SELECT as_of FROM snapshot_info')['as_of'][0]:%Y-%m-%d}"


def test_every_page_renders_titled_charts(page, server, published):
    for name, path in PAGES.items():
        open_page(page, server, path)
        assert page.locator("h1").first.inner_text() == HEADINGS[name]
        graphs = page.locator(".js-plotly-plot")
        for i in range(graphs.count()):
            title = graphs.nth(i).evaluate("gd => gd.layout.title && gd.layout.title.text")
            assert title, f"untitled chart on {path}"
        screenshot(page, name)
    open_page(page, server, "/")
    kpis = published.query(
        f"""SELECT (SELECT count(*) FROM {MOVIES}) AS movies, count(*) AS ratings,
               count(DISTINCT user_id) AS users, avg(rating) AS mean FROM ratings"""
    ).iloc[0]
    assert page.inner_text("#overview-movies") == f"{int(kpis['movies']):,}"
    assert page.inner_text("#overview-ratings") == f"{int(kpis['ratings']):,}"
    assert page.inner_text("#overview-users") == f"{int(kpis['users']):,}"
    assert page.inner_text("#overview-average_rating") == f"{kpis['mean']:.2f} ★"


def test_pages_load_only_the_scripts_they_use(page, server):
    """A first load evaluates every script the index names: only what the pages use.

    Plotly comes when the first chart mounts, as the smaller bundle of plotly.py's own
    plotly.js version; every trace any page draws must be one it registers (Plotly hides
    a trace of an unknown type instead of failing).
    """
    index = requests.get(server.url + "/", timeout=30).text
    scripts = re.findall(r'<script src="([^"]+)"', index)
    assert scripts and not [s for s in scripts if re.search("plotly|polyfill|dash_table", s)]
    shipped = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    shipped_version = re.search(r"plotly\.js v([\d.]+)", shipped.read_text()[:200]).group(1)
    served = requests.get(server.url + bundles.DASH_PLOTLY, timeout=30)
    assert served.content == bundles.PLOTLY.read_bytes()
    drawn, loaded = set(), {}
    for path in PAGES.values():
        open_page(page, server, path)
        drawn |= set(
            page.evaluate(
                """() => [...document.querySelectorAll('.js-plotly-plot')]
                    .flatMap(gd => gd.data.map(t => t.type || 'scatter'))"""
            )
        )
        loaded[path] = page.evaluate(
            "() => window.Plotly && [Plotly.version, Object.keys(Plotly.PlotSchema.get().traces)]"
        )
    assert loaded[PAGES["data_quality"]] is None  # no chart, no plotly.js
    version, registered = loaded["/"]
    assert version == shipped_version
    assert drawn == {"bar", "heatmap", "scatter"}
    assert drawn <= set(registered)


def test_filters_change_charts_and_the_url(page, server, published):
    open_page(page, server, "/")
    choose(page, bar("genre"), "Comedy")
    choose(page, bar("era"), "Modern")
    set_years(page, 1990, 1999)
    settle(page)
    assert query_of(page) == {
        "genre": ["Comedy"],
        "era": ["Modern"],
        "year_from": ["1990"],
        "year_to": ["1999"],
    }
    sql, params = where(genres=["Comedy"], years=(1990, 1999), eras=["Modern"])
    expected = published.query(
        f"""SELECT r.rating, count(*) AS n FROM ratings r JOIN {MOVIES} USING (movie_id)
        WHERE {sql} GROUP BY 1 ORDER BY 1""",
        params,
    )
    drawn = figure(page, "overview-distribution")["data"][0]
    assert drawn["x"] == expected["rating"].tolist()
    assert drawn["y"] == expected["n"].tolist()
    movies = published.query(f"SELECT count(*) AS n FROM {MOVIES} WHERE {sql}", params)
    assert page.inner_text("#overview-movies") == f"{movies['n'].iloc[0]:,}"
    screenshot(page, "overview_filtered")


def test_a_url_restores_its_filters_across_pages(page, server, published):
    search = (
        "?year_from=1980&year_to=2005&genre=Drama&genre=War&min_rating=3.5"
        "&rating_category=Good&rating_category=Excellent&era=Modern&era=New+Hollywood"
    )
    open_page(page, server, "/genres" + search)
    for dropdown in (bar("genre"), bar("era")):  # chips render after the layout callback
        page.wait_for_selector(f"{dropdown} .dash-dropdown-value-item")
    chips = page.locator(f"{bar('genre')} .dash-dropdown-value-item").all_inner_texts()
    assert sorted(chips) == ["Drama", "War"]
    eras = page.locator(f"{bar('era')} .dash-dropdown-value-item").all_inner_texts()
    assert sorted(eras) == ["Modern", "New Hollywood"]
    assert page.input_value(f"{bar('years')} .dash-range-slider-min-input") == "1980"
    assert page.input_value(f"{bar('years')} .dash-range-slider-max-input") == "2005"
    assert page.get_attribute(f"{bar('min_rating')} [role=slider]", "aria-valuenow") == "3.5"

    sql, params = where(
        genres=["Drama", "War"],
        years=(1980, 2005),
        eras=["Modern", "New Hollywood"],
        min_rating=3.5,
        rating_categories=["Good", "Excellent"],
    )
    per_genre = published.query(
        f"""SELECT g.genre, count(*) AS n FROM {MOVIES}
        JOIN movie_genres mg USING (movie_id) JOIN genres g USING (genre_id)
        WHERE {sql} AND g.genre IN ('Drama', 'War') GROUP BY 1""",
        params,
    ).set_index("genre")["n"]
    bars = figure(page, "genres-distribution")["data"][0]
    assert dict(zip(bars["y"], bars["x"], strict=True)) == per_genre.to_dict()

    page.click(".nav-link:has-text('Top movies')")
    page.wait_for_url("**/top-movies?*")
    settle(page)
    carried = {k: sorted(v) for k, v in query_of(page).items()}
    assert carried == {k: sorted(v) for k, v in parse_qs(search[1:]).items()}
    top = published.query(
        f"""SELECT m.title FROM {MOVIES} WHERE {sql} AND m.rating_count > 0
        ORDER BY m.weighted_score DESC, m.rating_count DESC, m.movie_id LIMIT 20""",
        params,
    )
    assert [r["title"] for r in grid_rows(page, "top-movies")] == top["title"].tolist()
    screenshot(page, "top_movies_from_url")


def test_csv_download_holds_the_grid_rows(page, server, published, tmp_path):
    open_page(page, server, "/top-movies?genre=Drama")
    page.get_by_label("Most rated").check()
    settle(page)
    rows = pd.DataFrame(grid_rows(page, "top-movies"))
    expected = published.query(
        f"""SELECT m.movie_id, m.title, m.rating_count FROM {MOVIES}
        WHERE ('|' || m.genres || '|') LIKE '%|Drama|%' AND m.rating_count > 0
        ORDER BY m.rating_count DESC, m.weighted_score DESC, m.movie_id LIMIT 20"""
    )
    assert rows["movie_id"].tolist() == expected["movie_id"].tolist()

    with page.expect_download() as download:
        page.click("#top-movies-table button.csv")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == "top_movies.csv"
    context, _, body = path.read_text(encoding="utf-8-sig").partition("\n")
    assert context.startswith("# Movie analytics export; filters: genre=Drama, list=most;")
    assert f"data as of {published_day(published)}" in context
    csv = pd.read_csv(io.StringIO(body))
    assert len(csv) == len(rows) == 20
    assert csv["Title"].tolist() == rows["title"].tolist()
    assert csv["Ratings"].tolist() == rows["rating_count"].tolist()
    assert csv["Weighted score (stars)"].tolist() == pytest.approx(rows["weighted_score"].tolist())


def test_empty_results_say_so(page, server, published):
    search = "?min_rating=5&rating_category=Poor"
    sql, params = where(min_rating=5, rating_categories=["Poor"])
    assert published.query(f"SELECT count(*) AS n FROM {MOVIES} WHERE {sql}", params)["n"][0] == 0
    open_page(page, server, "/" + search)
    assert page.inner_text("#overview-movies") == "0"
    for graph in ["overview-distribution", "overview-per-year", "overview-popularity"]:
        drawn = figure(page, graph)
        assert drawn["data"] == []
        assert "No data matches these filters" in drawn["layout"]["annotations"][0]["text"]
    open_page(page, server, "/top-movies" + search)
    assert page.locator("#top-movies-table .no-rows, #top-movies-table .ag-overlay").first
    assert "No data matches" in page.inner_text("#top-movies-table")
    screenshot(page, "empty_result")


def test_trends_grain(page, server, published):
    open_page(page, server, "/trends")
    page.get_by_label("Year", exact=True).check()
    settle(page)
    expected = published.query(
        "SELECT year(rating_date) AS y, count(*) AS n FROM ratings GROUP BY 1 ORDER BY 1"
    )
    drawn = figure(page, "trends-count")["data"][0]
    assert [int(x[:4]) for x in drawn["x"]] == expected["y"].tolist()
    assert drawn["y"] == expected["n"].tolist()


def test_box_office_in_a_chosen_base_month(page, server, published):
    open_page(page, server, "/box-office")
    assert "not available" in page.inner_text("#box-budget")
    choose(page, "#box-base", "January 2000", search="January 2000")
    settle(page)
    expected = published.query(
        f"""WITH cpi AS (SELECT month, value FROM cpi_monthly WHERE series_id = 'CUUR0000SA0')
        SELECT m.box_office_nominal AS nominal,
               m.box_office_nominal * (SELECT value FROM cpi WHERE month = DATE '2000-01-01')
                   / c.value AS real
        FROM {MOVIES} JOIN cpi c ON c.month = date_trunc('month', m.release_date)
        WHERE m.box_office_nominal IS NOT NULL AND m.release_date >= DATE '1980-01-01'
          AND m.box_office_nominal BETWEEN 1000 AND 3e9"""
    ).sort_values(["nominal", "real"])
    drawn = figure(page, "box-scatter")
    assert drawn["data"][0]["name"].startswith("Usable")
    points = pd.DataFrame({"nominal": drawn["data"][0]["x"], "real": drawn["data"][0]["y"]})
    points = points.sort_values(["nominal", "real"])
    np.testing.assert_allclose(points["real"], expected["real"], rtol=1e-9)
    axis = page.locator("#box-scatter .ytitle").text_content()
    assert "US$ of Jan 2000" in axis
    screenshot(page, "box_office_2000")


def test_box_office_base_month_found_by_typing_and_restored_by_back(page, server):
    """A month the list does not show is found by typing it; Back and Forward restore it."""
    open_page(page, server, "/box-office")
    choose(page, "#box-base", "March 1987", search="March 1987")
    settle(page)
    assert query_of(page) == {"base": ["1987-03-01"]}
    assert "US$ of Mar 1987" in page.locator("#box-scatter .ytitle").text_content()
    choose(page, "#box-base", "January 2000", search="January 2000")
    settle(page)
    assert query_of(page) == {"base": ["2000-01-01"]}
    page.go_back()
    settle(page)
    assert query_of(page) == {"base": ["1987-03-01"]}
    assert "US$ of Mar 1987" in page.locator("#box-scatter .ytitle").text_content()
    assert page.inner_text("#box-base .dash-dropdown-value-item") == "March 1987"
    page.go_forward()
    settle(page)
    assert "US$ of Jan 2000" in page.locator("#box-scatter .ytitle").text_content()


def test_viewing_patterns(page, server, published):
    open_page(page, server, "/viewing")
    cells = published.query(
        "SELECT weekday, hour, rating_count FROM viewing_hourly ORDER BY weekday, hour"
    )
    drawn = figure(page, "viewing-heatmap")["data"][0]
    assert np.array(drawn["z"]).ravel().tolist() == cells["rating_count"].tolist()
    # The default day is the newest with a movie rated 3 times or more in its 7 days.
    counts = published.query(
        """SELECT d.day, r.movie_id, count(*) AS n
        FROM (SELECT CAST(unnest(generate_series(min(rating_date), max(rating_date),
                     INTERVAL 1 DAY)) AS DATE) AS day FROM ratings) d
        JOIN ratings r ON r.rating_date BETWEEN d.day - 6 AND d.day GROUP BY 1, 2"""
    )
    last = counts.loc[counts["n"] >= 3, "day"].max()
    assert page.input_value("#viewing-day") == f"{last:%Y-%m-%d}"
    trending = (
        counts[(counts["day"] == last) & (counts["n"] >= 3)]
        .sort_values(["n", "movie_id"], ascending=[False, True])
        .head(10)
    )
    rows = grid_rows(page, "trending")
    assert [r["movie_id"] for r in rows] == trending["movie_id"].tolist()


def test_recommendations(page, server, published):
    open_page(page, server, "/recommendations")
    user = int(
        published.query("SELECT user_id FROM recommendations ORDER BY user_id DESC")["user_id"][0]
    )
    choose(page, "#recs-user", f"User {user} (", search=f"User {user} (", exact=False)
    settle(page)
    expected = published.query(
        """SELECT m.title, r.predicted_rating FROM recommendations r
        JOIN movie_features m USING (movie_id) WHERE r.user_id = ? ORDER BY r.rank""",
        [user],
    )
    rows = grid_rows(page, "user-recs")
    assert [r["title"] for r in rows] == expected["title"].tolist()
    np.testing.assert_allclose(
        [r["predicted_rating"] for r in rows], expected["predicted_rating"], atol=5e-4
    )
    metrics = published.query(
        """SELECT model, value FROM model_metrics
        WHERE metric = 'rmse' AND protocol = (SELECT min(protocol) FROM model_metrics
                                              WHERE protocol LIKE '%chronological%')"""
    )
    (bars,) = figure(page, "recs-metrics")["data"]  # one evaluation: a bar per model
    assert sorted(bars["x"]) == pytest.approx(sorted(metrics["value"]))
    assert not any("_" in name for name in bars["y"]), "human labels, not column values"
    by_model = metrics.set_index("model")["value"]
    assert dict(zip(bars["y"], bars["x"], strict=True))["SVD, tuned"] == pytest.approx(
        by_model["svd_tuned"]
    )
    assert len(grid_rows(page, "metrics")) == len(published.query("SELECT * FROM model_metrics"))
    assert len(grid_rows(page, "similar")) == 10


def test_data_quality_page(page, server, published):
    open_page(page, server, "/data-quality")
    checks = published.query("SELECT asset, check_name, status FROM dq_checks")
    rows = grid_rows(page, "checks")
    assert sorted((r["asset"], r["check_name"], r["status"]) for r in rows) == sorted(
        checks.itertuples(index=False, name=None)
    )
    assert page.inner_text("#dq-passed") == f"{(checks['status'] == 'passed').sum():,}"
    rejected = published.query("SELECT count(*) AS n FROM rejects")["n"][0]
    assert page.inner_text("#dq-rejected") == f"{rejected:,}"
    link = page.locator("#checks-table a").first
    asset = link.inner_text()
    assert link.get_attribute("href") == f"http://dagster.test:3000/assets/{asset}"
    recon = published.query("SELECT asset, rejected_rows FROM dq_reconciliation ORDER BY asset")
    assert [(r["asset"], r["rejected_rows"]) for r in grid_rows(page, "reconciliation")] == list(
        recon.itertuples(index=False, name=None)
    )
    linked = published.query("SELECT count(*) AS n FROM film_links")["n"][0]
    movies = published.query("SELECT count(*) AS n FROM movies")["n"][0]
    shown = {r["method"]: r["movies"] for r in grid_rows(page, "links")}
    assert sum(shown.values()) == movies
    assert movies - shown["not linked"] == linked


# --- resilience: the app keeps answering while Dagster materializes ------------------

MIN_VOTES = 100
TOP_ROWS = '..{"name":"top-movies","type":"grid"}.rowData'


class Traffic(threading.Thread):
    """Replays a real callback request and the layout request until stopped."""

    def __init__(self, url: str, payload: str):
        super().__init__(daemon=True)
        self.url, self.payload = url, payload
        self.results: list[tuple[float, int | str]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        with requests.Session() as session:
            while not self.stopped.is_set():
                for method, path, body in [
                    ("POST", "/_dash-update-component", self.payload),
                    ("GET", "/_dash-layout", None),
                ]:
                    try:
                        response = session.request(
                            method,
                            self.url + path,
                            data=body,
                            timeout=30,
                            headers={"Content-Type": "application/json"} if body else None,
                        )
                        self.results.append((time.monotonic(), response.status_code))
                    except requests.RequestException as error:
                        self.results.append((time.monotonic(), repr(error)))
                # A steady stream, not a flood: two cores also run the materialization.
                self.stopped.wait(0.05)


def top_20(snap: Published) -> list[str]:
    return snap.query(
        """SELECT title FROM movie_features WHERE rating_count > 0
        ORDER BY weighted_score DESC, rating_count DESC, movie_id LIMIT 20"""
    )["title"].tolist()


def test_materializing_while_the_app_is_queried(full_warehouse, page, tmp_path):
    warehouse = copy_published(full_warehouse.path, tmp_path / "live")
    directory = snapshot.snapshot_dir(warehouse)
    copy = Published(directory)
    before = snapshot.current(directory)
    own = start_server(directory, tmp_path)
    try:
        payloads = []  # the top-movies grid's rows: a callback that reads the snapshot
        page.on(
            "request",
            lambda r: (
                payloads.append(r.post_data)
                if r.method == "POST"
                and "/_dash-update-component" in r.url
                and json.loads(r.post_data)["output"].startswith(TOP_ROWS)
                else None
            ),
        )
        page.goto(own.url + "/top-movies")
        settle(page)
        shown_before = [r["title"] for r in grid_rows(page, "top-movies")]
        assert shown_before == top_20(copy)

        traffic = Traffic(own.url, payloads[-1])
        traffic.start()
        defs = build_defs(build_resources(warehouse))
        started = time.monotonic()
        result = defs.resolve_job_def("movie_graph").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(),
            partition_key=last_partition_key(),
            # movie_features with another min_votes, and everything downstream of it.
            asset_selection=list(
                dg.AssetSelection.assets("movie_features")
                .downstream()
                .resolve(defs.resolve_asset_graph())
            ),
            run_config={**QUIET, "ops": {"movie_features": {"config": {"min_votes": MIN_VOTES}}}},
            raise_on_error=False,
        )
        finished = time.monotonic()
        time.sleep(1)
        traffic.stopped.set()
        traffic.join(timeout=60)
        assert result.success

        during = [status for t, status in traffic.results if started <= t <= finished]
        assert len(during) >= 20, f"too little traffic during the run: {len(during)}"
        failed = [status for _, status in traffic.results if status != 200]
        assert failed == [], f"{len(failed)} of {len(traffic.results)} requests failed"

        after = snapshot.current(directory)
        assert after.version != before.version
        expected = top_20(copy)
        assert expected != shown_before, "a different min_votes must change the ranking"
        # The open page polls for new snapshots and refreshes itself, without a reload.
        deadline = time.monotonic() + 20
        while [r["title"] for r in grid_rows(page, "top-movies")] != expected:
            assert time.monotonic() < deadline, "the page did not refresh to the new snapshot"
            page.wait_for_timeout(250)
        badge = page.inner_text("#snapshot-badge")
        assert after.published_at[:16].replace("T", " ") in badge
        screenshot(page, "top_movies_after_refresh")
    finally:
        own.stop()


# --- readable at every width, every view a URL -----------------------------------------

LAYOUT_PROBLEMS = """() => {
    const problems = [];
    const root = document.documentElement;
    if (root.scrollWidth > window.innerWidth + 1)
        problems.push(`page is ${root.scrollWidth}px wide in a ${window.innerWidth}px window`);
    const cut = e => e.scrollWidth > e.clientWidth + 1;
    const shown = selector => [...document.querySelectorAll(selector)].filter(
        e => e.offsetParent && e.textContent);
    for (const e of shown('.ag-header-cell-text'))
        if (cut(e)) problems.push(`header cut: ${e.textContent}`);
    for (const e of shown('.ag-right-aligned-cell'))
        if (cut(e)) problems.push(`number cut: ${e.textContent}`);
    const box = e => e && e.getBoundingClientRect();
    const overlap = (a, b) => a && b && a.width && b.width && a.left < b.right
        && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    for (const slider of document.querySelectorAll('.dash-slider-root')) {
        const marks = [...slider.querySelectorAll('.dash-slider-mark')].map(box);
        for (let i = 1; i < marks.length; i++)
            if (overlap(marks[i - 1], marks[i])) problems.push('slider labels overprint');
    }
    for (const g of document.querySelectorAll('.js-plotly-plot')) {
        const legend = box(g.querySelector('.legend'));
        for (const label of ['.gtitle', '.xtitle'])
            if (overlap(box(g.querySelector(label)), legend))
                problems.push(`legend over ${label}: ${g.parentNode.id}`);
    }
    return problems;
}"""


@pytest.mark.parametrize("width", [1400, 400])
def test_every_page_is_readable_at(browser, server, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    tab = context.new_page()
    errors = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    try:
        for name, path in PAGES.items():
            open_page(tab, server, path)
            tab.wait_for_timeout(300)  # grids size their columns after the data arrives
            problems = tab.evaluate(LAYOUT_PROBLEMS)
            assert problems == [], f"{path} at {width}px: {problems}"
            if width == 400:
                screenshot(tab, f"{name}_400px")
    finally:
        context.close()
    assert errors == []


# Every address view.js (or Dash's router) writes, with its time: what history holds.
RECORD_WRITES = """
window.urlWrites = [];
for (const kind of ['pushState', 'replaceState']) {
    const original = history[kind].bind(history);
    history[kind] = (state, title, url) => {
        window.urlWrites.push({kind, at: Date.now(), url: String(url)});
        return original(state, title, url);
    };
}"""


def writes(tab) -> list[dict]:
    return tab.evaluate("() => window.urlWrites")


def controls(tab) -> dict:
    """What a person sees of the view: address, trends grain, bar, top-movies list and rows."""
    path, query = urlparse(tab.url).path, urlparse(tab.url).query
    top = path == "/top-movies"
    return {
        "url": path + ("?" + query if query else ""),
        "grain": tab.locator("#trends-grain input:checked").get_attribute("value")
        if path == "/trends"
        else None,
        "genres": sorted(
            tab.locator(f"{bar('genre')} .dash-dropdown-value-item").all_inner_texts()
        ),
        "min_rating": tab.get_attribute(f"{bar('min_rating')} [role=slider]", "aria-valuenow"),
        "list": tab.locator("#top-kind input:checked").get_attribute("value") if top else None,
        "rows": [r["movie_id"] for r in grid_rows(tab, "top-movies")] if top else None,
    }


def header(tab, grid: str, column: str):
    return tab.locator(f"#{grid}-table .ag-header-cell[col-id='{column}']")


def filter_column(tab, grid: str, column: str, text: str) -> None:
    """Type into a column's filter the way a person does: its header's filter button."""
    header(tab, grid, column).hover()
    header(tab, grid, column).locator(".ag-header-cell-filter-button").click()
    tab.locator(".ag-filter input[aria-label='Filter Value']").fill(text)
    tab.wait_for_url(re.compile(f"filter={column}:"))
    tab.keyboard.press("Escape")


def test_back_and_forward_restore_every_view(page, server, published):
    page.add_init_script(RECORD_WRITES)
    open_page(page, server, "/trends")
    views = [controls(page)]
    page.get_by_label("Year", exact=True).check()
    settle(page)
    views.append(controls(page))
    # Two deliberate changes of one dropdown in quick succession: two entries.
    seen = len(writes(page))
    choose(page, bar("genre"), "Comedy")
    page.wait_for_url("**/trends?genre=Comedy&grain=year")
    views.append(controls(page))
    choose(page, bar("genre"), "Drama")
    page.wait_for_url("**/trends?genre=Comedy&genre=Drama&grain=year")
    settle(page)
    views.append(controls(page))
    quick = writes(page)[seen:]
    assert [w["kind"] for w in quick] == ["pushState", "pushState"]
    assert quick[1]["at"] - quick[0]["at"] < 1000, "the two changes must be quick to prove it"
    # Keyboard steps of a slider, each answered before the next: one change, one entry.
    seen = len(writes(page))
    page.focus(f"{bar('min_rating')} [role=slider]")
    for _ in range(4):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(250)
    settle(page)
    views.append(controls(page))
    steps = writes(page)[seen:]
    assert len(steps) >= 2, "the steps must reach the address one by one to prove it"
    assert [w["kind"] for w in steps] == ["pushState"] + ["replaceState"] * (len(steps) - 1)
    assert views[-1]["min_rating"] == "2"
    assert [v["url"] for v in views] == [
        "/trends",
        "/trends?grain=year",
        "/trends?genre=Comedy&grain=year",
        "/trends?genre=Comedy&genre=Drama&grain=year",
        "/trends?genre=Comedy&genre=Drama&min_rating=2.0&grain=year",
    ]

    page.click(".nav-link:has-text('Top movies')")
    page.wait_for_url("**/top-movies?*")
    settle(page)
    assert query_of(page) == {"genre": ["Comedy", "Drama"], "min_rating": ["2.0"]}
    views.append(controls(page))
    page.get_by_label("Most rated").check()
    settle(page)
    assert query_of(page)["list"] == ["most"]
    views.append(controls(page))
    sql, params = where(genres=["Comedy", "Drama"], min_rating=2.0)
    most = published.query(
        f"""SELECT m.movie_id, m.title, m.year FROM {MOVIES} WHERE {sql} AND m.rating_count > 0
        ORDER BY m.rating_count DESC, m.weighted_score DESC, m.movie_id LIMIT 20""",
        params,
    )
    assert views[-1]["rows"] == most["movie_id"].tolist()
    # The grid's sort and column filter are part of the view too.
    header(page, "top-movies", "year").locator(".ag-header-cell-label").click()
    page.wait_for_url("**sort=year:asc*")
    settle(page)
    views.append(controls(page))
    by_year = most.sort_values("year", kind="stable")
    assert views[-1]["rows"] == by_year["movie_id"].tolist()
    filter_column(page, "top-movies", "title", "the")
    settle(page)
    views.append(controls(page))
    assert query_of(page)["filter"] == ["title:contains:the"]
    with_the = by_year[by_year["title"].str.lower().str.contains("the")]
    assert 0 < len(with_the) < len(by_year)
    assert views[-1]["rows"] == with_the["movie_id"].tolist()
    assert views[-1]["url"] == (
        "/top-movies?genre=Comedy&genre=Drama&min_rating=2.0&list=most&sort=year:asc"
        "&filter=title:contains:the"
    )

    for expected in reversed(views[:-1]):
        page.go_back()
        settle(page)
        assert controls(page) == expected
    for expected in views[1:]:
        page.go_forward()
        settle(page)
        assert controls(page) == expected


def test_every_page_control_lives_in_the_url(page, server, published):
    """Each page's own controls come from the URL, show in the page, and go back to it."""
    user = int(published.query("SELECT max(user_id) AS u FROM recommendations")["u"][0])
    movie = int(published.query("SELECT max(movie_id) AS m FROM similar_movies")["m"][0])
    views = [
        f"/recommendations?user={user}&movie={movie}&metric=mae&protocol=random_5fold"
        "&recs_sort=predicted_rating:desc",
        "/top-movies?list=most&min_votes=100&sort=year:desc",
        "/box-office?base=2000-01-01&sort=year:asc&filter=title:contains:star",
        "/viewing?day=2016-01-15&sort=average:desc",
        "/trends?grain=week&rated=2015",
        "/data-quality?recon_sort=asset:desc&rejects_filter=asset:equals:ratings",
    ]
    for view in views:
        open_page(page, server, view)
        assert query_of(page) == parse_qs(urlparse(view).query), view

        if view.startswith("/recommendations"):
            recommended = published.query(
                """SELECT m.title FROM recommendations r JOIN movie_features m USING (movie_id)
                WHERE r.user_id = ? ORDER BY r.predicted_rating DESC, r.rank""",
                [user],
            )
            rows = grid_rows(page, "user-recs")
            assert [r["title"] for r in rows] == recommended["title"].tolist()
            similar = published.query(
                "SELECT similar_movie_id AS m FROM similar_movies WHERE movie_id = ? ORDER BY rank",
                [movie],
            )
            assert [r["movie_id"] for r in grid_rows(page, "similar")] == similar["m"].tolist()
            title = figure(page, "recs-metrics")["layout"]["title"]["text"]
            assert title.startswith("MAE (stars), random 5-fold cross-validation")
            choose(page, "#recs-metric", "RMSE (stars)")
            settle(page)
            assert query_of(page)["metric"] == ["rmse"]
        elif view.startswith("/top-movies"):
            assert page.locator("#top-kind input:checked").get_attribute("value") == "most"
            assert page.input_value("#top-min-votes") == "100"
            most = published.query(
                f"""SELECT m.movie_id, m.year FROM {MOVIES} WHERE m.rating_count > 0
                ORDER BY m.rating_count DESC, m.weighted_score DESC, m.movie_id LIMIT 20"""
            ).sort_values("year", ascending=False, kind="stable")
            shown = [r["movie_id"] for r in grid_rows(page, "top-movies")]
            assert shown == most["movie_id"].tolist()
            page.fill("#top-min-votes", "30")
            page.press("#top-min-votes", "Tab")
            settle(page)
            assert query_of(page) == {"list": ["most"], "min_votes": ["30"], "sort": ["year:desc"]}
        elif view.startswith("/box-office"):
            assert "US$ of Jan 2000" in page.locator("#box-scatter .ytitle").text_content()
            rows = grid_rows(page, "box-office")
            assert rows and all("star" in r["title"].lower() for r in rows)
            assert [r["year"] for r in rows] == sorted(r["year"] for r in rows)
            choose(page, "#box-base", "January 2010", search="January 2010")
            settle(page)
            assert query_of(page) == {
                "base": ["2010-01-01"],
                "sort": ["year:asc"],
                "filter": ["title:contains:star"],
            }
            # Another base month scales every gross alike: the same films, still sorted.
            again = grid_rows(page, "box-office")
            assert [(r["title"], r["year"]) for r in again] == [
                (r["title"], r["year"]) for r in rows
            ]
        elif view.startswith("/viewing"):
            assert page.input_value("#viewing-day") == "2016-01-15"
            averages = [r["average"] for r in grid_rows(page, "trending")]
            assert averages == sorted(averages, reverse=True)
        elif view.startswith("/data-quality"):
            recon = published.query("SELECT asset FROM dq_reconciliation ORDER BY asset DESC")
            shown = [r["asset"] for r in grid_rows(page, "reconciliation")]
            assert shown == recon["asset"].tolist()
            rejects = published.query(
                "SELECT DISTINCT reason, source FROM rejects WHERE asset = 'ratings'"
            )
            rows = grid_rows(page, "rejects")
            assert sorted((r["reason"], r["source"]) for r in rows) == sorted(
                rejects.itertuples(index=False, name=None)
            )
        else:
            assert page.locator("#trends-grain input:checked").get_attribute("value") == "week"
            title = figure(page, "trends-count")["layout"]["title"]["text"]
            assert "per week" in title and "2015" in title


def test_a_grid_state_the_page_cannot_use_is_named_and_left_out(page, server, published):
    open_page(page, server, "/top-movies?list=most&sort=nope:desc&filter=year:greaterThan:abc")
    notice = page.inner_text("#top_movies-ignored")
    assert "sort: 'nope' is not a column of this table" in notice
    assert "filter: 'abc' is not a number" in notice
    assert query_of(page) == {"list": ["most"]}
    most = published.query(
        f"""SELECT m.movie_id FROM {MOVIES} WHERE m.rating_count > 0
        ORDER BY m.rating_count DESC, m.weighted_score DESC, m.movie_id LIMIT 20"""
    )
    assert [r["movie_id"] for r in grid_rows(page, "top-movies")] == most["movie_id"].tolist()


def test_box_office_leaves_flagged_grosses_out_and_says_the_answer(page, server, published):
    flags = published.query(
        """SELECT CASE
              WHEN box_office_nominal < 1000 THEN 'small'
              WHEN box_office_nominal > 3e9 THEN 'large'
              WHEN year(release_date) < 1980 THEN 'old' END AS flag, count(*) AS n
        FROM movie_features
        WHERE box_office_real IS NOT NULL GROUP BY 1"""
    ).set_index("flag")["n"]
    usable = int(flags[flags.index.isna()].sum())
    open_page(page, server, "/box-office")
    notice = page.inner_text("#box-flags")
    assert f"{int(flags.drop([None], errors='ignore').sum()):,} flagged films left out" in notice
    assert f"{int(flags.get('old', 0)):,} released before 1980" in notice
    assert f"{usable:,} films are ranked and aggregated" in notice
    answer = page.inner_text("#box-answer")
    assert f"over {usable:,} films" in answer and "Kruskal–Wallis" in answer

    months = published.query(
        """SELECT month(release_date) AS m, median(box_office_real) AS median, count(*) AS n
        FROM movie_features WHERE box_office_real IS NOT NULL AND box_office_flag IS NULL
        GROUP BY 1 ORDER BY median DESC"""
    )
    best = calendar.month_name[int(months["m"].iloc[0])]
    assert f"Films released in {best} have the highest median gross" in answer
    assert f"{int(months['n'].iloc[0]):,} films)" in answer
    top = grid_rows(page, "box-office")[0]["title"]

    page.get_by_label("Include flagged films").check()
    settle(page)
    assert query_of(page)["flagged"] == ["include"]
    rows = grid_rows(page, "box-office")
    assert len(rows) == min(200, usable + int(flags.drop([None], errors="ignore").sum()))
    assert any(r["flag"] == "re-releases" for r in rows)
    assert top in [r["title"] for r in rows]
    page.reload()
    settle(page)
    assert page.is_checked("#box-flagged input")


def test_clicking_a_genre_filters_the_page(page, server, published):
    open_page(page, server, "/genres")
    page.locator("#genres-distribution .bars .point path").last.click(force=True)
    page.wait_for_url("**/genres?genre=*")
    settle(page)
    (genre,) = query_of(page)["genre"]
    chips = page.locator(f"{bar('genre')} .dash-dropdown-value-item").all_inner_texts()
    assert chips == [genre]
    movies = published.query(
        "SELECT count(*) AS n FROM movie_features WHERE ('|' || genres || '|') LIKE ?",
        [f"%|{genre}|%"],
    )["n"][0]
    bars = figure(page, "genres-distribution")["data"][0]
    assert bars["y"] == [genre] and bars["x"] == [movies]


def click_point(tab, graph_id: str, x, y) -> None:
    """Click where Plotly drew the point (x, y), as a person would: move there, then click.

    Plotly clicks the point it hovers, so wait for its hover label; if the figure was
    redrawn under the pointer, leave and come back (a person would move the mouse too).
    """
    for _ in range(5):
        where_ = tab.evaluate(
            """([id, x, y]) => {
                const gd = document.getElementById(id).querySelector('.js-plotly-plot');
                const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
                const box = gd.getBoundingClientRect();
                return [box.left + xa._offset + xa.l2p(xa.d2l(x)),
                        box.top + ya._offset + ya.l2p(ya.d2l(y))];
            }""",
            [graph_id, x, y],
        )
        tab.mouse.move(0, 0)
        tab.mouse.move(*where_, steps=4)
        try:
            tab.wait_for_selector(f"#{graph_id} .hoverlayer .hovertext", timeout=3_000)
        except PlaywrightTimeout:
            continue
        tab.mouse.click(*where_)
        return
    raise AssertionError(f"Plotly showed no hover label at {x}, {y} on #{graph_id}")


def drawn_counts(tab, graph_id: str, chars: int) -> dict:
    """The periods a time series drew with ratings (its gaps are zeros), cut to ``chars``."""
    trace = figure(tab, graph_id)["data"][0]
    return {x[:chars]: y for x, y in zip(trace["x"], trace["y"], strict=True) if y}


def counted(frame: pd.DataFrame, key: str) -> dict:
    return dict(zip(frame[key], frame["n"], strict=True))


def test_clicking_a_year_then_a_month_narrows_trends(page, server, published):
    open_page(page, server, "/trends?grain=year")
    per_year = published.query(
        "SELECT year(rating_date) AS y, count(*) AS n FROM ratings GROUP BY 1 ORDER BY 2 DESC"
    )
    year = int(per_year["y"][0])  # the busiest year
    click_point(page, "trends-count", f"{year}-01-01", int(per_year["n"][0]))
    page.wait_for_url(f"**rated={year}*")
    settle(page)
    assert query_of(page) == {"rated": [str(year)]}  # per month: the default grain
    months = published.query(
        """SELECT strftime(rating_date, '%Y-%m') AS m, count(*) AS n FROM ratings
        WHERE year(rating_date) = ? GROUP BY 1 ORDER BY 2 DESC, 1""",
        [year],
    )
    assert drawn_counts(page, "trends-count", 7) == counted(months, "m")
    drama = published.query(
        """SELECT strftime(r.rating_date, '%Y-%m') AS m, count(*) AS n FROM ratings r
        JOIN movie_genres USING (movie_id) JOIN genres g USING (genre_id)
        WHERE g.genre = 'Drama' AND year(r.rating_date) = ? GROUP BY 1""",
        [year],
    )
    bars = {t["name"]: t for t in figure(page, "trends-genres")["data"]}
    shown = dict(zip([x[:7] for x in bars["Drama"]["x"]], bars["Drama"]["y"], strict=True))
    assert {m: n for m, n in shown.items() if n} == counted(drama, "m")

    month = months["m"][0]  # the busiest month of that year
    click_point(page, "trends-count", f"{month}-01", int(months["n"][0]))
    page.wait_for_url(f"**rated={month}*")
    settle(page)
    assert query_of(page) == {"grain": ["day"], "rated": [month]}
    days = published.query(
        """SELECT strftime(rating_date, '%Y-%m-%d') AS d, count(*) AS n FROM ratings
        WHERE strftime(rating_date, '%Y-%m') = ? GROUP BY 1""",
        [month],
    )
    assert drawn_counts(page, "trends-count", 10) == counted(days, "d")
    screenshot(page, "trends_narrowed")

    page.go_back()
    settle(page)
    assert query_of(page) == {"rated": [str(year)]}  # per month: the default grain
    assert drawn_counts(page, "trends-count", 7) == counted(months, "m")
    page.go_back()
    settle(page)
    assert query_of(page) == {"grain": ["year"]}
    assert drawn_counts(page, "trends-count", 4) == {
        str(y): n for y, n in zip(per_year["y"], per_year["n"], strict=True)
    }
    assert page.locator("#trends-rated .dash-dropdown-value-item").count() == 0


def test_clicking_a_release_month_narrows_box_office(page, server, published):
    open_page(page, server, "/box-office")
    every = len(grid_rows(page, "box-office"))
    page.locator("#box-month .bars .point path").nth(2).click(force=True)
    page.wait_for_url("**/box-office?*month=*")
    settle(page)
    (month,) = query_of(page)["month"]
    usable = """FROM movie_features WHERE box_office_real IS NOT NULL
        AND box_office_flag IS NULL AND month(release_date) = ?"""
    films = published.query(
        f"SELECT movie_id {usable} ORDER BY box_office_real DESC, movie_id LIMIT 200",
        [int(month)],
    )
    assert [r["movie_id"] for r in grid_rows(page, "box-office")] == films["movie_id"].tolist()
    assert len(films) < every
    medians = published.query(
        f"""SELECT g.genre, median(box_office_real) AS median FROM (SELECT * {usable})
        JOIN movie_genres USING (movie_id) JOIN genres g USING (genre_id) GROUP BY 1""",
        [int(month)],
    ).set_index("genre")["median"]
    bars = figure(page, "box-genre")["data"][0]
    assert dict(zip(bars["x"], bars["y"], strict=True)) == pytest.approx(medians.to_dict())
    name = calendar.month_name[int(month)]
    assert f"Among films released in {name}" in page.inner_text("#box-answer")
    # The month chart keeps every month and marks the chosen one.
    months = figure(page, "box-month")["data"][0]
    assert len(months["x"]) == 12
    assert months["marker"]["opacity"][int(month) - 1] == 1
    assert sorted(months["marker"]["opacity"]).count(1) == 1

    page.go_back()
    settle(page)
    assert "month" not in query_of(page)
    assert len(grid_rows(page, "box-office")) == every
    page.go_forward()
    settle(page)
    assert query_of(page)["month"] == [month]
    assert [r["movie_id"] for r in grid_rows(page, "box-office")] == films["movie_id"].tolist()


def test_recommendations_explain_themselves(page, server, published):
    open_page(page, server, "/recommendations")
    rows = grid_rows(page, "user-recs")
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert "ranking score orders the list" in page.inner_text("#user-recs-table").replace(
        "\n", " "
    ) or "ranking score orders the list" in page.inner_text("#_pages_content")
    assert all(r["why"] for r in rows)
    explained = [r for r in rows if r["because_title"]]
    assert explained, "a user with 4-star ratings gets reasons from them"
    for row in explained:
        assert row["why"].startswith(f"You rated {row['because_title']} ")


GRAPH_COMMUNITIES = """SELECT community_id, size, top_genres, representative_titles
    FROM movie_communities ORDER BY size DESC, community_id"""
GRAPH_MOVIES = """SELECT title, pagerank, degree, strength, betweenness FROM movie_centrality
    WHERE community_id = ? ORDER BY pagerank DESC, movie_id"""


def shown_movies(tab) -> list[tuple]:
    return [
        (r["title"], r["pagerank"], r["degree"], r["strength"], r["betweenness"])
        for r in grid_rows(tab, "community-movies")
    ]


def test_movie_graph_communities_and_a_chosen_communitys_movies(page, server, published):
    communities = published.query(GRAPH_COMMUNITIES)
    assert len(communities) >= 2, "the embedded data's co-rating graph has communities"
    largest, other = (int(i) for i in communities["community_id"][:2])
    open_page(page, server, "/movie-graph")
    rows = grid_rows(page, "communities")
    assert [(r["community_id"], r["size"]) for r in rows] == list(
        zip(communities["community_id"], communities["size"], strict=True)
    )
    for row, (_, expected) in zip(rows, communities.iterrows(), strict=True):
        assert row["top_genres"].split(", ") == expected["top_genres"].split("|")
        assert row["representative_titles"].split("; ") == expected["representative_titles"].split(
            "|"
        )
    # The largest community is chosen first; its movies by PageRank, as the table has them.
    expected = published.query(GRAPH_MOVIES, [largest])
    assert shown_movies(page) == list(expected.itertuples(index=False, name=None))
    assert [r["rank"] for r in grid_rows(page, "community-movies")] == list(
        range(1, len(expected) + 1)
    )
    assert f"Community {largest}: {len(expected):,} movies" in page.inner_text("#graph-caption")

    # A click on a community lists its movies and keeps the choice in the URL.
    page.click(f"#communities-table .ag-row[row-id='{other}'] [col-id='size']")
    page.wait_for_url(f"**/movie-graph?community={other}")
    settle(page)
    chosen = published.query(GRAPH_MOVIES, [other])
    assert shown_movies(page) == list(chosen.itertuples(index=False, name=None))
    page.reload()
    settle(page)
    assert shown_movies(page) == list(chosen.itertuples(index=False, name=None))
    screenshot(page, "movie_graph_community")
    page.go_back()
    settle(page)
    assert shown_movies(page) == list(expected.itertuples(index=False, name=None))

    # A community the snapshot does not have is named and the largest shown; junk: the default.
    missing = int(communities["community_id"].max()) + 1
    open_page(page, server, f"/movie-graph?community={missing}")
    assert f"No community {missing} in this snapshot" in page.inner_text("#graph-notice")
    assert shown_movies(page) == list(expected.itertuples(index=False, name=None))
    assert query_of(page) == {"community": [str(largest)]}
    open_page(page, server, "/movie-graph?community=abc")
    assert shown_movies(page) == list(expected.itertuples(index=False, name=None))


def test_an_empty_movie_graph_says_so(page, published, tmp_path):
    directory = republish(  # a graph too small for any edge
        published,
        tmp_path / "snapshots",
        ("DELETE FROM movie_communities", []),
        ("DELETE FROM movie_centrality", []),
    )
    own = start_server(directory, tmp_path)
    try:
        open_page(page, own, "/movie-graph")
        for table in ["communities", "community-movies"]:
            assert grid_rows(page, table) == []
            assert "co-rating graph is empty" in page.inner_text(f"#{table}-table")
        assert query_of(page) == {}
    finally:
        own.stop()


def test_model_metrics_over_evaluations_have_dates_on_the_x_axis(page, published, tmp_path):
    """Two weekly evaluations: a line per model over days, its axis labelled by date."""
    day = published.query("SELECT max(as_of) AS d FROM model_metrics")["d"][0].date()
    earlier = day - pd.Timedelta(days=7)
    directory = republish(
        published,
        tmp_path / "snapshots",
        (
            """INSERT INTO model_metrics (as_of, model, protocol, metric, value)
            SELECT ?, model, protocol, metric, value * 1.01 FROM model_metrics""",
            [earlier],
        ),
    )
    own = start_server(directory, tmp_path)
    try:
        open_page(page, own, "/recommendations?metric=rmse&protocol=random_5fold")
        drawn = figure(page, "recs-metrics")
        assert "over evaluations" in drawn["layout"]["title"]["text"]
        assert all(trace["type"] == "scatter" for trace in drawn["data"])
        ticks = page.locator("#recs-metrics .xtick text").all_text_contents()
        days = pd.date_range(earlier, day, freq="D").strftime("%Y-%m-%d").tolist()
        assert ticks == days
        screenshot(page, "model_metrics_over_days")
    finally:
        own.stop()


COLD_START = "Popular with everyone: too few of your ratings to personalize yet."


def test_a_cold_start_user_is_told_why(page, slice_warehouse, tmp_path):
    """On a slice of days some users rated too few movies for the model: the page says so."""
    sliced = Published(snapshot.snapshot_dir(slice_warehouse.path))
    counts = sliced.query(
        """SELECT user_id, count(*) AS n FROM ratings
        WHERE user_id IN (SELECT user_id FROM recommendations) GROUP BY 1 ORDER BY n, user_id"""
    )
    cold = counts[counts["n"] < MIN_USER_RATINGS]
    assert len(cold), "the slice has users with too few ratings"
    own = start_server(sliced.directory, tmp_path)
    try:
        for user, n in counts.iloc[[0, -1]].itertuples(index=False):
            open_page(page, own, f"/recommendations?user={user}")
            rows = grid_rows(page, "user-recs")
            assert len(rows) == 10
            reasons = {r["why"] for r in rows}
            if n < MIN_USER_RATINGS:
                assert reasons == {COLD_START}
                assert all(r["because_title"] is None for r in rows)
                assert COLD_START in page.inner_text("#user-recs-table")
            else:
                assert COLD_START not in reasons
        screenshot(page, "recommendations_warm_user")
    finally:
        own.stop()


def test_time_travel_to_a_published_past_day(page, published, tmp_path):
    """A past day's snapshot is listed, chosen, kept in the URL across pages; the newest
    stays the default."""
    directory = tmp_path / "snapshots"
    directory.mkdir()
    newest_day = published.query("SELECT as_of FROM snapshot_info")["as_of"][0].date()
    newest = directory / f"dashboard_{newest_day:%Y%m%d}_20000101T000000000000Z.duckdb"
    shutil.copy(published.path, newest)
    snapshot.publish(directory, newest, newest_day)
    past_day = date(2016, 6, 30)
    past = directory / f"dashboard_{past_day:%Y%m%d}_20000102T000000000000Z.duckdb"
    shutil.copy(published.path, past)
    with duckdb.connect(str(past)) as con:  # what was known then: ratings up to that day
        con.execute("DELETE FROM ratings WHERE rating_date > ?", [past_day])
        for name, sql in RATING_ROLLUPS.items():  # as the publish step writes them
            con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}", [newest_day])
        con.execute("UPDATE snapshot_info SET as_of = ?", [past_day])
        past_ratings = con.execute("SELECT count(*) FROM ratings").fetchone()[0]
    assert not snapshot.publish(directory, past, past_day), "a past day never replaces the newest"
    all_ratings = Published(directory).query("SELECT count(*) AS n FROM ratings")["n"][0]
    assert past_ratings < all_ratings

    own = start_server(directory, tmp_path)
    try:
        open_page(page, own, "/")
        assert page.inner_text("#overview-ratings") == f"{all_ratings:,}"
        assert f"Data as of {newest_day:%Y-%m-%d}" in page.inner_text("#snapshot-badge")
        choose(page, "#snapshot-day", f"{past_day:%Y-%m-%d}")
        page.wait_for_url("**/?snapshot=2016-06-30")
        settle(page)
        assert page.inner_text("#overview-ratings") == f"{past_ratings:,}"
        badge = page.inner_text("#snapshot-badge")
        assert "Data as of 2016-06-30" in badge and "a past snapshot" in badge
        choose(page, bar("genre"), "Drama")
        settle(page)
        assert query_of(page) == {"genre": ["Drama"], "snapshot": ["2016-06-30"]}
        page.click(".nav-link:has-text('Trends')")
        page.wait_for_url("**/trends?*")
        settle(page)
        assert query_of(page)["snapshot"] == ["2016-06-30"]
        drawn = figure(page, "trends-count")["data"][0]
        assert (
            sum(drawn["y"])
            == Published(directory).query(
                """SELECT count(*) AS n FROM ratings r JOIN movie_features m USING (movie_id)
            WHERE ('|' || m.genres || '|') LIKE '%|Drama|%' AND r.rating_date <= ?""",
                [past_day],
            )["n"][0]
        )
        page.go_back()
        settle(page)
        assert page.inner_text("#overview-ratings") != f"{all_ratings:,}"
        assert "2016-06-30" in page.inner_text("#snapshot-badge")
        screenshot(page, "time_travel")
    finally:
        own.stop()
