"""How much memory each dbt model needs on DuckDB: the smallest `memory_limit` it builds under
with spilling switched off.

A fresh warehouse gets `--days` x `--channels` of raw tables straight from the seeded world
(``simulator.tables``), then `dbt seed` and one full `dbt build` at the default settings. Then
every table and incremental model is rebuilt on its own (`dbt run --full-refresh -s model`,
in-process) at rising memory limits with `max_temp_directory_size = 0B`, so a model that needs
more memory than the limit fails instead of spilling to disk; the first limit it passes at is
its need (an upper bound at the resolution of `--limits`).

    python bench/dbt_memory.py --days 30 --channels 400      # README "Performance" figures
    python bench/dbt_memory.py --days 1 --channels 40 --limits 16MB,64MB

Prints one ``BENCH dbt_memory`` line per model, heaviest first, and writes
bench/results/dbt_memory.csv (model, materialization, rows, need).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loaders.dbt_run import DbtFailed, dbt  # noqa: E402
from simulator.tables import write_raw_tables  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def _bytes(size: str) -> float:
    units = {"KB": 1e3, "MB": 1e6, "GB": 1e9}
    return float(size[:-2]) * units[size[-2:].upper()]


def models() -> list[tuple[str, str]]:
    """(name, materialization) of every model materialized as a table or incrementally, in the
    order of the manifest dbt wrote for the build."""
    target = Path(os.environ.get("DBT_TARGET_PATH") or ROOT / "target")
    nodes = json.loads((target / "manifest.json").read_text())["nodes"].values()
    return [
        (node["name"], node["config"]["materialized"])
        for node in nodes
        if node["resource_type"] == "model"
        and node["config"]["materialized"] in ("table", "incremental")
    ]


def need(model: str, limits: list[str]) -> str:
    for limit in limits:
        os.environ["GST_DUCKDB_MEMORY_LIMIT"] = limit
        try:
            dbt("run", "--full-refresh", "--select", model, quiet=True)
            return limit
        except DbtFailed:
            continue
    return f">{limits[-1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=30)
    parser.add_argument("--channels", type=int, default=400)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--limits", default="32MB,64MB,128MB,256MB,512MB,1GB")
    parser.add_argument("--keep", help="warehouse path to keep (default: a temp dir)")
    args = parser.parse_args()
    limits = sorted(args.limits.split(","), key=_bytes)

    work = Path(args.keep or tempfile.mkdtemp(prefix="gst-dbt-memory-"))
    db = work if args.keep else work / "warehouse.duckdb"
    os.environ.update(GST_DUCKDB_PATH=str(db), GST_TARGET="duckdb")
    began = time.perf_counter()
    counts = write_raw_tables(db, seed=args.seed, channels=args.channels, days=args.days)
    raw_rows = sum(counts.values())
    print(f"raw tables: {raw_rows:,} rows ({time.perf_counter() - began:.0f}s)", flush=True)
    dbt("seed", quiet=True)
    began = time.perf_counter()
    dbt("build", "--full-refresh", quiet=True)
    print(f"full build at the default settings: {time.perf_counter() - began:.0f}s", flush=True)

    os.environ["GST_DUCKDB_MAX_TEMP_SIZE"] = "0B"
    os.environ["GST_DUCKDB_THREADS"] = os.environ.get("GST_DUCKDB_THREADS", "2")
    from loaders.warehouse import connect_duckdb

    rows_out = []
    for name, materialized in models():
        found = need(name, limits)
        with connect_duckdb(db) as con:  # this process's DuckDB instance (dbt's) is open
            relation = con.execute(
                "select table_schema from information_schema.tables where table_name = ?",
                [name],
            ).fetchone()
            rows = (
                con.execute(f"select count(*) from {relation[0]}.{name}").fetchone()[0]
                if relation
                else 0
            )
        rows_out.append((name, materialized, rows, found))
        print(f"  {name}: {found} ({rows:,} rows)", flush=True)

    def order(row: tuple) -> float:
        return _bytes(row[3].lstrip(">")) + (1 if row[3].startswith(">") else 0)

    rows_out.sort(key=order, reverse=True)
    for name, materialized, rows, found in rows_out:
        print(
            f"BENCH dbt_memory days={args.days:g} channels={args.channels} model={name} "
            f"materialized={materialized} rows={rows} need={found}"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / "dbt_memory.csv", "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["days", "channels", "raw_rows", "model", "materialized", "rows", "need"])
        for name, materialized, rows, found in rows_out:
            writer.writerow([args.days, args.channels, raw_rows, name, materialized, rows, found])


if __name__ == "__main__":
    main()
