"""Shared pytest fixtures for the loader tests.

- `fake_api`: a tiny local HTTP server; register handlers with
  `fake_api.route(path, handler)` where `handler(query: dict[str, str]) -> body | (status,
  body[, headers])`; every response carries `Date: fake_api.date`. `fake_api.url` is its base URL,
  `fake_api.calls` the list of (path, query) requested, `fake_api.headers` their headers.
- `warehouse`: a temp DuckDB path, exported as GST_DUCKDB_PATH (dlt state isolated beside it).
- `fast_retries`: env making every source retry quickly (tests of faults stay fast).
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest

FAST_RETRY_ENV = {
    f"SOURCES__{p.upper()}__{k}": v
    for p in ("chzzk", "soop", "twitch", "steam")
    for k, v in (("BACKOFF_SECONDS", "0.01"), ("MAX_WAIT_SECONDS", "0.05"), ("MAX_ATTEMPTS", "4"))
}


class FakeApi:
    def __init__(self) -> None:
        self.routes: dict = {}
        self.calls: list = []
        self.headers: list = []  # request headers, parallel to `calls`
        self.date = "Mon, 02 Nov 2026 00:10:00 GMT"
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def date_time_string(self, timestamp=None) -> str:
                return api.date

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query))
                api.calls.append((parts.path, query))
                api.headers.append(dict(self.headers.items()))
                handler = api.routes.get(parts.path)
                if handler is None:
                    result = (404, json.dumps({"code": 404, "message": "not found"}))
                else:
                    result = handler(query)
                if not isinstance(result, tuple):
                    result = (200, result)
                status, body, headers = (*result, {})[:3]
                if not isinstance(body, str | bytes):
                    body = json.dumps(body, ensure_ascii=False)
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def route(self, path: str, handler) -> None:
        self.routes[path] = handler


@pytest.fixture
def fake_api():
    api = FakeApi()
    thread = threading.Thread(target=api.server.serve_forever, daemon=True)
    thread.start()
    yield api
    api.server.shutdown()
    api.server.server_close()


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    path = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("GST_DUCKDB_PATH", str(path))
    return path


@pytest.fixture
def fast_retries(monkeypatch):
    for key, value in FAST_RETRY_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def sql(warehouse):
    """Run a query on the temp warehouse (read-only connection): sql("select ...") -> rows."""
    import duckdb

    def run(query: str) -> list[tuple]:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.sql(query).fetchall()

    return run
