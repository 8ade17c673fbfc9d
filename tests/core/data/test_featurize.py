"""Encoding, imputation, scaling, its inverse, and the fixed-seed splits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data.featurize import (
    encode_columns,
    fill_values,
    fit_scaler,
    make_splits,
    scale_and_impute,
)
from core.data.splits import split_indices


def test_robust_scaling_uses_median_and_iqr_and_survives_constant_columns():
    rng = np.random.default_rng(0)
    X = np.column_stack(
        [rng.normal(5, 2, 1000), np.full(1000, 3.0), rng.random(1000) < 0.1]
    )
    prep = fit_scaler(X, "robust")
    q25, med, q75 = np.percentile(X[:, 0], [25, 50, 75])
    assert prep.center[0] == pytest.approx(med) and prep.scale[0] == pytest.approx(
        q75 - q25
    )
    assert prep.scale[1] == 1.0  # constant: no division by zero
    assert prep.scale[2] == pytest.approx(X[:, 2].std())  # rare binary: IQR is 0
    assert np.isfinite(prep.transform(X)).all()


def test_inverse_transform_recovers_original_units_and_shows_zero_as_zero():
    rare = np.zeros(300)
    rare[:2] = 1.0  # a rare indicator: standardised to about 12
    X = np.column_stack(
        [np.resize([0.0, 250.0, 63.0], 300), np.resize([7.35, 7.45], 300), rare]
    )
    prep = fit_scaler(X, "zscore")
    back = prep.inverse_transform(prep.transform(X))  # through float32
    np.testing.assert_allclose(back, X, rtol=1e-6)
    assert back[0, 0] == 0.0 and not np.signbit(back[0, 0])
    assert set(np.unique(back[:, 2])) == {0.0, 1.0}


def test_unknown_scaling_is_rejected():
    with pytest.raises(ValueError, match="Unknown scaling 'minmax'"):
        fit_scaler(np.ones((3, 2)), "minmax")


@pytest.mark.parametrize("grouped", [False, True])
def test_splits_are_disjoint_cover_everything_and_are_stratified(grouped):
    rng = np.random.default_rng(1)
    y = (rng.random(2000) < 0.2).astype(int)
    groups = rng.integers(0, 500, 2000) if grouped else None
    tr, va, te = split_indices(y, val=0.1, test=0.2, seed=0, groups=groups)
    assert np.array_equal(np.sort(np.concatenate([tr, va, te])), np.arange(2000))
    for part, frac in ((va, 0.1), (te, 0.2)):
        assert abs(len(part) / 2000 - frac) < 0.05
        assert abs(y[part].mean() - 0.2) < 0.05
    if grouped:
        assert not set(groups[tr]) & set(groups[te])
        assert not set(groups[tr]) & set(groups[va])
        assert not set(groups[va]) & set(groups[te])
    again = split_indices(y, val=0.1, test=0.2, seed=0, groups=groups)
    assert all(np.array_equal(a, b) for a, b in zip((tr, va, te), again, strict=True))


def test_bad_fractions_are_rejected():
    with pytest.raises(ValueError, match="summing below 1"):
        split_indices(np.zeros(10), val=0.5, test=0.5)


def test_encode_columns_one_hot_levels_indicators_and_groups():
    frame = pd.DataFrame(
        {
            "hr": [80.0, np.nan, 70.0, 90.0],
            "ward": ["icu", None, "er", "icu"],
            "age": [50.0, 60.0, 70.0, 80.0],
        }
    )
    X, names, groups = encode_columns(frame, ["ward"], missing_indicators=True)
    assert names == [
        "hr",
        "hr_missing",
        "ward=er",
        "ward=icu",
        "ward=missing",
        "age",
    ]
    assert groups == {"hr": (0, 1), "ward": (2, 3, 4), "age": (5,)}
    np.testing.assert_array_equal(X[:, 1], [0, 1, 0, 0])
    np.testing.assert_array_equal(X[:, 2:5].sum(axis=1), 1.0)
    assert np.isnan(X[1, 0]) and X.dtype == np.float64
    # No indicator unless asked for, and none for a column without gaps.
    _, plain, _ = encode_columns(frame, ["ward"])
    assert "hr_missing" not in plain and "age_missing" not in plain


def test_fill_values_use_observed_training_values_only():
    X = np.array([[1.0, np.nan, 5.0], [2.0, np.nan, np.nan], [9.0, np.nan, 7.0]])
    np.testing.assert_array_equal(fill_values(X, "median"), [2.0, np.nan, 6.0])
    np.testing.assert_array_equal(fill_values(X, "mean"), [4.0, np.nan, 6.0])
    np.testing.assert_array_equal(fill_values(X, "zero"), [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="Unknown fill statistic 'mode'"):
        fill_values(X, "mode")


def test_scaling_is_fitted_before_imputation_so_the_fill_maps_to_zero():
    # A mostly-missing column: filling first would collapse its IQR to 0.
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 0.5, 200)
    x[rng.random(200) < 0.8] = np.nan
    X_raw = np.column_stack([x, rng.normal(size=200)])
    train = np.arange(150)
    fill = fill_values(X_raw[train], "median")
    X, prep, imputed = scale_and_impute(
        X_raw, train, scaling="robust", fill=fill, description="test"
    )
    q25, q75 = np.nanpercentile(X_raw[train, 0], [25, 75])
    assert prep.scale[0] == pytest.approx(q75 - q25)
    np.testing.assert_array_equal(imputed, np.isnan(X_raw))
    np.testing.assert_allclose(X[imputed[:, 0], 0], 0.0, atol=1e-6)
    assert X.dtype == np.float32 and np.isfinite(X).all()


def test_make_splits_slices_every_per_row_array():
    y = np.array([0, 1, 0, 1, 1])
    parts = (np.array([0, 3]), np.array([1]), np.array([2, 4]))
    splits = make_splits(
        parts,
        y=y,
        ids=np.arange(5) + 10,
        X=np.arange(10.0).reshape(5, 2),
        texts=list("abcde"),
        meta={"flag": np.array([1, 0, 0, 1, 0])},
    )
    assert list(splits) == ["train", "val", "test"]
    test = splits["test"]
    assert test.ids.tolist() == [12, 14] and test.texts == ("c", "e")
    assert test.X.tolist() == [[4.0, 5.0], [8.0, 9.0]]
    assert test.meta["flag"].tolist() == [0, 0] and test.imputed is None
    assert splits["train"].images is None and len(splits["val"]) == 1
