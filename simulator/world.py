"""The simulated world: games, Steam apps, streamers and their schedules, as numpy arrays.

Everything here is a pure function of (seed, instant, knobs): each piece draws from its own
``numpy`` generator seeded with ``[seed, stream, key...]`` (per day, per week, per minute), so
the state at an instant does not depend on which instants were asked for before. Per-instant
state is vectorised over all streamers of a platform and pre-sorted by viewers, so the HTTP
layer serves a page by slicing arrays and renders only the requested items.
"""

from __future__ import annotations

import csv
import hashlib
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

CATALOG = Path(__file__).with_name("catalog.csv")
STREAM_PLATFORMS = ("chzzk", "soop", "twitch")
KST_OFFSET_MIN = 9 * 60
#: rank-order composite key = viewers * KEY_MULT + live id (live ids stay below this)
KEY_MULT = 10_000_000_000


@dataclass(frozen=True)
class WorldKnobs:
    """Knobs of the world model; see the package docstring for what each one does."""

    selection: float = 1.0
    common_causes: float = 1.0
    overlap: float = 1.0
    zero_influence_share: float = 0.4
    influence_median: float = 300.0
    big_influencer_share: float = 0.03
    big_influence: float = 6000.0
    lag_minutes: float = 25.0
    decay_minutes: float = 60.0
    noise: float = 0.003
    count_dispersion: float = 2.0
    shock_rate: float = 0.1
    shock_size: float = 0.05
    discount_uplift: float = 1.2
    streamers_per_channel: float = 2.0
    viewer_scale: float = 15.0
    news_per_week: float = 1.5


@dataclass(frozen=True)
class Game:
    """One streaming category (a game, or talk/music/sports) and how each platform names it."""

    key: str
    appid: int | None
    name_en: str
    name_ko: str
    chzzk_slug: str
    chzzk_value: str
    chzzk_type: str
    soop_cate: str
    soop_name: str
    twitch_id: str
    twitch_name: str
    kind: str
    genre: str
    popularity: float
    in_catalog: bool = True


# Streaming-only categories that are NOT in catalog.csv (the "unmapped categories" report's
# content); each platform spells the Korean name a little differently.
EXTRA_GAMES = (
    Game(
        "starlight_garden",
        3120450,
        "Starlight Garden",
        "별빛 정원",
        "Starlight_Garden",
        "별빛 정원",
        "GAME",
        "00040318",
        "별빛정원",
        "1984410247",
        "Starlight Garden",
        "game",
        "Indie",
        0.25,
        False,
    ),
    Game(
        "mabinogi_mobile",
        None,
        "Mabinogi Mobile",
        "마비노기 모바일",
        "Mabinogi_Mobile",
        "마비노기 모바일",
        "GAME",
        "00040305",
        "마비노기모바일",
        "1617356742",
        "Mabinogi Mobile",
        "game",
        "MMORPG",
        0.30,
        False,
    ),
    Game(
        "dungeon_odyssey",
        3120460,
        "Dungeon Odyssey",
        "던전 오디세이",
        "Dungeon_Odyssey",
        "던전 오딧세이",
        "GAME",
        "00040322",
        "던전오딧세이",
        "1739914432",
        "Dungeon Odyssey",
        "game",
        "Roguelike",
        0.15,
        False,
    ),
)

