"""Redshift readiness: flag SQL constructs Redshift lacks in the compiled dbt models.

DuckDB and PostgreSQL accept SQL that Redshift rejects at run time. This module parses each
compiled model with sqlglot's Redshift dialect and walks the tree (the parser itself accepts
`DISTINCT ON` and `FILTER (WHERE ...)`, so parse success proves nothing):

- `DISTINCT ON (...)`                      -> use row_number() ... qualify / a ranked CTE
- `agg(...) FILTER (WHERE ...)`            -> use agg(case when ... then ... end)
- arrays: `ARRAY[...]`, array_agg, unnest, string_to_array, `= any(array)`, `::type[]`
                                           -> listagg / split_part / joins
- `generate_series` in a query that reads tables (leader-node only on Redshift)
                                           -> a numbers seed/model joined in
- `IS [NOT] DISTINCT FROM` (not in Redshift's comparison conditions), `LATERAL`,
  `RANGE` window frames with offsets, PostgreSQL-only functions (POSTGRES_ONLY_FUNCTIONS)

QUALIFY (supported by Redshift since July 2023) and `::` casts are fine.

Compiling needs a live connection for the redshift target. Without a Redshift cluster,
`PgAsRedshift` lets dbt-redshift talk to a PostgreSQL server: a small TCP proxy that drops
the Redshift driver's extra start-up parameters, declines SSL and reports Redshift's
`server_version` (8.0.2). Usage:

    make redshift-check                                       # compile via PostgreSQL + check
    python -m tools.redshift_check --compiled target/compiled # after dbt compile
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from loaders.warehouse import SERVER_DEFAULTS

# Function names (lower case) that Redshift does not have, seen by sqlglot as Anonymous calls.
POSTGRES_ONLY_FUNCTIONS = {
    "array_length": "arrays",
    "array_position": "arrays",
    "array_remove": "arrays",
    "array_to_string": "arrays",
    "cardinality": "arrays",
    "generate_subscripts": "arrays",
    "regexp_split_to_array": "arrays",
    "regexp_split_to_table": "arrays",
    "string_to_array": "arrays",
    "unnest": "arrays",
    "jsonb_array_elements": "arrays",
    "json_array_elements": "arrays",
    "percentile_disc": "ordered-set aggregate outside window",
    "mode": "ordered-set aggregate",
}


@dataclass(frozen=True)
class Finding:
    model: str
    construct: str
    snippet: str

    def __str__(self) -> str:
        return f"{self.model}: {self.construct} is not supported by Redshift: {self.snippet}"


class CheckError(RuntimeError):
    """The check could not run (no compiled models, dbt compile failed, unparsable SQL)."""


def _snippet(node) -> str:
    text = node.sql(dialect="postgres")
    return text if len(text) <= 120 else text[:117] + "..."


def find_unsupported(sql: str, model: str = "<sql>") -> list[Finding]:
    """Constructs in `sql` (one or more statements, Redshift dialect) that Redshift lacks."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    try:
        statements = [s for s in sqlglot.parse(sql, read="redshift") if s is not None]
    except ParseError as exc:
        raise CheckError(f"{model}: cannot parse the compiled SQL as Redshift SQL: {exc}") from exc

    findings: list[Finding] = []

    def flag(construct: str, node) -> None:
        findings.append(Finding(model, construct, _snippet(node)))

    array_nodes = (exp.ArrayAgg, exp.Explode, exp.Unnest, exp.StringToArray, exp.ArrayContains)
    generate_series = tuple(
        getattr(exp, name)
        for name in ("GenerateSeries", "ExplodingGenerateSeries")
        if hasattr(exp, name)
    )
    for statement in statements:
        for node in statement.walk():
            if isinstance(node, exp.Distinct) and node.args.get("on") is not None:
                flag("DISTINCT ON", node.parent or node)
            elif isinstance(node, exp.Filter):
                flag("FILTER (WHERE ...) on an aggregate", node)
            elif isinstance(node, exp.Array) and not isinstance(node.parent, exp.Array):
                flag("ARRAY literal", node)
            elif isinstance(node, array_nodes):
                flag(f"array function {node.key}", node)
            elif isinstance(node, exp.DataType) and node.is_type(exp.DataType.Type.ARRAY):
                flag("array type", node.parent or node)
            elif generate_series and isinstance(node, generate_series):
                select = node.find_ancestor(exp.Select) or statement
                others = [
                    t for t in select.find_all(exp.Table) if not isinstance(t.this, generate_series)
                ]
                if others:
                    flag("generate_series over tables (leader-node only)", node)
            elif isinstance(node, exp.NullSafeEQ | exp.NullSafeNEQ):
                flag("IS [NOT] DISTINCT FROM", node)
            elif isinstance(node, exp.Lateral):
                flag("LATERAL", node)
            elif isinstance(node, exp.WindowSpec) and _range_offset(node):
                flag("RANGE window frame with an offset", node)
            elif isinstance(node, exp.Anonymous):
                name = str(node.this).lower()
                if name in POSTGRES_ONLY_FUNCTIONS:
                    flag(f"{name}() ({POSTGRES_ONLY_FUNCTIONS[name]})", node)
    return findings


