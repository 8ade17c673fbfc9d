"""PCA maps: where in input space each feature's gradient points up or down.

One PCA basis per dataset, fitted on the standardised training inputs, so
that every model's maps share the plane (the figures are built by
:mod:`core.figures.neural_lasso`).

Heavy-tailed variables (liver enzymes, troponins) can take a PCA over: on
``icu_physionet2012`` the first component of the standardised inputs is AST
and ALT (58.7 % of the variance) and most patients sit in one corner. The
``"signed_log"`` projection puts every skewed continuous variable through
``sign(z) · log(1 + |z|)`` before the PCA, which keeps its order and its
centre but pulls in the tail; it is the default on skewed clinical data.

References
----------
Ross, Lage & Doshi-Velez (2017), "The Neural LASSO: Local Linear Sparsity for
Interpretable Explanations", NIPS TML workshop: the supplement's PCA figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import skew
from sklearn.decomposition import PCA

from core.data.access import sample_indices, split_of
from core.data.types import Dataset
from core.neural_lasso.gradients import MAX_POINTS, continuous_features, split_inputs

#: The projections a PCA map can use, with what each does in words.
PROJECTIONS = {
    "standardised": "PCA of the standardised inputs",
    "signed_log": "PCA after a signed log of the skewed variables",
}
#: |sample skewness| above which a continuous variable counts as skewed: the
#: usual cut-off for a substantially non-normal variable (a lognormal with
#: σ = 0.6 has skewness 2.3).
SKEW_THRESHOLD = 2.0


def signed_log(z: np.ndarray) -> np.ndarray:
    """``sign(z) · log(1 + |z|)``: strictly increasing, odd, slope 1 at 0.

    Values near the centre (|z| ≪ 1) stay nearly as they were; a value 100
    scale units out becomes 4.6.
    """
    z = np.asarray(z, dtype=np.float64)
    return np.sign(z) * np.log1p(np.abs(z))


def feature_skewness(ds: Dataset) -> np.ndarray:
    """Sample skewness of each feature over the standardised training inputs.

    Returns
    -------
    array of shape (n_features,); 0 for a constant feature.
    """
    X = np.asarray(split_inputs(ds, "train"), dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = skew(X, axis=0)
    return np.nan_to_num(out, nan=0.0)


def skewed_features(ds: Dataset) -> np.ndarray:
    """Columns the signed log applies to: continuous, |skewness| > threshold.

    Indicator and one-hot columns are left alone (a rare 0/1 flag is skewed
    but has no tail to pull in); see
    :func:`core.neural_lasso.gradients.continuous_features`.

    Returns
    -------
    array of int
        Column indices, in column order.
    """
    skewed = continuous_features(ds) & (np.abs(feature_skewness(ds)) > SKEW_THRESHOLD)
    return np.flatnonzero(skewed)


def default_projection(ds: Dataset) -> str:
    """``"signed_log"`` on skewed clinical data, else ``"standardised"``.

    Clinical means the dataset has normal ranges; skewed means at least one
    column of :func:`skewed_features`.
    """
    if ds.normal_ranges and len(skewed_features(ds)):
        return "signed_log"
    return "standardised"


@dataclass(frozen=True)
class PCABasis:
    """A fitted PCA and the projection its inputs went through.

    Attributes
    ----------
    pca : PCA
        Fitted on the projected training inputs.
    projection : {"standardised", "signed_log"}
    logged : tuple of int
        The columns put through :func:`signed_log` (empty for
        ``"standardised"``).
    skewness : tuple of float
        Their training skewness, in the same order.
    """

    pca: PCA
    projection: str
    logged: tuple[int, ...] = ()
    skewness: tuple[float, ...] = ()

    def project(self, X: np.ndarray) -> np.ndarray:
        """Standardised inputs → the inputs the PCA reads."""
        X = np.array(X, dtype=np.float64)
        columns = list(self.logged)
        X[:, columns] = signed_log(X[:, columns])
        return X


def pca_basis(
    ds: Dataset, projection: str | None = None, n_components: int = 2
) -> PCABasis:
    """PCA fitted on the (projected) standardised training inputs.

    One basis per dataset and projection: every model's maps share it, so
    positions are comparable between models. The SVD is full, hence
    deterministic.

    Parameters
    ----------
    projection : {"standardised", "signed_log"}, optional
        Default :func:`default_projection`.

    Raises
    ------
    ValueError
        An unknown projection.
    """
    projection = default_projection(ds) if projection is None else projection
    if projection not in PROJECTIONS:
        raise ValueError(
            f"projection must be one of {', '.join(PROJECTIONS)}, got {projection!r}"
        )
    logged: tuple[int, ...] = ()
    skewness: tuple[float, ...] = ()
    if projection == "signed_log":
        logged = tuple(int(j) for j in skewed_features(ds))
        skewness = tuple(float(s) for s in feature_skewness(ds)[list(logged)])
    pca = PCA(n_components=n_components, svd_solver="full")
    basis = PCABasis(pca, projection, logged, skewness)
    basis.pca.fit(basis.project(split_inputs(ds, "train")))
    return basis


def pca_coordinates(basis: PCABasis, ds: Dataset, split: str = "test") -> np.ndarray:
    """The split's inputs in the PCA basis, array of shape (n_samples, 2)."""
    return basis.pca.transform(basis.project(split_inputs(ds, split)))


def pca_loadings(
    basis: PCABasis, feature_names: Sequence[str], k: int = 3
) -> list[str]:
    """Each component in words: variance explained and its ``k`` largest loadings.

    E.g. ``"PC 1 (44.0 %): bili1 +0.99, liverhx=1 +0.05, liverhx=0 −0.05"``.
    """
    out = []
    pca = basis.pca
    for c, (component, ratio) in enumerate(
        zip(pca.components_, pca.explained_variance_ratio_, strict=True), start=1
    ):
        top = np.argsort(-np.abs(component), kind="stable")[:k]
        terms = ", ".join(f"{feature_names[j]} {component[j]:+.2f}" for j in top)
        out.append(f"PC {c} ({ratio:.1%}): {terms}")
    return out


def projection_note(basis: PCABasis, feature_names: Sequence[str], k: int = 3) -> str:
    """Which projection a basis used and why, in words, for a page caption.

    E.g. ``"PCA after a signed log of the skewed variables: 100 continuous
    variables with |skewness| > 2 in the training split (most: ALP_min 26.0,
    …) went through sign(z)·log(1 + |z|) first, so a few extreme values do not
    set the axes."``
    """
    what = PROJECTIONS[basis.projection]
    if basis.projection == "standardised":
        return f"{what}: each variable centred and scaled, nothing else."
    if not basis.logged:
        return f"{what}: no continuous variable has |skewness| > {SKEW_THRESHOLD:g}."
    order = np.argsort(-np.abs(basis.skewness), kind="stable")[:k]
    most = ", ".join(
        f"{feature_names[basis.logged[i]]} {basis.skewness[i]:.1f}" for i in order
    )
    n = len(basis.logged)
    return (
        f"{what}: {n} continuous variable{'s' if n != 1 else ''} with |skewness| > "
        f"{SKEW_THRESHOLD:g} in the training split (most: {most}) went through "
        "sign(z)·log(1 + |z|) first, so a few extreme values do not set the axes."
    )


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
