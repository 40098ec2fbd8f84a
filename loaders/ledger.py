"""Run ledger: one row per load/build/validate/snapshot run in `ops.run_ledger` of the warehouse.

Written with plain SQL through the warehouse's own driver (duckdb, or psycopg2 for PostgreSQL and
Redshift): two short statements per run (insert at start with status "running", update at the
end), so a crashed process leaves a visible "running" row instead of nothing.

    with ledger.run("load", "duckdb", platform="twitch") as entry:
        ...
        entry.update(rows_loaded=1200, retries=2, quarantined=1)

Status at the end: whatever `entry.update(status=...)` set, else "partial" when anything was
quarantined or failed, else "success"; an exception records "failed" (plus an alert) and is
re-raised. A ledger that cannot be written is a warning, never the reason a run fails.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loaders import warehouse

log = logging.getLogger(__name__)

KINDS = ("load", "build", "validate", "snapshot")
STATUSES = ("running", "success", "partial", "failed")
COLUMNS = (
    "run_id",
    "kind",
    "target",
    "started_at",
    "ended_at",
    "status",
    "platform",
    "rows_loaded",
    "retries",
    "quarantined",
    "failures",
    "validation_result",
    "message",
)
UPDATABLE = {
    "status",
    "rows_loaded",
    "retries",
    "quarantined",
    "failures",
    "validation_result",
    "message",
}
# the observation table whose newest observed_at says how current each platform is
LATEST_TABLES = {
    "chzzk": "raw_chzzk.lives",
    "soop": "raw_soop.broads",
    "twitch": "raw_twitch.streams",
    "steam": "raw_steam.current_players",
}
DDL = """
create table if not exists ops.run_ledger (
    run_id varchar(64) not null,
    kind varchar(16) not null,
    target varchar(16) not null,
    started_at timestamptz not null,
    ended_at timestamptz,
    status varchar(16) not null,
    platform varchar(16),
    rows_loaded bigint,
    retries bigint,
    quarantined bigint,
    failures bigint,
    validation_result varchar(4096),
    message varchar(4096)
)
"""


@dataclass
class Entry:
    run_id: str
    kind: str
    target: str
    platform: str | None
    started_at: datetime
    values: dict[str, Any] = field(default_factory=dict)

    def update(self, **values: Any) -> None:
        unknown = set(values) - UPDATABLE
        if unknown:
            raise ValueError(f"run ledger has no column(s) {', '.join(sorted(unknown))}")
        if "status" in values and values["status"] not in STATUSES:
            raise ValueError(f"run ledger status must be one of {', '.join(STATUSES)}")
        self.values.update(values)

    def final_status(self) -> str:
        if self.values.get("status") not in (None, "running"):
            return self.values["status"]
        bad = (self.values.get("quarantined") or 0) + (self.values.get("failures") or 0)
        return "partial" if bad else "success"


@contextmanager
def _connect_waiting(target: str, duckdb_file: Path | str | None) -> Iterator[warehouse.Connection]:
    con = warehouse.wait_on_lock(
        lambda: warehouse.Connection(target, duckdb_file, False), "run ledger", log.warning
    )
    try:
        yield con
    finally:
        con.close()


def ensure_table(con: warehouse.Connection) -> None:
    con.execute("create schema if not exists ops")
    con.execute(DDL)


# --- recording ----------------------------------------------------------------------------------


_WRITE_LOCK = threading.Lock()


def _now() -> datetime:
    return datetime.now(UTC)


def _write(entry: Entry, target: str, duckdb_file: Path | str | None, first: bool) -> None:
    from loaders.alerts import redact

    try:
        # one writer at a time per process: platforms loading side by side (the demo) would
        # otherwise race on `create schema if not exists` (a DuckDB catalog write conflict)
        # and across processes: wait while a load or build holds the DuckDB file
        with _WRITE_LOCK, _connect_waiting(target, duckdb_file) as con:
            if first:
                ensure_table(con)
                con.execute(
                    "insert into ops.run_ledger (run_id, kind, target, started_at, status, "
                    "platform) values (?, ?, ?, ?, ?, ?)",
                    (
                        entry.run_id,
                        entry.kind,
                        entry.target,
                        entry.started_at,
                        "running",
                        entry.platform,
                    ),
                )
                return
            values = {**entry.values, "status": entry.final_status(), "ended_at": _now()}
            for key in ("message", "validation_result"):
                if values.get(key) is not None:
                    values[key] = redact(str(values[key]))[:4000]
            names = sorted(values)
            con.execute(
                f"update ops.run_ledger set {', '.join(f'{n} = ?' for n in names)} "
                "where run_id = ?",
                (*[values[n] for n in names], entry.run_id),
            )
    except Exception as exc:  # noqa: BLE001 - the run matters more than its ledger row
        log.warning("run ledger not written (%s): %s", target, redact(str(exc))[:300])


@contextmanager
def run(
    kind: str,
    target: str,
    platform: str | None = None,
    *,
    duckdb_file: Path | str | None = None,
    alert: bool = True,
) -> Iterator[Entry]:
    """Record one run in ops.run_ledger of `target`; see the module docstring."""
    if kind not in KINDS:
        raise ValueError(f"run ledger kind must be one of {', '.join(KINDS)}, not {kind!r}")
    entry = Entry(uuid.uuid4().hex, kind, target, platform, _now())
    _write(entry, target, duckdb_file, first=True)
    try:
        yield entry
    except BaseException as exc:
        entry.update(status="failed", message=f"{type(exc).__name__}: {exc}")
        _write(entry, target, duckdb_file, first=False)
        if alert and isinstance(exc, Exception):
            from loaders.alerts import notify

            where = f" {platform}" if platform else ""
            notify(
                f"{kind}_failed",
                f"{kind}{where} on {target} failed: {type(exc).__name__}: {exc}",
                {"run_id": entry.run_id, "kind": kind, "target": target, "platform": platform},
            )
        raise
    _write(entry, target, duckdb_file, first=False)
    if alert and entry.final_status() == "failed":
        from loaders.alerts import notify

        notify(
            f"{kind}_failed",
            f"{kind} on {target} failed: {entry.values.get('message') or 'see gst status'}",
            {"run_id": entry.run_id, "kind": kind, "target": target, "platform": platform},
        )


# --- reading (gst status) -----------------------------------------------------------------------


def recent_runs(
    target: str, limit: int = 20, duckdb_file: Path | str | None = None
) -> list[dict[str, Any]]:
    with warehouse.connect(target, read_only=True, duckdb_file=duckdb_file) as con:
        if not con.has_table("ops", "run_ledger"):
            return []
        return con.rows(
            f"select {', '.join(COLUMNS)} from ops.run_ledger "
            f"order by started_at desc limit {int(limit)}"
        )


def platform_status(target: str, duckdb_file: Path | str | None = None) -> list[dict[str, Any]]:
    """Per platform: the end of its last successful (or partial) load and its newest
    observed_at in the raw tables."""
    out = []
    with warehouse.connect(target, read_only=True, duckdb_file=duckdb_file) as con:
        loads: dict[str, Any] = {}
        if con.has_table("ops", "run_ledger"):
            for row in con.rows(
                "select platform, max(ended_at) as last_load from ops.run_ledger "
                "where kind = 'load' and status in ('success', 'partial') "
                "and platform is not null group by platform"
            ):
                loads[row["platform"]] = row["last_load"]
        for platform, relation in LATEST_TABLES.items():
            schema, table = relation.split(".")
            observed = None
            if con.has_table(schema, table):
                observed = con.rows(f"select max(observed_at) as m from {relation}")[0]["m"]
            out.append(
                {
                    "platform": platform,
                    "last_successful_load": loads.get(platform),
                    "latest_observed_at": observed,
                }
            )
    return out


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return f"{value:,}" if isinstance(value, int) else str(value)


def print_status(
    target: str, limit: int = 20, duckdb_file: Path | str | None = None, console: Any = None
) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    runs = recent_runs(target, limit, duckdb_file)
    from rich import box

    table = Table(title=f"Latest runs on {target} (UTC)", box=box.SIMPLE_HEAD)
    headers = ("started", "kind", "platform", "status", "secs", "rows", "retry", "quar", "fail")
    for name in headers:
        table.add_column(name, no_wrap=True, justify="right" if name in headers[4:] else "left")
    colours = {"success": "green", "partial": "yellow", "failed": "red", "running": "cyan"}
    notes = []
    for r in runs:
        seconds = (
            f"{(r['ended_at'] - r['started_at']).total_seconds():.1f}"
            if r["ended_at"] and r["started_at"]
            else "-"
        )
        started = _fmt(r["started_at"])[:16]
        short = started[5:]
        table.add_row(
            short,
            r["kind"],
            _fmt(r["platform"]),
            f"[{colours.get(r['status'], 'white')}]{r['status']}[/]",
            seconds,
            _fmt(r["rows_loaded"]),
            _fmt(r["retries"]),
            _fmt(r["quarantined"]),
            _fmt(r["failures"]),
        )
        message = r["message"] or r["validation_result"]
        if message and r["status"] != "success":
            notes.append(f"{started} {r['kind']}: {message[:300]}")
    if not runs:
        console.print(f"No runs recorded in ops.run_ledger on {target} yet.")
    else:
        console.print(table)
        for note in notes:
            console.print(note, markup=False)
    platforms = Table(title="Platforms (UTC)", box=box.SIMPLE_HEAD)
    for name in ("platform", "last successful load", "latest observed_at"):
        platforms.add_column(name)
    for row in platform_status(target, duckdb_file):
        platforms.add_row(
            row["platform"], _fmt(row["last_successful_load"]), _fmt(row["latest_observed_at"])
        )
    console.print(platforms)
