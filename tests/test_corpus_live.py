"""Malformed ratings, FRED and watch-log files: where every line went.

Each class of fault is a small file written here in the source's exact public format
(MovieLens ratings.csv, ratings.dat and u.data, Netflix Prize combined_data, FRED CSV,
watch logs). For each, the test states by hand which line lands in the raw rows (and
with what value) and which is rejected (with its reason), then checks that lines in =
raw + rejects. The last tests run whole corpora through the real raw assets into a
DuckDB file and count the same lines in ``cpi_series``, ``raw_ratings`` and ``rejects``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from movie_assets.raw.assets import cpi_series, raw_ratings
from movie_assets.resources import build_resources
from movie_assets.sources.fred import FredCpi
from movie_assets.sources.movielens_files import MovieLensFiles
from movie_assets.sources.netflix import NetflixPrize
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
    "dated_after_the_partitions": (
        f"{W_HEADER}\n{OK1}\nben,2,2030-01-01T00:00:00Z,3,s\n",
        [2],
        {3: "dated after the last partition (2016-10-16)"},
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


def ingest(tmp_path: Path, source: SourceResource) -> None:
    """raw_ratings for 2015-03-01..03 from ``source``, into tmp_path/w.duckdb."""
    resources = {**build_resources(tmp_path / "w.duckdb"), "source": source}
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


def test_the_watch_log_corpus_in_the_warehouse(tmp_path, monkeypatch):
    """Window 2015-03-01..03: every corpus line is dated there or lands on its file's day."""
    monkeypatch.setenv("MOVIE_WATCH_KEY", KEY)
    outside = {"dated_before_the_partitions", "dated_after_the_partitions"}  # booked elsewhere
    names = [n for n in WATCH if n not in outside]
    folder = watch_folder(tmp_path, names)
    ingest(tmp_path, SourceResource(kind="watch_logs", watch_dir=str(folder)))
    rows, reasons = counts(tmp_path / "w.duckdb", "raw_ratings", "watch_logs")
    assert rows == sum(len(WATCH[n][1]) for n in names)
    assert reasons == sorted(
        f"{n}.csv line {k}: {r}" for n in names for k, r in WATCH[n][2].items()
    )


# --- MovieLens ratings: ratings.csv, ratings.dat, u.data ----------------------------------------

