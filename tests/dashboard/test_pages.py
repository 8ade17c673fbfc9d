"""Every dashboard page runs under AppTest, driven through its keyed widgets."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.data import Dataset, DatasetSpec, Split, get_spec
from core.data import registry as data_registry
from core.training.models import build_model
from core.training.store import WEIGHTS, list_models, save_model
from core.views import data as data_view
from dashboard.common import state
from tests.dashboard.apptest import assert_ok, require, run_app

DATA_PAGE = "app_pages/data/data.py"
MODELS_PAGE = "app_pages/data/models.py"
SCRIPT = "<script>alert(1)</script>"

# One of each kind: generated, tabular with one-hot groups, package-shipped,
# text, bag-of-words text, images with pixel features, images without.
DATASETS = [
    "synthetic",
    "breast_cancer",
    "adult",
    "sst2",
    "newsgroups",
    "mnist",
    pytest.param("cifar10", marks=pytest.mark.slow),
]


def _plot_key(dataset: str) -> str:
    return state.for_dataset(state.PLOT_FEATURES, dataset)


def _charts(at: AppTest) -> list:
    return list(at.get("plotly_chart"))


@pytest.mark.parametrize("name", DATASETS)
def test_data_page_runs_for_each_dataset(name):
    require(name)
    at = run_app(name)
    assert_ok(at)
    assert not at.error
    assert name in at.title[0].value
    ds = _dataset_of(name)
    tables = [d.value for d in at.dataframe]
    sizes = tables[0]
    assert list(sizes["split"]) == ["train", "val", "test", "total"]
    assert list(sizes["n"][:3]) == [len(ds.train), len(ds.val), len(ds.test)]
    assert _charts(at)  # class balance at least
    keys = {b.key for b in at.download_button}
    assert {state.DOWNLOAD_SIZES, state.DOWNLOAD_BALANCE} <= keys
    if ds.train.X is not None:
        assert any(len(t) == ds.n_features and "unit" in t for t in tables)
        assert state.DOWNLOAD_FEATURES in keys
    else:
        assert any("feature" in i.value for i in at.info)
    if ds.train.texts is not None:
        assert any(list(t.columns) == ["id", "label", "text"] for t in tables)
    if ds.train.images is not None:
        assert state.DOWNLOAD_IMAGES in keys
    assert at.json  # ds.info


@pytest.mark.parametrize("name", ["synthetic", "breast_cancer"])
def test_models_page_without_models(name):
    require(name)
    # The suite's store is empty and holds no shipped models (tests/conftest.py).
    assert list_models(name) == []
    at = run_app(name, MODELS_PAGE)
    assert_ok(at)
    assert not at.dataframe
    assert any("assets" in i.value and "models" in i.value for i in at.info)
    assert any("No models are stored" in c.value for c in at.sidebar.caption)


def test_feature_widgets_drive_the_plots():
    at = run_app("synthetic")
    default = at.multiselect(key=_plot_key("synthetic")).value
    assert default == data_view.default_features(
        _dataset_of("synthetic"),
    )
    assert len(_charts(at)) == 1 + len(default)
    at.multiselect(key=_plot_key("synthetic")).set_value(["x7", "x8"]).run()
    assert_ok(at)
    assert len(_charts(at)) == 3
    at.radio(key=state.PLOT_SPLIT).set_value("test").run()
    assert_ok(at)
    filter_key = state.for_dataset(state.FEATURE_FILTER, "synthetic")
    at.text_input(key=filter_key).input("region_1").run()
    assert_ok(at)
    features = next(d.value for d in at.dataframe if "unit" in d.value)
    assert list(features["feature"]) == ["region_1"]


def test_a_new_dataset_gets_fresh_feature_choices():
    require("breast_cancer")
    at = run_app("synthetic")
    at.multiselect(key=_plot_key("synthetic")).set_value(["x7"]).run()
    at.selectbox(key=state.DATASET).set_value("breast_cancer").run()
    assert_ok(at)
    chosen = at.multiselect(key=_plot_key("breast_cancer")).value
    assert chosen == data_view.default_features(_dataset_of("breast_cancer"))
    at.selectbox(key=state.DATASET).set_value("synthetic").run()
    assert_ok(at)
    # Streamlit drops the state of widgets a run did not draw: back to defaults.
    synthetic_default = data_view.default_features(_dataset_of("synthetic"))
    assert at.multiselect(key=_plot_key("synthetic")).value == synthetic_default


def test_unavailable_dataset_is_explained(tmp_path, monkeypatch):
    # This dataset is read from files: with an empty data home it cannot load.
    name = "icu_physionet2012"
    assert get_spec(name).alternatives
    monkeypatch.setenv("SPARSELENS_DATA", str(tmp_path))
    at = run_app(name)
    assert_ok(at)
    assert any("not available here" in i.value for i in at.info)
    assert any(str(tmp_path) in i.value for i in at.info)
    assert not at.dataframe and not _charts(at)
    assert any("Not available" in w.value for w in at.sidebar.warning)
    at.switch_page(MODELS_PAGE).run()  # the Models page needs no data files
    assert_ok(at)


def _dataset_of(name: str) -> Dataset:
    from core.data import load_dataset

    return load_dataset(name, download=False)


def _xss_build(files, **options) -> Dataset:
    n = 12
    y = np.arange(n, dtype=np.int64) % 2
    texts = tuple(SCRIPT if i % 3 == 0 else f"**bold?** text {i}" for i in range(n))

    def split(idx):
        return Split(y=y[idx], ids=idx, texts=tuple(texts[i] for i in idx))

    return Dataset(
        name="xss_probe",
        task="binary",
        modality="text",
        class_names=(SCRIPT, "<b>bold</b>"),
        train=split(np.arange(0, 6)),
        val=split(np.arange(6, 9)),
        test=split(np.arange(9, 12)),
        description="A text set whose texts and class names hold HTML.",
    )


def test_text_from_data_never_reaches_the_page_as_html(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARSELENS_CACHE", str(tmp_path))
    spec = DatasetSpec(
        name="xss_probe",
        task="binary",
        modality="text",
        summary="HTML in the data",
        source="generated",
        build=_xss_build,
    )
    monkeypatch.setitem(data_registry._REGISTRY, "xss_probe", spec)
    at = run_app("xss_probe")
    assert_ok(at)
    at.number_input(key=state.SAMPLE_SEED).set_value(0).run()
    samples = next(d.value for d in at.dataframe if "text" in d.value)
    assert SCRIPT in set(samples["text"])  # shown verbatim, in a data grid
    rendered = [m.value for m in at.markdown] + [c.value for c in at.caption]
    rendered += [t.value for t in at.title] + [h.value for h in at.header]
    assert not any("<script" in r or "<b>" in r for r in rendered)
    for chart in _charts(at):
        assert "<script" not in chart.proto.spec.replace("\\u003c", "<")


def test_models_page_lists_and_shows_a_stored_model():
    kw = {"n_features": 49, "n_classes": 2}
    torch.manual_seed(0)
    save_model(
        build_model("linear", **kw),
        dataset="synthetic",
        architecture="linear",
        arch_kwargs=kw,
        penalty="l1",
        strength=0.25,
        metrics={"auc": 0.75},
        model_id="synthetic-test-model",
    )
    at = run_app("synthetic", MODELS_PAGE)
    assert_ok(at)
    table = at.dataframe[0].value
    assert "synthetic-test-model" in set(table["model_id"])
    assert "metric: auc" in table
    assert state.DOWNLOAD_MODELS in {b.key for b in at.download_button}
    at.multiselect(key=state.for_dataset(state.MODELS, "synthetic")).set_value(
        ["synthetic-test-model"]
    ).run()
    assert_ok(at)
    (card,) = at.json
    assert '"l1"' in card.value and "synthetic-test-model" in card.value
    assert any("100 parameters" in c.value for c in at.caption)


def test_tampered_model_is_an_error_not_a_traceback():
    kw = {"n_features": 49, "n_classes": 2}
    stored = save_model(
        build_model("linear", **kw),
        dataset="synthetic",
        architecture="linear",
        arch_kwargs=kw,
        model_id="tampered",
    )
    weights = stored.path / WEIGHTS
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    at = run_app("synthetic", MODELS_PAGE)
    at.multiselect(key=state.for_dataset(state.MODELS, "synthetic")).set_value(
        ["tampered"]
    ).run()
    assert_ok(at)
    assert any("do not match the hash" in e.value for e in at.error)
