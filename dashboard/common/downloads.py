"""Download buttons for tables (CSV) and figures (standalone HTML), PNG names.

The file is produced only when the button is clicked (a callable ``data``), so
a rerun does not serialise every figure; the plotly modebar's camera button
saves a PNG, named by :func:`png_config`.
"""

from __future__ import annotations

import functools
import re

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.data.user.validate import csv_safe


def file_name(*parts: object, suffix: str) -> str:
    """A portable file name from ``parts`` (data-derived text is not trusted)."""
    stem = "-".join(re.sub(r"[^A-Za-z0-9_.-]+", "_", str(p)) for p in parts)
    return f"{stem.strip('._-') or 'download'}.{suffix}"


def _csv(df: pd.DataFrame) -> str:
    # Cells from user data may start like spreadsheet formulas ("=cmd|..."):
    # neutralised, so opening the download in a spreadsheet runs nothing.
    return csv_safe(df).to_csv(index=False)


def table(df: pd.DataFrame, name: str, *, key: str, label: str = "CSV") -> None:
    """A button that downloads ``df`` as CSV named ``name`` (formulas neutralised)."""
    st.download_button(
        label,
        data=functools.partial(_csv, df),
        file_name=name,
        mime="text/csv",
        key=key,
        on_click="ignore",
        icon=":material/download:",
    )


def figure(fig: go.Figure, name: str, *, key: str, label: str = "HTML") -> None:
    """A button that downloads ``fig`` as a self-contained HTML file."""
    st.download_button(
        label,
        data=functools.partial(fig.to_html, include_plotlyjs=True, full_html=True),
        file_name=name,
        mime="text/html",
        key=key,
        on_click="ignore",
        icon=":material/download:",
    )


#: Said under figures whose PNG comes from the modebar.
PNG_HINT = "PNG: the camera button in the figure's toolbar (top right, on hover)."


def png_config(*parts: object) -> dict:
    """``st.plotly_chart(config=...)``: the camera button saves ``<parts>.png``."""
    stem = file_name(*parts, suffix="png").removesuffix(".png")
    return {
        "toImageButtonOptions": {"format": "png", "filename": stem, "scale": 2},
        "displaylogo": False,
    }
