"""`gst bronze compact`: one day's page files become one Parquet file per platform and day,
losslessly, idempotently and safely; replay and DuckDB read the compacted files."""

from __future__ import annotations

import gzip
import json
import re
import socket
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from requests import PreparedRequest, Response
from requests.structures import CaseInsensitiveDict
from typer.testing import CliRunner

from loaders import bronze_compact
from loaders.bronze import BronzeError, Recorder
from loaders.bronze_compact import compact_day, compacted_path, recorded_polls

ROOT = Path(__file__).resolve().parents[2]
DAY = "2026-11-02"
KOREAN = '배틀그라운드 — "quoted" \\ back\tslash \u2028 line sep 🎮'


class _Session:
    """What the recorder reads from a PoliteSession: its platform, and a per-poll slot."""

    def __init__(self, platform: str):
        self.platform = platform


def _response(date: str, method: str, url: str, status: int, body: str, headers=None):
    request = PreparedRequest()
    request.prepare(method=method, url=url)
    response = Response()
    response.status_code = status
    response.headers = CaseInsensitiveDict(
        {"Date": date, "Content-Type": "application/json; charset=utf-8", **(headers or {})}
    )
    response._content = body.encode()
    response.encoding = "utf-8"
    response.request, response.url = request, url
    return response


def _poll(path, platform: str, date: str, responses) -> None:
    """One poll's responses written by the real recorder (`gst load --bronze`)."""
    recorder, session = Recorder(str(path)), _Session(platform)
    for method, url, status, body in responses:
        recorder.observe(session, _response(date, method, url, status, body))


def _chzzk_day(path, polls=3, day="02") -> None:
    """Polls of chzzk on one day, hours apart, with awkward bodies and statuses."""
    for i in range(polls):
        hour = 3 + 7 * i
        date = f"Mon, {day} Nov 2026 {hour:02d}:10:00 GMT"
        items = [{"channelName": f"{KOREAN} {j}", "viewers": 1000 + i * 7 + j} for j in range(30)]
        _poll(
            path,
            "chzzk",
            date,
            [
                ("GET", "http://h/chzzk-service/service/v1/lives?size=50", 200, json.dumps(items)),
                (
                    "GET",
                    "http://h/chzzk-service/service/v1/lives?size=50&next=abc%3D%3D",
                    200,
                    json.dumps({"content": {"data": items[:3]}}, ensure_ascii=False),
                ),
                ("GET", "http://h/chzzk-service/service/v1/channels/x1", 429, ""),
                ("GET", "http://h/chzzk-service/service/v1/channels/x1", 200, "<html>oops"),
                ("GET", "http://h/chzzk-openapi/open/v1/lives?client_secret=s", 500, "{}" * 5000),
            ],
        )


def _page_bytes(path, platform="chzzk", day=DAY) -> dict[tuple[str, int], bytes]:
    out = {}
    for page in sorted(Path(path, platform, f"date={day}").rglob("*.json.gz")):
        poll, n = page.name[: -len(".json.gz")].rsplit("-", 1)
        out[(poll, int(n))] = gzip.decompress(page.read_bytes())
    return out


def _replayed_bytes(path, platform="chzzk") -> dict[tuple[str, int], bytes]:
    """Every recorded response as the recorder serialized it, rebuilt from what replay reads."""
    return {
        (poll, record["n"]): json.dumps(record, ensure_ascii=False).encode()
        for poll, records in recorded_polls(str(path), platform)
        for record in records
    }


