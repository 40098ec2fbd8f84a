"""Game & Stream Trends dashboard: `streamlit run dashboard/app.py` (or `gst dashboard`).

The sidebar holds the filters every page reads (platform, date range, game search); each page
is one module in dashboard/views, each query one function in dashboard/data.py.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run` puts only this folder on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import data  # noqa: E402
from dashboard.filters import sidebar  # noqa: E402
from dashboard.views import game, home, rankings, streamer  # noqa: E402
from loaders.warehouse import WarehouseError  # noqa: E402


def main() -> None:
    st.set_page_config(page_title="Game & Stream Trends", page_icon="🎮", layout="wide")
    if not data.published():
        st.warning(
            "Gold has not been published for readers yet: run `make demo`, or `gst build` "
            f"(or `gst publish` after a dbt build) to write {data.warehouse.duckdb_read_path()}."
        )
        st.stop()
    try:
        filters = sidebar()
        as_of = data.data_as_of()
    except WarehouseError as exc:
        st.error(f"The warehouse cannot be read ({data.target()}): {exc}")
        st.stop()
    if as_of is not None:
        st.sidebar.caption(f"Data as of {as_of:%Y-%m-%d %H:%M:%S} UTC (when gold was built)")
    if filters is None:
        st.warning("The gold models hold no data yet: run `make demo` (or `gst load` + dbt build).")
        st.stop()
    pages = [
        st.Page(partial(home.render, filters), title="Home", url_path="home", default=True),
        st.Page(partial(game.render, filters), title="Game", url_path="game"),
        st.Page(partial(streamer.render, filters), title="Streamer", url_path="streamer"),
        st.Page(partial(rankings.render, filters), title="Rankings", url_path="rankings"),
    ]
    st.navigation(pages, position="top").run()


main()
