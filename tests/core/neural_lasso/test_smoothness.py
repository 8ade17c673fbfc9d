"""Neighbours and the smoothness of gradient fields."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.neural_lasso import smoothness as nl_smoothness


def test_neighbours_exclude_the_example_itself_even_with_duplicates():
    X = np.array([[0.0], [0.0], [1.0], [3.0], [7.0]])
    nbrs = nl_smoothness.neighbours(X, k=2)
    assert nbrs.shape == (5, 2)
    assert all(i not in row for i, row in enumerate(nbrs))
    assert set(nbrs[0]) == {1, 2} and set(nbrs[4]) == {2, 3}
    with pytest.raises(ValueError, match="k must be"):
        nl_smoothness.neighbours(X, k=5)


def test_smoothness_is_zero_for_a_constant_field_and_grows_with_noise():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    nbrs = nl_smoothness.neighbours(X)
    constant = np.tile([0.5, -2.0, 0.0], (300, 1))
    assert nl_smoothness.smoothness(constant, nbrs)[0] == 0.0
    noise = rng.standard_normal(constant.shape)
    values = [
        nl_smoothness.smoothness(constant + s * noise, nbrs) for s in (0.01, 0.1, 1)
    ]
    assert values[0][0] < values[1][0] < values[2][0]
    # A field that varies smoothly with x beats noise of the same size.
    smooth = np.column_stack([X[:, 0], X[:, 1], X[:, 2]])
    rough = rng.permutation(smooth)
    assert (
        nl_smoothness.smoothness(smooth, nbrs)[1]
        < nl_smoothness.smoothness(rough, nbrs)[1]
    )
    # The relative number ignores the field's scale.
    s1, r1 = nl_smoothness.smoothness(smooth, nbrs)
    s2, r2 = nl_smoothness.smoothness(10 * smooth, nbrs, chunk=7)
    assert s2 == pytest.approx(10 * s1) and r2 == pytest.approx(r1)
    assert math.isnan(nl_smoothness.smoothness(np.zeros((300, 3)), nbrs)[1])
