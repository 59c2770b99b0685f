"""Which reader runs: a Dagster resource, set from MOVIE_SOURCE and per-source variables.

``kind`` is a source spec: one name (``movielens``) or a base with per-part
overrides (``movielens,films=tmdb,cpi=fred``; see sources/composite.py). Paths,
URLs and limits are resource fields, so they show in the launchpad; secrets (the
TMDB key, the watch-log hashing key) are read from the environment by the
readers only and never become config, metadata or log text (docs/sources.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import chain

import dagster as dg
import pandas as pd
from pydantic import PrivateAttr

from movie_assets import point_in_time as pit
from movie_assets.partitions import day_of, run_day
from movie_assets.settings import Settings, partition_span
from movie_assets.sources.base import KnownOn, MovieSource, ratings_batches
from movie_assets.sources.composite import PARTS, CompositeSource, parse_spec
from movie_assets.sources.embedded import EmbeddedSource

# Each field of the resource, and the setting (environment variable) it comes from.
SETTING_OF = {
    "kind": "movie_source",
    "movielens": "movie_movielens",
    "kaggle": "movie_kaggle_metadata",
    "fred_cpi": "movie_fred_cpi",
    "watch_dir": "movie_watch_dir",
    "netflix": "movie_netflix_dir",
    "tmdb_url": "movie_tmdb_url",
    "tmdb_rate": "movie_tmdb_rate",
    "tmdb_workers": "movie_tmdb_workers",
    "tmdb_released_from": "movie_tmdb_released_from",
    "tmdb_retry_seconds": "movie_tmdb_retry_seconds",
    "tmdb_request_seconds": "movie_tmdb_request_seconds",
}
_DEFAULTS = Settings.model_fields


class SourceResource(dg.ConfigurableResource):
    """Chooses the reader(s) by name; downstream assets only see ``MovieSource``."""

    kind: str = "embedded"
    movielens: str = ""
    kaggle: str = ""
    fred_cpi: str = ""
    watch_dir: str = ""
    netflix: str = ""
    tmdb_url: str = _DEFAULTS["movie_tmdb_url"].default
    tmdb_rate: float = _DEFAULTS["movie_tmdb_rate"].default
    tmdb_workers: int = _DEFAULTS["movie_tmdb_workers"].default
    tmdb_released_from: str = ""
    tmdb_retry_seconds: float = _DEFAULTS["movie_tmdb_retry_seconds"].default
    tmdb_request_seconds: float = _DEFAULTS["movie_tmdb_request_seconds"].default

    _as_of: date | None = PrivateAttr(default=None)
    _first_seen: pd.Series | None = PrivateAttr(default=None)

    @classmethod
    def from_settings(cls, settings: Settings) -> SourceResource:
        """The sources the environment names (docs/sources.md): the code location's default."""
        return cls(**{field: getattr(settings, name) for field, name in SETTING_OF.items()})

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # A snapshot run is one day: the readers answer as of it (point_in_time), book their
        # rejects on it, and TMDB is asked about releases up to it.
        self._as_of = run_day(context.run.tags) if context.run is not None else None

    def reader(self) -> MovieSource:
        """The source as of the run's day; outside a one-day run, as it is now."""
        if self.kind == "embedded":
            plain: MovieSource = EmbeddedSource()
        else:
            parts = parse_spec(self.kind, PROVIDES)

            def build(name: str) -> MovieSource:
                return READERS[name].build(self, self._as_of)

            plain = CompositeSource(self.kind, parts, build)
        if self._as_of is None:
            return plain
        return KnownOn(plain, self._as_of, lambda: self.first_seen(plain))

    def first_seen(self, reader: MovieSource) -> pd.Series:
        """Each movie's first rating or tag in the partition span, read once per run.

        On the span's last day nothing in the span is later, so nothing is read: the
        build's newest day of a frozen source costs no pass over its ratings.
        """
        if self._first_seen is None:
            first, last = partition_span()
            last = last or datetime.now(UTC).date()
            if self._as_of is not None and self._as_of >= last:
                self._first_seen = pit.first_seen([])
            else:
                tags = reader.tags().rows
                in_span = tags[pd.to_numeric(tags["timestamp"]) < pit.end_of_day(last)]
                batches = ratings_batches(reader, first, last)
                self._first_seen = pit.first_seen(chain((b.rows for b in batches), [in_span]))
        return self._first_seen


def _movielens(cfg: SourceResource, as_of: date | None) -> MovieSource:
    from movie_assets.sources.movielens_files import MovieLensFiles

    return MovieLensFiles(cfg.movielens, as_of)


def _kaggle(cfg: SourceResource, as_of: date | None) -> MovieSource:
    from movie_assets.sources.kaggle import KaggleMetadata

    return KaggleMetadata(cfg.kaggle, as_of)


def _fred(cfg: SourceResource, as_of: date | None) -> MovieSource:
    from movie_assets.sources.fred import FredCpi

    return FredCpi(cfg.fred_cpi, as_of)


def _watch(cfg: SourceResource, as_of: date | None) -> MovieSource:
    from movie_assets.sources.watch_logs import WatchLogs

    return WatchLogs(cfg.watch_dir)


def _netflix(cfg: SourceResource, as_of: date | None) -> MovieSource:
    from movie_assets.sources.netflix import NetflixPrize

    return NetflixPrize(cfg.netflix, as_of)


def _tmdb(cfg: SourceResource, as_of: date | None) -> MovieSource:
    from movie_assets.sources.tmdb import TmdbSource
    from movie_assets.sources.tmdb_client import TmdbClient

    client = TmdbClient(
        cfg.tmdb_url,
        rate=cfg.tmdb_rate,
        retry_seconds=cfg.tmdb_retry_seconds,
        request_seconds=cfg.tmdb_request_seconds,
    )
    released_from = day_of(cfg.tmdb_released_from) if cfg.tmdb_released_from else None
    return TmdbSource(client, as_of=as_of, released_from=released_from, workers=cfg.tmdb_workers)


@dataclass(frozen=True)
class Reader:
    """How to build a source from the resource, and the parts of MovieSource it has."""

    build: Callable[[SourceResource, date | None], object]
    parts: frozenset[str]


# The one registry of sources: a part a source lacks comes from the embedded reader.
READERS: dict[str, Reader] = {
    "embedded": Reader(lambda cfg, as_of: EmbeddedSource(), frozenset(PARTS)),
    "movielens": Reader(_movielens, frozenset({"movies", "ratings", "links", "tags"})),
    "kaggle": Reader(_kaggle, frozenset({"films"})),
    "fred": Reader(_fred, frozenset({"cpi"})),
    "watch_logs": Reader(_watch, frozenset({"ratings"})),
    "netflix": Reader(_netflix, frozenset({"movies", "ratings"})),
    "tmdb": Reader(_tmdb, frozenset({"films"})),
}


class _Parts(Mapping):
    """Each source's parts, read from READERS (what parse_spec takes)."""

    def __getitem__(self, name: str) -> frozenset[str]:
        return READERS[name].parts

    def __iter__(self) -> Iterator[str]:
        return iter(READERS)

    def __len__(self) -> int:
        return len(READERS)


PROVIDES: Mapping[str, frozenset[str]] = _Parts()
