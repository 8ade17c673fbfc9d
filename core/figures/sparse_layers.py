"""Figures of sparse decision layers: a regularisation path's coefficients and
sparsity trade-off, and the debugging results (word clouds, bias probe, class
confusion against shared features)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from core.figures.style import label
from core.sparse_layers.debugging.misclassifications import correlation_text
from core.sparse_layers.glm.result import ElasticNetPath
from core.sparse_layers.glm.selection import entry_order

#: Coefficient paths draw at most this many features (the first to enter).
MAX_LINES = 40


def _mark(
    fig: go.Figure, x: float, text: str, dash: str, anchor: str, row: int = 0
) -> None:
    """A vertical line at ``x`` (data units), labelled above the plot; ``anchor``
    is the label's ``xanchor`` (``"right"``: the text ends at the line), ``row``
    lifts the label by that many lines (a third mark's label clears the others).

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
        yshift=18 * row,
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
    by_size: int | None = None,
    by_size_label: str = "by size",
) -> go.Figure:
    """Accuracy (train, validation, test) against the number of features used.

    Parameters
    ----------
    path : ElasticNetPath
    test_accuracy : array of shape (K,)
    selected : int
        The λ index the validation-accuracy rule chose (mark "selected").
    current : int
        The slider's λ index (mark "slider").
    title : str
    by_size : int, optional
        A λ index chosen by size (:func:`select_by_size
        <core.sparse_layers.glm.selection.select_by_size>`), marked apart with
        ``by_size_label`` on a line of its own above the other labels.
    by_size_label : str
    """
    d = path.diagnostics
    n = path.active_features
    fig = go.Figure()
    for split, acc in (
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
                name=split,
                marker={"size": 4},
                customdata=path.lambdas,
                hovertemplate="%{x} features<br>accuracy %{y:.3f}"
                "<br>λ %{customdata:.3g}<extra>" + split + "</extra>",
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
    if by_size is not None:
        _mark(fig, n[by_size], by_size_label, "dashdot", "left", row=1)
    return fig


def word_cloud_image(
    cloud: pd.DataFrame,
    *,
    colormap: str,
    width: int = 480,
    height: int = 320,
    seed: int = 0,
):
    """A ``wordcloud`` image of one side of a feature's cloud, word size ∝ |weight|.

    Parameters
    ----------
    cloud : DataFrame
        Columns ``word`` and ``weight`` (:meth:`WordClouds.cloud
        <core.sparse_layers.debugging.lime_clouds.WordClouds.cloud>`).
    colormap : str
        A matplotlib colormap name.
    width, height : int
        Pixels.
    seed : int
        The layout's random state.

    Returns
    -------
    PIL.Image.Image or None
        None when the cloud has no words.
    """
    from wordcloud import WordCloud  # slow to import; only word-cloud pages need it

    freqs = {
        str(w): float(abs(v))
        for w, v in zip(cloud.word, cloud.weight, strict=True)
        if v != 0
    }
    if not freqs:
        return None
    wc = WordCloud(
        width=width,
        height=height,
        background_color="white",
        colormap=colormap,
        random_state=seed,
        prefer_horizontal=0.95,
        collocations=False,
    )
    return wc.generate_from_frequencies(freqs).to_image()


def bias_probe_figure(table: pd.DataFrame) -> go.Figure:
    """Flip rate per true class, one bar per layer, with 95 % Wilson intervals.

    Parameters
    ----------
    table : DataFrame
        :func:`~core.sparse_layers.debugging.bias.bias_probe`'s table: columns
        ``layer``, ``class``, ``flip_rate``, ``ci_low``, ``ci_high``.
    """
    fig = px.bar(
        table.assign(**{"class": table["class"].map(label)}),
        x="class",
        y="flip_rate",
        color="layer",
        barmode="group",
        error_y=table.ci_high - table.flip_rate,
        error_y_minus=table.flip_rate - table.ci_low,
        labels={"flip_rate": "share of correct predictions flipped"},
        title="Flip rate per true class (95 % Wilson intervals)",
    )
    fig.update_yaxes(range=[0, 1])
    return fig


def confusion_vs_shared_figure(
    pairs: pd.DataFrame, correlation: dict, layer_name: str
) -> go.Figure:
    """Confusion of each class pair against the features the pair shares.

    Parameters
    ----------
    pairs, correlation
        What :func:`confusion_vs_shared
        <core.sparse_layers.debugging.misclassifications.confusion_vs_shared>`
        returns.
    layer_name : str
        Named in the title (e.g. ``"sparse"``).
    """
    return px.scatter(
        pairs.assign(
            class_i=pairs.class_i.map(label), class_j=pairs.class_j.map(label)
        ),
        x="shared",
        y="confusion",
        hover_data=["class_i", "class_j"],
        labels={
            "shared": "features both classes use",
            "confusion": "max(C[i,j], C[j,i])",
        },
        title=f"{label(layer_name)} layer · {correlation_text(pairs, correlation)}",
    )
