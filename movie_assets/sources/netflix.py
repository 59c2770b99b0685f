"""The Netflix Prize data set, as distributed: a folder with the files below.

- ``combined_data_*.txt``: a ``MovieID:`` line, then that movie's ``CustomerID,Rating,Date``
  lines; about 100 million ratings in all, so the files are read in blocks of CHUNK_ROWS
  lines, parsed with numpy when every line of the block has that exact form (else with
  pandas, which books the rejects), and ``ratings_batches`` hands on one block's ratings
  at a time: memory is bounded by the block size, not by the number of ratings;
- ``movie_titles.csv``: ``MovieID,YearOfRelease,Title``, latin-1, titles may hold commas,
  the year may be ``NULL``;
- ``probe.txt``: the (movie, customer) pairs the Prize held out for its own evaluation.
  They are a subset of the training data, so their ratings stay in ``raw_ratings`` like
  every other line (the product evaluates on its own per-user hold-out, docs/evaluation.md);
  ``probe_ratings`` reads them apart for anyone reproducing the Prize's protocol.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from movie_assets.settings import partition_span
from movie_assets.sources import ratings_parse
from movie_assets.sources.base import Received
from movie_assets.sources.files import (
    CHUNK_ROWS,
    NUL,
    Rejects,
    SourceFileError,
    books_undated,
    first_partition_day,
    line_blocks,
    snapshot_day,
)

TITLES = "movie_titles.csv"
PROBE = "probe.txt"
PATTERN = "combined_data_*.txt"
NEWLINE = ord("\n")
LINE_BYTES = 24  # a typical "customer,rating,date" line
ID_DIGITS = 9  # customer and movie ids the numpy path reads; longer ones take the general path


def _key(movie: pd.Series | np.ndarray, customer: pd.Series | np.ndarray) -> np.ndarray:
    return np.asarray(movie, dtype=np.int64) << 32 | np.asarray(customer, dtype=np.int64)


def _held_out(rows: pd.DataFrame, probe: np.ndarray) -> np.ndarray:
    """Which rows are probe pairs: a binary search in the sorted keys, per chunk."""
    keys = _key(rows["movie_id"], rows["user_id"])
    if not len(probe):
        return np.zeros(len(keys), dtype=bool)
    at = np.searchsorted(probe, keys).clip(max=len(probe) - 1)
    return probe[at] == keys


def _blocks(path: Path) -> Iterator[tuple[int, bytes]]:
    """The file in blocks of at most CHUNK_ROWS whole lines, each ending in a newline.

    A UTF-8 byte-order mark before the first ``MovieID:`` line is not part of it.
    """
    with path.open("rb") as stream:
        for number, data in line_blocks(stream, CHUNK_ROWS, LINE_BYTES):
            if number == 1:
                data = data.removeprefix(b"\xef\xbb\xbf")
            yield number, data if data.endswith(b"\n") else data + b"\n"


def _digits(buf: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The number written in buf[start:end] (1 to ID_DIGITS digits), or -1 where it is not."""
    width = end - start
    value = np.zeros(len(start), dtype=np.int64)
    ok = (width >= 1) & (width <= ID_DIGITS)
    for k in range(ID_DIGITS):
        inside = k < width
        digit = buf[np.maximum(end - 1 - k, 0)].astype(np.int64) - ord("0")
        ok &= ~inside | ((digit >= 0) & (digit <= 9))
        value += np.where(inside, digit * 10**k, 0)
    return np.where(ok, value, -1)


def _standard_block(
    data: bytes, number: int, movie: int | None, first: date, last: date
) -> tuple[pd.DataFrame, int | None] | None:
    """The rows of a block in which every line is ``MovieID:`` or ``CustomerID,R,YYYY-MM-DD``
    with a real date after a movie line, parsed with numpy: no Python object per field.

    None if any line is anything else, or is dated outside the partition span; the
    general parser then reads the block and books its rejects. Real Netflix files only
    hold such lines, dated 1999 to 2005.
    """
    if movie is not None and movie >= 10**ID_DIGITS:
        return None
    buf = np.frombuffer(data + bytes(16), np.uint8)  # fixed offsets never run past the end
    ends = np.flatnonzero(buf == NEWLINE)
    starts = np.concatenate(([0], ends[:-1] + 1))
    ends = ends - ((ends > starts) & (buf[ends - 1] == ord("\r")))
    length = ends - starts
    movie_id = _digits(buf, starts, ends - 1)
    header = (length >= 2) & (buf[ends - 1] == ord(":")) & (movie_id >= 0)
    comma = np.maximum(ends - 13, 0)  # ',R,YYYY-MM-DD' ends every rating line
    user = _digits(buf, starts, comma)
    stars = _digits(buf, comma + 1, comma + 2)
    year = _digits(buf, comma + 3, comma + 7)
    month = _digits(buf, comma + 8, comma + 10)
    day = _digits(buf, comma + 11, comma + 13)
    rating = (length >= 14) & (user >= 0) & (stars >= 0) & (buf[comma] == ord(","))
    rating &= (buf[comma + 2] == ord(",")) & (buf[comma + 7] == ord("-"))
    rating &= buf[comma + 10] == ord("-")
    rating &= (year >= 1700) & (year <= 2200) & (month >= 1) & (month <= 12) & (day >= 1)
    months = np.where(rating, (year - 1970) * 12 + month - 1, 0).astype("datetime64[M]")
    days = months.astype("datetime64[D]") + np.where(rating, day - 1, 0)
    rating &= days.astype("datetime64[M]") == months  # no 30 February
    latest = np.maximum.accumulate(np.where(header, np.arange(len(ends)), -1))
    movie_of = np.where(latest >= 0, movie_id[latest], -1 if movie is None else movie)
    if not (header | (rating & (movie_of >= 0))).all():
        return None
    span_first, span_last = partition_span()
    outside = days[rating] < np.datetime64(span_first)
    if span_last:
        outside |= days[rating] > np.datetime64(span_last)
    if outside.any():
        return None
    keep = rating & (days >= np.datetime64(first)) & (days <= np.datetime64(last))
    rows = pd.DataFrame(
        {
            "user_id": pd.array(user[keep], dtype="Int64"),
            "movie_id": pd.array(movie_of[keep], dtype="Int64"),
            "rating": pd.array(stars[keep], dtype="Float64"),
            "timestamp": pd.array(days[keep].astype("datetime64[s]").astype(np.int64), "Int64"),
        },
        index=np.flatnonzero(keep) + number - 1,
    )
    return rows, int(movie_of[-1])


