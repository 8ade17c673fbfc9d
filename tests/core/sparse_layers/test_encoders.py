"""Fine-tuned encoders on a tiny corpus (one tuned layer, a few seconds): they
learn, they round-trip through the store with their hash checked, bad input and
interrupted runs leave nothing behind, and their ``finetuned:`` features are
cached by content."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import shutil

import numpy as np
import pytest
import torch

from core.cli.main import main
from core.data import load_dataset
from core.errors import ModelStoreError
from core.paths import ASSETS_DIR
from core.sparse_layers import deep_features
from core.sparse_layers.debugging.decision_layer import text_encoder
from core.sparse_layers.debugging.workbench import workbench
from core.sparse_layers.encoders import (
    CARD_FILE,
    WEIGHTS_FILE,
    Recipe,
    finetune,
    finetune_encoder,
    load_encoder,
    pooled_features,
)
from core.sparse_layers.sparse_layer import SparseLayer, fit_sparse_layer
from tests.core.sparse_layers.test_sparse_layer import toy_features
from tests.core.threads import one_torch_thread  # noqa: F401
from tests.dashboard.apptest import require

pytestmark = pytest.mark.usefixtures("one_torch_thread")

GOOD = ["good", "great", "lovely", "wonderful", "superb", "fine"]
BAD = ["bad", "awful", "boring", "dreadful", "terrible", "dull"]
NOUNS = ["film", "movie", "story", "cast", "plot", "show"]


def _corpus(n: int, offset: int) -> tuple[list[str], np.ndarray]:
    """``n`` short sentences, every other one positive, each naming one
    sentiment word (never the same sentence twice across splits)."""
    texts, y = [], []
    for i in range(offset, offset + n):
        words = GOOD if i % 2 else BAD
        texts.append(f"a {words[i % 6]} {NOUNS[(i // 6) % 6]} , really {i}")
        y.append(i % 2)
    return texts, np.array(y)


TRAIN, VAL, TEST = _corpus(36, 0), _corpus(12, 36), _corpus(12, 48)
RECIPE = Recipe(layers=1, epochs=3, patience=3, batch_size=12, lr=1e-3, seed=0)
CLASSES = ("negative", "positive")


def _finetune(folder, recipe=RECIPE, **kwargs):
    return finetune(
        *TRAIN,
        *VAL,
        *TEST,
        class_names=CLASSES,
        name=folder.name,
        dataset="toy",
        folder=folder,
        recipe=recipe,
        **kwargs,
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A store folder with one encoder, ``tiny``, fine-tuned once."""
    folder = tmp_path_factory.mktemp("encoders")
    _finetune(folder / "tiny")
    return folder


def test_finetuning_lowers_the_validation_loss(store):
    card = json.loads((store / "tiny" / CARD_FILE).read_text())
    losses = [row["val_loss"] for row in card["history"]]
    assert card["history"][0]["epoch"] == 0  # the untuned model, measured first
    assert min(losses[1:]) < losses[0]
    assert card["best_epoch"] >= 1
    assert card["layers_tuned"] == [5]
    assert card["recipe"]["layers"] == 1


def test_only_the_tuned_layer_and_head_are_stored_in_float16(store):
    from safetensors import safe_open

    with safe_open(str(store / "tiny" / WEIGHTS_FILE), "pt") as fh:
        names = list(fh.keys())
        dtypes = {fh.get_tensor(n).dtype for n in names}
    assert dtypes == {torch.float16}
    assert {n.split(".")[0] for n in names} == {"bert", "head"}
    assert all(n.startswith(("bert.encoder.layer.5.", "head.")) for n in names)
    # One MiniLM layer (~1.8 M parameters) and a 384 × 2 head, two bytes each.
    stat = (store / "tiny" / WEIGHTS_FILE).stat()
    assert 3.0e6 < stat.st_size < 4.0e6
    # Readable as the umask allows, like the card beside it (not owner-only).
    umask = os.umask(0)
    os.umask(umask)
    assert stat.st_mode & 0o777 == 0o666 & ~umask


def test_reloaded_encoder_reproduces_the_cards_accuracies(store):
    model, card = load_encoder(store / "tiny")
    for (texts, y), accuracy in (
        (VAL, card.val_accuracy),
        (TEST, card.test_accuracy),
    ):
        H = pooled_features(model, texts, max_length=card.recipe["max_length"])
        with torch.no_grad():
            predicted = model.head(torch.from_numpy(H)).argmax(1).numpy()
        assert np.mean(predicted == y) == pytest.approx(accuracy)
    assert card.val_accuracy > 0.5


def test_a_tampered_weights_file_is_refused(store, tmp_path):
    folder = tmp_path / "tiny"
    shutil.copytree(store / "tiny", folder)
    data = bytearray((folder / WEIGHTS_FILE).read_bytes())
    data[-1] ^= 1  # one bit of one weight
    (folder / WEIGHTS_FILE).write_bytes(bytes(data))
    with pytest.raises(ModelStoreError, match=r"SHA-256 .*refusing to load it"):
        load_encoder(folder)


def test_a_card_naming_other_tensors_is_refused(store, tmp_path):
    folder = tmp_path / "tiny"
    shutil.copytree(store / "tiny", folder)
    card = json.loads((folder / CARD_FILE).read_text())
    card["layers_tuned"] = [4]
    (folder / CARD_FILE).write_text(json.dumps(card))
    with pytest.raises(ModelStoreError, match="does not hold the tensors"):
        load_encoder(folder)


