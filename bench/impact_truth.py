"""Truth check of streamer impact: both estimators against the simulator's planted influences.

Builds a small world straight from the world model (``simulator.tables``: the rows the
loaders would land, without HTTP), runs ``dbt build`` for the impact models, and reports the
Spearman rank correlation with the planted truth of

- the product estimator, ``int_streamer_influence.estimated_influence``, and
- a deliberately naive one kept here (not a product metric): players in the hours after a
  start minus the hours before, per 1,000 viewers, viewer-weighted per streamer; no
  seasonality, trend or overlap handling,

over streamers with at least ``min_events`` events::

    python -m bench.impact_truth --seed 2024 --days 8 --channels 40
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
from simulator.tables import write_raw_tables

ROOT = Path(__file__).resolve().parents[1]
SELECT = "+fct_streamer_game_impact int_streamer_influence"

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


def _schema(con: duckdb.DuckDBPyConnection, table: str) -> str:
    rows = con.execute(
        "select table_schema from information_schema.tables where table_name = ?", [table]
    ).fetchall()
    if not rows:
        raise RuntimeError(f"impact truth: table {table} was not built")
    return rows[0][0]


def build(db: Path, seed: int, days: float, channels: int, **knobs: float) -> None:
    """Write the raw tables of the seeded world into ``db`` and build the impact models."""
    write_raw_tables(db, seed=seed, channels=channels, days=days, **knobs)
    env = os.environ | {"GST_DUCKDB_PATH": str(db), "GST_TARGET": "duckdb"}
    profiles = profiles_dir()
    dbt = Path(sys.executable).with_name("dbt")
    cmd = [str(dbt), "build", "--select", SELECT, "--profiles-dir", str(profiles)]
    cmd += ["--exclude", "test_type:data", "--quiet"]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"impact truth: dbt build failed:\n{done.stdout[-4000:]}")


def estimates(db: Path) -> pd.DataFrame:
    """Per streamer: product and naive estimates and event count."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        schema = _schema(con, "int_streamer_influence")
        product = con.execute(
            f"select platform, channel_id, estimated_influence, influence_events "
            f"from {schema}.int_streamer_influence"
        ).df()
        naive = con.execute(NAIVE_SQL.format(schema=_schema(con, "fct_streamer_game_impact"))).df()
    finally:
        con.close()
    return product.merge(naive, on=["platform", "channel_id"], how="inner")


def spearman(a: pd.Series, b: pd.Series) -> float:
    return float(a.rank().corr(b.rank()))


def check(
    seed: int = 2024, days: float = 8.0, channels: int = 40, min_events: int = 3, **knobs: float
) -> tuple[TruthReport, pd.DataFrame]:
    with tempfile.TemporaryDirectory(prefix="gst-impact-") as tmp:
        db = Path(tmp) / "impact.duckdb"
        build(db, seed, days, channels, **knobs)
        est = estimates(db)
    truth = pd.DataFrame(
        World(seed=seed, channels=channels, knobs=WorldKnobs(**knobs)).truth()["streamers"]
    )
    joined = est.merge(truth, on=["platform", "channel_id"], how="inner")
    enough = joined[joined["influence_events"] >= min_events]
    report = TruthReport(
        seed=seed,
        days=days,
        channels=channels,
        min_events=min_events,
        streamers=len(enough),
        spearman_product=spearman(enough["estimated_influence"], enough["influence"]),
        spearman_naive=spearman(enough["naive_influence"], enough["influence"]),
    )
    return report, enough


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--days", type=float, default=8.0)
    parser.add_argument("--channels", type=int, default=40)
    parser.add_argument("--min-events", type=int, default=3)
    parser.add_argument("--knob", action="append", default=[], help="NAME=VALUE world knob")
    args = parser.parse_args(argv)
    knobs = {k: float(v) for k, v in (item.split("=", 1) for item in args.knob)}
    report, _ = check(args.seed, args.days, args.channels, args.min_events, **knobs)
    print(json.dumps(asdict(report), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
