"""Input gradients of the Neural LASSO's models, in the units a reader knows.

- gradients of a class's log-probability in the model's standardised input
  space, and in original units (per mg/dL, per year) by the chain rule through
  the dataset's affine scaling;
- what a gradient explains, in words, and the unit of a gradient axis;
- the features whose gradients matter most, and on clinical data the
  continuous labs and vitals a page opens on.

References
----------
Ross, Lage & Doshi-Velez (2017), "The Neural LASSO: Local Linear Sparsity for
Interpretable Explanations", NIPS TML workshop.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from torch import nn

from core.data.access import split_of
from core.data.types import Dataset, Split
from core.training.gradients import input_gradients

#: Features shown by default (the supplement's "12 most significant").
N_TOP_FEATURES = 12
#: Points drawn per panel or map before a seeded subsample is taken.
MAX_POINTS = 4000


def default_target(ds: Dataset) -> int | None:
    """The positive class (index 1) of a binary task; None (Σ_k log p_k) otherwise."""
    return 1 if ds.n_classes == 2 else None


def target_label(ds: Dataset, target: int | None) -> str:
    """What a gradient explains, in words: ``log p(died)`` or ``Σₖ log pₖ``."""
    if target is None:
        return "Σₖ log pₖ"
    if not 0 <= target < ds.n_classes:
        raise ValueError(
            f"target must be a class index in 0..{ds.n_classes - 1} or None, "
            f"got {target}"
        )
    return f"log p({ds.class_names[target]})"


def split_inputs(ds: Dataset, split: str) -> np.ndarray:
    """The standardised feature matrix of one split.

    Raises
    ------
    ValueError
        The dataset has no feature matrix (raw text, images kept as pixels).
    """
    X = split_of(ds, split).X
    if X is None:
        raise ValueError(
            f"{ds.name} has no feature matrix ({ds.modality} data), so its input "
            "gradients have no per-feature values to plot against."
        )
    return X


def standardised_gradients(
    model: nn.Module, ds: Dataset, split: str, target: int | None
) -> np.ndarray:
    """∇ₓ log p_target (or Σ_k log p_k) in the model's standardised input space.

    Returns
    -------
    array of shape (n_samples, n_features), float32
    """
    target_label(ds, target)  # validates the target
    return input_gradients(model, split_inputs(ds, split), target=target)


def to_original_units(ds: Dataset, gradients: np.ndarray) -> np.ndarray:
    """d f / d x_raw = (d f / d x_std) / scale: the chain rule through the scaling.

    Parameters
    ----------
    gradients : array of shape (n_samples, n_features)
        Gradients with respect to the standardised inputs.

    Returns
    -------
    array of shape (n_samples, n_features), float64
        Change of the explained quantity per original unit of each feature.
    """
    if ds.preprocessing is None:
        return np.asarray(gradients, dtype=np.float64)
    return ds.preprocessing.gradient_to_original(gradients)


def gradient_unit(ds: Dataset, feature: str, target: int | None) -> str:
    """The y-axis unit of a gradient panel, e.g. ``Δ log p(died) per mg/dL``."""
    unit = ds.units.get(feature, "")
    what = target_label(ds, target)
    return f"Δ {what} per {unit}" if unit else f"Δ {what} per unit of {feature}"


def observed_mask(split: Split, n_features: int) -> np.ndarray:
    """True where a value was observed, False where it was imputed.

    Returns
    -------
    array of shape (n_samples, n_features), bool
    """
    if split.imputed is None:
        return np.ones((len(split), n_features), dtype=bool)
    return ~np.asarray(split.imputed, dtype=bool)


def feature_importance(
    ds: Dataset, split: str, gradients: Sequence[np.ndarray]
) -> np.ndarray:
    """Mean |gradient| per feature over observed values, averaged over models.

    Gradients are taken in the standardised input space (per SD or IQR), so
    features in different units are ranked on one scale; imputed entries are
    left out, as in the panels.

    Returns
    -------
    array of shape (n_features,); 0 for a feature never observed.
    """
    if not gradients:
        raise ValueError("Need the gradients of at least one model")
    observed = observed_mask(split_of(ds, split), ds.n_features)
    counts = observed.sum(axis=0)
    total = np.zeros(ds.n_features)
    for g in gradients:
        g = np.abs(np.asarray(g, dtype=np.float64))
        if g.shape != observed.shape:
            raise ValueError(
                f"gradients must have shape {observed.shape}, got {g.shape}"
            )
        total += np.where(observed, g, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, total / np.maximum(counts, 1), 0.0)
    return mean / len(gradients)


def top_features(
    ds: Dataset,
    split: str,
    gradients: Sequence[np.ndarray],
    k: int = N_TOP_FEATURES,
) -> list[str]:
    """The ``k`` features with the largest :func:`feature_importance`, largest first.

    Ties keep column order.
    """
    importance = feature_importance(ds, split, gradients)
    order = np.argsort(-importance, kind="stable")[: max(k, 0)]
    return [ds.feature_names[j] for j in order]


#: More distinct observed values than this make a feature continuous: flags and
#: one-hot columns have two, small ordinal scores a handful.
MAX_DISCRETE_VALUES = 10


def continuous_features(ds: Dataset, split: str = "train") -> np.ndarray:
    """Which features are continuous, decided from the data.

    A feature is continuous when it takes more than
    :data:`MAX_DISCRETE_VALUES` distinct observed (not imputed) values in
    ``split`` and its name does not mark it as an indicator: a missing-value
    flag (``*_missing``) or a one-hot column (``column=level``) is a 0/1
    column whatever values it holds.

    Returns
    -------
    array of shape (n_features,), bool
    """
    X = split_inputs(ds, split)
    observed = observed_mask(split_of(ds, split), ds.n_features)
    return np.array(
        [
            len(np.unique(X[observed[:, j], j])) > MAX_DISCRETE_VALUES
            and not name.endswith("_missing")
            and "=" not in name
            for j, name in enumerate(ds.feature_names)
        ],
        dtype=bool,
    )


def clinical_features(ds: Dataset) -> list[str]:
    """The continuous features (:func:`continuous_features`) with a normal range.

    Labs and vitals, in column order; indicators, missing-value flags, one-hot
    columns and scores without a normal range are left out.
    """
    continuous = continuous_features(ds)
    return [
        f
        for j, f in enumerate(ds.feature_names)
        if continuous[j] and f in ds.normal_ranges
    ]


def default_features(
    ds: Dataset,
    split: str,
    gradients: Sequence[np.ndarray],
    k: int = N_TOP_FEATURES,
) -> list[str]:
    """The features a gradient page opens on, most influential first.

    On a clinical dataset (one with normal ranges) the ``k`` features of
    :func:`clinical_features` with the largest :func:`feature_importance`: a
    clinician reads labs and vitals against their normal ranges, while a 0/1
    column draws two vertical stripes. Elsewhere, or when no feature
    qualifies, :func:`top_features`.
    """
    ranked = top_features(ds, split, gradients, k=ds.n_features)
    clinical = set(clinical_features(ds)) if ds.normal_ranges else set()
    if not clinical:
        return ranked[: max(k, 0)]
    return [f for f in ranked if f in clinical][: max(k, 0)]
