"""Bronze compaction: one day's page files become one Parquet file per platform and day.

`gst bronze compact PATH --date YYYY-MM-DD [--platform ...]` reads the page files that
`gst load --bronze PATH` wrote for that day (`PATH/<platform>/date=D/hour=HH/*.json.gz`) and
writes

    PATH/platform=<platform>/date=YYYY-MM-DD/<platform>-YYYY-MM-DD.parquet

one row per recorded response (columns in `SCHEMA`), zstd-compressed. Every field of a page
record is kept exactly (`request`, `status`, `headers`, `body`, `poll_id`, `n`); `observed_at`
(the poll's observed time, UTC) and `endpoint` (the request's method and path) are derived
columns for queries. The Hive-style directories are partitions for Athena / Redshift Spectrum
(`docs/bronze.md`) and DuckDB (`hive_partitioning`).

Safe to re-run and to interrupt:

- the file is written under a temporary name (`_<name>.tmp`, which Athena, Spectrum and Hive
  ignore), read back and compared with what was written (row count and a digest of every
  value, Parquet page checksums on), then renamed into place; only then are the page files
  deleted;
- a day already compacted with no page files left is not touched; page files that arrive later
  (or survive a crash between the rename and their deletion) are merged into the day's file,
  a page already in it must be identical to its copy there (else the run stops and names it);
- memory is bounded by one row group (`Layout.row_group_bytes` of JSON, whole polls) and the
  list of the day's page-file names, not by the day's data.

Replay (`gst load --from-bronze`) reads compacted days and page files alike through
`recorded_polls`.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import json
import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from loaders.bronze import BronzeError, _fs

FORMAT_VERSION = "1"
# the fields of a page record (loaders.bronze.Recorder), in its order
RECORD_FIELDS = ("platform", "poll_id", "n", "request", "status", "headers", "body")
SCHEMA = pa.schema(
    [
        pa.field("poll_id", pa.string(), nullable=False),
        pa.field("observed_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("n", pa.int32(), nullable=False),
        pa.field("endpoint", pa.string(), nullable=False),
        pa.field("request", pa.string(), nullable=False),
        pa.field("status", pa.int32(), nullable=False),
        pa.field("headers", pa.string(), nullable=False),
        pa.field("body", pa.string(), nullable=False),
    ]
)
COLUMNS = tuple(SCHEMA.names)
READ_BATCH_FILES = 256  # page files fetched per fs.cat call (concurrent on object stores)


@dataclass(frozen=True)
class Layout:
    """How the file is written. The defaults were measured on a simulated day at 400
    channels (bench/bronze_bench.py --variants, README Performance)."""

    zstd_level: int = 12  # 19 saves ~5 % more bytes in ~7x the time
    row_group_bytes: int = 16 * 2**20  # JSON bytes per row group: whole polls, sorted within
    data_page_bytes: int = 8 * 2**20  # zstd compresses each Parquet data page on its own
    dictionary: tuple[str, ...] = ("poll_id", "endpoint", "request", "headers")
    sort: bool = True  # similar bodies side by side (`_sorted_for_size`)


PAGE_NAME = re.compile(r"(?P<poll>[^/]+)-(?P<n>\d+)\.json\.gz$")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def compacted_dir(root: str, platform: str, date: str) -> str:
    return f"{root}/platform={platform}/date={date}"


def compacted_path(root: str, platform: str, date: str) -> str:
    return f"{compacted_dir(root, platform, date)}/{platform}-{date}.parquet"


def _temp_path(root: str, platform: str, date: str) -> str:
    return f"{compacted_dir(root, platform, date)}/_{platform}-{date}.parquet.tmp"


def check_date(date: str) -> str:
    """'YYYY-MM-DD' that is a calendar date, else ValueError."""
    try:
        if DATE.fullmatch(date or ""):
            datetime.strptime(date, "%Y-%m-%d")  # refuses 2026-02-30
            return date
    except ValueError:
        pass
    raise ValueError(f"--date expects YYYY-MM-DD (a calendar day), got {date!r}")


# --- rows -----------------------------------------------------------------------------------
# A row is a tuple in COLUMNS order; a record is the page file's dict (RECORD_FIELDS).


@functools.lru_cache(maxsize=4096)
def _observed_at(poll: str) -> datetime:
    return datetime.strptime(poll.rsplit(":", 1)[1], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def _endpoint(request: str) -> str:
    return request.split("?", 1)[0]


def row_from_record(record: Any, platform: str, date: str, where: str) -> tuple:
    """The row of one page record, after checking it is one (BronzeError naming `where`)."""
    if not isinstance(record, dict) or tuple(record) != RECORD_FIELDS:
        fields = sorted(record) if isinstance(record, dict) else type(record).__name__
        raise BronzeError(f"{where}: not a bronze page record (fields {fields})")
    poll, n, request, status = record["poll_id"], record["n"], record["request"], record["status"]
    headers, body = record["headers"], record["body"]
    kinds = (
        (record["platform"] == platform, f"platform {record['platform']!r}, expected {platform!r}"),
        (isinstance(poll, str) and poll.startswith(f"{platform}:"), f"poll_id {poll!r}"),
        (type(n) is int and n >= 0, f"n {n!r}"),
        (isinstance(request, str) and " " in request, f"request {request!r:.80}"),
        (type(status) is int, f"status {status!r}"),
        (isinstance(body, str), "body is not text"),
        (
            isinstance(headers, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()),
            "headers are not a text mapping",
        ),
    )
    for ok, what in kinds:
        if not ok:
            raise BronzeError(f"{where}: bad bronze page record ({what})")
    try:
        observed_at = _observed_at(poll)
    except ValueError:
        raise BronzeError(f"{where}: bad bronze page record (poll_id {poll!r})") from None
    if f"{observed_at:%Y-%m-%d}" != date:
        raise BronzeError(f"{where}: poll {poll} is not of {date}")
    headers_text = json.dumps(headers, ensure_ascii=False)
    return (poll, observed_at, n, _endpoint(request), request, status, headers_text, body)


def record_from_row(row: tuple, platform: str) -> dict[str, Any]:
    poll, _observed, n, _endpoint_, request, status, headers_text, body = row
    return {
        "platform": platform,
        "poll_id": poll,
        "n": n,
        "request": request,
        "status": status,
        "headers": json.loads(headers_text),
        "body": body,
    }


def _digest(digest: Any, rows: Iterable[tuple]) -> None:
    """Fold every value of `rows` (in order, length-prefixed) into `digest`."""
    update = digest.update
    for row in rows:
        for value in row:
            data = value.encode() if isinstance(value, str) else str(value).encode()
            update(len(data).to_bytes(8, "little"))
            update(data)


def _rows_of(table: pa.Table) -> list[tuple]:
    return list(zip(*(table.column(c).to_pylist() for c in COLUMNS), strict=True))


def _row_bytes(row: tuple) -> int:
    return len(row[4]) + len(row[6]) + len(row[7])


# --- reading --------------------------------------------------------------------------------


def _page_files(fs: Any, root: str, platform: str, date: str) -> list[tuple[str, int, str]]:
    """(poll_id, n, file) of the day's page files, in poll and response order."""
    out = []
    for name in fs.glob(f"{root}/{platform}/date={date}/hour=*/*.json.gz"):
        match = PAGE_NAME.search(name.rsplit("/", 1)[1])
        if match is None:
            raise BronzeError(f"{platform}: unexpected bronze file name {name}")
        out.append((match["poll"], int(match["n"]), name))
    return sorted(out)


