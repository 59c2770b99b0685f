"""Scale figures on generated archives: the build, a new day, the relational steps, ALS.

Prints figures, never asserts them (docs/scale.md). Every heavy piece runs in a fresh
child process whose peak RSS is the whole process tree's (psutil, summed over the child
and its descendants every 0.2 s), so a JVM or a worker pool counts too.

    python benchmarks/scale.py generate --sizes 1M 5M [--format netflix]
    python benchmarks/scale.py build --size 1M [--format netflix] [--repeat 3]
    python benchmarks/scale.py daily --size 1M [--repeat 3]
    python benchmarks/scale.py compare --size 1M [--repeat 3] [--no-spark]
    python benchmarks/scale.py als --size 1M [--repeat 3] [--no-spark]
    python benchmarks/scale.py all --size 1M

Archives are cached in the work dir (default .data/scale) by format, size and seed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make the benchmarks package importable
    sys.path.insert(0, str(ROOT))
from benchmarks.archives import Manifest, movielens_zip, netflix_folder  # noqa: E402

BIN = Path(sys.executable).parent
POLL_SECONDS = 0.2
# The asset steps the issue compares with a plain SQL script and with PySpark.
RELATIONAL_STEPS = ["ratings", "movie_features", "genre_daily", "viewing_hourly", "trending"]
MIN_VOTES = 10  # features.transforms.DEFAULT_MIN_VOTES
TARGETS = {  # issue 13, for reading the figures; nothing here is asserted
    "build": "≤ 3 min and ≤ 3 GB at 1M; ≤ 15 min (stretch 8) and ≤ 6 GB at 25M; "
    "≤ 60 min and ≤ 10 GB at 100M (Netflix)",
    "daily": "≤ 2 min at 25M",
    "compare": "product ≤ 1.5× the DuckDB script; PySpark ≥ 3× the product",
}


# --- sizes and archives ---------------------------------------------------------------------


def parse_size(text: str) -> int:
    """'300k', '1M', '25M', '1e6' or '1000000' as a number of ratings."""
    match = re.fullmatch(r"([\d.e+]+)\s*([kKmM]?)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}")
    scale = {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2).lower()]
    return int(float(match.group(1)) * scale)


def label(size: int) -> str:
    for unit, div in (("M", 1_000_000), ("k", 1_000)):
        if size >= div and size % (div // 10 or 1) == 0:
            return f"{size / div:g}{unit}"
    return str(size)


def archive(workdir: Path, fmt: str, size: int, seed: int) -> tuple[Path, Manifest]:
    """The cached archive for format, size and seed; generated (and timed) when missing."""
    workdir.mkdir(parents=True, exist_ok=True)
    if fmt == "movielens":
        path = workdir / f"ml-25m-{label(size)}-s{seed}.zip"
        manifest_path = path.with_name(path.name + ".json")
    else:
        path = workdir / f"netflix-{label(size)}-s{seed}"
        manifest_path = path / "manifest.json"
    if manifest_path.exists():
        return path, Manifest.load(manifest_path)
    started = time.perf_counter()
    if fmt == "movielens":
        manifest = movielens_zip(path, size, seed)
    else:
        shutil.rmtree(path, ignore_errors=True)
        manifest = netflix_folder(path, size, seed)
    seconds = time.perf_counter() - started
    print(
        f"generated {path.name}: {size:,} ratings, {manifest.users:,} users, "
        f"{manifest.movies:,} movies ({manifest.rated_movies:,} rated), {manifest.tags:,} tags "
        f"in {seconds:.1f} s (benchmarks/archives.py, seed {seed})"
    )
    return path, manifest


def extracted(path: Path) -> tuple[Path, Path]:
    """ratings.csv and movies.csv unpacked next to the zip (DuckDB and Spark read no zip)."""
    folder = path.with_suffix("")
    ratings, movies = folder / "ratings.csv", folder / "movies.csv"
    if not ratings.exists():
        started = time.perf_counter()
        folder.mkdir(exist_ok=True)
        with zipfile.ZipFile(path) as zipped:
            for name in zipped.namelist():
                if name.endswith(("/ratings.csv", "/movies.csv")):
                    with zipped.open(name) as src, (folder / Path(name).name).open("wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
        print(f"unzipped ratings.csv and movies.csv in {time.perf_counter() - started:.1f} s")
    return ratings, movies


# --- measuring a process tree ---------------------------------------------------------------


@dataclass
class Measured:
    seconds: float
    peak_mb: float
    code: int
    output: str


def run_tree(command: list[str], env: dict[str, str], log: Path) -> Measured:
    """Runs command, polling the RSS of it and all its descendants; stdout is returned."""
    import psutil

    with log.open("w") as errors:
        started = time.perf_counter()
        child = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True
        )
        tree, peak = psutil.Process(child.pid), 0
        output: list[str] = []
        reader = _drain(child.stdout, output)
        while child.poll() is None:
            rss = 0
            try:
                for proc in [tree, *tree.children(recursive=True)]:
                    try:
                        rss += proc.memory_info().rss
                    except psutil.Error:
                        pass
            except psutil.Error:
                pass
            peak = max(peak, rss)
            time.sleep(POLL_SECONDS)
        seconds = time.perf_counter() - started
        reader.join()
    return Measured(seconds, peak / 2**20, child.returncode, "".join(output))


def _drain(stream, into: list[str]):
    """Reads the child's stdout on a thread, so a full pipe never stalls it."""
    import threading

    thread = threading.Thread(target=lambda: into.extend(stream), daemon=True)
    thread.start()
    return thread


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOVIE_", "DAGSTER_HOME"))}
    env.update(extra)
    return env


