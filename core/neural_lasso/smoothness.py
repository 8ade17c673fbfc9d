"""How smoothly a model's input-gradient field varies between neighbouring examples.

A sparse gradient penalty should make explanations change little from an
example to its neighbours; :func:`smoothness` puts a number on it. The table
that the CLI (``python -m core smoothness``) and the *Input gradients* page
both show is :func:`core.views.neural_lasso.smoothness_table`.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.neighbors import NearestNeighbors

#: Neighbours per example for :func:`smoothness`.
N_NEIGHBOURS = 10


def neighbours(X: np.ndarray, k: int = N_NEIGHBOURS) -> np.ndarray:
    """The ``k`` nearest other examples of each example (Euclidean).

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Standardised inputs.

    Returns
    -------
    array of shape (n_samples, k), int
        Never the example itself (duplicates of it may appear).
    """
    X = np.asarray(X, dtype=np.float64)
    if not 1 <= k < len(X):
        raise ValueError(f"k must be in 1..{len(X) - 1} for {len(X)} examples, got {k}")
    idx = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)[1]
    self_ = idx == np.arange(len(X))[:, None]
    # Drop the example itself, or (when exact duplicates hid it) the farthest.
    self_[~self_.any(axis=1), -1] = True
    return idx[~self_].reshape(len(X), k)


def smoothness(
    gradients: np.ndarray, nbrs: np.ndarray, chunk: int = 1024
) -> tuple[float, float]:
    """How much the gradient field changes between neighbouring examples.

    ``S = mean_i mean_{j ∈ N(i)} mean_f |g_if − g_jf|``, and ``S`` divided by
    the mean |gradient| (scale-free). A constant field scores 0.

    Parameters
    ----------
    gradients : array of shape (n_samples, n_features)
    nbrs : array of shape (n_samples, k)
        From :func:`neighbours` (the same for every model).

    Returns
    -------
    smoothness, relative : float
        ``relative`` is NaN for an all-zero field.
    """
    G = np.asarray(gradients, dtype=np.float64)
    if G.ndim != 2 or nbrs.shape[0] != G.shape[0]:
        raise ValueError(
            f"gradients {G.shape} and neighbours {nbrs.shape} must have the "
            "same number of rows"
        )
    total = 0.0
    for start in range(0, len(G), chunk):
        block = G[start : start + chunk]
        total += np.abs(block[:, None, :] - G[nbrs[start : start + chunk]]).sum()
    s = total / max(G.size * nbrs.shape[1], 1)
    scale = np.abs(G).mean() if G.size else 0.0
    return float(s), float(s / scale) if scale > 0 else math.nan
