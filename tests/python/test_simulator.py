"""The local API simulator: shapes, auth, pagination, determinism, clock, scale."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
import requests

from simulator import Simulator

START = "2026-11-02T12:00:00Z"  # 21:00 KST, the daily peak
KST_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


@pytest.fixture(scope="module")
def sim():
    with Simulator(seed=42, channels=300, start=START) as s:
        yield s


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


def _live_count(sim: Simulator, platform: str) -> int:
    return len(sim.world.state(platform, sim.minute()))


def _token(sim: Simulator, http: requests.Session) -> dict[str, str]:
    env = sim.env()
    r = http.post(
        env["SOURCES__TWITCH__AUTH_BASE_URL"] + "/oauth2/token",
        data={
            "client_id": env["SOURCES__TWITCH__CLIENT_ID"],
            "client_secret": env["SOURCES__TWITCH__CLIENT_SECRET"],
            "grant_type": "client_credentials",
        },
    )
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and isinstance(body["expires_in"], int)
    return {
        "Authorization": f"Bearer {body['access_token']}",
        "Client-Id": env["SOURCES__TWITCH__CLIENT_ID"],
    }


def test_env_keys(sim):
    public = sim.env(official=False)
    official = sim.env(official=True)
    base = sim.base_url
    assert public["SOURCES__CHZZK__OPENAPI_BASE_URL"] == f"{base}/chzzk-openapi"
    assert public["SOURCES__STEAM__STORE_BASE_URL"] == f"{base}/steam-store"
    assert {"SOURCES__TWITCH__CLIENT_ID", "SOURCES__TWITCH__CLIENT_SECRET"} <= set(public)
    assert "SOURCES__CHZZK__CLIENT_ID" not in public and "SOURCES__SOOP__CLIENT_ID" not in public
    assert set(official) - set(public) == {
        "SOURCES__CHZZK__CLIENT_ID",
        "SOURCES__CHZZK__CLIENT_SECRET",
        "SOURCES__SOOP__CLIENT_ID",
    }
    assert len(official) == 14


def test_chzzk_openapi_shapes_auth_and_pagination(sim, http):
    env = sim.env()
    url = env["SOURCES__CHZZK__OPENAPI_BASE_URL"] + "/open/v1/lives"
    auth = {
        "Client-Id": env["SOURCES__CHZZK__CLIENT_ID"],
        "Client-Secret": env["SOURCES__CHZZK__CLIENT_SECRET"],
    }
    r = http.get(url, params={"size": 20})
    assert r.status_code == 401 and r.json()["code"] == 401
    r = http.get(url, params={"size": 20}, headers=auth | {"Client-Secret": "wrong"})
    assert r.status_code == 401
    assert http.get(url, params={"size": 21}, headers=auth).status_code == 400

    items, cursors, nxt = [], [], None
    while True:
        params = {"size": 20} | ({"next": nxt} if nxt else {})
        body = http.get(url, params=params, headers=auth).json()
        assert body["code"] == 200
        page = body["content"]["data"]
        assert len(page) <= 20
        items += page
        nxt = body["content"]["page"].get("next")
        if not nxt:
            break
        assert isinstance(nxt, str) and nxt not in cursors
        cursors.append(nxt)
    ids = [i["channelId"] for i in items]
    assert len(ids) == len(set(ids)) == _live_count(sim, "chzzk") > 100
    counts = [i["concurrentUserCount"] for i in items]
    assert counts == sorted(counts, reverse=True)
    for item in items:
        assert isinstance(item["liveId"], int) and isinstance(item["concurrentUserCount"], int)
        assert KST_TEXT.match(item["openDate"]) and isinstance(item["adult"], bool)
        assert item["categoryType"] in ("GAME", "SPORTS", "ETC", None)
        assert isinstance(item["tags"], list) and isinstance(item["liveCategoryValue"], str)
        assert {
            "liveTitle",
            "liveThumbnailImageUrl",
            "liveCategory",
            "channelName",
            "channelImageUrl",
        } <= set(item)
    assert any(i["categoryType"] is None and i["liveCategoryValue"] == "" for i in items)
    # open dates are KST (UTC+9): never after the simulated now
    now_kst = (sim.now + timedelta(hours=9)).strftime("%Y-%m-%d %H:%M:%S")
    assert max(i["openDate"] for i in items) <= now_kst


def test_chzzk_service_object_cursor_and_channel(sim, http):
    base = sim.env(official=False)["SOURCES__CHZZK__SERVICE_BASE_URL"]
    items, params = [], {"size": 50, "sortType": "POPULAR"}
    while True:
        body = http.get(base + "/service/v1/lives", params=params).json()
        items += body["content"]["data"]
        nxt = body["content"]["page"]["next"]
        if nxt is None:
            break
        assert set(nxt) == {"concurrentUserCount", "liveId"}
        assert all(isinstance(v, int) for v in nxt.values())
        params = {"size": 50, "sortType": "POPULAR", **nxt}
    ids = [i["channel"]["channelId"] for i in items]
    assert len(ids) == len(set(ids)) == _live_count(sim, "chzzk")
    first = items[0]
    assert {"liveImageUrl", "accumulateCount", "blindType", "watchPartyNo"} <= set(first)
    assert set(first["channel"]) >= {"channelId", "channelName", "channelImageUrl", "verifiedMark"}
    channel = http.get(f"{base}/service/v1/channels/{ids[0]}").json()["content"]
    assert channel["channelId"] == ids[0] and channel["openLive"] is True
    assert isinstance(channel["followerCount"], int) and isinstance(channel["verifiedMark"], bool)
    assert {"channelType", "channelDescription", "channelName"} <= set(channel)
    assert http.get(f"{base}/service/v1/channels/nope").status_code == 404


def _soop_pages(http, url, params, page_key):
    items, page = [], 1
    while True:
        body = http.get(url, params=params | {page_key: page}).json()
        items += body["broad"]
        if len(body["broad"]) < 60:
            return items, body
        page += 1


def test_soop_official_and_web(sim, http):
    env = sim.env()
    url = env["SOURCES__SOOP__OPENAPI_BASE_URL"] + "/broad/list"
    bad = http.get(url, params={"client_id": "wrong", "order_type": "view_cnt", "page_no": 1})
    assert bad.status_code == 200 and bad.json()["result"] < 0 and bad.json()["msg"]
    params = {"client_id": env["SOURCES__SOOP__CLIENT_ID"], "order_type": "view_cnt"}
    items, last = _soop_pages(http, url, params, "page_no")
    assert last["page_block"] == 60 and isinstance(last["total_cnt"], int)
    users = [b["user_id"] for b in items]
    assert len(users) == len(set(users)) == last["total_cnt"] == _live_count(sim, "soop")
    for b in items:
        assert all(isinstance(v, str) for v in b.values()), b
        assert re.fullmatch(r"\d{8}", b["broad_cate_no"]) and KST_TEXT.match(b["broad_start"])
        assert b["broad_thumb"].startswith("//") and b["broad_grade"] in ("0", "19")
        assert b["is_password"] in ("0", "1") and b["total_view_cnt"].isdigit()
    cate = items[0]["broad_cate_no"]
    only = http.get(
        url, params=params | {"page_no": 1, "select_key": "cate", "select_value": str(int(cate))}
    ).json()
    assert only["broad"] and {b["broad_cate_no"] for b in only["broad"]} == {cate}

    web = sim.env()["SOURCES__SOOP__WEB_BASE_URL"] + "/api/main_broad_list_api.php"
    web_items, _ = _soop_pages(
        http,
        web,
        {"selectType": "action", "selectValue": "all", "orderType": "view_cnt", "lang": "ko_KR"},
        "pageNo",
    )
    assert web_items == items


def test_soop_categories(sim, http):
    url = sim.env()["SOURCES__SOOP__SEARCH_BASE_URL"] + "/api.php"
    body = http.get(url, params={"m": "categoryList", "nPageNo": 1, "nListCnt": 120}).json()
    rows = body["data"]["list"]
    numbers = [r["category_no"] for r in rows]
    assert any(len(n) == 8 for n in numbers) and any(len(n) < 8 for n in numbers)
    assert len({n.zfill(8) for n in numbers}) == len(numbers)
    assert all(isinstance(r["category_name"], str) and r["category_name"] for r in rows)
    names = {r["category_name"] for r in rows}
    assert "별빛정원" in names  # a streaming-only category not in the catalog


def test_twitch_auth_errors(sim, http):
    env = sim.env()
    token_url = env["SOURCES__TWITCH__AUTH_BASE_URL"] + "/oauth2/token"
    r = http.post(
        token_url, data={"client_id": "x", "client_secret": "y", "grant_type": "client_credentials"}
    )
    assert r.status_code == 400
    r = http.post(
        token_url,
        data={
            "client_id": env["SOURCES__TWITCH__CLIENT_ID"],
            "client_secret": "y",
            "grant_type": "client_credentials",
        },
    )
    assert r.status_code == 403
    streams = env["SOURCES__TWITCH__API_BASE_URL"] + "/helix/streams"
    r = http.get(
        streams,
        headers={
            "Client-Id": env["SOURCES__TWITCH__CLIENT_ID"],
            "Authorization": "Bearer nonsense",
        },
    )
    assert r.status_code == 401
    assert r.json() == {"error": "Unauthorized", "status": 401, "message": "Invalid OAuth token"}


def test_twitch_streams_pagination_duplicates_never_skips(sim, http):
    headers = _token(sim, http)
    url = sim.env()["SOURCES__TWITCH__API_BASE_URL"] + "/helix/streams"
    served, after, pages = [], None, 0
    while True:
        r = http.get(
            url, params={"first": 20} | ({"after": after} if after else {}), headers=headers
        )
        assert r.status_code == 200
        date = parsedate_to_datetime(r.headers["Date"]).timestamp()
        assert int(r.headers["Ratelimit-Limit"]) == 800
        assert 0 <= int(r.headers["Ratelimit-Remaining"]) < 800
        assert int(r.headers["Ratelimit-Reset"]) >= date
        body = r.json()
        served += body["data"]
        pages += 1
        if body["pagination"] == {}:
            break
        after = body["pagination"]["cursor"]
    ids = {s["id"] for s in served}
    assert len(ids) == _live_count(sim, "twitch")
    assert len(served) > len(ids), "the live list shifts between pages: some duplicates"
    for s in served:
        for key in (
            "id",
            "user_id",
            "game_id",
            "user_login",
            "user_name",
            "game_name",
            "title",
            "language",
            "thumbnail_url",
        ):
            assert isinstance(s[key], str)
        assert isinstance(s["viewer_count"], int) and isinstance(s["is_mature"], bool)
        assert s["type"] == "live" and s["started_at"].endswith("Z")
    ko = http.get(url, params={"first": 100, "language": "ko"}, headers=headers).json()["data"]
    assert ko and {s["language"] for s in ko} == {"ko"}


def test_twitch_top_games(sim, http):
    headers = _token(sim, http)
    url = sim.env()["SOURCES__TWITCH__API_BASE_URL"] + "/helix/games/top"
    games, after = [], None
    while True:
        body = http.get(
            url, params={"first": 10} | ({"after": after} if after else {}), headers=headers
        ).json()
        games += body["data"]
        if not body["pagination"]:
            break
        after = body["pagination"]["cursor"]
    assert len(games) == len({g["id"] for g in games}) == len(sim.world.games)
    assert all(set(g) == {"id", "name", "box_art_url", "igdb_id"} for g in games)


def test_twitch_token_expires_in_simulated_time(http):
    with Simulator(seed=1, channels=20, start=START, twitch_token_ttl=600) as s:
        headers = _token(s, http)
        url = s.env()["SOURCES__TWITCH__API_BASE_URL"] + "/helix/streams"
        assert http.get(url, headers=headers).status_code == 200
        s.advance(minutes=11)
        r = http.get(url, headers=headers)
        assert r.status_code == 401 and r.json()["message"] == "Invalid OAuth token"
        assert http.get(url, headers=_token(s, http)).status_code == 200


def test_twitch_rate_limit_429_and_recovery(http):
    with Simulator(
        seed=1, channels=20, start=START, twitch_rate_limit=3, twitch_rate_window=1.5
    ) as s:
        headers = _token(s, http)
        url = s.env()["SOURCES__TWITCH__API_BASE_URL"] + "/helix/streams"
        statuses = [http.get(url, headers=headers) for _ in range(5)]
        limited = [r for r in statuses if r.status_code == 429]
        assert limited, [r.status_code for r in statuses]
        r = limited[0]
        assert r.headers["Ratelimit-Remaining"] == "0"
        wait = (
            int(r.headers["Ratelimit-Reset"]) - parsedate_to_datetime(r.headers["Date"]).timestamp()
        )
        assert 0 < wait <= 2
        time.sleep(wait + 0.1)
        assert http.get(url, headers=headers).status_code == 200


def test_steam_web_api(sim, http):
    base = sim.env()["SOURCES__STEAM__WEB_API_BASE_URL"]
    url = base + "/ISteamUserStats/GetNumberOfCurrentPlayers/v1/"
    body = http.get(url, params={"appid": 730}).json()
    assert body["response"]["result"] == 1 and isinstance(body["response"]["player_count"], int)
    unknown = http.get(url, params={"appid": 999}).json()
    assert unknown == {"response": {"result": 42}}
    apps = sim.world.apps
    missing = int(apps.appids[apps.players_404.argmax()])
    assert http.get(url, params={"appid": missing}).status_code == 404
    ranks = http.get(base + "/ISteamChartsService/GetMostPlayedGames/v1/").json()["response"]
    assert isinstance(ranks["rollup_date"], int) and 80 <= len(ranks["ranks"]) <= 100
    assert [r["rank"] for r in ranks["ranks"]] == list(range(1, len(ranks["ranks"]) + 1))
    assert all(isinstance(r[k], int) for r in ranks["ranks"] for k in r)


def test_steam_store(sim, http):
    base = sim.env()["SOURCES__STEAM__STORE_BASE_URL"]
    apps = sim.world.apps
    paid = [int(a) for a, free in zip(apps.appids, apps.is_free, strict=True) if not free]
    ids = f"730,{paid[0]},{paid[1]},1"
    r = http.get(base + "/api/appdetails", params={"appids": ids, "cc": "kr"})
    assert r.status_code == 400 and r.text == "null"
    body = http.get(
        base + "/api/appdetails", params={"appids": ids, "cc": "kr", "filters": "price_overview"}
    ).json()
    assert body["730"] == {"success": True, "data": []}
    assert body["1"] == {"success": False}
    price = body[str(paid[0])]["data"]["price_overview"]
    assert price["currency"] == "KRW" and price["initial"] % 100 == 0
    assert price["final"] <= price["initial"] and isinstance(price["discount_percent"], int)
    details = http.get(base + "/api/appdetails", params={"appids": paid[0], "cc": "kr"}).json()
    data = details[str(paid[0])]["data"]
    assert data["steam_appid"] == paid[0] and data["is_free"] is False
    assert all(isinstance(g["id"], str) for g in data["genres"])
    assert all(isinstance(c["id"], int) for c in data["categories"])
    assert isinstance(data["release_date"]["date"], str)
    assert isinstance(data["required_age"], int | str)
    rev = http.get(
        f"{base}/appreviews/{paid[0]}",
        params={"json": 1, "language": "all", "purchase_type": "all", "num_per_page": 0},
    ).json()
    q = rev["query_summary"]
    assert rev["success"] == 1 and q["total_reviews"] == q["total_positive"] + q["total_negative"]
    assert isinstance(q["review_score"], int) and q["review_score_desc"]


def test_steam_discounts_come_and_go_and_reviews_grow():
    s = Simulator(seed=42, channels=10, start=START)
    t0 = int(s.now.timestamp())
    days = [s.world.discount(t0 + d * 86400) for d in range(0, 28)]
    per_app = list(zip(*days, strict=True))
    assert any(len(set(a)) > 1 for a in per_app), "some sales start and end within 4 weeks"
    total_a, _ = s.world.reviews(t0)
    total_b, _ = s.world.reviews(t0 + 7 * 86400)
    assert (total_b >= total_a).all() and (total_b > total_a).any()


def test_store_rate_limit_null_body(http):
    with Simulator(
        seed=3, channels=10, start=START, steam_store_rate_limit=2, steam_store_rate_window=600
    ) as s:
        url = s.env()["SOURCES__STEAM__STORE_BASE_URL"] + "/appreviews/730?json=1"
        statuses = [http.get(url) for _ in range(4)]
        assert [r.status_code for r in statuses[:2]] == [200, 200]
        assert statuses[3].status_code == 429 and statuses[3].text == "null"
        s.advance(minutes=10)  # simulated time refills the bucket too
        assert http.get(url).status_code == 200


def test_date_header_is_simulated_and_moves_with_advance(http):
    with Simulator(seed=5, channels=10, start="2026-11-02T00:00:00Z") as s:
        url = s.base_url + "/steam-web-api/ISteamUserStats/GetNumberOfCurrentPlayers/v1/?appid=730"
        first = http.get(url)
        assert parsedate_to_datetime(first.headers["Date"]) == datetime(2026, 11, 2, tzinfo=UTC)
        assert re.fullmatch(
            r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT", first.headers["Date"]
        )
        r = http.post(s.base_url + "/_sim/advance?minutes=10")
        assert r.json()["now"] == "2026-11-02T00:10:00Z"
        assert http.get(s.base_url + "/_sim/now").json()["now"] == "2026-11-02T00:10:00Z"
        second = http.get(url)
        assert parsedate_to_datetime(second.headers["Date"]) - parsedate_to_datetime(
            first.headers["Date"]
        ) == timedelta(minutes=10)
        assert s.now == datetime(2026, 11, 2, 0, 10, tzinfo=UTC)
        truth = http.get(s.base_url + "/_sim/truth").json()
        assert truth["streamers"] == s.truth()["streamers"]


def test_a_request_can_ask_for_its_own_instant(http):
    """`X-Sim-Time` answers one request as of that instant, as if the clock stood there, and
    leaves the shared clock alone (the demo's polling processes each keep their own clock)."""
    with (
        Simulator(seed=5, channels=40, start="2026-11-02T00:00:00Z") as s,
        Simulator(seed=5, channels=40, start="2026-11-02T00:00:00Z") as clocked,
    ):
        env = s.env()
        url = env["SOURCES__SOOP__WEB_BASE_URL"] + "/api/main_broad_list_api.php?pageNo=1"
        later = int(datetime(2026, 11, 2, 13, 30, tzinfo=UTC).timestamp())
        asked = http.get(url, headers={"X-Sim-Time": str(later)})
        assert parsedate_to_datetime(asked.headers["Date"]) == datetime(
            2026, 11, 2, 13, 30, tzinfo=UTC
        )
        assert s.now == datetime(2026, 11, 2, tzinfo=UTC)  # the shared clock did not move
        plain = http.get(url)
        assert parsedate_to_datetime(plain.headers["Date"]) == datetime(2026, 11, 2, tzinfo=UTC)
        clocked.advance(13 * 60 + 30)  # the same instant on a clock moved by the admin endpoint
        same = http.get(
            clocked.env()["SOURCES__SOOP__WEB_BASE_URL"] + "/api/main_broad_list_api.php?pageNo=1"
        )
        assert asked.json() == same.json() != plain.json()
        for bad, why in (("noon", "epoch seconds"), (str(later - 86_400), "before the simulation")):
            refused = http.get(url, headers={"X-Sim-Time": bad})
            assert refused.status_code == 400 and why in refused.json()["error"]


def _fetch_all(s: Simulator, http: requests.Session) -> list[bytes]:
    env = s.env()
    auth = {
        "Client-Id": env["SOURCES__CHZZK__CLIENT_ID"],
        "Client-Secret": env["SOURCES__CHZZK__CLIENT_SECRET"],
    }
    return [
        http.get(
            env["SOURCES__CHZZK__OPENAPI_BASE_URL"] + "/open/v1/lives?size=20", headers=auth
        ).content,
        http.get(
            env["SOURCES__SOOP__WEB_BASE_URL"] + "/api/main_broad_list_api.php?pageNo=1"
        ).content,
        http.get(
            env["SOURCES__STEAM__WEB_API_BASE_URL"]
            + "/ISteamUserStats/GetNumberOfCurrentPlayers/v1/?appid=730"
        ).content,
        http.get(
            env["SOURCES__TWITCH__API_BASE_URL"] + "/helix/streams?first=100",
            headers=_token(s, http),
        ).content,
    ]


def test_determinism_same_seed_same_bytes(http):
    with (
        Simulator(seed=7, channels=100, start=START) as a,
        Simulator(seed=7, channels=100, start=START) as b,
        Simulator(seed=8, channels=100, start=START) as c,
    ):
        a_bytes, b_bytes, c_bytes = _fetch_all(a, http), _fetch_all(b, http), _fetch_all(c, http)
        assert a_bytes == b_bytes
        assert all(x != y for x, y in zip(a_bytes, c_bytes, strict=True))
        assert json.loads(a_bytes[0])["content"]["data"]


def test_world_is_pure_function_of_instant():
    a = Simulator(seed=9, channels=50, start=START)
    b = Simulator(seed=9, channels=50, start=START)
    minute = a.minute()
    later = a.world.state("twitch", minute + 90)  # asked in a different order
    first = a.world.state("twitch", minute)
    assert (b.world.state("twitch", minute).live_id == first.live_id).all()
    assert (b.world.state("twitch", minute + 90).viewers == later.viewers).all()
    t = int(a.now.timestamp())
    assert (a.world.players(t + 3600) == b.world.players(t + 3600)).all()


def test_truth_and_planted_effect():
    s = Simulator(seed=11, channels=200, start=START)
    truth = s.truth()["streamers"]
    assert {t["platform"] for t in truth} == {"chzzk", "soop", "twitch"}
    influences = [t["influence"] for t in truth]
    zero = sum(1 for i in influences if i == 0) / len(influences)
    assert 0.25 < zero < 0.55
    positive = sorted(i for i in influences if i > 0)
    assert positive[-1] > 10 * positive[len(positive) // 2], "a few large ones dominate"
    t = int(s.now.timestamp())
    with_effect = s.world.players(t)
    quiet = Simulator(seed=11, channels=200, start=START, zero_influence_share=1.0)
    without = quiet.world.players(t)
    diff = with_effect - without
    assert (diff >= -1).all() and diff.max() > 0
    mapped = s.world.apps.game >= 0
    assert (diff[~mapped] == 0).all(), "Steam-only apps get no streamer effect"


def test_peak_live_count_close_to_channels():
    s = Simulator(seed=2, channels=400, start=START)
    live = [len(s.world.state(p, s.minute())) for p in ("chzzk", "soop", "twitch")]
    assert all(250 <= n <= 550 for n in live), live
    assert s.world.streamers("chzzk").n == 800


def test_100k_channels_pages_are_slices():
    s = Simulator(seed=42, channels=100_000, start=START)
    st = s.world.state("soop", s.minute())
    assert len(st) > 50_000
    env = {k: v.replace(s.base_url, "") for k, v in s.env().items()}
    base = env["SOURCES__SOOP__OPENAPI_BASE_URL"] + "/broad/list?order_type=view_cnt&client_id="
    seen, page = set(), 1
    while True:
        reply = s.handle(
            "GET", f"{base}{env['SOURCES__SOOP__CLIENT_ID']}&page_no={page}", _NoHeaders(), b""
        )
        broad = reply.body["broad"]
        seen.update(b["user_id"] for b in broad)
        if len(broad) < 60:
            break
        page += 1
    assert len(seen) == len(st) and page == len(st) // 60 + 1


class _NoHeaders(dict):
    """Stand-in for the request headers when calling Simulator.handle in-process."""


def test_steam_news_has_patch_notes_at_updates(sim, http):
    world = sim.world
    t = int(sim.now.timestamp())
    updates = world.updates(t - 60 * 86400, t)
    a, at = updates[-1]
    appid = int(world.apps.appids[a])
    url = sim.base_url + "/steam-web-api/ISteamNews/GetNewsForApp/v2/"
    r = http.get(url, params={"appid": appid, "count": 500, "maxlength": 30, "format": "json"})
    assert r.status_code == 200
    news = r.json()["appnews"]
    assert news["appid"] == appid and news["count"] >= len(news["newsitems"]) > 0
    items = news["newsitems"]
    dates = [i["date"] for i in items]
    assert dates == sorted(dates, reverse=True) and max(dates) <= t
    keys = {"gid", "title", "url", "is_external_url", "author", "contents", "feedlabel"}
    keys |= {"date", "feedname", "feed_type", "appid"}
    assert all(keys <= set(i) and isinstance(i["gid"], str) for i in items)
    patches = [i for i in items if "patchnotes" in i.get("tags", [])]
    assert at in {i["date"] for i in patches}, "every update has its patch notes"
    assert any("tags" not in i for i in items), "ordinary news too"
    assert all(len(i["contents"]) <= 33 for i in items)
    only = http.get(url, params={"appid": appid, "tags": "patchnotes", "count": 500}).json()
    assert {i["gid"] for i in only["appnews"]["newsitems"]} == {i["gid"] for i in patches}
    assert http.get(url, params={"appid": 1}).status_code == 403
    assert http.get(url).status_code == 400


def test_planted_elasticity_calibrated_to_the_literature():
    """Huang & Morozov (2025): elasticity of players w.r.t. viewers 0.027; viewers a few
    percent of players. Checked on two days of a demo-size world."""
    s = Simulator(seed=5, channels=40, start=START)
    got = s.truth(days=2)["elasticity"]
    assert 0.01 < got["pooled"] < 0.05, got["pooled"]
    assert 0.01 < got["median_viewer_share"] < 0.10
    assert got["per_game"] and "definition" in got
    assert "elasticity" not in s.truth(), "no elapsed time: no elasticity"


def _gone(pid: int) -> bool:
    """True when process `pid` has exited (a zombie waiting for init counts as exited)."""
    status = Path(f"/proc/{pid}/status")
    try:
        state = next(line for line in status.read_text().splitlines() if line.startswith("State:"))
    except (OSError, StopIteration):
        return True
    return "Z" in state.split()[1]


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc (Linux)")
def test_a_simulator_started_by_a_killed_parent_ends_too():
    """`SimulatorProcess` (the demo's and the benchmarks' simulator) ends with the process that
    started it, even when that one is killed (SIGKILL runs no clean-up)."""
    script = (
        "import time\n"
        "from simulator.process import SimulatorProcess\n"
        "sim = SimulatorProcess('--channels', '5')\n"
        "print(sim.proc.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    root = Path(__file__).resolve().parents[2]
    parent = subprocess.Popen(
        [sys.executable, "-c", script], cwd=root, stdout=subprocess.PIPE, text=True
    )
    try:
        simulator = int(parent.stdout.readline())
        assert not _gone(simulator)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 15
        while not _gone(simulator) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _gone(simulator), "the simulator outlived the process that started it"
    finally:
        parent.kill()


def test_the_demo_polling_processes_end_with_the_demo(monkeypatch):
    from loaders import demo

    watched = []
    monkeypatch.setattr(demo, "exit_with_parent", lambda: watched.append(True))
    monkeypatch.setattr(demo.sys, "setswitchinterval", lambda interval: None)
    demo._start_polling_process()
    assert watched == [True]


linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="per-thread CPU priority is Linux's"
)


def _priority() -> int:
    import threading

    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.fixture
def lowerable():
    if _priority() >= 19:
        pytest.skip("the test process already runs at the lowest CPU priority")


@linux_only
@pytest.mark.usefixtures("lowerable")
def test_background_work_runs_at_a_lower_priority_in_its_own_threads_only():
    import threading

    from loaders import demo

    seen = {}

    def background():
        seen["before"] = _priority()
        demo._lower_priority()
        seen["after"] = _priority()
        demo._lower_priority()  # as the load threads, started from a lowered thread, do
        seen["again"] = _priority()
        child = threading.Thread(target=lambda: seen.update(child=_priority()))
        child.start()
        child.join()

    caller = _priority()
    thread = threading.Thread(target=background)
    thread.start()
    thread.join()
    assert seen["before"] == caller
    assert seen["after"] == min(19, caller + demo.BACKGROUND_NICENESS) > caller
    assert seen["again"] == seen["after"]  # one level below the process, not one per call
    assert seen["child"] == seen["after"]  # DuckDB's and dbt's threads inherit it
    assert _priority() == caller  # the demo's own thread keeps its priority


@linux_only
@pytest.mark.usefixtures("lowerable")
def test_the_demo_polls_steam_at_normal_priority_and_the_others_below(monkeypatch):
    from loaders import demo

    priorities = {}

    class Buffer:
        def __init__(self, name, state):
            self.name = name

        def run(self, source):
            priorities[self.name] = _priority()

    monkeypatch.setattr(demo, "PollBuffer", Buffer)
    monkeypatch.setattr(demo, "make_source", lambda name: None)
    names = ["chzzk", "soop", "twitch", "steam"]
    demo._poll_increment(0, 10, range(2), {name: {} for name in names})
    caller = _priority()
    lowered = min(19, caller + demo.BACKGROUND_NICENESS)
    assert priorities == {"steam": caller, "chzzk": lowered, "soop": lowered, "twitch": lowered}