SPAN = (date(1995, 1, 9), date(2016, 10, 16))  # the default partition span
T2 = T1 + 3600
BEFORE = "dated before the first partition (1995-01-09)"
AFTER = "dated after the last partition (2016-10-16)"
SHIFTED = "fields, expected 4 (truncated or shifted line?)"
NUL_BYTE = "NUL byte in a field (corrupted file?)"
# name -> (data lines with {s} for the separator, {index in the list: reject reason}, whether
# the file ends in a newline). Every line not named as a reject is a row.
RATINGS = {
    "clean": ([f"1{{s}}10{{s}}4.5{{s}}{T1}", f"2{{s}}11{{s}}3{{s}}{T2}"], {}, True),
    "extra_field": (
        [
            f"1{{s}}10{{s}}4.5{{s}}{T1}",
            f"2{{s}}11{{s}}3{{s}}{T2}{{s}}9",
            f"3{{s}}12{{s}}2{{s}}{T2}",
        ],
        {1: f"5 {SHIFTED}"},
        True,
    ),
    # pandas would take a fifth field on every line for an index and shift the columns.
    "extra_field_on_every_line": (
        [f"1{{s}}10{{s}}4.5{{s}}{T1}{{s}}x", f"2{{s}}11{{s}}3{{s}}{T2}{{s}}y"],
        {0: f"5 {SHIFTED}", 1: f"5 {SHIFTED}"},
        True,
    ),
    "blank_line_inside": (
        [f"1{{s}}10{{s}}4.5{{s}}{T1}", "", f"2{{s}}11{{s}}3{{s}}{T2}"],
        {1: "blank line"},
        True,
    ),
    "spaces_only_line": (
        [f"1{{s}}10{{s}}4.5{{s}}{T1}", "   ", f"2{{s}}11{{s}}3{{s}}{T2}"],
        {1: "blank line"},
        True,
    ),
    "trailing_blank_line": ([f"1{{s}}10{{s}}4.5{{s}}{T1}", ""], {1: "blank line"}, True),
    "truncated_last_line": (
        [f"1{{s}}10{{s}}4.5{{s}}{T1}", "2{s}11{s}3"],
        {1: f"3 {SHIFTED}"},
        False,
    ),
    "cut_after_the_last_separator": (
        [f"1{{s}}10{{s}}4.5{{s}}{T1}", "2{s}11{s}3{s}"],
        {1: "date missing (truncated line?)"},
        False,
    ),
    "nul_byte": (
        [
            f"1{{s}}10{{s}}4.5{{s}}{T1}",
            f"2{{s}}11{{s}}3\x00{{s}}{T2}",
            f"3\x00{{s}}12{{s}}2{{s}}{T2}",
        ],
        {1: NUL_BYTE, 2: NUL_BYTE},
        True,
    ),
    "bad_values": (
        [
            f"1{{s}}10{{s}}4.5{{s}}{T1}",
            f"x{{s}}11{{s}}3{{s}}{T2}",
            f"2{{s}}y{{s}}3{{s}}{T2}",
            f"2{{s}}11{{s}}high{{s}}{T2}",
            "2{s}11{s}3{s}soon",
        ],
        {
            1: "user id not an integer",
            2: "movie id not an integer",
            3: "rating not a number",
            4: "date unparseable",
        },
        True,
    ),
    "dated_outside_the_span": (
        ["1{s}10{s}4{s}-86400", f"2{{s}}11{{s}}3{{s}}{T2}", "3{s}12{s}2{s}1893456000"],
        {0: BEFORE, 2: AFTER},
        True,
    ),
}
LAYOUT = {  # format -> (member path, separator, header line or None, encoding)
    "ratings.csv": ("ml-latest-small/ratings.csv", ",", "userId,movieId,rating,timestamp", "utf-8"),
    "ratings.dat": ("ml-1m/ratings.dat", "::", None, "latin-1"),
    "u.data": ("ml-100k/u.data", "\t", None, "latin-1"),
}
CATALOGUE = {  # the member each layout needs beside its ratings
    "ratings.csv": ("ml-latest-small/movies.csv", b"movieId,title,genres\n"),
    "ratings.dat": ("ml-1m/movies.dat", b""),
    "u.data": ("ml-100k/u.item", b""),
}


def ratings_zip(path: Path, fmt: str, lines: list[str], newline: bool, bom: bool = False) -> Path:
    member, sep, header, encoding = LAYOUT[fmt]
    body = [line.format(s=sep) for line in lines]
    text = "\n".join(([header] if header else []) + body) + ("\n" if newline else "")
    data = ("\ufeff" if bom else "").encode() + text.encode(encoding)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member, data)
        archive.writestr(*CATALOGUE[fmt])
    return path


@pytest.mark.parametrize("fmt", LAYOUT)
@pytest.mark.parametrize("name", RATINGS)
def test_every_movielens_ratings_line_lands_once(tmp_path, fmt, name):
    lines, rejected, newline = RATINGS[name]
    _, sep, header, _ = LAYOUT[fmt]
    path = ratings_zip(tmp_path / "ml.zip", fmt, lines, newline)
    got = MovieLensFiles(str(path)).ratings(*SPAN)
    assert len(got.rows) + len(got.rejects) == len(lines)
    expected = []
    for i, line in enumerate(lines):
        if i not in rejected:
            user, movie, rating, stamp = line.format(s=sep).split(sep)
            expected.append((int(user), int(movie), float(rating), int(stamp)))
    rows = got.rows[["user_id", "movie_id", "rating", "timestamp"]].astype(object)
    assert [tuple(r) for r in rows.itertuples(index=False)] == expected
    first = 2 if header else 1  # the line number of lines[0]
    by_line = sorted(
        zip(got.rejects["reason"], got.rejects["raw"], strict=True),
        key=lambda r: int(r[0].split(" line ")[1].split(":")[0]),
    )
    assert by_line == [
        (f"ml.zip:{fmt} line {first + i}: {why}", lines[i].format(s=sep).strip("\r"))
        for i, why in sorted(rejected.items())
    ]