def child_json(measured: Measured, what: str, log: Path) -> dict:
    """The last stdout line of a helper child, as JSON; exits with the log on failure."""
    if measured.code != 0:
        sys.exit(f"{what} failed (exit {measured.code}); see {log}")
    return json.loads(measured.output.strip().splitlines()[-1])


# --- the product build ----------------------------------------------------------------------


@dataclass
class Build:
    seconds: float
    peak_mb: float
    ok: bool
    steps: dict[str, float] = field(default_factory=dict)  # step key -> seconds, all runs
    runs: list[tuple[str, float]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def fresh_state(state: Path) -> None:
    """An empty Dagster home holding the repository's dagster.yaml; no warehouse yet."""
    home = state / "dagster_home"
    home.mkdir(parents=True)
    shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")


def product_env(fmt: str, path: Path, manifest: Manifest, state: Path) -> dict[str, str]:
    """The product's settings: the archive, its span, and every path inside state."""
    home = state / "dagster_home"
    end = date.fromisoformat(manifest.last_day) + timedelta(days=1)
    source = {"MOVIE_MOVIELENS": str(path)} if fmt == "movielens" else {}
    source = source or {"MOVIE_NETFLIX_DIR": str(path)}
    return child_env(
        MOVIE_SOURCE=fmt,
        MOVIE_PARTITIONS_START=manifest.first_day,
        MOVIE_PARTITIONS_END=end.isoformat(),
        MOVIE_WAREHOUSE=str(state / "warehouse.duckdb"),
        MOVIE_DATA_DIR=str(state / "data"),
        DAGSTER_HOME=str(home),
        **source,
    )


def step_seconds(home: Path, run_ids: set[str] | None = None) -> dict[str, dict[str, float]]:
    """Each run's step durations from the instance's event log (public DagsterInstance API)."""
    import dagster as dg

    saved = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)  # dagster.yaml reads its base_dir from it
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            out = {}
            for record in reversed(instance.get_run_records()):
                run = record.dagster_run
                if run_ids is not None and run.run_id not in run_ids:
                    continue
                out[run.run_id] = {
                    s.step_key: (s.end_time or s.start_time or 0) - (s.start_time or 0)
                    for s in instance.get_run_step_stats(run.run_id)
                }
            return out
    finally:
        if saved is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = saved


def run_build(fmt: str, path: Path, manifest: Manifest, state: Path, end: str | None = None):
    """`movie-analytics build` from a clean state in a child process."""
    fresh_state(state)
    env = product_env(fmt, path, manifest, state)
    command = [str(BIN / "movie-analytics"), "build"] + (["--end", end] if end else [])
    log = state / "build.log"
    measured = run_tree(command, env, log)
    (state / "build.out").write_text(measured.output)
    steps: dict[str, float] = {}
    for run in step_seconds(state / "dagster_home").values():
        for key, seconds in run.items():
            steps[key] = steps.get(key, 0.0) + seconds
    runs = [
        (m.group(2), float(m.group(3)))
        for m in re.finditer(r"^(ok  |FAIL) (.+) \(([\d.]+) s\)$", measured.output, re.M)
    ]
    failed = re.findall(r"^FAIL (.+)$", measured.output, re.M)
    ok = measured.code == 0 and "build succeeded" in measured.output
    if not ok:
        print(f"  build failed (exit {measured.code}): {failed or 'see ' + str(log)}")
    return Build(measured.seconds, measured.peak_mb, ok, steps, runs, failed)


