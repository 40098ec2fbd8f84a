"""Secrets never reach logs, terminal output, dlt state/traces, dbt artifacts or Data Docs.

Distinctive secret values are configured the way operators do it (environment variables), then
real polls of every platform run against the local simulator with dlt logging at DEBUG,
followed by `gst validate`, `gst status`, dbt docs generate (which compiles every node), and a
failing dbt debug and validate on PostgreSQL, whose errors must not echo the password. Every
file written under the temp dir, the warehouse itself, captured stdout/stderr and the log
records are then searched for the secret values.
"""

from __future__ import annotations

import io
import logging
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

pytest.importorskip("simulator", reason="needs the API simulator (simulator)")
pytest.importorskip("loaders.pipeline", reason="needs the loader runner (loaders.pipeline)")

from typer.testing import CliRunner  # noqa: E402

from loaders.cli import UserError, app  # noqa: E402
from loaders.dbt_run import DbtFailed, dbt  # noqa: E402
from loaders.pipeline import run_load  # noqa: E402
from simulator import Simulator  # noqa: E402

TAG = uuid.uuid4().hex[:10]
SECRETS = {
    "twitch_client_secret": f"sekret-twitch-{TAG}",
    "chzzk_client_secret": f"sekret-chzzk-{TAG}",
    "GST_PG_PASSWORD": f"sekret-pg-{TAG}",
    "GST_REDSHIFT_PASSWORD": f"sekret-rs-{TAG}",
}


def find_secrets(text: str) -> list[str]:
    return [name for name, value in SECRETS.items() if value in text]


def scan_tree(root: Path) -> dict[str, list[str]]:
    """file -> names of the secrets whose value occurs in it (text or binary)."""
    hits = {}
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found = [name for name, value in SECRETS.items() if value.encode() in data]
            if found:
                hits[str(path.relative_to(root))] = found
    return hits


@pytest.fixture
def dlt_debug_log():
    """dlt's own logger at DEBUG (its chattiest, e.g. request headers), whatever level an earlier
    pipeline in this process configured, recorded to a buffer."""
    logger = logging.getLogger("dlt")
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield buffer
    logger.removeHandler(handler)
    logger.setLevel(previous)


def test_no_secret_reaches_logs_outputs_state_or_artifacts(
    tmp_path, monkeypatch, capfd, caplog, dlt_debug_log
):
    caplog.set_level(logging.DEBUG)
    warehouse = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("GST_DUCKDB_PATH", str(warehouse))
    monkeypatch.setenv("GST_PIPELINES_DIR", str(tmp_path / "dlt-pipelines"))
    monkeypatch.setenv("RUNTIME__LOG_LEVEL", "DEBUG")  # the chattiest dlt logging
    monkeypatch.setenv("GST_PG_PASSWORD", SECRETS["GST_PG_PASSWORD"])
    monkeypatch.setenv("GST_REDSHIFT_PASSWORD", SECRETS["GST_REDSHIFT_PASSWORD"])
    monkeypatch.setenv("GST_PG_PORT", "9")  # nothing listens: connection errors are exercised
    monkeypatch.delenv("GST_ALERT_WEBHOOK_URL", raising=False)
    for key in ("BACKOFF_SECONDS", "MAX_WAIT_SECONDS"):
        for platform in ("chzzk", "soop", "twitch", "steam"):
            monkeypatch.setenv(f"SOURCES__{platform.upper()}__{key}", "0.05")

    with Simulator(
        seed=5,
        channels=20,
        start="2026-11-02T12:00:00Z",
        twitch_client_secret=SECRETS["twitch_client_secret"],
        chzzk_client_secret=SECRETS["chzzk_client_secret"],
    ) as sim:
        for key, value in sim.env(official=True).items():
            monkeypatch.setenv(key, value)
        for _ in range(2):
            report = run_load("all", "duckdb", progress=False)
            assert report.ok, report.platforms
            sim.advance(minutes=10)

    runner = CliRunner()
    docs = tmp_path / "gx_docs"
    validated = runner.invoke(app, ["validate", "--suite", "raw", "--docs-dir", str(docs)])
    assert "validate raw on duckdb" in validated.output, validated.output
    assert (docs / "index.html").exists()
    status = runner.invoke(app, ["status"])
    assert status.exit_code == 0, status.output
    on_postgres = runner.invoke(app, ["validate", "--target", "postgres", "--suite", "raw"])
    assert isinstance(on_postgres.exception, UserError)  # `gst` prints it as one line, exit 2
    assert "cannot connect to postgres" in str(on_postgres.exception)

    dbt_dirs = [
        "--target-path",
        str(tmp_path / "dbt-target"),
        "--log-path",
        str(tmp_path / "dbt-logs"),
    ]
    dbt("docs", "generate", *dbt_dirs, target="duckdb")  # compiles every node, then the catalog
    with pytest.raises(DbtFailed):
        dbt("debug", "--log-path", str(tmp_path / "dbt-logs"), target="postgres")
    assert (tmp_path / "dbt-target" / "catalog.json").exists()
    assert list((tmp_path / "dbt-target" / "compiled").rglob("*.sql"))
    assert "Making GET request" in dlt_debug_log.getvalue()  # the debug log was really on
    assert list((tmp_path / "dlt-pipelines").rglob("*"))  # dlt state and traces were written

    captured = capfd.readouterr()
    leaks = {
        "stdout": find_secrets(captured.out),
        "stderr": find_secrets(captured.err),
        "log records": find_secrets(caplog.text),
        "dlt debug log": find_secrets(dlt_debug_log.getvalue()),
        "cli output": find_secrets(
            validated.output + status.output + on_postgres.output + str(on_postgres.exception)
        ),
        **scan_tree(tmp_path),
    }
    assert {where: names for where, names in leaks.items() if names} == {}
