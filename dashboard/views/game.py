"""Game: viewers per platform and Steam players on one time axis (streamer starts and discounts
marked), ranking history, forecast vs actual, top streamers and their estimated impact."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import data
from dashboard.filters import Filters
from dashboard.views.common import game_label, table

_HOUR = timedelta(hours=1)


def render(f: Filters) -> None:
    games = data.games(f.search)
    if games.empty:
        st.title("Game")
        st.info(f"No game matches '{f.search}'.")
        return
    labels = {row.game_key: game_label(row.name_en, row.name_ko) for row in games.itertuples()}
    game_key = st.selectbox("Game", list(labels), format_func=labels.get, key="game")
    game = games.set_index("game_key").loc[game_key]
    st.title(labels[game_key])
    facts = [f"genre {game['genre']}"]
    if pd.notna(game["final_price_krw"]):
        facts.append(f"₩{game['final_price_krw']:,.0f} on Steam")
    if pd.notna(game["review_score_desc"]):
        facts.append(str(game["review_score_desc"]))
    st.caption(" · ".join(facts))

    hourly = data.game_hourly(game_key, f.start, f.end)
    events = data.game_impact(game_key, f.platform, f.start, f.end)
    prices = data.game_price_events(game_key, f.start, f.end)
    st.subheader("Viewers and Steam players")
    if hourly.empty:
        st.info("No audience for this game in the selected date range.")
    else:
        st.plotly_chart(_timeline(hourly, events, prices, f.platform), use_container_width=True)
        st.caption(
            "Dashed red: a streamer starts the game · shaded green: Steam discount in effect · "
            "dotted green: a discount starts"
        )

    left, right = st.columns(2)
    with left:
        st.subheader("Ranking history")
        ranks = data.game_rank_history(game_key, f.start, f.end)
        if ranks.empty:
            st.info("Not ranked in the selected date range.")
        else:
            fig = go.Figure()
            for platform, rows in ranks.groupby("platform"):
                fig.add_scatter(
                    x=rows["game_date"], y=rows["rank"], name=platform, mode="lines+markers"
                )
            fig.update_yaxes(autorange="reversed", title="rank (hours watched)")
            fig.update_layout(height=320, margin={"t": 10, "b": 10})
            st.plotly_chart(fig, use_container_width=True)
    with right:
        st.subheader("Forecast vs actual")
        forecast = data.game_forecast(game_key, f.start, f.end)
        if forecast.empty:
            st.info("No forecast for this game in the selected date range.")
        else:
            metric = st.selectbox("Metric", sorted(forecast["metric"].unique()), key="metric")
            rows = forecast[forecast["metric"] == metric]
            fig = go.Figure()
            fig.add_scatter(x=rows["forecast_date"], y=rows["actual_value"], name="actual")
            fig.add_scatter(
                x=rows["forecast_date"], y=rows["forecast_value"], name="forecast",
                line={"dash": "dash"},
            )  # fmt: skip
            fig.update_layout(height=280, margin={"t": 10, "b": 10}, legend={"orientation": "h"})
            st.plotly_chart(fig, use_container_width=True)

    if not prices.empty:
        st.subheader("Steam price events")
        table(
            prices,
            {"event_type": "Event", "event_at": "At (UTC)",
             "discount_percent_before": "Discount before %",
             "discount_percent_after": "Discount after %", "price_after_krw": "Price after ₩",
             "players_lift_pct": "Players lift %", "viewers_lift_pct": "Viewers lift %"},
            "",
        )  # fmt: skip

    st.subheader("Top streamers of the game")
    table(
        data.game_top_streamers(game_key, f.platform),
        {"streamer": "Streamer", "platform": "Platform", "hours_watched": "Hours watched",
         "peak_viewers": "Peak viewers", "estimated_influence": "Players per 1,000 viewers",
         "influence_events": "Events"},
        "No streamer has this as their main game.",
    )  # fmt: skip
    st.subheader("Streamer start events and estimated impact")
    table(
        events,
        {"streamer": "Streamer", "platform": "Platform", "started_at": "Started (UTC)",
         "streamer_avg_viewers": "Avg viewers", "lift_players": "Player lift",
         "attribution_share": "Attributed share", "confidence": "Confidence"},
        "No measured start events in the selected range.",
    )  # fmt: skip


def _timeline(hourly, events, prices, platform: str) -> go.Figure:
    fig = go.Figure()
    streams = hourly[hourly["platform"] != "all"]
    if platform != "all":
        streams = streams[streams["platform"] == platform]
    for name, rows in streams.groupby("platform"):
        fig.add_scatter(x=rows["hour_at"], y=rows["avg_viewers"], name=f"{name} viewers")
    steam = hourly[hourly["platform"] == "all"]
    if steam["steam_avg_players"].notna().any():
        fig.add_scatter(
            x=steam["hour_at"], y=steam["steam_avg_players"], name="Steam players",
            yaxis="y2", line={"dash": "dot", "color": "#1b2838"},
        )  # fmt: skip
        discounted = steam[steam["discount_percent"].fillna(0) > 0]
        for hour in discounted["hour_at"]:
            fig.add_vrect(x0=hour, x1=hour + _HOUR, fillcolor="#2ca02c", opacity=0.12, line_width=0)
    if not prices.empty:
        for start in prices.loc[prices["event_type"] == "discount_start", "event_at"]:
            fig.add_vline(x=start, line_dash="dot", line_color="#2ca02c")
    for event in events.itertuples():
        fig.add_vline(x=event.started_at, line_dash="dash", line_color="#d62728", opacity=0.6)
    fig.update_layout(
        height=420, margin={"t": 10, "b": 10}, legend={"orientation": "h"},
        yaxis={"title": "average viewers"},
        yaxis2={"title": "Steam players", "overlaying": "y", "side": "right"},
    )  # fmt: skip
    return fig
