"""The sidebar filters shared by every page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import streamlit as st

from dashboard import data


@dataclass(frozen=True)
class Filters:
    platform: str  # a dim_platforms key; 'all' = the streaming platforms together
    start: date
    end: date
    search: str  # substring of a game's English or Korean name ('' = every game)


def sidebar() -> Filters | None:
    """Draw the filters; None when gold holds no days yet."""
    bounds = data.date_bounds()
    if bounds is None:
        return None
    names = data.platforms()
    labels = dict(zip(names["platform"], names["platform_name"], strict=True))
    with st.sidebar:
        st.header("Filters")
        platform = st.selectbox("Platform", list(labels), format_func=labels.get, key="platform")
        picked = st.date_input(
            "Date range (UTC)", value=bounds, min_value=bounds[0], max_value=bounds[1],
            key="dates",
        )  # fmt: skip
        search = st.text_input("Game search (English or 한국어)", key="search")
        st.caption(f"Warehouse: {data.target()} · every figure comes from the gold models")
    # while a range is being picked the widget holds only its first day
    days = list(picked) if isinstance(picked, tuple | list) else [picked]
    start, end = days[0], days[-1]
    return Filters(platform=platform, start=start, end=end, search=search.strip())
