"""What every platform source does with what it reads: poll identity, field checks,
quarantine rows, per-poll counters and arrow batching. Imports nothing from `loaders`.

The field checks are one set for the four platforms (item by item; `loaders.columns` reads a
well-formed page column by column with the same rules):

- integers must fit the int64 columns they land in: |value| < 2**63 (the only bound that is
  not arbitrary; Twitch's older 2**62 rejected values its own column could hold);
- times must lie after 2005-01-01 UTC and at most a day after the poll: the floor is the
  earliest that admits every platform (AfreecaTV, now SOOP, streamed from 2006; Twitch's
  older 2007 floor named only Justin.tv), the ceiling catches clocks and junk;
- text is at most MAX_TEXT_CHARS characters, and a required text may not be blank.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import orjson

KST = timezone(timedelta(hours=9))
PLATFORMS = ("chzzk", "soop", "twitch", "steam")

MAX_TEXT_CHARS = 4096  # longer strings are bad input (titles and names are far shorter)
INT_BOUND = 2**63  # |value| must stay below it: the raw columns are int64
EARLIEST_VALID = datetime(2005, 1, 1, tzinfo=UTC)  # before any of these platforms streamed
MAX_FUTURE = timedelta(days=1)  # a start time more than a day after the poll is absurd

KST_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")


class BadPayload(ValueError):
    """A response or item that cannot be loaded; carries where it came from and why."""

    def __init__(self, platform: str, endpoint: str, reason: str, field: str | None = None):
        self.platform, self.endpoint, self.reason, self.field = platform, endpoint, reason, field
        where = f"{platform} {endpoint}" + (f" field '{field}'" if field else "")
        super().__init__(f"{where}: {reason}")


# --- poll identity ------------------------------------------------------------------------


def observed_at_from_response(response: Any) -> datetime:
    """UTC instant of a response from its HTTP `Date` header; the local clock if absent."""
    header = getattr(response, "headers", {}).get("Date") if response is not None else None
    if header:
        try:
            return parsedate_to_datetime(header).astimezone(UTC)
        except (TypeError, ValueError):
            pass
    return datetime.now(UTC).replace(microsecond=0)


#: each raw schema's record of the polls themselves, one row per poll and observation table
#: (`pipeline.poll_records`; loaders/raw_tables.md): written also when a poll sees nobody live
POLL_RECORD = "polls"


def poll_id(platform: str, observed_at: datetime) -> str:
    """Deterministic id of one poll of one platform: re-running the same poll gives the same id."""
    return f"{platform}:{observed_at.astimezone(UTC):%Y%m%dT%H%M%SZ}"


@dataclass
class Poll:
    """One poll of one platform: every row of it shares `observed_at` (the `Date` of its first
    response, see `observe`) and `poll_id`."""

    platform: str
    observed_at: datetime | None = None
    api_variant: str | None = None

    def observe(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        if self.observed_at is None:
            self.observed_at = observed_at_from_response(response)
            poll_stats(self.platform).observed_at = self.observed_at  # the poll record's time
        return response

    def now(self) -> datetime:
        if self.observed_at is None:
            self.observed_at = datetime.now(UTC).replace(microsecond=0)
        return self.observed_at

    @property
    def poll_id(self) -> str:
        return poll_id(self.platform, self.now())

    def quarantine(self, endpoint: str, reason: str, payload: Any) -> Quarantined:
        text = payload if isinstance(payload, str) else item_json(payload)
        return Quarantined(self.platform, endpoint, reason, text, self.poll_id, self.now())


# --- field checks ---------------------------------------------------------------------------


def kst_to_utc(text: str | None) -> datetime | None:
    """'2025-11-26 17:53:01' in Korea time (no offset, as Chzzk and SOOP send it) -> UTC."""
    if text is None or str(text).strip() == "":
        return None
    value = str(text).strip()
    if not KST_TIME.fullmatch(value):  # fromisoformat alone would take dates, offsets, ...
        raise ValueError(f"not 'YYYY-MM-DD HH:MM:SS': {value!r:.40}")
    # fromisoformat: ~25x faster than strptime, and called once per live channel per poll
    return datetime.fromisoformat(value).replace(tzinfo=KST).astimezone(UTC)


def parse_iso(value: str) -> datetime:
    """ISO-8601 with an offset or `Z`."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def int_or_text(text: str) -> int | str:
    """int(text), or the text itself when int() refuses it ('--5', '²')."""
    try:
        return int(text)
    except ValueError:
        return text