def test_compaction_keeps_every_response_byte_for_byte(tmp_path):
    bronze = tmp_path / "bronze"
    _chzzk_day(bronze)
    _chzzk_day(bronze, polls=1, day="03")  # another day: not touched
    pages = _page_bytes(bronze)
    assert len(pages) == 15 and len({poll for poll, _ in pages}) == 3

    report = compact_day(str(bronze), DAY, "chzzk")
    assert report.status == "compacted" and report.pages == report.rows == 15
    assert report.json_bytes == sum(map(len, pages.values()))
    target = bronze / "platform=chzzk" / f"date={DAY}" / f"chzzk-{DAY}.parquet"
    assert report.path == str(target) and target.stat().st_size == report.file_bytes
    assert not (bronze / "chzzk" / f"date={DAY}").exists()  # pages and empty dirs removed
    assert len(_page_bytes(bronze, day="2026-11-03")) == 5
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no temp left

    replayed = _replayed_bytes(bronze)
    assert {k: v for k, v in replayed.items() if k in pages} == pages  # byte for byte
    assert len(replayed) == 20  # plus the other day's pages

    table = pq.read_table(target)
    assert table.schema.names == list(bronze_compact.COLUMNS)
    row = table.slice(0, 1).to_pylist()[0]
    assert row["observed_at"].isoformat() == "2026-11-02T03:10:00+00:00"
    assert row["endpoint"].startswith("GET /chzzk-")
    secret = [r for r in table.column("request").to_pylist() if "openapi" in r]
    assert secret and all("client_secret=%2A%2A%2A" in r for r in secret)  # redacted as recorded


def test_rerunning_changes_nothing(tmp_path):
    bronze = tmp_path / "bronze"
    _chzzk_day(bronze)
    first = compact_day(str(bronze), DAY, "chzzk")
    target = Path(first.path)
    before = (target.read_bytes(), target.stat().st_mtime_ns)

    again = compact_day(str(bronze), DAY, "chzzk")
    assert again.status == "up to date" and again.rows == first.rows
    assert (target.read_bytes(), target.stat().st_mtime_ns) == before
    assert compact_day(str(bronze), DAY, "soop").status == "empty"


def test_a_crash_while_writing_keeps_the_pages(tmp_path, monkeypatch):
    bronze = tmp_path / "bronze"
    _chzzk_day(bronze)
    pages = _page_bytes(bronze)
    real = bronze_compact._table

    def dies_on_write(rows):
        raise OSError("disk full")

    monkeypatch.setattr(bronze_compact, "_table", dies_on_write)
    with pytest.raises(OSError, match="disk full"):
        compact_day(str(bronze), DAY, "chzzk")
    assert _page_bytes(bronze) == pages
    assert not list((bronze / "platform=chzzk").rglob("*.parquet*"))  # no file, no temp

    monkeypatch.setattr(bronze_compact, "_table", real)
    assert compact_day(str(bronze), DAY, "chzzk").rows == len(pages)
    assert _replayed_bytes(bronze) == pages


def test_a_file_that_does_not_read_back_identically_is_not_kept(tmp_path, monkeypatch):
    bronze = tmp_path / "bronze"
    _chzzk_day(bronze)
    pages = _page_bytes(bronze)
    real = bronze_compact._table

    def flips_one_status(rows):  # what a faulty writer or disk would do
        return real([rows[0][:5] + (rows[0][5] + 1,) + rows[0][6:], *rows[1:]])

    monkeypatch.setattr(bronze_compact, "_table", flips_one_status)
    with pytest.raises(BronzeError, match="differ from the 15 written; the page files were kept"):
        compact_day(str(bronze), DAY, "chzzk")
    assert _page_bytes(bronze) == pages
    assert not list((bronze / "platform=chzzk").rglob("*.parquet*"))


def test_a_crash_before_the_pages_are_removed_is_finished_by_the_next_run(tmp_path, monkeypatch):
    bronze = tmp_path / "bronze"
    _chzzk_day(bronze)
    pages = _page_bytes(bronze)

    def dies(fs, names):
        raise KeyboardInterrupt

    monkeypatch.setattr(bronze_compact, "_remove_pages", dies)
    with pytest.raises(KeyboardInterrupt):
        compact_day(str(bronze), DAY, "chzzk")
    target = Path(compacted_path(str(bronze), "chzzk", DAY))
    assert target.exists() and _page_bytes(bronze) == pages
    assert _replayed_bytes(bronze) == pages  # both copies, each response once
    compacted = target.read_bytes()

    monkeypatch.undo()
    report = compact_day(str(bronze), DAY, "chzzk")
    assert report.status == "compacted" and report.new_rows == 0 and report.pages == 15
    assert not (bronze / "chzzk" / f"date={DAY}").exists()
    assert target.read_bytes() == compacted  # not rewritten
    assert _replayed_bytes(bronze) == pages


