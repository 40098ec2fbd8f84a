"""Publishing gold for readers (loaders/publish.py) and writers waiting for each other's lock
(loaders/warehouse.py `wait_on_lock`), on small hand-made DuckDB files (no dbt)."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from loaders import publish, warehouse


def make_warehouse(path: Path, games: list[str]) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists gold")
        con.execute("create schema if not exists silver")
        con.execute("create or replace table gold.dim_games (name_en varchar)")
        con.executemany("insert into gold.dim_games values (?)", [(g,) for g in games])
        con.execute(
            "create or replace view gold.v_games as select upper(name_en) as n from gold.dim_games"
        )
        con.execute("create or replace table silver.hidden as select 1 as x")


def names(path: Path, sql: str = "select name_en from gold.dim_games order by 1") -> list:
    with duckdb.connect(str(path), read_only=True) as con:
        return [row[0] for row in con.execute(sql).fetchall()]


@pytest.fixture
def files(tmp_path, monkeypatch):
    source = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("GST_DUCKDB_PATH", str(source))
    monkeypatch.delenv("GST_DUCKDB_READ_PATH", raising=False)
    return source, tmp_path / "warehouse.gold.duckdb"


def test_read_path_defaults_beside_the_warehouse_and_can_be_set(files, tmp_path, monkeypatch):
    source, read_path = files
    assert warehouse.duckdb_read_path() == read_path
    monkeypatch.setenv("GST_DUCKDB_READ_PATH", str(tmp_path / "bi" / "gold.duckdb"))
    assert warehouse.duckdb_read_path() == tmp_path / "bi" / "gold.duckdb"


def test_publish_copies_gold_only_with_a_stamp_and_leaves_no_staging_file(files):
    source, read_path = files
    make_warehouse(source, ["Lost Ark", "MapleStory"])
    built = datetime(2026, 11, 2, 12, 30, tzinfo=UTC)
    done = publish.publish(built)
    assert done.path == read_path and done.tables == 2
    assert names(read_path) == ["Lost Ark", "MapleStory"]
    assert names(read_path, "select n from gold.v_games order by 1") == ["LOST ARK", "MAPLESTORY"]
    schemas = names(read_path, "select distinct table_schema from information_schema.tables")
    assert sorted(schemas) == ["gold", "ops"]  # silver stays in the warehouse
    assert publish.read_stamp(read_path)["built_at"] == built
    assert sorted(p.name for p in read_path.parent.iterdir() if "gold" in p.name) == [
        read_path.name
    ]


def test_a_reader_holding_the_old_file_keeps_it_while_a_new_one_is_published(files):
    source, read_path = files
    make_warehouse(source, ["Lost Ark"])
    publish.publish()
    with duckdb.connect(str(read_path), read_only=True) as old:
        make_warehouse(source, ["Lost Ark", "Valorant"])
        publish.publish()  # the reader above does not block the publish
        assert old.execute("select count(*) from gold.dim_games").fetchone()[0] == 1
    assert names(read_path) == ["Lost Ark", "Valorant"]


def test_a_failed_publish_keeps_the_previous_file(files, monkeypatch):
    source, read_path = files
    make_warehouse(source, ["Lost Ark"])
    first = publish.publish()
    with duckdb.connect(str(source)) as con:
        con.execute("drop view gold.v_games")
        con.execute("drop table gold.dim_games")
    with pytest.raises(RuntimeError, match="no gold schema"):
        publish.publish()
    assert names(read_path) == ["Lost Ark"]
    assert publish.read_stamp(read_path)["published_at"] == first.published_at
    assert not read_path.with_name(read_path.name + ".new").exists()


def hold(path: Path, seconds: float) -> subprocess.Popen:
    """Another process holding the DuckDB file read-write for `seconds`."""
    code = f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('held', flush=True); "
    code += f"time.sleep({seconds})"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_writer_waits_for_the_lock_with_backoff_then_goes_on(files):
    source, _ = files
    make_warehouse(source, ["Lost Ark"])
    holder = hold(source, 2.5)
    said: list[str] = []
    started = time.monotonic()
    try:
        con = warehouse.wait_on_lock(lambda: duckdb.connect(str(source)), "build", said.append, 30)
    finally:
        holder.wait(10)
    con.close()
    assert time.monotonic() - started >= 2
    assert said == [
        f"build: the warehouse is locked by process {holder.pid} (a load or build); waiting"
    ]


def test_a_writer_gives_up_after_the_bounded_wait_naming_the_holder(files):
    source, _ = files
    make_warehouse(source, ["Lost Ark"])
    holder = hold(source, 30)
    try:
        with pytest.raises(TimeoutError, match=f"locked by process {holder.pid} for 2s"):
            warehouse.wait_on_lock(lambda: duckdb.connect(str(source)), "build", lambda _: None, 2)
    finally:
        holder.kill()
        holder.wait()


def test_other_errors_are_not_retried(files):
    calls = []

    def fails():
        calls.append(1)
        raise duckdb.CatalogException("Catalog Error: Table with name nope does not exist!")

    with pytest.raises(duckdb.CatalogException):
        warehouse.wait_on_lock(fails, "build", lambda _: None, 30)
    assert len(calls) == 1


@pytest.mark.parametrize("value", ["soon", "-1"])
def test_a_bad_lock_wait_setting_is_one_clear_sentence(monkeypatch, value):
    monkeypatch.setenv("GST_DUCKDB_LOCK_WAIT", value)
    with pytest.raises(warehouse.SettingError, match="GST_DUCKDB_LOCK_WAIT must be a number"):
        warehouse.duckdb_lock_wait()
