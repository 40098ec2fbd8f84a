"""Streamer: broadcast calendar, game history timeline, viewers, estimated influence and the
start events it rests on."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboard import data
from dashboard.filters import Filters
from dashboard.views.common import table


def render(f: Filters) -> None:
    people = data.streamers(f.platform)
    if people.empty:
        st.title("Streamer")
        st.info("No streamers on this platform.")
        return
    labels = {
        row.streamer_id: f"{row.channel_name} ({row.platform})" for row in people.itertuples()
    }
    streamer_id = st.selectbox("Streamer", list(labels), format_func=labels.get, key="streamer")
    who = people.set_index("streamer_id").loc[streamer_id]
    st.title(labels[streamer_id])
    main = who["main_game"] or "–"
    st.caption(
        f"main game {main}" + (f" · {who['main_game_ko']}" if who["main_game_ko"] else "")
        + f" · seen {who['first_seen_at']:%Y-%m-%d %H:%M} – {who['last_seen_at']:%Y-%m-%d %H:%M}"
        + (" · live now" if who["is_live"] else "")
    )  # fmt: skip
    influence = data.influence(who["platform"], who["channel_id"])
    cols = st.columns(5)
    cols[0].metric("Peak viewers", f"{who['peak_viewers']:,.0f}")
    cols[1].metric("Hours watched", f"{who['hours_watched']:,.0f}")
    cols[2].metric("Airtime hours", f"{who['airtime_hours']:,.1f}")
    cols[3].metric("Broadcasts", f"{who['session_count']:,}")
    fit = None if influence.empty else influence.iloc[0]
    known = fit is not None and pd.notna(fit["estimated_influence"])
    cols[4].metric(
        "Players per 1,000 viewers", f"{fit['estimated_influence']:,.1f}" if known else "–",
        f"90 % interval {fit['influence_ci_low']:,.1f} to {fit['influence_ci_high']:,.1f}"
        if known else None,
        delta_color="off", delta_arrow="off",
        help="Estimated extra Steam players per 1,000 viewers, with its 90 % interval "
        "(gold dim_streamers; method in the dbt docs, streamer_impact_method).",
    )  # fmt: skip
    if fit is not None:
        st.caption(
            f"Evidence: **{fit['influence_evidence']}** · {int(fit['influence_events'])} start "
            "events on Steam games in the fit window"
        )

    st.subheader("Broadcast calendar")
    sessions = data.broadcasts(streamer_id, f.start, f.end)
    if sessions.empty:
        st.info("No broadcasts in the selected date range.")
    else:
        sessions["main_game"] = sessions["main_game"].fillna("(no mapped game)")
        fig = px.timeline(
            sessions, x_start="started_at", x_end="ended_at", y="started_date",
            color="main_game", hover_data=["avg_viewers", "peak_viewers", "main_game_ko"],
        )  # fmt: skip
        fig.update_yaxes(title="day (UTC)", type="category")
        fig.update_layout(height=260, margin={"t": 10, "b": 10})
        st.plotly_chart(fig, use_container_width=True)

    st.subheader("Game history")
    history = data.game_history(streamer_id, f.start, f.end)
    if history.empty:
        st.info("No game history in the selected date range.")
    else:
        fig = px.timeline(
            history, x_start="valid_from", x_end="valid_to", y="category_name",
            color="category_kind", hover_data=["game_ko", "avg_viewers", "peak_viewers"],
        )  # fmt: skip
        fig.update_layout(height=320, margin={"t": 10, "b": 10})
        st.plotly_chart(fig, use_container_width=True)
        table(
            history,
            {"valid_from": "From (UTC)", "valid_to": "To (UTC)", "category_name": "Category",
             "game_ko": "게임", "avg_viewers": "Avg viewers", "peak_viewers": "Peak viewers"},
            "",
        )  # fmt: skip

    st.subheader("Estimated influence: the evidence")
    table(
        data.streamer_events(who["platform"], who["channel_id"]),
        {"game": "Game", "game_ko": "게임", "started_at": "Started (UTC)",
         "streamer_avg_viewers": "Avg viewers", "baseline_players": "Baseline players",
         "post_players": "Players after", "lift_players": "Lift",
         "attribution_share": "Attributed share", "confidence": "Confidence"},
        "No measured start events for this streamer yet (they need a baseline of earlier days).",
    )  # fmt: skip
