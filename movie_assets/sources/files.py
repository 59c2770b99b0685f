"""What the file readers share: fetching a path or URL, and rejects that name file and line."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import requests

from movie_assets.settings import current, partition_span

CHUNK_ROWS = 250_000  # lines per batch: about 0.2 GB in flight (docs/sources.md)
DOWNLOAD_TIMEOUT = (10, 60)
NEWLINE = ord("\n")
# A line holding a NUL byte is a reject of its own in every reader (a parser may drop the byte).
NUL = "NUL byte in a field (corrupted file?)"


class SourceFileError(ValueError):
    """Input that cannot be read at all; the message names the file and, where known, the line."""


def cache_dir() -> Path:
    return current().source_cache


def is_url(location: str) -> bool:
    return urlparse(location).scheme in {"http", "https"}


def local_copy(location: str) -> Path:
    """A local file for a path or an http(s) URL; a URL is downloaded once into the cache.

    The download goes to a temporary name first, so an interrupted transfer never
    leaves a truncated file that a later run would take for the whole archive.
    """
    if not location:
        raise ValueError("no file configured for this source (see docs/sources.md)")
    if not is_url(location):
        path = Path(location).expanduser()
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or directory")
        return path
    name = Path(urlparse(location).path).name or "download"
    digest = hashlib.sha256(location.encode()).hexdigest()[:16]
    target = cache_dir() / f"{digest}-{name}"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    with requests.get(location, stream=True, timeout=DOWNLOAD_TIMEOUT) as response:
        if response.status_code != 200:
            raise OSError(f"{location}: HTTP {response.status_code} while downloading")
        expected = response.headers.get("Content-Length")
        with partial.open("wb") as out:
            for block in response.iter_content(1 << 20):
                out.write(block)
    if expected is not None and partial.stat().st_size != int(expected):
        partial.unlink()
        raise OSError(f"{location}: download truncated ({expected} bytes announced)")
    partial.replace(target)
    return target


@dataclass
class Rejects:
    """Rejected records collected while reading: the raw text, and why, with file and line."""

    rows: list[dict] = field(default_factory=list)

    def add(self, day: date | pd.Timestamp, raw: str, reason: str) -> None:
        self.rows.append({"partition_date": pd.Timestamp(day), "raw": raw, "reason": reason})

    def add_many(self, days: pd.Series, raw: pd.Series, reasons: pd.Series) -> None:
        """Many rejects at once (a block of ratings dated outside the span, say)."""
        self.rows.extend(
            pd.DataFrame(
                {"partition_date": days.to_numpy(), "raw": raw.to_numpy(), "reason": reasons}
            ).to_dict("records")
        )

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=["partition_date", "raw", "reason"])


def first_partition_day() -> date:
    """Where rows without a usable date are booked, so each is reported once, not per run."""
    return partition_span()[0]


def snapshot_day(as_of: date | None) -> date:
    """The day a snapshot's rejects are booked on: the run's partition, else today (UTC)."""
    return as_of or datetime.now(UTC).date()


def books_undated(first: date, last: date) -> bool:
    return first <= first_partition_day() <= last


def as_int(series: pd.Series) -> pd.Series:
    """Integers, NA where the text is not a whole number."""
    if pd.api.types.is_integer_dtype(series):  # a block the C parser read as numbers
        return series.astype("Int64")
    text = series.astype("string").str.strip()
    ok = text.str.fullmatch(r"[+-]?\d+").fillna(False).astype(bool)
    return pd.to_numeric(text.where(ok), errors="coerce").astype("Int64")


def as_float(series: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series):
        return series.astype("Float64")
    return pd.to_numeric(series.astype("string").str.strip(), errors="coerce").astype("Float64")


def line_blocks(stream, lines: int, line_bytes: int) -> Iterator[tuple[int, bytes]]:
    """(number of the block's first line, the bytes of at most ``lines`` whole lines).

    Read in pieces of about ``lines`` lines (``line_bytes`` a typical line) and cut at
    the newlines numpy finds: reading a large file, or a zip member, line by line costs
    most of an ingest in Python calls. The last block may lack its final newline.
    """
    pending, number = b"", 1
    while True:
        data = stream.read(lines * line_bytes)
        pending += data
        ends = np.flatnonzero(np.frombuffer(pending, np.uint8) == NEWLINE)
        cut = 0
        for k in range(lines, len(ends) + 1, lines):
            yield number, pending[cut : ends[k - 1] + 1]
            cut, number = ends[k - 1] + 1, number + lines
        pending = pending[cut:]
        if not data:
            if pending:
                yield number, pending
            return
