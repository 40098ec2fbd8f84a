"""Loader benchmark: `gst load` throughput vs a plain requests -> pyarrow -> DuckDB baseline,
and the loader's peak memory at two world sizes.

The simulator runs in its own process (`python -m loaders.cli simulate`) at the daily peak, so
about 94 % of `--channels` streams are live on each platform. For each platform the loader
(`loaders.pipeline.load_platform`, the code behind `gst load`) and the baseline run in fresh
child processes against the same frozen simulated instant; the baseline requests the same
paths, params and page sizes (list pages plus the loader's side calls: SOOP category pages,
Chzzk channel details, Twitch token and top games), builds the same columns column by column
with vectorised pyarrow casts and inserts them with DuckDB's arrow insert in batches of the
loader's size (5,000 rows). It does no field validation, no de-duplication and no quarantine:
the ratio is the price of those plus dlt.

    python bench/loader_bench.py                    # 100k channels + memory at 10k / 100k
    python bench/loader_bench.py --channels 20000 --memory-channels ''   # quick run

Prints one `BENCH ...` line per measurement and writes bench/results/loader.csv.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from loaders.records import ARROW_BATCH_ROWS
from simulator.process import SimulatorFailed, SimulatorProcess

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PEAK_START = "2026-11-02T12:30:00Z"  # 21:30 KST: the daily peak of live channels
PLATFORMS = ("soop", "chzzk", "twitch")
MAIN_TABLE = {"soop": "broads", "chzzk": "lives", "twitch": "streams"}
# The public variants (no client ids) for Chzzk and SOOP; Twitch always needs its credentials.
OFFICIAL_ONLY = ("SOURCES__CHZZK__CLIENT_ID", "SOURCES__CHZZK__CLIENT_SECRET")
OFFICIAL_ONLY += ("SOURCES__SOOP__CLIENT_ID",)


# --- simulator in a separate process ----------------------------------------------------------


class Simulator(SimulatorProcess):
    def __init__(self, channels: int, seed: int = 42):
        try:
            super().__init__(
                "--seed", str(seed), "--channels", str(channels), "--start", PEAK_START,
                "--twitch-rate-limit", "1000000", cwd=ROOT,
            )  # fmt: skip
        except SimulatorFailed as exc:
            raise SystemExit(str(exc)) from None
        for key in OFFICIAL_ONLY:
            self.env.pop(key, None)

    def warm_up(self) -> None:
        """Compute the frozen instant's world once, so no run pays for it."""
        import requests

        urls = [
            self.env["SOURCES__SOOP__WEB_BASE_URL"] + "/api/main_broad_list_api.php?pageNo=1",
            self.env["SOURCES__CHZZK__SERVICE_BASE_URL"] + "/service/v1/lives?size=1",
        ]
        for url in urls:
            requests.get(url, timeout=600)