def _any_block(
    data: bytes, number: int, movie: int | None, label: str, first: date, last: date, rejects
) -> tuple[pd.DataFrame, int | None]:
    """A block read line by line: any line is parsed or rejected with its reason.

    A line with other than three fields is a reject of its own ("4 fields, expected 3"),
    so is one with a NUL byte; every reject keeps the line exactly as received, the
    movie block it sat in aside.
    """
    received = data.decode("latin-1").split("\n")
    if received and received[-1] == "":
        received.pop()
    texts = pd.Series([t.removesuffix("\r") for t in received], dtype="string")
    texts.index += number - 1
    lines = pd.Series(texts.index + 1, index=texts.index)
    fields = texts.str.count(",") + 1
    is_head = texts.str.fullmatch(r"\d+:,*")  # "2:," as some exports write it is movie 2
    blank = texts.str.strip() == ""
    nul = texts.str.contains("\x00", regex=False)
    misshapen = ~is_head & ~blank & (nul | (fields != 3))
    if misshapen.any() and books_undated(first, last):
        for i in texts.index[misshapen]:
            why = NUL if nul[i] else f"{fields[i]} fields, expected 3 (CustomerID,Rating,Date)"
            rejects.add(first_partition_day(), texts[i], f"{label} line {lines[i]}: {why}")
    texts = texts[~misshapen]
    split = texts.str.split(",", n=2, expand=True).reindex(columns=range(3))
    chunk = pd.DataFrame(
        {"user_id": split[0], "rating": split[1], "date": split[2]}, index=texts.index
    ).astype("string")
    if chunk.empty:
        return ratings_parse.concat([]), movie
    head = is_head[chunk.index]
    movie_ids = chunk["user_id"].where(head).str.rstrip(":")
    if not head.iloc[0]:
        movie_ids.iloc[0] = pd.NA if movie is None else str(movie)
    movie_ids = movie_ids.ffill()
    body = chunk[~head]
    orphan = movie_ids[~head].isna()
    if orphan.any() and books_undated(first, last):
        for i in body.index[orphan]:
            rejects.add(
                first_partition_day(),
                texts[i],
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
    rows = ratings_parse.split_chunk(
        text, lines, label, first, last, rejects, timestamp=seconds.astype("Int64"), raw=texts
    )
    carried = movie_ids.iloc[-1]
    return rows, None if pd.isna(carried) else int(carried)


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
        """Rated rows of one combined file, block by block, with the movie id carried over."""
        movie = None
        for number, data in _blocks(path):
            fast = _standard_block(data, number, movie, first, last)
            if fast is None:
                rows, movie = _any_block(data, number, movie, path.name, first, last, rejects)
            else:
                rows, movie = fast
            yield rows

    def ratings(self, first: date, last: date) -> Received:
        return ratings_parse.gather(self.ratings_batches(first, last))

    def ratings_batches(self, first: date, last: date) -> Iterator[Received]:
        """The window's ratings chunk by chunk (at most CHUNK_ROWS rows each).

        Each batch carries the rejects met while reading its chunk; chunks with neither
        rows nor rejects in the window are skipped.
        """
        files = sorted(self.folder.glob(PATTERN))
        if not files:
            raise SourceFileError(f"{self.folder}: no {PATTERN} files")
        rejects = Rejects()
        for path in files:
            for rows in self._chunks(path, first, last, rejects):
                batch = ratings_parse.batch(rows, rejects)
                if batch is not None:
                    yield batch

    def probe_ratings(self, first: date, last: date) -> pd.DataFrame:
        """The probe set's ratings made on days first..last (also in ``ratings``)."""
        probe, parts = self.probe_keys(), []
        for path in sorted(self.folder.glob(PATTERN)):
            for rows in self._chunks(path, first, last, Rejects()):
                parts.append(rows[_held_out(rows, probe)])
        return ratings_parse.concat(parts)
