"""Fault injection: every kind, retries that succeed, and no lost or changed observations."""

from __future__ import annotations

import json

import pytest
import requests

from simulator import Simulator
from simulator.server import FAULT_KINDS

START = "2026-11-02T12:00:00Z"
SOOP = "/soop-openapi/broad/list?client_id=sim-soop-client&order_type=view_cnt"
PLAYERS = "/steam-web-api/ISteamUserStats/GetNumberOfCurrentPlayers/v1/?appid=730"
CHZZK = "/chzzk-openapi/open/v1/lives?size=20"
CHZZK_AUTH = {"Client-Id": "sim-chzzk-client", "Client-Secret": "sim-chzzk-secret"}


@pytest.fixture(scope="module")
def faulty():
    with Simulator(seed=42, channels=150, faults=1.0, start=START, slow_seconds=0.4) as s:
        yield s


@pytest.fixture(scope="module")
def clean():
    with Simulator(seed=42, channels=150, faults=0.0, start=START) as s:
        yield s


@pytest.fixture()
def http():
    with requests.Session() as session:
        yield session


def _target(sim: Simulator, kind: str, base: str) -> str:
    """A request (base + a harmless probe param) whose first attempt gets fault ``kind``."""
    for probe in range(5000):
        target = f"{base}&probe={probe}"
        if sim.fault_for("GET", target, b"", 0) == kind:
            return target
    raise AssertionError(f"no probe found for fault {kind}")


def _cast(value):
    """What a loader does with numbers: accept 123 and "123" alike."""
    return int(value) if isinstance(value, str) and value.isdigit() else value


@pytest.mark.parametrize("kind", ["429", "429_retry_after", "500", "502", "503"])
def test_status_faults_then_success(faulty, clean, http, kind):
    target = _target(faulty, kind, PLAYERS)
    r = http.get(faulty.base_url + target)
    assert r.status_code == int(kind[:3])
    assert ("Retry-After" in r.headers) == (kind == "429_retry_after")
    if kind.startswith("429"):
        assert r.text == "null"  # Steam's body for throttling
    statuses = [http.get(faulty.base_url + target).status_code for _ in range(2)]
    assert statuses[-1] == 200
    assert http.get(faulty.base_url + target).content == http.get(clean.base_url + target).content


def test_twitch_429_fault_has_rate_limit_headers(faulty, http):
    token = http.post(
        faulty.base_url + "/twitch-auth/oauth2/token",
        data={
            "client_id": "sim-twitch-client",
            "client_secret": "sim-twitch-secret",
            "grant_type": "client_credentials",
        },
    )
    for _ in range(2):
        if token.status_code == 200:
            break
        token = http.post(
            faulty.base_url + "/twitch-auth/oauth2/token",
            data={
                "client_id": "sim-twitch-client",
                "client_secret": "sim-twitch-secret",
                "grant_type": "client_credentials",
            },
        )
    assert token.status_code == 200
    target = _target(faulty, "429_retry_after", "/twitch-api/helix/streams?first=10")
    r = http.get(
        faulty.base_url + target,
        headers={
            "Authorization": f"Bearer {token.json()['access_token']}",
            "Client-Id": "sim-twitch-client",
        },
    )
    assert r.status_code == 429 and r.json()["status"] == 429
    assert r.headers["Ratelimit-Remaining"] == "0" and int(r.headers["Ratelimit-Reset"]) > 0


def test_slow_response_times_out_then_succeeds(faulty, clean, http):
    target = _target(faulty, "slow", PLAYERS)
    with pytest.raises(requests.exceptions.Timeout):
        http.get(faulty.base_url + target, timeout=0.15)
    for _ in range(3):
        try:
            r = http.get(faulty.base_url + target, timeout=0.15)
        except requests.exceptions.Timeout:
            continue
        if r.status_code == 200 and r.content == http.get(clean.base_url + target).content:
            return
    raise AssertionError("slow fault never cleared")


def test_truncated_json(faulty, clean, http):
    target = _target(faulty, "truncated", PLAYERS)
    r = http.get(faulty.base_url + target)
    assert r.status_code == 200 and int(r.headers["Content-Length"]) == len(r.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.content)
    assert http.get(clean.base_url + target).content.startswith(r.content)


def test_html_page_with_status_200(faulty, http):
    r = http.get(faulty.base_url + _target(faulty, "html", PLAYERS))
    assert r.status_code == 200 and r.text.lstrip().startswith("<!DOCTYPE html")
    assert r.headers["Content-Type"].startswith("text/html")


def test_duplicates_within_page(faulty, clean, http):
    target = _target(faulty, "duplicates", CHZZK)
    got = http.get(faulty.base_url + target, headers=CHZZK_AUTH).json()["content"]
    ref = http.get(clean.base_url + target, headers=CHZZK_AUTH).json()["content"]
    ids = [i["liveId"] for i in got["data"]]
    assert len(ids) > len(set(ids)) and set(ids) == {i["liveId"] for i in ref["data"]}
    assert got["page"] == ref["page"]


