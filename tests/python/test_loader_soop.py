"""SOOP source: web and official list variants, string casts, category padding, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from loaders.pipeline import load_platform

DATE = "Mon, 02 Nov 2026 00:10:00 GMT"


def broad(i: int, **override) -> dict:
    item = {
        "broad_no": str(280_000_000 + i),
        "broad_title": f"방송 {i}",
        "broad_thumb": "//liveimg.sooplive.co.kr/x.jpg",
        "broad_cate_no": "40066" if i % 2 else "00040019",
        "broad_start": "2026-11-02 09:00:00",  # KST -> 2026-11-02 00:00 UTC
        "total_view_cnt": str(50_000 - i),
        "user_id": f"bj{i:04d}",
        "user_nick": f"nick {i}",
        "broad_grade": "19" if i % 5 == 0 else "0",
        "is_password": "1" if i % 9 == 0 else "0",
        "visit_broad_type": "1",  # unknown field: raw_item only
    }
    item.update(override)
    return item


def serve_list(api, path: str, items: list, page_param: str) -> None:
    def handler(q):
        page_no = int(q[page_param])
        page = items[(page_no - 1) * 60 : page_no * 60]
        return {"total_cnt": len(items), "page_no": page_no, "page_block": 60, "broad": page}

    api.route(path, handler)


def serve_categories(api, cats: list) -> None:
    api.route("/api.php", lambda q: {"data": {"list": cats[(int(q["nPageNo"]) - 1) * 120 :][:120]}})


@pytest.fixture
def soop_env(fake_api, warehouse, fast_retries, monkeypatch):
    for key in ("OPENAPI_BASE_URL", "WEB_BASE_URL", "SEARCH_BASE_URL"):
        monkeypatch.setenv(f"SOURCES__SOOP__{key}", fake_api.url)
    monkeypatch.delenv("SOURCES__SOOP__CLIENT_ID", raising=False)
    fake_api.date = DATE
    serve_categories(
        fake_api,
        [
            {"category_no": "00040019", "category_name": "리그 오브 레전드", "view_cnt": 120},
            {"category_no": "40066", "category_name": "배틀그라운드", "view_cnt": "77"},
        ],
    )
    return fake_api


WEB = "/api/main_broad_list_api.php"


def test_web_list_pages_until_short_page_and_casts_strings(soop_env, sql):
    serve_list(soop_env, WEB, [broad(i) for i in range(150)], "pageNo")
    report = load_platform("soop")
    assert report.status == "ok", report.error
    assert report.rows == {"broads": 150, "categories": 2}
    calls = [(c["query"], c["headers"]) for c in soop_env.hits(WEB)]
    assert [q["pageNo"] for q, _ in calls] == ["1", "2", "3"]
    assert calls[0][0]["selectType"] == "action" and calls[0][0]["orderType"] == "view_cnt"
    assert all("Mozilla" in h["User-Agent"] and h["Referer"] for _, h in calls)
    row = sql(
        "select poll_id, api_variant, broad_no, broad_cate_no, broad_started_at, total_view_cnt, "
        "broad_grade, is_password, raw_item from raw_soop.broads where user_id = 'bj0045'"
    )[0]
    assert row[:8] == (
        "soop:20261102T001000Z",
        "web",
        280_000_045,
        "00040066",
        datetime(2026, 11, 2, 0, 0, tzinfo=UTC),
        49_955,
        19,
        True,
    )
    assert json.loads(row[8])["visit_broad_type"] == "1"
    cats = sql("select category_no, category_name, view_cnt from raw_soop.categories order by 1")
    assert cats == [("00040019", "리그 오브 레전드", 120), ("00040066", "배틀그라운드", 77)]


def test_official_list_used_with_client_id(soop_env, monkeypatch, sql):
    monkeypatch.setenv("SOURCES__SOOP__CLIENT_ID", "soop-client")
    serve_list(soop_env, "/broad/list", [broad(i) for i in range(120)], "page_no")
    report = load_platform("soop")
    assert report.status == "ok", report.error
    calls = [q for p, q in soop_env.requests if p == "/broad/list"]
    # exactly 120 items: total_cnt ends paging without asking for an empty third page
    assert [q["page_no"] for q in calls] == ["1", "2"]
    assert all(q["client_id"] == "soop-client" and "callback" not in q for q in calls)
    assert not any(p == WEB for p, _ in soop_env.requests)
    assert sql("select distinct api_variant, count(*) from raw_soop.broads group by 1") == [
        ("openapi", 120)
    ]


def test_api_error_answer_fails_the_platform_with_a_clear_message(soop_env, monkeypatch):
    monkeypatch.setenv("SOURCES__SOOP__CLIENT_ID", "wrong-client")
    soop_env.route("/broad/list", lambda q: {"result": -1002, "msg": "invalid client_id"})
    report = load_platform("soop")
    assert report.status == "failed"
    assert "result -1002" in report.error and "invalid client_id" in report.error
    assert report.error.startswith("soop /broad/list") and "wrong-client" not in report.error


def test_error_answer_on_a_later_page_is_quarantined_rest_loaded(soop_env, sql):
    items = [broad(i) for i in range(150)]
    serve_list(soop_env, WEB, items, "pageNo")
    good = soop_env.handlers[WEB]
    soop_env.route(WEB, lambda q: {"result": -1, "msg": "busy"} if q["pageNo"] == "2" else good(q))
    report = load_platform("soop")
    assert report.status == "ok", report.error
    assert report.rows["broads"] == 90  # pages 1 and 3
    reason = sql("select reason from raw_soop.quarantine")[0][0]
    assert "field 'result'" in reason and "busy" in reason and "page 2" in reason


BAD = {
    "wrong type": (broad(1, total_view_cnt="lots"), "total_view_cnt"),
    "missing field": (broad(2, user_id=None), "user_id"),
    "negative viewers": (broad(3, total_view_cnt="-4"), "total_view_cnt"),
    "absurd timestamp": (broad(4, broad_start="0001-01-01 00:00:00"), "broad_start"),
    "huge string": (broad(5, user_nick="가" * 10_000), "user_nick"),
    "bad category": (broad(6, broad_cate_no="games"), "broad_cate_no"),
    "duplicate id": (broad(20), "duplicate"),
}


def test_bad_items_are_quarantined_and_the_rest_loads(soop_env, sql):
    items = [broad(i) for i in range(20, 70)]
    serve_list(soop_env, WEB, [b for b, _ in BAD.values()] + items, "pageNo")
    report = load_platform("soop")
    assert report.status == "ok", report.error
    assert report.rows["broads"] == 50
    reasons = [r[0] for r in sql("select reason from raw_soop.quarantine")]
    assert len(reasons) == len(BAD) and report.quarantined == len(BAD)
    for _, field in BAD.values():
        assert any(field in r for r in reasons), field
    # the duplicate came first in the list here, so the later original is the one quarantined
    assert sql("select count(*) from raw_soop.broads where user_id = 'bj0020'") == [(1,)]


@pytest.mark.parametrize(
    "body, loaded",
    [
        ("cb(" + json.dumps({"broad": [broad(1000)]}) + ");", 61),  # JSONP: unwrapped and loaded
        ('{"broad": [{"broad_no": "1"', 60),  # truncated: retried, then quarantined
        ("<!DOCTYPE html><html>점검 중</html>", 60),
        ("", 60),
    ],
)
def test_bad_page_bodies(soop_env, sql, body, loaded):
    serve_list(soop_env, WEB, [broad(i) for i in range(100)], "pageNo")
    good = soop_env.handlers[WEB]
    soop_env.route(WEB, lambda q: body if q["pageNo"] == "2" else good(q))
    report = load_platform("soop")
    assert report.status == "ok", report.error
    assert report.rows["broads"] == loaded
    assert report.quarantined == (0 if loaded == 61 else 1)


def test_rerun_of_same_poll_leaves_one_row_per_key(soop_env, sql):
    serve_list(soop_env, WEB, [broad(i) for i in range(70)], "pageNo")
    assert load_platform("soop").status == "ok"
    assert load_platform("soop").status == "ok"
    assert sql("select count(*), count(distinct user_id) from raw_soop.broads") == [(70, 70)]
    assert sql("select count(*) from raw_soop.categories") == [(2,)]
