"""Shareable links: a URL with every parameter of a page reopens the same view.

Each case opens a page from a URL (the query string set before the run that
switches to it, as a pasted link or a guided start does), checks every widget
the URL names and that the URL is written back unchanged, then changes a
widget and checks the URL follows. The shipped models and layers are used.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import core.sparse_layers.debugging.lime_clouds as lime_clouds
import core.sparse_layers.sparse_layer as sparse_layer
import core.training.store as store
from core.paths import ASSETS_DIR
from dashboard.common import state
from tests.dashboard.apptest import APP, TIMEOUT, assert_ok, require

GRADIENTS = "app_pages/neural_lasso/gradients.py"
PCA = "app_pages/neural_lasso/pca.py"
SWEEP = "app_pages/sparse_layers/lambda_sweep.py"
CLOUDS = "app_pages/sparse_layers/word_clouds.py"
MISCLASSIFICATIONS = "app_pages/sparse_layers/misclassifications.py"
SALIENCY = "app_pages/saliency/saliency_lab.py"
BC = "breast_cancer"
MNIST_LAYER = "mnist-penultimate-mnist-mlp-none"


@pytest.fixture(autouse=True)
def _shipped(monkeypatch):
    """The shipped models, sparse layers and word clouds, as a user has them."""
    monkeypatch.setattr(store, "SHIPPED_DIR", ASSETS_DIR / "models")
    monkeypatch.setattr(sparse_layer, "SHIPPED_DIR", ASSETS_DIR / "sparse_layers")
    monkeypatch.setattr(lime_clouds, "SHIPPED_DIR", ASSETS_DIR / "wordclouds")


def open_link(page: str, params: dict) -> AppTest:
    """Open the app, then follow a link to ``page`` carrying ``params``."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.query_params = dict(params)
    at.switch_page(page).run()
    return at


def widget(at: AppTest, kind: str, key: str):
    return getattr(at, kind)(key=key)


