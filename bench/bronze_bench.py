"""Bronze benchmark: bytes of one simulated day as raw JSON, as per-page gzip files and as
compacted Parquet (`gst bronze compact`), with compaction throughput and peak memory.

1. Records one simulated day of 10-minute polls of all four platforms at `--channels` (the
   simulator in its own process; the real sources and `gst load --bronze`'s recorder; each
   poll is extracted and its load package discarded: the warehouse is not measured here).
   `--bronze DIR` reuses a day recorded before (it is never modified).
2. Raw JSON bytes = the page records as the recorder serializes them (decompressed page files);
   gzip bytes = the page files on disk; compacted bytes = the Parquet files.
3. Compacts a copy of the day (hard links), one child process per platform, and reports its
   throughput (JSON MB/s, reading + writing + verifying + deleting pages) and peak RSS; then
   the same for a copy of the day's first quarter (memory must not grow with the day's size)
   and a child that only imports the modules (the floor).
4. `--variants`: rewrites the compacted day with other layouts (zstd level, row order, row
   group size, dictionary) and reports their sizes: how the defaults were chosen.

    python bench/bronze_bench.py                      # record 1 day at 400 channels (~15 min)
    python bench/bronze_bench.py --bronze /tmp/day --variants

Prints one `BENCH ...` line per measurement and writes bench/results/bronze.csv.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PLATFORMS = ("chzzk", "soop", "twitch", "steam")
START = "2026-11-02T00:00:00Z"
DATE = START[:10]
OFFICIAL_ONLY = ("SOURCES__CHZZK__CLIENT_ID", "SOURCES__CHZZK__CLIENT_SECRET")
OFFICIAL_ONLY += ("SOURCES__SOOP__CLIENT_ID",)


def bench_line(kind: str, **fields: Any) -> str:
    def fmt(v: Any) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    return f"BENCH {kind} " + " ".join(f"{k}={fmt(v)}" for k, v in fields.items())


# --- 1. record a day --------------------------------------------------------------------------


def record_day(out: Path, channels: int, polls: int, seed: int) -> float:
    """One simulated day of polls, every response page written under `out`; seconds taken."""
    from simulator.process import SimulatorProcess

    sim = SimulatorProcess(
        "--seed", str(seed), "--channels", str(channels), "--start", START,
        "--twitch-rate-limit", "1000000", cwd=ROOT,
    )  # fmt: skip
    saved = dict(os.environ)
    try:
        env = {k: v for k, v in sim.env.items() if k not in OFFICIAL_ONLY}
        os.environ.update(env)
        for key in OFFICIAL_ONLY:
            os.environ.pop(key, None)
        os.environ["GST_PIPELINES_DIR"] = str(out.parent / "pipelines")
        os.environ["GST_DUCKDB_PATH"] = str(out.parent / "unused.duckdb")
        from loaders.bronze import recording
        from loaders.pipeline import make_pipeline, make_source

        pipelines = {p: make_pipeline(p) for p in PLATFORMS}
        started = time.perf_counter()
        with recording(str(out)) as rec:
            for i in range(polls):
                for platform, pipeline in pipelines.items():
                    pipeline.extract(make_source(platform))
                    pipeline.abort_packages()  # only the bronze files matter here
                sim.advance(10)
                if i % 24 == 23:
                    print(f"recorded {i + 1}/{polls} polls, {rec.pages} pages", flush=True)
        print(rec.summary(), flush=True)
        return time.perf_counter() - started
    finally:
        sim.stop()
        os.environ.clear()
        os.environ.update(saved)


# --- 2. sizes ---------------------------------------------------------------------------------


def page_files(bronze: Path, platform: str) -> list[tuple[str, Path, int, int]]:
    """(poll_id, file, JSON bytes, gzip bytes) of the day's page files, in poll order."""
    files = sorted(
        (f.name, f) for f in (bronze / platform / f"date={DATE}").glob("hour=*/*.json.gz")
    )
    return [
        (name.rsplit("-", 1)[0], f, len(gzip.decompress(f.read_bytes())), f.stat().st_size)
        for name, f in files
    ]


