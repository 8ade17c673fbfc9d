"""The PCA maps and first-layer weight heatmaps, with the tables they draw, as
the *PCA maps* and *Weights* pages and ``python -m core report`` show them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.data import Dataset
from core.figures import neural_lasso as nl_figures
from core.figures.style import label
from core.neural_lasso import gradients as nl_gradients
from core.neural_lasso import pca as nl_pca
from core.neural_lasso import weights as nl_weights

#: The split the PCA maps show (the basis is fitted on train).
PCA_SPLIT = "test"
#: Weight heatmaps show at most this many features (the largest columns).
MAX_WEIGHT_FEATURES = 300


@dataclass(frozen=True)
class PCAMap:
    """One PCA-plane figure and the table it draws.

    Attributes
    ----------
    table : DataFrame
        :func:`core.neural_lasso.pca.pca_table` with one column per panel.
    figure : plotly Figure
    caption : str
        What the figure shows, for a report.
    columns : list of str
        The panels: features (gradient map) or model IDs (probability map).
    certain : dict of str to float
        Probability map: per model, the share predicted with p < 0.1 or
        p > 0.9; empty for the gradient map.
    """

    table: pd.DataFrame
    figure: go.Figure
    caption: str
    columns: list[str]
    certain: dict[str, float]


def pca_gradient_map(
    ds: Dataset,
    coords: np.ndarray,
    gradients: np.ndarray,
    target: int | None,
    model_id: str,
) -> PCAMap:
    """Model ``model_id``'s input gradients (original units) of its most
    significant features over the PCA plane of :data:`PCA_SPLIT`.

    Parameters
    ----------
    coords : array of shape (n_samples, 2)
        :func:`core.neural_lasso.pca.pca_coordinates` of the split.
    gradients : array of shape (n_samples, n_features)
        The model's standardised-space gradients on the split.
    target : int or None
        The explained class (None: Σₖ log pₖ).
    model_id : str
        The model, for the title.
    """
    features = nl_gradients.default_features(ds, PCA_SPLIT, [gradients])
    original = nl_gradients.to_original_units(ds, gradients)
    columns = {f: original[:, ds.feature_names.index(f)] for f in features}
    table = nl_pca.pca_table(ds, PCA_SPLIT, coords, columns)
    explained = nl_gradients.target_label(ds, target)
    fig = nl_figures.pca_gradient_figure(
        table,
        features,
        {f: nl_gradients.gradient_unit(ds, f, target) for f in features},
        title=f"Gradients of {label(explained)} · {label(model_id)} · "
        f"{len(table):,} of {len(coords):,} {PCA_SPLIT} examples",
    )
    caption = (
        f"Input gradients of {model_id} over the PCA plane, per feature: red where "
        "raising the feature raises the explained log-probability, blue where it "
        "lowers it."
    )
    return PCAMap(table, fig, caption, features, {})


def pca_probability_map(
    ds: Dataset,
    coords: np.ndarray,
    probabilities: Mapping[str, np.ndarray],
    target: int | None,
) -> PCAMap:
    """Each model's predicted probability of class ``target`` (None: its
    confidence, max p) over the PCA plane of :data:`PCA_SPLIT`, the true class
    as marker shape.

    Parameters
    ----------
    coords : array of shape (n_samples, 2)
    probabilities : mapping of str to array of shape (n_samples, n_classes)
        Per model ID, its predicted class probabilities on the split.
    target : int or None
    """
    if target is None:
        what = "confidence (max p)"
        columns = {i: p.max(axis=1) for i, p in probabilities.items()}
    else:
        what = f"p({ds.class_names[target]})"
        columns = {i: p[:, target] for i, p in probabilities.items()}
    table = nl_pca.pca_table(ds, PCA_SPLIT, coords, columns)
    fig = nl_figures.pca_probability_figure(
        table,
        list(probabilities),
        ds.class_names,
        title=f"Predicted {label(what)} over the PCA plane (marker: true outcome)",
        colorbar_title=label(what),
    )
    certain = {i: float(np.mean(np.abs(c - 0.5) > 0.4)) for i, c in columns.items()}
    caption = (
        f"Predicted {what} per model; marker shape: the true class. Share predicted "
        "with p < 0.1 or p > 0.9: "
        + ", ".join(f"{i} {v:.0%}" for i, v in certain.items())
        + "."
    )
    return PCAMap(table, fig, caption, list(probabilities), certain)


@dataclass(frozen=True)
class WeightsView:
    """What the *Weights* page shows for a set of first-layer matrices.

    Attributes
    ----------
    zeros : dict of str to ZeroStructure
        Per model, its zero rows and columns.
    zero_table : DataFrame
        :func:`core.neural_lasso.weights.zero_table` of ``zeros``.
    frame : DataFrame
        :func:`core.neural_lasso.weights.weights_table`, the heatmap's data.
    figure : plotly Figure
        The heatmaps.
    n_shown : int
        How many features the heatmaps show (at most
        :data:`MAX_WEIGHT_FEATURES`).
    zero_caption, caption : str
        What the zero table and the figure show, for a report.
    """

    zeros: dict[str, nl_weights.ZeroStructure]
    zero_table: pd.DataFrame
    frame: pd.DataFrame
    figure: go.Figure
    n_shown: int
    zero_caption: str
    caption: str


def weights_view(
    ds: Dataset,
    weights: Mapping[str, np.ndarray],
    rel_tol: float = nl_weights.ZERO_TOL,
) -> WeightsView:
    """Zero structure and heatmaps of first-layer weight matrices.

    Parameters
    ----------
    ds : Dataset
        The models' dataset (feature names, title).
    weights : mapping of str to array of shape (n_units, n_features)
        Per model ID, :func:`core.neural_lasso.weights.first_layer_weights`.
    rel_tol : float
        A weight is zero when ``|w| <= rel_tol · max|W|``.
    """
    zeros = {i: nl_weights.zero_structure(W, rel_tol) for i, W in weights.items()}
    rows = nl_weights.weight_rows(list(weights.values()), MAX_WEIGHT_FEATURES)
    frame = nl_weights.weights_table(weights, ds.feature_names, rows)
    fig = nl_figures.weights_heatmap_figure(
        frame, title=f"First-layer weights W₁ᵀ · {label(ds.name)}", zeros=zeros
    )
    return WeightsView(
        zeros,
        nl_weights.zero_table(zeros, ds.feature_names),
        frame,
        fig,
        int(rows.size),
        f"Zero rows (hidden units) and columns (features) of W₁: |w| ≤ {rel_tol:g} × "
        "the largest |w| of its matrix.",
        "First-layer weights: rows are input features, columns hidden units; one "
        "symmetric colour scale for all models, white at 0.",
    )
