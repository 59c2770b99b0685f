"""Watch-history logs: CSV files landing in a folder, one rating or view per line.

Columns: ``user_id, movie_id, timestamp, rating, session_id`` with a header line.
``timestamp`` is epoch seconds or ISO 8601 (UTC if no offset). ``user_id`` may be
anything a service logs, an e-mail address included, so it is replaced on read by a
keyed hash (HMAC-SHA256 with MOVIE_WATCH_KEY, first 63 bits): the same user maps to
the same id across files, and without the key the id cannot be traced back to an
address by hashing guesses. Neither the identifier nor the session id is stored,
not even in a reject's raw text. A line without a usable date is booked on the day
its file landed, the day the sensor also runs (movie_assets/sensors.py); so is a line
that cannot be read at all (blank, a NUL byte, the wrong number of fields, not UTF-8)
or that names no user.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from movie_assets.settings import current
from movie_assets.sources import ratings_parse
from movie_assets.sources.base import Received
from movie_assets.sources.files import CHUNK_ROWS, NUL, Rejects, SourceFileError

COLUMNS = ["user_id", "movie_id", "timestamp", "rating", "session_id"]
KEY_ENV = "MOVIE_WATCH_KEY"
PATTERN = "*.csv"


def pseudonym(user: str, key: bytes) -> int:
    digest = hmac.new(key, user.strip().encode("utf-8"), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def watch_key() -> bytes:
    key = current().movie_watch_key.get_secret_value()
    if len(key) < 16:
        raise RuntimeError(
            f"{KEY_ENV} must hold a secret of at least 16 characters to pseudonymize users"
        )
    return key.encode()


def landing_day(path: Path) -> date:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).date()


def epoch_seconds(text: pd.Series) -> pd.Series:
    """Epoch seconds from integer seconds or ISO 8601 text; NA where neither parses."""
    text = text.astype("string").str.strip()
    numeric = text.str.fullmatch(r"\d+").fillna(False).astype(bool)
    seconds = pd.to_numeric(text.where(numeric), errors="coerce").astype("Int64")
    iso = pd.to_datetime(text.where(~numeric), utc=True, format="ISO8601", errors="coerce")
    from_iso = (iso - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
    return seconds.fillna(from_iso.astype("Int64"))


def read_chunks(path: Path, key: bytes) -> Iterator[tuple[pd.DataFrame, pd.Series, Rejects]]:
    """A log file, CHUNK_ROWS lines at a time: text columns (user pseudonymized), their line
    numbers, and the chunk's unreadable lines. Lines are decoded as they are read."""
    day = landing_day(path)
    with path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="") as stream:
        reader = csv.reader(stream)
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise SourceFileError(
                f"{path.name} line 1: missing column(s) {missing}; header is {header}"
            )
        position = [header.index(c) for c in COLUMNS]
        rejects, rows, lines = Rejects(), [], []
        for fields in reader:
            number = reader.line_num
            if not "".join(fields).strip():
                rejects.add(day, "", f"{path.name} line {number}: blank line")
                continue
            if len(fields) != len(header):
                rejects.add(
                    day,
                    f"[{len(fields)} fields withheld: may hold personal data]",
                    f"{path.name} line {number}: {len(fields)} fields, expected "
                    f"{len(header)} (truncated line?)",
                )
                continue
            if any("\udc80" <= ch <= "\udcff" for f in fields for ch in f):
                rejects.add(
                    day,
                    "[line withheld: may hold personal data]",
                    f"{path.name} line {number}: not valid UTF-8 (wrong encoding?)",
                )
                continue
            if any("\x00" in f for f in fields):
                rejects.add(
                    day,
                    "[line withheld: may hold personal data]",
                    f"{path.name} line {number}: {NUL}",
                )
                continue
            user, movie, stamp, rating, _session = (fields[i] for i in position)
            if not user.strip():
                rejects.add(
                    day, f",{movie},{rating},{stamp}", f"{path.name} line {number}: user id empty"
                )
                continue
            rows.append((str(pseudonym(user, key)), movie, rating, stamp))
            lines.append(number)
            if len(rows) == CHUNK_ROWS:
                yield _text(rows), pd.Series(lines, dtype="Int64"), rejects
                rejects, rows, lines = Rejects(), [], []
        if rows or rejects.rows:
            yield _text(rows), pd.Series(lines, dtype="Int64"), rejects


def _text(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=ratings_parse.COLUMNS, dtype="string")


def file_days(path: Path, key: bytes) -> set[date]:
    """The days a file touches: its events' days, and its landing day if a line is undated."""
    days: set[date] = set()
    for frame, _, rejects in read_chunks(path, key):
        seconds = epoch_seconds(frame["timestamp"])
        days |= set(pd.to_datetime(seconds.dropna(), unit="s", utc=True).dt.date)
        if seconds.isna().any() or rejects.rows:
            days.add(landing_day(path))
    return days


class WatchLogs:
    """Reader for a folder of watch-history CSV files; ratings only."""

    name = "watch_logs"

    def __init__(self, folder: str):
        if not folder:
            raise ValueError("no watch-log folder configured (MOVIE_WATCH_DIR)")
        self.folder = Path(folder).expanduser()
        if not self.folder.is_dir():
            raise FileNotFoundError(f"{self.folder}: no such folder")

    def files(self) -> list[Path]:
        return sorted(self.folder.glob(PATTERN))

    def ratings(self, first: date, last: date) -> Received:
        return ratings_parse.gather(self.ratings_batches(first, last))

    def ratings_batches(self, first: date, last: date) -> Iterator[Received]:
        """The window's ratings file by file, at most CHUNK_ROWS lines at a time."""
        key = watch_key()
        for path in self.files():
            landed = landing_day(path)
            for frame, lines, unreadable in read_chunks(path, key):
                rejects = unreadable if first <= landed <= last else Rejects()
                rows = ratings_parse.split_chunk(
                    frame,
                    lines,
                    path.name,
                    first,
                    last,
                    rejects,
                    timestamp=epoch_seconds(frame["timestamp"]),
                    undated_day=landed,
                )
                batch = ratings_parse.batch(rows, rejects)
                if batch is not None:
                    yield batch
