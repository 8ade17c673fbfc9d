"""The Feature views page and the λ sweep's image meanings, on the shipped MNIST
layer and model."""

from __future__ import annotations

import shutil

import pytest

import core.sparse_layers.feature_views.views as views
import core.training.store as store
from core.paths import ASSETS_DIR, layers_dir
from dashboard.common import state
from tests.core.threads import one_torch_thread  # noqa: F401
from tests.dashboard.apptest import assert_ok, require, run_app

PAGE = "app_pages/sparse_layers/feature_views.py"
SWEEP = "app_pages/sparse_layers/lambda_sweep.py"
ERRORS = "app_pages/sparse_layers/misclassifications.py"
LAYER = "mnist-penultimate-mnist-mlp-none"

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def mnist_layer(tmp_path, monkeypatch):
    require("mnist")
    monkeypatch.setattr(store, "SHIPPED_DIR", ASSETS_DIR / "models")
    shutil.copytree(ASSETS_DIR / "sparse_layers" / LAYER, layers_dir() / LAYER)
    monkeypatch.setattr(views, "cache_dir", lambda: tmp_path / "cache")


def test_without_an_image_layer_the_page_says_what_to_do():
    at = run_app("mnist", PAGE)
    assert_ok(at, errors=True)
    assert any("penultimate:mnist-mlp-none" in i.value for i in at.info)


def test_the_page_shows_a_feature_and_offers_its_png(mnist_layer):
    at = run_app("mnist", PAGE)
    assert_ok(at, errors=True)
    assert at.selectbox(key=state.VIEWS_LAYER).value == LAYER
    feature = at.selectbox(key=state.for_dataset(state.VIEWS_FEATURE, LAYER))
    feature.set_value(3).run()
    assert_ok(at, errors=True)
    assert len(at.get("image")) == 1
    assert any("--features 3 --k 8" in c.value for c in at.caption)
    assert at.get("download_button")  # the PNG and the weights' CSV
    assert len(at.dataframe[0].value) == 10  # one weight per digit


def test_the_sweep_table_shows_image_meanings_once_computed(mnist_layer):
    at = run_app("mnist", SWEEP)
    at.selectbox(key=state.SWEEP_LAYER).set_value(LAYER).run()
    at.slider(key=state.SWEEP_TOP).set_value(5).run()
    assert_ok(at, errors=True)
    table = at.dataframe(key=state.SWEEP_TOP_TABLE).value
    assert table.meaning.isna().all()
    assert any("0 of 5 computed" in c.value for c in at.caption)
    at.button(key=state.VIEWS_COMPUTE).click().run()
    assert_ok(at, errors=True)
    table = at.dataframe(key=state.SWEEP_TOP_TABLE).value
    assert table.meaning.str.startswith("data:image/png;base64,").all()
    assert any("5 of 5 computed" in c.value for c in at.caption)
    at.run()  # now on disk: read, and nothing left to compute
    assert_ok(at, errors=True)
    assert at.dataframe(key=state.SWEEP_TOP_TABLE).value.meaning.notna().all()
    assert state.VIEWS_COMPUTE not in [b.key for b in at.button]


def test_the_errors_page_traces_an_image_error_to_its_feature(mnist_layer):
    at = run_app("mnist", ERRORS)
    assert_ok(at, errors=True)
    (image,) = at.get("image")
    assert "predicted" in image.proto.imgs[0].caption
    assert "(test)" in image.proto.imgs[0].caption
    keys = [b.proto.id for b in at.get("download_button")]
    assert any("misclassifications.image" in k for k in keys)
    at.selectbox(key=state.MISCLASSIFICATIONS_SPLIT).set_value("val").run()
    assert_ok(at, errors=True)
    (image,) = at.get("image")
    assert "(val)" in image.proto.imgs[0].caption
