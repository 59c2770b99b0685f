"""The app keeps answering while Dagster materializes, and shows the new data afterwards."""

from __future__ import annotations

import threading
import time

import dagster as dg
import pytest
import requests

from movie_assets.build import QUIET
from movie_assets.definitions import SNAPSHOTS, build_defs
from movie_assets.partitions import last_partition_key
from movie_assets.publish import snapshot
from movie_assets.resources import build_resources
from tests.dash_fixtures import (  # noqa: F401
    Published,
    browser,
    copy_published,
    grid_rows,
    page,
    screenshot,
    settle,
    start_server,
)

pytestmark = pytest.mark.browser
MIN_VOTES = 100


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


def top_20(published: Published) -> list[str]:
    return published.query(
        """SELECT title FROM movie_features WHERE rating_count > 0
        ORDER BY weighted_score DESC, rating_count DESC, movie_id LIMIT 20"""
    )["title"].tolist()


def test_materializing_while_the_app_is_queried(full_warehouse, page, tmp_path):  # noqa: F811
    warehouse = copy_published(full_warehouse.path, tmp_path / "live")
    directory = snapshot.snapshot_dir(warehouse)
    published = Published(directory)
    before = snapshot.current(directory)
    server = start_server(directory, tmp_path)
    try:
        payloads = []
        page.on(
            "request",
            lambda r: (
                payloads.append(r.post_data)
                if r.method == "POST" and "top-movies" in (r.post_data or "")
                else None
            ),
        )
        page.goto(server.url + "/top-movies")
        settle(page)
        shown_before = [r["title"] for r in grid_rows(page, "top-movies")]
        assert shown_before == top_20(published)

        traffic = Traffic(server.url, payloads[-1])
        traffic.start()
        defs = build_defs(build_resources(warehouse))
        started = time.monotonic()
        result = defs.resolve_job_def("movie_graph").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(),
            partition_key=last_partition_key(),
            asset_selection=list(SNAPSHOTS.resolve(defs.resolve_asset_graph())),
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
        expected = top_20(published)
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
        server.stop()
