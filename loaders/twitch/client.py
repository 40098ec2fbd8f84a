"""HTTP plumbing for polling APIs politely: one retrying session per poll, a poll clock.

Built on dlt's REST client and its `requests` session; what is added here is what the
platforms need beyond dlt's defaults: waits taken from `Retry-After` *and* `Ratelimit-Reset`
(relative to the response `Date`, so a skewed local clock does not matter), full-jitter
exponential backoff, 200 responses whose body is not JSON retried too, and a bounded total
time per request and per poll that ends in an error naming the platform and endpoint.
Used by the Twitch and the Steam sources.
"""

from __future__ import annotations

import functools
import logging
import os
import random
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from dlt.common import jsonpath
from dlt.sources.helpers.requests import Session
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator
from requests import Response
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.exceptions import ChunkedEncodingError, ConnectionError, HTTPError, Timeout
from tenacity import RetryCallState, Retrying

from loaders.common import BadPayload, observed_at_from_response, parse_json, poll_id

RETRY_STATUS = frozenset({429, 500, 502, 503, 504, 520, 522, 524})
RETRY_EXCEPTIONS = (ConnectionError, Timeout, ChunkedEncodingError)


# Observers of every PoliteSession, called in the requesting thread: before each request
# `(session, request)`, and after each final response `(session, response)` (retries and
# rate-limit waits done). Bronze files (loaders.bronze) and the demo's poll clock use them.
REQUEST_OBSERVERS: list[Callable[[PoliteSession, Any], None]] = []
RESPONSE_OBSERVERS: list[Callable[[PoliteSession, Response], None]] = []
# The transport sessions mount for http(s): the last one pushed here (replay of bronze files),
# else a pooled HTTPAdapter.
TRANSPORTS: list[BaseAdapter] = []


class GaveUp(RuntimeError):
    """Retries for one request (or the whole poll's time budget) are exhausted."""


@dataclass
class RetryPolicy:
    """How hard to try. Defaults suit a 10-minute poll; tests shrink them."""

    max_attempts: int = 6
    backoff_seconds: float = 1.0  # first backoff ceiling; doubles per attempt (full jitter)
    max_wait_seconds: float = 60.0  # cap on any single wait, header-driven or not
    max_request_seconds: float = 300.0  # bound on one request including its retries
    poll_budget_seconds: float = 900.0  # bound on all requests of one poll
    timeout_seconds: float = 30.0


def endpoint_of(url: str | None) -> str:
    """The path of a URL, for messages (never the query string: it may carry keys)."""
    return urlparse(url or "").path or "/"


def response_date(response: Response) -> datetime | None:
    header = response.headers.get("Date")
    if not header:
        return None
    try:
        return parsedate_to_datetime(header).astimezone(UTC)
    except (TypeError, ValueError):
        return None


def header_wait_seconds(response: Response | None) -> float | None:
    """Seconds the server asks us to wait: `Retry-After` (seconds or date), else, when the
    rate-limit bucket is empty (429 or Ratelimit-Remaining 0), `Ratelimit-Reset` (epoch
    seconds) minus the response `Date`. None when the response says nothing usable."""
    if response is None:
        return None
    headers = response.headers
    retry_after = headers.get("Retry-After")
    if retry_after:
        text = retry_after.strip()
        if text.isdigit():
            return float(text)
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            now = response_date(response) or datetime.now(UTC)
            return max(0.0, (when - now).total_seconds())
    reset = headers.get("Ratelimit-Reset")
    empty = response.status_code == 429 or headers.get("Ratelimit-Remaining", "").strip() == "0"
    if reset and empty:
        try:
            reset_at = float(reset)
        except ValueError:
            return None
        now = response_date(response)
        now_epoch = now.timestamp() if now else time.time()
        return max(0.0, reset_at - now_epoch)
    return None


def _outcome_response(state: RetryCallState) -> Response | None:
    exc = state.outcome.exception() if state.outcome else None
    if exc is not None:
        return getattr(exc, "response", None) if isinstance(exc, HTTPError) else None
    result = state.outcome.result() if state.outcome else None
    return result if isinstance(result, Response) else None


def body_is_bad(response: Response, platform: str) -> bool:
    """True when a 200 body is not JSON; the parsed body is cached on the response."""
    if response.status_code != 200:
        return False
    try:
        response._gst_payload = parse_json(response.text, platform, endpoint_of(response.url))
    except BadPayload as exc:
        exc.body = response.text
        response._gst_bad = exc
        return True
    return False


