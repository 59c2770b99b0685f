"""MovieLens releases from GroupLens, as published: a zip (path or URL) or its unpacked folder.

Three layouts exist:
- ml-latest-small, ml-25m, ml-32m: ``ratings.csv``, ``movies.csv``, ``links.csv``, ``tags.csv``
  (UTF-8, header line, quoted titles);
- ml-1m: ``ratings.dat``, ``movies.dat`` with ``::`` between fields (latin-1, no header);
- ml-100k: ``u.data`` (tab-separated), ``u.item`` and ``u.genre`` (pipe-separated, latin-1).

Ratings are streamed in chunks, so ml-32m fits in bounded memory. ``links.csv`` is the
only bridge from a MovieLens id to TMDB and IMDb ids: the two id spaces never meet directly.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path, PurePosixPath

import pandas as pd

from movie_assets.sources import ratings_parse
from movie_assets.sources.base import LINK_COLUMNS, TAG_COLUMNS, Received, empty
from movie_assets.sources.files import (
    CHUNK_ROWS,
    NUL,
    Rejects,
    SourceFileError,
    as_int,
    books_undated,
    first_partition_day,
    line_blocks,
    local_copy,
    snapshot_day,
)

LAYOUTS = {
    "csv": {
        "ratings": "ratings.csv",
        "movies": "movies.csv",
        "links": "links.csv",
        "tags": "tags.csv",
    },
    "dat": {"ratings": "ratings.dat", "movies": "movies.dat"},
    "100k": {"ratings": "u.data", "movies": "u.item", "genres": "u.genre"},
}
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


class Release:
    """One MovieLens release, zipped or unpacked; members are found by their file name."""

    def __init__(self, location: str):
        self.path = local_copy(location)
        if self.path.is_dir():
            self.members = {p.name: p for p in self.path.rglob("*") if p.is_file()}
        else:
            try:
                with zipfile.ZipFile(self.path) as archive:
                    names = archive.namelist()
            except zipfile.BadZipFile as err:
                raise SourceFileError(f"{self.path}: not a readable zip archive ({err})") from None
            self.members = {PurePosixPath(n).name: n for n in names if not n.endswith("/")}
        self.layout = next(
            (name for name, files in LAYOUTS.items() if files["ratings"] in self.members), None
        )
        if self.layout is None:
            raise SourceFileError(
                f"{self.path}: no ratings.csv, ratings.dat or u.data inside; "
                "is this a MovieLens release?"
            )

    def label(self, role: str) -> str:
        return f"{self.path.name}:{LAYOUTS[self.layout][role]}"

    def has(self, role: str) -> bool:
        return LAYOUTS[self.layout].get(role) in self.members

    @contextmanager
    def open(self, role: str) -> Iterator[io.BufferedIOBase]:
        name = LAYOUTS[self.layout].get(role)
        if name not in self.members:
            raise SourceFileError(f"{self.path}: {name or role} is missing from the release")
        member = self.members[name]
        if isinstance(member, Path):
            with member.open("rb") as stream:
                yield stream
            return
        with zipfile.ZipFile(self.path) as archive, archive.open(member) as stream:
            try:
                yield stream
            except (zipfile.BadZipFile, zlib.error, EOFError) as err:
                raise SourceFileError(
                    f"{self.label(role)}: archive member is truncated or corrupt ({err})"
                ) from None


# Bytes the decoder could not read, as "surrogateescape" keeps them.
UNDECODABLE = re.compile("[\udc80-\udcff]")


def _records(
    stream,
    label: str,
    encoding: str,
    separator: str,
    columns: list[str],
    header: bool,
    rejects: Rejects,
    day: date,
    start: int = 1,
) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of each well-formed line; the others become rejects.

    A UTF-8 byte-order mark before the first line is not part of the header.
    """
    for number, line in enumerate(
        io.TextIOWrapper(stream, encoding, "surrogateescape", newline=""), start=start
    ):
        text = line.rstrip("\r\n")
        if number == 1:
            text = text.removeprefix("\ufeff")
        if UNDECODABLE.search(text):
            raw = text.encode(encoding, "surrogateescape").decode("latin-1")
            rejects.add(day, raw, f"{label} line {number}: not valid {encoding} (wrong encoding?)")
            continue
        if "\x00" in text:
            rejects.add(day, text, f"{label} line {number}: {NUL}")
            continue
        if separator == ",":
            fields = next(csv.reader([text]), [])
        else:
            fields = text.split(separator)
        if number == 1 and header:
            missing = [c for c in columns if c not in fields]
            if missing:
                raise SourceFileError(
                    f"{label} line 1: missing column(s) {missing}; header is {fields}"
                )
            continue
        if not text.strip():
            rejects.add(day, text, f"{label} line {number}: blank line")
            continue
        if len(fields) != len(columns):
            rejects.add(
                day,
                text,
                f"{label} line {number}: {len(fields)} fields, expected {len(columns)} "
                "(truncated or shifted line?)",
            )
            continue
        yield number, fields