FREE_APPS = {730, 570, 578080, 1599340, 1172470, 2074920, 2767030, 1422450, 1049590}
GENRES = {
    "Action": "1",
    "Strategy": "2",
    "RPG": "3",
    "Casual": "4",
    "Sports": "18",
    "Indie": "23",
    "Adventure": "25",
    "Simulation": "28",
    "Massively Multiplayer": "29",
    "Free To Play": "37",
}
GENRE_MAP = {
    "MOBA": ["Action", "Strategy"],
    "FPS": ["Action"],
    "Battle Royale": ["Action", "Adventure"],
    "MMORPG": ["RPG", "Massively Multiplayer"],
    "Action": ["Action", "Adventure"],
    "Action RPG": ["Action", "RPG"],
    "RPG": ["RPG", "Adventure"],
    "Survival": ["Action", "Indie"],
    "Horror": ["Action", "Indie"],
    "Fighting": ["Action", "Sports"],
    "Simulation": ["Simulation", "Casual"],
    "Sandbox": ["Adventure", "Indie"],
    "Shooter": ["Action"],
    "Roguelike": ["Indie", "Strategy"],
    "Metroidvania": ["Action", "Indie"],
    "Indie": ["Indie", "Casual"],
}
CATEGORIES = (
    (2, "Single-player"),
    (1, "Multi-player"),
    (49, "PvP"),
    (9, "Co-op"),
    (22, "Steam Achievements"),
    (29, "Steam Trading Cards"),
    (23, "Steam Cloud"),
)
PRICES_KRW = (11000, 16500, 22000, 26000, 33000, 43000, 54800, 64800, 71800)
_WORD_A = (
    "Iron",
    "Crimson",
    "Silent",
    "Neon",
    "Hollow",
    "Frozen",
    "Wild",
    "Last",
    "Star",
    "Deep",
    "Broken",
    "Golden",
    "Shadow",
    "Tiny",
    "Eternal",
    "Lunar",
)
_WORD_B = (
    "Harbor",
    "Frontier",
    "Kingdom",
    "Protocol",
    "Dungeon",
    "Horizon",
    "Legacy",
    "Tactics",
    "Outpost",
    "Skies",
    "Drift",
    "Colony",
    "Arena",
    "Valley",
    "Forge",
    "Rails",
)
_SYLLABLES = list("가나다라마바사아자차카타파하민수지현우준서연은도윤태희성진영호람솔별빛달봄")
_LATIN = ("ka", "mi", "so", "ra", "ne", "ju", "hy", "do", "yu", "ha", "ji", "ro", "se", "bo")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def stable_hash(*parts: object) -> int:
    """A 64-bit hash that is the same in every process (unlike ``hash``)."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def load_catalog(path: Path = CATALOG) -> list[Game]:
    games = []
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            appid = int(row["steam_appid"]) if row["steam_appid"].strip() else None
            games.append(
                Game(
                    key=row["game_key"],
                    appid=appid,
                    name_en=row["name_en"],
                    name_ko=row["name_ko"],
                    chzzk_slug=row["chzzk_category"],
                    chzzk_value=row["name_ko"],
                    chzzk_type=row["chzzk_category_type"],
                    soop_cate=row["soop_cate_no"],
                    soop_name=row["name_ko"],
                    twitch_id=row["twitch_game_id"],
                    twitch_name=row["name_en"],
                    kind=row["kind"],
                    genre=row["genre"],
                    popularity=float(row["popularity"]),
                )
            )
    return games


@dataclass
class SteamApps:
    """Per-app arrays (index = position in ``appids``)."""

    appids: np.ndarray
    names: list[str]
    base: np.ndarray
    is_free: np.ndarray
    price: np.ndarray  # KRW x 100
    game: np.ndarray  # index into World.games or -1
    genre: list[str]
    review_base: np.ndarray
    review_rate: np.ndarray  # reviews per hour
    positive: np.ndarray
    players_404: np.ndarray  # bool: GetNumberOfCurrentPlayers answers HTTP 404
    players_42: np.ndarray  # bool: answers result 42
    release: list[str]
    required_age: list[object]
    categories: list[list[tuple[int, str]]]
    index: dict[int, int] = field(default_factory=dict)


@dataclass
class Streamers:
    """Static per-streamer arrays of one platform."""

    n: int
    pop: np.ndarray
    off_prob: np.ndarray
    start_mu: np.ndarray
    dur_mu: np.ndarray
    main_game: np.ndarray
    loyalty: np.ndarray
    influence: np.ndarray
    followers: np.ndarray
    adult: np.ndarray
    password: np.ndarray
    lang: np.ndarray  # 0 ko, 1 en, 2 ja
    ids: list[str]
    logins: list[str]
    names: list[str]
    id_index: dict[str, int] = field(default_factory=dict)


@dataclass
class LiveState:
    """Live streams of one platform at one minute, sorted by (viewers, live id) descending."""

    minute: int
    idx: np.ndarray  # streamer index
    viewers: np.ndarray
    live_id: np.ndarray
    game: np.ndarray
    started_min: np.ndarray
    neg_key: np.ndarray  # -(viewers * KEY_MULT + live_id), ascending

    def __len__(self) -> int:
        return len(self.idx)

    def after(self, viewers: int, live_id: int) -> int:
        """Position of the first stream ranked after (viewers, live_id)."""
        return int(
            np.searchsorted(self.neg_key, -(int(viewers) * KEY_MULT + int(live_id)), side="right")
        )


def kst_day(minute: int) -> int:
    return (minute + KST_OFFSET_MIN) // 1440


def kst_hour(minute: float) -> float:
    return ((minute + KST_OFFSET_MIN) % 1440) / 60.0


def kst_day_start(day: int) -> int:
    return day * 1440 - KST_OFFSET_MIN


def is_weekend(day: int) -> bool:
    return (day + 3) % 7 >= 5  # day 0 (1970-01-01) was a Thursday


class World:
    """The seeded world. Cheap to build; per-instant state is computed lazily and cached."""

    def __init__(self, seed: int = 42, channels: int = 300, knobs: WorldKnobs | None = None):
        if channels < 1:
            raise ValueError("simulator: channels must be >= 1")
        self.seed = int(seed) % (2**63)
        self.channels = int(channels)
        self.knobs = knobs or WorldKnobs()
        self.games: list[Game] = load_catalog() + list(EXTRA_GAMES)
        self.game_kind = np.array([g.kind for g in self.games])
        self.game_pop = np.array([g.popularity for g in self.games])
        self.playable = np.flatnonzero(self.game_kind == "game")
        self.apps = self._build_apps()
        self.app_of_game = np.full(len(self.games), -1)
        for a, g in enumerate(self.apps.game):
            if g >= 0:
                self.app_of_game[g] = a
        self._streamers: dict[str, Streamers] = {}
        self._state_cache: OrderedDict[tuple[str, int], LiveState] = OrderedDict()
        self._lock = threading.RLock()
        self._contrib: dict[tuple[str, int], np.ndarray] = {}
        self._sessions = lru_cache(maxsize=32)(self._sessions_uncached)
        self._sales = lru_cache(maxsize=64)(self._sales_uncached)
        self._updates = lru_cache(maxsize=64)(self._updates_uncached)

    def rng(self, *keys: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, *[int(k) % (2**63) for k in keys]])

    # ---------------------------------------------------------------- Steam apps
    def _build_apps(self) -> SteamApps:
        rng = self.rng(1)
        rows: list[tuple[int, str, float, bool, int, str]] = []
        for gi, g in enumerate(self.games):
            if g.appid is None:
                continue
            base = float(next((b for b in [_catalog_base(g.key)] if b), 0.0)) or float(
                rng.lognormal(math.log(6000), 0.6)
            )
            rows.append((g.appid, g.name_en, base, g.appid in FREE_APPS, gi, g.genre))
        taken = {r[0] for r in rows}
        names = [f"{a} {b}" for a in _WORD_A for b in _WORD_B]
        order = rng.permutation(len(names))[:60]
        for k, ni in enumerate(order):
            appid = int(rng.integers(1_000_000, 3_000_000))
            while appid in taken:
                appid += 1
            taken.add(appid)
            base = float(rng.lognormal(math.log(9000), 1.1))
            genre = str(rng.choice(sorted(GENRE_MAP)))
            rows.append((appid, names[ni], base, bool(rng.random() < 0.2 or k == 0), -1, genre))
        rows.sort(key=lambda r: r[0])
        n = len(rows)
        appids = np.array([r[0] for r in rows], dtype=np.int64)
        is_free = np.array([r[3] for r in rows])
        price = np.where(is_free, 0, rng.choice(PRICES_KRW, n) * 100).astype(np.int64)
        base = np.array([r[2] for r in rows])
        synthetic = np.array([r[4] < 0 for r in rows])
        # two synthetic apps answer 404 on current players, one answers result 42
        syn_idx = np.flatnonzero(synthetic)
        pick = rng.choice(syn_idx, 3, replace=False)
        players_404 = np.zeros(n, bool)
        players_404[pick[:2]] = True
        players_42 = np.zeros(n, bool)
        players_42[pick[2]] = True
        release = []
        ages: list[object] = []
        cats = []
        for _ in range(n):
            y = int(rng.integers(2012, 2026))
            release.append(f"{int(rng.integers(1, 29))} {_MONTHS[int(rng.integers(0, 12))]}, {y}")
            age = int(rng.choice([0, 0, 0, 12, 15, 19]))
            ages.append(str(age) if rng.random() < 0.3 else age)
            k = int(rng.integers(2, 6))
            cats.append([CATEGORIES[j] for j in sorted(rng.choice(len(CATEGORIES), k, False))])
        apps = SteamApps(
            appids=appids,
            names=[r[1] for r in rows],
            base=base,
            is_free=is_free,
            price=price,
            game=np.array([r[4] for r in rows]),
            genre=[r[5] for r in rows],
            review_base=(base * rng.uniform(0.5, 3.0, n) + 500).astype(np.int64),
            review_rate=base / 40000 * rng.uniform(0.5, 1.5, n) + 0.05,
            positive=rng.uniform(0.55, 0.97, n),
            players_404=players_404,
            players_42=players_42,
            release=release,
            required_age=ages,
            categories=cats,
        )
        apps.index = {int(a): i for i, a in enumerate(appids)}
        return apps

    def _sales_uncached(self, block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sales that start in 7-day block ``block``: (start second, end second, percent)."""
        n = len(self.apps.appids)
        rng = self.rng(60, block)
        has = (rng.random(n) < 0.3) & ~self.apps.is_free
        start = (block * 7 + rng.integers(0, 7, n)) * 86400 + 17 * 3600
        end = start + rng.integers(3, 11, n) * 86400
        pct = rng.choice([10, 15, 20, 25, 33, 40, 50, 60, 75], n)
        return np.where(has, start, -1), np.where(has, end, -1), pct

    def discount(self, t: int) -> np.ndarray:
        """Discount percent per app at second ``t`` (sales last 3-10 days)."""
        block = t // (7 * 86400)
        out = np.zeros(len(self.apps.appids), dtype=np.int64)
        for b in (block - 2, block - 1, block):
            start, end, pct = self._sales(b)
            out = np.where((start <= t) & (t < end), pct, out)
        return out

    def _updates_uncached(self, block: int) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.apps.appids)
        rng = self.rng(61, block)
        has = rng.random(n) < 0.3
        at = block * 14 * 86400 + rng.integers(0, 14 * 86400, n)
        amp = rng.lognormal(math.log(0.35), 0.6, n)
        return np.where(has, at, -1), amp

    def trend(self, t: int) -> np.ndarray:
        """Relative boost per app from updates/releases: ramps up over ~6 h, decays over days."""
        block = t // (14 * 86400)
        out = np.zeros(len(self.apps.appids))
        for b in (block - 2, block - 1, block):
            at, amp = self._updates(b)
            dt = (t - at) / 3600.0
            ok = (at >= 0) & (dt >= 0)
            dt = np.where(ok, dt, 0.0)
            out += np.where(ok, amp * (1 - np.exp(-dt / 6.0)) * np.exp(-dt / 72.0), 0.0)
        return out

    def expected_players(self, t: int) -> np.ndarray:
        """Players per app without noise or streamers: base x daily x weekly x trend x sale."""
        minute = t // 60
        h = kst_hour(minute)
        daily = 1 + 0.35 * math.cos(2 * math.pi * (h - 21.5) / 24)
        day = kst_day(minute)
        weekly = 1.12 if is_weekend(day) else (1.04 if (day + 3) % 7 == 4 else 1.0)
        return (
            self.apps.base
            * daily
            * weekly
            * (1 + self.trend(t))
            * (1 + self.knobs.discount_uplift * self.discount(t) / 100.0)
        )

    def players(self, t: int) -> np.ndarray:
        """Current players per app at second ``t`` (integers), streamer effect included.

        Noise is that of a count: relative s.d. sqrt(noise^2 + count_dispersion / expected),
        so it shrinks with the game's size, times the unobserved shocks of ``shock``. Every app
        at once, and the last few instants are kept (read-only): a Steam poll asks for each
        tracked app in turn at the same instant.
        """
        return self._players_at(t)

    @lru_cache(maxsize=4)  # noqa: B019 - one World per simulator, kept for its life
    def _players_at(self, t: int) -> np.ndarray:
        out = self._players(t)
        out.flags.writeable = False
        return out

    def _players(self, t: int) -> np.ndarray:
        minute = t // 60
        expected = self.expected_players(t)
        k = self.knobs
        sd = np.sqrt(k.noise**2 + k.count_dispersion / np.maximum(expected, 1.0))
        noise = self.rng(13, minute).standard_normal(len(self.apps.appids)) * sd
        value = expected * (1 + noise) * (1 + self.shock(minute)) + self.streamer_effect(minute)
        return np.maximum(0, np.round(value)).astype(np.int64)

    def shock(self, minute: int) -> np.ndarray:
        """Unobserved relative shocks per app (outages, tournaments, outside press): per app and
        KST day a shock with probability ``shock_rate``, of size N(0, ``shock_size``), starting
        at a random minute and lasting 1-6 hours (about 3)."""
        out = np.zeros(len(self.apps.appids))
        day = kst_day(minute)
        for d in (day - 1, day):
            rng = self.rng(14, d)
            n = len(self.apps.appids)
            has = rng.random(n) < self.knobs.shock_rate
            start = kst_day_start(d) + rng.integers(0, 1440, n)
            dur = np.clip(rng.lognormal(math.log(180), 0.5, n), 60, 360)
            size = rng.normal(0.0, self.knobs.shock_size, n)
            on = has & (start <= minute) & (minute < start + dur)
            out += np.where(on, size, 0.0)
        return np.maximum(out, -0.9)

    def updates(self, t_from: int, t_to: int) -> list[tuple[int, int]]:
        """(app index, second) of every update (patch) in [t_from, t_to)."""
        out = []
        for b in range(t_from // (14 * 86400), t_to // (14 * 86400) + 1):
            at, _ = self._updates(b)
            for a in np.flatnonzero((at >= t_from) & (at < t_to)).tolist():
                out.append((a, int(at[a])))
        return out

    def news(self, a: int, t_from: int, t_to: int) -> list[dict]:
        """Steam news items of app index ``a`` dated in [t_from, t_to), newest first.

        Every update (the ``trend`` ramps) has a patch-notes announcement at its instant;
        ordinary news (events, community posts, press) arrives ``news_per_week`` times a week
        on average at other times and moves no players.
        """
        appid = int(self.apps.appids[a])
        name = self.apps.names[a]
        items = []
        for app, at in self.updates(t_from, t_to):
            if app == a:
                items.append((at, "patch"))
        for b in range(t_from // (7 * 86400), t_to // (7 * 86400) + 1):
            rng = self.rng(62, b, appid)
            for at in (
                b * 7 * 86400 + rng.integers(0, 7 * 86400, rng.poisson(self.knobs.news_per_week))
            ).tolist():
                if t_from <= at < t_to:
                    items.append((int(at), "news"))
        out = []
        for at, kind in sorted(items, reverse=True):
            gid = str(5_100_000_000_000_000_000 + stable_hash(self.seed, appid, at, kind) % 10**18)
            h = stable_hash(gid) % 4
            if kind == "patch":
                title = f"{name} Update {1 + at // 86400 % 50}.{at // 3600 % 10} Patch Notes"
                contents = f"[h2]Patch notes[/h2][list][*]Balance changes[*]Bug fixes[/list] {name}"
                feed, label, ftype, ext, tags = (
                    "steam_community_announcements",
                    "Community Announcements",
                    1,
                    False,
                    ["patchnotes"],
                )
            elif h == 0:
                title = f"{name} is featured in a gaming news roundup"
                contents = f"Our weekly roundup covers {name} and more."
                feed, label, ftype, ext, tags = ("pcgamer", "PC Gamer", 0, True, None)
            else:
                title = f"{name}: community event this weekend"
                contents = f"Join the {name} community event; rewards for everyone."
                feed, label, ftype, ext, tags = (
                    "steam_community_announcements",
                    "Community Announcements",
                    1,
                    False,
                    None,
                )
            item = {
                "gid": gid,
                "title": title,
                "url": f"https://steamstore-a.akamaihd.net/news/externalpost/{feed}/{gid}",
                "is_external_url": ext,
                "author": f"{name} Team" if not ext else "PC Gamer",
                "contents": contents,
                "feedlabel": label,
                "date": at,
                "feedname": feed,
                "feed_type": ftype,
                "appid": appid,
            }
            if tags:
                item["tags"] = tags
            out.append(item)
        return out

    def streamer_effect(self, minute: int) -> np.ndarray:
        """Extra players per app: sum over streamers of influence x viewers / 1000, lagged.

        The kernel samples the past on a 10-minute grid: zero before ``lag_minutes``, then an
        exponential decay with ``decay_minutes``; weights are normalised so a stream held at
        constant viewers adds exactly influence x viewers / 1000 players in the steady state.
        """
        k = self.knobs
        grid = minute - minute % 10
        horizon = k.lag_minutes + 5 * k.decay_minutes
        taus, weights = [], []
        tau = grid
        while minute - tau <= horizon:
            delta = minute - tau
            if delta >= k.lag_minutes:
                taus.append(tau)
                weights.append(math.exp(-(delta - k.lag_minutes) / max(k.decay_minutes, 1e-6)))
            tau -= 10
        total = sum(weights) or 1.0
        per_game = np.zeros(len(self.games))
        for tau, w in zip(taus, weights, strict=True):
            for p in STREAM_PLATFORMS:
                per_game += (w / total) * self._game_contrib(p, tau)
        effect = np.zeros(len(self.apps.appids))
        mapped = self.apps.game >= 0
        effect[mapped] = per_game[self.apps.game[mapped]]
        return effect

    def _game_contrib(self, platform: str, minute: int) -> np.ndarray:
        key = (platform, minute)
        with self._lock:
            got = self._contrib.get(key)
        if got is None:
            st = self.state(platform, minute)
            infl = self.streamers(platform).influence[st.idx]
            got = np.bincount(
                st.game, weights=infl * st.viewers / 1000.0, minlength=len(self.games)
            )
            if len(self._contrib) > 4096:
                self._contrib.clear()
            self._contrib[key] = got
        return got

    def reviews(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """(total_reviews, total_positive) per app: grows steadily with time."""
        hours = max(0.0, (t - 1_577_836_800) / 3600.0)  # since 2020-01-01
        total = self.apps.review_base + np.floor(self.apps.review_rate * hours).astype(np.int64)
        return total, np.round(total * self.apps.positive).astype(np.int64)

    # ---------------------------------------------------------------- streamers
    def streamers(self, platform: str) -> Streamers:
        with self._lock:
            got = self._streamers.get(platform)
            if got is None:
                got = self._build_streamers(platform)
                self._streamers[platform] = got
            return got

    def _build_streamers(self, platform: str) -> Streamers:
        p = STREAM_PLATFORMS.index(platform)
        k = self.knobs
        n = max(1, int(round(self.channels * k.streamers_per_channel)))
        rng = self.rng(20, p)
        scale = (120.0, 110.0, 45.0)[p]
        pop = rng.lognormal(0.0, 1.25, n) * scale
        kind_draw = rng.random(n)
        talk = int(np.flatnonzero(self.game_kind == "talk")[0])
        music = int(np.flatnonzero(self.game_kind == "music")[0])
        sports = int(np.flatnonzero(self.game_kind == "sports")[0])
        w = self.game_pop[self.playable] / self.game_pop[self.playable].sum()
        main = self.playable[rng.choice(len(self.playable), n, p=w)]
        main = np.where(kind_draw < 0.18, talk, main)
        main = np.where((kind_draw >= 0.18) & (kind_draw < 0.24), music, main)
        main = np.where((kind_draw >= 0.24) & (kind_draw < 0.27), sports, main)
        infl = rng.lognormal(math.log(max(k.influence_median, 1e-9)), 0.8, n)
        big = rng.random(n) < k.big_influencer_share
        infl = np.where(big, rng.lognormal(math.log(max(k.big_influence, 1e-9)), 0.4, n), infl)
        infl = np.where(rng.random(n) < k.zero_influence_share, 0.0, np.round(infl, 3))
        syl = rng.integers(0, len(_SYLLABLES), (n, 3))
        nlen = rng.integers(2, 4, n)
        suffix = rng.choice(["", "", "", "TV", "님", "짱", "_"], n)
        names = ["".join(_SYLLABLES[s] for s in syl[i, : nlen[i]]) + suffix[i] for i in range(n)]
        lat = rng.integers(0, len(_LATIN), (n, 3))
        logins = ["".join(_LATIN[s] for s in lat[i]) + f"{i:x}" for i in range(n)]
        if platform == "chzzk":
            ids = [hashlib.md5(f"{self.seed}:chzzk:{i}".encode()).hexdigest() for i in range(n)]
        elif platform == "soop":
            ids = logins
        else:
            ids = [str(100_000_000 + i * 13 + int(x)) for i, x in enumerate(rng.integers(0, 13, n))]
        st = Streamers(
            n=n,
            pop=pop,
            off_prob=rng.beta(2, 9, n),
            start_mu=np.clip(rng.normal(19.5, 2.5, n), 9, 25),
            dur_mu=np.clip(rng.lognormal(math.log(4.6), 0.35, n), 1.2, 7.5),
            main_game=main,
            loyalty=rng.uniform(0.2, 0.85, n),
            influence=infl,
            followers=(pop * rng.lognormal(math.log(40), 0.5, n)).astype(np.int64) + 10,
            adult=rng.random(n) < 0.05,
            password=rng.random(n) < 0.02,
            lang=rng.choice(3, n, p=[0.85, 0.1, 0.05]),
            ids=ids,
            logins=logins,
            names=names,
        )
        st.id_index = {s: i for i, s in enumerate(ids)}
        return st

    def game_weights(self, day: int) -> np.ndarray:
        """Probability of starting each playable game on KST day ``day`` (shared by platforms).

        selection: games already rising (players at 20:00 KST vs the day before) are favoured;
        common_causes: sales and updates draw streamers too; overlap: two "hot" games a day.
        """
        k = self.knobs
        w = self.game_pop[self.playable].copy()
        t = (kst_day_start(day) + 20 * 60) * 60
        now, before = self.expected_players(t), self.expected_players(t - 86400)
        rising = np.ones(len(self.games))
        boost = np.zeros(len(self.games))
        mapped = self.apps.game >= 0
        rising[self.apps.game[mapped]] = (now / np.maximum(before, 1.0))[mapped]
        disc, trend = self.discount(t), self.trend(t)
        boost[self.apps.game[mapped]] = (1.5 * disc / 100.0 + trend)[mapped]
        w = w * np.power(rising[self.playable], 4.0 * k.selection)
        w = w * (1 + k.common_causes * boost[self.playable])
        hot = self.rng(50, day).choice(len(self.playable), 2, replace=False, p=w / w.sum())
        w[hot] *= 1 + 3.0 * k.overlap
        return w / w.sum()

    def _sessions_uncached(self, platform: str, day: int) -> dict[str, np.ndarray]:
        """Each streamer's session on KST day ``day`` (at most one; may run past midnight)."""
        p = STREAM_PLATFORMS.index(platform)
        s = self.streamers(platform)
        k = self.knobs
        rng = self.rng(100 + p, day)
        weekend = 1.0 if is_weekend(day) else 0.0
        off = rng.random(s.n) < s.off_prob * (1 - 0.3 * k.common_causes * weekend)
        start_h = np.clip(
            s.start_mu + rng.normal(0, 1.0, s.n) - 1.5 * k.common_causes * weekend, 8, 26
        )
        dur_h = np.clip(s.dur_mu * rng.lognormal(0, 0.3, s.n), 1.0, 8.0)
        start = kst_day_start(day) + np.round(start_h * 60).astype(np.int64)
        end = start + np.round(dur_h * 60).astype(np.int64)
        switch = rng.random(s.n) < 0.3
        switch_at = start + np.round(dur_h * 60 * rng.uniform(0.3, 0.7, s.n)).astype(np.int64)
        w = self.game_weights(day)
        pick1 = self.playable[rng.choice(len(self.playable), s.n, p=w)]
        pick2 = self.playable[rng.choice(len(self.playable), s.n, p=w)]
        gamer = self.game_kind[s.main_game] == "game"
        g1 = np.where(gamer & (rng.random(s.n) >= s.loyalty), pick1, s.main_game)
        g2 = np.where(switch, pick2, g1)
        live_id = 10_000_000 + ((day - 18262) % 5000) * s.n + np.arange(s.n)
        return {
            "off": off,
            "start": start,
            "end": end,
            "switch_at": switch_at,
            "g1": g1,
            "g2": g2,
            "live_id": live_id.astype(np.int64),
        }

    def state(self, platform: str, minute: int) -> LiveState:
        """Live streams of ``platform`` at ``minute`` (cached; pure function of the minute)."""
        key = (platform, minute)
        with self._lock:
            got = self._state_cache.get(key)
            if got is not None:
                self._state_cache.move_to_end(key)
                return got
            got = self._compute_state(platform, minute)
            self._state_cache[key] = got
            while len(self._state_cache) > 48:
                self._state_cache.popitem(last=False)
            return got

    def _compute_state(self, platform: str, minute: int) -> LiveState:
        p = STREAM_PLATFORMS.index(platform)
        s = self.streamers(platform)
        day = kst_day(minute)
        today, yday = self._sessions(platform, day), self._sessions(platform, day - 1)
        act_y = ~yday["off"] & (yday["start"] <= minute) & (minute < yday["end"])
        act_t = ~today["off"] & (today["start"] <= minute) & (minute < today["end"]) & ~act_y

        def pick(name: str) -> np.ndarray:
            return np.where(act_y, yday[name], today[name])

        live = act_y | act_t
        start, end = pick("start"), pick("end")
        game = np.where(minute < pick("switch_at"), pick("g1"), pick("g2"))
        elapsed = minute - start
        remaining = end - minute
        ramp = np.minimum(1.0, 0.35 + 0.65 * elapsed / 40.0)
        tail = np.where(remaining < 30, 0.75 + 0.25 * remaining / 30.0, 1.0)
        daily = 1 + 0.3 * math.cos(2 * math.pi * (kst_hour(minute) - 22) / 24)
        noise = self.rng(200 + p, minute).normal(0.0, 0.06, s.n)
        viewers = s.pop * self.knobs.viewer_scale * ramp * tail * daily * (1 + noise)
        viewers = np.floor(np.maximum(0.0, viewers))
        viewers = viewers.astype(np.int64)
        idx = np.flatnonzero(live)
        live_id = pick("live_id")[idx]
        v = viewers[idx]
        order = np.lexsort((-live_id, -v))
        idx, v, live_id = idx[order], v[order], live_id[order]
        return LiveState(
            minute=minute,
            idx=idx,
            viewers=v,
            live_id=live_id,
            game=game[idx],
            started_min=start[idx],
            neg_key=-(v * KEY_MULT + live_id),
        )

    def game_viewers(self, minute: int) -> np.ndarray:
        """Live viewers per game (all platforms) at ``minute``."""
        out = np.zeros(len(self.games))
        for p in STREAM_PLATFORMS:
            st = self.state(p, minute)
            out += np.bincount(st.game, weights=st.viewers, minlength=len(self.games))
        return out

    def elasticity(self, start: int, days: float = 7.0, poll_minutes: int = 10) -> dict:
        """The planted elasticity of Steam players with respect to a game's stream viewers.

        At a game-poll it is d log(players) / d log(viewers) = streamer effect / players
        (the effect is linear in viewers), with players = expected + effect (no noise or
        shocks). ``pooled`` is its mean over the game-polls of Steam-mapped games with live
        viewers, ``per_game`` the same mean per game, over ``days`` of ``poll_minutes`` polls
        from ``start`` (Unix seconds).
        """
        mapped = np.flatnonzero(self.apps.game >= 0)
        games = self.apps.game[mapped]
        sums = np.zeros(len(mapped))
        counts = np.zeros(len(mapped))
        shares = []
        polls = int(round(days * 1440 / poll_minutes))
        for i in range(polls):
            t = start + i * poll_minutes * 60
            minute = t // 60
            viewers = self.game_viewers(minute)[games]
            effect = self.streamer_effect(minute)[mapped]
            players = self.expected_players(t)[mapped] + effect
            live = viewers > 0
            sums += np.where(live, effect / np.maximum(players, 1.0), 0.0)
            counts += live
            shares += (viewers[live] / np.maximum(players[live], 1.0)).tolist()
        per_game = {
            self.games[g].key: float(sums[j] / counts[j])
            for j, g in enumerate(games.tolist())
            if counts[j] > 0
        }
        return {
            "pooled": float(sums.sum() / max(counts.sum(), 1.0)),
            "per_game": per_game,
            "per_game_polls": {
                self.games[g].key: int(counts[j])
                for j, g in enumerate(games.tolist())
                if counts[j] > 0
            },
            "game_polls": int(counts.sum()),
            "median_viewer_share": float(np.median(shares)) if shares else 0.0,
            "definition": (
                "elasticity of a game's Steam players with respect to its live stream viewers "
                "(all platforms) at a 10-minute poll: streamer effect / players (expected "
                "players plus effect, without noise); pooled = mean over the game-polls of "
                "Steam-mapped games with live viewers, per_game = the same mean per game_key, "
                f"over {days:g} days of {poll_minutes}-minute polls from the simulator's start"
            ),
        }

    def truth(self, start: int | None = None, days: float = 7.0) -> dict:
        """The planted causal effect: influence = extra Steam players per 1,000 viewers, and
        (with ``start``, Unix seconds) the planted game-level elasticity over ``days``."""
        out = []
        for p in STREAM_PLATFORMS:
            s = self.streamers(p)
            out += [
                {"platform": p, "channel_id": cid, "influence": float(i)}
                for cid, i in zip(s.ids, s.influence.tolist(), strict=True)
            ]
        got = {
            "streamers": out,
            "knobs": self.knobs.__dict__ | {"seed": self.seed, "channels": self.channels},
        }
        if start is not None:
            got["elasticity"] = self.elasticity(start, days)
        return got


_CATALOG_BASE: dict[str, float] = {}


def _catalog_base(key: str) -> float:
    if not _CATALOG_BASE:
        with CATALOG.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                _CATALOG_BASE[row["game_key"]] = float(row["base_players"] or 0)
    return _CATALOG_BASE.get(key, 0.0)
