"""What the Saliency lab page computes, without Streamlit."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from core.saliency.lab import dataset_image_shape


def _dataset(images):
    return SimpleNamespace(test=SimpleNamespace(images=images))


def test_the_dataset_image_shape_comes_from_its_images_not_from_a_model():
    grey = np.zeros((5, 8, 6), dtype=np.uint8)
    colour = np.zeros((5, 4, 3, 3), dtype=np.uint8)
    assert dataset_image_shape(_dataset(grey)) == (8, 6, 1)
    assert dataset_image_shape(_dataset(colour)) == (4, 3, 3)
    assert dataset_image_shape(_dataset(None)) is None
