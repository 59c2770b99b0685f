"""Seeded archives in the exact public layouts of MovieLens (ml-25m, ml-32m) and the Netflix Prize.

The scale targets are measured on the files a user downloads, which cannot be fetched
here; these have the same formats and a realistic shape: power-law movie popularity and
user activity, users who rate in sessions, MovieLens' half stars (whole stars before
2003-02-18, as in the real data), sparse ids, quoted and UTF-8 titles. Each archive is
written block by block (about BLOCK ratings at a time), so 100M ratings need no more
memory than 1M, and the same seed and size give the same bytes.

    from benchmarks.archives import movielens_zip, netflix_folder
    movielens_zip(Path("ml-25m.zip"), 25_000_000, seed=0)
"""

from __future__ import annotations

import json
import math
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

BLOCK = 2_000_000  # ratings generated and written at a time (about 150 MB in flight)
ML_FIRST = datetime(1995, 1, 9, 11, 46, 49, tzinfo=UTC)  # the first ml-25m rating
ML_LAST = datetime(2019, 11, 21, 9, 15, 3, tzinfo=UTC)  # the last ml-25m rating
HALF_STARS_FROM = datetime(2003, 2, 18, tzinfo=UTC)  # MovieLens allowed whole stars before
TAGS_FROM = datetime(2005, 12, 24, tzinfo=UTC)  # MovieLens tagging opened in December 2005
MIN_USER_RATINGS = 20  # MovieLens keeps users with at least 20 ratings
HEADERS = {
    "ratings": "userId,movieId,rating,timestamp",
    "movies": "movieId,title,genres",
    "links": "movieId,imdbId,tmdbId",
    "tags": "userId,movieId,tag,timestamp",
}
NO_GENRES = "(no genres listed)"
# MovieLens' genre list with about how many of ml-25m's 62,423 movies carry each.
GENRE_COUNTS = {
    "Action": 7348,
    "Adventure": 4145,
    "Animation": 2929,
    "Children": 2935,
    "Comedy": 16870,
    "Crime": 5319,
    "Documentary": 5605,
    "Drama": 25606,
    "Fantasy": 2731,
    "Film-Noir": 353,
    "Horror": 5989,
    "IMAX": 195,
    "Musical": 1054,
    "Mystery": 2925,
    "Romance": 7719,
    "Sci-Fi": 3595,
    "Thriller": 8654,
    "War": 1874,
    "Western": 1399,
}
NO_GENRES_SHARE = 5062 / 62423
# ml-25m's share of each half star, 0.5 to 5.0 (mean 3.53).
STAR_SHARES = [0.0157, 0.0311, 0.0159, 0.0663, 0.0504, 0.1959, 0.1254, 0.2659, 0.0848, 0.1450]
# Netflix Prize's share of each star, 1 to 5 (mean 3.60).
NETFLIX_SHARES = [0.046, 0.101, 0.287, 0.336, 0.230]

WORDS = (
    "Silent River Night Summer Love Dark City Last Blue Road Secret Man Woman Girl Boy House "
    "Game Heart King Queen Star War Dead Life Time Fire Ice Moon Sun Dream Shadow Ghost Stone "
    "Wild Little Big Long Lost Golden Red Black White Killer Street Island Mountain Sea Garden "
    "Brother Sister Family Story Journey Return Rise Fall Day Song Angel Devil Storm Winter "
    "Café Señor Noël Amélie Über Jalapeño Crème Déjà Vu Mädchen Ça"
).split()
ARTICLES = [", The", ", A", ", Les", ", La", ", Der", ", Il"]
TAG_WORDS = [
    "atmospheric",
    "sci-fi",
    "twist ending",
    "dark comedy",
    "based on a book",
    "funny",
    "visually appealing",
    "thought-provoking",
    "Oscar (Best Picture)",
    "cult film",
    "surreal",
    "quirky",
    "great soundtrack",
    "predictable",
    "violence",
    "World War II",
    "time travel",
    "dystopia",
    "Criterion",
    "classic",
    "romance",
    "psychology",
    "social commentary",
    "stylized",
    "feel-good",
    "slow",
    "BD-R",
    "Disney",
    "animation",
    "nonlinear",
    "dark, gritty",
    'the "twist"',
    "noir",
    "true story",
    "Ça tourne",
]


