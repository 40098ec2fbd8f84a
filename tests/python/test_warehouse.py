"""Warehouse settings (loaders/warehouse.py): dbt's profile and the Python readers agree on
DuckDB's settings, bad values are named, and the loader's memory cap never reaches a reader or
dbt that shares the process's DuckDB instance."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
import yaml

from loaders import warehouse

ROOT = Path(__file__).resolve().parents[2]
ENV_DEFAULT = re.compile(r"env_var\('(GST_[A-Z_]+)', '([^']*)'\)")


def mib(size: str) -> float:
    """DuckDB's rendering of a memory setting ('953.6 MiB', '1.0 GiB') in MiB."""
    number, unit = size.split()
    return float(number) * {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024}[unit]


def test_profile_and_python_use_the_same_duckdb_settings_and_defaults(monkeypatch):
    for name in ("GST_DUCKDB_MEMORY_LIMIT", "GST_DUCKDB_MAX_TEMP_SIZE", "GST_DUCKDB_THREADS"):
        monkeypatch.delenv(name, raising=False)
    profile = yaml.safe_load((ROOT / "profiles.yml.example").read_text())
    settings = profile["game_stream_trends"]["outputs"]["duckdb"]["settings"]
    rendered = {}
    for key, template in settings.items():
        variable, default = ENV_DEFAULT.search(template).groups()
        rendered[key] = default
        assert variable.startswith("GST_DUCKDB_"), key
    assert rendered == warehouse.duckdb_settings()
    assert rendered["memory_limit"] == "1GB"


def test_settings_follow_the_environment_and_name_bad_values(monkeypatch):
    monkeypatch.setenv("GST_DUCKDB_MEMORY_LIMIT", "512MB")
    monkeypatch.setenv("GST_DUCKDB_THREADS", "1")
    assert warehouse.duckdb_settings()["memory_limit"] == "512MB"
    assert warehouse.duckdb_settings()["threads"] == "1"
    monkeypatch.setenv("GST_DUCKDB_MEMORY_LIMIT", "plenty")
    with pytest.raises(warehouse.SettingError, match="GST_DUCKDB_MEMORY_LIMIT .* 'plenty'"):
        warehouse.duckdb_settings()
    monkeypatch.setenv("GST_DUCKDB_MEMORY_LIMIT", "1GB")
    monkeypatch.setenv("GST_DUCKDB_THREADS", "0")
    with pytest.raises(warehouse.SettingError, match="GST_DUCKDB_THREADS"):
        warehouse.duckdb_settings()
    monkeypatch.setenv("GST_LOADER_MEMORY_LIMIT", "lots")
    with pytest.raises(warehouse.SettingError, match="GST_LOADER_MEMORY_LIMIT .* 'lots'"):
        warehouse.loader_memory_limit()


def test_a_reader_after_a_capped_loader_connection_gets_the_warehouse_settings(
    tmp_path, monkeypatch
):
    # DuckDB shares one instance per file in a process: what the loader set holds for
    # every later connection unless the reader sets its own.
    monkeypatch.delenv("GST_DUCKDB_MEMORY_LIMIT", raising=False)
    path = tmp_path / "w.duckdb"
    loader = duckdb.connect(str(path))
    loader.execute(f"set global memory_limit = '{warehouse.loader_memory_limit()}'")
    try:
        inherited = duckdb.connect(str(path))
        capped = inherited.execute("select current_setting('memory_limit')").fetchone()[0]
        inherited.close()
        assert mib(capped) < 130  # what a plain second connection would get
        reader = warehouse.connect_duckdb(path)
        limit = reader.execute("select current_setting('memory_limit')").fetchone()[0]
        reader.close()
        assert 900 < mib(limit) < 1100
    finally:
        loader.close()


def test_the_loader_destination_carries_the_loader_cap_only(tmp_path, monkeypatch):
    from loaders.pipeline import destination

    monkeypatch.setenv("GST_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    monkeypatch.delenv("GST_LOADER_MEMORY_LIMIT", raising=False)
    dest, _, _ = destination("duckdb")
    assert dest.config_params["credentials"].global_config == {"memory_limit": "128MB"}


@pytest.mark.parametrize("target", ["postgres", "redshift"])
def test_profile_and_python_use_the_same_server_defaults(target, monkeypatch):
    """dbt's profile and `loaders.warehouse.server` (loaders, ledger, validation, dashboard)
    fall back to the same host, port, user and database."""
    prefix = warehouse.SERVER_DEFAULTS[target][0]
    for key in ("HOST", "PORT", "USER", "DATABASE"):
        monkeypatch.delenv(prefix + key, raising=False)
    profile = yaml.safe_load((ROOT / "profiles.yml.example").read_text())
    output = profile["game_stream_trends"]["outputs"][target]
    defaults = {
        key: ENV_DEFAULT.search(output[key]).group(2) for key in ("host", "port", "user", "dbname")
    }
    settings = warehouse.server(target)
    assert defaults == {
        "host": settings.host,
        "port": str(settings.port),
        "user": settings.user,
        "dbname": settings.database,
    }
