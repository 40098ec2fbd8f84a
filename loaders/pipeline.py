"""The loader runtime: one dlt pipeline per platform, one poll per `run_load` call.

`gst load` and `gst poll` call into this module. Each platform gets its own pipeline
(`gst_<platform>` -> dataset `raw_<platform>`); a platform that fails is reported in one
sentence and does not stop the others. Pending load packages left by an interrupted run
(even a SIGKILL) are finished first, and observation tables use dlt's `delete-insert` merge on
their primary key, so re-running a poll never duplicates rows.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import importlib
import logging
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from loaders import alerts, ledger, warehouse
from loaders.records import (
    ARROW_BATCH_ROWS,
    PLATFORMS,
    POLL_RECORD,
    poll_id,
    poll_stats,
    reset_poll_stats,
)

log = logging.getLogger("gst.pipeline")

SOURCES = {  # platform -> (module, source function); imported lazily
    "chzzk": ("loaders.chzzk", "chzzk_source"),
    "soop": ("loaders.soop", "soop_source"),
    "twitch": ("loaders.twitch", "twitch_source"),
    "steam": ("loaders.steam", "steam_source"),
}
#: A target or platform configuration the user must fix (shown as one sentence).
ConfigError = warehouse.SettingError
SIDE_TABLES = ("quarantine", POLL_RECORD)  # not observations: left out of the row counts
destination = warehouse.destination


@dataclass
class PlatformReport:
    platform: str
    status: str = "pending"  # ok | failed
    rows: dict[str, int] = field(default_factory=dict)
    pages: int = 0
    retries: int = 0
    quarantined: int = 0
    error: str | None = None
    poll_id: str | None = None
    seconds: float = 0.0

    def summary(self) -> str:
        if self.status == "failed":
            return f"{self.platform}: FAILED - {self.error}"
        tables = ", ".join(f"{t} {n}" for t, n in sorted(self.rows.items())) or "no rows"
        return (
            f"{self.platform}: ok - {tables}; {self.pages} pages, {self.retries} retries, "
            f"{self.quarantined} quarantined ({self.seconds:.1f}s)"
        )


@dataclass
class LoadReport:
    platforms: dict[str, PlatformReport] = field(default_factory=dict)

    @property
    def failed(self) -> list[str]:
        return [p for p, r in self.platforms.items() if r.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed


def resolve_platforms(names: list[str] | str) -> list[str]:
    """'all' or names -> platforms in run order (streaming first, Steam last)."""
    names = [names] if isinstance(names, str) else list(names)
    if "all" in names:
        return list(PLATFORMS)
    unknown = [n for n in names if n not in SOURCES]
    if unknown:
        raise ConfigError(f"unknown platform {unknown[0]!r}; choose from {', '.join(SOURCES)}")
    return [p for p in PLATFORMS if p in names]


def skip_streamlit_secrets() -> None:
    """Keep dlt from importing Streamlit (~1.5 s, most of a loader's start-up) to read secrets.

    When no `.dlt/secrets.toml` exists (secrets come from the environment), dlt's TOML provider
    imports Streamlit, if installed (the dashboard needs it), only to find that no Streamlit app
    runs in this process. Unless Streamlit is already imported, none can run, so the look-up
    answers "no secrets there" without the import. Called before dlt resolves any config."""
    import sys

    from dlt.common.configuration.providers.toml import SettingsTomlProvider

    read = SettingsTomlProvider._read_streamlit_secrets
    if getattr(read, "gst_lazy", False):
        return

    def read_if_running(self: Any, name: str, file_name: str) -> Any:
        return read(self, name, file_name) if "streamlit" in sys.modules else None

    read_if_running.gst_lazy = True  # type: ignore[attr-defined]
    SettingsTomlProvider._read_streamlit_secrets = read_if_running  # type: ignore[method-assign]


def make_pipeline(platform: str, target: str = "duckdb") -> Any:
    import dlt

    skip_streamlit_secrets()

    # Resources yield arrow tables; dlt adds its lineage columns to them only when asked.
    # dbt staging relies on _dlt_load_id / _dlt_id (loaders/raw_tables.md).
    os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")
    os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_ID", "true")
    # A loaded package's job files (a copy of every row: ~40 MB per Twitch poll at 100k channels)
    # are deleted once the package is loaded, so a `gst poll` running for weeks keeps a flat disk.
    os.environ.setdefault("LOAD__DELETE_COMPLETED_JOBS", "true")

    dest, staging, pipelines_dir = destination(target)
    return dlt.pipeline(
        pipeline_name=f"gst_{platform}",
        destination=dest,
        staging=staging,
        dataset_name=f"raw_{platform}",
        pipelines_dir=str(pipelines_dir),
        progress="log" if os.environ.get("GST_DEBUG") else None,
    )


def make_source(platform: str) -> Any:
    """The platform's dlt source (one poll's worth); it fetches its first page right away."""
    module, function = SOURCES[platform]
    try:
        source_function = getattr(importlib.import_module(module), function)
    except ModuleNotFoundError as exc:
        if exc.name not in (module, module.rsplit(".", 1)[0]):
            raise
        raise ConfigError(f"{platform}: loader {module} is not installed") from exc
    return source_function()


def one_sentence(platform: str, exc: BaseException) -> str:
    """The innermost meaningful cause of a failure as one line (never a traceback)."""
    from requests.exceptions import ConnectionError as HttpConnectionError

    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen:
        seen.append(cur)
        cur = getattr(cur, "exception", None) or cur.__cause__ or cur.__context__
    root = seen[-1]
    for candidate in reversed(seen):  # prefer our own clear messages over wrappers
        if type(candidate).__module__.startswith("loaders"):
            root = candidate
            break
    missing = getattr(root, "fields", None)
    if type(root).__name__ == "ConfigFieldMissingException" and missing:
        keys = " and ".join(f"SOURCES__{platform.upper()}__{f.upper()}" for f in missing)
        text = (
            f"missing configuration: set {keys} "
            f"(env vars, or [sources.{platform}] in .dlt/secrets.toml)"
        )
    elif isinstance(root, HttpConnectionError):
        url = getattr(getattr(root, "request", None), "url", None) or ""
        host = url.split("/")[2] if url.count("/") >= 2 else "the API host"
        text = f"cannot reach {host} (connection refused or DNS failure)"
    else:
        text = str(root).strip().splitlines()[0] if str(root).strip() else type(root).__name__
    text = text[:300]
    return text if text.startswith(platform) else f"{platform}: {text}"


def finish_pending(pipeline: Any) -> bool:
    """Normalize and load packages left by an interrupted run; True if there were any."""
    if not pipeline.has_pending_data:
        return False
    log.warning("%s: finishing load packages of an interrupted run", pipeline.pipeline_name)
    if pipeline.list_extracted_load_packages():
        merge_extracted(pipeline)
        pipeline.normalize()
    if pipeline.list_normalized_load_packages():
        pipeline.load().raise_on_failed_jobs()
    return True


def _package_schema_hash(package: Path) -> str | None:
    import json

    try:
        return json.loads((package / "schema.json").read_text())["version_hash"]
    except (OSError, ValueError, KeyError):
        return None


def merge_extracted(pipeline: Any) -> None:
    """Merge extracted packages that were extracted with different schemas into the newest one.

    dlt normalizes every package with the pipeline's stored schema (the newest) and warns for
    each package extracted with an older one ("the storage schema hash ... is different from
    extract package schema hash"): a poll that added a table or a column, then polls extracted
    before it are normalized. Their jobs fit the newest schema (it only grew), so they are moved
    into the newest package and normalized as one. Jobs move by rename, each before its emptied
    package is removed, so an interruption leaves every job in exactly one package (the next
    flush merges the rest). Packages extracted with the same schema are left alone: one package
    per poll keeps each delete-insert merge within the loader's DuckDB memory cap."""
    extracted = Path(pipeline.working_dir) / "normalize" / "extracted"
    packages = [extracted / i for i in sorted(pipeline.list_extracted_load_packages(), key=float)]
    if len({_package_schema_hash(p) for p in packages}) < 2:
        return
    if not all((p / "new_jobs").is_dir() for p in packages):
        return  # not dlt's package layout: load them one by one (dlt warns)
    *older, newest = packages
    for package in older:
        jobs = list((package / "new_jobs").iterdir())
        if any((newest / "new_jobs" / job.name).exists() for job in jobs):
            continue  # a file name clash (not expected): this package loads on its own
        for job in jobs:
            job.rename(newest / "new_jobs" / job.name)
        shutil.rmtree(package)


def load_extracted(
    pipeline: Any, echo: Callable[[str], None] | None = None
) -> tuple[dict[str, int], int]:
    """Normalize and load every extracted package of `pipeline` (merged into one, see
    `merge_extracted`): (rows per raw table, quarantined rows) of what was normalized. While
    another process (a build) holds the DuckDB file, the load waits for it (`echo` says so)."""
    merge_extracted(pipeline)
    pipeline.normalize()
    name = pipeline.pipeline_name.removeprefix("gst_")
    loaded = warehouse.wait_on_lock(pipeline.load, f"{name}: load", echo or log.warning)
    loaded.raise_on_failed_jobs()
    # new columns or variant columns on existing raw tables: a webhook alert (README)
    alerts.notify_schema_drift(loaded, pipeline.pipeline_name.removeprefix("gst_"))
    info = pipeline.last_trace.last_normalize_info
    counts = info.row_counts if info else {}
    rows = {t: n for t, n in counts.items() if t[:4] != "_dlt" and t not in SIDE_TABLES}
    return rows, counts.get("quarantine", 0)


def poll_records(platform: str, observed: Callable[[], Iterable[datetime | None]]) -> Any:
    """The dlt resource of `raw_<platform>.polls` (poll_id, observed_at, table_name): one record
    per poll that got an answer (`observed()` yields each poll's `observed_at`, None for a poll
    that got no response), also when it saw nobody live, so freshness checks judge the polls
    themselves, not the presence of live rows. `observed` is called when the resource is
    extracted, so it may read times that are only known once the polls have run."""
    import dlt

    table = ledger.LATEST_TABLES[platform].split(".", 1)[1]

    def records() -> Iterator[dict[str, Any]]:
        for at in observed():
            if at is not None:
                yield {"poll_id": poll_id(platform, at), "observed_at": at, "table_name": table}

    return dlt.resource(
        records,
        name=POLL_RECORD,
        write_disposition="merge",
        primary_key=("poll_id", "table_name"),
        columns={"observed_at": {"data_type": "timestamp", "timezone": True}},
    )


#: The arrow bytes of polls a `PollBuffer` holds before they are extracted (one load package
#: each): bounds the loader's memory and the size of one delete-insert merge.
BUFFER_BYTES = 64 * 2**20  # about a poll of Twitch at 100k channels (54 MB)


class PollBuffer:
    """Polls run now, handed to dlt later: the arrow tables a poll's resources yield are kept
    in memory, per resource and table, and `extract` gives dlt one table per raw table in one
    `extract` call for all the polls in hand.

    dlt's costs are per `extract` call (load package, schema and state) and per item (table
    schema, contract checks, a Parquet row group), not per row: `gst poll` and the demo pay
    them once per flush instead of once per poll and page. Polls run with the buffer's own
    copy of the resources' dlt state (Steam's and Chzzk's cadences), which `extract` writes to
    the pipeline's state in the same load package as the rows, so a crash before the load
    forgets both. A poll whose source raises keeps nothing (as a failed `extract`); the polls
    before it stay in hand. Each poll that got an answer is recorded in
    `raw_<platform>.polls` (`poll_records`)."""

    def __init__(self, platform: str, state: dict[str, Any]) -> None:
        import copy

        self.platform = platform
        #: the pipeline state the polls read and write: the pipeline's (`pipeline.state`), or
        #: the state another buffer of the same pipeline ended with (polls go on from there)
        self.state = copy.deepcopy(state)
        # from the newest poll's source: its name, schema and each resource's (section, hints)
        self.source_name: str | None = None
        self.schema: Any = None
        self.hints: dict[str, tuple[str, Any]] = {}
        self.tables: dict[tuple[str, str], tuple[Any, list[Any]]] = {}
        self.observed: list[datetime] = []
        self.polls = self.rows = self.nbytes = 0

    def __len__(self) -> int:
        return self.polls

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (the demo polls in a second process): dlt's Schema goes as its dict."""
        state = self.__dict__.copy()
        if self.schema is not None:
            state["schema"] = self.schema.to_dict()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        from dlt.common.schema import Schema

        if state["schema"] is not None:
            state["schema"] = Schema.from_dict(state["schema"], bump_version=False)
        self.__dict__.update(state)

    @property
    def full(self) -> bool:
        """Holds `BUFFER_BYTES` or more: time to extract, so memory stays bounded."""
        return self.nbytes >= BUFFER_BYTES

    def run(self, source: Any) -> None:
        """Run one poll (every request of every selected resource) and keep what it yields."""
        import copy

        from dlt.common.configuration.container import Container
        from dlt.common.configuration.resolve import inject_section
        from dlt.common.configuration.specs import ConfigSectionContext, known_sections
        from dlt.common.pipeline import StateInjectableContext
        from dlt.extract.pipe_iterator import PipeIterator
        from dlt.extract.source import SourceInjectableContext, SourceSchemaInjectableContext

        stats = poll_stats(self.platform)
        stats.observed_at = None
        state = copy.deepcopy(self.state)  # kept only if the poll succeeds
        kept: dict[tuple[str, str], tuple[Any, list[Any]]] = {}
        container = Container()
        section = ConfigSectionContext(
            sections=(known_sections.SOURCES, source.section, source.name),
            source_state_key=source.name,
        )
        with (
            container.injectable_context(StateInjectableContext(state=state)),
            container.injectable_context(SourceSchemaInjectableContext(source.schema)),
            container.injectable_context(SourceInjectableContext(source)),
            inject_section(section),
            PipeIterator.from_pipes(source.resources.selected_pipes) as pipes,
        ):
            for item in pipes:
                table = item.item
                if not hasattr(table, "num_rows"):  # our resources yield arrow tables only
                    raise TypeError(
                        f"{self.platform}: resource {item.pipe.name} yielded "
                        f"{type(table).__name__}, not a pyarrow table"
                    )
                hints = getattr(item.meta, "hints", None) or {}
                key = (item.pipe.name, str(hints.get("table_name") or item.pipe.name))
                kept.setdefault(key, (item.meta, []))[1].append(table)
        for key, (meta, tables) in kept.items():
            self.tables.setdefault(key, (meta, []))[1].extend(tables)
            self.rows += sum(t.num_rows for t in tables)
            self.nbytes += sum(t.nbytes for t in tables)
        self.state, self.source_name, self.schema = state, source.name, source.schema
        for resource in source.resources.selected.values():
            hints = dict(resource._hints) if resource._hints else None  # noqa: SLF001
            self.hints[resource.name] = (resource.section, hints)
        self.polls += 1
        if stats.observed_at is not None:
            self.observed.append(stats.observed_at)

    def extract(self, pipeline: Any) -> bool:
        """One `extract` of every poll in hand (one load package), with the resources' state;
        empties the buffer. False when there was nothing to extract."""
        if self.schema is None:
            return False
        import pyarrow as pa
        from dlt.extract.items import DataItemWithMeta
        from dlt.extract.resource import DltResource

        by_resource: dict[str, list[tuple[Any, list[Any]]]] = {}
        for (resource, _table), group in self.tables.items():
            by_resource.setdefault(resource, []).append(group)

        def items(groups: list[tuple[Any, list[Any]]]) -> Iterator[Any]:
            for meta, tables in groups:
                for table in _merged(tables):
                    yield table if meta is None else DataItemWithMeta(meta, table)

        def _merged(tables: list[Any]) -> Iterator[Any]:
            """Small tables (a poll of few channels) merged into tables of ARROW_BATCH_ROWS
            or more; a table that large already passes as it is (no copy)."""
            pending: list[Any] = []
            rows = 0
            for table in tables:
                pending.append(table)
                rows += table.num_rows
                if rows >= ARROW_BATCH_ROWS:
                    yield _concat(pending)
                    pending, rows = [], 0
            if pending:
                yield _concat(pending)

        def _concat(tables: list[Any]) -> Any:
            return (
                tables[0]
                if len(tables) == 1
                else pa.concat_tables(tables, promote_options="permissive")
            )

        resources = []
        for name, groups in by_resource.items():
            section, hints = self.hints[name]
            resources.append(
                DltResource.from_data(items(groups), name=name, section=section, hints=hints)
            )
        observed = list(self.observed)
        resources_state = self.state.get("sources", {}).get(self.source_name, {}).get("resources")

        def records() -> Iterator[datetime]:
            import dlt

            if resources_state is not None:  # the polls' state goes with their rows
                dlt.current.source_state()["resources"] = resources_state
            yield from observed

        resources.append(poll_records(self.platform, records))
        pipeline.extract(resources, schema=self.schema)
        self.schema, self.tables, self.observed = None, {}, []
        self.polls = self.rows = self.nbytes = 0
        return True


def load_sequence(pipeline: Any, sources: Iterable[Any]) -> tuple[dict[str, int], int]:
    """The one load sequence: finish what an interrupted run left, run each source (one poll
    each) into a `PollBuffer`, extract it (one load package per `BUFFER_BYTES` of polls), then
    normalize and load them together and count the rows (see `load_extracted`)."""
    finish_pending(pipeline)
    buffer = PollBuffer(pipeline.pipeline_name.removeprefix("gst_"), pipeline.state)
    with contextlib.closing(iter(sources)) as polls:
        for source in polls:
            buffer.run(source)
            if buffer.full:
                buffer.extract(pipeline)
    buffer.extract(pipeline)
    return load_extracted(pipeline)


def load_platform(
    platform: str, target: str = "duckdb", listener: Callable[[Any], None] | None = None
) -> PlatformReport:
    """One poll of one platform into the target; failures end up in the report."""
    with ledger.run("load", target, platform=platform) as entry:
        report = _load_platform(platform, target, listener)
        entry.update(
            rows_loaded=sum(report.rows.values()),
            retries=report.retries,
            quarantined=report.quarantined,
            **({"status": "failed", "message": report.error} if report.error else {}),
        )
    return report


def _one_source(platform: str) -> Iterator[Any]:
    yield make_source(platform)  # made after pending packages are finished


def _load_platform(
    platform: str, target: str, listener: Callable[[Any], None] | None
) -> PlatformReport:
    report = PlatformReport(platform)
    stats = reset_poll_stats(platform, listener)
    started = time.monotonic()
    try:
        pipeline = make_pipeline(platform, target)
        report.rows, report.quarantined = load_sequence(pipeline, _one_source(platform))
        report.status = "ok"
    except ConfigError:
        raise
    except Exception as exc:  # one platform failing never stops the others
        report.status = "failed"
        report.error = one_sentence(platform, exc)
        log.debug("%s failed", platform, exc_info=True)
    report.pages, report.retries = stats.pages, stats.retries
    report.quarantined = max(report.quarantined, stats.quarantined)
    report.seconds = time.monotonic() - started
    return report


def run_load(
    platforms: list[str] | str,
    target: str = "duckdb",
    *,
    progress: bool = True,
    on_platform_done: Callable[[PlatformReport], None] | None = None,
) -> LoadReport:
    """One poll of each named platform ('all' for every one), each in its own pipeline."""
    names = resolve_platforms(platforms)
    skip_streamlit_secrets()
    destination(target)  # configuration errors surface before any request is made
    report = LoadReport()
    display = _Display(names) if progress else None
    try:
        for name in names:
            listener = display.listener(name) if display else None
            result = load_platform(name, target, listener)
            report.platforms[name] = result
            if display:
                display.done(result)
            if on_platform_done:
                on_platform_done(result)
    finally:
        if display:
            display.stop()
    return report


class _Display:
    """rich progress: one line per platform with pages, rows and retries as they happen."""

    def __init__(self, names: list[str]):
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description:<7}"),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            transient=False,
        )
        self.tasks = {n: self.progress.add_task(n, total=None, info="waiting") for n in names}
        self.progress.start()

    def listener(self, name: str) -> Callable[[Any], None]:
        def update(stats: Any) -> None:
            info = (
                f"{stats.pages} pages, {stats.rows} rows, {stats.retries} retries, "
                f"{stats.quarantined} quarantined"
            )
            self.progress.update(self.tasks[name], info=info)

        self.progress.update(self.tasks[name], info="polling")
        return update

    def done(self, result: PlatformReport) -> None:
        style = "red" if result.status == "failed" else "green"
        self.progress.update(
            self.tasks[result.platform], info=f"[{style}]{result.summary()}", total=1, completed=1
        )

    def stop(self) -> None:
        self.progress.stop()


