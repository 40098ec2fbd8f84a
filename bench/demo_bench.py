"""Demo benchmark: wall time of `gst demo` per step, with the machine's load beside it.

Runs the whole demo (simulator -> loaders -> snapshots every 8 simulated hours -> raw
validation -> dbt build -> gold validation -> docs) in a scratch directory, once per `--days`
value, at the demo's defaults (40 channels, 10-minute polls, seed 42), and reports the seconds of
each step as `run_demo` measures them: collect (extraction; the next increment's overlaps the
snapshots), load, snapshots, dbt (seed, parse and the final build), validation, docs, total.
The target: the 7-day demo in <= 300 s on 2 cores. The load average (1 minute) is read before
and after each run: other processes on the machine slow every step.

    python bench/demo_bench.py                 # --days 1,7
    python bench/demo_bench.py --days 7

Prints one `BENCH ...` line per run and writes bench/results/demo.csv.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STEPS = ("collect", "load", "snapshots", "dbt", "validation", "docs", "total")
TARGET_SECONDS = {7.0: 300.0}


def run(days: float, channels: int, seed: int) -> dict[str, float]:
    from loaders.demo import DemoConfig, run_demo

    with tempfile.TemporaryDirectory(prefix="gst-demo-bench-") as work:
        os.environ["GST_DUCKDB_PATH"] = str(Path(work) / "warehouse.duckdb")
        os.environ["GST_DUCKDB_READ_PATH"] = str(Path(work) / "warehouse.gold.duckdb")
        os.environ.pop("GST_PIPELINES_DIR", None)
        os.environ["DBT_TARGET_PATH"] = str(Path(work) / "target")  # as on a fresh checkout
        cfg = DemoConfig(
            days=days, channels=channels, seed=seed, truth_path=str(Path(work) / "truth.json")
        )
        load_before = os.getloadavg()[0]
        started = time.monotonic()
        summary = run_demo(cfg, echo=lambda _line: None)
        steps = dict(summary["steps"])
        steps["total"] = round(time.monotonic() - started, 1)
        steps["load_before"], steps["load_after"] = load_before, os.getloadavg()[0]
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", default="1,7", help="comma-separated simulated days")
    parser.add_argument("--channels", type=int, default=40)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "demo.csv"))
    args = parser.parse_args()
    os.environ.setdefault("DBT_PROFILES_DIR", str(ROOT))
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.chdir(ROOT)
    rows = []
    for days in (float(d) for d in args.days.split(",")):
        steps = run(days, args.channels, args.seed)
        target = TARGET_SECONDS.get(days)
        verdict = "" if target is None else ("met" if steps["total"] <= target else "NOT met")
        print(
            f"BENCH demo days={days:g} channels={args.channels} "
            + " ".join(f"{name}={steps.get(name, 0.0):.0f}s" for name in STEPS)
            + f" load_avg={steps['load_before']:.1f}->{steps['load_after']:.1f} cores="
            f"{os.cpu_count()}" + (f" target<={target:.0f}s {verdict}" if target else ""),
            flush=True,
        )
        rows.append(
            {"days": days, "channels": args.channels, "cores": os.cpu_count()}
            | {name: round(steps.get(name, 0.0), 1) for name in STEPS}
            | {"load_before": steps["load_before"], "load_after": steps["load_after"]}
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
