"""The λ sweep page: a stored sparse layer, the slider, the class, the form, the
size target, and what text features mean (the shipped SST-2 layer and clouds)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import streamlit as st

from core.paths import ASSETS_DIR, layers_dir
from core.sparse_layers import sparse_layer
from core.sparse_layers.debugging import lime_clouds
from core.sparse_layers.debugging.workbench import workbench
from core.sparse_layers.glm.selection import select_by_size
from core.sparse_layers.sparse_layer import fit_sparse_layer
from core.training.models import build_model
from core.training.store import save_model
from dashboard.common import state
from tests.core.sparse_layers.test_sparse_layer import toy_features
from tests.dashboard.apptest import assert_ok, require, run_app

PAGE = "app_pages/sparse_layers/lambda_sweep.py"


def test_without_layers_the_page_says_what_to_do():
    at = run_app("breast_cancer", PAGE)
    assert_ok(at, errors=True)
    assert any("sparse-layer" in i.value for i in at.info)


def test_sweeping_lambda_updates_the_numbers():
    layer = fit_sparse_layer(toy_features(2), n_lambdas=15)
    layer.save(layers_dir() / layer.name)
    at = run_app("breast_cancer", PAGE)
    assert_ok(at, errors=True)
    assert at.selectbox(key=state.SWEEP_LAYER).value == "toy-raw"
    # A layer of another dataset says so.
    assert any("fitted on **toy**" in c.value for c in at.caption)
    metric = {m.label: m.value for m in at.metric}
    assert metric["features used"] == str(layer.path.active_features[layer.selected])
    slider = at.select_slider(key=state.for_dataset(state.SWEEP_INDEX, "toy-raw"))
    slider.set_value(0).run()
    assert_ok(at, errors=True)
    assert {m.label: m.value for m in at.metric}["features used"] == "0"
    last = len(layer.path) - 1
    at.select_slider(key=state.for_dataset(state.SWEEP_INDEX, "toy-raw")).set_value(
        last
    ).run()
    at.selectbox(key=state.for_dataset(state.SWEEP_CLASS, "toy-raw")).set_value(2).run()
    assert_ok(at, errors=True)
    shown = {m.label: m.value for m in at.metric}
    assert shown["features used"] == str(layer.path.active_features[last])
    assert np.isclose(
        float(shown["test accuracy"]), layer.test_accuracy[last], atol=1e-3
    )


def test_computing_a_path_from_the_page():
    at = run_app("breast_cancer", PAGE)
    at.selectbox(
        key=state.for_dataset(state.SWEEP_FEATURES, "breast_cancer")
    ).set_value("raw")
    at.number_input(key=state.SWEEP_LAMBDAS).set_value(10)
    at.button[0].click().run()
    assert_ok(at, errors=True)
    assert at.selectbox(key=state.SWEEP_LAYER).value == "breast_cancer-raw"
    assert not any("fitted on" in c.value for c in at.caption)
    assert (layers_dir() / "breast_cancer-raw" / "layer.json").is_file()


def test_models_chosen_in_the_sidebar_offer_their_penultimate_features():
    # The page once read an unkeyed MODELS entry that the sidebar never sets.
    kw = {"n_features": 30, "n_classes": 2}
    save_model(
        build_model("mlp", **kw),
        dataset="breast_cancer",
        architecture="mlp",
        arch_kwargs=kw,
        penalty="none",
        model_id="bc-mlp",
    )
    at = run_app("breast_cancer", PAGE)
    at.multiselect(key=state.for_dataset(state.MODELS, "breast_cancer")).set_value(
        ["bc-mlp"]
    ).run()
    assert_ok(at, errors=True)
    features = at.selectbox(
        key=state.for_dataset(state.SWEEP_FEATURES, "breast_cancer")
    )
    assert features.options == ["raw", "penultimate:bc-mlp"]


def _toy_classes_named_ant_bee_cat(monkeypatch):
    """The toy layers' dataset names its classes; the page's cached names are
    keyed on the dataset's content, which this substitute loader bypasses."""
    named = SimpleNamespace(class_names=("ant", "bee", "cat"))
    monkeypatch.setattr(sparse_layer, "load_dataset", lambda name: named)
    st.cache_data.clear()


def test_classes_are_named_by_the_layers_dataset(monkeypatch):
    # The path stores class codes; the page once showed "0", "1" and "2".
    _toy_classes_named_ant_bee_cat(monkeypatch)
    layer = fit_sparse_layer(toy_features(3), n_lambdas=5)
    layer.save(layers_dir() / layer.name)
    at = run_app("breast_cancer", PAGE)
    assert_ok(at, errors=True)
    box = at.selectbox(key=state.for_dataset(state.SWEEP_CLASS, layer.name))
    assert box.options == ["ant", "bee", "cat"]


