"""Column-wise reading of a well-formed API page: the fast path of every list source.

The sources check each item field by field (`loaders.records.Where`)
so that a bad item is quarantined with a reason naming its field: ~14 checking calls per item
(~11 µs). A page of a live list is almost always well formed, so each page is first read
column by column here (~5 µs per item): one Python list per field, checked with builtins over
the whole list and converted with one pyarrow call. Every reader accepts a column only when
the item-by-item checks would accept each of its values and give the same result; anything
else (an int where text is expected, a string number with spaces, a date that is not a
calendar date, a value out of range) raises `Irregular`, and the source re-reads that page
item by item, which finds, names and quarantines the bad items. `tests/python/test_columns.py`
checks that both paths give the same table on well-formed pages and on pages with every kind
of bad value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from loaders.records import (
    EARLIEST_VALID,
    INT_BOUND,
    KST_TIME,
    MAX_FUTURE,
    MAX_TEXT_CHARS,
    BadPayload,
    items_json,
    kst_to_utc,
    rows_to_arrow,
)

UTC = pa.timestamp("us", tz="UTC")
_NONE = type(None)
_DIGITS = re.compile(r"-?[0-9]+")


class Irregular(Exception):
    """A page the column readers do not take as-is: read it item by item instead."""


def objects(items: Sequence[Any]) -> None:
    """Every item of the page is a JSON object."""
    if not all(type(item) is dict for item in items):
        raise Irregular("an item is not an object")


def values(items: Sequence[dict], key: str) -> list[Any]:
    return [item.get(key) for item in items]


def page_table(
    items: Sequence[Any], schema: pa.Schema, lead: Sequence[Any], fields: Sequence[pa.Array]
) -> pa.Table:
    """A table of `schema`: the `lead` values (poll id, observed_at, ...) on every row, then
    the `fields` columns, then each item's raw JSON."""
    n = len(items)
    repeated = [pa.repeat(pa.scalar(v, schema.field(i).type), n) for i, v in enumerate(lead)]
    return pa.Table.from_arrays([*repeated, *fields, items_json(items)], schema=schema)


def optional_strings(column: list[Any]) -> list[str | None]:
    """A column of strings with '' read as null; anything but text or null is Irregular."""
    if not set(map(type, column)) <= {str, _NONE}:
        raise Irregular("not a text column")
    return [value or None for value in column]


def text(column: list[Any], *, required: bool = False) -> pa.Array:
    """`Where.text`: strings (or null) of at most MAX_TEXT_CHARS characters. Required: no
    null, no '' and no whitespace-only value."""
    try:
        array = pa.array(column, pa.string())  # ints, bools, objects are refused here
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
        raise Irregular(str(exc)) from None
    if required:
        if array.null_count or "" in column:
            raise Irregular("missing required text")
        if not all(value.strip() for value in column):
            raise Irregular("blank required text")
    if max(map(len, filter(None, column)), default=0) > MAX_TEXT_CHARS:
        raise Irregular("text too long")
    return array


def integer(column: list[Any], *, required: bool = False, minimum: int | None = None):
    """`Where.int`: Python ints, or strings of ASCII digits with an optional '-' (cast), with
    |value| < INT_BOUND and >= `minimum`; '' is null."""
    kinds = set(map(type, column))
    if kinds <= {str, _NONE}:
        if "" in column:
            column = [value or None for value in column]
        if not all(value is None or _DIGITS.fullmatch(value) for value in column):
            raise Irregular("not a plain integer")
        column = [None if value is None else int(value) for value in column]
    elif not kinds <= {int, _NONE}:
        raise Irregular(f"number column of {sorted(k.__name__ for k in kinds)}")
    numbers = [value for value in column if value is not None]
    if required and len(numbers) < len(column):
        raise Irregular("missing required number")
    if numbers:
        bound = INT_BOUND - 1
        floor = -bound if minimum is None else max(minimum, -bound)
        if min(numbers) < floor or max(numbers) > bound:
            raise Irregular("number out of range")
    return pa.array(column, pa.int64())


BOOL_STRINGS: dict[Any, bool | None] = {
    None: None, "": None, "0": False, "1": True, "true": True, "false": False,
}  # fmt: skip


def boolean(column: list[Any]) -> pa.Array:
    """`Where.bool`: JSON booleans (or null), or strings all spelled as in BOOL_STRINGS (any
    other spelling `Where.bool` accepts, e.g. 'True', is read item by item)."""
    kinds = set(map(type, column))
    if kinds <= {bool, _NONE}:
        return pa.array(column, pa.bool_())
    if kinds <= {str, _NONE} and set(column) <= BOOL_STRINGS.keys():
        return pa.array([BOOL_STRINGS[value] for value in column], pa.bool_())
    raise Irregular("not a boolean column")


