"""Bronze: every raw API response page, gzip-compressed (replay: `loaders.bronze_replay`).

`gst load --bronze PATH` records each final response (after retries) that a platform's
`PoliteSession` receives to

    PATH/<platform>/date=YYYY-MM-DD/hour=HH/<poll_id>-<n>.json.gz

(date and hour of the poll's observed_at, UTC; `n` counts the poll's responses). PATH is any
fsspec URL: a local directory, `s3://bucket/prefix` (AWS credentials from the usual env vars),
`gs://`, `az://`. `gst load --from-bronze PATH` loads the warehouse from those files through
the same sources and parsing code: the sources run as usual, but their HTTP transport answers
each request with the recorded response, poll by poll, so the rows are those of the live load.

Secrets never reach the files: request headers and bodies are not kept, `client_id` /
`client_secret` query values and token fields in bodies are replaced by `***`.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from requests import Response

from loaders.records import observed_at_from_response, poll_id

REDACTED = "***"
SECRET_PARAMS = frozenset({"client_id", "client_secret", "key", "access_token"})
SECRET_FIELDS = ("access_token", "refresh_token")
KEPT_HEADERS = ("Date", "Content-Type")  # what replay needs; rate-limit headers would throttle


class BronzeError(RuntimeError):
    """Bronze files that cannot be written or do not answer a request on replay."""


def _fs(path: str) -> tuple[Any, str]:
    from fsspec.core import url_to_fs

    fs, root = url_to_fs(path)
    return fs, root.rstrip("/")


def request_key(method: str, url: str) -> str:
    """`METHOD /path?query` with sorted params and secret values redacted: how a recorded
    response is found again on replay (the host differs between simulator runs)."""
    parts = urlsplit(url)
    query = sorted(
        (k, REDACTED if k.lower() in SECRET_PARAMS else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    )
    return f"{method.upper()} {parts.path}" + (f"?{urlencode(query)}" if query else "")


def _redact_body(text: str) -> str:
    if not any(name in text for name in SECRET_FIELDS):
        return text
    try:
        payload = json.loads(text)
    except ValueError:
        return text
    if isinstance(payload, dict):
        for name in SECRET_FIELDS:
            if name in payload:
                payload[name] = REDACTED
    return json.dumps(payload, ensure_ascii=False)


@dataclass
class _Poll:
    poll_id: str
    partition: str
    pages: int = 0


@dataclass
class Recorder:
    """Writes the responses of every PoliteSession while installed (see `recording`)."""

    path: str
    pages: int = 0
    raw_bytes: int = 0
    stored_bytes: int = 0
    per_platform: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def __post_init__(self) -> None:
        self.fs, self.root = _fs(self.path)
        self._lock = threading.Lock()

    def observe(self, session: Any, response: Response) -> None:
        with self._lock:  # a poll's requests may run in several threads (Steam's players)
            poll = getattr(session, "_bronze_poll", None)
            if poll is None:  # the session's first response: its Date names the poll
                at = observed_at_from_response(response)
                partition = f"{session.platform}/date={at:%Y-%m-%d}/hour={at:%H}"
                poll = _Poll(poll_id(session.platform, at), partition)
                session._bronze_poll = poll
            poll.pages += 1
            n = poll.pages
        request = response.request
        record = {
            "platform": session.platform,
            "poll_id": poll.poll_id,
            "n": n,
            "request": request_key(request.method or "GET", request.url or response.url),
            "status": response.status_code,
            "headers": {k: response.headers[k] for k in KEPT_HEADERS if k in response.headers},
            "body": _redact_body(response.text),
        }
        data = json.dumps(record, ensure_ascii=False).encode()
        packed = gzip.compress(data, compresslevel=6, mtime=0)
        name = f"{self.root}/{poll.partition}/{poll.poll_id}-{n:05d}.json.gz"
        try:
            self.fs.makedirs(f"{self.root}/{poll.partition}", exist_ok=True)
            with self.fs.open(name, "wb") as handle:
                handle.write(packed)
        except OSError as exc:
            raise BronzeError(
                f"{session.platform}: cannot write bronze file {name}: {exc}"
            ) from exc
        with self._lock:
            self.pages += 1
            self.raw_bytes += len(data)
            self.stored_bytes += len(packed)
            self.per_platform[session.platform] += 1

    @property
    def ratio(self) -> float:
        return self.raw_bytes / self.stored_bytes if self.stored_bytes else 0.0

    def summary(self) -> str:
        return (
            f"bronze: {self.pages} pages to {self.path}, {self.raw_bytes / 1e6:.2f} MB of JSON "
            f"stored as {self.stored_bytes / 1e6:.2f} MB gzip (compression {self.ratio:.1f}x)"
        )


@contextlib.contextmanager
def recording(path: str) -> Iterator[Recorder]:
    """Write every response page of the loads run inside the block under `path`."""
    from loaders.http import RESPONSE_OBSERVERS

    recorder = Recorder(path)
    RESPONSE_OBSERVERS.append(recorder.observe)
    try:
        yield recorder
    finally:
        RESPONSE_OBSERVERS.remove(recorder.observe)


# --- replay -------------------------------------------------------------------------------------


def list_polls(path: str, platform: str) -> dict[str, list[str]]:
    """poll_id -> its files in response order, polls in time order."""
    fs, root = _fs(path)
    files = sorted(fs.glob(f"{root}/{platform}/date=*/hour=*/*.json.gz"))
    polls: dict[str, list[str]] = defaultdict(list)
    for name in files:
        polls[name.rsplit("/", 1)[1].rsplit("-", 1)[0]].append(name)
    return {pid: sorted(polls[pid]) for pid in sorted(polls)}
