"""The Word clouds, Counterfactuals, Bias probe and Errors pages, widgets driven.

Text pages use the shipped SST-2 MiniLM layer with word clouds from three
validation sentences and 20 LIME samples (seconds, on the real encoder).
"""

from __future__ import annotations

import shutil

import pytest
from streamlit.testing.v1 import AppTest

import core.sparse_layers.debugging.lime_clouds as lime_clouds
import core.sparse_layers.sparse_layer as sparse_layer
from core.paths import ASSETS_DIR, layers_dir
from core.sparse_layers.debugging.lime_clouds import LimeSettings
from core.sparse_layers.debugging.workbench import workbench
from core.sparse_layers.sparse_layer import compute_sparse_layer, load_layer
from core.threads import torch_threads
from dashboard.common import state
from tests.dashboard.apptest import APP, TIMEOUT, assert_ok, require, run_app

CLOUDS = "app_pages/sparse_layers/word_clouds.py"
CF = "app_pages/sparse_layers/counterfactuals.py"
BIAS = "app_pages/sparse_layers/bias_probe.py"
MISCLASSIFICATIONS = "app_pages/sparse_layers/misclassifications.py"
TINY = LimeSettings(n_samples=20, seed=0)
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def _one_thread():
    with torch_threads(1):
        yield


@pytest.fixture
def sst2_layer(tmp_path, monkeypatch):
    """The shipped SST-2 layer in the user's store; word clouds cached apart."""
    require("sst2")
    shutil.copytree(
        ASSETS_DIR / "sparse_layers" / "sst2-minilm", layers_dir() / "sst2-minilm"
    )
    monkeypatch.setattr(lime_clouds, "cache_dir", lambda: tmp_path)
    return "sst2-minilm"


@pytest.fixture
def sst2_clouds(sst2_layer):
    workbench(sst2_layer).cloud_corpus(TINY, split="val", limit=3)
    return sst2_layer


def test_text_pages_without_a_text_layer_say_what_to_do():
    at = run_app("breast_cancer", CLOUDS)
    assert_ok(at, errors=True)
    assert any("sparse-layer" in i.value for i in at.info)


def test_word_clouds_page_computes_and_shows_a_feature(sst2_layer):
    at = run_app("sst2", CLOUDS)
    assert_ok(at, errors=True)
    assert any("No word clouds" in i.value for i in at.info)
    at.number_input(key=state.DEBUG_LIMIT).set_value(3)
    at.number_input(key=state.DEBUG_SAMPLES).set_value(20)
    at.button(key=state.for_setting(state.DEBUG_COMPUTE, "clouds") + ".submit").click()
    at.run()
    assert_ok(at, errors=True)
    pick = at.selectbox(key=state.for_dataset(state.CLOUDS_FEATURE, sst2_layer))
    first = pick.value
    second = pick.options[1]
    pick.set_value(int(second.split()[1])).run()
    assert_ok(at, errors=True)
    assert at.subheader[0].value == f"Feature {second.split()[1]}" != f"Feature {first}"
    at.slider(key=state.CLOUDS_TOP).set_value(3).run()
    assert_ok(at, errors=True)
    assert len(at.dataframe[1].value) == 3  # weights, highest, lowest
    assert len(at.get("image")) >= 1  # the clouds are drawn


def test_word_clouds_page_opens_ready_from_the_shipped_clouds(tmp_path, monkeypatch):
    # A fresh machine: nothing cached, the shipped layer and its shipped clouds.
    require("sst2")
    monkeypatch.setattr(lime_clouds, "cache_dir", lambda: tmp_path)
    monkeypatch.setattr(lime_clouds, "SHIPPED_DIR", ASSETS_DIR / "wordclouds")
    monkeypatch.setattr(sparse_layer, "SHIPPED_DIR", ASSETS_DIR / "sparse_layers")
    at = run_app("sst2", CLOUDS)
    assert_ok(at, errors=True)
    assert not any("No word clouds" in i.value for i in at.info)
    assert at.subheader[0].value.startswith("Feature ")
    assert any("From 872 sentences, 500 LIME samples" in c.value for c in at.caption)
    assert len(at.get("image")) >= 1
    # Readable clouds by default (docs/debugging.md); the counterfactuals keep
    # every word, as Algorithm 3 and `python -m core counterfactuals` do.
    field = state.for_setting(state.DEBUG_MIN_COUNT, "clouds")
    assert at.number_input(key=field).value == lime_clouds.READABLE_MIN_COUNT > 1
    at.switch_page(CF).run()
    assert_ok(at, errors=True)
    field = state.for_setting(state.DEBUG_MIN_COUNT, "cf")
    assert at.number_input(key=field).value == 1


