"""The text debugging pages open ready on the shipped fine-tuned SST-2 layer:
a fresh machine with nothing cached but the repository's assets (the encoder,
its sparse layer and its word clouds), no training and no LIME run at open."""

from __future__ import annotations

import pytest

import core.sparse_layers.debugging.lime_clouds as lime_clouds
import core.sparse_layers.encoders.finetuning as finetuning
import core.sparse_layers.sparse_layer as sparse_layer
from core.paths import ASSETS_DIR
from core.threads import torch_threads
from dashboard.common import state
from tests.dashboard.apptest import assert_ok, require, run_app

CLOUDS = "app_pages/sparse_layers/word_clouds.py"
CF = "app_pages/sparse_layers/counterfactuals.py"
MISCLASSIFICATIONS = "app_pages/sparse_layers/misclassifications.py"
BIAS = "app_pages/sparse_layers/bias_probe.py"
LAYER = "sst2-finetuned-sst2"


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    require("sst2")
    monkeypatch.setattr(lime_clouds, "cache_dir", lambda: tmp_path)
    monkeypatch.setattr(lime_clouds, "SHIPPED_DIR", ASSETS_DIR / "wordclouds")
    monkeypatch.setattr(sparse_layer, "SHIPPED_DIR", ASSETS_DIR / "sparse_layers")
    # Training would show up as a progress bar of the fine-tune: forbid it.
    monkeypatch.setattr(finetuning, "finetune", lambda *a, **k: 1 / 0)
    with torch_threads(1):
        yield


def test_word_clouds_and_counterfactuals_open_on_the_finetuned_layer(shipped):
    at = run_app("sst2", CLOUDS)
    assert_ok(at, errors=True)
    assert at.selectbox(key=state.for_setting(state.DEBUG_LAYER, "clouds")).value == (
        LAYER
    )
    assert not any("No word clouds" in i.value for i in at.info)
    assert at.subheader[0].value.startswith("Feature ")
    assert len(at.get("image")) >= 1
    at.switch_page(CF).run()
    assert_ok(at, errors=True)
    assert at.selectbox(key=state.for_setting(state.DEBUG_LAYER, "cf")).value == LAYER
    assert {m.label for m in at.metric} >= {"prediction", "score (probability)"}


def test_misclassifications_open_on_the_finetuned_layer(shipped):
    at = run_app("sst2", MISCLASSIFICATIONS)
    assert_ok(at, errors=True)
    layer = at.selectbox(key=state.for_setting(state.DEBUG_LAYER, "misclassifications"))
    assert layer.value == LAYER
    fixes = at.dataframe[0].value
    assert fixes.layer.tolist() == ["sparse", "dense"]


def test_bias_probe_opens_on_the_finetuned_toxic_layer(shipped):
    require("toxic")
    at = run_app("toxic", BIAS)
    assert_ok(at, errors=True)
    layer = at.selectbox(key=state.for_setting(state.DEBUG_LAYER, "bias"))
    assert layer.value == "toxic-finetuned-toxic"
    # The identity words of its shipped clouds, found without running LIME.
    found = [d.value for d in at.dataframe if "word" in d.value.columns]
    assert "queer" in set(found[0].word)
