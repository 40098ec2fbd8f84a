"""Steam source against a local fake of the Web API and Store (real paths and shapes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dlt
import pytest

from loaders.steam import SEED_FILE, steam_source
from loaders.steam.helpers import appdetails_params, due_apps, seed_appids
from tests.support.fake_api import FakeApi

DATE = datetime(2026, 11, 2, 0, 10, 0, tzinfo=UTC)
POLL = "steam:20261102T001000Z"
PLAYERS = "/ISteamUserStats/GetNumberOfCurrentPlayers/v1/"
CHART = "/ISteamChartsService/GetMostPlayedGames/v1/"
DETAILS = "/api/appdetails"


@pytest.fixture
def api(fake_api):
    return fake_api


@pytest.fixture(autouse=True)
def _dlt_ids(monkeypatch):
    monkeypatch.setenv("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")
    monkeypatch.setenv("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_ID", "true")


def players_route(call):
    appid = int(call["query"]["appid"])
    if appid == 404:
        return (404, "<html>Not Found</html>")
    if appid == 42:
        return (200, {"response": {"result": 42}})
    return (200, {"response": {"player_count": appid * 10, "result": 1}})


def price(initial: int, final: int) -> dict:
    return {
        "success": True,
        "data": {
            "price_overview": {
                "currency": "KRW",
                "initial": initial,
                "final": final,
                "discount_percent": round(100 - 100 * final / initial),
                "initial_formatted": "₩ x",
                "final_formatted": "₩ y",
            }
        },
    }


def appdetails_route(call):
    """Multi-app calls must carry filters=price_overview, or the Store answers 400 null."""
    ids = call["query"]["appids"].split(",")
    filters = call["query"].get("filters")
    if len(ids) > 1 and filters != "price_overview":
        return (400, "null")
    if filters == "price_overview":
        body = {}
        for appid in ids:
            if appid == "570":
                body[appid] = {"success": True, "data": []}  # free
            elif appid == "999":
                body[appid] = {"success": False}
            else:
                body[appid] = price(1050000, 525000)
        return (200, body)
    appid = ids[0]
    if appid == "999":
        return (200, {appid: {"success": False}})
    return (
        200,
        {
            appid: {
                "success": True,
                "data": {
                    "type": "game",
                    "name": f"Game {appid}",
                    "steam_appid": int(appid),
                    "required_age": "18" if appid == "730" else 0,
                    "is_free": appid == "570",
                    "header_image": f"https://cdn/{appid}.jpg",
                    "genres": [
                        {"id": "1", "description": "Action"},
                        {"id": "37", "description": "Free To Play"},
                    ],
                    "categories": [{"id": 2, "description": "Single-player"}],
                    "release_date": {"coming_soon": False, "date": "21 Aug, 2012"},
                    "detailed_description": "long text not loaded as a column",
                },
            }
        },
    )


def reviews_route(call):
    appid = int(call["path"].rsplit("/", 1)[1])
    return (
        200,
        {
            "success": 1,
            "query_summary": {
                "num_reviews": 0,
                "review_score": 8,
                "review_score_desc": "Very Positive",
                "total_positive": appid,
                "total_negative": 10,
                "total_reviews": appid + 10,
            },
        },
    )


def serve(api: FakeApi, chart: list[int] = (730, 570, 578080)) -> None:
    api.routes[PLAYERS] = players_route
    api.routes[DETAILS] = appdetails_route
    api.routes[CHART] = [
        (
            200,
            {
                "response": {
                    "rollup_date": int(DATE.timestamp()) - 86400,
                    "ranks": [
                        {
                            "rank": i + 1,
                            "appid": a,
                            "last_week_rank": i + 2,
                            "peak_in_game": 1000 - i,
                        }
                        for i, a in enumerate(chart)
                    ],
                }
            },
        )
    ]
    for appid in (730, 570, 578080, 42, 404, 999, 1, 2, 3, 4, 5):
        api.routes[f"/appreviews/{appid}"] = reviews_route


def make_pipeline(tmp_path, name: str = "t_steam"):
    return dlt.pipeline(
        pipeline_name=name,
        destination=dlt.destinations.duckdb(str(tmp_path / "w.duckdb")),
        dataset_name="raw_steam",
        pipelines_dir=str(tmp_path / "p"),
    )


def run(api: FakeApi, pipeline, **kwargs):
    options = {
        "web_api_base_url": api.url,
        "store_base_url": api.url,
        "seed_path": "/nonexistent/games.csv",
        "backoff_seconds": 0.01,
        "max_wait_seconds": 2.0,
    }
    options.update(kwargs)
    info = pipeline.run(steam_source(**options))
    info.raise_on_failed_jobs()
    return pipeline


def query(pipeline, sql: str) -> list[tuple]:
    with pipeline.sql_client() as client:
        return [tuple(r) for r in client.execute_sql(sql)]


def test_full_poll_with_chart_players_prices(api, tmp_path):
    serve(api)
    pipeline = run(api, make_pipeline(tmp_path), appids=None)

    chart = query(
        pipeline,
        "select rank, appid, last_week_rank, peak_in_game, rollup_date,"
        " poll_id, observed_at from most_played order by rank",
    )
    assert [r[1] for r in chart] == [730, 570, 578080]
    assert chart[0][4] == DATE - timedelta(days=1)
    assert {r[5:] for r in chart} == {(POLL, DATE)}

    players = query(
        pipeline, "select appid, player_count, result from current_players order by appid"
    )
    assert players == [(570, 5700, 1), (730, 7300, 1), (578080, 5780800, 1)]

    prices = query(
        pipeline,
        "select appid, success, is_free, currency, initial_price,"
        " final_price, discount_percent from prices order by appid",
    )
    assert prices == [
        (570, True, True, None, None, None, None),
        (730, True, False, "KRW", 1050000, 525000, 50),
        (578080, True, False, "KRW", 1050000, 525000, 50),
    ]
    price_calls = [c for c in api.hits(DETAILS) if "filters" in c["query"]]
    assert len(price_calls) == 1 and price_calls[0]["query"]["cc"] == "kr"


def test_packaged_seed_is_the_dbt_seed():
    """The Steam source ships a copy of seeds/games.csv as package data (an installed loader
    has no project checkout): after a seed change, copy it with
    `cp seeds/games.csv loaders/steam/games.csv`."""
    root = Path(__file__).resolve().parents[2]
    assert SEED_FILE.read_bytes() == (root / "seeds" / "games.csv").read_bytes()
    assert len(seed_appids(SEED_FILE)) >= 10


def test_seed_file_adds_tracked_apps(api, tmp_path):
    seed = tmp_path / "games.csv"
    seed.write_text(
        "game_key,steam_appid,name_en,name_ko,genre,category_kind\n"
        "league_of_legends,,League of Legends,리그 오브 레전드,MOBA,game\n"
        "cs2,730,Counter-Strike 2,카운터 스트라이크 2,FPS,game\n"
        "other,1,Other,기타,Action,game\n",
        encoding="utf-8",
    )
    assert seed_appids(seed) == [730, 1]
    assert seed_appids(tmp_path / "missing.csv") == []
    serve(api, chart=[570])
    pipeline = run(api, make_pipeline(tmp_path), seed_path=str(seed))
    assert query(pipeline, "select appid from current_players order by appid") == [
        (1,),
        (570,),
        (730,),
    ]


@pytest.mark.parametrize("calls", [1, 4])
def test_result_42_404_success_false(api, tmp_path, calls):
    """The same rows whether the calls go one at a time or `concurrent_calls` at once."""
    serve(api)
    pipeline = run(api, make_pipeline(tmp_path), appids=[730, 42, 404, 999], concurrent_calls=calls)
    players = query(
        pipeline, "select appid, player_count, result from current_players order by appid"
    )
    assert players == [(42, None, 42), (730, 7300, 1), (999, 9990, 1)]  # 404 skipped
    prices = query(pipeline, "select appid, success, is_free from prices where appid = 999")
    assert prices == [(999, False, None)]
    details = query(pipeline, "select appid from app_details order by appid")
    assert (999,) not in details  # unknown to the Store: nothing to merge
    assert "quarantine" not in pipeline.default_schema.data_table_names()


def test_multi_app_calls_always_use_price_filter(api, tmp_path):
    serve(api)
    appids = list(range(1, 6)) + [730, 570]
    run(api, make_pipeline(tmp_path), appids=appids, price_chunk_size=3)
    calls = api.hits(DETAILS)
    priced = [c for c in calls if c["query"].get("filters") == "price_overview"]
    assert [len(c["query"]["appids"].split(",")) for c in priced] == [3, 3, 1]  # chunks of 3
    multi = [c for c in calls if "," in c["query"]["appids"]]
    assert multi and all(c["query"].get("filters") == "price_overview" for c in multi)
    single = [c for c in calls if "filters" not in c["query"]]
    assert sorted(int(c["query"]["appids"]) for c in single) == sorted(appids)  # details
    with pytest.raises(ValueError, match="several appids need filters=price_overview"):
        appdetails_params([730, 570], "kr", None)


def test_app_details_columns(api, tmp_path):
    serve(api)
    pipeline = run(api, make_pipeline(tmp_path), appids=[730], include_most_played=False)
    row = query(
        pipeline,
        "select appid, name, app_type, is_free, genres, categories,"
        " release_date_text, coming_soon, required_age, header_image, poll_id"
        " from app_details",
    )
    assert row == [
        (
            730,
            "Game 730",
            "game",
            False,
            "Action, Free To Play",
            "Single-player",
            "21 Aug, 2012",
            False,
            18,
            "https://cdn/730.jpg",
            POLL,
        )
    ]
    columns = pipeline.default_schema.get_table_columns("app_details")
    assert "detailed_description" not in columns and "raw_item" in columns


def test_poll_with_nothing_to_ask_still_creates_every_table(api, tmp_path):
    # no tracked app yet (empty chart, nothing seen on the streaming side): staging reads every
    # table, so each must exist, empty, instead of being missing
    serve(api, chart=[])
    pipeline = run(api, make_pipeline(tmp_path), appids=None)
    tables = ("most_played", "current_players", "prices", "reviews", "app_details", "news")
    assert set(tables) <= set(pipeline.default_schema.data_table_names())
    for table in tables:
        assert query(pipeline, f"select count(*) from {table}") == [(0,)], table
    assert not [c for c in api.calls if c["path"] != CHART]  # and nothing was asked for


def test_reviews_and_details_cadence_from_state(api, tmp_path):
    serve(api)
    pipeline = make_pipeline(tmp_path)
    options = {"appids": [730, 570], "include_most_played": False}

    def store_calls(prefix: str) -> int:
        return len(
            [c for c in api.calls if c["path"].startswith(prefix) and "filters" not in c["query"]]
        )

    run(api, pipeline, **options)
    assert store_calls("/appreviews/") == 2 and store_calls(DETAILS) == 2

    api.date = DATE + timedelta(minutes=30)  # next poll, within the hour
    run(api, pipeline, **options)
    assert store_calls("/appreviews/") == 2 and store_calls(DETAILS) == 2

    api.date = DATE + timedelta(minutes=61)  # reviews due again, details not
    run(api, pipeline, **options)
    assert store_calls("/appreviews/") == 4 and store_calls(DETAILS) == 2

    api.date = DATE + timedelta(days=1, minutes=1)
    run(api, pipeline, **options)
    assert store_calls("/appreviews/") == 6 and store_calls(DETAILS) == 4

    assert query(pipeline, "select count(*), count(distinct observed_at) from reviews") == [(6, 3)]
    assert query(pipeline, "select count(*) from app_details") == [(2,)]  # merged
    assert query(pipeline, "select count(*) from current_players") == [(8,)]  # every poll


def test_store_budget_defers_the_rest(api, tmp_path):
    serve(api)
    pipeline = make_pipeline(tmp_path)
    options = {"appids": [1, 2, 3, 4, 5], "include_most_played": False, "max_store_calls": 5}
    run(api, pipeline, **options)
    # 1 price call reserved; 4 left for reviews + details together
    store = [c for c in api.calls if not c["path"].startswith("/I")]  # Store paths only
    assert len(store) == 5  # the Web API player and news calls are not Store calls
    api.date = DATE + timedelta(minutes=10)
    run(api, pipeline, **options)
    reviewed = query(pipeline, "select count(distinct appid) from reviews")[0][0]
    detailed = query(pipeline, "select count(distinct appid) from app_details")[0][0]
    assert reviewed + detailed == 8  # the deferred apps were picked up next poll


def test_due_apps_orders_stalest_first():
    now = DATE
    fetched = {
        "1": (now - timedelta(minutes=90)).isoformat(),
        "2": (now - timedelta(minutes=10)).isoformat(),
        "3": (now - timedelta(minutes=300)).isoformat(),
    }
    assert due_apps([1, 2, 3, 4], fetched, now, 60) == [4, 3, 1]


def test_store_429_null_body_backs_off_then_loads(api, tmp_path):
    serve(api)
    api.routes["/appreviews/730"] = [(429, "null"), (429, "null"), reviews_route]
    answers = api.routes["/appreviews/730"]

    def route(call):
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return answer(call) if callable(answer) else answer

    api.routes["/appreviews/730"] = route
    pipeline = run(api, make_pipeline(tmp_path), appids=[730], include_most_played=False)
    assert len(api.hits("/appreviews/730")) == 3
    assert query(pipeline, "select appid, total_reviews from reviews") == [(730, 740)]


def test_bad_input_quarantined_rest_loaded(api, tmp_path):
    serve(api)
    good = players_route

    def players(call):
        appid = int(call["query"]["appid"])
        if appid == 1:
            return (200, {"response": {"player_count": -3, "result": 1}})
        if appid == 2:
            return (200, '{"response": {"player_count": 1')  # truncated, every time
        if appid == 3:
            return (200, {"response": {"result": 1}})  # missing player_count
        return good(call)

    api.routes[PLAYERS] = players
    api.routes["/appreviews/4"] = [(200, {"success": 1, "query_summary": {"total_positive": "x"}})]
    api.routes[CHART] = [(200, "<html>Error</html>")]
    pipeline = run(api, make_pipeline(tmp_path), appids=[1, 2, 3, 4, 730], max_attempts=2)

    assert query(pipeline, "select appid from current_players order by appid") == [(4,), (730,)]
    reasons = [r[0] for r in query(pipeline, "select reason from quarantine")]
    for fragment in [
        "field 'player_count': value -3 is below 0",
        f"steam {PLAYERS}: malformed JSON",
        "field 'player_count': missing required field",
        "steam /appreviews/4 field 'total_positive': expected an integer",
        f"steam {CHART}: HTML page instead of JSON",
    ]:
        assert any(fragment in reason for reason in reasons), (fragment, reasons)
    assert query(pipeline, "select count(*) from reviews") == [(4,)]
    assert {r[0] for r in query(pipeline, "select poll_id from quarantine")} == {POLL}


@pytest.mark.slow
@pytest.mark.parametrize("faults", [0.0, 0.3])
def test_against_simulator(tmp_path, monkeypatch, faults):
    from simulator import Simulator

    start = "2026-11-02T12:00:00Z"
    with Simulator(seed=3, channels=60, faults=faults, slow_seconds=0.1, start=start) as sim:
        for key, value in sim.env(official=True).items():
            monkeypatch.setenv(key, value)
        pipeline = make_pipeline(tmp_path)
        for _ in range(2):
            # injected 429s ask for 1-2 s; a short cap keeps the test fast (retries still succeed)
            source = steam_source(backoff_seconds=0.02, max_wait_seconds=0.2)
            pipeline.run(source).raise_on_failed_jobs()
            sim.advance(minutes=10)
    players = query(
        pipeline,
        "select count(*), count(distinct (appid, observed_at)), count(distinct observed_at),"
        " min(observed_at) from current_players",
    )
    total, unique, polls, first = players[0]
    assert total > 50 and total == unique and polls == 2
    assert first == datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
    charted = query(pipeline, "select count(distinct appid) from most_played")[0][0]
    assert charted > 50
    # reviews and details once in the hour, prices every poll
    assert query(pipeline, "select count(distinct observed_at) from reviews") == [(1,)]
    assert query(pipeline, "select count(distinct observed_at) from prices") == [(2,)]
    assert query(pipeline, "select count(*) = count(distinct appid) from app_details") == [(True,)]
    # news once in the hour per app, merged on gid, patch notes among them
    news = query(
        pipeline,
        "select count(*), count(distinct gid), count(distinct observed_at),"
        " sum(case when tags = 'patchnotes' then 1 else 0 end) from news",
    )
    total, gids, polls, patches = news[0]
    assert total > 50 and total == gids and polls == 1 and patches > 0


def test_poll_buffer_carries_the_cadence_state_with_the_rows(api, tmp_path):
    """Polls kept in a `PollBuffer` read and write the buffer's copy of the dlt state; its
    extract writes that state in the load package with the rows, so the next buffer (next
    flush, or next process) goes on from it."""
    from loaders.pipeline import PollBuffer, load_extracted

    serve(api)
    pipeline = make_pipeline(tmp_path, "gst_steam")  # the loader's name: its platform
    options = {
        "web_api_base_url": api.url, "store_base_url": api.url, "appids": [730, 570],
        "include_most_played": False, "seed_path": "/nonexistent/games.csv",
    }  # fmt: skip

    def reviews_calls() -> int:
        return len([c for c in api.calls if c["path"].startswith("/appreviews/")])

    buffer = PollBuffer("steam", pipeline.state)
    buffer.run(steam_source(**options))
    api.date = DATE + timedelta(minutes=30)  # within the hour: nothing due
    buffer.run(steam_source(**options))
    assert reviews_calls() == 2 and len(buffer) == 2
    assert buffer.extract(pipeline) and not buffer.extract(pipeline)  # emptied
    rows, _ = load_extracted(pipeline)
    assert rows["current_players"] == 4 and rows["reviews"] == 2

    api.date = DATE + timedelta(minutes=40)
    PollBuffer("steam", pipeline.state).run(steam_source(**options))  # new buffer, loaded state
    assert reviews_calls() == 2
    api.date = DATE + timedelta(minutes=61)
    PollBuffer("steam", pipeline.state).run(steam_source(**options))
    assert reviews_calls() == 4
    assert query(pipeline, "select count(*) from polls") == [(2,)]  # one record per poll
