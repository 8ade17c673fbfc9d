"""First-layer weights and their all-zero rows and columns."""

from __future__ import annotations

import numpy as np
import pytest

from core.neural_lasso import weights as nl_weights
from core.training.models import build_model
from tests.core.neural_lasso.toy import (
    D,
    toy_model,
)


def test_zero_rows_and_columns_are_counted_with_a_relative_tolerance():
    W = np.arange(1.0, 21.0).reshape(4, 5)
    W[:, 2] = 0.0  # a feature column switched off (exactly)
    W[1, :] = 1e-7 * W.max()  # a hidden unit whose weights are merely tiny
    W[0, 0] = 0.0  # a single zero makes neither a zero row nor column
    z = nl_weights.zero_structure(W)
    assert z.tolerance == pytest.approx(1e-6 * 20)
    assert z.zero_features.tolist() == [2]
    assert z.zero_units.tolist() == [1]
    assert (z.n_features, z.n_units) == (5, 4)
    assert nl_weights.zero_structure(W, rel_tol=0).zero_units.tolist() == []
    table = nl_weights.zero_table({"m": z}, list("abcde"))
    assert table.loc[0, "zeroed features"] == "c"
    assert table.loc[0, "zero hidden units"] == 1
    with pytest.raises(ValueError, match="2-d"):
        nl_weights.zero_structure(np.zeros(3))


def test_first_layer_weights_and_heatmap_rows():
    model = toy_model()
    W = nl_weights.first_layer_weights(model)
    assert W.shape == (50, D)
    big = np.ones((3, 10))
    big[:, [1, 7]] = 5.0
    assert nl_weights.weight_rows([big, big], 2).tolist() == [1, 7]
    assert nl_weights.weight_rows([big], 20).tolist() == list(range(10))
    with pytest.raises(ValueError, match="fully connected"):
        nl_weights.first_layer_weights(build_model("cnn_digits"))
