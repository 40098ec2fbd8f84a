"""Shared pytest fixtures for the loader tests.

- `fake_api`: the fake HTTP API of `tests/support/fake_api.py` (routes, recorded calls).
- `warehouse`: a temp DuckDB path, exported as GST_DUCKDB_PATH (dlt state isolated beside it).
- `fast_retries`: env making every source retry quickly (tests of faults stay fast).
"""

from __future__ import annotations

import pytest

from tests.support.fake_api import FakeApi

FAST_RETRY_ENV = {
    f"SOURCES__{p.upper()}__{k}": v
    for p in ("chzzk", "soop", "twitch", "steam")
    for k, v in (("BACKOFF_SECONDS", "0.01"), ("MAX_WAIT_SECONDS", "0.05"), ("MAX_ATTEMPTS", "4"))
}


@pytest.fixture
def fake_api():
    api = FakeApi()
    yield api
    api.close()


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    path = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("GST_DUCKDB_PATH", str(path))
    return path


@pytest.fixture
def fast_retries(monkeypatch):
    for key, value in FAST_RETRY_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def sql(warehouse):
    """Run a query on the temp warehouse (read-only connection): sql("select ...") -> rows."""
    import duckdb

    def run(query: str) -> list[tuple]:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.sql(query).fetchall()

    return run
