"""`gst demo`: the whole job on one machine, offline.

simulator (a subprocess, so it does not compete with the loaders for the GIL)
-> loaders (one poll of every platform every `poll_minutes` simulated minutes, in polling
processes, kept in a `PollBuffer`; the polls of an increment are extracted and loaded together
as a micro-batch)
-> dbt seed, then per increment the snapshot inputs and `dbt snapshot`, so snapshots hold
real history -> validate raw -> full `dbt build` -> validate gold -> `dbt docs generate`
-> a summary.

The loaders do not know about the simulated clock: the demo's transport stamps each request
with its poll's simulated instant (the simulator's `X-Sim-Time` header), exactly like time
passing for a real poller; each polling process keeps its own clock.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from requests.adapters import HTTPAdapter

from loaders import ledger, warehouse
from loaders.dbt_run import dbt
from loaders.http import TRANSPORTS
from loaders.pipeline import (
    ConfigError,
    PollBuffer,
    finish_pending,
    flush,
    make_pipeline,
    make_source,
    one_sentence,
)
from loaders.publish import build
from loaders.records import KST, reset_poll_stats
from simulator.process import SimulatorFailed, SimulatorProcess, exit_with_parent

RAW_SCHEMAS = ("raw_chzzk", "raw_soop", "raw_twitch", "raw_steam")
DBT_SCHEMAS = ("staging", "silver", "gold", "seeds", "snapshots", "ops")
#: The platforms each polling process polls: Steam's poll is ~125 short requests (~90 of
#: them one per tracked app), three times the work of the other three together, so it has a
#: process of its own.
POLLING_PROCESSES = (("steam",), ("chzzk", "soop", "twitch"))
#: The longest chain of work while the demo collects: Steam's polls, one request after the
#: other, each waiting on the simulator. Everything else of the collect step (the other
#: platforms' polls, each increment's loads and snapshots) runs `BACKGROUND_NICENESS` lower
#: in CPU priority, so on a busy machine it fills the gaps of that chain instead of slowing it.
CRITICAL_PLATFORMS = frozenset({"steam"})
BACKGROUND_NICENESS = 10
STEAM_CALLS = "SOURCES__STEAM__CONCURRENT_CALLS"
PUBLIC_ONLY = (
    "SOURCES__CHZZK__CLIENT_ID",
    "SOURCES__CHZZK__CLIENT_SECRET",
    "SOURCES__SOOP__CLIENT_ID",
)


class DemoFailed(RuntimeError):
    """A demo step that failed; the message says which step and why."""


@dataclass
class DemoConfig:
    days: float = 3
    seed: int = 42
    channels: int = 120
    target: str = "duckdb"
    poll_minutes: int = 10
    increment_hours: float = 8
    start: str = "2026-11-02T00:00:00Z"
    faults: float = 0.0
    fresh: bool = True
    docs: bool = True
    validate: bool = True
    truth_path: str = "data/truth.json"

    @property
    def start_at(self) -> datetime:
        """`start` (ISO 8601, `Z` for UTC) as a datetime."""
        return datetime.fromisoformat(self.start.replace("Z", "+00:00"))


def reset_warehouse(target: str) -> None:
    """Start from an empty warehouse: the demo replays the simulated days from the start."""
    if target == "duckdb":
        path = warehouse.duckdb_path()
        for item in (path, Path(f"{path}.wal"), Path(f"{path}.dlt")):
            if item.is_dir():
                shutil.rmtree(item)
            elif item.exists():
                item.unlink()
        return
    with warehouse.connect(target) as con:
        for schema in (*RAW_SCHEMAS, *DBT_SCHEMAS):
            con.execute(f"drop schema if exists {schema} cascade")
    shutil.rmtree(warehouse.destination(target)[2], ignore_errors=True)


def _step(echo: Callable[[str], None], text: str) -> float:
    echo(f"[bold cyan]==>[/] {text}")
    return time.monotonic()


def run_demo(cfg: DemoConfig, echo: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the demo; returns the summary figures (also printed)."""
    started = time.monotonic()
    # dlt warns for every extracted package when a micro-batch of polls is normalized
    # together; the demo reports progress itself.
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")
    if cfg.fresh:
        reset_warehouse(cfg.target)
    t0 = _step(echo, f"starting the API simulator (seed {cfg.seed}, {cfg.channels} channels)")
    Path(cfg.truth_path).parent.mkdir(parents=True, exist_ok=True)
    try:
        sim = SimulatorProcess(
            "--seed", str(cfg.seed), "--channels", str(cfg.channels), "--faults", str(cfg.faults),
            "--start", cfg.start, "--truth-out", cfg.truth_path,
        )  # fmt: skip
    except SimulatorFailed as exc:
        raise DemoFailed(str(exc)) from None
    env = {k: v for k, v in sim.env.items() if k not in PUBLIC_ONLY}
    if not cfg.faults:
        # the simulator answers from this machine at once: one Steam call at a time costs the
        # least CPU (with faults, slow replies and back-offs make calls in flight pay again)
        env[STEAM_CALLS] = os.environ.get(STEAM_CALLS, "1")
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        echo(f"    simulator at {sim.base_url} ({time.monotonic() - t0:.1f}s)")
        steps, manifest = _collect(cfg, echo)
    finally:
        sim.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    _require_live_observations(cfg)
    steps["validation"] = 0.0
    if cfg.validate:
        t0 = _step(echo, "validating raw data (Great Expectations)")
        _validate("raw", cfg.target, echo)
        steps["validation"] = time.monotonic() - t0
    t0 = _step(echo, "dbt build (models, tests, unit tests, snapshots)")
    published = build(cfg.target, echo=echo, quiet=True, manifest=manifest)
    echo(f"    built in {time.monotonic() - t0:.0f}s")
    steps["dbt"] += time.monotonic() - t0
    if published:
        echo(f"    {published.summary()}")
    if cfg.validate:
        t0 = _step(echo, "validating silver and gold (Great Expectations)")
        _validate("gold", cfg.target, echo)
        steps["validation"] += time.monotonic() - t0
    if cfg.docs:
        t0 = _step(echo, "dbt docs generate")
        # the catalog only: the build just wrote the manifest, with every node's compiled SQL
        dbt("docs", "generate", "--no-compile", target=cfg.target, quiet=True, manifest=manifest)
        steps["docs"] = time.monotonic() - t0
    steps["total"] = time.monotonic() - started
    echo(
        "    time per step: "
        + ", ".join(f"{name} {seconds:.0f}s" for name, seconds in steps.items())
    )
    summary = summarize(cfg.target)
    summary["seconds"] = round(time.monotonic() - started, 1)
    summary["steps"] = {name: round(seconds, 1) for name, seconds in steps.items()}
    return summary


