"""λ sweep: a sparse decision layer's elastic-net path, swept live.

The whole path is computed once (CLI ``python -m core sparse-layer`` or the
form below) and cached; the slider only slices it.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.figures import sparse_layers as figures
from core.sparse_layers.glm.selection import path_summary, top_weighted_features
from core.sparse_layers.sparse_layer import compute_sparse_layer, list_layers
from dashboard.common import downloads, links, loaders, markdown, sidebar, state

dataset = st.session_state[state.DATASET]
st.title("λ sweep · sparse decision layers")

with st.expander(f"Compute a path on {markdown.escape(dataset)}'s deep features"):
    ds = loaders.require_dataset(dataset)
    options = (["minilm"] if ds.train.texts is not None else []) + (
        ["raw"] if ds.train.X is not None else []
    )
    options += [f"penultimate:{m}" for m in sidebar.chosen_models(dataset)]
    with st.form(state.SWEEP_COMPUTE):
        features = st.selectbox(
            "Features",
            options,
            key=state.for_dataset(state.SWEEP_FEATURES, dataset),
            help="minilm: sentence embeddings (text datasets); raw: the dataset's own "
            "features (e.g. deep features you registered); penultimate: the last "
            "hidden layer of a stored model.",
        )
        alpha = st.number_input("α (L1 share)", 0.01, 1.0, 0.99, key=state.SWEEP_ALPHA)
        n_lambdas = st.number_input("λ values", 5, 200, 100, key=state.SWEEP_LAMBDAS)
        submitted = st.form_submit_button("Compute path", disabled=not options)
    if submitted:
        bar = st.progress(0.0, text="features…")
        layer, _ = loaders.guarded(
            compute_sparse_layer,
            dataset,
            features,
            alpha=alpha,
            n_lambdas=int(n_lambdas),
            progress_features=lambda d, t: bar.progress(
                d / t, text=f"features {d}/{t}"
            ),
            progress=lambda d, t: bar.progress(d / t, text=f"path: λ {d} of {t}"),
        )
        st.session_state[state.SWEEP_LAYER] = layer.name
        st.rerun()

layers = loaders.guarded(list_layers)
if not layers:
    st.info(
        "No sparse layer is stored. Compute one above, or from the command line: "
        "`python -m core sparse-layer --dataset sst2 --features minilm`."
    )
    st.stop()
names = list(layers)
mine = [n for n in names if n.startswith(f"{dataset}-")]
links.bind(state.Q_LAYER, state.SWEEP_LAYER, names)
if st.session_state.get(state.SWEEP_LAYER) not in names:
    st.session_state[state.SWEEP_LAYER] = (mine or names)[0]
name = st.selectbox("Sparse layer", names, key=state.SWEEP_LAYER)
layer = loaders.require_layer(name)
if layer.dataset != dataset:
    st.caption(
        f"This layer was fitted on **{markdown.escape(layer.dataset)}** "
        f"({markdown.escape(layer.features)} features), "
        + (
            "not on the sidebar's dataset."
            if mine
            else f"as {markdown.escape(dataset)} has none yet."
        )
    )
path = layer.path
classes = list(loaders.layer_class_names(name, layer))

left, right = st.columns([3, 1])
index_key = state.for_dataset(state.SWEEP_INDEX, name)
links.bind(state.Q_LAMBDA, index_key, range(len(path)))
index = left.select_slider(
    "λ (left: strongest, fewest features)",
    options=list(range(len(path))),
    value=layer.selected,
    format_func=lambda i: f"{path.lambdas[i]:.3g}",
    key=index_key,
)
output = 0
if path.coef.shape[1] > 1:
    class_key = state.for_dataset(state.SWEEP_CLASS, name)
    links.bind(state.Q_CLASS, class_key, range(len(classes)))
    output = right.selectbox(
        "Class",
        range(len(classes)),
        format_func=lambda c: classes[c],
        key=class_key,
    )

d = path.diagnostics
cols = st.columns(5)
cols[0].metric("features used", int(path.active_features[index]))
cols[1].metric("non-zero weights", int(path.nonzeros[index].sum()))
cols[2].metric("train accuracy", f"{d['train_accuracy'][index]:.3f}")
cols[3].metric("validation accuracy", f"{d['val_accuracy'][index]:.3f}")
cols[4].metric("test accuracy", f"{layer.test_accuracy[index]:.3f}")
st.caption(
    f"Selected (dashed): λ[{layer.selected}] = {path.lambdas[layer.selected]:.3g}, "
    f"the sparsest λ whose validation accuracy is within {layer.tolerance:.0%} of "
    f"the best. Dense layer (ridge): test accuracy "
    f"{layer.dense_accuracy['test']:.3f} with all {len(path.feature_names)} features."
)

fig = figures.coefficient_path_figure(
    path,
    output,
    selected=layer.selected,
    current=index,
    title=f"Coefficient paths · {classes[output] if path.coef.shape[1] > 1 else name}",
)
st.plotly_chart(fig, key="sweep.paths", config=downloads.png_config(name, "paths"))
fig = figures.tradeoff_figure(
    path,
    layer.test_accuracy,
    selected=layer.selected,
    current=index,
    title="Sparsity against accuracy",
)
st.plotly_chart(
    fig, key="sweep.tradeoff", config=downloads.png_config(name, "tradeoff")
)
st.caption(downloads.PNG_HINT)

st.subheader(f"Top features at λ = {path.lambdas[index]:.3g}")
top_n = st.slider("Show", 5, 50, 10, key=state.SWEEP_TOP)
top = top_weighted_features(path, index, output, top_n)
st.dataframe(top, hide_index=True, key="sweep.top_table")
st.caption(
    "*entry*: the λ index at which the feature first became non-zero for this "
    "class (smaller = earlier = more important for the path)."
)

st.subheader("Top-k highlighting (test set)")
st.dataframe(layer.topk, hide_index=True, key="sweep.topk")
st.caption(
    "Accuracy with all features, with only each class's k largest weights, and "
    "with all but those (Wong et al. 2021, Table 2): a sparse layer keeps its "
    "accuracy in its top features, a dense one spreads it over the rest."
)
summary = path_summary(path).assign(test_accuracy=layer.test_accuracy)
downloads.table(
    summary,
    downloads.file_name(name, "path", suffix="csv"),
    key=state.download_key(state.DOWNLOAD_SWEEP, "path"),
)
coef = np.asarray(path.coef_original()[index])
downloads.table(
    top.assign(weight_original_units=coef[output, top.feature.to_numpy()]),
    downloads.file_name(name, f"top-lambda{index}", suffix="csv"),
    key=state.download_key(state.DOWNLOAD_SWEEP, "top"),
)
