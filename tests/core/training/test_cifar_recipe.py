"""The CIFAR-10 backbone and its recipe: flip test-time augmentation, batch
augmentation, one-cycle schedule, label smoothing; the other architectures'
recipes unchanged."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from core.data import load_dataset
from core.sparse_layers.deep_features import penultimate_activations
from core.training.models import FlipAveraged, build_model
from core.training.store import load_model
from core.training.train import (
    TrainConfig,
    augment_images,
    model_inputs,
    store_result,
    train,
)
from tests.core.threads import one_torch_thread  # noqa: F401
from tests.dashboard.apptest import require

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_other_architectures_keep_their_recipes():
    cnn9 = TrainConfig().resolved("cifar10", "cnn9")
    assert (cnn9.optimizer, cnn9.schedule, cnn9.lr, cnn9.epochs) == (
        "sgd",
        "halving",
        1e-2,
        25,
    )
    for cfg in (cnn9, TrainConfig().resolved("adult", "mlp")):
        assert cfg.batch_size == 128 and not cfg.augment
        assert cfg.label_smoothing == 0 and cfg.weight_decay == 0
    mlp = TrainConfig().resolved("adult", "mlp")
    assert (mlp.optimizer, mlp.schedule, mlp.lr, mlp.epochs) == (
        "adam",
        "constant",
        1e-3,
        32,
    )
    assert TrainConfig().resolved("synthetic", "mlp").epochs == 100
    fast = TrainConfig(epochs=3, label_smoothing=0.0).resolved("cifar10", "airbench")
    assert (fast.schedule, fast.batch_size, fast.augment, fast.epochs) == (
        "onecycle",
        512,
        True,
        3,
    )
    assert fast.label_smoothing == 0.0  # a given field wins over the recipe
    with pytest.raises(ValueError, match="schedule must be one of constant"):
        TrainConfig(schedule="cosine").resolved("adult", "mlp")
    with pytest.raises(ValueError, match="weight_decay applies to SGD; the optimizer"):
        TrainConfig(weight_decay=1e-4).resolved("adult", "mlp")


def test_augmented_images_are_flipped_and_shifted_copies():
    rng = np.random.default_rng(0)
    h, w, c = 6, 7, 3
    images = rng.random((64, h, w, c)).astype(np.float32)
    out = (
        augment_images(
            torch.from_numpy(images.reshape(64, -1)),
            (h, w, c),
            torch.Generator().manual_seed(1),
            pad=2,
        )
        .numpy()
        .reshape(64, h, w, c)
    )
    seen = set()
    for image, got in zip(images, out, strict=True):
        matches = [
            (flip, dy, dx)
            for flip in (False, True)
            for dy in range(5)
            for dx in range(5)
            if np.array_equal(
                np.pad(
                    image[:, ::-1] if flip else image,
                    ((2, 2), (2, 2), (0, 0)),
                    mode="reflect",
                )[dy : dy + h, dx : dx + w],
                got,
            )
        ]
        assert matches, "not a flipped, shifted copy"
        seen.update(matches)
    assert {m[0] for m in seen} == {False, True} and len(seen) > 20


def test_flip_averaging_is_the_mean_of_both_views():
    model = build_model("airbench", widths=(4, 8, 16)).eval()
    x = torch.rand(5, 3072)
    mirrored = x.reshape(5, 32, 32, 3).flip(2).reshape(5, -1)
    flip, head = model[0], model[1]
    assert isinstance(flip, FlipAveraged)
    with torch.no_grad():
        expected = 0.5 * (head(flip.body(x)) + head(flip.body(mirrored)))
        torch.testing.assert_close(model(x), expected)
        # A mirrored image gets the same logits.
        torch.testing.assert_close(model(mirrored), model(x), rtol=1e-4, atol=1e-5)
        model.train()
        torch.testing.assert_close(model(x), head(flip.body(x)))
    # The penultimate features are the averaged ones, one row per image.
    feats = penultimate_activations(model.eval(), x.numpy())
    assert feats.shape == (5, 16)


def test_the_backbone_trains_stores_and_reloads():
    require("cifar10")
    ds = load_dataset("cifar10")
    rows = np.random.default_rng(0).permutation(len(ds.train))[:96]

    def part(split, n=None):
        keep = rows if n is None else np.arange(n)
        return dataclasses.replace(
            split, y=split.y[keep], ids=split.ids[keep], images=split.images[keep]
        )

    small = dataclasses.replace(
        ds, train=part(ds.train), val=part(ds.val, 64), test=part(ds.test, 64)
    )
    cfg = TrainConfig(epochs=2, batch_size=32, patience=None)
    result = train(small, "airbench", [], cfg)
    assert result.config.schedule == "onecycle" and len(result.history) == 2
    stored = store_result(result, small)
    model, card = load_model(stored.card.model_id)
    assert card.training["config"]["augment"] is True
    x = torch.as_tensor(model_inputs(small.test)[:8])
    with torch.no_grad():
        torch.testing.assert_close(model(x), result.model(x))


def test_augmenting_a_dataset_without_images_is_refused():
    ds = load_dataset("synthetic")
    with pytest.raises(
        ValueError, match="augment flips and shifts images; 'synthetic'"
    ):
        train(ds, "mlp", [], TrainConfig(epochs=1, augment=True))
