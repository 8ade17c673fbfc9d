"""The Input gradients, PCA maps and Weights pages, driven under AppTest."""

from __future__ import annotations

import json

import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.data import load_dataset
from core.neural_lasso import gradients as nl_gradients
from core.training.models import build_model
from core.training.penalties import make_penalty
from core.training.store import list_models, save_model
from core.training.train import TrainConfig, store_result, train
from dashboard.app_pages.neural_lasso import inspecting
from dashboard.common import state
from tests.dashboard.apptest import assert_ok, require, run_app

GRADIENTS_PAGE = "app_pages/neural_lasso/gradients.py"
PCA_PAGE = "app_pages/neural_lasso/pca.py"
WEIGHTS_PAGE = "app_pages/neural_lasso/weights.py"
PAGES = [GRADIENTS_PAGE, PCA_PAGE, WEIGHTS_PAGE]
BC = "breast_cancer"
IDS = ("bc-plain", "bc-l1", "bc-grad")


@pytest.fixture(scope="module")
def trained():
    """Three tiny breast-cancer MLPs (2 epochs), trained once for the module."""
    require(BC)
    ds = load_dataset(BC, download=False)
    results = [
        train(ds, "mlp", [make_penalty(p, s)], TrainConfig(epochs=2))
        for p, s in [("none", 0.0), ("l1_weights", 5e-5), ("grad_l1", 0.1)]
    ]
    return ds, results


@pytest.fixture
def stored(trained):
    """The three models, saved into this test's (empty) model store."""
    ds, results = trained
    for model_id, result in zip(IDS, results, strict=True):
        store_result(result, ds, model_id=model_id)
    return ds


def _open(dataset: str, page: str) -> AppTest:
    at = run_app(dataset, page)
    _check(at)
    return at


def _check(at: AppTest) -> None:
    assert_ok(at, errors=True)


def _charts(at: AppTest) -> list:
    return list(at.get("plotly_chart"))


def _figure(chart) -> dict:
    return json.loads(chart.proto.spec)


def _count(chart, kind: str) -> int:
    return sum(t["type"] == kind for t in _figure(chart)["data"])


def _text(chart) -> str:
    """Every string of the figure, unescaped (the spec is ASCII-only JSON)."""
    return json.dumps(_figure(chart), ensure_ascii=False)


def _downloads(at: AppTest) -> set[str]:
    return {b.key for b in at.download_button}


def test_gradients_page_compares_the_three_models(stored):
    at = _open(BC, GRADIENTS_PAGE)
    models_key = state.for_dataset(state.INSPECT_MODELS, BC)
    assert at.multiselect(key=models_key).value == list(IDS)
    features_key = state.for_setting(state.INSPECT_FEATURES, BC, *IDS)
    default = at.multiselect(key=features_key).value
    assert len(default) == nl_gradients.N_TOP_FEATURES
    (chart,) = _charts(at)
    assert _count(chart, "scattergl") == len(default) * 3 * 2  # × models × classes
    assert "toImageButtonOptions" in chart.proto.config
    assert [m.label for m in at.metric] == [i.replace("-", "\\-") for i in IDS]
    assert {
        state.download_key(state.DOWNLOAD_INSPECT, k)
        for k in ("points", "trend", "smoothness")
    } <= _downloads(at)
    assert any("camera" in c.value for c in at.caption)

    # Two features, two models, LOWESS, the other class, the training split.
    at.multiselect(key=features_key).set_value(["mean radius", "worst area"]).run()
    _check(at)
    assert _count(_charts(at)[0], "scattergl") == 2 * 3 * 2
    at.multiselect(key=models_key).set_value(["bc-plain", "bc-grad"])
    at.radio(key=state.INSPECT_TREND).set_value("lowess")
    at.selectbox(key=state.for_dataset(state.INSPECT_TARGET, BC)).set_value(0)
    at.radio(key=state.INSPECT_SPLIT).set_value("train")
    at.toggle(key=state.INSPECT_SHARE_Y).set_value(False).run()
    _check(at)
    spec = _text(_charts(at)[0])
    assert "LOWESS" in spec and "log p(malignant)" in spec and "bc-l1" not in spec
    assert len(at.metric) == 2
    at.selectbox(key=state.for_dataset(state.INSPECT_TARGET, BC)).set_value(
        inspecting.ALL_CLASSES
    ).run()
    _check(at)
    assert "Σₖ log pₖ" in _text(_charts(at)[0])


def test_pca_page_shares_one_basis(stored):
    at = _open(BC, PCA_PAGE)
    gradients, probability = _charts(at)
    assert _count(gradients, "scattergl") == nl_gradients.N_TOP_FEATURES
    assert _count(probability, "scattergl") == 3 * 2
    assert any("PC 1" in c.value and "PC 2" in c.value for c in at.caption)
    assert "PCA of the standardised inputs" in _projection_caption(at)
    assert {
        state.download_key(state.DOWNLOAD_PCA, k) for k in ("gradients", "probability")
    } <= _downloads(at)
    key = state.for_setting(state.PCA_MODEL, BC, *IDS)
    at.selectbox(key=key).set_value("bc-grad").run()
    _check(at)
    assert "bc-grad" in _text(_charts(at)[0])
    at.selectbox(key=state.for_dataset(state.PCA_TARGET, BC)).set_value(
        inspecting.ALL_CLASSES
    ).run()
    _check(at)
    assert "confidence" in _text(_charts(at)[1])


