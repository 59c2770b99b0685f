"""File readers on small files in each exact format, well-formed and malformed."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from datetime import UTC, date, datetime

import pandas as pd
import pytest

from movie_assets.sources.base import Received
from movie_assets.sources.composite import parse_spec
from movie_assets.sources.files import SourceFileError
from movie_assets.sources.fred import FredCpi
from movie_assets.sources.kaggle import KaggleMetadata
from movie_assets.sources.movielens_files import MovieLensFiles, _clean_csv
from movie_assets.sources.netflix import NetflixPrize
from movie_assets.sources.registry import PROVIDES
from movie_assets.sources.watch_logs import WatchLogs, pseudonym
from tests import fixtures_sources as fx

FIRST, LAST = fx.DAYS[0], fx.DAYS[-1]
AS_OF = date(2015, 3, 3)


def _tuples(frame: pd.DataFrame) -> set[tuple]:
    return {
        (int(u), int(m), float(r), int(t))
        for u, m, r, t in frame[["user_id", "movie_id", "rating", "timestamp"]].itertuples(
            index=False
        )
    }


def _by_line(rejects: pd.DataFrame) -> pd.DataFrame:
    """Rejects in file order (a reader books field-count errors before value errors)."""
    line = rejects["reason"].str.extract(r" line (\d+):")[0].astype(int)
    return rejects.assign(line=line).sort_values("line", kind="stable").drop(columns="line")


# --- MovieLens ----------------------------------------------------------------------------------


def test_movielens_csv_layout_reads_every_rating_and_movie(tmp_path):
    s = fx.sample()
    reader = MovieLensFiles(str(fx.movielens_csv_zip(tmp_path / "ml.zip", s)), AS_OF)
    got = reader.ratings(FIRST, LAST)
    assert _tuples(got.rows) == set(s.ratings)
    assert got.rejects.empty
    one_day = reader.ratings(FIRST, FIRST).rows
    assert _tuples(one_day) == set(s.ratings_on(FIRST, FIRST))
    movies = reader.movies().rows
    assert list(movies["movie_id"]) == [m for m, _, _ in s.movies]
    assert list(movies["title"]) == [t for _, t, _ in s.movies]  # commas inside quotes kept
    assert list(movies["genres"]) == [g for _, _, g in s.movies]


def test_movielens_links_map_to_imdb_and_tmdb_ids(tmp_path):
    s = fx.sample()
    links = MovieLensFiles(str(fx.movielens_csv_zip(tmp_path / "ml.zip", s))).links().rows
    row = links.set_index("movie_id")
    assert row.loc[1, "imdb_id"] == "tt0114701"
    assert row.loc[1, "tmdb_id"] == 801
    assert pd.isna(row.loc[5, "tmdb_id"])  # an empty tmdbId stays unknown, never guessed
    assert len(links) == len(s.movies)


def test_movielens_1m_and_100k_layouts(tmp_path):
    s = fx.sample()
    ml1m = MovieLensFiles(str(fx.movielens_1m_zip(tmp_path / "ml-1m.zip", s)))
    expected = {(u, m, float(int(r * 2) // 2 or 1), ts) for u, m, r, ts in s.ratings}
    assert _tuples(ml1m.ratings(FIRST, LAST).rows) == expected
    assert list(ml1m.movies().rows["genres"]) == [g for _, _, g in s.movies]

    ml100k = MovieLensFiles(str(fx.movielens_100k_zip(tmp_path / "ml-100k.zip", s)))
    expected = {(u, m, float(int(r + 0.5) or 1), ts) for u, m, r, ts in s.ratings}
    assert _tuples(ml100k.ratings(FIRST, LAST).rows) == expected
    movies = ml100k.movies().rows
    assert list(movies["title"]) == [t for _, t, _ in s.movies]
    assert list(movies["genres"]) == [g for _, _, g in s.movies]


def test_movielens_folder_and_url(tmp_path, http_files):
    s = fx.sample()
    archive = fx.movielens_csv_zip(tmp_path / "ml.zip", s)
    with zipfile.ZipFile(archive) as z:
        z.extractall(tmp_path / "unpacked")
    assert _tuples(MovieLensFiles(str(tmp_path / "unpacked")).ratings(FIRST, LAST).rows) == set(
        s.ratings
    )
    url = http_files(archive)
    assert _tuples(MovieLensFiles(url).ratings(FIRST, LAST).rows) == set(s.ratings)


def test_movielens_bad_lines_are_rejected_with_file_and_line(tmp_path):
    s = fx.sample()
    ts = s.ratings[0][3]
    bad = [f"1,2,abc,{ts}", f"x,2,3.0,{ts}", "1,2,3.0,not-a-time", "4,5,3"]
    reader = MovieLensFiles(str(fx.movielens_csv_zip(tmp_path / "ml.zip", s, extra_ratings=bad)))
    got = reader.ratings(date(1995, 1, 9), LAST)  # the window holds the first partition day
    assert _tuples(got.rows) == set(s.ratings)
    got = Received(got.rows, _by_line(got.rejects))
    reasons = list(got.rejects["reason"])
    n = len(s.ratings) + 1
    assert reasons == [
        f"ml.zip:ratings.csv line {n + 1}: rating not a number",
        f"ml.zip:ratings.csv line {n + 2}: user id not an integer",
        f"ml.zip:ratings.csv line {n + 3}: date unparseable",
        f"ml.zip:ratings.csv line {n + 4}: 3 fields, expected 4 (truncated or shifted line?)",
    ]
    # dated rejects are booked on their day; undated ones on the first partition day
    assert list(got.rejects["partition_date"].dt.date) == [
        datetime.fromtimestamp(ts, UTC).date(),
        datetime.fromtimestamp(ts, UTC).date(),
        date(1995, 1, 9),
        date(1995, 1, 9),
    ]
    # a window without the first partition day does not report the undated lines again
    assert len(reader.ratings(FIRST, LAST).rejects) == 2


def test_every_ratings_line_lands_in_rows_or_rejects(tmp_path):
    """A BOM, a stray comma, a blank line and dates outside the partition span (1995-01-09 to
    2016-10-16): each line is a row or a reject with its line and reason, none stops the read."""
    s = fx.sample()
    ts = s.ratings[0][3]
    bad = [f"1,2,3.0,{ts},oops", "", "1,2,4.0,-86400", "1,2,4.0,1893456000"]
    archive = fx.movielens_csv_zip(tmp_path / "ml.zip", s, extra_ratings=bad)
    with zipfile.ZipFile(archive) as z:
        members = {n: z.read(n) for n in z.namelist()}
    for name in ("ratings.csv", "movies.csv", "tags.csv"):
        key = f"ml-latest-small/{name}"
        members[key] = b"\xef\xbb\xbf" + members[key]
    fx._zip(archive, members)
    reader = MovieLensFiles(str(archive), AS_OF)
    got = reader.ratings(date(1995, 1, 9), date(2016, 10, 16))
    assert _tuples(got.rows) == set(s.ratings)
    got = Received(got.rows, _by_line(got.rejects))
    n = len(s.ratings) + 1
    assert list(got.rejects["reason"]) == [
        f"ml.zip:ratings.csv line {n + 1}: 5 fields, expected 4 (truncated or shifted line?)",
        f"ml.zip:ratings.csv line {n + 2}: blank line",
        f"ml.zip:ratings.csv line {n + 3}: dated before the first partition (1995-01-09)",
        f"ml.zip:ratings.csv line {n + 4}: dated after the last partition (2016-10-16)",
    ]
    assert list(got.rejects["raw"]) == [bad[0], "", "1,2,4.0,-86400", "1,2,4.0,1893456000"]
    lines_in = len(members["ml-latest-small/ratings.csv"].splitlines()) - 1  # less the header
    assert len(got.rows) + len(got.rejects) == lines_in
    assert len(reader.movies().rows) == len(s.movies)
    assert len(reader.tags().rows) == 1


def test_movielens_out_of_range_rating_passes_to_the_clean_layer(tmp_path):
    s = fx.sample()
    ts = s.ratings[0][3]
    reader = MovieLensFiles(
        str(fx.movielens_csv_zip(tmp_path / "ml.zip", s, extra_ratings=[f"1,2,7.5,{ts}"]))
    )
    rows = reader.ratings(FIRST, LAST).rows
    assert (rows["rating"] == 7.5).sum() == 1  # parsed; clean_ratings quarantines it with a reason


def test_movielens_wrong_encoding_and_missing_column(tmp_path):
    s = fx.sample()
    archive = fx.movielens_csv_zip(
        tmp_path / "ml.zip", s, extra_movies=["99,Caf\xe9 Society (2016),Drama"]
    )
    # rewrite movies.csv with one latin-1 line inside a UTF-8 file
    with zipfile.ZipFile(archive) as z:
        members = {n: z.read(n) for n in z.namelist()}
    text = members["ml-latest-small/movies.csv"].decode()
    members["ml-latest-small/movies.csv"] = text.encode("latin-1")
    fx._zip(archive, members)
    got = MovieLensFiles(str(archive), AS_OF).movies()
    assert len(got.rows) == len(s.movies)
    assert list(got.rejects["reason"]) == [
        f"ml.zip:movies.csv line {len(s.movies) + 2}: not valid utf-8 (wrong encoding?)"
    ]
    assert list(got.rejects["partition_date"].dt.date) == [AS_OF]

    members["ml-latest-small/ratings.csv"] = b"userId,movieId,timestamp\n1,2,3\n"
    fx._zip(archive, members)
    missing = r"ratings.csv line 1: missing column\(s\) \['rating'\]"
    with pytest.raises(SourceFileError, match=missing):
        MovieLensFiles(str(archive)).ratings(FIRST, LAST)


def test_movielens_truncated_archive_is_a_clear_error(tmp_path):
    archive = fx.movielens_csv_zip(tmp_path / "ml.zip", fx.sample())
    data = archive.read_bytes()
    (tmp_path / "cut.zip").write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceFileError, match="cut.zip: not a readable zip archive"):
        MovieLensFiles(str(tmp_path / "cut.zip"))


# --- FRED ---------------------------------------------------------------------------------------


def test_fred_new_and_old_headers_and_missing_values(tmp_path):
    rows = fx.cpi_rows(months=4)
    rows[2] = (rows[2][0], ".")
    new = fx.fred_csv(tmp_path / "new.csv", rows)
    old = fx.fred_csv(tmp_path / "old.csv", rows, date_column="DATE", series="CPIAUCSL")
    got = FredCpi(f"{new},{old}", AS_OF).cpi()
    frame = got.rows
    assert list(frame["series_id"].unique()) == ["CUUR0000SA0", "CUSR0000SA0"]
    first = frame[frame["series_id"] == "CUUR0000SA0"]
    assert list(first["period"]) == ["M01", "M02", "M03", "M04"]
    assert list(first["year"]) == [2013] * 4
    assert first["value"].isna().tolist() == [False, False, True, False]  # '.' kept as null
    assert float(first["value"].iloc[0]) == float(rows[0][1])
    assert got.rejects.empty


def test_fred_bad_lines_and_bad_header(tmp_path):
    path = tmp_path / "cpi.csv"
    path.write_text(
        "observation_date,CPIAUCNS\n2013-01-01,230.1\n2013-13-01,231\n2013-03-01,x\n2013-04-01\n"
    )
    got = FredCpi(str(path), AS_OF).cpi()
    assert len(got.rows) == 1
    assert list(got.rejects["reason"]) == [
        "cpi.csv line 3: date '2013-13-01' is not a date (YYYY-MM-DD)",
        "cpi.csv line 4: CPIAUCNS value 'x' is not a number",
        "cpi.csv line 5: 1 fields, expected 2 (truncated line?)",
    ]
    path.write_text("when,CPIAUCNS\n2013-01-01,230.1\n")
    with pytest.raises(SourceFileError, match="cpi.csv line 1: missing the date column"):
        FredCpi(str(path)).cpi()


# --- Kaggle -------------------------------------------------------------------------------------


def test_kaggle_metadata_literals_duplicates_zeros_and_split_rows(tmp_path):
    good = [
        fx.kaggle_row(
            862,
            "Toy Story",
            "1995-10-30",
            30000000,
            373554033,
            genres="[{'id': 16, 'name': 'Animation'}, {'id': 35, 'name': 'Comedy'}]",
            overview="Led by Woody,\nAndy's toys live happily.",
        ),
        fx.kaggle_row(8844, "Jumanji", "1995-12-15", 0, 0),
        fx.kaggle_row(8844, "Jumanji", "1995-12-15", 0, 0),  # the dataset's duplicate ids
    ]
    # a record split across lines: the first half ends early, the rest shifts the columns
    split_head = '"False","",0,"[]","",19730,tt0000001,en,Title,"Overview ends early'
    split_tail = (
        '"- Written by Someone",/poster.jpg,1997-08-20,0.0,"[]","[]",1997-08-20,0,'
        '104.0,"[]",Released,,Title,False,0.0,0,x,y,z,w,v,u'
    )
    bad_literal = fx.kaggle_row(5, "Broken", "2001-01-01", genres="[{'id': 1, 'name': ")
    path = tmp_path / "movies_metadata.csv"
    path.write_text(
        "\n".join([fx.KAGGLE_HEADER, *good, split_head + "\n" + split_tail, bad_literal]) + "\n"
    )
    got = KaggleMetadata(str(path), AS_OF).films()
    films = got.rows
    assert list(films["film_id"]) == [862, 8844, 8844]  # the clean layer quarantines the repeat
    toy = films.iloc[0]
    assert toy["genre"] == "Animation, Comedy"
    assert toy["country"] == "United States of America"
    assert toy["budget"] == 30000000 and toy["box_office"] == 373554033
    assert toy["year"] == 1995 and toy["released"] == "1995-10-30"
    assert films.iloc[1]["budget"] == 0  # as received; clean_films makes 0 unknown
    reasons = list(got.rejects["reason"])
    assert len(reasons) == 2
    assert reasons[0].startswith("movies_metadata.csv line 6: ")
    assert "fields, expected 24" in reasons[0] or "not an integer" in reasons[0]
    assert reasons[1].startswith("movies_metadata.csv line 8: a genres/companies/countries field")


def test_kaggle_missing_column(tmp_path):
    path = tmp_path / "movies_metadata.csv"
    path.write_text(fx.KAGGLE_HEADER.replace(",imdb_id", "") + "\n")
    with pytest.raises(SourceFileError, match=r"line 1: missing column\(s\) \['imdb_id'\]"):
        KaggleMetadata(str(path)).films()


# --- Netflix Prize ------------------------------------------------------------------------------


def netflix_expected(s: fx.Sample) -> set[tuple]:
    out = set()
    for u, m, r, ts in s.ratings:
        day = datetime.fromtimestamp(ts, UTC).date()
        midnight = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
        out.add((u, m, float(int(r + 0.5) or 1), midnight))
    return out


def test_netflix_keeps_probe_ratings_and_reads_the_probe_set_apart(tmp_path):
    s = fx.sample()
    probe = {(m, u) for u, m, _, _ in s.ratings[:5]}
    folder = fx.netflix_dir(tmp_path / "nf", s, probe)
    reader = NetflixPrize(str(folder), AS_OF)
    got = reader.ratings(FIRST, LAST)
    assert _tuples(got.rows) == netflix_expected(s)
    assert got.rejects.empty
    held = reader.probe_ratings(FIRST, LAST)
    assert {(int(m), int(u)) for m, u in held[["movie_id", "user_id"]].to_numpy()} == probe


def test_netflix_small_chunks_carry_the_movie_id_over(tmp_path, monkeypatch):
    import movie_assets.sources.netflix as netflix

    monkeypatch.setattr(netflix, "CHUNK_ROWS", 3)
    s = fx.sample()
    folder = fx.netflix_dir(tmp_path / "nf", s, set())
    rows = NetflixPrize(str(folder)).ratings(FIRST, LAST).rows
    assert _tuples(rows) == netflix_expected(s)


def test_netflix_titles_and_bad_lines(tmp_path):
    s = fx.sample()
    extra = ["7,4,2015-02-30", "7,x,2015-03-01", "898914,4,2005-03-01,x", "", "8,3,2005-13-01"]
    folder = fx.netflix_dir(tmp_path / "nf", s, set(), extra_lines=extra)
    with (folder / "movie_titles.csv").open("ab") as f:
        f.write("77,2003,Am\xe9lie, or: a title, with commas\n".encode("latin-1"))
        f.write(b"78,19x5,Bad Year\n")
    reader = NetflixPrize(str(folder), AS_OF)
    movies = reader.movies()
    row = movies.rows.set_index("movie_id")
    assert row.loc[77, "title"] == "Am\xe9lie, or: a title, with commas"
    assert pd.isna(row.loc[3, "year"])  # NULL year
    assert row.loc[1, "year"] == 1991
    assert list(movies.rejects["reason"]) == [
        f"movie_titles.csv line {len(s.movies) + 2}: year '19x5' is neither a number nor NULL"
    ]
    got = reader.ratings(date(1995, 1, 9), LAST)
    lines = (folder / "combined_data_2.txt").read_text().split("\n")[:-1]
    n = len(lines) - len(extra)
    rejects = _by_line(got.rejects)
    assert list(rejects["reason"]) == [
        f"combined_data_2.txt line {n + 1}: date unparseable",
        f"combined_data_2.txt line {n + 2}: rating not a number",
        f"combined_data_2.txt line {n + 3}: 4 fields, expected 3 (CustomerID,Rating,Date)",
        f"combined_data_2.txt line {n + 4}: blank line",
        f"combined_data_2.txt line {n + 5}: date unparseable",
    ]
    assert list(rejects["raw"]) == extra  # each line as received, without its movie id


# --- watch logs ---------------------------------------------------------------------------------

KEY = "a-test-key-of-32-characters-long"


def test_watch_logs_pseudonymize_users_and_parse_both_time_formats(tmp_path, monkeypatch):
    monkeypatch.setenv("MOVIE_WATCH_KEY", KEY)
    folder = tmp_path / "logs"
    folder.mkdir()
    fx.watch_log(
        folder / "a.csv",
        [
            ("alice@example.com", 1, "1425168000", "4.5", "s1"),  # 2015-03-01 00:00 UTC
            ("bob", 2, "2015-03-02T10:00:00+01:00", "3", "s2"),  # 2015-03-02 09:00 UTC
            ("alice@example.com", 3, "2015-03-03 12:00:00", "", "s3"),  # a view with no rating
            ("carol", 4, "yesterday", "4", "s4"),
        ],
    )
    landed = datetime(2015, 3, 1, 12, tzinfo=UTC).timestamp()
    os.utime(folder / "a.csv", (landed, landed))
    got = WatchLogs(str(folder)).ratings(FIRST, LAST)
    import hashlib
    import hmac

    def expected_id(user: str) -> int:
        return (
            int.from_bytes(
                hmac.new(KEY.encode(), user.encode(), hashlib.sha256).digest()[:8], "big"
            )
            >> 1
        )

    assert pseudonym("alice@example.com", KEY.encode()) == expected_id("alice@example.com")
    assert _tuples(got.rows) == {
        (expected_id("alice@example.com"), 1, 4.5, 1425168000),
        (expected_id("bob"), 2, 3.0, 1425286800),
    }
    # the undated line is booked on the day the file landed (its mtime), here 2015-03-01
    assert sorted(got.rejects["reason"]) == [
        "a.csv line 4: rating not a number",
        "a.csv line 5: date unparseable",
    ]
    text = got.rows.to_csv() + got.rejects.to_csv()
    for secret in ("alice", "bob", "carol", "example.com", "s1", "s2"):
        assert secret not in text


def test_watch_logs_need_a_key_and_the_columns(tmp_path, monkeypatch):
    folder = tmp_path / "logs"
    folder.mkdir()
    fx.watch_log(folder / "a.csv", [("u", 1, "1425168000", "4", "s")])
    monkeypatch.delenv("MOVIE_WATCH_KEY", raising=False)
    with pytest.raises(RuntimeError, match="MOVIE_WATCH_KEY"):
        WatchLogs(str(folder)).ratings(FIRST, LAST)
    monkeypatch.setenv("MOVIE_WATCH_KEY", KEY)
    (folder / "a.csv").write_text("user_id,movie_id,timestamp,session_id\nu,1,1425168000,s\n")
    with pytest.raises(SourceFileError, match=r"a.csv line 1: missing column\(s\) \['rating'\]"):
        WatchLogs(str(folder)).ratings(FIRST, LAST)


def test_links_and_tags_follow_the_catalogue_source():
    parts = parse_spec("movielens,films=tmdb,cpi=fred", PROVIDES)
    assert parts == {
        "movies": "movielens",
        "ratings": "movielens",
        "films": "tmdb",
        "cpi": "fred",
        "links": "movielens",
        "tags": "movielens",
    }
    netflix = parse_spec("netflix,films=kaggle", PROVIDES)
    assert (netflix["links"], netflix["tags"]) == ("embedded", "embedded")  # none: empty
    with pytest.raises(ValueError, match="links must come from the movies source"):
        parse_spec("netflix,links=movielens", PROVIDES)


def test_movielens_tags_and_layouts_without_links_or_tags(tmp_path):
    s = fx.sample()
    ts = s.ratings[0][3]
    extra = ['3,2,"slow, but good",' + str(ts), f"4,2,ok,{ts}x"]
    reader = MovieLensFiles(str(fx.movielens_csv_zip(tmp_path / "ml.zip", s, extra_tags=extra)))
    got = reader.tags()
    assert got.rows.values.tolist() == [[1, 1, "funny", ts], [3, 2, "slow, but good", ts]]
    assert got.rejects["reason"].tolist() == [
        "ml.zip:tags.csv line 4: user id, movie id or timestamp not an integer"
    ]
    old = MovieLensFiles(str(fx.movielens_1m_zip(tmp_path / "ml-1m.zip", s)))
    assert old.links().rows.empty and old.tags().rows.empty
    assert list(old.links().rows.columns) == ["movie_id", "imdb_id", "tmdb_id"]


TAG_LINES = [
    "1,1,funny,1100000000",
    '2,1,"slow, but good",1100000001',
    '2,3,"the ""director\'s cut""",1100000002',
    "3,2,épopée 東京,1100000003",
]
# Each needs its own reason, so the whole file goes line by line; the lines start at the 3rd.
SHIFTED = "fields, expected 4 (truncated or shifted line?)"
TAG_FAULTS = {
    "blank line": ([""], ["blank line"]),
    "short line": (["4,2,1100000004"], [f"3 {SHIFTED}"]),
    "long line": (["4,2,a,b,1100000004"], [f"5 {SHIFTED}"]),
    # The reader is line based: a quoted newline leaves two broken lines, both rejected.
    "quoted newline": (['4,2,"two', 'lines",1100000004'], [f"3 {SHIFTED}", f"2 {SHIFTED}"]),
    "not an integer": (["4,x,ok,1100000004"], ["user id, movie id or timestamp not an integer"]),
}


