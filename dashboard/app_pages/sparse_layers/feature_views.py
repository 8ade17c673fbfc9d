"""Feature views: what each deep feature of an image layer responds to — its
top test images, their LIME superpixels, its visualisation (Wong et al. 2021,
Fig. 2b) — with its weight in each class of the two decision layers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.figures.feature_views import feature_view_image, png_bytes
from core.sparse_layers.feature_views.source import is_image_layer
from core.sparse_layers.sparse_layer import list_layers
from dashboard.app_pages.sparse_layers import viewing
from dashboard.common import downloads, links, loaders, state

st.title("Feature views · deep features of an image model")
st.caption(
    "Top: the test images that activate the feature most, with their "
    "activations. Middle: LIME explains the feature's activation (not a class) "
    "on each of them by its SLIC superpixels — green raises it, red lowers it. "
    "Right: a feature visualisation, gradient ascent on the input in a Fourier "
    "parametrisation with jitter, scaling and rotation (Olah et al. 2017)."
)

layers = {
    name: layer
    for name in loaders.guarded(list_layers)
    if is_image_layer(layer := loaders.require_layer(name))
}
if not layers:
    st.info(
        "No sparse layer on an image model's features is stored. Compute one on "
        "the λ sweep page or with `python -m core sparse-layer --dataset mnist "
        "--features penultimate:mnist-mlp-none`."
    )
    st.stop()
names = list(layers)
links.bind(state.Q_LAYER, state.VIEWS_LAYER, names)
if st.session_state.get(state.VIEWS_LAYER) not in names:
    st.session_state[state.VIEWS_LAYER] = names[0]
name = st.selectbox("Sparse layer", names, key=state.VIEWS_LAYER)
layer = layers[name]
src = viewing.source(name, layer)
classes = loaders.layer_class_names(layer)

# The sparse layer's features first (largest summed |weight| first), then the rest.
sparse_w = layer.path.coef[layer.selected]
order = sorted(range(len(src.units)), key=lambda f: -np.abs(sparse_w[:, f]).sum())
in_sparse = set(src.selected)
feature_key = state.for_dataset(state.VIEWS_FEATURE, name)
links.bind(state.Q_FEATURE, feature_key, order)
feature = int(
    st.selectbox(
        "Feature (the sparse layer's first, largest weight first)",
        order,
        format_func=lambda f: (
            f"feature {f} ({src.names[f]}) · "
            + (
                "sparse layer: "
                + ", ".join(classes[c] for c in np.flatnonzero(sparse_w[:, f]))
                if f in in_sparse
                else "dense only"
            )
        ),
        key=feature_key,
    )
)
k = st.slider("Top images", 4, 16, 8, key=state.VIEWS_TOP)

shown = viewing.view(name, src, feature, k)
title = f"{name}: feature {feature} ({src.names[feature]}), {src.split} split"
png = png_bytes(feature_view_image(shown, title))
st.image(png, caption=title, output_format="PNG")  # caption: plain text
st.download_button(
    "PNG",
    data=png,
    file_name=downloads.file_name(name, f"feature{feature}", "view", suffix="png"),
    mime="image/png",
    key=state.download_key(state.DOWNLOAD_VIEWS, "png"),
    on_click="ignore",
    icon=":material/download:",
)
st.caption(
    f"Visualisation: activation {shown.vis_activation:.3g} (start image "
    f"{shown.start_activation:.3g}; the top image {shown.activations[0]:.3g}). "
    f"From the command line: `python -m core feature-views --layer {name} "
    f"--features {feature} --k {k} --out views/`."
)

st.subheader("Its weight in each class")
weights = pd.DataFrame(
    {
        "class": classes,
        "sparse layer": sparse_w[:, feature],
        "dense layer": layer.dense.coef[0][:, feature],
    }
)
st.dataframe(weights, hide_index=True, key="views.weights")
downloads.table(
    weights,
    downloads.file_name(name, f"feature{feature}", "weights", suffix="csv"),
    key=state.download_key(state.DOWNLOAD_VIEWS, "weights"),
)
