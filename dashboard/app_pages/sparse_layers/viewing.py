"""Image feature views for the section's pages: the Feature views page, the
λ sweep's top-feature table and the Misclassifications page read them through
here (the model, the images and each view cached once per layer)."""

from __future__ import annotations

import base64

import streamlit as st

from core.errors import SparseLensError
from core.figures.feature_views import error_image, feature_thumbnail, png_bytes
from core.sparse_layers.feature_views.source import FeatureSource, layer_source
from core.sparse_layers.feature_views.superpixels import Superpixels, superpixels
from core.sparse_layers.feature_views.views import (
    DEFAULT_LIME,
    TOP_K,
    FeatureView,
    cached_view,
    feature_views,
)
from core.sparse_layers.sparse_layer import SparseLayer, list_layers
from dashboard.common import downloads, loaders, markdown, state

FEATURE_VIEWS_PAGE = "app_pages/sparse_layers/feature_views.py"
#: The split whose images show the features.
SPLIT = "test"


@st.cache_resource(max_entries=4, show_spinner="Loading the layer's model and images…")
def _source(name: str, stamp: float, split: str, _layer: SparseLayer) -> FeatureSource:
    # ``stamp`` (the layer folder's mtime) tells apart a layer recomputed under
    # the same name.
    return layer_source(_layer, split)


def source(name: str, layer: SparseLayer, split: str = SPLIT) -> FeatureSource:
    """The layer's image features with a split's images (shared, never
    mutated), or an error and a stop."""
    folder = loaders.guarded(list_layers)[name]
    return loaders.guarded(_source, name, folder.stat().st_mtime, split, layer)


def source_or_warning(
    name: str, layer: SparseLayer, split: str = SPLIT
) -> FeatureSource | None:
    """:func:`source`, or None after a warning saying why (for a page that
    stands without the views)."""
    try:
        return _source(name, list_layers()[name].stat().st_mtime, split, layer)
    except (SparseLensError, ValueError) as exc:
        st.warning(f"Feature views unavailable: {markdown.escape(exc)}")
        return None


@st.cache_data(max_entries=64, show_spinner="Computing the feature's view…")
def _view(
    name: str, stamp: float, feature: int, k: int, _src: FeatureSource
) -> FeatureView:
    unit = _src.units_of([feature])
    return feature_views(_src.features, _src.images, unit, k=k)[0]


def view(name: str, src: FeatureSource, feature: int, k: int) -> FeatureView:
    """One feature's view (read from the disk cache, else computed), or an
    error and a stop."""
    stamp = loaders.guarded(list_layers)[name].stat().st_mtime
    return loaders.guarded(_view, name, stamp, int(feature), int(k), src)


def stored_view(src: FeatureSource, feature: int) -> FeatureView | None:
    """The feature's view with the default settings if it is on disk."""
    (unit,) = src.units_of([feature])
    return cached_view(src.features, src.images, unit)


def top_feature_views(
    name: str, src: FeatureSource, features: list[int]
) -> dict[int, FeatureView]:
    """The views of ``features`` that are on disk; while some are not, a button
    computes them under a progress bar."""
    found = {f: stored_view(src, f) for f in features}
    missing = [f for f, v in found.items() if v is None]
    if missing and st.button(
        "Show what these features respond to",
        key=state.VIEWS_COMPUTE,
        help="Computes each feature's top images, LIME superpixels and "
        "visualisation (a few seconds per feature), then caches them.",
    ):
        bar = st.progress(0.0, text="Computing feature views…")
        for done, f in enumerate(missing, start=1):
            found[f] = view(name, src, f, TOP_K)
            bar.progress(done / len(missing), text=f"Computed {done} of {len(missing)}")
        bar.empty()
    return {f: v for f, v in found.items() if v is not None}


def thumbnail_url(feature_view: FeatureView) -> str:
    """A data URL of the feature's thumbnail (top images + visualisation), for an
    image column of a table."""
    png = png_bytes(feature_thumbnail(feature_view))
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@st.cache_data(max_entries=64, show_spinner="Explaining the image by its superpixels…")
def _own_superpixels(
    name: str, stamp: float, split: str, row: int, feature: int, _src: FeatureSource
) -> Superpixels:
    (unit,) = _src.units_of([feature])
    return superpixels(_src.features, _src.images[row], unit, DEFAULT_LIME)


def show_error(
    name: str, layer: SparseLayer, split: str, row: int, feature: int, title: str
) -> bytes | None:
    """A misclassified image of ``split`` traced to one feature: the image, its
    own LIME superpixels for the feature, the feature's top test images and
    visualisation, with a PNG download. Returns the PNG (None, after a warning,
    when the layer's model or images cannot be read)."""
    images = source_or_warning(name, layer, split)
    shown = source_or_warning(name, layer) if images is not None else None
    if shown is None:
        return None
    stamp = list_layers()[name].stat().st_mtime
    own = loaders.guarded(
        _own_superpixels, name, stamp, split, int(row), int(feature), images
    )
    feature_view = view(name, shown, feature, TOP_K)
    png = png_bytes(error_image(images.images[row], own, feature_view, title))
    st.image(png, caption=title, output_format="PNG")  # caption: plain text
    st.download_button(
        "PNG",
        data=png,
        file_name=downloads.file_name(
            name, split, f"row{row}", f"feature{feature}", suffix="png"
        ),
        mime="image/png",
        key=state.download_key(state.DOWNLOAD_DEBUG, "misclassifications.image"),
        on_click="ignore",
        icon=":material/download:",
    )
    st.caption(
        "Left: the misclassified image and its LIME superpixels for the feature's "
        "activation (green raises it, red lowers it; SLIC, "
        f"{DEFAULT_LIME.n_samples} samples). Right: the {SPLIT} "
        "images that activate the feature most, and its visualisation."
    )
    return png
