"""Loads replayed from bronze files (`gst load --from-bronze PATH`, see `loaders.bronze`).

The platforms' sources run as usual, but their HTTP transport (`loaders.http.TRANSPORTS`)
answers each request with the recorded response, poll by poll, from page files and compacted
days alike (`loaders.bronze_compact.recorded_polls`), so the rows are those of the live load.
"""

from __future__ import annotations

import itertools
import os
from collections import defaultdict, deque
from collections.abc import Iterator
from typing import Any

from requests import Response
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from loaders.bronze import BronzeError, request_key
from loaders.bronze_compact import recorded_polls
from loaders.http import TRANSPORTS
from loaders.pipeline import (
    PlatformReport,
    load_sequence,
    make_pipeline,
    make_source,
    one_sentence,
    resolve_platforms,
)
from loaders.warehouse import destination


class ReplayAdapter(BaseAdapter):
    """A requests transport answering each request with its recorded response."""

    def __init__(self, platform: str, poll: str, records: list[dict[str, Any]]):
        super().__init__()
        self.platform, self.poll = platform, poll
        self.answers: dict[str, deque] = defaultdict(deque)
        for record in records:
            self.answers[record["request"]].append(record)

    def send(self, request: Any, **kwargs: Any) -> Response:
        key = request_key(request.method or "GET", request.url)
        queue = self.answers.get(key)
        if not queue:
            raise BronzeError(
                f"{self.platform}: bronze poll {self.poll} has no recorded response for {key}"
            )
        record = queue.popleft() if len(queue) > 1 else queue[0]
        response = Response()
        response.status_code = record["status"]
        response.headers = CaseInsensitiveDict(record["headers"])
        response._content = record["body"].encode()
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        response.reason = "OK" if record["status"] == 200 else "replayed"
        return response

    def close(self) -> None:
        pass


def replay(path: str, platforms: list[str] | str = "all", target: str = "duckdb") -> dict[str, Any]:
    """Load the warehouse from bronze files: per platform, every recorded poll is extracted
    through the platform's source (in time order), then all are normalized and loaded.
    Returns {platform: PlatformReport}."""
    names = resolve_platforms(platforms)
    destination(target)
    reports: dict[str, Any] = {}
    for name in names:
        report = PlatformReport(name)
        polls = recorded_polls(path, name)  # compacted days and page files alike
        first = next(polls, None)
        if first is None:
            report.status, report.error = "failed", f"{name}: no bronze files under {path}"
            reports[name] = report
            continue
        # a recorded bad body is final: replay must not retry it with backoff waits
        env_key = f"SOURCES__{name.upper()}__MAX_ATTEMPTS"
        saved = os.environ.get(env_key)
        os.environ[env_key] = "1"

        def recorded(
            name: str = name, polls: Iterator = polls, first: Any = first, report: Any = report
        ) -> Iterator[Any]:
            """The platform's source once per recorded poll, served from its records."""
            for poll, records in itertools.chain([first], polls):
                adapter = ReplayAdapter(name, poll, records)
                TRANSPORTS.append(adapter)
                try:
                    yield make_source(name)  # extracted while the adapter is mounted
                finally:
                    TRANSPORTS.remove(adapter)
                report.pages += len(records)

        try:
            pipeline = make_pipeline(name, target)
            report.rows, report.quarantined = load_sequence(pipeline, recorded())
            report.status = "ok"
        except Exception as exc:
            report.status, report.error = "failed", one_sentence(name, exc)
        finally:
            if saved is None:
                os.environ.pop(env_key, None)
            else:
                os.environ[env_key] = saved
        reports[name] = report
    return reports
