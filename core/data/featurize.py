"""Scaling and encoding shared by the tabular loaders."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data.types import Preprocessing


def fit_scaler(
    X_train: np.ndarray, method: str, description: str = ""
) -> Preprocessing:
    """Fit a per-feature affine scaling on training data.

    ``"zscore"`` uses mean and standard deviation; ``"robust"`` uses median and
    inter-quartile range (as the Neural LASSO paper did for ICU data). A feature
    with zero spread is scaled by 1 so it stays finite.
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


def one_hot(
    frame: pd.DataFrame, categorical: list[str]
) -> tuple[np.ndarray, list[str], dict[str, tuple[int, ...]]]:
    """Numeric columns as they are, categorical columns one-hot encoded.

    Returns
    -------
    X : array of shape (n_samples, n_features), float64
    names : list of str
        ``column`` for numeric columns, ``column=level`` for one-hot columns.
    groups : dict of str to tuple of int
        One group per original column (its one-hot columns together).
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
            blocks.append(frame[[col]].to_numpy(dtype=np.float64))
            names.append(str(col))
        groups[str(col)] = tuple(range(start, len(names)))
    return np.concatenate(blocks, axis=1), names, groups
