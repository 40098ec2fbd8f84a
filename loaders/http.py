"""HTTP for polling APIs politely: the session, one `fetch_json`, cursor paginators.

Built on dlt's `requests` session and REST client. dlt's own retrying client
(`dlt.sources.helpers.requests.Client`) retries 429/5xx with `Retry-After` and exponential
backoff, but it cannot do what the platforms need, so the retry loop here is our own tenacity
`Retrying` around dlt's session `send`:

- waits from `Ratelimit-Reset` (Twitch), relative to the response `Date`, so a skewed local
  clock does not matter; a successful response that empties the bucket waits for its refill;
- a time budget per request and per poll (dlt stops only after N attempts) ending in `GaveUp`
  naming the platform and endpoint;
- full-jitter backoff (dlt's is deterministic) and 200 responses whose body is not JSON
  retried too (parsed once, kept on the response);
- each retry counted in the platform's `PollStats`, which `gst load` reports.

`REQUEST_OBSERVERS`, `RESPONSE_OBSERVERS` and `TRANSPORTS` are the hooks for recording and
replaying bronze files (`loaders.bronze`) and for the demo's poll clock.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import random
import re
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
from dlt.sources.helpers.rest_client.paginators import BasePaginator
from requests import Request, Response
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.exceptions import ChunkedEncodingError, ConnectionError, HTTPError, Timeout
from tenacity import RetryCallState, Retrying

from loaders.records import BadPayload, Poll, item_json, poll_stats

_JSONP = re.compile(r"^\s*[A-Za-z_$][\w$.]*\s*\((?P<body>.*)\)\s*;?\s*$", re.S)


class SourceFailed(RuntimeError):
    """A platform's poll cannot proceed at all (auth refused, API error answer, host down)."""


def parse_json(text: str, platform: str, endpoint: str) -> Any:
    """Parse a body as JSON, stripping a JSONP wrapper; a clear BadPayload otherwise."""
    if text is None or not text.strip():
        raise BadPayload(platform, endpoint, "empty response body")
    stripped = text.lstrip()
    if stripped[:1] == "<":
        raise BadPayload(platform, endpoint, "HTML page instead of JSON (status 200)")
    match = _JSONP.match(text)
    if match and stripped[:1] not in "{[":
        text = match.group("body")
    try:
        return json.loads(text)  # not orjson: it reads integers beyond 64 bits as floats
    except json.JSONDecodeError as exc:
        raise BadPayload(
            platform, endpoint, f"malformed JSON ({exc.msg} at char {exc.pos})"
        ) from exc


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
    """How hard to try, the same for every platform. Defaults suit a 10-minute poll; each
    source takes `max_attempts`, `backoff_seconds`, `max_wait_seconds`,
    `poll_budget_seconds` and `timeout_seconds` from its dlt config (tests shrink them)."""

    max_attempts: int = 6
    backoff_seconds: float = 1.0  # first backoff ceiling; doubles per attempt (full jitter)
    max_wait_seconds: float = 60.0  # cap on any single wait, header-driven or not
    max_request_seconds: float = 300.0  # bound on one request including its retries
    poll_budget_seconds: float = 900.0  # bound on all requests of one poll
    timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        # one request never outlives the poll's budget
        self.max_request_seconds = min(self.max_request_seconds, self.poll_budget_seconds)


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


