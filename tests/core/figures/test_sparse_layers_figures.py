"""Sparse-layer figures: the path's marks stand where their data say; the
debugging figures draw what their tables hold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.figures import sparse_layers as figures
from core.sparse_layers.glm import elastic_net_path


@pytest.fixture(scope="module")
def path():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 8))
    y = (X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.standard_normal(200) > 0).astype(int)
    return elastic_net_path(X, y, n_lambdas=12, eps=1e-2, validation=(X, y))


def _marks(fig):
    """(line x, label x, label anchor, label text) per mark, in drawing order."""
    lines = [shape.x0 for shape in fig.layout.shapes]
    labels = [(a.x, a.xanchor, a.text) for a in fig.layout.annotations]
    assert len(lines) == len(labels)
    return [(x, *label) for x, label in zip(lines, labels, strict=True)]


def test_tradeoff_marks_label_the_line_on_the_log_axis(path):
    """plotly places add_vline's own label at 10^x on a log axis; ours at x."""
    n = path.active_features
    selected, current = 3, 8
    fig = figures.tradeoff_figure(
        path,
        path.diagnostics["val_accuracy"],
        selected=selected,
        current=current,
        title="t",
    )
    assert fig.layout.xaxis.type == "log"
    ticks = fig.layout.xaxis.tickvals
    assert ticks[:3] == (1, 2, 5) and ticks[-2] < n.max() <= ticks[-1]
    marks = _marks(fig)
    assert [m[3] for m in marks] == ["selected", "slider"]
    for (line, label, _, _), index in zip(marks, (selected, current), strict=True):
        assert line == n[index]
        assert 10**label == pytest.approx(n[index])


def test_tradeoff_marks_the_size_rule_beside_the_accuracy_rule(path):
    n = path.active_features
    selected, current, sized = 3, 8, 6
    fig = figures.tradeoff_figure(
        path,
        path.diagnostics["val_accuracy"],
        selected=selected,
        current=current,
        title="t",
        by_size=sized,
        by_size_label="≤ 2 per class",
    )
    marks = _marks(fig)
    assert [m[3] for m in marks] == ["selected", "slider", "≤ 2 per class"]
    line, label, _, _ = marks[2]
    assert line == n[sized] and 10**label == pytest.approx(n[sized])
    # Its label sits on a line above the other two, which may stand at its x.
    shifts = [a.yshift or 0 for a in fig.layout.annotations]
    assert shifts[2] > max(shifts[:2])


def test_coefficient_marks_label_the_line(path):
    x = np.log10(path.lambdas)
    fig = figures.coefficient_path_figure(path, 0, selected=2, current=5, title="t")
    for (line, label, _, _), index in zip(_marks(fig), (2, 5), strict=True):
        assert line == label == pytest.approx(x[index])


def test_marks_at_one_lambda_stay_apart(path):
    fig = figures.coefficient_path_figure(path, 0, selected=4, current=4, title="t")
    assert {anchor for _, _, anchor, _ in _marks(fig)} == {"left", "right"}


def test_no_mark_where_no_feature_is_used(path):
    """λ_max uses no feature: a log axis has no place for it, nor for its mark."""
    assert path.active_features[0] == 0
    fig = figures.tradeoff_figure(
        path, path.diagnostics["val_accuracy"], selected=0, current=6, title="t"
    )
    assert [m[3] for m in _marks(fig)] == ["slider"]


def test_word_cloud_image_sizes_words_and_skips_an_empty_side():
    cloud = pd.DataFrame({"word": ["great", "fine", "zero"], "weight": [2.0, -1.0, 0]})
    image = figures.word_cloud_image(cloud, colormap="Greens", width=200, height=100)
    assert image.size == (200, 100)
    empty = pd.DataFrame({"word": ["zero"], "weight": [0.0]})
    assert figures.word_cloud_image(empty, colormap="Reds") is None


def test_bias_probe_figure_has_a_bar_per_layer_with_its_intervals():
    table = pd.DataFrame(
        {
            "layer": ["sparse", "sparse", "dense", "dense"],
            "class": ["<b>neg</b>", "pos", "<b>neg</b>", "pos"],
            "flip_rate": [0.5, 0.1, 0.25, 0.0],
            "ci_low": [0.3, 0.0, 0.1, 0.0],
            "ci_high": [0.7, 0.3, 0.5, 0.2],
        }
    )
    fig = figures.bias_probe_figure(table)
    bars = {bar.name: bar for bar in fig.data}
    assert set(bars) == {"sparse", "dense"}
    sparse = bars["sparse"]
    assert list(sparse.x) == ["&lt;b&gt;neg&lt;/b&gt;", "pos"]  # escaped for plotly
    np.testing.assert_allclose(sparse.y, [0.5, 0.1])
    np.testing.assert_allclose(sparse.error_y.array, [0.2, 0.2])
    np.testing.assert_allclose(sparse.error_y.arrayminus, [0.2, 0.1])
    assert tuple(fig.layout.yaxis.range) == (0, 1)


def test_confusion_vs_shared_figure_plots_each_pair_and_names_the_correlation():
    pairs = pd.DataFrame(
        {
            "class_i": ["a", "a", "b"],
            "class_j": ["b", "c", "c"],
            "confusion": [0.1, 0.3, 0.2],
            "shared": [1, 4, 2],
        }
    )
    corr = {"pearson": 0.5, "pearson_p": 0.04, "spearman": 0.75, "spearman_p": 0.1}
    fig = figures.confusion_vs_shared_figure(pairs, corr, "sparse")
    (points,) = fig.data
    assert list(points.x) == [1, 4, 2] and list(points.y) == [0.1, 0.3, 0.2]
    assert fig.layout.title.text == (
        "sparse layer · Pearson 0.500 (p = 0.04), Spearman 0.750 (p = 0.1) over 3 "
        "class pairs"
    )
    # Classes that share no feature (a very sparse layer): no correlation, why.
    nan = dict.fromkeys(corr, float("nan"))
    fig = figures.confusion_vs_shared_figure(pairs.assign(shared=0), nan, "sparse")
    assert fig.layout.title.text == (
        "sparse layer · no correlation: each of the 3 class pairs shares 0 features"
    )
