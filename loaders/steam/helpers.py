"""Steam JSON -> rows with explicit arrow schemas; tracked apps; call budget; cadence."""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from loaders.records import Where, item_json, not_null

log = logging.getLogger("gst.steam")
TS = pa.timestamp("us", tz="UTC")

CURRENT_PLAYERS_SCHEMA = pa.schema(
    [
        ("poll_id", pa.string()),
        ("observed_at", TS),
        ("appid", pa.int64()),
        ("player_count", pa.int64()),
        ("result", pa.int32()),
    ]
)
PRICES_SCHEMA = pa.schema(
    [
        ("poll_id", pa.string()),
        ("observed_at", TS),
        ("appid", pa.int64()),
        ("success", pa.bool_()),
        ("is_free", pa.bool_()),
        ("currency", pa.string()),
        ("initial_price", pa.int64()),
        ("final_price", pa.int64()),
        ("discount_percent", pa.int32()),
    ]
)
REVIEWS_SCHEMA = pa.schema(
    [
        ("poll_id", pa.string()),
        ("observed_at", TS),
        ("appid", pa.int64()),
        ("review_score", pa.int32()),
        ("review_score_desc", pa.string()),
        ("total_positive", pa.int64()),
        ("total_negative", pa.int64()),
        ("total_reviews", pa.int64()),
    ]
)
APP_DETAILS_SCHEMA = pa.schema(
    [
        ("appid", pa.int64()),
        ("name", pa.string()),
        ("app_type", pa.string()),
        ("is_free", pa.bool_()),
        ("genres", pa.string()),
        ("categories", pa.string()),
        ("release_date_text", pa.string()),
        ("coming_soon", pa.bool_()),
        ("required_age", pa.int32()),
        ("header_image", pa.string()),
        ("poll_id", pa.string()),
        ("observed_at", TS),
        ("raw_item", pa.string()),
    ]
)
MOST_PLAYED_SCHEMA = pa.schema(
    [
        ("poll_id", pa.string()),
        ("observed_at", TS),
        ("rollup_date", TS),
        ("rank", pa.int32()),
        ("appid", pa.int64()),
        ("last_week_rank", pa.int32()),
        ("peak_in_game", pa.int64()),
    ]
)


def seed_appids(path: Path) -> list[int]:
    """Steam appids of the product's game seed (empty when the file does not exist)."""
    if not path.exists():
        log.info("steam: no seed file at %s, tracking charts/arguments only", path)
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        values = [row.get("steam_appid", "").strip() for row in csv.DictReader(handle)]
    return [int(value) for value in values if value.isdigit()]


def unique(appids: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(int(a) for a in appids))


def chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), max(1, size))]


def appdetails_params(appids: list[int], country: str, filters: str | None) -> dict[str, str]:
    """Query of /api/appdetails. Several appids work only with filters=price_overview
    (otherwise the Store answers 400 with body `null`), so that is refused here."""
    if not appids:
        raise ValueError("steam /api/appdetails: no appids")
    if len(appids) > 1 and filters != "price_overview":
        raise ValueError("steam /api/appdetails: several appids need filters=price_overview")
    params = {"appids": ",".join(str(a) for a in appids), "cc": country}
    if filters:
        params["filters"] = filters
    return params


class CallBudget:
    """Store calls left in this poll (the Store throttles at ~200 requests / 5 minutes)."""

    def __init__(self, calls: int) -> None:
        self.left = calls
        self.skipped = 0

    def take(self) -> bool:
        if self.left <= 0:
            self.skipped += 1
            return False
        self.left -= 1
        return True


def due_apps(
    appids: list[int], fetched: dict[str, str], now: datetime, every_minutes: float
) -> list[int]:
    """Apps whose last fetch (resource state, observed time) is older than the cadence;
    never-fetched first, then the stalest."""
    every = timedelta(minutes=every_minutes)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)

    def last(appid: int) -> datetime:
        value = fetched.get(str(appid))
        return datetime.fromisoformat(value) if value else epoch

    due = [a for a in appids if now - last(a) >= every]
    return sorted(due, key=last)


NEWS_SCHEMA = pa.schema(
    [
        ("poll_id", pa.string()),
        ("observed_at", TS),
        ("appid", pa.int64()),
        ("gid", pa.string()),
        ("title", pa.string()),
        ("url", pa.string()),
        ("is_external_url", pa.bool_()),
        ("author", pa.string()),
        ("contents", pa.string()),
        ("feedlabel", pa.string()),
        ("feedname", pa.string()),
        ("feed_type", pa.int32()),
        ("published_at", TS),
        ("tags", pa.string()),
        ("raw_item", pa.string()),
    ]
)


def news_rows(payload: Any, where: Where, appid: int) -> list[dict[str, Any]]:
    """GetNewsForApp/v2 -> one row per news item (``date`` is Unix seconds; tags joined)."""
    items = where.get(where.get(payload, "appnews", required=True), "newsitems", required=True)
    if not isinstance(items, list):
        raise where.bad("appnews.newsitems is not a list")
    rows = []
    for item in items:
        tags = where.get(item, "tags") or []
        if not isinstance(tags, list):
            raise where.bad("tags is not a list", "tags")
        date = where.int_of(item, "date", required=True, minimum=0)
        rows.append(
            {
                "appid": where.int_of(item, "appid", minimum=0) or appid,
                "gid": where.text_of(item, "gid", required=True),
                "title": where.text_of(item, "title"),
                "url": where.text_of(item, "url"),
                "is_external_url": where.bool_of(item, "is_external_url"),
                "author": where.text_of(item, "author"),
                "contents": where.text_of(item, "contents"),
                "feedlabel": where.text_of(item, "feedlabel"),
                "feedname": where.text_of(item, "feedname"),
                "feed_type": where.int_of(item, "feed_type"),
                "published_at": datetime.fromtimestamp(date, UTC),
                "tags": ",".join(str(t) for t in tags) or None,
                "raw_item": item_json(item),
            }
        )
    return rows