def print_build(build: Build, what: str) -> None:
    print(
        f"{what}: {build.seconds:.1f} s wall, peak RSS {build.peak_mb:,.0f} MB "
        f"(movie-analytics build, process tree), {'succeeded' if build.ok else 'FAILED'}"
    )
    for name, seconds in build.runs:
        print(f"    run {name}: {seconds:.1f} s (as the build reports it)")
    inside = sum(build.steps.values())
    print(
        f"    Dagster step durations (instance event log): {inside:.1f} s in steps, "
        f"{build.seconds - inside:.1f} s outside (process start, imports, Dagster's own work)"
    )
    for key, seconds in sorted(build.steps.items(), key=lambda kv: -kv[1]):
        print(f"      {key:<32} {seconds:8.1f} s")


def cmd_build(args) -> list[Build]:
    path, manifest = archive(args.workdir, args.format, args.size, args.seed)
    builds = []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory(dir=args.workdir, prefix="build-") as tmp:
            builds.append(run_build(args.format, path, manifest, Path(tmp)))
        print_build(builds[-1], f"build {i + 1}/{args.repeat} of {path.name}")
    if args.repeat > 1:
        print(
            f"median of {args.repeat} builds: {statistics.median(b.seconds for b in builds):.1f} s,"
            f" peak RSS {statistics.median(b.peak_mb for b in builds):,.0f} MB"
        )
    print(f"  (targets: {TARGETS['build']})")
    return builds


# --- a new day ------------------------------------------------------------------------------


def daily_child(day: str) -> None:
    """The daily job `movie_graph` for one partition, in process, as the schedule would run it."""
    import warnings

    warnings.simplefilter("ignore")
    import dagster as dg

    from movie_assets.build import QUIET
    from movie_assets.definitions import defs

    with dg.DagsterInstance.get() as instance:
        started = time.perf_counter()
        result = defs.resolve_job_def("movie_graph").execute_in_process(
            instance=instance, partition_key=day, run_config=QUIET, raise_on_error=False
        )
        seconds = time.perf_counter() - started
    failed = [
        f"{e.asset_key.to_user_string()}:{e.check_name}"
        for e in result.get_asset_check_evaluations()
        if not e.passed
    ]
    print(
        json.dumps(
            {
                "ok": result.success,
                "seconds": seconds,
                "run_id": result.run_id,
                "failed_checks": failed,
            }
        )
    )


def cmd_daily(args) -> list[float]:
    """Build up to the day before the newest, then time the daily job for the newest day."""
    path, manifest = archive(args.workdir, args.format, args.size, args.seed)
    day = manifest.last_day
    before = (date.fromisoformat(day) - timedelta(days=1)).isoformat()
    runs = []
    with contextlib.ExitStack() as stack:
        if getattr(args, "keep", None):
            state = args.keep.resolve()
        else:
            state = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=args.workdir)))
        if (state / "warehouse.duckdb").exists():
            print(f"reusing the build in {state}")
        else:
            build = run_build(args.format, path, manifest, state, end=before)
            print_build(build, f"build of {path.name} up to {before}")
            if not build.ok:
                return runs
        env = product_env(args.format, path, manifest, state)
        for i in range(args.repeat):
            log = state / f"daily-{i}.log"
            measured = run_tree([sys.executable, __file__, "_daily", day], env, log)
            report = child_json(measured, "the new day's run", log)
            steps = step_seconds(state / "dagster_home", {report["run_id"]})[report["run_id"]]
            runs.append(report["seconds"])
            print(
                f"new day {day} run {i + 1}/{args.repeat} (job movie_graph, one partition): "
                f"{report['seconds']:.1f} s in execute_in_process, {measured.seconds:.1f} s "
                f"with process start, peak RSS {measured.peak_mb:,.0f} MB, "
                f"{'succeeded' if report['ok'] else 'FAILED'}"
                + (f", failed checks {report['failed_checks']}" if report["failed_checks"] else "")
            )
            for key, seconds in sorted(steps.items(), key=lambda kv: -kv[1])[:8]:
                print(f"      {key:<32} {seconds:8.1f} s")
    if runs:
        print(f"median new-day run: {statistics.median(runs):.1f} s ({TARGETS['daily']})")
    return runs


# --- the five relational steps: product, plain DuckDB, PySpark ------------------------------

