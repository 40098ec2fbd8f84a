"""Twitch Helix source: live streams (top N by viewers) and top games, per poll.

Tables (see loaders/raw_tables.md): `streams` (append), `games` (merge on game_id),
`top_games` (append), `quarantine` (append). App access token through dlt's
`OAuth2ClientCredentials`, cached for the run, refreshed before expiry and once on a 401.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import dlt
import pyarrow as pa
from dlt.common import pendulum
from dlt.common.configuration import configspec
from dlt.sources.helpers.rest_client.auth import OAuth2ClientCredentials
from requests import PreparedRequest, Response

from loaders.http import JsonClient, JsonCursor, PoliteSession, RetryPolicy, parse_json
from loaders.records import (
    ARROW_BATCH_ROWS,
    BadPayload,
    Poll,
    Where,
    as_table,
    batched_tables,
    poll_stats,
    quarantine_batch,
    table_hints,
)
from loaders.twitch import helpers as h
from loaders.twitch import settings

PLATFORM = "twitch"
log = logging.getLogger(f"gst.{PLATFORM}")

STREAMS = table_hints(
    "streams",
    {
        "user_id": {"data_type": "text", "nullable": False},
        "observed_at": {"data_type": "timestamp", "timezone": True, "nullable": False},
        "viewer_count": {"data_type": "bigint"},
        "started_at": {"data_type": "timestamp", "timezone": True},
    },
    ["user_id", "observed_at"],
)
GAMES = table_hints(
    "games",
    {"game_id": {"data_type": "text", "nullable": False}},
    ["game_id"],
    disposition="merge",
)
TOP_GAMES = table_hints(
    "top_games",
    {
        "game_id": {"data_type": "text", "nullable": False},
        "observed_at": {"data_type": "timestamp", "timezone": True, "nullable": False},
        "rank": {"data_type": "bigint", "precision": 32},
    },
    ["game_id", "observed_at"],
)


class TwitchAuthError(RuntimeError):
    """The token endpoint refused the credentials or answered nonsense."""


@configspec
class AppToken(OAuth2ClientCredentials):
    """dlt's client-credentials flow plus what Helix needs and it lacks: the `Client-Id`
    header on every request, renewal `TOKEN_REFRESH_MARGIN_SECONDS` before expiry, one
    renewal on a 401 (a revoked token), and errors that name the config keys but never
    echo the token endpoint's body (it holds a token). The token request goes through the
    poll's session (retries, time budget, bronze recording)."""

    def obtain_token(self) -> None:
        response = self.session.post(self.access_token_url, **self.build_access_token_request())
        endpoint = settings.TOKEN_PATH
        if response.status_code != 200:
            raise TwitchAuthError(
                f"{PLATFORM} {endpoint}: HTTP {response.status_code}; "
                "check sources.twitch.client_id / client_secret"
            )
        where = Where(PLATFORM, endpoint)
        try:
            payload = parse_json(response.text, PLATFORM, endpoint)
            token = where.text(
                where.get(payload, "access_token", required=True), "access_token", required=True
            )
            expires_in = where.int(where.get(payload, "expires_in"), "expires_in", minimum=1)
        except BadPayload as exc:
            raise TwitchAuthError(str(exc)) from None
        self.access_token = token
        expires_in = expires_in or self.default_token_expiration
        margin = timedelta(seconds=settings.TOKEN_REFRESH_MARGIN_SECONDS)
        self.token_expiry = pendulum.now() + timedelta(seconds=expires_in) - margin
        log.info("%s: app access token obtained (expires in %ss)", PLATFORM, expires_in)

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        super().__call__(request)
        request.headers["Client-Id"] = str(self.client_id)
        request.register_hook("response", self._renew_on_401)
        return request

    def _renew_on_401(self, response: Response, **kwargs: Any) -> Response:
        if response.status_code != 401 or getattr(response.request, "_gst_renewed", False):
            return response
        log.info("%s %s: token rejected (401), renewing once", PLATFORM, response.request.path_url)
        response.content  # noqa: B018 - drain so the connection can be reused
        response.close()
        self.obtain_token()
        retry = response.request.copy()
        retry.headers["Authorization"] = f"Bearer {self.access_token}"
        retry._gst_renewed = True  # type: ignore[attr-defined]
        renewed = response.connection.send(retry, **kwargs)
        renewed.history.append(response)
        renewed.request = retry
        return renewed


@dlt.source(name=PLATFORM, max_table_nesting=0)
def twitch_source(
    client_id: str = dlt.secrets.value,
    client_secret: str = dlt.secrets.value,
    auth_base_url: str = settings.AUTH_BASE_URL,
    api_base_url: str = settings.API_BASE_URL,
    max_streams: int | None = None,
    top_games: int = settings.TOP_GAMES,
    max_attempts: int = 6,
    backoff_seconds: float = 1.0,
    max_wait_seconds: float = 60.0,
    poll_budget_seconds: float = 900.0,
    timeout_seconds: float = 30.0,
) -> Any:
    """One poll of Twitch: live streams (all, or the top `max_streams` by viewers) and the
    top `top_games` games. Config/secrets resolve from `SOURCES__TWITCH__<KEY>`."""
    clock = Poll(PLATFORM)
    policy = RetryPolicy(
        max_attempts,
        backoff_seconds,
        max_wait_seconds,
        poll_budget_seconds=poll_budget_seconds,
        timeout_seconds=timeout_seconds,
    )
    http = PoliteSession(PLATFORM, policy, clock, log)
    auth = AppToken(
        access_token_url=auth_base_url.rstrip("/") + settings.TOKEN_PATH,
        client_id=client_id,
        client_secret=client_secret,
        session=http.session,
    )
    client = JsonClient(PLATFORM, api_base_url.rstrip("/"), http.session, auth=auth)
    return (
        streams(client, clock, max_streams),
        top_games_resource(client, clock, top_games),
    )