def test_pages_arriving_later_are_merged_into_the_day(tmp_path):
    bronze = tmp_path / "bronze"
    _chzzk_day(bronze, polls=2)
    early = _page_bytes(bronze)
    compact_day(str(bronze), DAY, "chzzk")
    _poll(
        bronze,
        "chzzk",
        "Mon, 02 Nov 2026 01:00:00 GMT",  # an earlier poll, recorded late
        [("GET", "http://h/chzzk-service/service/v1/lives?size=50", 200, '{"late": true}')],
    )
    late = _page_bytes(bronze)
    report = compact_day(str(bronze), DAY, "chzzk")
    assert report.new_rows == 1 and report.rows == 11
    replayed = _replayed_bytes(bronze)
    assert replayed == early | late
    assert [poll for poll, _ in recorded_polls(str(bronze), "chzzk")] == [
        "chzzk:20261102T010000Z",
        "chzzk:20261102T031000Z",
        "chzzk:20261102T101000Z",
    ]


def test_a_page_that_differs_from_its_compacted_copy_stops_the_run(tmp_path, monkeypatch):
    bronze = tmp_path / "bronze"
    _chzzk_day(bronze, polls=1)
    monkeypatch.setattr(bronze_compact, "_remove_pages", lambda fs, names: None)
    compact_day(str(bronze), DAY, "chzzk")
    monkeypatch.undo()
    page = next((bronze / "chzzk").rglob("*-00002.json.gz"))
    record = json.loads(gzip.decompress(page.read_bytes()))
    record["body"] += " "
    page.write_bytes(gzip.compress(json.dumps(record, ensure_ascii=False).encode()))

    with pytest.raises(BronzeError, match=r"T031000Z response 2: the page file differs"):
        compact_day(str(bronze), DAY, "chzzk")
    assert page.exists()
    with pytest.raises(BronzeError, match="differs"):
        list(recorded_polls(str(bronze), "chzzk"))


def test_a_damaged_compacted_file_stops_the_run_and_keeps_the_pages(tmp_path):
    bronze = tmp_path / "bronze"
    _chzzk_day(bronze, polls=1)
    target = Path(compact_day(str(bronze), DAY, "chzzk").path)
    target.write_bytes(target.read_bytes()[:-100])  # truncated: no footer
    _chzzk_day(bronze, polls=1, day="02")  # the same poll recorded again
    with pytest.raises(BronzeError, match="cannot read compacted bronze file"):
        compact_day(str(bronze), DAY, "chzzk")
    assert len(_page_bytes(bronze)) == 5
    with pytest.raises(BronzeError, match="cannot read compacted bronze file"):
        list(recorded_polls(str(bronze), "chzzk"))


def test_bad_pages_and_bad_input_get_one_clear_sentence(tmp_path):
    from loaders.cli import app

    runner = CliRunner()
    bronze = tmp_path / "bronze"
    _chzzk_day(bronze, polls=1)

    result = runner.invoke(app, ["bronze", "compact", str(bronze), "--date", "2026-11-31"])
    assert result.exit_code != 0 and "--date expects YYYY-MM-DD" in str(result.exception)
    result = runner.invoke(
        app, ["bronze", "compact", str(bronze), "--date", DAY, "--platform", "kick"]
    )
    assert "unknown platform 'kick'" in str(result.exception)
    result = runner.invoke(app, ["bronze", "compact", str(tmp_path / "none"), "--date", DAY])
    assert f"no bronze files of {DAY} under" in str(result.exception)

    page = next((bronze / "chzzk").rglob("*-00003.json.gz"))
    page.write_bytes(b"not gzip")
    result = runner.invoke(app, ["bronze", "compact", str(bronze), "--date", DAY])
    message = str(result.exception)
    assert "chzzk 2026-11-02" in message and page.name in message
    assert "not a readable bronze page" in message
    assert len(list((bronze / "chzzk").rglob("*.json.gz"))) == 5  # nothing removed