class _PollClock:
    """The simulated clock of the polls of an increment (see `_poll_increment`).

    Each platform runs its polls one after the other; poll `i` of every platform must see the
    simulated clock at `i` polls past the start. A platform about to start poll `i` waits here until
    the clock is there, and the clock moves one poll on only once every platform has finished
    the poll before."""

    def __init__(self, advance: Callable[[], None], names: list[str], at: int):
        self._advance = advance
        self._cond = threading.Condition()
        self.at = at  # polls elapsed on the simulated clock
        self._reached = dict.fromkeys(names, at)  # the poll each platform is at

    def wait_for(self, name: str, poll: int) -> None:
        with self._cond:
            self._reached[name] = poll
            self._catch_up()
            while self.at < poll:
                self._cond.wait()

    def done(self, name: str, poll: int) -> None:
        """`name` has finished every poll before `poll`."""
        with self._cond:
            self._reached[name] = max(self._reached[name], poll)
            self._catch_up()

    def _catch_up(self) -> None:
        while self.at < min(self._reached.values()):
            self._advance()
            self.at += 1
            self._cond.notify_all()


def _lower_priority() -> None:
    """The calling thread, and the threads it starts from now on (DuckDB's, dbt's), at
    `BACKGROUND_NICENESS` below the process's main thread in CPU priority: the same level
    however many lowered threads a thread was started from (the load threads start from the
    lowered background thread). Linux only, where the nice value is per thread (elsewhere it
    is per process, and the demo's own thread must keep its priority); where the system
    refuses, nothing changes."""
    if not sys.platform.startswith("linux"):
        return
    try:
        niceness = os.getpriority(os.PRIO_PROCESS, os.getpid())  # the main thread's
        os.setpriority(
            os.PRIO_PROCESS, threading.get_native_id(), min(19, niceness + BACKGROUND_NICENESS)
        )
    except OSError:
        pass


def _start_polling_process() -> None:
    """The polling process's start: the imports a poll needs, made once and in one thread
    (libraries that import lazily, as dlt pulls in pandas, are not safe to import from several
    threads at once), and a short GIL switch interval: Steam's poll is a chain of short
    requests, and while one waits on the simulator the other platforms' threads would hold
    the GIL for the default 5 ms. It ends with the demo's process (`exit_with_parent`), also
    when that one is killed."""
    import importlib

    from loaders.pipeline import SOURCES

    exit_with_parent()

    for module in ("pandas", "pyarrow", "dlt.common.pipeline", "dlt.extract.pipe_iterator",
                   "dlt.extract.source", *(module for module, _ in SOURCES.values())):  # fmt: skip
        importlib.import_module(module)
    sys.setswitchinterval(0.0005)