# --- continuous polling (`gst poll`) ------------------------------------------------------------

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$")


def parse_duration(text: str) -> float:
    """'30s', '5m', '1h' or plain seconds -> seconds; 0 means no wait (back-to-back polls, or
    a flush after every poll). Negative or unreadable durations are refused."""
    match = _DURATION.match(str(text))
    if not match:
        why = "a duration cannot be negative; " if str(text).strip().startswith("-") else ""
        raise ConfigError(f"cannot read duration {text!r}: {why}use e.g. 0, 30s, 5m or 1h")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def run_poll(
    platforms: list[str] | str,
    target: str = "duckdb",
    *,
    every: float = 300.0,
    flush_every: float = 1800.0,
    max_polls: int | None = None,
    echo: Callable[[str], None] = print,
) -> int:
    """Poll every `every` seconds; each poll is kept in memory (`PollBuffer`: no dlt cost per
    poll) and the polls in hand are extracted, normalized and loaded together every
    `flush_every` seconds (micro-batches; extracted to disk early past `BUFFER_BYTES`).
    SIGTERM or Ctrl-C stops after the current request and loads the batch in hand (a second
    Ctrl-C aborts; dlt then finishes the package on the next run). Returns the number of polls."""
    names = resolve_platforms(platforms)
    skip_streamlit_secrets()
    limit_malloc_arenas()
    destination(target)
    pipelines = {name: make_pipeline(name, target) for name in names}
    for pipeline in pipelines.values():
        finish_pending(pipeline)
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        echo(f"{signal.Signals(signum).name}: stopping after this request, loading the batch")
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    buffers = {name: PollBuffer(name, pipelines[name].state) for name in names}
    # What is in memory now (imported modules, config, schemas) lives as long as the process:
    # frozen, Python's collections stop walking it. A poll parses ~1M JSON objects that live
    # until their page is read; at the default threshold (700) that ran the collector ~700
    # times a poll at 100k channels (~0.8 s of it). Young objects are now collected every
    # 100,000 allocations, and the whole heap at each flush (`settle_memory`).
    gc.collect()
    gc.freeze()
    threshold = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1000)
    polls, last_flush = 0, time.monotonic()
    try:
        while not stop.is_set():
            started = time.monotonic()
            for name in names:
                if stop.is_set():
                    break
                stats = reset_poll_stats(name)
                try:
                    buffers[name].run(make_source(name))
                    echo(
                        f"{name}: polled ({stats.pages} pages, {stats.rows} rows, "
                        f"{stats.retries} retries, {stats.quarantined} quarantined)"
                    )
                except ConfigError:
                    raise
                except Exception as exc:
                    echo(f"{name}: poll FAILED - {one_sentence(name, exc)}")
                if buffers[name].full:  # to a load package on disk: memory stays bounded
                    extract_buffer(pipelines[name], buffers[name], echo)
                    settle_memory()
            polls += 1
            if max_polls and polls >= max_polls:
                break
            if time.monotonic() - last_flush >= flush_every:
                flush(pipelines, echo, buffers)
                settle_memory()
                last_flush = time.monotonic()
            stop.wait(max(0.0, every - (time.monotonic() - started)))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        gc.set_threshold(*threshold)  # first: a second Ctrl-C may interrupt the last flush
        gc.unfreeze()
        flush(pipelines, echo, buffers)
        settle_memory()
    return polls


