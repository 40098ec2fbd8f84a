"""Steam JSON -> rows with explicit arrow schemas; tracked apps; call budget; cadence."""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from loaders.common import BadPayload, item_json
from loaders.twitch.helpers import TS, boolean, field, integer, required, text

log = logging.getLogger("gst.steam")

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


def news_rows(payload: Any, where: tuple[str, str], appid: int) -> list[dict[str, Any]]:
    """GetNewsForApp/v2 -> one row per news item (``date`` is Unix seconds; tags joined)."""
    items = field(field(payload, "appnews", where), "newsitems", where)
    if not isinstance(items, list):
        raise BadPayload(*where, "appnews.newsitems is not a list")
    rows = []
    for item in items:
        tags = field(item, "tags", where, required=False) or []
        if not isinstance(tags, list):
            raise BadPayload(*where, "tags is not a list", "tags")
        date = integer(item, "date", where, required=True)
        rows.append(
            {
                "appid": integer(item, "appid", where) or appid,
                "gid": text(item, "gid", where, required=True),
                "title": text(item, "title", where),
                "url": text(item, "url", where),
                "is_external_url": boolean(item, "is_external_url", where),
                "author": text(item, "author", where),
                "contents": text(item, "contents", where),
                "feedlabel": text(item, "feedlabel", where),
                "feedname": text(item, "feedname", where),
                "feed_type": integer(item, "feed_type", where),
                "published_at": datetime.fromtimestamp(date, UTC),
                "tags": ",".join(str(t) for t in tags) or None,
                "raw_item": item_json(item),
            }
        )
    return rows


def current_players_row(payload: Any, where: tuple[str, str], appid: int) -> dict[str, Any]:
    response = field(payload, "response", where)
    result = integer(response, "result", where, required=True)
    count = integer(response, "player_count", where, required=result == 1)
    return {"appid": appid, "player_count": count if result == 1 else None, "result": result}


def price_row(entry: Any, where: tuple[str, str], appid: int) -> dict[str, Any]:
    success = boolean(entry, "success", where, required=True)
    row: dict[str, Any] = {"appid": appid, "success": success, "is_free": None}
    if not success:
        return row
    data = field(entry, "data", where)
    if isinstance(data, list):  # the Store answers `[]` for free apps
        if data:
            raise BadPayload(*where, "expected [] or an object", "data")
        row["is_free"] = True
        return row
    overview = field(data, "price_overview", where, required=False)
    if overview is None:
        return row
    row.update(
        is_free=False,
        currency=text(overview, "currency", where, required=True),
        initial_price=integer(overview, "initial", where, required=True),
        final_price=integer(overview, "final", where, required=True),
        discount_percent=integer(overview, "discount_percent", where),
    )
    if not 0 <= (row["discount_percent"] or 0) <= 100:
        raise BadPayload(*where, f"discount {row['discount_percent']} outside 0..100", "discount")
    return row


def review_row(payload: Any, where: tuple[str, str], appid: int) -> dict[str, Any]:
    if integer(payload, "success", where, required=True) != 1:
        raise BadPayload(*where, f"success is {payload.get('success')!r}, not 1", "success")
    summary = field(payload, "query_summary", where)
    return {
        "appid": appid,
        "review_score": integer(summary, "review_score", where),
        "review_score_desc": text(summary, "review_score_desc", where),
        "total_positive": integer(summary, "total_positive", where, required=True),
        "total_negative": integer(summary, "total_negative", where, required=True),
        "total_reviews": integer(summary, "total_reviews", where, required=True),
    }


def _descriptions(data: dict, name: str, where: tuple[str, str]) -> str | None:
    values = field(data, name, where, required=False)
    if values is None:
        return None
    if not isinstance(values, list):
        raise BadPayload(*where, f"expected a list, got {type(values).__name__}", name)
    return ", ".join(str(text(v, "description", where, required=True)) for v in values)


def _age(data: dict, where: tuple[str, str]) -> int | None:
    """`required_age` comes as int or string ("18", sometimes "18+")."""
    value = field(data, "required_age", where, required=False)
    if isinstance(value, str):
        digits = value.strip().rstrip("+")
        value = int(digits) if digits.isdigit() else None
    return integer({"required_age": value}, "required_age", where)


def details_row(entry: Any, where: tuple[str, str], appid: int) -> dict[str, Any] | None:
    """None when the Store does not know the app (`success: false`)."""
    if not boolean(entry, "success", where, required=True):
        return None
    data = field(entry, "data", where)
    release = field(data, "release_date", where, required=False) or {}
    steam_appid = integer(data, "steam_appid", where)
    if steam_appid is not None and steam_appid != appid:
        log.debug("steam appdetails %s answered for appid %s", appid, steam_appid)
    return {
        "appid": appid,
        "name": text(data, "name", where, required=True),
        "app_type": text(data, "type", where),
        "is_free": boolean(data, "is_free", where),
        "genres": _descriptions(data, "genres", where),
        "categories": _descriptions(data, "categories", where),
        "release_date_text": text(release, "date", where),
        "coming_soon": boolean(release, "coming_soon", where),
        "required_age": _age(data, where),
        "header_image": text(data, "header_image", where),
        "raw_item": item_json(data),
    }


def most_played_rows(
    payload: Any, where: tuple[str, str], observed_at: datetime
) -> tuple[datetime | None, list[Any]]:
    """(rollup_date, ranks list) of the chart; items are checked by `most_played_row`."""
    response = field(payload, "response", where)
    rollup = integer(response, "rollup_date", where)
    ranks = field(response, "ranks", where)
    if not isinstance(ranks, list):
        raise BadPayload(*where, f"expected a list, got {type(ranks).__name__}", "ranks")
    rollup_at = datetime.fromtimestamp(rollup, UTC) if rollup else None
    if rollup_at and rollup_at > observed_at + timedelta(days=2):
        raise BadPayload(*where, f"absurd rollup_date {rollup_at:%F}", "rollup_date")
    return rollup_at, ranks


def most_played_row(item: Any, where: tuple[str, str]) -> dict[str, Any]:
    return {
        "rank": integer(item, "rank", where, required=True, minimum=1),
        "appid": integer(item, "appid", where, required=True, minimum=1),
        "last_week_rank": integer(item, "last_week_rank", where, minimum=None),
        "peak_in_game": integer(item, "peak_in_game", where),
    }


for _name in ("CURRENT_PLAYERS", "PRICES", "REVIEWS", "MOST_PLAYED"):
    globals()[f"{_name}_SCHEMA"] = required(globals()[f"{_name}_SCHEMA"], "appid", "observed_at")
APP_DETAILS_SCHEMA = required(APP_DETAILS_SCHEMA, "appid")
NEWS_SCHEMA = required(NEWS_SCHEMA, "gid", "appid")
