"""Steam source: current players, KRW prices, reviews, app details, most-played chart, news.

Tables (see loaders/raw_tables.md): `current_players`, `prices`, `reviews`, `most_played`
(observations: delete-insert on their primary key, so a re-run never duplicates),
`app_details` (merge on appid), `news` (merge on gid: announcements and patch notes, each
tracked app at most once per `news_every_minutes`), `quarantine` (append). Tracked apps are the
`appids` argument, or else the seed's Steam appids plus the most-played chart.

Call budget per poll: one Web API call per app for players (Web API allows ~100k/day),
one Store call per 50 apps for prices, and Store calls for reviews (each app at most once
per `reviews_every_minutes` of observed time) and details (at most daily), capped at
`max_store_calls` per poll (the Store throttles at ~200 requests / 5 minutes).
Cadence is kept in dlt resource state, so it survives between runs with the pipeline.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

import dlt

from loaders.http import GaveUp, JsonClient, PoliteSession, RetryPolicy, fetch_json
from loaders.records import (
    BadPayload,
    Poll,
    Where,
    as_table,
    item_json,
    poll_stats,
    quarantine_batch,
    rows_to_arrow,
    table_hints,
)
from loaders.steam import helpers as sh
from loaders.steam import settings

PLATFORM = "steam"
log = logging.getLogger(f"gst.{PLATFORM}")
SEED_FILE = Path(__file__).with_name(settings.SEED_GAMES)

_OBS = {"data_type": "timestamp", "timezone": True, "nullable": False}
_APPID = {"data_type": "bigint", "nullable": False}
CURRENT_PLAYERS = table_hints(
    "current_players", {"appid": _APPID, "observed_at": _OBS}, ["appid", "observed_at"]
)
PRICES = table_hints("prices", {"appid": _APPID, "observed_at": _OBS}, ["appid", "observed_at"])
REVIEWS = table_hints("reviews", {"appid": _APPID, "observed_at": _OBS}, ["appid", "observed_at"])
MOST_PLAYED = table_hints(
    "most_played", {"appid": _APPID, "observed_at": _OBS}, ["appid", "observed_at"]
)
APP_DETAILS = table_hints("app_details", {"appid": _APPID}, ["appid"], disposition="merge")
NEWS = table_hints("news", {"appid": _APPID}, ["gid"], disposition="merge")

NOT_FOUND = object()


class SteamPoll:
    """What the resources of one poll share: HTTP clients, clock, tracked apps, budget."""

    def __init__(
        self,
        web: JsonClient,
        store: JsonClient,
        http: PoliteSession,
        clock: Poll,
        appids: list[int] | None,
        seed_path: Path,
        include_most_played: bool,
        price_chunk_size: int,
        max_store_calls: int,
        concurrent_calls: int = settings.CONCURRENT_CALLS,
    ) -> None:
        self.web, self.store, self.http, self.clock = web, store, http, clock
        self.concurrent_calls = max(1, concurrent_calls)
        self.appids, self.seed_path = appids, seed_path
        self.include_most_played = include_most_played
        self.price_chunk_size, self.max_store_calls = price_chunk_size, max_store_calls

    def call(self, client: JsonClient, path: str, params: dict[str, Any]) -> Any:
        """Parsed JSON, or NOT_FOUND on 404; BadPayload (with the body) otherwise."""
        poll_stats(PLATFORM).page()
        payload, _ = fetch_json(
            client, path, PLATFORM, params, credentials=False, missing=NOT_FOUND
        )
        return payload

    def call_each(
        self, client: JsonClient, path: str, params: list[dict[str, Any]]
    ) -> Iterator[Any]:
        """`call` for each of `params`, `concurrent_calls` at a time (one app per call
        adds up to a poll's time otherwise); in order, each result or the BadPayload/GaveUp it
        raised."""
        from concurrent.futures import ThreadPoolExecutor

        def one(each: dict[str, Any]) -> Any:
            try:
                return self.call(client, path, each)
            except (BadPayload, GaveUp) as exc:
                return exc

        if self.concurrent_calls == 1:
            yield from map(one, params)
            return
        with ThreadPoolExecutor(self.concurrent_calls, thread_name_prefix="gst-steam") as pool:
            yield from pool.map(one, params)

    def quarantine(self, exc: Exception, endpoint: str, payload: Any = None) -> Any:
        log.warning("%s (quarantined)", exc)
        poll_stats(PLATFORM).add(quarantined=1)
        body = payload if payload is not None else getattr(exc, "body", "") or ""
        return quarantine_batch([self.clock.quarantine(endpoint, str(exc), body)])

    @property
    def now(self) -> Any:
        return self.clock.now()

    def stamp(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for row in rows:
            row["poll_id"], row["observed_at"] = self.clock.poll_id, self.now
        return rows

    def gave_up(self, exc: GaveUp, endpoint: str) -> Any:
        """One call failed for good: quarantine it, unless the whole poll is out of time."""
        if self.http.out_of_time():
            raise exc
        return self.quarantine(exc, endpoint)

    @cached_property
    def chart(self) -> tuple[list[dict[str, Any]], list[Any]]:
        """(most-played rows, quarantine items); fetched once per poll."""
        path, rows, bad = settings.MOST_PLAYED_PATH, [], []
        if not self.include_most_played:
            return rows, bad
        where = Where(PLATFORM, path)
        try:
            payload = self.call(self.web, path, {})
            if payload is NOT_FOUND:
                raise BadPayload(PLATFORM, path, "HTTP 404")
            rollup, ranks = sh.most_played_rows(payload, where, self.now)
        except BadPayload as exc:
            return rows, [self.quarantine(exc, path)]
        except GaveUp as exc:
            return rows, [self.gave_up(exc, path)]
        seen: set[int] = set()
        for item in ranks:
            try:
                row = sh.most_played_row(item, where)
            except BadPayload as exc:
                bad.append(self.quarantine(exc, path, item))
                continue
            if row["appid"] not in seen:
                seen.add(row["appid"])
                rows.append(row | {"rollup_date": rollup})
        return self.stamp(rows), bad

    @cached_property
    def tracked(self) -> list[int]:
        if self.appids:
            return sh.unique(self.appids)
        charted = [row["appid"] for row in self.chart[0]]
        return sh.unique(sh.seed_appids(self.seed_path) + charted)

    @cached_property
    def price_calls(self) -> int:
        """Store calls reserved for prices (they come first: every poll needs them)."""
        return min(len(sh.chunks(self.tracked, self.price_chunk_size)), self.max_store_calls)

    @cached_property
    def price_budget(self) -> sh.CallBudget:
        return sh.CallBudget(self.price_calls)

    @cached_property
    def store_budget(self) -> sh.CallBudget:
        """What reviews and details may use after the prices' share."""
        return sh.CallBudget(max(0, self.max_store_calls - self.price_calls))


@dlt.source(name=PLATFORM, max_table_nesting=0)
def steam_source(
    web_api_base_url: str = settings.WEB_API_BASE_URL,
    store_base_url: str = settings.STORE_BASE_URL,
    appids: list[int] | None = None,
    seed_path: str | None = None,
    include_most_played: bool = True,
    country: str = settings.COUNTRY,
    price_chunk_size: int = settings.PRICE_CHUNK,
    reviews_every_minutes: float = settings.REVIEWS_EVERY_MINUTES,
    details_every_minutes: float = settings.DETAILS_EVERY_MINUTES,
    news_every_minutes: float = settings.NEWS_EVERY_MINUTES,
    max_store_calls: int = settings.MAX_STORE_CALLS,
    concurrent_calls: int = settings.CONCURRENT_CALLS,
    max_attempts: int = 6,
    backoff_seconds: float = 2.0,
    max_wait_seconds: float = 60.0,
    poll_budget_seconds: float = 900.0,
    timeout_seconds: float = 30.0,
) -> Any:
    """One poll of Steam. Config resolves from `SOURCES__STEAM__<KEY>` (no key needed)."""
    clock = Poll(PLATFORM)
    policy = RetryPolicy(
        max_attempts,
        backoff_seconds,
        max_wait_seconds,
        poll_budget_seconds=poll_budget_seconds,
        timeout_seconds=timeout_seconds,
    )
    http = PoliteSession(PLATFORM, policy, clock, log)
    poll = SteamPoll(
        web=JsonClient(PLATFORM, web_api_base_url.rstrip("/"), http.session),
        store=JsonClient(PLATFORM, store_base_url.rstrip("/"), http.session),
        http=http,
        clock=clock,
        appids=appids,
        seed_path=Path(seed_path) if seed_path else SEED_FILE,
        include_most_played=include_most_played,
        price_chunk_size=price_chunk_size,
        max_store_calls=max_store_calls,
        concurrent_calls=concurrent_calls,
    )
    return (
        most_played(poll),
        current_players(poll),
        prices(poll, country),
        reviews(poll, reviews_every_minutes),
        app_details(poll, country, details_every_minutes),
        news(poll, news_every_minutes),
    )


def _batched(poll: SteamPoll, items: Iterator[Any], hints: Any, schema: Any) -> Iterator[Any]:
    """Rows (dicts without poll columns) -> arrow tables of ROWS_PER_BATCH; others pass.

    At least one table is yielded, empty if no row came: the table exists for staging even
    when a poll had nothing to ask for (no tracked app due).
    """
    rows: list[dict[str, Any]] = []
    batches = 0
    for item in items:
        if isinstance(item, dict):  # quarantine items arrive wrapped with their hints
            rows.append(item)
            if len(rows) >= settings.ROWS_PER_BATCH:
                poll_stats(PLATFORM).add(rows=len(rows))
                yield as_table(rows_to_arrow(poll.stamp(rows), schema), hints)
                rows, batches = [], batches + 1
        else:
            yield item
    if rows or not batches:
        poll_stats(PLATFORM).add(rows=len(rows))
        yield as_table(rows_to_arrow(poll.stamp(rows), schema), hints)


@dlt.resource(name="most_played")
def most_played(poll: SteamPoll) -> Iterator[Any]:
    rows, bad = poll.chart
    yield from bad
    poll_stats(PLATFORM).add(rows=len(rows))
    yield as_table(rows_to_arrow(rows, sh.MOST_PLAYED_SCHEMA), MOST_PLAYED)  # even empty


@dlt.resource(name="current_players")
def current_players(poll: SteamPoll) -> Iterator[Any]:
    """One Web API call per tracked app; result 42 -> null player_count; 404 -> skipped."""

    def rows() -> Iterator[Any]:
        path = settings.CURRENT_PLAYERS_PATH
        calls = [{"appid": appid} for appid in poll.tracked]
        for appid, payload in zip(poll.tracked, poll.call_each(poll.web, path, calls), strict=True):
            if isinstance(payload, BadPayload):
                yield poll.quarantine(payload, path)
                continue
            if isinstance(payload, GaveUp):
                yield poll.gave_up(payload, path)
                continue
            if payload is NOT_FOUND:
                log.debug("%s %s: appid %s not found (404), skipped", PLATFORM, path, appid)
                continue
            try:
                where = Where(PLATFORM, f"{path}?appid={appid}")
                yield sh.current_players_row(payload, where, appid)
            except BadPayload as exc:
                yield poll.quarantine(exc, path, payload)

    yield from _batched(poll, rows(), CURRENT_PLAYERS, sh.CURRENT_PLAYERS_SCHEMA)


@dlt.resource(name="prices")
def prices(poll: SteamPoll, country: str) -> Iterator[Any]:
    """Multi-app price calls (filters=price_overview, chunks of `price_chunk_size`)."""
    path = settings.APPDETAILS_PATH

    def rows() -> Iterator[Any]:
        for chunk in sh.chunks(poll.tracked, poll.price_chunk_size):
            if not poll.price_budget.take():
                break
            try:
                payload = poll.call(
                    poll.store, path, sh.appdetails_params(chunk, country, "price_overview")
                )
                if payload is NOT_FOUND or not isinstance(payload, dict):
                    raise BadPayload(PLATFORM, path, "expected an object keyed by appid")
            except BadPayload as exc:
                yield poll.quarantine(exc, path)
                continue
            except GaveUp as exc:
                yield poll.gave_up(exc, path)
                continue
            for appid in chunk:
                entry = payload.get(str(appid))
                if entry is None:
                    log.debug("%s %s: no entry for appid %s", PLATFORM, path, appid)
                    continue
                try:
                    yield sh.price_row(entry, Where(PLATFORM, f"{path}?appids={appid}"), appid)
                except BadPayload as exc:
                    yield poll.quarantine(exc, path, {str(appid): entry})

    yield from _batched(poll, rows(), PRICES, sh.PRICES_SCHEMA)


def _on_cadence(poll: SteamPoll, every_minutes: float, fetch: Any, endpoint: str) -> Iterator[Any]:
    """Call `fetch(appid)` for the apps due (per resource state), stalest first, within the
    Store budget; remember each success in the state so the next poll skips it."""
    state = dlt.current.resource_state()
    fetched: dict[str, str] = state.setdefault("fetched_at", {})
    due = sh.due_apps(poll.tracked, fetched, poll.now, every_minutes)
    done = 0
    for appid in due:
        if not poll.store_budget.take():
            log.info(
                "%s %s: store call budget used, %d apps wait for a later poll",
                PLATFORM,
                endpoint,
                len(due) - done,
            )
            break
        done += 1
        try:
            row = fetch(appid)
        except BadPayload as exc:
            yield poll.quarantine(exc, endpoint)
            continue
        except GaveUp as exc:
            yield poll.gave_up(exc, endpoint)
            continue
        fetched[str(appid)] = poll.now.isoformat()
        if row is not None:
            yield row


@dlt.resource(name="reviews")
def reviews(poll: SteamPoll, every_minutes: float) -> Iterator[Any]:
    """Review summary per app, at most once per `every_minutes` of observed time."""

    def fetch(appid: int) -> Any:
        path = settings.REVIEWS_PATH.format(appid=appid)
        params = {"json": 1, "language": "all", "purchase_type": "all", "num_per_page": 0}
        payload = poll.call(poll.store, path, params)
        if payload is NOT_FOUND:
            log.debug("%s %s: not found (404), skipped", PLATFORM, path)
            return None
        try:
            return sh.review_row(payload, Where(PLATFORM, path), appid)
        except BadPayload as exc:
            exc.body = item_json(payload)
            raise

    endpoint = settings.REVIEWS_PATH.format(appid="<appid>")
    yield from _batched(
        poll, _on_cadence(poll, every_minutes, fetch, endpoint), REVIEWS, sh.REVIEWS_SCHEMA
    )


@dlt.resource(name="app_details")
def app_details(poll: SteamPoll, country: str, every_minutes: float) -> Iterator[Any]:
    """Store details, one app per call (no filters), at most once per `every_minutes`."""
    path = settings.APPDETAILS_PATH

    def fetch(appid: int) -> Any:
        payload = poll.call(poll.store, path, sh.appdetails_params([appid], country, None))
        where = Where(PLATFORM, f"{path}?appids={appid}")
        entry = payload.get(str(appid)) if isinstance(payload, dict) else None
        try:
            row = sh.details_row(entry, where, appid) if entry is not None else None
        except BadPayload as exc:
            exc.body = item_json(payload)
            raise
        if row is None:
            log.debug("%s %s: appid %s unknown to the Store, skipped", PLATFORM, path, appid)
        return row

    yield from _batched(
        poll, _on_cadence(poll, every_minutes, fetch, path), APP_DETAILS, sh.APP_DETAILS_SCHEMA
    )


@dlt.resource(name="news")
def news(poll: SteamPoll, every_minutes: float) -> Iterator[Any]:
    """Latest news items per tracked app (Web API, no Store budget), at most once per
    `every_minutes` of observed time; items merge on gid."""
    path = settings.NEWS_PATH
    state = dlt.current.resource_state()
    fetched: dict[str, str] = state.setdefault("fetched_at", {})

    def rows() -> Iterator[Any]:
        for appid in sh.due_apps(poll.tracked, fetched, poll.now, every_minutes):
            params = {
                "appid": appid,
                "count": settings.NEWS_COUNT,
                "maxlength": settings.NEWS_MAXLENGTH,
                "format": "json",
            }
            try:
                payload = poll.call(poll.web, path, params)
            except BadPayload as exc:
                yield poll.quarantine(exc, path)
                continue
            except GaveUp as exc:
                yield poll.gave_up(exc, path)
                continue
            fetched[str(appid)] = poll.now.isoformat()
            if payload is NOT_FOUND:
                continue
            try:
                yield from sh.news_rows(payload, Where(PLATFORM, f"{path}?appid={appid}"), appid)
            except BadPayload as exc:
                yield poll.quarantine(exc, path, payload)

    yield from _batched(poll, rows(), NEWS, sh.NEWS_SCHEMA)
