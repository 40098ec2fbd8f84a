"""The loader runtime: platform isolation, crash safety (SIGKILL mid-load), the `gst load` CLI."""

from __future__ import annotations

import gc
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from test_loader_chzzk import live, serve_service
from test_loader_soop import WEB, broad, serve_categories, serve_list

from loaders.pipeline import ConfigError, _glibc, resolve_platforms, run_load

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(fake_api, warehouse, fast_retries, monkeypatch):
    """Chzzk (service API) and SOOP (web list) served by the fake API."""
    for key in ("SERVICE_BASE_URL", "OPENAPI_BASE_URL"):
        monkeypatch.setenv(f"SOURCES__CHZZK__{key}", fake_api.url)
    for key in ("OPENAPI_BASE_URL", "WEB_BASE_URL", "SEARCH_BASE_URL"):
        monkeypatch.setenv(f"SOURCES__SOOP__{key}", fake_api.url)
    for key in (
        "SOURCES__CHZZK__CLIENT_ID",
        "SOURCES__CHZZK__CLIENT_SECRET",
        "SOURCES__SOOP__CLIENT_ID",
    ):
        monkeypatch.delenv(key, raising=False)
    serve_service(fake_api, [live(i) for i in range(75)])
    serve_list(fake_api, WEB, [broad(i) for i in range(90)], "pageNo")
    serve_categories(fake_api, [{"category_no": "40066", "category_name": "PUBG", "view_cnt": 1}])
    fake_api.date = "Mon, 02 Nov 2026 00:10:00 GMT"
    return fake_api


def test_run_order_streaming_first_steam_last():
    assert resolve_platforms(["steam", "soop", "chzzk"]) == ["chzzk", "soop", "steam"]
    assert resolve_platforms("all") == ["chzzk", "soop", "twitch", "steam"]
    with pytest.raises(ConfigError, match="unknown platform 'kick'"):
        resolve_platforms(["kick"])


def test_failing_platform_does_not_stop_the_others(world, monkeypatch, sql):
    monkeypatch.setenv("SOURCES__CHZZK__SERVICE_BASE_URL", "http://127.0.0.1:9")  # nothing there
    report = run_load(["chzzk", "soop"], progress=False)
    chzzk, soop = report.platforms["chzzk"], report.platforms["soop"]
    assert chzzk.status == "failed" and chzzk.error.startswith("chzzk")
    assert "\n" not in chzzk.error and "Traceback" not in chzzk.error
    assert soop.status == "ok" and soop.rows["broads"] == 90 and soop.pages >= 2
    assert report.failed == ["chzzk"] and not report.ok
    assert sql("select count(*) from raw_soop.broads") == [(90,)]


def test_redshift_without_staging_bucket_is_a_config_error(monkeypatch):
    monkeypatch.delenv("GST_REDSHIFT_STAGING_BUCKET", raising=False)
    with pytest.raises(ConfigError, match="GST_REDSHIFT_STAGING_BUCKET"):
        run_load(["chzzk"], "redshift", progress=False)


CRASHING_LOADER = """
import os, signal, sys
from dlt.load.load import Load

point = sys.argv[1]
original = getattr(Load, point)

def crash(self, *args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

setattr(Load, point, crash)
from loaders.pipeline import load_platform
load_platform(sys.argv[2])
"""


def observations(sql) -> dict:
    return {
        "lives": sql(
            "select channel_id, observed_at, concurrent_user_count from raw_chzzk.lives"
            " order by 1, 2"
        ),
        "channels": sql("select channel_id, follower_count from raw_chzzk.channels order by 1"),
    }


@pytest.mark.slow
@pytest.mark.parametrize("point", ["w_run_job", "create_followup_jobs", "complete_package"])
def test_sigkill_mid_load_then_rerun_matches_an_uninterrupted_run(
    world, tmp_path, point, sql, monkeypatch
):
    from loaders.pipeline import load_platform

    # reference: an uninterrupted warehouse, two polls
    monkeypatch.setenv("GST_DUCKDB_PATH", str(tmp_path / "reference.duckdb"))
    assert load_platform("chzzk").status == "ok"
    world.date = "Mon, 02 Nov 2026 00:15:00 GMT"
    assert load_platform("chzzk").status == "ok"
    monkeypatch.setenv("GST_DUCKDB_PATH", str(tmp_path / "warehouse.duckdb"))  # `sql` reads this

    def reference_sql(query: str) -> list[tuple]:
        with duckdb.connect(str(tmp_path / "reference.duckdb"), read_only=True) as con:
            return con.sql(query).fetchall()

    expected = observations(reference_sql)

    # crashed: the first poll is SIGKILLed while loading, then the loader runs twice again
    world.date = "Mon, 02 Nov 2026 00:10:00 GMT"
    script = tmp_path / "crash.py"
    script.write_text(CRASHING_LOADER)
    done = subprocess.run(
        [sys.executable, str(script), point, "chzzk"],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]
    assert load_platform("chzzk").status == "ok"  # finishes the killed package, re-polls 00:10
    world.date = "Mon, 02 Nov 2026 00:15:00 GMT"
    assert load_platform("chzzk").status == "ok"
    got = observations(sql)
    assert got["lives"] == expected["lives"]
    assert len(got["lives"]) == 150
    assert got["channels"] == expected["channels"]