class _SimulatedInstant(HTTPAdapter):
    """The polling process's transport: every request carries the poll's simulated instant
    (the simulator's `X-Sim-Time` header), so each polling process keeps its own clock."""

    def __init__(self, epoch: int):
        super().__init__(pool_maxsize=8)
        self.epoch = epoch

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        request.headers["X-Sim-Time"] = str(self.epoch)
        return super().send(request, *args, **kwargs)


def _poll_increment(
    start_epoch: int, minutes: int, polls: range, states: dict[str, dict[str, Any]]
) -> dict[str, tuple[PollBuffer, list[str]]]:
    """In a polling process: `polls` of the platforms in `states` (each pipeline's dlt
    state), side by side in threads, in step with this process's simulated clock (poll `i` is
    at `start_epoch` + `i` polls). Returns each platform's `PollBuffer` and the failed polls,
    in one line each (a failed poll is reported, the demo goes on)."""
    transport = _SimulatedInstant(start_epoch + polls.start * minutes * 60)

    def advance() -> None:
        transport.epoch += minutes * 60

    clock = _PollClock(advance, list(states), polls.start)
    failed: dict[str, list[str]] = {name: [] for name in states}

    def collect(name: str) -> PollBuffer:
        if name not in CRITICAL_PLATFORMS:
            _lower_priority()
        buffer = PollBuffer(name, states[name])
        for poll in polls:
            clock.wait_for(name, poll)
            reset_poll_stats(name)
            try:
                buffer.run(make_source(name))
            except ConfigError:
                raise
            except Exception as exc:
                failed[name].append(f"poll {poll + 1} failed: {one_sentence(name, exc)}")
            finally:
                clock.done(name, poll + 1)
        return buffer

    TRANSPORTS.append(transport)
    try:
        with ThreadPoolExecutor(len(states), thread_name_prefix="gst-poll") as pool:
            buffers = dict(zip(states, pool.map(collect, states), strict=True))
    finally:
        TRANSPORTS.remove(transport)
    return {name: (buffers[name], failed[name]) for name in states}


def _collect(cfg: DemoConfig, echo: Callable[[str], None]) -> tuple[dict, object]:
    """Poll every platform each `poll_minutes` of simulated time; load and snapshot per
    increment. Returns the seconds spent per step (collect, load, snapshots) and the parsed
    dbt project (the later dbt commands reuse it).

    The polls run in polling processes (`POLLING_PROCESSES`, `_poll_increment`), so they use
    the second core while this one loads and snapshots: in each, its platforms side by side in
    threads, in step with the process's own simulated clock, each into a `PollBuffer` per
    increment (no dlt cost per poll). While the next increment is being polled, the one in hand
    is extracted and loaded here (one load package per platform: the four dlt pipelines are
    independent) and snapshotted."""
    names = ["chzzk", "soop", "twitch", "steam"]
    pipelines = {name: make_pipeline(name, cfg.target) for name in names}
    for pipeline in pipelines.values():
        finish_pending(pipeline)
    polls = int(round(cfg.days * 24 * 60 / cfg.poll_minutes))
    per_increment = max(1, int(round(cfg.increment_hours * 60 / cfg.poll_minutes)))
    times = dict.fromkeys(("collect", "load", "snapshots", "dbt"), 0.0)

    def load(name: str, buffer: PollBuffer) -> bool:
        with ledger.run("load", cfg.target, platform=name) as entry:
            failed = flush({name: pipelines[name]}, lambda _line: None, {name: buffer})
            if failed:
                entry.update(status="failed", message="load of a micro-batch failed")
            return not failed

    batches = [
        range(start, min(polls, start + per_increment)) for start in range(0, polls, per_increment)
    ]
    start_epoch = int(cfg.start_at.timestamp())
    spawn = multiprocessing.get_context("spawn")  # fresh interpreters: no forked threads

    def submit(batch: range, states: dict[str, dict[str, Any]]) -> list:
        jobs = []
        for group in POLLING_PROCESSES:
            group_states = {name: states[name] for name in group}
            jobs.append(
                pollers.submit(_poll_increment, start_epoch, cfg.poll_minutes, batch, group_states)
            )
        return jobs

    def load_all(first: bool, buffers: list[PollBuffer]) -> list[bool]:
        # the first load one at a time (libraries that import lazily, as dlt's loaders, are
        # not safe to import from several threads at once), the later ones side by side
        return list((map if first else loaders.map)(load, names, buffers))

    with (
        ProcessPoolExecutor(
            len(POLLING_PROCESSES), mp_context=spawn, initializer=_start_polling_process
        ) as pollers,
        # the loads and snapshots run while the next increment is polled: at a lower priority
        # than Steam's polls (CRITICAL_PLATFORMS), in threads of their own
        ThreadPoolExecutor(1, "gst-background", initializer=_lower_priority) as background,
        ThreadPoolExecutor(len(names), "gst-load", initializer=_lower_priority) as loaders,
    ):
        t0 = _step(echo, f"collecting {cfg.days:g} simulated days: {polls} polls of 4 platforms")
        tick = time.monotonic()
        jobs = submit(batches[0], {name: pipelines[name].state for name in names})
        # while the first increment is polled: the seeds, and the project parsed once for the
        # snapshots and the final build
        dbt("seed", target=cfg.target, quiet=True)
        manifest = dbt("parse", target=cfg.target, quiet=True)
        times["dbt"] = time.monotonic() - tick  # the final build adds to it
        tick = time.monotonic()
        for index, batch in enumerate(batches):
            polled = {name: got for job in jobs for name, got in job.result().items()}
            times["collect"] += time.monotonic() - tick
            tick = time.monotonic()
            for name in names:
                for line in polled[name][1]:
                    echo(f"    [yellow]{name} {line}")
            # the next increment is polled while this one is loaded and snapshotted
            if index + 1 < len(batches):
                jobs = submit(batches[index + 1], {name: polled[name][0].state for name in names})
            done = background.submit(load_all, not index, [polled[n][0] for n in names]).result()
            failed = [name for name, ok in zip(names, done, strict=True) if not ok]
            if failed:
                raise DemoFailed(f"loading {', '.join(failed)} failed; see `gst status`")
            times["load"] += time.monotonic() - tick
            tick = time.monotonic()
            background.submit(_snapshot, cfg.target, manifest, views=index == 0).result()
            times["snapshots"] += time.monotonic() - tick
            tick = time.monotonic()
            hours = batch.stop * cfg.poll_minutes / 60
            echo(
                f"    {hours:5.0f} simulated hours loaded and snapshotted "
                f"({time.monotonic() - t0:.0f}s)"
            )
    return times, manifest


