"""Run ledger (ops.run_ledger), `gst status`, webhook alerts and dlt schema-drift detection."""

from __future__ import annotations

import json
import time

import duckdb
import pytest
from rich.console import Console
from typer.testing import CliRunner

from loaders import alerts, ledger, warehouse
from loaders.cli import app

SECRET = "sekret-webhook-test-4f9a1c"


class Webhook:
    """The fake API as a webhook receiver: the JSON bodies posted to /hook."""

    def __init__(self, api, status: int = 200):
        self.api = api
        api.routes["/hook"] = [(status, "ok")]
        self.url = f"{api.url}/hook"

    @property
    def bodies(self) -> list[dict]:
        return [json.loads(call["body"]) for call in self.api.hits("/hook")]


@pytest.fixture
def webhook(fake_api, monkeypatch):
    hook = Webhook(fake_api)
    monkeypatch.setenv("GST_ALERT_WEBHOOK_URL", hook.url)
    return hook


@pytest.fixture
def wh(tmp_path, monkeypatch):
    path = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("GST_DUCKDB_PATH", str(path))
    return path


def rows(path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


# --- ledger -------------------------------------------------------------------------------------


def test_successful_and_partial_runs_are_recorded(wh, webhook):
    with ledger.run("load", "duckdb", platform="twitch") as entry:
        entry.update(rows_loaded=1200, retries=2)
    with ledger.run("load", "duckdb", platform="soop") as entry:
        entry.update(rows_loaded=90, quarantined=3)
    with ledger.run("build", "duckdb"):
        pass
    got = rows(
        wh,
        "select kind, platform, status, rows_loaded, retries, quarantined, "
        "ended_at >= started_at from ops.run_ledger order by started_at",
    )
    assert got == [
        ("load", "twitch", "success", 1200, 2, None, True),
        ("load", "soop", "partial", 90, None, 3, True),
        ("build", None, "success", None, None, None, True),
    ]
    assert webhook.bodies == []  # nothing failed, nothing posted


def test_failed_run_is_recorded_reraised_and_alerted(wh, webhook, monkeypatch):
    monkeypatch.setenv("GST_PG_PASSWORD", SECRET)
    failing = ledger.run("load", "duckdb", platform="chzzk")
    with pytest.raises(RuntimeError, match="host down"), failing as entry:
        entry.update(rows_loaded=0)
        raise RuntimeError(f"host down (password={SECRET})")
    [(status, message, ended)] = rows(wh, "select status, message, ended_at from ops.run_ledger")
    assert status == "failed" and ended is not None
    assert message == "RuntimeError: host down (password=***)"
    [body] = webhook.bodies
    assert body["event"] == "load_failed"
    assert body["text"].startswith("[gst] load_failed: load chzzk on duckdb failed: RuntimeError")
    assert SECRET not in json.dumps(body)


def test_interrupted_run_stays_visible_as_running(wh):
    gen = ledger.run("snapshot", "duckdb")
    gen.__enter__()  # the process dies before the end of the block
    assert rows(wh, "select kind, status from ops.run_ledger") == [("snapshot", "running")]


def test_bad_kind_or_column_is_refused(wh):
    with pytest.raises(ValueError, match="kind must be one of"), ledger.run("deploy", "duckdb"):
        pass
    steam = ledger.run("load", "duckdb", platform="steam")
    with pytest.raises(ValueError, match="no column"), steam as entry:
        entry.update(rowz=1)


def test_unwritable_ledger_does_not_break_the_run(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("GST_DUCKDB_PATH", str(tmp_path))  # a directory, not a database file
    with ledger.run("load", "duckdb", platform="steam") as entry:
        entry.update(rows_loaded=5)
    assert "run ledger not written" in caplog.text


def test_status_shows_runs_and_platform_freshness(wh):
    with duckdb.connect(str(wh)) as con:
        con.execute("create schema raw_twitch")
        con.execute(
            "create table raw_twitch.streams as select timestamptz '2026-11-02 05:40:00+00' "
            "as observed_at"
        )
    with ledger.run("load", "duckdb", platform="twitch") as entry:
        entry.update(rows_loaded=42)
    with ledger.run("validate", "duckdb") as entry:
        entry.update(status="failed", failures=1, message="raw_twitch.streams: bad")
    status = {r["platform"]: r for r in ledger.platform_status("duckdb")}
    assert status["twitch"]["last_successful_load"] is not None
    assert str(status["twitch"]["latest_observed_at"]).startswith("2026-11-02 05:40:00")
    assert status["chzzk"] == {
        "platform": "chzzk", "last_successful_load": None, "latest_observed_at": None
    }  # fmt: skip
    console = Console(record=True, width=120)
    ledger.print_status("duckdb", limit=5, console=console)
    text = console.export_text()
    assert "validate" in text and "failed" in text and "42" in text
    assert "validate: raw_twitch.streams: bad" in text
    assert "2026-11-02 05:40:00Z" in text
    result = CliRunner().invoke(app, ["status", "--limit", "1"])
    assert result.exit_code == 0, result.output
    assert "validate" in result.output and "load " not in result.output.split("Platforms")[0]


def test_status_on_a_missing_warehouse_is_a_user_error(tmp_path, monkeypatch):
    monkeypatch.setenv("GST_DUCKDB_PATH", str(tmp_path / "none.duckdb"))
    with pytest.raises(warehouse.WarehouseError, match="does not exist"):
        ledger.recent_runs("duckdb")


# --- alerts -------------------------------------------------------------------------------------


def test_notify_posts_slack_payload_without_secrets(webhook, monkeypatch):
    monkeypatch.setenv("SOURCES__TWITCH__CLIENT_SECRET", SECRET)
    ok = alerts.notify(
        "validation_failed",
        f"2 expectations failed (token {SECRET})",
        {"failures": ["raw_twitch.streams: viewer_count >= 0"],
         "dsn": "postgresql://gst:hunter2pw@db:5432/gst"},
    )  # fmt: skip
    assert ok is True
    [body] = webhook.bodies
    assert body["text"] == "[gst] validation_failed: 2 expectations failed (token ***)"
    assert body["blocks"][0]["text"]["text"] == body["text"]
    fields = " ".join(f["text"] for f in body["blocks"][1]["fields"])
    assert "raw_twitch.streams: viewer_count >= 0" in fields
    assert "postgresql://gst:***@db:5432/gst" in fields
    dumped = json.dumps(body)
    assert SECRET not in dumped and "hunter2pw" not in dumped


def test_notify_never_raises(monkeypatch, fake_api):
    monkeypatch.delenv("GST_ALERT_WEBHOOK_URL", raising=False)
    assert alerts.notify("load_failed", "no webhook configured") is False
    monkeypatch.setenv("GST_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/hook")  # nothing listens
    started = time.monotonic()
    assert alerts.notify("load_failed", "unreachable webhook") is False
    assert time.monotonic() - started < alerts.TIMEOUT_SECONDS + 1
    refusing = Webhook(fake_api, status=500)
    monkeypatch.setenv("GST_ALERT_WEBHOOK_URL", refusing.url)
    assert alerts.notify("load_failed", "webhook answers 500") is False
    assert len(refusing.bodies) == 1


def test_webhook_url_from_dlt_config(monkeypatch):
    monkeypatch.delenv("GST_ALERT_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("ALERTS__WEBHOOK_URL", "http://127.0.0.1:1/from-dlt-config")
    assert alerts.webhook_url() == "http://127.0.0.1:1/from-dlt-config"


def test_schema_drift_from_a_real_dlt_load(tmp_path, webhook):
    import dlt

    pipeline = dlt.pipeline(
        pipeline_name="drift_test",
        destination=dlt.destinations.duckdb(str(tmp_path / "drift.duckdb")),
        dataset_name="raw_test",
        pipelines_dir=str(tmp_path / "pipelines"),
    )
    first = pipeline.run([{"id": 1, "viewers": 10}], table_name="streams")
    assert alerts.schema_drift(first) == {}  # a new table is not drift
    assert alerts.notify_schema_drift(first, "twitch") is False
    second = pipeline.run([{"id": 2, "viewers": 11, "tags": "new"}], table_name="streams")
    assert alerts.schema_drift(second) == {"streams": ["tags"]}
    third = pipeline.run([{"id": 3, "viewers": "many"}], table_name="streams")
    assert alerts.schema_drift(third) == {"streams": ["viewers__v_text"]}
    assert alerts.notify_schema_drift(third, "twitch") is True
    [body] = webhook.bodies
    assert body["event"] == "schema_drift"
    assert "streams: +viewers__v_text" in body["text"] and "in twitch" in body["text"]
