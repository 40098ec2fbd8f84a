"""Raw tables straight from the world model, without HTTP (for analytic checks and benches).

The HTTP demo costs about 2 s per simulated 10-minute poll; checking an estimator against the
planted truth needs a week or more of polls. This module renders every live item exactly as the
simulator's HTTP handlers do (``_chzzk_item``, ``_soop_item``, ``_twitch_item``, the Steam
player count) and parses it with the loaders' own row functions, so the rows are the ones the
loaders would land (official API variants, no faults). They are written with pyarrow into the
``raw_*`` tables of a DuckDB file that follow ``loaders/raw_tables.md``, including dlt's
``_dlt_load_id``/``_dlt_id`` columns. The category catalogues that game identity resolves
categories with (SOOP's category list, Twitch's games) are written once, at the first poll, for
every game of the world; other side tables (Steam app details, reviews, most played, Twitch top
games, Chzzk channels) are created empty. Steam prices are written
hourly and Steam news (``raw_steam.news``, patch notes at every update) for the whole period
plus ``NEWS_LOOKBACK_DAYS`` before it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from loaders.chzzk import helpers as chzzk_h
from loaders.records import Poll, Where, poll_id
from loaders.soop import helpers as soop_h
from loaders.steam import helpers as steam_h
from loaders.twitch import helpers as twitch_h
from simulator.server import (
    Simulator,
    _chzzk_item,
    _price,
    _soop_item,
    _twitch_game,
    _twitch_item,
)

#: news items this long before the first poll are written too (recent updates still ramp)
NEWS_LOOKBACK_DAYS = 14
#: prices are written every this many polls (hourly at 10-minute polls)
PRICE_EVERY_POLLS = 6

#: (schema, table, arrow schema) of every table written; the first four, prices and news get
#: rows.
TABLES = (
    ("raw_chzzk", "lives", chzzk_h.LIVES_SCHEMA),
    ("raw_soop", "broads", soop_h.BROADS_SCHEMA),
    ("raw_twitch", "streams", twitch_h.STREAMS_SCHEMA),
    ("raw_steam", "current_players", steam_h.CURRENT_PLAYERS_SCHEMA),
    ("raw_chzzk", "channels", chzzk_h.CHANNELS_SCHEMA),
    ("raw_soop", "categories", soop_h.CATEGORIES_SCHEMA),
    ("raw_twitch", "games", twitch_h.GAMES_SCHEMA),
    ("raw_twitch", "top_games", twitch_h.TOP_GAMES_SCHEMA),
    ("raw_steam", "app_details", steam_h.APP_DETAILS_SCHEMA),
    ("raw_steam", "prices", steam_h.PRICES_SCHEMA),
    ("raw_steam", "news", steam_h.NEWS_SCHEMA),
    ("raw_steam", "reviews", steam_h.REVIEWS_SCHEMA),
    ("raw_steam", "most_played", steam_h.MOST_PLAYED_SCHEMA),
)


def _poll_rows(sim: Simulator, at: datetime) -> dict[str, list[dict[str, Any]]]:
    """Rows of one poll instant for the four observation tables."""
    out: dict[str, list[dict[str, Any]]] = {}
    cz = Poll("chzzk", at, "openapi")
    st = sim.state("chzzk")
    where = Where("chzzk", "/open/v1/lives")
    out["lives"] = [
        chzzk_h.live_row(_chzzk_item(sim, st, j, service=False), where, cz) for j in range(len(st))
    ]
    sp = Poll("soop", at, "openapi")
    st = sim.state("soop")
    where = Where("soop", "/broad/list")
    out["broads"] = [soop_h.broad_row(_soop_item(sim, st, j), where, sp) for j in range(len(st))]
    st = sim.state("twitch")
    tw = Where("twitch", "/helix/streams")
    tw_poll = poll_id("twitch", at)
    out["streams"] = [
        twitch_h.stream_row(_twitch_item(sim, st, j), tw, tw_poll, at) for j in range(len(st))
    ]
    apps = sim.world.apps
    players = sim.world.players(sim._now)
    steam_poll = poll_id("steam", at)
    rows = []
    for a, appid in enumerate(apps.appids.tolist()):
        if apps.players_404[a]:
            continue  # HTTP 404: the loader quarantines the call, no row
        payload = (
            {"response": {"result": 42}}
            if apps.players_42[a]
            else {"response": {"player_count": int(players[a]), "result": 1}}
        )
        where = Where("steam", f"/ISteamUserStats/GetNumberOfCurrentPlayers/v1?appid={appid}")
        row = steam_h.current_players_row(payload, where, appid)
        rows.append({"poll_id": steam_poll, "observed_at": at, **row})
    out["current_players"] = rows
    return out


def _catalogue_rows(sim: Simulator, at: datetime) -> dict[str, list[dict[str, Any]]]:
    """SOOP's category list and Twitch's games for every game of the world, as the loaders
    land them (what game identity maps live categories to Steam apps with)."""
    games = sim.world.games
    sp = Poll("soop", at, "openapi")
    items = [
        {"category_no": g.soop_cate, "category_name": g.soop_name, "view_cnt": 0}
        for g in games
        if g.soop_cate
    ]
    where = Where("soop", "/category/list")
    table, _ = soop_h.categories_page(items, where, sp, set())
    tw = Where("twitch", "/helix/games")
    tw_poll = poll_id("twitch", at)
    twitch = [twitch_h.game_row(_twitch_game(g), tw, tw_poll, at) for g in games if g.twitch_id]
    return {"categories": table.to_pylist(), "games": twitch}


def _price_rows(sim: Simulator, at: datetime) -> list[dict[str, Any]]:
    """Store price_overview rows of every app at one instant, as the loader lands them."""
    apps = sim.world.apps
    disc = sim.world.discount(sim._now)
    poll = poll_id("steam", at)
    rows = []
    for a, appid in enumerate(apps.appids.tolist()):
        data = [] if apps.is_free[a] else {"price_overview": _price(sim, a, int(disc[a]))}
        where = Where("steam", f"/api/appdetails?appids={appid}")
        row = steam_h.price_row({"success": True, "data": data}, where, appid)
        rows.append({"poll_id": poll, "observed_at": at, **row})
    return rows


def news_rows(sim: Simulator, t_from: int, t_to: int, poll_minutes: int) -> list[dict[str, Any]]:
    """raw_steam.news rows of every app for items dated in [t_from, t_to), parsed by the
    loader's ``news_rows``; each is observed at the first poll at or after its date (items
    older than the first poll: at the first poll)."""
    rows = []
    first = int(sim.now.timestamp())
    step = poll_minutes * 60
    for a, appid in enumerate(sim.world.apps.appids.tolist()):
        items = sim.world.news(a, t_from, t_to)
        payload = {"appnews": {"appid": appid, "newsitems": items, "count": len(items)}}
        where = Where("steam", f"/ISteamNews/GetNewsForApp/v2/?appid={appid}")
        for row in steam_h.news_rows(payload, where, appid):
            seen = max(first, -(-int(row["published_at"].timestamp()) // step) * step)
            at = datetime.fromtimestamp(seen, UTC)
            rows.append({"poll_id": poll_id("steam", at), "observed_at": at, **row})
    return rows


def write_raw_tables(
    duckdb_path: str | Path,
    *,
    seed: int = 42,
    channels: int = 40,
    days: float = 7.0,
    start: str = "2026-11-02T00:00:00Z",
    poll_minutes: int = 10,
    **knobs: float,
) -> dict[str, int]:
    """Write ``days`` of 10-minute polls of the seeded world into ``duckdb_path``.

    Returns the row count per table. ``knobs`` are world knobs (see ``simulator``);
    the planted truth is ``Simulator(seed, channels, **knobs).truth()``.
    """
    import duckdb

    sim = Simulator(seed=seed, channels=channels, start=start, **knobs)
    polls = int(round(days * 24 * 60 / poll_minutes))
    collected: dict[str, list[dict[str, Any]]] = {t[1]: [] for t in TABLES[:4]}
    t0 = int(sim.now.timestamp())
    collected["news"] = news_rows(
        sim, t0 - NEWS_LOOKBACK_DAYS * 86400, t0 + polls * poll_minutes * 60, poll_minutes
    )
    collected["prices"] = []
    collected |= _catalogue_rows(sim, sim.now)
    for i in range(polls):
        at = sim.now
        for name, rows in _poll_rows(sim, at).items():
            collected[name].extend(rows)
        if i % PRICE_EVERY_POLLS == 0:
            collected["prices"].extend(_price_rows(sim, at))
        sim.advance(poll_minutes)
    load_id = f"{datetime.now(UTC).timestamp():.6f}"
    counts = {}
    con = duckdb.connect(str(duckdb_path))
    try:
        for schema, table, arrow_schema in TABLES:
            rows = collected.get(table, [])
            data = pa.Table.from_pylist(rows, schema=arrow_schema)
            n = data.num_rows
            data = data.append_column("_dlt_load_id", pa.array([load_id] * n, pa.string()))
            data = data.append_column(
                "_dlt_id", pa.array([f"{table}-{i:09d}" for i in range(n)], pa.string())
            )
            con.execute(f"create schema if not exists {schema}")
            con.register("rows_in", data)
            con.execute(f"create or replace table {schema}.{table} as select * from rows_in")
            con.unregister("rows_in")
            counts[f"{schema}.{table}"] = n
    finally:
        con.close()
    return counts
