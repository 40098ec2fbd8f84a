"""Truth check of streamer impact: the product's estimates against the simulator's planted truth.

Builds a world straight from the world model (``simulator.tables``: the rows the loaders would
land, without HTTP), runs ``dbt build`` for the impact models, and prints, over streamers with
at least ``min_events`` start events on Steam-mapped games:

1. Spearman of ``dim_streamers.estimated_influence`` (via ``int_streamer_influence``) with the
   planted influence, and of a deliberately naive estimator kept here only (players after a
   start minus before, per 1,000 viewers; no seasonality, trend or overlap handling);
2. calibration: the share of planted influences inside the 90 % intervals;
3. the pooled elasticity (``fct_game_streaming_elasticity``, ``game_key = 'all'``) against the
   planted one over the same games (the world has games the product's catalogue does not map
   to Steam; the planted figure over all games is printed beside it), its relative error and
   whether its interval covers it;
4. the share of ``strong`` streamers in the top quartile of planted influence;
5. with ``--oracle``, the ceiling: the same estimator given the world's true baseline
   (``bench/impact_prototype.py``, on the world's own arrays; a few minutes more).

    python -m bench.impact_truth --seed 2024 --days 7 --channels 40 --oracle
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import pandas as pd

from loaders.dbt_run import profiles_dir
from simulator import World, WorldKnobs
from simulator.server import _parse_start
from simulator.tables import write_raw_tables

ROOT = Path(__file__).resolve().parents[1]
START = "2026-11-02T00:00:00Z"
SELECT = "+fct_streamer_game_impact +fct_game_streaming_elasticity"

#: Naive per-event lift: same event set and windows as the product model, no baseline.
NAIVE_SQL = """
with events as (
    select event_id, platform, channel_id, streamer_avg_viewers,
        pre_players, post_players
    from {schema}.fct_streamer_game_impact
)
select
    platform,
    channel_id,
    count(*) as events,
    1000.0 * sum(post_players - pre_players) / sum(streamer_avg_viewers) as naive_influence
from events
group by platform, channel_id
"""


@dataclass
class TruthReport:
    seed: int
    days: float
    channels: int
    min_events: int
    streamers: int
    spearman_product: float
    spearman_naive: float
    coverage: float
    elasticity_planted_all_games: float
    elasticity_planted: float
    elasticity_product: float
    elasticity_ci_low: float
    elasticity_ci_high: float
    elasticity_relative_error: float
    elasticity_covered: bool
    strong_streamers: int
    strong_precision: float
    spearman_oracle: float | None = None
    coverage_oracle: float | None = None
    elasticity_oracle: float | None = None
    strong_precision_oracle: float | None = None


def _schema(con: duckdb.DuckDBPyConnection, table: str) -> str:
    rows = con.execute(
        "select table_schema from information_schema.tables where table_name = ?", [table]
    ).fetchall()
    if not rows:
        raise RuntimeError(f"impact truth: table {table} was not built")
    return rows[0][0]


def build(
    db: Path, seed: int, days: float, channels: int, start: str = START, **knobs: float
) -> None:
    """Write the raw tables of the seeded world into ``db`` and build the impact models."""
    write_raw_tables(db, seed=seed, channels=channels, days=days, start=start, **knobs)
    env = os.environ | {"GST_DUCKDB_PATH": str(db), "GST_TARGET": "duckdb"}
    profiles = profiles_dir()
    dbt = Path(sys.executable).with_name("dbt")
    cmd = [str(dbt), "build", "--select", SELECT, "--profiles-dir", str(profiles)]
    cmd += ["--exclude", "test_type:data", "--quiet"]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"impact truth: dbt build failed:\n{done.stdout[-4000:]}")


def estimates(db: Path) -> tuple[pd.DataFrame, pd.Series]:
    """Per streamer: product and naive estimates, interval, evidence and event count; and the
    pooled elasticity row."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        schema = _schema(con, "int_streamer_influence")
        product = con.execute(
            f"select platform, channel_id, estimated_influence, influence_ci_low, "
            f"influence_ci_high, influence_events, influence_evidence "
            f"from {schema}.int_streamer_influence"
        ).df()
        naive = con.execute(NAIVE_SQL.format(schema=_schema(con, "fct_streamer_game_impact"))).df()
        gold = _schema(con, "fct_game_streaming_elasticity")
        elasticities = con.execute(f"select * from {gold}.fct_game_streaming_elasticity").df()
    finally:
        con.close()
    if not (elasticities["game_key"] == "all").any():
        raise RuntimeError("impact truth: fct_game_streaming_elasticity has no pooled row")
    merged = product.merge(naive, on=["platform", "channel_id"], how="left")
    return merged, elasticities


