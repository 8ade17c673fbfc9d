"""Weights: the first-layer weight matrices, and which rows and columns are zero.

The Neural LASSO supplement's heatmaps (input features × hidden units): L1 on
the weights tends to switch off hidden units (rows of W₁), group LASSO and the
gradient penalty input features (its columns).
"""

from __future__ import annotations

import streamlit as st

from core.figures import neural_lasso_maps as nl_maps
from core.neural_lasso import weights as nl_weights
from dashboard.app_pages.neural_lasso import inspecting
from dashboard.common import downloads, loaders, markdown, report, state

TOLERANCES = [1e-6, 1e-4, 1e-3, 1e-2, 0.05, 0.1]

name = st.session_state[state.DATASET]
ds = loaders.require_dataset(name)
st.title(f"Weights · {name}")
inspecting.require_features(ds)
stored = inspecting.require_stored(name)
ids = inspecting.choose_models(
    name, stored, state.for_dataset(state.WEIGHTS_MODELS, name)
)
models = inspecting.load_models(ds, ids)
rep = report.page_report(f"Weights · {name}", "weights", name)
report.add_models(rep, name, stored, ids)

weights = {}
for i, (model, _) in models.items():
    try:
        weights[i] = nl_weights.first_layer_weights(model)
    except ValueError as exc:
        st.warning(f"`{i}`: {markdown.escape(exc)}")
if not weights:
    st.info("None of the chosen models starts with a fully connected layer.")
    st.stop()

st.header("Zero rows and columns")
rel_tol = st.select_slider(
    "Zero when |w| ≤ this share of the largest |w|",
    options=TOLERANCES,
    value=nl_weights.ZERO_TOL,
    format_func=lambda t: f"{t:g}",
    key=state.WEIGHTS_TOLERANCE,
    help="1e-6 counts (numerically) exact zeros, as group LASSO's proximal step "
    "makes; larger values also count weights that are merely small.",
)
view = loaders.guarded(nl_maps.weights_view, ds, weights, rel_tol)
rep.settings.update({"dataset": name, "models": ids, "zero tolerance": rel_tol})
report.add_page_command(rep, "weights", name, ids, "--tolerance", f"{rel_tol:g}")
rep.table(view.zero_table, view.zero_caption)
st.dataframe(
    view.zero_table,
    hide_index=True,
    column_config={"tolerance": st.column_config.NumberColumn(format="%.2e")},
    key="weights.zero_table",
)
st.caption(
    f"A weight counts as zero when |w| ≤ {rel_tol:g} × the largest |w| of its "
    "matrix (the *tolerance* column). L1 on the weights by (sub)gradient steps "
    "makes weights small but rarely exactly zero. A zero feature column means "
    "the model ignores that input; a zero hidden-unit row means the unit "
    "receives no input."
)
downloads.table(
    view.zero_table,
    downloads.file_name(name, "zero-weights", suffix="csv"),
    key=state.download_key(state.DOWNLOAD_WEIGHTS, "zeros"),
)

st.header("First-layer weights")
if view.n_shown < ds.n_features:
    st.caption(
        f"{ds.n_features:,} features: to stay fast, the heatmaps show the "
        f"{view.n_shown} with the largest weight-column norm ‖W[:, j]‖₂ in any of "
        "these models, in column order; the CSV holds the same rows."
    )
st.plotly_chart(
    view.figure, key="weights.heatmap", config=downloads.png_config(name, "W1")
)
rep.figure(view.figure, view.caption)
st.caption(
    "Rows: input features (hover for names where they are too many to label); "
    "columns: hidden units; colour: the weight, on one symmetric scale for all "
    f"models, white at 0. {downloads.PNG_HINT}"
)
downloads.table(
    view.frame,
    downloads.file_name(name, "W1", suffix="csv"),
    key=state.download_key(state.DOWNLOAD_WEIGHTS, "matrix"),
)
