"""Word clouds: what makes each deep feature of a text layer fire (Wong et al.
2021, Algorithm 2), with its weight in each class of the two decision layers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.sparse_layers.debugging.lime_clouds import top_activating
from dashboard.app_pages.sparse_layers import debugging
from dashboard.common import downloads, links, report, state

st.title("Word clouds · deep features of a text model")
st.caption(
    "LIME explains each deep feature's activation (not a class) on every sentence "
    "of a corpus; a word's weight is averaged over its occurrences and the 30 "
    "largest positive and negative averages form the feature's clouds (Wong et al. "
    "2021, Algorithm 2). Weights are per standard deviation of the feature."
)

wb = debugging.pick_layer("clouds", text_only=True)
corpus, clouds = debugging.pick_clouds(wb, "clouds")
rep = report.page_report(f"Word clouds · {wb.name}", "word-clouds", wb.name)
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
rep.commands.append(
    (
        report.command(
            "word-clouds",
            "--layer",
            wb.name,
            *debugging.clouds_options(wb, "clouds", clouds),
            "--out",
            "word-clouds.json",
        ),
        "Computes these word clouds and writes those of the sparse layer's "
        "features to word-clouds.json.",
    )
)
report.add_layer(rep, wb.stored)
rep.table(weights, f"Feature {feature}: its weight in each class of both layers.")
debugging.show_clouds(clouds, feature, wb.name, "clouds.cloud", report=rep)
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
rep.settings.update(
    {
        "dataset": wb.stored.dataset,
        "layer": wb.name,
        "word clouds from": f"{len(corpus.texts)} sentences, "
        f"{corpus.settings.n_samples} LIME samples each, seed {corpus.settings.seed}",
        "leave out words seen fewer times than": clouds.min_count,
        "feature": feature,
        "sentences": k,
    }
)
rep.table(top, f"The {k} sentences that activate feature {feature} most.")
rep.table(low, f"The {k} sentences that activate feature {feature} least.")
downloads.table(
    pd.concat([top.assign(end="highest"), low.assign(end="lowest")]),
    downloads.file_name(wb.name, f"feature{feature}", "sentences", suffix="csv"),
    key=state.download_key(state.DOWNLOAD_DEBUG, "clouds.sentences"),
)
