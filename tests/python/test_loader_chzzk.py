"""Chzzk source: both API variants, paging, casts, KST->UTC, dedup, bad input, re-runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from loaders.pipeline import load_platform

DATE = "Mon, 02 Nov 2026 00:10:00 GMT"
OBSERVED = datetime(2026, 11, 2, 0, 10, tzinfo=UTC)


def live(i: int, *, nested: bool = True, **override) -> dict:
    item = {
        "liveId": 1000 + i,
        "liveTitle": f"title {i}",
        "concurrentUserCount": 10_000 - i,
        "openDate": "2026-11-02 08:30:00",  # KST -> 2026-11-01 23:30 UTC
        "adult": i % 7 == 0,
        "tags": ["t"],
        "categoryType": "GAME",
        "liveCategory": "Dota_2",
        "liveCategoryValue": "도타 2",
        "accumulateCount": 5,  # unknown field: kept in raw_item only
    }
    channel = {"channelId": f"ch{i:04d}", "channelName": f"name {i}", "channelImageUrl": "x"}
    if nested:
        item["channel"] = {**channel, "verifiedMark": False}
    else:
        item.update(channel)
    item.update(override)
    return item


def serve_service(api, items: list[dict], size: int = 50) -> None:
    """Public service API: sorted by viewers, object cursor {concurrentUserCount, liveId}."""

    def lives(q):
        start = 0
        if "liveId" in q:
            ids = [str(it.get("liveId")) if isinstance(it, dict) else None for it in items]
            start = ids.index(q["liveId"]) + 1
        page = items[start : start + int(q["size"])]
        last = page[-1] if page else None
        more = start + len(page) < len(items)
        nxt = last and {
            "concurrentUserCount": last["concurrentUserCount"],
            "liveId": last["liveId"],
        }
        return {"code": 200, "content": {"data": page, "page": {"next": nxt if more else None}}}

    api.route("/service/v1/lives", lives)
    for it in items:
        channel = it.get("channel") if isinstance(it, dict) else None
        cid = channel.get("channelId") if isinstance(channel, dict) else None
        if cid:
            content = {
                "channelId": cid,
                "channelName": "n",
                "channelType": "STREAMING",
                "verifiedMark": True,
                "followerCount": 42,
                "openLive": True,
                "x": 1,
            }
            api.route(
                f"/service/v1/channels/{cid}", lambda q, c=content: {"code": 200, "content": c}
            )


@pytest.fixture
def chzzk_env(fake_api, warehouse, fast_retries, monkeypatch):
    monkeypatch.setenv("SOURCES__CHZZK__SERVICE_BASE_URL", fake_api.url)
    monkeypatch.setenv("SOURCES__CHZZK__OPENAPI_BASE_URL", fake_api.url)
    monkeypatch.delenv("SOURCES__CHZZK__CLIENT_ID", raising=False)
    monkeypatch.delenv("SOURCES__CHZZK__CLIENT_SECRET", raising=False)
    fake_api.date = DATE
    return fake_api


def test_service_api_pages_with_object_cursor_and_casts(chzzk_env, sql):
    items = [live(i) for i in range(120)]
    serve_service(chzzk_env, items)
    report = load_platform("chzzk")
    assert report.status == "ok", report.error
    assert report.rows["lives"] == 120
    list_calls = [q for p, q in chzzk_env.requests if p == "/service/v1/lives"]
    assert len(list_calls) == 3
    assert list_calls[0] == {"size": "50", "sortType": "POPULAR"}
    assert list_calls[1]["liveId"] == str(items[49]["liveId"])
    assert list_calls[1]["concurrentUserCount"] == str(items[49]["concurrentUserCount"])
    rows = sql(
        "select poll_id, observed_at, api_variant, live_id, opened_at, concurrent_user_count, "
        "is_adult, raw_item from raw_chzzk.lives where channel_id = 'ch0007'"
    )
    poll, observed, variant, live_id, opened, viewers, adult, raw = rows[0]
    assert poll == "chzzk:20261102T001000Z"
    assert observed == OBSERVED
    assert variant == "service" and live_id == 1007 and viewers == 9993 and adult is True
    assert opened == datetime(2026, 11, 1, 23, 30, tzinfo=UTC)
    assert json.loads(raw)["accumulateCount"] == 5
    columns = {r[0] for r in sql("describe raw_chzzk.lives")}
    assert "accumulate_count" not in columns and "tags" not in columns


def test_official_api_chosen_with_credentials(chzzk_env, monkeypatch, sql):
    monkeypatch.setenv("SOURCES__CHZZK__CLIENT_ID", "my-client")
    monkeypatch.setenv("SOURCES__CHZZK__CLIENT_SECRET", "s3cret-value")
    items = [live(i, nested=False) for i in range(45)]

    def lives(q):
        start = int(q.get("next", "0"))
        page = items[start : start + int(q["size"])]
        nxt = str(start + len(page)) if start + len(page) < len(items) else None
        return {"code": 200, "message": None, "content": {"data": page, "page": {"next": nxt}}}

    chzzk_env.route("/open/v1/lives", lives)
    report = load_platform("chzzk")
    assert report.status == "ok", report.error
    assert report.rows["lives"] == 45
    calls = [
        (q, h)
        for p, q, h in ((c["path"], c["query"], c["headers"]) for c in chzzk_env.calls)
        if p == "/open/v1/lives"
    ]
    assert [q.get("next") for q, _ in calls] == [None, "20", "40"]
    assert all(q["size"] == "20" for q, _ in calls)
    assert all(
        h["Client-Id"] == "my-client" and h["Client-Secret"] == "s3cret-value" for _, h in calls
    )
    assert not any(p == "/service/v1/lives" for p, _ in chzzk_env.requests)
    assert sql("select distinct api_variant from raw_chzzk.lives") == [("openapi",)]


def test_poll_with_nobody_live_still_creates_every_table(chzzk_env, sql):
    # 09:00 KST: the first poll of a day can see no live channel at all; staging reads both
    # tables, so both must exist (empty) rather than be missing
    serve_service(chzzk_env, [])
    report = load_platform("chzzk")
    assert report.status == "ok", report.error
    assert report.rows.get("lives", 0) == 0
    assert sql("select count(*) from raw_chzzk.lives") == [(0,)]
    assert sql("select count(*) from raw_chzzk.channels") == [(0,)]
    columns = {r[0] for r in sql("describe raw_chzzk.channels")}
    assert {"channel_id", "follower_count"} <= columns
    # the poll itself is recorded, so freshness checks see a healthy, quiet poller
    recorded = sql("select poll_id, table_name, observed_at is not null from raw_chzzk.polls")
    assert len(recorded) == 1 and recorded[0][1:] == ("lives", True)
    assert recorded[0][0].startswith("chzzk:")
    load_platform("chzzk")  # the same moment polled again: still one record
    assert sql("select count(*) from raw_chzzk.polls") == [(1,)]


def test_same_cursor_twice_stops_paging(chzzk_env):
    items = [live(i, nested=False) for i in range(40)]
    chzzk_env.route(
        "/open/v1/lives",
        lambda q: {
            "code": 200,
            "content": {
                "data": items[:20] if "next" not in q else items[20:],
                "page": {"next": "same"},
            },
        },
    )
    import os

    os.environ["SOURCES__CHZZK__CLIENT_ID"] = "id"
    os.environ["SOURCES__CHZZK__CLIENT_SECRET"] = "secret"
    try:
        report = load_platform("chzzk")
    finally:
        del os.environ["SOURCES__CHZZK__CLIENT_ID"], os.environ["SOURCES__CHZZK__CLIENT_SECRET"]
    assert report.status == "ok" and report.rows["lives"] == 40
    assert len([c for c in chzzk_env.requests if c[0] == "/open/v1/lives"]) == 2


def test_rerun_of_same_poll_does_not_duplicate_and_skips_fresh_channels(chzzk_env, sql):
    serve_service(chzzk_env, [live(i) for i in range(30)])
    assert load_platform("chzzk").status == "ok"
    detail_calls = sum(p.startswith("/service/v1/channels/") for p, _ in chzzk_env.requests)
    assert detail_calls == 30
    assert load_platform("chzzk").status == "ok"  # same Date header: the same poll again
    assert sql("select count(*), count(distinct channel_id) from raw_chzzk.lives") == [(30, 30)]
    assert sum(p.startswith("/service/v1/channels/") for p, _ in chzzk_env.requests) == 30
    assert sql("select count(*), min(follower_count) from raw_chzzk.channels") == [(30, 42)]
    chzzk_env.date = "Tue, 03 Nov 2026 00:20:00 GMT"  # more than 24 h later: refresh again
    assert load_platform("chzzk").status == "ok"
    assert sql("select count(*), count(distinct observed_at) from raw_chzzk.lives") == [(60, 2)]
    assert sum(p.startswith("/service/v1/channels/") for p, _ in chzzk_env.requests) == 60


def test_channel_details_are_capped_per_poll(chzzk_env, monkeypatch, sql):
    monkeypatch.setenv("SOURCES__CHZZK__MAX_CHANNEL_DETAILS", "7")
    serve_service(chzzk_env, [live(i) for i in range(30)])
    assert load_platform("chzzk").status == "ok"
    assert sql("select count(*) from raw_chzzk.channels") == [(7,)]
    chzzk_env.date = "Mon, 02 Nov 2026 00:20:00 GMT"
    assert load_platform("chzzk").status == "ok"
    assert sql("select count(*) from raw_chzzk.channels") == [(14,)]  # the next 7


def test_duplicates_across_pages_are_kept_once(chzzk_env, sql):
    items = [live(i) for i in range(60)]
    shifted = items[:50] + [items[49]] + items[50:]  # list shifted while paging
    serve_service(chzzk_env, shifted)
    report = load_platform("chzzk")
    assert report.rows["lives"] == 60
    assert report.quarantined == 1
    reason = sql("select reason from raw_chzzk.quarantine")[0][0]
    assert "channelId" in reason and "duplicate" in reason


BAD_ITEMS = {
    "wrong type": (live(1, concurrentUserCount="many"), "concurrentUserCount"),
    "missing field": (live(2, liveId=None), "liveId"),
    "negative viewers": (live(3, concurrentUserCount=-5), "concurrentUserCount"),
    "absurd timestamp": (live(4, openDate="1970-01-01 09:00:00"), "openDate"),
    "future timestamp": (live(5, openDate="2031-01-01 00:00:00"), "openDate"),
    "huge string": (live(6, liveTitle="x" * 100_000), "liveTitle"),
    "not an object": ("oops", "not an object"),
    "no channel": (live(8, channel=None), "channel"),
}


def test_bad_items_are_quarantined_and_the_rest_loads(chzzk_env, sql):
    good = [live(i) for i in range(10, 40)]
    serve_service(chzzk_env, [b for b, _ in BAD_ITEMS.values()] + good)
    report = load_platform("chzzk")
    assert report.status == "ok", report.error
    assert report.rows["lives"] == 30
    reasons = [r[0] for r in sql("select reason from raw_chzzk.quarantine")]
    assert len(reasons) == len(BAD_ITEMS)
    for _, field in BAD_ITEMS.values():
        assert any(field in r and r.startswith("chzzk /service/v1/lives") for r in reasons), field
    assert sql("select count(*) from raw_chzzk.quarantine where poll_id = 'chzzk:20261102T001000Z'")
    assert sql("select string_agg(distinct platform) from raw_chzzk.quarantine") == [("chzzk",)]


@pytest.mark.parametrize(
    "body, reason",
    [
        ('{"code":200,"content":{"data":[{"liveId":', "malformed JSON"),
        ("<html><body>503 Service Unavailable</body></html>", "HTML page"),
        ("", "empty response body"),
        ('{"code":200,"content":{"data":"nope"}}', "content.data"),
    ],
)
def test_bad_second_page_is_retried_then_quarantined(chzzk_env, sql, body, reason):
    items = [live(i) for i in range(80)]
    serve_service(chzzk_env, items)
    good = chzzk_env.handlers["/service/v1/lives"]
    chzzk_env.route("/service/v1/lives", lambda q: body if "liveId" in q else good(q))
    report = load_platform("chzzk")
    assert report.status == "ok", report.error
    assert report.rows["lives"] == 50  # first page loaded
    rows = sql("select reason, payload from raw_chzzk.quarantine")
    assert len(rows) == 1 and reason in rows[0][0] and rows[0][1] == body
    attempts = sum(p == "/service/v1/lives" and "liveId" in q for p, q in chzzk_env.requests)
    if reason != "content.data":  # unparsable bodies are retried before quarantine
        assert attempts == 4


def test_jsonp_wrapped_page_is_unwrapped(chzzk_env):
    items = [live(i) for i in range(10)]
    serve_service(chzzk_env, items)
    good = chzzk_env.handlers["/service/v1/lives"]
    chzzk_env.route("/service/v1/lives", lambda q: f"cb({json.dumps(good(q))});")
    report = load_platform("chzzk")
    assert report.status == "ok" and report.rows["lives"] == 10 and report.quarantined == 0


def test_faults_are_retried_and_give_the_same_observations(chzzk_env, sql, warehouse):
    items = [live(i) for i in range(130)]
    serve_service(chzzk_env, items)
    good = chzzk_env.handlers["/service/v1/lives"]
    count = {"n": 0}

    def flaky(q):  # every other list request fails once: 503, then 429, then truncated JSON
        count["n"] += 1
        kind = count["n"] % 6
        if kind == 1:
            return 503, "upstream error"
        if kind == 3:
            return 429, "{}", {"Retry-After": "0"}
        if kind == 5:
            return json.dumps(good(q))[:40]
        return good(q)

    chzzk_env.route("/service/v1/lives", flaky)
    report = load_platform("chzzk")
    assert report.status == "ok", report.error
    assert report.retries >= 3 and report.quarantined == 0
    faulty = sql("select channel_id, concurrent_user_count from raw_chzzk.lives order by 1")
    assert len(faulty) == 130
    expected = sorted((it["channel"]["channelId"], it["concurrentUserCount"]) for it in items)
    assert faulty == expected


def test_unreachable_host_fails_with_one_sentence(chzzk_env, monkeypatch):
    monkeypatch.setenv("SOURCES__CHZZK__SERVICE_BASE_URL", "http://127.0.0.1:9")
    report = load_platform("chzzk")
    assert report.status == "failed"
    assert report.error.startswith("chzzk") and "\n" not in report.error
    assert "127.0.0.1" in report.error or "retries exhausted" in report.error
