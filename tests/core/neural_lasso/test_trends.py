"""Binned and LOWESS trends."""

from __future__ import annotations

import numpy as np
import pytest

from core.neural_lasso import trends as nl_trends


def test_binned_trend_and_lowess():
    x = np.repeat([0.0, 1.0, 2.0], 4)
    y = np.array([1, 2, 3, 4, 5, 5, 5, 5, -1, 0, 1, 2], dtype=float)
    t = nl_trends.binned_trend(x, y, min_count=1)
    assert list(t["x"]) == [0, 1, 2] and list(t["mean"]) == [2.5, 5, 0.5]
    assert list(t["n"]) == [4, 4, 4] and list(t["q25"]) == [1.75, 5, -0.25]
    sparse = nl_trends.binned_trend(np.append(x, 9.0), np.append(y, 100.0))
    assert list(sparse["x"]) == [] and nl_trends.binned_trend(x, y).empty
    padded = nl_trends.binned_trend(np.append(x, [9.0] * 5), np.append(y, [1.0] * 5))
    assert list(padded["x"]) == [9.0]
    rng = np.random.default_rng(0)
    xs = rng.uniform(-3, 3, 500)
    t = nl_trends.binned_trend(xs, 2 * xs, bins=10)
    assert len(t) == 10 and np.all(np.diff(t["x"]) > 0)
    # Local linear regression reproduces a straight line exactly.
    fit = nl_trends.lowess(xs, 1.5 - 2 * xs, frac=0.2)
    np.testing.assert_allclose(fit["fit"], 1.5 - 2 * fit["x"], atol=1e-9)
    assert len(fit) == 50
    with pytest.raises(ValueError, match="frac"):
        nl_trends.lowess(xs, xs, frac=0)


def test_trend_line_names_its_columns_alike_for_both_methods():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, 200)
    binned = nl_trends.trend_line(x, x, "binned")
    smooth = nl_trends.trend_line(x, x, "lowess")
    assert list(binned.columns) == list(smooth.columns) == ["x", "mean", "q25", "q75"]
    assert smooth[["q25", "q75"]].isna().all().all()
    assert binned[["q25", "q75"]].notna().all().all()
    with pytest.raises(ValueError, match="method"):
        nl_trends.trend_line(x, x, "none")
