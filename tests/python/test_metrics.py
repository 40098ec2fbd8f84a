"""The semantic layer (models/marts/_semantic_models.yml) queried through MetricFlow on a small
demo warehouse, on DuckDB and, when GST_TEST_POSTGRES=1, on PostgreSQL: every metric must give
the figures the gold tables hold (the dashboard's numbers) at the grain they are defined on,
and `mf validate-configs` must pass with the warehouse checks.

The warehouse is three simulated days of 15 channels per platform written straight from the
seeded world (``simulator.tables``, no HTTP; copied into PostgreSQL with dlt for that target),
then `dbt build` of the seeds and models the semantic models read. MetricFlow runs in child
processes (it reads target/semantic_manifest.json, the profile and GST_TARGET like `mf` does):
one `mf query` and one `mf validate-configs` through the CLI, the other queries through
MetricFlow's engine in one process, which also reads the gold tables through its connection.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

from loaders.dbt_run import PROJECT_DIR
from tests.support.targets import TARGETS, copy_raw_tables_to_postgres, scratch_postgres_database

BIN = Path(sys.executable).parent
DAYS = 3.0  # impact events need two earlier days of baseline: the third day has some
# the gold models the semantic models (and the time spine) are defined on
SEMANTIC_MODELS = [
    "fct_platform_daily",
    "fct_game_daily",
    "fct_game_rankings_daily",
    "dim_streamers",
    "dim_games",
    "dim_hours",
]

# Runs in a child process: every query of stdin's JSON list through MetricFlow's engine (a
# `metrics` + `group_by` query) or its SQL client (a `sql` query on the gold tables), printed as
# one JSON list of {column: [values]} tables.
ENGINE = """
import json, sys
from dbt_metricflow.cli.cli_configuration import CLIConfiguration
from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

cfg = CLIConfiguration()
cfg.setup(configure_file_logging=False)
out = []
for q in json.load(sys.stdin):
    if "sql" in q:
        table = cfg.sql_client.query(q["sql"])
    else:
        request = MetricFlowQueryRequest.create(
            metric_names=q["metrics"], group_by_names=q["group_by"]
        )
        table = cfg.mf.query(mf_request=request).result_df
    names = list(table.column_names)
    out.append({n: [None if v is None else str(v) for v in table.column_values_iterator(i)]
                for i, n in enumerate(names)})
