"""SOOP page JSON -> pyarrow tables. Every SOOP value arrives as a string: cast here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa

from loaders.common import (
    BadPayload,
    Quarantined,
    Where,
    arrow_columns,
    item_json,
    rows_to_arrow,
)

UTC = pa.timestamp("us", tz="UTC")

BROADS_SCHEMA = pa.schema(
    [
        pa.field("poll_id", pa.string(), nullable=False),
        pa.field("observed_at", UTC, nullable=False),
        ("api_variant", pa.string()),
        ("broad_no", pa.int64()),
        pa.field("user_id", pa.string(), nullable=False),
        ("user_nick", pa.string()),
        ("broad_title", pa.string()),
        ("broad_cate_no", pa.string()),
        ("broad_started_at", UTC),
        pa.field("total_view_cnt", pa.int64(), nullable=False),
        ("broad_grade", pa.int64()),
        ("is_password", pa.bool_()),
        ("raw_item", pa.string()),
    ]
)
CATEGORIES_SCHEMA = pa.schema(
    [
        pa.field("category_no", pa.string(), nullable=False),
        ("category_name", pa.string()),
        ("view_cnt", pa.int64()),
        ("poll_id", pa.string()),
        ("observed_at", UTC),
    ]
)
BROADS_COLUMNS = arrow_columns(BROADS_SCHEMA)
CATEGORIES_COLUMNS = arrow_columns(CATEGORIES_SCHEMA)


class Poll:
    """Identity of one SOOP poll: every row of it shares observed_at and poll_id."""

    def __init__(self, poll_id: str, observed_at: datetime, api_variant: str):
        self.poll_id, self.observed_at, self.api_variant = poll_id, observed_at, api_variant

    def quarantine(self, endpoint: str, reason: str, payload: Any) -> Quarantined:
        text = payload if isinstance(payload, str) else item_json(payload)
        return Quarantined("soop", endpoint, reason, text, self.poll_id, self.observed_at)


def category_no(value: Any, where: Where, field: str, *, required: bool = False) -> str | None:
    """'40066', 40066 or '00040066' -> '00040066' (8 digits, as most SOOP APIs send it)."""
    text = where.text(value, field, required=required)
    if text is None or text == "":
        return None
    if not text.isdigit() or len(text) > 8:
        raise where.bad(f"category number {text!r:.20} is not up to 8 digits", field)
    return text.zfill(8)


def broad_row(item: Any, where: Where, poll: Poll) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise where.bad(f"item is {type(item).__name__}, not an object")
    return {
        "poll_id": poll.poll_id,
        "observed_at": poll.observed_at,
        "api_variant": poll.api_variant,
        "broad_no": where.int(item.get("broad_no"), "broad_no", required=True, minimum=0),
        "user_id": where.text(item.get("user_id"), "user_id", required=True),
        "user_nick": where.text(item.get("user_nick"), "user_nick"),
        "broad_title": where.text(item.get("broad_title"), "broad_title"),
        "broad_cate_no": category_no(item.get("broad_cate_no"), where, "broad_cate_no"),
        "broad_started_at": where.kst_time(
            item.get("broad_start"), "broad_start", poll.observed_at
        ),
        "total_view_cnt": where.int(
            item.get("total_view_cnt"), "total_view_cnt", required=True, minimum=0
        ),
        "broad_grade": where.int(item.get("broad_grade"), "broad_grade", minimum=0),
        "is_password": where.bool(item.get("is_password"), "is_password"),
        "raw_item": item_json(item),
    }


def broads_page(
    items: list, where: Where, poll: Poll, seen: set[str]
) -> tuple[pa.Table, list[Quarantined]]:
    """A page of broadcasts as an arrow table, de-duplicated on user_id across the poll."""
    rows, rejected = [], []
    for item in items:
        try:
            row = broad_row(item, where, poll)
        except BadPayload as exc:
            rejected.append(poll.quarantine(where.endpoint, str(exc), item))
            continue
        if row["user_id"] in seen:
            reason = f"soop {where.endpoint} field 'user_id': duplicate in this poll (first kept)"
            rejected.append(poll.quarantine(where.endpoint, reason, item))
            continue
        seen.add(row["user_id"])
        rows.append(row)
    return rows_to_arrow(rows, BROADS_SCHEMA), rejected


def categories_page(
    items: list, where: Where, poll: Poll, seen: set[str]
) -> tuple[pa.Table, list[Quarantined]]:
    rows, rejected = [], []
    for item in items:
        try:
            if not isinstance(item, dict):
                raise where.bad(f"item is {type(item).__name__}, not an object")
            number = category_no(item.get("category_no"), where, "category_no", required=True)
            row = {
                "category_no": number,
                "category_name": where.text(item.get("category_name"), "category_name"),
                "view_cnt": where.int(item.get("view_cnt"), "view_cnt", minimum=0),
                "poll_id": poll.poll_id,
                "observed_at": poll.observed_at,
            }
        except BadPayload as exc:
            rejected.append(poll.quarantine(where.endpoint, str(exc), item))
            continue
        if number not in seen:
            seen.add(number)
            rows.append(row)
    return rows_to_arrow(rows, CATEGORIES_SCHEMA), rejected
