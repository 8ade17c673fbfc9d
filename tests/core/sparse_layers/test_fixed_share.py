"""The share of errors fixed by zeroing one feature, sparse beside dense."""

from __future__ import annotations

import numpy as np
import pytest

from core.sparse_layers.debugging.decision_layer import DecisionLayer
from core.sparse_layers.debugging.misclassifications import (
    fixed_share_table,
    misclassification_summary,
    misclassifications,
)
from core.training.metrics import wilson_interval


def layer(name: str, W, b) -> DecisionLayer:
    W = np.asarray(W, dtype=float)
    return DecisionLayer(
        name, W, np.asarray(b, float), np.zeros(W.shape[1]), np.ones(W.shape[1]),
        ("a", "b"),
    )  # fmt: skip


def test_one_feature_fixes_by_hand():
    # Class 1 when z0 + z1 > 0.5 (dense) or z0 > 0.5 (sparse); every input is
    # class 0. Input 0 (2, -1): both wrong; its top γ is feature 0, and zeroing
    # it fixes both. Input 1 (1, 1): both wrong; dense's top γ ties (feature
    # 0, the first), zeroing it leaves z1 = 1 > 0.5: not fixed; sparse's is
    # fixed. Input 2 (-1, 0): both right.
    H = np.array([[2.0, -1.0], [1.0, 1.0], [-1.0, 0.0]])
    y = np.zeros(3, dtype=int)
    dense = layer("dense", [[-0.5, -0.5], [0.5, 0.5]], [0.25, -0.25])
    sparse = layer("sparse", [[-0.5, 0.0], [0.5, 0.0]], [0.25, -0.25])
    table = fixed_share_table([sparse, dense], H, y)
    assert table.layer.tolist() == ["sparse", "dense"]
    assert table.errors.tolist() == [2, 2] and table.examples.tolist() == [3, 3]
    assert table.fixed.tolist() == [2, 1]
    assert table["share fixed"].tolist() == [1.0, 0.5]
    lo, hi = wilson_interval(1, 2)
    assert table["95% CI"].iloc[1] == f"{lo:.3f}–{hi:.3f}"


def test_agrees_with_each_layers_summary_and_marks_no_errors():
    rng = np.random.default_rng(0)
    H, y = rng.standard_normal((60, 4)), rng.integers(0, 2, 60)
    layers = [
        layer("sparse", [[1.0, 0, 0, 0], [-1.0, 0, 0, 0]], [0, 0]),
        layer("dense", rng.standard_normal((2, 4)), [0, 0]),
    ]
    table = fixed_share_table(layers, H, y)
    for (_, row), lay in zip(table.iterrows(), layers, strict=True):
        s = misclassification_summary(misclassifications(lay, H, y)[0], len(y))
        assert (row.errors, row.fixed) == (s["errors"], s["fixed_by_top_feature"])
        assert row["share fixed"] == pytest.approx(s["share_fixed"])
    perfect = layer("perfect", [[-1.0, 0, 0, 0], [1.0, 0, 0, 0]], [0, 0])
    right = (H[:, 0] > 0).astype(int)
    none = fixed_share_table([perfect], H, right).iloc[0]
    assert none.errors == 0 and np.isnan(none["share fixed"]) and none["95% CI"] == "—"
