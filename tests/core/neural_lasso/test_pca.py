"""The PCA basis, its projections, coordinates, loadings and map table."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from core.data import Dataset, Preprocessing, Split
from core.neural_lasso import pca as nl_pca
from tests.core.neural_lasso.toy import (
    toy_dataset,
)


def test_pca_basis_is_fitted_on_train_shared_and_reproducible():
    ds = toy_dataset(n=120, imputed=False)
    first, again = nl_pca.pca_basis(ds), nl_pca.pca_basis(ds)
    assert first.projection == "standardised" and first.logged == ()
    np.testing.assert_array_equal(first.pca.components_, again.pca.components_)
    np.testing.assert_allclose(first.pca.mean_, ds.train.X.mean(axis=0), rtol=1e-5)
    coords = nl_pca.pca_coordinates(first, ds, "test")
    expected = (ds.test.X - first.pca.mean_) @ first.pca.components_.T
    np.testing.assert_allclose(coords, expected, rtol=1e-6, atol=1e-9)
    assert coords.shape == (len(ds.test), 2)
    words = nl_pca.pca_loadings(first, ds.feature_names)
    assert len(words) == 2 and words[0].startswith("PC 1 (")
    table = nl_pca.pca_table(ds, "test", coords, {"m": np.arange(len(ds.test))})
    assert list(table.columns) == ["id", "outcome", "class", "pc1", "pc2", "m"]
    assert len(nl_pca.pca_table(ds, "test", coords, {}, max_points=5)) == 5


def test_signed_log_is_increasing_odd_and_nearly_the_identity_near_zero():
    z = np.linspace(-1e4, 1e4, 20001)
    out = nl_pca.signed_log(z)
    assert np.all(np.diff(out) > 0)
    np.testing.assert_allclose(nl_pca.signed_log(-z), -out)
    small = np.array([-1e-4, 0.0, 1e-4])
    np.testing.assert_allclose(nl_pca.signed_log(small), small, rtol=1e-4)
    assert nl_pca.signed_log(np.array([100.0]))[0] == pytest.approx(np.log(101))


def skewed_dataset(n: int = 600, seed: int = 0, ranges: bool = True) -> Dataset:
    """A lab with a heavy right tail beside a symmetric vital and a rare flag."""
    rng = np.random.default_rng(seed)
    raw = np.column_stack(
        [
            rng.lognormal(3.0, 1.2, n),  # an enzyme: skewness ≫ 2
            rng.normal(80, 10, n),  # heart rate: symmetric
            (rng.random(n) < 0.05).astype(float),  # a rare flag: skewed, 0/1
        ]
    )
    median = np.median(raw, axis=0)
    iqr = np.subtract(*np.percentile(raw, [75, 25], axis=0))
    prep = Preprocessing("robust", median, np.where(iqr > 0, iqr, 1.0))
    X = prep.transform(raw)
    y = (raw[:, 1] > 80).astype(np.int64)
    third = n // 3

    def split(idx):
        return Split(y=y[idx], ids=idx, X=X[idx])

    return Dataset(
        name="skewed",
        task="binary",
        modality="tabular",
        class_names=("survived", "died"),
        train=split(np.arange(third)),
        val=split(np.arange(third, 2 * third)),
        test=split(np.arange(2 * third, n)),
        feature_names=("AST", "HR", "dialysis"),
        units={"AST": "IU/L", "HR": "bpm", "dialysis": "indicator"},
        normal_ranges={"AST": (8.0, 33.0), "HR": (60.0, 100.0)} if ranges else {},
        preprocessing=prep,
    )


def test_signed_log_touches_only_skewed_continuous_variables():
    ds = skewed_dataset()
    skewness = nl_pca.feature_skewness(ds)
    assert skewness[0] > nl_pca.SKEW_THRESHOLD and abs(skewness[1]) < 0.5
    assert skewness[2] > nl_pca.SKEW_THRESHOLD  # skewed, but a flag
    assert nl_pca.skewed_features(ds).tolist() == [0]
    basis = nl_pca.pca_basis(ds, "signed_log")
    assert basis.logged == (0,) and basis.skewness[0] == pytest.approx(skewness[0])
    X = ds.test.X
    projected = basis.project(X)
    np.testing.assert_array_equal(projected[:, 1:], X[:, 1:].astype(np.float64))
    # The order of every patient's enzyme value is kept.
    order = np.argsort(X[:, 0], kind="stable")
    assert np.all(np.diff(projected[order, 0]) >= 0)
    # The tail no longer sets the first axis: the enzyme's share of PC 1 falls.
    plain = nl_pca.pca_basis(ds, "standardised")
    assert abs(plain.pca.components_[0, 0]) > 0.99
    assert abs(basis.pca.components_[0, 0]) < abs(plain.pca.components_[0, 0])
    note = nl_pca.projection_note(basis, ds.feature_names)
    assert "signed log" in note and "AST" in note and "|skewness| > 2" in note
    assert "HR" not in note and "dialysis" not in note


def test_the_default_projection_is_the_signed_log_on_skewed_clinical_data():
    skewed = skewed_dataset()
    assert nl_pca.default_projection(skewed) == "signed_log"
    assert nl_pca.pca_basis(skewed).projection == "signed_log"
    # Not clinical (no normal ranges): the standardised inputs, as before.
    assert nl_pca.default_projection(skewed_dataset(ranges=False)) == "standardised"
    # Clinical but symmetric: nothing to pull in.
    X = skewed.train.X.copy()
    X[:, 0] = X[:, 1]
    symmetric = dataclasses.replace(
        skewed, train=dataclasses.replace(skewed.train, X=X)
    )
    assert nl_pca.default_projection(symmetric) == "standardised"
    with pytest.raises(ValueError, match="projection must be one of"):
        nl_pca.pca_basis(skewed, "log")