def _tags_zip(path, lines: list[str]) -> str:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("ml-latest-small/movies.csv", "movieId,title,genres\n1,A (2000),Drama\n")
        archive.writestr("ml-latest-small/ratings.csv", "userId,movieId,rating,timestamp\n")
        archive.writestr(
            "ml-latest-small/tags.csv", "\n".join(["userId,movieId,tag,timestamp", *lines]) + "\n"
        )
    return str(path)


def test_clean_tags_file_reads_as_pythons_csv_module_reads_it(tmp_path):
    """The C-parser path gives the fields and line numbers of the csv module, typed."""
    got = MovieLensFiles(_tags_zip(tmp_path / "ml.zip", TAG_LINES)).tags()
    expected = [
        [int(u), int(m), tag, int(ts)]
        for u, m, tag, ts in csv.reader(io.StringIO("\n".join(TAG_LINES)))
    ]
    assert got.rows.values.tolist() == expected and got.rejects.empty
    text = "\n".join(["userId,movieId,tag,timestamp", *TAG_LINES]) + "\n"
    fast = _clean_csv(text.encode(), ["userId", "movieId", "tag", "timestamp"])
    assert fast is not None and fast[1].tolist() == [2, 3, 4, 5]  # no line-by-line fallback


@pytest.mark.parametrize("fault", TAG_FAULTS)
def test_a_faulty_tags_line_gets_its_own_reason_and_the_rest_still_loads(tmp_path, fault):
    bad, reasons = TAG_FAULTS[fault]
    lines = [TAG_LINES[0], *bad, *TAG_LINES[1:]]
    got = MovieLensFiles(_tags_zip(tmp_path / "ml.zip", lines)).tags()
    assert len(got.rows) == len(TAG_LINES)
    assert got.rejects["reason"].tolist() == [
        f"ml.zip:tags.csv line {3 + i}: {reason}" for i, reason in enumerate(reasons)
    ]
