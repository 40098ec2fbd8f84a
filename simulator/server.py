"""HTTP side of the simulator: real paths, params, auth, pagination, shapes, limits and faults.

Each platform lives under a path prefix of one local server (``/chzzk-openapi``,
``/chzzk-service``, ``/soop-openapi``, ``/soop-web``, ``/soop-search``, ``/twitch-auth``,
``/twitch-api``, ``/steam-web-api``, ``/steam-store``) so a loader only swaps its base URL.
The admin endpoints ``/_sim/advance``, ``/_sim/now`` and ``/_sim/truth`` drive the clock.
A request with the header ``X-Sim-Time: <epoch seconds>`` is answered as of that instant
instead (the world is a function of time): pollers that keep their own clocks, as the demo's
polling processes do, share one simulator without waiting for each other.
"""

from __future__ import annotations

import base64
import json
import math
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np

from simulator.world import (
    GENRE_MAP,
    GENRES,
    LiveState,
    World,
    WorldKnobs,
    kst_day,
    kst_day_start,
    stable_hash,
)

FAULT_KINDS = (
    "429",
    "429_retry_after",
    "500",
    "502",
    "503",
    "slow",
    "truncated",
    "html",
    "duplicates",
    "shifted",
    "unknown_field",
    "changed_type",
)
LIST_FAULTS = ("duplicates", "shifted")
PREFIXES = {
    "chzzk-openapi": "SOURCES__CHZZK__OPENAPI_BASE_URL",
    "chzzk-service": "SOURCES__CHZZK__SERVICE_BASE_URL",
    "soop-openapi": "SOURCES__SOOP__OPENAPI_BASE_URL",
    "soop-web": "SOURCES__SOOP__WEB_BASE_URL",
    "soop-search": "SOURCES__SOOP__SEARCH_BASE_URL",
    "twitch-auth": "SOURCES__TWITCH__AUTH_BASE_URL",
    "twitch-api": "SOURCES__TWITCH__API_BASE_URL",
    "steam-web-api": "SOURCES__STEAM__WEB_API_BASE_URL",
    "steam-store": "SOURCES__STEAM__STORE_BASE_URL",
}
_TITLES = (
    "{g} 달립니다",
    "오늘도 {g}",
    "[{g}] 랭크 올리기",
    "{g} 정복기 #{n}",
    "시청자 참여 {g}",
    "{g} 뉴비 환영",
    "밤샘 {g}",
)
_TALK_TITLES = (
    "소통 방송",
    "저챗 ~ 오늘 하루 어땠어요",
    "수다 타임",
    "아침 인사 방송",
    "그냥 떠들기",
)
_LANGS = ("ko", "en", "ja")


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-able object, or bytes when raw
    headers: dict[str, str] = field(default_factory=dict)
    raw: bool = False
    content_type: str = "application/json; charset=utf-8"
    delay: float = 0.0


@dataclass
class Payload:
    """A successful JSON body plus the list of items in it (for data-level faults)."""

    obj: Any
    items: list | None = None
    headers: dict[str, str] = field(default_factory=dict)


#: instants whose request attempts are remembered (the shared clock clears them as it moves;
#: requests with their own instant, ``X-Sim-Time``, keep the newest ones)
ATTEMPT_INSTANTS = 64


class _Bucket:
    """Token bucket refilled by real time AND simulated time, so backing off always works."""

    def __init__(self, limit: int, window: float):
        self.limit, self.rate = limit, limit / window
        self.tokens = float(limit)
        self.real, self.sim = time.monotonic(), None

    def take(self, sim_now: int) -> tuple[bool, int, int]:
        """(allowed, remaining, seconds until full)."""
        real = time.monotonic()
        elapsed = real - self.real + (max(0, sim_now - self.sim) if self.sim is not None else 0)
        self.real, self.sim = real, sim_now
        self.tokens = min(self.limit, self.tokens + elapsed * self.rate)
        ok = self.tokens >= 1
        if ok:
            self.tokens -= 1
        return ok, int(self.tokens), math.ceil((self.limit - self.tokens) / self.rate)


#: how far back the news endpoint looks (Steam keeps years; the simulator a quarter)
NEWS_HISTORY_DAYS = 90


