"""Fixed-seed train / validation / test splits, stratified and group-aware."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, train_test_split


def split_indices(
    y: np.ndarray,
    *,
    val: float = 0.1,
    test: float = 0.2,
    seed: int = 0,
    groups: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of a stratified train / validation / test split.

    Parameters
    ----------
    y : array of shape (n_samples,)
        Labels to stratify on.
    val, test : float
        Fractions of all examples (``test`` may be 0 when a set has an official
        test split).
    groups : array of shape (n_samples,), optional
        Group IDs (e.g. patients): a group never spans two splits.

    Returns
    -------
    train, val, test : arrays of int
        Sorted, disjoint indices covering every example.
    """
    y = np.asarray(y)
    if not 0 <= val < 1 or not 0 <= test < 1 or val + test >= 1:
        raise ValueError(f"val={val} and test={test} must be fractions summing below 1")
    idx = np.arange(len(y))
    # One example per group (e.g. one stay per patient) needs no grouping, and the
    # plain split is much faster than StratifiedGroupKFold over thousands of groups.
    if groups is not None and np.unique(groups).size == len(y):
        groups = None
    if groups is None:
        rest, te = _cut(idx, y, test, seed)
        tr, va = _cut(rest, y[rest], val / (1 - test), seed + 1)
    else:
        groups = np.asarray(groups)
        rest, te = _group_cut(idx, y, groups, test, seed)
        tr, va = _group_cut(rest, y[rest], groups[rest], val / (1 - test), seed + 1)
    return np.sort(tr), np.sort(va), np.sort(te)


def _cut(idx: np.ndarray, y: np.ndarray, frac: float, seed: int):
    if frac == 0:
        return idx, idx[:0]
    return train_test_split(idx, test_size=frac, random_state=seed, stratify=y)


def _group_cut(
    idx: np.ndarray, y: np.ndarray, groups: np.ndarray, frac: float, seed: int
):
    if frac == 0:
        return idx, idx[:0]
    n_folds = max(2, round(1 / frac))
    folds = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    keep, held = next(folds.split(idx, y, groups))
    return idx[keep], idx[held]
