"""Raw to clean: pure functions, DataFrame in, (clean, rejected) out.

Every raw row ends up in exactly one of the two outputs, so the counts
reconcile: raw = clean + rejected.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir
import pandas as pd

from movie_assets import engine
from movie_assets.clean.titles import display_title, match_key, split_year
from movie_assets.schemas import quarantine

NO_GENRES = "(no genres listed)"
RATING_SCALE = (0.5, 5.0)
STARS_REASON = "rating not in 0.5..5 in half stars"
# A rejected rating's fields as received (the raw_ratings columns less ingested_at).
RAW_RATING_FIELDS = ("user_id", "movie_id", "rating", "timestamp", "rating_date", "source")


def _split(frame: pd.DataFrame, bad: pd.Series, reasons: pd.Series, source: str, day):
    """Good rows, and the bad ones as rejects carrying their reason."""
    rejected = frame[bad]
    rejects = quarantine(rejected, reasons[bad].reset_index(drop=True), source, day)
    return frame[~bad].copy(), rejects


def _first_reason(checks: list[tuple[pd.Series, str]], index: pd.Index) -> pd.Series:
    """The first failing rule's reason per row, or NA where every rule passed."""
    reason = pd.Series(pd.NA, index=index, dtype="string")
    for failed, text in checks:
        reason = reason.mask(reason.isna() & failed.fillna(True), text)
    return reason


