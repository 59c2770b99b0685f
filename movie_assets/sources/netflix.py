"""The Netflix Prize data set, as distributed: a folder with the files below.

- ``combined_data_*.txt``: a ``MovieID:`` line, then that movie's ``CustomerID,Rating,Date``
  lines; about 100 million ratings in all, so the files are read in chunks and only the
  requested days are kept (memory is bounded by the chunk size and the result);
- ``movie_titles.csv``: ``MovieID,YearOfRelease,Title``, latin-1, titles may hold commas,
  the year may be ``NULL``;
- ``probe.txt``: the (movie, customer) pairs held out for evaluation; they are excluded
  from the ratings and can be read separately with ``probe_ratings``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from movie_assets.sources import ratings_parse
from movie_assets.sources.base import Received
from movie_assets.sources.files import (
    CHUNK_ROWS,
    Rejects,
    SourceFileError,
    books_undated,
    first_partition_day,
    snapshot_day,
)

TITLES = "movie_titles.csv"
PROBE = "probe.txt"
PATTERN = "combined_data_*.txt"


def _key(movie: pd.Series | np.ndarray, customer: pd.Series | np.ndarray) -> np.ndarray:
    return np.asarray(movie, dtype=np.int64) << 32 | np.asarray(customer, dtype=np.int64)


class NetflixPrize:
    """Reader for the Netflix Prize folder: catalogue and ratings; no films or CPI."""

    name = "netflix"

    def __init__(self, folder: str, as_of: date | None = None):
        if not folder:
            raise ValueError("no Netflix Prize folder configured (MOVIE_NETFLIX_DIR)")
        self.folder = Path(folder).expanduser()
        if not self.folder.is_dir():
            raise FileNotFoundError(f"{self.folder}: no such folder")
        self.as_of = as_of
        self.probe_excluded = 0

    def _file(self, name: str) -> Path:
        path = self.folder / name
        if not path.exists():
            raise SourceFileError(f"{path}: missing from the Netflix Prize folder")
        return path

    def movies(self) -> Received:
        path = self._file(TITLES)
        rejects, day, rows = Rejects(), snapshot_day(self.as_of), []
        with path.open("r", encoding="latin-1", newline="") as stream:
            for number, line in enumerate(stream, start=1):
                text = line.rstrip("\r\n")
                fields = text.split(",", 2)
                if len(fields) < 3:
                    rejects.add(
                        day,
                        text,
                        f"{TITLES} line {number}: {len(fields)} fields, "
                        "expected MovieID,YearOfRelease,Title (truncated?)",
                    )
                    continue
                movie_id, year, title = fields
                if not movie_id.strip().isdigit():
                    rejects.add(
                        day,
                        text,
                        f"{TITLES} line {number}: movie id {movie_id!r} is not an integer",
                    )
                    continue
                if year != "NULL" and not year.strip().isdigit():
                    rejects.add(
                        day,
                        text,
                        f"{TITLES} line {number}: year {year!r} is neither a number nor NULL",
                    )
                    continue
                rows.append((int(movie_id), title, None if year == "NULL" else float(year)))
        frame = pd.DataFrame(rows, columns=["movie_id", "title", "year"])
        movies = pd.DataFrame(
            {
                "movie_id": frame["movie_id"].astype("Int64"),
                "title": frame["title"].astype("string"),
                "year": frame["year"].astype("Float64"),
                "genres": pd.Series("", index=frame.index, dtype="string"),
            }
        )
        return Received(movies, rejects.frame())

    def probe_keys(self) -> np.ndarray:
        """Sorted (movie << 32 | customer) keys of the probe set; about 11 MB for 1.4M pairs."""
        path = self.folder / PROBE
        if not path.exists():
            return np.empty(0, dtype=np.int64)
        keys, movie = [], None
        with path.open("r", encoding="latin-1") as stream:
            for number, line in enumerate(stream, start=1):
                text = line.strip()
                if text.endswith(":") and text[:-1].isdigit():
                    movie = int(text[:-1])
                elif text.isdigit() and movie is not None:
                    keys.append((movie << 32) | int(text))
                elif text:
                    raise SourceFileError(
                        f"{PROBE} line {number}: expected 'MovieID:' or a "
                        f"customer id, found {text[:40]!r}"
                    )
        return np.unique(np.asarray(keys, dtype=np.int64))

    def _chunks(self, path: Path, first: date, last: date, rejects: Rejects):
        """Rated rows of one combined file, chunk by chunk, with the movie id carried over."""
        label, movie = path.name, pd.NA
        try:
            chunks = pd.read_csv(
                path,
                header=None,
                names=["user_id", "rating", "date"],
                dtype=str,
                encoding="latin-1",
                chunksize=CHUNK_ROWS,
                skip_blank_lines=False,
                keep_default_na=False,
                na_values=[],
            )
            for chunk in chunks:
                lines = pd.Series(chunk.index + 1, index=chunk.index)
                head = chunk["user_id"].str.fullmatch(r"\d+:") & chunk["rating"].fillna("").eq("")
                movie_ids = chunk["user_id"].where(head).str.rstrip(":")
                if not head.iloc[0]:
                    movie_ids.iloc[0] = movie
                movie_ids = movie_ids.ffill()
                movie = movie_ids.iloc[-1]
                body = chunk[~head]
                orphan = movie_ids[~head].isna()
                if orphan.any() and books_undated(first, last):
                    for i in body.index[orphan]:
                        rejects.add(
                            first_partition_day(),
                            ",".join(body.loc[i].fillna("")),
                            f"{label} line {lines[i]}: rating before any 'MovieID:' line",
                        )
                body = body[~orphan]
                dated = pd.to_datetime(body["date"], format="%Y-%m-%d", errors="coerce")
                seconds = (dated - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)
                text = pd.DataFrame(
                    {
                        "user_id": body["user_id"],
                        "movie_id": movie_ids[body.index],
                        "rating": body["rating"],
                        "timestamp": body["date"],
                    }
                )
                yield ratings_parse.split_chunk(
                    text,
                    lines,
                    label,
                    first,
                    last,
                    rejects,
                    timestamp=seconds.astype("Int64"),
                )
        except pd.errors.ParserError as err:
            raise SourceFileError(f"{label}: {err}") from None
        except UnicodeDecodeError as err:
            raise SourceFileError(f"{label}: {err}") from None

    def ratings(self, first: date, last: date) -> Received:
        files = sorted(self.folder.glob(PATTERN))
        if not files:
            raise SourceFileError(f"{self.folder}: no {PATTERN} files")
        probe = self.probe_keys()
        rejects, kept, self.probe_excluded = Rejects(), [], 0
        for path in files:
            for rows in self._chunks(path, first, last, rejects):
                held_out = np.isin(_key(rows["movie_id"], rows["user_id"]), probe)
                self.probe_excluded += int(held_out.sum())
                kept.append(rows[~held_out])
        return Received(ratings_parse.concat(kept), rejects.frame())

    def probe_ratings(self, first: date, last: date) -> pd.DataFrame:
        """The held-out probe ratings made on days first..last, for evaluation only."""
        probe, parts = self.probe_keys(), []
        for path in sorted(self.folder.glob(PATTERN)):
            for rows in self._chunks(path, first, last, Rejects()):
                parts.append(rows[np.isin(_key(rows["movie_id"], rows["user_id"]), probe)])
        return ratings_parse.concat(parts)

    def films(self) -> Received:
        raise NotImplementedError("Netflix Prize has no film metadata: compose with a film source")

    def cpi(self) -> Received:
        raise NotImplementedError("Netflix Prize has no CPI: compose it with a CPI source")