LINE_BYTES = 26  # a typical ratings.csv line: blocks of ~CHUNK_ROWS lines


def _clean_csv(
    data: bytes, columns: list[str], integers: tuple[str, ...] = ()
) -> tuple[pd.DataFrame, pd.Series] | None:
    """A headed CSV file read by pandas' C parser, if every line is whole and well formed.

    None when a line needs ``_records``' own reason: undecodable bytes, a blank line, a
    line with more or fewer fields, a quoted newline (the line numbers would shift),
    or a header other than ``columns``.
    """
    lines = data.count(b"\n") + (not data.endswith(b"\n"))

    def read(**types) -> pd.DataFrame:
        options = {"na_filter": False, "encoding": "utf-8", "encoding_errors": "strict"}
        return pd.read_csv(
            io.BytesIO(data), dtype={**dict.fromkeys(columns, str), **types}, **options
        )

    try:
        try:  # ``integers`` typed by the parser; any other text there: as strings
            frame = read(**dict.fromkeys(integers, "int64"))
        except ValueError:
            frame = read()
    except (pd.errors.ParserError, UnicodeDecodeError):
        return None
    if list(frame.columns) != columns or len(frame) != lines - 1:
        return None
    if (frame[columns[-1]] == "").any():  # the C parser pads a short line
        return None
    return frame, pd.Series(frame.index + 2, dtype="Int64")


def _csv_records(
    data: bytes, label: str, columns: list[str], rejects: Rejects, day: date
) -> tuple[pd.DataFrame, pd.Series]:
    records = list(_records(io.BytesIO(data), label, "utf-8", ",", columns, True, rejects, day))
    frame = pd.DataFrame([f for _, f in records], columns=columns)
    return frame, pd.Series([n for n, _ in records], dtype="Int64")


RATING_SEPARATORS = {"csv": ",", "dat": "::", "100k": "\t"}
RATINGS_HEADER = ["userId", "movieId", "rating", "timestamp"]
NUMERIC_COLUMNS = {
    "user_id": "int64",
    "movie_id": "int64",
    "rating": "float64",
    "timestamp": "int64",
}


def _without_header(block: bytes, label: str) -> bytes:
    """The block after ratings.csv's header line, which must name the four columns."""
    header, _, rest = block.partition(b"\n")
    fields = header.decode("utf-8", "replace").lstrip("\ufeff").rstrip("\r").split(",")
    missing = [c for c in RATINGS_HEADER if c not in fields]
    if missing:
        raise SourceFileError(f"{label} line 1: missing column(s) {missing}; header is {fields}")
    if fields != RATINGS_HEADER:
        raise SourceFileError(f"{label} line 1: columns must be {RATINGS_HEADER}, got {fields}")
    return rest


class BlockLines:
    """A block's lines as received, by their place in the block; split only if asked for.

    The parsers give back numbers ("4" reads as 4.0): a reject's raw text comes from here.
    """

    def __init__(self, block: bytes, encoding: str):
        self.block, self.encoding, self.lines = block, encoding, None

    def __getitem__(self, index: pd.Index) -> pd.Series:
        if self.lines is None:
            self.lines = self.block.split(b"\n")
        text = [self.lines[i].decode(self.encoding, "replace").removesuffix("\r") for i in index]
        return pd.Series(text, index=index, dtype="string")