def clean_movies(raw: pd.DataFrame, as_of: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    title = raw["title"].astype("string")
    parsed = title.fillna("").map(split_year)
    year = pd.to_numeric(raw["year"], errors="coerce")
    year = year.fillna(parsed.map(lambda p: p[1]).astype("Float64"))
    duplicate = raw["movie_id"].duplicated(keep="first")
    reason = _first_reason(
        [
            (title.isna() | (title.str.strip() == ""), "title missing"),
            (duplicate, "duplicate movie_id"),
            (year.notna() & ((year < 1870) | (year > 2100) | (year % 1 != 0)), "year out of range"),
        ],
        raw.index,
    )
    good, rejects = _split(
        raw, reason.notna(), reason, raw["source"].iloc[0] if len(raw) else "", as_of
    )
    genres = good["genres"].fillna("").replace(NO_GENRES, "")
    movies = pd.DataFrame(
        {
            "as_of": pd.Timestamp(as_of),
            "movie_id": good["movie_id"],
            "title": parsed[good.index].map(lambda p: display_title(p[0])),
            "year": year[good.index].astype("Int64"),
            "genres": genres,
        }
    )
    return movies.reset_index(drop=True), rejects


def normalize_genres(movies: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """genres(genre_id, genre) numbered alphabetically, and the movie-to-genre pairs."""
    as_of = movies["as_of"].iloc[0] if len(movies) else pd.NaT
    pairs = (
        movies[["movie_id", "genres"]]
        .assign(genre=movies["genres"].str.split("|"))
        .explode("genre")
    )
    pairs = pairs[pairs["genre"].notna() & (pairs["genre"] != "")]
    names = sorted(pairs["genre"].unique())
    genres = pd.DataFrame({"as_of": as_of, "genre_id": range(1, len(names) + 1), "genre": names})
    ids = dict(zip(names, genres["genre_id"], strict=True))
    movie_genres = pd.DataFrame(
        {"as_of": as_of, "movie_id": pairs["movie_id"], "genre_id": pairs["genre"].map(ids)}
    ).drop_duplicates(["movie_id", "genre_id"])
    return genres, movie_genres.reset_index(drop=True)


def clean_films(raw: pd.DataFrame, as_of: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    released = pd.to_datetime(raw["released"], errors="coerce", format="%Y-%m-%d")
    title = raw["title"].astype("string")
    reason = _first_reason(
        [
            (title.isna() | (title.str.strip() == ""), "title missing"),
            (raw["film_id"].duplicated(keep="first"), "duplicate film_id"),
            (
                raw["released"].notna() & (raw["released"] != "") & released.isna(),
                "release date unparseable",
            ),
        ],
        raw.index,
    )
    good, rejects = _split(
        raw, reason.notna(), reason, raw["source"].iloc[0] if len(raw) else "", as_of
    )

    def positive(col: str) -> pd.Series:
        values = pd.to_numeric(good[col], errors="coerce")
        return values.where(values > 0)  # 0 means unknown in every film source we read

    films = pd.DataFrame(
        {
            "as_of": pd.Timestamp(as_of),
            "film_id": good["film_id"],
            "imdb_id": good["imdb_id"],
            "tmdb_id": good["tmdb_id"],
            "title": good["title"].str.strip(),
            "year": pd.to_numeric(good["year"], errors="coerce").astype("Int64"),
            "release_date": released[good.index],
            "runtime_min": positive("runtime"),
            "genres": good["genre"].fillna("").str.replace(", ", "|"),
            "language": good["language"],
            "country": good["country"],
            "director": good["director"],
            "metacritic": good["metacritic"],
            "tomato_meter": good["tomato_meter"],
            "box_office_usd": positive("box_office"),
            "budget_usd": positive("budget"),
            "popularity": pd.to_numeric(good["popularity"], errors="coerce"),
            # TMDB reports 0 votes with an average of 0: no votes means no average.
            "vote_average": pd.to_numeric(good["vote_average"], errors="coerce").where(
                pd.to_numeric(good["vote_count"], errors="coerce") > 0
            ),
            "vote_count": pd.to_numeric(good["vote_count"], errors="coerce").astype("Int64"),
            "production_companies": good["production_companies"].fillna("").str.replace(", ", "|"),
        }
    )
    return films.reset_index(drop=True), rejects


def _one_to_one(left: pd.DataFrame, right: pd.DataFrame, on: list[str]) -> pd.DataFrame:
    """Pairs whose key is held by exactly one movie and one film; shared keys are ambiguous."""
    left = left.dropna(subset=on).drop_duplicates(on, keep=False)
    right = right.dropna(subset=on).drop_duplicates(on, keep=False)
    return left.merge(right, on=on, how="inner")


def link_films(movies: pd.DataFrame, films: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """MovieLens movie to film: through links.csv ids first, then on title and release year.

    ``links`` (raw_links) carries each MovieLens id's TMDB and IMDb ids; a MovieLens id
    is never compared with a TMDB id. Each step only sees the movies and films no
    earlier step linked, and keeps one-to-one matches only: a key shared by two films
    (or two movies) is ambiguous, and a wrong link would put another film's box office
    on a movie.
    """
    as_of = movies["as_of"].iloc[0] if len(movies) else pd.NaT
    ids = links[links["movie_id"].isin(movies["movie_id"])]
    ids = ids.drop_duplicates("movie_id", keep=False)  # one movie, two link rows: ambiguous
    steps = [
        ("tmdb_id", ids[["movie_id", "tmdb_id"]], films[["film_id", "tmdb_id"]]),
        ("imdb_id", ids[["movie_id", "imdb_id"]], films[["film_id", "imdb_id"]]),
        (
            "title_year",
            pd.DataFrame(
                {
                    "movie_id": movies["movie_id"],
                    "title": movies["title"].map(match_key),
                    "year": movies["year"],
                }
            ),
            pd.DataFrame(
                {
                    "film_id": films["film_id"],
                    "title": films["title"].map(match_key),
                    "year": films["year"],
                }
            ),
        ),
    ]
    found = []
    for method, left, right in steps:
        on = [c for c in left.columns if c != "movie_id"]
        linked_movies = {m for f in found for m in f["movie_id"]}
        linked_films = {m for f in found for m in f["film_id"]}
        pairs = _one_to_one(
            left[~left["movie_id"].isin(linked_movies)],
            right[~right["film_id"].isin(linked_films)],
            on,
        )
        keys = pairs[on].astype("string")
        if method == "tmdb_id":
            key = "tmdb:" + keys["tmdb_id"]
        elif method == "imdb_id":
            key = keys["imdb_id"]
        else:
            key = keys["title"] + "|" + pairs["year"].astype("Int64").astype("string")
        found.append(
            pd.DataFrame(
                {
                    "movie_id": pairs["movie_id"],
                    "film_id": pairs["film_id"],
                    "method": method,
                    "match_key": key,
                }
            )
        )
    return (
        pd.concat(found, ignore_index=True)
        .assign(as_of=as_of)
        .sort_values("movie_id", ignore_index=True)
    )


SUPERSEDED = "superseded by a later rating of the same movie by the same user"


def clean_ratings(
    raw: ir.Table, movies: ir.Table, as_of: date, source: str = "raw_ratings"
) -> tuple[ir.Table, ir.Table]:
    """Typed ratings as of a day: valid stars, known movies, the latest per user and movie.

    An engine expression (it runs over every rating ever received). Validity comes
    first: only valid ratings compete for "latest", so a later out-of-range re-rating
    never discards the user's earlier valid one. Equal timestamps are ordered by
    rating, so the choice does not depend on storage order.
    """
    # "Known movie" as a left join, not isin(movies): Spark plans an IN subquery inside
    # CASE as a nested-loop join over ratings x movies (13 minutes at 1.1M ratings).
    known = movies.select("movie_id").distinct().mutate(known=ibis.literal(True))
    joined = raw.left_join(known, "movie_id")
    joined = joined.select(*[joined[c] for c in raw.columns], joined.known)
    rating = joined.rating
    reason = ibis.cases(
        (rating.isnull(), "rating missing"),
        (~(rating.between(*RATING_SCALE) & ((rating * 2).round() == rating * 2)), STARS_REASON),
        (joined.known.isnull(), "movie not in movies"),
        else_=ibis.null("string"),
    )
    marked = joined.mutate(reason=reason).drop("known")
    latest_first = ibis.window(
        group_by=["user_id", "movie_id"], order_by=[ibis.desc("timestamp"), ibis.desc("rating")]
    )
    valid = marked.filter(marked.reason.isnull()).mutate(newer=ibis.row_number().over(latest_first))
    kept = valid.filter(valid.newer == 0)
    invalid = marked.filter(marked.reason.notnull()).select(*RAW_RATING_FIELDS, "reason")
    superseded = valid.filter(valid.newer > 0).mutate(reason=ibis.literal(SUPERSEDED))
    rejected = invalid.union(superseded.select(*RAW_RATING_FIELDS, "reason"))
    rejects = rejected.select(
        partition_date=ibis.literal(as_of),
        source=ibis.literal(source),
        raw=engine.json_text({f: rejected[f] for f in RAW_RATING_FIELDS}),
        reason=rejected.reason,
    )
    rated_at = kept.timestamp.as_timestamp("s")
    ratings = kept.select(
        as_of=ibis.literal(as_of),
        user_id=kept.user_id,
        movie_id=kept.movie_id,
        rating=kept.rating,
        rated_at=rated_at,
        rating_date=rated_at.date(),
    )
    return ratings, rejects


def clean_tags(
    raw: pd.DataFrame, movie_ids: pd.Series, as_of: date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tags on known movies, once per user, movie and tag (case and spacing ignored)."""
    tag = raw["tag"].astype("string").str.strip()
    key = tag.str.lower().str.split().str.join(" ")
    order = raw.sort_values("timestamp", kind="stable").index
    repeated = pd.Series(False, index=raw.index)
    repeated[order] = (
        raw.loc[order].assign(key=key[order]).duplicated(["user_id", "movie_id", "key"]).to_numpy()
    )
    reason = _first_reason(
        [
            (tag.isna() | (tag == ""), "tag empty"),
            (~raw["movie_id"].isin(movie_ids), "movie not in movies"),
            (repeated, "same tag by the same user on the same movie earlier"),
        ],
        raw.index,
    )
    good, rejects = _split(
        raw, reason.notna(), reason, raw["source"].iloc[0] if len(raw) else "", as_of
    )
    tags = pd.DataFrame(
        {
            "as_of": pd.Timestamp(as_of),
            "user_id": good["user_id"],
            "movie_id": good["movie_id"],
            "tag": tag[good.index],
            "tag_key": key[good.index],
            "tagged_at": pd.to_datetime(good["timestamp"], unit="s"),
        }
    )
    return tags.reset_index(drop=True), rejects


def clean_cpi(raw: pd.DataFrame, as_of: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Monthly observations; a missing value (FRED's '.') is quarantined, not guessed."""
    value = pd.to_numeric(raw["value"], errors="coerce")
    month_no = pd.to_numeric(raw["period"].str.removeprefix("M"), errors="coerce")
    reason = _first_reason(
        [
            (value.isna() | (value <= 0), "CPI value missing"),
            (~month_no.between(1, 12), "period is not a month"),
            (raw.duplicated(["series_id", "year", "period"], keep="first"), "duplicate month"),
        ],
        raw.index,
    )
    good, rejects = _split(
        raw, reason.notna(), reason, raw["source"].iloc[0] if len(raw) else "", as_of
    )
    month = (
        pd.to_datetime(
            {"year": good["year"].astype(int), "month": month_no[good.index].astype(int), "day": 1}
        )
        if len(good)
        else pd.Series(dtype="datetime64[ns]")
    )
    cpi = pd.DataFrame(
        {
            "as_of": pd.Timestamp(as_of),
            "series_id": good["series_id"],
            "month": month,
            "value": value[good.index],
        }
    )
    return cpi.sort_values(["series_id", "month"], ignore_index=True), rejects
