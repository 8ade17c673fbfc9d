"""Reading a loaded dataset: a split by name, its features in original units, samples.

The small helpers every layer above the data needs (the methods, figures and
views), so that none of them reaches up into another for them.
"""

from __future__ import annotations

import numpy as np

from core.data.types import Dataset, Split

#: Split names, in the order pages and tables list them.
SPLITS = ("train", "val", "test")


def split_of(ds: Dataset, split: str) -> Split:
    """``ds.train``, ``ds.val`` or ``ds.test`` by name; another name raises."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}; got {split!r}")
    return ds.splits[split]


def sample_indices(n_total: int, n: int, seed: int) -> np.ndarray:
    """``min(n, n_total)`` distinct row indices drawn with ``seed``, sorted."""
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_total, size=min(n, n_total), replace=False))


def no_features_reason(ds: Dataset) -> str | None:
    """Why ``ds`` has no feature matrix to tabulate, or None when it has one."""
    if ds.train.X is not None:
        return None
    if ds.modality == "text":
        return (
            f"{ds.name} is a text dataset whose features come from a text encoder "
            "at training time, so there is no fixed feature table to describe; "
            "sample texts are shown below instead."
        )
    if ds.modality == "image":
        return (
            f"{ds.name} keeps its images as pixels; pixel features are not "
            "materialised as a feature matrix (the models read the images "
            "directly), so sample images are shown below instead."
        )
    return f"{ds.name} has no feature matrix."


def original_units(ds: Dataset, split: str = "train") -> np.ndarray:
    """The features of one split in original units, NaN where a value was imputed.

    Returns
    -------
    array of shape (n_samples, n_features), float64

    Raises
    ------
    ValueError
        The dataset has no feature matrix (text and image sets), or ``split``
        is not a split name.
    """
    part = split_of(ds, split)
    if part.X is None:
        raise ValueError(no_features_reason(ds))
    if ds.preprocessing is None:
        X = np.array(part.X, dtype=np.float64)  # a copy: NaNs go in below
    else:
        X = ds.preprocessing.inverse_transform(part.X)
    if part.imputed is not None:
        X[part.imputed] = np.nan  # an imputed median is not an observation
    return X
