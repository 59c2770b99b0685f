"""CPI from FRED's CSV download (fred.stlouisfed.org/graph/fredgraph.csv?id=CPIAUCNS,...).

The date column is ``observation_date`` in current downloads and ``DATE`` in older
ones; each other column is one series. FRED writes ``.`` for a month without a
value; an empty field means the same: the row is kept with a null value, and the
clean layer quarantines it as "CPI value missing". A blank line, a line with a
NUL byte and a line that is not UTF-8 are rejects of their own. FRED ids are mapped
to the BLS ids the rest of the graph uses.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import pandas as pd

from movie_assets.sources.base import Received
from movie_assets.sources.files import NUL, Rejects, SourceFileError, local_copy, snapshot_day

# FRED series id -> BLS series id (CPI-U, U.S. city average, all items).
SERIES = {"CPIAUCNS": "CUUR0000SA0", "CPIAUCSL": "CUSR0000SA0"}
DATE_COLUMNS = ("observation_date", "DATE")
MISSING = {".", ""}


def parse(text: str, label: str, day: date) -> Received:
    rejects = Rejects()
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise SourceFileError(f"{label} line 1: empty file")
    date_col = next((c for c in DATE_COLUMNS if c in header), None)
    if date_col is None:
        raise SourceFileError(
            f"{label} line 1: missing the date column (observation_date or DATE); "
            f"header is {header}"
        )
    series = [c for c in header if c != date_col]
    unknown = [c for c in series if c not in SERIES]
    if not series or unknown:
        raise SourceFileError(
            f"{label} line 1: expected CPI series {sorted(SERIES)}, found {series or 'none'}"
        )
    rows = []
    for fields in reader:
        number = reader.line_num
        raw = ",".join(fields)
        if not raw.strip():
            rejects.add(day, raw, f"{label} line {number}: blank line")
            continue
        if any("\udc80" <= ch <= "\udcff" for ch in raw):
            received = raw.encode("utf-8", "surrogateescape").decode("latin-1")
            rejects.add(day, received, f"{label} line {number}: not valid UTF-8 (wrong encoding?)")
            continue
        if "\x00" in raw:
            rejects.add(day, raw, f"{label} line {number}: {NUL}")
            continue
        if len(fields) != len(header):
            rejects.add(
                day,
                raw,
                f"{label} line {number}: {len(fields)} fields, "
                f"expected {len(header)} (truncated line?)",
            )
            continue
        record = dict(zip(header, fields, strict=True))
        month = pd.to_datetime(record[date_col], format="%Y-%m-%d", errors="coerce")
        if pd.isna(month) or month.day != 1:
            what = "is not a date (YYYY-MM-DD)" if pd.isna(month) else "is not the first of a month"
            rejects.add(day, raw, f"{label} line {number}: date {record[date_col]!r} {what}")
            continue
        for name in series:
            text_value = record[name].strip()
            value = None if text_value in MISSING else pd.to_numeric(text_value, errors="coerce")
            if text_value not in MISSING and pd.isna(value):
                rejects.add(
                    day, raw, f"{label} line {number}: {name} value {text_value!r} is not a number"
                )
                continue
            rows.append((SERIES[name], month.year, f"M{month.month:02d}", value))
    frame = pd.DataFrame(rows, columns=["series_id", "year", "period", "value"])
    frame["value"] = frame["value"].astype("Float64")
    return Received(frame, rejects.frame())


class FredCpi:
    """Reader for one or more FRED CSV files or URLs (comma-separated); CPI only."""

    name = "fred"

    def __init__(self, locations: str, as_of: date | None = None):
        self.as_of = as_of
        self.locations = [p.strip() for p in locations.split(",") if p.strip()]
        if not self.locations:
            raise ValueError("no FRED CSV configured (MOVIE_FRED_CPI)")

    def cpi(self) -> Received:
        parts = []
        for location in self.locations:
            path = local_copy(location)
            # Bytes that are not UTF-8 are kept as surrogates: their line is a reject.
            text = path.read_bytes().decode("utf-8-sig", errors="surrogateescape")
            parts.append(parse(text, path.name, snapshot_day(self.as_of)))
        return Received(
            pd.concat([p.rows for p in parts], ignore_index=True),
            # Files without rejects add nothing (and an empty frame's dtypes would warn).
            pd.concat(
                [p.rejects for p in parts if len(p.rejects)] or [parts[0].rejects],
                ignore_index=True,
            ),
        )
