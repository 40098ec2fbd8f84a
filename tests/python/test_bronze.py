"""Bronze files: every raw response page written gzip-compressed, and a load replayed from
them gives the rows of the live load."""

from __future__ import annotations

import gzip
import json
import re

import duckdb
import pytest
from typer.testing import CliRunner

from simulator import Simulator

pytestmark = pytest.mark.slow

PLATFORMS = ("chzzk", "soop", "twitch", "steam")
FILE_NAME = re.compile(
    r"^(chzzk|soop|twitch|steam)/date=\d{4}-\d{2}-\d{2}/hour=\d{2}/"
    r"(chzzk|soop|twitch|steam):\d{8}T\d{6}Z-\d{5}\.json\.gz$"
)


def _rows(path) -> dict[str, list[tuple]]:
    """Every raw table's rows without dlt's lineage columns (and the quarantine clock)."""
    out = {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.sql(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema like 'raw_%' and table_schema not like '%staging'"
            " and table_name not like '_dlt%' order by all"
        ).fetchall()
        for schema, table in tables:
            columns = [
                c
                for (c,) in con.sql(
                    "select column_name from information_schema.columns where table_schema = ?"
                    " and table_name = ? order by ordinal_position",
                    params=[schema, table],
                ).fetchall()
                if not c.startswith("_dlt") and c != "quarantined_at"
            ]
            query = f"select {', '.join(columns)} from {schema}.{table} order by all"
            out[f"{schema}.{table}"] = con.sql(query).fetchall()
    return out


@pytest.fixture
def simulated(monkeypatch):
    with Simulator(seed=11, channels=40, start="2026-11-02T12:00:00Z") as sim:
        for key, value in sim.env(official=False).items():
            monkeypatch.setenv(key, value)
        for key in ("CHZZK__CLIENT_ID", "CHZZK__CLIENT_SECRET", "SOOP__CLIENT_ID"):
            monkeypatch.delenv(f"SOURCES__{key}", raising=False)
        yield sim


def test_replay_from_bronze_gives_the_rows_of_the_live_load(tmp_path, monkeypatch, simulated):
    from loaders.cli import app

    runner = CliRunner()
    bronze = tmp_path / "bronze"
    live, replayed = tmp_path / "live.duckdb", tmp_path / "replayed.duckdb"
    monkeypatch.setenv("GST_DUCKDB_PATH", str(live))
    for _ in range(2):  # two polls: replay must keep them apart and in order
        result = runner.invoke(app, ["load", "all", "--no-progress", "--bronze", str(bronze)])
        assert result.exit_code == 0, result.output
        simulated.advance(10)
    summary = re.search(r"bronze: (\d+) pages .* \(compression ([\d.]+)x\)", result.output)
    assert summary, result.output
    assert int(summary.group(1)) > 0 and float(summary.group(2)) > 2

    files = sorted(p.relative_to(bronze).as_posix() for p in bronze.rglob("*.json.gz"))
    assert files and all(FILE_NAME.match(name) for name in files), files[:3]
    polls = {name.rsplit("/", 1)[1].rsplit("-", 1)[0] for name in files}
    assert polls == {f"{p}:20261102T{t}Z" for p in PLATFORMS for t in ("120000", "121000")}
    record = json.loads(gzip.decompress((bronze / files[0]).read_bytes()))
    assert {"request", "status", "headers", "body"} <= set(record)

    simulated.stop()  # replay needs no API
    monkeypatch.setenv("GST_DUCKDB_PATH", str(replayed))
    result = runner.invoke(app, ["load", "all", "--no-progress", "--from-bronze", str(bronze)])
    assert result.exit_code == 0, result.output
    assert all(f"{p}: ok" in result.output for p in PLATFORMS), result.output

    live_rows, replayed_rows = _rows(live), _rows(replayed)
    assert live_rows["raw_chzzk.lives"] and live_rows["raw_soop.broads"]
    assert live_rows["raw_twitch.streams"] and live_rows["raw_steam.current_players"]
    assert replayed_rows == live_rows


def test_bronze_files_hold_no_secrets(tmp_path, monkeypatch, simulated):
    from loaders.bronze import recording
    from loaders.pipeline import load_platform

    monkeypatch.setenv("GST_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    with recording(str(tmp_path / "bronze")) as rec:
        assert load_platform("twitch").status == "ok"
    assert rec.pages > 0
    records = [
        json.loads(gzip.decompress(p.read_bytes())) for p in (tmp_path / "bronze").rglob("*.gz")
    ]
    text = json.dumps(records)
    assert simulated.creds["twitch_client_secret"] not in text
    assert simulated.creds["twitch_client_id"] not in text
    (token,) = [r for r in records if r["request"].endswith("/oauth2/token")]
    assert json.loads(token["body"])["access_token"] == "***"


def test_replay_names_the_request_it_cannot_answer(tmp_path, monkeypatch, simulated):
    from loaders.bronze import recording
    from loaders.bronze_replay import replay
    from loaders.pipeline import load_platform

    monkeypatch.setenv("GST_DUCKDB_PATH", str(tmp_path / "live.duckdb"))

    with recording(str(tmp_path / "bronze")):
        assert load_platform("soop").status == "ok"
    pages = sorted((tmp_path / "bronze" / "soop").rglob("*.json.gz"))
    for page in pages:
        if "categoryList" in json.loads(gzip.decompress(page.read_bytes()))["request"]:
            page.unlink()
    monkeypatch.setenv("GST_DUCKDB_PATH", str(tmp_path / "replayed.duckdb"))
    report = replay(str(tmp_path / "bronze"), ["soop"])["soop"]
    assert report.status == "failed"
    assert "soop" in report.error and "no recorded response" in report.error
    assert "categoryList" in report.error

    empty = replay(str(tmp_path / "nothing"), ["chzzk"])["chzzk"]
    assert empty.status == "failed" and "no bronze files" in empty.error
