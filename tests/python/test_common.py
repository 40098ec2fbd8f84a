"""Shared source helpers: KST times, and list pages merged into larger arrow tables for dlt."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from loaders.records import batched_tables, item_json, kst_to_utc, rows_to_arrow

SCHEMA = pa.schema([("id", pa.int64())])


def page(*ids: int) -> pa.Table:
    return pa.Table.from_pylist([{"id": i} for i in ids], schema=SCHEMA)


def ids(item) -> list[int]:
    return item.column("id").to_pylist()


def test_pages_merge_into_batches_and_other_items_pass_at_once():
    marker = {"quarantine": 1}
    items = [page(1, 2), marker, page(3), page(4, 5), page(6)]
    out = list(batched_tables(iter(items), rows=3))
    assert out[0] is marker  # not held back behind the rows in hand
    assert [ids(t) for t in out[1:]] == [[1, 2, 3], [4, 5, 6]]


def test_wrap_applies_to_each_merged_table():
    out = list(batched_tables(iter([page(1), page(2)]), wrap=lambda t: ("wrapped", t), rows=10))
    assert len(out) == 1 and out[0][0] == "wrapped" and ids(out[0][1]) == [1, 2]


def test_only_empty_pages_still_yield_one_empty_table():
    out = list(batched_tables(iter([page(), page()])))
    assert len(out) == 1 and out[0].num_rows == 0 and out[0].schema == SCHEMA
    assert list(batched_tables(iter([]))) == []


def test_rows_in_hand_are_yielded_before_the_error():
    def pages():
        yield page(1, 2)
        raise RuntimeError("retries exhausted")

    got = []
    with pytest.raises(RuntimeError, match="retries exhausted"):
        for item in batched_tables(pages(), rows=100):
            got.append(ids(item))
    assert got == [[1, 2]]


def test_closing_early_does_not_yield_again():
    gen = batched_tables(iter([page(1), page(2), page(3)]), rows=1)
    assert ids(next(gen)) == [1]
    gen.close()  # raises RuntimeError if the generator yields again on GeneratorExit
    with pytest.raises(StopIteration):
        next(gen)


def test_kst_times_become_utc():
    assert kst_to_utc("2025-11-26 17:53:01") == datetime(2025, 11, 26, 8, 53, 1, tzinfo=UTC)
    assert kst_to_utc(" 2026-01-01 00:30:00 ") == datetime(2025, 12, 31, 15, 30, tzinfo=UTC)
    assert kst_to_utc("") is None and kst_to_utc(None) is None


@pytest.mark.parametrize(
    "text",
    [
        "2025-11-26",  # a date alone
        "2025-11-26T17:53:01",  # ISO 'T': not what Chzzk/SOOP send
        "2025-11-26 17:53:01+09:00",  # an offset would be applied twice
        "2025-11-26 17:53",
        "2025-13-26 17:53:01",
        "2025-11-26 25:00:00",
        "\u0662025-11-26 17:53:01",  # a non-ASCII digit
    ],
)
def test_kst_times_in_any_other_shape_are_refused(text):
    with pytest.raises(ValueError):
        kst_to_utc(text)


def test_rows_to_arrow_matches_from_pylist_with_missing_keys_as_null():
    schema = pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            ("n", pa.int64()),
            ("at", pa.timestamp("us", tz="UTC")),
            ("ok", pa.bool_()),
        ]
    )
    at = datetime(2026, 11, 2, 12, 30, tzinfo=UTC)
    rows = [{"id": "a", "n": 1, "at": at, "ok": True}, {"id": "b", "extra": "dropped"}]
    table = rows_to_arrow(rows, schema)
    assert table.equals(pa.Table.from_pylist(rows, schema=schema))
    assert table.schema == schema and table.to_pylist()[1] == {
        "id": "b",
        "n": None,
        "at": None,
        "ok": None,
    }
    assert rows_to_arrow([], schema).num_rows == 0


def test_item_json_is_compact_utf8_and_takes_what_orjson_refuses():
    item = {"nick": "닉네임", "n": 1, "tags": ["a"], "x": None, "ok": True}
    assert item_json(item) == '{"nick":"닉네임","n":1,"tags":["a"],"x":null,"ok":true}'
    huge = 2**70  # beyond 64 bits: kept exactly, not as a float
    assert item_json({"id": huge}) == f'{{"id":{huge}}}'
    at = datetime(2026, 11, 2, tzinfo=UTC)
    assert item_json({"at": at}) == '{"at":"2026-11-02T00:00:00+00:00"}'  # ISO 8601
    assert item_json({"v": {1, 2}})[:6] == '{"v":"'  # no JSON type: its text


# --- the environment `requests` would read per request --------------------------------------


@pytest.fixture
def bare_env(monkeypatch, tmp_path):
    """No proxy, CA bundle or netrc variables, and a home directory without .netrc."""
    import os

    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name.lower() in (
            "requests_ca_bundle",
            "curl_ca_bundle",
            "netrc",
        ):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def test_environment_lookup_is_skipped_only_when_it_would_find_nothing(bare_env, monkeypatch):
    from loaders.http import PoliteSession, environment_matters

    assert environment_matters() is False
    assert PoliteSession("twitch").session.trust_env is False
    monkeypatch.setenv("no_proxy", "localhost")  # alone, it changes nothing
    assert environment_matters() is False
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy:3128")
    assert environment_matters() is True
    assert PoliteSession("twitch").session.trust_env is True
    monkeypatch.delenv("HTTPS_PROXY")
    (bare_env / ".netrc").write_text("machine api.twitch.tv login x password y\n")
    assert environment_matters() is True


@pytest.mark.parametrize("name", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_a_ca_bundle_in_the_environment_is_set_on_the_session_once(bare_env, monkeypatch, name):
    """What requests would read from the environment on every request, read once."""
    import requests

    from loaders.http import PoliteSession

    monkeypatch.setenv(name, "/etc/ssl/bundle.pem")
    session = PoliteSession("twitch").session
    assert session.trust_env is False
    ours = session.merge_environment_settings("https://api.twitch.tv/x", {}, None, None, None)
    plain = requests.Session().merge_environment_settings(
        "https://api.twitch.tv/x", {}, None, None, None
    )
    assert ours["verify"] == plain["verify"] == "/etc/ssl/bundle.pem"


def test_a_proxy_in_the_environment_is_used(bare_env, monkeypatch):
    from loaders.http import PoliteSession

    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    session = PoliteSession("soop").session
    settings = session.merge_environment_settings("http://api.example/x", {}, None, None, None)
    assert settings["proxies"].get("http") == "http://proxy.invalid:3128"
