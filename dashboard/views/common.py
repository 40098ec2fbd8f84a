"""Formatting shared by the pages (no figures are computed here)."""

from __future__ import annotations

import pandas as pd
import streamlit as st


def table(df: pd.DataFrame, columns: dict[str, str], empty: str) -> None:
    """An HTML table (selectable text, Korean names) of `columns` {column: heading}."""
    if df.empty:
        st.info(empty)
        return
    shown = df[list(columns)].rename(columns=columns).convert_dtypes()
    st.table(shown.style.format(precision=1, thousands=",", na_rep="–"), hide_index=True)


def game_label(name_en: str, name_ko: str | None) -> str:
    return f"{name_en} · {name_ko}" if name_ko and name_ko != name_en else name_en