def test_cli_compacts_every_platform_of_the_day(tmp_path):
    from loaders.cli import app

    bronze = tmp_path / "bronze"
    _chzzk_day(bronze, polls=2)
    _poll(
        bronze,
        "steam",
        "Mon, 02 Nov 2026 05:00:00 GMT",
        [("GET", "http://h/steam-web-api/x/?appid=730", 200, '{"response": {}}')],
    )
    result = CliRunner().invoke(app, ["bronze", "compact", str(bronze), "--date", DAY])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert re.match(r"chzzk 2026-11-02: 10 page files .* \(10 responses, .*MB/s$", lines[0])
    assert lines[1] == "soop 2026-11-02: no bronze files"
    assert lines[3].startswith("steam 2026-11-02: 1 page files")
    result = CliRunner().invoke(app, ["bronze", "compact", str(bronze), "--date", DAY])
    assert "chzzk 2026-11-02: up to date (10 responses" in result.output


# --- Athena / Spectrum layout, read with DuckDB's Parquet reader -------------------------------


def _ddl_columns(text: str) -> list[tuple[str, str]]:
    """(name, type) of the Athena CREATE EXTERNAL TABLE in docs/bronze.md."""
    block = text.split("CREATE EXTERNAL TABLE", 1)[1].split("PARTITIONED BY", 1)[0]
    return re.findall(r"^\s+`?(\w+)`?\s+(\w+)", block, flags=re.M)


def test_compacted_files_read_as_the_documented_external_table(tmp_path):
    bronze = tmp_path / "bronze"
    _chzzk_day(bronze)
    _poll(
        bronze,
        "steam",
        "Mon, 02 Nov 2026 05:00:00 GMT",
        [("GET", "http://h/steam-web-api/x/?appid=730", 200, '{"response": {}}')],
    )
    pages = _page_bytes(bronze)
    for platform in ("chzzk", "steam"):
        compact_day(str(bronze), DAY, platform)

    doc = (ROOT / "docs" / "bronze.md").read_text()
    athena = {"string": "VARCHAR", "int": "INTEGER", "timestamp": "TIMESTAMP WITH TIME ZONE"}
    columns = _ddl_columns(doc)
    assert [name for name, _ in columns] == list(bronze_compact.COLUMNS)
    assert "PARTITIONED BY (platform string, `date` string)" in doc
    template = "s3://BUCKET/PREFIX/platform=${platform}/date=${date}/"
    assert f"'storage.location.template' = '{template}'" in doc

    con = duckdb.connect()
    glob = f"{bronze}/platform=*/date=*/*.parquet"
    described = con.sql(
        f"describe select * from read_parquet('{glob}', hive_partitioning = true)"
    ).fetchall()
    types = {name: kind for name, kind, *_ in described}
    assert {name: types[name] for name, _ in columns} == {n: athena[t] for n, t in columns}
    rows = con.sql(
        f"select platform, cast(date as varchar), poll_id, n, request, status, headers, body"
        f" from read_parquet('{glob}', hive_partitioning = true) order by all"
    ).fetchall()
    assert {(r[0], r[1]) for r in rows} == {("chzzk", DAY), ("steam", DAY)}
    chzzk = {
        (poll, n): json.dumps(
            {"platform": "chzzk", "poll_id": poll, "n": n, "request": request,
             "status": status, "headers": json.loads(headers), "body": body},
            ensure_ascii=False,
        ).encode()
        for platform, _, poll, n, request, status, headers, body in rows
        if platform == "chzzk"
    }  # fmt: skip
    assert chzzk == pages
    lives = con.sql(
        f"select count(*) from read_parquet('{glob}', hive_partitioning = true)"
        " where platform = 'chzzk' and endpoint = 'GET /chzzk-service/service/v1/lives'"
        " and json_extract_string(headers, '$.Date') like 'Mon, 02 Nov 2026%'"
    ).fetchall()
    assert lives == [(6,)]


