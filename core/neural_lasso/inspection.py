"""Inspecting input gradients: what the Neural LASSO's explanations look like.

Everything the dashboard's *Input gradients*, *PCA maps* and *Weights* pages
show is computed here (figures are drawn by :mod:`core.figures.neural_lasso`):

- gradients of a class's log-probability in original units (per mg/dL, per
  year), by the chain rule through the dataset's affine scaling;
- the features whose gradients matter most, and per-feature panel data
  (value against gradient, imputed values left out) with a trend;
- one PCA basis per dataset, fitted on the standardised training inputs;
- the first-layer weight matrix and its all-zero rows and columns;
- how smoothly the gradient field varies between neighbouring examples.

References
----------
Ross, Lage & Doshi-Velez (2017), "The Neural LASSO: Local Linear Sparsity for
Interpretable Explanations", NIPS TML workshop: Fig. 2 and the supplement's PCA
and weight figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors
from torch import nn

from core.data.types import Dataset, Split
from core.training.gradients import input_gradients
from core.training.models import first_linear
from core.views.data import sample_indices, split_of

if TYPE_CHECKING:  # the store imports torch; selection only reads cards
    from core.training.store import StoredModel

#: Features shown by default (the supplement's "12 most significant").
N_TOP_FEATURES = 12
#: Points drawn per panel before a seeded subsample is taken.
MAX_POINTS = 4000
#: Neighbours per example for :func:`smoothness`.
N_NEIGHBOURS = 10
#: A first-layer weight counts as zero when ``|w| <= ZERO_TOL * max|W|``.
ZERO_TOL = 1e-6
#: Penalties of the default comparison (paper's Fig. 2: normal, λ_θ, λ_∇).
COMPARED_PENALTIES = ("none", "l1_weights", "grad_l1")
TRENDS = ("binned", "lowess", "none")


# --- gradients ---------------------------------------------------------------


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


def _observed(split: Split, n_features: int) -> np.ndarray:
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
    observed = _observed(split_of(ds, split), ds.n_features)
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


def default_models(
    stored: Sequence[StoredModel],
    chosen: Sequence[str] = (),
    max_models: int = 3,
) -> list[str]:
    """The models compared by default.

    The newest ``mlp`` for each of :data:`COMPARED_PENALTIES` (plain, L1 on the
    weights, L1 on input gradients), the paper's Fig. 2 comparison, when any is
    stored; else the models chosen in the sidebar; else the first stored one.
    ``stored`` is in :func:`core.training.store.list_models` order (yours, then shipped).
    """
    picks = []
    for penalty in COMPARED_PENALTIES:
        match = next(
            (
                m.card.model_id
                for m in stored
                if (m.card.architecture, m.card.penalty) == ("mlp", penalty)
            ),
            None,
        )
        if match is not None:
            picks.append(match)
    if not picks:
        ids = {m.card.model_id for m in stored}
        picks = [i for i in chosen if i in ids]
    if not picks and stored:
        picks = [stored[0].card.model_id]
    return picks[:max_models]


# --- per-feature panels --------------------------------------------------------


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


def binned_trend(
    x: np.ndarray, y: np.ndarray, bins: int = 20, min_count: int = 5
) -> pd.DataFrame:
    """Mean and inter-quartile band of ``y`` in equal-count bins of ``x``.

    A feature with at most ``bins`` distinct values gets one bin per value;
    bins with fewer than ``min_count`` points are left out (a mean of one or
    two examples is noise, not a trend).

    Returns
    -------
    DataFrame
        Columns ``x`` (mean of the bin's x), ``mean``, ``q25``, ``q75``, ``n``;
        one row per non-empty bin, in increasing x.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    columns = ["x", "mean", "q25", "q75", "n"]
    if x.size == 0:
        return pd.DataFrame(columns=columns, dtype=float)
    uniq = np.unique(x)
    if uniq.size <= bins:
        codes = np.searchsorted(uniq, x)
    else:
        bins = max(1, min(bins, x.size // max(min_count, 1)))  # ≥ min_count each
        edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)))
        codes = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)
    rows = []
    for c in np.unique(codes):
        yc = y[codes == c]
        if yc.size < min_count:
            continue
        q25, q75 = np.percentile(yc, [25, 75])
        rows.append((x[codes == c].mean(), yc.mean(), q25, q75, yc.size))
    return pd.DataFrame(rows, columns=columns)


