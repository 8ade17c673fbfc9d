"""The Saliency lab page, driven under AppTest."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
import torch

from core.training.models import build_model
from core.training.store import save_model
from dashboard.common import state
from tests.core.threads import one_torch_thread  # noqa: F401
from tests.dashboard.apptest import assert_ok, require, run_app

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PAGE = "app_pages/saliency/saliency_lab.py"
FAST = ["Saliency", "CASO", "RC-RDE"]


def _store(dataset: str, architecture: str, model_id: str, **kwargs) -> None:
    torch.manual_seed(0)
    model = build_model(architecture, **kwargs)
    save_model(
        model,
        dataset=dataset,
        architecture=architecture,
        arch_kwargs=kwargs,
        model_id=model_id,
    )


def _param(method: str, name: str, dataset: str = "digits") -> str:
    return state.for_setting(state.SALIENCY_PARAM, dataset, method, name)


def _open(dataset: str):
    at = run_app(dataset, PAGE)
    assert_ok(at, errors=True)
    return at


def _fast(at, dataset: str = "digits"):
    at.multiselect(key=state.SALIENCY_METHODS).set_value(FAST).run()
    at.number_input(key=_param("RC-RDE", "n_iter", dataset)).set_value(5).run()
    assert_ok(at, errors=True)
    return at


def _array(z) -> np.ndarray:
    """A figure's array, whether plotly wrote it as a list or base64 bytes."""
    if isinstance(z, dict):
        flat = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"])
        shape = [int(v) for v in str(z.get("shape", len(flat))).split(",")]
        return flat.reshape(shape)
    return np.asarray(z, dtype=float)


def _traces(chart) -> list[dict]:
    return json.loads(chart.proto.spec)["data"]


def test_without_a_model_the_page_says_how_to_train_one():
    require("digits")
    at = _open("digits")
    assert any(
        "python -m core train --dataset digits --model cnn_digits" in i.value
        for i in at.info
    )


def test_a_text_dataset_without_features_is_explained():
    require("mr")
    at = _open("mr")
    assert any("raw text but no features" in i.value for i in at.info)


def test_digits_maps_curves_and_downloads():
    require("digits")
    _store("digits", "cnn_digits", "digits-cnn")
    at = _fast(_open("digits"))
    maps, curves = at.get("plotly_chart")
    heatmaps = [t for t in _traces(maps) if t["type"] == "heatmap"]
    assert len(heatmaps) == 1 + len(FAST)  # the input, then one map per method
    z = _array(heatmaps[1]["z"])
    assert z.shape == (8, 8) and z.min() >= 0 and z.max() == 1
    names = {t["name"] for t in _traces(curves)}
    assert names == set(FAST)
    (summary,) = at.dataframe
    assert list(summary.value["method"]) == FAST
    keys = {b.key for b in at.download_button}
    assert {
        state.download_key(state.DOWNLOAD_SALIENCY, k)
        for k in ("maps", "maps_html", "curves", "areas")
    } <= keys

    # λ₁ by hand and a fixed λ₂, another example, three examples in the curves.
    at.checkbox(key=_param("CASO", "auto_lambda1")).set_value(False)
    at.number_input(key=_param("CASO", "lambda1")).set_value(0.5)
    at.checkbox(key=_param("CASO", "auto_lambda2")).set_value(False)
    at.number_input(key=_param("CASO", "lambda2")).set_value(1.0)
    at.number_input(key=state.SALIENCY_EXAMPLE).set_value(7)
    at.number_input(key=state.SALIENCY_CURVE_EXAMPLES).set_value(3).run()
    assert_ok(at, errors=True)
    assert (at.dataframe[0].value["n_examples"] == 3).all()

    # A rate larger than the number of features is an error message, not a crash.
    at.number_input(key=_param("RC-RDE", "k")).set_value(100).run()
    assert_ok(at)
    assert any("k must be at most 64" in e.value for e in at.error)


def test_hessian_study_toggle():
    require("digits")
    _store("digits", "cnn_digits", "digits-cnn")
    at = _fast(_open("digits"))
    at.toggle(key=state.SALIENCY_STUDY).set_value(True).run()
    assert_ok(at, errors=True)
    charts = at.get("plotly_chart")
    assert len(charts) == 3
    assert "rank-one" in json.dumps(
        json.loads(charts[2].proto.spec), ensure_ascii=False
    )
    assert state.download_key(state.DOWNLOAD_SALIENCY, "study") in {
        b.key for b in at.download_button
    }


@pytest.mark.parametrize("dataset", ["breast_cancer"])
def test_tabular_maps_are_a_methods_by_features_heatmap(dataset):
    require(dataset)
    from core.data import load_dataset

    ds = load_dataset(dataset, download=False)
    _store(dataset, "mlp", "bc-mlp", n_features=ds.n_features, n_classes=ds.n_classes)
    _store("digits", "cnn_digits", "digits-cnn")
    # A rate chosen for digits (64 features) does not follow to 30 features.
    at = _fast(_open("digits"))
    at.number_input(key=_param("RC-RDE", "k")).set_value(60).run()
    at.selectbox(key=state.DATASET).set_value(dataset).run()
    assert_ok(at, errors=True)
    at = _fast(at, dataset)
    (heatmap,) = _traces(at.get("plotly_chart")[0])
    assert heatmap["y"] == FAST and len(heatmap["x"]) == 20


@pytest.mark.slow
def test_cifar10_colour_input_and_maps():
    require("cifar10")
    _store("cifar10", "cnn9", "cifar-cnn9")
    at = _open("cifar10")
    at.multiselect(key=state.SALIENCY_METHODS).set_value(["Saliency", "CASO"]).run()
    assert_ok(at, errors=True)
    traces = _traces(at.get("plotly_chart")[0])
    assert traces[0]["type"] == "image"  # the colour input, then the maps
    assert [t["type"] for t in traces[1:]] == ["heatmap"] * 2
    assert _array(traces[1]["z"]).shape == (32, 32)  # channels summed