def test_gst_load_cli_summary_and_exit_codes(world, monkeypatch):
    gst = [sys.executable, "-c", "from loaders.cli import main; main()"]
    ok = subprocess.run(
        [*gst, "load", "soop", "--no-progress"],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert "soop: ok - broads 90, categories 1" in ok.stdout
    env = {**os.environ, "SOURCES__CHZZK__SERVICE_BASE_URL": "http://127.0.0.1:9"}
    failed = subprocess.run(
        [*gst, "load", "soop", "chzzk", "--no-progress"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert failed.returncode == 1
    assert "chzzk: FAILED - chzzk" in failed.stdout and "soop: ok" in failed.stdout
    assert "Traceback" not in failed.stdout + failed.stderr
    bad = subprocess.run(
        [*gst, "load", "soop", "--target", "oracle"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "unknown target 'oracle'" in bad.stderr


def test_poll_extracts_each_poll_and_loads_them_in_one_flush(world, sql):
    from loaders.pipeline import run_poll

    lines: list[str] = []
    minutes = iter(range(15, 60, 5))

    def echo(line: str) -> None:  # after each poll, the simulated clock moves 5 minutes
        lines.append(line)
        if line.startswith("soop: polled"):
            world.date = f"Mon, 02 Nov 2026 00:{next(minutes)}:00 GMT"

    polls = run_poll(["chzzk", "soop"], every=0.01, flush_every=3600, max_polls=3, echo=echo)
    assert polls == 3
    assert sum(line.startswith("chzzk: polled") for line in lines) == 3
    assert any(line.startswith("chzzk: loaded") for line in lines)
    assert sql("select count(*), count(distinct observed_at) from raw_chzzk.lives") == [(225, 3)]
    assert sql("select count(*), count(distinct poll_id) from raw_soop.broads") == [(270, 3)]


def test_poll_settles_memory_at_each_flush_and_restores_the_collector(world, monkeypatch):
    """`gst poll` freezes what it imported and collects young objects less often while it
    polls; after every flush it gives freed memory back (`settle_memory`), and on its way out
    it leaves the garbage collector as it found it."""
    from loaders import pipeline

    before = gc.get_threshold()
    settled: list[tuple[int, tuple[int, int, int]]] = []
    monkeypatch.setattr(
        pipeline,
        "settle_memory",
        lambda: settled.append((gc.get_freeze_count(), gc.get_threshold())),
    )
    lines: list[str] = []
    polls = pipeline.run_poll(["soop"], every=0, flush_every=0, max_polls=3, echo=lines.append)
    assert polls == 3
    loaded = sum(line.startswith("soop: loaded") for line in lines)
    assert loaded == 3  # after polls 1 and 2, and the last one on the way out
    *while_polling, on_exit = settled
    assert len(while_polling) == 2
    assert all(
        frozen > 0 and threshold == (100_000, 50, 1000) for frozen, threshold in while_polling
    )
    assert on_exit == (0, before)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


class _Libc:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return 1

    def malloc_trim(self, pad: int) -> int:
        return 1


def test_poll_caps_the_c_heaps_before_its_pipelines_start(world, monkeypatch):
    """`gst poll` limits glibc's heaps before any load thread allocates (a heap per thread
    kept its own fragmented pages: resident memory grew from flush to flush)."""
    from loaders import pipeline

    libc = _Libc()
    monkeypatch.setattr(pipeline, "_glibc", lambda: libc)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    pipelines_made = []
    make_pipeline = pipeline.make_pipeline

    def recording_make_pipeline(*args, **kwargs):
        pipelines_made.append(list(libc.calls))
        return make_pipeline(*args, **kwargs)

    monkeypatch.setattr(pipeline, "make_pipeline", recording_make_pipeline)
    pipeline.run_poll(["soop"], every=0, flush_every=0, max_polls=1, echo=lambda _line: None)
    assert pipelines_made == [[(pipeline.M_ARENA_MAX, pipeline.POLL_MALLOC_ARENAS)]]


def test_the_c_heap_cap_leaves_a_chosen_malloc_arena_max_alone(monkeypatch):
    from loaders import pipeline

    libc = _Libc()
    monkeypatch.setattr(pipeline, "_glibc", lambda: libc)
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    pipeline.limit_malloc_arenas()
    assert libc.calls == []


@pytest.mark.skipif(_glibc() is None, reason="glibc only")
def test_glibc_takes_the_arena_cap():
    from loaders import pipeline

    # mallopt answers 1 for a parameter and value it accepted, 0 otherwise
    assert pipeline._glibc().mallopt(pipeline.M_ARENA_MAX, pipeline.POLL_MALLOC_ARENAS) == 1


def test_poll_sigterm_loads_the_batch_in_hand(world, warehouse, sql):
    cmd = [sys.executable, "-c", "from loaders.cli import main; main()"]
    args = ["poll", "chzzk", "--every", "1h", "--flush-every", "1h"]
    proc = subprocess.Popen(
        [*cmd, *args], cwd=ROOT, env=os.environ.copy(), stdout=subprocess.PIPE, text=True
    )
    first = proc.stdout.readline()  # the first poll is extracted, then it waits an hour
    assert first.startswith("chzzk: polled"), first
    proc.send_signal(signal.SIGTERM)
    rest = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0
    assert "SIGTERM" in rest and "chzzk: loaded" in rest
    assert sql("select count(*) from raw_chzzk.lives") == [(75,)]


@pytest.mark.parametrize(
    ("text", "seconds"), [("0", 0.0), ("0s", 0.0), ("0.5", 0.5), ("30s", 30.0), ("5m", 300.0)]
)
def test_durations_include_zero(text, seconds):
    from loaders.pipeline import parse_duration

    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-5s", "cannot read duration '-5s': a duration cannot be negative"),
        ("-0", "cannot read duration '-0': a duration cannot be negative"),
        ("5x", "cannot read duration '5x': use e.g. 0, 30s, 5m or 1h"),
        ("", "cannot read duration ''"),
    ],
)
def test_negative_or_unreadable_durations_are_refused(text, message):
    from loaders.pipeline import parse_duration

    with pytest.raises(ConfigError, match=message):
        parse_duration(text)


def test_poll_every_0_polls_back_to_back(world, sql):
    """`gst poll --every 0`: no wait between polls; each poll is loaded once, at the end."""
    cmd = [sys.executable, "-c", "from loaders.cli import main; main()"]
    args = ["poll", "soop", "--every", "0", "--max-polls", "3"]
    done = subprocess.run(
        [*cmd, *args], cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("soop: polled") == 3
    # the fake API's clock stands still: three polls of one moment load its rows once
    assert sql("select count(*), count(distinct poll_id) from raw_soop.broads") == [(90, 1)]
    assert sql("select count(*) from raw_soop.polls") == [(1,)]


class _Warnings(logging.Handler):
    """Every WARNING (or worse) record of the loggers the loaders and dlt write to."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record not in self.records:
            self.records.append(record)


def test_clean_poll_logs_no_warnings(tmp_path, monkeypatch, fast_retries):
    """A clean `gst poll` of four polls of every platform (a new pipeline, whose schema grows
    on its first load) logs no warning: dlt's 'storage schema hash ... is different from extract
    package schema hash' included."""
    from loaders.pipeline import run_poll
    from simulator import Simulator

    monkeypatch.setenv("GST_DUCKDB_PATH", str(tmp_path / "poll.duckdb"))
    monkeypatch.setenv("GST_PIPELINES_DIR", str(tmp_path / "pipelines"))
    handler = _Warnings()
    loggers = [logging.getLogger(name) for name in ("", "dlt", "gst")]
    for logger in loggers:
        logger.addHandler(handler)
    lines: list[str] = []
    try:
        with Simulator(seed=5, channels=60, start="2026-11-02T12:00:00Z") as sim:
            for key, value in sim.env(official=True).items():
                monkeypatch.setenv(key, value)

            def echo(line: str) -> None:  # the simulated clock moves 10 minutes per poll
                lines.append(line)
                if line.startswith("steam: polled"):
                    sim.advance(10)

            polls = run_poll("all", every=0, flush_every=3600, max_polls=4, echo=echo)
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    assert polls == 4
    assert sum(line.startswith("twitch: polled") for line in lines) == 4, lines
    assert not any("FAILED" in line for line in lines), lines
    assert [r.getMessage() for r in handler.records] == []
    with duckdb.connect(str(tmp_path / "poll.duckdb"), read_only=True) as con:
        for platform in ("chzzk", "soop", "twitch", "steam"):
            polled = con.execute(f"select count(distinct poll_id) from raw_{platform}.polls")
            assert polled.fetchone() == (4,), platform


@pytest.mark.slow
@pytest.mark.parametrize("official", [True, False])
def test_simulator_faults_give_the_same_observations(tmp_path, monkeypatch, fast_retries, official):
    """Same seed and clock, faults=0.2 vs 0: retries and quarantine absorb every fault."""
    from loaders.pipeline import load_platform
    from simulator import Simulator

    results = {}
    for faults in (0.0, 0.2):
        path = tmp_path / f"faults-{faults}.duckdb"
        monkeypatch.setenv("GST_DUCKDB_PATH", str(path))
        with Simulator(
            seed=7, channels=120, faults=faults, start="2026-11-02T12:00:00Z", slow_seconds=0.05
        ) as sim:
            for key, value in sim.env(official=official).items():
                monkeypatch.setenv(key, value)
            if not official:
                for key in ("CHZZK__CLIENT_ID", "CHZZK__CLIENT_SECRET", "SOOP__CLIENT_ID"):
                    monkeypatch.delenv(f"SOURCES__{key}", raising=False)
            reports = [load_platform(p) for p in ("chzzk", "soop")]
            assert all(r.status == "ok" for r in reports), [r.error for r in reports]
        with duckdb.connect(str(path), read_only=True) as con:
            results[faults] = {
                "lives": con.sql(
                    "select channel_id, observed_at, live_id, concurrent_user_count, opened_at,"
                    " live_category, api_variant from raw_chzzk.lives order by all"
                ).fetchall(),
                "broads": con.sql(
                    "select user_id, observed_at, broad_no, total_view_cnt, broad_started_at,"
                    " broad_cate_no, api_variant from raw_soop.broads order by all"
                ).fetchall(),
            }
        if faults:
            assert sum(r.retries for r in reports) > 0
    assert len(results[0.0]["lives"]) > 50 and len(results[0.0]["broads"]) > 50
    assert results[0.2] == results[0.0]


def test_every_platform_reports_its_pages_and_rows(tmp_path, monkeypatch, fast_retries):
    """The progress counters (`gst load`'s pages/rows) cover all four sources."""
    from loaders.pipeline import load_platform
    from simulator import Simulator

    monkeypatch.setenv("GST_DUCKDB_PATH", str(tmp_path / "counters.duckdb"))
    with Simulator(seed=3, channels=150, start="2026-11-02T12:00:00Z") as sim:
        for key, value in sim.env(official=True).items():
            monkeypatch.setenv(key, value)
        reports = {p: load_platform(p) for p in ("chzzk", "soop", "twitch", "steam")}
    with duckdb.connect(str(tmp_path / "counters.duckdb"), read_only=True) as con:
        for platform, report in reports.items():
            assert report.status == "ok", report.error
            assert report.pages >= 2, (platform, report.pages)
            tables = {
                t: con.execute(f"select count(*) from raw_{platform}.{t}").fetchone()[0]
                for t in report.rows
                if t != "quarantine"
            }
            assert sum(tables.values()) > 0 and tables == {
                t: n for t, n in report.rows.items() if t != "quarantine"
            }, platform


def test_a_poll_that_fails_leaves_the_buffer_as_it_was(tmp_path):
    """A poll whose source raises keeps neither its rows nor its state changes; the polls
    already in hand are extracted as they were."""
    import dlt
    import pyarrow as pa

    from loaders.pipeline import PollBuffer

    pipeline = dlt.pipeline(
        pipeline_name="gst_twitch",
        destination=dlt.destinations.duckdb(str(tmp_path / "w.duckdb")),
        dataset_name="raw_twitch",
        pipelines_dir=str(tmp_path / "p"),
    )

    @dlt.source(name="twitch")
    def polled(fail: bool):
        @dlt.resource(name="streams", write_disposition="append")
        def streams():
            dlt.current.resource_state()["polls"] = dlt.current.resource_state().get("polls", 0) + 1
            yield pa.table({"id": [1, 2]})
            if fail:
                raise RuntimeError("page 2 unreadable")

        return streams

    buffer = PollBuffer("twitch", pipeline.state)
    buffer.run(polled(False))
    with pytest.raises(Exception, match="page 2 unreadable"):
        buffer.run(polled(True))
    assert (len(buffer), buffer.rows) == (1, 2)
    assert buffer.state["sources"]["twitch"]["resources"]["streams"] == {"polls": 1}
    buffer.run(polled(False))
    assert buffer.state["sources"]["twitch"]["resources"]["streams"] == {"polls": 2}
    assert buffer.extract(pipeline)
    pipeline.normalize()
    pipeline.load().raise_on_failed_jobs()
    with pipeline.sql_client() as client:
        assert client.execute_sql("select count(*) from streams") == [(4,)]
    assert pipeline.state["sources"]["twitch"]["resources"]["streams"] == {"polls": 2}
