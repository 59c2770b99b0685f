"""Small files in each source's exact published format, written by the tests.

A sample is plain Python data, so every expected count and value in the tests is
computed from these lists, never from the code under test.
"""

from __future__ import annotations

import io
import random
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest

DAYS = [date(2015, 3, 1), date(2015, 3, 2), date(2015, 3, 3)]
GENRES = ["Action", "Comedy", "Drama", "Sci-Fi"]


@dataclass
class Sample:
    movies: list[tuple[int, str, str]] = field(default_factory=list)  # id, "Title (year)", genres
    ratings: list[tuple[int, int, float, int]] = field(default_factory=list)  # user, movie, r, ts

    def ratings_on(self, first: date, last: date) -> list[tuple[int, int, float, int]]:
        return [
            r for r in self.ratings if first <= datetime.fromtimestamp(r[3], UTC).date() <= last
        ]


def sample(users: int = 12, movies: int = 10, seed: int = 7) -> Sample:
    """Every user rates a random half of the movies, once, on one of DAYS."""
    rng = random.Random(seed)
    out = Sample()
    for m in range(1, movies + 1):
        genres = "|".join(sorted(rng.sample(GENRES, rng.randint(1, 2))))
        out.movies.append((m, f"Film Number {m}, The ({1990 + m})", genres))
    for u in range(1, users + 1):
        for m in sorted(rng.sample(range(1, movies + 1), movies // 2)):
            day = rng.choice(DAYS)
            ts = int(
                datetime(
                    day.year, day.month, day.day, rng.randint(0, 23), rng.randint(0, 59), tzinfo=UTC
                ).timestamp()
            )
            out.ratings.append((u, m, rng.randint(1, 10) / 2, ts))
    return out


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _csv_field(text: str) -> str:
    return f'"{text}"' if "," in text or '"' in text else text


def movielens_csv_zip(
    path: Path,
    s: Sample,
    extra_ratings: list[str] = (),
    extra_movies: list[str] = (),
    extra_tags: list[str] = (),
) -> Path:
    """ml-latest-small layout: ml-latest-small/{ratings,movies,links,tags}.csv."""
    ratings = ["userId,movieId,rating,timestamp"]
    ratings += [f"{u},{m},{r:g},{ts}" for u, m, r, ts in s.ratings] + list(extra_ratings)
    movies = ["movieId,title,genres"]
    movies += [f"{m},{_csv_field(t)},{g}" for m, t, g in s.movies] + list(extra_movies)
    links = ["movieId,imdbId,tmdbId"]
    links += [f"{m},{114700 + m:07d},{m + 800 if m % 5 else ''}" for m, _, _ in s.movies]
    tags = ["userId,movieId,tag,timestamp", f"1,1,funny,{s.ratings[0][3]}", *extra_tags]
    root = "ml-latest-small/"
    return _zip(
        path,
        {
            root + "ratings.csv": ("\n".join(ratings) + "\n").encode(),
            root + "movies.csv": ("\n".join(movies) + "\n").encode(),
            root + "links.csv": ("\n".join(links) + "\n").encode(),
            root + "tags.csv": ("\n".join(tags) + "\n").encode(),
        },
    )


def movielens_1m_zip(path: Path, s: Sample) -> Path:
    ratings = [f"{u}::{m}::{int(r * 2) // 2 or 1}::{ts}" for u, m, r, ts in s.ratings]
    movies = [f"{m}::{t}::{g}" for m, t, g in s.movies]
    return _zip(
        path,
        {
            "ml-1m/ratings.dat": ("\n".join(ratings) + "\n").encode("latin-1"),
            "ml-1m/movies.dat": ("\n".join(movies) + "\n").encode("latin-1"),
            "ml-1m/users.dat": b"1::F::1::10::48067\n",
        },
    )


ML100K_GENRES = [
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
]


def movielens_100k_zip(path: Path, s: Sample) -> Path:
    data = [f"{u}\t{m}\t{int(r + 0.5) or 1}\t{ts}" for u, m, r, ts in s.ratings]
    items = []
    for m, t, g in s.movies:
        flags = ["1" if name in g.split("|") else "0" for name in ML100K_GENRES]
        items.append("|".join([str(m), t, "01-Jan-1995", "", "http://imdb.example/x", *flags]))
    genre = [f"{name}|{i}" for i, name in enumerate(ML100K_GENRES)]
    return _zip(
        path,
        {
            "ml-100k/u.data": ("\n".join(data) + "\n").encode("latin-1"),
            "ml-100k/u.item": ("\n".join(items) + "\n").encode("latin-1"),
            "ml-100k/u.genre": ("\n".join(genre) + "\n").encode("latin-1"),
        },
    )


def fred_csv(
    path: Path,
    rows: list[tuple[str, str]],
    date_column: str = "observation_date",
    series: str = "CPIAUCNS",
) -> Path:
    path.write_text("\n".join([f"{date_column},{series}", *(f"{d},{v}" for d, v in rows)]) + "\n")
    return path


def cpi_rows(first: date = date(2013, 1, 1), months: int = 30) -> list[tuple[str, str]]:
    rows, day = [], first
    for i in range(months):
        rows.append((day.isoformat(), f"{230 + i * 0.25:.3f}"))
        day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return rows


KAGGLE_HEADER = (
    "adult,belongs_to_collection,budget,genres,homepage,id,imdb_id,original_language,"
    "original_title,overview,popularity,poster_path,production_companies,production_countries,"
    "release_date,revenue,runtime,spoken_languages,status,tagline,title,video,vote_average,"
    "vote_count"
)


def kaggle_row(
    film_id: int,
    title: str,
    released: str,
    budget: int = 0,
    revenue: int = 0,
    runtime: str = "90.0",
    genres: str = "[{'id': 18, 'name': 'Drama'}]",
    overview: str = "A film.",
    imdb_id: str | None = None,
) -> str:
    companies = "[{'name': 'Studio, Inc.', 'id': 1}]"
    countries = "[{'iso_3166_1': 'US', 'name': 'United States of America'}]"
    fields = [
        "False",
        "",
        str(budget),
        genres,
        "",
        str(film_id),
        imdb_id or f"tt{film_id:07d}",
        "en",
        title,
        overview,
        "1.5",
        "/p.jpg",
        companies,
        countries,
        released,
        str(revenue),
        runtime,
        "[]",
        "Released",
        "",
        title,
        "False",
        "6.5",
        "10",
    ]
    return ",".join(_quote(f) for f in fields)


def _quote(text: str) -> str:
    if any(c in text for c in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def netflix_dir(
    folder: Path, s: Sample, probe: set[tuple[int, int]], extra_lines: list[str] = ()
) -> Path:
    """combined_data_1.txt and _2.txt (movies split between them), movie_titles.csv, probe.txt."""
    folder.mkdir(parents=True, exist_ok=True)
    by_movie: dict[int, list] = {}
    for u, m, r, ts in s.ratings:
        by_movie.setdefault(m, []).append((u, r, ts))
    files = [[], []]
    for m in sorted(by_movie):
        lines = files[m % 2]
        lines.append(f"{m}:")
        for u, r, ts in by_movie[m]:
            day = datetime.fromtimestamp(ts, UTC).date().isoformat()
            lines.append(f"{u},{int(r + 0.5) or 1},{day}")
    files[1].extend(extra_lines)
    for i, lines in enumerate(files, start=1):
        (folder / f"combined_data_{i}.txt").write_text("\n".join(lines) + "\n")
    titles = []
    for m, t, _ in s.movies:
        year = "NULL" if m == 3 else t[-5:-1]
        titles.append(f"{m},{year},{t[:-7]}")
    (folder / "movie_titles.csv").write_bytes(("\n".join(titles) + "\n").encode("latin-1"))
    probe_lines = []
    for m in sorted({m for m, _ in probe}):
        probe_lines.append(f"{m}:")
        probe_lines += [str(u) for pm, u in sorted(probe) if pm == m]
    (folder / "probe.txt").write_text("\n".join(probe_lines) + "\n")
    return folder


def watch_log(path: Path, rows: list[tuple[str, int, str, str, str]]) -> Path:
    out = io.StringIO()
    out.write("user_id,movie_id,timestamp,rating,session_id\n")
    for user, movie, stamp, rating, session in rows:
        out.write(f"{user},{movie},{stamp},{rating},{session}\n")
    path.write_text(out.getvalue())
    return path


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def http_files(tmp_path_factory):
    """Serve files over HTTP on 127.0.0.1; returns path -> URL."""
    root = tmp_path_factory.mktemp("served")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietFiles, directory=str(root)))
    Thread(target=server.serve_forever, daemon=True).start()

    def serve(path: Path) -> str:
        (root / path.name).write_bytes(path.read_bytes())
        return f"http://127.0.0.1:{server.server_address[1]}/{path.name}"

    yield serve
    server.shutdown()
    server.server_close()