@dataclass
class PollClock:
    """`observed_at` of one poll: the `Date` of the first response, shared by all rows."""

    platform: str
    observed_at: datetime | None = None

    def observe(self, response: Response, *args: Any, **kwargs: Any) -> Response:
        if self.observed_at is None:
            self.observed_at = observed_at_from_response(response)
        return response

    def now(self) -> datetime:
        if self.observed_at is None:
            self.observed_at = datetime.now(UTC).replace(microsecond=0)
        return self.observed_at

    @property
    def poll_id(self) -> str:
        return poll_id(self.platform, self.now())


def environment_matters() -> bool:
    """Whether `requests` may find proxies, a CA bundle or .netrc credentials in the
    environment. When it cannot, the per-request lookup (~0.4 ms each, thousands per poll)
    is switched off; where proxies also come from system settings (macOS, Windows) it
    stays on."""
    if urllib.request.getproxies is not urllib.request.getproxies_environment:
        return True
    names = {name.lower() for name in os.environ}
    if any(name.endswith("_proxy") for name in names):
        return True
    if names & {"requests_ca_bundle", "curl_ca_bundle", "netrc"}:
        return True
    try:
        home = Path.home()
    except (RuntimeError, KeyError):
        return True
    return any((home / name).exists() for name in (".netrc", "_netrc"))


@dataclass
class PoliteSession:
    """A dlt `requests` session whose `send` retries per `RetryPolicy` (see module doc)."""

    platform: str
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    clock: PollClock | None = None
    logger: logging.Logger | None = None

    def __post_init__(self) -> None:
        self.log = self.logger or logging.getLogger(f"gst.{self.platform}")
        self.deadline: float | None = None  # the poll's time budget starts at its first request
        session = Session(timeout=self.policy.timeout_seconds, raise_for_status=False)
        session.headers["User-Agent"] = "game-stream-trends/0.1 (+dlt)"
        adapter = TRANSPORTS[-1] if TRANSPORTS else HTTPAdapter(pool_maxsize=4)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.trust_env = environment_matters()
        self._send = session.send
        session.send = self._retrying_send  # type: ignore[method-assign]
        self.session = session

    def _throttle(self, response: Response) -> Response:
        """A successful response that empties the rate-limit bucket: wait for its refill."""
        if response.status_code < 400:
            wait = header_wait_seconds(response)
            if wait:
                wait = min(wait, self.policy.max_wait_seconds, self._remaining())
                self.log.info("%s rate-limit bucket empty: waiting %.1fs", self.platform, wait)
                time.sleep(wait)
        return response

    def out_of_time(self) -> bool:
        return self._remaining() <= 0

    def _remaining(self) -> float:
        if self.deadline is None:
            return self.policy.poll_budget_seconds
        return max(0.0, self.deadline - time.monotonic())

    def _should_retry(self, state: RetryCallState) -> bool:
        if self.clock is not None:
            seen = _outcome_response(state)
            if seen is not None:
                self.clock.observe(seen)
        exc = state.outcome.exception()
        if exc is not None:
            if isinstance(exc, RETRY_EXCEPTIONS):
                return True
            response = _outcome_response(state)
            return response is not None and response.status_code in RETRY_STATUS
        response = state.outcome.result()
        return response.status_code in RETRY_STATUS or body_is_bad(response, self.platform)

    def _wait(self, state: RetryCallState) -> float:
        response = _outcome_response(state)
        asked = header_wait_seconds(response)
        if asked is not None:
            wait = max(asked, 0.05)
        else:
            ceiling = self.policy.backoff_seconds * 2 ** (state.attempt_number - 1)
            wait = random.uniform(ceiling / 2, ceiling)  # jitter, never a zero wait
        wait = min(wait, self.policy.max_wait_seconds)
        if response is None:
            what = type(state.outcome.exception()).__name__
        elif getattr(response, "_gst_bad", None) is not None:
            what = f"{response.status_code} with a body that is not JSON"
        else:
            what = str(response.status_code)
        self.log.warning(
            "%s %s: %s, retry %d in %.2fs",
            self.platform,
            self._endpoint(state),
            what,
            state.attempt_number,
            wait,
        )
        return wait

    def _stop(self, state: RetryCallState) -> bool:
        if state.attempt_number >= self.policy.max_attempts:
            return True
        if state.seconds_since_start >= self.policy.max_request_seconds:
            return True
        return self._remaining() <= 0

    @staticmethod
    def _endpoint(state: RetryCallState) -> str:
        request = state.args[0] if state.args else None
        return endpoint_of(getattr(request, "url", None))

    def _give_up(self, state: RetryCallState) -> Response:
        response = _outcome_response(state)
        if response is not None and getattr(response, "_gst_bad", None) is not None:
            return response  # a 200 with a bad body: the caller quarantines it
        exc = state.outcome.exception()
        last = (
            f"last status {response.status_code}"
            if response is not None
            else f"last error {type(exc).__name__}"
        )
        why = "poll time budget exhausted" if self._remaining() <= 0 else "retries exhausted"
        raise GaveUp(
            f"{self.platform} {self._endpoint(state)}: {why} after {state.attempt_number} "
            f"attempts in {state.seconds_since_start:.1f}s ({last})"
        ) from exc

    def _retrying_send(self, request: Any, **kwargs: Any) -> Response:
        for observe in REQUEST_OBSERVERS:
            observe(self, request)
        if self.deadline is None:
            self.deadline = time.monotonic() + self.policy.poll_budget_seconds
        if self._remaining() <= 0:
            raise GaveUp(
                f"{self.platform} {endpoint_of(request.url)}: poll time budget of "
                f"{self.policy.poll_budget_seconds:.0f}s exhausted"
            )
        retrying = Retrying(
            retry=self._should_retry,
            wait=self._wait,
            stop=self._stop,
            reraise=True,
            retry_error_callback=self._give_up,
        )
        response = self._throttle(retrying(self._send, request, **kwargs))
        for observe in RESPONSE_OBSERVERS:
            observe(self, response)
        return response