@dataclass(frozen=True)
class Where:
    """Platform and endpoint of the item being read: the field checks, whose BadPayload names
    the platform, endpoint and field."""

    platform: str
    endpoint: str

    def bad(self, reason: str, field: str | None = None) -> BadPayload:
        return BadPayload(self.platform, self.endpoint, reason, field)

    def get(self, item: Any, field: str, *, required: bool = False) -> Any:
        """`item[field]` of a JSON object item; None when absent (an error when required)."""
        if not isinstance(item, dict):
            raise self.bad(f"item is a {type(item).__name__}, not an object")
        value = item.get(field)
        if value is None and required:
            raise self.bad("missing required field", field)
        return value

    # the checks below on `item[field]` of a JSON object item
    def text_of(self, item: Any, field: str, *, required: bool = False) -> str | None:
        return self.text(self.get(item, field, required=required), field, required=required)

    def int_of(
        self, item: Any, field: str, *, required: bool = False, minimum: int | None = None
    ) -> int | None:
        value = self.get(item, field, required=required)
        return self.int(value, field, required=required, minimum=minimum)

    def bool_of(self, item: Any, field: str, *, required: bool = False) -> bool | None:
        value = self.bool(self.get(item, field, required=required), field)
        if value is None and required:
            raise self.bad("missing required field", field)
        return value

    def text(self, value: Any, field: str, *, required: bool = False) -> str | None:
        if value is None or (required and value == ""):
            if required:
                raise self.bad("missing required field", field)
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.bad(f"expected text, got {type(value).__name__}", field)
        value = str(value)
        if len(value) > MAX_TEXT_CHARS:
            raise self.bad(
                f"text of {len(value)} chars is implausibly long (over {MAX_TEXT_CHARS})", field
            )
        if required and not value.strip():
            raise self.bad("required field is blank", field)
        return value

    def int(self, value: Any, field: str, *, required: bool = False, minimum: int | None = None):
        if value is None or value == "":
            if required:
                raise self.bad("missing required field", field)
            return None
        if isinstance(value, bool):
            raise self.bad("expected an integer, got a boolean", field)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int_or_text(value.strip())
        if not isinstance(value, int):
            raise self.bad(f"expected an integer, got {value!r:.40}", field)
        if minimum is not None and value < minimum:
            raise self.bad(f"value {value} is below {minimum}", field)
        if abs(value) >= INT_BOUND:
            raise self.bad(f"value {value} is out of range", field)
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

    def _in_range(self, moment: datetime, value: str, field: str, observed_at: datetime):
        if not EARLIEST_VALID <= moment <= observed_at + MAX_FUTURE:
            raise self.bad(f"absurd timestamp {value:.40} (poll at {observed_at:%F %T}Z)", field)
        return moment

    def kst_time(self, value: Any, field: str, observed_at: datetime) -> datetime | None:
        """'YYYY-MM-DD HH:MM:SS' in Korea time (Chzzk, SOOP) -> UTC."""
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.bad(f"expected 'YYYY-MM-DD HH:MM:SS', got {type(value).__name__}", field)
        try:
            moment = kst_to_utc(value)
        except (ValueError, OverflowError) as exc:
            raise self.bad(f"unreadable time {value!r:.40}", field) from exc
        return self._in_range(moment, value, field, observed_at) if moment else None

    def iso_time(
        self, value: Any, field: str, observed_at: datetime, *, required: bool = False
    ) -> datetime | None:
        """ISO-8601 with an offset or `Z` (Twitch) -> UTC."""
        if value is None or value == "":
            if required:
                raise self.bad("missing required field", field)
            return None
        if not isinstance(value, str):
            raise self.bad(f"expected an ISO-8601 timestamp, got {value!r:.40}", field)
        try:
            parsed = parse_iso(value)
        except ValueError as exc:
            raise self.bad(f"unreadable time {value!r:.40}", field) from exc
        if parsed.tzinfo is None:
            raise self.bad(f"timestamp without offset {value!r:.40}", field)
        return self._in_range(parsed.astimezone(UTC), value, field, observed_at)