def test_weights_page_counts_zeros(stored):
    at = _open(BC, WEIGHTS_PAGE)
    (chart,) = _charts(at)
    assert _count(chart, "heatmap") == 3
    table = at.dataframe[0].value
    assert list(table["model"]) == list(IDS)
    assert set(table["features"]) == {30} and set(table["hidden units"]) == {50}
    at.select_slider(key=state.WEIGHTS_TOLERANCE).set_value(0.1).run()
    _check(at)
    loose = at.dataframe[0].value
    assert (loose["tolerance"] > table["tolerance"]).all()
    assert {
        state.download_key(state.DOWNLOAD_WEIGHTS, k) for k in ("zeros", "matrix")
    } <= _downloads(at)


def test_a_group_lasso_model_shows_its_zero_columns():
    require(BC)
    ds = load_dataset(BC, download=False)
    torch.manual_seed(0)
    model = build_model("mlp", n_features=ds.n_features, n_classes=2)
    with torch.no_grad():
        model[0].weight[:, :5] = 0.0  # five features switched off exactly
    kw = {"n_features": ds.n_features, "n_classes": 2}
    save_model(
        model,
        dataset=BC,
        architecture="mlp",
        arch_kwargs=kw,
        penalty="group_l1",
        model_id="bc-group",
    )
    at = _open(BC, WEIGHTS_PAGE)
    (row,) = at.dataframe[0].value.to_dict("records")
    assert row["zero feature columns"] == 5
    assert row["zeroed features"].startswith(ds.feature_names[0])


@pytest.mark.parametrize("page", PAGES)
def test_pages_without_models_say_what_to_do(page):
    require(BC)
    # The suite's store is empty and holds no shipped models (tests/conftest.py).
    assert list_models(BC) == []
    at = _open(BC, page)
    assert not _charts(at)
    assert any("No models are stored" in i.value for i in at.info)
    assert any("Train" in i.value for i in at.info)


@pytest.mark.parametrize("page", PAGES)
def test_pages_explain_datasets_without_features(page):
    require("sst2")
    at = _open("sst2", page)
    assert any("feature" in i.value for i in at.info)
    assert not _charts(at)


def test_synthetic_panels_mark_the_relevant_features():
    require("synthetic")
    ds = load_dataset("synthetic", download=False)
    kw = {"n_features": ds.n_features, "n_classes": 2}
    torch.manual_seed(0)
    save_model(
        build_model("mlp", **kw),
        dataset="synthetic",
        architecture="mlp",
        arch_kwargs=kw,
        model_id="syn-plain",
    )
    a, _ = ds.info["relevant_features"]["0"]["label_features"]
    feature = ds.feature_names[a]
    at = _open("synthetic", GRADIENTS_PAGE)
    key = state.for_setting(state.INSPECT_FEATURES, "synthetic", "syn-plain")
    at.multiselect(key=key).set_value([feature, "region_0"]).run()
    _check(at)
    spec = _text(_charts(at)[0])
    assert spec.count("★") == 2  # both are relevant somewhere
    assert "region %{customdata[1]}" in spec  # the hover names the region
    notes = " ".join(c.value for c in at.caption)
    assert "the label of region 0 depends on it" in notes
    assert "it indicates region 0" in notes


def _store_untrained(name: str) -> str:
    """One seeded, untrained MLP for ``name`` in this test's model store."""
    ds = load_dataset(name, download=False)
    kw = {"n_features": ds.n_features, "n_classes": ds.n_classes}
    torch.manual_seed(0)
    model_id = f"{name}-plain"
    save_model(
        build_model("mlp", **kw),
        dataset=name,
        architecture="mlp",
        arch_kwargs=kw,
        model_id=model_id,
    )
    return model_id


@pytest.mark.parametrize("name", ["icu_rhc", "icu_physionet2012"])
def test_icu_gradients_page_opens_on_continuous_labs_and_vitals(name):
    require(name)
    model_id = _store_untrained(name)
    ds = load_dataset(name, download=False)
    at = _open(name, GRADIENTS_PAGE)
    key = state.for_setting(state.INSPECT_FEATURES, name, model_id)
    chosen = at.multiselect(key=key).value
    assert len(chosen) == nl_gradients.N_TOP_FEATURES
    continuous = nl_gradients.continuous_features(ds)
    for f in chosen:
        assert f in ds.normal_ranges and continuous[ds.feature_names.index(f)], f
    # Indicators and one-hot columns are still offered.
    options = at.multiselect(key=key).options
    assert any(o.endswith("_missing") for o in options)
    assert len(options) == ds.n_features


def _projection_caption(at: AppTest) -> str:
    """The PCA page's caption on its projection, Markdown escapes removed."""
    (caption,) = [c.value for c in at.caption if "Projection:" in c.value]
    return caption.replace("\\", "")


def test_pca_page_says_which_projection_it_used():
    name = "icu_physionet2012"
    require(name)
    _store_untrained(name)
    at = _open(name, PCA_PAGE)
    key = state.for_dataset(state.PCA_PROJECTION, name)
    assert at.radio(key=key).value == "signed_log"
    caption = _projection_caption(at)
    assert "signed log of the skewed variables" in caption
    assert "|skewness| > 2" in caption and "the default here" in caption
    assert "PC 1 (58.7%)" not in caption
    at.radio(key=key).set_value("standardised").run()
    _check(at)
    caption = _projection_caption(at)
    assert "standardised inputs" in caption and "chosen above" in caption
    assert "PC 1 (58.7%): AST_max" in caption