DUCKDB_SCRIPT = """
CREATE TABLE raw_ratings AS
SELECT * FROM read_csv({ratings}, header = true, store_rejects = true,
    columns = {{'userId': 'BIGINT', 'movieId': 'BIGINT', 'rating': 'VARCHAR',
                'timestamp': 'BIGINT'}});
-- movies: the catalogue as the clean layer keeps it (first row per id, genres without
-- '(no genres listed)')
CREATE TABLE movies AS
SELECT movieId AS movie_id, title,
       CASE WHEN genres = '(no genres listed)' THEN '' ELSE genres END AS genres
FROM read_csv({movies}, header = true, quote = '"', escape = '"',
    columns = {{'movieId': 'BIGINT', 'title': 'VARCHAR', 'genres': 'VARCHAR'}})
QUALIFY row_number() OVER (PARTITION BY movieId ORDER BY movieId) = 1;
-- clean ratings: typed, valid half stars, known movies, the latest per user and movie
CREATE TABLE ratings_all AS
SELECT userId AS user_id, movieId AS movie_id, TRY_CAST(rating AS DOUBLE) AS rating,
       "timestamp" AS ts,
       row_number() OVER (PARTITION BY userId, movieId ORDER BY "timestamp" DESC) > 1
           AS superseded
FROM raw_ratings WHERE "timestamp" < epoch(DATE {end});
CREATE TABLE ratings AS
SELECT user_id, movie_id, rating, to_timestamp(ts)::TIMESTAMP AS rated_at,
       to_timestamp(ts)::DATE AS rating_date
FROM ratings_all
WHERE rating BETWEEN 0.5 AND 5 AND round(rating * 2) = rating * 2
  AND movie_id IN (SELECT movie_id FROM movies) AND NOT superseded;
CREATE TABLE ratings_rejected AS
SELECT r.*, CASE WHEN rating IS NULL THEN 'rating missing'
                 WHEN NOT (rating BETWEEN 0.5 AND 5 AND round(rating * 2) = rating * 2)
                     THEN 'rating not in 0.5..5 in half stars'
                 WHEN movie_id NOT IN (SELECT movie_id FROM movies) THEN 'movie not in movies'
                 ELSE 'superseded' END AS reason
FROM ratings_all r
WHERE NOT (rating BETWEEN 0.5 AND 5 AND round(rating * 2) = rating * 2
           AND movie_id IN (SELECT movie_id FROM movies) AND NOT superseded)
   OR rating IS NULL;
-- movie features: counts, means, IMDb's Bayesian score against the global mean
CREATE TABLE movie_features AS
WITH stats AS (SELECT movie_id, count(*) AS n, avg(rating) AS mean FROM ratings GROUP BY 1),
     g AS (SELECT avg(rating) AS c FROM ratings),
     scored AS (
       SELECT m.movie_id, m.title, m.genres, coalesce(s.n, 0) AS rating_count,
              s.mean AS rating_mean,
              coalesce(s.n, 0) / (coalesce(s.n, 0) + {min_votes}) * coalesce(s.mean, g.c)
              + {min_votes} / (coalesce(s.n, 0) + {min_votes}) * g.c AS weighted_score
       FROM movies m LEFT JOIN stats s USING (movie_id), g)
SELECT *,
       CASE WHEN rating_count = 0 THEN 'Unrated' WHEN weighted_score >= 4 THEN 'Excellent'
            WHEN weighted_score >= 3.5 THEN 'Good' WHEN weighted_score >= 2.5 THEN 'Average'
            ELSE 'Poor' END AS rating_category,
       CASE WHEN rating_count = 0 THEN 'Unrated' WHEN rating_count <= 9 THEN 'Niche'
            WHEN rating_count <= 49 THEN 'Moderate' WHEN rating_count <= 149 THEN 'Popular'
            ELSE 'Blockbuster' END AS popularity_bucket,
       len(list_filter(string_split(genres, '|'), lambda x: x <> '')) AS genre_count
FROM scored;
-- ratings per genre per day
CREATE TABLE genre_daily AS
WITH movie_genres AS (
  SELECT DISTINCT movie_id, unnest(string_split(genres, '|')) AS genre FROM movies)
SELECT rating_date, genre, count(*) AS rating_count, avg(rating) AS rating_mean
FROM ratings JOIN movie_genres USING (movie_id) WHERE genre <> ''
GROUP BY ALL;
-- weekday x hour, all 168 cells
CREATE TABLE viewing_hourly AS
WITH counts AS (
  SELECT isodow(rated_at) - 1 AS weekday, hour(rated_at) AS hour, count(*) AS n
  FROM ratings GROUP BY ALL)
SELECT w.range AS weekday, h.range AS hour, coalesce(n, 0) AS rating_count,
       dayname(DATE '2024-01-01' + w.range::INTEGER) AS weekday_name
FROM range(7) w CROSS JOIN range(24) h
LEFT JOIN counts c ON c.weekday = w.range AND c.hour = h.range;
-- for every day, the top 10 movies by ratings in the 7 days ending that day
CREATE TABLE trending AS
WITH daily AS (SELECT rating_date, movie_id, count(*) AS n FROM ratings GROUP BY ALL),
     windows AS (
       SELECT rating_date + k.range::INTEGER AS window_end, movie_id, sum(n) AS ratings_7d
       FROM daily CROSS JOIN range(7) k
       WHERE rating_date + k.range::INTEGER <= DATE {as_of}
       GROUP BY ALL),
     ranked AS (
       SELECT *, row_number() OVER (PARTITION BY window_end
                                    ORDER BY ratings_7d DESC, movie_id) AS rank
       FROM windows)
SELECT window_end, movie_id, ratings_7d, rank, title
FROM ranked JOIN movies USING (movie_id) WHERE rank <= 10;
"""


