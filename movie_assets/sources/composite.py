"""One reader made of several: each part of ``MovieSource`` served by the source that has it.

No live source has all four parts (TMDB has films, FRED has CPI, MovieLens has a
catalogue and ratings), so a source spec names a base reader and per-part
overrides, e.g. ``movielens,films=tmdb,cpi=fred``. A part the base lacks falls
back to the embedded reader. Links and tags carry MovieLens ids, so they come
from the catalogue's source (or from nowhere: the embedded reader has none).
Readers are built on first use, so a run that only needs CPI never opens a
ratings archive.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

from movie_assets.sources.base import MovieSource, Received, ratings_batches

PARTS = ("movies", "films", "ratings", "cpi", "links", "tags")
FALLBACK = "embedded"
CATALOGUE_IDS = ("links", "tags")  # parts keyed by the catalogue's movie ids


def parse_spec(spec: str, provides: dict[str, set[str]]) -> dict[str, str]:
    """Source name per part: 'movielens,films=tmdb' -> movies/ratings from movielens, ..."""
    tokens = [t.strip() for t in spec.split(",") if t.strip()]
    base = tokens[0] if tokens and "=" not in tokens[0] else FALLBACK
    chosen: dict[str, str] = {}
    for token in tokens:
        if "=" not in token:
            if token != base:
                raise ValueError(f"source spec {spec!r}: only the first item may be a bare name")
            continue
        part, name = (s.strip() for s in token.split("=", 1))
        if part not in PARTS:
            raise ValueError(f"source spec {spec!r}: unknown part {part!r}; parts are {PARTS}")
        chosen[part] = name
    for name in {base, *chosen.values()}:
        if name not in provides:
            raise ValueError(f"unknown source {name!r}; known: {sorted(provides)}")
    for part in PARTS:
        if part in chosen:
            if part not in provides[chosen[part]]:
                raise ValueError(f"source {chosen[part]!r} has no {part}")
        elif part not in CATALOGUE_IDS:
            chosen[part] = base if part in provides[base] else FALLBACK
    catalogue = chosen["movies"]
    for part in CATALOGUE_IDS:
        if part not in chosen:
            chosen[part] = catalogue if part in provides[catalogue] else FALLBACK
        elif chosen[part] not in (catalogue, FALLBACK):
            raise ValueError(
                f"source spec {spec!r}: {part} must come from the movies source "
                f"({catalogue!r}): their ids are its movie ids"
            )
    return chosen


class CompositeSource:
    """Delegates each part; ``name`` is the source that served the latest call (for ``source``)."""

    def __init__(self, spec: str, parts: dict[str, str], build: Callable[[str], MovieSource]):
        self.spec = spec
        self.parts = parts
        self._build = build
        self._readers: dict[str, MovieSource] = {}
        self.name = spec

    def _reader(self, part: str) -> MovieSource:
        source = self.parts[part]
        if source not in self._readers:
            self._readers[source] = self._build(source)
        self.name = self._readers[source].name
        return self._readers[source]

    def movies(self) -> Received:
        return self._reader("movies").movies()

    def films(self) -> Received:
        return self._reader("films").films()

    def ratings(self, first: date, last: date) -> Received:
        return self._reader("ratings").ratings(first, last)

    def ratings_batches(self, first: date, last: date) -> Iterator[Received]:
        return ratings_batches(self._reader("ratings"), first, last)

    def cpi(self) -> Received:
        return self._reader("cpi").cpi()

    def links(self) -> Received:
        return self._reader("links").links()

    def tags(self) -> Received:
        return self._reader("tags").tags()
