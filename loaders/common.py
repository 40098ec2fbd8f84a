"""Small helpers every platform source shares: poll identity, time, JSON parsing, quarantine.

Kept deliberately small: HTTP retries/backoff come from dlt's RESTClient and retrying
session, loading from dlt; this module only holds what the four APIs have in common.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlparse

import orjson

KST = timezone(timedelta(hours=9))
PLATFORMS = ("chzzk", "soop", "twitch", "steam")

KST_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
_JSONP = re.compile(r"^\s*[A-Za-z_$][\w$.]*\s*\((?P<body>.*)\)\s*;?\s*$", re.S)


class BadPayload(ValueError):
    """A response or item that cannot be loaded; carries where it came from and why."""

    def __init__(self, platform: str, endpoint: str, reason: str, field: str | None = None):
        self.platform, self.endpoint, self.reason, self.field = platform, endpoint, reason, field
        where = f"{platform} {endpoint}" + (f" field '{field}'" if field else "")
        super().__init__(f"{where}: {reason}")


def observed_at_from_response(response: Any) -> datetime:
    """UTC instant of a response from its HTTP `Date` header; the local clock if absent."""
    header = getattr(response, "headers", {}).get("Date") if response is not None else None
    if header:
        try:
            return parsedate_to_datetime(header).astimezone(UTC)
        except (TypeError, ValueError):
            pass
    return datetime.now(UTC).replace(microsecond=0)


def poll_id(platform: str, observed_at: datetime) -> str:
    """Deterministic id of one poll of one platform: re-running the same poll gives the same id."""
    return f"{platform}:{observed_at.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def kst_to_utc(text: str | None) -> datetime | None:
    """'2025-11-26 17:53:01' in Korea time (no offset, as Chzzk and SOOP send it) -> UTC."""
    if text is None or str(text).strip() == "":
        return None
    value = str(text).strip()
    if not KST_TIME.fullmatch(value):  # fromisoformat alone would take dates, offsets, ...
        raise ValueError(f"not 'YYYY-MM-DD HH:MM:SS': {value!r:.40}")
    # fromisoformat: ~25x faster than strptime, and called once per live channel per poll
    return datetime.fromisoformat(value).replace(tzinfo=KST).astimezone(UTC)


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


#: Schema contract of every raw table: new tables and columns may appear, types may not change.
CONTRACT = {"tables": "evolve", "columns": "evolve", "data_type": "freeze"}
#: Write disposition of observation tables. `delete-insert` de-duplicates the staging rows on
#: the primary key, so a load job that dlt re-runs after a crash (SIGKILL between loading the
#: staging table and marking the job done) or a re-polled moment never duplicates a row.
OBSERVATIONS = {"disposition": "merge", "strategy": "delete-insert"}


@dataclass(frozen=True)
class Quarantined:
    """One rejected page or item, kept with the reason so nothing is silently dropped."""

    platform: str
    endpoint: str
    reason: str
    payload: str
    poll_id: str | None
    observed_at: datetime | None

    def as_row(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "endpoint": self.endpoint,
            "reason": self.reason,
            "payload": self.payload[:100_000],
            "poll_id": self.poll_id,
            "observed_at": self.observed_at,
            "quarantined_at": datetime.now(UTC),
        }


# --- per-poll counters shown by `gst load` (pages, rows, retries, quarantined) ---------------


@dataclass
class PollStats:
    """Counters of one platform's poll; sources bump them, the runner displays them."""

    pages: int = 0
    rows: int = 0
    retries: int = 0
    quarantined: int = 0
    listener: Any = None  # callable(PollStats) -> None, e.g. a progress bar refresh

    def page(self, rows: int = 0, quarantined: int = 0) -> None:
        self.pages += 1
        self.add(rows, quarantined)

    def add(self, rows: int = 0, quarantined: int = 0) -> None:
        """Rows or quarantined items that arrive apart from their page (batched sources)."""
        self.rows += rows
        self.quarantined += quarantined
        self._notify()

    def retry(self) -> None:
        self.retries += 1
        self._notify()

    def _notify(self) -> None:
        if self.listener is not None:
            self.listener(self)


