"""The dashboard in a real browser: a small demo warehouse (simulator -> loaders -> dbt build),
`gst dashboard` serving it, Playwright driving Debian's Chromium (headless). Each page loads
without a Streamlit exception, shows the game and streamer names the warehouse holds (read here by
SQL from gold), and a filter changes what is shown.

Screenshots go to screenshots/ (git-ignored); GST_UPDATE_SCREENSHOTS=1 also copies one per page
to docs/img/ for the README. GST_DASHBOARD_TEST_WAREHOUSE=<file.duckdb> tests against a copy of a
warehouse already built (gold included) instead of building one; gold is then published from
the copy (`gst publish`), as the dashboard reads the published file.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "screenshots"
DOCS_IMG = ROOT / "docs" / "img"
ERROR = '[data-testid="stException"]'
TIMEOUT_MS = 60_000
PLATFORMS = {"chzzk": "CHZZK", "soop": "SOOP", "twitch": "Twitch"}  # dim_platforms names

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="browser tests need Debian's Chromium at /usr/bin/chromium (.ci/run installs it)",
    ),
]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("dashboard")
    path = work / "warehouse.duckdb"
    prepared = os.environ.get("GST_DASHBOARD_TEST_WAREHOUSE")
    if prepared:  # copied, then gold published beside it for the dashboard to read
        shutil.copy(prepared, path)
        env = {**os.environ, "GST_DUCKDB_PATH": str(path), "PYTHONPATH": str(ROOT)}
        env.pop("GST_DUCKDB_READ_PATH", None)
        done = subprocess.run(
            [sys.executable, "-m", "loaders.cli", "publish"],
            env=env, cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 0, f"gst publish failed: {done.stderr[-3000:]}"
        return path
    # built in a child process: the loaders keep DuckDB connections open in the process that
    # ran them, and DuckDB lets one process write a file while others cannot even read it
    build = (
        "from loaders.demo import DemoConfig, run_demo\n"
        # four evening hours in Korea (21:00-01:00 KST): many channels live, several games
        "cfg = DemoConfig(days=4 / 24, seed=7, channels=15, increment_hours=4,"
        " start='2026-11-02T12:00:00Z', docs=False, validate=False,"
        f" truth_path={str(work / 'truth.json')!r})\n"
        "run_demo(cfg, echo=lambda _line: None)\n"
    )
    env = {**os.environ, "GST_DUCKDB_PATH": str(path), "PYTHONPATH": str(ROOT)}
    env.pop("GST_PIPELINES_DIR", None)
    done = subprocess.run(
        [sys.executable, "-c", build], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, f"demo warehouse build failed: {done.stderr[-3000:]}"
    return path


def rows(path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def server(warehouse):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "GST_DUCKDB_PATH": str(warehouse), "PYTHONPATH": str(ROOT)}
    env.pop("GST_DUCKDB_READ_PATH", None)  # the dashboard reads the gold published beside it
    proc = subprocess.Popen(
        [sys.executable, "-m", "loaders.cli", "dashboard", "--port", str(port)],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{url}/_stcore/health", timeout=2).text == "ok":
                break
        except requests.ConnectionError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGTERM)
            out = proc.stdout.read().decode() if proc.stdout else ""
            pytest.fail(f"gst dashboard did not start: {out[-2000:]}")
        time.sleep(0.3)
    yield url
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ko-KR")
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    yield tab
    context.close()


def open_page(page, url: str, heading: str) -> None:
    """Load a page and wait until Streamlit has rendered it (and finished running)."""
    from playwright.sync_api import expect

    page.goto(url)
    expect(page.get_by_role("heading", name=heading).first).to_be_visible()
    settle(page)


def settle(page) -> None:
    """Wait for the script run to finish: Streamlit shows its status widget while running."""
    from playwright.sync_api import expect

    page.wait_for_timeout(300)
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0)


def pick(page, label: str, option: str) -> None:
    """Choose `option` in the Streamlit selectbox labelled `label`."""
    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()
    settle(page)


def shoot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    shot = SHOTS / f"dashboard-{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("GST_UPDATE_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, DOCS_IMG / shot.name)


def assert_no_error(page) -> None:
    from playwright.sync_api import expect

    expect(page.locator(ERROR)).to_have_count(0)


def top_games(path: Path, platform: str, limit: int = 3) -> list[tuple[str, str]]:
    return rows(
        path,
        "select g.name_en, g.name_ko from gold.fct_game_rankings_daily as r "
        "join gold.dim_games as g using (game_key) where r.platform = ? "
        "and r.game_date = (select max(game_date) from gold.fct_game_rankings_daily "
        "where platform = ?) order by r.hours_watched_rank limit ?",
        (platform, platform, limit),
    )


def top_streamer(path: Path, platform: str) -> str:
    return rows(
        path,
        "select channel_name from gold.dim_streamers where (? = 'all' or platform = ?) "
        "order by hours_watched desc nulls last, streamer_id limit 1",
        (platform, platform),
    )[0][0]


def test_home_shows_top_games_and_streamers_and_the_game_search_filters(page, server, warehouse):
    from playwright.sync_api import expect

    open_page(page, server, "Game & Stream Trends")
    assert_no_error(page)
    games = top_games(warehouse, "all")
    assert len(games) >= 2, "the demo warehouse should rank several games"
    # the page leads with the headline answer: streamers who moved games, with intervals
    movers = rows(
        warehouse,
        "select channel_name, influence_evidence from gold.dim_streamers "
        "where estimated_influence is not null and influence_evidence <> 'insufficient' "
        "order by case when influence_evidence = 'strong' then 0 else 1 end, "
        "estimated_influence desc, platform, channel_id limit 1",
    )
    tables = page.locator('[data-testid="stTable"]')
    if movers:
        expect(tables.first).to_contain_text(movers[0][0])
        expect(tables.first).to_contain_text(movers[0][1])
        expect(tables.first).to_contain_text("90 % low")
        chart = tables.nth(1)
    else:
        expect(page.locator("body")).to_contain_text("No streamer with enough start events")
        chart = tables.first
    for name_en, name_ko in games:
        expect(chart).to_contain_text(name_en)
        expect(chart).to_contain_text(name_ko)
    expect(page.locator("body")).to_contain_text(top_streamer(warehouse, "all"))
    # each platform's latest day from fct_platform_daily, e.g. its peak viewers
    for (peak,) in rows(
        warehouse,
        "select peak_viewers from gold.fct_platform_daily as d where activity_date = "
        "(select max(activity_date) from gold.fct_platform_daily where platform = d.platform)",
    ):
        metric = page.locator('[data-testid="stMetric"]', has_text="Peak viewers")
        expect(metric.filter(has_text=f"{peak:,}")).not_to_have_count(0)
    # what the loaders rejected in the shown days (fct_quarantine_daily): a total, or nothing
    [(rejected,)] = rows(
        warehouse,
        "select coalesce(sum(quarantined_count), 0) from gold.fct_quarantine_daily "
        "where quarantine_date between (select min(game_date) from gold.fct_game_daily) "
        "and (select max(game_date) from gold.fct_game_daily)",
    )
    notice = page.get_by_text("Data the loaders rejected in these days")
    if rejected:
        expect(notice).to_contain_text(f"{rejected:,} pages or items")
    else:
        expect(notice).to_have_count(0)
    shoot(page, "home")

    # search by the Korean name of the second game: the first one leaves the chart
    page.get_by_label("Game search").fill(games[1][1])
    page.get_by_label("Game search").press("Enter")
    settle(page)
    expect(chart).to_contain_text(games[1][0])
    expect(chart).not_to_contain_text(games[0][0])
    assert_no_error(page)


def test_game_page_shows_the_most_watched_game_and_search_switches_game(page, server, warehouse):
    from playwright.sync_api import expect

    games = top_games(warehouse, "all")
    open_page(page, f"{server}/game", "Viewers and Steam players")
    assert_no_error(page)
    expect(page.locator("h1").first).to_contain_text(games[0][0])
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    shoot(page, "game")

    page.get_by_label("Game search").fill(games[1][0])
    page.get_by_label("Game search").press("Enter")
    settle(page)
    expect(page.locator("h1").first).to_contain_text(games[1][0])
    assert_no_error(page)


def test_streamer_page_follows_the_platform_filter(page, server, warehouse):
    from playwright.sync_api import expect

    open_page(page, f"{server}/streamer", "Broadcast calendar")
    assert_no_error(page)
    expect(page.locator("h1").first).to_contain_text(top_streamer(warehouse, "all"))
    shoot(page, "streamer")

    # a platform whose top streamer is not the overall one: the title must change to it
    overall = top_streamer(warehouse, "all")
    platform = next(p for p in PLATFORMS if top_streamer(warehouse, p) != overall)
    pick(page, "Platform", PLATFORMS[platform])
    expect(page.locator("h1").first).to_contain_text(
        f"{top_streamer(warehouse, platform)} ({platform})"
    )
    expect(page.locator("h1").first).not_to_contain_text(overall)
    assert_no_error(page)


def test_rankings_page_shows_the_daily_chart_per_platform(page, server, warehouse):
    from playwright.sync_api import expect

    open_page(page, f"{server}/rankings", "Rankings")
    assert_no_error(page)
    chart = page.locator('[data-testid="stTable"]').first
    for name_en, _ in top_games(warehouse, "all"):
        expect(chart).to_contain_text(name_en)
    shoot(page, "rankings")

    overall = top_games(warehouse, "all", limit=1)[0][0]
    platform = next(p for p in PLATFORMS if top_games(warehouse, p, limit=1)[0][0] != overall)
    pick(page, "Platform", PLATFORMS[platform])
    first_row = chart.locator("tbody tr").first
    expect(first_row).to_contain_text(top_games(warehouse, platform, limit=1)[0][0])
    expect(first_row).not_to_contain_text(overall)
    assert_no_error(page)
