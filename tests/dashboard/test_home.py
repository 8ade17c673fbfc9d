"""The Home page: the app's first page, and its guided starts, followed under
AppTest with the shipped models, layers and word clouds (a new user's view)."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

import core.sparse_layers.debugging.lime_clouds as lime_clouds
import core.sparse_layers.feature_views.views as views
import core.sparse_layers.sparse_layer as sparse_layer
import core.training.store as store
from core.paths import ASSETS_DIR
from core.threads import torch_threads
from dashboard.common import state
from tests.dashboard.apptest import APP, TIMEOUT, assert_ok, require

PAGES = APP.parent / "app_pages"
#: Every page by its URL path (Streamlit's default: the file's stem).
PAGE_FILES = {
    p.stem: str(p.relative_to(APP.parent))
    for p in PAGES.rglob("*.py")
    if not p.name.startswith("_")
}
ICU_MODELS = [f"icu_physionet2012-mlp-{p}" for p in ("none", "l1_weights", "grad_l1")]


@pytest.fixture(autouse=True)
def _shipped(monkeypatch):
    """The shipped models, sparse layers, word clouds and feature views, as a
    user has them."""
    monkeypatch.setattr(store, "SHIPPED_DIR", ASSETS_DIR / "models")
    monkeypatch.setattr(sparse_layer, "SHIPPED_DIR", ASSETS_DIR / "sparse_layers")
    monkeypatch.setattr(lime_clouds, "SHIPPED_DIR", ASSETS_DIR / "wordclouds")
    monkeypatch.setattr(views, "SHIPPED_DIR", ASSETS_DIR / "feature_views")
    with torch_threads(1):
        yield


def _home() -> AppTest:
    return AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()


def _starts(at: AppTest) -> list[tuple[str, str, dict]]:
    """The Home page's links: (label, URL path, query parameters)."""
    return [
        (link.value, link.proto.page, parse_qs(link.proto.query_string))
        for link in at.get("page_link")
    ]


def test_home_is_the_first_page_and_offers_every_guided_start():
    at = _home()
    assert_ok(at, errors=True)
    assert at.title[0].value == "SparseLens"
    text = " ".join(m.value for m in at.markdown)
    for method in ("Neural LASSO", "Group LASSO", "Sparse decision layers"):
        assert method in text
    assert "CAFO / CASO" in text and "Rate-distortion explanations" in text
    titles = [h.value for h in at.subheader]
    assert titles == [
        "ICU: how gradient-regularised models read lab values",
        "Sparse decision layers live",
        "Debug a text model",
        "Debug an image model",
        "Sparse saliency",
        "Bring your own data",
    ]
    paths = [path for _, path, _ in _starts(at)]
    assert paths == [
        "gradients",
        "lambda_sweep",
        "word_clouds",
        "counterfactuals",
        "misclassifications",
        "feature_views",
        "misclassifications",
        "saliency_lab",
        "add_data",
    ]
    icu = _starts(at)[0][2]
    assert icu == {state.Q_DATASET: ["icu_physionet2012"], state.Q_MODELS: ICU_MODELS}


#: What each guided start (by its link's label) needs here.
NEEDS = {
    "Input gradients": "icu_physionet2012",
    "λ sweep": "sst2",
    "1 · Word clouds": "sst2",
    "2 · Counterfactuals": "sst2",
    "3 · Misclassifications": "sst2",
    "1 · Feature views": "cifar10",
    "2 · Misclassifications": "cifar10",
    "Saliency lab": "digits",
}


@pytest.mark.parametrize("label", list(NEEDS) + ["Add data"])
def test_each_guided_start_opens_its_page_with_its_settings(label):
    if label in NEEDS:
        require(NEEDS[label])
    at = _home()
    ((path, params),) = [(link, p) for text, link, p in _starts(at) if text == label]
    at.query_params = params
    at.switch_page(PAGE_FILES[path]).run()
    assert_ok(at, errors=True)
    assert not at.warning, [w.value for w in at.warning]  # every value was valid
    if state.Q_DATASET in params:
        assert at.selectbox(key=state.DATASET).value == params[state.Q_DATASET][0]
    if path == "gradients":
        key = state.for_dataset(state.INSPECT_MODELS, "icu_physionet2012")
        assert at.multiselect(key=key).value == ICU_MODELS
    if state.Q_LAYER in params:
        assert params[state.Q_LAYER][0] in [s.value for s in at.selectbox]
    # Every parameter of the link is on the landed page's own link.
    for param, values in params.items():
        got = at.query_params[param]
        assert (got if isinstance(got, list) else [got]) == values, param
