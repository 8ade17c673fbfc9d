"""Add data: register your own table, text corpus, feature matrix or MIMIC extract.

Upload a file (or give a path on the server), check the preview and the
column roles, add an optional ranges file, name it and register it. The
dataset then appears in the sidebar beside the built-in ones; registered
datasets are listed at the bottom and can be deleted.
"""

from __future__ import annotations

import streamlit as st

from core.data.user.validate import suggest_name
from dashboard.app_pages.data import adding
from dashboard.common import downloads, markdown, state

st.title("Add data")
st.caption(adding.limit_caption())
notice = st.session_state.pop(state.ADD_NOTICE, None)
if notice:
    st.success(notice)

kind = st.radio(
    "What are you adding?",
    list(adding.KINDS),
    format_func=adding.KINDS.get,
    key=state.ADD_KIND,
)
if kind == "mimic":
    st.info(
        "A CSV or Parquet extract with one row per 4-hour slice of an ICU stay: "
        "`icustayid`, `died_in_hosp` and the 47 features of Raghu et al. (2017) "
        "in original units (see the README). It is split by patient, robustly "
        "scaled and its training split balanced, as in the Neural LASSO paper."
    )
chosen = adding.source(kind)


def registered_section() -> None:
    st.header("Your datasets")
    table = adding.registered_table()
    if table.empty:
        st.caption("None registered yet.")
        return
    st.dataframe(table, hide_index=True, key="add.registered")
    adding.delete_form(list(table["name"]))


if chosen is None:
    registered_section()
    st.stop()

data, filename = chosen
options: dict = {}
st.header("Preview")
if kind == "features" and filename.lower().endswith((".npz", ".npy")):
    st.caption(
        f"{markdown.escape(filename)}: a NumPy file, checked when you register it "
        "(read without pickle)."
    )
    options = adding.feature_options(filename)
else:
    raw = adding.read(data, filename, kind)
    if raw is None:
        registered_section()
        st.stop()
    profile = adding.preview(raw)
    downloads.table(
        profile,
        downloads.file_name(filename, "columns", suffix="csv"),
        key=state.DOWNLOAD_PREVIEW,
        label="Column profile CSV",
    )
    st.header("Column roles")
    if kind == "table":
        options = adding.table_options(raw, profile)
    elif kind == "texts":
        options = adding.text_options(raw)
    elif kind == "features":
        options = adding.feature_options(filename)
    else:
        options = {
            "balance": st.checkbox(
                "Balance the training classes (the paper's setting)",
                value=True,
                key=state.ADD_BALANCE,
            )
        }

st.header("Register")
name = st.text_input(
    "Dataset name",
    value="mimic_sepsis" if kind == "mimic" else suggest_name(filename),
    max_chars=48,
    key=state.for_setting(state.ADD_NAME, kind, filename),
    help="Lower-case letters, digits, '_' or '-'.",
).strip()
if st.button("Register", type="primary", key=state.ADD_SUBMIT):
    done = adding.register(kind, data, filename, name, options)
    if done is not None:
        sizes = ", ".join(f"{k} {v}" for k, v in done.manifest["sizes"].items())
        st.session_state[state.ADD_NOTICE] = (
            f"Registered {done.name} ({sizes}); it is chosen in the sidebar."
        )
        for warning in done.manifest["warnings"]:
            st.session_state[state.ADD_NOTICE] += (
                f"\n\nNote: {markdown.escape(warning)}"
            )
        st.session_state[state.NEW_DATASET] = done.name
        st.rerun()
registered_section()
