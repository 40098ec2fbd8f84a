"""Home: the headline answer (streamers who moved games, with intervals); per platform, the
latest day against the day before; rejected data; top games and streamers."""

from __future__ import annotations

import streamlit as st

from dashboard import data
from dashboard.filters import Filters
from dashboard.views.common import table


def render(f: Filters) -> None:
    st.title("Game & Stream Trends")
    st.caption(f"{f.start} – {f.end} (UTC days) · how do streamers move games?")

    st.subheader("Streamers who moved games")
    st.caption(
        "Extra concurrent Steam players per 1,000 viewers a streamer brings to the game they "
        "stream, with its 90 % interval; `strong` = interval above zero with at least 3 start "
        "events, `weak` = interval includes zero (method: dbt docs, streamer_impact_method)."
    )
    table(
        data.movers(f.platform, f.start, f.end),
        {"streamer": "Streamer", "platform": "Platform", "main_game": "Main game",
         "estimated_influence": "Players per 1,000 viewers", "influence_ci_low": "90 % low",
         "influence_ci_high": "90 % high", "influence_events": "Start events",
         "influence_evidence": "Evidence"},
        "No streamer with enough start events on Steam games in the selected period.",
    )  # fmt: skip

    days = data.platform_days(f.start, f.end)
    live = data.live_channels().set_index("platform")["live_channels"].to_dict()
    if days.empty:
        st.info("No audience in the selected date range.")
    else:
        latest = days["activity_date"].max()
        st.subheader(f"Streaming platforms on {latest} vs the day before")
        shown = days if f.platform == "all" else days[days["platform"] == f.platform]
        columns = st.columns(max(1, shown["platform"].nunique()))
        per_platform = shown.groupby("platform", sort=False)
        for column, (platform, rows) in zip(columns, per_platform, strict=True):
            rows = rows.sort_values("activity_date")
            today = rows.iloc[-1]
            before = rows.iloc[-2] if len(rows) > 1 else None
            with column:
                st.markdown(f"**{today['platform_name']}**")
                for column_name, label in (
                    ("live_channels", "Live channels (day)"),
                    ("avg_viewers", "Average viewers"),
                    ("peak_viewers", "Peak viewers"),
                    ("hours_watched", "Hours watched"),
                ):
                    st.metric(
                        label,
                        f"{today[column_name]:,.0f}",
                        None if before is None else f"day before: {before[column_name]:,.0f}",
                        delta_color="off",
                        delta_arrow="off",
                    )
                st.metric("Live channels now", f"{live.get(platform, 0):,}")

    left, right = st.columns(2)
    with left:
        dates = data.ranking_dates(f.platform, f.start, f.end)
        st.subheader("Top games by hours watched" + (f" on {dates[0]}" if dates else ""))
        top = data.rankings(f.platform, dates[0], f.search, limit=10) if dates else None
        if top is None:
            st.info("No ranking in the selected date range.")
        else:
            table(
                top,
                {"rank": "Rank", "game": "Game", "game_ko": "게임",
                 "hours_watched": "Hours watched", "rank_change": "Change"},
                "No game matches the search.",
            )  # fmt: skip
    with right:
        st.subheader("Top streamers")
        table(
            data.top_streamers(f.platform),
            {"streamer": "Streamer", "platform": "Platform", "main_game": "Main game",
             "hours_watched": "Hours watched", "peak_viewers": "Peak viewers"},
            "No streamers on this platform.",
        )  # fmt: skip

    rejected = data.quarantine_days(f.start, f.end)
    if not rejected.empty:
        total = int(rejected["quarantined_count"].sum())
        with st.expander(f"Data the loaders rejected in these days: {total:,} pages or items"):
            table(
                rejected,
                {"quarantine_date": "Day (UTC)", "platform": "Platform", "endpoint": "Endpoint",
                 "quarantined_count": "Rejected", "sample_reason": "Example reason"},
                "Nothing rejected.",
            )  # fmt: skip
