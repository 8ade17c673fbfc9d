"""Gradient panels: imputed values left out, seeded subsamples, relevant regions."""

from __future__ import annotations

import math

import numpy as np

from core.data import load_dataset
from core.neural_lasso import panels as nl_panels
from tests.core.neural_lasso.toy import (
    toy_dataset,
    toy_panels,
)


def test_gradient_panels_leave_imputed_values_out_and_subsample():
    ds, p = toy_panels()
    n = len(ds.test)
    imputed = int(ds.test.imputed[:, 0].sum())
    rows = p.features.set_index("feature")
    assert rows.loc["creatinine", "n_imputed"] == imputed
    assert rows.loc["creatinine", "n_shown"] == n - imputed
    assert rows.loc["age", "n_shown"] == n
    assert rows.loc["creatinine", "normal_low"] == 0.6
    assert math.isnan(rows.loc["age", "normal_low"])
    cre = p.points[
        (p.points["feature"] == "creatinine") & (p.points["model"] == "plain")
    ]
    observed_ids = ds.test.ids[~ds.test.imputed[:, 0]]
    assert sorted(cre["id"]) == sorted(observed_ids)
    raw = ds.preprocessing.inverse_transform(ds.test.X)[~ds.test.imputed[:, 0], 0]
    np.testing.assert_allclose(np.sort(cre["value"]), np.sort(raw))
    assert set(p.points["outcome"]) <= {"survived", "died"}
    assert set(p.trend["model"]) == {"plain", "<i>sparse</i>"}
    # Subsampled: the same examples for every model, a fixed seed.
    _, small = toy_panels(max_points=7)
    pts = small.points[small.points["feature"] == "age"]
    by_model = [list(g["id"]) for _, g in pts.groupby("model")]
    assert len(by_model[0]) == 7 and by_model[0] == by_model[1]
    assert list(toy_panels(max_points=7)[1].points["id"]) == list(small.points["id"])
    assert small.features["n_shown"].tolist() == [7, 7]


def test_relevant_regions_of_the_synthetic_set():
    ds = load_dataset("synthetic", download=False)
    relevant = ds.info["relevant_features"]
    a, b = relevant["2"]["label_features"]
    feature = ds.feature_names[a]
    assert 2 in nl_panels.relevant_regions(ds, feature)["label"]
    assert nl_panels.relevant_regions(ds, "region_3") == {
        "label": [],
        "indicator": [3],
    }
    assert "region 2" in nl_panels.relevance_note(ds, feature)
    assert nl_panels.relevance_note(toy_dataset(), "age") == ""
