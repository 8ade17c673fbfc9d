"""What the four debugging pages share: pick a stored layer, pick or compute
its word clouds, draw a feature's clouds. The work is in
``core.sparse_layers.debugging``."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from core.figures.report import Report
from core.figures.sparse_layers import word_cloud_image
from core.sparse_layers.debugging.lime_clouds import (
    READABLE_MIN_COUNT,
    CloudCorpus,
    LimeSettings,
    WordClouds,
)
from core.sparse_layers.debugging.workbench import Workbench, workbench
from core.sparse_layers.deep_features import is_sentence_encoder
from core.sparse_layers.sparse_layer import SparseLayer, list_layers
from dashboard.common import downloads, links, loaders, state

SIDES = {"positive": "Greens", "negative": "Reds"}


def _features_of(folder: Path) -> str | None:
    try:
        return json.loads((folder / "layer.json").read_text()).get("features")
    except (OSError, ValueError):
        return None


@st.cache_resource(max_entries=8, show_spinner="Loading the layer…")
def _workbench(folder: str, stamp: float) -> Workbench:
    return workbench(SparseLayer.load(Path(folder)))


def pick_layer(page: str, *, text_only: bool, prefer: str | None = None) -> Workbench:
    """A selectbox of stored layers (text layers only when ``text_only``); the
    page stops with what to do when there is none."""
    layers = loaders.guarded(list_layers)
    if text_only:
        layers = {
            n: f
            for n, f in layers.items()
            if is_sentence_encoder(_features_of(f) or "")
        }
    if not layers:
        what = "on sentence-encoder features " if text_only else ""
        st.info(
            f"No sparse layer {what}is stored. Compute one on the λ sweep page or "
            "with `python -m core sparse-layer --dataset sst2 --features "
            "finetuned:sst2`."
        )
        st.stop()
    names = list(layers)
    key = state.for_setting(state.DEBUG_LAYER, page)
    links.bind(state.Q_LAYER, key, names)
    if st.session_state.get(key) not in names:
        dataset = st.session_state.get(state.DATASET)
        mine = [n for n in names if n == prefer] or [
            n for n in names if n.startswith(f"{dataset}-")
        ]
        st.session_state[key] = (mine or names)[0]
    name = st.selectbox("Sparse layer", names, key=key)
    folder = layers[name]
    return loaders.guarded(_workbench, str(folder), folder.stat().st_mtime)


def layer_stamp(wb: Workbench) -> str:
    """A digest of the layer's content (both paths' weights and
    standardisation, the selection, the features): caches of what a layer
    computes key on it, so a layer recomputed under the same name on the λ
    sweep page is never served from another's entry."""
    stored = wb.stored
    digest = hashlib.sha256(
        repr((stored.name, stored.dataset, stored.features, stored.selected)).encode()
    )
    for path in (stored.path, stored.dense):
        for array in (path.lambdas, path.coef, path.intercept, path.center, path.scale):
            digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


@st.cache_data(max_entries=8, show_spinner="Computing the deep features…")
def _split_features(
    _wb: Workbench, stamp: str, split: str
) -> tuple[np.ndarray, np.ndarray]:
    return _wb.features(split), _wb.labels(split)


def split_features(wb: Workbench, split: str) -> tuple[np.ndarray, np.ndarray]:
    """The deep features and class codes of a split of the layer's dataset,
    cached by the layer's content (:func:`layer_stamp`)."""
    return loaders.guarded(_split_features, wb, layer_stamp(wb), split)


@st.cache_resource(max_entries=4, show_spinner="Reading the word clouds…")
def _corpus(
    _wb: Workbench, name: str, split: str, limit: int | None, settings: LimeSettings
) -> CloudCorpus:
    return _wb.cloud_corpus(settings, split=split, limit=limit)


def _label(entry: dict) -> str:
    n = "all" if not entry["limit"] else f"first {entry['limit']}"
    s = entry["settings"]
    return f"{entry['split']} · {n} ({entry['sentences']}) · {s.n_samples} samples · seed {s.seed}"


