"""Twitch page JSON -> pyarrow tables, plus the field checks the Steam source shares.

Every item is checked field by field; the first problem raises `BadPayload` naming the
platform, endpoint and field, and the item goes to `quarantine` instead of the table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt
import pyarrow as pa

from loaders import columns as col
from loaders.common import (
    CONTRACT,
    OBSERVATIONS,
    BadPayload,
    Quarantined,
    int_or_text,
    item_json,
    rows_to_arrow,
)
from loaders.twitch import settings

TS = pa.timestamp("us", tz="UTC")
EARLIEST = datetime.fromisoformat(settings.EARLIEST_VALID)

QUARANTINE_HINTS = dlt.mark.make_hints(
    table_name="quarantine",
    write_disposition="append",
    columns={
        "platform": {"data_type": "text", "nullable": False},
        "endpoint": {"data_type": "text", "nullable": False},
        "reason": {"data_type": "text", "nullable": False},
        "payload": {"data_type": "text"},
        "poll_id": {"data_type": "text"},
        "observed_at": {"data_type": "timestamp", "timezone": True},
        "quarantined_at": {"data_type": "timestamp", "timezone": True},
    },
)


def table_hints(
    name: str, columns: dict[str, Any], primary_key: list[str], disposition: Any = OBSERVATIONS
) -> Any:
    """Hints for one raw table; applied per yielded page (see `as_table`)."""
    return dlt.mark.make_hints(
        table_name=name,
        write_disposition=disposition,
        primary_key=primary_key,
        merge_key=None,
        columns=columns,
        schema_contract=CONTRACT,
    )


def as_table(item: Any, hints: Any) -> Any:
    """Route a page (or quarantine row) to its own table with its own hints.

    A table *variant* per target keeps the hints of one table (primary key, not-null
    columns) from leaking into another when one resource feeds several tables.
    """
    return dlt.mark.with_hints(item, hints, create_table_variant=True)


def quarantine(
    platform: str, endpoint: str, reason: str, payload: Any, poll: str, at: datetime
) -> Any:
    text = payload if isinstance(payload, str) else item_json(payload)
    row = Quarantined(platform, endpoint, reason, text, poll, at).as_row()
    return as_table(row, QUARANTINE_HINTS)


# --- field checks ---------------------------------------------------------------------------


def parse_iso(value: str) -> datetime:
    """ISO-8601 with an offset or `Z` (Python 3.10 reads no `Z`)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def field(item: Any, name: str, where: tuple[str, str], required: bool = True) -> Any:
    if not isinstance(item, dict):
        raise BadPayload(*where, f"item is a {type(item).__name__}, not an object")
    value = item.get(name)
    if value is None and required:
        raise BadPayload(*where, "missing required field", name)
    return value


def text(item: Any, name: str, where: tuple[str, str], required: bool = False) -> str | None:
    value = field(item, name, where, required)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise BadPayload(*where, f"expected text, got {type(value).__name__}", name)
    value = str(value)
    if len(value) > settings.MAX_TEXT_CHARS:
        raise BadPayload(*where, f"text of {len(value)} chars is implausibly long", name)
    if required and not value.strip():
        raise BadPayload(*where, "required field is empty", name)
    return value


def integer(
    item: Any, name: str, where: tuple[str, str], required: bool = False, minimum: int | None = 0
) -> int | None:
    """An int, or a string of digits (cast); bools, floats with fractions, junk are errors."""
    value = field(item, name, where, required)
    if value is None:
        return None
    if isinstance(value, bool):
        raise BadPayload(*where, "expected an integer, got a boolean", name)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int_or_text(value.strip())
    if not isinstance(value, int):
        raise BadPayload(*where, f"expected an integer, got {value!r:.40}", name)
    if minimum is not None and value < minimum:
        raise BadPayload(*where, f"value {value} is below {minimum}", name)
    if abs(value) > 2**62:
        raise BadPayload(*where, f"value {value} is out of range", name)
    return value


def boolean(item: Any, name: str, where: tuple[str, str], required: bool = False) -> bool | None:
    value = field(item, name, where, required)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if value in (0, 1, "0", "1", "true", "false"):
        return value in (1, "1", "true")
    raise BadPayload(*where, f"expected a boolean, got {value!r:.40}", name)


def utc_timestamp(
    item: Any, name: str, where: tuple[str, str], observed_at: datetime, required: bool = False
) -> datetime | None:
    """ISO-8601 with offset or `Z`; must lie between 2007 and a day after the poll."""
    value = field(item, name, where, required)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadPayload(*where, f"expected an ISO-8601 timestamp, got {value!r:.40}", name)
    try:
        parsed = parse_iso(value)
    except ValueError as exc:
        raise BadPayload(*where, f"unparseable timestamp {value!r:.40}", name) from exc
    if parsed.tzinfo is None:
        raise BadPayload(*where, f"timestamp without offset {value!r:.40}", name)
    parsed = parsed.astimezone(UTC)
    latest = observed_at + timedelta(seconds=settings.MAX_FUTURE_SECONDS)
    if not EARLIEST <= parsed <= latest:
        raise BadPayload(*where, f"absurd timestamp {value} (poll at {observed_at:%F %T}Z)", name)
    return parsed


