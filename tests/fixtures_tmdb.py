"""A TMDB API v3 stand-in on 127.0.0.1: the two endpoints the client uses, and injected faults.

It answers ``/3/discover/movie`` (20 results a page, filtered on the primary release
day) and ``/3/movie/{id}``, checks the credential like TMDB (401 with a JSON error
body), and records when each request arrived so tests can measure the rate.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PAGE_SIZE = 20
TRICKLE_PIECES = 30  # a trickled body arrives in this many pieces, evenly spaced
API_KEY = "k3y-7f2c9e1d4b8a6053"
TOKEN = "t0ken-eyJhbGciOiJIUzI1NiJ9.secret"


def film(film_id: int, day: date) -> dict:
    """Details as TMDB sends them; every third film has unknown (0) budget and revenue."""
    known = film_id % 3 != 0
    return {
        "id": film_id,
        "imdb_id": f"tt{900000 + film_id:07d}",
        "title": f"Picture {film_id}",
        "release_date": day.isoformat(),
        "genres": [{"id": 18, "name": "Drama"}, {"id": 35, "name": "Comedy"}][: 1 + film_id % 2],
        "runtime": 80 + film_id % 40,
        "budget": 1_000_000 * film_id if known else 0,
        "revenue": 3_000_000 * film_id if known else 0,
        "popularity": film_id / 10,
        "vote_average": 5 + film_id % 5,
        "vote_count": 10 * film_id,
        "original_language": "en",
        "production_companies": [{"id": 1, "name": "Studio One"}],
        "production_countries": [{"iso_3166_1": "US", "name": "United States of America"}],
        "overview": "Not one of the fields kept.",
    }


def catalogue(counts: dict[date, int]) -> dict[date, list[dict]]:
    out, next_id = {}, 1000
    for day, n in counts.items():
        out[day] = [film(next_id + i, day) for i in range(n)]
        next_id += n
    return out


class FakeTmdb:
    """Serve ``films`` by release day; ``fail(key, *actions)`` queues faults for a request key.

    A request key is the path for details (``/3/movie/1001``) and ``discover:DAY:PAGE``
    for a discover page. Actions: ``("429", seconds)``, ``("500",)``, ``("slow", seconds)``,
    ``("trickle", seconds)`` (headers at once, then the normal body spread over ``seconds``:
    no single read waits long, the whole response does), ``("malformed",)``, ``("404",)``;
    ``always`` applies one action to every request.
    """

    def __init__(self, films: dict[date, list[dict]]):
        self.films = films
        self.by_id = {f["id"]: f for day in films.values() for f in day}
        self.queued: dict[str, deque] = defaultdict(deque)
        self.always: dict[str, tuple] = {}
        self.log: list[tuple[float, str]] = []  # (monotonic arrival, request key)
        self.urls: list[str] = []
        self.trickled: list[bool] = []  # per trickled response: was the whole body taken?
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                fake.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/3"

    def __enter__(self) -> FakeTmdb:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail(self, key: str, *actions: tuple) -> None:
        self.queued[key].extend(actions)

    def trickle_outcomes(self, count: int, wait: float = 10.0) -> list[bool]:
        """The first ``count`` trickled responses' outcomes, once their handlers have ended.

        A handler only learns that the client hung up on its next write, after the client
        may already have moved on: wait for it (a bound on waiting, not on the client).
        """
        deadline = time.monotonic() + wait
        while len(self.trickled) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.trickled[:count]

    def times(self, key: str) -> list[float]:
        return [t for t, k in self.log if k == key]

    # --- request handling -----------------------------------------------------------------------

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        arrived = time.monotonic()
        url = urlparse(request.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/3/discover/movie":
            key = f"discover:{query.get('primary_release_date.gte')}:{query.get('page', '1')}"
        else:
            key = url.path
        with self._lock:
            self.log.append((arrived, key))
            self.urls.append(request.path)
            action = self.queued[key].popleft() if self.queued[key] else self.always.get(key)
        authorized = query.get("api_key") == API_KEY or (
            request.headers.get("Authorization") == f"Bearer {TOKEN}"
        )
        if not authorized:
            return self.send(
                request,
                401,
                {
                    "status_code": 7,
                    "success": False,
                    "status_message": "Invalid API key: You must be granted a valid key.",
                },
            )
        if action is not None:
            kind = action[0]
            if kind == "429":
                return self.send(
                    request,
                    429,
                    {"status_code": 25, "success": False, "status_message": "Too many requests"},
                    {"Retry-After": str(action[1])},
                )
            if kind == "500":
                return self.send(
                    request,
                    500,
                    {"status_code": 11, "success": False, "status_message": "Internal error"},
                )
            if kind == "404":
                return self.not_found(request)
            if kind == "slow":
                time.sleep(action[1])
            if kind == "trickle":
                request.trickle_seconds = action[1]  # read by send_raw
            if kind == "malformed":
                return self.send_raw(request, 200, b'{"id": 12, "title": "cut sho')
        if url.path == "/3/discover/movie":
            return self.discover(request, query)
        if url.path.startswith("/3/movie/"):
            found = self.by_id.get(int(url.path.rsplit("/", 1)[1]))
            return self.send(request, 200, found) if found else self.not_found(request)
        return self.not_found(request)

    def discover(self, request, query: dict) -> None:
        day = date.fromisoformat(query["primary_release_date.gte"])
        assert query["primary_release_date.lte"] == day.isoformat()
        films = self.films.get(day, [])
        page = int(query.get("page", "1"))
        pages = max(1, -(-len(films) // PAGE_SIZE))
        chunk = films[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        self.send(
            request,
            200,
            {
                "page": page,
                "total_pages": pages if films else 0,
                "total_results": len(films),
                "results": [{"id": f["id"], "title": f["title"]} for f in chunk],
            },
        )

    def not_found(self, request) -> None:
        self.send(
            request,
            404,
            {
                "status_code": 34,
                "success": False,
                "status_message": "The resource you requested could not be found.",
            },
        )

    def send(self, request, status: int, body: dict, headers: dict | None = None) -> None:
        self.send_raw(request, status, json.dumps(body).encode(), headers)

    def send_raw(self, request, status: int, data: bytes, headers: dict | None = None) -> None:
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json;charset=utf-8")
            request.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                request.send_header(name, value)
            request.end_headers()
            seconds = getattr(request, "trickle_seconds", 0.0)
            if not seconds:
                return request.wfile.write(data)
            size = -(-len(data) // TRICKLE_PIECES)
            for start in range(0, len(data), size):
                time.sleep(seconds / TRICKLE_PIECES)
                request.wfile.write(data[start : start + size])
                request.wfile.flush()
            self.trickled.append(True)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up on a slow response: that is the point of the test.
            if getattr(request, "trickle_seconds", 0.0):
                self.trickled.append(False)
