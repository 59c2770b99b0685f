"""Read-only copies of the warehouse for Dash: versioned files behind an atomically swapped pointer.

DuckDB allows one writing process or many readers, never both, so
Dash never opens the live file. Each publish writes a complete new file under a
temporary name, renames it to its versioned name, then replaces the small
``CURRENT`` pointer with ``os.replace``: a reader sees the old snapshot or the
new one, never half of one. Older files are pruned; a reader still holding one
open keeps reading it (POSIX unlink). Every published day keeps its newest files,
so the app can show any of them; a past day's publish never moves the pointer.
A publish killed mid-write leaves its temporary file (and DuckDB's ``.wal``
beside it); the name carries the writer's process id, so the next publish
removes those whose writer is gone and never one still being written.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from movie_assets import settings as config

POINTER = "CURRENT"
PREFIX = "dashboard_"
KEEP = 3  # versions of one day: a reader may still hold an older one
KEEP_DAYS = 60  # days kept for time travel (month-end snapshots over five years)
TEMPORARY = ".tmp"


@dataclass(frozen=True)
class Snapshot:
    path: Path
    as_of: date
    published_at: str

    @property
    def version(self) -> str:
        return self.path.name


def snapshot_dir(warehouse: Path | str | None = None) -> Path:
    """Snapshots live next to the warehouse they copy.

    Readers (Dash) pass no warehouse: MOVIE_SNAPSHOT_DIR, else next to the configured one.
    """
    settings = config.current()
    if warehouse is None and settings.movie_snapshot_dir:
        return settings.movie_snapshot_dir
    return Path(warehouse or settings.warehouse).parent / "snapshots"


def current(directory: Path) -> Snapshot | None:
    """The published snapshot, or None before the first publish."""
    try:
        info = json.loads((directory / POINTER).read_text())
    except FileNotFoundError:
        return None
    return Snapshot(
        directory / info["file"], date.fromisoformat(info["as_of"]), info["published_at"]
    )


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def write(
    con: duckdb.DuckDBPyConnection,
    directory: Path,
    day: date,
    selects: dict[str, tuple[str, list]],
    frames: dict[str, pd.DataFrame],
) -> Path:
    """A complete snapshot file: each table from a SELECT on the live connection or a frame."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = directory / f"{PREFIX}{day:%Y%m%d}_{stamp}.duckdb"
    temporary = directory / f".{final.name}.{os.getpid()}{TEMPORARY}"
    con.execute(f"ATTACH {_quote(temporary)} AS snap")
    try:
        for name, (sql, params) in selects.items():
            con.execute(f"CREATE TABLE snap.{name} AS {sql}", params)
        for name, frame in frames.items():
            con.register("publish_frame", frame)
            con.execute(f"CREATE TABLE snap.{name} AS SELECT * FROM publish_frame")
            con.unregister("publish_frame")
        con.execute("CHECKPOINT snap")
    finally:
        con.execute("DETACH snap")
    os.replace(temporary, final)
    return final


def publish(directory: Path, path: Path, day: date, keep: int = KEEP) -> bool:
    """Point readers at ``path`` unless a newer day is already published; prune old files."""
    live = current(directory)
    swapped = live is None or day >= live.as_of
    if swapped:
        info = {
            "file": path.name,
            "as_of": day.isoformat(),
            "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        temporary = directory / f".{POINTER}.tmp"
        with open(temporary, "w") as handle:
            json.dump(info, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, directory / POINTER)
    prune(directory, keep)
    return swapped


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def abandoned(directory: Path) -> list[Path]:
    """Temporary files (and their WAL) of publishes whose process no longer runs."""
    found = []
    for path in directory.glob(f".{PREFIX}*{TEMPORARY}*"):
        stem = path.name.split(TEMPORARY)[0]
        pid = stem.rsplit(".", 1)[-1]
        if not pid.isdigit() or not _running(int(pid)):
            found.append(path)
    return found


def _day_of(path: Path) -> date:
    return datetime.strptime(path.name[len(PREFIX) :].split("_")[0], "%Y%m%d").date()


def _versions(directory: Path) -> dict[date, list[Path]]:
    """Every snapshot file by the day it holds, oldest version first."""
    days: dict[date, list[Path]] = {}
    for path in sorted(directory.glob(f"{PREFIX}*.duckdb"), key=lambda p: p.name.split("_")[-1]):
        days.setdefault(_day_of(path), []).append(path)
    return days


def published(directory: Path) -> dict[date, Path]:
    """The newest file of every published day, newest day first (the app's time travel)."""
    days = _versions(directory)
    return {day: days[day][-1] for day in sorted(days, reverse=True)}


def prune(directory: Path, keep: int = KEEP, days: int = KEEP_DAYS) -> list[Path]:
    """Keep the newest ``keep`` files of each of the newest ``days`` days and the one the
    pointer names; delete the rest and the temporary files of killed publishes."""
    removed = []
    for path in abandoned(directory):
        path.unlink(missing_ok=True)
        removed.append(path)
    live = current(directory)
    versions = _versions(directory)
    for rank, day in enumerate(sorted(versions, reverse=True)):
        files = versions[day]
        for path in files if rank >= days else files[: max(len(files) - keep, 0)]:
            if live is None or path.name != live.path.name:
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed
