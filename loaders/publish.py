"""`gst build` and `gst publish`: readers of a DuckDB warehouse read a published copy of gold.

DuckDB lets one process open a file read-write and then no other process open it at all, not
even read-only. A dashboard or BI tool reading the warehouse itself would fail on every load flush
and every dbt build, and would block them in turn. So after each successful `dbt build` the
writer copies the `gold` schema into `<read path>.new` (a new DuckDB file: every gold table and
view as a table, plus `ops.published` saying when gold was built), closes it and renames it over
the read path (`GST_DUCKDB_READ_PATH`, default data/warehouse.gold.duckdb). The rename is atomic:
a reader opens either the previous complete copy or the new one, never a half-built gold, and a
reader that holds the previous file open keeps reading it. A build that fails or is killed never
publishes, so readers keep the last complete state. Readers never open the warehouse, so they
never block a writer.

Writers still exclude each other: a build waits (with backoff, `GST_DUCKDB_LOCK_WAIT`) while a
load holds the warehouse, then holds it until it has published; the poller's flushes (and the
run ledger) wait meanwhile.

PostgreSQL and Redshift allow concurrent readers: there `gst build` is `dbt build` and readers
query the warehouse itself.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loaders import ledger, warehouse
from loaders.dbt_run import dbt

SCHEMA = "gold"
STAMP_TABLE = "ops.published"
STAGING_SUFFIX = ".new"


@dataclass
class Published:
    path: Path
    built_at: datetime
    published_at: datetime
    tables: int
    seconds: float

    def summary(self) -> str:
        return (
            f"published {self.tables} gold tables to {self.path} in {self.seconds:.1f}s "
            f"(data as of {self.built_at:%Y-%m-%d %H:%M:%S} UTC)"
        )


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _remove(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(
    built_at: datetime | None = None,
    source: Path | None = None,
    read_path: Path | None = None,
    con: Any = None,
) -> Published:
    """Copy gold from the warehouse into a new file and rename it over the read path.

    `built_at` is when the build that made this gold finished (default: now); `con` an open
    read-write connection to the warehouse to use (else one is opened and closed). Raises
    duckdb.Error (a lock error when another process holds the warehouse: see `wait_on_lock`)."""
    started = time.monotonic()
    source = source or warehouse.duckdb_path()
    target = read_path or warehouse.duckdb_read_path()
    if not source.exists():
        raise FileNotFoundError(f"publish: the DuckDB warehouse {source} does not exist")
    staging = target.with_name(target.name + STAGING_SUFFIX)
    _remove(staging, Path(f"{staging}.wal"))  # left by a publish that was killed
    target.parent.mkdir(parents=True, exist_ok=True)
    published_at = datetime.now(UTC)
    built_at = built_at or published_at
    owned = con is None
    con = warehouse.connect_duckdb(source) if owned else con
    try:
        catalog = con.execute("select current_database()").fetchone()[0]
        relations = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_catalog = ? and table_schema = ? order by table_name",
                (catalog, SCHEMA),
            ).fetchall()
        ]
        if not relations:
            raise RuntimeError(f"publish: {source} has no {SCHEMA} schema yet (run `gst build`)")
        con.execute(f"attach {_quoted(staging)} as gst_publish")
        try:
            con.execute(f"create schema gst_publish.{SCHEMA}")
            for name in relations:
                con.execute(
                    f'create table gst_publish.{SCHEMA}."{name}" as '
                    f'select * from "{catalog}".{SCHEMA}."{name}"'
                )
            con.execute("create schema gst_publish.ops")
            con.execute(
                f"create table gst_publish.{STAMP_TABLE} as select "
                "cast(? as timestamptz) as built_at, cast(? as timestamptz) as published_at",
                (built_at, published_at),
            )
            con.execute("checkpoint gst_publish")
        finally:
            con.execute("detach gst_publish")
    except BaseException:
        _remove(staging, Path(f"{staging}.wal"))
        raise
    finally:
        if owned:
            con.close()
    _fsync(staging)
    os.replace(staging, target)  # atomic: readers see the old file or the new one
    _fsync(target.parent)
    return Published(target, built_at, published_at, len(relations), time.monotonic() - started)


def read_stamp(read_path: Path | None = None) -> dict[str, Any] | None:
    """`ops.published` of the published file (built_at, published_at), None when there is none."""
    import duckdb

    path = read_path or warehouse.duckdb_read_path()
    if not path.exists():
        return None
    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute(f"select built_at, published_at from {STAMP_TABLE}").fetchone()
    return {"built_at": row[0], "published_at": row[1]} if row else None


def build(
    target: str = "duckdb",
    dbt_args: tuple[str, ...] = (),
    echo: Callable[[str], None] = print,
    quiet: bool = False,
    manifest: object = None,
) -> Published | None:
    """`dbt build` (plus `dbt_args`), recorded in the run ledger; on DuckDB, when it succeeds,
    publish gold for readers. Waits while another process holds the DuckDB file. `manifest`:
    an earlier `dbt("parse")` of the unchanged project, reused (see `dbt`)."""
    if target != "duckdb":
        with ledger.run("build", target):
            dbt("build", *dbt_args, target=target, quiet=quiet, manifest=manifest)
        return None
    # Hold the warehouse from start to publish: dbt and the publish in this process share the
    # open DuckDB instance, so a load in another process cannot slip in between (it waits for
    # the build instead), and the gold published is exactly the gold this build made.
    held = warehouse.wait_on_lock(warehouse.connect_duckdb, "build", echo)
    try:
        with ledger.run("build", target):
            dbt("build", *dbt_args, target=target, quiet=quiet, manifest=manifest)
        return publish(datetime.now(UTC), con=held)
    finally:
        held.close()
