"""The Neural LASSO tables that the CLI and the dashboard both show."""

from __future__ import annotations

import numpy as np
import pytest

from core.neural_lasso import smoothness as nl_smoothness
from core.views import neural_lasso as nl_views


def test_smoothness_table_has_a_row_per_model():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    nbrs = nl_smoothness.neighbours(X)
    smooth = X.copy()
    rough = rng.permutation(smooth)
    table = nl_views.smoothness_table({"a": smooth, "b": rough}, nbrs)
    assert list(table.columns) == nl_views.SMOOTHNESS_COLUMNS
    assert list(table["model"]) == ["a", "b"]
    s, rel = nl_smoothness.smoothness(smooth, nbrs)
    assert table.loc[0, "smoothness"] == pytest.approx(s)
    assert table.loc[0, "relative"] == pytest.approx(rel)
    assert table.loc[1, "mean_abs_gradient"] == pytest.approx(np.abs(rough).mean())
    assert table.loc[0, "relative"] < table.loc[1, "relative"]
    assert nl_views.smoothness_table({}, nbrs).empty
