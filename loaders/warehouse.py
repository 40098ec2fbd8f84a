"""Warehouse settings: where the DuckDB file is and how much of the machine DuckDB may use.

DuckDB's settings (memory limit, threads, spill directory) belong to the database *instance*,
and one process shares one instance per file: whatever the last connection set is what every
connection in the process gets. So each user of the warehouse sets its own on open:

- dbt, validation, the demo summary, the dashboard and the run ledger use the **warehouse
  settings** below (`GST_DUCKDB_MEMORY_LIMIT`, `GST_DUCKDB_MAX_TEMP_SIZE`, `GST_DUCKDB_THREADS`);
  dbt reads the same variables with the same defaults in `profiles.yml.example` (`settings:`),
  and `tests/python/test_warehouse.py` checks the two agree.
- the loaders set their own, smaller cap (`GST_LOADER_MEMORY_LIMIT`) on the connection dlt
  opens, so a load's buffer pool stays small; it never reaches a dbt build in the same process,
  because dbt sets the warehouse settings again on every cursor it opens.

Spills go to DuckDB's default temp directory, `<GST_DUCKDB_PATH>.tmp`: DuckDB refuses to move
the temp directory of an instance once it has been used, even to the same path, so it cannot be
re-set per connection.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

DUCKDB_PATH_DEFAULT = "data/warehouse.duckdb"
# dbt builds, validation and reads. The heaviest model at 30 days x 400 channels peaks well below
# this (README "Performance"); DuckDB spills sorts, joins and aggregates beyond it to the temp dir.
DUCKDB_MEMORY_LIMIT_DEFAULT = "1GB"
DUCKDB_THREADS_DEFAULT = "2"
DUCKDB_MAX_TEMP_SIZE_DEFAULT = "20GB"
# the loader's cap while dlt writes a poll (its buffer pool otherwise holds a whole load)
LOADER_MEMORY_LIMIT_DEFAULT = "128MB"

_SIZE = re.compile(r"\d+(\.\d+)?\s*([KMGT]i?)?B", flags=re.IGNORECASE)


class SettingError(ValueError):
    """A warehouse setting the user must fix (shown as one sentence)."""


def duckdb_path() -> Path:
    """The DuckDB warehouse file, as profiles.yml and the loaders resolve it: GST_DUCKDB_PATH,
    default data/warehouse.duckdb, relative to the working directory."""
    return Path(os.environ.get("GST_DUCKDB_PATH", DUCKDB_PATH_DEFAULT)).resolve()


def _size(variable: str, default: str) -> str:
    value = os.environ.get(variable, default).strip()
    if not _SIZE.fullmatch(value):
        raise SettingError(f"{variable} must be a size such as 128MB or 1GB, got {value!r}")
    return value


def duckdb_settings() -> dict[str, str]:
    """The settings dbt, validation and readers run DuckDB with (validated)."""
    threads = os.environ.get("GST_DUCKDB_THREADS", DUCKDB_THREADS_DEFAULT).strip()
    if not threads.isdigit() or int(threads) < 1:
        raise SettingError(f"GST_DUCKDB_THREADS must be a whole number >= 1, got {threads!r}")
    return {
        "memory_limit": _size("GST_DUCKDB_MEMORY_LIMIT", DUCKDB_MEMORY_LIMIT_DEFAULT),
        "max_temp_directory_size": _size("GST_DUCKDB_MAX_TEMP_SIZE", DUCKDB_MAX_TEMP_SIZE_DEFAULT),
        "threads": threads,
    }


def loader_memory_limit() -> str:
    """DuckDB's memory cap while the loaders write (GST_LOADER_MEMORY_LIMIT, validated)."""
    return _size("GST_LOADER_MEMORY_LIMIT", LOADER_MEMORY_LIMIT_DEFAULT)


def apply_duckdb_settings(con: Any, settings: dict[str, str] | None = None) -> Any:
    """Set the warehouse settings on a DuckDB connection (they hold for its whole instance)."""
    for key, value in (settings or duckdb_settings()).items():
        con.execute(f"set {key} = '{value}'")
    return con


def connect_duckdb(path: Path | str | None = None, read_only: bool = False) -> Any:
    """A DuckDB connection with the warehouse settings (not the loader's cap)."""
    import duckdb

    settings = duckdb_settings()
    con = duckdb.connect(str(path or duckdb_path()), read_only=read_only)
    try:
        return apply_duckdb_settings(con, settings)
    except Exception:
        con.close()
        raise


# --- readers and writers of the DuckDB file -----------------------------------------------------
# DuckDB lets one process open a file read-write and then no other process open it at all. So
# readers (the dashboard, BI tools) read a published copy of gold (loaders/publish.py), and the
# writers (a load flush, a dbt build, the run ledger) wait for each other instead of failing.

DUCKDB_LOCK_WAIT_DEFAULT = "900"  # seconds: longer than a full dbt build at 30 days
LOCK_ERROR = "Could not set lock on file"


def duckdb_read_path() -> Path:
    """The published gold file readers open (GST_DUCKDB_READ_PATH); by default beside the
    warehouse, named after it: data/warehouse.duckdb -> data/warehouse.gold.duckdb."""
    explicit = os.environ.get("GST_DUCKDB_READ_PATH", "").strip()
    if explicit:
        return Path(explicit).resolve()
    path = duckdb_path()
    return path.with_name(f"{path.stem}.gold.duckdb")


def duckdb_lock_wait() -> float:
    """How long a writer waits for another process's lock on the warehouse, in seconds
    (GST_DUCKDB_LOCK_WAIT, validated)."""
    value = os.environ.get("GST_DUCKDB_LOCK_WAIT", DUCKDB_LOCK_WAIT_DEFAULT).strip()
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds < 0:
        raise SettingError(f"GST_DUCKDB_LOCK_WAIT must be a number of seconds >= 0, got {value!r}")
    return seconds


def is_lock_error(exc: BaseException | None) -> bool:
    """True when `exc` (or what caused it) is DuckDB refusing a file another process holds."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if LOCK_ERROR in str(exc):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def wait_on_lock(action: Any, what: str, echo: Any = print, wait: float | None = None) -> Any:
    """Run `action()`; while it fails because another process holds the DuckDB file, retry with
    backoff (1 s doubling to 5 s) for at most `wait` seconds (GST_DUCKDB_LOCK_WAIT), saying so
    when the wait begins and once a minute after. Only for actions that fail before writing
    anything (opening the file)."""
    import time

    wait = duckdb_lock_wait() if wait is None else wait
    started = time.monotonic()
    delay, said = 1.0, None
    while True:
        try:
            return action()
        except Exception as exc:
            if not is_lock_error(exc):
                raise
            waited = time.monotonic() - started
            holder = re.search(r"\(PID (\d+)\)", str(exc))
            by = f" by process {holder.group(1)}" if holder else ""
            if waited >= wait:
                raise TimeoutError(
                    f"{what}: the DuckDB warehouse stayed locked{by} for {wait:.0f}s "
                    "(GST_DUCKDB_LOCK_WAIT); try again when the other load or build has finished"
                ) from exc
            if said is None or waited - said >= 60:
                so_far = f" ({waited:.0f}s so far)" if said is not None else ""
                echo(f"{what}: the warehouse is locked{by} (a load or build); waiting{so_far}")
                said = waited
            time.sleep(min(delay, wait - waited))
            delay = min(delay * 2, 5.0)