def duckdb_child(ratings: str, movies: str, database: str, as_of: str) -> None:
    """One plain DuckDB SQL script over the CSV files, statement by statement."""
    import duckdb

    end = (date.fromisoformat(as_of) + timedelta(days=1)).isoformat()
    script = DUCKDB_SCRIPT.format(
        ratings=_sql_text(ratings),
        movies=_sql_text(movies),
        end=_sql_text(end),
        as_of=_sql_text(as_of),
        min_votes=f"{MIN_VOTES}.0",
    )
    times: dict[str, float] = {}
    with duckdb.connect(database) as con:
        for statement in [s for s in script.split(";") if s.strip()]:
            name = re.search(r"CREATE TABLE (\w+)", statement).group(1)
            started = time.perf_counter()
            con.execute(statement)
            times[name] = time.perf_counter() - started
        rows = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in times}
    print(json.dumps({"seconds": times, "rows": rows}))


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def local_spark(app: str, memory: str):
    """A quiet ``local[2]`` session with the driver memory given."""
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName(app)
        .config("spark.driver.memory", memory)
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def spark_child(ratings: str, movies: str, out: str, as_of: str, memory: str) -> None:
    """The same work in PySpark, local[2]; each table written as Parquet."""
    started = time.perf_counter()
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    spark = local_spark("scale-compare", memory)
    session = time.perf_counter() - started
    times: dict[str, float] = {}

    def timed(name: str, frame) -> None:
        begin = time.perf_counter()
        frame.write.mode("overwrite").parquet(f"{out}/{name}")
        times[name] = time.perf_counter() - begin

    end = date.fromisoformat(as_of) + timedelta(days=1)
    schema = "userId LONG, movieId LONG, rating STRING, timestamp LONG"
    raw = spark.read.csv(ratings, header=True, schema=schema)
    catalogue = spark.read.csv(
        movies, header=True, schema="movieId LONG, title STRING, genres STRING", escape='"'
    )
    first = Window.partitionBy("movieId").orderBy("movieId")
    timed(
        "movies",
        catalogue.withColumn("k", F.row_number().over(first))
        .where("k = 1")
        .select(
            F.col("movieId").alias("movie_id"),
            "title",
            F.when(F.col("genres") == "(no genres listed)", "")
            .otherwise(F.col("genres"))
            .alias("genres"),
        ),
    )
    known = spark.read.parquet(f"{out}/movies")
    latest = Window.partitionBy("userId", "movieId").orderBy(F.col("timestamp").desc())
    typed = (
        raw.where(F.col("timestamp") < F.unix_timestamp(F.lit(end.isoformat()), "yyyy-MM-dd"))
        .withColumn("r", F.col("rating").try_cast("double"))
        .withColumn("superseded", F.row_number().over(latest) > 1)
    )
    valid = F.col("r").between(0.5, 5.0) & (F.round(F.col("r") * 2) == F.col("r") * 2)
    ids = known.select(F.col("movie_id").alias("movieId"), F.lit(True).alias("known"))
    typed = typed.join(F.broadcast(ids), "movieId", "left")
    good = valid & F.col("known").isNotNull() & ~F.col("superseded")
    stamp = F.timestamp_seconds("timestamp")
    timed(
        "ratings",
        typed.where(good).select(
            F.col("userId").alias("user_id"),
            F.col("movieId").alias("movie_id"),
            F.col("r").alias("rating"),
            stamp.alias("rated_at"),
            F.to_date(stamp).alias("rating_date"),
        ),
    )
    timed("ratings_rejected", typed.where(~good | F.col("r").isNull()))
    clean = spark.read.parquet(f"{out}/ratings")
    c = clean.agg(F.avg("rating")).first()[0]
    stats = clean.groupBy("movie_id").agg(F.count("*").alias("n"), F.avg("rating").alias("mean"))
    n = F.coalesce(F.col("n"), F.lit(0))
    score = n / (n + MIN_VOTES) * F.coalesce(F.col("mean"), F.lit(c)) + MIN_VOTES / (
        n + MIN_VOTES
    ) * F.lit(c)
    features = known.join(stats, "movie_id", "left").select(
        "movie_id",
        "title",
        "genres",
        n.alias("rating_count"),
        F.col("mean").alias("rating_mean"),
        score.alias("weighted_score"),
    )
    w, cnt = F.col("weighted_score"), F.col("rating_count")
    timed(
        "movie_features",
        features.withColumn(
            "rating_category",
            F.when(cnt == 0, "Unrated")
            .when(w >= 4, "Excellent")
            .when(w >= 3.5, "Good")
            .when(w >= 2.5, "Average")
            .otherwise("Poor"),
        )
        .withColumn(
            "popularity_bucket",
            F.when(cnt == 0, "Unrated")
            .when(cnt <= 9, "Niche")
            .when(cnt <= 49, "Moderate")
            .when(cnt <= 149, "Popular")
            .otherwise("Blockbuster"),
        )
        .withColumn("genre_count", F.size(F.filter(F.split("genres", r"\|"), lambda x: x != ""))),
    )
    movie_genres = (
        known.select("movie_id", F.explode(F.split("genres", r"\|")).alias("genre"))
        .where("genre <> ''")
        .distinct()
    )
    timed(
        "genre_daily",
        clean.join(F.broadcast(movie_genres), "movie_id")
        .groupBy("rating_date", "genre")
        .agg(F.count("*").alias("rating_count"), F.avg("rating").alias("rating_mean")),
    )
    cells = (
        spark.range(7)
        .withColumnRenamed("id", "weekday")
        .crossJoin(spark.range(24).withColumnRenamed("id", "hour"))
    )
    counts = clean.groupBy(
        ((F.dayofweek("rated_at") + 5) % 7).alias("weekday"), F.hour("rated_at").alias("hour")
    ).agg(F.count("*").alias("rating_count"))
    timed(
        "viewing_hourly",
        cells.join(counts, ["weekday", "hour"], "left").fillna(0, ["rating_count"]),
    )
    daily = clean.groupBy("rating_date", "movie_id").agg(F.count("*").alias("n"))
    shifted = daily.crossJoin(F.broadcast(spark.range(7))).select(
        F.date_add("rating_date", F.col("id").cast("int")).alias("window_end"), "movie_id", "n"
    )
    windows = (
        shifted.where(F.col("window_end") <= F.lit(as_of).cast("date"))
        .groupBy("window_end", "movie_id")
        .agg(F.sum("n").alias("ratings_7d"))
    )
    rank = Window.partitionBy("window_end").orderBy(F.col("ratings_7d").desc(), "movie_id")
    timed(
        "trending",
        windows.withColumn("rank", F.row_number().over(rank))
        .where("rank <= 10")
        .join(F.broadcast(known.select("movie_id", "title")), "movie_id"),
    )
    rows = {name: spark.read.parquet(f"{out}/{name}").count() for name in times}
    spark.stop()
    print(json.dumps({"session": session, "seconds": times, "rows": rows}))