def sizes(files: list[tuple[str, Path, int, int]], share: float = 1.0) -> dict[str, Any]:
    """The first polls holding `share` of the day's JSON bytes (all of them for 1.0)."""
    total = sum(f[2] for f in files)
    polls: list[str] = []
    seen = 0
    for poll, _f, json_bytes, _g in files:
        if not polls or (poll != polls[-1] and seen < share * total):
            polls.append(poll)
        if poll == polls[-1]:
            seen += json_bytes
    keep = set(polls)
    chosen = [f for f in files if f[0] in keep]
    return {
        "files": [f[1] for f in chosen],
        "pages": len(chosen),
        "polls": len(keep),
        "json_bytes": sum(f[2] for f in chosen),
        "gzip_bytes": sum(f[3] for f in chosen),
    }


def link_copy(files: list[Path], src: Path, dst: Path) -> None:
    """The page files under `dst` as hard links: compaction only unlinks them."""
    for f in files:
        target = dst / f.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(f, target)


# --- 3. compaction in a child process ---------------------------------------------------------


def child(mode: str, path: str, platform: str, row_group_mb: float | None) -> dict[str, Any]:
    import pyarrow  # noqa: F401 - the floor: what a compaction run imports

    from loaders import bronze_compact

    result: dict[str, Any] = {}
    if mode == "compact":
        layout = bronze_compact.Layout()
        if row_group_mb:
            layout = replace(layout, row_group_bytes=int(row_group_mb * 2**20))
        started = time.perf_counter()
        report = bronze_compact.compact_day(path, DATE, platform, layout)
        result = {
            "seconds": time.perf_counter() - started,
            "rows": report.rows,
            "file_bytes": report.file_bytes,
            "status": report.status,
        }
    result["maxrss_mb"] = peak_rss_mb()
    return result


def peak_rss_mb() -> float:
    """This process's peak RSS. Linux's VmHWM belongs to the process image: ru_maxrss would
    also count the parent's RSS at fork time (it is carried across exec)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(mode: str, path: str, platform: str, row_group_mb: float = 0) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", mode, "--path", path, "--platform", platform]
    cmd += ["--row-group-mb", str(row_group_mb)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} {platform} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- 4. layout variants -----------------------------------------------------------------------

VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "zstd-3": {"zstd_level": 3},
    "zstd-9": {"zstd_level": 9},
    "zstd-19": {"zstd_level": 19},
    "poll-order": {"sort": False},
    "row-groups-4MB": {"row_group_bytes": 4 * 2**20},
    "row-groups-64MB": {"row_group_bytes": 64 * 2**20},
    "data-pages-1MB": {"data_page_bytes": 2**20},
    "dictionary-body": {"dictionary": ("poll_id", "endpoint", "request", "headers", "body")},
}


def variant_sizes(compacted: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each layout written from the compacted day (rows in the same polls); bytes and seconds."""
    from fsspec.implementations.local import LocalFileSystem

    from loaders.bronze_compact import Layout, _file_polls, compacted_path, write_compacted

    fs = LocalFileSystem()
    with tempfile.TemporaryDirectory(prefix="gst-bronze-variant-") as tmp:
        for name, changes in VARIANTS.items():
            layout = replace(Layout(), **changes)
            total, seconds = 0, 0.0
            for platform in PLATFORMS:
                source = compacted_path(str(compacted), platform, DATE)
                if not os.path.exists(source):
                    continue
                target = f"{tmp}/{platform}.parquet"
                started = time.perf_counter()
                write_compacted(fs, target, platform, DATE, _file_polls(fs, source), layout)
                seconds += time.perf_counter() - started
                total += os.path.getsize(target)
            yield name, {"bytes": total, "seconds": seconds}


