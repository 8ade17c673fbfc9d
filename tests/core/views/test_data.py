"""Dataset summaries: shapes, original units, ranges, imputed values, samples."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core.data import Dataset, Split, load_dataset
from core.data.access import no_features_reason
from core.data.builtin.synthetic import make_synthetic
from core.figures import data as data_figures
from core.views import data as data_view
from tests.core.views.tiny import (
    HIGH,
    LOW,
    SCRIPT,
    text_only,
    tiny_dataset,
)


@pytest.fixture
def tiny() -> Dataset:
    return tiny_dataset()


def test_split_sizes_counts_and_prevalence(tiny):
    t = data_view.split_sizes(tiny)
    assert list(t["split"]) == ["train", "val", "test", "total"]
    assert list(t["n"]) == [30, 12, 18, 60]
    for name, s in tiny.splits.items():
        row = t.set_index("split").loc[name]
        assert row["n normal"] == (s.y == 0).sum() and row["n high"] == (s.y == 1).sum()
    prev = t[["prevalence normal", "prevalence high"]].to_numpy()
    np.testing.assert_allclose(prev.sum(axis=1), 1.0)
    assert ((prev >= 0) & (prev <= 1)).all()


def test_feature_table_is_in_original_units(tiny):
    t = data_view.feature_table(tiny)
    assert t.shape == (3, len(data_view.FEATURE_COLUMNS))
    assert list(t.columns) == list(data_view.FEATURE_COLUMNS)
    raw_train = tiny.info["raw"][tiny.info["tr"]]
    np.testing.assert_allclose(t["mean"], raw_train.mean(axis=0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(t["std"], raw_train.std(axis=0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(t["min"], raw_train.min(axis=0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(t["max"], raw_train.max(axis=0), rtol=1e-5, atol=1e-5)
    assert list(t["group"]) == ["glucose", "sex", "sex"]
    assert list(t["unit"]) == ["mg/dL", "", ""]


def test_share_outside_normal_range(tiny):
    t = data_view.feature_table(tiny).set_index("feature")
    g = tiny.info["raw"][tiny.info["tr"], 0]
    expected = ((g < LOW) | (g > HIGH)).mean()
    share = t.loc["glucose", "share_outside_normal"]
    assert 0.0 < share < 1.0
    assert share == pytest.approx(expected)
    assert (t.loc["glucose", "normal_low"], t.loc["glucose", "normal_high"]) == (
        LOW,
        HIGH,
    )
    assert t.loc[["sex=F", "sex=M"], "share_outside_normal"].isna().all()


def test_feature_table_ignores_non_finite_values(tiny):

    X = tiny.train.X.copy()
    X[:5, 0] = np.nan
    ds = replace(tiny, train=replace(tiny.train, X=X))
    t = data_view.feature_table(ds).set_index("feature")
    assert np.isfinite(t.loc["glucose", ["mean", "std", "min", "max"]]).all()
    assert 0.0 <= t.loc["glucose", "share_outside_normal"] <= 1.0


def test_synthetic_feature_table_round_trips_to_raw_units():
    ds = load_dataset("synthetic")
    X_raw, *_ = make_synthetic(ds.info["n_per_region"], ds.info["seed"])
    raw_train = X_raw[ds.train.ids]
    t = data_view.feature_table(ds)
    np.testing.assert_allclose(t["mean"], raw_train.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(t["max"], raw_train.max(axis=0), rtol=1e-5)


def test_no_feature_matrix_is_explained(tiny):
    text = text_only(tiny)
    reason = no_features_reason(text)
    assert "encoder" in reason
    with pytest.raises(ValueError, match="encoder"):
        data_view.feature_table(text)
    assert no_features_reason(tiny) is None

    image = replace(text, modality="image")
    assert "not materialised" in no_features_reason(image)


def test_filter_features_is_literal_and_case_insensitive(tiny):
    t = data_view.feature_table(tiny)
    assert list(data_view.filter_features(t, "SEX")["feature"]) == ["sex=F", "sex=M"]
    assert list(data_view.filter_features(t, "mg/dl")["feature"]) == ["glucose"]
    assert data_view.filter_features(t, "(").empty  # not a regular expression
    assert len(data_view.filter_features(t, "  ")) == 3


def test_feature_groups_and_default_features(tiny):
    groups = data_view.feature_groups_table(tiny)
    assert groups.to_dict("records") == [
        {"group": "sex", "n_columns": 2, "columns": "sex=F, sex=M"}
    ]
    assert data_view.default_features(tiny, k=2) == ["glucose", "sex=F"]
    assert data_view.default_features(tiny, k=0) == []

    X = tiny.train.X.copy()
    X[:, 2] = 0.0  # a constant column is not worth a plot
    flat = replace(tiny, train=replace(tiny.train, X=X))
    assert data_view.default_features(flat, k=3) == ["glucose", "sex=F"]


def test_sample_texts_are_seeded_and_verbatim(tiny):
    a = data_view.sample_texts(tiny, "train", n=8, seed=1)
    b = data_view.sample_texts(tiny, "train", n=8, seed=1)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == ["id", "label", "text"]
    assert len(a) == 8 and a["id"].is_unique
    assert set(a["label"]) <= set(tiny.class_names)
    everything = data_view.sample_texts(tiny, "train", n=1000, seed=0)
    assert len(everything) == len(tiny.train)
    assert SCRIPT in set(everything["text"])  # unchanged: escaping is the renderer's
    with pytest.raises(ValueError, match="split must be one of"):
        data_view.sample_texts(tiny, "dev")


def test_sample_texts_needs_texts():
    ds = load_dataset("synthetic")
    with pytest.raises(ValueError, match="holds no texts"):
        data_view.sample_texts(ds)


def test_imputed_values_are_left_out_of_statistics_and_plots():
    ds = tiny_dataset()
    raw, tr = ds.info["raw"], ds.info["tr"]
    imputed = np.zeros((len(tr), 3), dtype=bool)
    imputed[:10, 0] = True  # pretend the first ten glucose values were imputed
    train = Split(y=ds.train.y, ids=ds.train.ids, X=ds.train.X, imputed=imputed)
    ds = Dataset(**{**ds.__dict__, "train": train})
    t = data_view.feature_table(ds).set_index("feature")
    assert t.loc["glucose", "mean"] == pytest.approx(raw[tr][10:, 0].mean())
    assert t.loc["glucose", "share_missing"] == pytest.approx(10 / len(tr))
    assert t.loc["sex=F", "share_missing"] == 0
    fig = data_figures.feature_distribution_figure(ds, "glucose")
    assert sum(int(tr_.name.split("n=")[1].rstrip(")")) for tr_ in fig.data) == 20
    assert "10 missing values left out" in fig.layout.title.text