def cmd_compare(args, builds: list[Build] | None = None) -> None:
    if args.format != "movielens":
        sys.exit("compare reads MovieLens CSV files: use --format movielens")
    path, manifest = archive(args.workdir, args.format, args.size, args.seed)
    ratings, movies = extracted(path)
    as_of = manifest.last_day
    builds = builds or []
    while len(builds) < args.repeat:
        with tempfile.TemporaryDirectory(dir=args.workdir, prefix="build-") as tmp:
            builds.append(run_build(args.format, path, manifest, Path(tmp)))
        print_build(builds[-1], f"build {len(builds)}/{args.repeat} of {path.name}")
    product = [sum(b.steps.get(s, float("nan")) for s in RELATIONAL_STEPS) for b in builds]
    for b in builds:
        missing = [s for s in RELATIONAL_STEPS if s not in b.steps]
        if missing:
            print(f"  note: the build has no step named {missing}; their time counts as NaN")

    plain, load = [], []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory(dir=args.workdir, prefix="duckdb-") as tmp:
            log = Path(tmp) / "duckdb.log"
            command = [sys.executable, __file__, "_duckdb", str(ratings), str(movies)]
            measured = run_tree(command + [f"{tmp}/plain.duckdb", as_of], child_env(), log)
            report = child_json(measured, "the DuckDB script", log)
        seconds = report["seconds"]
        plain.append(sum(seconds.values()))
        load.append(seconds["raw_ratings"] + seconds["movies"])
        print(
            f"plain DuckDB script {i + 1}/{args.repeat} (duckdb {_version('duckdb')}, one "
            f"process, default threads): {plain[-1]:.1f} s, of which CSV load "
            f"{load[-1]:.1f} s; peak RSS {measured.peak_mb:,.0f} MB; "
            + ", ".join(f"{k} {v:.2f} s" for k, v in seconds.items())
        )
    spark, rows = [], report["rows"]
    if not args.no_spark:
        for i in range(args.repeat):
            with tempfile.TemporaryDirectory(dir=args.workdir, prefix="spark-") as tmp:
                log = Path(tmp) / "spark.log"
                command = [sys.executable, __file__, "_spark", str(ratings), str(movies)]
                command += [f"{tmp}/out", as_of, args.spark_memory]
                measured = run_tree(command, child_env(), log)
                report = child_json(measured, "the PySpark job", log)
            spark.append(sum(report["seconds"].values()))
            differ = {k: (rows[k], v) for k, v in report["rows"].items() if rows.get(k) != v}
            print(
                "  rows per table, DuckDB script and PySpark: "
                + (f"DIFFER {differ}" if differ else f"identical {report['rows']}")
            )
            print(
                f"PySpark {_version('pyspark')} local[2] {i + 1}/{args.repeat}: {spark[-1]:.1f} s"
                f" (plus {report['session']:.1f} s session start); peak RSS "
                f"{measured.peak_mb:,.0f} MB (JVM included); "
                + ", ".join(f"{k} {v:.2f} s" for k, v in report["seconds"].items())
            )
    med = statistics.median
    print(f"five relational steps at {label(args.size)} ratings, medians of {args.repeat}:")
    print(f"  product asset steps ({' + '.join(RELATIONAL_STEPS)}): {med(product):.1f} s")
    print(f"  plain DuckDB script, CSV to tables: {med(plain):.1f} s")
    steps_only = med(plain) - med(load)
    print(f"  plain DuckDB script without its CSV load: {steps_only:.1f} s")
    print(f"  ratio product / DuckDB script: {med(product) / med(plain):.2f}")
    print(f"  ratio product / DuckDB script without load: {med(product) / steps_only:.2f}")
    if spark:
        print(f"  PySpark local[2]: {med(spark):.1f} s")
        print(f"  ratio PySpark / product: {med(spark) / med(product):.2f}")
    print(f"  (targets: {TARGETS['compare']})")


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


