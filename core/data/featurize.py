"""Raw columns → model inputs: encoding, imputation, scaling and the splits.

Every tabular loader, built-in or the user's, takes the same steps, each
fitted on the training split only:

1. :func:`encode_columns`: numeric columns as they are (NaN where missing,
   optionally with a ``<column>_missing`` indicator), categorical columns
   one-hot encoded; one feature group per column.
2. :func:`fill_values`: the training statistic (median, mean or zero) that
   fills a missing value of each column.
3. :func:`scale_and_impute`: the scaler is fitted on the *observed* training
   values (imputing first would shrink the spread of a mostly-missing column),
   then missing values are filled and every column scaled.
4. :func:`make_splits`: the train / validation / test :class:`Split` objects
   a :class:`~core.data.types.Dataset` is assembled from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from core.data.types import Preprocessing, Split

#: Statistics :func:`fill_values` can fill a missing value with.
FILL_STATISTICS = ("median", "mean", "zero")
_SPLIT_NAMES = ("train", "val", "test")


def fit_scaler(
    X_train: np.ndarray, method: str, description: str = ""
) -> Preprocessing:
    """Fit a per-feature affine scaling on training data.

    ``"zscore"`` uses mean and standard deviation; ``"robust"`` uses median and
    inter-quartile range (as the Neural LASSO paper did for ICU data). Missing
    values (NaN) are left out of the statistics. A feature with zero spread is
    scaled by 1 so it stays finite.

    Parameters
    ----------
    X_train : array of shape (n_samples, n_features)
    method : {"zscore", "robust", "identity"}
    description : str
        What else was done, recorded with the scaling.

    Returns
    -------
    Preprocessing

    Raises
    ------
    ValueError
        An unknown ``method``.
    """
    X = np.asarray(X_train, dtype=np.float64)
    if method == "zscore":
        center, scale = np.nanmean(X, axis=0), np.nanstd(X, axis=0)
    elif method == "robust":
        q25, center, q75 = np.nanpercentile(X, [25, 50, 75], axis=0)
        scale = q75 - q25
        # Binary and near-constant columns have IQR 0; fall back to their std.
        fallback = np.nanstd(X, axis=0)
        scale = np.where(scale > 0, scale, fallback)
    elif method == "identity":
        center, scale = np.zeros(X.shape[1]), np.ones(X.shape[1])
    else:
        raise ValueError(
            f"Unknown scaling {method!r}; expected zscore, robust or identity"
        )
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    center = np.where(np.isfinite(center), center, 0.0)
    return Preprocessing(method, center, scale, description)


def encode_columns(
    frame: pd.DataFrame,
    categorical: Sequence[str],
    *,
    missing_indicators: bool = False,
) -> tuple[np.ndarray, list[str], dict[str, tuple[int, ...]]]:
    """Numeric columns as they are, categorical columns one-hot encoded.

    Parameters
    ----------
    frame : DataFrame of shape (n_samples, n_columns)
        Numeric columns convertible to float64 (NaN where missing);
        categorical columns of any type (a missing value becomes the level
        ``"missing"``).
    categorical : sequence of str
        The columns to one-hot encode, in sorted level order.
    missing_indicators : bool
        Put a 0/1 ``<column>_missing`` feature right after each numeric
        column that has a missing value.

    Returns
    -------
    X : array of shape (n_samples, n_features), float64
        NaN where a numeric value is missing.
    names : list of str
        ``column`` for numeric columns, ``column_missing`` for their
        indicators, ``column=level`` for one-hot columns.
    groups : dict of str to tuple of int
        One group per column: its one-hot columns, or its value and indicator.
    """
    blocks, names, groups = [], [], {}
    for col in frame.columns:
        start = len(names)
        if col in categorical:
            values = frame[col].astype("string").fillna("missing")
            levels = sorted(values.unique())
            blocks.append(
                np.stack([(values == lv).to_numpy(float) for lv in levels], axis=1)
            )
            names.extend(f"{col}={lv}" for lv in levels)
        else:
            values = frame[col].to_numpy(dtype=np.float64)
            blocks.append(values[:, None])
            names.append(str(col))
            absent = np.isnan(values)
            if missing_indicators and absent.any():
                blocks.append(absent[:, None].astype(np.float64))
                names.append(f"{col}_missing")
        groups[str(col)] = tuple(range(start, len(names)))
    return np.concatenate(blocks, axis=1), names, groups


def fill_values(X_train: np.ndarray, statistic: str) -> np.ndarray:
    """The value that fills a missing entry of each column.

    Parameters
    ----------
    X_train : array of shape (n_samples, n_features)
        Training rows in original units, NaN where missing.
    statistic : {"median", "mean", "zero"}
        Median or mean of the column's observed (finite) training values, or 0.

    Returns
    -------
    array of shape (n_features,), float64
        NaN for a median or mean of a column with no observed training value.

    Raises
    ------
    ValueError
        An unknown ``statistic``.
    """
    if statistic not in FILL_STATISTICS:
        raise ValueError(
            f"Unknown fill statistic {statistic!r}; expected "
            f"{', '.join(FILL_STATISTICS)}"
        )
    X = np.asarray(X_train, dtype=np.float64)
    if statistic == "zero":
        return np.zeros(X.shape[1])
    average = np.median if statistic == "median" else np.mean
    fill = np.full(X.shape[1], np.nan)
    for j in range(X.shape[1]):
        observed = X[np.isfinite(X[:, j]), j]
        if observed.size:
            fill[j] = average(observed)
    return fill


def scale_and_impute(
    X_raw: np.ndarray,
    train: np.ndarray,
    *,
    scaling: str,
    fill: np.ndarray,
    description: str,
) -> tuple[np.ndarray, Preprocessing, np.ndarray]:
    """Fit the scaling on observed training values, fill missing values, scale.

    Parameters
    ----------
    X_raw : array of shape (n_samples, n_features)
        Every row in original units, NaN where missing.
    train : array of int
        The training rows, the only ones the scaling is fitted on.
    scaling : {"zscore", "robust", "identity"}
        See :func:`fit_scaler`.
    fill : array of shape (n_features,)
        What a missing value of each column becomes (:func:`fill_values`).
    description : str
        The whole preprocessing in words, recorded with the scaling.

    Returns
    -------
    X : array of shape (n_samples, n_features), float32
        Model inputs; NaN only where a column's fill value is NaN.
    preprocessing : Preprocessing
    imputed : array of shape (n_samples, n_features), bool
        True where a missing value was filled.
    """
    prep = fit_scaler(X_raw[train], scaling, description)
    imputed = np.isnan(X_raw)
    filled = np.where(imputed, fill, X_raw)
    return prep.transform(filled), prep, imputed


def make_splits(
    parts: Sequence[np.ndarray],
    *,
    y: np.ndarray,
    ids: np.ndarray,
    X: np.ndarray | None = None,
    imputed: np.ndarray | None = None,
    texts: Sequence[str] | None = None,
    images: np.ndarray | None = None,
    meta: Mapping[str, np.ndarray] | None = None,
) -> dict[str, Split]:
    """The train, validation and test splits of per-row arrays.

    Parameters
    ----------
    parts : sequence of three arrays of int
        The rows of the train, validation and test splits.
    y, ids : array of shape (n_samples,)
    X, imputed : array of shape (n_samples, n_features), optional
    texts : sequence of str of length n_samples, optional
    images : array of shape (n_samples, H, W) or (n_samples, H, W, 3), optional
    meta : mapping of str to array of shape (n_samples,), optional

    Returns
    -------
    dict of str to Split
        Keys ``train``, ``val``, ``test``: ``Dataset(..., **splits)``.
    """

    def split(idx: np.ndarray) -> Split:
        return Split(
            y=y[idx],
            ids=ids[idx],
            X=None if X is None else X[idx],
            texts=None if texts is None else tuple(texts[i] for i in idx),
            images=None if images is None else images[idx],
            imputed=None if imputed is None else imputed[idx],
            meta={k: v[idx] for k, v in (meta or {}).items()},
        )

    return {name: split(idx) for name, idx in zip(_SPLIT_NAMES, parts, strict=True)}