@dataclass
class BadLine:
    """A line written on purpose where a test or benchmark expects a reject."""

    member: str  # e.g. "ratings.csv" or "combined_data_1.txt"
    line: int  # 1-based, header included
    kind: str  # "missing_field", "extra_field", "rating" or "blank"
    text: str


@dataclass
class Manifest:
    """What was written, so that readers' counts can be checked exactly."""

    layout: str
    ratings: int  # well-formed rating lines written (probe pairs included for Netflix)
    users: int
    movies: int  # catalogue rows
    rated_movies: int
    tags: int = 0
    seed: int = 0
    first_day: str = ""
    last_day: str = ""
    probe_pairs: int = 0
    bad_lines: list[BadLine] = field(default_factory=list)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: Path) -> Manifest:
        data = json.loads(path.read_text())
        data["bad_lines"] = [BadLine(**b) for b in data["bad_lines"]]
        return cls(**data)


# --- shape ----------------------------------------------------------------------------------


def movielens_shape(ratings: int) -> tuple[int, int, int]:
    """(users, catalogue movies, tags) for a rating count, on the line through ml-1m and ml-25m.

    ml-1m: 6,040 users, 3,883 movies; ml-25m: 162,541 users, 62,423 movies, 1.09M tags.
    Small sizes keep at least 20 ratings per user and a catalogue five times a mean user.
    """
    if ratings < 1_000:
        raise ValueError("a MovieLens archive needs at least 1,000 ratings")
    movies = max(round(3_883 * (ratings / 1e6) ** 0.86), min(2_000, ratings // 10))
    users = max(round(ratings * 0.0065), math.ceil(ratings / (0.2 * movies)))
    return users, movies, round(ratings * 0.0437)


def netflix_shape(ratings: int) -> tuple[int, int]:
    """(customers, movies): 480,189 and 17,770 at the real 100,480,507 ratings."""
    movies = min(17_770, max(100, round(17_770 * (ratings / 1e8) ** 0.5)))
    return max(round(ratings * 0.0048), math.ceil(ratings / (0.2 * movies))), movies


# --- sampling -------------------------------------------------------------------------------


def _allocate(total: int, weights: np.ndarray, low: int, high: int, rng) -> np.ndarray:
    """Integer counts in [low, high] summing to total, roughly proportional to weights."""
    counts = np.full(len(weights), low, dtype=np.int64)
    left = total - counts.sum()
    if left < 0 or high * len(weights) < total:
        raise ValueError(f"cannot split {total:,} into {len(weights):,} counts in [{low}, {high}]")
    while left > 0:
        room = counts < high
        share = np.where(room, weights, 0.0)
        add = rng.multinomial(left, share / share.sum())
        counts = np.minimum(counts + add, high)
        left = total - counts.sum()
    return counts


def _popularity(n: int, sigma: float, cap: float, rng) -> np.ndarray:
    """Lognormal weights with the largest share capped: a few hits, a long tail of rarities."""
    w = rng.lognormal(0.0, sigma, n)
    for _ in range(5):
        w = np.minimum(w / w.sum(), cap)
    return w / w.sum()


def _distinct_draws(counts: np.ndarray, cdf: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """counts[g] distinct items for each group g, drawn by weight (cdf), sorted by group, item.

    Repeats are redrawn: by weight for a few rounds, then uniformly, so even a group that
    takes most of the items finishes quickly.
    """
    items = len(cdf)
    group = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    item = np.searchsorted(cdf, rng.random(len(group)) * cdf[-1], side="right")
    keys = _sorted_unique(group * items + item)
    have = np.bincount(keys // items, minlength=len(counts))
    extra = np.empty(0, dtype=np.int64)
    rounds = 0
    while (lack := counts - have).any():
        g = np.repeat(np.arange(len(counts), dtype=np.int64), lack)
        if rounds < 3:
            i = np.searchsorted(cdf, rng.random(len(g)) * cdf[-1], side="right")
        else:
            i = rng.integers(0, items, len(g))
        cand = _sorted_unique(g * items + i)
        cand = cand[~(_member(cand, keys) | _member(cand, extra))]
        # a group may have drawn more new items than it lacks: keep its first ones
        owner = cand // items
        rank = np.arange(len(cand)) - np.searchsorted(owner, owner, side="left")
        cand = cand[rank < lack[owner]]
        have += np.bincount(cand // items, minlength=len(counts))
        extra = np.sort(np.concatenate([extra, cand]))
        rounds += 1
    keys = np.sort(np.concatenate([keys, extra]))
    return keys // items, keys % items


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique by sort (numpy's hash-based unique is several times slower on int64 keys)."""
    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if len(values) else values


def _member(values: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """values found in sorted_keys, by binary search: no sort of the large array."""
    if not len(sorted_keys):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, values), len(sorted_keys) - 1)
    return sorted_keys[at] == values


def _stars(score: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Star index 0..len(cuts) of each latent score."""
    return np.searchsorted(cuts, score, side="right")


def _cuts(shares: list[float], sample: np.ndarray) -> np.ndarray:
    return np.quantile(sample, np.cumsum(shares)[:-1])


# --- writing --------------------------------------------------------------------------------

_POWERS = 10 ** np.arange(1, 19, dtype=np.int64)


def _lines(fields: list[np.ndarray], sep: bytes = b",") -> tuple[np.ndarray, np.ndarray]:
    """CSV lines as bytes, built with numpy: each field is non-negative int64 (written in
    decimal) or a 2-D uint8 array of fixed-width text. Returns the buffer and each line's end."""
    rows = len(fields[0])
    widths = [
        np.searchsorted(_POWERS, f, side="right") + 1
        if f.ndim == 1
        else np.full(rows, f.shape[1], dtype=np.int64)
        for f in fields
    ]
    length = sum(widths) + len(fields)
    ends = np.cumsum(length)
    buf = np.empty(int(ends[-1]) if rows else 0, dtype=np.uint8)
    pos = ends - length
    for k, (f, w) in enumerate(zip(fields, widths, strict=True)):
        if f.ndim == 1:
            value = f.copy()
            for digit in range(int(w.max(initial=1))):
                inside = w > digit
                buf[(pos + w - 1 - digit)[inside]] = (48 + value % 10)[inside]
                value //= 10
        else:
            for col in range(f.shape[1]):
                buf[pos + col] = f[:, col]
        pos = pos + w
        buf[pos] = ord("\n") if k == len(fields) - 1 else sep[0]
        pos = pos + 1
    return buf, ends


class _LineWriter:
    """Writes blocks of lines to a stream, slipping the bad lines in at their line numbers."""

    def __init__(self, stream, bad: dict[int, BadLine]):
        self.stream, self.line = stream, 1
        self.bad = dict(sorted(bad.items()))

    def text(self, data: bytes) -> None:
        buf = np.frombuffer(data, np.uint8)
        self.write(buf, np.flatnonzero(buf == ord("\n")) + 1)

    def write(self, buf: np.ndarray, ends: np.ndarray) -> None:
        start = 0  # index of the next line of this block
        while self.bad and next(iter(self.bad)) < self.line + len(ends) - start:
            bad = self.bad.pop(next(iter(self.bad)))
            number = bad.line
            stop = start + number - self.line
            self._block(buf, ends, start, stop)
            self.stream.write(bad.text.encode() + b"\n")
            self.line, start = number + 1, stop
        self._block(buf, ends, start, len(ends))
        self.line += len(ends) - start

    def _block(self, buf, ends, start: int, stop: int) -> None:
        if stop > start:
            begin = int(ends[start - 1]) if start else 0
            self.stream.write(buf[begin : int(ends[stop - 1])].tobytes())

    def close(self) -> None:
        """Bad lines past the last good one go at the end, numbered as they land."""
        for bad in self.bad.values():
            bad.line = self.line
            self.stream.write(bad.text.encode() + b"\n")
            self.line += 1
        self.bad.clear()


BAD_TEXT = {
    "missing_field": "{user},{movie},3.5",
    "extra_field": "{user},{movie},3.5,1262304000,extra",
    "rating": "{user},{movie},four,1262304000",
    "blank": "",
}


def _bad_lines(member: str, bad: dict[int, str] | None) -> dict[int, BadLine]:
    out = {}
    for line, kind in (bad or {}).items():
        if line < 2:
            raise ValueError("line 1 is the header; bad lines start at line 2")
        text = BAD_TEXT[kind].format(user=1, movie=1)
        out[line] = BadLine(member, line, kind, text)
    return out


# --- titles ---------------------------------------------------------------------------------


def _titles(n: int, years: np.ndarray, rng, with_year: bool = True) -> list[str]:
    """MovieLens-style titles: 'Silent River, The (1994)'; some with an alternative title,
    accents or double quotes, a few without a year (as in the real movies.csv)."""
    words = rng.integers(0, len(WORDS), (n, 3))
    size = rng.choice([1, 2, 3], n, p=[0.3, 0.5, 0.2])
    kind = rng.random(n)
    out = []
    for i in range(n):
        title = " ".join(WORDS[w] for w in words[i, : size[i]])
        if kind[i] < 0.10:
            title += ARTICLES[i % len(ARTICLES)]
        elif kind[i] < 0.11:
            title = f'"{title}" {WORDS[words[i, 2]]}'
        elif kind[i] < 0.13:
            title += f" ({WORDS[words[i, 1]]} {WORDS[words[i, 0]]}, La)"
        if with_year and kind[i] < 0.999:
            title += f" ({years[i]})"
        out.append(title)
    return out


def _csv_field(text: str) -> str:
    if any(c in text for c in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


# --- MovieLens ------------------------------------------------------------------------------


def movielens_zip(
    path: Path,
    ratings: int,
    seed: int = 0,
    release: str = "ml-25m",
    bad_lines: dict[int, str] | None = None,
    compresslevel: int = 1,
) -> Manifest:
    """Writes a MovieLens release zip (``<release>/ratings.csv``, movies, links, tags).

    ``bad_lines`` maps a ratings.csv line number (the header is line 1) to one of
    BAD_TEXT's kinds; those lines are inserted, so the file still holds ``ratings``
    well-formed ratings. The zip is written under a temporary name and renamed when
    complete, and a manifest goes next to it (``<path>.json``).
    """
    rng = np.random.default_rng(seed)
    users, movies, tags = movielens_shape(ratings)
    cap = max(MIN_USER_RATINGS, int(0.6 * movies))
    activity = _allocate(ratings, rng.lognormal(0.0, 1.4, users), MIN_USER_RATINGS, cap, rng)
    rng.shuffle(activity)
    popularity = _popularity(movies, 2.3, 0.0033, rng)
    cdf = np.cumsum(popularity)
    # Sparse ids, as in ml-25m (62,423 movies, ids up to 209,171).
    jumps = (rng.random(movies) < 0.02) * rng.integers(1, 100, movies)
    movie_ids = np.cumsum(rng.geometric(0.5, movies) + jumps)
    movie_ids = movie_ids - movie_ids[0] + 1
    quality = 0.35 * rng.standard_normal(movies) + 0.08 * np.log(popularity / popularity.mean())
    user_bias = 0.45 * rng.standard_normal(users)
    sample = (
        quality[np.searchsorted(cdf, rng.random(200_000) * cdf[-1], side="right")]
        + user_bias[rng.integers(0, users, 200_000)]
        + 0.8 * rng.standard_normal(200_000)
    )
    cuts = _cuts(STAR_SHARES, sample)
    first, last = int(ML_FIRST.timestamp()), int(ML_LAST.timestamp())
    years = np.clip(2019 - rng.exponential(18.0, movies).astype(int), 1874, 2019)

    tmp = path.with_name(path.name + ".part")
    root = f"{release}/"
    bad = _bad_lines("ratings.csv", bad_lines)
    rated = np.zeros(movies, dtype=bool)
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as archive:
        archive.writestr(root + "README.txt", _readme(release, ratings, seed))
        with archive.open(root + "ratings.csv", "w", force_zip64=True) as stream:
            writer = _LineWriter(stream, bad)
            writer.text((HEADERS["ratings"] + "\n").encode())
            bounds = np.searchsorted(np.cumsum(activity), np.arange(BLOCK, ratings, BLOCK))
            for block in np.split(np.arange(users), np.unique(bounds)):
                if not len(block):
                    continue
                user, movie, stars, stamp = _user_block(
                    block, activity, cdf, quality, user_bias, cuts, first, last, rng
                )
                rated[movie] = True
                text = _rating_text(stars)
                buf, ends = _lines([user + 1, movie_ids[movie], text, stamp])
                writer.write(buf, ends)
            writer.close()
        archive.writestr(root + "movies.csv", _movies_csv(movie_ids, years, rng))
        archive.writestr(root + "links.csv", _links_csv(movie_ids, rng))
        with archive.open(root + "tags.csv", "w", force_zip64=True) as stream:
            _write_tags(stream, tags, activity, cdf, movie_ids, rng)
    tmp.replace(path)
    manifest = Manifest(
        layout=release,
        ratings=ratings,
        users=users,
        movies=movies,
        rated_movies=int(rated.sum()),
        tags=tags,
        seed=seed,
        first_day=ML_FIRST.date().isoformat(),
        last_day=ML_LAST.date().isoformat(),
        bad_lines=list(bad.values()),
    )
    manifest.save(path.with_name(path.name + ".json"))
    return manifest


def _readme(release: str, ratings: int, seed: int) -> str:
    return (
        f"Synthetic data in the layout of the MovieLens {release} release: {ratings:,} "
        f"ratings generated with seed {seed} by benchmarks/archives.py. Not GroupLens data.\n"
    )


def _user_block(block, activity, cdf, quality, user_bias, cuts, first: int, last: int, rng):
    """One block of users' ratings, sorted by user and movie, with session timestamps."""
    counts = activity[block]
    local, movie = _distinct_draws(counts, cdf, rng)
    user = block[local]
    n = len(user)
    score = quality[movie] + user_bias[user] + 0.8 * rng.standard_normal(n)
    stars = _stars(score, cuts) + 1  # half stars 1..10

    # Sessions: a few per user, weeks to months apart; ratings seconds to minutes apart.
    sessions = 1 + rng.poisson(0.3 * np.log(counts))
    head = np.cumsum(sessions) - sessions  # each user's first session
    gap = rng.exponential(45 * 86_400.0, sessions.sum())
    gap[head] = 0.0
    cum = np.cumsum(gap)
    offset = cum - np.repeat(cum[head], sessions)  # session start after the user's first
    span = offset[head + sessions - 1] + 3 * 3_600
    begin = first + rng.beta(1.2, 1.0, len(block)) * np.maximum(last - first - span, 0)
    session = head[local] + (rng.random(n) * sessions[local]).astype(np.int64)
    order = np.lexsort((rng.random(n), session))  # by session, in random movie order
    grouped = session[order]
    cum_step = np.cumsum(rng.exponential(40.0, n))
    within = cum_step - cum_step[np.searchsorted(grouped, grouped, side="left")]
    stamp = np.empty(n, dtype=np.int64)
    stamp[order] = (begin[local[order]] + offset[grouped] + within).astype(np.int64)
    stamp = np.minimum(stamp, last)
    early = stamp < int(HALF_STARS_FROM.timestamp())
    stars = np.where(early, np.minimum(10, stars + (stars % 2)), stars)  # whole stars only
    return user, movie, stars, stamp


_STAR_TEXT = np.array([list(f"{s / 2:.1f}".encode()) for s in range(11)], dtype=np.uint8)


def _rating_text(stars: np.ndarray) -> np.ndarray:
    return _STAR_TEXT[stars]


def _genres(movies: int, rng) -> list[str]:
    """Pipe-separated genres in alphabetical order, with ml-25m's frequencies."""
    names = list(GENRE_COUNTS)
    p = np.array(list(GENRE_COUNTS.values()), dtype=float) / (62423 * (1 - NO_GENRES_SHARE))
    chosen = rng.random((movies, len(names))) < p
    lonely = ~chosen.any(axis=1)
    chosen[lonely, np.searchsorted(np.cumsum(p) / p.sum(), rng.random(int(lonely.sum())))] = True
    none = rng.random(movies) < NO_GENRES_SHARE
    return [
        NO_GENRES if empty else "|".join(n for n, c in zip(names, row, strict=True) if c)
        for empty, row in zip(none.tolist(), chosen.tolist(), strict=True)
    ]


def _movies_csv(movie_ids: np.ndarray, years: np.ndarray, rng) -> bytes:
    titles = _titles(len(movie_ids), years, rng)
    genres = _genres(len(movie_ids), rng)
    lines = [HEADERS["movies"]]
    lines += [
        f"{m},{_csv_field(t)},{g}"
        for m, t, g in zip(movie_ids.tolist(), titles, genres, strict=True)
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _links_csv(movie_ids: np.ndarray, rng) -> bytes:
    n = len(movie_ids)
    imdb = np.sort(rng.choice(np.arange(10_000, 9_999_999), n, replace=False))
    tmdb = rng.permutation(np.arange(2, 2 + 3 * n, 3))[:n]
    blank = rng.random(n) < 0.002
    lines = [HEADERS["links"]]
    for m, i, t, b in zip(
        movie_ids.tolist(), imdb.tolist(), tmdb.tolist(), blank.tolist(), strict=True
    ):
        lines.append(f"{m},{i:07d},{'' if b else t}")
    return ("\n".join(lines) + "\n").encode()


def _write_tags(stream, tags: int, activity, cdf, movie_ids, rng) -> None:
    """Tags from a few heavy taggers (about 9% of users), on popular movies, Zipf vocabulary."""
    stream.write((HEADERS["tags"] + "\n").encode())
    if tags:
        taggers = rng.choice(len(activity), max(1, len(activity) * 9 // 100), replace=False)
        weight = rng.pareto(1.0, len(taggers)) + 1
        user = taggers[np.searchsorted(np.cumsum(weight), rng.random(tags) * weight.sum())]
        movie = np.searchsorted(cdf, rng.random(tags) * cdf[-1], side="right")
        words = len(TAG_WORDS) + max(50, tags // 15)
        word = np.minimum(rng.zipf(1.3, tags) - 1, words - 1)
        first, last = int(TAGS_FROM.timestamp()), int(ML_LAST.timestamp())
        stamp = rng.integers(first, last, tags)
        order = np.lexsort((stamp, movie_ids[movie], user))
        vocab = [_csv_field(t) for t in TAG_WORDS]
        for part in np.array_split(order, max(1, tags // 500_000)):
            lines = []
            for u, m, w, t in zip(
                (user[part] + 1).tolist(),
                movie_ids[movie[part]].tolist(),
                word[part].tolist(),
                stamp[part].tolist(),
                strict=True,
            ):
                tag = vocab[w] if w < len(vocab) else f"{WORDS[w % len(WORDS)].lower()} {w}"
                lines.append(f"{u},{m},{tag},{t}\n")
            stream.write("".join(lines).encode("utf-8"))


# --- Netflix Prize --------------------------------------------------------------------------

NETFLIX_FIRST, NETFLIX_LAST = date(1999, 11, 11), date(2005, 12, 31)
NETFLIX_FILES = 4
NETFLIX_BAD_TEXT = {
    "missing_field": "123,3",
    "extra_field": "123,3,2004-05-06,extra",
    "rating": "123,four,2004-05-06",
    "blank": "",
}
PROBE_SHARE = 0.014
MAX_CUSTOMER = 2_649_429


def netflix_folder(
    folder: Path, ratings: int, seed: int = 0, bad_lines: dict[int, str] | None = None
) -> Manifest:
    """Writes combined_data_1..4.txt, probe.txt (about 1.4% of the pairs) and movie_titles.csv.

    Movies are split between the four files in id order, as in the real set; a movie's
    customers are distinct and drawn by activity (power law), each customer rating within
    a window of their own. ``bad_lines`` (line numbers of combined_data_1.txt) are inserted.
    ``probe_pairs`` in the manifest is how many rating lines are probe pairs (ingested like
    the others; ``NetflixPrize.probe_ratings`` reads them apart).
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    customers, movies = netflix_shape(ratings)
    ids = np.sort(rng.choice(MAX_CUSTOMER, customers, replace=False) + 1)
    activity = rng.lognormal(0.0, 1.3, customers)
    cdf = np.cumsum(activity)
    popularity = _popularity(movies, 2.0, 0.0025, rng)
    counts = _allocate(ratings, popularity, 1, int(0.6 * customers), rng)
    quality = 0.4 * rng.standard_normal(movies) + 0.1 * np.log(popularity / popularity.mean())
    bias = 0.4 * rng.standard_normal(customers)
    days = (NETFLIX_LAST - NETFLIX_FIRST).days + 1
    start = (np.sqrt(rng.random(customers)) * days).astype(np.int64)
    span = np.minimum(rng.exponential(300.0, customers).astype(np.int64) + 1, days - start)
    sample = (
        quality[np.searchsorted(np.cumsum(popularity), rng.random(100_000), side="right")]
        + bias[np.searchsorted(cdf, rng.random(100_000) * cdf[-1], side="right")]
        + 0.9 * rng.standard_normal(100_000)
    )
    cuts = _cuts(NETFLIX_SHARES, sample)
    day_text = (
        np.array(
            [(NETFLIX_FIRST + timedelta(d)).isoformat().encode() for d in range(days)], dtype="S10"
        )
        .view(np.uint8)
        .reshape(days, 10)
    )
    bad = {
        line: BadLine("combined_data_1.txt", line, kind, NETFLIX_BAD_TEXT[kind])
        for line, kind in (bad_lines or {}).items()
    }
    probe_hits = 0
    with (folder / "probe.txt").open("wb") as probe:
        for i, part in enumerate(np.array_split(np.arange(movies), NETFLIX_FILES), start=1):
            with (folder / f"combined_data_{i}.txt").open("wb") as out:
                writer = _LineWriter(out, bad if i == 1 else {})
                ends = np.cumsum(counts[part])
                cuts_at = np.searchsorted(ends, np.arange(BLOCK, ends[-1], BLOCK))
                for block in np.split(part, np.unique(cuts_at)):
                    if len(block):
                        probe_hits += _movie_block(
                            writer,
                            probe,
                            block,
                            counts,
                            cdf,
                            ids,
                            quality,
                            bias,
                            cuts,
                            start,
                            span,
                            day_text,
                            rng,
                        )
                writer.close()
    years = np.clip(2005 - rng.exponential(15.0, movies).astype(int), 1915, 2005)
    titles = _titles(movies, years, rng, with_year=False)
    lines = [f"{m + 1},{'NULL' if m % 997 == 3 else years[m]},{t}" for m, t in enumerate(titles)]
    (folder / "movie_titles.csv").write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    manifest = Manifest(
        layout="netflix",
        ratings=ratings,
        users=customers,
        movies=movies,
        rated_movies=int((counts > 0).sum()),
        seed=seed,
        first_day=NETFLIX_FIRST.isoformat(),
        last_day=NETFLIX_LAST.isoformat(),
        probe_pairs=probe_hits,
        bad_lines=list(bad.values()),
    )
    manifest.save(folder / "manifest.json")
    return manifest


def _movie_block(
    writer, probe, block, counts, cdf, ids, quality, bias, cuts, start, span, day_text, rng
) -> int:
    """One block of movies: 'MovieID:' then its 'CustomerID,Rating,Date' lines."""
    local, customer = _distinct_draws(counts[block], cdf, rng)
    movie = block[local]
    n = len(movie)
    stars = _stars(quality[movie] + bias[customer] + 0.9 * rng.standard_normal(n), cuts) + 1
    day = start[customer] + (rng.random(n) * span[customer]).astype(np.int64)
    order = np.lexsort((day, movie))  # real files list a movie's ratings roughly by date
    movie, customer, stars, day = movie[order], customer[order], stars[order], day[order]
    buf, ends = _lines([ids[customer], stars.astype(np.int64), day_text[day]])
    sizes = counts[block]
    # Interleave the 'MovieID:' lines: one header then that movie's lines.
    headers = [f"{m + 1}:\n".encode() for m in block.tolist()]
    line_at = np.concatenate(([0], np.cumsum(sizes)))
    for k, header in enumerate(headers):
        writer.text(header)
        a, b = int(line_at[k]), int(line_at[k + 1])
        if b > a:
            base = int(ends[a - 1]) if a else 0
            writer.write(buf[base : int(ends[b - 1])], ends[a:b] - base)
    held = rng.random(n) < PROBE_SHARE
    keys = (movie[held].astype(np.int64) + 1) << 32 | ids[customer[held]]
    for m in np.unique(keys >> 32).tolist():
        chosen = keys[(keys >> 32) == m] & 0xFFFFFFFF
        probe.write(f"{m}:\n".encode() + b"".join(b"%d\n" % c for c in chosen.tolist()))
    return int(held.sum())