def test_a_size_target_is_marked_and_jumped_to(monkeypatch):
    _toy_classes_named_ant_bee_cat(monkeypatch)
    layer = fit_sparse_layer(toy_features(3), n_lambdas=15)
    layer.save(layers_dir() / layer.name)
    at = run_app("breast_cancer", PAGE)
    assert_ok(at, errors=True)
    at.number_input(key=state.SWEEP_SIZE).set_value(3).run()
    assert_ok(at, errors=True)
    chosen = select_by_size(layer.path, 3)
    assert chosen != layer.selected
    assert any(f"By size (dash-dot): λ[{chosen}]" in c.value for c in at.caption)
    at.button(key=state.SWEEP_JUMP).click().run()
    assert_ok(at, errors=True)
    slider = at.select_slider(key=state.for_dataset(state.SWEEP_INDEX, layer.name))
    assert slider.value == chosen
    shown = {m.label: m.value for m in at.metric}
    assert shown["features used"] == str(layer.path.active_features[chosen])
    # The class is named in the table's title, not numbered.
    assert at.subheader[0].value.startswith("Top features of ant at λ")


@pytest.fixture
def shipped_sst2(tmp_path, monkeypatch):
    """The shipped SST-2 layer and clouds, nothing cached; LIME must not run."""
    require("sst2")
    monkeypatch.setattr(lime_clouds, "cache_dir", lambda: tmp_path)
    monkeypatch.setattr(sparse_layer, "SHIPPED_DIR", ASSETS_DIR / "sparse_layers")

    def no_lime(*args, **kwargs):
        raise AssertionError("the λ sweep page computed LIME word clouds")

    monkeypatch.setattr(lime_clouds, "_explain", no_lime)
    return "sst2-finetuned-sst2"  # the default: first of the dataset's layers


def test_text_features_show_their_cloud_words_and_open_their_view(
    shipped_sst2, monkeypatch
):
    monkeypatch.setattr(lime_clouds, "SHIPPED_DIR", ASSETS_DIR / "wordclouds")
    at = run_app("sst2", PAGE)
    assert_ok(at, errors=True)
    top = at.dataframe(key=state.SWEEP_TOP_TABLE).value
    _, clouds = workbench(shipped_sst2).stored_clouds(lime_clouds.READABLE_MIN_COUNT)
    first = int(top.feature.iloc[0])
    assert top["raised by"].iloc[0] == ", ".join(clouds.words(first, "positive")[:5])
    assert top["lowered by"].iloc[0] == ", ".join(clouds.words(first, "negative")[:5])
    assert all(top["raised by"]) and all(top["lowered by"])
    # The meanings leave out rare words (at 1, words seen once lead them).
    seen = dict(zip(clouds.vocab, clouds.occurrences, strict=True))
    shown = ", ".join([*top["raised by"], *top["lowered by"]]).split(", ")
    assert min(seen[w] for w in shown) >= lime_clouds.READABLE_MIN_COUNT > 1
    assert any("words seen at least 3 times" in c.value for c in at.caption)
    assert any("872 val sentences" in c.value for c in at.caption)
    # The shipped layer is multinomial over SST-2's two named classes.
    assert at.selectbox(
        key=state.for_dataset(state.SWEEP_CLASS, shipped_sst2)
    ).options == ["negative", "positive"]
    assert at.subheader[0].value.startswith("Top features of negative")
    second = int(top.feature.iloc[1])
    at.session_state[state.SWEEP_TOP_TABLE] = {
        "selection": {"rows": [1], "columns": []}
    }
    at.run()
    assert_ok(at, errors=True)
    feature = at.selectbox(key=state.for_dataset(state.CLOUDS_FEATURE, shipped_sst2))
    assert feature.value == second
    assert at.subheader[0].value == f"Feature {second}"
    assert at.query_params[state.Q_FEATURE] == str(second)


def test_text_features_without_clouds_say_how_to_compute_them(shipped_sst2):
    at = run_app("sst2", PAGE)
    assert_ok(at, errors=True)
    assert "raised by" not in at.dataframe(key=state.SWEEP_TOP_TABLE).value
    assert any(
        f"No clouds cached — `python -m core word-clouds --layer {shipped_sst2}`"
        in c.value
        for c in at.caption
    )
