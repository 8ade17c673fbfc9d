"""Reading a path: the sparse layer to keep, feature entry order, top-k tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.sparse_layers.glm.result import ElasticNetPath


def select_sparse(path: ElasticNetPath, tolerance: float = 0.05) -> int:
    """Index of the sparsest λ whose validation accuracy is within ``tolerance``
    of the best on the path (Wong et al. 2021, §3).

    ``tolerance`` is absolute (0.05 = five accuracy points), as in glm_saga.
    Without validation scores the training accuracy is used.

    Returns
    -------
    int
        An index into ``path.lambdas`` (the largest such λ: fewest features).
    """
    if path.classes is None:
        raise ValueError("select_sparse needs a classification path (accuracy)")
    if not 0 <= tolerance < 1:
        raise ValueError(f"tolerance must be in [0, 1), got {tolerance}")
    acc = path.diagnostics["val_accuracy"]
    if not np.all(np.isfinite(acc)):
        acc = path.diagnostics["train_accuracy"]
    ok = np.flatnonzero(acc >= acc.max() - tolerance)
    # λ decreases along the path, so the first admissible index is the sparsest.
    return int(ok[0])


def features_per_class(path: ElasticNetPath) -> np.ndarray:
    """The mean number of features each output uses, per λ.

    A multinomial layer has one output per class; a binomial one has a single
    output whose features serve both classes, so its count is that output's.

    Returns
    -------
    array of shape (K,), float
    """
    return path.nonzeros.mean(axis=1)


def select_by_size(path: ElasticNetPath, per_class: float) -> int:
    """Index of the λ whose mean features per class is closest to
    ``per_class`` without exceeding it.

    A layer chosen by size rather than by accuracy (:func:`select_sparse`):
    a person can read about as many features per class whatever the data, so
    layers are also compared at a fixed number of them. Where several λ share
    that size, the one with the best validation accuracy (training accuracy
    without validation scores) is taken, the sparsest among equals.

    Parameters
    ----------
    path : ElasticNetPath
    per_class : float
        The target mean number of non-zero weights per class, ≥ 0.

    Returns
    -------
    int
        An index into ``path.lambdas``.

    Raises
    ------
    ValueError
        When ``per_class`` is negative or not finite, or every λ of the path
        uses more features per class than ``per_class`` (a path that does not
        start at λ_max).
    """
    if not (np.isfinite(per_class) and per_class >= 0):
        raise ValueError(
            f"per_class must be a number of features ≥ 0, got {per_class!r}"
        )
    size = features_per_class(path)
    fits = np.flatnonzero(size <= per_class)
    if not len(fits):
        raise ValueError(
            f"every λ of this path uses more than {per_class:g} features per "
            f"class (the sparsest uses {size.min():g}); choose a larger target"
        )
    closest = fits[size[fits] == size[fits].max()]
    acc = path.diagnostics.get("val_accuracy")
    if acc is None or not np.all(np.isfinite(acc)):
        acc = path.diagnostics.get("train_accuracy")
    if acc is None or not np.all(np.isfinite(acc[closest])):
        return int(closest[0])
    # argmax returns the first of equal maxima: the sparsest (largest λ).
    return int(closest[np.argmax(acc[closest])])


def entry_order(path: ElasticNetPath) -> np.ndarray:
    """The λ index at which each coefficient first becomes non-zero.

    Returns
    -------
    array of shape (n_outputs, n_features), int
        ``len(path)`` where a coefficient never enters.
    """
    nonzero = path.coef != 0  # (K, outputs, features)
    entered = nonzero.any(axis=0)
    first = nonzero.argmax(axis=0)
    return np.where(entered, first, len(path))


def top_weighted_features(
    path: ElasticNetPath, index: int, output: int, k: int = 10
) -> pd.DataFrame:
    """The ``k`` features with the largest |weight| for one output at ``index``.

    Returns
    -------
    DataFrame with columns ``feature``, ``name``, ``weight``, ``entry`` (λ index
    at which it entered) — only non-zero weights, largest first.
    """
    w = path.coef[index, output]
    order = np.argsort(-np.abs(w), kind="stable")
    order = order[w[order] != 0][:k]
    entry = entry_order(path)[output]
    return pd.DataFrame(
        {
            "feature": order,
            "name": [path.feature_names[j] for j in order],
            "weight": w[order],
            "entry": entry[order],
        }
    )


def topk_accuracy(
    coef: np.ndarray,
    intercept: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    k: int = 5,
) -> dict[str, float]:
    """Accuracy of a decision layer using all its features, only each class's
    top-k features by |weight|, and all but those (Wong et al. 2021, Table 2).

    Parameters
    ----------
    coef : array of shape (n_outputs, n_features)
        On the scale of ``X`` (a binomial layer has one output).
    intercept : array of shape (n_outputs,)
    X : array of shape (n_samples, n_features)
    y : array of shape (n_samples,)
        Class codes 0..C-1.
    k : int

    Returns
    -------
    dict with ``all``, ``top_k`` and ``rest`` accuracies
    """
    coef = np.asarray(coef, dtype=np.float64)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    top = np.zeros_like(coef, dtype=bool)
    order = np.argsort(-np.abs(coef), axis=1, kind="stable")[:, :k]
    np.put_along_axis(top, order, True, axis=1)
    top &= coef != 0

    def accuracy(W: np.ndarray) -> float:
        Z = np.asarray(X, dtype=np.float64) @ W.T + intercept
        pred = (Z[:, 0] > 0).astype(int) if W.shape[0] == 1 else Z.argmax(axis=1)
        return float(np.mean(pred == np.asarray(y)))

    return {
        "all": accuracy(coef),
        "top_k": accuracy(np.where(top, coef, 0.0)),
        "rest": accuracy(np.where(top, 0.0, coef)),
    }


def path_summary(path: ElasticNetPath) -> pd.DataFrame:
    """One row per λ: λ, active features, non-zeros, losses, accuracies, epochs,
    seconds, relative duality gap and KKT violation (NaN for paths saved before
    it was recorded)."""
    d = path.diagnostics
    return pd.DataFrame(
        {
            "lambda": path.lambdas,
            "features": path.active_features,
            "nonzeros": path.nonzeros.sum(axis=1),
            "train_loss": d["train_loss"],
            "train_accuracy": d["train_accuracy"],
            "val_loss": d["val_loss"],
            "val_accuracy": d["val_accuracy"],
            "epochs": d["epochs"],
            "seconds": d["seconds"],
            "gap": d["gap"],
            "kkt": d.get("kkt", np.full(len(path), np.nan)),
        }
    )
