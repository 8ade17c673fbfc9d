"""Misclassifications: which deep features push each misclassified input to the
wrong class (γ scores), how many errors one feature explains, and — for many
classes — whether classes that share features are confused more (Wong et al.
2021, §4.3, Appendix G)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.figures.sparse_layers import confusion_vs_shared_figure
from core.sparse_layers.debugging.decision_layer import DecisionLayer
from core.sparse_layers.debugging.misclassifications import (
    confusion_vs_shared,
    fixed_share_table,
    misclassification_summary,
    misclassifications,
)
from core.sparse_layers.feature_views.source import is_image_layer
from dashboard.app_pages.sparse_layers import debugging, viewing
from dashboard.common import downloads, links, loaders, report, state

st.title("Misclassifications through deep features")
st.caption(
    "For an input of class l predicted p, feature i scores γᵢ = (W[p,i] − W[l,i])·zᵢ "
    "on the layer's standardised features; the top feature is set to zero (its "
    "training mean) to see whether it alone caused the error (26–30 % of errors on "
    "ImageNet in the paper)."
)

wb = debugging.pick_layer("misclassifications", text_only=False)
rep = report.page_report(
    f"Misclassifications · {wb.name}", "misclassifications", wb.name
)
c = st.columns(2)
links.bind(state.Q_DECISION, state.MISCLASSIFICATIONS_LAYER, ["sparse", "dense"])
which = c[0].radio(
    "Decision layer",
    ["sparse", "dense"],
    horizontal=True,
    key=state.MISCLASSIFICATIONS_LAYER,
)
links.bind(state.Q_SPLIT, state.MISCLASSIFICATIONS_SPLIT, ["test", "val", "train"])
split = c[1].selectbox(
    "Split", ["test", "val", "train"], key=state.MISCLASSIFICATIONS_SPLIT
)
layer, index = wb.layers[which], 0
if which == "sparse":
    path = wb.stored.path
    index_key = state.for_dataset(state.MISCLASSIFICATIONS_INDEX, wb.name)
    links.bind(state.Q_LAMBDA, index_key, range(len(path)))
    index = st.select_slider(
        "λ of the sparse layer (left: sparser)",
        options=list(range(len(path))),
        value=wb.stored.selected,
        key=index_key,
        format_func=lambda i: f"{i}: {int(path.nonzeros[i].sum())} weights",
    )
    layer = DecisionLayer.from_path(path, index, wb.class_names, "sparse")


H, y = debugging.split_features(wb, split)
table, gammas = misclassifications(layer, H, y)
summary = misclassification_summary(table, len(y))
rep.settings.update(
    {
        "dataset": wb.stored.dataset,
        "layer": wb.name,
        "decision layer": which,
        "split": split,
    }
)
if which == "sparse":
    rep.settings["λ index"] = f"{index} (λ = {path.lambdas[index]:.4g})"
rep.commands.append(
    (
        report.command(
            "errors",
            "--layer",
            wb.name,
            "--split",
            split,
            *(["--index", index] if which == "sparse" else []),
            "--out",
            "errors.json",
        ),
        "The errors of both layers on this split (the sparse one at this λ), "
        "those fixed by zeroing the top feature and, with three classes or more, "
        "confusion against shared features.",
    )
)
report.add_layer(rep, wb.stored, index if which == "sparse" else None)
rep.text(
    f"{summary['errors']} errors of {summary['examples']}; zeroing the top feature "
    f"fixes {summary['fixed_by_top_feature']}."
)
m = st.columns(3)
m[0].metric("errors", f"{summary['errors']} of {summary['examples']}")
m[1].metric("fixed by zeroing the top feature", summary["fixed_by_top_feature"])
m[2].metric(
    "share fixed", f"{summary['share_fixed']:.1%}" if summary["errors"] else "—"
)
# The sparse layer at the slider's λ when it is shown, else at the selected λ.
sparse_layer = layer if which == "sparse" else wb.layers["sparse"]
fixes = fixed_share_table([sparse_layer, wb.layers["dense"]], H, y)
st.dataframe(fixes, hide_index=True, key="misclassifications.fixes")
st.caption(
    f"Both layers on the {split} split (the sparse one at λ index "
    f"{index if which == 'sparse' else wb.stored.selected}): the share of errors "
    "that zeroing their top feature fixes, with a 95 % Wilson interval."
)
rep.table(fixes, "Errors fixed by zeroing one feature, sparse against dense.")
if table.empty:
    st.success("This layer makes no error on this split.")
    st.stop()
st.dataframe(table, hide_index=True, key="misclassifications.table")
rep.table(table, "Every misclassified input, its γ scores' top features.")
downloads.table(
    table.assign(top_features=table.top_features.astype(str)),
    downloads.file_name(wb.name, which, split, "errors", suffix="csv"),
    key=state.download_key(state.DOWNLOAD_DEBUG, "misclassifications.table"),
)

st.subheader("One error")
pick_key = state.for_setting(
    state.MISCLASSIFICATIONS_PICK, wb.name, which, split, str(index)
)
links.bind(state.Q_EXAMPLE, pick_key, range(len(table)))
pick = st.selectbox(
    "Error",
    range(len(table)),
    format_func=lambda i: (
        f"#{table['index'].iloc[i]}: {table.true.iloc[i]} → {table.predicted.iloc[i]}"
    ),  # a selectbox shows options as plain text
    key=pick_key,
)
row = table.iloc[pick]
rep.settings["error"] = f"#{row['index']}: {row.true} → {row.predicted}"
if wb.is_text:
    rep.settings["text"] = loaders.guarded(wb.texts, split)[int(row["index"])]
    st.text(rep.settings["text"])
top = np.argsort(-gammas[pick], kind="stable")[:5]
scores = pd.DataFrame(
    {
        "feature": top,
        "γ": gammas[pick, top],
        f"W[{row.predicted}]": layer.weight[
            layer.class_names.index(row.predicted), top
        ],
        f"W[{row.true}]": layer.weight[layer.class_names.index(row.true), top],
    }
)
st.dataframe(scores, key="misclassifications.gammas")
rep.table(scores, "The features that push this input most to the wrong class.")
if wb.is_text and loaders.guarded(wb.computed):
    _, clouds = debugging.pick_clouds(wb, "misclassifications")
    for f in top[:3]:
        with st.expander(f"feature {f} · γ = {gammas[pick, f]:+.3f}"):
            debugging.show_clouds(
                clouds, int(f), wb.name, f"misclassifications.cloud.{f}", report=rep
            )
elif wb.is_text:
    st.caption("Compute word clouds (Word clouds page) to see these features' words.")
elif is_image_layer(wb.stored):
    feature = int(row.top_feature)
    title = (
        f"#{row['index']} ({split}): {row.true} predicted {row.predicted}; "
        f"feature {feature} (gamma = {row.gamma:+.3f})"
        + ("; zeroing it fixes the error" if row.fixed else "")
    )
    png = viewing.show_error(
        wb.name, wb.stored, split, int(row["index"]), feature, title
    )
    if png is not None:
        rep.image(png, title)

if layer.weight.shape[0] >= 3:
    st.subheader("Class confusion against shared features")
    pairs, corr = confusion_vs_shared(layer, H, y)
    fig = confusion_vs_shared_figure(pairs, corr, which)
    st.plotly_chart(
        fig,
        key="misclassifications.confusion",
        config=downloads.png_config(wb.name, which, "confusion"),
    )
    rep.figure(fig, "Class confusion against the features two classes share.")
    if which == "sparse" and pairs.shared.nunique() < 2:
        st.caption(
            "Every class pair shares as many features here, so there is nothing to "
            "correlate: slide λ to the right (denser) until classes share features."
        )
    st.caption(downloads.PNG_HINT)
    downloads.table(
        pairs,
        downloads.file_name(wb.name, which, "confusion", suffix="csv"),
        key=state.download_key(state.DOWNLOAD_DEBUG, "misclassifications.pairs"),
    )
