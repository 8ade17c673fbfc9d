"""PCA maps: where in input space each feature's gradient points up or down.

The Neural LASSO supplement's maps: the test inputs projected on two principal
components (fitted once per dataset on the standardised training inputs, so
every model shares the plane), coloured by a model's input gradient for each of
its 12 most significant features, and by each model's predicted probability
with the true outcome as marker shape.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.figures import neural_lasso as nl_figures
from core.figures.style import label
from core.neural_lasso import gradients as nl_gradients
from core.neural_lasso import pca as nl_pca
from dashboard.app_pages.neural_lasso import inspecting
from dashboard.common import downloads, links, loaders, markdown, state

SPLIT = "test"

name = st.session_state[state.DATASET]
ds = loaders.require_dataset(name)
st.title(f"PCA maps · {name}")
inspecting.require_features(ds)
stored = inspecting.require_stored(name)
ids = inspecting.choose_models(name, stored, state.for_dataset(state.PCA_MODELS, name))
models = inspecting.load_models(ds, ids)
left, right = st.columns(2)
target = inspecting.choose_target(ds, state.for_dataset(state.PCA_TARGET, name), left)
shown_key = state.for_setting(state.PCA_MODEL, name, *ids)
links.bind(state.Q_MODEL, shown_key, ids)
shown = right.selectbox("Gradients of", ids, key=shown_key)

pca = inspecting.pca_basis(ds)
coords = loaders.guarded(nl_pca.pca_coordinates, pca, ds, SPLIT)
loadings = nl_pca.pca_loadings(pca, ds.feature_names)
st.caption(
    "One basis for every model: PCA of the standardised training inputs, applied "
    f"to the {len(coords):,} test examples (beyond {nl_gradients.MAX_POINTS:,}, a "
    "seeded random sample is drawn). Where a few examples lie far out, the axes "
    f"frame the central {nl_figures.PCA_FRAME:.0%}; double-click a panel to "
    "see all. "
    "Largest loadings — " + "; ".join(markdown.escape(t) for t in loadings) + "."
)

st.header("Input gradients")
grads = inspecting.gradients({shown: models[shown]}, ds, SPLIT, target)[shown]
features = nl_gradients.top_features(ds, SPLIT, [grads])
original = nl_gradients.to_original_units(ds, grads)
columns = {f: original[:, ds.feature_names.index(f)] for f in features}
table = nl_pca.pca_table(ds, SPLIT, coords, columns)
fig = nl_figures.pca_gradient_figure(
    table,
    features,
    {f: nl_gradients.gradient_unit(ds, f, target) for f in features},
    title=f"Gradients of {label(nl_gradients.target_label(ds, target))} · "
    f"{label(shown)} · {len(table):,} of {len(coords):,} test examples",
)
st.plotly_chart(
    fig, key="pca.gradients", config=downloads.png_config(name, "pca-gradients", shown)
)
st.caption(
    f"The 12 features of `{shown}` with the largest mean |gradient| (per SD or "
    "IQR). Each panel has its own symmetric colour range (written under its "
    "name, per original unit): red where raising the feature raises "
    f"{markdown.escape(nl_gradients.target_label(ds, target))}, blue where it lowers "
    f"it, white where it does not matter. {downloads.PNG_HINT}"
)
downloads.table(
    table,
    downloads.file_name(name, "pca-gradients", shown, suffix="csv"),
    key=state.download_key(state.DOWNLOAD_PCA, "gradients"),
)

st.header("Predicted probability")
probas = inspecting.probabilities(models, ds, SPLIT)
if target is None:
    what, columns = "confidence (max p)", {i: p.max(axis=1) for i, p in probas.items()}
else:
    what = f"p({ds.class_names[target]})"
    columns = {i: p[:, target] for i, p in probas.items()}
table = nl_pca.pca_table(ds, SPLIT, coords, columns)
fig = nl_figures.pca_probability_figure(
    table,
    ids,
    ds.class_names,
    title=f"Predicted {label(what)} over the PCA plane (marker: true outcome)",
    colorbar_title=label(what),
)
st.plotly_chart(
    fig, key="pca.probability", config=downloads.png_config(name, "pca-probability")
)
certain = {i: float(np.mean(np.abs(c - 0.5) > 0.4)) for i, c in columns.items()}
st.caption(
    "Colour: the predicted probability; marker shape: the true class. Share of "
    "test examples predicted with p < 0.1 or p > 0.9: "
    + ", ".join(f"`{i}` {v:.0%}" for i, v in certain.items())
    + f". {downloads.PNG_HINT}"
)
downloads.table(
    table,
    downloads.file_name(name, "pca-probability", suffix="csv"),
    key=state.download_key(state.DOWNLOAD_PCA, "probability"),
)
