"""Malformed FRED and watch-log files: where every line went.

Each class of fault is a small file written here in the source's exact public format.
For each, the test states by hand which line lands in the raw rows (and with what
value) and which is rejected (with its reason), then checks that lines in = raw +
rejects. The last two tests run the whole corpus through the real raw assets into a
DuckDB file and count the same lines in ``cpi_series``, ``raw_ratings`` and ``rejects``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from movie_assets.raw.assets import cpi_series, raw_ratings
from movie_assets.resources import build_resources
from movie_assets.sources.fred import FredCpi
from movie_assets.sources.registry import SourceResource
from movie_assets.sources.watch_logs import WatchLogs

AS_OF = date(2015, 3, 3)
KEY = "corpus-test-watch-key-0123456789"
HEADER = "observation_date,CPIAUCNS"
TWO = "observation_date,CPIAUCNS,CPIAUCSL"

# name -> (file text, {line: value kept (None: kept as missing)}, {line: reject reason})
FRED = {
    "clean": (f"{HEADER}\n2013-01-01,230.280\n2013-02-01,232.166\n", {2: 230.28, 3: 232.166}, {}),
    "dot_missing": (f"{HEADER}\n2013-01-01,230.280\n2013-02-01,.\n", {2: 230.28, 3: None}, {}),
    "empty_value": (f"{HEADER}\n2013-01-01,230.280\n2013-02-01,\n", {2: 230.28, 3: None}, {}),
    "trailing_blank_line": (f"{HEADER}\n2013-01-01,230.280\n\n", {2: 230.28}, {3: "blank line"}),
    "blank_line_inside": (
        f"{HEADER}\n2013-01-01,230.280\n   \n2013-02-01,232.166\n",
        {2: 230.28, 4: 232.166},
        {3: "blank line"},
    ),
    "nul_byte": (
        f"{HEADER}\n2013-01-01,230.280\n2013-02-01,23\x002.166\n",
        {2: 230.28},
        {3: "NUL byte in a field (corrupted file?)"},
    ),
    "extra_field": (
        f"{HEADER}\n2013-01-01,230.280,1\n2013-02-01,232.166\n",
        {3: 232.166},
        {2: "3 fields, expected 2 (truncated line?)"},
    ),
    "truncated_last_line": (
        f"{HEADER}\n2013-01-01,230.280\n2013-02",
        {2: 230.28},
        {3: "1 fields, expected 2 (truncated line?)"},
    ),
    "truncated_date": (
        f"{HEADER}\n2013-01-01,230.280\n2013-02,232.166\n",
        {2: 230.28},
        {3: "date '2013-02' is not a date (YYYY-MM-DD)"},
    ),
    "mid_month_date": (
        f"{HEADER}\n2013-01-15,230.280\n",
        {},
        {2: "date '2013-01-15' is not the first of a month"},
    ),
    "not_a_number": (
        f"{HEADER}\n2013-01-01,n/a\n2013-02-01,232.166\n",
        {3: 232.166},
        {2: "CPIAUCNS value 'n/a' is not a number"},
    ),
    "byte_order_mark_crlf": (
        f"\ufeff{HEADER}\r\n2013-01-01,230.280\r\n2013-02-01,232.166\r\n",
        {2: 230.28, 3: 232.166},
        {},
    ),
    "latin1_line": (
        f"{HEADER}\n2013-01-01,230.280\n2013-02-01,232\xb7166\n".encode("latin-1"),
        {2: 230.28},
        {3: "not valid UTF-8 (wrong encoding?)"},
    ),
}


def write(path: Path, text: str | bytes) -> Path:
    """Text as UTF-8; bytes (a file in another encoding) as they are."""
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def as_text(text: str | bytes) -> str:
    return text if isinstance(text, str) else text.decode("latin-1")


@pytest.mark.parametrize("name", FRED)
def test_every_fred_line_lands_once(tmp_path, name):
    text, kept, rejected = FRED[name]
    path = write(tmp_path / f"{name}.csv", text)
    got = FredCpi(str(path), AS_OF).cpi()
    lines = len(as_text(text).removesuffix("\n").replace("\r\n", "\n").split("\n")) - 1  # header
    assert lines == len(kept) + len(rejected)
    assert len(got.rows) + len(got.rejects) == lines
    values = [None if pd.isna(v) else round(float(v), 3) for v in got.rows["value"]]
    assert values == list(kept.values())
    assert list(got.rows["series_id"]) == ["CUUR0000SA0"] * len(kept)
    assert list(got.rejects["reason"]) == [f"{name}.csv line {n}: {r}" for n, r in rejected.items()]
    assert set(got.rejects["partition_date"]) <= {pd.Timestamp(AS_OF)}


def test_fred_two_series_a_bad_value_rejects_that_value_only(tmp_path):
    """A line carries one value per series: each lands once, as a row or a reject."""
    path = write(tmp_path / "two.csv", f"{TWO}\n2013-01-01,230.280,x\n2013-02-01,,231.0\n")
    got = FredCpi(str(path), AS_OF).cpi()
    cells = got.rows[["series_id", "period", "value"]].itertuples(index=False)
    rows = [(s, p, None if pd.isna(v) else float(v)) for s, p, v in cells]
    assert rows == [
        ("CUUR0000SA0", "M01", 230.28),
        ("CUUR0000SA0", "M02", None),
        ("CUSR0000SA0", "M02", 231.0),
    ]
    assert list(got.rejects["reason"]) == ["two.csv line 2: CPIAUCSL value 'x' is not a number"]
    assert len(got.rows) + len(got.rejects) == 2 * 2  # two lines, two series


# --- watch logs ---------------------------------------------------------------------------------

W_HEADER = "user_id,movie_id,timestamp,rating,session_id"
T1 = int(datetime(2015, 3, 2, 9, tzinfo=UTC).timestamp())
OK1 = f"ann@example.com,1,{T1},4.5,s1"
OK2 = f"ben,2,{T1 + 60},3.0,s2"

# name -> (file text, lines kept, {line: reject reason}); lines count from the header (1).
WATCH = {
    "clean": (f"{W_HEADER}\n{OK1}\n{OK2}\n", [2, 3], {}),
    "empty_user": (f"{W_HEADER}\n{OK1}\n,3,{T1},4.0,s3\n", [2], {3: "user id empty"}),
    "blank_user": (f"{W_HEADER}\n  ,3,{T1},4.0,s3\n{OK2}\n", [3], {2: "user id empty"}),
    "trailing_blank_line": (f"{W_HEADER}\n{OK1}\n\n", [2], {3: "blank line"}),
    "blank_line_inside": (f"{W_HEADER}\n{OK1}\n \n{OK2}\n", [2, 4], {3: "blank line"}),
    "nul_byte": (
        f"{W_HEADER}\n{OK1}\nben,2,{T1},3\x00.0,s2\n",
        [2],
        {3: "NUL byte in a field (corrupted file?)"},
    ),
    "extra_field": (
        f"{W_HEADER}\n{OK1},extra\n{OK2}\n",
        [3],
        {2: "6 fields, expected 5 (truncated line?)"},
    ),
    "truncated_last_line": (
        f"{W_HEADER}\n{OK1}\nben,2,14252",
        [2],
        {3: "3 fields, expected 5 (truncated line?)"},
    ),
    "bad_fields": (
        f"{W_HEADER}\n{OK1}\nben,x,{T1},3,s\nben,2,{T1},high,s\nben,2,soon,3,s\n",
        [2],
        {3: "movie id not an integer", 4: "rating not a number", 5: "date unparseable"},
    ),
    "dated_before_the_partitions": (
        f"{W_HEADER}\nben,2,1990-01-01T00:00:00Z,3,s\n{OK1}\n",
        [3],
        {2: "dated before the first partition (1995-01-09)"},
    ),
    "byte_order_mark_crlf": (f"\ufeff{W_HEADER}\r\n{OK1}\r\n{OK2}\r\n", [2, 3], {}),
    "latin1_line": (
        f"{W_HEADER}\n{OK1}\nb\xe9n,2,{T1},3.0,s2\n".encode("latin-1"),
        [2],
        {3: "not valid UTF-8 (wrong encoding?)"},
    ),
}
LANDED = datetime(2015, 3, 1, 12, tzinfo=UTC).timestamp()


def pseudonym(user: str) -> int:
    return int.from_bytes(hmac.new(KEY.encode(), user.encode(), hashlib.sha256).digest()[:8]) >> 1


def watch_folder(tmp_path: Path, names) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir(exist_ok=True)
    for name in names:
        path = write(folder / f"{name}.csv", WATCH[name][0])
        os.utime(path, (LANDED, LANDED))
    return folder


@pytest.mark.parametrize("name", WATCH)
def test_every_watch_log_line_lands_once(tmp_path, monkeypatch, name):
    monkeypatch.setenv("MOVIE_WATCH_KEY", KEY)
    text, kept, rejected = WATCH[name]
    folder = watch_folder(tmp_path, [name])
    got = WatchLogs(str(folder)).ratings(date(1995, 1, 9), date(2016, 10, 16))
    data = as_text(text).replace("\r\n", "\n").removeprefix("\ufeff").split("\n")
    lines = len(data) - 1 - (data[-1] == "")  # less the header and the final newline
    assert lines == len(kept) + len(rejected)
    assert len(got.rows) + len(got.rejects) == lines
    expected = []
    for number in kept:
        user, movie, stamp, rating, _ = data[number - 1].split(",")
        expected.append((pseudonym(user), int(movie), float(rating), int(stamp)))
    rows = got.rows[["user_id", "movie_id", "rating", "timestamp"]].astype(object)
    assert [tuple(r) for r in rows.itertuples(index=False)] == expected
    assert sorted(got.rejects["reason"]) == sorted(
        f"{name}.csv line {n}: {r}" for n, r in rejected.items()
    )
    # Neither an identifier nor a session id reaches a reject.
    text_out = got.rejects.to_csv()
    assert "ann" not in text_out and "ben" not in text_out and "s2" not in text_out


# --- through the raw assets into a real warehouse -----------------------------------------------


def counts(warehouse: Path, table: str, source: str) -> tuple[int, list[str]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        reasons = [
            r
            for (r,) in con.execute(
                "SELECT reason FROM rejects WHERE source = ? ORDER BY reason", [source]
            ).fetchall()
        ]
    return rows, reasons


def test_the_fred_corpus_in_the_warehouse(tmp_path):
    files = [write(tmp_path / f"{n}.csv", FRED[n][0]) for n in FRED]
    resources = build_resources(tmp_path / "w.duckdb")
    resources["source"] = SourceResource(kind="fred", fred_cpi=",".join(map(str, files)))
    result = dg.materialize(
        [cpi_series],
        resources=resources,
        partition_key=AS_OF.isoformat(),
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    rows, reasons = counts(tmp_path / "w.duckdb", "cpi_series", "fred")
    assert rows == sum(len(kept) for _, kept, _ in FRED.values())
    assert reasons == sorted(
        f"{name}.csv line {n}: {r}" for name, (_, _, rej) in FRED.items() for n, r in rej.items()
    )


def test_the_watch_log_corpus_in_the_warehouse(tmp_path, monkeypatch):
    """Window 2015-03-01..03: every corpus line is dated there or lands on its file's day."""
    monkeypatch.setenv("MOVIE_WATCH_KEY", KEY)
    names = [n for n in WATCH if n != "dated_before_the_partitions"]  # booked on 1995-01-09
    folder = watch_folder(tmp_path, names)
    resources = build_resources(tmp_path / "w.duckdb")
    resources["source"] = SourceResource(kind="watch_logs", watch_dir=str(folder))
    result = dg.materialize(
        [raw_ratings],
        resources=resources,
        instance=dg.DagsterInstance.ephemeral(),
        tags={
            "dagster/asset_partition_range_start": "2015-03-01",
            "dagster/asset_partition_range_end": "2015-03-03",
        },
    )
    assert result.success
    rows, reasons = counts(tmp_path / "w.duckdb", "raw_ratings", "watch_logs")
    assert rows == sum(len(WATCH[n][1]) for n in names)
    assert reasons == sorted(
        f"{n}.csv line {k}: {r}" for n in names for k, r in WATCH[n][2].items()
    )
