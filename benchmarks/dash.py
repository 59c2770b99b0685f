"""Dash app timings: server time per callback (warm cache) and first page load in Chromium.

    python benchmarks/dash.py [--snapshots DIR] [--repeats 20] [--loads 5]

1. Serves the app with gunicorn (as ``movie-analytics serve`` does) on the newest
   published snapshot and opens every page and view (unfiltered, filtered, the
   page's own controls) in headless Chromium; each load is timed from navigation to
   the last callback settled, in a fresh browser context (empty HTTP cache).
   Reported: the first load (the server's caches empty: what the first visitor after
   a publish waits) and the median and max over --loads more.
2. Replays every callback request the browser made against the app in this
   process (Flask test client: server time only, no network) --repeats times after
   one cold call; reported: the cold call, median and p95 of the warm calls.
Targets (issue 10): p95 <= 200 ms per callback, first page load <= 2.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path and its name shadows `dash`.
sys.path[:] = [str(ROOT)] + [
    p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent
]
from movie_assets.cli import dash_command  # noqa: E402

FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = [
    "/",
    "/trends",
    "/genres",
    "/top-movies",
    "/box-office",
    "/viewing",
    "/recommendations",
    "/data-quality",
]
FILTERED = "?year_from=1980&year_to=2010&genre=Drama&genre=Comedy&min_rating=3"
# The pages' own controls, each a URL (dash_app/filters.py).
VIEWS = [
    "/trends?grain=day",
    "/trends?grain=week&genre=Drama",
    "/top-movies?list=highest&min_votes=100",
    "/box-office?flagged=include",
    "/box-office?base=2000-01-01&genre=Comedy",
    "/trends?rated=2015",
    "/box-office?month=6",
]
SETTLED = """() => {
    const root = document.getElementById('_pages_content');
    if (!window.store || !root || root.children.length === 0) return false;
    const callbacks = Object.assign({}, window.store.getState().callbacks);
    delete callbacks.stored;
    delete callbacks.completed;
    return [].concat(...Object.values(callbacks)).length === 0
        && !document.querySelector('[data-dash-is-loading="true"]')
        && [...document.querySelectorAll('.dash-graph')].every(
            g => g.querySelector('.js-plotly-plot .main-svg'));
}"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(directory: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "MOVIE_SNAPSHOT_DIR": str(directory)}
    process = subprocess.Popen(
        dash_command("127.0.0.1", port, Path(tempfile.gettempdir())),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    import requests

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/_dash-layout", timeout=30).ok:
                return process, url
        except requests.RequestException:  # not listening yet, or a worker still importing
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("gunicorn did not start")


def page_loads(url: str, loads: int) -> tuple[dict[str, float], dict[str, list[float]], list[str]]:
    """Seconds of the first load per view, of the later ones, and every callback body sent."""
    from playwright.sync_api import sync_playwright

    first: dict[str, float] = {}
    timings: dict[str, list[float]] = defaultdict(list)
    bodies: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=FLAGS
        )
        for repeat in range(loads + 1):  # the first round finds the server's caches empty
            for path in PAGES + [p + FILTERED for p in PAGES[:6]] + VIEWS:
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                tab = context.new_page()
                if repeat == 0:
                    tab.on(
                        "request",
                        lambda r: (
                            bodies.append(r.post_data)
                            if r.url.split("?")[0].endswith("_dash-update-component")
                            else None
                        ),
                    )
                started = time.perf_counter()
                tab.goto(url + path)
                tab.wait_for_function(SETTLED, polling=20)
                elapsed = time.perf_counter() - started
                if repeat:
                    timings[path].append(elapsed)
                else:
                    first[path] = elapsed
                context.close()
        browser.close()
    return first, timings, bodies


def callback_times(bodies: list[str], repeats: int) -> dict[str, tuple[float, list[float]]]:
    """Server seconds per callback: (the cold first call, the warm calls)."""
    from dash_app.app import server

    client = server.test_client()
    by_output: dict[str, list[str]] = defaultdict(list)
    for body in bodies:
        by_output[json.loads(body)["output"]].append(body)
    out: dict[str, tuple[float, list[float]]] = {}
    for output, variants in by_output.items():
        cold, warm = [], []
        for body in dict.fromkeys(variants):  # distinct requests (e.g. filtered and not)
            for i in range(repeats + 1):
                started = time.perf_counter()
                response = client.post(
                    "/_dash-update-component", data=body, content_type="application/json"
                )
                elapsed = time.perf_counter() - started
                assert response.status_code in (200, 204), (output, response.status_code)
                (cold if i == 0 else warm).append(elapsed)
        out[output] = (max(cold), warm)
    return out


def short(output: str) -> str:
    names = []
    for part in output.strip(".").split("..."):
        part = part.strip(".")
        if part.startswith("{"):
            spec, prop = part.rsplit(".", 1)
            part = f"{json.loads(spec).get('name', json.loads(spec).get('page', '?'))}.{prop}"
        names.append(part)
    return ", ".join(names)[:70]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--snapshots", type=Path, help="published snapshot directory")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()

    from movie_assets.publish import snapshot

    directory = args.snapshots or snapshot.snapshot_dir()
    current = snapshot.current(directory)
    if current is None:
        print(f"no snapshot published in {directory}: run `movie-analytics build` first")
        return 1
    os.environ["MOVIE_SNAPSHOT_DIR"] = str(directory)
    print(
        f"snapshot {current.path.name} (as of {current.as_of}), {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f} at start, "
        f"{time.strftime('%H:%M', time.gmtime())} UTC"
    )

    process, url = serve(directory)
    try:
        first, loads, bodies = page_loads(url, args.loads)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)

    print(
        f"\nFirst page load, fresh browser context: the first with empty server caches, "
        f"then {args.loads} more (target <= 2.5 s)"
    )
    print(f"{'page':<66} {'first':>7} {'median':>7} {'max':>7}")
    for path, seconds in loads.items():
        print(
            f"{path:<66} {first[path]:>6.2f}s {statistics.median(seconds):>6.2f}s "
            f"{max(seconds):>6.2f}s"
        )
    print(
        f"worst first load: {max(first.values()):.2f} s; worst median: "
        f"{max(statistics.median(s) for s in loads.values()):.2f} s"
    )

    times = callback_times(bodies, args.repeats)
    print(f"\nServer time per callback, warm cache, {args.repeats} repeats (target p95 <= 200 ms)")
    print(f"{'callback outputs':<72} {'cold':>7} {'median':>7} {'p95':>7}")
    for output, (cold, warm) in sorted(times.items(), key=lambda kv: -percentile(kv[1][1], 0.95)):
        print(
            f"{short(output):<72} {cold * 1e3:>5.0f}ms {statistics.median(warm) * 1e3:>5.1f}ms "
            f"{percentile(warm, 0.95) * 1e3:>5.1f}ms"
        )
    worst = max(percentile(w, 0.95) for _, w in times.values())
    print(f"worst p95: {worst * 1e3:.1f} ms over {len(times)} callbacks")
    print(
        f"load average {os.getloadavg()[0]:.1f} at end, {time.strftime('%H:%M', time.gmtime())} UTC"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
