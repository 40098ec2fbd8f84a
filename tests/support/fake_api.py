"""One fake HTTP API for the loader tests: a tiny threaded HTTP/1.1 server on 127.0.0.1.

Routes, by URL path:
- `api.route(path, handler)`: `handler(query: dict) -> body | (status, body[, headers])`;
- `api.routes[path] = [response, ...]` (served in turn, the last one repeats) or
  `callable(call) -> (status, body[, headers])`, where `call` is the recorded request.

A body that is not str/bytes is sent as JSON. Every response carries `Date: api.date` (an
HTTP-date string or a datetime). Unknown paths answer 404. `api.calls` records each request
as {"method", "path", "query", "headers", "form", "body", "at"}; `api.requests` gives
(path, query) pairs.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

DEFAULT_DATE = "Mon, 02 Nov 2026 00:10:00 GMT"


class FakeApi:
    def __init__(self) -> None:
        self.routes: dict[str, list | Callable] = {}
        self.handlers: dict[str, Callable] = {}
        self.calls: list[dict[str, Any]] = []
        self.date: str | datetime = DEFAULT_DATE
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args: object) -> None:
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                call = {
                    "method": self.command,
                    "path": parts.path,
                    "query": dict(parse_qsl(parts.query)),
                    "headers": dict(self.headers.items()),
                    "form": dict(parse_qsl(body)),
                    "body": body,
                    "at": time.monotonic(),
                }
                api.calls.append(call)
                status, body, headers = api.answer(call)
                data = body if isinstance(body, bytes) else body.encode()
                self.send_response_only(status)
                self.send_header("Date", api.http_date())
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def answer(self, call: dict[str, Any]) -> tuple[int, str | bytes, dict[str, str]]:
        route = self.routes.get(call["path"])
        if route is None:
            result: Any = (404, {"code": 404, "message": "not found"})
        elif callable(route):
            result = route(call)
        else:
            result = route.pop(0) if len(route) > 1 else route[0]
        if not isinstance(result, tuple):
            result = (200, result)
        status, body, headers = (*result, {})[:3]
        if not isinstance(body, str | bytes):
            body = json.dumps(body, ensure_ascii=False)
        return status, body, headers

    def http_date(self) -> str:
        if isinstance(self.date, datetime):
            return format_datetime(self.date, usegmt=True)
        return self.date

    def route(self, path: str, handler: Callable[[dict], Any]) -> None:
        """Serve `path` with `handler(query)` (kept in `handlers[path]`)."""
        self.handlers[path] = handler
        self.routes[path] = lambda call: handler(call["query"])

    @property
    def requests(self) -> list[tuple[str, dict[str, str]]]:
        return [(call["path"], call["query"]) for call in self.calls]

    def hits(self, path: str) -> list[dict[str, Any]]:
        return [call for call in self.calls if call["path"] == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
