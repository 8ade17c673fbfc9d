"""The λ sweep page's sections: computing a path, choosing a λ by size, and
the top-feature table with what each text or image feature means."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import SparseLensError
from core.sparse_layers.debugging.lime_clouds import (
    READABLE_MIN_COUNT,
    WordClouds,
    cached_corpora,
)
from core.sparse_layers.debugging.workbench import workbench
from core.sparse_layers.deep_features import FINETUNED, MINILM, is_sentence_encoder
from core.sparse_layers.encoders import list_encoders
from core.sparse_layers.feature_views.source import is_image_layer
from core.sparse_layers.glm.selection import (
    features_per_class,
    select_by_size,
    top_weighted_features,
)
from core.sparse_layers.sparse_layer import (
    SparseLayer,
    compute_sparse_layer,
    list_layers,
)
from dashboard.app_pages.sparse_layers import viewing
from dashboard.common import loaders, markdown, sidebar, state

CLOUDS_PAGE = "app_pages/sparse_layers/word_clouds.py"
#: Words of each side of a feature's clouds shown in the top-feature table.
MEANING_WORDS = 5


@st.cache_resource(max_entries=4, show_spinner="Reading the word clouds…")
def _stored_clouds(
    name: str, stamp: float, on_disk: tuple[str, ...], _layer: SparseLayer
) -> tuple[dict, WordClouds] | None:
    # ``on_disk`` (the corpora stored) tells apart clouds computed since.
    return workbench(_layer).stored_clouds(READABLE_MIN_COUNT)


def compute_form(dataset: str) -> None:
    """The form that computes a path on ``dataset``'s features (then reruns)."""
    with st.expander(f"Compute a path on {markdown.escape(dataset)}'s deep features"):
        ds = loaders.require_dataset(dataset)
        text = ds.train.texts is not None
        options = (
            [f"{FINETUNED}{e}" for e in loaders.guarded(list_encoders)] + [MINILM]
            if text
            else []
        ) + (["raw"] if ds.train.X is not None else [])
        options += [f"penultimate:{m}" for m in sidebar.chosen_models(dataset)]
        with st.form(state.SWEEP_COMPUTE):
            features = st.selectbox(
                "Features",
                options,
                key=state.for_dataset(state.SWEEP_FEATURES, dataset),
                help="finetuned:<encoder>: a MiniLM fine-tuned on a task (`python -m "
                "core finetune-encoder`); minilm: frozen sentence embeddings (text "
                "datasets); raw: the dataset's own "
                "features (e.g. deep features you registered); penultimate: the last "
                "hidden layer of a stored model.",
            )
            alpha = st.number_input(
                "α (L1 share)", 0.01, 1.0, 0.99, key=state.SWEEP_ALPHA
            )
            n_lambdas = st.number_input(
                "λ values", 5, 200, 100, key=state.SWEEP_LAMBDAS
            )
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


def size_rule(layer: SparseLayer, index_key: str) -> tuple[int | None, int]:
    """The λ chosen by a target number of features per class, and the target.

    Draws the target's input, a caption and a button that moves the slider
    (``index_key``) there; the λ is None when no λ is that small.
    """
    path, d = layer.path, layer.path.diagnostics
    size = features_per_class(path)
    left, right = st.columns([3, 1])
    per_class = left.number_input(
        "Or choose by size: target features per class (e.g. 5, 10, 20)",
        1,
        len(path.feature_names),
        min(10, len(path.feature_names)),
        key=state.SWEEP_SIZE,
    )
    try:
        by_size = select_by_size(path, per_class)
    except ValueError as exc:
        by_size = None
        left.warning(markdown.escape(exc))
    if by_size is not None:
        right.button(
            f"Jump to λ[{by_size}]",
            key=state.SWEEP_JUMP,
            on_click=lambda: st.session_state.update({index_key: by_size}),
            help="Move the slider to the λ chosen by size.",
        )
        st.caption(
            f"By size (dash-dot): λ[{by_size}] = {path.lambdas[by_size]:.3g} uses "
            f"{size[by_size]:.3g} features per class on average, the closest to "
            f"{per_class} without exceeding it; validation accuracy "
            f"{d['val_accuracy'][by_size]:.3f}."
        )
    return by_size, per_class


