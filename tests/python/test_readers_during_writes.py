"""Readers stay up while writers write (DuckDB): the dashboard in headless Chromium keeps showing
complete gold while `gst poll` flushes into the warehouse and `gst build` rebuilds and publishes.

One run against the simulator (its clock advanced by a thread, so every poll brings new data):
`gst poll` (every platform; --every 2s --flush-every 6s) loads all along; `gst build` runs
once to publish a first gold, then Chromium reloads Home and Game without pause while a build
completes, a build is killed (SIGKILL) once it has rebuilt gold models, and another build
completes. Every view must be free of errors and show game names; its "Data as of" time must never
go back, must show each build once published, and must stay on the previous build after the kill.
The poller's flushes must wait for the builds' lock (the log says so) and never fail.

The builds exclude dbt's data and unit tests (`gst build` passes the options to dbt) to keep the
run short: what is tested here is who opens which file when, not the models.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC
from pathlib import Path

import pytest
import requests

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
TIMEOUT_MS = 60_000
AS_OF = re.compile(r"Data as of (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC")
FAST_BUILD = ("--exclude", "resource_type:test", "resource_type:unit_test")
# the demo's public-endpoint platforms run without these (loaders/demo.py PUBLIC_ONLY)
PUBLIC_ONLY = (
    "SOURCES__CHZZK__CLIENT_ID",
    "SOURCES__CHZZK__CLIENT_SECRET",
    "SOURCES__SOOP__CLIENT_ID",
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="browser tests need Debian's Chromium at /usr/bin/chromium (.ci/run installs it)",
    ),
]


class Gst:
    """A `gst` command in the background, its output in a log file."""

    def __init__(self, log: Path, env: dict[str, str], *args: str):
        self.log = log
        self.out = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "loaders.cli", *args], env=env, cwd=ROOT,
            stdout=self.out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def done(self) -> bool:
        return self.proc.poll() is not None

    def signal(self, sig: int) -> None:
        if not self.done():
            os.killpg(self.proc.pid, sig)

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.out.close()


def game_names(read_path: Path) -> set[str]:
    import duckdb

    with duckdb.connect(str(read_path), read_only=True) as con:
        rows = con.execute(
            "select name_en from gold.dim_games where category_kind = 'game'"
        ).fetchall()
    return {name for (name,) in rows}


def start_dashboard(env: dict[str, str], log: Path) -> tuple[Gst, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = Gst(log, env, "dashboard", "--port", str(port))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if requests.get(f"{url}/_stcore/health", timeout=2).text == "ok":
                return server, url
        except requests.ConnectionError:
            pass
        if server.done() or time.monotonic() > deadline:
            server.signal(signal.SIGTERM)
            pytest.fail(f"gst dashboard did not start: {server.text()[-2000:]}")
        time.sleep(0.3)


def wait_for(condition, timeout: float, what: str, *logs: Gst) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {g.log.name}:\n{g.text()[-2500:]}" for g in logs)
            pytest.fail(f"timed out waiting for {what}\n{tails}")
        time.sleep(0.5)


def view(page, url: str, names: set[str]) -> str:
    """Load a page; assert it is no error page and shows a game name; return its "data as of"."""
    from playwright.sync_api import expect

    page.goto(url)
    any_game = re.compile("|".join(re.escape(name) for name in sorted(names)))
    where = page.locator('[data-testid="stTable"]') if url.endswith("/") else page.locator("h1")
    expect(where.first).to_contain_text(any_game)
    expect(page.get_by_text(AS_OF)).to_be_visible()
    page.wait_for_timeout(300)
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0)
    body = page.locator("body").inner_text()
    assert page.locator(ERRORS).count() == 0, f"error page at {url}:\n{body[:2000]}"
    return AS_OF.search(body).group(1)


def test_dashboard_stays_up_while_poll_flushes_and_builds_publish(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from loaders.publish import read_stamp
    from simulator.process import SimulatorProcess

    warehouse = tmp_path / "warehouse.duckdb"
    read_path = tmp_path / "warehouse.gold.duckdb"  # the default: beside the warehouse
    sim = SimulatorProcess(
        "--seed", "7", "--channels", "10", "--start", "2026-11-02T12:00:00Z", cwd=ROOT
    )  # fmt: skip
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("GST_PIPELINES_DIR",)},
        **{k: v for k, v in sim.env.items() if k not in PUBLIC_ONLY},
        "GST_DUCKDB_PATH": str(warehouse),
        "GST_DUCKDB_LOCK_WAIT": "240",
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "RUNTIME__LOG_LEVEL": "ERROR",
        "DBT_USE_COLORS": "false",
        # Steam: the seed's games only, few Store calls (a lighter poll; same tables)
        "SOURCES__STEAM__INCLUDE_MOST_PLAYED": "false",
        "SOURCES__STEAM__MAX_STORE_CALLS": "2",
    }
    env.pop("GST_DUCKDB_READ_PATH", None)
    ticking = threading.Event()

    def clock() -> None:  # ten simulated minutes every two seconds
        while not ticking.wait(2):
            sim.advance(10)

    threading.Thread(target=clock, daemon=True).start()
    platforms = ("chzzk", "soop", "twitch", "steam")
    poll = Gst(
        tmp_path / "poll.log", env, "poll", *platforms, "--every", "2s", "--flush-every", "6s"
    )
    builds: list[Gst] = []
    server = None

    def build() -> Gst:
        builds.append(Gst(tmp_path / f"build{len(builds) + 1}.log", env, "build", *FAST_BUILD))
        return builds[-1]

    published: list[tuple[str, float, float]] = []  # (data as of, publish began, build exited)

    def finished(run: Gst) -> None:
        assert run.wait(10) == 0, f"gst build failed:\n{run.text()[-3000:]}"
        found = read_stamp(read_path)
        as_of = f"{found['built_at'].astimezone(UTC):%Y-%m-%d %H:%M:%S}"
        assert not published or as_of > published[-1][0], "a build must publish a newer gold"
        published.append((as_of, found["published_at"].timestamp(), time.time()))

    try:
        # 1. a first gold once the poller has loaded; the dashboard starts meanwhile
        wait_for(
            lambda: all(f"{p}: loaded" in poll.text() for p in platforms),
            150, "the first flush of gst poll", poll,
        )  # fmt: skip
        first = build()
        server, url = start_dashboard(env, tmp_path / "dashboard.log")
        wait_for(first.done, 240, "the first build", first, poll)
        finished(first)
        names = game_names(read_path)
        assert len(names) >= 2, "the published gold should hold several games"

        # 2. Chromium reloads Home and Game without pause while, one after the other, a build
        # completes, a build is killed once it has rebuilt gold models, and a build completes
        views: list[tuple[float, float, str]] = []  # (began, ended, data as of)
        killed_at = None
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            expect.set_options(timeout=TIMEOUT_MS)
            # between the first two builds the poller gets to flush (as between scheduled
            # builds); the build after the kill starts at once
            plan = ["complete", "flush", "kill", "complete"]
            current, views_after_last, flushes = build(), 0, 0
            deadline = time.monotonic() + 400
            while views_after_last < 2:
                for path in ("/", "/game"):
                    began = time.time()
                    as_of = view(page, url + path, names)
                    views.append((began, time.time(), as_of))
                if not plan:
                    views_after_last += 1
                elif plan[0] == "flush" and poll.text().count("steam: loaded") > flushes:
                    plan.pop(0)
                    current = build()
                elif plan[0] == "kill" and (
                    current.done() or len(re.findall(r"OK created .*gold\.", current.text())) >= 2
                ):
                    assert not current.done(), f"build ended before the kill:\n{current.text()}"
                    before = read_stamp(read_path)
                    current.signal(signal.SIGKILL)
                    current.wait(30)
                    killed_at = time.time()
                    assert read_stamp(read_path) == before, "a killed build changed the gold"
                    plan.pop(0)
                    current = build()
                elif plan[0] == "complete" and current.done():
                    finished(current)
                    plan.pop(0)
                    flushes = poll.text().count("steam: loaded")
                assert time.monotonic() < deadline, f"timed out; still to do: {plan}"
            context.close()
            browser.close()

        # no error page and a game name on every view (view() checks); "data as of" never goes
        # back, is always a published build, and shows each build once it has published: a view
        # begun after a publish shows it, a view ended before a publish does not
        shown = [as_of for _, _, as_of in views]
        assert shown == sorted(shown), shown
        assert set(shown) <= {as_of for as_of, _, _ in published}, (shown, published)
        for as_of, began_publish, exited in published:
            assert all(a >= as_of for b, _, a in views if b > exited), (as_of, views)
            assert all(a < as_of for _, e, a in views if e < began_publish), (as_of, views)
            assert any(a == as_of for _, _, a in views), f"build of {as_of} never shown"
        # the kill: views between it and the next publish show the previous build's gold
        between = [a for b, e, a in views if b > killed_at and e < published[-1][1]]
        assert between and set(between) == {published[-2][0]}, (between, published)
        assert len(views) >= 10, f"only {len(views)} page views"

        # 3. writers: the poller kept loading, waiting for the builds' lock instead of failing
        assert not poll.done(), f"gst poll ended:\n{poll.text()[-3000:]}"
        log = poll.text()
        assert "FAILED" not in log, log[-3000:]
        assert "load: the warehouse is locked" in log, "no flush met a build: nothing was tested"
        # a flush before the first build and one between builds (the plan waited for it)
        assert log.count("steam: loaded") >= 2, log[-3000:]
    finally:
        ticking.set()
        for proc in (*builds, poll, *([server] if server else [])):
            proc.signal(signal.SIGKILL)
        sim.stop()