def test_a_one_class_corpus_is_refused(tmp_path):
    texts, _ = TRAIN
    with pytest.raises(ValueError, match="one class only"):
        finetune(
            texts,
            np.zeros(len(texts), dtype=int),
            *VAL,
            *TEST,
            class_names=CLASSES,
            name="one",
            dataset="toy",
            folder=tmp_path / "one",
        )
    assert not (tmp_path / "one").exists()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"layers": 7}, "layers must be between 1 and 6"),
        ({"epochs": 0}, "epochs must be at least 1"),
        ({"warmup": 1.0}, "warmup in"),
    ],
)
def test_a_recipe_out_of_range_is_refused(tmp_path, setting, message):
    with pytest.raises(ValueError, match=message):
        _finetune(tmp_path / "bad", recipe=Recipe(**setting))
    assert list(tmp_path.iterdir()) == []


def test_a_dataset_without_texts_is_refused(tmp_path, capsys):
    with pytest.raises(ValueError, match="'synthetic' has no raw texts"):
        finetune_encoder("synthetic", out=tmp_path)
    assert (
        main(["finetune-encoder", "--dataset", "synthetic", "--out", str(tmp_path)])
        == 1
    )
    assert "has no raw texts" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_run_leaves_nothing_behind(tmp_path):
    def interrupt(step, total):
        if step == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _finetune(tmp_path / "cut", progress=interrupt)
    assert list(tmp_path.iterdir()) == []


def test_finetuned_features_are_cached_by_content(store, tmp_path, monkeypatch):
    monkeypatch.setenv("SPARSELENS_ENCODERS", str(store))
    monkeypatch.setenv("SPARSELENS_CACHE", str(tmp_path))
    texts = VAL[0]
    fresh = deep_features.sentence_embeddings(texts, "finetuned:tiny")
    (path,) = (tmp_path / "embeddings").iterdir()
    assert path.name.startswith("finetuned-")
    model, card = load_encoder(store / "tiny")
    np.testing.assert_allclose(
        fresh, pooled_features(model, texts, max_length=64), atol=1e-5
    )
    # Read back without encoding; other texts are encoded and cached apart.
    monkeypatch.setattr(deep_features, "encode_texts", lambda *a, **k: 1 / 0)
    np.testing.assert_array_equal(
        deep_features.sentence_embeddings(texts, "finetuned:tiny"), fresh
    )
    with pytest.raises(ZeroDivisionError):
        deep_features.sentence_embeddings(texts[:-1], "finetuned:tiny")
    # The frozen encoder's features of the same texts are cached apart too.
    assert deep_features.encoder_id("finetuned:tiny").startswith("finetuned-")
    assert deep_features.encoder_id("finetuned:tiny") != deep_features.encoder_id(
        "minilm"
    )


def test_the_same_seed_gives_the_same_encoder(store, tmp_path):
    _finetune(tmp_path / "again")
    first = json.loads((store / "tiny" / CARD_FILE).read_text())
    second = json.loads((tmp_path / "again" / CARD_FILE).read_text())
    assert second["weights_sha256"] == first["weights_sha256"]
    assert second["history"] == first["history"]


def test_finetuned_features_reach_the_text_debugging_tools(store, monkeypatch):
    monkeypatch.setenv("SPARSELENS_ENCODERS", str(store))
    encoder, ident = text_encoder("finetuned:tiny")
    assert ident == deep_features.encoder_id("finetuned:tiny")
    H = encoder(TEST[0][:3])
    assert H.shape == (3, 384) and H.dtype == np.float32
    # Sent to Ray workers as the encoder's name, never its weights.
    assert len(pickle.dumps(encoder)) < 1000
    with pytest.raises(ValueError, match="not computed from text"):
        text_encoder("raw")


def test_an_unknown_encoder_names_the_stored_ones(store, monkeypatch):
    monkeypatch.setenv("SPARSELENS_ENCODERS", str(store))
    with pytest.raises(ModelStoreError, match=r"No fine-tuned encoder 'nope'.*tiny"):
        deep_features.encoder_id("finetuned:nope")


def test_the_shipped_sst2_encoder_matches_its_card():
    require("sst2")
    folder = ASSETS_DIR / "encoders" / "sst2"
    assert (folder / WEIGHTS_FILE).stat().st_size <= 30e6
    model, card = load_encoder(folder)  # checks the weights' SHA-256
    val = load_dataset("sst2").val
    H = pooled_features(model, val.texts, max_length=card.recipe["max_length"])
    with torch.no_grad():
        predicted = model.head(torch.from_numpy(H)).argmax(1).numpy()
    assert np.mean(predicted == val.y) == pytest.approx(card.val_accuracy)
    assert card.val_accuracy > 0.85


def test_a_layer_refuses_an_encoder_fine_tuned_again_under_its_name(
    store, tmp_path, monkeypatch
):
    fs = dataclasses.replace(toy_features(), extractor="finetuned:tiny")
    monkeypatch.setenv("SPARSELENS_ENCODERS", str(store))
    layer = fit_sparse_layer(fs, n_lambdas=5)
    assert layer.encoder == deep_features.encoder_id("finetuned:tiny")
    layer.save(tmp_path / "layer")
    stored = SparseLayer.load(tmp_path / "layer")
    assert stored.encoder == layer.encoder
    workbench(stored)  # the encoder it was fitted on: opens
    # The same name fine-tuned again with another seed: other weights.
    _finetune(tmp_path / "again" / "tiny", recipe=dataclasses.replace(RECIPE, seed=1))
    monkeypatch.setenv("SPARSELENS_ENCODERS", str(tmp_path / "again"))
    with pytest.raises(ValueError, match=r"fine-tuned again since\)\. Refit the layer"):
        workbench(stored)
    # Features that come from no sentence encoder record none and are not checked.
    assert fit_sparse_layer(toy_features(), n_lambdas=5).encoder is None
