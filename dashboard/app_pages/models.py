"""Models: the stored models for the chosen dataset and their cards."""

from __future__ import annotations

import dataclasses

import streamlit as st

from core import summaries
from core.store import SHIPPED_DIR, list_models
from dashboard import downloads, loaders, sidebar, state

name = st.session_state[state.DATASET]
st.title(f"Models · {name}")

stored = loaders.guarded(list_models, name)
if not stored:
    st.info(
        f"No models are stored for **{name}** yet. Models you train appear here; "
        f"the shipped pretrained ones live in `{SHIPPED_DIR}`."
    )
    st.stop()

table = summaries.models_table(stored)
st.dataframe(
    table,
    hide_index=True,
    column_config={"shipped": st.column_config.CheckboxColumn()},
    key="models.table",
)
downloads.table(
    table, downloads.file_name(name, "models", suffix="csv"), key=state.DOWNLOAD_MODELS
)

chosen = sidebar.chosen_models(name)
if not chosen:
    st.caption("Choose models in the sidebar to see their full cards.")
for model_id in chosen:
    model, card = loaders.require_model(model_id)
    n_params = sum(p.numel() for p in model.parameters())
    st.subheader(model_id)
    st.caption(
        f"{card.architecture}, {n_params:,} parameters; weights verified against "
        "the SHA-256 in the card."
    )
    st.json(dataclasses.asdict(card), expanded=2)
