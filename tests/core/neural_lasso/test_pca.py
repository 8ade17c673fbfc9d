"""The PCA basis, coordinates, loadings and map table."""

from __future__ import annotations

import numpy as np

from core.neural_lasso import pca as nl_pca
from tests.core.neural_lasso.toy import (
    toy_dataset,
)


def test_pca_basis_is_fitted_on_train_shared_and_reproducible():
    ds = toy_dataset(n=120, imputed=False)
    first, again = nl_pca.pca_basis(ds), nl_pca.pca_basis(ds)
    np.testing.assert_array_equal(first.components_, again.components_)
    np.testing.assert_allclose(first.mean_, ds.train.X.mean(axis=0), rtol=1e-5)
    coords = nl_pca.pca_coordinates(first, ds, "test")
    expected = (ds.test.X - first.mean_) @ first.components_.T
    np.testing.assert_allclose(coords, expected, rtol=1e-6, atol=1e-9)
    assert coords.shape == (len(ds.test), 2)
    words = nl_pca.pca_loadings(first, ds.feature_names)
    assert len(words) == 2 and words[0].startswith("PC 1 (")
    table = nl_pca.pca_table(ds, "test", coords, {"m": np.arange(len(ds.test))})
    assert list(table.columns) == ["id", "outcome", "class", "pc1", "pc2", "m"]
    assert len(nl_pca.pca_table(ds, "test", coords, {}, max_points=5)) == 5
