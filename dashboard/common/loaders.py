"""Cached access to datasets and stored models; errors become messages.

Datasets and models are ``st.cache_resource`` objects shared by every session,
so they are never mutated: a page that needs to change a model copies it.
Whatever :mod:`core` raises on purpose (``SparseLensError``, ``ValueError``)
is shown with ``st.error`` and the page stops, instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, TypeVar

import pandas as pd
import streamlit as st
from torch import nn

from core.data import Dataset, availability, load_dataset
from core.data.user import content_stamp
from core.errors import SparseLensError
from core.paths import data_home
from core.sparse_layers.sparse_layer import SparseLayer, class_names, list_layers
from core.training.store import ModelCard, find_model, load_model
from core.views import data as data_view
from dashboard.common import markdown

T = TypeVar("T")


def fail(message: str) -> NoReturn:
    """Show ``message`` (Markdown) as an error and stop this run of the page."""
    st.error(message)
    st.stop()


def guarded(fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Call ``fn``; an error raised by ``core`` is shown and stops the page.

    The message is escaped: it may quote the data (file, column, class names).
    """
    try:
        return fn(*args, **kwargs)
    except (SparseLensError, ValueError) as exc:
        fail(markdown.escape(exc))


@st.cache_resource(
    max_entries=4, show_spinner="Loading the dataset (the first time parses it)…"
)
def _dataset(name: str, home: str, stamp: str | None = None) -> Dataset:
    # ``home`` is part of the cache key: another data home is another dataset;
    # ``stamp``, a registered dataset's content hash, tells apart two datasets
    # registered under one name (the first deleted in between).
    return load_dataset(name, home, download=False)


def require_dataset(name: str) -> Dataset:
    """The dataset ``name``, or an explanation of what is missing and a stop.

    Nothing is downloaded from a page: an unavailable dataset is explained with
    what :func:`core.data.availability` found missing.
    """
    home = data_home()
    avail = guarded(availability, name)
    if not avail.available:
        st.info(
            f"**{markdown.escape(name)}** is not available here: "
            f"{markdown.escape(avail.where)}.\n\n"
            f"Put its files in the data home ({home}) or point the SPARSELENS_DATA "
            "environment variable at a folder that holds them, then reload."
        )
        st.stop()
    return guarded(_dataset, name, str(home), content_stamp(name))


@st.cache_data(max_entries=16, show_spinner=False)
def _feature_table(
    _ds: Dataset, name: str, home: str, stamp: str | None
) -> pd.DataFrame:
    return data_view.feature_table(_ds)


def feature_table(ds: Dataset) -> pd.DataFrame:
    """:func:`core.views.data.feature_table` of a dataset from :func:`require_dataset`.

    Cached by dataset name and data home (the dataset itself is not hashed).
    """
    return guarded(
        _feature_table, ds, ds.name, str(data_home()), content_stamp(ds.name)
    )


@st.cache_resource(max_entries=8, show_spinner="Loading the model…")
def _model(path: str, sha256: str) -> tuple[nn.Module, ModelCard]:
    # Keyed by folder and weights digest, so a retrained model of the same ID
    # (or another store) is never served from the cache.
    model, card = load_model(Path(path))
    for p in model.parameters():
        p.requires_grad_(False)  # shared across sessions: read-only
    return model, card


def _stored_model(model_id: str) -> tuple[nn.Module, ModelCard]:
    stored = find_model(model_id)
    return _model(str(stored.path), stored.card.sha256)


def require_model(model_id: str) -> tuple[nn.Module, ModelCard]:
    """A stored model in eval mode with frozen parameters, and its card.

    The model is shared by every session (``st.cache_resource``): never train
    or modify it in place.
    """
    return guarded(_stored_model, model_id)


def model_or_none(model_id: str) -> tuple[nn.Module, ModelCard] | None:
    """Like :func:`require_model`, but an error is shown and the page goes on.

    For pages that can still offer something for a broken model (deleting it).
    """
    try:
        return _stored_model(model_id)
    except (SparseLensError, ValueError) as exc:
        st.error(markdown.escape(exc))
        return None


@st.cache_resource(max_entries=8, show_spinner="Loading the sparse layer…")
def _layer(folder: str, stamp: float) -> SparseLayer:
    # ``stamp`` (the folder's mtime) tells apart a layer recomputed under the
    # same name.
    return SparseLayer.load(Path(folder))


def require_layer(name: str) -> SparseLayer:
    """A stored sparse layer (shared, never mutated), or an error and a stop."""
    folder = guarded(list_layers).get(name)
    if folder is None:
        fail(f"No sparse layer {markdown.escape(repr(name))} is stored any more.")
    return guarded(_layer, str(folder), folder.stat().st_mtime)


@st.cache_data(max_entries=16, show_spinner=False)
def _class_names(
    dataset: str, stamp: str | None, codes: tuple[str, ...], _layer: SparseLayer
) -> list[str]:
    # The names depend on the dataset (a registered one by its content stamp)
    # and, when it cannot be read, on the path's class codes.
    return list(class_names(_layer))


def layer_class_names(layer: SparseLayer) -> list[str]:
    """The class names of ``layer`` (its codes if its dataset cannot be read)."""
    codes = tuple(str(c) for c in layer.path.classes)
    return _class_names(layer.dataset, content_stamp(layer.dataset), codes, layer)