def settle_memory() -> None:
    """Give back what a flush or an early extract freed: Python's cyclic garbage, pyarrow's
    pool and the C heap (glibc keeps freed pages of its arenas until `malloc_trim`). Without it
    a poller's resident memory creeps up from flush to flush (fragmented native memory of the
    loads), so its peak grows with the number of polls."""
    gc.collect()
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


#: glibc's `mallopt` parameter for the most heaps (arenas) its `malloc` keeps
M_ARENA_MAX = -8
#: the arenas `gst poll` allows (`limit_malloc_arenas`); MALLOC_ARENA_MAX in the environment wins
POLL_MALLOC_ARENAS = 2


def limit_malloc_arenas() -> None:
    """At most `POLL_MALLOC_ARENAS` C heaps for the rest of the process (glibc; elsewhere,
    or when MALLOC_ARENA_MAX is set, nothing changes). glibc gives each thread that allocates
    at once with another a heap of its own, up to 8 per core, and every load runs on threads
    of its own (DuckDB's, dlt's): each heap keeps its own freed, fragmented pages, so a
    poller's resident memory grew from flush to flush (at 100k channels, ~400 MB after the
    first flushes, ~460 MB after 50, its peaks ~530 MB to ~600 MB), where two heaps stay at
    ~400 MB and ~530 MB. Called before any of those threads start."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    libc = _glibc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(M_ARENA_MAX, POLL_MALLOC_ARENAS)


@functools.cache
def _glibc() -> Any:
    """The C library's handle when it is glibc (it has `malloc_trim`), else None."""
    try:
        libc = ctypes.CDLL(None)  # the symbols of the process, the C library's among them
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


