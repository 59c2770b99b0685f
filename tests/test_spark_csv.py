"""Spark's CSV reader on a ratings.csv with malformed lines: every line lands in one place.

The file mixes well-formed ratings with each kind of bad line (too few and too
many fields, a non-numeric rating, a bad timestamp, an empty field, blank lines).
Where each line belongs is decided here from the line itself, by the rules of
docs/sources.md written out in Python, never by the reader under test.
"""

from __future__ import annotations

from collections import Counter

import pytest

from movie_assets.sources import spark_csv

pytestmark = pytest.mark.spark

GOOD = [
    f"{u},{m},{r},{1_400_000_000 + 97 * u + m}"
    for u, m, r in [
        (1, 10, 4.0),
        (1, 11, 3.5),
        (2, 10, 5.0),
        (3, 12, 0.5),
        (4, 13, 2.0),
        (5, 10, 1.5),
    ]
]
BAD = [
    "6,10,4.0",  # too few fields
    "7,10,4.0,1400000000,9",  # too many
    "8,10,good,1400000000",  # rating not a number
    "9,10,4.0,2016-01-01",  # timestamp not epoch seconds
    "x9,10,4.0,1400000000",  # user id not an integer
    "10,10,,1400000000",  # empty rating
    "",  # blank
    "",  # blank, twice
    "   ",  # spaces only: blank too
    "11,10,4\x00.5,1400000000",  # a NUL byte inside a field
    "12,10,4.0,",  # cut after its last comma: the date is missing
]


def _expected(line: str) -> str | None:
    """The reason a line is rejected, or None: the rules of docs/sources.md."""
    if line.strip() == "":
        return "blank line"
    if "\x00" in line:
        return "NUL byte in a field (corrupted file?)"
    fields = line.split(",")
    if len(fields) != 4:
        return f"{len(fields)} fields, expected 4 (truncated or shifted line?)"
    if fields[3].strip() == "":
        return "date missing (truncated line?)"
    for at, kind, reason in [
        (3, int, "date unparseable"),
        (0, int, "user id not an integer"),
        (1, int, "movie id not an integer"),
        (2, float, "rating not a number"),
    ]:
        try:
            kind(fields[at])
        except ValueError:
            return reason
    return None


@pytest.fixture(scope="module")
def read(tmp_path_factory):
    from movie_assets import spark

    folder = tmp_path_factory.mktemp("spark_csv")
    # Bad lines between good ones, and in a second file, so position does not matter.
    lines = [GOOD[0], BAD[0], GOOD[1], BAD[6], BAD[1], GOOD[2], BAD[2], BAD[3], BAD[10]]
    other = [GOOD[3], BAD[4], GOOD[4], BAD[7], BAD[5], BAD[8], BAD[9], GOOD[5]]
    header = ",".join(spark_csv.COLUMNS).replace("user_id", "userId").replace("movie_id", "movieId")
    for name, body in [("a.csv", lines), ("b.csv", other)]:
        (folder / name).write_text("\n".join([header, *body]) + "\n")
    rows, rejects = spark_csv.read_ratings(spark.session(), str(folder))
    return lines + other, rows.toPandas(), rejects.toPandas()


def test_every_line_lands_in_rows_or_rejects(read):
    lines, rows, rejects = read
    assert len(rows) + len(rejects) == len(lines)
    expected_rows = Counter(line for line in lines if _expected(line) is None)
    got_rows = Counter(
        f"{u},{m},{r},{t}"
        for u, m, r, t in rows[["user_id", "movie_id", "rating", "timestamp"]].itertuples(
            index=False
        )
    )
    assert got_rows == expected_rows
    expected_rejects = Counter(
        (line, f"{why} ({spark_csv.NO_LINE})")
        for line in lines
        if (why := _expected(line)) is not None
    )
    assert Counter(zip(rejects["raw"], rejects["reason"], strict=True)) == expected_rejects


def test_a_reject_names_its_file(read):
    lines, rows, rejects = read
    files = {f.rsplit("/", 1)[-1] for f in rejects["file"]}
    assert files == {"a.csv", "b.csv"}
    assert rejects.loc[rejects["raw"] == "8,10,good,1400000000", "file"].iloc[0].endswith("a.csv")
    blank = rejects["raw"].str.strip() == ""
    assert blank.sum() == 3
    # Each small file is read in one split, blank lines (found by the text reader) included.
    assert (rejects["block_start"] == 0).all()