def _parse_block(
    block: bytes, start: int, sep: str, encoding: str, label: str, rejects: Rejects
) -> tuple[pd.DataFrame, pd.Series]:
    """Columns of the block's well-formed lines, indexed by their place in the block, and
    their line numbers.

    Most blocks are all numbers: the C parser types them directly. A block with any
    other text is read as strings, and split_chunk gives each bad value its reason.
    pandas skips blank lines, drops NUL bytes and takes a fifth field for an index
    without a word, so either way is taken only when the block has no NUL byte, three
    separators per line and a row per line; any other block is read line by line.
    """
    lines = block.count(b"\n") + (not block.endswith(b"\n"))
    plain = b"\x00" not in block and block.count(sep.encode(encoding)) == 3 * lines

    def read(**options) -> pd.DataFrame:
        return pd.read_csv(
            io.BytesIO(block),
            sep=sep,
            header=None,
            names=ratings_parse.COLUMNS,
            encoding=encoding,
            engine="c" if len(sep) == 1 else "python",
            **options,
        )

    if plain and len(sep) == 1:
        try:
            chunk = read(dtype=NUMERIC_COLUMNS)
            if len(chunk) == lines and chunk["rating"].notna().all():
                return chunk, pd.Series(chunk.index + start, index=chunk.index)
        except (ValueError, pd.errors.ParserError, UnicodeDecodeError):
            pass
    if plain:
        try:
            chunk = read(dtype=str, skip_blank_lines=False, keep_default_na=False, na_values=[])
            # Short and blank lines come back padded: those need the line-by-line reasons.
            last = chunk["timestamp"]
            if len(chunk) == lines and not (last.isna() | (last == "")).any():
                return chunk, pd.Series(chunk.index + start, index=chunk.index)
        except (pd.errors.ParserError, UnicodeDecodeError):
            pass
    records = list(
        _records(
            io.BytesIO(block),
            label,
            encoding,
            sep,
            ratings_parse.COLUMNS,
            False,
            rejects,
            first_partition_day(),
            start=start,
        )
    )
    places = pd.Index([n - start for n, _ in records])
    chunk = pd.DataFrame(
        [f for _, f in records], index=places, columns=ratings_parse.COLUMNS, dtype="string"
    )
    return chunk, pd.Series([n for n, _ in records], index=places)