def lowess(
    x: np.ndarray, y: np.ndarray, frac: float = 0.3, n_eval: int = 50
) -> pd.DataFrame:
    """Locally weighted linear regression (LOWESS, no robustness iterations).

    At each of ``n_eval`` points spanning the range of ``x``, a straight line is
    fitted to the ``frac`` share of points nearest to it, weighted by the
    tricube kernel ``(1 − (d/h)³)³`` (h: distance to the farthest of them).

    Returns
    -------
    DataFrame
        Columns ``x`` and ``fit``; ``n_eval`` rows (fewer for few distinct x).

    References
    ----------
    Cleveland (1979), "Robust locally weighted regression and smoothing
    scatterplots", JASA 74(368).
    """
    if not 0 < frac <= 1:
        raise ValueError(f"frac must be in (0, 1], got {frac}")
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size == 0:
        return pd.DataFrame(columns=["x", "fit"], dtype=float)
    uniq = np.unique(x)
    grid = uniq if uniq.size <= n_eval else np.linspace(x.min(), x.max(), n_eval)
    k = max(2, math.ceil(frac * x.size))
    fit = np.empty(grid.size)
    for i, x0 in enumerate(grid):
        d = np.abs(x - x0)
        h = np.partition(d, min(k, d.size) - 1)[min(k, d.size) - 1]
        w = (1 - (d / h) ** 3) ** 3 * (d < h) if h > 0 else (d == 0).astype(float)
        if w.sum() == 0:  # every neighbour at distance exactly h
            w = (d <= h).astype(float)
        sw = w.sum()
        mx, my = (w * x).sum() / sw, (w * y).sum() / sw
        var = (w * (x - mx) ** 2).sum()
        slope = (w * (x - mx) * (y - my)).sum() / var if var > 0 else 0.0
        fit[i] = my + slope * (x0 - mx)
    return pd.DataFrame({"x": grid, "fit": fit})


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
        Per model label, gradients in original units (:func:`to_original_units`).
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
    X = _original_values(ds, part)
    observed = _observed(part, ds.n_features)
    for name, g in gradients.items():
        if np.shape(g) != X.shape:
            raise ValueError(
                f"gradients of {name!r} have shape {np.shape(g)}; expected {X.shape}"
            )
    outcome = np.asarray(ds.class_names, dtype=object)[np.asarray(part.y)]
    region = part.meta.get("region")
    points, rows, trends = [], [], []
    for feature in features:
        if feature not in ds.feature_names:
            raise ValueError(f"Dataset {ds.name!r} has no feature {feature!r}")
        j = ds.feature_names.index(feature)
        obs = np.flatnonzero(observed[:, j] & np.isfinite(X[:, j]))
        shown = obs[sample_indices(obs.size, max_points, seed)]
        low, high = ds.normal_ranges.get(feature, (np.nan, np.nan))
        rows.append(
            {
                "feature": feature,
                "unit": ds.units.get(feature, ""),
                "gradient_unit": gradient_unit(ds, feature, target),
                "normal_low": float(low),
                "normal_high": float(high),
                "n_observed": int(obs.size),
                "n_imputed": int(len(part) - obs.size),
                "n_shown": int(shown.size),
                "relevance": relevance_note(ds, feature),
            }
        )
        for name, g in gradients.items():
            frame = {
                "feature": feature,
                "model": name,
                "id": part.ids[shown],
                "value": X[shown, j],
                "gradient": np.asarray(g[shown, j], dtype=np.float64),
                "outcome": outcome[shown],
            }
            if region is not None:
                frame["region"] = np.asarray(region)[shown]
            points.append(pd.DataFrame(frame))
            if trend != "none":
                trends.append(_trend(X[obs, j], g[obs, j], trend, feature, name))
    columns = ["feature", "model", "x", "mean", "q25", "q75"]
    return GradientPanels(
        points=pd.concat(points, ignore_index=True) if points else pd.DataFrame(),
        features=pd.DataFrame(rows),
        trend=pd.concat(trends, ignore_index=True)
        if trends
        else pd.DataFrame(columns=columns),
        models=tuple(gradients),
        class_names=tuple(ds.class_names),
        target=target_label(ds, target),
        split=split,
        trend_method=trend,
    )


