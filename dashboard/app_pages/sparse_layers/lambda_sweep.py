"""λ sweep: a sparse decision layer's elastic-net path, swept live.

The whole path is computed once (CLI ``python -m core sparse-layer`` or the
form below) and cached; the slider only slices it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.figures import sparse_layers as figures
from core.sparse_layers.glm.selection import path_summary
from core.sparse_layers.sparse_layer import list_layers
from dashboard.app_pages.sparse_layers import sweeping
from dashboard.common import downloads, links, loaders, markdown, report, state

dataset = st.session_state[state.DATASET]
st.title("λ sweep · sparse decision layers")

sweeping.compute_form(dataset)

layers = loaders.guarded(list_layers)
if not layers:
    st.info(
        "No sparse layer is stored. Compute one above, or from the command line: "
        "`python -m core sparse-layer --dataset sst2 --features finetuned:sst2`."
    )
    st.stop()
names = list(layers)
mine = [n for n in names if n.startswith(f"{dataset}-")]
links.bind(state.Q_LAYER, state.SWEEP_LAYER, names)
if st.session_state.get(state.SWEEP_LAYER) not in names:
    st.session_state[state.SWEEP_LAYER] = (mine or names)[0]
name = st.selectbox("Sparse layer", names, key=state.SWEEP_LAYER)
layer = loaders.require_layer(name)
rep = report.page_report(f"λ sweep · {name}", "lambda-sweep", name)
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
classes = loaders.layer_class_names(layer)

left, right = st.columns([3, 1])
index_key = state.for_dataset(state.SWEEP_INDEX, name)
links.bind(state.Q_LAMBDA, index_key, range(len(path)))
if index_key not in st.session_state:
    st.session_state[index_key] = layer.selected
index = left.select_slider(
    "λ (left: strongest, fewest features)",
    options=list(range(len(path))),
    format_func=lambda i: f"{path.lambdas[i]:.3g}",
    key=index_key,
)
output = 0
# A binomial layer's single output scores the second class against the first.
target = f"{classes[1]} (against {classes[0]})" if path.coef.shape[1] == 1 else None
if path.coef.shape[1] > 1:
    class_key = state.for_dataset(state.SWEEP_CLASS, name)
    links.bind(state.Q_CLASS, class_key, range(len(classes)))
    output = right.selectbox(
        "Class",
        range(len(classes)),
        format_func=lambda c: classes[c],
        key=class_key,
    )
    target = classes[output]

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

links.bind(state.Q_SIZE, state.SWEEP_SIZE, range(1, len(path.feature_names) + 1))
by_size, per_class = sweeping.size_rule(layer, index_key)
rep.settings.update(
    {
        "dataset": layer.dataset,
        "layer": name,
        "λ index": f"{index} (λ = {path.lambdas[index]:.4g})",
        "class": target,
        "target features per class": per_class,
    }
)
report.add_layer(rep, layer, index)

fig = figures.coefficient_path_figure(
    path,
    output,
    selected=layer.selected,
    current=index,
    title=f"Coefficient paths · {target}",
)
st.plotly_chart(fig, key="sweep.paths", config=downloads.png_config(name, "paths"))
rep.figure(fig, "Coefficient paths (dashed: the selected λ).")
fig = figures.tradeoff_figure(
    path,
    layer.test_accuracy,
    selected=layer.selected,
    current=index,
    title="Sparsity against accuracy",
    by_size=by_size,
    by_size_label=f"≤ {per_class} per class",
)
st.plotly_chart(
    fig, key="sweep.tradeoff", config=downloads.png_config(name, "tradeoff")
)
rep.figure(fig, "Sparsity against accuracy (dash-dot: the λ chosen by size).")
st.caption(downloads.PNG_HINT)

st.subheader(
    f"Top features of {markdown.escape(target)} at λ = {path.lambdas[index]:.3g}"
)
top = sweeping.top_features_table(layer, name, index, output)
rep.table(top, f"Top features of {target} at λ = {path.lambdas[index]:.3g}.")
rep.table(pd.DataFrame(layer.topk), "Top-k highlighting (test set).")

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
