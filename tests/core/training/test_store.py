"""Model store: round trip, atomicity, refusal of tampered files and bad cards."""

from __future__ import annotations

import json
import os
import stat
import time

import pytest
import torch

import core.training.store as store_mod
from core.errors import DataHomeError, ModelStoreError, UnknownNameError
from core.paths import models_dir
from core.training.models import build_model
from core.training.store import (
    CARD,
    WEIGHTS,
    check_can_store,
    delete_model,
    find_model,
    list_models,
    load_model,
    save_model,
    scan_models,
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
    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store_mod, "_write_weights", boom)
    with pytest.raises(ModelStoreError, match=f"Cannot write model 'm1' in {tmp_path}"):
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
    monkeypatch.setattr(store_mod, "SHIPPED_DIR", tmp_path)
    _stored("keep", store=tmp_path)
    with pytest.raises(ValueError, match="shipped"):
        delete_model("keep")
    assert find_model("keep").shipped


def _card(stored) -> dict:
    return json.loads((stored.path / CARD).read_text())


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("format", "2", "'format' must be an integer"),  # the example
        ("created", 5, "'created' must be a string"),  # the example
        ("strength", "0.5", "'strength' must be a finite number"),
        ("strength", 10**400, "'strength' must be a finite number"),
        ("metrics", {"auc": -(10**400)}, "'metrics' must be a JSON object of numbers"),
        ("seed", True, "'seed' must be an integer"),
        ("metrics", {"auc": "high"}, "'metrics' must be a JSON object of numbers"),
        ("training", {"config": {"epochs": "9"}}, "'training' must be"),
        ("training", {"surviving_features": "age"}, "'training' must be"),
        ("arch_kwargs", [7, 2], "'arch_kwargs' must be a JSON object"),
        ("architecture", "mlp\x1b[2J", "'architecture' must be a string without"),
        ("sha256", "0" * 63, "'sha256' must be 64 lowercase hexadecimal"),
        ("model_id", "[x](http://e.example)", "'model_id' must be a model ID"),
        ("format", 0, "card formats start at 1"),
    ],
)
def test_a_card_field_of_the_wrong_type_is_refused_naming_the_folder(
    field, value, expected
):
    _, stored = _stored("bad")
    _stored("good")
    card = _card(stored)
    card[field] = value
    (stored.path / CARD).write_text(json.dumps(card))
    with pytest.raises(ModelStoreError, match=expected) as info:
        load_model(stored.path)
    assert str(stored.path / CARD) in str(info.value)
    listing = scan_models()
    assert [m.card.model_id for m in listing.models] == ["good"]
    (message,) = listing.skipped
    assert message.startswith("Skipping stored model 'bad': ") and expected in message
    with pytest.warns(UserWarning, match="Skipping stored model 'bad'"):
        assert [m.card.model_id for m in list_models("synthetic")] == ["good"]


def test_missing_fields_are_named_and_extra_fields_ignored():
    _, stored = _stored("m1")
    card = _card(stored)
    del card["sha256"], card["dataset"]
    (stored.path / CARD).write_text(json.dumps(card))
    with pytest.raises(ModelStoreError, match="lacks dataset, sha256"):
        load_model("m1")
    card = _card(_stored("m2")[1])
    card["comment"] = {"anything": [1, 2]}  # a newer version's extra field
    (models_dir() / "m2" / CARD).write_text(json.dumps(card))
    assert load_model("m2")[1].model_id == "m2"


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe not UTF-8",
        b"[" * 100_000 + b"]" * 100_000,  # nesting deeper than the parser recurses
        b" " * (store_mod.MAX_CARD_BYTES + 1),
        b'{"format": 2}',
    ],
    ids=["not-utf8", "deep-nesting", "oversized", "newer-format"],
)
def test_unreadable_cards_never_break_the_listing(raw):
    _stored("ok")
    folder = models_dir() / "broken"
    folder.mkdir()
    (folder / CARD).write_bytes(raw)
    listing = scan_models()
    assert [m.card.model_id for m in listing.models] == ["ok"]
    assert len(listing.skipped) == 1 and "'broken'" in listing.skipped[0]


def test_a_card_naming_another_model_is_refused():
    # Listed under "m1" it would show this card but load the folder "m1".
    _, stored = _stored("m2")
    card = _card(stored)
    card["model_id"] = "m1"
    (stored.path / CARD).write_text(json.dumps(card))
    with pytest.raises(ModelStoreError, match="names model 'm1', but its folder"):
        find_model("m2")
    assert scan_models().models == []


