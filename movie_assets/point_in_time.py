"""What could be known on day D: one rule per kind of row, all in this module.

A row is left out of the state as of D only when its own date places it after D: a tag
made after D, a film released after D, a CPI month published after D, a catalogue entry
first rated or tagged after D. A row without a date is kept: nothing places it after D,
and a malformed row must still reach the cleaner, which books it in ``rejects``.
Ratings need no rule here: ``raw_ratings`` is partitioned by the day each was made.
docs/partitions.md states the rules per source.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pandas as pd

# BLS publishes CPI-U for month M in the middle of month M+1; a month counts from the 15th.
CPI_PUBLISHED_DAY = 15
# A film's box office, audience votes and popularity accumulate after its release, and no
# film source says when its figure was reported: they count from a year after release.
FILM_FIGURES = ("box_office", "vote_average", "vote_count", "popularity")
FILM_FIGURES_LAG = pd.DateOffset(years=1)


def end_of_day(day: date) -> int:
    """Epoch seconds of the midnight (UTC) that ends ``day``: known means earlier than this."""
    return int((pd.Timestamp(day, tz="UTC") + pd.Timedelta(days=1)).timestamp())


def cpi_published(year: pd.Series, period: pd.Series) -> pd.Series:
    """The day CPI for (year, 'Mnn') is published; NaT when the month cannot be read."""
    month = pd.to_numeric(period.astype("string").str.removeprefix("M"), errors="coerce")
    stamp = pd.to_datetime(
        pd.to_numeric(year, errors="coerce").astype("Int64").astype("string")
        + "-"
        + month.astype("Int64").astype("string").str.zfill(2)
        + "-01",
        format="%Y-%m-%d",
        errors="coerce",
    )
    return stamp + pd.DateOffset(months=1, days=CPI_PUBLISHED_DAY - 1)


def cpi_known(rows: pd.DataFrame, day: date) -> pd.DataFrame:
    """CPI observations (series_id, year, period, value) published on or before ``day``."""
    later = cpi_published(rows["year"], rows["period"]) > pd.Timestamp(day)
    return rows[~later].reset_index(drop=True)


def released(films: pd.DataFrame) -> pd.Series:
    """A film's release day; without one, January 1 of its year (the earliest it can be)."""
    day = pd.to_datetime(films["released"], format="%Y-%m-%d", errors="coerce")
    year = pd.to_numeric(films["year"], errors="coerce").astype("Int64").astype("string")
    return day.fillna(pd.to_datetime(year + "-01-01", format="%Y-%m-%d", errors="coerce"))


def films_known(rows: pd.DataFrame, day: date) -> pd.DataFrame:
    """Films released on or before ``day``; figures that accumulate after release, blank
    until a year after it."""
    release = released(rows)
    known = rows[~(release > pd.Timestamp(day))].copy()
    too_soon = release[known.index] + FILM_FIGURES_LAG > pd.Timestamp(day)
    for column in FILM_FIGURES:
        if column in known.columns:
            known[column] = known[column].mask(too_soon)
    return known.reset_index(drop=True)


def tags_known(rows: pd.DataFrame, day: date) -> pd.DataFrame:
    """Tags (user_id, movie_id, tag, timestamp) made on or before ``day``."""
    later = pd.to_numeric(rows["timestamp"], errors="coerce") >= end_of_day(day)
    return rows[~later].reset_index(drop=True)


def first_seen(dated: Iterable[pd.DataFrame]) -> pd.Series:
    """Epoch seconds of each movie's first rating or tag, from frames of (movie_id, timestamp).

    A catalogue without an added date (MovieLens, Netflix) lists a movie once something
    refers to it: MovieLens releases hold only movies with at least one rating or tag.
    """
    firsts = [
        frame[["movie_id", "timestamp"]]
        .apply(pd.to_numeric, errors="coerce")
        .dropna()
        .groupby("movie_id")["timestamp"]
        .min()
        for frame in dated
        if len(frame)
    ]
    if not firsts:
        return pd.Series(dtype="int64", name="timestamp")
    return pd.concat(firsts).groupby(level=0).min()


def catalogue_known(rows: pd.DataFrame, seen: pd.Series, day: date) -> pd.DataFrame:
    """Catalogue rows (movies or links) whose movie was first rated or tagged by ``day``.

    A movie nothing refers to has no date and is kept.
    """
    ids = pd.to_numeric(rows["movie_id"], errors="coerce")
    later = ids.map(seen) >= end_of_day(day)
    return rows[~later.fillna(False).astype(bool)].reset_index(drop=True)
