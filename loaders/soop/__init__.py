"""SOOP (formerly AfreecaTV) live broadcasts and category names as a dlt source.

Official Open API (`/broad/list`, `client_id` query param) when `client_id` is configured,
else the public web list (`/api/main_broad_list_api.php`, browser User-Agent and Referer).
Config keys (env `SOURCES__SOOP__<KEY>`): openapi_base_url, web_base_url, search_base_url,
client_id, plus the retry knobs of `loaders.http.RetryPolicy`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from typing import Any

import dlt
from dlt.common.typing import TSecretStrValue
from dlt.sources.helpers.rest_client import RESTClient

from loaders.http import PoliteSession, RetryPolicy, SourceFailed, fetch_json
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
)
from loaders.soop import settings
from loaders.soop.helpers import (
    BROADS_COLUMNS,
    CATEGORIES_COLUMNS,
    broads_page,
    categories_page,
)

log = logging.getLogger("gst.soop")
MAX_BAD_PAGES_IN_A_ROW = 3


def _broad_items(payload: Any, where: Where) -> tuple[list, int | None]:
    """(items, total count if given) of a list page; SOOP's `{"result": -N}` errors and
    shape problems become a BadPayload naming the field."""
    if not isinstance(payload, dict):
        raise where.bad(f"page is {type(payload).__name__}, not an object")
    result = payload.get("result")
    if result is not None and str(result).lstrip("-").isdigit() and int(result) < 0:
        raise where.bad(f"API error result {result}: {payload.get('msg')}", "result")
    items = payload.get("broad")
    if not isinstance(items, list):
        raise where.bad(f"expected a list, got {type(items).__name__}", "broad")
    total = payload.get("total_cnt")
    total = int(total) if isinstance(total, int | str) and str(total).isdigit() else None
    return items, total


@dlt.source(name="soop")
def soop_source(
    openapi_base_url: str = settings.OPENAPI_BASE_URL,
    web_base_url: str = settings.WEB_BASE_URL,
    search_base_url: str = settings.SEARCH_BASE_URL,
    client_id: TSecretStrValue | None = None,
    max_attempts: int = 6,
    backoff_seconds: float = 1.0,
    max_wait_seconds: float = 60.0,
    poll_budget_seconds: float = 900.0,
    timeout_seconds: float = 30.0,
) -> Any:
    """One poll of SOOP: `broads` (observations) and `categories` (names, merged)."""
    policy = RetryPolicy(
        max_attempts,
        backoff_seconds,
        max_wait_seconds,
        poll_budget_seconds=poll_budget_seconds,
        timeout_seconds=timeout_seconds,
    )
    session = PoliteSession("soop", policy).session
    if client_id:
        variant, path, page_param = "openapi", settings.OPENAPI_LIST_PATH, "page_no"
        client = RESTClient(base_url=openapi_base_url, session=session)
        params: dict[str, Any] = {"client_id": client_id, "order_type": "view_cnt"}
    else:
        variant, path, page_param = "web", settings.WEB_LIST_PATH, "pageNo"
        client = RESTClient(
            base_url=web_base_url, session=session, headers=settings.BROWSER_HEADERS
        )
        params = {
            "selectType": "action",
            "selectValue": "all",
            "orderType": "view_cnt",
            "lang": "ko_KR",
        }
    search = RESTClient(base_url=search_base_url, session=session, headers=settings.BROWSER_HEADERS)
    where = Where("soop", path)

    stats = poll_stats("soop")

    @functools.cache
    def start() -> tuple[Any, Poll]:
        """Page 1 and the poll, on first use (creating the source makes no request): its Date
        header is the poll's observed_at; an API error answer (result < 0, e.g. an invalid
        client_id) fails the whole platform with that message."""
        first: Any
        try:
            first, response = fetch_json(client, path, "soop", {**params, page_param: 1})
            observed_at = observed_at_from_response(response)
            stats.observed_at = observed_at  # the poll record's time
        except BadPayload as exc:
            first, observed_at = exc, observed_at_from_response(None)
        if isinstance(first, dict) and str(first.get("result", "0")).startswith("-"):
            raise SourceFailed(
                f"soop {path}: API error result {first.get('result')}: {first.get('msg')}"
                + (" (check SOURCES__SOOP__CLIENT_ID)" if variant == "openapi" else "")
            )
        poll = Poll("soop", observed_at, variant)
        log.info("soop poll %s via %s list", poll.poll_id, variant)
        return first, poll

    @dlt.resource(
        name="broads",
        write_disposition=OBSERVATIONS,
        primary_key=("user_id", "observed_at"),
        columns=BROADS_COLUMNS,
        schema_contract=CONTRACT,
    )
    def broads() -> Iterator[Any]:
        yield from batched_tables(broad_pages())

    def broad_pages() -> Iterator[Any]:
        seen: set[str] = set()
        bad_in_a_row = 0
        page, poll = start()
        yield quarantine_batch([])  # the quarantine table exists even when nothing is rejected
        for page_no in range(1, settings.MAX_PAGES + 1):
            try:
                if page is None:
                    page, _ = fetch_json(client, path, "soop", {**params, page_param: page_no})
                if isinstance(page, BadPayload):
                    raise page
                items, total = _broad_items(page, where)
            except BadPayload as exc:
                body = getattr(exc, "body", None) or (page if isinstance(page, dict) else "")
                log.error("%s (page %d); page quarantined", exc, page_no)
                stats.page(quarantined=1)
                yield quarantine_batch([poll.quarantine(path, f"{exc} (page {page_no})", body)])
                bad_in_a_row += 1
                if bad_in_a_row >= MAX_BAD_PAGES_IN_A_ROW:
                    log.error("soop %s: %d bad pages in a row; paging stops", path, bad_in_a_row)
                    return
                page = None
                continue
            bad_in_a_row = 0
            table, rejected = broads_page(items, where, poll, seen)
            stats.page(rows=table.num_rows, quarantined=len(rejected))
            for bad in rejected:
                log.warning("quarantined: %s", bad.reason)
            yield table  # even empty: the table exists before anyone is live
            if rejected:
                yield quarantine_batch(rejected)
            if len(items) < settings.PAGE_SIZE or (
                total is not None and page_no * settings.PAGE_SIZE >= total
            ):
                return
            page = None
        log.warning("soop %s: stopped after %d pages", path, settings.MAX_PAGES)

    @dlt.resource(
        name="categories",
        write_disposition="merge",
        primary_key="category_no",
        columns=latest_wins(CATEGORIES_COLUMNS),
        schema_contract=CONTRACT,
    )
    def categories() -> Iterator[Any]:
        endpoint = settings.CATEGORY_PATH
        cat_where = Where("soop", endpoint)
        seen: set[str] = set()
        poll = start()[1]
        for page_no in range(1, settings.MAX_CATEGORY_PAGES + 1):
            query = {
                "m": "categoryList",
                "nPageNo": page_no,
                "nListCnt": settings.CATEGORY_PAGE_SIZE,
            }
            try:
                payload, _ = fetch_json(search, endpoint, "soop", query)
                data = payload.get("data") if isinstance(payload, dict) else None
                items = data.get("list") if isinstance(data, dict) else None
                if not isinstance(items, list):
                    raise cat_where.bad("expected a list", "data.list")
            except BadPayload as exc:
                log.error("%s; category page quarantined", exc)
                stats.page(quarantined=1)
                body = getattr(exc, "body", "")
                yield quarantine_batch([poll.quarantine(endpoint, str(exc), body)])
                return
            table, rejected = categories_page(items, cat_where, poll, seen)
            stats.page(rows=table.num_rows, quarantined=len(rejected))
            yield table  # even empty: the table exists before anyone is live
            if rejected:
                yield quarantine_batch(rejected)
            if len(items) < settings.CATEGORY_PAGE_SIZE:
                return

    return broads, categories
