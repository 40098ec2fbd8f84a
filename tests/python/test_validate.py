"""`gst validate`: GX checkpoints over tiny DuckDB warehouses built here, with planted faults."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from loaders.cli import app
from loaders.validate import load_checks, run_checks, validate

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
POLLS, ROWS = 8, 20  # polls of each observation table, rows per poll
TIMESTAMPS = {"observed_at", "opened_at", "broad_started_at", "started_at", "rollup_date"}
TEXT = {
    "poll_id", "api_variant", "channel_id", "channel_name", "live_title", "category_type",
    "live_category", "live_category_value", "raw_item", "channel_type", "user_id", "user_nick",
    "broad_title", "broad_cate_no", "category_no", "category_name", "stream_id", "user_login",
    "user_name", "game_id", "game_name", "stream_type", "title", "language", "box_art_url",
    "igdb_id", "currency", "review_score_desc", "name", "app_type", "genres", "categories",
    "release_date_text", "header_image",
}  # fmt: skip


def contract_columns() -> dict[str, list[str]]:
    """table -> columns, parsed from the raw table contract (loaders/raw_tables.md)."""
    out = {}
    for line in (ROOT / "loaders" / "raw_tables.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*(raw_\w+\.\w+)\s*\|[^|]*\|[^|]*\|(.*)\|\s*$", line)
        if match:
            spec = re.sub(r"\([^)]*\)", "", match.group(2))  # drop "(GAME/SPORTS/ETC/null)" etc.
            out[match.group(1)] = [part.split()[0] for part in spec.split(",") if part.strip()]
    return out


def column_sql(table: str, column: str) -> str:
    platform = table.split(".")[0].removeprefix("raw_")
    observed = "(timestamptz '2026-11-02 00:00:00+00' + to_minutes(cast(p * 10 as bigint)))"
    if column == "observed_at":
        return observed
    if column == "poll_id":
        return f"'{platform}:' || strftime({observed}, '%Y%m%dT%H%M%SZ')"
    if column in TIMESTAMPS:
        return f"{observed} - interval 1 hour"
    if column in TEXT:
        return f"'{column[:3]}' || r"
    if column.startswith(("is_", "verified", "open_", "success", "coming_")):
        return "r % 2 = 0"
    return "cast(r + 1 as bigint)"  # counts, ids, ranks, prices: 1..ROWS


def build_raw(path: Path, polls: int = POLLS, rows: int = ROWS) -> Path:
    """Every raw table of the contract; observation tables get `polls` polls of `rows` rows."""
    checks = load_checks()["raw"]
    with duckdb.connect(str(path)) as con:
        for table, columns in contract_columns().items():
            con.execute(f"create schema if not exists {table.split('.')[0]}")
            n_polls = polls if checks[table].get("polls") else 1
            select = ", ".join(f"{column_sql(table, c)} as {c}" for c in columns)
            con.execute(
                f"create table {table} as select {select} "
                f"from range({n_polls}) as p(p), range({rows}) as r(r)"
            )
    return path


def test_checks_spec_matches_the_raw_table_contract():
    contract = contract_columns()
    raw = load_checks()["raw"]
    assert len(contract) == 13
    assert set(raw) == set(contract)
    for table, columns in contract.items():
        assert raw[table]["columns"] == columns, table
        named = {*raw[table].get("not_null", []), *raw[table].get("ranges", {})}
        assert named <= set(columns), table


@pytest.fixture(scope="module")
def clean_report(tmp_path_factory):
    base = tmp_path_factory.mktemp("clean")
    path = build_raw(base / "clean.duckdb")
    return run_checks("raw", duckdb_file=path, docs_dir=base / "docs"), base


@pytest.fixture(scope="module")
def faulty_report(tmp_path_factory):
    path = build_raw(tmp_path_factory.mktemp("faulty") / "faulty.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute("update raw_twitch.streams set viewer_count = -1 where rowid in (0, 1, 2)")
        con.execute("update raw_chzzk.lives set channel_id = null where rowid in (5, 6)")
        con.execute("alter table raw_soop.broads drop column user_nick")
        con.execute(
            "update raw_steam.current_players set observed_at = observed_at - interval 4 hour"
        )
        con.execute(
            "delete from raw_twitch.top_games where rank > 3 and observed_at = "
            "(select max(observed_at) from raw_twitch.top_games)"
        )
        con.execute("drop table raw_steam.reviews")
        con.execute(
            "insert into raw_steam.prices select * from raw_steam.prices "
            "where observed_at = (select min(observed_at) from raw_steam.prices) limit 1"
        )
    return run_checks("raw", duckdb_file=path, docs_dir=None)


def test_clean_raw_tables_pass_and_data_docs_are_written(clean_report):
    report, base = clean_report
    assert report.failures == []
    assert report.success
    tables = {r.table for r in report.results}
    assert tables == set(contract_columns())
    kinds = {r.expectation.split("(")[0] for r in report.results if not r.skipped}
    assert {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_between",
        "expect_compound_columns_to_be_unique",
        "expect_table_columns_to_match_set",
        "expect_table_row_count_to_be_between",
        "expect_column_min_to_be_between",
    } <= kinds
    assert report.summary().startswith("validate raw on duckdb: PASSED")
    assert report.docs_index == (base / "docs" / "index.html").resolve()
    assert report.docs_index.exists()
    assert "raw_twitch.streams" in report.docs_index.read_text(encoding="utf-8")


def test_each_planted_fault_is_reported_on_its_table(faulty_report):
    lines = faulty_report.failure_lines()
    assert not faulty_report.success
    assert (
        "raw_twitch.streams: expect_column_values_to_be_between(viewer_count >= 0) failed: "
        f"3 of {POLLS * ROWS} rows"
    ) in lines
    assert (
        "raw_chzzk.lives: expect_column_values_to_not_be_null(channel_id) failed: "
        f"2 of {POLLS * ROWS} rows"
    ) in lines
    assert (
        "raw_soop.broads: expect_table_columns_to_match_set(columns) failed: "
        "missing columns: user_nick"
    ) in lines
    assert "raw_steam.reviews: table exists failed: table not found" in lines
    failures = {(table, exp.split("(")[0]): detail for table, exp, detail in faulty_report.failures}
    assert failures[("raw_twitch.top_games", "expect_table_row_count_to_be_between")] == (
        "observed 3"
    )
    stale = failures[("raw_steam.current_players", "expect_column_min_to_be_between")]
    assert stale == "observed 2026-11-01 21:10Z"  # newest poll 01:10, steam's 4 h before
    assert failures[("raw_steam.prices", "expect_compound_columns_to_be_unique")] == (
        f"2 of {POLLS * ROWS + 1} rows"
    )


def test_no_false_alarms_on_untouched_tables(faulty_report):
    failing = {table for table, _, _ in faulty_report.failures}
    assert failing == {
        "raw_twitch.streams",
        "raw_chzzk.lives",
        "raw_soop.broads",
        "raw_steam.current_players",
        "raw_twitch.top_games",
        "raw_steam.reviews",
        "raw_steam.prices",
    }
    summary = faulty_report.summary()
    assert summary.startswith("validate raw on duckdb: FAILED") and "(8 failed" in summary


def test_volume_check_is_skipped_with_too_few_polls(tmp_path):
    path = build_raw(tmp_path / "young.duckdb", polls=2)
    streams = load_checks()["raw"]["raw_twitch.streams"]
    checks = {**load_checks(), "raw": {"raw_twitch.streams": streams}}
    report = run_checks("raw", duckdb_file=path, docs_dir=None, checks=checks)
    assert report.success
    skipped = [r for r in report.results if r.skipped]
    assert [r.detail for r in skipped] == ["skipped: 2 polls, volume needs 3"]


def build_silver(path: Path, bad: bool) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists silver")
        avg = "case when i = 3 then -2.0 else 4.0 end" if bad else "4.0"
        session = "'s' || (i % 4)" if bad else "'s' || i"
        con.execute(
            f"create table silver.int_broadcast_sessions_sessionized as select {session} "
            "as session_id, 'twitch' as platform, 'c' || i as channel_id, now() as started_at, "
            f"now() as ended_at, {avg} as avg_viewers, 9 as peak_viewers, "
            "1 as observation_count, 1.0 as hours_watched from range(12) t(i)"
        )


def test_gold_checks_built_tables_and_skips_absent_ones(tmp_path):
    path = tmp_path / "gold.duckdb"
    build_silver(path, bad=True)
    report = run_checks("gold", duckdb_file=path, docs_dir=None)
    table = "silver.int_broadcast_sessions_sessionized"
    assert set(report.failures) == {
        (table, "expect_column_values_to_be_between(avg_viewers >= 0)", "1 of 12 rows"),
        (table, "expect_column_values_to_be_unique(session_id)", "12 of 12 rows"),
    }
    skipped = {r.table: r.detail for r in report.results if r.skipped}
    not_built = set(load_checks()["gold"]) - {table}
    assert "silver.int_streamer_game_spells" in not_built
    assert skipped == dict.fromkeys(not_built, "not built yet")


def test_cli_exit_code_failure_lines_and_ledger_row(tmp_path, monkeypatch):
    path = tmp_path / "cli.duckdb"
    build_silver(path, bad=True)
    monkeypatch.setenv("GST_DUCKDB_PATH", str(path))
    monkeypatch.delenv("GST_ALERT_WEBHOOK_URL", raising=False)
    result = CliRunner().invoke(
        app, ["validate", "--suite", "gold", "--docs-dir", str(tmp_path / "docs")]
    )
    assert result.exit_code == 1, result.output
    out = " ".join(result.output.split())
    assert (
        "silver.int_broadcast_sessions_sessionized: expect_column_values_to_be_between"
        "(avg_viewers >= 0) failed: 1 of 12 rows" in out
    )
    assert "validate gold on duckdb: FAILED" in out
    assert str(tmp_path / "docs" / "index.html") in out
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "select kind, target, status, failures, validation_result from ops.run_ledger"
        ).fetchall()
    assert len(rows) == 1
    kind, target, status, failures, summary = rows[0]
    assert (kind, target, status, failures) == ("validate", "duckdb", "failed", 2)
    assert summary.startswith("validate gold on duckdb: FAILED")


def test_validate_passes_on_good_gold_and_records_success(tmp_path):
    path = tmp_path / "good.duckdb"
    build_silver(path, bad=False)
    report = validate("gold", duckdb_file=path, docs_dir=None)
    assert report.success and report.failures == []
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("select status from ops.run_ledger").fetchall() == [("success",)]


def test_unknown_suite_or_missing_warehouse_is_a_clear_error(tmp_path):
    from loaders.validate import ValidationError

    with pytest.raises(ValidationError, match="unknown suite 'silver'"):
        run_checks("silver", duckdb_file=tmp_path / "x.duckdb")
    with pytest.raises(ValidationError, match=r"x\.duckdb does not exist"):
        run_checks("raw", duckdb_file=tmp_path / "x.duckdb", docs_dir=None)


def quiet_chzzk_night(path: Path, recorded_polls: int | None) -> dict:
    """30 polls (5 h) of Chzzk and SOOP; nobody live on Chzzk in the last 4 hours. The
    loaders' per-poll record (raw_chzzk.polls) holds the first `recorded_polls` polls of
    raw_chzzk.lives (None: no record, as in a warehouse written by other means)."""
    build_raw(path, polls=30, rows=5)
    with duckdb.connect(str(path)) as con:
        newest = con.execute("select max(observed_at) from raw_chzzk.lives").fetchone()[0]
        if recorded_polls is not None:
            con.execute(
                "create table raw_chzzk.polls as select poll_id, observed_at, "
                "'lives' as table_name, count(*) as row_count from raw_chzzk.lives "
                "group by poll_id, observed_at order by observed_at "
                f"limit {int(recorded_polls)}"
            )
        con.execute("delete from raw_chzzk.lives where observed_at > ? - interval 4 hour", [newest])
        if recorded_polls is not None:  # the quiet polls still ran and saw nobody
            con.execute("update raw_chzzk.polls set row_count = 0 where observed_at > ? - "
                        "interval 4 hour", [newest])  # fmt: skip
    raw = load_checks()["raw"]
    return {**load_checks(), "raw": {t: raw[t] for t in ("raw_chzzk.lives", "raw_soop.broads")}}


def test_a_quiet_platform_whose_polls_ran_is_fresh(tmp_path):
    path = tmp_path / "quiet.duckdb"
    checks = quiet_chzzk_night(path, recorded_polls=30)
    report = run_checks("raw", duckdb_file=path, docs_dir=None, checks=checks)
    assert report.failures == []
    fresh = [
        r
        for r in report.results
        if r.table == "raw_chzzk.lives" and r.expectation.startswith("expect_column_min")
    ]
    assert len(fresh) == 1 and fresh[0].success


def test_a_quiet_platform_without_a_poll_record_reads_as_stale(tmp_path):
    path = tmp_path / "no-record.duckdb"
    checks = quiet_chzzk_night(path, recorded_polls=None)
    report = run_checks("raw", duckdb_file=path, docs_dir=None, checks=checks)
    failed = {(t, e.split("(")[0]) for t, e, _ in report.failures}
    assert failed == {("raw_chzzk.lives", "expect_column_min_to_be_between")}


def test_a_poller_that_stopped_is_stale_even_with_a_record(tmp_path):
    path = tmp_path / "stopped.duckdb"
    checks = quiet_chzzk_night(path, recorded_polls=6)  # the Chzzk poller died after 1 hour
    report = run_checks("raw", duckdb_file=path, docs_dir=None, checks=checks)
    failed = {(t, e.split("(")[0]): d for t, e, d in report.failures}
    assert list(failed) == [("raw_chzzk.lives", "expect_column_min_to_be_between")]
    assert failed[("raw_chzzk.lives", "expect_column_min_to_be_between")].startswith("observed")
