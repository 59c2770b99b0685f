"""Chunks of rating text to RawRatings rows and rejects, the same way for every file source.

The reader rejects what it cannot parse (a missing or non-numeric field, an
unparseable date); what parses but is invalid (a rating out of range, an
unknown movie, a duplicate) goes through to the clean layer, which quarantines
it with its reason. Each rejected line is booked on the day it names, or on the
first partition day when it has no usable date, so it is reported exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Protocol

import pandas as pd

from movie_assets.settings import partition_span
from movie_assets.sources.base import Received
from movie_assets.sources.files import Rejects, as_float, as_int, first_partition_day

COLUMNS = ["user_id", "movie_id", "rating", "timestamp"]
INTEGERS = ["user_id", "movie_id", "timestamp"]
# A line cut right after its last separator: the date field is there, and empty.
DATE_MISSING = "date missing (truncated line?)"


class Lines(Protocol):
    """Lines as received, looked up by the index of the text columns (a Series is one)."""

    def __getitem__(self, index: pd.Index) -> pd.Series: ...


def split_chunk(
    text: pd.DataFrame,
    lines: pd.Series,
    label: str,
    first: date,
    last: date,
    rejects: Rejects,
    timestamp: pd.Series | None = None,
    undated_day: date | None = None,
    raw: Lines | None = None,
) -> pd.DataFrame:
    """Rows of ``text`` (columns user_id, movie_id, rating, timestamp) dated first..last.

    ``timestamp`` overrides the parsed epoch seconds (for sources that carry dates);
    ``undated_day`` books lines without a usable date elsewhere than the first partition;
    ``raw`` gives each line as received, a reject's raw text; without it (the watch logs,
    whose lines may hold personal data) that is the text columns joined by commas.
    """
    undated_day = undated_day or first_partition_day()
    span_first, span_last = partition_span()
    if timestamp is None and all(pd.api.types.is_integer_dtype(text[c]) for c in INTEGERS):
        text, lines = _dated_in(text, lines, first, last, span_first, span_last)
    parsed = pd.DataFrame(
        {
            "user_id": as_int(text["user_id"]),
            "movie_id": as_int(text["movie_id"]),
            "rating": as_float(text["rating"]),
            "timestamp": as_int(text["timestamp"]) if timestamp is None else timestamp,
        },
        index=text.index,
    )
    # Timestamps, not dates: a chunk whose every date is missing still compares (all False).
    stamp = pd.to_datetime(parsed["timestamp"], unit="s", utc=True, errors="coerce")
    before = stamp < pd.Timestamp(span_first, tz="UTC")
    after = (
        stamp >= pd.Timestamp(span_last, tz="UTC") + pd.Timedelta(days=1)
        if span_last
        else pd.Series(False, index=text.index)
    )
    # Only a line without a timestamp can be blank or cut short: look at those alone.
    blank = pd.Series(False, index=text.index)
    cut = pd.Series(False, index=text.index)
    undated = text.index[parsed["timestamp"].isna()]
    if len(undated) and timestamp is None:
        cut[undated] = text.loc[undated, "timestamp"].astype("string").fillna("").str.strip() == ""
    if len(undated):
        if raw is not None:
            blank[undated] = raw[undated].fillna("").str.strip() == ""
        else:
            fields = text.loc[undated].astype("string").fillna("")
            blank[undated] = fields.apply(lambda c: c.str.strip() == "").all(axis=1)
    reason = pd.Series(pd.NA, index=text.index, dtype="string")
    for failed, what in [
        (blank, "blank line"),
        (cut, DATE_MISSING),
        (parsed["timestamp"].isna(), "date unparseable"),
        (parsed["user_id"].isna(), "user id not an integer"),
        (parsed["movie_id"].isna(), "movie id not an integer"),
        (parsed["rating"].isna(), "rating not a number"),
        (before, f"dated before the first partition ({span_first})"),
        (after, f"dated after the last partition ({span_last})"),
    ]:
        reason = reason.mask(reason.isna() & failed, what)
    bad = reason.notna()
    # Each reject is booked on one day, so exactly one run's window reports it: its own
    # day, or the nearest partition for dates outside the span, or the undated day.
    booked = stamp.dt.tz_localize(None).dt.normalize()
    booked = booked.mask(before, pd.Timestamp(span_first))
    if span_last:
        booked = booked.mask(after, pd.Timestamp(span_last))
    booked = booked.fillna(pd.Timestamp(undated_day))
    report = bad & (booked >= pd.Timestamp(first)) & (booked <= pd.Timestamp(last))
    reported = text.index[report]
    if len(reported):
        if raw is not None:
            received = raw[reported].fillna("")
        else:
            fields = text.loc[reported].astype("string").fillna("")
            received = fields.iloc[:, 0].str.cat([fields[c] for c in fields.columns[1:]], sep=",")
            received = received.mask(blank[reported], "")
        where = label + " line " + lines[reported].astype(str) + ": "
        rejects.add_many(booked[reported], received, (where + reason[reported]).to_numpy())
    in_window = (stamp >= pd.Timestamp(first, tz="UTC")) & (
        stamp < pd.Timestamp(last, tz="UTC") + pd.Timedelta(days=1)
    )
    keep = ~bad & in_window
    return parsed[keep]


def _epoch(day: date) -> int:
    return int(pd.Timestamp(day, tz="UTC").timestamp())


def _dated_in(
    text: pd.DataFrame,
    lines: pd.Series,
    first: date,
    last: date,
    span_first: date,
    span_last: date | None,
) -> tuple[pd.DataFrame, pd.Series]:
    """A typed block's rows in the window, plus those outside the span (rejects).

    The C parser typed every field, so only the date can make a row bad: the rows of
    other days go before any per-row work, which makes a one-day read of a large file
    cost little more than parsing it.
    """
    stamp = text["timestamp"].to_numpy()
    keep = (stamp >= _epoch(first)) & (stamp < _epoch(last + timedelta(days=1)))
    keep |= stamp < _epoch(span_first)
    if span_last:
        keep |= stamp >= _epoch(span_last + timedelta(days=1))
    return text[keep], lines[keep]


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="Int64") for c in COLUMNS}).astype(
            {"rating": "Float64"}
        )
    return pd.concat(frames, ignore_index=True)[COLUMNS]


def gather(batches: Iterable[Received]) -> Received:
    """A streaming reader's batches as one ``Received``: what ``ratings`` returns."""
    rows, rejects = [], []
    for batch in batches:
        rows.append(batch.rows)
        rejects.append(batch.rejects)
    rejects = [r for r in rejects if len(r)]
    return Received(
        concat(rows), pd.concat(rejects, ignore_index=True) if rejects else Rejects().frame()
    )


def batch(rows: pd.DataFrame, rejects: Rejects) -> Received | None:
    """One streamed batch: these rows and the rejects met since the last batch; None if neither."""
    received = Received(rows, rejects.frame())
    rejects.rows.clear()
    return received if len(received.rows) or len(received.rejects) else None
