"""Dataset figures: class balance, distributions, image grids, escaping."""

from __future__ import annotations

import numpy as np
import pytest

from core.data import Dataset
from core.figures import data as data_figures
from core.figures.style import label
from tests.core.views.tiny import (
    HIGH,
    LOW,
    SCRIPT,
    text_only,
    tiny_dataset,
)


@pytest.fixture
def tiny() -> Dataset:
    return tiny_dataset()


def test_class_balance_figure(tiny):
    fig = data_figures.class_balance_figure(tiny)
    assert [t.type for t in fig.data] == ["bar", "bar"]
    assert list(fig.data[0].x) == ["train", "val", "test"]
    total = sum(np.sum(t.y) for t in fig.data)
    assert total == 60


def test_distribution_figure_shades_the_normal_range(tiny):
    fig = data_figures.feature_distribution_figure(tiny, "glucose")
    assert len(fig.data) == tiny.n_classes
    for trace in fig.data:
        assert np.sum(trace.y) == pytest.approx(1.0)  # share of its class
    (rect,) = fig.layout.shapes
    assert (rect.type, rect.x0, rect.x1) == ("rect", LOW, HIGH)
    assert any("normal range" in a.text for a in fig.layout.annotations)
    assert "mg/dL" in fig.layout.xaxis.title.text


def test_distribution_figure_without_range_or_with_bad_name(tiny):
    fig = data_figures.feature_distribution_figure(tiny, "sex=F", split="test")
    assert not fig.layout.shapes
    assert len(fig.data[0].x) == 2  # a binary column gets one bar per value
    with pytest.raises(ValueError, match="Did you mean glucose"):
        data_figures.feature_distribution_figure(tiny, "glucos")


@pytest.mark.parametrize("rgb", [False, True])
def test_image_grid_figure(rgb):
    ds = tiny_dataset(images_rgb=rgb)
    fig = data_figures.image_grid_figure(ds, "val", n=5, seed=0, cols=3)
    assert [t.type for t in fig.data] == ["image"] * 5
    assert np.asarray(fig.data[0].z).shape == (4, 5, 3)
    titles = [a.text for a in fig.layout.annotations]
    assert len(titles) == 5 and set(titles) <= set(ds.class_names)


def test_image_grid_needs_images(tiny):
    with pytest.raises(ValueError, match="holds no images"):
        data_figures.image_grid_figure(text_only(tiny))


def test_text_from_data_is_escaped_in_figures():
    ds = tiny_dataset(class_names=(SCRIPT, "<b>bold</b>"))
    for fig in (
        data_figures.class_balance_figure(ds),
        data_figures.feature_distribution_figure(ds, "glucose"),
        data_figures.image_grid_figure(ds, n=8),
    ):
        texts = [t.name for t in fig.data] + [a.text for a in fig.layout.annotations]
        texts = [t for t in texts if t]
        assert not any("<" in t for t in texts), texts
        assert any("&lt;script&gt;" in t for t in texts)
    assert label(SCRIPT) == "&lt;script&gt;alert(1)&lt;/script&gt;"
