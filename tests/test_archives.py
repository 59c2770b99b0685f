"""The scale benchmark's generated archives: read back by the project's readers, exact counts.

Expected counts come from the generator's manifest and from parsing the raw bytes with
Python's csv module, never from the readers under test.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from datetime import UTC, date, datetime

import numpy as np
import pytest

from benchmarks.archives import (
    GENRE_COUNTS,
    HEADERS,
    NO_GENRES,
    movielens_shape,
    movielens_zip,
    netflix_folder,
    netflix_shape,
)
from movie_assets.sources.movielens_files import MovieLensFiles
from movie_assets.sources.netflix import NetflixPrize

WHOLE_SPAN = (date(1995, 1, 1), date(2019, 12, 31))
RATINGS = 30_000
BAD = {2: "missing_field", 1_000: "rating", 1_001: "blank", 29_000: "rating"}


@pytest.fixture(autouse=True)
def partitions_cover_the_archives(monkeypatch):
    """As a user sets MOVIE_PARTITIONS_START/END to the data's span (1995 to 2019 here)."""
    monkeypatch.setenv("MOVIE_PARTITIONS_START", "1995-01-01")
    monkeypatch.setenv("MOVIE_PARTITIONS_END", "2020-01-01")


@pytest.fixture(scope="module")
def movielens(tmp_path_factory):
    path = tmp_path_factory.mktemp("ml") / "ml-25m.zip"
    manifest = movielens_zip(path, RATINGS, seed=3, bad_lines=BAD)
    with zipfile.ZipFile(path) as archive:
        members = {n.split("/", 1)[1]: archive.read(n) for n in archive.namelist()}
    return path, manifest, members


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def test_movielens_layout_and_headers(movielens):
    path, _, members = movielens
    with zipfile.ZipFile(path) as archive:
        assert {n.split("/")[0] for n in archive.namelist()} == {"ml-25m"}
    for name, header in HEADERS.items():
        assert members[f"{name}.csv"].split(b"\n", 1)[0].decode() == header
        assert members[f"{name}.csv"].endswith(b"\n")


def test_movielens_ratings_read_back_with_rejects_at_their_lines(movielens):
    path, manifest, members = movielens
    got = MovieLensFiles(str(path)).ratings(*WHOLE_SPAN)
    assert len(got.rows) == manifest.ratings == RATINGS
    assert sorted(int(r.split(" line ")[1].split(":")[0]) for r in got.rejects["reason"]) == sorted(
        BAD
    )
    assert all(r.startswith("ml-25m.zip:ratings.csv line ") for r in got.rejects["reason"])
    lines = members["ratings.csv"].decode().split("\n")
    for bad in manifest.bad_lines:
        assert lines[bad.line - 1] == bad.text
    assert got.rows["user_id"].nunique() == manifest.users
    assert got.rows["movie_id"].nunique() == manifest.rated_movies
    assert not got.rows.duplicated(["user_id", "movie_id"]).any()


def test_movielens_extra_field_is_a_reject(tmp_path):
    path = tmp_path / "ml-25m.zip"
    movielens_zip(path, 2_000, seed=1, bad_lines={70: "extra_field"})
    got = MovieLensFiles(str(path)).ratings(*WHOLE_SPAN)
    assert len(got.rows) == 2_000
    assert list(got.rejects["reason"].str.contains("ratings.csv line 70")) == [True]


def test_movielens_values_half_stars_and_time_span(movielens):
    _, _, members = movielens
    rows = [r for r in _rows(members["ratings.csv"])[1:] if len(r) == 4 and r[2] != "four"]
    assert {r[2] for r in rows} == {f"{s / 2:.1f}" for s in range(1, 11)}
    stamps = np.array([int(r[3]) for r in rows])
    first = datetime(1995, 1, 1, tzinfo=UTC).timestamp()
    assert first <= stamps.min() and stamps.max() < datetime(2020, 1, 1, tzinfo=UTC).timestamp()
    stars = np.array([float(r[2]) for r in rows])
    early = stamps < datetime(2003, 2, 18, tzinfo=UTC).timestamp()
    assert early.any() and (stars[early] % 1 == 0).all()  # whole stars only before 2003
    assert (stars[~early] % 1 == 0.5).mean() > 0.15
    assert 3.2 < stars.mean() < 3.8
    users = np.array([int(r[0]) for r in rows])
    assert (np.diff(users) >= 0).all()  # sorted by user, as the real file


