"""PCA maps: where in input space each feature's gradient points up or down.

The Neural LASSO supplement's maps: the test inputs projected on two principal
components (fitted once per dataset on the standardised training inputs, so
every model shares the plane; on skewed clinical data after a signed log of the
skewed variables), coloured by a model's input gradient for each of its 12 most
significant features (on clinical data: continuous, with a normal range), and
by each model's predicted probability with the true outcome as marker shape.
"""

from __future__ import annotations

import streamlit as st

from core.figures import neural_lasso as nl_figures
from core.figures import neural_lasso_maps as nl_maps
from core.neural_lasso import gradients as nl_gradients
from core.neural_lasso import pca as nl_pca
from core.views import neural_lasso as nl_views
from dashboard.app_pages.neural_lasso import inspecting
from dashboard.common import downloads, links, loaders, markdown, report, state

name = st.session_state[state.DATASET]
ds = loaders.require_dataset(name)
st.title(f"PCA maps · {name}")
inspecting.require_features(ds)
stored = inspecting.require_stored(name)
ids = inspecting.choose_models(name, stored, state.for_dataset(state.PCA_MODELS, name))
models = inspecting.load_models(ds, ids)
rep = report.page_report(f"PCA maps · {name}", "pca", name)
left, mid, right = st.columns(3)
target = inspecting.choose_target(ds, state.for_dataset(state.PCA_TARGET, name), left)
shown_key = state.for_setting(state.PCA_MODEL, name, *ids)
links.bind(state.Q_MODEL, shown_key, ids)
shown = mid.selectbox("Gradients of", ids, key=shown_key)
projections = list(nl_pca.PROJECTIONS)
suggested = nl_pca.default_projection(ds)
projection_key = state.for_dataset(state.PCA_PROJECTION, name)
links.bind(state.Q_PROJECTION, projection_key, projections)
st.session_state.setdefault(projection_key, suggested)
projection = right.radio(
    "Projection",
    projections,
    format_func=lambda p: p.replace("_", " "),
    key=projection_key,
    horizontal=True,
    help="Signed log: skewed continuous variables (|skewness| > "
    f"{nl_pca.SKEW_THRESHOLD:g}) go through sign(z)·log(1 + |z|) before the PCA, "
    "so a few extreme lab values do not take over the axes. The default on "
    "clinical data with skewed variables.",
)

basis = inspecting.pca_basis(ds, projection)
coords = loaders.guarded(nl_pca.pca_coordinates, basis, ds, nl_maps.PCA_SPLIT)
loadings = nl_pca.pca_loadings(basis, ds.feature_names)
note = markdown.escape(nl_pca.projection_note(basis, ds.feature_names))
why = "the default here" if projection == suggested else "chosen above"
st.caption(
    f"**Projection: {note}** ({why}). "
    "One basis for every model, fitted on the training inputs and applied "
    f"to the {len(coords):,} test examples (beyond {nl_gradients.MAX_POINTS:,}, a "
    "seeded random sample is drawn). Where a few examples lie far out, the axes "
    f"frame the central {nl_figures.PCA_FRAME:.0%}; double-click a panel to "
    "see all. "
    "Largest loadings — " + "; ".join(markdown.escape(t) for t in loadings) + "."
)
rep.settings.update(
    {
        "dataset": name,
        "models": ids,
        "split": nl_maps.PCA_SPLIT,
        "explain": nl_gradients.target_label(ds, target),
        "gradients of": shown,
        "projection": nl_pca.projection_note(basis, ds.feature_names),
        "largest loadings": loadings,
    }
)
report.add_models(rep, name, stored, ids)
report.add_page_command(
    rep,
    "pca",
    name,
    ids,
    "--class",
    nl_views.class_option(ds, target),
    "--gradients-of",
    shown,
    "--projection",
    projection,
)

st.header("Input gradients")
grads = inspecting.gradients({shown: models[shown]}, ds, nl_maps.PCA_SPLIT, target)[
    shown
]
among = " continuous features with a normal range" if ds.normal_ranges else " features"
gradient_map = loaders.guarded(
    nl_maps.pca_gradient_map, ds, coords, grads, target, shown
)
st.plotly_chart(
    gradient_map.figure,
    key="pca.gradients",
    config=downloads.png_config(name, "pca-gradients", shown),
)
rep.figure(gradient_map.figure, gradient_map.caption)
st.caption(
    f"The {len(gradient_map.columns)}{among} of `{shown}` with the largest mean "
    "|gradient| (per SD or IQR). Each panel has its own symmetric colour range (written under its "
    "name, per original unit): red where raising the feature raises "
    f"{markdown.escape(nl_gradients.target_label(ds, target))}, blue where it lowers "
    f"it, white where it does not matter. {downloads.PNG_HINT}"
)
downloads.table(
    gradient_map.table,
    downloads.file_name(name, "pca-gradients", shown, suffix="csv"),
    key=state.download_key(state.DOWNLOAD_PCA, "gradients"),
)

st.header("Predicted probability")
probas = inspecting.probabilities(models, ds, nl_maps.PCA_SPLIT)
probability_map = loaders.guarded(
    nl_maps.pca_probability_map, ds, coords, probas, target
)
st.plotly_chart(
    probability_map.figure,
    key="pca.probability",
    config=downloads.png_config(name, "pca-probability"),
)
rep.figure(probability_map.figure, probability_map.caption)
st.caption(
    "Colour: the predicted probability; marker shape: the true class. Share of "
    "test examples predicted with p < 0.1 or p > 0.9: "
    + ", ".join(f"`{i}` {v:.0%}" for i, v in probability_map.certain.items())
    + f". {downloads.PNG_HINT}"
)
downloads.table(
    probability_map.table,
    downloads.file_name(name, "pca-probability", suffix="csv"),
    key=state.download_key(state.DOWNLOAD_PCA, "probability"),
)
