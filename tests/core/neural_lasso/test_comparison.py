"""The models the Neural LASSO pages compare by default."""

from __future__ import annotations

from types import SimpleNamespace

from core.neural_lasso import comparison as nl_comparison


def _stored(model_id, penalty, architecture="mlp"):
    card = SimpleNamespace(
        model_id=model_id, penalty=penalty, architecture=architecture
    )
    return SimpleNamespace(card=card)


def test_default_models_prefer_the_papers_three_mlps():
    stored = [
        _stored("mine-grad", "grad_l1"),
        _stored("lin", "none", "linear"),
        _stored("mine-plain", "none"),
        _stored("group", "group_l1"),
        _stored("shipped-plain", "none"),
        _stored("shipped-l1", "l1_weights"),
    ]
    assert nl_comparison.default_models(stored) == [
        "mine-plain",
        "shipped-l1",
        "mine-grad",
    ]
    others = [_stored("lin", "none", "linear"), _stored("group", "group_l1")]
    assert nl_comparison.default_models(others, ["group", "gone"]) == ["group"]
    assert nl_comparison.default_models(others) == ["lin"]
    assert nl_comparison.default_models([]) == []