def _range_offset(spec) -> bool:
    if str(spec.args.get("kind") or "").upper() != "RANGE":
        return False
    bounds = (spec.args.get("start"), spec.args.get("end"))
    words = {"UNBOUNDED", "CURRENT ROW"}
    return any(b is not None and str(b).upper() not in words for b in bounds)


def compiled_models(compiled_dir: Path) -> Iterator[tuple[str, str]]:
    """(path relative to the compiled dir, SQL) for every compiled model, test, snapshot and
    analysis: everything dbt would send to Redshift."""
    files = sorted(Path(compiled_dir).glob("**/*.sql"))
    if not files:
        raise CheckError(f"no compiled models under {compiled_dir}: run `dbt compile` first")
    for path in files:
        yield str(path.relative_to(compiled_dir)), path.read_text()


def check_compiled(compiled_dir: Path) -> list[Finding]:
    findings: list[Finding] = []
    for name, sql in compiled_models(compiled_dir):
        findings.extend(find_unsupported(sql, name))
    return findings


# --- PostgreSQL dressed as Redshift (so `dbt compile --target redshift` works offline) --------

SSL_REQUEST = 80877103
REDSHIFT_ONLY_STARTUP = {
    b"client_protocol_version",
    b"driver_version",
    b"os_version",
    b"driver_discovery_version",
    b"plugin_name",
    b"idp_type",
    b"provider_name",
}


def _read_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("peer closed the connection")
        data += chunk
    return data


def rewrite_startup(message: bytes) -> bytes:
    """A StartupMessage (length-prefixed) without the Redshift driver's extra parameters."""
    protocol = message[4:8]
    fields = message[8:].split(b"\x00")
    pairs = [(fields[i], fields[i + 1]) for i in range(0, len(fields) - 1, 2) if fields[i]]
    body = protocol + b"".join(
        k + b"\x00" + v + b"\x00" for k, v in pairs if k not in REDSHIFT_ONLY_STARTUP
    )
    body += b"\x00"
    return struct.pack("!i", len(body) + 4) + body


def rewrite_server_message(kind: bytes, body: bytes, server_version: bytes) -> bytes:
    """Server messages go through unchanged except ParameterStatus server_version."""
    if kind == b"S" and body.split(b"\x00", 1)[0] == b"server_version":
        body = b"server_version\x00" + server_version + b"\x00"
    return kind + struct.pack("!i", len(body) + 4) + body