class MovieLensFiles:
    """Reader for a MovieLens release; the catalogue, ratings and links, no films or CPI."""

    name = "movielens"

    def __init__(self, location: str, as_of: date | None = None):
        self.release = Release(location)
        self.as_of = as_of

    # --- catalogue ------------------------------------------------------------------------------

    def movies(self) -> Received:
        rejects, day = Rejects(), snapshot_day(self.as_of)
        layout = self.release.layout
        label = self.release.label("movies")
        rows = []
        with self.release.open("movies") as stream:
            if layout == "csv":
                cols = ["movieId", "title", "genres"]
                for number, (movie_id, title, genres) in _records(
                    stream, label, "utf-8", ",", cols, True, rejects, day
                ):
                    rows.append((number, movie_id, title, genres))
            elif layout == "dat":
                for number, (movie_id, title, genres) in _records(
                    stream, label, "latin-1", "::", ["id", "title", "genres"], False, rejects, day
                ):
                    rows.append((number, movie_id, title, genres))
            else:
                cols = ["id", "title", "release", "video", "url", *ML100K_GENRES]
                for number, fields in _records(
                    stream, label, "latin-1", "|", cols, False, rejects, day
                ):
                    flags = fields[5:]
                    if any(f not in {"0", "1"} for f in flags):
                        rejects.add(
                            day, "|".join(fields), f"{label} line {number}: genre flags are not 0/1"
                        )
                        continue
                    genres = "|".join(
                        g
                        for g, f in zip(ML100K_GENRES, flags, strict=True)
                        if f == "1" and g != "unknown"
                    )
                    rows.append((number, fields[0], fields[1], genres))
        frame = pd.DataFrame(rows, columns=["line", "movie_id", "title", "genres"])
        ids = as_int(frame["movie_id"])
        for i in frame.index[ids.isna()]:
            rejects.add(
                day,
                str(frame.at[i, "movie_id"]),
                f"{label} line {frame.at[i, 'line']}: movie id not an integer",
            )
        frame = frame[ids.notna()]
        movies = pd.DataFrame(
            {
                "movie_id": ids[frame.index],
                "title": frame["title"].astype("string"),
                "year": pd.Series(pd.NA, index=frame.index, dtype="Float64"),
                "genres": frame["genres"].astype("string"),
            }
        ).reset_index(drop=True)
        return Received(movies, rejects.frame())

    def links(self) -> Received:
        """MovieLens id to IMDb ('tt' + 7 digits) and TMDB ids; a missing TMDB id stays NA.

        ml-1m and ml-100k have no links.csv: their films are matched on title and year.
        """
        if self.release.layout != "csv":
            return empty(LINK_COLUMNS)
        rejects, day = Rejects(), snapshot_day(self.as_of)
        label = self.release.label("links")
        with self.release.open("links") as stream:
            records = list(
                _records(
                    stream, label, "utf-8", ",", ["movieId", "imdbId", "tmdbId"], True, rejects, day
                )
            )
        frame = pd.DataFrame([f for _, f in records], columns=["movie_id", "imdb", "tmdb"])
        lines = pd.Series([n for n, _ in records], dtype="Int64")
        movie_id, imdb = as_int(frame["movie_id"]), as_int(frame["imdb"])
        tmdb = as_int(frame["tmdb"])
        bad = movie_id.isna() | imdb.isna() | (tmdb.isna() & (frame["tmdb"].str.strip() != ""))
        for i in frame.index[bad]:
            rejects.add(
                day, ",".join(frame.loc[i]), f"{label} line {lines[i]}: ids are not integers"
            )
        links = pd.DataFrame(
            {
                "movie_id": movie_id,
                "imdb_id": "tt" + imdb.astype("string").str.zfill(7),
                "tmdb_id": tmdb,
            }
        )[~bad].reset_index(drop=True)
        return Received(links, rejects.frame())

    def tags(self) -> Received:
        """``tags.csv`` (userId,movieId,tag,timestamp); ml-1m and ml-100k have no tags."""
        if self.release.layout != "csv":
            return empty(TAG_COLUMNS)
        rejects, day = Rejects(), snapshot_day(self.as_of)
        label = self.release.label("tags")
        columns = ["userId", "movieId", "tag", "timestamp"]
        with self.release.open("tags") as stream:
            data = stream.read()
        read = _clean_csv(data, columns, ("userId", "movieId", "timestamp"))
        if read is None:  # some line needs its own reason: read them one by one
            read = _csv_records(data, label, columns, rejects, day)
        frame, lines = read
        frame.columns = ["user_id", "movie_id", "tag", "ts"]
        parsed = {c: as_int(frame[c]) for c in ("user_id", "movie_id", "ts")}
        bad = parsed["user_id"].isna() | parsed["movie_id"].isna() | parsed["ts"].isna()
        for i in frame.index[bad]:
            rejects.add(
                day,
                ",".join(frame.loc[i]),
                f"{label} line {lines[i]}: user id, movie id or timestamp not an integer",
            )
        tags = pd.DataFrame(
            {
                "user_id": parsed["user_id"],
                "movie_id": parsed["movie_id"],
                "tag": frame["tag"].astype("string"),
                "timestamp": parsed["ts"],
            }
        )[~bad].reset_index(drop=True)
        return Received(tags, rejects.frame())

    # --- ratings --------------------------------------------------------------------------------

    def ratings(self, first: date, last: date) -> Received:
        return ratings_parse.gather(self.ratings_batches(first, last))

    def ratings_batches(self, first: date, last: date) -> Iterator[Received]:
        """The window's ratings block by block, each with the rejects met while reading it.

        A block of CHUNK_ROWS lines goes to pandas' C parser; a block that parser refuses
        or that has short or blank lines is parsed line by line instead, so a bad line
        becomes a reject with its line number and the rest of the file still loads.
        """
        rejects = Rejects()
        layout = self.release.layout
        label = self.release.label("ratings")
        sep = RATING_SEPARATORS[layout]
        encoding = "utf-8" if layout == "csv" else "latin-1"
        with self.release.open("ratings") as stream:
            for start, block in line_blocks(stream, CHUNK_ROWS, LINE_BYTES):
                if start == 1 and layout == "csv":
                    block = _without_header(block, label)
                    start = 2
                if not block:
                    continue
                # Unparseable lines have no date: booked on the first partition, once.
                undated = rejects if books_undated(first, last) else Rejects()
                chunk, lines = _parse_block(block, start, sep, encoding, label, undated)
                rows = ratings_parse.split_chunk(
                    chunk, lines, label, first, last, rejects, raw=BlockLines(block, encoding)
                )
                batch = ratings_parse.batch(rows, rejects)
                if batch is not None:
                    yield batch