def test_shifted_items_across_pages(faulty, clean, http):
    target = _target(faulty, "shifted", SOOP + "&page_no=2")
    got = http.get(faulty.base_url + target).json()["broad"]
    page2 = http.get(clean.base_url + target).json()["broad"]
    page1 = http.get(clean.base_url + SOOP + "&page_no=1").json()["broad"]
    assert got[len(got) - len(page2) :] == page2
    extra = got[: len(got) - len(page2)]
    assert extra and all(item in page1 for item in extra)


def test_unknown_field(faulty, clean, http):
    target = _target(faulty, "unknown_field", SOOP + "&page_no=1")
    got = http.get(faulty.base_url + target).json()["broad"]
    ref = http.get(clean.base_url + target).json()["broad"]
    assert all(set(g) - set(r) == {"simExperimentalFlag"} for g, r in zip(got, ref, strict=True))
    assert [{k: v for k, v in g.items() if k in r} for g, r in zip(got, ref, strict=True)] == ref


def test_changed_type(faulty, clean, http):
    target = _target(faulty, "changed_type", PLAYERS)
    got = http.get(faulty.base_url + target).json()["response"]
    ref = http.get(clean.base_url + target).json()["response"]
    assert isinstance(got["player_count"], str) and int(got["player_count"]) == ref["player_count"]
    soop = _target(faulty, "changed_type", SOOP + "&page_no=1")
    items = http.get(faulty.base_url + soop).json()["broad"]
    ref_items = http.get(clean.base_url + soop).json()["broad"]
    assert isinstance(items[0]["total_view_cnt"], int)
    assert [{k: str(v) for k, v in i.items()} for i in items] == ref_items


def test_every_kind_occurs_and_is_capped(faulty):
    kinds = {faulty.fault_for("GET", f"{PLAYERS}&probe={p}", b"", 0) for p in range(400)}
    assert kinds == set(FAULT_KINDS)
    assert all(faulty.fault_for("GET", f"{PLAYERS}&probe={p}", b"", 2) is None for p in range(400))


def test_admin_endpoints_never_faulted(faulty, http):
    for _ in range(5):
        r = http.get(faulty.base_url + "/_sim/now")
        assert r.status_code == 200 and r.json()["now"] == "2026-11-02T12:00:00Z"


def test_faults_are_reproducible(http):
    def statuses() -> list[int]:
        with Simulator(seed=4, channels=20, faults=0.5, start=START, slow_seconds=0.05) as s:
            return [http.get(f"{s.base_url}{PLAYERS}&probe={p}").status_code for p in range(30)]

    first = statuses()
    assert first == statuses() and set(first) != {200}


def _get_json(
    http: requests.Session, url: str, headers: dict | None = None, data: dict | None = None
):
    """A client that retries like a loader: non-200, timeouts, non-JSON bodies."""
    for _ in range(6):
        try:
            if data is not None:
                r = http.post(url, data=data, timeout=0.2)
            else:
                r = http.get(url, headers=headers, timeout=0.2)
        except requests.exceptions.RequestException:
            continue
        if r.status_code != 200:
            continue
        try:
            return r.json()
        except ValueError:
            continue
    raise AssertionError(f"request never succeeded: {url}")


def _collect(sim: Simulator, http: requests.Session) -> dict[str, set]:
    out: dict[str, set] = {"soop": set(), "chzzk": set(), "twitch": set()}
    page = 1
    while True:
        broad = _get_json(http, f"{sim.base_url}{SOOP}&page_no={page}")["broad"]
        out["soop"] |= {(b["user_id"], _cast(b["total_view_cnt"])) for b in broad}
        if len(broad) < 60:
            break
        page += 1
    nxt = None
    while True:
        url = sim.base_url + CHZZK + (f"&next={nxt}" if nxt else "")
        content = _get_json(http, url, CHZZK_AUTH)["content"]
        out["chzzk"] |= {(i["channelId"], _cast(i["concurrentUserCount"])) for i in content["data"]}
        nxt = content["page"]["next"]
        if not nxt:
            break
    token = _get_json(
        http,
        sim.base_url + "/twitch-auth/oauth2/token",
        data={
            "client_id": "sim-twitch-client",
            "client_secret": "sim-twitch-secret",
            "grant_type": "client_credentials",
        },
    )["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Client-Id": "sim-twitch-client"}
    after = None
    while True:
        url = (
            sim.base_url
            + "/twitch-api/helix/streams?first=50"
            + (f"&after={after}" if after else "")
        )
        body = _get_json(http, url, headers)
        out["twitch"] |= {(s["user_id"], _cast(s["viewer_count"])) for s in body["data"]}
        if not body["pagination"]:
            break
        after = body["pagination"]["cursor"]
    return out


def test_a_retrying_client_loses_nothing(http):
    with (
        Simulator(seed=21, channels=150, faults=0.3, start=START, slow_seconds=0.3) as noisy,
        Simulator(seed=21, channels=150, faults=0.0, start=START) as calm,
    ):
        got, ref = _collect(noisy, http), _collect(calm, http)
        assert all(ref[p] for p in ref)
        assert got == ref
        assert len(ref["soop"]) == len(calm.world.state("soop", calm.minute()))
