"""Checks on the inputs of a GLM fit: every bad input gets a precise message."""

from __future__ import annotations

import os

import numpy as np

from core.sparse_layers.glm.families import Family


def _matrix(X, what: str) -> np.ndarray:
    try:
        A = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} must be a numeric matrix: {exc}") from None
    if A.size == 0:
        raise ValueError(f"{what} is empty: it has no rows to fit or score")
    if A.ndim != 2:
        raise ValueError(
            f"{what} must be 2-d (n_samples, n_features), got shape {A.shape}"
        )
    if A.shape[0] == 0:
        raise ValueError(f"{what} has no rows")
    if A.shape[1] == 0:
        raise ValueError(f"{what} has no columns")
    bad = ~np.isfinite(A)
    if bad.any():
        rows, cols = np.nonzero(bad)
        raise ValueError(
            f"{what} has {bad.sum()} non-finite values (NaN or ±inf), first at row "
            f"{rows[0]}, column {cols[0]}; impute or drop them before fitting"
        )
    return A


def _labels(y, n: int, family: Family, what: str) -> np.ndarray:
    arr = np.asarray(y)
    if len(arr) != n:
        raise ValueError(f"{what}: {len(arr)} labels for {n} rows of features")
    if family.classification:
        if arr.ndim != 1:
            raise ValueError(f"{what}: class labels must be 1-d, got shape {arr.shape}")
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise ValueError(f"{what}: labels contain NaN or ±inf")
    else:
        arr = np.asarray(arr, dtype=np.float64)
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{what}: targets contain NaN or ±inf")
    return arr


def check_design(
    X,
    y,
    family: Family,
    *,
    validation=None,
    feature_names=None,
) -> tuple[
    np.ndarray,
    np.ndarray,
    tuple[np.ndarray, np.ndarray] | None,
    np.ndarray | None,
    tuple[str, ...],
]:
    """Validate a GLM fit's design matrix, labels, validation pair and feature
    names, and encode class labels as 0..C-1.

    Returns
    -------
    X : array of shape (n, p), float64
    y : array of shape (n,) int64 codes (classification) or float64 targets
    validation : (X_val, y_val) encoded the same way, or None
    classes : array of shape (C,) of the original labels, or None (gaussian)
    feature_names : tuple of str
    """
    Xa = _matrix(X, "X")
    targets = _targets(y, Xa.shape, family, validation, feature_names)
    _check_no_constant_column(Xa.max(axis=0) - Xa.min(axis=0), "X")
    return (Xa, *targets)


def check_streamed_design(
    X,
    y,
    family: Family,
    *,
    validation=None,
    feature_names=None,
) -> tuple[
    np.ndarray,
    tuple[np.ndarray, np.ndarray] | None,
    np.ndarray | None,
    tuple[str, ...],
]:
    """:func:`check_design` for a matrix streamed from its file: the shape, the
    dtype and the labels are checked here without reading the values (the
    values are checked by :func:`check_streamed_values` as they are read).

    Parameters
    ----------
    X : numpy.memmap of shape (n, p)
        ``np.load(path, mmap_mode="r")`` of a C-ordered float16, float32 or
        float64 ``.npy`` file, whole (not a slice of it).

    Returns
    -------
    y, validation, classes, feature_names
        As :func:`check_design` returns them.
    """
    if not isinstance(X, np.memmap):
        raise TypeError(
            "max_memory streams X from its file: X must be np.load(path, "
            f"mmap_mode='r') of a .npy file, got {type(X).__name__}"
        )
    where = X.filename
    if X.ndim != 2:
        raise ValueError(
            f"{where}: the feature matrix must be 2-d (n_samples, n_features), "
            f"got shape {X.shape}"
        )
    if X.dtype.kind != "f":
        raise ValueError(
            f"{where}: features must be float16, float32 or float64, got {X.dtype}; "
            "save them as floats (float16 halves the file)"
        )
    if not X.flags.c_contiguous or X.offset + X.nbytes != os.path.getsize(where):
        raise ValueError(
            f"{where}: rows are read from the file, so X must be the whole, "
            "C-ordered matrix np.load(path, mmap_mode='r') returns, not a slice "
            "or transpose of it"
        )
    if X.shape[1] == 0:
        raise ValueError(f"{where}: the feature matrix has no columns")
    n_labels = len(np.asarray(y))
    if n_labels != X.shape[0]:
        raise ValueError(
            f"{where}: {X.shape[0]} rows of features but {n_labels} labels; the "
            "labels must follow the file's rows one for one"
        )
    return _targets(y, X.shape, family, validation, feature_names)


def check_streamed_values(stats, where: str) -> None:
    """The column statistics of a streamed matrix admit standardisation."""
    _check_no_constant_column(stats.spread, where)


def _targets(y, shape: tuple[int, int], family: Family, validation, feature_names):
    """Labels (encoded), validation pair, classes and feature names of a design
    of ``shape``."""
    n, p = shape
    ya = _labels(y, n, family, "y")
    if n < 2:
        raise ValueError(f"X has {n} row; at least 2 are needed to fit a path")
    names = _feature_names(feature_names, p)
    classes = None
    if family.classification:
        classes, codes = np.unique(ya, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"y has a single class ({classes[0]!r}); a classifier needs two or more"
            )
        ya = codes.astype(np.int64)
    val = None
    if validation is not None:
        val = _validation_pair(validation, p, family, classes)
    return ya, val, classes, names


def _check_no_constant_column(spread: np.ndarray, where: str) -> None:
    """``spread`` is each column's max − min."""
    if np.any(spread == 0):
        const = np.flatnonzero(spread == 0)
        shown = ", ".join(str(j) for j in const[:10])
        raise ValueError(
            f"{where}: {len(const)} constant feature column(s) (e.g. {shown}) cannot "
            "be standardised; drop them before fitting (e.g. dead ReLU units)"
        )


def _feature_names(feature_names, p: int) -> tuple[str, ...]:
    names = (
        tuple(f"f{j}" for j in range(p))
        if feature_names is None
        else tuple(str(s) for s in feature_names)
    )
    if len(names) != p:
        raise ValueError(f"{len(names)} feature names for {p} feature columns")
    return names


def _validation_pair(
    validation, p: int, family: Family, classes: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """``(X_val, y_val)`` checked against the training data, labels encoded."""
    try:
        Xv_raw, yv_raw = validation
    except (TypeError, ValueError):
        raise TypeError("validation must be a pair (X_val, y_val)") from None
    Xv = _matrix(Xv_raw, "X_val")
    if Xv.shape[1] != p:
        raise ValueError(f"X_val has {Xv.shape[1]} columns, X has {p}")
    yv = _labels(yv_raw, len(Xv), family, "y_val")
    if classes is not None:
        unknown = np.setdiff1d(np.unique(yv), classes)
        if unknown.size:
            raise ValueError(f"y_val has labels not seen in y: {unknown[:5].tolist()}")
        yv = np.searchsorted(classes, yv).astype(np.int64)
    return Xv, yv