# --- S3 (moto's local server) -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def s3_bucket(monkeypatch):
    pytest.importorskip("moto.server", reason="moto[server] is a test dependency (pyproject dev)")
    import boto3
    from moto.server import ThreadedMotoServer
    from s3fs import S3FileSystem

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    for key, value in {
        "AWS_ACCESS_KEY_ID": "AKIAGSTTESTKEY000000",
        "AWS_SECRET_ACCESS_KEY": "gst-test-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
    }.items():
        monkeypatch.setenv(key, value)
    S3FileSystem.clear_instance_cache()
    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket="gst-bronze")
    yield client
    S3FileSystem.clear_instance_cache()
    server.stop()


def test_compaction_on_s3(tmp_path, s3_bucket):
    url = "s3://gst-bronze/raw"
    _chzzk_day(url)
    _chzzk_day(tmp_path / "local")  # the same responses on a local path
    pages = _page_bytes(tmp_path / "local")

    def keys() -> list[str]:
        listing = s3_bucket.list_objects_v2(Bucket="gst-bronze").get("Contents", [])
        return sorted(o["Key"] for o in listing)

    assert len(keys()) == 15
    report = compact_day(url, DAY, "chzzk")
    assert report.status == "compacted" and report.rows == 15
    assert keys() == [f"raw/platform=chzzk/date={DAY}/chzzk-{DAY}.parquet"]
    assert _replayed_bytes(url) == pages
    assert compact_day(url, DAY, "chzzk").status == "up to date"
    assert len(keys()) == 1


# --- replay: a compacted day loads the same raw tables as its pages -----------------------------


@pytest.fixture
def simulated(monkeypatch):
    from simulator import Simulator

    with Simulator(seed=5, channels=30, start="2026-11-02T12:00:00Z") as sim:
        for key, value in sim.env(official=False).items():
            monkeypatch.setenv(key, value)
        for key in ("CHZZK__CLIENT_ID", "CHZZK__CLIENT_SECRET", "SOOP__CLIENT_ID"):
            monkeypatch.delenv(f"SOURCES__{key}", raising=False)
        yield sim


def test_replaying_a_compacted_day_gives_the_raw_tables_of_its_pages(
    tmp_path, monkeypatch, simulated
):
    from test_bronze import _rows

    from loaders.cli import app

    runner = CliRunner()
    bronze = tmp_path / "bronze"
    monkeypatch.setenv("GST_DUCKDB_PATH", str(tmp_path / "live.duckdb"))
    for _ in range(2):
        result = runner.invoke(app, ["load", "all", "--no-progress", "--bronze", str(bronze)])
        assert result.exit_code == 0, result.output
        simulated.advance(10)
    simulated.stop()

    def replay(into: str) -> dict:
        monkeypatch.setenv("GST_DUCKDB_PATH", str(tmp_path / into))
        result = runner.invoke(app, ["load", "all", "--no-progress", "--from-bronze", str(bronze)])
        assert result.exit_code == 0, result.output
        return _rows(tmp_path / into)

    from_pages = replay("pages.duckdb")
    result = runner.invoke(app, ["bronze", "compact", str(bronze), "--date", DAY])
    assert result.exit_code == 0, result.output
    assert not list(bronze.rglob("*.json.gz"))
    from_compacted = replay("compacted.duckdb")

    assert from_pages["raw_chzzk.lives"] and from_pages["raw_twitch.streams"]
    assert from_pages["raw_soop.broads"] and from_pages["raw_steam.current_players"]
    assert from_compacted == from_pages