def run_child(mode: str, platform: str, env: dict[str, str]) -> dict[str, Any]:
    """One measured run in a fresh process; its result line plus its peak RSS."""
    with tempfile.TemporaryDirectory(prefix="gst-bench-") as tmp:
        child_env = {k: v for k, v in os.environ.items() if k not in OFFICIAL_ONLY}
        child_env.update(env)
        child_env.update(
            GST_DUCKDB_PATH=f"{tmp}/warehouse.duckdb",
            GST_PIPELINES_DIR=f"{tmp}/pipelines",
            RUNTIME__DLTHUB_TELEMETRY="false",
        )
        cmd = [sys.executable, __file__, "--child", mode, "--platform", platform]
        proc = subprocess.run(
            cmd, env=child_env, cwd=tmp, capture_output=True, text=True, timeout=1800
        )
    if proc.returncode != 0:
        raise SystemExit(f"{mode} {platform} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["maxrss_mb"] = result.pop("maxrss_kb") / 1024
    return result


def _peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


# --- the loader (child) -----------------------------------------------------------------------


def child_loader(platform: str) -> dict[str, Any]:
    from loaders.pipeline import load_platform

    started = time.perf_counter()
    report = load_platform(platform)
    seconds = time.perf_counter() - started
    if report.status != "ok":
        raise SystemExit(report.error)
    return {"rows": sum(report.rows.values()), "main_rows": report.rows[MAIN_TABLE[platform]],
            "pages": report.pages, "seconds": seconds, "maxrss_kb": _peak_kb()}  # fmt: skip


# --- the baseline (child): requests -> pyarrow -> DuckDB arrow insert -------------------------


class Baseline:
    def __init__(self) -> None:
        import duckdb
        import requests

        self.db = duckdb.connect(os.environ["GST_DUCKDB_PATH"])
        self.http = requests.Session()
        self.rows = self.pages = 0
        self.created: set[str] = set()
        self.held: dict[str, list[Any]] = {}
        self.observed_at: Any = None

    def get(self, url: str, **kwargs: Any) -> Any:
        from email.utils import parsedate_to_datetime

        response = self.http.get(url, timeout=30, **kwargs)
        response.raise_for_status()
        if self.observed_at is None:
            self.observed_at = parsedate_to_datetime(response.headers["Date"])
        self.pages += 1
        return response.json()

    def insert(self, name: str, table: Any) -> None:
        """Pages are inserted in batches of the loader's size (ARROW_BATCH_ROWS): a DuckDB
        insert per page would cost the baseline more than it costs the loader."""
        held = self.held.setdefault(name, [])
        held.append(table)
        self.rows += table.num_rows
        if sum(t.num_rows for t in held) >= ARROW_BATCH_ROWS:
            self.flush(name)

    def flush(self, name: str) -> None:
        import pyarrow as pa

        held = self.held.pop(name, [])
        if not held:
            return
        self.db.register("batch", pa.concat_tables(held))
        if name not in self.created:
            self.db.execute(f"create table {name} as select * from batch limit 0")
            self.created.add(name)
        self.db.execute(f"insert into {name} select * from batch")
        self.db.unregister("batch")

    def flush_all(self) -> None:
        for name in list(self.held):
            self.flush(name)

    def poll_columns(self, table: Any, platform: str) -> Any:
        import pyarrow as pa

        n, at = table.num_rows, self.observed_at
        poll = f"{platform}:{at:%Y%m%dT%H%M%SZ}"
        table = table.append_column("poll_id", pa.array([poll] * n, pa.string()))
        return table.append_column("observed_at", pa.array([at] * n, pa.timestamp("us", tz="UTC")))


def _table(items: list, *keys: str) -> Any:
    """The named fields of a page's items as an arrow table, column by column (types
    inferred): ~9x faster than `pa.Table.from_pylist(items)`, the loader builds its tables
    the same way."""
    import pyarrow as pa

    return pa.table({key: pa.array([item.get(key) for item in items]) for key in keys})


def _raw(items: list) -> Any:
    import pyarrow as pa

    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    return pa.array([dumps(item) for item in items], pa.string())


def _kst(array: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    local = pc.strptime(array, format="%Y-%m-%d %H:%M:%S", unit="us")
    return pc.assume_timezone(local, "Asia/Seoul").cast(pa.timestamp("us", tz="UTC"))


def baseline_soop(b: Baseline) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    from loaders.soop import settings as s

    base = os.environ["SOURCES__SOOP__WEB_BASE_URL"]
    params = {"selectType": "action", "selectValue": "all", "orderType": "view_cnt",
              "lang": "ko_KR"}  # fmt: skip
    for page_no in range(1, s.MAX_PAGES + 1):
        payload = b.get(base + s.WEB_LIST_PATH, params={**params, "pageNo": page_no},
                        headers=s.BROWSER_HEADERS)  # fmt: skip
        items = payload["broad"]
        t = _table(items, "broad_no", "user_id", "user_nick", "broad_title", "broad_cate_no",
                   "broad_start", "total_view_cnt", "broad_grade", "is_password")  # fmt: skip
        cols = {
            "api_variant": pa.array(["web"] * len(items)),
            "broad_no": pc.cast(t["broad_no"], pa.int64()),
            "user_id": t["user_id"],
            "user_nick": t["user_nick"],
            "broad_title": t["broad_title"],
            "broad_cate_no": pc.utf8_lpad(t["broad_cate_no"], 8, "0"),
            "broad_started_at": _kst(t["broad_start"]),
            "total_view_cnt": pc.cast(t["total_view_cnt"], pa.int64()),
            "broad_grade": pc.cast(t["broad_grade"], pa.int64()),
            "is_password": pc.equal(t["is_password"], "1"),
            "raw_item": _raw(items),
        }
        table = b.poll_columns(pa.table(cols), "soop")
        b.insert("broads", table)
        total = int(payload.get("total_cnt") or 0)
        if len(items) < s.PAGE_SIZE or page_no * s.PAGE_SIZE >= total:
            break
    search = os.environ["SOURCES__SOOP__SEARCH_BASE_URL"]
    for page_no in range(1, s.MAX_CATEGORY_PAGES + 1):
        query = {"m": "categoryList", "nPageNo": page_no, "nListCnt": s.CATEGORY_PAGE_SIZE}
        items = b.get(search + s.CATEGORY_PATH, params=query, headers=s.BROWSER_HEADERS)
        items = items["data"]["list"]
        t = _table(items, "category_no", "category_name", "view_cnt")
        cols = {
            "category_no": pc.utf8_lpad(t["category_no"], 8, "0"),
            "category_name": t["category_name"],
            "view_cnt": pc.cast(t["view_cnt"], pa.int64()),
        }
        b.insert("categories", b.poll_columns(pa.table(cols), "soop"))
        if len(items) < s.CATEGORY_PAGE_SIZE:
            break


def baseline_chzzk(b: Baseline) -> None:
    import pyarrow as pa

    from loaders.chzzk import settings as s

    base = os.environ["SOURCES__CHZZK__SERVICE_BASE_URL"]
    query: dict[str, Any] = {"size": s.SERVICE_PAGE_SIZE, "sortType": "POPULAR"}
    detail_ids: list[str] = []
    for _ in range(s.MAX_PAGES):
        content = b.get(base + s.SERVICE_LIVES_PATH, params=query)["content"]
        items = content["data"]
        t = _table(items, "liveId", "liveTitle", "concurrentUserCount", "openDate",
                   "categoryType", "liveCategory", "liveCategoryValue", "adult")  # fmt: skip
        channels = [item.get("channel") or {} for item in items]
        ids = pa.array([c.get("channelId") for c in channels], pa.string())
        cols = {
            "api_variant": pa.array(["service"] * len(items)),
            "live_id": t["liveId"],
            "channel_id": ids,
            "channel_name": pa.array([c.get("channelName") for c in channels], pa.string()),
            "live_title": t["liveTitle"],
            "concurrent_user_count": t["concurrentUserCount"],
            "opened_at": _kst(t["openDate"]),
            "category_type": t["categoryType"],
            "live_category": t["liveCategory"],
            "live_category_value": t["liveCategoryValue"],
            "is_adult": t["adult"],
            "raw_item": _raw(items),
        }
        b.insert("lives", b.poll_columns(pa.table(cols), "chzzk"))
        detail_ids += ids.to_pylist()[: s.MAX_CHANNEL_DETAILS - len(detail_ids)]
        cursor = (content.get("page") or {}).get("next")
        if not cursor:
            break
        query = {**query, **cursor}
    details = [b.get(base + s.CHANNEL_PATH.format(channel_id=cid))["content"] for cid in detail_ids]
    t = _table(details, "channelId", "channelName", "channelType", "verifiedMark",
               "followerCount", "openLive")  # fmt: skip
    cols = {
        "channel_id": t["channelId"],
        "channel_name": t["channelName"],
        "channel_type": t["channelType"],
        "verified_mark": t["verifiedMark"],
        "follower_count": t["followerCount"],
        "open_live": t["openLive"],
    }
    table = b.poll_columns(pa.table(cols), "chzzk").append_column("raw_item", _raw(details))
    b.insert("channels", table)


def baseline_twitch(b: Baseline) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    from loaders.twitch import settings as s

    form = {
        "client_id": os.environ["SOURCES__TWITCH__CLIENT_ID"],
        "client_secret": os.environ["SOURCES__TWITCH__CLIENT_SECRET"],
        "grant_type": "client_credentials",
    }
    token = b.http.post(os.environ["SOURCES__TWITCH__AUTH_BASE_URL"] + s.TOKEN_PATH, data=form)
    b.http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    b.http.headers["Client-Id"] = form["client_id"]
    api = os.environ["SOURCES__TWITCH__API_BASE_URL"]
    params: dict[str, Any] = {"first": s.PAGE_SIZE}
    while True:
        payload = b.get(api + s.STREAMS_PATH, params=params)
        items = payload["data"]
        t = _table(items, "id", "user_id", "user_login", "user_name", "game_id",
                   "game_name", "type", "title", "viewer_count", "started_at", "language",
                   "is_mature")  # fmt: skip
        started = pc.strptime(t["started_at"], format="%Y-%m-%dT%H:%M:%SZ", unit="us")
        cols = {
            "stream_id": t["id"],
            "user_id": t["user_id"],
            "user_login": t["user_login"],
            "user_name": t["user_name"],
            "game_id": t["game_id"],
            "game_name": t["game_name"],
            "stream_type": t["type"],
            "title": t["title"],
            "viewer_count": t["viewer_count"],
            "started_at": pc.assume_timezone(started, "UTC"),
            "language": t["language"],
            "is_mature": t["is_mature"],
            "raw_item": _raw(items),
        }
        b.insert("streams", b.poll_columns(pa.table(cols), "twitch"))
        cursor = (payload.get("pagination") or {}).get("cursor")
        if not cursor or len(items) == 0:
            break
        params = {"first": s.PAGE_SIZE, "after": cursor}
    games = b.get(api + s.TOP_GAMES_PATH, params={"first": s.TOP_GAMES})["data"]
    t = _table(games, "id", "name", "box_art_url", "igdb_id")
    cols = {"game_id": t["id"], "game_name": t["name"], "box_art_url": t["box_art_url"],
            "igdb_id": t["igdb_id"]}  # fmt: skip
    b.insert("games", b.poll_columns(pa.table(cols), "twitch"))
    ranks = {"game_id": t["id"], "rank": pa.array(range(1, len(games) + 1), pa.int32())}
    b.insert("top_games", b.poll_columns(pa.table(ranks), "twitch"))


def child_baseline(platform: str) -> dict[str, Any]:
    started = time.perf_counter()
    b = Baseline()
    {"soop": baseline_soop, "chzzk": baseline_chzzk, "twitch": baseline_twitch}[platform](b)
    b.flush_all()
    main_rows = b.db.execute(f"select count(*) from {MAIN_TABLE[platform]}").fetchone()[0]
    b.db.close()
    seconds = time.perf_counter() - started
    return {"rows": b.rows, "main_rows": main_rows, "pages": b.pages, "seconds": seconds,
            "maxrss_kb": _peak_kb()}  # fmt: skip


# --- driver -----------------------------------------------------------------------------------


def bench_line(kind: str, **fields: Any) -> str:
    def fmt(v: Any) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    return f"BENCH {kind} " + " ".join(f"{k}={fmt(v)}" for k, v in fields.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=100_000)
    parser.add_argument(
        "--memory-channels",
        default="10000,100000",
        help="World sizes for the peak-memory comparison ('' to skip).",
    )
    parser.add_argument("--platforms", default=",".join(PLATFORMS))
    parser.add_argument("--repeat", type=int, default=1, help="Runs each; the best counts.")
    parser.add_argument("--child", choices=("loader", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--platform", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run = child_loader if args.child == "loader" else child_baseline
        print(json.dumps(run(args.platform)))
        return

    platforms = [p for p in args.platforms.split(",") if p]
    memory_sizes = [int(n) for n in args.memory_channels.split(",") if n]
    sizes = sorted({args.channels, *memory_sizes})
    csv_rows: list[dict[str, Any]] = []
    loader_at: dict[tuple[str, int], dict[str, Any]] = {}
    for channels in sizes:
        sim = Simulator(channels)
        try:
            sim.warm_up()
            for platform in platforms:
                loader = min(
                    (run_child("loader", platform, sim.env) for _ in range(args.repeat)),
                    key=lambda r: r["seconds"],
                )
                loader_at[(platform, channels)] = loader
                if channels != args.channels:
                    continue
                base = min(
                    (run_child("baseline", platform, sim.env) for _ in range(args.repeat)),
                    key=lambda r: r["seconds"],
                )
                row = {
                    "benchmark": "loader", "platform": platform, "channels": channels,
                    "rows": loader["rows"], "baseline_rows": base["rows"],
                    "pages": loader["pages"], "baseline_pages": base["pages"],
                    "loader_s": loader["seconds"], "baseline_s": base["seconds"],
                    "loader_rows_s": loader["rows"] / loader["seconds"],
                    "baseline_rows_s": base["rows"] / base["seconds"],
                    "ratio": (loader["rows"] / loader["seconds"])
                    / (base["rows"] / base["seconds"]),
                    "loader_maxrss_mb": loader["maxrss_mb"],
                    "baseline_maxrss_mb": base["maxrss_mb"],
                }  # fmt: skip
                print(bench_line("loader", **{k: v for k, v in row.items() if k != "benchmark"}))
                csv_rows.append(row)
        finally:
            sim.stop()
    if len(memory_sizes) >= 2:
        small, large = min(memory_sizes), max(memory_sizes)
        for platform in platforms:
            lo, hi = loader_at[(platform, small)], loader_at[(platform, large)]
            row = {
                "benchmark": "memory", "platform": platform, "channels": large,
                "rows": hi["rows"], "small_channels": small, "small_rows": lo["rows"],
                "small_maxrss_mb": lo["maxrss_mb"], "loader_maxrss_mb": hi["maxrss_mb"],
                "ratio": hi["maxrss_mb"] / lo["maxrss_mb"],
            }  # fmt: skip
            print(bench_line("memory", **{k: v for k, v in row.items() if k != "benchmark"}))
            csv_rows.append(row)
    RESULTS.mkdir(parents=True, exist_ok=True)
    fields = list(dict.fromkeys(k for row in csv_rows for k in row))
    with open(RESULTS / "loader.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(csv_rows)
    print(f"wrote {RESULTS / 'loader.csv'}")


if __name__ == "__main__":
    main()