def _original_values(ds: Dataset, part: Split) -> np.ndarray:
    X = np.asarray(part.X, dtype=np.float64)
    return X if ds.preprocessing is None else ds.preprocessing.inverse_transform(X)


def _trend(x, y, method: str, feature: str, model: str) -> pd.DataFrame:
    if method == "binned":
        t = binned_trend(x, y).drop(columns="n")
    else:
        t = lowess(x, y).rename(columns={"fit": "mean"})
        t["q25"] = t["q75"] = np.nan
    t.insert(0, "model", model)
    t.insert(0, "feature", feature)
    return t


# --- PCA -------------------------------------------------------------------------


def pca_basis(ds: Dataset, n_components: int = 2) -> PCA:
    """PCA fitted on the standardised training inputs (deterministic full SVD).

    One basis per dataset: every model's maps share it, so positions are
    comparable between models.
    """
    X = split_inputs(ds, "train")
    return PCA(n_components=n_components, svd_solver="full").fit(
        np.asarray(X, dtype=np.float64)
    )


def pca_coordinates(pca: PCA, ds: Dataset, split: str = "test") -> np.ndarray:
    """The split's inputs in the PCA basis, array of shape (n_samples, 2)."""
    return pca.transform(np.asarray(split_inputs(ds, split), dtype=np.float64))


def pca_loadings(pca: PCA, feature_names: Sequence[str], k: int = 3) -> list[str]:
    """Each component in words: variance explained and its ``k`` largest loadings.

    E.g. ``"PC 1 (44.0 %): bili1 +0.99, liverhx=1 +0.05, liverhx=0 −0.05"``.
    """
    out = []
    for c, (component, ratio) in enumerate(
        zip(pca.components_, pca.explained_variance_ratio_, strict=True), start=1
    ):
        top = np.argsort(-np.abs(component), kind="stable")[:k]
        terms = ", ".join(f"{feature_names[j]} {component[j]:+.2f}" for j in top)
        out.append(f"PC {c} ({ratio:.1%}): {terms}")
    return out


def pca_table(
    ds: Dataset,
    split: str,
    coords: np.ndarray,
    columns: Mapping[str, np.ndarray],
    *,
    max_points: int = MAX_POINTS,
    seed: int = 0,
) -> pd.DataFrame:
    """Examples in the PCA plane with extra per-example columns, subsampled.

    Parameters
    ----------
    coords : array of shape (n_samples, 2)
    columns : mapping of str to array of shape (n_samples,)
        E.g. ``{"x7": gradients[:, 7]}`` or ``{"model-a": p_positive}``.

    Returns
    -------
    DataFrame
        ``id``, ``outcome`` (class name), ``class`` (index), ``pc1``, ``pc2``,
        then ``columns``; at most ``max_points`` rows (seeded), in split order.
    """
    part = split_of(ds, split)
    idx = sample_indices(len(part), max_points, seed)
    y = np.asarray(part.y)
    frame = {
        "id": part.ids[idx],
        "outcome": np.asarray(ds.class_names, dtype=object)[y[idx]],
        "class": y[idx],
        "pc1": coords[idx, 0],
        "pc2": coords[idx, 1],
    }
    for name, values in columns.items():
        frame[name] = np.asarray(values)[idx]
    return pd.DataFrame(frame)


# --- first-layer weights ---------------------------------------------------------


def first_layer_weights(model: nn.Module) -> np.ndarray:
    """The first fully connected layer's weights, array of shape (n_hidden, n_features).

    Raises
    ------
    ValueError
        The model does not start with a linear layer (a CNN).
    """
    return first_linear(model).weight.detach().cpu().numpy().astype(np.float64)


@dataclass(frozen=True)
class ZeroStructure:
    """All-zero columns (input features) and rows (hidden units) of a weight matrix.

    Attributes
    ----------
    tolerance : float
        Absolute threshold used: ``rel_tol · max|W|``.
    zero_features : array of int
        Columns with every ``|w| <= tolerance`` (features the layer ignores).
    zero_units : array of int
        Rows with every ``|w| <= tolerance`` (hidden units without input).
    """

    tolerance: float
    rel_tol: float
    n_features: int
    n_units: int
    zero_features: np.ndarray
    zero_units: np.ndarray