def pick_clouds(
    wb: Workbench, page: str, *, min_count: int = READABLE_MIN_COUNT
) -> tuple[CloudCorpus, WordClouds]:
    """A computed corpus of word clouds, or a form to compute one (the page
    stops until one exists); ``min_count`` is the default of the field that
    leaves rarer words out of the clouds."""
    computed = loaders.guarded(wb.computed)
    with st.expander("Compute word clouds", expanded=not computed):
        st.caption(
            "LIME on every sentence: each sentence is perturbed once and the "
            "perturbed sentences are encoded once for all 384 features. The full "
            f"run is `python -m core word-clouds --layer {wb.name}` (500 samples "
            "over the validation split; about 14 minutes on two CPU cores)."
        )
        form = state.for_setting(state.DEBUG_COMPUTE, page)
        with st.form(form):
            c = st.columns(3)
            split = c[0].selectbox(
                "Split", ["val", "test", "train"], key=state.DEBUG_SPLIT
            )
            limit = c[1].number_input(
                "Sentences (0: all)", 0, 100_000, 50, key=state.DEBUG_LIMIT
            )
            samples = c[2].number_input(
                "LIME samples", 10, 5000, 500, step=50, key=state.DEBUG_SAMPLES
            )
            go = st.form_submit_button("Compute", key=f"{form}.submit")
        if go:
            bar = st.progress(0.0, text="LIME…")
            loaders.guarded(
                wb.cloud_corpus,
                LimeSettings(n_samples=int(samples)),
                split=split,
                limit=int(limit) or None,
                progress=lambda d, t: bar.progress(d / t, text=f"sentence {d} of {t}"),
            )
            st.rerun()
    if not computed:
        st.info(
            "No word clouds are computed for this layer's dataset yet: compute "
            "them above or from the command line."
        )
        st.stop()
    labels = [_label(e) for e in computed]
    key = state.for_setting(state.DEBUG_CORPUS, page, wb.name)
    if st.session_state.get(key) not in labels:
        st.session_state[key] = labels[0]
    chosen = computed[labels.index(st.selectbox("Word clouds from", labels, key=key))]
    corpus = loaders.guarded(
        _corpus, wb, wb.name, chosen["split"], chosen["limit"], chosen["settings"]
    )
    # One field per page: each page has its own default.
    min_count = st.number_input(
        "Leave out words seen fewer times than",
        1,
        50,
        min_count,
        key=state.for_setting(state.DEBUG_MIN_COUNT, page),
        help=f"{READABLE_MIN_COUNT} by default: below it words seen once or "
        "twice lead the clouds (docs/debugging.md). 1 keeps every word, as the "
        "paper does.",
    )
    return corpus, wb.clouds(corpus, min_count=int(min_count))


def clouds_options(wb: Workbench, page: str, clouds: WordClouds) -> list[str]:
    """The command-line options (``word-clouds``, ``counterfactuals`` …) that
    make the word clouds chosen on ``page`` by :func:`pick_clouds`."""
    label = st.session_state[state.for_setting(state.DEBUG_CORPUS, page, wb.name)]
    entry = next(e for e in loaders.guarded(wb.computed) if _label(e) == label)
    options = ["--cloud-split", entry["split"]]
    if entry["limit"]:
        options += ["--cloud-limit", str(entry["limit"])]
    s = entry["settings"]
    return options + [
        *("--samples", str(s.n_samples), "--seed", str(s.seed)),
        *("--min-count", str(clouds.min_count)),
    ]


@st.cache_data(max_entries=64, show_spinner=False)
def _png(
    words: tuple[str, ...], weights: tuple[float, ...], colormap: str
) -> bytes | None:
    image = word_cloud_image(
        pd.DataFrame({"word": words, "weight": weights}), colormap=colormap
    )
    if image is None:
        return None
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def show_clouds(
    clouds: WordClouds, feature: int, layer_name: str, key: str, *, report: Report
) -> None:
    """The feature's positive and negative clouds side by side, with PNG and CSV
    downloads; the pictures also go on the page's ``report``."""
    cols = st.columns(2)
    tables = []
    for col, (side, cmap) in zip(cols, SIDES.items(), strict=True):
        cloud = clouds.cloud(feature, side)
        tables.append(cloud.assign(side=side))
        col.markdown(
            f"**{side.capitalize()}** (raise feature {feature})"
            if side == "positive"
            else f"**{side.capitalize()}** (lower feature {feature})"
        )
        png = _png(tuple(map(str, cloud.word)), tuple(map(float, cloud.weight)), cmap)
        if png is None:
            col.caption("No word on this side.")
            continue
        col.image(png, width="stretch")
        report.image(png, f"Feature {feature}: {side} cloud.")
        col.download_button(
            "PNG",
            png,
            downloads.file_name(layer_name, f"feature{feature}", side, suffix="png"),
            mime="image/png",
            key=f"{key}.png.{side}",
            on_click="ignore",
            icon=":material/download:",
        )
    downloads.table(
        pd.concat(tables, ignore_index=True),
        downloads.file_name(layer_name, f"feature{feature}", "cloud", suffix="csv"),
        key=f"{key}.csv",
        label="Cloud words (CSV)",
    )