def _parse_start(start: str | datetime) -> int:
    if isinstance(start, datetime):
        value = start
    else:
        value = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def _kst_text(minute: int) -> str:
    return datetime.fromtimestamp(minute * 60 + 9 * 3600, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _iso(minute: int) -> str:
    return datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def _unb64(text: str) -> str:
    return base64.urlsafe_b64decode(text.encode() + b"=" * (-len(text) % 4)).decode()


def _krw(minor: int) -> str:
    return f"₩ {minor // 100:,}"


class Simulator:
    """A local, seeded, deterministic stand-in for the Chzzk, SOOP, Twitch and Steam APIs.

    ``Simulator(seed, channels, faults, start, **world_knobs)``; ``start()`` serves on
    127.0.0.1 in a background thread; ``advance(minutes)`` moves the frozen simulated clock.
    """

    def __init__(
        self,
        seed: int = 42,
        channels: int = 300,
        faults: float = 0.0,
        start: str | datetime = "2026-11-02T00:00:00Z",
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        slow_seconds: float = 3.0,
        max_faulty_attempts: int = 2,
        twitch_token_ttl: int = 86_400,
        twitch_rate_limit: int = 800,
        twitch_rate_window: float = 60.0,
        steam_store_rate_limit: int = 200,
        steam_store_rate_window: float = 300.0,
        chzzk_client_id: str = "sim-chzzk-client",
        chzzk_client_secret: str = "sim-chzzk-secret",
        soop_client_id: str = "sim-soop-client",
        twitch_client_id: str = "sim-twitch-client",
        twitch_client_secret: str = "sim-twitch-secret",
        **world_knobs: float,
    ):
        if not 0.0 <= faults <= 1.0:
            raise ValueError(f"simulator: faults must be within 0..1, got {faults}")
        unknown = set(world_knobs) - set(WorldKnobs.__dataclass_fields__)
        if unknown:
            raise ValueError(
                f"simulator: unknown world knob(s) {sorted(unknown)}; known: "
                f"{sorted(WorldKnobs.__dataclass_fields__)}"
            )
        self.seed, self.faults = int(seed), float(faults)
        self.world = World(seed=seed, channels=channels, knobs=WorldKnobs(**world_knobs))
        self._shared_now = self._start = _parse_start(start)
        self._instant = threading.local()  # a request's own instant (``X-Sim-Time``)
        self.host, self.port = host, port
        self.slow_seconds, self.max_faulty_attempts = slow_seconds, max_faulty_attempts
        self.twitch_token_ttl = twitch_token_ttl
        self.creds = {
            "chzzk_client_id": chzzk_client_id,
            "chzzk_client_secret": chzzk_client_secret,
            "soop_client_id": soop_client_id,
            "twitch_client_id": twitch_client_id,
            "twitch_client_secret": twitch_client_secret,
        }
        self._twitch_limit = (twitch_rate_limit, twitch_rate_window)
        self._buckets: dict[str, _Bucket] = {}
        self._store_bucket = _Bucket(steam_store_rate_limit, steam_store_rate_window)
        self._tokens: dict[str, tuple[str, int]] = {}
        self._attempts: dict[int, dict[str, int]] = {}  # per instant: attempts per request
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Simulator:
        server = ThreadingHTTPServer((self.host, self.port), _Handler)
        server.daemon_threads = True
        server.sim = self  # type: ignore[attr-defined]
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            name="gst-simulator",
            kwargs={"poll_interval": 0.1},
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def _now(self) -> int:
        """The simulated instant (epoch seconds) the current request is answered at."""
        own = getattr(self._instant, "now", None)
        return self._shared_now if own is None else own

    def instant_of(self, header: str | None) -> int | None:
        """The instant an ``X-Sim-Time`` header asks for (epoch seconds, not before the start);
        none without the header."""
        if header is None:
            return None
        try:
            instant = int(header)
        except ValueError:
            raise ValueError(f"X-Sim-Time must be epoch seconds, got {header!r}") from None
        if instant < self._start:
            raise ValueError(f"X-Sim-Time {instant} is before the simulation's start {self._start}")
        return instant

    @contextmanager
    def at(self, instant: int | None) -> Iterator[None]:
        """Answer this thread's requests as of ``instant`` (none: the shared clock)."""
        self._instant.now = instant
        try:
            yield
        finally:
            self._instant.now = None

    @property
    def now(self) -> datetime:
        return datetime.fromtimestamp(self._now, UTC)

    def advance(self, minutes: float = 10) -> datetime:
        """Move the simulated clock forward (the world is frozen between advances)."""
        if minutes < 0:
            raise ValueError("simulator: cannot advance the clock backwards")
        with self._lock:
            self._shared_now += int(round(minutes * 60))
            self._attempts.clear()
        return self.now

    def truth(self, days: float | None = None) -> dict:
        """Planted influences and, over ``days`` from the start (default: the simulated time
        elapsed so far; none when 0), the planted elasticity."""
        if days is None:
            days = (self._now - self._start) / 86400
        return self.world.truth(start=self._start if days > 0 else None, days=days)

    def env(self, official: bool = True) -> dict[str, str]:
        """Environment variables that point the loaders at this simulator."""
        out = {var: f"{self.base_url}/{prefix}" for prefix, var in PREFIXES.items()}
        out["SOURCES__TWITCH__CLIENT_ID"] = self.creds["twitch_client_id"]
        out["SOURCES__TWITCH__CLIENT_SECRET"] = self.creds["twitch_client_secret"]
        if official:
            out["SOURCES__CHZZK__CLIENT_ID"] = self.creds["chzzk_client_id"]
            out["SOURCES__CHZZK__CLIENT_SECRET"] = self.creds["chzzk_client_secret"]
            out["SOURCES__SOOP__CLIENT_ID"] = self.creds["soop_client_id"]
        return out

    # ------------------------------------------------------------------ dispatch
    def date_header(self) -> str:
        return formatdate(self._now, usegmt=True)

    def handle(self, method: str, target: str, headers: Message, body: bytes) -> Reply:
        parts = urlsplit(target)
        path = parts.path
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        query["_raw"] = parts.query
        if path.startswith("/_sim/"):
            return self._admin(method, path, query)
        prefix, _, rest = path.lstrip("/").partition("/")
        route = ROUTES.get((method, prefix, "/" + rest))
        args: tuple = ()
        if route is None:
            for (m, pfx, pattern), fn in PATTERN_ROUTES.items():
                if m == method and pfx == prefix and ("/" + rest).startswith(pattern):
                    tail = ("/" + rest)[len(pattern) :].strip("/")
                    if tail and "/" not in tail:
                        route, args = fn, (tail,)
                        break
        if route is None:
            return Reply(
                404,
                {
                    "error": "Not Found",
                    "status": 404,
                    "message": f"no simulated endpoint {method} {path}",
                },
            )
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        fault = self._fault(method, target, body)
        if fault in ("429", "429_retry_after", "500", "502", "503", "html"):
            return self._transport_fault(fault, prefix)
        result = route(self, query, headers, form, *args, fault=fault)
        if isinstance(result, Reply):
            return result
        reply = Reply(200, self._data_fault(result, fault), dict(result.headers))
        if fault == "slow":
            reply.delay = self.slow_seconds
        elif fault == "truncated":
            text = json.dumps(reply.body, ensure_ascii=False).encode()
            reply.body, reply.raw = text[: max(1, len(text) // 2)], True
        return reply

    def _admin(self, method: str, path: str, query: dict) -> Reply:
        if path == "/_sim/advance" and method == "POST":
            try:
                minutes = float(query.get("minutes", "10"))
            except ValueError:
                return Reply(400, {"error": "minutes must be a number"})
            self.advance(minutes)
        elif path == "/_sim/truth" and method == "GET":
            days = query.get("days")
            return Reply(200, self.truth(float(days) if days else None))
        elif path != "/_sim/now":
            return Reply(404, {"error": f"no admin endpoint {method} {path}"})
        return Reply(200, {"now": self.now.strftime("%Y-%m-%dT%H:%M:%SZ"), "epoch": self._now})

    # ------------------------------------------------------------------ faults
    def _fault(self, method: str, target: str, body: bytes) -> str | None:
        if self.faults <= 0:
            return None
        key = f"{method} {target} {body!r}"
        with self._lock:
            seen = self._attempts.setdefault(self._now, {})
            attempt = seen.get(key, 0)
            seen[key] = attempt + 1
            while len(self._attempts) > ATTEMPT_INSTANTS:  # clocks of X-Sim-Time move on
                del self._attempts[min(self._attempts)]
        return self.fault_for(method, target, body, attempt)

    def fault_for(
        self, method: str, target: str, body: bytes = b"", attempt: int = 0
    ) -> str | None:
        """The fault (or None) the ``attempt``-th identical request gets at the current instant.

        Pure: a hash of (seed, instant, request, attempt); ``target`` is path + query string.
        """
        if self.faults <= 0 or attempt >= self.max_faulty_attempts or target.startswith("/_sim/"):
            return None
        h = stable_hash(self.seed, self._now, f"{method} {target} {body!r}", attempt)
        if (h % 1_000_000) / 1_000_000 >= self.faults:
            return None
        return FAULT_KINDS[(h >> 24) % len(FAULT_KINDS)]

    def _transport_fault(self, fault: str, prefix: str) -> Reply:
        if fault.startswith("429"):
            headers = {"Retry-After": "1"} if fault == "429_retry_after" else {}
            if prefix.startswith("twitch"):
                limit = self._twitch_limit[0]
                headers |= {
                    "Ratelimit-Limit": str(limit),
                    "Ratelimit-Remaining": "0",
                    "Ratelimit-Reset": str(self._now + 1),
                }
                return Reply(
                    429, {"error": "Too Many Requests", "status": 429, "message": ""}, headers
                )
            if prefix.startswith("steam"):
                return Reply(429, None, headers)
            return Reply(429, {"code": 429, "message": "Too Many Requests"}, headers)
        if fault == "html":
            page = (
                "<!DOCTYPE html><html><head><title>Service Temporarily Unavailable</title>"
                "</head><body><h1>잠시 후 다시 시도해 주세요</h1><p>Please try again later."
                "</p></body></html>"
            )
            return Reply(200, page.encode(), raw=True, content_type="text/html; charset=utf-8")
        status = int(fault)
        text = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
        page = f"<html><body><h1>{status} {text[status]}</h1></body></html>"
        return Reply(status, page.encode(), raw=True, content_type="text/html; charset=utf-8")

    def _data_fault(self, payload: Payload, fault: str | None) -> Any:
        items = payload.items
        if fault in LIST_FAULTS and not items:
            fault = "unknown_field"
        if fault == "duplicates" and items:
            h = stable_hash(self.seed, self._now, len(items))
            items.extend(dict(items[(h >> (8 * k)) % len(items)]) for k in range(1 + h % 3))
        elif fault == "unknown_field":
            targets = items if items else [payload.obj]
            for item in targets:
                if isinstance(item, dict):
                    item["simExperimentalFlag"] = {"enabled": True, "variant": "b"}
        elif fault == "changed_type":
            for item in items if items else [payload.obj]:
                _retype(item)
        return payload.obj

    # ------------------------------------------------------------------ helpers
    def minute(self) -> int:
        return self._now // 60

    def state(self, platform: str) -> LiveState:
        return self.world.state(platform, self.minute())

    def _title(self, live_id: int, game_index: int) -> str:
        g = self.world.games[game_index]
        if g.kind != "game":
            return _TALK_TITLES[live_id % len(_TALK_TITLES)]
        return _TITLES[live_id % len(_TITLES)].format(g=g.name_ko, n=live_id % 97)

    def _shift(self, fault: str | None) -> int:
        return 1 + stable_hash(self.seed, self._now, "shift") % 3 if fault == "shifted" else 0


def _retype(obj: Any) -> None:
    """Send numbers as numeric strings (and SOOP's numeric strings as numbers)."""
    if not isinstance(obj, dict):
        return
    for key, value in list(obj.items()):
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            obj[key] = str(value)
        elif (
            isinstance(value, str)
            and value.isdigit()
            and len(value) < 12
            and not (key.endswith("cate_no") or value.startswith("0"))
        ):
            obj[key] = int(value)
        elif isinstance(value, dict):
            _retype(value)


def _int_param(query: dict, name: str, default: int, lo: int, hi: int) -> int | None:
    raw = query.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if lo <= value <= hi else None


# ====================================================================== Chzzk
def _chzzk_item(sim: Simulator, st: LiveState, j: int, service: bool) -> dict:
    w = sim.world
    s = w.streamers("chzzk")
    i, live_id, gi = int(st.idx[j]), int(st.live_id[j]), int(st.game[j])
    g = w.games[gi]
    ctype, slug, value = g.chzzk_type, g.chzzk_slug, g.chzzk_value
    if g.kind == "talk" and live_id % 8 == 0:  # some talk shows are uncategorised
        ctype, slug, value = None, None, ""
    thumb = f"https://livecloud-thumb.akamaized.net/chzzk/livecloud/KR/stream/{live_id}/live/"
    image = f"https://nng-phinf.pstatic.net/MjAyNTA1/{s.ids[i][:12]}.png"
    item = {
        "liveId": live_id,
        "liveTitle": sim._title(live_id, gi),
        "concurrentUserCount": int(st.viewers[j]),
        "openDate": _kst_text(int(st.started_min[j])),
        "adult": bool(s.adult[i]),
        "tags": [g.name_ko] if g.kind == "game" else ["소통"],
        "categoryType": ctype,
        "liveCategory": slug,
        "liveCategoryValue": value,
    }
    if service:
        item |= {
            "liveImageUrl": thumb + "image_{type}.jpg",
            "defaultThumbnailImageUrl": None,
            "accumulateCount": int(st.viewers[j]) * 3 + live_id % 1000,
            "openDate": item["openDate"],
            "chatChannelId": f"N1{live_id:x}",
            "blindType": None,
            "watchPartyNo": None,
            "watchPartyTag": None,
            "channel": {
                "channelId": s.ids[i],
                "channelName": s.names[i],
                "channelImageUrl": image,
                "verifiedMark": bool(s.pop[i] > 1000),
            },
        }
    else:
        item |= {
            "liveThumbnailImageUrl": thumb + "image_{type}.jpg",
            "channelId": s.ids[i],
            "channelName": s.names[i],
            "channelImageUrl": image,
        }
    return item


def chzzk_open_lives(sim: Simulator, q: dict, headers: Message, form: dict, *, fault=None):
    c = sim.creds
    if (
        headers.get("Client-Id") != c["chzzk_client_id"]
        or headers.get("Client-Secret") != c["chzzk_client_secret"]
    ):
        return Reply(401, {"code": 401, "message": "INVALID_CLIENT", "content": None})
    size = _int_param(q, "size", 20, 1, 20)
    if size is None:
        return Reply(
            400, {"code": 400, "message": "size must be between 1 and 20", "content": None}
        )
    st = sim.state("chzzk")
    pos = 0
    if q.get("next"):
        try:
            viewers, live_id = _unb64(q["next"]).split(":")
            pos = st.after(int(viewers), int(live_id))
        except (ValueError, UnicodeDecodeError):
            return Reply(400, {"code": 400, "message": "invalid next cursor", "content": None})
    lo = max(0, pos - sim._shift(fault))
    hi = min(len(st), pos + size)
    data = [_chzzk_item(sim, st, j, service=False) for j in range(lo, hi)]
    nxt = _b64(f"{st.viewers[hi - 1]}:{st.live_id[hi - 1]}") if hi < len(st) else None
    return Payload(
        {"code": 200, "message": None, "content": {"data": data, "page": {"next": nxt}}}, data
    )


def chzzk_service_lives(sim: Simulator, q: dict, headers: Message, form: dict, *, fault=None):
    size = _int_param(q, "size", 20, 1, 50)
    if size is None:
        return Reply(
            400, {"code": 400, "message": "size must be between 1 and 50", "content": None}
        )
    st = sim.state("chzzk")
    pos = 0
    if q.get("concurrentUserCount") or q.get("liveId"):
        try:
            pos = st.after(int(q["concurrentUserCount"]), int(q["liveId"]))
        except (KeyError, ValueError):
            return Reply(
                400,
                {
                    "code": 400,
                    "message": "concurrentUserCount and liveId are both required integers",
                    "content": None,
                },
            )
    lo = max(0, pos - sim._shift(fault))
    hi = min(len(st), pos + size)
    data = [_chzzk_item(sim, st, j, service=True) for j in range(lo, hi)]
    nxt = (
        {"concurrentUserCount": int(st.viewers[hi - 1]), "liveId": int(st.live_id[hi - 1])}
        if hi < len(st)
        else None
    )
    return Payload(
        {
            "code": 200,
            "message": None,
            "content": {"size": len(data), "page": {"next": nxt}, "data": data},
        },
        data,
    )


def chzzk_channel(
    sim: Simulator, q: dict, headers: Message, form: dict, channel_id: str, *, fault=None
):
    s = sim.world.streamers("chzzk")
    i = s.id_index.get(channel_id)
    if i is None:
        return Reply(404, {"code": 404, "message": "Channel not found", "content": None})
    live = bool(np.any(sim.state("chzzk").idx == i))
    grown = int(s.followers[i] * (1 + 0.002 * max(0, kst_day(sim.minute()) - 20_000)))
    content = {
        "channelId": s.ids[i],
        "channelName": s.names[i],
        "channelImageUrl": f"https://nng-phinf.pstatic.net/MjAyNTA1/{s.ids[i][:12]}.png",
        "verifiedMark": bool(s.pop[i] > 1000),
        "channelType": "STREAMING",
        "channelDescription": f"{s.names[i]}의 방송국입니다",
        "followerCount": grown,
        "openLive": live,
        "subscriptionAvailability": bool(s.pop[i] > 200),
    }
    return Payload({"code": 200, "message": None, "content": content})


# ====================================================================== SOOP
def _soop_item(sim: Simulator, st: LiveState, j: int) -> dict:
    w = sim.world
    s = w.streamers("soop")
    i, live_id, gi = int(st.idx[j]), int(st.live_id[j]), int(st.game[j])
    broad_no = str(200_000_000 + live_id)
    return {
        "broad_no": broad_no,
        "broad_title": sim._title(live_id, gi),
        "broad_thumb": f"//liveimg.sooplive.co.kr/m/{broad_no}",
        "broad_cate_no": w.games[gi].soop_cate,
        "broad_start": _kst_text(int(st.started_min[j])),
        "total_view_cnt": str(int(st.viewers[j])),
        "user_id": s.ids[i],
        "user_nick": s.names[i],
        "broad_grade": "19" if s.adult[i] else "0",
        "is_password": "1" if s.password[i] else "0",
        "broad_bps": "8000",
        "broad_resolution": "1920x1080",
        "visit_broad_type": "0",
        "profile_img": f"//profile.img.sooplive.co.kr/LOGO/{s.ids[i][:2]}/{s.ids[i]}.jpg",
    }


def _soop_positions(sim: Simulator, st: LiveState, key: str | None, value: str | None):
    if not key or value is None:
        return np.arange(len(st))
    w = sim.world
    s = w.streamers("soop")
    if key == "cate":
        target = value.strip().zfill(8)
        games = [gi for gi, g in enumerate(w.games) if g.soop_cate == target]
        return np.flatnonzero(np.isin(st.game, games))
    if key == "bj_id":
        i = s.id_index.get(value)
        return np.flatnonzero(st.idx == i) if i is not None else np.arange(0)
    if key == "lang":
        return np.arange(len(st)) if value in ("ko", "ko_KR", "") else np.arange(0)
    return None


def _soop_page(sim: Simulator, st: LiveState, positions: np.ndarray, page: int, fault):
    lo = (page - 1) * 60
    hi = min(len(positions), lo + 60)
    lo = max(0, lo - sim._shift(fault))
    return [_soop_item(sim, st, int(positions[j])) for j in range(lo, max(lo, hi))]


def soop_open_list(sim: Simulator, q: dict, headers: Message, form: dict, *, fault=None):
    if q.get("client_id") != sim.creds["soop_client_id"]:
        return Payload({"result": -1, "msg": "유효하지 않은 client_id 입니다."})
    page = _int_param(q, "page_no", 1, 1, 10_000_000)
    if page is None:
        return Payload({"result": -3, "msg": "page_no 값이 올바르지 않습니다."})
    st = sim.state("soop")
    positions = _soop_positions(sim, st, q.get("select_key"), q.get("select_value"))
    if positions is None:
        return Payload({"result": -2, "msg": "select_key 값이 올바르지 않습니다."})
    broad = _soop_page(sim, st, positions, page, fault)
    return Payload(
        {
            "total_cnt": int(len(positions)),
            "page_no": page,
            "page_block": 60,
            "time": sim._now,
            "broad": broad,
        },
        broad,
    )


def soop_web_list(sim: Simulator, q: dict, headers: Message, form: dict, *, fault=None):
    page = _int_param(q, "pageNo", 1, 1, 10_000_000) or 1
    st = sim.state("soop")
    positions = np.arange(len(st))
    if q.get("selectType") == "cate" and q.get("selectValue") not in (None, "", "all"):
        positions = _soop_positions(sim, st, "cate", q["selectValue"])
    broad = _soop_page(sim, st, positions, page, fault)
    return Payload({"result": 1, "total_cnt": str(len(positions)), "broad": broad}, broad)


def soop_search(sim: Simulator, q: dict, headers: Message, form: dict, *, fault=None):
    if q.get("m") != "categoryList":
        return Payload({"result": -1, "msg": "지원하지 않는 요청입니다."})
    page = _int_param(q, "nPageNo", 1, 1, 100_000) or 1
    size = _int_param(q, "nListCnt", 120, 1, 500) or 120
    w = sim.world
    st = sim.state("soop")
    views = np.bincount(st.game, weights=st.viewers, minlength=len(w.games))
    cats = sorted(range(len(w.games)), key=lambda gi: (-views[gi], w.games[gi].soop_cate))
    chunk = cats[(page - 1) * size : page * size]
    rows = []
    for gi in chunk:
        g = w.games[gi]
        number = g.soop_cate if stable_hash(g.soop_cate) % 2 else str(int(g.soop_cate))
        rows.append(
            {
                "category_no": number,
                "category_name": g.soop_name,
                "view_cnt": int(views[gi]),
                "fixed_tags": [g.genre] if g.genre else [],
                "cate_img": f"https://admin.img.sooplive.co.kr/category_img/{number}.jpg",
            }
        )
    return Payload({"result": 1, "data": {"is_more": page * size < len(cats), "list": rows}}, rows)


# ====================================================================== Twitch
def twitch_token(sim: Simulator, q: dict, headers: Message, form: dict, *, fault=None):
    params = q | form
    if params.get("client_id") != sim.creds["twitch_client_id"]:
        return Reply(400, {"status": 400, "message": "invalid client"})
    if params.get("client_secret") != sim.creds["twitch_client_secret"]:
        return Reply(403, {"status": 403, "message": "invalid client secret"})
    if params.get("grant_type") != "client_credentials":
        return Reply(400, {"status": 400, "message": "unsupported grant type"})
    with sim._lock:
        token = f"{stable_hash(sim.seed, sim._now, len(sim._tokens), 'tok'):016x}"
        token = (token + f"{stable_hash(token):016x}")[:30]
        sim._tokens[token] = (params["client_id"], sim._now + sim.twitch_token_ttl)
    return Payload(
        {"access_token": token, "expires_in": sim.twitch_token_ttl, "token_type": "bearer"}
    )


def twitch_validate(sim: Simulator, q: dict, headers: Message, form: dict, *, fault=None):
    auth = (headers.get("Authorization") or "").split()
    token = auth[-1] if auth else ""
    got = sim._tokens.get(token)
    if got is None or got[1] <= sim._now:
        return Reply(401, {"status": 401, "message": "invalid access token"})
    return Payload({"client_id": got[0], "scopes": [], "expires_in": got[1] - sim._now})


def _helix_auth(sim: Simulator, headers: Message) -> Reply | dict[str, str]:
    auth = headers.get("Authorization") or ""
    if not auth.startswith("Bearer "):
        return Reply(
            401, {"error": "Unauthorized", "status": 401, "message": "OAuth token is missing"}
        )
    got = sim._tokens.get(auth[len("Bearer ") :].strip())
    if got is None or got[1] <= sim._now:
        return Reply(
            401, {"error": "Unauthorized", "status": 401, "message": "Invalid OAuth token"}
        )
    if headers.get("Client-Id") != got[0]:
        return Reply(
            401,
            {
                "error": "Unauthorized",
                "status": 401,
                "message": "Client ID and OAuth token do not match",
            },
        )
    with sim._lock:
        bucket = sim._buckets.setdefault(got[0], _Bucket(*sim._twitch_limit))
        ok, remaining, to_full = bucket.take(sim._now)
    rl = {
        "Ratelimit-Limit": str(sim._twitch_limit[0]),
        "Ratelimit-Remaining": str(remaining),
        "Ratelimit-Reset": str(sim._now + to_full),
    }
    if not ok:
        return Reply(429, {"error": "Too Many Requests", "status": 429, "message": ""}, rl)
    return rl


def _twitch_game_ids(sim: Simulator) -> dict[str, int]:
    return {g.twitch_id: gi for gi, g in enumerate(sim.world.games)}


def _twitch_item(sim: Simulator, st: LiveState, j: int) -> dict:
    s = sim.world.streamers("twitch")
    i, live_id, gi = int(st.idx[j]), int(st.live_id[j]), int(st.game[j])
    g = sim.world.games[gi]
    return {
        "id": str(40_000_000_000 + live_id),
        "user_id": s.ids[i],
        "user_login": s.logins[i],
        "user_name": s.logins[i].capitalize(),
        "game_id": g.twitch_id,
        "game_name": g.twitch_name,
        "type": "live",
        "title": sim._title(live_id, gi) if s.lang[i] == 0 else f"{g.twitch_name} stream",
        "viewer_count": int(st.viewers[j]),
        "started_at": _iso(int(st.started_min[j])),
        "language": _LANGS[int(s.lang[i])],
        "thumbnail_url": "https://static-cdn.jtvnw.net/previews-ttv/live_user_"
        f"{s.logins[i]}-{{width}}x{{height}}.jpg",
        "tag_ids": [],
        "tags": ["한국어"] if s.lang[i] == 0 else ["English"],
        "is_mature": bool(s.adult[i]),
    }


def twitch_streams(sim: Simulator, q: dict, headers: Message, form: dict, *, fault=None):
    rl = _helix_auth(sim, headers)
    if isinstance(rl, Reply):
        return rl
    first = _int_param(q, "first", 20, 1, 100)
    if first is None:
        return Reply(
            400,
            {
                "error": "Bad Request",
                "status": 400,
                "message": 'The parameter "first" was malformed: the value must be '
                "greater than or equal to 1 and less than or equal to 100",
            },
            rl,
        )
    st = sim.state("twitch")
    s = sim.world.streamers("twitch")
    multi = parse_qs(q.get("_raw", ""))
    mask = np.ones(len(st), bool)
    game_ids = multi.get("game_id") or ([q["game_id"]] if q.get("game_id") else [])
    if game_ids:
        ids = _twitch_game_ids(sim)
        mask &= np.isin(st.game, [ids[g] for g in game_ids if g in ids])
    if q.get("language"):
        lang = _LANGS.index(q["language"]) if q["language"] in _LANGS else -1
        mask &= s.lang[st.idx] == lang
    if q.get("user_login"):
        i = (
            s.id_index.get(s.ids[s.logins.index(q["user_login"])])
            if q["user_login"] in s.logins
            else -1
        )
        mask &= st.idx == i
    if q.get("user_id"):
        mask &= st.idx == s.id_index.get(q["user_id"], -1)
    positions = np.arange(len(st)) if mask.all() else np.flatnonzero(mask)
    pos = 0
    if q.get("after"):
        try:
            cursor = json.loads(_unb64(q["after"]))["a"]["Cursor"]
            viewers, live_id = (int(x) for x in cursor.split(":"))
            pos = int(
                np.searchsorted(
                    st.neg_key[positions], -(viewers * 10_000_000_000 + live_id), side="right"
                )
            )
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return Reply(
                400, {"error": "Bad Request", "status": 400, "message": "invalid cursor"}, rl
            )
        # the live list moves between requests: re-serve a few streams (never skip any)
        h = stable_hash(sim.seed, sim._now, "twitch-shift", pos)
        if h % 10 < 3:
            pos = max(0, pos - min(1 + (h >> 8) % 3, first - 1))
    lo = max(0, pos - sim._shift(fault))
    hi = min(len(positions), pos + first)
    data = [_twitch_item(sim, st, j) for j in positions[lo:hi].tolist()]
    pagination = {}
    if hi < len(positions):
        last = int(positions[hi - 1])
        cursor = f"{st.viewers[last]}:{st.live_id[last]}"
        pagination = {"cursor": _b64(json.dumps({"b": None, "a": {"Cursor": cursor}}))}
    return Payload({"data": data, "pagination": pagination}, data, rl)


def _twitch_game(g) -> dict:
    igdb = str(100_000 + int(g.twitch_id) % 200_000) if g.kind == "game" else ""
    return {
        "id": g.twitch_id,
        "name": g.twitch_name,
        "box_art_url": f"https://static-cdn.jtvnw.net/ttv-boxart/{g.twitch_id}"
        "-{width}x{height}.jpg",
        "igdb_id": igdb,
    }


def twitch_top_games(sim: Simulator, q: dict, headers: Message, form: dict, *, fault=None):
    rl = _helix_auth(sim, headers)
    if isinstance(rl, Reply):
        return rl
    first = _int_param(q, "first", 20, 1, 100) or 20
    w = sim.world
    st = sim.state("twitch")
    views = np.bincount(st.game, weights=st.viewers, minlength=len(w.games))
    order = sorted(range(len(w.games)), key=lambda gi: (-views[gi], w.games[gi].twitch_id))
    pos = 0
    if q.get("after"):
        try:
            pos = int(json.loads(_unb64(q["after"]))["a"]["Offset"])
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return Reply(
                400, {"error": "Bad Request", "status": 400, "message": "invalid cursor"}, rl
            )
    lo = max(0, pos - sim._shift(fault))
    hi = min(len(order), pos + first)
    data = [_twitch_game(w.games[gi]) for gi in order[lo:hi]]
    pagination = (
        {"cursor": _b64(json.dumps({"b": None, "a": {"Offset": hi}}))} if hi < len(order) else {}
    )
    return Payload({"data": data, "pagination": pagination}, data, rl)


def twitch_games(sim: Simulator, q: dict, headers: Message, form: dict, *, fault=None):
    rl = _helix_auth(sim, headers)
    if isinstance(rl, Reply):
        return rl
    multi = parse_qs(q.get("_raw", ""))
    ids, names = set(multi.get("id", [])), set(multi.get("name", []))
    data = [
        _twitch_game(g) for g in sim.world.games if g.twitch_id in ids or g.twitch_name in names
    ]
    return Payload({"data": data}, data, rl)


# ====================================================================== Steam
def _appid(q: dict) -> int | Reply:
    """The `appid` parameter of a Web API call, or Steam's HTML 400 page when it is missing."""
    try:
        return int(q.get("appid", ""))
    except ValueError:
        return Reply(
            400,
            b"<html><head><title>Bad Request</title></head><body><h1>Bad Request"
            b"</h1>Required parameter 'appid' is missing</body></html>",
            raw=True,
            content_type="text/html; charset=UTF-8",
        )


def steam_current_players(sim: Simulator, q: dict, headers: Message, form: dict, *, fault=None):
    appid = _appid(q)
    if isinstance(appid, Reply):
        return appid
    apps = sim.world.apps
    a = apps.index.get(appid)
    if a is not None and apps.players_404[a]:
        return Reply(404, {"response": {"result": 42}})
    if a is None or apps.players_42[a]:
        return Payload({"response": {"result": 42}})
    count = int(sim.world.players(sim._now)[a])
    return Payload({"response": {"player_count": count, "result": 1}})


def steam_news(sim: Simulator, q: dict, headers: Message, form: dict, *, fault=None):
    """ISteamNews/GetNewsForApp/v2: newest first, patch notes at every update (tag
    ``patchnotes``), ordinary announcements and external press at other times."""
    appid = _appid(q)
    if isinstance(appid, Reply):
        return appid
    count = _int_param(q, "count", 20, 1, 10_000)
    maxlength = _int_param(q, "maxlength", 0, 0, 1_000_000)
    enddate = _int_param(q, "enddate", sim._now, 0, 2**40)
    if count is None or maxlength is None or enddate is None:
        return Reply(400, None)
    a = sim.world.apps.index.get(appid)
    if a is None:
        return Reply(
            403,
            b"<html><body><h1>Forbidden</h1></body></html>",
            raw=True,
            content_type="text/html; charset=UTF-8",
        )
    until = min(int(enddate), sim._now) + 1
    items = sim.world.news(a, until - NEWS_HISTORY_DAYS * 86400, until)
    feeds = {f for f in q.get("feeds", "").split(",") if f}
    tags = {t for t in q.get("tags", "").split(",") if t}
    if feeds:
        items = [i for i in items if i["feedname"] in feeds]
    if tags:
        items = [i for i in items if tags & set(i.get("tags", []))]
    total = len(items)
    items = items[:count]
    if maxlength:
        for i in items:
            if len(i["contents"]) > maxlength:
                i["contents"] = i["contents"][:maxlength] + "..."
    return Payload({"appnews": {"appid": appid, "newsitems": items, "count": total}}, items)


def _ranks(sim: Simulator, day: int) -> list[int]:
    t = (kst_day_start(day) + int(21.5 * 60)) * 60
    peak = sim.world.expected_players(t) * 1.05
    return [int(a) for a in np.argsort(-peak, kind="stable")][:100]


def steam_most_played(sim: Simulator, q: dict, headers: Message, form: dict, *, fault=None):
    apps = sim.world.apps
    day = kst_day(sim.minute()) - 1
    ranks, before = _ranks(sim, day), _ranks(sim, day - 7)
    peak = sim.world.expected_players((kst_day_start(day) + int(21.5 * 60)) * 60) * 1.05
    rollup = (sim._now // 86400) * 86400
    rows = [
        {
            "rank": r + 1,
            "appid": int(apps.appids[a]),
            "last_week_rank": before.index(a) + 1 if a in before else 0,
            "peak_in_game": int(peak[a]),
        }
        for r, a in enumerate(ranks)
    ]
    return Payload({"response": {"rollup_date": rollup, "ranks": rows}}, rows)


def _store_limit(sim: Simulator) -> Reply | None:
    with sim._lock:
        ok, _, to_full = sim._store_bucket.take(sim._now)
    if ok:
        return None
    # Steam rarely says when to come back; sometimes it does
    h = stable_hash(sim.seed, sim._now, time.monotonic_ns())
    return Reply(429, None, {"Retry-After": str(min(60, to_full))} if h % 3 == 0 else {})


def _price(sim: Simulator, a: int, pct: int) -> dict:
    initial = int(sim.world.apps.price[a])
    final = int(round(initial * (100 - pct) / 100 / 1000) * 1000)
    return {
        "currency": "KRW",
        "initial": initial,
        "final": final,
        "discount_percent": int(pct),
        "initial_formatted": _krw(initial) if pct else "",
        "final_formatted": _krw(final),
    }


def steam_appdetails(sim: Simulator, q: dict, headers: Message, form: dict, *, fault=None):
    limited = _store_limit(sim)
    if limited:
        return limited
    raw_ids = [x for x in q.get("appids", "").split(",") if x.strip()]
    filters = q.get("filters", "")
    if not raw_ids or (len(raw_ids) > 1 and filters != "price_overview"):
        return Reply(400, None)
    apps = sim.world.apps
    disc = sim.world.discount(sim._now)
    out: dict[str, Any] = {}
    for raw in raw_ids:
        a = apps.index.get(int(raw)) if raw.strip().isdigit() else None
        if a is None:
            out[raw] = {"success": False}
            continue
        price = None if apps.is_free[a] else _price(sim, a, int(disc[a]))
        if filters == "price_overview":
            out[raw] = {"success": True, "data": {"price_overview": price} if price else []}
            continue
        appid = int(apps.appids[a])
        genres = GENRE_MAP.get(apps.genre[a], ["Action"]) + (
            ["Free To Play"] if apps.is_free[a] else []
        )
        data = {
            "type": "game",
            "name": apps.names[a],
            "steam_appid": appid,
            "required_age": apps.required_age[a],
            "is_free": bool(apps.is_free[a]),
            "short_description": f"{apps.names[a]} — {apps.genre[a]}",
            "header_image": "https://shared.akamai.steamstatic.com/store_item_assets/steam/apps/"
            f"{appid}/header.jpg",
            "developers": [f"Studio {appid % 997}"],
            "publishers": [f"Publisher {appid % 89}"],
            "platforms": {"windows": True, "mac": appid % 3 == 0, "linux": appid % 5 == 0},
            "categories": [{"id": cid, "description": d} for cid, d in apps.categories[a]],
            "genres": [{"id": GENRES[gname], "description": gname} for gname in genres],
            "release_date": {"coming_soon": False, "date": apps.release[a]},
            # fields the real store answers with that no loader reads (kept realistic in shape)
            "dlc": [],
            "detailed_description": f"<h1>{apps.names[a]}</h1><p>{apps.genre[a]}</p>",
            "about_the_game": f"<p>{apps.names[a]}</p>",
            "supported_languages": "English<strong>*</strong>, Korean<br><strong>*</strong>"
            "languages with full audio support",
            "capsule_image": "https://shared.akamai.steamstatic.com/store_item_assets/steam/apps/"
            f"{appid}/capsule_231x87.jpg",
            "website": None,
            "pc_requirements": {"minimum": "<strong>Minimum:</strong><br><ul></ul>"},
            "mac_requirements": [],
            "linux_requirements": [],
            "package_groups": [],
            "recommendations": {"total": 1000 + appid % 50_000},
            "achievements": {"total": appid % 80, "highlighted": []},
            "screenshots": [
                {
                    "id": 0,
                    "path_thumbnail": "https://shared.akamai.steamstatic.com/store_item_assets/"
                    f"steam/apps/{appid}/ss_0.600x338.jpg",
                    "path_full": "https://shared.akamai.steamstatic.com/store_item_assets/"
                    f"steam/apps/{appid}/ss_0.1920x1080.jpg",
                }
            ],
            "support_info": {"url": "", "email": ""},
            "background": "https://store.akamai.steamstatic.com/images/storepagebackground/app/"
            f"{appid}",
            "content_descriptors": {"ids": [], "notes": None},
            "ratings": None,
        }
        if price:
            data["price_overview"] = price
        out[raw] = {"success": True, "data": data}
    return Payload(out)


_SCORES = (
    (0.95, 9, "Overwhelmingly Positive"),
    (0.8, 8, "Very Positive"),
    (0.7, 7, "Mostly Positive"),
    (0.4, 5, "Mixed"),
    (0.2, 4, "Mostly Negative"),
    (0.0, 2, "Very Negative"),
)


def steam_reviews(sim: Simulator, q: dict, headers: Message, form: dict, appid: str, *, fault=None):
    limited = _store_limit(sim)
    if limited:
        return limited
    apps = sim.world.apps
    a = apps.index.get(int(appid)) if appid.isdigit() else None
    if q.get("json") != "1":
        return Reply(
            200,
            b"<html><body>Steam reviews</body></html>",
            raw=True,
            content_type="text/html; charset=utf-8",
        )
    if a is None:
        summary = {
            "num_reviews": 0,
            "review_score": 0,
            "review_score_desc": "No user reviews",
            "total_positive": 0,
            "total_negative": 0,
            "total_reviews": 0,
        }
    elif q.get("cursor", "*") != "*":
        return Payload(
            {"success": 1, "query_summary": {"num_reviews": 0}, "reviews": [], "cursor": "*"}
        )
    else:
        totals, positives = sim.world.reviews(sim._now)
        total, pos = int(totals[a]), int(positives[a])
        share = pos / total if total else 0.0
        score, desc = next((s, d) for lim, s, d in _SCORES if share >= lim)
        summary = {
            "num_reviews": 0,
            "review_score": score,
            "review_score_desc": desc,
            "total_positive": pos,
            "total_negative": total - pos,
            "total_reviews": total,
        }
    return Payload(
        {
            "success": 1,
            "query_summary": summary,
            "reviews": [],
            "cursor": "AoJ4" + _b64(str(appid))[:8],
        }
    )


ROUTES = {
    ("GET", "chzzk-openapi", "/open/v1/lives"): chzzk_open_lives,
    ("GET", "chzzk-service", "/service/v1/lives"): chzzk_service_lives,
    ("GET", "soop-openapi", "/broad/list"): soop_open_list,
    ("GET", "soop-web", "/api/main_broad_list_api.php"): soop_web_list,
    ("GET", "soop-search", "/api.php"): soop_search,
    ("POST", "twitch-auth", "/oauth2/token"): twitch_token,
    ("GET", "twitch-auth", "/oauth2/validate"): twitch_validate,
    ("GET", "twitch-api", "/helix/streams"): twitch_streams,
    ("GET", "twitch-api", "/helix/games/top"): twitch_top_games,
    ("GET", "twitch-api", "/helix/games"): twitch_games,
    (
        "GET",
        "steam-web-api",
        "/ISteamUserStats/GetNumberOfCurrentPlayers/v1/",
    ): steam_current_players,
    (
        "GET",
        "steam-web-api",
        "/ISteamUserStats/GetNumberOfCurrentPlayers/v1",
    ): steam_current_players,
    ("GET", "steam-web-api", "/ISteamNews/GetNewsForApp/v2/"): steam_news,
    ("GET", "steam-web-api", "/ISteamNews/GetNewsForApp/v2"): steam_news,
    ("GET", "steam-web-api", "/ISteamChartsService/GetMostPlayedGames/v1/"): steam_most_played,
    ("GET", "steam-web-api", "/ISteamChartsService/GetMostPlayedGames/v1"): steam_most_played,
    ("GET", "steam-store", "/api/appdetails"): steam_appdetails,
    ("GET", "steam-store", "/api/appdetails/"): steam_appdetails,
}
PATTERN_ROUTES = {
    ("GET", "chzzk-service", "/service/v1/channels/"): chzzk_channel,
    ("GET", "steam-store", "/appreviews/"): steam_reviews,
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gst-simulator/1"
    wbufsize = 1 << 16  # status, headers and body leave in one send (flushed in _dispatch)
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by default
        return

    def date_time_string(self, timestamp: float | None = None) -> str:
        return self.server.sim.date_header()  # type: ignore[attr-defined]

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        sim: Simulator = self.server.sim  # type: ignore[attr-defined]
        try:
            instant = sim.instant_of(self.headers.get("X-Sim-Time"))
        except ValueError as exc:
            self._answer(method, Reply(400, {"error": str(exc)}))
            return
        with sim.at(instant):  # the Date header too
            self._answer(method, None)

    def _answer(self, method: str, reply: Reply | None) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        sim: Simulator = self.server.sim  # type: ignore[attr-defined]
        try:
            reply = reply or sim.handle(method, self.path, self.headers, body)
        except Exception as exc:  # a simulator bug must not look like a platform answer
            reply = Reply(599, {"error": "simulator error", "detail": repr(exc)})
        if reply.delay:
            time.sleep(reply.delay)
        data = reply.body if reply.raw else json.dumps(reply.body, ensure_ascii=False).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(data)))
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def serve(
    port: int = 8765,
    seed: int = 42,
    channels: int = 300,
    faults: float = 0.0,
    start: str = "2026-11-02T00:00:00Z",
    truth_out: str | None = None,
    truth_days: float = 7.0,
    echo=print,
    **kwargs: Any,
) -> None:
    """Run the simulator in the foreground until Ctrl-C (the `gst simulate` command).

    ``truth_out`` gets the planted influences and the planted elasticity over the first
    ``truth_days`` days (the demo's week) of 10-minute polls."""
    sim = Simulator(seed=seed, channels=channels, faults=faults, start=start, port=port, **kwargs)
    if truth_out:
        with open(truth_out, "w", encoding="utf-8") as fh:
            json.dump(sim.truth(days=truth_days), fh, ensure_ascii=False, indent=1)
    sim.start()
    echo(f"simulator listening on {sim.base_url} (simulated time {sim.now:%Y-%m-%dT%H:%M:%SZ})")
    echo("# point the loaders at it (simulator-only credentials):")
    for key, value in sim.env(official=True).items():
        echo(f"export {key}={value}")
    echo(f"# advance the clock: curl -X POST '{sim.base_url}/_sim/advance?minutes=10'")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        echo("simulator stopped")
    finally:
        sim.stop()
