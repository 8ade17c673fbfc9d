"""Input gradients in original units, their axis units, and feature rankings."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
import torch

from core.data import Dataset, Split, load_dataset
from core.neural_lasso import gradients as nl_gradients
from tests.core.neural_lasso.toy import (
    CENTER,
    SCALE,
    D,
    toy_dataset,
    toy_model,
)
from tests.dashboard.apptest import require


@pytest.mark.parametrize("target", [1, 0, None])
def test_gradients_in_original_units_match_finite_differences(target):
    ds = toy_dataset()
    model = toy_model()
    grads = nl_gradients.to_original_units(
        ds, nl_gradients.standardised_gradients(model, ds, "test", target)
    )
    raw = ds.preprocessing.inverse_transform(ds.test.X)
    double = copy.deepcopy(model).double()

    def log_p(x_raw: np.ndarray) -> np.ndarray:
        # Re-standardise the raw values exactly as the loader did, in float64.
        x = torch.as_tensor((x_raw - CENTER) / SCALE)
        with torch.no_grad():
            lp = torch.log_softmax(double(x), dim=1)
        return (lp.sum(dim=1) if target is None else lp[:, target]).numpy()

    for j in range(D):
        h = 1e-4 * SCALE[j]  # a step that is small in the feature's own units
        up, down = raw.copy(), raw.copy()
        up[:, j] += h
        down[:, j] -= h
        fd = (log_p(up) - log_p(down)) / (2 * h)
        np.testing.assert_allclose(grads[:, j], fd, rtol=2e-3, atol=1e-6 / SCALE[j])
    # Per mg/dL the gradient is 1/0.05 = 20 times the per-IQR one.
    std = nl_gradients.standardised_gradients(model, ds, "test", target)
    np.testing.assert_allclose(grads[:, 0], std[:, 0] / 0.05, rtol=1e-6)


def test_gradient_units_and_targets():
    ds = toy_dataset()
    assert nl_gradients.default_target(ds) == 1
    assert nl_gradients.gradient_unit(ds, "creatinine", 1) == "Δ log p(died) per mg/dL"
    assert (
        nl_gradients.gradient_unit(ds, "flag", None) == "Δ Σₖ log pₖ per unit of flag"
    )
    with pytest.raises(ValueError, match="class index"):
        nl_gradients.target_label(ds, 2)


def test_a_dataset_without_features_is_refused():
    ds = toy_dataset()
    text = Dataset(
        name="t",
        task="binary",
        modality="text",
        class_names=("a", "b"),
        train=Split(y=ds.train.y, ids=ds.train.ids),
        val=Split(y=ds.val.y, ids=ds.val.ids),
        test=Split(y=ds.test.y, ids=ds.test.ids),
    )
    with pytest.raises(ValueError, match="no feature matrix"):
        nl_gradients.split_inputs(text, "test")


def test_top_features_rank_by_mean_abs_gradient_over_models_and_observed_values():
    ds = toy_dataset()
    n = len(ds.test)
    a = np.zeros((n, D))
    b = np.zeros((n, D))
    a[:, 1] = 3.0  # age: 3 in one model, 0 in the other → mean 1.5
    b[:, 3] = -2.0  # the odd one: mean |−2|/2 = 1
    a[:, 2] = b[:, 2] = 1.2  # flag: 1.2
    # Creatinine's gradient is huge where it was imputed, small where observed.
    imputed = ds.test.imputed[:, 0]
    a[imputed, 0] = 100.0
    a[~imputed, 0] = 0.1
    ranked = nl_gradients.top_features(ds, "test", [a, b])
    assert ranked == ["age", "flag", "<b>odd</b>", "creatinine"]
    assert nl_gradients.top_features(ds, "test", [a, b], k=2) == ["age", "flag"]
    np.testing.assert_allclose(
        nl_gradients.feature_importance(ds, "test", [a, b]), [0.05, 1.5, 1.2, 1.0]
    )
    with pytest.raises(ValueError, match="shape"):
        nl_gradients.top_features(ds, "test", [a[:, :2]])


def test_continuous_features_are_decided_from_values_and_indicator_names():
    ds = toy_dataset()
    # Creatinine (imputed in places), age and the odd one take many values,
    # the flag two.
    assert nl_gradients.continuous_features(ds).tolist() == [True, True, False, True]
    # A missing-value flag or a one-hot column by name, whatever its values.
    renamed = dataclasses.replace(
        ds, feature_names=("creatinine", "age_missing", "flag", "sex=male")
    )
    assert nl_gradients.continuous_features(renamed).tolist() == [
        True,
        False,
        False,
        False,
    ]
    # Only the imputed value repeats: few observed values, not continuous.
    X = ds.train.X.copy()
    X[:, 0] = np.round(X[:, 0])
    few = dataclasses.replace(ds, train=dataclasses.replace(ds.train, X=X))
    assert not nl_gradients.continuous_features(few)[0]


def test_default_features_on_clinical_data_are_continuous_with_normal_ranges():
    ds = toy_dataset()
    n = len(ds.test)
    g = np.zeros((n, D))
    g[:, 2], g[:, 1], g[:, 0] = 5.0, 3.0, 1.0  # flag ≫ age ≫ creatinine
    assert nl_gradients.top_features(ds, "test", [g])[0] == "flag"
    assert nl_gradients.default_features(ds, "test", [g]) == ["creatinine"]
    # Without normal ranges the ranking is the plain one.
    plain = dataclasses.replace(ds, normal_ranges={})
    assert nl_gradients.default_features(plain, "test", [g], k=2) == ["flag", "age"]


@pytest.mark.parametrize("name", ["icu_rhc", "icu_physionet2012"])
def test_icu_gradient_pages_open_on_continuous_labs_and_vitals(name):
    require(name)
    ds = load_dataset(name, download=False)
    grads = [
        nl_gradients.standardised_gradients(
            toy_model(seed, n_features=ds.n_features), ds, "test", 1
        )
        for seed in range(2)
    ]
    chosen = nl_gradients.default_features(ds, "test", grads)
    assert len(chosen) == nl_gradients.N_TOP_FEATURES
    continuous = nl_gradients.continuous_features(ds)
    for f in chosen:
        assert f in ds.normal_ranges, f
        assert continuous[ds.feature_names.index(f)], f
        assert not f.endswith("_missing") and "=" not in f
        # More than a handful of distinct observed values in the training split.
        j = ds.feature_names.index(f)
        observed = ~ds.train.imputed[:, j]
        assert len(np.unique(ds.train.X[observed, j])) > 10, f
    # Most influential first, among all continuous ranged variables.
    importance = nl_gradients.feature_importance(ds, "test", grads)
    ranked = [importance[ds.feature_names.index(f)] for f in chosen]
    assert ranked == sorted(ranked, reverse=True)
    eligible = set(nl_gradients.clinical_features(ds)) - set(chosen)
    assert all(importance[ds.feature_names.index(f)] <= ranked[-1] for f in eligible)
