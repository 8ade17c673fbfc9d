"""PCA maps: where in input space each feature's gradient points up or down.

One PCA basis per dataset, fitted on the standardised training inputs, so
that every model's maps share the plane (the figures are built by
:mod:`core.figures.neural_lasso`).

References
----------
Ross, Lage & Doshi-Velez (2017), "The Neural LASSO: Local Linear Sparsity for
Interpretable Explanations", NIPS TML workshop: the supplement's PCA figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from core.data.access import sample_indices, split_of
from core.data.types import Dataset
from core.neural_lasso.gradients import MAX_POINTS, split_inputs


def pca_basis(ds: Dataset, n_components: int = 2) -> PCA:
    """PCA fitted on the standardised training inputs (deterministic full SVD).

    One basis per dataset: every model's maps share it, so positions are
    comparable between models.
    """
    X = split_inputs(ds, "train")
    return PCA(n_components=n_components, svd_solver="full").fit(
        np.asarray(X, dtype=np.float64)
    )


def pca_coordinates(pca: PCA, ds: Dataset, split: str = "test") -> np.ndarray:
    """The split's inputs in the PCA basis, array of shape (n_samples, 2)."""
    return pca.transform(np.asarray(split_inputs(ds, split), dtype=np.float64))


def pca_loadings(pca: PCA, feature_names: Sequence[str], k: int = 3) -> list[str]:
    """Each component in words: variance explained and its ``k`` largest loadings.

    E.g. ``"PC 1 (44.0 %): bili1 +0.99, liverhx=1 +0.05, liverhx=0 −0.05"``.
    """
    out = []
    for c, (component, ratio) in enumerate(
        zip(pca.components_, pca.explained_variance_ratio_, strict=True), start=1
    ):
        top = np.argsort(-np.abs(component), kind="stable")[:k]
        terms = ", ".join(f"{feature_names[j]} {component[j]:+.2f}" for j in top)
        out.append(f"PC {c} ({ratio:.1%}): {terms}")
    return out


def pca_table(
    ds: Dataset,
    split: str,
    coords: np.ndarray,
    columns: Mapping[str, np.ndarray],
    *,
    max_points: int = MAX_POINTS,
    seed: int = 0,
) -> pd.DataFrame:
    """Examples in the PCA plane with extra per-example columns, subsampled.

    Parameters
    ----------
    coords : array of shape (n_samples, 2)
    columns : mapping of str to array of shape (n_samples,)
        E.g. ``{"x7": gradients[:, 7]}`` or ``{"model-a": p_positive}``.

    Returns
    -------
    DataFrame
        ``id``, ``outcome`` (class name), ``class`` (index), ``pc1``, ``pc2``,
        then ``columns``; at most ``max_points`` rows (seeded), in split order.
    """
    part = split_of(ds, split)
    idx = sample_indices(len(part), max_points, seed)
    y = np.asarray(part.y)
    frame = {
        "id": part.ids[idx],
        "outcome": np.asarray(ds.class_names, dtype=object)[y[idx]],
        "class": y[idx],
        "pc1": coords[idx, 0],
        "pc2": coords[idx, 1],
    }
    for name, values in columns.items():
        frame[name] = np.asarray(values)[idx]
    return pd.DataFrame(frame)
