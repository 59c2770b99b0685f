"""TMDB as a film source: films released on each day, discovered page by page, details in parallel.

The HTTP client (rate limit, retries, deadline, the credential kept out of every log)
is sources/tmdb_client.py. A day's films are cached on disk once the day is complete
(no rejects) and at least ``FINAL_AFTER_DAYS`` old, so a daily run asks TMDB about
recent days only.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd

from movie_assets.sources.base import Received
from movie_assets.sources.files import Rejects, cache_dir, first_partition_day, snapshot_day
from movie_assets.sources.tmdb_client import DETAIL_FIELDS, TmdbClient, TmdbError

log = logging.getLogger(__name__)

FINAL_AFTER_DAYS = 14


def _names(items) -> str:
    return ", ".join(str(i.get("name", "")) for i in items or [] if isinstance(i, dict))


def to_films(details: list[dict]) -> pd.DataFrame:
    """TMDB details in the RawFilms layout; 0 budget or revenue stays 0 (clean: unknown)."""
    frame = pd.DataFrame(details, columns=DETAIL_FIELDS)
    released = pd.to_datetime(frame["release_date"], format="%Y-%m-%d", errors="coerce")
    return pd.DataFrame(
        {
            "film_id": frame["id"].astype("Int64"),
            "imdb_id": frame["imdb_id"].replace("", None),
            "tmdb_id": frame["id"].astype("Int64"),
            "title": frame["title"],
            "year": released.dt.year.astype("Int64"),
            "released": frame["release_date"].replace("", None),
            "runtime": pd.to_numeric(frame["runtime"], errors="coerce"),
            "genre": frame["genres"].map(_names),
            "language": frame["original_language"],
            "country": frame["production_countries"].map(_names),
            "director": None,
            "metacritic": None,
            "tomato_meter": None,
            "tomato_rating": None,
            "box_office": pd.to_numeric(frame["revenue"], errors="coerce"),
            "budget": pd.to_numeric(frame["budget"], errors="coerce"),
            "popularity": pd.to_numeric(frame["popularity"], errors="coerce"),
            "vote_average": pd.to_numeric(frame["vote_average"], errors="coerce"),
            "vote_count": pd.to_numeric(frame["vote_count"], errors="coerce"),
            "production_companies": frame["production_companies"].map(_names),
        }
    )


class TmdbSource:
    """Films from TMDB: every film whose primary release falls on ``released_from``..as-of day."""

    name = "tmdb"

    def __init__(
        self,
        client: TmdbClient,
        as_of: date | None = None,
        released_from: date | None = None,
        workers: int = 8,
        cache: Path | None = None,
    ):
        self.client = client
        self.as_of = snapshot_day(as_of)
        self.released_from = released_from or first_partition_day()
        self.workers = workers
        host = urlparse(client.base_url).netloc.replace(":", "_") or "tmdb"
        self.cache = cache or cache_dir() / "tmdb" / host

    def day(self, day: date) -> tuple[list[dict], Rejects]:
        """Every film released on ``day`` with its details; failed details become rejects."""
        cached = self.cache / f"{day.isoformat()}.json"
        if cached.exists():
            return json.loads(cached.read_text()), Rejects()
        ids, total = self.client.discover_day(day)
        rejects = Rejects()
        if len(ids) != total:
            rejects.add(
                self.as_of,
                json.dumps({"release_date": day.isoformat()}),
                f"TMDB discover {day}: {len(ids)} distinct films over all pages, "
                f"total_results said {total} (the listing changed while paging?)",
            )
        with ThreadPoolExecutor(self.workers, thread_name_prefix="tmdb") as pool:
            outcomes = list(pool.map(self._details, ids))
        details = []
        for movie_id, outcome in zip(ids, outcomes, strict=True):
            if isinstance(outcome, TmdbError):
                rejects.add(
                    self.as_of,
                    json.dumps({"id": movie_id, "release_date": str(day)}),
                    f"TMDB details of film {movie_id}: {outcome}",
                )
            else:
                details.append(outcome)
        final = day <= datetime.now(UTC).date() - timedelta(days=FINAL_AFTER_DAYS)
        if final and not rejects.rows:
            self.cache.mkdir(parents=True, exist_ok=True)
            partial = cached.with_suffix(".part")
            partial.write_text(json.dumps(details))
            partial.replace(cached)
        log.info("TMDB %s: %d films, %d rejected", day, len(details), len(rejects.rows))
        return details, rejects

    def _details(self, movie_id: int) -> dict | TmdbError:
        try:
            return self.client.details(movie_id)
        except TmdbError as err:
            if err.status in (401, 403):
                raise
            return err

    def films(self) -> Received:
        rejects, details = Rejects(), []
        day = self.released_from
        while day <= self.as_of:
            got, bad = self.day(day)
            details.extend(got)
            rejects.rows.extend(bad.rows)
            day += timedelta(days=1)
        return Received(to_films(details), rejects.frame())
