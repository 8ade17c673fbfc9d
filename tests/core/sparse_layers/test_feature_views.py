"""Image feature views on a tiny seeded CNN: top images, LIME superpixels,
visualisations, the cache, and the messages for bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from lime.lime_image import LimeImageExplainer
from lime.wrappers.scikit_image import SegmentationAlgorithm
from torch import nn

from core.data.builtin.images import pixels
from core.paths import ASSETS_DIR
from core.sparse_layers.feature_views import views as views_module
from core.sparse_layers.feature_views.source import ImageFeatures, layer_source
from core.sparse_layers.feature_views.superpixels import (
    SuperpixelSettings,
    superpixels,
)
from core.sparse_layers.feature_views.views import (
    FeatureView,
    cached_view,
    feature_views,
    ship_view,
    split_activations,
    top_images,
)
from core.sparse_layers.feature_views.visualisation import (
    VisualisationSettings,
    visualise,
)
from core.sparse_layers.sparse_layer import SparseLayer
from core.training import store
from core.training.models import ImageInput
from tests.dashboard.apptest import require

SIDE = 16


def tiny_cnn(channels: int = 1) -> nn.Sequential:
    """conv 3×3×4 → ReLU → pool → FC 6 → ReLU → FC 3, seeded; channel 0 of the
    conv has a positive bias so that it is on for a grey image."""
    torch.manual_seed(0)
    model = nn.Sequential(
        ImageInput(SIDE, SIDE, channels),
        nn.Conv2d(channels, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * (SIDE // 2) ** 2, 6),
        nn.ReLU(),
        nn.Linear(6, 3),
    )
    with torch.no_grad():
        model[1].bias[0] = 0.1
    return model.eval()


def features_of(model: nn.Module, module: str | None, channels: int = 1):
    return ImageFeatures(
        model=model,
        model_digest=f"tiny-{channels}",
        module=module,
        image_shape=(SIDE, SIDE, channels),
    )


def penultimate_by_hand(model: nn.Module, flat: np.ndarray) -> np.ndarray:
    """The inputs of the last linear layer, computed module by module from flat
    pixels in [0, 1]."""
    with torch.no_grad():
        x = torch.as_tensor(flat, dtype=torch.float32)
        for layer in list(model)[:-1]:
            x = layer(x)
    return x.numpy()


@pytest.fixture
def images() -> np.ndarray:
    rng = np.random.default_rng(0)
    ims = rng.integers(0, 256, size=(40, SIDE, SIDE), dtype=np.uint8)
    ims[7] = ims[3]  # a tie: the lower row comes first
    return ims


def test_top_images_are_the_true_argmax_activations(images):
    model = tiny_cnn()
    feats = features_of(model, None)
    acts = feats.activations(images, batch_size=7)  # batches that do not divide n
    expected = penultimate_by_hand(model, pixels(images))
    np.testing.assert_allclose(acts, expected, rtol=1e-5, atol=1e-6)
    top = top_images(acts, [2, 3, 5], k=5)
    for row, unit in enumerate([2, 3, 5]):
        order = sorted(range(len(images)), key=lambda i: (-expected[i, unit], i))
        assert top.indices[row].tolist() == order[:5]
        np.testing.assert_allclose(top.activations[row], expected[order[:5], unit])


def test_a_named_conv_layer_gives_one_feature_per_channel(images):
    model = tiny_cnn()
    acts = features_of(model, "2").activations(images)  # the conv's ReLU
    with torch.no_grad():
        x = model[0](torch.from_numpy(pixels(images)))
        expected = torch.relu(model[1](x)).mean(dim=(2, 3)).numpy()
    assert acts.shape == (len(images), 4)
    np.testing.assert_allclose(acts, expected, rtol=1e-5, atol=1e-6)


def test_top_images_break_ties_by_row(images):
    acts = features_of(tiny_cnn(), None).activations(images)
    acts[:, 1] = 0.0
    acts[[9, 3, 30], 1] = 2.0
    top = top_images(acts, [1], k=4)
    assert top.indices[0].tolist() == [3, 9, 30, 0]


def test_lime_weights_match_one_explain_instance_call(images):
    model = tiny_cnn()
    feats = features_of(model, None)
    settings = SuperpixelSettings(n_samples=300, seed=3)
    unit, image = 5, images[5]  # a unit that is on for this image
    ours = superpixels(feats, image, unit, settings)

    def activation(batch: np.ndarray) -> np.ndarray:
        # LIME hands RGB copies of the grey image: one channel is the image.
        grey = batch[..., 0].reshape(len(batch), -1)
        return penultimate_by_hand(model, grey)[:, [unit]]

    explanation = LimeImageExplainer(
        kernel_width=0.25, feature_selection="none", random_state=3
    ).explain_instance(
        image / 255.0,
        activation,
        labels=(0,),
        top_labels=None,
        hide_color=0.0,
        num_samples=300,
        segmentation_fn=SegmentationAlgorithm(
            "slic", n_segments=25, compactness=10.0, sigma=0.5, start_label=0
        ),
        random_seed=3,
    )
    expected = dict(explanation.local_exp[0])
    np.testing.assert_array_equal(ours.segments, explanation.segments)
    assert len(ours.weights) == len(expected) > 5
    assert np.abs(ours.weights).max() > 1e-3
    np.testing.assert_allclose(
        ours.weights, [expected[s] for s in range(len(ours.weights))], rtol=1e-6
    )
    assert ours.intercept == pytest.approx(explanation.intercept[0])


@pytest.mark.parametrize("channels", [1, 3])
def test_visualisation_raises_its_feature_over_the_start_image(channels, images):
    model = tiny_cnn(channels)
    settings = VisualisationSettings(steps=64, seed=0)
    conv = visualise(
        features_of(model, "2", channels), 1 if channels == 1 else 0, settings
    )
    # Pixels stay in [0, 1], which bounds a channel's mean: 2× in 64 steps
    # (measured 2.5× grey, 2.0× colour, rounded down).
    assert conv.start_activation > 0
    assert conv.activation >= 1.9 * conv.start_activation
    assert conv.image.shape == (SIDE, SIDE, channels)
    assert conv.image.min() >= 0 and conv.image.max() <= 1
    # A penultimate ReLU unit off on the start image is woken by the redirected
    # gradient, and ends above every one of 40 random images.
    feats = features_of(model, None, channels)
    dead = visualise(feats, 0, settings)
    assert dead.start_activation == 0 and dead.activation > 0.2
    shape = (40, SIDE, SIDE) if channels == 1 else (40, SIDE, SIDE, 3)
    randoms = np.random.default_rng(1).integers(0, 256, size=shape, dtype=np.uint8)
    assert dead.activation > feats.activations(randoms)[:, 0].max()


def test_visualisation_is_seeded_and_leaves_the_model_as_it_was():
    model = tiny_cnn().train()
    feats = features_of(model, None)
    settings = VisualisationSettings(steps=8, seed=5)
    a, b = visualise(feats, 2, settings), visualise(feats, 2, settings)
    np.testing.assert_array_equal(a.image, b.image)
    other = visualise(feats, 2, VisualisationSettings(steps=8, seed=6))
    assert not np.array_equal(a.image, other.image)
    assert model.training
    assert all(p.requires_grad for p in model.parameters())
    assert not any(m._forward_hooks for m in model.modules())


def test_views_are_cached_by_content(images, tmp_path, monkeypatch):
    monkeypatch.setattr(views_module, "cache_dir", lambda: tmp_path)
    feats = features_of(tiny_cnn(), None)
    lime = SuperpixelSettings(n_samples=50)
    vis = VisualisationSettings(steps=4)
    calls = []
    done = feature_views(
        feats,
        images,
        [1, 4],
        k=3,
        lime=lime,
        vis=vis,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert [v.unit for v in done] == [1, 4] and done[0].images.shape == (3, SIDE, SIDE)
    np.testing.assert_array_equal(done[0].images, images[done[0].indices])

    def fail(*_a, **_k):
        raise AssertionError("computed again instead of read from the cache")

    monkeypatch.setattr(views_module, "visualise", fail)
    monkeypatch.setattr(feats.__class__, "activations", fail)
    again = feature_views(feats, images, [1, 4], k=3, lime=lime, vis=vis)
    np.testing.assert_array_equal(again[1].weights, done[1].weights)
    np.testing.assert_array_equal(again[1].visualisation, done[1].visualisation)
    # Another seed is another view: computed, not read.
    with pytest.raises(AssertionError, match="computed again"):
        feature_views(
            feats,
            images,
            [1],
            k=3,
            lime=lime,
            vis=VisualisationSettings(steps=4, seed=1),
        )


def test_a_damaged_cache_file_is_replaced_with_a_warning(images, tmp_path, monkeypatch):
    monkeypatch.setattr(views_module, "cache_dir", lambda: tmp_path)
    feats = features_of(tiny_cnn(), None)
    kwargs = dict(
        k=2, lime=SuperpixelSettings(n_samples=20), vis=VisualisationSettings(steps=2)
    )
    first = feature_views(feats, images, [0], **kwargs)[0]
    (view_file,) = (tmp_path / "feature_views").glob("view-*.npz")
    view_file.write_bytes(b"not an archive")
    with pytest.warns(UserWarning, match="feature-view cache .* replaced"):
        second = feature_views(feats, images, [0], **kwargs)[0]
    np.testing.assert_array_equal(first.weights, second.weights)
    assert FeatureView.load(view_file).unit == 0


def test_shipped_views_are_read_after_the_users_cache(images, tmp_path, monkeypatch):
    monkeypatch.setattr(views_module, "cache_dir", lambda: tmp_path / "cache")
    monkeypatch.setattr(views_module, "SHIPPED_DIR", tmp_path / "shipped")
    feats = features_of(tiny_cnn(), None)
    lime, vis = SuperpixelSettings(n_samples=20), VisualisationSettings(steps=2)
    kwargs = dict(k=2, lime=lime, vis=vis)
    (view,) = feature_views(feats, images, [0], cache=False, **kwargs)
    shipped = ship_view(view, feats, images, **kwargs)
    assert shipped.parent == tmp_path / "shipped"
    assert not (tmp_path / "cache").exists()

    def fail(*_a, **_k):
        raise AssertionError("computed instead of read from the shipped folder")

    monkeypatch.setattr(views_module, "visualise", fail)
    monkeypatch.setattr(feats.__class__, "activations", fail)
    (read,) = feature_views(feats, images, [0], **kwargs)
    np.testing.assert_array_equal(read.weights, view.weights)
    np.testing.assert_array_equal(read.visualisation, view.visualisation)
    # A shipped file under another feature's name (edited) is not that feature's.
    other = shipped.parent / views_module._view_name(feats, images, 1, 2, lime, vis)
    other.write_bytes(shipped.read_bytes())
    with pytest.warns(UserWarning, match="holds unit 0 with 2 images"):
        assert cached_view(feats, images, 1, **kwargs) is None


@pytest.mark.parametrize(
    "name",
    ["mnist-penultimate-mnist-mlp-none", "cifar10-penultimate-cifar10-airbench-none"],
)
def test_every_shipped_image_layer_ships_its_selected_features_views(
    name, tmp_path, monkeypatch
):
    dataset = name.split("-")[0]
    require(dataset)
    monkeypatch.setattr(views_module, "cache_dir", lambda: tmp_path)  # empty
    monkeypatch.setattr(views_module, "SHIPPED_DIR", ASSETS_DIR / "feature_views")
    monkeypatch.setattr(store, "SHIPPED_DIR", ASSETS_DIR / "models")
    src = layer_source(SparseLayer.load(ASSETS_DIR / "sparse_layers" / name), "test")
    assert src.selected
    for feature in src.selected:
        (unit,) = src.units_of([feature])
        view = cached_view(src.features, src.images, unit)
        assert view is not None, feature
        # The top images are the split's rows they name.
        np.testing.assert_array_equal(view.images, src.images[view.indices])


def test_bad_features_images_and_modules_are_named(images):
    model = tiny_cnn()
    feats = features_of(model, None)
    with pytest.raises(ValueError, match=r"Feature 6 is out of range: .* 6 features"):
        visualise(feats, 6, VisualisationSettings(steps=1))
    with pytest.raises(ValueError, match=r"Feature 9 is out of range"):
        superpixels(feats, images[0], 9)
    with pytest.raises(ValueError, match=r"Feature -1 is out of range"):
        top_images(split_activations(feats, images, cache=False), [-1])
    with pytest.raises(ValueError, match=r"uint8 images of shape \(n, 16, 16\); got"):
        feats.activations(images[:, :8, :8])
    with pytest.raises(ValueError, match="no module 'conv9'; its modules are: 0, 1"):
        features_of(model, "conv9")


def test_a_module_inside_a_flip_averaged_body_gives_one_row_per_image():
    from core.training.models import build_model

    model = build_model("airbench", widths=(4, 8, 16)).eval()
    images = np.random.default_rng(2).integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    feats = ImageFeatures(
        model=model, model_digest="air", module="0.body.5", image_shape=(32, 32, 3)
    )
    acts = feats.activations(images)
    with torch.no_grad():
        body = model[0].body
        expected = body[:6](torch.from_numpy(pixels(images))).mean(dim=(2, 3))
    assert acts.shape == (6, 4)
    np.testing.assert_allclose(acts, expected.numpy(), rtol=1e-5, atol=1e-6)