def test_a_byte_order_mark_and_crlf_in_every_movielens_csv(tmp_path):
    """ratings.csv, movies.csv and tags.csv as a Windows editor saves them."""
    members = {
        "ratings.csv": f"userId,movieId,rating,timestamp\r\n1,10,4.5,{T1}\r\n2,11,3,{T2}\r\n",
        "movies.csv": 'movieId,title,genres\r\n10,"Heat, Again (1995)",Drama\r\n11,B (1996),\r\n',
        "tags.csv": f"userId,movieId,tag,timestamp\r\n1,10,slow,{T1}\r\n",
    }
    path = tmp_path / "ml.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(f"ml-latest-small/{name}", b"\xef\xbb\xbf" + text.encode())
    reader = MovieLensFiles(str(path), AS_OF)
    ratings = reader.ratings(*SPAN)
    rows = ratings.rows[["user_id", "movie_id", "rating", "timestamp"]].astype(object)
    assert [tuple(r) for r in rows.itertuples(index=False)] == [(1, 10, 4.5, T1), (2, 11, 3.0, T2)]
    movies = reader.movies()
    assert movies.rows["title"].tolist() == ["Heat, Again (1995)", "B (1996)"]
    assert movies.rows["movie_id"].tolist() == [10, 11]
    assert reader.tags().rows.values.tolist() == [[1, 10, "slow", T1]]
    assert ratings.rejects.empty and movies.rejects.empty and reader.tags().rejects.empty


def test_a_ratings_header_with_another_column_is_refused_by_name(tmp_path):
    path = ratings_zip(tmp_path / "ml.zip", "ratings.csv", [], True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "ml-latest-small/ratings.csv", f"userId,movieId,rating,timestamp,extra\n1,10,4,{T1},x\n"
        )
        archive.writestr(*CATALOGUE["ratings.csv"])
    with pytest.raises(ValueError, match=r"ratings.csv line 1: columns must be \['userId'"):
        MovieLensFiles(str(path)).ratings(*SPAN)


# --- Netflix Prize combined_data ----------------------------------------------------------------

# name -> (file text, lines of "MovieID:", {line: (user, movie, rating, date)} kept,
# {line: reject reason}); lines count from 1. A reject's raw text is the line as received.
NF_OK = "1:\n1,3,2005-03-01\n2,5,2005-03-02\n"
NETFLIX = {
    "clean": (NF_OK, [1], {2: (1, 1, 3, "2005-03-01"), 3: (2, 1, 5, "2005-03-02")}, {}),
    "byte_order_mark_crlf": (
        "\ufeff1:\r\n1,3,2005-03-01\r\n",
        [1],
        {2: (1, 1, 3, "2005-03-01")},
        {},
    ),
    "extra_field": (
        "1:\n1,3,2005-03-01,x\n2,5,2005-03-02\n",
        [1],
        {3: (2, 1, 5, "2005-03-02")},
        {2: "4 fields, expected 3 (CustomerID,Rating,Date)"},
    ),
    "blank_line_inside": (
        "1:\n1,3,2005-03-01\n\n2:\n2,5,2005-03-02\n",
        [1, 4],
        {2: (1, 1, 3, "2005-03-01"), 5: (2, 2, 5, "2005-03-02")},
        {3: "blank line"},
    ),
    "trailing_blank_line": (
        NF_OK + "\n",
        [1],
        {2: (1, 1, 3, "2005-03-01"), 3: (2, 1, 5, "2005-03-02")},
        {4: "blank line"},
    ),
    "truncated_last_line": (
        NF_OK + "3,4",
        [1],
        {2: (1, 1, 3, "2005-03-01"), 3: (2, 1, 5, "2005-03-02")},
        {4: "2 fields, expected 3 (CustomerID,Rating,Date)"},
    ),
    "nul_byte": (
        "1:\n1,3\x00,2005-03-01\n2,5,2005-03-02\n",
        [1],
        {3: (2, 1, 5, "2005-03-02")},
        {2: NUL_BYTE},
    ),
    "bad_values": (
        "1:\nx,3,2005-03-01\n2,y,2005-03-02\n3,4,2005-13-01\n4,4,2005-03-03\n",
        [1],
        {5: (4, 1, 4, "2005-03-03")},
        {2: "user id not an integer", 3: "rating not a number", 4: "date unparseable"},
    ),
    "rating_before_any_movie": (
        "1,3,2005-03-01\n1:\n2,5,2005-03-02\n",
        [2],
        {3: (2, 1, 5, "2005-03-02")},
        {1: "rating before any 'MovieID:' line"},
    ),
    "dated_outside_the_span": (
        "1:\n1,3,1990-01-01\n2,5,2005-03-02\n3,4,2030-01-01\n",
        [1],
        {3: (2, 1, 5, "2005-03-02")},
        {2: BEFORE, 4: AFTER},
    ),
}