print("RESULT " + json.dumps(out))
"""


def run(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    done = subprocess.run(
        args, cwd=PROJECT_DIR, env=env, input=stdin, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, (
        f"{' '.join(args[:3])} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout


@pytest.fixture(scope="module", params=TARGETS)
def warehouse(request, tmp_path_factory):
    """(env for dbt and mf on the built warehouse, target)."""
    from simulator.tables import write_raw_tables

    target = request.param
    work = tmp_path_factory.mktemp(f"metrics-{target}")
    env = {**os.environ, "GST_TARGET": target, "DBT_PROFILES_DIR": str(PROJECT_DIR)}
    env["GST_DUCKDB_PATH"] = str(work / "warehouse.duckdb")
    raw = work / "warehouse.duckdb" if target == "duckdb" else work / "raw.duckdb"
    write_raw_tables(raw, seed=11, channels=15, days=DAYS, start="2026-11-02T00:00:00Z")
    with ExitStack() as stack:
        if target == "postgres":
            env["GST_PG_DATABASE"] = stack.enter_context(scratch_postgres_database())
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("GST_PG_DATABASE", env["GST_PG_DATABASE"])
                copy_raw_tables_to_postgres(raw, work / "pipelines")
        # the seeds and models the semantic models read (data tests: tests/python/test_e2e_demo.py)
        select = [f"+{model}" for model in SEMANTIC_MODELS]
        run(
            [str(BIN / "dbt"), "--quiet", "build", "--select", *select]
            + ["--resource-type", "seed", "--resource-type", "model"],
            env,
        )
        yield env, target


def mf_engine(env: dict[str, str], queries: list[dict]) -> list[dict[str, list]]:
    out = run([sys.executable, "-c", ENGINE], env, stdin=json.dumps(queries))
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def rows(table: dict[str, list], key: list[str], values: list[str]) -> dict[tuple, tuple]:
    """{key columns: value columns}, keys as text (dates cut to the day), values as floats."""
    n = len(next(iter(table.values())))
    out = {}
    for i in range(n):
        k = tuple(str(table[c][i])[:10] if "time" in c or "date" in c else table[c][i] for c in key)
        out[k] = tuple(None if table[c][i] is None else float(table[c][i]) for c in values)
    return out


def assert_same(metric: dict, gold: dict, what: str) -> None:
    assert metric.keys() == gold.keys(), f"{what}: keys differ"
    for key, expected in gold.items():
        got = metric[key]
        for g, e in zip(got, expected, strict=True):
            assert (g is None and e is None) or (
                g is not None and e is not None and math.isclose(g, e, rel_tol=1e-9, abs_tol=1e-9)
            ), f"{what} {key}: MetricFlow {got} != gold {expected}"


@pytest.fixture(scope="module")
def results(warehouse):
    env, _ = warehouse
    queries = [
        # 0, 1: the games' metrics by game and day, against the 'all' rows
        {
            "metrics": [
                "game_hours_watched",
                "steam_players",
                "steam_peak_players",
                "viewer_to_player_ratio",
                "game_peak_viewers",
            ],
            "group_by": ["metric_time__day", "game"],
        },
        {
            "sql": "select game_date, game_key, hours_watched, steam_avg_players,"
            " steam_peak_players, viewer_to_player_ratio, peak_viewers"
            " from gold.fct_game_daily where platform = 'all'"
            " and (hours_watched > 0 or steam_avg_players is not null)"
        },
        # 2, 3: by game, platform and day, against the platform rows
        {
            "metrics": [
                "game_hours_watched",
                "game_airtime_hours",
                "game_average_viewers",
                "game_peak_viewers",
            ],
            "group_by": ["metric_time__day", "game", "platform"],
        },
        {
            "sql": "select game_date, game_key, platform, hours_watched, airtime_hours,"
            " avg_viewers, peak_viewers from gold.fct_game_daily where platform <> 'all'"
        },
        # 4, 5: the ranking's stream share
        {
            "metrics": ["stream_share"],
            "group_by": ["metric_time__day", "game", "game_ranking__ranking_platform"],
        },
        {
            "sql": "select game_date, game_key, platform, stream_share_score"
            " from gold.fct_game_rankings_daily"
        },
        # 6, 7: streamers' estimated influence
        {"metrics": ["estimated_influence"], "group_by": ["streamer"]},
        {"sql": "select streamer_id, estimated_influence from gold.dim_streamers"},
        # 8, 9: platform metrics over the whole period, per platform
        {
            "metrics": ["hours_watched", "average_viewers", "peak_viewers", "live_channels"],
            "group_by": ["platform"],
        },
        {
            "sql": "select platform, sum(hours_watched) as hours_watched,"
            " avg(avg_viewers) as avg_viewers, max(peak_viewers) as peak_viewers,"
            " sum(case when activity_date = (select max(activity_date)"
            " from gold.fct_platform_daily) then live_channels end) as live_channels"
            " from gold.fct_platform_daily group by platform"
        },
        # 10, 11: platform metrics per day, all platforms together
        {
            "metrics": ["hours_watched", "average_viewers", "live_channels"],
            "group_by": ["metric_time__day"],
        },
        {
            "sql": "select activity_date, sum(hours_watched) as hours_watched,"
            " sum(avg_viewers) as avg_viewers, sum(live_channels) as live_channels"
            " from gold.fct_platform_daily group by activity_date"
        },
    ]
    return mf_engine(env, queries)


@pytest.mark.e2e
def test_mf_validate_configs_passes_with_warehouse_checks(warehouse):
    env, _ = warehouse
    out = run([str(BIN / "mf"), "validate-configs"], env)
    assert "against data warehouse" in out  # the warehouse checks ran, not only the semantics
    assert "ERRORS: 0," in out


@pytest.mark.e2e
def test_hours_watched_by_day_and_platform_is_the_dashboards_figure(warehouse, tmp_path):
    env, target = warehouse
    out = tmp_path / "hours.csv"
    metrics = "hours_watched,airtime_hours,live_channels,average_viewers,peak_viewers"
    run(
        [str(BIN / "mf"), "query", "--metrics", metrics, "--group-by", "metric_time__day,platform"]
        + ["--csv", str(out), "--quiet"],
        env,
    )
    with out.open() as f:
        data = list(csv.DictReader(f))
    table = {c: [r[c] or None for r in data] for c in data[0]}
    got = rows(table, ["metric_time__day", "platform"], metrics.split(","))
    sql = (
        "select activity_date, platform, hours_watched, airtime_hours, live_channels,"
        " avg_viewers, peak_viewers from gold.fct_platform_daily"
    )
    gold = mf_engine(env, [{"sql": sql}])[0]
    expected = rows(
        gold,
        ["activity_date", "platform"],
        ["hours_watched", "airtime_hours", "live_channels", "avg_viewers", "peak_viewers"],
    )
    assert len(expected) == 3 * DAYS  # three platforms, every day
    assert_same(got, expected, "hours_watched etc. by day and platform")


@pytest.mark.e2e
def test_steam_players_and_game_metrics_by_game_and_day(results):
    metric = rows(
        results[0],
        ["metric_time__day", "game"],
        [
            "game_hours_watched",
            "steam_players",
            "steam_peak_players",
            "viewer_to_player_ratio",
            "game_peak_viewers",
        ],
    )
    gold = rows(
        results[1],
        ["game_date", "game_key"],
        [
            "hours_watched",
            "steam_avg_players",
            "steam_peak_players",
            "viewer_to_player_ratio",
            "peak_viewers",
        ],
    )
    # game_hours_watched is null, not 0, for a game with Steam players but nobody live
    metric = {k: (v[0] or 0.0, *v[1:]) for k, v in metric.items()}
    assert sum(1 for v in gold.values() if v[1] is not None) > 10
    assert sum(1 for v in gold.values() if v[3] is not None) > 5
    assert_same(metric, gold, "game metrics by game and day")


@pytest.mark.e2e
def test_game_metrics_by_game_platform_and_day(results):
    columns = ["hours_watched", "airtime_hours", "avg_viewers", "peak_viewers"]
    metric = rows(
        results[2],
        ["metric_time__day", "game", "platform"],
        ["game_hours_watched", "game_airtime_hours", "game_average_viewers", "game_peak_viewers"],
    )
    # the 'all' rows have no platform in the semantic layer: MetricFlow groups them under null,
    # where the streaming measures are empty and only the peak (of all platforms) remains
    metric = {k: v for k, v in metric.items() if k[2] is not None}
    gold = rows(results[3], ["game_date", "game_key", "platform"], columns)
    assert len(gold) > 20
    assert_same(metric, gold, "game metrics by game, platform and day")


@pytest.mark.e2e
def test_stream_share_is_the_rankings_score(results):
    metric = rows(
        results[4],
        ["metric_time__day", "game", "game_ranking__ranking_platform"],
        ["stream_share"],
    )
    gold = rows(results[5], ["game_date", "game_key", "platform"], ["stream_share_score"])
    assert len(gold) > 20
    assert_same(metric, gold, "stream_share")


@pytest.mark.e2e
def test_estimated_influence_is_the_streamers_estimate(results):
    metric = rows(results[6], ["streamer"], ["estimated_influence"])
    gold = rows(results[7], ["streamer_id"], ["estimated_influence"])
    assert sum(1 for v in gold.values() if v[0] is not None) >= 3
    assert_same(metric, gold, "estimated_influence")


@pytest.mark.e2e
def test_platform_metrics_over_days_and_platforms(results):
    names = ["hours_watched", "average_viewers", "peak_viewers", "live_channels"]
    by_platform = rows(results[8], ["platform"], names)
    gold = rows(
        results[9], ["platform"], ["hours_watched", "avg_viewers", "peak_viewers", "live_channels"]
    )
    assert_same(by_platform, gold, "platform metrics over the whole period")
    names = ["hours_watched", "average_viewers", "live_channels"]
    by_day = rows(results[10], ["metric_time__day"], names)
    gold = rows(results[11], ["activity_date"], ["hours_watched", "avg_viewers", "live_channels"])
    assert_same(by_day, gold, "platform metrics per day, platforms together")
