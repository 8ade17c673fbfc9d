"""The sidebar every page shares: which dataset, which stored models."""

from __future__ import annotations

import streamlit as st

from core.data import availability, dataset_names, get_spec
from core.paths import data_home, models_dir
from core.training.penalties import strength_label
from core.training.store import StoredModel, scan_models
from dashboard.common import links, markdown, state


def model_label(m: StoredModel) -> str:
    """How a stored model is named in pickers: ID, penalty and strength."""
    c = m.card
    text = f"{c.model_id} · {strength_label(c.penalty, c.strength)}"
    return f"{text} · shipped" if m.shipped else text


def chosen_models(dataset: str) -> list[str]:
    """The stored model IDs chosen in the sidebar for ``dataset``."""
    return list(st.session_state.get(state.for_dataset(state.MODELS, dataset), []))


def render() -> None:
    """Draw the dataset and model pickers; pages read them from session state.

    ``st.session_state[state.DATASET]`` holds the dataset name (available or
    not: the page explains what is missing) and :func:`chosen_models` the
    model IDs chosen for it.
    """
    names = dataset_names()
    if not names:
        st.error("No datasets are registered; core.data registers them on import.")
        st.stop()
    # Bound outside the sidebar so that a bad dataset in a link is said on the page.
    links.bind(state.Q_DATASET, state.DATASET, names)
    with st.sidebar:
        name = _dataset_picker(names)
        _model_picker(name)
        st.divider()
        st.caption(f"Data home: `{data_home()}`")
        st.caption(f"Model store: `{models_dir()}`")


def _dataset_picker(names: list[str]) -> str:
    """The dataset selectbox with the chosen dataset's summary; its name."""
    avail = {n: availability(n) for n in names}
    first_available = next((i for i, n in enumerate(names) if avail[n].available), 0)
    new = st.session_state.pop(state.NEW_DATASET, None)
    if new in names:  # just registered on the Add data page: choose it
        st.session_state[state.DATASET] = new
    yours = {n for n in names if get_spec(n).stored is not None}

    def label(n: str) -> str:
        text = f"{n} · yours" if n in yours else n
        return text if avail[n].available else f"{text} (not available)"

    name = st.selectbox(
        "Dataset",
        names,
        index=first_available,
        key=state.DATASET,
        format_func=label,
        help="Datasets marked not available lack their files in the data home; "
        "'yours' are the ones registered on the Add data page.",
    )
    spec = get_spec(name)
    st.caption(markdown.escape(f"{spec.summary} — {spec.task}, {spec.modality}"))
    if not avail[name].available:
        st.warning("Not available here; the page says what is missing.")
    return name


def _model_picker(dataset: str) -> None:
    """The multiselect of the models stored for ``dataset``."""
    # Not warnings.catch_warnings: it swaps process-wide state, which the
    # threads of concurrent sessions would tangle.
    listing = scan_models(dataset)
    for message in listing.skipped:  # unreadable model cards are skipped, but said so
        st.warning(markdown.escape(message))
    stored = listing.models
    by_id = {m.card.model_id: m for m in stored}
    key = state.for_dataset(state.MODELS, dataset)
    new = st.session_state.pop(state.NEW_MODEL, None)
    if new in by_id:  # just trained on the Train page: choose it
        st.session_state[key] = [*st.session_state.get(key, []), new]
    if by_id:
        st.multiselect(
            "Stored models",
            list(by_id),
            key=key,
            format_func=lambda i: model_label(by_id[i]),
            help="Models trained on this dataset: yours first, then shipped ones.",
        )
    else:
        st.caption(f"No models are stored for {markdown.escape(dataset)} yet.")
