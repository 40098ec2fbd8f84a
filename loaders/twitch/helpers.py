"""Twitch page JSON -> pyarrow tables.

Every item is checked field by field (`loaders.records.Where`); the first problem raises
`BadPayload` naming the platform, endpoint and field, and the item goes to `quarantine`
instead of the table. A well-formed page is read column by column (`loaders.columns`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import pyarrow as pa

from loaders import columns as col
from loaders.records import (
    EARLIEST_VALID,
    MAX_FUTURE,
    BadPayload,
    Where,
    item_json,
    not_null,
    parse_iso,
    rows_to_arrow,
)

TS = pa.timestamp("us", tz="UTC")


# --- Twitch tables ---------------------------------------------------------------------------

STREAMS_SCHEMA = pa.schema(
    [
        ("poll_id", pa.string()),
        ("observed_at", TS),
        ("stream_id", pa.string()),
        ("user_id", pa.string()),
        ("user_login", pa.string()),
        ("user_name", pa.string()),
        ("game_id", pa.string()),
        ("game_name", pa.string()),
        ("stream_type", pa.string()),
        ("title", pa.string()),
        ("viewer_count", pa.int64()),
        ("started_at", TS),
        ("language", pa.string()),
        ("is_mature", pa.bool_()),
        ("raw_item", pa.string()),
    ]
)
STREAMS_SCHEMA = not_null(STREAMS_SCHEMA, "user_id", "observed_at")
GAMES_SCHEMA = pa.schema(
    [
        ("game_id", pa.string()),
        ("game_name", pa.string()),
        ("box_art_url", pa.string()),
        ("igdb_id", pa.string()),
        ("poll_id", pa.string()),
        ("observed_at", TS),
    ]
)
GAMES_SCHEMA = not_null(GAMES_SCHEMA, "game_id")
TOP_GAMES_SCHEMA = pa.schema(
    [("poll_id", pa.string()), ("observed_at", TS), ("game_id", pa.string()), ("rank", pa.int32())]
)
TOP_GAMES_SCHEMA = not_null(TOP_GAMES_SCHEMA, "game_id", "observed_at")


def stream_row(item: Any, where: Where, poll: str, at: datetime) -> dict[str, Any]:
    return {
        "poll_id": poll,
        "observed_at": at,
        "stream_id": where.text_of(item, "id", required=True),
        "user_id": where.text_of(item, "user_id", required=True),
        "user_login": where.text_of(item, "user_login"),
        "user_name": where.text_of(item, "user_name"),
        "game_id": where.text_of(item, "game_id"),
        "game_name": where.text_of(item, "game_name"),
        "stream_type": where.text_of(item, "type"),
        "title": where.text_of(item, "title"),
        "viewer_count": where.int_of(item, "viewer_count", required=True, minimum=0),
        "started_at": where.iso_time(
            where.get(item, "started_at", required=True), "started_at", at, required=True
        ),
        "language": where.text_of(item, "language"),
        "is_mature": where.bool_of(item, "is_mature"),
        "raw_item": item_json(item),
    }


# --- the same checks column by column: the fast path of a well-formed page --------------------

_ISO_Z = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


def streams_table(items: list, poll: str, at: datetime) -> pa.Table:
    """`stream_row` for a whole well-formed page, column by column (see `loaders.columns`)."""
    col.objects(items)

    def get(key: str) -> list[Any]:
        return col.values(items, key)

    started_at = col.timestamp(
        get("started_at"),
        pattern=_ISO_Z,
        parse=parse_iso,
        earliest=EARLIEST_VALID,
        latest=at + MAX_FUTURE,
        required=True,
    )
    return col.page_table(
        items,
        STREAMS_SCHEMA,
        (poll, at),
        [
            col.text(get("id"), required=True),
            col.text(get("user_id"), required=True),
            col.text(get("user_login")),
            col.text(get("user_name")),
            col.text(get("game_id")),
            col.text(get("game_name")),
            col.text(get("type")),
            col.text(get("title")),
            col.integer(get("viewer_count"), required=True, minimum=0),
            started_at,
            col.text(get("language")),
            col.boolean(get("is_mature")),
        ],
    )


def read_page(
    items: list,
    where: Where,
    poll: str,
    at: datetime,
    build: Callable[..., dict[str, Any]],
    schema: pa.Schema,
    fast: Callable[[list, str, datetime], pa.Table] | None = None,
) -> tuple[pa.Table, list[tuple[BadPayload, Any]]]:
    """A page as a table of `schema` plus (error, item) for the items that fail a check:
    column by column with `fast` when the page is well formed, else item by item."""
    if fast is not None:
        try:
            return fast(items, poll, at), []
        except col.Irregular:
            pass
    rows, bad = split_items(items, build, where, poll, at)
    return rows_to_arrow(rows, schema), bad


def game_row(item: Any, where: Where, poll: str, at: datetime) -> dict[str, Any]:
    return {
        "game_id": where.text_of(item, "id", required=True),
        "game_name": where.text_of(item, "name", required=True),
        "box_art_url": where.text_of(item, "box_art_url"),
        "igdb_id": where.text_of(item, "igdb_id"),
        "poll_id": poll,
        "observed_at": at,
    }


class Deduper:
    """Keys already loaded in this poll, across pages (Helix lists shift while paging)."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, Any]] = set()
        self.dropped = 0

    def keep(self, table: pa.Table, names: Iterable[str]) -> list[bool]:
        """For every row of `table`: True (and remembered) when none of its keys (the values
        of its columns `names`) was seen before in this poll."""
        keyed = [[(name, value) for value in table[name].to_pylist()] for name in names]
        keep = col.first_seen(zip(*keyed, strict=True), self.seen)
        self.dropped += keep.count(False)
        return keep


def split_items(
    items: Iterable[Any], build: Any, where: Where, poll: str, at: datetime
) -> tuple[list[dict[str, Any]], list[tuple[BadPayload, Any]]]:
    """Build rows; collect (error, item) for items that fail a check."""
    rows, bad = [], []
    for item in items:
        try:
            rows.append(build(item, where, poll, at))
        except BadPayload as exc:
            bad.append((exc, item))
    return rows, bad
