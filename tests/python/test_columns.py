"""The column-wise fast path of the list sources gives exactly what the item-by-item checks
give: the same table, the same quarantined items with the same reasons, the same
de-duplication. Every field of a well-formed page is replaced in turn by each odd value
below; both paths must agree, and a well-formed page must take the fast path."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from loaders import columns as col
from loaders.chzzk import helpers as chzzk
from loaders.records import Poll, Where
from loaders.soop import helpers as soop
from loaders.twitch import helpers as twitch

AT = datetime(2026, 11, 2, 12, 30, tzinfo=UTC)
MISSING = object()  # the key is absent from the item

ODD_VALUES = [
    MISSING, None, "", " ", "\u3000", "\x1c", " 12", "12 ", "+5", "--5", "-", "²", "١٢",
    "007", "-0", "12", "-12", 0, 1, -1, 12, 1.0, 1.5, True, False, "true", "True", "false",
    "0", "1", 2**62, 2**62 + 1, 2**63 - 1, 2**63, -(2**63), 2**64, "9223372036854775807",
    "9223372036854775808", "-9223372036854775808", "x" * 4096, "x" * 4097, "가" * 4097, {}, [],
    [1], "123456789", "00040066", "4006a",
    "2026-11-02 10:00:00", "2026-02-30 10:00:00", "2026-02-29 10:00:00", "2028-02-29 10:00:00",
    "2026-11-02 23:59:60", "2026-11-02 24:00:00", "2026-13-02 10:00:00", "2026-1-2 3:04:05",
    " 2026-11-02 10:00:00", "2026-11-02T10:00:00", "2026-11-02", "0000-01-01 00:00:00",
    "2005-01-01 09:00:00", "2005-01-01 08:59:59", "2026-11-03 21:30:00", "2026-11-03 21:30:01",
    "2026-11-02T10:00:00Z", "2026-11-02T10:00:00+09:00", "2026-11-02T10:00:00.5Z",
    "2007-01-01T00:00:00Z", "2006-12-31T23:59:59Z", "2026-11-03T12:30:00Z",
    "2026-11-03T12:30:01Z", "2026-02-30T10:00:00Z", "2026-11-02T25:00:00Z",
]  # fmt: skip


def soop_item(i: int) -> dict:
    return {
        "broad_no": str(280_000_000 + i),
        "user_id": f"bj{i:04d}",
        "user_nick": f"닉 {i}",
        "broad_title": f"방송 {i}",
        "broad_cate_no": "40066" if i % 2 else "00040019",
        "broad_start": "2026-11-02 09:00:00",
        "total_view_cnt": str(50_000 - i),
        "broad_grade": "19" if i % 5 == 0 else "0",
        "is_password": "1" if i % 3 == 0 else "0",
        "visit_broad_type": "1",
    }


def chzzk_item(i: int) -> dict:
    return {
        "liveId": 1000 + i,
        "liveTitle": f"title {i}",
        "concurrentUserCount": 10_000 - i,
        "openDate": "2026-11-02 08:30:00",
        "adult": i % 3 == 0,
        "categoryType": "GAME",
        "liveCategory": "Dota_2",
        "liveCategoryValue": "도타 2",
        "channel": {"channelId": f"ch{i:04d}", "channelName": f"name {i}", "verifiedMark": False},
    }


def twitch_item(i: int) -> dict:
    return {
        "id": f"4{i:04d}",
        "user_id": f"9{i:04d}",
        "user_login": f"user{i}",
        "user_name": f"User{i}",
        "game_id": "32399",
        "game_name": "Counter-Strike",
        "type": "live",
        "title": f"stream {i}",
        "viewer_count": 5000 - i,
        "started_at": "2026-11-01T22:00:00Z",
        "language": "en",
        "is_mature": i % 3 == 0,
        "tags": ["English"],
    }


class Soop:
    name = "soop"
    item = staticmethod(soop_item)
    where = Where("soop", "/api/main_broad_list_api.php")
    poll = Poll("soop", AT, "web")

    def fast(self, items, seen):
        return soop.broads_page(items, self.where, self.poll, seen)

    def slow(self, items, seen):
        return soop.broads_page(items, self.where, self.poll, seen, fast=False)

    def table(self, items):
        return soop.broads_table(items, self.poll)


class Chzzk:
    name = "chzzk"
    item = staticmethod(chzzk_item)
    where = Where("chzzk", "/service/v1/lives")
    poll = Poll("chzzk", AT, "service")

    def fast(self, items, seen):
        return chzzk.lives_page(items, self.where, self.poll, seen)

    def slow(self, items, seen):
        return chzzk.lives_page(items, self.where, self.poll, seen, fast=False)

    def table(self, items):
        return chzzk.lives_table(items, self.poll)


class Twitch:
    name = "twitch"
    item = staticmethod(twitch_item)
    where = Where("twitch", "/helix/streams")
    poll = "twitch:20261102T123000Z"

    def _read(self, items, seen, fast):
        table, bad = twitch.read_page(
            items, self.where, self.poll, AT, twitch.stream_row, twitch.STREAMS_SCHEMA, fast
        )
        dedup = twitch.Deduper()
        dedup.seen = seen
        table = table.filter(pa.array(dedup.keep(table, ("stream_id", "user_id")), pa.bool_()))
        return table, [(str(exc), item) for exc, item in bad]

    def fast(self, items, seen):
        return self._read(items, seen, twitch.streams_table)

    def slow(self, items, seen):
        return self._read(items, seen, None)

    def table(self, items):
        return twitch.streams_table(items, self.poll, AT)


SOURCES = [Soop(), Chzzk(), Twitch()]
PAGE = 6


def page(source) -> list[dict]:
    return [source.item(i) for i in range(PAGE)]


def fields(source) -> list[tuple[str, ...]]:
    """Paths of every field of an item, nested ones (Chzzk's channel) included."""
    paths = []
    for key, value in source.item(0).items():
        paths.append((key,))
        if isinstance(value, dict):
            paths += [(key, inner) for inner in value]
    return paths


def with_value(items: list[dict], row: int, path: tuple[str, ...], value) -> list[dict]:
    items = copy.deepcopy(items)
    target = items[row]
    for key in path[:-1]:
        target = target[key]
    if value is MISSING:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return items


def both(source, items: list, seen: set | None = None):
    """(fast path result, item-by-item result), each from its own copy of `seen`."""
    seen = seen or set()
    fast_seen, slow_seen = set(seen), set(seen)
    fast = source.fast(copy.deepcopy(items), fast_seen)
    slow = source.slow(copy.deepcopy(items), slow_seen)
    return fast, slow, fast_seen, slow_seen


def assert_same(source, items, seen=None):
    (f_table, f_bad), (s_table, s_bad), f_seen, s_seen = both(source, items, seen)
    assert f_table.schema == s_table.schema
    assert f_table.to_pylist() == s_table.to_pylist()
    assert f_bad == s_bad
    assert f_seen == s_seen


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_a_well_formed_page_takes_the_fast_path_and_matches(source):
    items = page(source)
    table = source.table(items)  # raises Irregular if the fast path refused it
    assert table.num_rows == PAGE
    assert_same(source, items)


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_every_odd_value_in_every_field_gives_the_same_result(source):
    items = page(source)
    fast_taken = 0
    for path in fields(source):
        for value in ODD_VALUES:
            for row in (0, PAGE - 1):
                odd = with_value(items, row, path, value)
                try:
                    assert_same(source, odd)
                except AssertionError as exc:
                    raise AssertionError(f"{source.name} {path}={value!r:.40} row {row}") from exc
                try:
                    source.table(odd)
                    fast_taken += 1
                except col.Irregular:
                    pass
    assert fast_taken > 0  # some odd-but-valid values (e.g. '' in optional text) stay fast


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_items_that_are_not_objects_match(source):
    for bad in (None, "x", 3, [], [source.item(0)]):
        items = page(source)
        items[2] = bad
        assert_same(source, items)


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_duplicates_within_the_page_and_from_earlier_pages_match(source):
    items = page(source)
    items[3] = copy.deepcopy(items[1])  # the list shifted: the same stream twice
    earlier = Soop, Chzzk
    if isinstance(source, earlier):
        seen = {items[0]["user_id"] if source.name == "soop" else items[0]["channel"]["channelId"]}
    else:
        seen = {("user_id", items[0]["user_id"])}
    (f_table, f_bad), _, _, _ = both(source, items, seen)
    assert f_table.num_rows == PAGE - 2
    assert_same(source, items, seen)
    assert source.name == "twitch" or len(f_bad) == 2  # soop/chzzk quarantine the duplicates


def test_empty_page():
    for source in SOURCES:
        assert_same(source, [])
        assert source.table([]).num_rows == 0


def test_kst_column_converts_like_the_item_checks():
    column = ["2026-11-02 09:00:00", None, "", "2005-01-01 09:00:00"]
    array = col.kst_time(column, AT)
    assert array.type == col.UTC
    assert array.to_pylist() == [
        datetime(2026, 11, 2, 0, 0, tzinfo=UTC),
        None,
        None,
        datetime(2005, 1, 1, 0, 0, tzinfo=UTC),
    ]
    for odd in ("2026-02-30 10:00:00", "2004-12-31 23:59:59", "2026-11-02T09:00:00"):
        with pytest.raises(col.Irregular):
            col.kst_time([odd], AT)
