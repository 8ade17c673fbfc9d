"""Word clouds: what makes each deep feature of a text layer fire (Wong et al.
2021, Algorithm 2), with its weight in each class of the two decision layers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.sparse_layers.debugging.lime_clouds import top_activating
from dashboard.app_pages.sparse_layers import debugging
from dashboard.common import downloads, links, state

st.title("Word clouds · deep features of a text model")
st.caption(
    "LIME explains each deep feature's activation (not a class) on every sentence "
    "of a corpus; a word's weight is averaged over its occurrences and the 30 "
    "largest positive and negative averages form the feature's clouds (Wong et al. "
    "2021, Algorithm 2). Weights are per standard deviation of the feature."
)

wb = debugging.pick_layer("clouds", text_only=True)
corpus, clouds = debugging.pick_clouds(wb, "clouds")
sparse, dense = wb.layers["sparse"], wb.layers["dense"]

# Sparse layer's features first (by summed |weight|), then the dense layer's.
order = list(wb.weights_table().feature)
rest = np.argsort(-np.abs(dense.weight).sum(axis=0), kind="stable")
order += [int(f) for f in rest if f not in set(order)]
in_sparse = set(sparse.used.tolist())


def describe(f: int) -> str:
    return f"feature {f} · " + ("sparse layer" if f in in_sparse else "dense only")


feature_key = state.for_dataset(state.CLOUDS_FEATURE, wb.name)
links.bind(state.Q_FEATURE, feature_key, order)
feature = st.selectbox(
    "Feature (the sparse layer's first, largest weight first)",
    order,
    format_func=describe,
    key=feature_key,
)
feature = int(feature)

st.subheader(f"Feature {feature}")
weights = wb.weights_table([feature])
st.dataframe(weights, hide_index=True, key="clouds.weights")
downloads.table(
    weights,
    downloads.file_name(wb.name, f"feature{feature}", "weights", suffix="csv"),
    key=state.download_key(state.DOWNLOAD_DEBUG, "clouds.weights"),
)
debugging.show_clouds(clouds, feature, wb.name, "clouds.cloud")
st.caption(
    f"From {len(corpus.texts)} sentences, {corpus.settings.n_samples} LIME samples each "
    f"(seed {corpus.settings.seed}). A positive weight in class c's column means the "
    "positive cloud's words push towards c."
)

st.subheader("Sentences that activate it most")
k = st.slider("Sentences", 3, 30, 10, key=state.CLOUDS_TOP)
top = top_activating(corpus, feature, k)
low = top_activating(corpus, feature, k, lowest=True)
for frame in (top, low):
    frame["activation (std)"] = (
        frame.activation - sparse.center[feature]
    ) / sparse.scale[feature]
left, right = st.columns(2)
left.markdown("**Highest**")
left.dataframe(top, hide_index=True, key="clouds.top")
right.markdown("**Lowest**")
right.dataframe(low, hide_index=True, key="clouds.low")
downloads.table(
    pd.concat([top.assign(end="highest"), low.assign(end="lowest")]),
    downloads.file_name(wb.name, f"feature{feature}", "sentences", suffix="csv"),
    key=state.download_key(state.DOWNLOAD_DEBUG, "clouds.sentences"),
)
