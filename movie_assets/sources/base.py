"""The interface every source reader implements."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import pandas as pd


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
