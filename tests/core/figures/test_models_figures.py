"""The stored-model comparison figure."""

from __future__ import annotations

import pytest

from core.figures.models import COMPARED_METRICS, model_comparison_figure
from tests.core.views.tiny import (
    SCRIPT,
    model_card,
)


def test_model_comparison_figure():
    cards = [
        model_card("a", metrics={"auc": 0.9, "theta_l1": 10.0, "d_eff": 3.0}),
        model_card(SCRIPT, metrics={"auc": 0.8}),
    ]
    fig = model_comparison_figure(cards)
    assert [t.type for t in fig.data] == ["bar"] * len(COMPARED_METRICS)
    auc, theta, _ = fig.data
    assert list(auc.x) == [0.9, 0.8] and list(auc.y)[0] == "a"
    assert list(theta.text) == ["10", "n/a"]
    assert list(auc.marker.color) == list(theta.marker.color)  # a colour per model
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["AUC", "‖θ‖₁", "D_eff"]
    assert not any("<" in y for y in auc.y)  # model IDs are escaped
    with pytest.raises(ValueError, match="at least one model"):
        model_comparison_figure([])
