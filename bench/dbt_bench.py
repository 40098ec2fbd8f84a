"""dbt benchmark: full `dbt build` at 1, 7 and 30 simulated days, and an incremental build
after one more simulated hour at 30 days, on DuckDB.

The raw tables come straight from the seeded world (``simulator.tables``: the rows the
loaders would land, without HTTP), so the figures measure dbt alone. For each size a fresh
warehouse gets the raw tables and a timed ``dbt build --full-refresh`` (models, snapshots, data
and unit tests) runs in a child process, the way a user runs it. The growth exponent is the
slope of log(wall time) over log(days) (1 = linear).

At the largest size the raw tables hold one extra hour, held back for the full build. Then:

1. rows rewritten: on a copy of the warehouse, the new hour is inserted and the incremental
   models run with everything upstream (``dbt run --vars '{log_window_rows: true}'``): the
   ``window_replace`` and ``fit_replace`` strategies (macros/incremental.sql,
   macros/impact_fit.sql) log how many rows each model deletes and re-inserts;
2. the timed incremental ``dbt build`` (no ``--full-refresh``) on the warehouse with the hour.

Targets (issue 21): rows rewritten <= 2 % of the table for every model finer than a day, <= 7 %
for a day-grain model at 30 days (the current day plus the look-back), and the whole incremental
build <= 0.25x the full build.

    python bench/dbt_bench.py --days 30 --channels 400   # the figures in README "Performance"
    python bench/dbt_bench.py                            # 1, 7, 30 days at 40 channels
    python bench/dbt_bench.py --days 1,3 --channels 20   # quick run
    python bench/dbt_bench.py --days 30 --channels 400 --start 2026-11-02T14:00:00Z
        # the extra hour completes a KST day: the hour of the day the influence fit re-fits

Prints one ``BENCH ...`` line per measurement plus a summary line, and writes
bench/results/dbt.csv (one row per build) and bench/results/dbt_incremental.csv (one row per
incremental model, ``model, grain, rows_full, rows_incremental, seconds_full,
seconds_incremental``, then ``__build__`` with the whole builds' wall times).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import yaml

from loaders.dbt_run import profiles_dir
from simulator.tables import TABLES, write_raw_tables

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
TARGET_PATH = RESULTS / "dbt-target"  # dbt artifacts of the bench, apart from target/
START = "2026-11-02T00:00:00Z"
LOOKBACK_HOURS = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]["lookback_hours"]
#: raw tables that grow with time: the extra hour is held back from them
GROWING_TABLES = [(schema, table) for schema, table, _ in TABLES[:4]] + [("raw_steam", "prices")]
OBSERVATION_TABLES = GROWING_TABLES[:4]
#: the grain of every incremental model (a row stands for a poll, an hour, a session or
#: interval of one, or a day); the targets differ for day-grain models
GRAINS = {
    "int_stream_observations_unioned": "poll",
    "int_stream_observations_sessionized": "poll",
    "int_category_viewers_polled": "poll",
    "int_category_viewers_hourly": "hour",
    "int_game_viewers_hourly": "hour",
    "int_app_viewers_hourly": "hour",
    "int_steam_players_hourly": "hour",
    "fct_game_hourly": "hour",
    "int_broadcast_sessions_sessionized": "session",
    "int_streamer_game_spells": "session",
    "int_steam_price_periods": "session",
    "fct_broadcasts": "session",
    "fct_streamer_game_history": "session",
    "int_steam_players_daily": "day",
    "fct_game_daily": "day",
    "fct_game_rankings_daily": "day",
    "fct_platform_daily": "day",
    # the streamer-influence fit: re-fitted when a KST day completes (or polls arrive late
    # inside its window), kept otherwise (macros/impact_fit.sql)
    "int_impact_design": "day",
    "int_impact_gram": "day",
    "int_impact_fit": "day",
    "int_streamer_influence": "day",
}
TARGET_SHARE = {"poll": 0.02, "hour": 0.02, "session": 0.02, "day": 0.07}
TARGET_BUILD_RATIO = 0.25


def dbt(
    db: Path, *args: str, output: list[str] | None = None, target_path: Path = TARGET_PATH
) -> float:
    """Run one dbt command on ``db`` in a child process; return its wall time in seconds (and
    append its stdout lines to ``output``). Commands with other --vars parse the project anew,
    so they get their own ``target_path``: the timed builds start from the same parse."""
    env = os.environ | {"GST_DUCKDB_PATH": str(db), "GST_TARGET": "duckdb"}
    env |= {"DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    env |= {"DBT_TARGET_PATH": str(target_path)}
    cmd = [str(Path(sys.executable).with_name("dbt")), *args]
    cmd += ["--profiles-dir", str(profiles_dir()), "--target", "duckdb"]
    began = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(
            f"dbt bench: `dbt {' '.join(args)}` failed on {db}:\n{done.stdout[-4000:]}"
        )
    if output is not None:
        output.extend(done.stdout.splitlines())
    return elapsed


def model_seconds() -> dict[str, float]:
    """Execution time of each model in the last dbt command (run_results.json)."""
    results = json.loads((TARGET_PATH / "run_results.json").read_text())["results"]
    return {
        r["unique_id"].split(".")[-1]: r["execution_time"]
        for r in results
        if r["unique_id"].startswith("model.")
    }


def incremental_models() -> list[str]:
    """The incremental models of the project (manifest of the last dbt command)."""
    nodes = json.loads((TARGET_PATH / "manifest.json").read_text())["nodes"].values()
    found = sorted(
        n["name"]
        for n in nodes
        if n["resource_type"] == "model" and n["config"]["materialized"] == "incremental"
    )
    unknown = [m for m in found if m not in GRAINS]
    if unknown:
        raise SystemExit(f"dbt bench: no grain for incremental models {unknown} (GRAINS)")
    return found


def table_rows(db: Path, models: list[str]) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        out = {}
        for model in models:
            schema = con.execute(
                "select table_schema from information_schema.tables where table_name = ?", [model]
            ).fetchone()[0]
            out[model] = con.execute(f"select count(*) from {schema}.{model}").fetchone()[0]
    return out


def rows_rewritten(db: Path, models: list[str]) -> dict[str, int]:
    """Rows each incremental model deletes and re-inserts when it runs on ``db`` (logged by the
    window_replace and fit_replace strategies). The models run with everything upstream of
    them, as in a build: the fitted models compare their fit_id with int_impact_fit_window's,
    a table that must see the new hour too."""
    lines: list[str] = []
    dbt(
        db,
        "run",
        "--select",
        *(f"+{model}" for model in models),
        "--vars",
        "{log_window_rows: true}",
        output=lines,
        target_path=TARGET_PATH / "window-rows",
    )
    counted = {}
    for line in lines:
        if "WINDOW_ROWS " in line:
            model, n = line.split("WINDOW_ROWS ", 1)[1].split()[:2]
            counted[model] = int(n)
    missing = sorted(set(models) - set(counted))
    if missing:
        raise SystemExit(f"dbt bench: no WINDOW_ROWS line for {missing}")
    return counted


def rows(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return sum(
            con.execute(f"select count(*) from {s}.{t}").fetchone()[0]
            for s, t in OBSERVATION_TABLES
        )


def split_last_hour(full: Path, db: Path, cutoff: datetime) -> None:
    """Copy ``full`` into ``db`` without the observations at or after ``cutoff``."""
    shutil.copy(full, db)
    with duckdb.connect(str(db)) as con:
        for schema, table in GROWING_TABLES:
            con.execute(f"delete from {schema}.{table} where observed_at >= ?", [cutoff])


def add_last_hour(full: Path, db: Path, cutoff: datetime) -> int:
    with duckdb.connect(str(db)) as con:
        con.execute(f"attach '{full}' as full_raw (read_only)")
        added = 0
        for schema, table in GROWING_TABLES:
            added += con.execute(
                f"insert into {schema}.{table} select * from full_raw.{schema}.{table}"
                " where observed_at >= ?",
                [cutoff],
            ).fetchone()[0]
        con.execute("detach full_raw")
    return added


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", default="1,7,30", help="Comma-separated simulated days.")
    parser.add_argument("--channels", type=int, default=40)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--start",
        default=START,
        help="First simulated instant (UTC). The default ends the history at 09:00 KST, so the"
        " extra hour completes no KST day and the influence fit is kept; 2026-11-02T14:00:00Z"
        " makes the extra hour complete one (the once-a-day re-fit).",
    )
    parser.add_argument(
        "--raw-cache",
        type=Path,
        help="Directory keeping the largest size's raw tables between runs (written once).",
    )
    args = parser.parse_args(argv)
    sizes = sorted(float(d) for d in args.days.split(","))
    RESULTS.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="gst-dbt-bench-") as tmp:
        for days in sizes:
            largest = days == sizes[-1]
            db = Path(tmp) / f"days{days:g}.duckdb"
            began = time.perf_counter()
            if largest:  # one extra hour, held back for the incremental build
                stamp = datetime.fromisoformat(args.start).strftime("%Y%m%dT%H%M")
                name = f"raw-seed{args.seed}-ch{args.channels}-{stamp}-days{days:g}+1h.duckdb"
                full = (args.raw_cache or Path(tmp)) / name
                if not full.exists():
                    full.parent.mkdir(parents=True, exist_ok=True)
                    partial = full.with_suffix(".partial")
                    partial.unlink(missing_ok=True)
                    write_raw_tables(
                        partial,
                        seed=args.seed,
                        channels=args.channels,
                        days=days + 1 / 24,
                        start=args.start,
                    )
                    partial.rename(full)
                cutoff = datetime.fromisoformat(args.start) + timedelta(days=days)
                split_last_hour(full, db, cutoff)
            else:
                write_raw_tables(
                    db, seed=args.seed, channels=args.channels, days=days, start=args.start
                )
            print(
                f"... raw tables for {days:g} days in {time.perf_counter() - began:.0f}s",
                flush=True,
            )
            dbt(db, "parse", "--quiet")  # the timed builds start from a parsed project
            seconds = dbt(db, "build", "--full-refresh", "--quiet")
            row = {"run": "full", "days": days, "raw_rows": rows(db), "seconds": round(seconds, 2)}
            print(
                f"BENCH dbt_full days={days:g} raw_rows={row['raw_rows']} seconds={seconds:.1f}",
                flush=True,
            )
            results.append(row)
        full_seconds = model_seconds()
        models = incremental_models()
        probe = Path(tmp) / "probe.duckdb"
        shutil.copy(db, probe)
        add_last_hour(full, probe, cutoff)
        rewritten = rows_rewritten(probe, models)
        probe.unlink()
        added = add_last_hour(full, db, cutoff)
        seconds = dbt(db, "build", "--quiet")
        inc_seconds = model_seconds()
        totals = table_rows(db, models)
        inc = {"run": "incremental+1h", "days": sizes[-1], "raw_rows": added}
        inc["seconds"] = round(seconds, 2)
        results.append(inc)
        print(
            f"BENCH dbt_incremental days={sizes[-1]:g} new_raw_rows={added} seconds={seconds:.1f}"
        )
    per_model = []
    ok = True
    for model in sorted(models, key=lambda m: (list(TARGET_SHARE).index(GRAINS[m]), m)):
        share = rewritten[model] / max(totals[model], 1)
        met = share <= TARGET_SHARE[GRAINS[model]]
        ok &= met
        per_model.append(
            {
                "model": model,
                "grain": GRAINS[model],
                "rows_full": totals[model],
                "rows_incremental": rewritten[model],
                "seconds_full": round(full_seconds[model], 3),
                "seconds_incremental": round(inc_seconds[model], 3),
            }
        )
        print(
            f"BENCH incremental_rows model={model} grain={GRAINS[model]}"
            f" rows={rewritten[model]}/{totals[model]} share={share:.4f}"
            f" (target <= {TARGET_SHARE[GRAINS[model]]}) seconds={inc_seconds[model]:.2f}"
            f"/{full_seconds[model]:.2f}"
        )
    full_runs = [r for r in results if r["run"] == "full"]
    ratio = inc["seconds"] / full_runs[-1]["seconds"]
    ok &= ratio <= TARGET_BUILD_RATIO
    per_model.append(
        {
            "model": "__build__",
            "grain": "",
            "rows_full": "",
            "rows_incremental": "",
            "seconds_full": full_runs[-1]["seconds"],
            "seconds_incremental": inc["seconds"],
        }
    )
    with (RESULTS / "dbt_incremental.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(per_model[0]))
        writer.writeheader()
        writer.writerows(per_model)
    exponent = float("nan")
    if len(full_runs) > 1:
        xs = [math.log(r["days"]) for r in full_runs]
        ys = [math.log(r["seconds"]) for r in full_runs]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        var = sum((x - mx) ** 2 for x in xs)
        exponent = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var
    with (RESULTS / "dbt.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(full_runs[0]))
        writer.writeheader()
        writer.writerows(results)
    print(
        f"BENCH dbt_summary growth_exponent={exponent:.2f} (target <= 1)"
        f" incremental_build_ratio={ratio:.3f} (target <= {TARGET_BUILD_RATIO})"
        f" targets_met={ok}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
