"""The interface every source reader implements."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import pandas as pd

from movie_assets import point_in_time as pit


@dataclass
class Received:
    """Rows a reader parsed, and the rows it could not parse with their reasons.

    ``rejects`` has the columns ``raw`` (the line or record as received),
    ``reason`` and ``partition_date``.
    """

    rows: pd.DataFrame
    rejects: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["partition_date", "raw", "reason"])
    )


def empty(columns: dict[str, str]) -> Received:
    """No rows, in a part's layout, for a reader that does not have that part."""
    return Received(pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()}))


LINK_COLUMNS = {"movie_id": "Int64", "imdb_id": "string", "tmdb_id": "Int64"}
TAG_COLUMNS = {"user_id": "Int64", "movie_id": "Int64", "tag": "string", "timestamp": "Int64"}


class MovieSource(Protocol):
    """A source's parts. A file or live reader has only the parts ``READERS`` says it
    provides (sources/registry.py); ``CompositeSource`` asks each part of its reader."""

    name: str

    def movies(self) -> Received:
        """MovieLens-style catalogue: movie_id, title, year, genres (pipe-separated)."""

    def films(self) -> Received:
        """Film metadata: the RawFilms columns without as_of/source/ingested_at."""

    def links(self) -> Received:
        """MovieLens id to IMDb and TMDB ids: movie_id, imdb_id ('tt...'), tmdb_id."""

    def tags(self) -> Received:
        """User tags on catalogue movies: user_id, movie_id, tag, timestamp."""

    def ratings(self, first: date, last: date) -> Received:
        """Ratings that happened on days first..last: user_id, movie_id, rating, timestamp."""

    def cpi(self) -> Received:
        """Monthly CPI-U observations: series_id, year, period (M01..M12), value."""


def ratings_batches(reader: MovieSource, first: date, last: date) -> Iterator[Received]:
    """The ratings of first..last in batches of bounded size if the reader streams, else at once.

    A reader streams by also having ``ratings_batches(first, last)``: an iterator of
    ``Received``, each holding at most one chunk of rows and the rejects met while reading
    it (docs/sources.md, "Streaming and memory"). Its ``ratings`` is the batches joined.
    """
    streamed = getattr(reader, "ratings_batches", None)
    if streamed is not None:
        return iter(streamed(first, last))
    return iter([reader.ratings(first, last)])


class KnownOn:
    """A reader as it would have answered on ``day``: rows dated later are not received.

    The rules are ``point_in_time``'s; ``first_seen`` gives each movie's first rating or
    tag (the catalogue's date where the source has no added date). Ratings pass through:
    ``raw_ratings`` is partitioned by the day each rating was made.
    """

    def __init__(self, reader: MovieSource, day: date, first_seen: Callable[[], pd.Series]):
        self.reader = reader
        self.day = day
        self._first_seen = first_seen

    @property
    def name(self) -> str:
        return self.reader.name

    def _filtered(self, received: Received, rule) -> Received:
        return Received(rule(received.rows), received.rejects)

    def movies(self) -> Received:
        seen = self._first_seen()
        return self._filtered(
            self.reader.movies(), lambda r: pit.catalogue_known(r, seen, self.day)
        )

    def links(self) -> Received:
        seen = self._first_seen()
        return self._filtered(self.reader.links(), lambda r: pit.catalogue_known(r, seen, self.day))

    def films(self) -> Received:
        return self._filtered(self.reader.films(), lambda r: pit.films_known(r, self.day))

    def tags(self) -> Received:
        return self._filtered(self.reader.tags(), lambda r: pit.tags_known(r, self.day))

    def cpi(self) -> Received:
        return self._filtered(self.reader.cpi(), lambda r: pit.cpi_known(r, self.day))

    def ratings(self, first: date, last: date) -> Received:
        return self.reader.ratings(first, last)

    def ratings_batches(self, first: date, last: date) -> Iterator[Received]:
        return ratings_batches(self.reader, first, last)
