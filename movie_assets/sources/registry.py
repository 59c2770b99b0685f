"""Which reader runs: a Dagster resource, set from MOVIE_SOURCE by default."""

from __future__ import annotations

import os

import dagster as dg

from movie_assets.sources.base import MovieSource
from movie_assets.sources.embedded import EmbeddedSource

READERS = {"embedded": EmbeddedSource}


class SourceResource(dg.ConfigurableResource):
    """Chooses the reader by name; downstream assets only see ``MovieSource``."""

    kind: str = os.environ.get("MOVIE_SOURCE", "embedded")

    def reader(self) -> MovieSource:
        try:
            return READERS[self.kind]()
        except KeyError:
            raise ValueError(f"unknown source {self.kind!r}; known: {sorted(READERS)}") from None
