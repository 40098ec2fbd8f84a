"""Data access: every query the dashboard runs, all against the `gold` schema.

The dashboard computes nothing itself: figures are columns of gold models, or the dbt metrics
of models/marts/_semantic_models.yml evaluated as defined there (e.g. `hours_watched` = sum of
the platform rows). Queries use `?` placeholders; `loaders.warehouse.connect` adapts them to the
warehouse driver. The warehouse comes from GST_DASHBOARD_TARGET (duckdb, postgres, redshift)
and the same connection settings as the loaders (GST_PG_*, GST_REDSHIFT_*).

On DuckDB the dashboard never opens the warehouse a load or build is writing: it reads the copy
of gold `gst build` publishes after each successful build (GST_DUCKDB_READ_PATH, default
data/warehouse.gold.duckdb; loaders/publish.py), read-only and one connection per query. Results
are cached per published file, so a new publish shows on the next page run. PostgreSQL and
Redshift allow concurrent readers: there the dashboard reads gold in the warehouse itself.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from typing import Any

import pandas as pd
import streamlit as st

from loaders import warehouse
from loaders.warehouse import connect

CACHE_SECONDS = 300


def target() -> str:
    return os.environ.get("GST_DASHBOARD_TARGET", "duckdb")


def read_version() -> tuple[str, int, int] | None:
    """Which published DuckDB file is current (path, inode, mtime): part of every cache key, so
    results never outlive the file they were read from. None when there is none (or not DuckDB)."""
    if target() != "duckdb":
        return None
    path = warehouse.duckdb_read_path()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return str(path), stat.st_ino, stat.st_mtime_ns


def _connect(version: tuple[str, int, int] | None) -> Any:
    if target() == "duckdb":
        path = version[0] if version else warehouse.duckdb_read_path()
        return connect("duckdb", duckdb_file=path, read_only=True)
    return connect(target(), read_only=True)


def query(sql: str, params: tuple[Any, ...] = ()) -> pd.DataFrame:
    return _query(sql, params, read_version())


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _query(sql: str, params: tuple[Any, ...], version: tuple[str, int, int] | None) -> pd.DataFrame:
    with _connect(version) as con:
        return pd.DataFrame(con.rows(sql, params))


def has_model(name: str) -> bool:
    return _has_table("gold", name, read_version())


def published() -> bool:
    """False when the DuckDB warehouse has not published gold for readers yet."""
    return target() != "duckdb" or read_version() is not None


def data_as_of() -> datetime | None:
    """When the gold shown was built: the publish stamp on DuckDB, else the end of the latest
    successful build in the run ledger (None when unknown)."""
    if target() == "duckdb":
        df = query("select built_at from ops.published")
    elif has_ledger():
        df = query(
            "select max(ended_at) as built_at from ops.run_ledger "
            "where kind = 'build' and status = 'success'"
        )
    else:
        return None
    if df.empty or pd.isna(df.loc[0, "built_at"]):
        return None
    built = pd.Timestamp(df.loc[0, "built_at"])
    built = built.tz_localize("UTC") if built.tzinfo is None else built.tz_convert("UTC")
    return built.to_pydatetime()


def has_ledger() -> bool:
    return _has_table("ops", "run_ledger", read_version())


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _has_table(schema: str, name: str, version: tuple[str, int, int] | None) -> bool:
    with _connect(version) as con:
        return con.has_table(schema, name)


def like(text: str) -> str:
    """A case-insensitive substring pattern for the game search (English or Korean name)."""
    return f"%{text.strip().lower()}%"


GAME_MATCH = "(? = '' or lower(g.name_en) like ? or lower(g.name_ko) like ?)"


def game_match_params(search: str) -> tuple[str, str, str]:
    return (search.strip(), like(search), like(search))


# --- filters ------------------------------------------------------------------------------------


def platforms() -> pd.DataFrame:
    return query(
        "select platform, platform_name, platform_name_ko from gold.dim_platforms "
        "where platform_kind in ('streaming', 'aggregate') order by sort_order"
    )


def date_bounds() -> tuple[date, date] | None:
    df = query("select min(game_date) as lo, max(game_date) as hi from gold.fct_game_daily")
    if df.empty or df.loc[0, "lo"] is None or pd.isna(df.loc[0, "lo"]):
        return None
    return pd.Timestamp(df.loc[0, "lo"]).date(), pd.Timestamp(df.loc[0, "hi"]).date()


# --- home ---------------------------------------------------------------------------------------


def platform_days(lo: date, hi: date) -> pd.DataFrame:
    """Each streaming platform's audience per UTC day (fct_platform_daily)."""
    return query(
        "select d.platform, p.platform_name, d.activity_date, d.live_channels, d.avg_viewers, "
        "d.peak_viewers, d.hours_watched, d.airtime_hours "
        "from gold.fct_platform_daily as d "
        "inner join gold.dim_platforms as p on p.platform = d.platform "
        "where d.activity_date between ? and ? "
        "order by p.sort_order, d.activity_date",
        (lo, hi),
    )