def zero_structure(W: np.ndarray, rel_tol: float = ZERO_TOL) -> ZeroStructure:
    """Count the entirely-zero feature columns and hidden-unit rows of ``W``.

    Parameters
    ----------
    W : array of shape (n_hidden, n_features)
    rel_tol : float
        A weight is zero when ``|w| <= rel_tol · max|W|``; group LASSO's prox
        gives exact zeros, L1 by gradient steps only near-zeros.
    """
    magnitude = np.abs(np.asarray(W, dtype=np.float64))
    if magnitude.ndim != 2:
        raise ValueError(f"W must be a 2-d weight matrix, got shape {magnitude.shape}")
    if rel_tol < 0:
        raise ValueError(f"rel_tol must be non-negative, got {rel_tol}")
    tol = rel_tol * (magnitude.max() if magnitude.size else 0.0)
    small = magnitude <= tol
    return ZeroStructure(
        tolerance=float(tol),
        rel_tol=float(rel_tol),
        n_features=magnitude.shape[1],
        n_units=magnitude.shape[0],
        zero_features=np.flatnonzero(small.all(axis=0)),
        zero_units=np.flatnonzero(small.all(axis=1)),
    )


def zero_table(
    structures: Mapping[str, ZeroStructure], feature_names: Sequence[str]
) -> pd.DataFrame:
    """One row per model: tolerance, zero feature columns and zero hidden units."""
    rows = []
    for name, z in structures.items():
        rows.append(
            {
                "model": name,
                "tolerance": z.tolerance,
                "zero feature columns": z.zero_features.size,
                "features": z.n_features,
                "zero hidden units": z.zero_units.size,
                "hidden units": z.n_units,
                "zeroed features": ", ".join(feature_names[j] for j in z.zero_features),
            }
        )
    return pd.DataFrame(rows)


def weight_rows(weights: Sequence[np.ndarray], max_features: int) -> np.ndarray:
    """The feature columns a heatmap shows, in column order.

    All of them when there are at most ``max_features``; else those with the
    largest column norm ``‖W[:, j]‖₂`` in any of the models.
    """
    if not weights:
        raise ValueError("Need at least one weight matrix")
    n = weights[0].shape[1]
    if n <= max_features:
        return np.arange(n)
    norm = np.max([np.linalg.norm(W, axis=0) for W in weights], axis=0)
    return np.sort(np.argsort(-norm, kind="stable")[:max_features])


def weights_table(
    weights: Mapping[str, np.ndarray], feature_names: Sequence[str], rows: np.ndarray
) -> pd.DataFrame:
    """First-layer weights of several models as one table.

    Parameters
    ----------
    weights : mapping of str to array of shape (n_hidden, n_features)
    rows : array of int
        The feature columns to keep (:func:`weight_rows`).

    Returns
    -------
    DataFrame
        ``model``, ``feature``, then ``unit 0`` … ``unit h−1`` (NaN where a
        model has fewer hidden units): one row per model and shown feature.
    """
    frames = []
    for name, W in weights.items():
        frame = pd.DataFrame(
            W[:, rows].T, columns=[f"unit {u}" for u in range(W.shape[0])]
        )
        frame.insert(0, "feature", [feature_names[j] for j in rows])
        frame.insert(0, "model", name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# --- smoothness ------------------------------------------------------------------


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


def smoothness_table(
    gradients: Mapping[str, np.ndarray], nbrs: np.ndarray
) -> pd.DataFrame:
    """:func:`smoothness` of each model, one row each.

    Returns
    -------
    DataFrame
        ``model``, ``smoothness`` (mean |Δ gradient| to the neighbours),
        ``mean_abs_gradient``, ``relative`` (their ratio).
    """
    rows = []
    for name, g in gradients.items():
        s, rel = smoothness(g, nbrs)
        rows.append(
            {
                "model": name,
                "smoothness": s,
                "mean_abs_gradient": float(np.abs(g).mean()),
                "relative": rel,
            }
        )
    return pd.DataFrame(
        rows, columns=["model", "smoothness", "mean_abs_gradient", "relative"]
    )