def _page_polls(
    fs: Any, files: list[tuple[str, int, str]], platform: str, date: str, stats: CompactReport
) -> Iterator[tuple[str, list[tuple]]]:
    """(poll_id, rows in response order) from page files, polls in time order."""
    polls: dict[str, list[str]] = {}
    for poll, _n, name in files:
        polls.setdefault(poll, []).append(name)
    for poll, names in polls.items():
        rows = []
        for start in range(0, len(names), READ_BATCH_FILES):
            batch = names[start : start + READ_BATCH_FILES]
            try:
                blobs = fs.cat(batch) if len(batch) > 1 else {batch[0]: fs.cat(batch[0])}
            except OSError as exc:
                raise BronzeError(f"{platform}: cannot read bronze files of {poll}: {exc}") from exc
            for name in batch:
                packed = blobs[name]
                try:
                    data = gzip.decompress(packed)
                    record = json.loads(data)
                except (OSError, EOFError, ValueError) as exc:
                    raise BronzeError(f"{name}: not a readable bronze page ({exc})") from None
                row = row_from_record(record, platform, date, name)
                if record_from_row(row, platform) != record:  # the row must give it back
                    raise BronzeError(f"{name}: its record does not survive compaction")
                if row[0] != poll or f"{poll}-{row[2]:05d}.json.gz" != name.rsplit("/", 1)[1]:
                    raise BronzeError(f"{name}: its record says poll {row[0]} response {row[2]}")
                stats.page_bytes += len(packed)
                stats.json_bytes += len(data)
                rows.append(row)
        yield poll, rows