# --- ALS: implicit against Spark MLlib ------------------------------------------------------


def implicit_child(ratings: str, factors: int, iterations: int) -> None:
    """implicit's ALS on every rating (confidence = stars), then a top-10 for every user."""
    import duckdb
    import numpy as np
    import scipy.sparse as sp
    from implicit.als import AlternatingLeastSquares

    started = time.perf_counter()
    frame = duckdb.sql(
        f"SELECT userId, movieId, rating FROM read_csv({_sql_text(ratings)}, header = true)"
    ).fetchnumpy()
    users, u = np.unique(frame["userId"], return_inverse=True)
    _, m = np.unique(frame["movieId"], return_inverse=True)
    matrix = sp.csr_matrix(
        (frame["rating"].astype(np.float32), (u, m)), shape=(len(users), int(m.max()) + 1)
    )
    del frame
    load = time.perf_counter() - started
    model = AlternatingLeastSquares(
        factors=factors, iterations=iterations, regularization=0.05, random_state=0
    )
    started = time.perf_counter()
    model.fit(matrix, show_progress=False)
    train = time.perf_counter() - started
    started = time.perf_counter()
    for begin in range(0, matrix.shape[0], 10_000):
        batch = np.arange(begin, min(begin + 10_000, matrix.shape[0]))
        model.recommend(batch, matrix[batch], N=10, filter_already_liked_items=True)
    top = time.perf_counter() - started
    print(json.dumps({"load": load, "train": train, "top10": top, "users": len(users)}))


def spark_als_child(ratings: str, factors: int, iterations: int, memory: str) -> None:
    """Spark MLlib ALS, implicit preferences (confidence = stars), recommendForAllUsers(10)."""
    started = time.perf_counter()
    from pyspark.ml.recommendation import ALS

    spark = local_spark("scale-als", memory)
    session = time.perf_counter() - started
    started = time.perf_counter()
    frame = spark.read.csv(
        ratings, header=True, schema="userId INT, movieId INT, rating FLOAT, timestamp LONG"
    ).cache()
    users = frame.select("userId").distinct().count()
    load = time.perf_counter() - started
    als = ALS(
        rank=factors,
        maxIter=iterations,
        regParam=0.05,
        implicitPrefs=True,
        alpha=1.0,
        userCol="userId",
        itemCol="movieId",
        ratingCol="rating",
        seed=0,
    )
    started = time.perf_counter()
    model = als.fit(frame)
    train = time.perf_counter() - started
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        model.recommendForAllUsers(10).write.parquet(f"{tmp}/top10")
    top = time.perf_counter() - started
    spark.stop()
    print(
        json.dumps({"session": session, "load": load, "train": train, "top10": top, "users": users})
    )


