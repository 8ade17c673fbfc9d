"""Plotly figures that describe a dataset; no Streamlit here.

Text from data (class names, feature names, units) passes through
:func:`core.figures.style.label` before it reaches a figure.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.data.access import original_units, sample_indices, split_of
from core.data.types import Dataset
from core.figures.style import NORMAL_RANGE_COLOR, label

#: Features with at most this many distinct values get one bar per value.
MAX_DISCRETE_VALUES = 20


def class_balance_figure(ds: Dataset) -> go.Figure:
    """Grouped bars: examples of each class in each split.

    Returns
    -------
    Figure
        One bar trace per class (in ``ds.class_names`` order), x = split name,
        y = count; the share of the split is printed on each bar.
    """
    splits = list(ds.splits)
    counts = np.array(
        [
            np.bincount(np.asarray(s.y), minlength=ds.n_classes)[: ds.n_classes]
            for s in ds.splits.values()
        ]
    )  # (n_splits, n_classes)
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    fig = go.Figure()
    for k, cls in enumerate(ds.class_names):
        fig.add_trace(
            go.Bar(
                x=splits,
                y=counts[:, k],
                name=label(cls),
                text=[f"{p:.1%}" for p in share[:, k]],
                textposition="auto",
            )
        )
    fig.update_layout(
        barmode="group",
        title=f"Class balance of {label(ds.name)}",
        xaxis_title="split",
        yaxis_title="examples",
        legend_title="class",
    )
    return fig


def _feature_index(ds: Dataset, feature: str) -> int:
    try:
        return ds.feature_names.index(feature)
    except ValueError:
        close = difflib.get_close_matches(feature, ds.feature_names, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValueError(
            f"Dataset {ds.name!r} has no feature {feature!r}.{hint}"
        ) from None


def _bins(values: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bar positions, widths and the bin edges used to count ``values``."""
    uniq = np.unique(values)
    if 0 < uniq.size <= MAX_DISCRETE_VALUES:
        # One bar per distinct value (binary, one-hot, small counts).
        gap = np.diff(uniq).min() if uniq.size > 1 else 1.0
        mids = np.concatenate([(uniq[:-1] + uniq[1:]) / 2, [uniq[-1] + gap]])
        edges = np.concatenate([[uniq[0] - gap], mids])
        return uniq, np.full(uniq.size, 0.8 * gap), edges
    edges = np.histogram_bin_edges(values, bins=bins)
    return (edges[:-1] + edges[1:]) / 2, np.diff(edges), edges


def feature_distribution_figure(
    ds: Dataset, feature: str, split: str = "train", bins: int = 40
) -> go.Figure:
    """Per-class histogram of one feature in original units.

    Parameters
    ----------
    ds : Dataset
    feature : str
        A name from ``ds.feature_names``.
    split : {"train", "val", "test"}
    bins : int
        Number of bins for features with many distinct values.

    Returns
    -------
    Figure
        One bar trace per class holding the share of that class's (finite)
        values in each bin, overlaid; the feature's normal range, if it has
        one, is shaded with a labelled ``vrect``; the x axis names the unit.

    Raises
    ------
    ValueError
        Unknown feature or split, or a dataset without a feature matrix.
    """
    j = _feature_index(ds, feature)
    x = original_units(ds, split)[:, j]
    y = np.asarray(split_of(ds, split).y)
    ok = np.isfinite(x)
    unit = ds.units.get(feature, "")
    fig = go.Figure(_class_histograms(x[ok], y[ok], ds.class_names, bins))
    rng = ds.normal_ranges.get(feature)
    if rng is not None:
        _shade_normal_range(fig, *(float(v) for v in rng), unit)
    missing = int((~ok).sum())
    note = f", {missing} missing values left out" if missing else ""
    fig.update_layout(
        barmode="overlay",
        title=f"{label(feature)} by class ({split}{note})",
        xaxis_title=f"{label(feature)} ({label(unit)})" if unit else label(feature),
        yaxis_title="share of class",
        yaxis_tickformat=".0%",
        legend_title="class",
    )
    return fig


def _class_histograms(
    x: np.ndarray, y: np.ndarray, class_names: Sequence[str], bins: int
) -> list[go.Bar]:
    """One bar trace per class: the share of its values in each (shared) bin."""
    if not x.size:
        return []
    centers, widths, edges = _bins(x, bins)
    traces = []
    for k, cls in enumerate(class_names):
        xk = x[y == k]
        counts, _ = np.histogram(xk, bins=edges)
        share = counts / xk.size if xk.size else counts.astype(float)
        traces.append(
            go.Bar(
                x=centers,
                y=share,
                width=widths,
                name=f"{label(cls)} (n={xk.size})",
                opacity=0.6,
            )
        )
    return traces


def _shade_normal_range(fig: go.Figure, low: float, high: float, unit: str) -> None:
    """A labelled band behind the bars from ``low`` to ``high``."""
    fig.add_vrect(
        x0=low,
        x1=high,
        fillcolor=NORMAL_RANGE_COLOR,
        opacity=0.15,
        line_width=0,
        layer="below",
        annotation_text=f"normal range {low:g}–{high:g} {label(unit)}".strip(),
        annotation_position="top left",
    )


def image_grid_figure(
    ds: Dataset, split: str = "train", n: int = 16, seed: int = 0, cols: int = 8
) -> go.Figure:
    """A seeded random sample of images, each titled with its class name.

    Parameters
    ----------
    ds : Dataset
        With images of shape (n_samples, H, W) or (n_samples, H, W, 3), uint8.
    split : {"train", "val", "test"}
    n : int
        Images to show (fewer if the split is smaller).
    seed : int
    cols : int
        Images per row.

    Returns
    -------
    Figure
        One ``go.Image`` trace per image (grey images repeated to RGB).

    Raises
    ------
    ValueError
        The dataset holds no images, or ``split`` is not a split name.
    """
    s = split_of(ds, split)
    if s.images is None:
        raise ValueError(f"Dataset {ds.name!r} holds no images ({ds.modality} data).")
    if cols < 1:
        raise ValueError(f"cols must be at least 1, got {cols}")
    idx = sample_indices(len(s), n, seed)
    cols = max(1, min(cols, idx.size))
    rows = max(1, math.ceil(idx.size / cols))
    titles = [label(ds.class_names[int(s.y[i])]) for i in idx]
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=titles,
        horizontal_spacing=0.01,
        vertical_spacing=min(0.08, 1 / max(rows - 1, 1)),
    )
    for k, i in enumerate(idx):
        img = np.asarray(s.images[i])
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        fig.add_trace(
            go.Image(z=img, name=f"id {s.ids[i]}", hoverinfo="name"),
            row=k // cols + 1,
            col=k % cols + 1,
        )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_annotations(font_size=11)
    fig.update_layout(
        title=f"{idx.size} sample images from {label(ds.name)} ({split})",
        height=140 * rows + 80,
        margin={"l": 10, "r": 10, "t": 70, "b": 10},
    )
    return fig