def extract_buffer(pipeline: Any, buffer: PollBuffer, echo: Callable[[str], None]) -> bool:
    """Extract the polls in hand to a load package; False (said in one line) if that failed:
    the polls stay in hand for the next try."""
    try:
        buffer.extract(pipeline)
    except Exception as exc:
        name = pipeline.pipeline_name.removeprefix("gst_")
        echo(f"{name}: extract FAILED - {one_sentence(name, exc)} ({len(buffer)} polls kept)")
        return False
    return True


def flush(
    pipelines: dict[str, Any],
    echo: Callable[[str], None],
    buffers: dict[str, PollBuffer] | None = None,
) -> list[str]:
    """Extract the polls in hand (`buffers`), then normalize and load every extracted poll of
    each platform; returns the failed ones."""
    failed = []
    for name, pipeline in pipelines.items():
        if buffers and not extract_buffer(pipeline, buffers[name], echo):
            failed.append(name)
        if not pipeline.list_extracted_load_packages():
            continue
        try:
            counts, quarantined = load_extracted(pipeline, echo)
            rows = ", ".join(f"{t} {n}" for t, n in sorted(counts.items()))
            echo(f"{name}: loaded {rows or 'no rows'}, quarantine {quarantined}")
        except Exception as exc:
            failed.append(name)
            echo(f"{name}: load FAILED - {one_sentence(name, exc)}")
    return failed
