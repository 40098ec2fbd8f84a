"""Twitch source against a local fake of Helix (real paths, params, headers and shapes)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime

import dlt
import pytest
import requests

from loaders.http import header_wait_seconds
from loaders.twitch import twitch_source
from tests.support.fake_api import FakeApi

DATE = datetime(2026, 11, 2, 0, 10, 0, tzinfo=UTC)
SECRET, TOKEN = "s3cr3t-client-secret", "tok-abcdef-123456"


@pytest.fixture
def api(fake_api):
    fake_api.date = DATE
    return fake_api


@pytest.fixture(autouse=True)
def _dlt_ids(monkeypatch):
    monkeypatch.setenv("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")
    monkeypatch.setenv("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_ID", "true")


def stream(n: int, viewers: int, **over) -> dict:
    item = {
        "id": f"4{n:04d}",
        "user_id": f"9{n:04d}",
        "user_login": f"user{n}",
        "user_name": f"User{n}",
        "game_id": "32399",
        "game_name": "Counter-Strike",
        "type": "live",
        "title": f"stream {n}",
        "tags": ["English"],
        "viewer_count": viewers,
        "started_at": "2026-11-01T22:00:00Z",
        "language": "en",
        "thumbnail_url": "https://example/{width}x{height}.jpg",
        "is_mature": False,
        "tag_ids": [],
    }
    item.update(over)
    return item


def page(items: list, cursor: str | None = None) -> dict:
    return {"data": items, "pagination": {"cursor": cursor} if cursor else {}}


def by_cursor(pages: dict[str | None, object]) -> Callable:
    """Route answering by the `after` query param (None = first page)."""

    def route(call: dict):
        answer = pages[call["query"].get("after")]
        return answer if isinstance(answer, tuple) else (200, answer)

    return route


def token_route(expires_in: int = 5000000) -> Callable:
    def route(call: dict):
        ok = call["form"] == {
            "client_id": "cid",
            "client_secret": SECRET,
            "grant_type": "client_credentials",
        }
        body = {"access_token": TOKEN, "expires_in": expires_in, "token_type": "bearer"}
        return (200, body) if ok else (400, {"status": 400, "message": "invalid client"})

    return route


GAMES = {
    "data": [
        {"id": "509658", "name": "Just Chatting", "box_art_url": "https://b/1.jpg", "igdb_id": ""},
        {"id": "32399", "name": "Counter-Strike", "box_art_url": "https://b/2.jpg", "igdb_id": "1"},
        {"id": "21779", "name": "League of Legends", "box_art_url": "u", "igdb_id": "115"},
    ],
    "pagination": {"cursor": "g2"},
}


def run(api: FakeApi, tmp_path, **kwargs):
    pipeline = dlt.pipeline(
        pipeline_name="t_twitch",
        destination=dlt.destinations.duckdb(str(tmp_path / "w.duckdb")),
        dataset_name="raw_twitch",
        pipelines_dir=str(tmp_path / "p"),
    )
    options = {
        "client_id": "cid",
        "client_secret": SECRET,
        "auth_base_url": api.url,
        "api_base_url": api.url,
        "backoff_seconds": 0.01,
        "max_wait_seconds": 5.0,
        "top_games": 3,
    }
    options.update(kwargs)
    info = pipeline.run(twitch_source(**options))
    info.raise_on_failed_jobs()
    return pipeline


def query(pipeline, sql: str) -> list[tuple]:
    with pipeline.sql_client() as client:
        return [tuple(r) for r in client.execute_sql(sql)]


def tables(pipeline) -> set[str]:
    return set(pipeline.default_schema.data_table_names())


def serve_happy(api: FakeApi, expires_in: int = 5000000) -> None:
    api.routes["/oauth2/token"] = token_route(expires_in)
    # page 2 repeats stream 2 (the list shifted while paging) and stream 5 appears twice
    api.routes["/helix/streams"] = by_cursor(
        {
            None: page([stream(1, 900), stream(2, 800), stream(3, 700)], "c1"),
            "c1": page([stream(2, 790), stream(4, 600), stream(5, 500)], "c2"),
            "c2": page([stream(5, 500), stream(6, 400)]),
        }
    )
    api.routes["/helix/games/top"] = [(200, GAMES)]


def test_streams_paged_deduped_typed(api, tmp_path):
    serve_happy(api)
    pipeline = run(api, tmp_path)

    rows = query(
        pipeline,
        "select stream_id, user_id, viewer_count, started_at, observed_at, poll_id, stream_type,"
        " is_mature, raw_item from streams order by viewer_count desc",
    )
    assert [r[1] for r in rows] == ["90001", "90002", "90003", "90004", "90005", "90006"]
    assert rows[1][2] == 800  # first sighting kept, the shifted duplicate dropped
    first = rows[0]
    assert first[3] == datetime(2026, 11, 1, 22, 0, tzinfo=UTC)
    assert {r[4] for r in rows} == {DATE}  # observed_at = Date header of the first response
    assert {r[5] for r in rows} == {"twitch:20261102T001000Z"}
    assert first[6] == "live" and first[7] is False
    assert json.loads(first[8])["thumbnail_url"].startswith("https://example/")
    # unknown API fields stay in raw_item only
    assert "thumbnail_url" not in pipeline.default_schema.get_table_columns("streams")

    hits = api.hits("/helix/streams")
    assert [h["query"].get("after") for h in hits] == [None, "c1", "c2"]
    assert all(h["query"]["first"] == "100" for h in hits)
    assert all(h["headers"]["Authorization"] == f"Bearer {TOKEN}" for h in hits)
    assert all(h["headers"]["Client-Id"] == "cid" for h in hits)
    assert len(api.hits("/oauth2/token")) == 1  # cached for the run
    assert "quarantine" not in tables(pipeline)


def test_pages_read_in_batches_give_the_same_rows(api, tmp_path, monkeypatch):
    """Pages are read a batch of items at a time (ARROW_BATCH_ROWS): a duplicate across two
    batches is dropped, a bad item in the last batch is quarantined, and the rest loads as
    page by page."""
    import loaders.twitch as source
    from loaders.twitch import helpers

    serve_happy(api)
    routes = {
        None: page([stream(1, 900), stream(2, 800), stream(3, 700)], "c1"),
        "c1": page([stream(2, 790), stream(4, 600), stream(5, 500)], "c2"),
        "c2": page([stream(5, 500), stream(6, "lots"), stream(7, 300)]),
    }
    api.routes["/helix/streams"] = by_cursor(routes)
    monkeypatch.setattr(source, "ARROW_BATCH_ROWS", 4)
    batches: list[int] = []
    read_page = helpers.read_page

    def counting(items, *args, **kwargs):
        batches.append(len(items))
        return read_page(items, *args, **kwargs)

    monkeypatch.setattr(helpers, "read_page", counting)
    pipeline = run(api, tmp_path, top_games=1)

    assert batches[:2] == [6, 3]  # pages 1-2 (6 items >= 4), then page 3; then top games
    rows = query(pipeline, "select user_id, viewer_count from streams order by viewer_count desc")
    assert rows == [("90001", 900), ("90002", 800), ("90003", 700), ("90004", 600),
                    ("90005", 500), ("90007", 300)]  # fmt: skip
    reasons = [r[0] for r in query(pipeline, "select reason from quarantine")]
    assert len(reasons) == 1 and "field 'viewer_count'" in reasons[0]


def test_top_games_and_games_merge(api, tmp_path):
    serve_happy(api)
    pipeline = run(api, tmp_path)
    ranks = query(pipeline, "select game_id, rank from top_games order by rank")
    assert ranks == [("509658", 1), ("32399", 2), ("21779", 3)]
    assert len(api.hits("/helix/games/top")) == 1  # top_games=3 reached on page 1

    api.date = DATE.replace(minute=20)  # next poll: one game renamed
    renamed = json.loads(json.dumps(GAMES))
    renamed["data"][1]["name"] = "Counter-Strike 2"
    api.routes["/helix/games/top"] = [(200, renamed)]
    run(api, tmp_path)
    games = query(pipeline, "select game_id, game_name from games order by game_id")
    assert games == [
        ("21779", "League of Legends"),
        ("32399", "Counter-Strike 2"),
        ("509658", "Just Chatting"),
    ]
    assert query(pipeline, "select count(*), count(distinct observed_at) from top_games") == [
        (6, 2)
    ]


def test_max_streams_limits_rows_and_pages(api, tmp_path):
    serve_happy(api)
    pipeline = run(api, tmp_path, max_streams=4)
    assert query(pipeline, "select count(*) from streams") == [(4,)]
    hits = api.hits("/helix/streams")
    assert len(hits) == 2 and hits[0]["query"]["first"] == "4"


def test_token_renewed_once_on_401(api, tmp_path):
    serve_happy(api)
    answered = []

    def streams_route(call):
        if not answered:
            answered.append(1)
            return (401, {"error": "Unauthorized", "status": 401, "message": "Invalid OAuth token"})
        return (200, page([stream(1, 10)]))

    api.routes["/helix/streams"] = streams_route
    pipeline = run(api, tmp_path)
    assert query(pipeline, "select count(*) from streams") == [(1,)]
    assert len(api.hits("/oauth2/token")) == 2


def test_token_refreshed_before_expiry(api, tmp_path):
    # a token that expires within the refresh margin is renewed before each call
    serve_happy(api, expires_in=60)
    run(api, tmp_path)
    api_calls = len(api.hits("/helix/streams")) + len(api.hits("/helix/games/top"))
    assert len(api.hits("/oauth2/token")) == api_calls


def test_bad_credentials_clear_error_without_secret(api, tmp_path, caplog):
    serve_happy(api)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(Exception) as info:
        run(api, tmp_path, client_secret="wrong-secret-value")
    message = str(info.value)
    assert "twitch /oauth2/token: HTTP 400" in message
    assert "wrong-secret-value" not in message and "wrong-secret-value" not in caplog.text


def test_secrets_never_logged(api, tmp_path, caplog):
    serve_happy(api)
    caplog.set_level(logging.DEBUG)
    run(api, tmp_path)
    assert caplog.records  # the loader did log something
    assert SECRET not in caplog.text and TOKEN not in caplog.text


def _response(status: int, headers: dict) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers)
    return response


def test_rate_limit_wait_uses_reset_minus_date_header():
    date = format_datetime(DATE, usegmt=True)  # server clock != local clock
    reset = str(int(DATE.timestamp()) + 7)
    assert header_wait_seconds(_response(429, {"Date": date, "Ratelimit-Reset": reset})) == 7.0
    assert header_wait_seconds(_response(429, {"Retry-After": "3", "Date": date})) == 3.0
    # a 200 with tokens left: no wait; with the bucket empty: wait for the reset
    ok = {"Date": date, "Ratelimit-Reset": reset, "Ratelimit-Remaining": "799"}
    assert header_wait_seconds(_response(200, ok)) is None
    assert header_wait_seconds(_response(200, ok | {"Ratelimit-Remaining": "0"})) == 7.0
    assert header_wait_seconds(_response(503, {"Date": date})) is None


def test_429_waits_until_ratelimit_reset(api, tmp_path):
    serve_happy(api)
    reset = str(int(DATE.timestamp()) + 1)
    limited = (
        429,
        {"error": "Too Many Requests"},
        {"Ratelimit-Reset": reset, "Ratelimit-Remaining": "0"},
    )
    api.routes["/helix/streams"] = [limited, (200, page([stream(1, 10)]))]
    pipeline = run(api, tmp_path)
    hits = api.hits("/helix/streams")
    assert len(hits) == 2
    assert 0.95 <= hits[1]["at"] - hits[0]["at"] < 3.0  # waited ~1s, not the 0.01s backoff
    assert query(pipeline, "select count(*) from streams") == [(1,)]


def test_retries_exhausted_is_a_clear_error(api, tmp_path):
    serve_happy(api)
    api.routes["/helix/streams"] = [(503, {"error": "Service Unavailable"})]
    with pytest.raises(Exception) as info:
        run(api, tmp_path, max_attempts=3)
    assert "twitch /helix/streams: retries exhausted after 3 attempts" in str(info.value)
    assert len(api.hits("/helix/streams")) == 3


def test_bad_body_retried_then_loaded(api, tmp_path):
    serve_happy(api)
    api.routes["/helix/streams"] = [(200, '{"data": [{"id": "1"'), (200, page([stream(1, 5)]))]
    pipeline = run(api, tmp_path)
    assert query(pipeline, "select count(*) from streams") == [(1,)]
    assert "quarantine" not in tables(pipeline)


def test_bad_items_and_pages_quarantined_rest_loaded(api, tmp_path, caplog):
    serve_happy(api)
    bad_items = [
        stream(1, 900),
        stream(2, -5),  # negative viewers
        stream(3, "lots"),  # wrong type
        {k: v for k, v in stream(4, 700).items() if k != "user_id"},  # missing field
        stream(5, 600, started_at="1970-01-01T00:00:00Z"),  # absurd timestamp
        stream(6, 550, title="x" * 100_000),  # huge string
        stream(7, "450"),  # string number: cast, loaded
    ]
    api.routes["/helix/streams"] = by_cursor(
        {None: page(bad_items, "c1"), "c1": (200, '{"data": [{"id": "8", "user_')}
    )
    api.routes["/helix/games/top"] = [(200, "<html><body>Service error</body></html>")]
    pipeline = run(api, tmp_path)

    loaded = query(pipeline, "select user_id, viewer_count from streams order by user_id")
    assert loaded == [("90001", 900), ("90007", 450)]
    reasons = [r[0] for r in query(pipeline, "select reason from quarantine order by reason")]
    expected = [
        "field 'viewer_count': value -5 is below 0",
        "field 'viewer_count': expected an integer, got 'lots'",
        "field 'user_id': missing required field",
        "field 'started_at': absurd timestamp 1970-01-01T00:00:00Z",
        "field 'title': text of 100000 chars is implausibly long",
        "/helix/streams: malformed JSON",
        "/helix/games/top: HTML page instead of JSON",
    ]
    for fragment in expected:
        assert any(fragment in reason for reason in reasons), (fragment, reasons)
    assert all(r.startswith("twitch /helix/") for r in reasons)
    rows = query(pipeline, "select platform, poll_id, observed_at, payload from quarantine")
    assert {r[:3] for r in rows} == {("twitch", "twitch:20261102T001000Z", DATE)}
    assert any('"user_' in r[3] for r in rows)  # the truncated page body is kept
    assert "absurd timestamp" in caplog.text
    # the bad body was retried before being quarantined
    assert len(api.hits("/helix/games/top")) > 1


@pytest.mark.slow
@pytest.mark.parametrize("faults", [0.0, 0.3])
def test_against_simulator(tmp_path, monkeypatch, faults):
    from simulator import Simulator

    start = "2026-11-02T12:00:00Z"  # 21:00 KST, prime time
    with Simulator(seed=3, channels=120, faults=faults, slow_seconds=0.1, start=start) as sim:
        for key, value in sim.env(official=True).items():
            monkeypatch.setenv(key, value)
        pipeline = dlt.pipeline(
            pipeline_name="t_twitch_sim",
            destination=dlt.destinations.duckdb(str(tmp_path / "w.duckdb")),
            dataset_name="raw_twitch",
            pipelines_dir=str(tmp_path / "p"),
        )
        for _ in range(2):
            source = twitch_source(backoff_seconds=0.02, max_wait_seconds=2.0)
            pipeline.run(source).raise_on_failed_jobs()
            sim.advance(minutes=10)
    rows = query(
        pipeline,
        "select count(*), count(distinct (user_id, observed_at)), count(distinct observed_at),"
        " min(observed_at), min(viewer_count) from streams",
    )
    total, unique, polls, first, least = rows[0]
    assert total > 50 and total == unique and polls == 2 and least >= 0
    assert first == datetime(2026, 11, 2, 12, 0, tzinfo=UTC)  # simulated Date header
    assert query(pipeline, "select count(*) = count(distinct game_id) from games") == [(True,)]
    if "quarantine" in tables(pipeline):  # data faults are retried; anything left is named
        reasons = query(pipeline, "select reason from quarantine")
        assert all(r[0].startswith("twitch /") for r in reasons)