def planted_over(elasticity: dict, games: set[str]) -> float:
    """The planted pooled elasticity over the game-polls of ``games`` only (the product can
    estimate only games its catalogue maps to Steam apps)."""
    polls = {k: n for k, n in elasticity["per_game_polls"].items() if k in games}
    total = sum(polls.values())
    if not total:
        raise RuntimeError("impact truth: no planted game-polls for the product's games")
    return sum(elasticity["per_game"][k] * n for k, n in polls.items()) / total


def spearman(a: pd.Series, b: pd.Series) -> float:
    return float(a.rank().corr(b.rank()))


def check(
    seed: int = 2024,
    days: float = 7.0,
    channels: int = 40,
    min_events: int = 3,
    start: str = START,
    oracle: bool = False,
    **knobs: float,
) -> tuple[TruthReport, pd.DataFrame]:
    with tempfile.TemporaryDirectory(prefix="gst-impact-") as tmp:
        db = Path(tmp) / "impact.duckdb"
        build(db, seed, days, channels, start=start, **knobs)
        est, elasticities = estimates(db)
    pooled = elasticities.set_index("game_key").loc["all"]
    world = World(seed=seed, channels=channels, knobs=WorldKnobs(**knobs))
    truth = world.truth(start=_parse_start(start), days=days)
    joined = est.merge(pd.DataFrame(truth["streamers"]), on=["platform", "channel_id"])
    enough = joined[(joined["influence_events"] >= min_events)]
    enough = enough[enough["estimated_influence"].notna()]
    planted = planted_over(truth["elasticity"], set(elasticities["game_key"]) - {"all"})
    inside = (enough["influence_ci_low"] <= enough["influence"]) & (
        enough["influence"] <= enough["influence_ci_high"]
    )
    strong = enough[enough["influence_evidence"] == "strong"]
    top = enough["influence"].quantile(0.75)
    naive = enough[enough["naive_influence"].notna()]
    report = TruthReport(
        seed=seed,
        days=days,
        channels=channels,
        min_events=min_events,
        streamers=len(enough),
        spearman_product=spearman(enough["estimated_influence"], enough["influence"]),
        spearman_naive=spearman(naive["naive_influence"], naive["influence"]),
        coverage=float(inside.mean()),
        elasticity_planted_all_games=float(truth["elasticity"]["pooled"]),
        elasticity_planted=planted,
        elasticity_product=float(pooled["elasticity"]),
        elasticity_ci_low=float(pooled["elasticity_ci_low"]),
        elasticity_ci_high=float(pooled["elasticity_ci_high"]),
        elasticity_relative_error=float(pooled["elasticity"]) / planted - 1.0,
        elasticity_covered=bool(
            pooled["elasticity_ci_low"] <= planted <= pooled["elasticity_ci_high"]
        ),
        strong_streamers=len(strong),
        strong_precision=float((strong["influence"] >= top).mean()) if len(strong) else 0.0,
    )
    if oracle:
        from bench.impact_prototype import check as prototype_check

        ceiling = prototype_check(seed, days, channels, start, min_events)
        report.spearman_oracle = ceiling.spearman_oracle
        report.coverage_oracle = ceiling.coverage_oracle
        report.elasticity_oracle = ceiling.elasticity_oracle
        report.strong_precision_oracle = ceiling.strong_precision_oracle
    return report, enough


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--channels", type=int, default=40)
    parser.add_argument("--min-events", type=int, default=3)
    parser.add_argument("--start", default=START)
    parser.add_argument("--oracle", action="store_true", help="also the oracle ceiling")
    parser.add_argument("--knob", action="append", default=[], help="NAME=VALUE world knob")
    args = parser.parse_args(argv)
    knobs = {k: float(v) for k, v in (item.split("=", 1) for item in args.knob)}
    report, _ = check(
        args.seed, args.days, args.channels, args.min_events, args.start, args.oracle, **knobs
    )
    print(json.dumps(asdict(report), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