def required(schema: pa.Schema, *names: str) -> pa.Schema:
    """The schema with `names` marked not-null (they carry the tables' not-null hints)."""
    for name in names:
        index = schema.get_field_index(name)
        schema = schema.set(index, schema.field(index).with_nullable(False))
    return schema


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
STREAMS_SCHEMA = required(STREAMS_SCHEMA, "user_id", "observed_at")
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
GAMES_SCHEMA = required(GAMES_SCHEMA, "game_id")
TOP_GAMES_SCHEMA = pa.schema(
    [("poll_id", pa.string()), ("observed_at", TS), ("game_id", pa.string()), ("rank", pa.int32())]
)
TOP_GAMES_SCHEMA = required(TOP_GAMES_SCHEMA, "game_id", "observed_at")


def stream_row(item: Any, where: tuple[str, str], poll: str, at: datetime) -> dict[str, Any]:
    return {
        "poll_id": poll,
        "observed_at": at,
        "stream_id": text(item, "id", where, required=True),
        "user_id": text(item, "user_id", where, required=True),
        "user_login": text(item, "user_login", where),
        "user_name": text(item, "user_name", where),
        "game_id": text(item, "game_id", where),
        "game_name": text(item, "game_name", where),
        "stream_type": text(item, "type", where),
        "title": text(item, "title", where),
        "viewer_count": integer(item, "viewer_count", where, required=True),
        "started_at": utc_timestamp(item, "started_at", where, at, required=True),
        "language": text(item, "language", where),
        "is_mature": boolean(item, "is_mature", where),
        "raw_item": item_json(item),
    }


# --- the same checks column by column: the fast path of a well-formed page --------------------

TWITCH_BOOLS: dict[Any, bool | None] = {
    None: None, "0": False, "1": True, "true": True, "false": False,
}  # fmt: skip
_ISO_Z = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


def _text(column: list[Any], required: bool = False) -> pa.Array:
    return col.text(
        column, required=required, max_chars=settings.MAX_TEXT_CHARS, blank_is_missing=True
    )


def streams_table(items: list, poll: str, at: datetime) -> pa.Table:
    """`stream_row` for a whole well-formed page, column by column (see `loaders.columns`)."""
    col.objects(items)

    def get(key: str) -> list[Any]:
        return col.values(items, key)

    started_at = col.timestamp(
        get("started_at"),
        pattern=_ISO_Z,
        parse=parse_iso,
        earliest=EARLIEST,
        latest=at + timedelta(seconds=settings.MAX_FUTURE_SECONDS),
        required=True,
    )
    return col.page_table(
        items,
        STREAMS_SCHEMA,
        (poll, at),
        [
            _text(get("id"), required=True),
            _text(get("user_id"), required=True),
            _text(get("user_login")),
            _text(get("user_name")),
            _text(get("game_id")),
            _text(get("game_name")),
            _text(get("type")),
            _text(get("title")),
            col.integer(
                get("viewer_count"), required=True, minimum=0, bound=2**62, empty_is_null=False
            ),
            started_at,
            _text(get("language")),
            col.boolean(get("is_mature"), strings=TWITCH_BOOLS),
        ],
    )


def read_page(
    items: list,
    where: tuple[str, str],
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


def game_row(item: Any, where: tuple[str, str], poll: str, at: datetime) -> dict[str, Any]:
    return {
        "game_id": text(item, "id", where, required=True),
        "game_name": text(item, "name", where, required=True),
        "box_art_url": text(item, "box_art_url", where),
        "igdb_id": text(item, "igdb_id", where),
        "poll_id": poll,
        "observed_at": at,
    }


class Deduper:
    """Keys already loaded in this poll, across pages (Helix lists shift while paging)."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, Any]] = set()
        self.dropped = 0

    def keep(self, table: pa.Table, names: Iterable[str]) -> list[bool]:
        """`fresh` for every row of `table`, keyed on the columns `names`."""
        keyed = [[(name, value) for value in table[name].to_pylist()] for name in names]
        keep = col.first_seen(zip(*keyed, strict=True), self.seen)
        self.dropped += keep.count(False)
        return keep

    def fresh(self, **keys: Any) -> bool:
        """True (and remembered) when none of the given keys was seen before."""
        kept = col.first_seen([tuple(keys.items())], self.seen)[0]
        self.dropped += not kept
        return kept


def split_items(
    items: Iterable[Any], build: Any, where: tuple[str, str], poll: str, at: datetime
) -> tuple[list[dict[str, Any]], list[tuple[BadPayload, Any]]]:
    """Build rows; collect (error, item) for items that fail a check."""
    rows, bad = [], []
    for item in items:
        try:
            rows.append(build(item, where, poll, at))
        except BadPayload as exc:
            bad.append((exc, item))
    return rows, bad