def top_features_table(
    layer: SparseLayer, name: str, index: int, output: int
) -> pd.DataFrame:
    """The top features of one output at λ[index], with their meanings for a
    text layer (a selected row opens the feature's word clouds) or an image
    layer (its views); returns the table shown."""
    top_n = st.slider("Show", 5, 50, 10, key=state.SWEEP_TOP)
    top = top_weighted_features(layer.path, index, output, top_n)
    notes = [
        "*entry*: the λ index at which the feature first became non-zero for this "
        "class (smaller = earlier = more important for the path)."
    ]
    # Text features have a view of their own (their word clouds).
    text = is_sentence_encoder(layer.features)
    if text:
        folder = list_layers()[name]
        on_disk = tuple(e["file"] for e in cached_corpora())
        try:
            stored = _stored_clouds(name, folder.stat().st_mtime, on_disk, layer)
        except (SparseLensError, ValueError) as exc:
            # The path and its numbers stand without the meanings: warn, go on.
            st.warning(f"Feature meanings unavailable: {markdown.escape(exc)}")
        else:
            if stored is None:
                # Not escaped: a code span shows backslashes, and a text layer's
                # name is a dataset name ([a-z0-9_-]) and its features'.
                notes.append(
                    f"No clouds cached — `python -m core word-clouds --layer {name}` "
                    "computes what each feature means."
                )
            else:
                entry, clouds = stored
                meanings = clouds.meanings(top.feature.to_numpy(), MEANING_WORDS)
                top = pd.concat([top, meanings.set_axis(top.index)], axis=1)
                notes.append(
                    "*raised by* / *lowered by*: the top words of the feature's LIME "
                    f"word clouds ({entry['sentences']} {entry['split']} sentences; "
                    f"words seen at least {clouds.min_count} times)."
                )
        notes.append("Select a row to open the feature on the Word clouds page.")
    # Image features show their top images and visualisation.
    image = is_image_layer(layer)
    if image:
        top = _image_meanings(layer, name, top, notes)
    chosen = st.dataframe(
        top,
        hide_index=True,
        key=state.SWEEP_TOP_TABLE,
        on_select="rerun" if text or image else "ignore",
        selection_mode="single-row",
        column_config=(
            {"meaning": st.column_config.ImageColumn("meaning", width="large")}
            if image
            else None
        ),
        row_height=64 if image else None,
    )
    st.caption(" ".join(notes))
    if (text or image) and chosen.selection.rows:
        feature = int(top.feature.iloc[chosen.selection.rows[0]])
        st.switch_page(
            CLOUDS_PAGE if text else viewing.FEATURE_VIEWS_PAGE,
            query_params={state.Q_LAYER: name, state.Q_FEATURE: str(feature)},
        )
    return top


def _image_meanings(
    layer: SparseLayer, name: str, top: pd.DataFrame, notes: list[str]
) -> pd.DataFrame:
    """``top`` with a *meaning* column: each image feature's top test images and
    its visualisation, for the features whose views are on disk (a button
    computes the others); appends what it shows to ``notes``."""
    src = viewing.source_or_warning(name, layer)
    if src is None:
        return top
    features = [int(f) for f in top.feature]
    found = viewing.top_feature_views(name, src, features)
    top = top.assign(
        meaning=[
            viewing.thumbnail_url(found[f]) if f in found else None for f in features
        ]
    )
    notes.append(
        "*meaning*: the feature's four top test images, then its visualisation "
        f"({len(found)} of {len(features)} computed"
        + ("" if len(found) == len(features) else "; the button computes the rest")
        + "). Select a row to open the feature on the Feature views page."
    )
    return top
