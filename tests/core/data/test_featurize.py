"""Scaling, its inverse, and the fixed-seed splits every loader uses."""

from __future__ import annotations

import numpy as np
import pytest

from core.data.featurize import fit_scaler
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
