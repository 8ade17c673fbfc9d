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


def group_split_indices(
    y: np.ndarray,
    groups: np.ndarray,
    *,
    val: float = 0.1,
    test: float = 0.2,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A group-aware split that stratifies the groups, fast for many groups.

    Each group (e.g. a patient) is labelled with its most common class (the
    smallest on a tie); the groups are split with a stratified
    ``train_test_split`` on those labels, and every row follows its group. Linear
    in the number of rows, where :func:`split_indices` with ``groups``
    (``StratifiedGroupKFold``) grows with groups × folds and takes minutes for
    tens of thousands of patients. Used for registered user data; the built-in
    datasets keep :func:`split_indices` so their splits never change.

    Parameters
    ----------
    y : array of shape (n_samples,), int
        Class indices.
    groups : array of shape (n_samples,)
        Group IDs; a group never spans two splits.
    val, test : float
        Fractions of the groups.

    Returns
    -------
    train, val, test : arrays of int
        Sorted, disjoint row indices covering every row.

    Raises
    ------
    ValueError
        A class has too few groups to be stratified.
    """
    y = np.asarray(y)
    if not 0 <= val < 1 or not 0 <= test < 1 or val + test >= 1:
        raise ValueError(f"val={val} and test={test} must be fractions summing below 1")
    _, group_of = np.unique(np.asarray(groups), return_inverse=True)
    n_groups = int(group_of.max()) + 1
    counts = np.zeros((n_groups, int(y.max()) + 1), dtype=np.int64)
    np.add.at(counts, (group_of, y), 1)
    label = counts.argmax(axis=1)  # ties: the smallest class
    ids = np.arange(n_groups)
    rest, te = _cut(ids, label, test, seed)
    tr, va = _cut(rest, label[rest], val / (1 - test), seed + 1)
    part = np.empty(n_groups, dtype=np.int64)
    part[tr], part[va], part[te] = 0, 1, 2
    row_part = part[group_of]
    return tuple(np.flatnonzero(row_part == k) for k in range(3))  # type: ignore[return-value]
