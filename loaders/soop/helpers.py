"""SOOP page JSON -> pyarrow tables. Every SOOP value arrives as a string: cast here."""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from loaders import columns as col
from loaders.records import (
    BadPayload,
    Poll,
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


_CATEGORY_NO = re.compile(r"[0-9]{1,8}")


def category_numbers(column: list[Any]) -> pa.Array:
    """`category_no` column-wise: up to 8 ASCII digits (or null / '') -> 8 digits."""
    column = col.optional_strings(column)
    if not all(value is None or _CATEGORY_NO.fullmatch(value) for value in column):
        raise col.Irregular("category number is not up to 8 digits")
    return pc.utf8_lpad(pa.array(column, pa.string()), 8, "0")


def broads_table(items: list, poll: Poll) -> pa.Table:
    """A well-formed page of broadcasts, column by column (see `loaders.columns`)."""
    col.objects(items)

    def get(key: str) -> list[Any]:
        return col.values(items, key)

    return col.page_table(
        items,
        BROADS_SCHEMA,
        (poll.poll_id, poll.observed_at, poll.api_variant),
        [
            col.integer(get("broad_no"), required=True, minimum=0),
            col.text(get("user_id"), required=True),
            col.text(get("user_nick")),
            col.text(get("broad_title")),
            category_numbers(get("broad_cate_no")),
            col.kst_time(get("broad_start"), poll.observed_at),
            col.integer(get("total_view_cnt"), required=True, minimum=0),
            col.integer(get("broad_grade"), minimum=0),
            col.boolean(get("is_password")),
        ],
    )


def broads_page(
    items: list, where: Where, poll: Poll, seen: set[str], *, fast: bool = True
) -> tuple[pa.Table, list[Quarantined]]:
    """A page of broadcasts as an arrow table, de-duplicated on user_id across the poll (lists
    shift while paging), plus the rejected items with their reasons: column by column when the
    page is well formed, else (or with `fast=False`) item by item."""
    return col.list_page(
        items,
        seen,
        fast=(lambda page: broads_table(page, poll)) if fast else None,
        row=lambda item: broad_row(item, where, poll),
        schema=BROADS_SCHEMA,
        key="user_id",
        quarantine=lambda reason, item: poll.quarantine(where.endpoint, reason, item),
        duplicate=f"soop {where.endpoint} field 'user_id': duplicate in this poll (first kept)",
    )


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
