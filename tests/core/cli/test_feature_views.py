"""``python -m core feature-views`` on the shipped MNIST layer, and its messages
for a missing model, a feature out of range, a text layer and missing images."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

import core.sparse_layers.feature_views.views as views
import core.training.store as store
from core.cli.main import main
from core.data import load_dataset
from core.data.builtin.images import pixels
from core.paths import ASSETS_DIR, layers_dir
from core.sparse_layers.deep_features import penultimate_activations
from tests.core.threads import one_torch_thread  # noqa: F401
from tests.dashboard.apptest import require

LAYER = "mnist-penultimate-mnist-mlp-none"
FAST = ["--k", "4", "--steps", "16", "--lime-samples", "60"]

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """The shipped MNIST model and layer, a cache of this test's own."""
    require("mnist")
    monkeypatch.setattr(store, "SHIPPED_DIR", ASSETS_DIR / "models")
    shutil.copytree(ASSETS_DIR / "sparse_layers" / LAYER, layers_dir() / LAYER)
    monkeypatch.setattr(views, "cache_dir", lambda: tmp_path / "cache")
    return tmp_path


def _copy_layer(name: str, **changes) -> None:
    """A copy of the MNIST layer under ``name`` with ``layer.json`` changed."""
    folder = layers_dir() / name
    shutil.copytree(ASSETS_DIR / "sparse_layers" / LAYER, folder)
    meta = json.loads((folder / "layer.json").read_text())
    (folder / "layer.json").write_text(json.dumps({**meta, "name": name, **changes}))


def test_feature_views_writes_pngs_and_an_index(shipped, capsys):
    out = shipped / "views"
    args = ["feature-views", "--layer", LAYER, "--features", "0", "7", *FAST]
    assert main([*args, "--out", str(out)]) == 0
    index = json.loads((out / "index.json").read_text())
    assert index["split"] == "test" and index["k"] == 4
    assert [f["feature"] for f in index["features"]] == [0, 7]
    model, _ = store.load_model("mnist-mlp-none")
    acts = penultimate_activations(model, pixels(load_dataset("mnist").test.images))
    for entry in index["features"]:
        expected = np.argsort(-acts[:, entry["unit"]], kind="stable")[:4]
        assert entry["top_rows"] == expected.tolist()
        np.testing.assert_allclose(
            entry["top_activations"], acts[expected, entry["unit"]], rtol=1e-5
        )
        with Image.open(out / entry["png"]) as png:
            assert png.format == "PNG" and png.width > 4 * 84
    assert "wrote 2 feature views" in capsys.readouterr().out


def test_a_layer_whose_model_is_missing_says_how_to_get_it(shipped, capsys):
    _copy_layer("mnist-ghost", features="penultimate:ghost-mlp")
    args = ["feature-views", "--layer", "mnist-ghost", "--out", str(shipped)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "Model 'ghost-mlp' (layer 'mnist-ghost' reads its features)" in err
    assert "is not stored" in err and "python -m core train" in err


def test_a_feature_out_of_range_is_named(shipped, capsys):
    args = ["feature-views", "--layer", LAYER, "--features", "2", "30"]
    assert main([*args, "--out", str(shipped)]) == 1
    err = capsys.readouterr().err
    assert f"Feature 30 is out of range: layer {LAYER} has 30 features" in err


def test_a_text_layer_is_refused(shipped, capsys):
    _copy_layer("sst2-text", dataset="sst2", features="minilm")
    assert main(["feature-views", "--layer", "sst2-text", "--out", str(shipped)]) == 1
    err = capsys.readouterr().err
    assert "fitted on 'minilm' features, not on an image model's" in err
    assert "word-clouds" in err


def test_missing_image_files_are_named(shipped, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SPARSELENS_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("SPARSELENS_CACHE", str(tmp_path / "no-cache"))
    assert main(["feature-views", "--layer", LAYER, "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "The images of 'mnist' are missing" in err
    assert "SPARSELENS_DATA" in err and "train-images-idx3-ubyte.gz" in err


def test_module_goes_with_model_only(shipped, capsys):
    args = ["feature-views", "--layer", LAYER, "--module", "0", "--out", "x"]
    assert main(args) == 1
    assert "--module names a module of --model" in capsys.readouterr().err


def test_a_named_module_of_a_stored_model(shipped, capsys):
    out = shipped / "module"
    args = ["feature-views", "--model", "mnist-mlp-none", "--module", "1"]
    assert main([*args, "--features", "49", *FAST, "--out", str(out)]) == 0
    (entry,) = json.loads((out / "index.json").read_text())["features"]
    assert entry["name"] == "unit_49" and entry["png"] == "feature-0049-unit_49.png"
    args = ["feature-views", "--model", "mnist-mlp-none", "--module", "1"]
    assert main([*args, "--features", "50", "--out", str(out)]) == 1
    assert "Feature 50 is out of range" in capsys.readouterr().err
    args = ["feature-views", "--model", "adult-mlp-none", "--out", str(out)]
    assert main(args) == 1
    assert "'adult', which holds tabular data, not images" in capsys.readouterr().err