@contextlib.contextmanager
def _parquet(fs: Any, name: str) -> Iterator[pq.ParquetFile]:
    """A compacted file opened for reading (page checksums verified), closed on exit."""
    try:
        handle = fs.open(name, "rb")
    except OSError as exc:
        raise BronzeError(f"cannot read compacted bronze file {name}: {exc}") from exc
    with handle:
        try:
            parquet = pq.ParquetFile(handle, page_checksum_verification=True)
        except (OSError, pa.ArrowException) as exc:
            raise BronzeError(f"cannot read compacted bronze file {name}: {exc}") from exc
        if parquet.schema_arrow.remove_metadata() != SCHEMA.remove_metadata():
            raise BronzeError(f"{name}: not a compacted bronze file ({parquet.schema_arrow})")
        yield parquet


def _file_polls(fs: Any, name: str) -> Iterator[tuple[str, list[tuple]]]:
    """(poll_id, rows in response order) from a compacted file, one row group at a time."""
    pending: tuple[str, list[tuple]] | None = None
    last = ""
    with _parquet(fs, name) as parquet:
        for index in range(parquet.num_row_groups):
            polls: dict[str, list[tuple]] = {}
            try:
                table = parquet.read_row_group(index)
            except (OSError, pa.ArrowException) as exc:
                raise BronzeError(f"cannot read compacted bronze file {name}: {exc}") from exc
            for row in _rows_of(table):
                polls.setdefault(row[0], []).append(row)
            for poll in sorted(polls):
                rows = polls[poll]
                if pending is not None and pending[0] == poll:  # a poll across row groups
                    pending[1].extend(rows)
                    continue
                if pending is not None:
                    yield pending[0], sorted(pending[1], key=lambda r: r[2])
                if poll < last:
                    raise BronzeError(f"{name}: polls are out of order at {poll}")
                pending, last = (poll, list(rows)), poll
    if pending is not None:
        yield pending[0], sorted(pending[1], key=lambda r: r[2])


def _merge(
    compacted: Iterator[tuple[str, list[tuple]]],
    pages: Iterator[tuple[str, list[tuple]]],
    stats: CompactReport | None = None,
) -> Iterator[tuple[str, list[tuple]]]:
    """Both streams of polls (each in time order) as one; a poll in both is the union of its
    responses, and a response in both must be identical."""
    head_c, head_p = next(compacted, None), next(pages, None)
    while head_c is not None or head_p is not None:
        if head_p is None or (head_c is not None and head_c[0] < head_p[0]):
            yield head_c
            head_c = next(compacted, None)
        elif head_c is None or head_p[0] < head_c[0]:
            if stats is not None:
                stats.new_rows += len(head_p[1])
            yield head_p
            head_p = next(pages, None)
        else:
            by_n = {row[2]: row for row in head_c[1]}
            for row in head_p[1]:
                kept = by_n.get(row[2])
                if kept is None:
                    by_n[row[2]] = row
                    if stats is not None:
                        stats.new_rows += 1
                elif kept != row:
                    raise BronzeError(
                        f"{row[0]} response {row[2]}: the page file differs from its copy in "
                        "the compacted file"
                    )
            yield head_c[0], [by_n[n] for n in sorted(by_n)]
            head_c, head_p = next(compacted, None), next(pages, None)