class PgAsRedshift:
    """A TCP proxy on 127.0.0.1 that makes a PostgreSQL server acceptable to redshift_connector.

    with PgAsRedshift("127.0.0.1", 5432) as proxy: ... connect to proxy.port ...
    """

    def __init__(self, pg_host: str, pg_port: int, server_version: str = "8.0.2"):
        self.pg = (pg_host, int(pg_port))
        self.server_version = server_version.encode()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> PgAsRedshift:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._closing.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = None
        try:
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            length, code = struct.unpack("!ii", _read_exact(client, 8))
            message = struct.pack("!ii", length, code) + _read_exact(client, length - 8)
            if code == SSL_REQUEST:
                client.sendall(b"N")
                length = struct.unpack("!i", _read_exact(client, 4))[0]
                message = struct.pack("!i", length) + _read_exact(client, length - 4)
            upstream = socket.create_connection(self.pg)
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            upstream.sendall(rewrite_startup(message))
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            self._server_to_client(upstream, client)
        except (OSError, ConnectionError, struct.error):
            pass
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    sock.close()

    def _server_to_client(self, upstream: socket.socket, client: socket.socket) -> None:
        while True:
            head = _read_exact(upstream, 5)
            kind, length = head[:1], struct.unpack("!i", head[1:])[0]
            body = _read_exact(upstream, length - 4)
            client.sendall(rewrite_server_message(kind, body, self.server_version))

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            with_shutdown(dst)


def with_shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def compile_via_postgres(project_dir: Path, target_path: Path, env: dict[str, str]) -> Path:
    """`dbt compile --target redshift` against the PostgreSQL named by GST_PG_* in `env`,
    through PgAsRedshift; returns the compiled directory."""
    _prefix, host, port, user, database = SERVER_DEFAULTS["postgres"]
    pg_host, pg_port = env.get("GST_PG_HOST", host), int(env.get("GST_PG_PORT", port))
    with PgAsRedshift(pg_host, pg_port) as p:
        run_env = {
            **env,
            "GST_REDSHIFT_HOST": "127.0.0.1",
            "GST_REDSHIFT_PORT": str(p.port),
            "GST_REDSHIFT_USER": env.get("GST_PG_USER", user),
            "GST_REDSHIFT_PASSWORD": env.get("GST_PG_PASSWORD", ""),
            "GST_REDSHIFT_DATABASE": env.get("GST_PG_DATABASE", database),
            "GST_REDSHIFT_SSLMODE": "disable",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
        }
        # the committed profile (profiles.yml.example), not a developer's local profiles.yml
        profiles_dir = Path(target_path) / "profiles"
        profiles_dir.mkdir(parents=True, exist_ok=True)
        example = (Path(project_dir) / "profiles.yml.example").read_text()
        (profiles_dir / "profiles.yml").write_text(example)
        dbt = Path(sys.executable).with_name("dbt")
        cmd = [str(dbt), "compile", "--target", "redshift", "--target-path", str(target_path)]
        cmd += ["--profiles-dir", str(profiles_dir), "--project-dir", str(project_dir)]
        cmd += ["--log-path", str(Path(target_path) / "logs"), "--no-populate-cache", "--quiet"]
        done = subprocess.run(cmd, env=run_env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise CheckError(f"dbt compile --target redshift failed:\n{tail}")
    return Path(target_path) / "compiled"


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tools.redshift_check", description=__doc__)
    parser.add_argument("--compiled", type=Path, help="a dbt target/compiled directory to check")
    parser.add_argument(
        "--via-postgres",
        action="store_true",
        help="compile for the redshift target against the GST_PG_* PostgreSQL first",
    )
    parser.add_argument("--target-path", type=Path, default=Path("target/redshift-check"))
    args = parser.parse_args(argv)
    try:
        if args.via_postgres:
            compiled = compile_via_postgres(Path.cwd(), args.target_path, dict(os.environ))
        else:
            compiled = args.compiled or Path("target/compiled")
        findings = check_compiled(compiled)
    except CheckError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for finding in findings:
        print(finding)
    print(f"{len(findings)} Redshift incompatibilities in {compiled}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
