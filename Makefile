# Game & Stream Trends. Two set-up commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DAYS ?= 1
CHANNELS ?= 40
SEED ?= 42

export DBT_PROFILES_DIR := $(CURDIR)
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export RUNTIME__DLTHUB_TELEMETRY := false

.PHONY: demo test lint docs dashboard bench clean install

install: $(STAMP) profiles.yml

# The venv is (re)built only when pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

profiles.yml: profiles.yml.example
	@test -f profiles.yml || cp profiles.yml.example profiles.yml

## The whole job on DuckDB: simulator -> loaders -> dbt build/snapshot -> docs -> summary.
demo: install
	$(BIN)/gst demo --days $(DAYS) --channels $(CHANNELS) --seed $(SEED)

## Lint + pytest (unit, loader, simulator and end-to-end dbt builds).
test: install lint
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint models macros snapshots tests analyses --disable-progress-bar

docs: install
	$(BIN)/dbt docs generate
	$(BIN)/dbt docs serve --port 8080

## The dashboard on the gold models: http://localhost:$(PORT) (after `make demo`).
PORT ?= 8501
dashboard: install
	$(BIN)/gst dashboard --port $(PORT)

## Benchmarks (not part of `make test`): the loader vs a plain requests -> pyarrow -> DuckDB
## baseline, then dbt full builds at 1/7/30 days and an incremental build (bench/results/*.csv).
bench: install
	$(BIN)/python bench/loader_bench.py $(LOADER_BENCH_ARGS)
	$(BIN)/python bench/dbt_bench.py $(DBT_BENCH_ARGS)

clean:
	rm -rf target dbt_packages logs data .pytest_cache .ruff_cache