def test_movielens_skew(movielens):
    _, manifest, members = movielens
    rows = [r for r in _rows(members["ratings.csv"])[1:] if len(r) == 4 and r[2] != "four"]
    per_movie = np.sort(np.unique([r[1] for r in rows], return_counts=True)[1])[::-1]
    per_user = np.unique([r[0] for r in rows], return_counts=True)[1]
    assert per_movie[: len(per_movie) // 10].sum() > 0.4 * len(rows)  # power-law popularity
    assert per_user.min() >= 20
    assert per_user.max() > 8 * np.median(per_user)
    days = {}
    for r in rows:
        days.setdefault(r[0], set()).add(int(r[3]) // 86_400)
    sessions = np.array([len(d) for d in days.values()])
    assert (sessions == 1).any() and (sessions > 1).mean() > 0.5  # sessions, not one instant
    assert manifest.rated_movies < manifest.movies  # some catalogue movies have no rating


def test_movielens_catalogue_links_and_tags(movielens):
    path, manifest, members = movielens
    reader = MovieLensFiles(str(path))
    movies = reader.movies()
    assert len(movies.rows) == manifest.movies and movies.rejects.empty
    raw = members["movies.csv"].decode("utf-8").split("\n")[1:-1]
    parsed = _rows(members["movies.csv"])[1:]
    assert [r[1] for r in parsed] == list(movies.rows["title"])
    quoted = [line for line, r in zip(raw, parsed, strict=True) if "," in r[1]]
    assert quoted and all(line.split(",", 1)[1].startswith('"') for line in quoted)
    assert any('""' in line for line in raw)  # embedded quotes doubled
    assert any(ord(c) > 127 for line in raw for c in line)  # UTF-8 titles
    assert sum(r[1].endswith(")") and r[1][-5:-1].isdigit() for r in parsed) > 0.99 * len(parsed)
    genres = {g for r in parsed for g in r[2].split("|")}
    assert genres <= set(GENRE_COUNTS) | {NO_GENRES} and NO_GENRES in genres
    assert all(r[2].split("|") == sorted(r[2].split("|")) for r in parsed)

    links = reader.links()
    assert len(links.rows) == manifest.movies and links.rejects.empty
    assert links.rows["imdb_id"].str.fullmatch(r"tt\d{7}").all()
    tags = reader.tags()
    assert len(tags.rows) == manifest.tags == len(_rows(members["tags.csv"])) - 1
    assert tags.rejects.empty and tags.rows["tag"].str.contains(",").any()


def test_same_seed_same_bytes(tmp_path):
    digests = []
    for name in ("a.zip", "b.zip"):
        movielens_zip(tmp_path / name, 3_000, seed=11)
        with zipfile.ZipFile(tmp_path / name) as archive:
            data = b"".join(archive.read(n) for n in sorted(archive.namelist()))
        digests.append(hashlib.sha256(data).hexdigest())
    assert digests[0] == digests[1]


def test_shapes_follow_the_real_releases():
    users, movies, tags = movielens_shape(25_000_095)
    assert abs(users - 162_541) < 1_000 and abs(movies - 62_423) < 1_500
    assert abs(tags - 1_093_360) < 20_000
    users, movies, _ = movielens_shape(1_000_209)
    assert abs(users - 6_040) < 600 and abs(movies - 3_883) < 100
    users, movies = netflix_shape(100_480_507)
    assert abs(users - 480_189) < 5_000 and movies == 17_770


def test_netflix_read_back(tmp_path):
    folder = tmp_path / "netflix"
    manifest = netflix_folder(folder, 40_000, seed=5, bad_lines={3: "rating"})
    reader = NetflixPrize(str(folder))
    span = (date(1999, 1, 1), date(2006, 1, 1))
    got = reader.ratings(*span)
    assert len(got.rows) == manifest.ratings  # probe pairs included: they are training data
    assert len(reader.probe_ratings(*span)) == manifest.probe_pairs > 0
    assert list(got.rejects["reason"]) == ["combined_data_1.txt line 3: rating not a number"]
    assert set(got.rows["rating"].astype(int)) == {1, 2, 3, 4, 5}
    assert not got.rows.duplicated(["user_id", "movie_id"]).any()
    per_user = got.rows["user_id"].value_counts()
    assert per_user.max() > 5 * per_user.median()
    movies = reader.movies()
    assert len(movies.rows) == manifest.movies and movies.rejects.empty
    assert movies.rows["year"].isna().any()  # NULL years, as in the real file


def test_blocks_do_not_change_the_counts(tmp_path, monkeypatch):
    """Large sizes are written in many blocks: the same counts and rejects as in one block."""
    import benchmarks.archives as archives

    monkeypatch.setattr(archives, "BLOCK", 2_500)
    bad = {2_600: "rating", 5_001: "blank"}
    manifest = movielens_zip(tmp_path / "ml-25m.zip", 12_000, seed=2, bad_lines=bad)
    got = MovieLensFiles(str(tmp_path / "ml-25m.zip")).ratings(*WHOLE_SPAN)
    assert len(got.rows) == manifest.ratings == 12_000
    assert not got.rows.duplicated(["user_id", "movie_id"]).any()
    assert sorted(int(r.split(" line ")[1].split(":")[0]) for r in got.rejects["reason"]) == [
        2_600,
        5_001,
    ]
    folder = tmp_path / "netflix"
    netflix = netflix_folder(folder, 12_000, seed=2)
    reader = NetflixPrize(str(folder))
    rows = reader.ratings(date(1999, 1, 1), date(2006, 1, 1)).rows
    assert len(rows) == netflix.ratings  # probe pairs included
    assert not rows.duplicated(["user_id", "movie_id"]).any()