def ca_bundle() -> str | None:
    """The CA bundle `requests` would take from the environment (REQUESTS_CA_BUNDLE, then
    CURL_CA_BUNDLE), read once per session instead of once per request."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None


def environment_matters() -> bool:
    """Whether `requests` may find proxies or .netrc credentials in the environment. When it
    cannot, the per-request lookup (~0.4 ms each, thousands per poll) is switched off (a CA
    bundle named there is set on the session, see `ca_bundle`); where proxies also come from
    system settings (macOS, Windows) it stays on."""
    if urllib.request.getproxies is not urllib.request.getproxies_environment:
        return True
    names = {name.lower() for name in os.environ}
    if any(name.endswith("_proxy") and name != "no_proxy" for name in names):
        return True
    if "netrc" in names:
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
    clock: Poll | None = None  # its observed_at is the Date of the first response
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
        if not session.trust_env and ca_bundle():
            session.verify = ca_bundle()
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
        poll_stats(self.platform).retry()
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


def parsed_body(response: Response, platform: str) -> Any:
    """The JSON of a 200 response (parsed once: the session's retry check keeps it on the
    response), or BadPayload carrying the body for the quarantine row."""
    bad = getattr(response, "_gst_bad", None)
    if bad is not None:
        raise bad
    if hasattr(response, "_gst_payload"):
        return response._gst_payload
    try:
        response._gst_payload = parse_json(response.text, platform, endpoint_of(response.url))
    except BadPayload as exc:
        exc.body = response.text
        raise
    return response._gst_payload


def fetch_json(
    client: RESTClient,
    path: str,
    platform: str,
    params: dict | None = None,
    *,
    credentials: bool = True,
    missing: Any = BadPayload,
) -> tuple[Any, Response]:
    """GET `path`, check the status, parse the JSON: (payload, response).

    HTTP 401/403 -> SourceFailed naming the credentials to check (`credentials=False`: a
    BadPayload, for APIs without keys); 404 -> `missing` as payload when given; any other
    non-200 -> BadPayload naming the endpoint; a 200 whose body stays unparsable after the
    session's retries -> BadPayload. BadPayloads carry the body for the quarantine row."""
    response = client.get(path, params=params)
    endpoint = endpoint_of(response.url or path)
    if credentials and response.status_code in (401, 403):
        raise SourceFailed(
            f"{platform} {endpoint}: HTTP {response.status_code}, credentials refused "
            f"(check SOURCES__{platform.upper()}__CLIENT_ID / CLIENT_SECRET)"
        )
    if response.status_code == 404 and missing is not BadPayload:
        return missing, response
    if response.status_code != 200:
        exc = BadPayload(platform, endpoint, f"HTTP {response.status_code}")
        exc.body = response.text
        raise exc
    return parsed_body(response, platform), response


@functools.cache
def runtime_configuration() -> Any:
    """dlt's runtime configuration, resolved once per process: a RESTClient resolves it
    itself otherwise, once per client, i.e. per poll (~6 ms of providers' look-ups)."""
    from dlt.common.configuration import resolve_configuration
    from dlt.common.configuration.specs import RuntimeConfiguration

    return resolve_configuration(RuntimeConfiguration())


class JsonClient(RESTClient):
    """RESTClient whose pages are parsed by `parsed_body` (a clear BadPayload, parsed once)."""

    def __init__(self, platform: str, base_url: str, session: Session, **kwargs: Any) -> None:
        kwargs.setdefault("config", runtime_configuration())
        super().__init__(base_url=base_url, session=session, **kwargs)
        self.platform = platform

    def extract_response(self, response: Response, data_selector: jsonpath.TJsonPath) -> list:
        found = jsonpath.find_values(
            compiled_path(data_selector), parsed_body(response, self.platform)
        )
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


class GuardedCursor(BasePaginator):
    """Cursor paging that stops on an empty/missing cursor and on a cursor seen before (a
    cursor that comes back would page forever). Subclasses say where the cursor is in a
    page (`cursor_of`) and how it goes into the next request (`apply`)."""

    def __init__(self, on_repeat: Callable[[str], None]) -> None:
        super().__init__()
        self._seen: set[str] = set()
        self._cursor: Any = None
        self._on_repeat = on_repeat

    def cursor_of(self, payload: Any) -> Any:
        raise NotImplementedError

    def apply(self, params: dict[str, Any], cursor: Any) -> None:
        raise NotImplementedError

    def update_state(self, response: Response, data: list | None = None) -> None:
        self.advance(getattr(response, "_gst_payload", None) or response.json())

    def advance(self, payload: Any) -> None:
        """Take the next cursor from a parsed page (or stop)."""
        cursor = self.cursor_of(payload)
        if cursor in (None, "", {}):
            self._has_next_page = False
            return
        key = item_json(cursor)
        if key in self._seen:
            self._on_repeat(key)
            self._has_next_page = False
            return
        self._seen.add(key)
        self._cursor = cursor

    def update_request(self, request: Request) -> None:
        if request.params is None:
            request.params = {}
        self.apply(request.params, self._cursor)

    def next_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """`params` of the next page, for sources that page by hand."""
        request = Request(params=dict(params))
        self.update_request(request)
        return request.params


class JsonCursor(GuardedCursor):
    """A text cursor at a JSON path of the body, sent back as one query parameter."""

    def __init__(self, cursor_path: str, cursor_param: str, on_repeat: Callable[[str], None]):
        super().__init__(on_repeat)
        self.cursor_path, self.cursor_param = compiled_path(cursor_path), cursor_param

    def cursor_of(self, payload: Any) -> Any:
        values = jsonpath.find_values(self.cursor_path, payload)
        return values[0] if values else None

    def apply(self, params: dict[str, Any], cursor: Any) -> None:
        params[self.cursor_param] = cursor