_POLL_STATS: dict[str, PollStats] = {}


def poll_stats(platform: str) -> PollStats:
    """The live counters of `platform`'s current poll (created on first use)."""
    return _POLL_STATS.setdefault(platform, PollStats())


def reset_poll_stats(platform: str, listener: Any = None) -> PollStats:
    _POLL_STATS[platform] = PollStats(listener=listener)
    return _POLL_STATS[platform]


# --- item validation shared by the sources: casts that fail with a BadPayload naming the field --

MAX_TEXT_CHARS = 4096  # longer strings are treated as bad input (titles and names are far shorter)
EARLIEST_VALID = datetime(2005, 1, 1, tzinfo=UTC)  # before any of these platforms
MAX_FUTURE = timedelta(days=1)  # a start time more than a day after the poll is absurd


def int_or_text(text: str) -> int | str:
    """int(text), or the text itself when int() refuses it ('--5', '²')."""
    try:
        return int(text)
    except ValueError:
        return text


@dataclass(frozen=True)
class Where:
    """Platform and endpoint of the item being read, for error messages."""

    platform: str
    endpoint: str

    def bad(self, reason: str, field: str | None = None) -> BadPayload:
        return BadPayload(self.platform, self.endpoint, reason, field)

    def text(self, value: Any, field: str, *, required: bool = False) -> str | None:
        if value is None or (required and value == ""):
            if required:
                raise self.bad("missing required value", field)
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.bad(f"expected text, got {type(value).__name__}", field)
        value = str(value)
        if len(value) > MAX_TEXT_CHARS:
            raise self.bad(f"text of {len(value)} chars exceeds {MAX_TEXT_CHARS}", field)
        return value

    def int(self, value: Any, field: str, *, required: bool = False, minimum: int | None = None):
        if value is None or value == "":
            if required:
                raise self.bad("missing required value", field)
            return None
        if isinstance(value, bool):
            raise self.bad("expected a number, got bool", field)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int_or_text(value.strip())
        if not isinstance(value, int):
            raise self.bad(f"expected an integer, got {type(value).__name__} {value!r:.40}", field)
        if minimum is not None and value < minimum:
            raise self.bad(f"{value} is below {minimum}", field)
        if abs(value) >= 2**63:
            raise self.bad("integer out of range", field)
        return value

    def bool(self, value: Any, field: str) -> bool | None:
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return value
        if value in (0, 1, "0", "1"):
            return bool(int(value))
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise self.bad(f"expected a boolean, got {value!r:.40}", field)

    def kst_time(self, value: Any, field: str, observed_at: datetime) -> datetime | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.bad(f"expected 'YYYY-MM-DD HH:MM:SS', got {type(value).__name__}", field)
        try:
            moment = kst_to_utc(value)
        except (ValueError, OverflowError) as exc:
            raise self.bad(f"unreadable time {value!r:.40}", field) from exc
        if moment is not None and not (EARLIEST_VALID <= moment <= observed_at + MAX_FUTURE):
            raise self.bad(f"absurd time {value!r:.40}", field)
        return moment


QUARANTINE_COLUMNS = {
    "platform": {"data_type": "text"},
    "endpoint": {"data_type": "text"},
    "reason": {"data_type": "text"},
    "payload": {"data_type": "text"},
    "poll_id": {"data_type": "text"},
    "observed_at": {"data_type": "timestamp", "timezone": True},
    "quarantined_at": {"data_type": "timestamp", "timezone": True},
}


def quarantine_batch(rows: list[Quarantined]) -> Any:
    """Rejected pages/items as one arrow table routed to the `quarantine` (append) table,
    whatever the write disposition of the resource that yields it."""
    import dlt
    import pyarrow as pa

    utc = pa.timestamp("us", tz="UTC")
    schema = pa.schema(
        [
            (name, utc if c["data_type"] == "timestamp" else pa.string())
            for name, c in QUARANTINE_COLUMNS.items()
        ]
    )
    table = pa.Table.from_pylist([row.as_row() for row in rows], schema=schema)
    # empty columns/keys: the variant must not inherit the yielding resource's columns or keys
    hints = dlt.mark.make_hints(
        table_name="quarantine", write_disposition="append", columns={}, primary_key=[]
    )
    hints["merge_key"] = []
    return dlt.mark.with_hints(table, hints, create_table_variant=True)


