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
raw = rows + rejects.
"""

from __future__ import annotations

COLUMNS = ["user_id", "movie_id", "rating", "timestamp"]
SCHEMA = "user_id BIGINT, movie_id BIGINT, rating DOUBLE, timestamp BIGINT"
CORRUPT = "_corrupt_record"
# The Python readers' checks, in their order: the first that fails is the reason.
CHECKS = [
    ("timestamp", "BIGINT", "date unparseable"),
    ("user_id", "BIGINT", "user id not an integer"),
    ("movie_id", "BIGINT", "movie id not an integer"),
    ("rating", "DOUBLE", "rating not a number"),
]
NO_LINE = "Spark gives no line number"


def read_ratings(session, path: str):
    """(rows, rejects) of every ratings.csv under ``path``, as Spark DataFrames.

    rows: user_id, movie_id, rating, timestamp, file. rejects: file, block_start
    (byte offset of the split that read the line; None for blank lines), raw (the
    line as received), reason.
    """
    from pyspark.sql import functions as F

    read = (
        session.read.schema(f"{SCHEMA}, {CORRUPT} STRING")
        .options(header=True, mode="PERMISSIVE", columnNameOfCorruptRecord=CORRUPT)
        .csv(path)
        .select(
            *COLUMNS,
            CORRUPT,
            F.col("_metadata.file_path").alias("file"),
            F.col("_metadata.file_block_start").alias("block_start"),
        )
        # Spark refuses a query on a CSV file that reads only the corrupt-record column.
        .cache()
    )
    empty = F.lit(False)
    for col in COLUMNS:  # an empty field parses as null, not as a corrupt record
        empty = empty | F.col(col).isNull()
    bad = F.col(CORRUPT).isNotNull() | empty
    rows = read.filter(~bad).select(*COLUMNS, "file")
    raw = F.coalesce(
        F.col(CORRUPT),
        F.concat_ws(",", *[F.coalesce(F.col(c).cast("string"), F.lit("")) for c in COLUMNS]),
    )
    fields = F.split(raw, ",", -1)
    reason = F.when(
        F.size(fields) != len(COLUMNS),
        F.format_string(
            f"%d fields, expected {len(COLUMNS)} (truncated or shifted line?)", F.size(fields)
        ),
    )
    for col, sql_type, what in CHECKS:
        at = COLUMNS.index(col)
        parsed = F.expr(f"try_cast(trim(split(_raw, ',', -1)[{at}]) AS {sql_type})")
        reason = reason.when(parsed.isNull(), F.lit(what))
    rejected = (
        read.filter(bad)
        .withColumn("_raw", raw)
        .select(
            "file",
            F.col("block_start").cast("long").alias("block_start"),
            F.col("_raw").alias("raw"),
            F.concat(reason.otherwise(F.lit("unparseable")), F.lit(f" ({NO_LINE})")).alias(
                "reason"
            ),
        )
    )
    lines = session.read.text(path).select(
        F.col("_metadata.file_path").alias("file"), F.col("value")
    )
    blank = lines.filter(F.trim(F.col("value")) == "").select(
        "file",
        F.lit(None).cast("long").alias("block_start"),
        F.col("value").alias("raw"),
        F.lit(f"blank line ({NO_LINE})").alias("reason"),
    )
    return rows, rejected.unionByName(blank)