def current_players_row(payload: Any, where: Where, appid: int) -> dict[str, Any]:
    response = where.get(payload, "response", required=True)
    result = where.int_of(response, "result", required=True, minimum=0)
    count = where.int_of(response, "player_count", required=result == 1, minimum=0)
    return {"appid": appid, "player_count": count if result == 1 else None, "result": result}


def price_row(entry: Any, where: Where, appid: int) -> dict[str, Any]:
    success = where.bool_of(entry, "success", required=True)
    row: dict[str, Any] = {"appid": appid, "success": success, "is_free": None}
    if not success:
        return row
    data = where.get(entry, "data", required=True)
    if isinstance(data, list):  # the Store answers `[]` for free apps
        if data:
            raise where.bad("expected [] or an object", "data")
        row["is_free"] = True
        return row
    overview = where.get(data, "price_overview", required=False)
    if overview is None:
        return row
    row.update(
        is_free=False,
        currency=where.text_of(overview, "currency", required=True),
        initial_price=where.int_of(overview, "initial", required=True, minimum=0),
        final_price=where.int_of(overview, "final", required=True, minimum=0),
        discount_percent=where.int_of(overview, "discount_percent", minimum=0),
    )
    if not 0 <= (row["discount_percent"] or 0) <= 100:
        raise where.bad(f"discount {row['discount_percent']} outside 0..100", "discount")
    return row


def review_row(payload: Any, where: Where, appid: int) -> dict[str, Any]:
    if where.int_of(payload, "success", required=True, minimum=0) != 1:
        raise where.bad(f"success is {payload.get('success')!r}, not 1", "success")
    summary = where.get(payload, "query_summary", required=True)
    return {
        "appid": appid,
        "review_score": where.int_of(summary, "review_score", minimum=0),
        "review_score_desc": where.text_of(summary, "review_score_desc"),
        "total_positive": where.int_of(summary, "total_positive", required=True, minimum=0),
        "total_negative": where.int_of(summary, "total_negative", required=True, minimum=0),
        "total_reviews": where.int_of(summary, "total_reviews", required=True, minimum=0),
    }


def _descriptions(data: dict, name: str, where: Where) -> str | None:
    values = where.get(data, name)
    if values is None:
        return None
    if not isinstance(values, list):
        raise where.bad(f"expected a list, got {type(values).__name__}", name)
    return ", ".join(str(where.text_of(v, "description", required=True)) for v in values)


def _age(data: dict, where: Where) -> int | None:
    """`required_age` comes as int or string ("18", sometimes "18+")."""
    value = where.get(data, "required_age", required=False)
    if isinstance(value, str):
        digits = value.strip().rstrip("+")
        value = int(digits) if digits.isdigit() else None
    return where.int_of({"required_age": value}, "required_age", minimum=0)


def details_row(entry: Any, where: Where, appid: int) -> dict[str, Any] | None:
    """None when the Store does not know the app (`success: false`)."""
    if not where.bool_of(entry, "success", required=True):
        return None
    data = where.get(entry, "data", required=True)
    release = where.get(data, "release_date", required=False) or {}
    steam_appid = where.int_of(data, "steam_appid", minimum=0)
    if steam_appid is not None and steam_appid != appid:
        log.debug("steam appdetails %s answered for appid %s", appid, steam_appid)
    return {
        "appid": appid,
        "name": where.text_of(data, "name", required=True),
        "app_type": where.text_of(data, "type"),
        "is_free": where.bool_of(data, "is_free"),
        "genres": _descriptions(data, "genres", where),
        "categories": _descriptions(data, "categories", where),
        "release_date_text": where.text_of(release, "date"),
        "coming_soon": where.bool_of(release, "coming_soon"),
        "required_age": _age(data, where),
        "header_image": where.text_of(data, "header_image"),
        "raw_item": item_json(data),
    }


def most_played_rows(
    payload: Any, where: Where, observed_at: datetime
) -> tuple[datetime | None, list[Any]]:
    """(rollup_date, ranks list) of the chart; items are checked by `most_played_row`."""
    response = where.get(payload, "response", required=True)
    rollup = where.int_of(response, "rollup_date", minimum=0)
    ranks = where.get(response, "ranks", required=True)
    if not isinstance(ranks, list):
        raise where.bad(f"expected a list, got {type(ranks).__name__}", "ranks")
    rollup_at = datetime.fromtimestamp(rollup, UTC) if rollup else None
    if rollup_at and rollup_at > observed_at + timedelta(days=2):
        raise where.bad(f"absurd rollup_date {rollup_at:%F}", "rollup_date")
    return rollup_at, ranks


def most_played_row(item: Any, where: Where) -> dict[str, Any]:
    return {
        "rank": where.int_of(item, "rank", required=True, minimum=1),
        "appid": where.int_of(item, "appid", required=True, minimum=1),
        "last_week_rank": where.int_of(item, "last_week_rank", minimum=None),
        "peak_in_game": where.int_of(item, "peak_in_game", minimum=0),
    }


for _name in ("CURRENT_PLAYERS", "PRICES", "REVIEWS", "MOST_PLAYED"):
    globals()[f"{_name}_SCHEMA"] = not_null(globals()[f"{_name}_SCHEMA"], "appid", "observed_at")
APP_DETAILS_SCHEMA = not_null(APP_DETAILS_SCHEMA, "appid")
NEWS_SCHEMA = not_null(NEWS_SCHEMA, "gid", "appid")
