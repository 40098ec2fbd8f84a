"""Rankings: the daily game chart per platform (or all), new entries, days at #1, stream share."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboard import data
from dashboard.filters import Filters
from dashboard.views.common import table


def render(f: Filters) -> None:
    st.title("Rankings")
    dates = data.ranking_dates(f.platform, f.start, f.end)
    if not dates:
        st.info("No ranking in the selected date range.")
        return
    day = st.selectbox("Day (UTC)", dates, key="ranking_day")
    chart = data.rankings(f.platform, day, f.search)
    if chart.empty:
        st.info(f"No ranked game matches '{f.search}' on {day}.")
        return
    fig = px.bar(
        chart.head(15), x="hours_watched", y="game", orientation="h",
        hover_data=["game_ko", "peak_viewers", "stream_share_score"],
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed", title=None)
    fig.update_layout(height=420, margin={"t": 10, "b": 10})
    st.plotly_chart(fig, use_container_width=True)
    table(
        chart,
        {"rank": "Rank", "game": "Game", "game_ko": "게임", "hours_watched": "Hours watched",
         "rank_change": "Change", "days_at_number_one": "Days at #1",
         "peak_viewers": "Peak viewers", "peak_channels": "Peak streams",
         "stream_share_score": "Stream share", "stream_share_rank": "Share rank"},
        "",
    )  # fmt: skip
    st.subheader("New entries")
    table(
        chart[chart["is_new_entry"].fillna(False).astype(bool)],
        {"rank": "Rank", "game": "Game", "game_ko": "게임", "hours_watched": "Hours watched"},
        "No new entries on this day (or the day before was not observed).",
    )  # fmt: skip
