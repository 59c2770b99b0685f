"""Fixtures for the Dash tests: a real gunicorn server on a published snapshot, headless Chromium.

tests/conftest.py imports the fixtures, so every test module can ask for them.
The browser is Debian's chromium driven by Playwright (never ``playwright install``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import requests

from benchmarks.dash import FLAGS as CHROMIUM_FLAGS
from dash_app import data
from movie_assets.cli import dash_command
from movie_assets.publish import snapshot

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "dash"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PAGES = {
    "overview": "/",
    "trends": "/trends",
    "genres": "/genres",
    "top_movies": "/top-movies",
    "movie_graph": "/movie-graph",
    "box_office": "/box-office",
    "viewing": "/viewing",
    "recommendations": "/recommendations",
    "data_quality": "/data-quality",
}


@dataclass
class Published:
    """A published snapshot directory and SQL on its current file (read-only)."""

    directory: Path

    @property
    def path(self) -> Path:
        current = snapshot.current(self.directory)
        assert current is not None, f"nothing published in {self.directory}"
        return current.path

    def query(self, sql: str, params=None) -> pd.DataFrame:
        # The app's own configuration: DuckDB refuses a second in-process connection to the
        # same file with different settings, and the query tests keep the app's one open.
        with duckdb.connect(str(self.path), read_only=True, config=data.DUCKDB_CONFIG) as con:
            return con.execute(sql, params or []).df()


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(directory: Path, log_dir: Path, **env: str) -> Server:
    """gunicorn dash_app.app:server as `movie-analytics serve` runs it, on a free port."""
    port = free_port()
    log = log_dir / f"gunicorn-{port}.log"
    environment = {
        **os.environ,
        "MOVIE_SNAPSHOT_DIR": str(directory),
        "MOVIE_DASH_POLL_MS": "1000",
        **env,
    }
    with open(log, "w") as out:
        process = subprocess.Popen(
            dash_command("127.0.0.1", port, log_dir),
            cwd=ROOT,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text()}")
        try:
            if requests.get(server.url + "/_dash-layout", timeout=30).ok:
                return server
        except requests.RequestException:  # not listening yet, or a worker still importing
            pass
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"gunicorn did not answer in time: {log.read_text()}")


@pytest.fixture(scope="session")
def published(request) -> Published:
    """The snapshot the full build published (dashboard_snapshot is part of the graph).

    MOVIE_TEST_SNAPSHOT_DIR reuses an already published directory while iterating locally.
    """
    reuse = os.environ.get("MOVIE_TEST_SNAPSHOT_DIR")
    if reuse:
        return Published(Path(reuse))
    return Published(snapshot.snapshot_dir(request.getfixturevalue("full_warehouse").path))


@pytest.fixture(scope="session")
def server(published, tmp_path_factory) -> Iterator[Server]:
    running = start_server(
        published.directory,
        tmp_path_factory.mktemp("dash"),
        DAGSTER_UI_URL="http://dagster.test:3000",
    )
    yield running
    running.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@dataclass
class Console:
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@pytest.fixture
def page(browser, request):
    """A fresh page; the test fails on any console error, page error or failed request."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    tab = context.new_page()
    console = Console()
    tab.on("console", lambda m: console.errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: console.errors.append(str(e)))
    # A navigation cancels requests in flight (net::ERR_ABORTED); that is not a failure.
    tab.on(
        "requestfailed",
        lambda r: (
            console.failed.append(f"{r.url} {r.failure}")
            if "ERR_ABORTED" not in (r.failure or "")
            else None
        ),
    )
    tab.on(
        "response",
        lambda r: console.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    tab.console = console
    yield tab
    errors, failed = list(console.errors), list(console.failed)
    context.close()
    console.errors, console.failed = errors, failed
    assert not console.errors, f"browser console errors: {console.errors}"
    assert not console.failed, f"failed requests: {console.failed}"


def screenshot(tab, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path


def settle(tab) -> None:
    """Wait until Dash has no callback queued or in flight and nothing shows a loading state."""
    tab.wait_for_load_state("networkidle")
    tab.wait_for_function(
        """() => {
            const root = document.getElementById('_pages_content');
            if (!window.store || !root || root.children.length === 0) return false;
            const callbacks = Object.assign({}, window.store.getState().callbacks);
            delete callbacks.stored;
            delete callbacks.completed;
            const pending = [].concat(...Object.values(callbacks));
            return pending.length === 0
                && !document.querySelector('[data-dash-is-loading="true"]')
                && [...document.querySelectorAll('.dash-graph')].every(
                    g => g.querySelector('.js-plotly-plot .main-svg'));
        }""",
        polling=100,
    )


def figure(tab, graph_id: str) -> dict:
    """The data and layout Plotly drew for a dcc.Graph."""
    return tab.evaluate(
        """id => {
            const plain = v => {
                if (v && v._inputArray) return plain(v._inputArray);
                if (ArrayBuffer.isView(v)) return Array.from(v);
                if (Array.isArray(v)) return v.map(plain);
                return v;
            };
            const gd = document.getElementById(id).querySelector('.js-plotly-plot');
            const data = gd.data.map(t => Object.fromEntries(
                Object.entries(t).map(([k, v]) => [k, ['x', 'y', 'z', 'text', 'customdata']
                    .includes(k) ? plain(v) : v])));
            return {data, layout: {title: gd.layout.title,
                    annotations: gd.layout.annotations || []}};
        }""",
        graph_id,
    )


def grid_rows(tab, name: str) -> list[dict]:
    """Rows an AG Grid shows, in its current filter and sort order."""
    grid_id = json.dumps({"name": name, "type": "grid"}, separators=(",", ":"))
    return tab.evaluate(
        """async id => {
            const api = await dash_ag_grid.getApiAsync(id);
            const rows = [];
            api.forEachNodeAfterFilterAndSort(n => rows.push(n.data));
            return rows;
        }""",
        grid_id,
    )


def republish(published: Published, directory: Path, *statements: tuple[str, list]) -> Path:
    """A copy of the current snapshot file, changed by SQL statements, published on its day
    in ``directory``: a snapshot as the pipeline would publish it in another situation."""
    directory.mkdir(parents=True, exist_ok=True)
    day = snapshot.current(published.directory).as_of
    path = directory / f"dashboard_{day:%Y%m%d}_20000101T000000000000Z.duckdb"
    shutil.copy(published.path, path)
    with duckdb.connect(str(path)) as con:
        for sql, params in statements:
            con.execute(sql, params)
    snapshot.publish(directory, path, day)
    return directory


def copy_published(source: Path, target: Path) -> Path:
    """A private copy of a warehouse and its current snapshot, for tests that write."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, target / source.name)
    src, dst = snapshot.snapshot_dir(source), snapshot.snapshot_dir(target / source.name)
    dst.mkdir()
    current = snapshot.current(src)
    shutil.copy(current.path, dst / current.path.name)
    shutil.copy(src / snapshot.POINTER, dst / snapshot.POINTER)
    return target / source.name
