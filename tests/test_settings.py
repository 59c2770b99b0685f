"""Configuration: one class reads every variable, and the docs list exactly those variables."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from movie_assets.settings import Settings, current

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# A table row that starts with one or more variables: | `A` | ..., | `A` or `B` |, | `A` / `_END` |
ROW = re.compile(r"^\| (`[A-Z][A-Z0-9_]*`(?: (?:or|/) `_?[A-Z0-9_]+`)*) \|", re.M)


def documented() -> set[str]:
    names = set()
    for doc in DOCS:
        for cell in ROW.findall(doc.read_text()):
            first, *others = re.findall(r"`(_?[A-Z0-9_]+)`", cell)
            names.add(first)
            # `MOVIE_PARTITIONS_START` / `_END` names MOVIE_PARTITIONS_END.
            names.update(first.rsplit("_", 1)[0] + o if o.startswith("_") else o for o in others)
    return names


def test_the_docs_tables_list_exactly_the_settings():
    fields = {name.upper() for name in Settings.model_fields}
    assert documented() == fields


@pytest.mark.parametrize("folder", ["movie_assets", "dash_app"])
def test_nothing_else_reads_the_environment(folder):
    readers = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        if path.name == "settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in {"getenv", "environ"}:
                readers.append((str(path.relative_to(ROOT)), node.lineno))
    # Setting the environment for child processes (the CLI's servers) is not reading it.
    cli = ROOT / "movie_assets" / "cli.py"
    writes = {("movie_assets/cli.py", line) for line in _environ_writes(cli)}
    assert [r for r in readers if r not in writes] == []


def _environ_writes(path: Path) -> set[int]:
    lines = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "setdefault":
            targets = [node.func.value]
        for target in targets:
            base = target.value if isinstance(target, ast.Subscript) else target
            if isinstance(base, ast.Attribute) and base.attr == "environ":
                lines.add(base.lineno)
    return lines


def test_an_empty_variable_means_the_default_but_an_empty_end_means_open_ended(monkeypatch):
    monkeypatch.setenv("MOVIE_ALLOW_REMOTE", "")
    monkeypatch.setenv("MOVIE_WATCH_INTERVAL_SECONDS", "")
    monkeypatch.setenv("MOVIE_PARTITIONS_END", "")
    monkeypatch.setenv("MOVIE_DATA_DIR", "/srv/movies")
    settings = Settings()
    assert settings.movie_allow_remote is False
    assert settings.movie_watch_interval_seconds is None
    assert settings.span[1] is None
    assert settings.warehouse == Path("/srv/movies/warehouse.duckdb")


def test_secrets_never_show_in_the_settings_repr(monkeypatch):
    monkeypatch.setenv("TMDB_BEARER_TOKEN", "tok-3f9a1c77b2")
    monkeypatch.setenv("SPARK_REMOTE", "sc://host:15002/;token=abc123secret")
    settings = Settings()
    assert "tok-3f9a1c77b2" not in repr(settings) and "abc123secret" not in repr(settings)
    assert settings.tmdb_bearer_token.get_secret_value() == "tok-3f9a1c77b2"


def test_a_wrong_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("MOVIE_DUCKDB_THREADS", "two")
    with pytest.raises(ValueError, match="MOVIE_DUCKDB_THREADS='two'"):
        current()