def cmd_als(args) -> None:
    if args.format != "movielens":
        sys.exit("als reads the MovieLens ratings.csv: use --format movielens")
    path, _ = archive(args.workdir, args.format, args.size, args.seed)
    ratings, _ = extracted(path)
    engines: list[tuple[str, list[str], dict[str, str]]] = [
        (
            f"implicit {_version('implicit')} ALS (CPU, 2 threads)",
            ["_implicit", str(ratings), str(args.factors), str(args.iterations)],
            child_env(OPENBLAS_NUM_THREADS="1"),
        )
    ]
    if not args.no_spark:
        engines.append(
            (
                f"Spark MLlib {_version('pyspark')} ALS local[2]",
                [
                    "_spark_als",
                    str(ratings),
                    str(args.factors),
                    str(args.iterations),
                    args.spark_memory,
                ],
                child_env(),
            )
        )
    print(
        f"ALS at {label(args.size)} ratings: {args.factors} factors, {args.iterations} "
        "iterations, regularization 0.05, implicit preferences with the stars as confidence; "
        "implicit's top-10 leaves out rated movies, Spark's recommendForAllUsers does not"
    )
    totals: dict[str, list[tuple[float, float]]] = {}
    for name, command, env in engines:
        for i in range(args.repeat):
            with tempfile.TemporaryDirectory(dir=args.workdir, prefix="als-") as tmp:
                log = Path(tmp) / "als.log"
                measured = run_tree([sys.executable, __file__, *command], env, log)
                report = child_json(measured, name, log)
            work = report["train"] + report["top10"]
            totals.setdefault(name, []).append((work, measured.peak_mb))
            print(
                f"  {name} {i + 1}/{args.repeat}: train {report['train']:.1f} s + top-10 for "
                f"{report['users']:,} users {report['top10']:.1f} s = {work:.1f} s "
                f"(load {report['load']:.1f} s"
                + (f", session {report['session']:.1f} s" if "session" in report else "")
                + f"); {measured.seconds:.1f} s wall, peak RSS {measured.peak_mb:,.0f} MB"
            )
    for name, runs in totals.items():
        print(
            f"  median {name}: {statistics.median(r[0] for r in runs):.1f} s train + top-10, "
            f"peak RSS {statistics.median(r[1] for r in runs):,.0f} MB"
        )


# --- command line ---------------------------------------------------------------------------


def cmd_generate(args) -> None:
    for size in args.sizes:
        path, manifest = archive(args.workdir, args.format, size, args.seed)
        print(
            f"{path}: {manifest.ratings:,} ratings, {manifest.users:,} users, "
            f"{manifest.movies:,} movies, {manifest.tags:,} tags, "
            f"{manifest.first_day}..{manifest.last_day}"
        )


def cmd_all(args) -> None:
    builds = cmd_build(args)
    if args.format == "movielens":
        cmd_compare(args, builds)
        cmd_als(args)
    cmd_daily(args)


def main() -> None:
    hidden: dict[str, Callable[..., None]] = {
        "_daily": daily_child,
        "_duckdb": duckdb_child,
        "_spark": spark_child,
        "_implicit": lambda r, f, i: implicit_child(r, int(f), int(i)),
        "_spark_als": lambda r, f, i, m: spark_als_child(r, int(f), int(i), m),
    }
    if len(sys.argv) > 1 and sys.argv[1] in hidden:
        hidden[sys.argv[1]](*sys.argv[2:])
        return
    sys.stdout.reconfigure(line_buffering=True)  # figures show up as they come, even in a pipe
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    commands = {
        "generate": cmd_generate,
        "build": cmd_build,
        "daily": cmd_daily,
        "compare": cmd_compare,
        "als": cmd_als,
        "all": cmd_all,
    }
    for name in commands:
        p = sub.add_parser(name)
        p.add_argument("--format", choices=["movielens", "netflix"], default="movielens")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--workdir", type=Path, default=ROOT / ".data" / "scale")
        if name == "generate":
            p.add_argument("--sizes", nargs="+", type=parse_size, default=[1_000_000])
            continue
        p.add_argument("--size", type=parse_size, default=1_000_000, help="ratings: 300k, 1M")
        p.add_argument("--repeat", type=int, default=1, help="runs per figure; medians printed")
        if name == "daily":
            p.add_argument("--keep", type=Path, help="state folder to keep and reuse")
        p.add_argument("--no-spark", action="store_true", help="skip the PySpark figures")
        p.add_argument("--spark-memory", default="6g", help="spark.driver.memory")
        p.add_argument("--factors", type=int, default=64)
        p.add_argument("--iterations", type=int, default=15)
    args = parser.parse_args()
    args.workdir = args.workdir.resolve()
    commands[args.command](args)


if __name__ == "__main__":
    main()
