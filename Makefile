# Game & Stream Trends. Two set-up commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DAYS ?= 7
CHANNELS ?= 40
SEED ?= 42

export DBT_PROFILES_DIR := $(CURDIR)
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export RUNTIME__DLTHUB_TELEMETRY := false

.PHONY: redshift-check demo test test-fast test-latest pytest lint metrics docs dashboard bench clean install lock

install: $(STAMP) profiles.yml

# The venv installs exactly the tested set in requirements.lock (hash-checked), then the
# project itself without dependencies. It is (re)built only when the lock changes. pip itself is
# pinned too: older pips refuse a hash-checked lock whose packages ask for extras.
PIP_VERSION := 26.3
$(STAMP): requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check 'pip==$(PIP_VERSION)'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes \
		-r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

## Refresh requirements.lock on purpose: the newest versions pyproject.toml's ranges allow
## (dev extras included, Python 3.11 and 3.12). Run `make test` before committing the result.
lock: install
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
		--generate-hashes --upgrade --quiet -o requirements.lock \
		--custom-compile-command 'make lock'

profiles.yml: profiles.yml.example
	@test -f profiles.yml || cp profiles.yml.example profiles.yml

## The whole job on DuckDB: simulator -> loaders -> dbt build/snapshot -> docs -> summary.
demo: install
	$(BIN)/gst demo --days $(DAYS) --channels $(CHANNELS) --seed $(SEED)

## Lint + the semantic layer's checks + pytest (unit, loader, simulator and end-to-end dbt builds).
test: install lint metrics pytest

pytest: install
	$(BIN)/pytest $(PYTEST_ARGS)

## Compile every model for Redshift (dbt-redshift against the GST_PG_* PostgreSQL through a
## small proxy) and flag SQL Redshift lacks (tools/redshift_check.py).
redshift-check: install profiles.yml
	$(BIN)/python -m tools.redshift_check --via-postgres

## Lint + the tests not marked slow or e2e (a few minutes): for development; `make test` is CI.
test-fast: install lint
	$(BIN)/pytest -m "not slow and not e2e" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint models macros snapshots tests analyses --disable-progress-bar

## The semantic layer (models/marts/_semantic_models.yml): `dbt parse` writes
## target/semantic_manifest.json for the current target (what `mf query` reads), then
## `mf validate-configs --skip-dw` checks every semantic model and metric without a warehouse (the
## warehouse checks run in tests/python/test_metrics.py). mf's connection check goes to a
## throw-away DuckDB file, so a warehouse another process holds open is never touched.
metrics: install
	$(BIN)/dbt parse --quiet
	@scratch=$$(mktemp -d) && trap 'rm -rf "$$scratch"' EXIT && \
	GST_TARGET=duckdb GST_DUCKDB_PATH=$$scratch/validate.duckdb \
	$(BIN)/mf validate-configs --skip-dw

## The suite against the newest releases the ranges in pyproject.toml allow (not the lock), in
## a separate venv: an upstream release that breaks us shows up here before users see it.
LATEST := .venv-latest
# package==version with the name normalized (PEP 503), one per line, sorted
NORMALIZE := awk -F'==' '{n=tolower($$1); gsub(/[._]/, "-", n); print n "==" $$2}' | sort -u
test-latest: profiles.yml
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(LATEST)/bin/python -m pip install --quiet --disable-pip-version-check \
		--upgrade --upgrade-strategy eager -e '.[dev]'
	$(LATEST)/bin/python -m pip freeze --exclude-editable > $(LATEST)/installed.txt
	@touch $(LATEST)/.latest
	@echo "test-latest: installed versions in $(LATEST)/installed.txt; differences from the lock:"
	@diff <(sed -n 's/^\([A-Za-z0-9_.-]*==[^ ;]*\).*/\1/p' requirements.lock | $(NORMALIZE)) \
		<(cat $(LATEST)/installed.txt | $(NORMALIZE)) | grep '^>' || echo "  none"
	$(MAKE) --no-print-directory lint metrics pytest VENV=$(LATEST) STAMP=$(LATEST)/.latest

docs: install
	$(BIN)/dbt docs generate
	$(BIN)/dbt docs serve --port 8080

## The dashboard on the gold models: http://localhost:$(PORT) (after `make demo`).
PORT ?= 8501
dashboard: install
	$(BIN)/gst dashboard --port $(PORT)

## Benchmarks (not part of `make test`): the loader vs a plain requests -> pyarrow -> DuckDB
## baseline, then dbt full builds at 1/7/30 days and an incremental build, then bronze bytes
## (raw JSON / gzip pages / compacted Parquet) and compaction speed (bench/results/*.csv).
bench: install
	$(BIN)/python bench/loader_bench.py $(LOADER_BENCH_ARGS)
	$(BIN)/python bench/dbt_bench.py $(DBT_BENCH_ARGS)
	$(BIN)/python bench/bronze_bench.py $(BRONZE_BENCH_ARGS)
	$(BIN)/python bench/demo_bench.py $(DEMO_BENCH_ARGS)

clean:
	rm -rf target dbt_packages logs data .pytest_cache .ruff_cache .venv-latest
