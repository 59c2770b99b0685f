"""What dating the catalogue costs: one read of the ratings for each movie's first rating or tag.

A snapshot run needs it once (the ``source`` resource keeps it for the run); this times
that read on a seeded MovieLens archive in the ml-25m format, next to the time of reading
the catalogue itself.

    python benchmarks/first_seen.py [--ratings 1000000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ratings", type=int, default=1_000_000)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    # The archive's ratings run to 2019-11-21: the span must hold them.
    os.environ.setdefault("MOVIE_PARTITIONS_END", "2019-11-22")
    sys.path.insert(0, str(ROOT))
    from benchmarks.archives import movielens_zip
    from movie_assets.sources.registry import SourceResource

    with tempfile.TemporaryDirectory() as directory:
        archive = Path(directory) / "ml-25m.zip"
        movielens_zip(archive, args.ratings, seed=0)
        source = SourceResource(kind="movielens", movielens=str(archive))
        reader = source.reader()
        started = time.perf_counter()
        movies = reader.movies().rows
        catalogue = time.perf_counter() - started
        started = time.perf_counter()
        seen = source.first_seen(reader)
        dating = time.perf_counter() - started
    print(
        f"{args.ratings:,} ratings, {len(movies):,} movies ({len(seen):,} rated or tagged): "
        f"catalogue read {catalogue:.1f} s, first rating or tag of each movie {dating:.1f} s"
    )


if __name__ == "__main__":
    main()