@functools.lru_cache(maxsize=64)
def _compile(path: str) -> Any:
    return jsonpath.compile_path(path)


def compiled_path(path: jsonpath.TJsonPath) -> Any:
    """A JSONPath compiled once per text: dlt's `find_values` parses a text path on every call
    (~4 ms with jsonpath_ng's parser, once per page)."""
    return _compile(path) if isinstance(path, str) else path


class JsonClient(RESTClient):
    """RESTClient that parses bodies with `loaders.common.parse_json` (clear BadPayload)."""

    platform = "api"

    def __init__(self, platform: str, base_url: str, session: Session, **kwargs: Any) -> None:
        super().__init__(base_url=base_url, session=session, **kwargs)
        self.platform = platform

    def payload(self, response: Response) -> Any:
        bad = getattr(response, "_gst_bad", None)
        if bad is not None:
            raise bad
        cached = getattr(response, "_gst_payload", None)
        if cached is not None:
            return cached
        try:
            return parse_json(response.text, self.platform, endpoint_of(response.url))
        except BadPayload as exc:
            exc.body = response.text
            raise

    def extract_response(self, response: Response, data_selector: jsonpath.TJsonPath) -> list:
        found = jsonpath.find_values(compiled_path(data_selector), self.payload(response))
        data = found[0] if len(found) == 1 else None
        if not isinstance(data, list):
            exc = BadPayload(
                self.platform,
                endpoint_of(response.url),
                f"expected a list, got {type(data).__name__ if data else 'nothing'}",
                str(data_selector),
            )
            exc.body = response.text
            raise exc
        return data


class CursorPaginator(JSONResponseCursorPaginator):
    """Cursor paging that stops on an empty/missing cursor and on a cursor seen before."""

    def __init__(self, cursor_path: str, cursor_param: str, on_repeat: Callable[[str], None]):
        super().__init__(cursor_path=cursor_path, cursor_param=cursor_param)
        self._seen: set[str] = set()
        self._on_repeat = on_repeat

    def update_state(self, response: Response, data: list | None = None) -> None:
        # as JSONResponseCursorPaginator, but on the body parsed once per response (the
        # parent calls response.json() again on every page)
        payload = getattr(response, "_gst_payload", None)
        if payload is None:
            payload = response.json()
        values = jsonpath.find_values(self.cursor_path, payload)
        self._next_reference = values[0] if values and values[0] else None
        cursor = self._next_reference
        if cursor is not None:
            if cursor in self._seen:
                self._on_repeat(str(cursor))
                self._next_reference = None
            else:
                self._seen.add(cursor)
