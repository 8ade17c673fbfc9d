"""First-layer weights, and which of their rows and columns are entirely zero.

A zero column of the first layer's weight matrix is an input feature the
model ignores (what group LASSO switches off, exactly, by its proximal step);
a zero row is a hidden unit without input (what L1 on the weights tends to
make). The heatmaps are built by :mod:`core.figures.neural_lasso`.

References
----------
Ross, Lage & Doshi-Velez (2017), "The Neural LASSO: Local Linear Sparsity for
Interpretable Explanations", NIPS TML workshop: the supplement's weight figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from torch import nn

from core.training.models import first_linear

#: A first-layer weight counts as zero when ``|w| <= ZERO_TOL * max|W|``.
ZERO_TOL = 1e-6


def first_layer_weights(model: nn.Module) -> np.ndarray:
    """The first fully connected layer's weights, array of shape (n_hidden, n_features).

    Raises
    ------
    ValueError
        The model does not start with a linear layer (a CNN).
    """
    return first_linear(model).weight.detach().cpu().numpy().astype(np.float64)


@dataclass(frozen=True)
class ZeroStructure:
    """All-zero columns (input features) and rows (hidden units) of a weight matrix.

    Attributes
    ----------
    tolerance : float
        Absolute threshold used: ``rel_tol · max|W|``.
    zero_features : array of int
        Columns with every ``|w| <= tolerance`` (features the layer ignores).
    zero_units : array of int
        Rows with every ``|w| <= tolerance`` (hidden units without input).
    """

    tolerance: float
    rel_tol: float
    n_features: int
    n_units: int
    zero_features: np.ndarray
    zero_units: np.ndarray


def zero_structure(W: np.ndarray, rel_tol: float = ZERO_TOL) -> ZeroStructure:
    """Count the entirely-zero feature columns and hidden-unit rows of ``W``.

    Parameters
    ----------
    W : array of shape (n_hidden, n_features)
    rel_tol : float
        A weight is zero when ``|w| <= rel_tol · max|W|``; group LASSO's prox
        gives exact zeros, L1 by gradient steps only near-zeros.
    """
    magnitude = np.abs(np.asarray(W, dtype=np.float64))
    if magnitude.ndim != 2:
        raise ValueError(f"W must be a 2-d weight matrix, got shape {magnitude.shape}")
    if rel_tol < 0:
        raise ValueError(f"rel_tol must be non-negative, got {rel_tol}")
    tol = rel_tol * (magnitude.max() if magnitude.size else 0.0)
    small = magnitude <= tol
    return ZeroStructure(
        tolerance=float(tol),
        rel_tol=float(rel_tol),
        n_features=magnitude.shape[1],
        n_units=magnitude.shape[0],
        zero_features=np.flatnonzero(small.all(axis=0)),
        zero_units=np.flatnonzero(small.all(axis=1)),
    )


def zero_table(
    structures: Mapping[str, ZeroStructure], feature_names: Sequence[str]
) -> pd.DataFrame:
    """One row per model: tolerance, zero feature columns and zero hidden units."""
    rows = []
    for name, z in structures.items():
        rows.append(
            {
                "model": name,
                "tolerance": z.tolerance,
                "zero feature columns": z.zero_features.size,
                "features": z.n_features,
                "zero hidden units": z.zero_units.size,
                "hidden units": z.n_units,
                "zeroed features": ", ".join(feature_names[j] for j in z.zero_features),
            }
        )
    return pd.DataFrame(rows)


def weight_rows(weights: Sequence[np.ndarray], max_features: int) -> np.ndarray:
    """The feature columns a heatmap shows, in column order.

    All of them when there are at most ``max_features``; else those with the
    largest column norm ``‖W[:, j]‖₂`` in any of the models.
    """
    if not weights:
        raise ValueError("Need at least one weight matrix")
    n = weights[0].shape[1]
    if n <= max_features:
        return np.arange(n)
    norm = np.max([np.linalg.norm(W, axis=0) for W in weights], axis=0)
    return np.sort(np.argsort(-norm, kind="stable")[:max_features])


def weights_table(
    weights: Mapping[str, np.ndarray], feature_names: Sequence[str], rows: np.ndarray
) -> pd.DataFrame:
    """First-layer weights of several models as one table.

    Parameters
    ----------
    weights : mapping of str to array of shape (n_hidden, n_features)
    rows : array of int
        The feature columns to keep (:func:`weight_rows`).

    Returns
    -------
    DataFrame
        ``model``, ``feature``, then ``unit 0`` … ``unit h−1`` (NaN where a
        model has fewer hidden units): one row per model and shown feature.
    """
    frames = []
    for name, W in weights.items():
        frame = pd.DataFrame(
            W[:, rows].T, columns=[f"unit {u}" for u in range(W.shape[0])]
        )
        frame.insert(0, "feature", [feature_names[j] for j in rows])
        frame.insert(0, "model", name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
