"""Models: the stored models of the chosen dataset, compared and managed.

Every stored model with its card, the models chosen in the sidebar side by
side, all of them grouped like Table 1 of the Neural LASSO paper, and deletion
of your own models (shipped ones are read-only).
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from core.errors import SparseLensError
from core.figures.models import model_comparison_figure
from core.neural_lasso.table1 import ROWS
from core.paths import ASSETS_DIR
from core.training.store import delete_model, list_models
from core.views import models as models_view
from dashboard.common import downloads, loaders, markdown, sidebar, state

NUMBER = st.column_config.NumberColumn(format="%.4g")


def delete(dataset: str, model_id: str) -> None:
    """The delete button's callback.

    Callbacks run before the next script run, so the sidebar's choice can
    still be updated before the sidebar draws it.
    """
    try:
        delete_model(model_id)
    except (SparseLensError, ValueError, OSError) as exc:
        st.session_state[state.NOTICE] = ("error", markdown.escape(exc))
        return
    chosen = state.for_dataset(state.MODELS, dataset)
    kept = [i for i in st.session_state.get(chosen, []) if i != model_id]
    st.session_state[chosen] = kept
    # Set, not delete: a deleted key resets the value but not what the browser
    # shows (see state.for_dataset).
    left = [m.card.model_id for m in list_models(dataset)]
    if left:
        st.session_state[state.for_dataset(state.CARD_MODEL, dataset)] = left[0]
    st.session_state[state.NOTICE] = ("success", f"Deleted `{model_id}`.")


name = st.session_state[state.DATASET]
st.title(f"Models · {name}")
if notice := st.session_state.pop(state.NOTICE, None):
    kind, text = notice
    (st.success if kind == "success" else st.error)(text)

stored = loaders.guarded(list_models, name)
if not stored:
    reason = models_view.no_training_reason(loaders.require_dataset(name))
    st.info(
        f"No models are stored for **{name}**. "
        + (markdown.escape(reason) if reason else "Train one on the Train page; ")
        + f" The shipped pretrained ones live in `{ASSETS_DIR / 'models'}`."
    )
    st.stop()
by_id = {m.card.model_id: m for m in stored}
chosen = [i for i in sidebar.chosen_models(name) if i in by_id]

st.header("Stored models")
table = models_view.models_table(stored)
st.dataframe(
    table,
    hide_index=True,
    column_config={"shipped": st.column_config.CheckboxColumn()},
    key="models.table",
)
downloads.table(
    table, downloads.file_name(name, "models", suffix="csv"), key=state.DOWNLOAD_MODELS
)

st.header("Compare")
if not chosen:
    st.caption("Choose models in the sidebar to compare them side by side.")
else:
    cards = [by_id[i].card for i in chosen]
    fig = model_comparison_figure(cards)
    st.plotly_chart(fig, key="models.comparison")
    downloads.figure(
        fig,
        downloads.file_name(name, "comparison", suffix="html"),
        key=state.DOWNLOAD_COMPARISON,
    )
    for card in cards:
        kept = models_view.surviving_features_on_card(card)
        if kept is None:
            continue
        total = markdown.escape(card.arch_kwargs.get("n_features", "?"))
        with st.expander(f"`{card.model_id}`: {len(kept)} of {total} features survive"):
            st.dataframe(
                pd.DataFrame({"surviving feature": kept}),
                hide_index=True,
                key=f"models.surviving.{card.model_id}",
            )

st.header("Table 1 view")
st.caption(
    "Every stored model of this dataset, grouped by architecture, penalty and "
    "strength as in Table 1 of Ross, Lage & Doshi-Velez (2017): test metrics "
    "averaged over the group's models (seeds), with the sample standard "
    "deviation; for group LASSO, the features every model of the group kept."
)
view = models_view.table1_view(stored, ROWS.get(name, ()))
st.dataframe(
    view,
    hide_index=True,
    column_config={c: NUMBER for c in view.columns if view[c].dtype.kind == "f"},
    key="models.table1_view",
)
downloads.table(
    view,
    downloads.file_name(name, "table1-view", suffix="csv"),
    key=state.DOWNLOAD_TABLE1,
)

st.header("Model card")
ids = list(by_id)
model_id = st.selectbox(
    "Model",
    ids,
    index=ids.index(chosen[0]) if chosen else 0,
    format_func=lambda i: sidebar.model_label(by_id[i]),
    key=state.for_dataset(state.CARD_MODEL, name),
)
current = by_id[model_id]
if loaded := loaders.model_or_none(model_id):
    n_params = sum(p.numel() for p in loaded[0].parameters())
    st.caption(
        f"{markdown.escape(current.card.architecture)}, {n_params:,} parameters. "
        "The weights were verified against the SHA-256 in the card; the card's "
        "other fields (metrics, training record) are not covered by a hash and "
        "are shown as the card states them."
    )
st.json(dataclasses.asdict(current.card), expanded=1)
if current.shipped:
    st.button("Delete this model", disabled=True, key=state.DELETE)
    st.caption(f"Shipped models (in `{ASSETS_DIR / 'models'}`) are read-only.")
else:
    sure = st.checkbox(
        f"I understand that deleting `{model_id}` removes its files for good",
        key=state.for_dataset(state.DELETE_CONFIRM, model_id),
    )
    st.button(
        "Delete this model",
        disabled=not sure,
        on_click=delete,
        args=(name, model_id),
        type="primary",
        icon=":material/delete:",
        key=state.DELETE,
    )
