"""Per-feature panels of feature value against input gradient, in original units.

What the *Input gradients* page draws (the figure is built by
:func:`core.figures.neural_lasso.gradient_panels_figure`): one row of panels
per feature, one column per model, imputed values left out, a trend through
every observed value, and on the synthetic set which regions depend on the
feature.

References
----------
Ross, Lage & Doshi-Velez (2017), "The Neural LASSO: Local Linear Sparsity for
Interpretable Explanations", NIPS TML workshop: Fig. 2.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.data.access import original_units, sample_indices, split_of
from core.data.types import Dataset, Split
from core.neural_lasso.gradients import (
    MAX_POINTS,
    gradient_unit,
    observed_mask,
    target_label,
)
from core.neural_lasso.trends import TRENDS, trend_line

TREND_COLUMNS = ["feature", "model", "x", "mean", "q25", "q75"]


def relevant_regions(ds: Dataset, feature: str) -> dict[str, list[int]]:
    """Regions of the synthetic set whose label or indicator is ``feature``.

    Returns
    -------
    dict
        ``{"label": [regions whose label depends on it], "indicator":
        [regions it indicates]}``; empty lists for datasets without
        ``ds.info["relevant_features"]``.
    """
    out: dict[str, list[int]] = {"label": [], "indicator": []}
    relevant = ds.info.get("relevant_features")
    if not isinstance(relevant, Mapping) or feature not in ds.feature_names:
        return out
    j = ds.feature_names.index(feature)
    for region, spec in relevant.items():
        if j in spec.get("label_features", ()):
            out["label"].append(int(region))
        if spec.get("indicator") == j:
            out["indicator"].append(int(region))
    return out


def relevance_note(ds: Dataset, feature: str) -> str:
    """``relevant_regions`` in words ("" when none)."""
    r = relevant_regions(ds, feature)
    parts = []
    if r["label"]:
        parts.append(
            "the label of region " + ", ".join(map(str, r["label"])) + " depends on it"
        )
    if r["indicator"]:
        parts.append("it indicates region " + ", ".join(map(str, r["indicator"])))
    return "; ".join(parts)


@dataclass(frozen=True)
class GradientPanels:
    """What :func:`core.figures.neural_lasso.gradient_panels_figure` draws.

    Attributes
    ----------
    points : DataFrame
        One row per drawn point: ``feature``, ``model``, ``id``, ``value``
        (original units), ``gradient`` (per original unit), ``outcome`` (true
        class name), plus ``region`` on the synthetic set. Imputed values are
        left out; beyond ``max_points`` observed values a feature's points are
        a seeded random subsample (the same examples for every model).
    features : DataFrame
        One row per feature, in panel order: ``feature``, ``unit``,
        ``gradient_unit``, ``normal_low``, ``normal_high`` (NaN without a
        range), ``n_observed``, ``n_imputed``, ``n_shown``, ``relevance``
        (synthetic set: which regions depend on the feature, else "").
    trend : DataFrame
        ``feature``, ``model``, ``x``, ``mean``, ``q25``, ``q75`` (binned; the
        quartiles NaN for LOWESS), over every observed value; empty for none.
    """

    points: pd.DataFrame
    features: pd.DataFrame
    trend: pd.DataFrame
    models: tuple[str, ...]
    class_names: tuple[str, ...]
    target: str
    split: str
    trend_method: str


def gradient_panels(
    ds: Dataset,
    split: str,
    gradients: Mapping[str, np.ndarray],
    features: Sequence[str],
    target: int | None,
    *,
    trend: str = "binned",
    max_points: int = MAX_POINTS,
    seed: int = 0,
) -> GradientPanels:
    """Value against gradient, per feature and model, in original units.

    Parameters
    ----------
    ds : Dataset
    split : {"train", "val", "test"}
    gradients : mapping of str to array of shape (n_samples, n_features)
        Per model label, gradients in original units
        (:func:`core.neural_lasso.gradients.to_original_units`).
    features : sequence of str
        Names from ``ds.feature_names``, in panel order.
    target : int or None
        What the gradients explain (for the axis unit).
    trend : {"binned", "lowess", "none"}
    max_points : int
        Points per panel before subsampling.
    seed : int
        Seed of the subsample.

    Raises
    ------
    ValueError
        Unknown feature, trend or split, no models, or misshapen gradients.
    """
    if trend not in TRENDS:
        raise ValueError(f"trend must be one of {', '.join(TRENDS)}; got {trend!r}")
    if not gradients:
        raise ValueError("Need the gradients of at least one model")
    part = split_of(ds, split)
    X = original_units(ds, split)  # NaN where imputed: never plotted
    for name, g in gradients.items():
        if np.shape(g) != X.shape:
            raise ValueError(
                f"gradients of {name!r} have shape {np.shape(g)}; expected {X.shape}"
            )
    observed = observed_mask(part, ds.n_features) & np.isfinite(X)
    points, rows, trends = [], [], []
    for feature in features:
        if feature not in ds.feature_names:
            raise ValueError(f"Dataset {ds.name!r} has no feature {feature!r}")
        j = ds.feature_names.index(feature)
        obs = np.flatnonzero(observed[:, j])
        shown = obs[sample_indices(obs.size, max_points, seed)]
        rows.append(_feature_row(ds, feature, target, len(part), obs.size, shown.size))
        for name, g in gradients.items():
            points.append(
                _points(part, ds.class_names, feature, name, shown, X[:, j], g[:, j])
            )
            if trend != "none":
                t = trend_line(X[obs, j], g[obs, j], trend)
                trends.append(t.assign(feature=feature, model=name)[TREND_COLUMNS])
    return GradientPanels(
        points=pd.concat(points, ignore_index=True) if points else pd.DataFrame(),
        features=pd.DataFrame(rows),
        trend=pd.concat(trends, ignore_index=True)
        if trends
        else pd.DataFrame(columns=TREND_COLUMNS),
        models=tuple(gradients),
        class_names=tuple(ds.class_names),
        target=target_label(ds, target),
        split=split,
        trend_method=trend,
    )


def _feature_row(
    ds: Dataset,
    feature: str,
    target: int | None,
    n_total: int,
    n_observed: int,
    n_shown: int,
) -> dict[str, object]:
    """One row of :attr:`GradientPanels.features`."""
    low, high = ds.normal_ranges.get(feature, (np.nan, np.nan))
    return {
        "feature": feature,
        "unit": ds.units.get(feature, ""),
        "gradient_unit": gradient_unit(ds, feature, target),
        "normal_low": float(low),
        "normal_high": float(high),
        "n_observed": int(n_observed),
        "n_imputed": int(n_total - n_observed),
        "n_shown": int(n_shown),
        "relevance": relevance_note(ds, feature),
    }


def _points(
    part: Split,
    class_names: Sequence[str],
    feature: str,
    model: str,
    shown: np.ndarray,
    values: np.ndarray,
    gradients: np.ndarray,
) -> pd.DataFrame:
    """The drawn points of one feature and model: rows ``shown`` of the split.

    ``values`` and ``gradients`` are the feature's column, arrays of shape
    (n_samples,).
    """
    frame = {
        "feature": feature,
        "model": model,
        "id": part.ids[shown],
        "value": values[shown],
        "gradient": np.asarray(gradients[shown], dtype=np.float64),
        "outcome": np.asarray(class_names, dtype=object)[np.asarray(part.y)[shown]],
    }
    region = part.meta.get("region")
    if region is not None:
        frame["region"] = np.asarray(region)[shown]
    return pd.DataFrame(frame)
