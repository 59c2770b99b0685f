"""Film metadata from Kaggle's "The Movies Dataset" (``movies_metadata.csv``, TMDB-derived).

The file is known to be dirty, and each defect is handled openly:
- a few records are split across lines, so their columns are shifted (``id`` holds
  a date): rejected with file, line and reason;
- ``genres``, ``production_companies`` and ``production_countries`` are Python
  literals, read with ``ast.literal_eval`` (never ``eval``); a bad literal is a reject;
- ids repeat: rows pass through and the clean layer keeps the first, quarantining the rest;
- 0 budget, revenue or runtime means unknown: kept as received, made null by the clean layer.
"""

from __future__ import annotations

import ast
import csv
import io
import zipfile
from datetime import date

import pandas as pd

from movie_assets.sources.base import Received
from movie_assets.sources.files import (
    Rejects,
    SourceFileError,
    as_float,
    as_int,
    local_copy,
    snapshot_day,
)

MEMBER = "movies_metadata.csv"
COLUMNS = [
    "adult",
    "belongs_to_collection",
    "budget",
    "genres",
    "homepage",
    "id",
    "imdb_id",
    "original_language",
    "original_title",
    "overview",
    "popularity",
    "poster_path",
    "production_companies",
    "production_countries",
    "release_date",
    "revenue",
    "runtime",
    "spoken_languages",
    "status",
    "tagline",
    "title",
    "video",
    "vote_average",
    "vote_count",
]
LITERALS = ("genres", "production_companies", "production_countries")
NUMBERS = ("budget", "revenue", "runtime", "popularity", "vote_average", "vote_count")


_FILM_COLUMNS = [
    "film_id",
    "imdb_id",
    "tmdb_id",
    "title",
    "year",
    "released",
    "runtime",
    "genre",
    "language",
    "country",
    "director",
    "metacritic",
    "tomato_meter",
    "tomato_rating",
    "box_office",
    "budget",
    "popularity",
    "vote_average",
    "vote_count",
    "production_companies",
]


def _names(literal: str) -> str:
    """ "[{'id': 16, 'name': 'Animation'}, ...]" -> 'Animation, ...'; empty text -> ''."""
    if not literal.strip():
        return ""
    value = ast.literal_eval(literal)
    if not isinstance(value, list) or not all(isinstance(v, dict) and "name" in v for v in value):
        raise ValueError("not a list of {'name': ...} records")
    return ", ".join(str(v["name"]) for v in value)


def _read_bytes(location: str) -> tuple[str, bytes]:
    path = local_copy(location)
    if path.suffix == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                member = next((n for n in archive.namelist() if n.endswith(MEMBER)), None)
                if member is None:
                    raise SourceFileError(f"{path.name}: {MEMBER} is not in the archive")
                return f"{path.name}:{member}", archive.read(member)
        except zipfile.BadZipFile as err:
            raise SourceFileError(f"{path.name}: not a readable zip archive ({err})") from None
    return path.name, path.read_bytes()


def parse(data: bytes, label: str, day: date) -> Received:
    rejects = Rejects()
    text = data.decode("utf-8-sig", "surrogateescape")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    missing = [c for c in COLUMNS if c not in (header or [])]
    if missing:
        raise SourceFileError(f"{label} line 1: missing column(s) {missing}; header is {header}")
    position = {name: header.index(name) for name in COLUMNS}
    records, lines, raws = [], [], []
    start = reader.line_num + 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            raise SourceFileError(f"{label} line {start}: {err} (truncated file?)") from None
        number, start = start, reader.line_num + 1
        raw = ",".join(fields).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        if any("\udc80" <= ch <= "\udcff" for f in fields for ch in f):
            rejects.add(day, raw, f"{label} line {number}: not valid UTF-8 (wrong encoding?)")
            continue
        if len(fields) != len(header):
            rejects.add(
                day,
                raw,
                f"{label} line {number}: {len(fields)} fields, expected "
                f"{len(header)} (record split across lines?)",
            )
            continue
        record = {name: fields[i] for name, i in position.items()}
        if not record["id"].strip().isdigit():
            rejects.add(
                day,
                raw,
                f"{label} line {number}: id {record['id']!r} is not an integer (columns shifted)",
            )
            continue
        try:
            parsed = {name: _names(record[name]) for name in LITERALS}
        except (ValueError, SyntaxError) as err:
            rejects.add(
                day,
                raw,
                f"{label} line {number}: a genres/companies/countries field "
                f"is not a Python literal ({err})",
            )
            continue
        records.append({**record, **parsed})
        lines.append(number)
        raws.append(raw)
    if not records:
        return Received(pd.DataFrame(columns=_FILM_COLUMNS), rejects.frame())
    frame = pd.DataFrame(records)
    numbers = {name: as_float(frame[name].replace("", pd.NA)) for name in NUMBERS}
    for name, values in numbers.items():
        unparsed = values.isna() & frame[name].str.strip().ne("")
        for i in frame.index[unparsed]:
            rejects.add(
                day,
                raws[i],
                f"{label} line {lines[i]}: {name} {frame.at[i, name]!r} is not a number",
            )
    bad = pd.concat(
        [values.isna() & frame[n].str.strip().ne("") for n, values in numbers.items()], axis=1
    ).any(axis=1)
    frame, numbers = frame[~bad], {n: v[~bad] for n, v in numbers.items()}
    released = pd.to_datetime(frame["release_date"], format="%Y-%m-%d", errors="coerce")
    films = pd.DataFrame(
        {
            "film_id": as_int(frame["id"]),
            "imdb_id": frame["imdb_id"].replace("", pd.NA),
            "tmdb_id": as_int(frame["id"]),  # the Kaggle set is a TMDB export
            "title": frame["title"].replace("", pd.NA),
            "year": released.dt.year.astype("Int64"),
            "released": frame["release_date"].replace("", pd.NA),
            "runtime": numbers["runtime"],
            "genre": frame["genres"],
            "language": frame["original_language"].replace("", pd.NA),
            "country": frame["production_countries"],
            "director": pd.NA,
            "metacritic": pd.NA,
            "tomato_meter": pd.NA,
            "tomato_rating": pd.NA,
            "box_office": numbers["revenue"],
            "budget": numbers["budget"],
            "popularity": numbers["popularity"],
            "vote_average": numbers["vote_average"],
            "vote_count": numbers["vote_count"],
            "production_companies": frame["production_companies"],
        }
    )
    return Received(films.reset_index(drop=True), rejects.frame())


class KaggleMetadata:
    """Reader for ``movies_metadata.csv`` (or the dataset's zip); films only."""

    name = "kaggle"

    def __init__(self, location: str, as_of: date | None = None):
        self.location = location
        self.as_of = as_of

    def films(self) -> Received:
        label, data = _read_bytes(self.location)
        return parse(data, label, snapshot_day(self.as_of))