# --- driver -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=400)
    parser.add_argument("--polls", type=int, default=144, help="10-minute polls (144: a day).")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--bronze", help="A day recorded before (PATH as for --bronze).")
    parser.add_argument("--keep", help="Keep the recorded day in this directory.")
    parser.add_argument("--variants", action="store_true", help="Also measure other layouts.")
    parser.add_argument(
        "--memory-row-group-mb",
        type=float,
        default=2,
        help="Row-group size of the memory check (quarter vs whole day): below a quarter "
        "day's JSON, so both runs are past the point where memory stops growing.",
    )
    parser.add_argument("--row-group-mb", type=float, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=("compact", "floor"), help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--platform", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.path, args.platform, args.row_group_mb)))
        return

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="gst-bronze-bench-") as tmp:
        work = Path(tmp)
        if args.bronze:
            bronze = Path(args.bronze)
        else:
            bronze = Path(args.keep) if args.keep else work / "day" / "bronze"
            seconds = record_day(bronze, args.channels, args.polls, args.seed)
            print(bench_line("record", channels=args.channels, polls=args.polls, seconds=seconds))

        floor = run_child("floor", str(work), "none")["maxrss_mb"]
        totals = {"json_bytes": 0, "gzip_bytes": 0, "file_bytes": 0, "seconds": 0.0}
        small = args.memory_row_group_mb
        for platform in PLATFORMS:
            files = page_files(bronze, platform)
            if not files:
                continue
            full, quarter = sizes(files), sizes(files, 0.25)
            measured = {}
            runs = (("day", full, 0), ("quarter-small", quarter, small), ("day-small", full, small))
            for label, chosen, row_group_mb in runs:
                copy = work / label
                link_copy(chosen["files"], bronze, copy)
                measured[label] = run_child("compact", str(copy), platform, row_group_mb)
            day = measured["day"]
            row = {
                "benchmark": "bronze", "platform": platform, "channels": args.channels,
                "polls": full["polls"], "pages": full["pages"], "responses": day["rows"],
                "json_mb": full["json_bytes"] / 1e6, "gzip_mb": full["gzip_bytes"] / 1e6,
                "compacted_mb": day["file_bytes"] / 1e6,
                "gzip_saving_pct": 100 * (1 - full["gzip_bytes"] / full["json_bytes"]),
                "compacted_saving_pct": 100 * (1 - day["file_bytes"] / full["json_bytes"]),
                "compact_s": day["seconds"],
                "compact_mb_s": full["json_bytes"] / 1e6 / day["seconds"],
                "maxrss_mb": day["maxrss_mb"],
                "floor_maxrss_mb": floor,
                "memory_row_group_mb": small,
                "quarter_json_mb": quarter["json_bytes"] / 1e6,
                "quarter_small_maxrss_mb": measured["quarter-small"]["maxrss_mb"],
                "day_small_maxrss_mb": measured["day-small"]["maxrss_mb"],
                "day_small_compacted_mb": measured["day-small"]["file_bytes"] / 1e6,
            }  # fmt: skip
            print(bench_line("bronze", **{k: v for k, v in row.items() if k != "benchmark"}))
            rows.append(row)
            for key in ("json_bytes", "gzip_bytes"):
                totals[key] += full[key]
            totals["file_bytes"] += day["file_bytes"]
            totals["seconds"] += day["seconds"]
        if not rows:
            raise SystemExit(f"no page files of {DATE} under {bronze}")
        total = {
            "benchmark": "bronze", "platform": "all", "channels": args.channels,
            "json_mb": totals["json_bytes"] / 1e6, "gzip_mb": totals["gzip_bytes"] / 1e6,
            "compacted_mb": totals["file_bytes"] / 1e6,
            "gzip_saving_pct": 100 * (1 - totals["gzip_bytes"] / totals["json_bytes"]),
            "compacted_saving_pct": 100 * (1 - totals["file_bytes"] / totals["json_bytes"]),
            "compact_s": totals["seconds"],
            "compact_mb_s": totals["json_bytes"] / 1e6 / totals["seconds"],
            "maxrss_mb": max(r["maxrss_mb"] for r in rows),
            "floor_maxrss_mb": floor,
            "quarter_small_maxrss_mb": max(r["quarter_small_maxrss_mb"] for r in rows),
            "day_small_maxrss_mb": max(r["day_small_maxrss_mb"] for r in rows),
            "target_saving_pct": 95.0,
        }  # fmt: skip
        print(bench_line("bronze", **{k: v for k, v in total.items() if k != "benchmark"}))
        rows.append(total)
        if args.variants:
            for name, result in variant_sizes(work / "day"):
                row = {
                    "benchmark": "variant", "platform": "all", "channels": args.channels,
                    "variant": name, "compacted_mb": result["bytes"] / 1e6,
                    "compacted_saving_pct": 100 * (1 - result["bytes"] / totals["json_bytes"]),
                    "compact_s": result["seconds"],
                }  # fmt: skip
                print(bench_line("variant", **{k: v for k, v in row.items() if k != "benchmark"}))
                rows.append(row)

    RESULTS.mkdir(parents=True, exist_ok=True)
    fields = list(dict.fromkeys(k for row in rows for k in row))
    with open(RESULTS / "bronze.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {RESULTS / 'bronze.csv'}")


if __name__ == "__main__":
    main()
