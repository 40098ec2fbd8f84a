"""End to end: simulator -> loaders -> dbt seed/run/snapshot in increments -> validation ->
dbt build (models, data tests, unit tests, snapshots), on DuckDB and, when GST_TEST_POSTGRES=1,
on PostgreSQL. Each target collects 16 simulated hours (afternoon to past midnight KST, so
sessions cross midnight and streamers switch games between snapshot increments)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from loaders import warehouse
from loaders.dbt_run import PROJECT_DIR, dbt
from loaders.demo import DemoConfig, DemoFailed, run_demo
from tests.support.targets import TARGETS


@pytest.fixture(scope="module", params=TARGETS)
def built(request, tmp_path_factory):
    target = request.param
    work = tmp_path_factory.mktemp(f"e2e-{target}")
    saved = {k: os.environ.get(k) for k in ("GST_DUCKDB_PATH", "GST_PIPELINES_DIR")}
    os.environ["GST_DUCKDB_PATH"] = str(work / "warehouse.duckdb")
    os.environ.pop("GST_PIPELINES_DIR", None)
    if target != "duckdb":
        os.environ["GST_PIPELINES_DIR"] = str(work / "pipelines")
    cfg = DemoConfig(
        days=16 / 24,
        seed=7,
        channels=25,
        target=target,
        increment_hours=4,
        start="2026-11-02T06:00:00Z",
        docs=False,
        truth_path=str(work / "truth.json"),
    )
    lines: list[str] = []
    try:  # a failed demo must not leave its settings to the tests that follow
        summary = run_demo(cfg, echo=lines.append)
        yield target, summary
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def scalar(target: str, sql: str):
    with warehouse.connect(target) as con:
        return next(iter(con.rows(sql)[0].values()))


@pytest.mark.e2e
def test_every_raw_observation_reaches_silver(built):
    target, _ = built
    raw = scalar(
        target,
        "select (select count(*) from raw_chzzk.lives) + (select count(*) from raw_soop.broads)"
        " + (select count(*) from raw_twitch.streams) as n",
    )
    silver = scalar(target, "select count(*) as n from silver.int_stream_observations_unioned")
    assert raw > 1000
    assert silver == raw


@pytest.mark.e2e
def test_sessions_and_spells_cover_every_observation(built):
    target, _ = built
    in_sessions = scalar(
        target, "select sum(observation_count) as n from silver.int_broadcast_sessions_sessionized"
    )
    in_spells = scalar(
        target, "select sum(observation_count) as n from silver.int_streamer_game_spells"
    )
    observations = scalar(
        target, "select count(*) as n from silver.int_stream_observations_unioned"
    )
    assert in_sessions == observations
    assert in_spells == observations


@pytest.mark.e2e
def test_snapshots_hold_history_for_channels_that_switched_games(built):
    target, summary = built
    switched = summary["figures"]["channels with game history in snapshots"]
    assert switched > 0
    closed = scalar(
        target,
        "select count(*) as n from snapshots.snp_streamer_current_game where dbt_valid_to <"
        " (select max(dbt_valid_to) from snapshots.snp_streamer_current_game)",
    )
    assert closed >= switched


@pytest.mark.e2e
def test_unmapped_games_are_listed_with_a_viewer_share(built):
    target, _ = built
    share = scalar(target, "select sum(viewer_share) as n from silver.int_categories_unmapped")
    assert share is not None and 0 < float(share) < 1


@pytest.mark.e2e
def test_rebuild_is_idempotent(built):
    target, _ = built
    sql = (
        "select (select count(*) from silver.int_stream_observations_unioned) * 1000000"
        " + (select count(*) from silver.int_streamer_game_spells) as n"
    )
    before = scalar(target, sql)
    dbt("build", "--select", "int_stream_observations_unioned+", target=target, quiet=True)
    assert scalar(target, sql) == before


def table_counts(target: str, duckdb_file: Path | None = None) -> dict[str, int]:
    """Row count of every table dbt builds (silver, gold, snapshots)."""
    with warehouse.connect(target, duckdb_file=duckdb_file) as con:
        tables = con.rows(
            "select table_schema as s, table_name as t from information_schema.tables"
            " where table_schema in ('silver', 'gold', 'snapshots')"
            " and table_type = 'BASE TABLE' order by 1, 2"
        )
        return {
            f"{r['s']}.{r['t']}": con.rows(f"select count(*) as n from {r['s']}.{r['t']}")[0]["n"]
            for r in tables
        }


def dbt_process(target: str, env: dict[str, str]) -> subprocess.Popen:
    code = f"from loaders.dbt_run import dbt; dbt('build', target={target!r})"
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.e2e
def test_dbt_build_killed_midway_then_rerun_changes_nothing(built, tmp_path):
    target, _ = built
    env, duckdb_file = dict(os.environ), None
    if target == "duckdb":  # this process keeps the warehouse open: work on a copy
        source = Path(os.environ["GST_DUCKDB_PATH"])
        duckdb_file = tmp_path / "warehouse.duckdb"
        shutil.copy(source, duckdb_file)
        if Path(f"{source}.wal").exists():
            shutil.copy(f"{source}.wal", f"{duckdb_file}.wal")
        env["GST_DUCKDB_PATH"] = str(duckdb_file)
    before = table_counts(target, duckdb_file)
    assert len(before) >= 10 and sum(before.values()) > 1000
    proc = dbt_process(target, env)
    built_nodes, output = 0, []
    for line in proc.stdout:  # SIGKILL once a few models have been rebuilt
        output.append(line)
        built_nodes += " OK created " in line
        if built_nodes == 3:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL, "".join(output)[-3000:]
    rerun = dbt_process(target, env)
    log = rerun.communicate(timeout=900)[0]
    assert rerun.returncode == 0, log[-3000:]
    assert table_counts(target, duckdb_file) == before


@pytest.mark.e2e
def test_ledger_records_loads_and_builds(built):
    target, _ = built
    kinds = scalar(
        target,
        "select count(distinct kind) as n from ops.run_ledger where status = 'success'"
        " and kind in ('load', 'build', 'validate')",
    )
    assert kinds == 3


@pytest.mark.e2e
def test_window_with_nobody_live_fails_with_a_reason(tmp_path, monkeypatch):
    # 09:00-10:12 KST at 10 channels: the simulated streamers are all offline; the demo must
    # say so instead of failing deep in dbt or reporting "bad data"
    monkeypatch.setenv("GST_DUCKDB_PATH", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.delenv("GST_PIPELINES_DIR", raising=False)
    cfg = DemoConfig(
        days=0.05,
        channels=10,
        increment_hours=1,
        start="2026-11-02T00:00:00Z",
        docs=False,
        truth_path=str(tmp_path / "truth.json"),
    )
    with pytest.raises(DemoFailed, match=r"nobody was live on chzzk, soop, twitch") as failed:
        run_demo(cfg, echo=lambda _line: None)
    assert "00:00-01:12 UTC (09:00-10:12 KST) at 10 channels" in str(failed.value)
    with warehouse.connect("duckdb") as con:  # the polls themselves were loaded and recorded
        assert con.rows("select count(*) as n from raw_steam.current_players")[0]["n"] > 0


@pytest.mark.e2e
def test_dbt_in_the_loading_process_runs_with_the_warehouse_settings(built):
    # The path that once broke on a fresh install: the demo loads (DuckDB capped at the loader's
    # GST_LOADER_MEMORY_LIMIT, default 128MB) and then builds with dbt in the same process, on
    # the same DuckDB instance. The build above passed; dbt must also see its own memory limit.
    target, _ = built
    if target != "duckdb":
        pytest.skip("DuckDB shares one instance per process; servers do not")
    assert "GST_LOADER_MEMORY_LIMIT" not in os.environ  # the default cap was in force
    assert os.environ.get("GST_DUCKDB_MEMORY_LIMIT", "1GB") == "1GB"
    result = dbt(
        "show", "--inline", "select current_setting('memory_limit') as m", target=target, quiet=True
    )
    number, unit = str(result.results[0].agate_table.rows[0][0]).split()
    assert unit == "MiB" and 900 < float(number) < 1100, (number, unit)
