"""Data: what the chosen dataset holds and how it was prepared.

Sizes and class balance, the features with units and normal ranges, their
distributions, feature groups, sample texts or images, and the preprocessing.
"""

from __future__ import annotations

import streamlit as st

from core.data import get_spec
from core.data.access import SPLITS, no_features_reason
from core.figures import data as data_figures
from core.views import data as data_view
from dashboard.common import downloads, loaders, markdown, state

name = st.session_state[state.DATASET]
ds = loaders.require_dataset(name)
PERCENT = st.column_config.NumberColumn(format="percent")
NUMBER = st.column_config.NumberColumn(format="%.4g")

st.title(f"Data · {name}")
st.markdown(ds.description or "*No description.*")  # written by the loader
if ds.source:
    # A built-in loader's source is ours (its URLs should stay links); a
    # registered dataset's names the user's file, so it is shown literally.
    builtin = get_spec(name).stored is None
    source = ds.source if builtin else markdown.escape(ds.source)
    st.caption(f"Source: {source}")
cols = st.columns(4)
cols[0].metric("Task", ds.task)
cols[1].metric("Modality", ds.modality)
cols[2].metric("Classes", ds.n_classes)
cols[3].metric("Features", ds.n_features if ds.train.X is not None else "—")

st.header("Sizes and class balance")
sizes = data_view.split_sizes(ds)
st.dataframe(
    sizes,
    hide_index=True,
    column_config={c: PERCENT for c in sizes.columns if c.startswith("prevalence")},
    key="data.sizes_table",
)
fig = data_figures.class_balance_figure(ds)
st.plotly_chart(fig, key="data.balance_chart")
left, right = st.columns(2)
with left:
    downloads.table(
        sizes,
        downloads.file_name(name, "sizes", suffix="csv"),
        key=state.DOWNLOAD_SIZES,
    )
with right:
    downloads.figure(
        fig,
        downloads.file_name(name, "class-balance", suffix="html"),
        key=state.DOWNLOAD_BALANCE,
    )

st.header("Features")
reason = no_features_reason(ds)
if reason:
    st.info(reason)
else:
    table = loaders.feature_table(ds)
    query = st.text_input(
        "Filter features",
        key=state.for_dataset(state.FEATURE_FILTER, name),
        placeholder="part of a feature, group or unit name",
    )
    shown = data_view.filter_features(table, query)
    st.caption(
        f"{len(shown)} of {len(table)} features. Statistics are over the training "
        "split in original units, over observed values (imputed ones, counted in "
        "*share_missing*, are left out); *share_outside_normal* is the fraction "
        "of observed values outside the normal range, where one is known."
    )
    st.dataframe(
        shown,
        hide_index=True,
        column_config={
            "share_missing": PERCENT,
            "share_outside_normal": PERCENT,
            **dict.fromkeys(
                ["normal_low", "normal_high", "mean", "std", "min", "max"], NUMBER
            ),
        },
        key="data.feature_table",
    )
    downloads.table(
        shown,
        downloads.file_name(name, "features", suffix="csv"),
        key=state.DOWNLOAD_FEATURES,
    )

    groups = data_view.feature_groups_table(ds)
    st.subheader("Feature groups")
    if groups.empty:
        st.caption("Every feature is a group of its own (no one-hot variables).")
    else:
        st.caption("Columns that together encode one variable (e.g. one-hot levels).")
        st.dataframe(groups, hide_index=True, key="data.groups_table")

    st.subheader("Distributions")
    chosen = st.multiselect(
        "Features to plot",
        ds.feature_names,
        default=data_view.default_features(ds),
        key=state.for_dataset(state.PLOT_FEATURES, name),
        max_selections=12,
    )
    split = st.radio("Split", SPLITS, key=state.PLOT_SPLIT, horizontal=True)
    grid = st.columns(2)
    for i, feature in enumerate(chosen):
        with grid[i % 2]:
            fig = data_figures.feature_distribution_figure(ds, feature, split)
            st.plotly_chart(fig, key=f"data.distribution.{feature}")
            downloads.figure(
                fig,
                downloads.file_name(name, feature, split, suffix="html"),
                key=state.download_key(state.DOWNLOAD_DISTRIBUTION, feature),
            )

if ds.train.texts is not None or ds.train.images is not None:
    st.header("Samples")
    left, right = st.columns(2)
    s_split = left.radio("Split", SPLITS, key=state.SAMPLE_SPLIT, horizontal=True)
    seed = right.number_input("Seed", min_value=0, value=0, key=state.SAMPLE_SEED)
    if ds.train.texts is not None:
        texts = data_view.sample_texts(ds, s_split, n=10, seed=int(seed))
        # A dataframe shows text literally: nothing from the data becomes HTML.
        st.dataframe(
            texts,
            hide_index=True,
            column_config={
                "id": st.column_config.Column(width="small"),
                "label": st.column_config.Column(width="small"),
                "text": st.column_config.TextColumn(width="large"),
            },
            row_height=72,  # tall rows let long texts wrap onto three lines
            key="data.sample_texts",
        )
        downloads.table(
            texts,
            downloads.file_name(name, "samples", s_split, seed, suffix="csv"),
            key=state.DOWNLOAD_SAMPLES,
        )
    if ds.train.images is not None:
        fig = data_figures.image_grid_figure(ds, s_split, n=16, seed=int(seed))
        st.plotly_chart(fig, key="data.sample_images")
        downloads.figure(
            fig,
            downloads.file_name(name, "images", s_split, seed, suffix="html"),
            key=state.DOWNLOAD_IMAGES,
        )

st.header("Preprocessing")
prep = data_view.preprocessing_summary(ds)
st.markdown(f"**Scaling:** `{prep['method']}` — {markdown.escape(prep['description'])}")
with st.expander("Everything the loader recorded (`ds.info`)"):
    st.json(dict(ds.info), expanded=1)  # values JSON cannot hold are shown as text
