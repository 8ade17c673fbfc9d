"""Saliency figures: what the tabular map shows and that its labels fit."""

from __future__ import annotations

import numpy as np
import pytest

from core.figures.saliency import features_figure, maps_figure


def test_tabular_map_shows_the_top_features_with_readable_labels():
    names = [f"f{j}" for j in range(30)] + ["a<b"]
    rng = np.random.default_rng(0)
    maps = {"Saliency": rng.random(31) * 0.5, "CAFO": np.zeros(31)}
    maps["Saliency"][[30, 3]] = 1.0, 0.9
    fig = features_figure(maps, names, top=5)
    heat = fig.data[0]
    assert list(heat.y) == ["Saliency", "CAFO"]
    assert list(heat.x[:2]) == ["a&lt;b", "f3"]  # largest mean first, escaped
    assert len(heat.x) == 5 and np.asarray(heat.z).shape == (2, 5)
    # The first method on top, and margins that grow to hold the names
    # (fixed 10 px margins cut them off).
    assert fig.layout.yaxis.autorange == "reversed"
    assert fig.layout.xaxis.automargin and fig.layout.yaxis.automargin


@pytest.mark.parametrize("image", [None, np.eye(8), np.ones((8, 8, 3)) / 2])
def test_image_maps_draw_no_axis_lines_grid_zero_lines_or_ticks(image):
    rng = np.random.default_rng(0)
    maps = {"Saliency": rng.random((8, 8)), "CASO": rng.random((8, 8))}
    fig = maps_figure(maps, image)
    axes = [fig.layout[k] for k in fig.layout if k.startswith(("xaxis", "yaxis"))]
    assert len(axes) == 2 * (len(maps) + (image is not None))
    for axis in axes:
        assert axis.showline is False and axis.showgrid is False
        assert axis.zeroline is False and axis.showticklabels is False
        assert axis.ticks == ""
    ys = [a for a in axes if a.plotly_name.startswith("yaxis")]
    assert all(a.autorange == "reversed" for a in ys)  # first pixel row on top
