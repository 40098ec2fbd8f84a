"""dbt benchmark: full `dbt build` at 1, 7 and 30 simulated days, and an incremental build
after one more simulated hour at 30 days, on DuckDB.

The raw tables come straight from the seeded world (``simulator.tables``: the rows the
loaders would land, without HTTP), so the figures measure dbt alone. For each size a fresh
warehouse gets the raw tables and a timed ``dbt build --full-refresh`` (models, snapshots, data
and unit tests) runs in a child process, the way a user runs it. The growth exponent is the
slope of log(wall time) over log(days) (1 = linear).

At the largest size the raw tables hold one extra hour, held back for the full build. Then:

1. rows touched: on a copy of the warehouse, the new hour is inserted and each incremental
   model is compiled (so ``is_incremental()`` is true) and run in DAG order; the compiled
   select's row count is what that model deletes and re-inserts, and its earliest timestamp
   must not precede the look-back window;
2. the timed incremental ``dbt build`` (no ``--full-refresh``) on the warehouse with the hour.

    python bench/dbt_bench.py                       # 1, 7, 30 days at 40 channels
    python bench/dbt_bench.py --days 1,3 --channels 20    # quick run

Prints one ``BENCH ...`` line per measurement plus a summary line, and writes
bench/results/dbt.csv.
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
OBSERVATION_TABLES = [(schema, table) for schema, table, _ in TABLES[:4]]
#: incremental models in DAG order: (model, timestamp column, look-back from the newest value)
INCREMENTAL = (
    ("int_stream_observations_unioned", "observed_at", timedelta(hours=LOOKBACK_HOURS)),
    ("fct_game_hourly", "hour_at", timedelta(hours=LOOKBACK_HOURS)),
    ("fct_game_daily", "game_date", timedelta(days=1)),
)


def dbt(db: Path, *args: str) -> float:
    """Run one dbt command on ``db`` in a child process; return its wall time in seconds."""
    env = os.environ | {"GST_DUCKDB_PATH": str(db), "GST_TARGET": "duckdb"}
    env |= {"DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    env |= {"DBT_TARGET_PATH": str(TARGET_PATH)}
    cmd = [str(Path(sys.executable).with_name("dbt")), *args]
    cmd += ["--profiles-dir", str(profiles_dir()), "--target", "duckdb"]
    began = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(
            f"dbt bench: `dbt {' '.join(args)}` failed on {db}:\n{done.stdout[-4000:]}"
        )
    return elapsed


def incremental_model_seconds() -> float:
    """Execution time of the incremental models in the last dbt command (run_results.json)."""
    results = json.loads((TARGET_PATH / "run_results.json").read_text())["results"]
    names = {model for model, _, _ in INCREMENTAL}
    timed = [r["execution_time"] for r in results if r["unique_id"].split(".")[-1] in names]
    if len(timed) != len(names):
        raise SystemExit("dbt bench: the incremental models are missing from run_results.json")
    return sum(timed)


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
        for schema, table in OBSERVATION_TABLES:
            con.execute(f"delete from {schema}.{table} where observed_at >= ?", [cutoff])


def add_last_hour(full: Path, db: Path, cutoff: datetime) -> int:
    with duckdb.connect(str(db)) as con:
        con.execute(f"attach '{full}' as full_raw (read_only)")
        added = 0
        for schema, table in OBSERVATION_TABLES:
            added += con.execute(
                f"insert into {schema}.{table} select * from full_raw.{schema}.{table}"
                " where observed_at >= ?",
                [cutoff],
            ).fetchone()[0]
        con.execute("detach full_raw")
    return added


def compiled_sql(model: str) -> str:
    compiled = TARGET_PATH / "compiled"
    found = [p for p in compiled.rglob(f"{model}.sql") if not p.parent.name.endswith(".yml")]
    if len(found) != 1:
        raise SystemExit(f"dbt bench: expected one compiled {model}.sql, found {found}")
    return found[0].read_text()


def rows_touched(db: Path) -> list[dict[str, object]]:
    """Compile and run each incremental model in DAG order; count what its select re-writes."""
    out = []
    for model, column, lookback in INCREMENTAL:
        with duckdb.connect(str(db), read_only=True) as con:
            schema = con.execute(
                "select table_schema from information_schema.tables where table_name = ?", [model]
            ).fetchone()[0]
            total, newest = con.execute(
                f"select count(*), max({column}) from {schema}.{model}"
            ).fetchone()
        dbt(db, "compile", "--select", model, "--quiet")
        sql = compiled_sql(model)
        if "max(" not in sql:
            raise SystemExit(f"dbt bench: {model} compiled without its incremental filter")
        with duckdb.connect(str(db), read_only=True) as con:
            touched, earliest = con.execute(
                f"select count(*), min({column}) from ({sql}) as t"
            ).fetchone()
        window_start = newest - lookback
        dbt(db, "run", "--select", model, "--quiet")
        out.append(
            {
                "model": model,
                "rows_touched": touched,
                "rows_total": total,
                "window_ok": earliest is not None and earliest >= window_start,
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", default="1,7,30", help="Comma-separated simulated days.")
    parser.add_argument("--channels", type=int, default=40)
    parser.add_argument("--seed", type=int, default=42)
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
                full = Path(tmp) / "full.duckdb"
                write_raw_tables(
                    full, seed=args.seed, channels=args.channels, days=days + 1 / 24, start=START
                )
                cutoff = datetime.fromisoformat(START) + timedelta(days=days)
                split_last_hour(full, db, cutoff)
            else:
                write_raw_tables(db, seed=args.seed, channels=args.channels, days=days, start=START)
            print(
                f"... raw tables for {days:g} days in {time.perf_counter() - began:.0f}s",
                flush=True,
            )
            seconds = dbt(db, "build", "--full-refresh", "--quiet")
            row = {"run": "full", "days": days, "raw_rows": rows(db), "seconds": round(seconds, 2)}
            row["incremental_models_seconds"] = round(incremental_model_seconds(), 2)
            print(
                f"BENCH dbt_full days={days:g} raw_rows={row['raw_rows']} seconds={seconds:.1f}",
                flush=True,
            )
            results.append(row)
        probe = Path(tmp) / "probe.duckdb"
        shutil.copy(db, probe)
        added = add_last_hour(full, probe, cutoff)
        touched = rows_touched(probe)
        add_last_hour(full, db, cutoff)
        seconds = dbt(db, "build", "--quiet")
        inc = {
            "run": "incremental+1h",
            "days": sizes[-1],
            "raw_rows": added,
            "seconds": round(seconds, 2),
            "incremental_models_seconds": round(incremental_model_seconds(), 2),
        }
        results.append(inc)
        print(
            f"BENCH dbt_incremental days={sizes[-1]:g} new_raw_rows={added} seconds={seconds:.1f}"
        )
        for t in touched:
            share = t["rows_touched"] / max(t["rows_total"], 1)
            print(
                f"BENCH incremental_rows model={t['model']} touched={t['rows_touched']}"
                f" total={t['rows_total']} share={share:.4f} window_ok={t['window_ok']}"
            )
    full_runs = [r for r in results if r["run"] == "full"]
    xs = [math.log(r["days"]) for r in full_runs]
    ys = [math.log(r["seconds"]) for r in full_runs]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    exponent = (
        sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else float("nan")
    )
    ratio = inc["seconds"] / full_runs[-1]["seconds"]
    model_ratio = inc["incremental_models_seconds"] / full_runs[-1]["incremental_models_seconds"]
    windows_ok = all(t["window_ok"] for t in touched)
    with (RESULTS / "dbt.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(inc))
        writer.writeheader()
        writer.writerows(results)
    print(
        f"BENCH dbt_summary growth_exponent={exponent:.2f} (target <= 1)"
        f" incremental_share={ratio:.3f} (target <= 0.05)"
        f" incremental_models_share={model_ratio:.3f} incremental_windows_ok={windows_ok}"
    )
    return 0 if windows_ok else 1


if __name__ == "__main__":
    sys.exit(main())