def timestamp(
    column: list[Any],
    *,
    pattern: re.Pattern[str],
    parse: Callable[[str], datetime],
    earliest: datetime,
    latest: datetime,
    offset: str = "",
    required: bool = False,
) -> pa.Array:
    """Strings matching `pattern` exactly (or null / ''), as UTC instants within
    [earliest, latest]. `pattern` is a fixed-width form, so text order is time order. The
    form is checked over the whole column (RE2, anchored); Arrow's cast refuses what is not a
    calendar date or time (Feb 30, 24:00, second 60), and `parse` (the item-by-item parser,
    returning an aware datetime) reads the earliest and latest value for the range check (it
    refuses year 0, which Arrow takes). `offset` (e.g. '+09:00') is appended to strings that
    carry none."""
    column = optional_strings(column)
    array = pa.array(column, pa.string())
    if required and array.null_count:
        raise Irregular("missing required time")
    if array.null_count == len(array):
        return pa.nulls(len(array), UTC)
    try:
        if not pc.all(pc.match_substring_regex(array, f"^(?:{pattern.pattern})$")).as_py():
            raise Irregular("a time is not in the expected form")
        bounds = pc.min_max(array)
        if parse(bounds["min"].as_py()) < earliest or parse(bounds["max"].as_py()) > latest:
            raise Irregular("time out of range")
        if offset:
            array = pc.binary_join_element_wise(array, offset, "")
        seconds = array.cast(pa.timestamp("s", tz="UTC"))
    except (ValueError, OverflowError, pa.ArrowInvalid) as exc:
        raise Irregular(str(exc)) from None
    return seconds.cast(UTC)


def first_seen(rows: Iterable[tuple], seen: set) -> list[bool]:
    """Per row (a tuple of its keys, as the source's item-by-item path stores them in
    `seen`), True when none of its keys was seen before in the poll; the keys of kept rows
    are remembered. Rows with a key seen earlier (lists shift while paging) are False."""
    keep = []
    for row_keys in rows:
        if any(key in seen for key in row_keys):
            keep.append(False)
        else:
            seen.update(row_keys)
            keep.append(True)
    return keep


def kst_time(column: list[Any], observed_at: datetime) -> pa.Array:
    """'YYYY-MM-DD HH:MM:SS' in Korea time, as `Where.kst_time` reads it."""
    return timestamp(
        column,
        pattern=KST_TIME,
        parse=kst_to_utc,
        offset="+09:00",
        earliest=EARLIEST_VALID,
        latest=observed_at + MAX_FUTURE,
    )


def keep_first(
    table: pa.Table, items: list, key: str, seen: set, reject: Callable[[Any], Any]
) -> tuple[pa.Table, list]:
    """Drop the rows whose `key` was seen before in the poll; `reject(item)` of each dropped
    row's item (its quarantine entry) comes back with the table."""
    keep = first_seen(((value,) for value in table[key].to_pylist()), seen)
    if all(keep):
        return table, []
    rejected = [reject(item) for item, kept in zip(items, keep, strict=True) if not kept]
    return table.filter(pa.array(keep, pa.bool_())), rejected


def list_page(
    items: list,
    seen: set,
    *,
    fast: Callable[[list], pa.Table] | None,
    row: Callable[[Any], dict[str, Any]],
    schema: pa.Schema,
    key: str,
    quarantine: Callable[[str, Any], Any],
    duplicate: str,
) -> tuple[pa.Table, list]:
    """A page of a live list as a table of `schema`, de-duplicated on `key` across the poll
    (`seen`), plus `quarantine(reason, item)` of every rejected item: column by column with
    `fast` when the page is well formed, else item by item with `row`, whose BadPayload names
    the field an item fails. Repeated keys are quarantined with the reason `duplicate`."""
    if fast is not None:
        try:
            table = fast(items)
        except Irregular:
            pass
        else:
            return keep_first(table, items, key, seen, lambda item: quarantine(duplicate, item))
    rows, rejected = [], []
    for item in items:
        try:
            built = row(item)
        except BadPayload as exc:
            rejected.append(quarantine(str(exc), item))
            continue
        if built[key] in seen:
            rejected.append(quarantine(duplicate, item))
            continue
        seen.add(built[key])
        rows.append(built)
    return rows_to_arrow(rows, schema), rejected