def test_a_training_checks_the_store_and_the_id_before_it_starts(tmp_path):
    assert check_can_store("fresh", tmp_path / "new") == tmp_path / "new"
    _stored("taken")
    with pytest.raises(ValueError, match="'taken' already exists"):
        check_can_store("taken")
    with pytest.raises(ValueError, match="must start with"):
        check_can_store("a" * 129)
    (tmp_path / "file").write_text("")  # a store that cannot be created
    with pytest.raises(DataHomeError, match="model store .* is not writable"):
        check_can_store("fresh", tmp_path / "file" / "models")


def test_two_trainings_racing_for_one_id_get_a_clear_error(monkeypatch):
    write_weights = store_mod._write_weights

    def other_training_finishes_first(state, path, model_id):
        write_weights(state, path, model_id)
        monkeypatch.setattr(store_mod, "_write_weights", write_weights)
        _stored("race")  # the other training, saving while this one writes

    monkeypatch.setattr(store_mod, "_write_weights", other_training_finishes_first)
    with pytest.raises(ModelStoreError, match="Another process stored a model named"):
        _stored("race")
    assert load_model("race")[1].model_id == "race"  # the winner is intact
    assert [p.name for p in models_dir().iterdir()] == ["race"]


def _leftover(name: str):
    folder = models_dir() / name
    folder.mkdir(parents=True)
    (folder / WEIGHTS).write_bytes(b"half")
    return folder


def test_the_store_sweeps_stale_leftovers_of_crashed_writes(monkeypatch):
    part = _leftover(".m1.1a2b3c4d.part")
    deleting = _leftover(".m0.5e6f7a8b.deleting")
    other = _leftover(".not-ours")
    scan_models()
    assert part.exists() and deleting.exists()  # young: maybe a save under way
    time.sleep(0.05)
    monkeypatch.setattr(store_mod, "STALE_SECONDS", 0.01)
    scan_models()
    assert not part.exists() and not deleting.exists() and other.exists()
    part = _leftover(".m2.00000000.part")
    time.sleep(0.05)
    _stored("m3")  # saving sweeps too
    assert not part.exists()


def test_listing_during_a_save_never_sweeps_it(monkeypatch):
    write_weights = store_mod._write_weights
    seen = []

    def list_meanwhile(state, path, model_id):
        write_weights(state, path, model_id)
        scan_models()
        seen.extend(p.name for p in models_dir().iterdir())

    monkeypatch.setattr(store_mod, "_write_weights", list_meanwhile)
    _stored("m1")
    assert any(n.startswith(".m1.") and n.endswith(".part") for n in seen)
    assert load_model("m1")[1].model_id == "m1"


def test_a_leftover_of_an_interrupted_delete_never_blocks_a_delete():
    _stored("gone")
    _leftover(".gone.deleting")
    delete_model("gone")
    assert scan_models().models == []


@pytest.mark.parametrize(("umask", "folder_mode"), [(0o022, 0o755), (0o077, 0o700)])
def test_store_folders_follow_the_umask(umask, folder_mode):
    old = os.umask(umask)
    try:
        _, stored = _stored("shared")
    finally:
        os.umask(old)
    assert stat.S_IMODE(stored.path.stat().st_mode) == folder_mode
    file_mode = folder_mode & 0o666
    for name in (WEIGHTS, CARD):
        assert stat.S_IMODE((stored.path / name).stat().st_mode) == file_mode


@pytest.mark.parametrize(
    "arch_kwargs",
    [{"n_features": -1, "n_classes": 2}, {"n_features": "7", "n_classes": 2}, {}],
)
def test_a_card_whose_architecture_cannot_be_built_is_refused(arch_kwargs):
    _, stored = _stored()
    card = _card(stored)
    card["arch_kwargs"] = arch_kwargs
    (stored.path / CARD).write_text(json.dumps(card))
    with pytest.raises(ModelStoreError, match="m1 .* cannot be rebuilt from its card"):
        load_model("m1")


def test_a_card_declaring_a_huge_model_is_refused_before_building_it(monkeypatch):
    # 10⁹ inputs × 5 hidden units would be 20 GB of float32 weights: the card
    # is checked against the (small) weights file on the meta device first.
    _, stored = _stored()
    card = _card(stored)
    card["arch_kwargs"] = {**KW, "n_features": 10**9}
    (stored.path / CARD).write_text(json.dumps(card))
    built = []
    real_build = store_mod.build_model

    def recording_build(*args, **kwargs):
        built.append(torch.empty(0).device.type)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(store_mod, "build_model", recording_build)
    with pytest.raises(ModelStoreError, match=r"do not fit the architecture its card"):
        load_model("m1")
    assert built == ["meta"]
