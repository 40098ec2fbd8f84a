"""Chzzk (Naver) live lists and channel details as a dlt source.

Official Open API (`/open/v1/lives`, Client-Id/Client-Secret headers, string cursor) when
`client_id` and `client_secret` are configured, else the public service API
(`/service/v1/lives`, object cursor passed back as two query params). Config keys (env
`SOURCES__CHZZK__<KEY>`): service_base_url, openapi_base_url, client_id, client_secret,
max_channel_details, plus the retry knobs of `loaders.http.RetryPolicy`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import dlt
import pyarrow as pa
from dlt.common.typing import TSecretStrValue
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import APIKeyAuth

from loaders.chzzk import settings
from loaders.chzzk.helpers import (
    CHANNELS_COLUMNS,
    CHANNELS_SCHEMA,
    LIVES_COLUMNS,
    channel_row,
    lives_page,
)
from loaders.http import GuardedCursor, PoliteSession, RetryPolicy, fetch_json
from loaders.records import (
    CONTRACT,
    OBSERVATIONS,
    BadPayload,
    Poll,
    Where,
    batched_tables,
    latest_wins,
    observed_at_from_response,
    poll_stats,
    quarantine_batch,
    rows_to_arrow,
)

log = logging.getLogger("gst.chzzk")


def _page_items(payload: Any, where: Where) -> list:
    """The items of a lives page, or BadPayload naming the field."""
    if not isinstance(payload, dict):
        raise where.bad(f"page is {type(payload).__name__}, not an object")
    if payload.get("code") not in (None, 200):
        raise where.bad(f"API error code {payload.get('code')}: {payload.get('message')}", "code")
    content = payload.get("content")
    if not isinstance(content, dict):
        raise where.bad("missing object", "content")
    data = content.get("data")
    if not isinstance(data, list):
        raise where.bad(f"expected a list, got {type(data).__name__}", "content.data")
    return data


class LivesCursor(GuardedCursor):
    """`content.page.next` of a lives page: a string sent back as `next` (Open API), or an
    object whose two fields are sent back as query params (service API)."""

    def __init__(self, variant: str, path: str) -> None:
        super().__init__(
            lambda key: log.warning("chzzk %s: cursor %s came back twice; paging stops", path, key)
        )
        self.variant, self.path = variant, path

    def cursor_of(self, payload: Any) -> Any:
        content = payload.get("content") if isinstance(payload, dict) else None
        page = content.get("page") if isinstance(content, dict) else None
        cursor = page.get("next") if isinstance(page, dict) else None
        if (
            cursor not in (None, "", {})
            and self.variant == "service"
            and not isinstance(cursor, dict)
        ):
            log.error("chzzk %s field 'content.page.next': not an object; stops", self.path)
            return None
        return cursor

    def apply(self, params: dict[str, Any], cursor: Any) -> None:
        if self.variant == "openapi":
            params["next"] = cursor
        else:
            params["concurrentUserCount"] = cursor.get("concurrentUserCount")
            params["liveId"] = cursor.get("liveId")


@dlt.source(name="chzzk")
def chzzk_source(
    service_base_url: str = settings.SERVICE_BASE_URL,
    openapi_base_url: str = settings.OPENAPI_BASE_URL,
    client_id: str | None = None,
    client_secret: TSecretStrValue | None = None,
    max_channel_details: int = settings.MAX_CHANNEL_DETAILS,
    max_attempts: int = 6,
    backoff_seconds: float = 1.0,
    max_wait_seconds: float = 60.0,
    poll_budget_seconds: float = 900.0,
    timeout_seconds: float = 30.0,
) -> Any:
    """One poll of Chzzk: `lives` (observations) and `channels` (details, merged)."""
    policy = RetryPolicy(
        max_attempts,
        backoff_seconds,
        max_wait_seconds,
        poll_budget_seconds=poll_budget_seconds,
        timeout_seconds=timeout_seconds,
    )
    session = PoliteSession("chzzk", policy).session
    service = RESTClient(base_url=service_base_url, session=session)
    if client_id and client_secret:
        variant, path, size = "openapi", settings.OPENAPI_LIVES_PATH, settings.OPENAPI_PAGE_SIZE
        client = RESTClient(
            base_url=openapi_base_url,
            session=session,
            headers={"Client-Id": client_id},
            # As auth, not a plain header: dlt logs request headers at DEBUG, never auth values.
            auth=APIKeyAuth(name="Client-Secret", api_key=client_secret, location="header"),
        )
    else:
        variant, path, size = "service", settings.SERVICE_LIVES_PATH, settings.SERVICE_PAGE_SIZE
        client = service
    params: dict[str, Any] = {"size": size}
    if variant == "service":
        params["sortType"] = "POPULAR"

    stats = poll_stats("chzzk")

    @functools.cache
    def start() -> tuple[Any, Poll]:
        """Page 1 and the poll, on first use (creating the source makes no request): the
        page's Date header is the poll's observed_at for all tables."""
        first: Any = None
        try:
            first, response = fetch_json(client, path, "chzzk", params)
            observed_at = observed_at_from_response(response)
            stats.observed_at = observed_at  # the poll record's time
        except BadPayload as exc:  # a bad first body: the poll still gets a time and a record
            first, observed_at = exc, observed_at_from_response(None)
        poll = Poll("chzzk", observed_at, variant)
        log.info("chzzk poll %s via %s API", poll.poll_id, variant)
        return first, poll

    @dlt.resource(
        name="lives",
        write_disposition=OBSERVATIONS,
        primary_key=("channel_id", "observed_at"),
        columns=LIVES_COLUMNS,
        schema_contract=CONTRACT,
    )
    def lives() -> Iterator[Any]:
        yield from batched_tables(live_pages())

    def live_pages() -> Iterator[Any]:
        where = Where("chzzk", path)
        seen_channels: set[str] = set()
        page, poll = start()
        yield quarantine_batch([])  # the quarantine table exists even when nothing is rejected
        cursor = LivesCursor(variant, path)
        query = dict(params)
        for _ in range(settings.MAX_PAGES):
            try:
                if page is None:
                    page, _response = fetch_json(client, path, "chzzk", query)
                if isinstance(page, BadPayload):
                    raise page
                items = _page_items(page, where)
            except BadPayload as exc:
                log.error("%s; page quarantined, paging stops", exc)
                body = getattr(exc, "body", None) or (
                    page if not isinstance(page, Exception) else ""
                )
                stats.page(quarantined=1)
                yield quarantine_batch([poll.quarantine(path, str(exc), body or "")])
                return
            table, rejected = lives_page(items, where, poll, seen_channels)
            stats.page(rows=table.num_rows, quarantined=len(rejected))
            for bad in rejected:
                log.warning("quarantined: %s", bad.reason)
            yield table  # even empty: the table exists before anyone is live
            if rejected:
                yield quarantine_batch(rejected)
            cursor.advance(page)
            if not cursor.has_next_page:
                return
            query = cursor.next_params(params)
            page = None
        log.warning("chzzk %s: stopped after %d pages", path, settings.MAX_PAGES)

    budget = {"left": max_channel_details, "gave_up": False}

    @dlt.transformer(
        name="channels",
        data_from=lives,
        write_disposition="merge",
        primary_key="channel_id",
        columns=latest_wins(CHANNELS_COLUMNS),
        schema_contract=CONTRACT,
    )
    def channels(table: Any) -> Iterator[Any]:
        """Details of channels seen live, at most once per 24 h of observed time each."""
        if not isinstance(table, pa.Table) or "channel_id" not in table.column_names:
            return
        poll = start()[1]
        observed_at = poll.observed_at
        state = dlt.current.resource_state()
        refreshed: dict[str, str] = state.setdefault("refreshed_at", {})
        if not budget.get("pruned"):  # forget refreshes older than the window: keeps state small
            horizon = observed_at - timedelta(hours=settings.CHANNEL_REFRESH_HOURS)
            for cid in [c for c, at in refreshed.items() if datetime.fromisoformat(at) <= horizon]:
                del refreshed[cid]
            budget["pruned"] = True
        rows, rejected = [], []
        for channel_id in table.column("channel_id").to_pylist():
            if budget["left"] <= 0 or budget["gave_up"]:
                break
            if channel_id in refreshed:
                continue
            budget["left"] -= 1
            endpoint = settings.CHANNEL_PATH.format(channel_id="{channelId}")
            where = Where("chzzk", endpoint)
            try:
                payload, _ = fetch_json(
                    service, settings.CHANNEL_PATH.format(channel_id=channel_id), "chzzk"
                )
                content = payload.get("content") if isinstance(payload, dict) else None
                rows.append(channel_row(content, where, poll))
                refreshed[channel_id] = observed_at.isoformat()
            except BadPayload as exc:
                rejected.append(poll.quarantine(endpoint, str(exc), getattr(exc, "body", "")))
            except Exception as exc:  # retries exhausted: stop detail calls, keep the lives
                log.error("chzzk %s: %s; channel details stop for this poll", endpoint, exc)
                budget["gave_up"] = True
        stats.page(rows=len(rows), quarantined=len(rejected))
        # even empty: a poll that sees nobody live still creates the table staging reads
        yield rows_to_arrow(rows, CHANNELS_SCHEMA)
        if rejected:
            yield quarantine_batch(rejected)

    return lives, channels