# dlt computes and contract-checks the table schema of every arrow table a resource yields
# (~10 ms each here): list pages of 20-100 items are merged into tables of this many rows so
# the cost is paid per batch, not per API page. Memory stays bounded by one batch.
ARROW_BATCH_ROWS = 5_000


def batched_tables(
    items: Iterator[Any], wrap: Callable[[Any], Any] | None = None, rows: int = ARROW_BATCH_ROWS
) -> Iterator[Any]:
    """Pass a resource's items through, merging consecutive pyarrow tables (one schema) into
    tables of at least `rows` rows; anything else (quarantine batches) passes at once.

    A generator that yielded only empty tables still yields one empty table, so the warehouse
    table exists before anyone is live. Rows in hand when the generator raises are yielded
    first, as they would have been page by page. `wrap` (e.g. dlt hints) is applied to each
    merged table."""
    import pyarrow as pa

    held: list[Any] = []
    count = 0

    def merged() -> Any:
        table = held[0] if len(held) == 1 else pa.concat_tables(held)
        held.clear()
        return wrap(table) if wrap else table

    try:
        for item in items:
            if not isinstance(item, pa.Table):
                yield item
                continue
            held.append(item)
            count += item.num_rows
            if count >= rows:
                count = 0
                yield merged()
    except GeneratorExit:
        raise
    except BaseException:
        if held:
            yield merged()
        raise
    if held:
        yield merged()


def rows_to_arrow(rows: list[dict[str, Any]], schema: Any) -> Any:
    """Row dicts -> a pyarrow table of `schema` (a missing key is null), built column by
    column: ~9x faster than `pa.Table.from_pylist` on a page of streams."""
    import pyarrow as pa

    columns = [pa.array([row.get(f.name) for row in rows], type=f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def arrow_columns(schema: Any) -> dict[str, dict[str, Any]]:
    """dlt column hints equal to an explicit pyarrow schema (types and nullability declared,
    not inferred; identical to what dlt derives from the tables, so no hint conflicts)."""
    from dlt.common.libs.pyarrow import py_arrow_to_table_schema_columns

    return dict(py_arrow_to_table_schema_columns(schema))


def item_json(item: Any) -> str:
    """An API item as compact JSON text (the `raw_item` column).

    orjson (a dlt dependency) is ~15x faster than `json.dumps` and writes the same compact
    UTF-8 text; what it refuses (integers beyond 64 bits, non-JSON types) goes through
    `json`, non-JSON values as their text."""
    try:
        return orjson.dumps(item).decode()
    except TypeError:
        return json.dumps(item, ensure_ascii=False, separators=(",", ":"), default=str)


class SourceFailed(RuntimeError):
    """A platform's poll cannot proceed at all (auth refused, API error answer, host down)."""


def fetch_json(client: Any, path: str, platform: str, params: dict | None = None) -> tuple:
    """GET `path` with a RESTClient over a retrying session; returns (payload, response).

    HTTP 401/403 -> SourceFailed (credentials); other non-200 -> BadPayload naming the
    endpoint; a 200 whose body stays unparsable after retries -> BadPayload."""
    response = client.get(path, params=params)
    endpoint = urlparse(response.url or path).path
    if response.status_code in (401, 403):
        raise SourceFailed(
            f"{platform} {endpoint}: HTTP {response.status_code}, credentials refused "
            f"(check SOURCES__{platform.upper()}__CLIENT_ID / CLIENT_SECRET)"
        )
    if response.status_code != 200:
        exc = BadPayload(platform, endpoint, f"HTTP {response.status_code}")
        exc.body = response.text
        raise exc
    if hasattr(response, "_gst_payload"):
        return response._gst_payload, response
    try:
        bad = getattr(response, "_gst_bad", None)
        if bad is not None:
            raise bad
        return parse_json(response.text, platform, endpoint), response
    except BadPayload as exc:
        exc.body = response.text  # kept for the quarantine row
        raise