def test_counterfactuals_page_opens_on_a_sentence_with_a_counterfactual(
    tmp_path, monkeypatch
):
    # A fresh machine with the shipped frozen-MiniLM layer and clouds: the
    # first test sentence has no counterfactual, so the page must not open on
    # it...
    require("sst2")
    monkeypatch.setattr(lime_clouds, "cache_dir", lambda: tmp_path)
    monkeypatch.setattr(lime_clouds, "SHIPPED_DIR", ASSETS_DIR / "wordclouds")
    monkeypatch.setattr(sparse_layer, "SHIPPED_DIR", ASSETS_DIR / "sparse_layers")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.query_params = {state.Q_LAYER: "sst2-minilm"}
    at.switch_page(CF).run()
    assert_ok(at, errors=True)
    pick = at.selectbox(key=state.for_dataset(state.CF_PICK, "sst2-minilm"))
    assert pick.value > 0
    assert not any("no counterfactual" in w.value for w in at.warning)
    tables = [d.value for d in at.dataframe if "counterfactual" in d.value.columns]
    assert len(tables) == 1 and len(tables[0]) > 0
    # ...while a sentence picked in the URL still wins.
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.query_params = {state.Q_LAYER: "sst2-minilm", state.Q_EXAMPLE: "0"}
    at.switch_page(CF).run()
    assert_ok(at, errors=True)
    assert at.selectbox(key=state.for_dataset(state.CF_PICK, "sst2-minilm")).value == 0
    assert any("no counterfactual" in w.value for w in at.warning)


def test_counterfactuals_page_typed_picked_and_batch(sst2_clouds):
    at = run_app("sst2", CF)
    assert_ok(at, errors=True)
    assert {m.label for m in at.metric} >= {"prediction", "score (probability)"}
    at.radio(key=state.CF_SOURCE).set_value("type one").run()
    at.text_input(key=state.CF_TEXT).set_value(f"zzz {SCRIPT} qqq").run()
    assert_ok(at, errors=True)
    assert any("no counterfactual" in w.value for w in at.warning)
    assert any(SCRIPT in t.value for t in at.text)  # shown as plain text
    assert not any("<script>" in m.value for m in at.markdown)
    at.radio(key=state.CF_LAYER).set_value("dense").run()
    at.number_input(key=state.CF_BATCH_N).set_value(6)
    at.button(key=state.CF_BATCH_RUN).click().run()
    assert_ok(at, errors=True)
    overview = at.dataframe[-2].value
    # Both layers' rates over all sentences and over those with a candidate in
    # both, each with its interval.
    for sentences in ("all sentences", "with a candidate in both layers"):
        rows = overview[overview.sentences == sentences]
        assert rows.layer.tolist() == ["sparse", "dense"]
        assert rows["95% CI"].str.fullmatch(r"\d\.\d{3}–\d\.\d{3}|—").all()
    assert (overview[overview.sentences == "all sentences"].n == 6).all()
    assert len(at.dataframe[-1].value) == 12


def test_bias_probe_page_runs_the_probe(sst2_clouds):
    at = run_app("sst2", BIAS)
    assert_ok(at, errors=True)
    at.text_input(key=state.for_dataset(state.BIAS_WORD, sst2_clouds)).set_value(
        "christianity"
    )
    at.number_input(key=state.BIAS_N).set_value(12)
    at.selectbox(key=state.BIAS_POSITION).set_value("start")
    at.button(key=state.BIAS_RUN).click().run()
    assert_ok(at, errors=True)
    table = at.dataframe[-1].value
    assert len(table) == 4 and set(table.layer) == {"sparse", "dense"}
    assert (table.n <= 12).all()


def test_misclassifications_page_on_a_multiclass_layer():
    require("digits")
    compute_sparse_layer("digits", "raw", n_lambdas=8)
    at = run_app("digits", MISCLASSIFICATIONS)
    assert_ok(at, errors=True)
    metrics = {m.label: m.value for m in at.metric}
    assert " of " in metrics["errors"]
    # Sparse and dense side by side: the share of errors one feature fixes.
    fixes = at.dataframe[0].value  # the first table, under the metrics
    assert fixes.layer.tolist() == ["sparse", "dense"]
    assert f"{fixes.errors.iloc[0]} of {fixes.examples.iloc[0]}" == metrics["errors"]
    assert fixes["95% CI"].str.fullmatch(r"\d\.\d{3}–\d\.\d{3}|—").all()
    layer = load_layer("digits-raw")
    pick = at.selectbox(
        key=state.for_setting(
            state.MISCLASSIFICATIONS_PICK,
            "digits-raw",
            "sparse",
            "test",
            str(layer.selected),
        )
    )
    pick.set_value(1).run()
    assert_ok(at, errors=True)
    assert len(at.get("plotly_chart")) == 1  # confusion against shared features
    slider = at.select_slider(
        key=state.for_dataset(state.MISCLASSIFICATIONS_INDEX, "digits-raw")
    )
    slider.set_value(len(layer.path) - 1).run()
    assert_ok(at, errors=True)
    assert {m.label: m.value for m in at.metric}["errors"] != metrics["errors"]
    at.radio(key=state.MISCLASSIFICATIONS_LAYER).set_value("dense").run()
    at.selectbox(key=state.MISCLASSIFICATIONS_SPLIT).set_value("val").run()
    assert_ok(at, errors=True)
