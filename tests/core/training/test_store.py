"""Model store: round trip, atomicity, and refusal of tampered files."""

from __future__ import annotations

import json

import pytest
import torch

from core.errors import ModelStoreError, UnknownNameError
from core.training.models import build_model
from core.training.store import (
    CARD,
    WEIGHTS,
    delete_model,
    find_model,
    list_models,
    load_model,
    save_model,
)

KW = {"n_features": 7, "n_classes": 2, "hidden": [5, 3], "dropout": 0.2}


def _stored(model_id="m1", **extra):
    torch.manual_seed(0)
    model = build_model("mlp", **KW)
    return model, save_model(
        model,
        dataset="synthetic",
        architecture="mlp",
        arch_kwargs=KW,
        penalty="grad_l1",
        strength=0.5,
        seed=3,
        metrics={"auc": 0.9, "d_eff": 2.5},
        model_id=model_id,
        **extra,
    )


def test_round_trip_gives_identical_outputs_and_card():
    model, stored = _stored()
    loaded, card = load_model("m1")
    x = torch.randn(4, 7)
    model.eval()
    torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)
    assert card.penalty == "grad_l1" and card.strength == 0.5 and card.seed == 3
    assert card.metrics == {"auc": 0.9, "d_eff": 2.5}
    assert card.versions["torch"] == torch.__version__
    assert len(card.sha256) == 64 and card.created
    assert not loaded.training


def test_listing_filters_by_dataset():
    _stored("a")
    _stored("b")
    assert {m.card.model_id for m in list_models("synthetic")} == {"a", "b"}
    assert list_models("adult") == []


def test_tampered_weights_are_refused():
    _, stored = _stored()
    weights = stored.path / WEIGHTS
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelStoreError, match="do not match the hash"):
        load_model("m1")


def test_truncated_weights_are_refused_even_with_a_matching_hash():
    _, stored = _stored()
    weights = stored.path / WEIGHTS
    weights.write_bytes(weights.read_bytes()[:50])
    card = json.loads((stored.path / CARD).read_text())
    from core.data.fetch import file_digest

    card["sha256"] = file_digest(weights)
    (stored.path / CARD).write_text(json.dumps(card))
    with pytest.raises(ModelStoreError, match="Cannot read weights"):
        load_model("m1")


def test_corrupt_card_is_refused_and_skipped_in_listing():
    _, stored = _stored()
    (stored.path / CARD).write_text("{not json")
    with pytest.raises(ModelStoreError, match="not valid JSON"):
        load_model(stored.path)
    with pytest.warns(UserWarning, match="Skipping stored model"):
        assert list_models() == []


def test_failed_write_leaves_nothing(monkeypatch, tmp_path):
    import core.training.store as store_mod

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store_mod, "save_file", boom)
    with pytest.raises(OSError, match="disk full"):
        _stored(store=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_bad_ids_and_duplicates_and_unknown_names():
    with pytest.raises(ValueError, match="must start with"):
        _stored("../escape")
    _stored("dup")
    with pytest.raises(ValueError, match="already exists"):
        _stored("dup")
    with pytest.raises(UnknownNameError, match="No stored model"):
        find_model("nope")


def test_non_finite_weights_are_not_stored():
    model = build_model("mlp", **KW)
    with torch.no_grad():
        model[0].weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        save_model(model, dataset="synthetic", architecture="mlp", arch_kwargs=KW)
    assert list_models() == []


def test_loading_never_unpickles(monkeypatch):
    _stored()
    import pickle

    def forbidden(*args, **kwargs):
        raise AssertionError("unpickling attempted")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    load_model("m1")


def test_delete_removes_a_user_model_but_never_a_shipped_one(monkeypatch, tmp_path):
    _stored("gone")
    delete_model("gone")
    assert list_models() == []
    with pytest.raises(UnknownNameError):
        delete_model("gone")
    import core.training.store as store_mod

    monkeypatch.setattr(store_mod, "SHIPPED_DIR", tmp_path)
    _stored("keep", store=tmp_path)
    with pytest.raises(ValueError, match="shipped"):
        delete_model("keep")
    assert find_model("keep").shipped
