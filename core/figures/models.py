"""Plotly figures that compare stored models; no Streamlit here."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from core.figures.style import label
from core.training.metrics import METRIC_LABELS

if TYPE_CHECKING:  # the store imports torch; figures only read cards
    from core.training.store import ModelCard

#: Metrics :func:`model_comparison_figure` shows, one panel each.
COMPARED_METRICS = ("auc", "theta_l1", "d_eff")


def model_comparison_figure(
    cards: Sequence[ModelCard], metrics: Sequence[str] = COMPARED_METRICS
) -> go.Figure:
    """Stored models side by side: one panel of horizontal bars per metric.

    Parameters
    ----------
    cards : sequence of ModelCard
        The models to compare, top to bottom in this order.
    metrics : sequence of str
        Keys of ``card.metrics``; a model without a metric gets no bar and
        "n/a" as its text.

    Returns
    -------
    Figure
        One ``go.Bar`` trace per metric (``orientation="h"``, y = model IDs,
        x = values), the panels sharing the y axis; each model keeps one
        colour across panels.

    Raises
    ------
    ValueError
        No cards, or no metrics.
    """
    if not cards or not metrics:
        raise ValueError(
            f"Need at least one model and one metric; got {len(cards)} models "
            f"and {len(metrics)} metrics"
        )
    ids = [label(c.model_id) for c in cards]
    palette = qualitative.Plotly
    colors = [palette[i % len(palette)] for i in range(len(cards))]
    fig = make_subplots(
        rows=1,
        cols=len(metrics),
        shared_yaxes=True,
        subplot_titles=[label(METRIC_LABELS.get(m, m)) for m in metrics],
        horizontal_spacing=0.04,
    )
    for j, metric in enumerate(metrics):
        values = [float(c.metrics.get(metric, math.nan)) for c in cards]
        fig.add_trace(
            go.Bar(
                x=values,
                y=ids,
                orientation="h",
                name=label(METRIC_LABELS.get(metric, metric)),
                marker_color=colors,
                text=["n/a" if math.isnan(v) else f"{v:.3g}" for v in values],
                textposition="auto",
                showlegend=False,
            ),
            row=1,
            col=j + 1,
        )
    fig.update_yaxes(autorange="reversed")  # first model on top
    fig.update_layout(
        title=f"{len(cards)} stored models compared",
        height=140 + 36 * len(cards),
        margin={"l": 10, "r": 10, "t": 80, "b": 30},
    )
    return fig
