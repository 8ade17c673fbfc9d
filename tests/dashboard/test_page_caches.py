"""Page caches key on what a dataset or a layer holds, not only on its name: a
dataset registered again, or a layer recomputed on the λ sweep page, under the
same name is never served another's cached results."""

from __future__ import annotations

import numpy as np
import pytest
import streamlit as st

from core.data import load_dataset
from core.data.user import add_table
from core.neural_lasso import pca as nl_pca
from core.sparse_layers.debugging.workbench import Workbench, workbench
from core.sparse_layers.deep_features import FeatureSet
from core.sparse_layers.sparse_layer import fit_sparse_layer
from dashboard.app_pages.neural_lasso import inspecting
from dashboard.app_pages.sparse_layers import debugging
from tests.core.data.test_user import _csv, cohort_frame


@pytest.fixture(autouse=True)
def _empty_caches():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def test_a_dataset_registered_again_gets_its_own_pca_and_neighbours():
    add_table(
        _csv(cohort_frame(seed=0)), filename="c.csv", name="mine", target="outcome"
    )
    first = load_dataset("mine")
    inspecting.pca_basis(first, "standardised")
    inspecting.neighbours(first, "test", k=3)
    add_table(
        _csv(cohort_frame(n_patients=60, seed=1)),
        filename="c.csv",
        name="mine",
        target="outcome",
        replace=True,
    )
    second = load_dataset("mine")
    np.testing.assert_array_equal(
        inspecting.pca_basis(second, "standardised").pca.components_,
        nl_pca.pca_basis(second, "standardised").pca.components_,
    )
    assert len(inspecting.neighbours(second, "test", k=3)) == len(second.test)


def _layer_of(seed: int) -> Workbench:
    """A layer named ``toy-raw`` fitted on features drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    X = {s: rng.standard_normal((60, 4)) for s in ("train", "val", "test")}
    y = {s: (X[s][:, 0] + 0.3 * rng.standard_normal(60) > 0).astype(int) for s in X}
    fs = FeatureSet(
        dataset="toy",  # not a dataset: the workbench takes classes from the path
        extractor="raw",
        **{f"{a}_{s}": {"X": X, "y": y}[a][s] for a in "Xy" for s in X},
        feature_names=tuple(f"f{j}" for j in range(4)),
        class_names=("no", "yes"),
    )
    return workbench(fit_sparse_layer(fs, n_lambdas=5))


def test_a_layer_recomputed_under_its_name_gets_its_own_features(monkeypatch):
    # What a layer's features are is read from the layer itself here, so a
    # stale entry would show the first layer's numbers for the second.
    monkeypatch.setattr(
        Workbench, "features", lambda self, split: self.stored.path.center[None, :]
    )
    monkeypatch.setattr(Workbench, "labels", lambda self, split: np.zeros(1, int))
    first, second = _layer_of(0), _layer_of(1)
    assert first.name == second.name == "toy-raw"
    assert debugging.layer_stamp(first) != debugging.layer_stamp(second)
    assert debugging.layer_stamp(first) == debugging.layer_stamp(_layer_of(0))
    for wb in (first, second, first):
        H, _ = debugging.split_features(wb, "test")
        np.testing.assert_array_equal(H[0], wb.stored.path.center)
