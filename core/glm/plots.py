"""Figures of a regularisation path: coefficient paths and the sparsity trade-off."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from core.glm.result import ElasticNetPath
from core.glm.selection import entry_order

#: Coefficient paths draw at most this many features (the first to enter).
MAX_LINES = 40


def _mark(fig: go.Figure, x: float, text: str, dash: str) -> None:
    fig.add_vline(x=x, line_dash=dash, line_color="grey", annotation_text=text)


def coefficient_path_figure(
    path: ElasticNetPath, output: int, *, selected: int, current: int, title: str
) -> go.Figure:
    """Coefficient vs log10 λ for one output, one line per feature that enters,
    coloured by entry order (early = dark)."""
    entry = entry_order(path)[output]
    entered = np.flatnonzero(entry < len(path))
    order = entered[np.argsort(entry[entered], kind="stable")][:MAX_LINES]
    x = np.log10(path.lambdas)
    colours = sample_colorscale("Viridis", np.linspace(0, 0.9, max(len(order), 1)))
    fig = go.Figure()
    for rank, j in enumerate(order):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=path.coef[:, output, j],
                mode="lines",
                name=path.feature_names[j],
                line={"color": colours[rank], "width": 1.5},
                hovertemplate=f"{path.feature_names[j]} (entered {rank + 1}.)"
                "<br>log10 λ %{x:.2f}<br>weight %{y:.4f}<extra></extra>",
            )
        )
    _mark(fig, x[selected], "selected", "dash")
    _mark(fig, x[current], "slider", "dot")
    shown = f"first {len(order)} of {len(entered)}" if len(entered) > len(order) else ""
    fig.update_layout(
        title=f"{title} {shown}".strip(),
        xaxis={"title": "log10 λ", "autorange": "reversed"},
        yaxis_title="weight (standardised features)",
        showlegend=len(order) <= 15,
        height=450,
    )
    return fig


def tradeoff_figure(
    path: ElasticNetPath,
    test_accuracy: np.ndarray,
    *,
    selected: int,
    current: int,
    title: str,
) -> go.Figure:
    """Accuracy (train, validation, test) against the number of features used."""
    d = path.diagnostics
    n = path.active_features
    fig = go.Figure()
    for label, acc in (
        ("train", d["train_accuracy"]),
        ("validation", d["val_accuracy"]),
        ("test", test_accuracy),
    ):
        if np.all(np.isnan(acc)):
            continue
        fig.add_trace(
            go.Scatter(
                x=n,
                y=acc,
                mode="lines+markers",
                name=label,
                marker={"size": 4},
                customdata=path.lambdas,
                hovertemplate="%{x} features<br>accuracy %{y:.3f}"
                "<br>λ %{customdata:.3g}<extra>" + label + "</extra>",
            )
        )
    _mark(fig, n[selected], "selected", "dash")
    _mark(fig, n[current], "slider", "dot")
    fig.update_layout(
        title=title,
        xaxis={"title": "features used (any class)", "type": "log"},
        yaxis_title="accuracy",
        height=400,
    )
    return fig
