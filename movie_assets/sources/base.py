"""The interface every source reader implements."""

from __future__ import annotations

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


class MovieSource(Protocol):
    name: str

    def movies(self) -> Received:
        """MovieLens-style catalogue: movie_id, title, year, genres (pipe-separated)."""

    def films(self) -> Received:
        """Film metadata: the RawFilms columns without as_of/source/ingested_at."""

    def ratings(self, first: date, last: date) -> Received:
        """Ratings that happened on days first..last: user_id, movie_id, rating, timestamp."""

    def cpi(self) -> Received:
        """Monthly CPI-U observations: series_id, year, period (M01..M12), value."""
