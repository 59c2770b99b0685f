"""MovieLens ratings.csv read by Spark itself, keeping the reject rules of docs/sources.md.

Spark's CSV reader in ``PERMISSIVE`` mode keeps a line it cannot parse whole, in
``columnNameOfCorruptRecord``; the reasons are then given the names the Python
readers use (ratings_parse.py, movielens_files.py). Two gaps of the reader are
closed here:

- It skips blank lines (empty, or only spaces) without a trace. Spark's text
  reader keeps them, so they are found per file and each one becomes a reject
  "blank line", as in the Python readers.
- It gives no line number (a distributed read has no line order, and Spark
  Connect has no ``zipWithIndex``). A reject carries its file, the byte offset
  of the split that read it (``_metadata.file_block_start``) and the line as
  received, never a line number.

Every line but the header therefore lands in exactly one of the two results:
raw = rows + rejects. ``in_window`` books them by day as ``ratings_parse``
does: a row on the day it was made, a reject on the day it names, on the span's
nearest end when that day is outside the span, on the first partition day when
it has no usable date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from movie_assets.sources import files, ratings_parse

COLUMNS = ["user_id", "movie_id", "rating", "timestamp"]
TYPES = ["BIGINT", "BIGINT", "DOUBLE", "BIGINT"]
# The file's own header names: Spark warns when the schema names differ from the header's.
HEADER = ["userId", "movieId", "rating", "timestamp"]
CORRUPT = "_corrupt_record"
# The Python readers' checks, in their order: the first that fails is the reason.
CHECKS = [
    ("timestamp", "BIGINT", "date unparseable"),
    ("user_id", "BIGINT", "user id not an integer"),
    ("movie_id", "BIGINT", "movie id not an integer"),
    ("rating", "DOUBLE", "rating not a number"),
]
BLANK = "blank line"
NUL = files.NUL  # checked first, as the Python readers do
DATE_MISSING = ratings_parse.DATE_MISSING
NO_LINE = "Spark gives no line number"


def lines(session, path: str):
    """Every line of every ratings.csv under ``path`` but the header, as one DataFrame.

    Columns: the four typed fields (null where they do not parse), file,
    block_start (byte offset of the split that read the line), raw (the line as
    received) and why (the reason a line is rejected; null for a good line).
    Cached: the window's rows, rejects and counts are several jobs over one parse.
    """
    from pyspark.sql import functions as F

    read = (
        session.read.schema(
            ", ".join(f"{h} {t}" for h, t in zip(HEADER, TYPES, strict=True))
            + f", {CORRUPT} STRING"
        )
        .options(header=True, mode="PERMISSIVE", columnNameOfCorruptRecord=CORRUPT)
        .csv(path)
        .select(
            *[F.col(h).alias(c) for h, c in zip(HEADER, COLUMNS, strict=True)],
            CORRUPT,
            F.col("_metadata.file_path").alias("file"),
            F.col("_metadata.file_block_start").cast("long").alias("block_start"),
        )
    )
    # An empty field parses as null, and "NaN" as a number: the Python readers reject both.
    bad = F.col(CORRUPT).isNotNull() | F.isnan("rating")
    for col in COLUMNS:
        bad = bad | F.col(col).isNull()
    text = F.coalesce(
        F.col(CORRUPT),
        F.concat_ws(",", *[F.coalesce(F.col(c).cast("string"), F.lit("")) for c in COLUMNS]),
    )
    fields = F.split(F.col("raw"), ",", -1)
    why = F.when(F.col("raw").contains("\u0000"), F.lit(NUL)).when(
        F.size(fields) != len(COLUMNS),
        F.format_string(
            f"%d fields, expected {len(COLUMNS)} (truncated or shifted line?)", F.size(fields)
        ),
    )
    why = why.when(F.trim(fields[COLUMNS.index("timestamp")]) == "", F.lit(DATE_MISSING))
    for col, sql_type, what in CHECKS:
        parsed = F.expr(f"try_cast(trim(split(raw, ',', -1)[{COLUMNS.index(col)}]) AS {sql_type})")
        fails = parsed.isNull() | F.isnan(parsed) if sql_type == "DOUBLE" else parsed.isNull()
        why = why.when(fails, what)
    # A line of empty fields (",,,") is blank to the Python readers, and kept as "".
    empty = F.lit(True)
    for at in range(len(COLUMNS)):
        empty = empty & (F.trim(fields[at]) == "")
    checked = (
        read.withColumn("raw", text)
        .withColumn(
            "why",
            F.when(~bad, F.lit(None).cast("string"))
            .when((F.size(fields) == len(COLUMNS)) & empty, F.lit(BLANK))
            .otherwise(why.otherwise(F.lit("unparseable"))),
        )
        .withColumn("raw", F.when(F.col("why") == BLANK, F.lit("")).otherwise(F.col("raw")))
        .select(*COLUMNS, "file", "block_start", "raw", "why")
    )
    text_lines = session.read.text(path).select(
        F.col("_metadata.file_path").alias("file"),
        F.col("_metadata.file_block_start").cast("long").alias("block_start"),
        F.col("value"),
    )
    blank = text_lines.filter(F.trim(F.col("value")) == "").select(
        *[F.lit(None).cast(t).alias(c) for c, t in zip(COLUMNS, TYPES, strict=True)],
        "file",
        "block_start",
        F.col("value").alias("raw"),
        F.lit(BLANK).alias("why"),
    )
    # Spark refuses a query on a CSV file that reads only the corrupt-record column.
    return checked.unionByName(blank).cache()


def read_ratings(session, path: str):
    """(rows, rejects) of every ratings.csv under ``path``, as Spark DataFrames.

    rows: user_id, movie_id, rating, timestamp, file. rejects: file, block_start
    (byte offset of the split that read the line), raw (the line as received),
    reason.
    """
    from pyspark.sql import functions as F

    read = lines(session, path)
    rows = read.filter(F.col("why").isNull()).select(*COLUMNS, "file")
    rejects = read.filter(F.col("why").isNotNull()).select(
        "file", "block_start", "raw", F.concat("why", F.lit(f" ({NO_LINE})")).alias("reason")
    )
    return rows, rejects


def _epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def in_window(
    read,
    label: str,
    first: date,
    last: date,
    span: tuple[date, date | None],
    undated_day: date,
):
    """(rows, rejects) of ``lines`` booked on days first..last, by ratings_parse's rules.

    rows: the four fields and rating_date (the UTC day the rating was made).
    rejects: partition_date (the day the reject is booked on), raw, reason (``label``,
    the split offset in place of the line number, then the reason, as the Python
    readers word it), kind (the reason alone).
    """
    from pyspark.sql import functions as F

    span_first, span_last = span
    four = F.size(F.split(F.col("raw"), ",", -1)) == len(COLUMNS)
    stamp = F.when(F.col("why").isNull(), F.col("timestamp")).when(
        four & (F.col("why") != BLANK), F.expr("try_cast(trim(split(raw, ',', -1)[3]) AS BIGINT)")
    )
    before = stamp < _epoch(span_first)
    after = stamp >= _epoch(span_last + timedelta(days=1)) if span_last else F.lit(False)
    kind = F.coalesce(
        F.col("why"),
        F.when(before, F.lit(f"dated before the first partition ({span_first})")),
        F.when(after, F.lit(f"dated after the last partition ({span_last})")),
    )
    booked = (
        F.when(stamp.isNull(), F.lit(undated_day))
        .when(before, F.lit(span_first))
        .when(after, F.lit(span_last))
        .otherwise(F.to_date(F.timestamp_seconds(stamp)))
    )
    dated = read.withColumn("kind", kind).withColumn("booked", booked)
    rows = dated.filter(
        F.col("kind").isNull()
        & F.col("timestamp").between(_epoch(first), _epoch(last + timedelta(days=1)) - 1)
    ).select(*COLUMNS, F.to_date(F.timestamp_seconds("timestamp")).alias("rating_date"))
    where = F.concat(
        F.lit(f"{label} split at byte "), F.col("block_start"), F.lit(f" ({NO_LINE}): ")
    )
    rejects = dated.filter(F.col("kind").isNotNull() & F.col("booked").between(first, last)).select(
        F.col("booked").alias("partition_date"),
        "raw",
        F.concat(where, F.col("kind")).alias("reason"),
        "kind",
    )
    return rows, rejects
