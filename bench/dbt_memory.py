"""How much memory each dbt model needs on DuckDB: the smallest `memory_limit` it builds under
with spilling switched off.

A fresh warehouse gets `--days` x `--channels` of raw tables straight from the seeded world
(``simulator.tables``), then `dbt seed` and one full `dbt build` at the default settings. Then
every table and incremental model is rebuilt (`dbt run --full-refresh`, in-process) at rising
memory limits with `max_temp_directory_size = 0B`, so a model that needs more memory than the
limit fails instead of spilling to disk; the first limit it passes at is its need (an upper
bound at the resolution of `--limits`). Models skipped because a parent failed run again on
their own against the parent's table from the full build.

    python bench/dbt_memory.py --days 30 --channels 400      # README "Performance" figures
    python bench/dbt_memory.py --days 1 --channels 40 --limits 16MB,64MB

Prints one ``BENCH dbt_memory`` line per model, heaviest first, and writes
bench/results/dbt_memory.csv (model, materialization, rows, need).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import tempfile
import time
from pathlib import Path

from loaders.dbt_run import DbtFailed, dbt
from simulator.tables import write_raw_tables

ROOT = Path(__file__).resolve().parents[1]

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


def statuses() -> dict[str, str]:
    """model name -> status ('success', 'error', 'skipped') of the last dbt command."""
    target = Path(os.environ.get("DBT_TARGET_PATH") or ROOT / "target")
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[-1]: r["status"] for r in results}


def run_at(limit: str, names: list[str]) -> set[str]:
    """Rebuild `names` at `limit` without spilling; the names that ran out of memory.

    A model whose parent fails is skipped by dbt, so skipped models run again on their own,
    against the parents' tables from the full build."""
    os.environ["GST_DUCKDB_MEMORY_LIMIT"] = limit
    failed: set[str] = set()
    todo = list(names)
    while todo:
        with contextlib.suppress(DbtFailed):
            dbt("run", "--full-refresh", "--select", *todo, quiet=True)
        status = statuses()
        failed |= {n for n in todo if status.get(n) == "error"}
        skipped = [n for n in todo if status.get(n) == "skipped"]
        if len(skipped) == len(todo):  # nothing ran: stop rather than loop
            failed |= set(skipped)
            break
        todo = skipped
    return failed


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

    names = [name for name, _ in models()]
    kinds = dict(models())
    needs: dict[str, str] = {}
    for limit in limits:
        pending = [n for n in names if n not in needs]
        if not pending:
            break
        failed = run_at(limit, pending)
        for name in pending:
            if name not in failed:
                needs[name] = limit
        print(f"  at {limit}: {len(pending) - len(failed)} of {len(pending)} built", flush=True)
    rows_out = []
    with connect_duckdb(db) as con:  # this process's DuckDB instance (dbt's) is open
        for name in names:
            relation = con.execute(
                "select table_schema from information_schema.tables where table_name = ?",
                [name],
            ).fetchone()
            rows = (
                con.execute(f"select count(*) from {relation[0]}.{name}").fetchone()[0]
                if relation
                else 0
            )
            rows_out.append((name, kinds[name], rows, needs.get(name, f">{limits[-1]}")))

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
