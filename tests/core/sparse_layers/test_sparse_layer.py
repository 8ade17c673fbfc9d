"""Sparse decision layers: selection, entry order, top-k, storage, features."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.paths import layers_dir
from core.sparse_layers.deep_features import (
    FeatureSet,
    feature_set,
    penultimate_activations,
)
from core.sparse_layers.glm import ElasticNetPath, elastic_net_path
from core.sparse_layers.glm.selection import (
    entry_order,
    features_per_class,
    select_by_size,
    select_sparse,
    top_weighted_features,
    topk_accuracy,
)
from core.sparse_layers.sparse_layer import (
    SparseLayer,
    fit_sparse_layer,
    list_layers,
    load_layer,
)
from core.training.models import build_model


def toy_features(seed: int = 0, n: int = 600, p: int = 40) -> FeatureSet:
    """Three classes decided by features 0-5; the rest is noise."""
    rng = np.random.default_rng(seed)

    def draw(m):
        X = rng.standard_normal((m, p)).astype(np.float32)
        Z = np.c_[X[:, 0] + X[:, 1], X[:, 2] + X[:, 3], X[:, 4] + X[:, 5]]
        return X, Z.argmax(1)

    (Xtr, ytr), (Xva, yva), (Xte, yte) = draw(n), draw(200), draw(200)
    return FeatureSet(
        dataset="toy",
        extractor="raw",
        X_train=Xtr,
        y_train=ytr,
        X_val=Xva,
        y_val=yva,
        X_test=Xte,
        y_test=yte,
        feature_names=tuple(f"f{j}" for j in range(p)),
        class_names=("a", "b", "c"),
    )


def test_selection_is_the_sparsest_lambda_within_tolerance():
    fs = toy_features()
    path = elastic_net_path(
        fs.X_train, fs.y_train, n_lambdas=30, validation=(fs.X_val, fs.y_val)
    )
    acc = path.diagnostics["val_accuracy"]
    i = select_sparse(path, 0.05)
    assert acc[i] >= acc.max() - 0.05
    assert np.all(acc[:i] < acc.max() - 0.05)
    # The informative features enter first.
    first = np.argsort(entry_order(path).min(axis=0))[:6]
    assert set(first) == set(range(6))
    top = top_weighted_features(path, len(path) - 1, 0, 3)
    assert set(top.feature) <= set(range(6)) and list(top.columns) == [
        "feature",
        "name",
        "weight",
        "entry",
    ]


def hand_made_path(nonzeros: list[list[int]], val_accuracy: list[float]):
    """A path whose λ[i] gives output c its first ``nonzeros[i][c]`` features."""
    K, outputs, p = len(nonzeros), len(nonzeros[0]), 10
    coef = np.zeros((K, outputs, p), dtype=np.float32)
    for i, row in enumerate(nonzeros):
        for c, n in enumerate(row):
            coef[i, c, :n] = 1.0
    return ElasticNetPath(
        lambdas=np.geomspace(1, 1e-3, K),
        coef=coef,
        intercept=np.zeros((K, outputs), dtype=np.float32),
        alpha=0.99,
        family="multinomial",
        solver="fista",
        tol=1e-4,
        classes=np.arange(outputs),
        feature_names=tuple(f"f{j}" for j in range(p)),
        center=np.zeros(p),
        scale=np.ones(p),
        diagnostics={
            "val_accuracy": np.array(val_accuracy),
            "train_accuracy": np.array(val_accuracy),
        },
    )


def test_select_by_size_takes_the_closest_size_not_above_the_target():
    # Mean features per class: 0, 1.5, 3, 3, 4.5, 6.
    path = hand_made_path(
        [[0, 0], [1, 2], [3, 3], [2, 4], [4, 5], [6, 6]],
        [0.5, 0.6, 0.7, 0.75, 0.8, 0.85],
    )
    assert features_per_class(path).tolist() == [0, 1.5, 3, 3, 4.5, 6]
    # Two λ use 3 a class: the one with the better validation accuracy.
    assert select_by_size(path, 3) == 3
    assert select_by_size(path, 4) == 3  # 4.5 would be above the target
    assert select_by_size(path, 5) == 4
    assert select_by_size(path, 100) == 5
    assert select_by_size(path, 0) == 0


def test_select_by_size_on_a_fitted_path():
    fs = toy_features()
    path = elastic_net_path(
        fs.X_train, fs.y_train, n_lambdas=30, validation=(fs.X_val, fs.y_val)
    )
    size = features_per_class(path)
    for target in (1, 2, 5, 10):
        i = select_by_size(path, target)
        assert size[i] <= target
        # No λ holds a size between the chosen one and the target.
        assert not np.any((size > size[i]) & (size <= target))


def test_select_by_size_refuses_what_it_cannot_meet():
    path = hand_made_path([[2, 2], [4, 4]], [0.5, 0.6])
    with pytest.raises(ValueError, match=r"more than 1 features.*sparsest uses 2"):
        select_by_size(path, 1)
    with pytest.raises(ValueError, match="per_class must be a number"):
        select_by_size(path, -1)


def test_topk_accuracy_on_a_hand_made_layer():
    X = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [1.0, 0, 0]])
    y = np.array([0, 1, 0, 1])
    coef = np.array([[2.0, -1.0, 0.1], [-2.0, 1.0, -0.1]])
    acc = topk_accuracy(coef, np.zeros(2), X, y, k=1)
    # top-1 keeps column 0 only: rows 0 and 3 → class 0; rows 1, 2 tie → class 0.
    assert acc == {"all": 0.75, "top_k": 0.5, "rest": 0.75}
    with pytest.raises(ValueError, match="at least 1"):
        topk_accuracy(coef, np.zeros(2), X, y, k=0)


def test_sparse_layer_round_trip_and_listing(tmp_path, monkeypatch):
    import core.sparse_layers.sparse_layer as sl

    monkeypatch.setattr(sl, "SHIPPED_DIR", tmp_path / "none")
    layer = fit_sparse_layer(toy_features(1), n_lambdas=20)
    assert layer.path.active_features[layer.selected] < 40
    assert layer.dense.coef.shape == (1, 3, 40) and np.all(layer.dense.coef != 0)
    assert {r["layer"] for r in layer.topk} == {"dense", "sparse"}
    layer.save(layers_dir() / layer.name)
    assert list(list_layers()) == ["toy-raw"]
    back = load_layer("toy-raw")
    assert isinstance(back, SparseLayer) and back.selected == layer.selected
    np.testing.assert_array_equal(back.test_accuracy, layer.test_accuracy)
    with pytest.raises(ValueError, match="No sparse layer"):
        load_layer("nope")


def test_penultimate_activations_are_the_last_hidden_layer():
    torch.manual_seed(0)
    model = build_model("mlp", n_features=5, n_classes=2)
    X = np.random.default_rng(0).standard_normal((7, 5)).astype(np.float32)
    acts = penultimate_activations(model, X)
    assert acts.shape == (7, 30) and np.all(acts >= 0)  # after the ReLU
    with pytest.raises(ValueError, match="hidden layer"):
        penultimate_activations(build_model("linear", n_features=5, n_classes=2), X)


def test_unknown_features_are_refused():
    with pytest.raises(ValueError, match="Unknown features"):
        feature_set("synthetic", "resnet")


def test_shipped_sst2_layer_is_a_full_selected_path():
    from core.paths import ASSETS_DIR
    from core.sparse_layers.sparse_layer import SparseLayer

    layer = SparseLayer.load(ASSETS_DIR / "sparse_layers" / "sst2-minilm")
    path = layer.path
    assert path.coef.shape == (100, 2, 384) and path.alpha == 0.99
    assert np.all(path.coef[0] == 0) and path.active_features[-1] > 100
    assert np.all(np.diff(path.lambdas) < 0)
    assert np.nanmax(path.diagnostics["gap"]) <= 1.01e-4
    acc = path.diagnostics["val_accuracy"]
    assert acc[layer.selected] >= acc.max() - layer.tolerance
    assert layer.dense_accuracy["test"] > 0.75


def test_a_path_on_registered_deep_features(tmp_path):
    """Precomputed features a user registered → a stored sparse layer (the
    glm_saga use case, without our encoder)."""
    import io

    from core.data.user import add_features
    from core.sparse_layers.sparse_layer import compute_sparse_layer

    fs = toy_features(3, n=300, p=12)
    X = np.vstack([fs.X_train, fs.X_val, fs.X_test])
    y = np.concatenate([fs.y_train, fs.y_val, fs.y_test])
    X[:, 5] = 0.0  # a dead unit: dropped, not an error
    buf = io.BytesIO()
    np.savez(buf, X=X, y=np.array(["a", "b", "c"])[y])
    add_features(buf.getvalue(), filename="mine.npz", name="mine")
    layer, used = compute_sparse_layer("mine", "raw", n_lambdas=10)
    assert used.info["dropped_constant"] == [5] and used.X_train.shape[1] == 11
    assert load_layer("mine-raw").path.coef.shape == (10, 3, 11)
    assert layer.test_accuracy[-1] > 0.8
