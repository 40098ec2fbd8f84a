"""The warehouse: every `GST_*` setting and its default, `connect(target)`, and the dlt
destination of each target (`destination`). Imports nothing from `loaders`.

Targets: `duckdb` (GST_DUCKDB_PATH, default data/warehouse.duckdb), `postgres` (GST_PG_*) and
`redshift` (GST_REDSHIFT_*, plus GST_REDSHIFT_STAGING_BUCKET for dlt's S3 staging); dlt state
lives in GST_PIPELINES_DIR (default beside the DuckDB file, or data/dlt-pipelines).

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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TARGETS = ("duckdb", "postgres", "redshift")
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


class WarehouseError(RuntimeError):
    """The warehouse cannot be opened (missing file, server unreachable): one sentence."""


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


# --- PostgreSQL and Redshift -----------------------------------------------------------------

# target -> (env prefix, host, port, user, database) defaults; the password has no default
SERVER_DEFAULTS = {
    "postgres": ("GST_PG_", "127.0.0.1", "5432", "postgres", "gst"),
    "redshift": ("GST_REDSHIFT_", "localhost", "5439", "gst", "gst"),
}


@dataclass(frozen=True)
class Server:
    """Connection settings of a PostgreSQL or Redshift target, from its GST_* variables."""

    target: str
    prefix: str
    host: str
    port: int
    user: str
    database: str

    @property
    def password_var(self) -> str:
        return self.prefix + "PASSWORD"

    @property
    def password(self) -> str:
        return os.environ.get(self.password_var, "")

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}/{self.database}"


def server(target: str) -> Server:
    """The GST_PG_* (postgres) or GST_REDSHIFT_* (redshift) settings, defaults filled in."""
    check_target(target)
    if target not in SERVER_DEFAULTS:
        raise SettingError(f"{target} is not a server target")
    prefix, host, port, user, database = SERVER_DEFAULTS[target]
    env = os.environ
    port_text = env.get(prefix + "PORT", port)
    if not str(port_text).isdigit():
        raise SettingError(f"{prefix}PORT must be a port number, got {port_text!r}")
    return Server(
        target,
        prefix,
        env.get(prefix + "HOST", host),
        int(port_text),
        env.get(prefix + "USER", user),
        env.get(prefix + "DATABASE", database),
    )


def check_target(target: str) -> str:
    if target not in TARGETS:
        raise SettingError(f"unknown target {target!r}; choose from {', '.join(TARGETS)}")
    return target


# --- connections -----------------------------------------------------------------------------


class Connection:
    """A DB-API connection plus its placeholder style: write `?`, it becomes `%s` for psycopg2."""

    def __init__(self, target: str, duckdb_file: Path | str | None, read_only: bool):
        self.target = check_target(target)
        if target == "duckdb":
            import duckdb

            path = Path(duckdb_file) if duckdb_file else duckdb_path()
            if read_only and not path.exists():
                raise WarehouseError(f"DuckDB warehouse {path} does not exist (run `gst load`)")
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self.con = connect_duckdb(path, read_only=read_only)
            except (duckdb.Error, SettingError) as exc:
                raise WarehouseError(f"cannot open DuckDB warehouse {path}: {exc}") from None
            self.mark = "?"
            return
        import psycopg2

        settings = server(target)
        try:
            self.con = psycopg2.connect(
                host=settings.host,
                port=settings.port,
                user=settings.user,
                password=settings.password or None,
                dbname=settings.database,
                connect_timeout=10,
            )
        except psycopg2.Error as exc:
            raise WarehouseError(
                f"cannot connect to {target} at {settings.host}:{settings.port}: "
                f"{type(exc).__name__} (check {settings.prefix}* settings)"
            ) from None
        self.con.autocommit = True
        self.mark = "%s"

    def execute(self, sql: str, params: tuple = ()) -> Any:
        sql = sql.replace("?", self.mark)
        if self.target == "duckdb":
            return self.con.execute(sql, params)
        cur = self.con.cursor()
        cur.execute(sql, params)
        return cur

    def rows(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        cur = self.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def has_table(self, schema: str, table: str) -> bool:
        found = self.rows(
            "select 1 as hit from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            (schema, table),
        )
        return bool(found)

    def close(self) -> None:
        self.con.close()


@contextmanager
def connect(
    target: str, read_only: bool = False, duckdb_file: Path | str | None = None
) -> Iterator[Connection]:
    """An open connection to `target` (duckdb with the warehouse settings, or psycopg2),
    closed on exit; WarehouseError in one sentence when it cannot be opened."""
    con = Connection(target, duckdb_file, read_only)
    try:
        yield con
    finally:
        con.close()


# --- the dlt destination ---------------------------------------------------------------------


def destination(target: str) -> tuple[Any, Any, Path]:
    """(destination, staging or None, pipelines_dir) for a target; dlt state is kept per
    warehouse so two warehouses (or two test runs) never share pipeline state."""
    import dlt

    check_target(target)
    base = Path(os.environ.get("GST_PIPELINES_DIR", "data/dlt-pipelines"))
    if target == "duckdb":
        path = duckdb_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        pipelines_dir = Path(os.environ.get("GST_PIPELINES_DIR") or f"{path}.dlt")
        from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

        # DuckDB keeps a load's rows in its buffer pool until commit; a cap makes it spill
        # instead, so the loader's peak memory does not grow with the size of a poll. dlt sets it
        # on the connections it opens; dbt and readers set their own (see the module doc).
        credentials = DuckDbCredentials(
            str(path), global_config={"memory_limit": loader_memory_limit()}
        )
        return dlt.destinations.duckdb(credentials), None, pipelines_dir
    settings = server(target)
    creds = {
        "host": settings.host,
        "port": settings.port,
        "username": settings.user,
        "password": settings.password,
        "database": settings.database,
    }
    if target == "postgres":
        where = f"postgres-{settings.host}-{settings.port}-{settings.database}"
        return dlt.destinations.postgres(credentials=creds), None, base / where
    bucket = os.environ.get("GST_REDSHIFT_STAGING_BUCKET")
    if not bucket:
        raise SettingError(
            "the redshift target loads through S3: set GST_REDSHIFT_STAGING_BUCKET "
            "(s3://bucket/prefix) and AWS credentials for dlt's filesystem destination"
        )
    where = f"redshift-{settings.host}-{settings.database}"
    # Files go to S3 (parquet, dlt's layout under <bucket>/<dataset>/<table>/), then one COPY
    # per file. AWS keys: dlt config or the standard AWS chain (env, profile, instance role);
    # an endpoint override serves S3-compatible stores (MinIO, a local test server).
    endpoint_url = os.environ.get("GST_REDSHIFT_STAGING_ENDPOINT_URL") or None
    staging = dlt.destinations.filesystem(
        bucket_url=bucket,
        credentials=_aws_credentials(endpoint_url=endpoint_url) if endpoint_url else None,
    )
    # With an IAM role Redshift reads S3 itself (COPY ... IAM_ROLE); otherwise dlt forwards
    # the staging keys in the COPY statement.
    iam_role = os.environ.get("GST_REDSHIFT_IAM_ROLE") or None
    redshift = dlt.destinations.redshift(credentials=creds, staging_iam_role=iam_role)
    return redshift, staging, base / where


def _aws_credentials(**values: Any) -> Any:
    """AwsCredentials with some fields set; the rest still resolve from config/AWS chain."""
    from dlt.common.configuration.specs import AwsCredentials

    credentials = AwsCredentials()
    for key, value in values.items():
        setattr(credentials, key, value)
    return credentials
