"""Chzzk page JSON -> pyarrow tables (one table per page) plus the items to quarantine."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from loaders import columns as col
from loaders.records import (
    Poll,
    Quarantined,
    Where,
    arrow_columns,
    item_json,
)

UTC = pa.timestamp("us", tz="UTC")

LIVES_SCHEMA = pa.schema(
    [
        pa.field("poll_id", pa.string(), nullable=False),
        pa.field("observed_at", UTC, nullable=False),
        ("api_variant", pa.string()),
        ("live_id", pa.int64()),
        pa.field("channel_id", pa.string(), nullable=False),
        ("channel_name", pa.string()),
        ("live_title", pa.string()),
        pa.field("concurrent_user_count", pa.int64(), nullable=False),
        ("opened_at", UTC),
        ("category_type", pa.string()),
        ("live_category", pa.string()),
        ("live_category_value", pa.string()),
        ("is_adult", pa.bool_()),
        ("raw_item", pa.string()),
    ]
)
CHANNELS_SCHEMA = pa.schema(
    [
        pa.field("channel_id", pa.string(), nullable=False),
        ("channel_name", pa.string()),
        ("channel_type", pa.string()),
        ("verified_mark", pa.bool_()),
        ("follower_count", pa.int64()),
        ("open_live", pa.bool_()),
        ("poll_id", pa.string()),
        ("observed_at", UTC),
        ("raw_item", pa.string()),
    ]
)
LIVES_COLUMNS = arrow_columns(LIVES_SCHEMA)
CHANNELS_COLUMNS = arrow_columns(CHANNELS_SCHEMA)


def live_row(item: Any, where: Where, poll: Poll) -> dict[str, Any]:
    """One `lives` row from an Open API item (flat) or a service API item (nested channel)."""
    if not isinstance(item, dict):
        raise where.bad(f"item is {type(item).__name__}, not an object")
    channel = item.get("channel") if poll.api_variant == "service" else item
    if not isinstance(channel, dict):
        raise where.bad("missing channel object", "channel")
    return {
        "poll_id": poll.poll_id,
        "observed_at": poll.observed_at,
        "api_variant": poll.api_variant,
        "live_id": where.int(item.get("liveId"), "liveId", required=True, minimum=0),
        "channel_id": where.text(channel.get("channelId"), "channelId", required=True),
        "channel_name": where.text(channel.get("channelName"), "channelName"),
        "live_title": where.text(item.get("liveTitle"), "liveTitle"),
        "concurrent_user_count": where.int(
            item.get("concurrentUserCount"), "concurrentUserCount", required=True, minimum=0
        ),
        "opened_at": where.kst_time(item.get("openDate"), "openDate", poll.observed_at),
        "category_type": where.text(item.get("categoryType"), "categoryType"),
        "live_category": where.text(item.get("liveCategory"), "liveCategory"),
        "live_category_value": where.text(item.get("liveCategoryValue"), "liveCategoryValue"),
        "is_adult": where.bool(item.get("adult"), "adult"),
        "raw_item": item_json(item),
    }


def lives_table(items: list, poll: Poll) -> pa.Table:
    """A well-formed page of lives, column by column (see `loaders.columns`)."""
    col.objects(items)
    channels = col.values(items, "channel") if poll.api_variant == "service" else items
    col.objects(channels)

    def get(key: str) -> list[Any]:
        return col.values(items, key)

    return col.page_table(
        items,
        LIVES_SCHEMA,
        (poll.poll_id, poll.observed_at, poll.api_variant),
        [
            col.integer(get("liveId"), required=True, minimum=0),
            col.text(col.values(channels, "channelId"), required=True),
            col.text(col.values(channels, "channelName")),
            col.text(get("liveTitle")),
            col.integer(get("concurrentUserCount"), required=True, minimum=0),
            col.kst_time(get("openDate"), poll.observed_at),
            col.text(get("categoryType")),
            col.text(get("liveCategory")),
            col.text(get("liveCategoryValue")),
            col.boolean(get("adult")),
        ],
    )


def lives_page(
    items: list, where: Where, poll: Poll, seen: set[str], *, fast: bool = True
) -> tuple[pa.Table, list[Quarantined]]:
    """A page of lives as an arrow table, de-duplicated on channel_id across the poll (lists
    shift while paging), plus the rejected items with their reasons: column by column when the
    page is well formed, else (or with `fast=False`) item by item."""
    return col.list_page(
        items,
        seen,
        fast=(lambda page: lives_table(page, poll)) if fast else None,
        row=lambda item: live_row(item, where, poll),
        schema=LIVES_SCHEMA,
        key="channel_id",
        quarantine=lambda reason, item: poll.quarantine(where.endpoint, reason, item),
        duplicate=f"chzzk {where.endpoint} field 'channelId': duplicate in this poll (first kept)",
    )


def channel_row(content: Any, where: Where, poll: Poll) -> dict[str, Any]:
    if not isinstance(content, dict):
        raise where.bad("missing channel content", "content")
    return {
        "channel_id": where.text(content.get("channelId"), "channelId", required=True),
        "channel_name": where.text(content.get("channelName"), "channelName"),
        "channel_type": where.text(content.get("channelType"), "channelType"),
        "verified_mark": where.bool(content.get("verifiedMark"), "verifiedMark"),
        "follower_count": where.int(content.get("followerCount"), "followerCount", minimum=0),
        "open_live": where.bool(content.get("openLive"), "openLive"),
        "poll_id": poll.poll_id,
        "observed_at": poll.observed_at,
        "raw_item": item_json(content),
    }
