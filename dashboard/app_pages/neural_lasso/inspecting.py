"""What the Input gradients, PCA maps and Weights pages share.

Prerequisite checks that explain what to do, the model and class pickers, and
the cached computations (gradients, probabilities, the PCA basis, neighbours).
Cached functions take the model and dataset as ``_model`` / ``_ds`` (not
hashed) beside the hashable IDs that identify them: model ID and weights
digest, dataset name, data home and content stamp (a dataset registered again
under the same name is another dataset).
"""

from __future__ import annotations

import numpy as np
import streamlit as st
from torch import nn

from core.data import Dataset
from core.data.user import content_stamp
from core.neural_lasso import comparison as nl_comparison
from core.neural_lasso import gradients as nl_gradients
from core.neural_lasso import pca as nl_pca
from core.neural_lasso import smoothness as nl_smoothness
from core.paths import data_home
from core.training.metrics import predict_proba
from core.training.store import StoredModel, list_models
from dashboard.common import links, loaders, sidebar, state


def require_features(ds: Dataset) -> None:
    """Stop with an explanation when ``ds`` has no feature matrix."""
    if ds.train.X is None or not ds.n_features:
        held = "raw text" if ds.modality == "text" else "images as pixels only"
        st.info(
            f"{ds.name} holds {held}, with no feature matrix a model reads "
            "directly, so there are no input features to take gradients of. "
            "Input gradients are shown per feature: choose a dataset with "
            "features in the sidebar (synthetic, adult, breast_cancer, icu_rhc, "
            "icu_physionet2012, newsgroups, digits)."
        )
        st.stop()


def require_stored(name: str) -> list[StoredModel]:
    """The stored models of ``name``, or an explanation and a stop."""
    stored = loaders.guarded(list_models, name)
    if not stored:
        st.info(
            f"No models are stored for **{name}** yet. Train some on the Train "
            "page — an MLP without a penalty, one with L1 on the weights and one "
            "with L1 on input gradients make the paper's comparison — or with "
            "`python -m core train --dataset "
            f"{name} --model mlp --penalty grad_l1 --strength 0.1`."
        )
        st.stop()
    return stored


def choose_models(name: str, stored: list[StoredModel], key: str) -> list[str]:
    """Up to three models (default: plain, L1-weights and gradient-L1 MLPs)."""
    by_id = {m.card.model_id: m for m in stored}
    links.bind(state.Q_MODELS, key, list(by_id), many=True, max_values=3)
    chosen = st.multiselect(
        "Models (up to three, side by side)",
        list(by_id),
        default=nl_comparison.default_models(stored, sidebar.chosen_models(name)),
        max_selections=3,
        format_func=lambda i: sidebar.model_label(by_id[i]),
        key=key,
        help="By default the newest plain, L1-weights and gradient-L1 MLPs.",
    )
    if not chosen:
        st.info("Choose at least one model above.")
        st.stop()
    return chosen


def load_models(ds: Dataset, ids: list[str]) -> dict[str, tuple[nn.Module, str]]:
    """Model and weights digest per ID; a model of another input size stops."""
    out = {}
    for i in ids:
        model, card = loaders.require_model(i)
        n = card.arch_kwargs.get("n_features")
        if n is not None and n != ds.n_features:
            loaders.fail(
                f"{i} takes {n} inputs but {ds.name} has {ds.n_features} features "
                "(trained on another version of the dataset?)."
            )
        out[i] = (model, card.sha256)
    return out


#: The target picker's option for Σ_k log p_k (a selectbox cannot offer None).
ALL_CLASSES = -1


def choose_target(ds: Dataset, key: str, where=st) -> int | None:
    """Which log-probability to explain: a class (positive first) or Σ_k (None)."""
    first = nl_gradients.default_target(ds)
    first = ALL_CLASSES if first is None else first  # the default comes first
    options = [first, *(t for t in [*range(ds.n_classes), ALL_CLASSES] if t != first)]
    links.bind(state.Q_CLASS, key, options)
    choice = where.selectbox(
        "Explain",
        options,
        format_func=lambda t: nl_gradients.target_label(
            ds, None if t == ALL_CLASSES else t
        ),
        key=key,
        help="Gradient of the log-probability of this class; Σₖ log pₖ is the "
        "quantity the gradient penalty acts on.",
    )
    return None if choice == ALL_CLASSES else choice


def _home() -> str:
    return str(data_home())


def _stamp(ds: Dataset) -> str | None:
    return content_stamp(ds.name)


@st.cache_data(max_entries=48, show_spinner="Computing input gradients…")
def _gradients(
    _model, _ds, model_id, sha256, dataset, home, stamp, split, target
) -> np.ndarray:
    return nl_gradients.standardised_gradients(_model, _ds, split, target)


def gradients(
    models: dict, ds: Dataset, split: str, target: int | None
) -> dict[str, np.ndarray]:
    """Standardised-space gradients per model ID (cached per model and split)."""
    return {
        i: loaders.guarded(
            _gradients, m, ds, i, sha, ds.name, _home(), _stamp(ds), split, target
        )
        for i, (m, sha) in models.items()
    }


@st.cache_data(max_entries=24, show_spinner=False)
def _probabilities(
    _model, _X, model_id, sha256, dataset, home, stamp, split
) -> np.ndarray:
    return predict_proba(_model, _X)


def probabilities(models: dict, ds: Dataset, split: str) -> dict[str, np.ndarray]:
    """Predicted class probabilities per model ID, arrays (n_samples, n_classes)."""
    X = nl_gradients.split_inputs(ds, split)
    return {
        i: _probabilities(m, X, i, sha, ds.name, _home(), _stamp(ds), split)
        for i, (m, sha) in models.items()
    }


@st.cache_data(max_entries=8, show_spinner="Fitting the PCA basis…")
def _pca(_ds, dataset, home, stamp, projection) -> nl_pca.PCABasis:
    return nl_pca.pca_basis(_ds, projection)


def pca_basis(ds: Dataset, projection: str) -> nl_pca.PCABasis:
    """The dataset's PCA basis for ``projection`` (fitted on train inputs)."""
    return loaders.guarded(_pca, ds, ds.name, _home(), _stamp(ds), projection)


@st.cache_data(max_entries=8, show_spinner="Finding nearest neighbours…")
def _neighbours(_ds, dataset, home, stamp, split, k) -> np.ndarray:
    return nl_smoothness.neighbours(nl_gradients.split_inputs(_ds, split), k)


def neighbours(ds: Dataset, split: str, k: int = nl_smoothness.N_NEIGHBOURS):
    """Each example's k nearest neighbours in standardised input space."""
    return loaders.guarded(_neighbours, ds, ds.name, _home(), _stamp(ds), split, k)