# --- writing --------------------------------------------------------------------------------


def _sorted_for_size(rows: list[tuple]) -> list[tuple]:
    """Similar bodies side by side: the k-th response of each endpoint, poll after poll."""
    rank: dict[tuple[str, str], int] = {}
    keyed = []
    for row in rows:  # rows arrive poll by poll, each poll in response order
        key = (row[0], row[3])
        rank[key] = rank.get(key, -1) + 1
        keyed.append(((row[3], rank[key], row[0], row[2]), row))
    keyed.sort(key=lambda pair: pair[0])
    return [row for _, row in keyed]


def _table(rows: list[tuple]) -> pa.Table:
    columns = list(zip(*rows, strict=True))
    return pa.Table.from_arrays(
        [pa.array(values, type=f.type) for values, f in zip(columns, SCHEMA, strict=True)],
        schema=SCHEMA,
    )


def _writer(handle: Any, metadata: dict[str, str], layout: Layout) -> pq.ParquetWriter:
    return pq.ParquetWriter(
        handle,
        SCHEMA.with_metadata(metadata),
        compression="zstd",
        compression_level=layout.zstd_level,
        use_dictionary=list(layout.dictionary),
        data_page_size=layout.data_page_bytes,
        write_page_checksum=True,
        write_statistics=["poll_id", "observed_at", "n", "endpoint", "status"],
    )


def write_compacted(
    fs: Any,
    name: str,
    platform: str,
    date: str,
    polls: Iterator[tuple[str, list[tuple]]],
    layout: Layout,
) -> tuple[int, str]:
    """Write `polls` as one Parquet file; row groups of whole polls, each sorted for size.
    Returns (rows, digest of every value in file order)."""
    digest = hashlib.blake2b(digest_size=32)
    count = 0
    metadata = {"gst.bronze.format": FORMAT_VERSION, "platform": platform, "date": date}
    with fs.open(name, "wb") as handle, _writer(handle, metadata, layout) as writer:
        chunk: list[tuple] = []
        size = 0

        def flush() -> None:
            nonlocal chunk, size, count
            rows = _sorted_for_size(chunk) if layout.sort else chunk
            _digest(digest, rows)
            writer.write_table(_table(rows), row_group_size=len(rows))
            count += len(rows)
            chunk, size = [], 0

        for _poll, rows in polls:
            chunk.extend(rows)
            size += sum(map(_row_bytes, rows))
            if size >= layout.row_group_bytes:
                flush()
        if chunk:
            flush()
    return count, digest.hexdigest()


def verify_compacted(fs: Any, name: str, rows: int, digest: str) -> None:
    """Read the file back: it must hold exactly `rows` rows whose values give `digest`."""
    check = hashlib.blake2b(digest_size=32)
    count = 0
    with _parquet(fs, name) as parquet:
        for index in range(parquet.num_row_groups):
            try:
                table = parquet.read_row_group(index)
            except (OSError, pa.ArrowException) as exc:
                raise BronzeError(f"cannot read back compacted bronze file {name}: {exc}") from exc
            _digest(check, _rows_of(table))
            count += table.num_rows
    if count != rows or check.hexdigest() != digest:
        raise BronzeError(
            f"{name}: read back {count} rows that differ from the {rows} written; "
            "the page files were kept"
        )


# --- compaction -----------------------------------------------------------------------------