def live_channels() -> pd.DataFrame:
    """Channels live at each platform's latest poll (dim_streamers.is_live)."""
    return query(
        "select platform, count(*) as live_channels from gold.dim_streamers "
        "where is_live group by platform order by platform"
    )


def quarantine_days(lo: date, hi: date) -> pd.DataFrame:
    """Pages and items the loaders rejected per platform, day, endpoint (fct_quarantine_daily)."""
    if not has_model("fct_quarantine_daily"):
        return pd.DataFrame()
    return query(
        "select quarantine_date, platform, endpoint, quarantined_count, sample_reason "
        "from gold.fct_quarantine_daily "
        "where quarantine_date between ? and ? "
        "order by quarantine_date desc, platform, endpoint",
        (lo, hi),
    )


def rankings(platform: str, day: date, search: str = "", limit: int = 100) -> pd.DataFrame:
    return query(
        "select r.hours_watched_rank as rank, g.name_en as game, g.name_ko as game_ko, "
        "r.hours_watched, r.rank_change, r.is_new_entry, r.days_at_number_one, "
        "r.peak_viewers, r.peak_channels, r.stream_share_score, r.stream_share_rank, "
        "r.game_key "
        "from gold.fct_game_rankings_daily as r "
        "inner join gold.dim_games as g on g.game_key = r.game_key "
        f"where r.platform = ? and r.game_date = ? and {GAME_MATCH} "
        "order by r.hours_watched_rank limit ?",
        (platform, day, *game_match_params(search), limit),
    )


def ranking_dates(platform: str, lo: date, hi: date) -> list[date]:
    df = query(
        "select distinct game_date from gold.fct_game_rankings_daily "
        "where platform = ? and game_date between ? and ? order by game_date desc",
        (platform, lo, hi),
    )
    return [pd.Timestamp(d).date() for d in df["game_date"]] if not df.empty else []


def top_streamers(platform: str, limit: int = 10) -> pd.DataFrame:
    return query(
        "select s.channel_name as streamer, s.platform, g.name_en as main_game, "
        "g.name_ko as main_game_ko, s.hours_watched, s.peak_viewers, s.airtime_hours, "
        "s.is_live, s.streamer_id "
        "from gold.dim_streamers as s "
        "left join gold.dim_games as g on g.game_key = s.main_game_key "
        "where (? = 'all' or s.platform = ?) "
        "order by s.hours_watched desc nulls last, s.streamer_id limit ?",
        (platform, platform, limit),
    )


# --- game ---------------------------------------------------------------------------------------


def movers(platform: str, lo: date, hi: date, limit: int = 10) -> pd.DataFrame:
    """The headline answer: streamers seen live in the period whose estimated influence has
    evidence (strong first, then by the estimate), with its 90 % interval."""
    return query(
        "select s.channel_name as streamer, s.platform, g.name_en as main_game, "
        "s.estimated_influence, s.influence_ci_low, s.influence_ci_high, s.influence_events, "
        "s.influence_evidence "
        "from gold.dim_streamers as s "
        "left join gold.dim_games as g on g.game_key = s.main_game_key "
        "where s.estimated_influence is not null and s.influence_evidence <> 'insufficient' "
        "and (? = 'all' or s.platform = ?) "
        "and cast(s.last_seen_at as date) >= ? and cast(s.first_seen_at as date) <= ? "
        "order by case when s.influence_evidence = 'strong' then 0 else 1 end, "
        "s.estimated_influence desc, s.platform, s.channel_id "
        f"limit {int(limit)}",
        (platform, platform, lo, hi),
    )


def games(search: str = "") -> pd.DataFrame:
    """Games with audience, most watched first (dim_games; order by the gold ranking measure)."""
    return query(
        "select g.game_key, g.name_en, g.name_ko, g.steam_appid, g.genre, g.final_price_krw, "
        "g.discount_percent, g.review_score_desc "
        "from gold.dim_games as g "
        "left join (select game_key, max(hours_watched) as best from gold.fct_game_rankings_daily "
        "where platform = 'all' group by game_key) as r on r.game_key = g.game_key "
        f"where g.category_kind = 'game' and {GAME_MATCH} "
        "order by r.best desc nulls last, g.name_en",
        game_match_params(search),
    )


def game_hourly(game_key: str, lo: date, hi: date) -> pd.DataFrame:
    return query(
        "select h.platform, h.hour_at, h.avg_viewers, h.peak_viewers, h.steam_avg_players, "
        "h.discount_percent from gold.fct_game_hourly as h "
        "where h.game_key = ? and h.hour_date between ? and ? order by h.hour_at, h.platform",
        (game_key, lo, hi),
    )


def game_rank_history(game_key: str, lo: date, hi: date) -> pd.DataFrame:
    return query(
        "select game_date, platform, hours_watched_rank as rank, hours_watched "
        "from gold.fct_game_rankings_daily "
        "where game_key = ? and game_date between ? and ? order by game_date, platform",
        (game_key, lo, hi),
    )