# --- quarantine -----------------------------------------------------------------------------


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


# --- per-poll counters shown by `gst load` (pages, rows, retries, quarantined) ---------------


@dataclass
class PollStats:
    """Counters of one platform's poll; sources and the HTTP session bump them, the runner
    displays them and records them in the run ledger."""

    pages: int = 0
    rows: int = 0
    retries: int = 0
    quarantined: int = 0
    listener: Any = None  # callable(PollStats) -> None, e.g. a progress bar refresh
    # the poll's time from a response's Date header (not the clock): the runner records the
    # poll in raw_<platform>.polls with it, even when the poll saw nobody live
    observed_at: datetime | None = None

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


# --- raw tables: dlt hints and arrow batching ------------------------------------------------

#: Schema contract of every raw table: new tables and columns may appear, types may not change.
CONTRACT = {"tables": "evolve", "columns": "evolve", "data_type": "freeze"}
#: Write disposition of observation tables. `delete-insert` de-duplicates the staging rows on
#: the primary key, so a load job that dlt re-runs after a crash (SIGKILL between loading the
#: staging table and marking the job done) or a re-polled moment never duplicates a row.
OBSERVATIONS = {"disposition": "merge", "strategy": "delete-insert"}


def latest_wins(columns: dict[str, Any]) -> dict[str, Any]:
    """Column hints of a merge (entity) table whose newest version must win: when one load
    package holds several polls (polls extracted together, as `gst demo` does), dlt's merge
    keeps per primary key the row with the latest `observed_at` (`dedup_sort`), exactly as
    loading the polls one by one would."""
    return {**columns, "observed_at": {**columns.get("observed_at", {}), "dedup_sort": "desc"}}


def table_hints(
    name: str, columns: dict[str, Any], primary_key: list[str], disposition: Any = OBSERVATIONS
) -> Any:
    """Hints for one raw table of a resource that feeds several tables (see `as_table`); merge
    (entity) tables keep the newest version of a row (`latest_wins`)."""
    import dlt

    if disposition == "merge":
        columns = latest_wins(columns)
    return dlt.mark.make_hints(
        table_name=name,
        write_disposition=disposition,
        primary_key=primary_key,
        merge_key=None,
        columns=columns,
        schema_contract=CONTRACT,
    )


def as_table(item: Any, hints: Any) -> Any:
    """Route a table to its own raw table with its own hints: a table *variant* per target
    keeps the hints of one table (primary key, not-null columns) from leaking into another."""
    import dlt

    return dlt.mark.with_hints(item, hints, create_table_variant=True)


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


def not_null(schema: Any, *names: str) -> Any:
    """The arrow schema with `names` marked not-null (they carry the tables' not-null hints)."""
    for name in names:
        index = schema.get_field_index(name)
        schema = schema.set(index, schema.field(index).with_nullable(False))
    return schema


def item_json(item: Any) -> str:
    """An API item as compact JSON text (the `raw_item` column).

    orjson (a dlt dependency) is ~15x faster than `json.dumps` and writes the same compact
    UTF-8 text; what it refuses (integers beyond 64 bits, non-JSON types) goes through
    `json`, non-JSON values as their text."""
    try:
        return orjson.dumps(item).decode()
    except TypeError:
        return json.dumps(item, ensure_ascii=False, separators=(",", ":"), default=str)


def items_json(items: list[Any]) -> Any:
    """`item_json` of every item, as an arrow text column. orjson's bytes are UTF-8, so Arrow
    takes them as text without decoding each; a list holding anything orjson refuses is written
    item by item with `item_json`."""
    import pyarrow as pa

    try:
        return pa.array(list(map(orjson.dumps, items)), pa.string())
    except TypeError:
        return pa.array([item_json(item) for item in items], pa.string())