def _snapshot(target: str, manifest: object, views: bool = True) -> None:
    """The snapshots and the models they read: one dbt invocation on the parsed project,
    without artifacts (the final build writes them; the manifest alone takes ~1 s to write).
    `views=False`: not the staging views (made by an earlier call; the project did not change)."""
    skip = () if views else ("--exclude", "config.materialized:view")
    dbt(
        "build", "--no-write-json", "--select", "+resource_type:snapshot", *skip,
        "--resource-type", "model", "--resource-type", "snapshot",
        target=target, quiet=True, manifest=manifest,
    )  # fmt: skip


def _require_live_observations(cfg: DemoConfig) -> None:
    """A window in which nobody went live leaves nothing to model: say so, not "bad data"."""
    streaming = {p: t for p, t in ledger.LATEST_TABLES.items() if p != "steam"}
    with warehouse.connect(cfg.target) as con:
        seen = {p: con.rows(f"select count(*) as n from {t}")[0]["n"] for p, t in streaming.items()}
    if any(seen.values()):
        return
    start = cfg.start_at
    end = start + timedelta(days=cfg.days)
    raise DemoFailed(
        f"nobody was live on {', '.join(seen)} in the simulated window "
        f"{start:%Y-%m-%d %H:%M}-{end:%H:%M} UTC ({start.astimezone(KST):%H:%M}-"
        f"{end.astimezone(KST):%H:%M} KST) at {cfg.channels} channels per platform: nothing "
        "to model. Collect a longer window (--days 1 or more) or more --channels."
    )


def _validate(suite: str, target: str, echo: Callable[[str], None]) -> None:
    from loaders.validate import validate

    report = validate(suite, target)
    echo(f"    {report.summary()}")
    if not report.success:
        lines = "\n".join(f"      {line}" for line in report.failure_lines())
        raise DemoFailed(f"{suite} validation failed; gold is not rebuilt on bad data:\n{lines}")