@dataclass
class CompactReport:
    platform: str
    date: str
    status: str = "empty"  # compacted | up to date | empty
    pages: int = 0  # page files read (and removed)
    new_rows: int = 0  # responses not already in the compacted file
    rows: int = 0  # responses in the compacted file
    page_bytes: int = 0  # gzip bytes of the page files read
    json_bytes: int = 0  # their JSON bytes
    file_bytes: int = 0  # the compacted file
    seconds: float = 0.0
    path: str = ""

    def summary(self) -> str:
        head = f"{self.platform} {self.date}"
        if self.status == "empty":
            return f"{head}: no bronze files"
        if self.status == "up to date":
            return f"{head}: up to date ({self.rows} responses, {self.file_bytes / 1e6:.2f} MB)"
        mb_s = self.json_bytes / 1e6 / self.seconds if self.seconds else 0.0
        return (
            f"{head}: {self.pages} page files ({self.json_bytes / 1e6:.2f} MB JSON, "
            f"{self.page_bytes / 1e6:.2f} MB gzip) -> {self.path} ({self.rows} responses, "
            f"{self.file_bytes / 1e6:.2f} MB), {self.seconds:.1f} s, {mb_s:.1f} MB/s"
        )


def compact_day(path: str, date: str, platform: str, layout: Layout | None = None) -> CompactReport:
    """Compact one platform's page files of one day (see the module docstring)."""
    started = time.monotonic()
    check_date(date)
    fs, root = _fs(path)
    fs.invalidate_cache()
    report = CompactReport(platform, date, path=compacted_path(root, platform, date))
    target, temp = report.path, _temp_path(root, platform, date)
    files = _page_files(fs, root, platform, date)
    exists = fs.exists(target)
    if exists:
        report.file_bytes = fs.size(target)
    if not files:
        if fs.exists(temp):  # left by an interrupted run
            fs.rm(temp)
        if exists:
            report.status = "up to date"
            with _parquet(fs, target) as parquet:
                report.rows = parquet.metadata.num_rows
        return report

    compacted = _file_polls(fs, target) if exists else iter(())
    polls = _merge(compacted, _page_polls(fs, files, platform, date, report), report)
    fs.makedirs(compacted_dir(root, platform, date), exist_ok=True)
    try:
        rows, digest = write_compacted(fs, temp, platform, date, polls, layout or Layout())
        if report.new_rows:
            verify_compacted(fs, temp, rows, digest)
            size = fs.size(temp)
            fs.mv(temp, target)
            fs.invalidate_cache()
            if fs.size(target) != size:
                raise BronzeError(f"{target}: size differs after the rename; page files kept")
        else:  # every page is already in the file (a run stopped before removing them)
            fs.rm(temp)
    except BaseException:
        if fs.exists(temp):
            fs.rm(temp)
        raise
    report.pages, report.rows, report.file_bytes = len(files), rows, fs.size(target)
    _remove_pages(fs, [name for _, _, name in files])
    report.status = "compacted"
    report.seconds = time.monotonic() - started
    return report


def _remove_pages(fs: Any, names: list[str]) -> None:
    fs.rm(names)
    if "file" in fs.protocol or "local" in fs.protocol:  # object stores have no directories
        for hour in sorted({name.rsplit("/", 1)[0] for name in names}):
            for directory in (hour, hour.rsplit("/", 1)[0]):
                # not empty: pages written since the listing stay for the next run
                with contextlib.suppress(OSError):
                    os.rmdir(directory)


# --- replay ---------------------------------------------------------------------------------


def recorded_polls(path: str, platform: str) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(poll_id, page records in response order) of every recorded poll of `platform`, in time
    order, from compacted days and page files alike (a response in both counts once)."""
    fs, root = _fs(path)
    fs.invalidate_cache()
    dates = {
        name.rsplit("date=", 1)[1]
        for pattern in (f"{root}/{platform}/date=*", f"{root}/platform={platform}/date=*")
        for name in fs.glob(pattern)
    }
    for date in sorted(dates):
        stats = CompactReport(platform, date)
        polls = _page_polls(fs, _page_files(fs, root, platform, date), platform, date, stats)
        target = compacted_path(root, platform, date)
        if fs.exists(target):
            polls = _merge(_file_polls(fs, target), polls)
        for poll, rows in polls:
            yield poll, [record_from_row(row, platform) for row in rows]
