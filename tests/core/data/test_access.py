"""Reading a loaded dataset: splits by name, original units, seeded samples."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from core.data.access import SPLITS, original_units, sample_indices, split_of
from tests.core.views.tiny import tiny_dataset


def test_split_of_knows_the_three_splits():
    ds = tiny_dataset()
    assert [split_of(ds, s) for s in SPLITS] == [ds.train, ds.val, ds.test]
    with pytest.raises(ValueError, match="split must be one of"):
        split_of(ds, "dev")


def test_sample_indices_are_seeded_sorted_and_distinct():
    idx = sample_indices(100, 7, seed=3)
    assert idx.tolist() == sorted(set(idx.tolist())) and idx.size == 7
    assert np.array_equal(idx, sample_indices(100, 7, seed=3))
    assert sample_indices(5, 10, seed=0).tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="non-negative"):
        sample_indices(5, -1, seed=0)


def test_original_units_leave_the_dataset_as_it_was():
    ds = tiny_dataset()
    X = ds.train.X.astype(np.float64)  # float64 inputs, no scaling to undo
    imputed = np.zeros(X.shape, dtype=bool)
    imputed[0, 0] = True
    ds = replace(ds, preprocessing=None, train=replace(ds.train, X=X, imputed=imputed))
    values = original_units(ds, "train")
    assert np.isnan(values[0, 0])
    assert np.isfinite(ds.train.X[0, 0])  # the imputed value stays in the data