def _pages(client: JsonClient, path: str, first: int) -> Iterator[tuple[list, Any]]:
    """(items, response) per page; a bad page raises BadPayload (paging cannot go on)."""
    paginator = JsonCursor(
        "pagination.cursor",
        "after",
        lambda cursor: log.warning("%s %s: cursor came back twice, stopping", PLATFORM, path),
    )
    for page in client.paginate(
        path, params={"first": first}, paginator=paginator, data_selector="data"
    ):
        yield list(page), page.response


def _paged_tables(
    client: JsonClient,
    clock: Poll,
    path: str,
    limit: int | None,
    read: Callable[..., tuple[pa.Table, list]],
    keys: tuple[str, ...],
) -> Iterator[Any]:
    """Arrow tables of up to ARROW_BATCH_ROWS items (deduped on the `keys` columns),
    quarantine rows for bad items or pages. `read(items, where, poll, at)` -> (table,
    [(error, item)]). Pages are read a batch at a time: the column-wise reading costs a few
    pyarrow calls per column whatever the number of items, so 50 pages of 100 items cost
    about what one page did; every item keeps its place, so the tables are the same."""
    seen, taken, where = h.Deduper(), 0, Where(PLATFORM, path)
    stats = poll_stats(PLATFORM)
    first = min(settings.PAGE_SIZE, limit) if limit else settings.PAGE_SIZE
    pending: list = []  # items of pages not read yet
    read_any = False

    def read_pending() -> Iterator[Any]:
        nonlocal taken, read_any
        items = pending.copy()
        pending.clear()
        table, bad = read(items, where, clock.poll_id, clock.now())
        for exc, _item in bad:
            log.warning("%s (item quarantined)", exc)
        if bad:
            yield quarantine_batch([clock.quarantine(path, str(e), item) for e, item in bad])
        keep = seen.keep(table, keys)
        if not all(keep):
            table = table.filter(pa.array(keep, pa.bool_()))
        if limit is not None:
            table = table.slice(0, max(0, limit - taken))
        taken += table.num_rows
        stats.add(rows=table.num_rows, quarantined=len(bad))
        read_any = True
        yield table  # even empty: the table exists before anyone is live

    try:
        for items, _response in _pages(client, path, first):
            stats.page()
            pending.extend(items)
            wanted = ARROW_BATCH_ROWS if limit is None else min(ARROW_BATCH_ROWS, limit - taken)
            if len(pending) >= wanted:
                yield from read_pending()
                if limit is not None and taken >= limit:
                    break
    except BadPayload as exc:
        if pending:
            yield from read_pending()  # the pages before the bad one
        log.error("%s (page quarantined, paging stopped after %d rows)", exc, taken)
        stats.page(quarantined=1)
        body = getattr(exc, "body", None) or ""
        yield quarantine_batch([clock.quarantine(path, str(exc), body)])
    else:
        if pending or not read_any:
            yield from read_pending()
    if seen.dropped:
        log.info("%s %s: %d duplicate items dropped (list shifted)", PLATFORM, path, seen.dropped)


@dlt.resource(name="streams")
def streams(client: JsonClient, clock: Poll, max_streams: int | None = None) -> Iterator[Any]:
    """Live streams by viewers, arrow tables of several pages; deduped on stream id and user id."""

    def read(items: list, where: Where, poll: str, at: Any) -> Any:
        return h.read_page(items, where, poll, at, h.stream_row, h.STREAMS_SCHEMA, h.streams_table)

    pages = _paged_tables(
        client, clock, settings.STREAMS_PATH, max_streams, read, ("stream_id", "user_id")
    )
    yield from batched_tables(pages, lambda table: as_table(table, STREAMS))


@dlt.resource(name="top_games")
def top_games_resource(client: JsonClient, clock: Poll, limit: int) -> Iterator[Any]:
    """Top games: `games` (entity, merge) and `top_games` (rank per poll)."""

    def read(items: list, where: Where, poll: str, at: Any) -> Any:
        return h.read_page(items, where, poll, at, h.game_row, h.GAMES_SCHEMA)

    rank = 0
    for table in _paged_tables(client, clock, settings.TOP_GAMES_PATH, limit, read, ("game_id",)):
        if not isinstance(table, pa.Table):
            yield table
            continue
        ranks = pa.Table.from_arrays(
            [
                table["poll_id"],
                table["observed_at"],
                table["game_id"],
                pa.array(range(rank + 1, rank + 1 + table.num_rows), pa.int32()),
            ],
            schema=h.TOP_GAMES_SCHEMA,
        )
        rank += table.num_rows
        yield as_table(table, GAMES)
        yield as_table(ranks, TOP_GAMES)