@pytest.mark.parametrize("name", NETFLIX)
def test_every_netflix_line_lands_once(tmp_path, name):
    text, heads, kept, rejected = NETFLIX[name]
    folder = tmp_path / "nf"
    folder.mkdir()
    (folder / "movie_titles.csv").write_text("1,2001,A\n2,2002,B\n")
    (folder / "combined_data_1.txt").write_bytes(text.encode("utf-8"))
    got = NetflixPrize(str(folder)).ratings(*SPAN)
    received = text.removeprefix("\ufeff").replace("\r\n", "\n").split("\n")
    lines = len(received) - (received[-1] == "")
    assert lines == len(heads) + len(kept) + len(rejected)
    assert len(got.rows) + len(got.rejects) == lines - len(heads)
    expected = [
        (u, m, float(r), int(datetime.fromisoformat(d).replace(tzinfo=UTC).timestamp()))
        for u, m, r, d in kept.values()
    ]
    rows = got.rows[["user_id", "movie_id", "rating", "timestamp"]].astype(object)
    assert [tuple(r) for r in rows.itertuples(index=False)] == expected
    assert sorted(zip(got.rejects["reason"], got.rejects["raw"], strict=True)) == sorted(
        (f"combined_data_1.txt line {n}: {why}", received[n - 1]) for n, why in rejected.items()
    )


# --- through raw_ratings into a real warehouse --------------------------------------------------


def test_the_movielens_ratings_corpus_in_the_warehouse(tmp_path, monkeypatch):
    """One ratings.csv holding every class above: rows in raw_ratings, the rest in rejects.

    The span is set to the corpus' three days, as a user sets it to their data's, so the
    run covers the span's first and last days in three partitions.
    """
    monkeypatch.setenv("MOVIE_PARTITIONS_START", "2015-03-01")
    monkeypatch.setenv("MOVIE_PARTITIONS_END", "2015-03-04")
    lines: list[str] = []
    expected = []
    for name, (corpus, bad, newline) in RATINGS.items():
        if newline and name != "trailing_blank_line":
            for i, line in enumerate(corpus):
                lines.append(line.format(s=","))
                if i in bad:
                    why = (
                        bad[i]
                        .replace("1995-01-09", "2015-03-01")
                        .replace("2016-10-16", "2015-03-03")
                    )
                    expected.append(f"ml.zip:ratings.csv line {len(lines) + 1}: {why}")
    path = ratings_zip(tmp_path / "ml.zip", "ratings.csv", lines, True)
    ingest(tmp_path, SourceResource(kind="movielens", movielens=str(path)))
    rows, reasons = counts(tmp_path / "w.duckdb", "raw_ratings", "movielens")
    assert reasons == sorted(expected)
    assert rows + len(reasons) == len(lines)
