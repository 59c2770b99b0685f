# The two README commands: `make up` (build on the embedded data, then serve) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup up build serve test test-fast bench lint

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

up: setup
	$(VENV)/bin/movie-analytics up

build: setup
	$(VENV)/bin/movie-analytics build

serve: setup
	$(VENV)/bin/movie-analytics serve

test: setup
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/pytest -q

test-fast: setup
	$(VENV)/bin/pytest -q -m "not slow and not browser and not spark"

bench: setup
	$(PY) benchmarks/build.py

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/lint-imports --no-cache
