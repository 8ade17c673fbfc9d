"""Figures of gradient panels, PCA maps and first-layer weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.figures import neural_lasso as nl_figures
from core.neural_lasso import panels as nl_panels
from core.neural_lasso import pca as nl_pca
from core.neural_lasso import weights as nl_weights
from tests.core.neural_lasso.toy import (
    NAMES,
    D,
    toy_dataset,
    toy_panels,
)


def _traces(fig: go.Figure, kind: str) -> list:
    return [t for t in fig.data if t.type == kind]


def test_gradient_panels_figure_shares_axes_and_shades_normal_ranges():
    ds, p = toy_panels()
    fig = nl_figures.gradient_panels_figure(p)
    # 2 features × 2 models × 2 classes WebGL scatters, plus band and mean lines.
    assert len(_traces(fig, "scattergl")) == 8
    assert len(_traces(fig, "scatter")) == 8
    layout = fig.layout
    assert layout.xaxis2.matches == "x" and layout.yaxis2.matches == "y"
    assert layout.xaxis4.matches == "x3" and layout.yaxis4.matches == "y3"
    rects = [s for s in layout.shapes if s.type == "rect"]
    assert len(rects) == 2  # creatinine's row only, one per model
    assert {(r.x0, r.x1) for r in rects} == {(0.6, 1.2)}
    assert {r.xref for r in rects} == {"x", "x2"}
    text = fig.to_json()
    assert "<i>sparse" not in text and "&lt;i&gt;sparse" in text
    assert "per mg/dL" in layout.yaxis.title.text
    assert "imputed left out" in layout.xaxis.title.text
    free = nl_figures.gradient_panels_figure(p, share_y=False)
    assert free.layout.xaxis2.matches == "x" and free.layout.yaxis2.matches is None


def test_gradient_panels_figure_marks_relevant_features_and_lowess():
    _, p = toy_panels(trend="lowess")
    lines = _traces(nl_figures.gradient_panels_figure(p), "scatter")
    assert len(lines) == 4 and {t.name for t in lines} == {"LOWESS"}
    _, p = toy_panels(trend="none")
    assert not _traces(nl_figures.gradient_panels_figure(p), "scatter")
    marked = p.features.assign(relevance=["the label of region 1 depends on it", ""])
    fig = nl_figures.gradient_panels_figure(
        nl_panels.GradientPanels(**{**p.__dict__, "features": marked})
    )
    titles = [a.text for a in fig.layout.annotations]
    assert "★" in titles[0] and "★" not in titles[2]


def test_pca_figures_use_symmetric_diverging_colours_and_class_symbols():
    ds = toy_dataset(n=120, imputed=False)
    coords = nl_pca.pca_coordinates(nl_pca.pca_basis(ds), ds, "test")
    n = len(ds.test)
    g = np.linspace(-1, 3, n)
    table = nl_pca.pca_table(ds, "test", coords, {"age": g, "flag": -g})
    units = {"age": "Δ per years", "flag": "Δ per unit"}
    fig = nl_figures.pca_gradient_figure(table, ["age", "flag"], units, title="t")
    traces = _traces(fig, "scattergl")
    assert len(traces) == 2
    for t in traces:
        assert t.marker.cmid == 0 and t.marker.cmin == -t.marker.cmax > -np.inf
        assert t.marker.colorscale[0][1] != t.marker.colorscale[-1][1]
    assert traces[0].marker.showscale and not traces[1].marker.showscale
    assert fig.layout.xaxis2.matches == "x"
    lo, hi = fig.layout.xaxis.range  # every example in view...
    assert lo < table["pc1"].min() and hi > table["pc1"].max()
    far = table.assign(pc1=table["pc1"].where(table.index > 0, 1e3))
    fig = nl_figures.pca_gradient_figure(far, ["age"], units, title="t")
    assert fig.layout.xaxis.range[1] < 1e3  # ...unless a few lie far out

    probs = pd.DataFrame({"a": np.linspace(0, 1, n), "b": np.full(n, 0.5)})
    table = nl_pca.pca_table(ds, "test", coords, dict(probs))
    fig = nl_figures.pca_probability_figure(
        table, ["a", "b"], ds.class_names, title="p", colorbar_title="p(died)"
    )
    traces = _traces(fig, "scattergl")
    assert len(traces) == 4
    assert {t.marker.symbol for t in traces} == {"circle", "x"}
    assert {t.marker.coloraxis for t in traces} == {"coloraxis"}
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == (0, 1)


def test_weights_heatmap_figure():
    W = {
        "plain": np.random.default_rng(0).normal(size=(3, D)),
        "sparse": np.zeros((3, D)),
    }
    W["sparse"][:, 1] = 2.0
    rows = nl_weights.weight_rows(list(W.values()), D)
    table = nl_weights.weights_table(W, NAMES, rows)
    assert list(table.columns) == ["model", "feature", "unit 0", "unit 1", "unit 2"]
    assert len(table) == 2 * D
    zeros = {k: nl_weights.zero_structure(v) for k, v in W.items()}
    fig = nl_figures.weights_heatmap_figure(table, title="W", zeros=zeros)
    heat = _traces(fig, "heatmap")
    assert len(heat) == 2 and np.shape(heat[0].z) == (D, 3)
    assert fig.layout.yaxis2.matches == "y"
    assert fig.layout.coloraxis.cmid == 0
    assert fig.layout.coloraxis.cmin == -fig.layout.coloraxis.cmax
    titles = [a.text for a in fig.layout.annotations]
    assert "0/4 feature columns" in titles[0] and "3/4 feature columns" in titles[1]
    assert "&lt;b&gt;odd" in "".join(heat[0].y)


def _ten_class_panels(n_classes: int) -> nl_panels.GradientPanels:
    """The toy gradient panels with their points spread over ``n_classes`` classes."""
    _, p = toy_panels(trend="none")
    names = tuple(f"digit {k}" for k in range(n_classes))
    points = p.points.assign(
        outcome=[names[i % n_classes] for i in range(len(p.points))]
    )
    return nl_panels.GradientPanels(
        **{**p.__dict__, "points": points, "class_names": names}
    )


def test_ten_classes_get_ten_marker_shapes_and_the_legend_warns_beyond():
    fig = nl_figures.gradient_panels_figure(_ten_class_panels(10))
    first_panel = [t for t in _traces(fig, "scattergl") if t.xaxis == "x"]
    assert len(first_panel) == 10
    assert len({t.marker.symbol for t in first_panel}) == 10
    assert not fig.layout.legend.title.text

    ds = toy_dataset(n=120, imputed=False)
    coords = nl_pca.pca_coordinates(nl_pca.pca_basis(ds), ds, "test")
    n = len(ds.test)
    table = nl_pca.pca_table(ds, "test", coords, {"a": np.linspace(0, 1, n)})
    table["class"] = np.arange(len(table)) % 10
    names = [f"digit {k}" for k in range(10)]
    fig = nl_figures.pca_probability_figure(
        table, ["a"], names, title="p", colorbar_title="p(7)"
    )
    symbols = [t.marker.symbol for t in _traces(fig, "scattergl")]
    assert len(symbols) == 10 and len(set(symbols)) == 10
    assert not fig.layout.legend.title.text

    many = len(nl_figures.CLASS_SYMBOLS) + 1
    fig = nl_figures.gradient_panels_figure(_ten_class_panels(many))
    first_panel = [t for t in _traces(fig, "scattergl") if t.xaxis == "x"]
    assert len({t.marker.symbol for t in first_panel}) == many - 1
    assert "shapes repeat after 24 classes" in fig.layout.legend.title.text
