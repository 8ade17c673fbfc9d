"""Figures of a regularisation path: coefficient paths and the sparsity trade-off."""

from __future__ import annotations

import itertools

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from core.sparse_layers.glm.result import ElasticNetPath
from core.sparse_layers.glm.selection import entry_order

#: Coefficient paths draw at most this many features (the first to enter).
MAX_LINES = 40


def _mark(fig: go.Figure, x: float, text: str, dash: str, anchor: str) -> None:
    """A vertical line at ``x`` (data units), labelled above the plot; ``anchor``
    is the label's ``xanchor`` (``"right"``: the text ends at the line).

    The label is its own annotation: on a log axis ``add_vline``'s would stand at
    10^x (plotly.py #2580) and stretch the axis to 10^x. A log axis has no place
    for x ≤ 0 (no feature used), so no mark is drawn there, like the points.
    """
    log = fig.layout.xaxis.type == "log"
    if log and x <= 0:
        return
    fig.add_vline(x=x, line_dash=dash, line_color="grey")
    fig.add_annotation(
        x=np.log10(x) if log else x,
        y=1,
        yref="paper",
        yanchor="bottom",
        xanchor=anchor,
        text=text,
        showarrow=False,
        font={"color": "grey"},
    )


def _mark_selected_and_current(fig: go.Figure, selected: float, current: float) -> None:
    """The two labels sit on either side of their lines: readable when they meet."""
    _mark(fig, selected, "selected", "dash", "right")
    _mark(fig, current, "slider", "dot", "left")


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
    shown = f"first {len(order)} of {len(entered)}" if len(entered) > len(order) else ""
    fig.update_layout(
        title=f"{title} {shown}".strip(),
        xaxis={"title": "log10 λ", "autorange": "reversed"},
        yaxis_title="weight (standardised features)",
        showlegend=len(order) <= 15,
        height=450,
    )
    _mark_selected_and_current(fig, x[selected], x[current])
    return fig


def _one_two_five(top: int) -> list[int]:
    """1, 2, 5, 10, 20, 50, … up to the first value at or above ``top``."""
    ticks = [1]
    for step in itertools.cycle((2, 2.5, 2)):  # 1 → 2 → 5 → 10 → …
        if ticks[-1] >= top:
            return ticks
        ticks.append(round(ticks[-1] * step))


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
    fig.update_layout(
        title=title,
        xaxis={
            "title": "features used (any class)",
            "type": "log",
            # Whole numbers: plotly's own log ticks read "10 2 3" for 10, 20, 30.
            "tickvals": _one_two_five(max(int(n.max()), 1)),
        },
        yaxis_title="accuracy",
        height=400,
    )
    _mark_selected_and_current(fig, n[selected], n[current])
    return fig
