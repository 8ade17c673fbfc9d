"""Plotly figures of saliency maps, evaluation curves and the Hessian study.

No Streamlit here; strings that came from data (feature names) are escaped
with :func:`core.figures.style.label`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from core.figures.style import label
from core.saliency.evaluation import BETTER, CURVES

#: Relevance 0 → black, 1 → white through red and yellow.
MAP_COLOURS = "hot"
#: The axes of an image panel: nothing drawn, the domain shrunk to the image.
IMAGE_AXIS = {
    "showline": False,
    "showgrid": False,
    "zeroline": False,
    "ticks": "",
    "showticklabels": False,
    "constrain": "domain",
}


def maps_figure(
    maps: dict[str, np.ndarray],
    image: np.ndarray | None = None,
    image_title: str = "input",
) -> go.Figure:
    """Normalised image maps side by side, after the input image.

    Parameters
    ----------
    maps : dict of str to array of shape (H, W)
        Values in [0, 1] (:func:`core.saliency.evaluation.visual_normalise`).
    image : array of shape (H, W) or (H, W, 3), optional
        The input, values in [0, 1].

    Returns
    -------
    Figure
        One panel per image, pixels square (``scaleanchor``), first row on
        top; the axes draw no lines, grid, zero lines or ticks
        (:data:`IMAGE_AXIS`).
    """
    panels = ([image_title] if image is not None else []) + list(maps)
    fig = make_subplots(
        rows=1,
        cols=len(panels),
        subplot_titles=[label(p) for p in panels],
        horizontal_spacing=0.01,
    )
    col = 1
    if image is not None:
        if image.ndim == 3:
            fig.add_trace(go.Image(z=np.clip(image, 0, 1) * 255), 1, 1)
        else:
            fig.add_trace(
                go.Heatmap(z=image, colorscale="gray_r", showscale=False), 1, 1
            )
        col = 2
    for i, (name, m) in enumerate(maps.items()):
        fig.add_trace(
            go.Heatmap(
                z=m,
                zmin=0,
                zmax=1,
                colorscale=MAP_COLOURS,
                showscale=i == len(maps) - 1,
                name=label(name),
                hovertemplate="row %{y}, col %{x}: %{z:.2f}<extra></extra>",
            ),
            1,
            col + i,
        )
    # An image panel has no axes to read: without this the default template
    # draws axis lines, zero lines, grid lines and ticks across the pixels.
    fig.update_xaxes(IMAGE_AXIS)
    fig.update_yaxes(IMAGE_AXIS, autorange="reversed", scaleanchor="x")
    for j in range(2, len(panels) + 1):
        fig.update_yaxes(scaleanchor=f"x{j}", row=1, col=j)
    fig.update_layout(
        height=260, margin=dict(l=10, r=10, t=40, b=10), plot_bgcolor="white"
    )
    return fig


def features_figure(
    maps: dict[str, np.ndarray], feature_names: list[str], top: int = 20
) -> go.Figure:
    """Tabular maps: methods × the ``top`` features with the largest mean value."""
    names = list(maps)
    z = np.stack([np.asarray(maps[n]).reshape(-1) for n in names])
    keep = np.argsort(-z.mean(0), kind="stable")[:top]
    fig = go.Figure(
        go.Heatmap(
            z=z[:, keep],
            x=[label(feature_names[j]) for j in keep],
            y=[label(n) for n in names],
            zmin=0,
            zmax=1,
            colorscale=MAP_COLOURS,
            colorbar=dict(title="relevance"),
        )
    )
    # The method and feature names stand outside the plot: the margins grow to
    # hold them (fixed 10 px margins cut them off).
    fig.update_xaxes(automargin=True, tickangle=-45)
    fig.update_yaxes(automargin=True, autorange="reversed")  # first method on top
    fig.update_layout(height=220 + 28 * len(names), margin=dict(l=10, r=10, t=30, b=10))
    return fig


def curves_figure(df: pd.DataFrame) -> go.Figure:
    """Deletion, insertion and rate–distortion curves, mean over examples."""
    fig = make_subplots(
        rows=1,
        cols=len(CURVES),
        subplot_titles=[f"{c} ({BETTER[c]} is better)" for c in CURVES],
    )
    colours = qualitative.Dark24
    mean = df.groupby(["method", "curve", "fraction"], sort=False)["value"].mean()
    for i, method in enumerate(dict.fromkeys(df["method"])):
        for j, curve in enumerate(CURVES, start=1):
            s = mean.loc[(method, curve)]
            fig.add_trace(
                go.Scatter(
                    x=s.index,
                    y=s.values,
                    mode="lines",
                    name=label(method),
                    legendgroup=label(method),
                    showlegend=j == 1,
                    line=dict(color=colours[i % len(colours)]),
                ),
                1,
                j,
            )
    fig.update_xaxes(title_text="fraction of features (by relevance)")
    fig.update_yaxes(title_text="target probability", col=1)
    fig.update_yaxes(title_text="distortion D", col=3)
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=40, b=10))
    return fig


STUDY = {
    "caso_cafo_difference": "‖CASO − CAFO‖ (normalised)",
    "rank1_error": "rank-one relative error of H",
    "cosine": "|cos(top eigenvector, gradient)|",
}


def hessian_study_figure(stats: pd.DataFrame) -> go.Figure:
    """The three study quantities against the predicted probability."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=list(STUDY.values()))
    models = list(dict.fromkeys(stats["model"])) if "model" in stats else [None]
    for i, m in enumerate(models):
        part = stats if m is None else stats[stats["model"] == m]
        for j, col in enumerate(STUDY, start=1):
            fig.add_trace(
                go.Scatter(
                    x=part["probability"],
                    y=part[col],
                    mode="markers",
                    marker=dict(size=5, opacity=0.6, color=qualitative.D3[i % 10]),
                    name=label(m or "examples"),
                    legendgroup=label(m or "examples"),
                    showlegend=j == 1,
                ),
                1,
                j,
            )
    fig.update_xaxes(title_text="predicted probability", range=[0, 1.01])
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=40, b=10))
    return fig