#: page, dataset needed, the URL's parameters, and the widgets they set:
#: (widget kind, key) -> value.
CASES = {
    "input gradients": (
        GRADIENTS,
        BC,
        {
            state.Q_DATASET: BC,
            state.Q_MODELS: [f"{BC}-mlp-grad_l1", f"{BC}-mlp-none"],
            state.Q_SPLIT: "val",
            state.Q_CLASS: "0",
            state.Q_FEATURES: ["mean area", "worst texture"],
        },
        {
            ("selectbox", state.DATASET): BC,
            ("multiselect", f"{state.INSPECT_MODELS}[{BC}]"): [
                f"{BC}-mlp-grad_l1",
                f"{BC}-mlp-none",
            ],
            ("radio", state.INSPECT_SPLIT): "val",
            ("selectbox", f"{state.INSPECT_TARGET}[{BC}]"): 0,
            (
                "multiselect",
                state.for_setting(
                    state.INSPECT_FEATURES, BC, f"{BC}-mlp-grad_l1", f"{BC}-mlp-none"
                ),
            ): ["mean area", "worst texture"],
        },
    ),
    "PCA maps": (
        PCA,
        BC,
        {
            state.Q_DATASET: BC,
            state.Q_MODELS: [f"{BC}-mlp-none", f"{BC}-mlp-l1_weights"],
            state.Q_CLASS: "-1",
            state.Q_MODEL: f"{BC}-mlp-l1_weights",
            state.Q_PROJECTION: "signed_log",  # not the default on breast_cancer
        },
        {
            ("multiselect", f"{state.PCA_MODELS}[{BC}]"): [
                f"{BC}-mlp-none",
                f"{BC}-mlp-l1_weights",
            ],
            ("selectbox", f"{state.PCA_TARGET}[{BC}]"): -1,
            (
                "selectbox",
                state.for_setting(
                    state.PCA_MODEL, BC, f"{BC}-mlp-none", f"{BC}-mlp-l1_weights"
                ),
            ): f"{BC}-mlp-l1_weights",
            ("radio", f"{state.PCA_PROJECTION}[{BC}]"): "signed_log",
        },
    ),
    "λ sweep": (
        SWEEP,
        BC,
        {
            state.Q_DATASET: BC,
            state.Q_LAYER: MNIST_LAYER,
            state.Q_LAMBDA: "40",
            state.Q_CLASS: "3",
            state.Q_SIZE: "5",
        },
        {
            ("selectbox", state.SWEEP_LAYER): MNIST_LAYER,
            ("select_slider", f"{state.SWEEP_INDEX}[{MNIST_LAYER}]"): 40,
            ("selectbox", f"{state.SWEEP_CLASS}[{MNIST_LAYER}]"): 3,
            ("number_input", state.SWEEP_SIZE): 5,
        },
    ),
    "misclassifications": (
        MISCLASSIFICATIONS,
        "digits",
        {
            state.Q_DATASET: "digits",
            state.Q_LAYER: MNIST_LAYER,
            state.Q_DECISION: "sparse",
            state.Q_SPLIT: "val",
            state.Q_LAMBDA: "30",
            state.Q_EXAMPLE: "2",
        },
        {
            (
                "selectbox",
                state.for_setting(state.DEBUG_LAYER, "misclassifications"),
            ): MNIST_LAYER,
            ("radio", state.MISCLASSIFICATIONS_LAYER): "sparse",
            ("selectbox", state.MISCLASSIFICATIONS_SPLIT): "val",
            ("select_slider", f"{state.MISCLASSIFICATIONS_INDEX}[{MNIST_LAYER}]"): 30,
            (
                "selectbox",
                state.for_setting(
                    state.MISCLASSIFICATIONS_PICK, MNIST_LAYER, "sparse", "val", "30"
                ),
            ): 2,
        },
    ),
    "saliency lab": (
        SALIENCY,
        "digits",
        {
            state.Q_DATASET: "digits",
            state.Q_MODEL: "digits-cnn_digits-none",
            state.Q_EXAMPLE: "7",
            state.Q_METHODS: ["Saliency", "CAFO"],
        },
        {
            ("selectbox", f"{state.SALIENCY_MODEL}[digits]"): "digits-cnn_digits-none",
            ("number_input", state.SALIENCY_EXAMPLE): 7,
            ("multiselect", state.SALIENCY_METHODS): ["Saliency", "CAFO"],
        },
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_link_with_every_parameter_round_trips(case):
    page, dataset, params, widgets = CASES[case]
    require(dataset)
    at = open_link(page, params)
    assert_ok(at, errors=True)
    assert not at.warning, [w.value for w in at.warning]
    for (kind, key), value in widgets.items():
        assert widget(at, kind, key).value == value, key
    assert at.query_params == params  # written back as it came


def test_changing_a_widget_updates_the_link():
    require(BC)
    page, _, params, _ = CASES["input gradients"]
    at = open_link(page, params)
    at.radio(key=state.INSPECT_SPLIT).set_value("train").run()
    at.multiselect(key=f"{state.INSPECT_MODELS}[{BC}]").set_value(
        [f"{BC}-mlp-none"]
    ).run()
    assert_ok(at, errors=True)
    assert at.query_params[state.Q_SPLIT] == "train"
    assert at.query_params[state.Q_MODELS] == f"{BC}-mlp-none"
    # The features were chosen for the old models: that widget is new, at its
    # default, and the link carries the default's features.
    key = state.for_setting(state.INSPECT_FEATURES, BC, f"{BC}-mlp-none")
    assert at.query_params[state.Q_FEATURES] == at.multiselect(key=key).value
    # A later run keeps what the user chose: the link is not read again.
    at.run()
    assert at.radio(key=state.INSPECT_SPLIT).value == "train"


def test_changing_the_lambda_updates_the_link():
    page, _, params, _ = CASES["λ sweep"]
    at = open_link(page, params)
    at.select_slider(key=f"{state.SWEEP_INDEX}[{MNIST_LAYER}]").set_value(55).run()
    assert at.query_params[state.Q_LAMBDA] == "55"
    assert at.query_params[state.Q_LAYER] == MNIST_LAYER


BAD = {
    "unknown dataset": ({state.Q_DATASET: "no_such_data"}, state.Q_DATASET),
    "unknown model": (
        {state.Q_DATASET: BC, state.Q_MODELS: ["gone-model"]},
        state.Q_MODELS,
    ),
    "too many models": (
        {
            state.Q_DATASET: BC,
            state.Q_MODELS: [
                f"{BC}-mlp-{p}" for p in ("none", "grad_l1", "l1_weights", "group_l1")
            ],
        },
        state.Q_MODELS,
    ),
    "garbage split": ({state.Q_DATASET: BC, state.Q_SPLIT: "<b>x</b>"}, state.Q_SPLIT),
    "class out of range": ({state.Q_DATASET: BC, state.Q_CLASS: "7"}, state.Q_CLASS),
    "unknown feature": (
        {state.Q_DATASET: BC, state.Q_FEATURES: ["mean area", "[x](http://e.example)"]},
        state.Q_FEATURES,
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_link_with_a_bad_value_opens_with_a_notice(case):
    require(BC)
    params, param = BAD[case]
    at = open_link(GRADIENTS, {state.Q_DATASET: BC, **params})
    assert_ok(at, errors=True)
    (notice,) = at.warning
    assert f"link's {param}" in notice.value.replace("\\", "")
    assert at.title[0].value.startswith("Input gradients")


@pytest.mark.parametrize(
    ("page", "params", "param", "key", "default"),
    [
        (
            PCA,
            {state.Q_DATASET: BC, state.Q_PROJECTION: "rank"},
            state.Q_PROJECTION,
            ("radio", f"{state.PCA_PROJECTION}[{BC}]"),
            "standardised",
        ),
        (
            SWEEP,
            {state.Q_LAYER: MNIST_LAYER, state.Q_SIZE: "0"},
            state.Q_SIZE,
            ("number_input", state.SWEEP_SIZE),
            10,
        ),
    ],
    ids=["projection", "size"],
)
def test_a_bad_projection_or_size_opens_the_default_with_a_notice(
    page, params, param, key, default
):
    require(BC)
    at = open_link(page, params)
    assert_ok(at, errors=True)
    (notice,) = at.warning
    assert f"link's {param}" in notice.value.replace("\\", "")
    assert widget(at, *key).value == default
    assert at.query_params[param] == str(default)


def test_a_lambda_out_of_range_opens_the_selected_lambda():
    at = open_link(SWEEP, {state.Q_LAYER: MNIST_LAYER, state.Q_LAMBDA: "100"})
    assert_ok(at, errors=True)
    (notice,) = at.warning
    assert "lambda" in notice.value
    selected = sparse_layer.load_layer(MNIST_LAYER).selected
    assert at.select_slider(key=f"{state.SWEEP_INDEX}[{MNIST_LAYER}]").value == selected
    assert at.query_params[state.Q_LAMBDA] == str(selected)


def test_an_unknown_layer_opens_the_default_layer():
    at = open_link(SWEEP, {state.Q_LAYER: "../../etc"})
    assert_ok(at, errors=True)
    (notice,) = at.warning
    assert "layer" in notice.value
    assert at.selectbox(key=state.SWEEP_LAYER).value in sparse_layer.list_layers()