def game_impact(game_key: str, platform: str, lo: date, hi: date) -> pd.DataFrame:
    """Streamer start events on the game with their estimated impact."""
    return query(
        "select s.channel_name as streamer, i.platform, i.started_at, i.streamer_avg_viewers, "
        "i.lift_players, i.lift_per_1000_viewers, i.attribution_share, i.confidence, "
        "i.is_overlapping "
        "from gold.fct_streamer_game_impact as i "
        "left join gold.dim_streamers as s "
        "on s.platform = i.platform and s.channel_id = i.channel_id "
        "where i.game_key = ? and (? = 'all' or i.platform = ?) "
        "and cast(i.started_at as date) between ? and ? "
        "order by i.started_at",
        (game_key, platform, platform, lo, hi),
    )


def game_top_streamers(game_key: str, platform: str, limit: int = 10) -> pd.DataFrame:
    """Streamers whose main game it is, with their estimated influence."""
    return query(
        "select s.channel_name as streamer, s.platform, s.hours_watched, s.peak_viewers, "
        "s.estimated_influence, s.influence_events "
        "from gold.dim_streamers as s "
        "where s.main_game_key = ? and (? = 'all' or s.platform = ?) "
        "order by s.hours_watched desc nulls last, s.streamer_id limit ?",
        (game_key, platform, platform, limit),
    )


def game_price_events(game_key: str, lo: date, hi: date) -> pd.DataFrame:
    """Steam discount starts, ends and changes with their measured lift (gold pricing)."""
    if not has_model("fct_price_events"):
        return pd.DataFrame()
    return query(
        "select event_type, event_at, discount_percent_before, discount_percent_after, "
        "price_after_krw, players_lift_pct, viewers_lift_pct "
        "from gold.fct_price_events "
        "where game_key = ? and cast(event_at as date) between ? and ? order by event_at",
        (game_key, lo, hi),
    )


def game_forecast(game_key: str, lo: date, hi: date) -> pd.DataFrame:
    """Forecast and actual per day and metric (gold forecast)."""
    if not has_model("fct_game_forecast_daily"):
        return pd.DataFrame()
    return query(
        "select forecast_date, metric, forecast_value, actual_value, abs_pct_error "
        "from gold.fct_game_forecast_daily "
        "where game_key = ? and forecast_date between ? and ? order by metric, forecast_date",
        (game_key, lo, hi),
    )


# --- streamer -----------------------------------------------------------------------------------


def streamers(platform: str) -> pd.DataFrame:
    return query(
        "select s.streamer_id, s.platform, s.channel_id, s.channel_name, s.follower_count, "
        "s.first_seen_at, s.last_seen_at, s.is_live, s.session_count, s.airtime_hours, "
        "s.hours_watched, s.peak_viewers, g.name_en as main_game, g.name_ko as main_game_ko "
        "from gold.dim_streamers as s "
        "left join gold.dim_games as g on g.game_key = s.main_game_key "
        "where (? = 'all' or s.platform = ?) "
        "order by s.hours_watched desc nulls last, s.streamer_id",
        (platform, platform),
    )


def broadcasts(streamer_id: str, lo: date, hi: date) -> pd.DataFrame:
    return query(
        "select b.started_at, b.ended_at, b.started_date, b.airtime_hours, b.avg_viewers, "
        "b.peak_viewers, b.hours_watched, g.name_en as main_game, g.name_ko as main_game_ko "
        "from gold.fct_broadcasts as b "
        "left join gold.dim_games as g on g.game_key = b.main_game_key "
        "where b.streamer_id = ? and b.started_date between ? and ? order by b.started_at",
        (streamer_id, lo, hi),
    )


def game_history(streamer_id: str, lo: date, hi: date) -> pd.DataFrame:
    return query(
        "select h.valid_from, h.valid_to, h.category_name, h.category_kind, "
        "g.name_en as game, g.name_ko as game_ko, h.avg_viewers, h.peak_viewers, h.is_current "
        "from gold.fct_streamer_game_history as h "
        "left join gold.dim_games as g on g.game_key = h.game_key "
        "where h.streamer_id = ? and cast(h.valid_from as date) between ? and ? "
        "order by h.valid_from",
        (streamer_id, lo, hi),
    )


def influence(platform: str, channel_id: str) -> pd.DataFrame:
    return query(
        "select estimated_influence, influence_ci_low, influence_ci_high, influence_events, "
        "influence_evidence from gold.dim_streamers "
        "where platform = ? and channel_id = ?",
        (platform, channel_id),
    )


def streamer_events(platform: str, channel_id: str) -> pd.DataFrame:
    return query(
        "select g.name_en as game, g.name_ko as game_ko, i.started_at, i.streamer_avg_viewers, "
        "i.baseline_players, i.post_players, i.lift_players, i.lift_per_1000_viewers, "
        "i.attribution_share, i.confidence "
        "from gold.fct_streamer_game_impact as i "
        "left join gold.dim_games as g on g.game_key = i.game_key "
        "where i.platform = ? and i.channel_id = ? order by i.started_at",
        (platform, channel_id),
    )
