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

Steady state (`BENCH replay_load`, `BENCH steady`, `BENCH poll_memory`): Twitch's pages are
recorded once from the simulator (`record_twitch`) and served from memory by a child process
(`child_replay`, HTTP/1.1 keep-alive, `Date` moved 5 minutes per token request so each poll is its
own instant), so the server's own cost does not hide the loader's. Against it: one `gst load`
against the baseline's one poll; `gst poll twitch --every 0 --max-polls N` (N = `--polls`, default
10) against the baseline doing the same N polls in one process, rows per second of whole
processes (start to exit), and the loader's median per-poll overhead: a poll's time minus its
time in HTTP (from sending a request to its response being read and parsed, via
`loaders.http`'s request/response hooks), over polls 2..N (the first pays the imports); and at
each `--memory-channels` size, one `gst poll` of `--memory-polls` polls (default 100, flushing
every `--memory-flush-every`, default 5 s) with the peak RSS of each flush interval (the kernel's
peak is reset after each flush): the largest of the first half of the intervals against the
largest of the second half, the trend of the second half's peaks, and RSS after the first and
the last flush.

    python bench/loader_bench.py                    # 100k channels + memory at 10k / 100k
    python bench/loader_bench.py --channels 20000 --memory-channels '' --polls 5   # quick run

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


# --- steady state: recorded Twitch pages served from memory ----------------------------------

REPLAY_POLL_STEP = 300  # simulated seconds between two polls of the replay (a token = a poll)


def _query_key(url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    from urllib.parse import parse_qsl, urlsplit

    parts = urlsplit(url)
    return parts.path, tuple(sorted(parse_qsl(parts.query, keep_blank_values=True)))


def record_twitch(env: dict[str, str], path: Path) -> int:
    """One poll's Twitch pages from the simulator (token, every streams page, the top games
    page), as the loader and the baseline request them; pickled to `path`. Returns the pages."""
    import pickle

    import requests

    from loaders.twitch import settings as s

    http = requests.Session()
    pages: dict[tuple[str, str, tuple], tuple[int, str, bytes]] = {}

    def keep(method: str, response: Any) -> Any:
        response.raise_for_status()
        content_type = response.headers.get("Content-Type", "application/json")
        pages[(method, *_query_key(response.request.url))] = (200, content_type, response.content)
        return response.json()

    form = {
        "client_id": env["SOURCES__TWITCH__CLIENT_ID"],
        "client_secret": env["SOURCES__TWITCH__CLIENT_SECRET"],
        "grant_type": "client_credentials",
    }
    token = keep("POST", http.post(env["SOURCES__TWITCH__AUTH_BASE_URL"] + s.TOKEN_PATH, data=form))
    http.headers["Authorization"] = f"Bearer {token['access_token']}"
    http.headers["Client-Id"] = form["client_id"]
    api = env["SOURCES__TWITCH__API_BASE_URL"]
    params: dict[str, Any] = {"first": s.PAGE_SIZE}
    while True:
        payload = keep("GET", http.get(api + s.STREAMS_PATH, params=params, timeout=600))
        cursor = (payload.get("pagination") or {}).get("cursor")
        if not cursor or not payload["data"]:
            break
        params = {"first": s.PAGE_SIZE, "after": cursor}
    keep("GET", http.get(api + s.TOP_GAMES_PATH, params={"first": s.TOP_GAMES}))
    with open(path, "wb") as fh:
        pickle.dump(pages, fh)
    return len(pages)


def child_replay(pages_path: str) -> None:
    """Serve recorded pages from memory (HTTP/1.1 keep-alive, one thread per connection). The
    `Date` moves REPLAY_POLL_STEP seconds on each token request, so every poll gets its own
    instant (poll_id) while the pages stay the same."""
    import pickle
    from datetime import datetime
    from email.utils import formatdate
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    with open(pages_path, "rb") as fh:
        pages = pickle.load(fh)
    clock = [datetime.fromisoformat(PEAK_START.replace("Z", "+00:00")).timestamp()]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self.answer("GET")

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.answer("POST")

        def answer(self, method: str) -> None:
            key = (method, *_query_key(self.path))
            if method == "POST":
                clock[0] += REPLAY_POLL_STEP
            status, content_type, body = pages.get(key, (404, "text/plain", b"not recorded"))
            head = (
                f"HTTP/1.1 {status} {'OK' if status == 200 else 'Not Found'}\r\n"
                f"Date: {formatdate(clock[0], usegmt=True)}\r\n"
                f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            self.wfile.write(head.encode("latin-1") + body)  # one write: no Nagle stall

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


class Replay:
    """`child_replay` in its own process; `env` points the Twitch loader at it."""

    def __init__(self, pages_path: Path, sim_env: dict[str, str]):
        from urllib.parse import urlsplit

        cmd = [sys.executable, __file__, "--child", "replay", "--pages", str(pages_path)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        port = int(self.proc.stdout.readline())  # type: ignore[union-attr]
        url = f"http://127.0.0.1:{port}"
        self.env = {k: v for k, v in sim_env.items() if k.startswith("SOURCES__TWITCH__")}
        for key in ("SOURCES__TWITCH__AUTH_BASE_URL", "SOURCES__TWITCH__API_BASE_URL"):
            self.env[key] = url + urlsplit(sim_env[key]).path  # the simulator's path prefix

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def _reset_peak() -> bool:
    """Start the kernel's peak resident set size (VmHWM) of this process again from its
    current size (Linux: `5` to /proc/self/clear_refs); False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _rss_kb() -> tuple[int, int]:
    """(current, peak) resident set size of this process in KiB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def child_poll(polls: int, flush_every: str) -> dict[str, Any]:
    """`gst poll twitch --every 0 --max-polls N` in this process, with the time spent in HTTP
    (`loaders.http`'s request/response hooks) and the memory noted at each poll's end."""
    import re

    import typer

    from loaders import cli, http

    spent, sent = [0.0], [0.0]
    http.REQUEST_OBSERVERS.append(lambda session, request: sent.__setitem__(0, time.perf_counter()))
    http.RESPONSE_OBSERVERS.append(
        lambda session, response: spent.__setitem__(0, spent[0] + time.perf_counter() - sent[0])
    )
    marks: list[tuple[float, float, int, int]] = []  # (time, http seconds, rss, peak) per poll
    rows: dict[str, int] = {}
    flushed_kb: list[int] = []  # resident memory right after each flush
    flush_peak_kb: list[int] = []  # the peak of each flush's interval (its polls and itself)
    flush_polls: list[int] = []  # the number of polls done at each flush
    echo = typer.echo

    def noting_echo(message: Any = None, *args: Any, **kwargs: Any) -> None:
        if isinstance(message, str) and message.startswith("twitch: polled"):
            marks.append((time.perf_counter(), spent[0], *_rss_kb()))
        elif isinstance(message, str) and message.startswith("twitch: loaded"):
            rss, peak = _rss_kb()
            flushed_kb.append(rss)
            if _reset_peak():  # the next interval's peak starts from here
                flush_peak_kb.append(peak)
                flush_polls.append(len(marks))
            for table, n in re.findall(r"(\w+) (\d+)", message.split(" loaded ", 1)[1]):
                rows[table] = rows.get(table, 0) + int(n)
        echo(message, *args, err=True, **kwargs)

    typer.echo = noting_echo  # type: ignore[assignment]
    argv = ["poll", "twitch", "--every", "0", "--max-polls", str(polls)]
    sys.argv = ["gst", *argv, "--flush-every", flush_every]
    started = time.perf_counter()
    try:
        cli.main()
    except SystemExit as exc:
        if exc.code:
            raise
    seconds = time.perf_counter() - started
    rows.pop("quarantine", None)
    intervals = [
        (b[0] - a[0], b[1] - a[1]) for a, b in zip(marks, marks[1:], strict=False)
    ]  # back-to-back polls: each interval is one whole poll
    return {
        "rows": sum(rows.values()), "polls": len(marks), "seconds": seconds,
        "poll_s": [t for t, _ in intervals], "http_s": [h for _, h in intervals],
        "rss_kb": [m[2] for m in marks], "peak_kb": [m[3] for m in marks],
        "maxrss_kb": _peak_kb(), "flushed_kb": flushed_kb, "flush_peak_kb": flush_peak_kb,
        "flush_polls": flush_polls,
    }  # fmt: skip


def child_baseline_polls(polls: int) -> dict[str, Any]:
    """The baseline doing the same N polls in one process (a token per poll, as the loader)."""
    started = time.perf_counter()
    b = Baseline()
    poll_s = []
    for _ in range(polls):
        poll_started = time.perf_counter()
        b.observed_at = None
        baseline_twitch(b)
        poll_s.append(time.perf_counter() - poll_started)
    b.flush_all()
    main_rows = b.db.execute("select count(*) from streams").fetchone()[0]
    b.db.close()
    seconds = time.perf_counter() - started
    return {"rows": b.rows, "main_rows": main_rows, "pages": b.pages, "seconds": seconds,
            "poll_s": poll_s, "maxrss_kb": _peak_kb()}  # fmt: skip


def run_steady(mode: str, env: dict[str, str], polls: int, flush_every: str) -> dict[str, Any]:
    """One steady-state run in a fresh process, timed whole (start to exit) from here."""
    with tempfile.TemporaryDirectory(prefix="gst-bench-") as tmp:
        child_env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__")}
        child_env.update(env)
        child_env.update(
            GST_DUCKDB_PATH=f"{tmp}/warehouse.duckdb",
            GST_PIPELINES_DIR=f"{tmp}/pipelines",
            RUNTIME__DLTHUB_TELEMETRY="false",
        )
        cmd = [sys.executable, __file__, "--child", mode, "--polls", str(polls)]
        cmd += ["--flush-every", flush_every]
        started = time.perf_counter()
        proc = subprocess.run(
            cmd, env=child_env, cwd=tmp, capture_output=True, text=True, timeout=3600
        )
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            raise SystemExit(f"{mode} failed:\n{proc.stderr[-3000:]}")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        if mode == "poll":
            with duckdb_connect(f"{tmp}/warehouse.duckdb") as con:
                result["main_rows"] = con.execute(
                    "select count(*) from raw_twitch.streams"
                ).fetchone()[0]
    result["wall_s"] = wall
    result["maxrss_mb"] = result.pop("maxrss_kb") / 1024
    if mode == "poll" and "stderr" in os.environ.get("GST_BENCH_DEBUG", ""):
        print(proc.stderr[-5000:], file=sys.stderr)
    return result


def duckdb_connect(path: str) -> Any:
    import duckdb

    return duckdb.connect(path, read_only=True)


def _trend(xs: list[int], ys: list[int]) -> float:
    """Least-squares slope of ys over xs (0 with fewer than two distinct xs)."""
    import statistics

    if len(set(xs)) < 2:
        return 0.0
    return statistics.linear_regression(xs, ys).slope


def _median(values: list[float]) -> float:
    import statistics

    return statistics.median(values) if values else float("nan")


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
    parser.add_argument("--polls", type=int, default=10, help="Back-to-back polls (steady state).")
    parser.add_argument(
        "--memory-polls", type=int, default=100, help="Polls of the memory run ('0' skips it)."
    )
    parser.add_argument(
        "--memory-flush-every", default="5s", help="`gst poll --flush-every` of the memory run."
    )
    parser.add_argument("--child", choices=("loader", "baseline", "poll", "baseline-polls",
                                            "replay"), help=argparse.SUPPRESS)  # fmt: skip
    parser.add_argument("--platform", help=argparse.SUPPRESS)
    parser.add_argument("--pages", help=argparse.SUPPRESS)
    parser.add_argument("--flush-every", default="30m", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "replay":
        child_replay(args.pages)
        return
    if args.child:
        if args.child == "poll":
            result = child_poll(args.polls, args.flush_every)
        elif args.child == "baseline-polls":
            result = child_baseline_polls(args.polls)
        else:
            run = child_loader if args.child == "loader" else child_baseline
            result = run(args.platform)
        print(json.dumps(result))
        return

    platforms = [p for p in args.platforms.split(",") if p]
    memory_sizes = [int(n) for n in args.memory_channels.split(",") if n]
    sizes = sorted({args.channels, *memory_sizes})
    csv_rows: list[dict[str, Any]] = []
    loader_at: dict[tuple[str, int], dict[str, Any]] = {}
    recorded: dict[int, tuple[Path, dict[str, str]]] = {}
    pages_dir = Path(tempfile.mkdtemp(prefix="gst-bench-pages-"))
    for channels in sizes:
        sim = Simulator(channels)
        try:
            sim.warm_up()
            if "twitch" in platforms:
                path = pages_dir / f"twitch-{channels}.pickle"
                record_twitch(sim.env, path)
                recorded[channels] = (path, dict(sim.env))
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
    if args.channels in recorded and args.polls:
        csv_rows += bench_replay(*recorded[args.channels], args.channels, args)
    for channels in memory_sizes if args.memory_polls else []:
        if channels in recorded:
            csv_rows.append(bench_poll_memory(*recorded[channels], channels, args))
    RESULTS.mkdir(parents=True, exist_ok=True)
    fields = list(dict.fromkeys(k for row in csv_rows for k in row))
    with open(RESULTS / "loader.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(csv_rows)
    print(f"wrote {RESULTS / 'loader.csv'}")


def bench_replay(
    pages: Path, sim_env: dict[str, str], channels: int, args: argparse.Namespace
) -> list[dict[str, Any]]:
    """Twitch against recorded pages served from memory: one `gst load` vs the baseline's one
    poll, then `gst poll --every 0 --max-polls N` vs the baseline doing the same N polls; rows
    per second of whole processes (start to exit), and the loader's per-poll overhead (a
    poll's time minus its time in HTTP; the first poll, which pays the imports, is left out)."""
    replay = Replay(pages, sim_env)
    rows: list[dict[str, Any]] = []
    try:
        loader = min((run_child("loader", "twitch", replay.env) for _ in range(args.repeat)),
                     key=lambda r: r["seconds"])  # fmt: skip
        base = min((run_child("baseline", "twitch", replay.env) for _ in range(args.repeat)),
                   key=lambda r: r["seconds"])  # fmt: skip
        row = {
            "benchmark": "replay_load", "platform": "twitch", "channels": channels,
            "rows": loader["rows"], "baseline_rows": base["rows"],
            "loader_s": loader["seconds"], "baseline_s": base["seconds"],
            "ratio": (loader["rows"] / loader["seconds"]) / (base["rows"] / base["seconds"]),
            "loader_maxrss_mb": loader["maxrss_mb"], "baseline_maxrss_mb": base["maxrss_mb"],
        }  # fmt: skip
        print(bench_line("replay_load", **{k: v for k, v in row.items() if k != "benchmark"}))
        rows.append(row)
        n = args.polls
        poll = min((run_steady("poll", replay.env, n, "30m") for _ in range(args.repeat)),
                   key=lambda r: r["wall_s"])  # fmt: skip
        base = min((run_steady("baseline-polls", replay.env, n, "30m")
                    for _ in range(args.repeat)), key=lambda r: r["wall_s"])  # fmt: skip
    finally:
        replay.stop()
    overhead = [t - h for t, h in zip(poll["poll_s"], poll["http_s"], strict=True)]
    row = {
        "benchmark": "steady", "platform": "twitch", "channels": channels, "polls": n,
        "rows": poll["rows"], "baseline_rows": base["rows"],
        "streams": poll["main_rows"], "baseline_streams": base["main_rows"],
        "loader_s": poll["wall_s"], "baseline_s": base["wall_s"],
        "loader_rows_s": poll["rows"] / poll["wall_s"],
        "baseline_rows_s": base["rows"] / base["wall_s"],
        "ratio": (poll["rows"] / poll["wall_s"]) / (base["rows"] / base["wall_s"]),
        "median_poll_s": _median(poll["poll_s"]), "median_http_s": _median(poll["http_s"]),
        "median_overhead_s": _median(overhead),
        "baseline_median_poll_s": _median(base["poll_s"]),
        "loader_maxrss_mb": poll["maxrss_mb"], "baseline_maxrss_mb": base["maxrss_mb"],
    }  # fmt: skip
    print(bench_line("steady", **{k: v for k, v in row.items() if k != "benchmark"}))
    rows.append(row)
    return rows


def bench_poll_memory(
    pages: Path, sim_env: dict[str, str], channels: int, args: argparse.Namespace
) -> dict[str, Any]:
    """Memory of one `gst poll` process over `--memory-polls` polls, flushing every
    `--memory-flush-every`: the peak RSS of each flush interval (its polls, any early extract
    and the flush itself; the kernel's peak is reset after each flush), the largest of the
    first half of the intervals against the largest of the second half, and RSS after the
    first and the last flush. Flat means the second half peaks no higher than the first."""
    replay = Replay(pages, sim_env)
    try:
        run = run_steady("poll", replay.env, args.memory_polls, args.memory_flush_every)
    finally:
        replay.stop()
    peaks = run["flush_peak_kb"]
    row = {
        "benchmark": "poll_memory", "platform": "twitch", "channels": channels,
        "polls": run["polls"], "rows": run["rows"], "flush_every": args.memory_flush_every,
        "flushes": len(run["flushed_kb"]), "loader_maxrss_mb": run["maxrss_mb"],
        "loader_s": run["wall_s"],
    }  # fmt: skip
    if len(peaks) >= 2:
        half = len(peaks) // 2
        first, second = max(peaks[:half]), max(peaks[half:])
        row.update(
            peak_mb_first_flush=peaks[0] / 1024,
            peak_mb_last_flush=peaks[-1] / 1024,
            peak_mb_first_half=first / 1024,
            peak_mb_second_half=second / 1024,
            ratio=second / first,
            rss_mb_after_first_flush=run["flushed_kb"][0] / 1024,
            rss_mb_after_last_flush=run["flushed_kb"][-1] / 1024,
            # least-squares trend of the flush peaks over the second half, MB per 100 polls
            peak_trend_mb_per_100_polls=_trend(run["flush_polls"][half:], peaks[half:]) / 10.24,
        )
    print(bench_line("poll_memory", **{k: v for k, v in row.items() if k != "benchmark"}))
    return row


if __name__ == "__main__":
    main()