SUMMARY_SQL = {
    "raw observations": (
        "select (select count(*) from raw_chzzk.lives) + (select count(*) from raw_soop.broads)"
        " + (select count(*) from raw_twitch.streams) as n"
    ),
    "steam player readings": "select count(*) as n from raw_steam.current_players",
    "broadcast sessions": "select count(*) as n from silver.int_broadcast_sessions_sessionized",
    "streamer-game spells": "select count(*) as n from silver.int_streamer_game_spells",
    "snapshot versions (streamer game)": (
        "select count(*) as n from snapshots.snp_streamer_current_game"
    ),
    "channels with game history in snapshots": (
        "select count(*) as n from (select platform, channel_id"
        " from snapshots.snp_streamer_current_game group by platform, channel_id"
        " having count(*) > 1) as multi"
    ),
    "unmapped categories": "select count(*) as n from silver.int_categories_unmapped",
}
TOP_GAMES_SQL = """
select g.name_en, g.name_ko, sum(h.hours_watched) as hours_watched
from silver.int_category_viewers_hourly as h
inner join seeds.games as g on g.game_key = h.game_key
where g.category_kind = 'game'
group by g.name_en, g.name_ko
order by hours_watched desc
limit 5
"""

#: The headline answer: streamers with the largest estimated influence (players per 1,000
#: viewers) among those with enough evidence to be labelled at all.
TOP_STREAMERS_SQL = """
select platform, channel_name, estimated_influence, influence_ci_low, influence_ci_high,
    influence_events, influence_evidence
from gold.dim_streamers
where estimated_influence is not null and influence_evidence <> 'insufficient'
order by estimated_influence desc, platform, channel_id
limit 5
"""

POOLED_ELASTICITY_SQL = """
select elasticity, elasticity_ci_low, elasticity_ci_high, observations
from gold.fct_game_streaming_elasticity
where game_key = 'all'
"""


def summarize(target: str) -> dict[str, Any]:
    with warehouse.connect(target) as con:
        figures = {label: con.rows(sql)[0]["n"] for label, sql in SUMMARY_SQL.items()}
        top_games = con.rows(TOP_GAMES_SQL)
        top_streamers = con.rows(TOP_STREAMERS_SQL)
        pooled = con.rows(POOLED_ELASTICITY_SQL)
    return {
        "figures": figures,
        "top_games": top_games,
        "top_streamers": top_streamers,
        "elasticity": pooled[0] if pooled else None,
    }


def print_summary(summary: dict[str, Any], cfg: DemoConfig, console: Any) -> None:
    from rich.table import Table

    table = Table(title="Game & Stream Trends demo", show_header=False)
    for label, value in summary["figures"].items():
        table.add_row(label, f"{value:,}")
    table.add_row("time", f"{summary['seconds']:.0f}s")
    console.print(table)
    games = Table(title="Top games by hours watched (all platforms)")
    for column in ("game", "게임", "hours watched"):
        games.add_column(column)
    for row in summary["top_games"]:
        games.add_row(row["name_en"], row["name_ko"], f"{float(row['hours_watched']):,.0f}")
    console.print(games)
    streamers = Table(title="Streamers who moved games: extra Steam players per 1,000 viewers")
    for column in ("streamer", "platform", "influence", "90 % interval", "events", "evidence"):
        streamers.add_column(column)
    for row in summary["top_streamers"]:
        streamers.add_row(
            str(row["channel_name"]), row["platform"], f"{float(row['estimated_influence']):,.1f}",
            f"{float(row['influence_ci_low']):,.1f} to {float(row['influence_ci_high']):,.1f}",
            str(row["influence_events"]), row["influence_evidence"],
        )  # fmt: skip
    console.print(streamers)
    pooled = summary["elasticity"]
    if pooled:
        console.print(
            f"Pooled elasticity of Steam players w.r.t. stream viewers: "
            f"{float(pooled['elasticity']):.4f} (90 % interval "
            f"{float(pooled['elasticity_ci_low']):.4f} to "
            f"{float(pooled['elasticity_ci_high']):.4f}, "
            f"{int(pooled['observations']):,} game-polls with viewers; published: 0.027)"
        )
    else:
        console.print("Pooled elasticity: no game-polls with viewers in the fit window.")
    where = os.path.relpath(warehouse.duckdb_path())
    gold = os.path.relpath(warehouse.duckdb_read_path())  # what readers open (loaders/publish.py)
    console.print(
        f"Warehouse: {where if cfg.target == 'duckdb' else cfg.target} · planted truth: "
        f"{cfg.truth_path}\nExplore: `make docs` (dbt docs on http://localhost:8080), "
        f"`.venv/bin/gst status`, or query the published gold from Python, e.g. "
        f"`.venv/bin/python -c \"import duckdb; duckdb.connect('{gold}', read_only=True)"
        f".sql('select * from gold.fct_platform_daily').show()\"`"
        f"\nDashboard: `.venv/bin/gst dashboard --target {cfg.target}`, open http://localhost:8501"
    )
