"""What the Add data page shares: the source picker, cached reading, the option
widgets of each kind, registration with progress, and the registered list.

Every message that may hold text from the file (column names, cell values,
the file name) is escaped for Markdown before it is shown, and whatever reading,
registering or deleting raises is shown as an error (:func:`attempt`), never as
a traceback: a file may be hostile, and the page must outlive it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pandas as pd
import streamlit as st

from core.data.user import (
    add_features,
    add_mimic,
    add_table,
    add_texts,
    delete,
    registered,
)
from core.data.user.profile import ROLES, profile_columns, profile_frame
from core.data.user.tables import RawTable, read_table
from core.data.user.validate import (
    MAX_COLUMNS,
    MAX_FEATURE_COLUMNS,
    MAX_MB_ENV,
    max_upload_mb,
)
from core.errors import SparseLensError
from dashboard.common import markdown, state

KINDS = {
    "table": "Table (CSV, TSV, Parquet)",
    "texts": "Text corpus (CSV, TSV, JSONL)",
    "features": "Precomputed features (.npz, .npy, Parquet, CSV)",
    "mimic": "MIMIC-III sepsis extract (Raghu et al. layout)",
}
TYPES = {
    "table": ["csv", "tsv", "txt", "parquet", "pq"],
    "texts": ["csv", "tsv", "txt", "jsonl", "ndjson"],
    "features": ["npz", "npy", "parquet", "pq", "csv"],
    "mimic": ["csv", "parquet"],
}
LABEL_GUESSES = ("label", "target", "y", "class", "outcome", "died_in_hosp")
NONE = "(none)"
#: Errors a bad file, a bad path or the disk cause: shown as their message.
FILE_ERRORS = (SparseLensError, ValueError, OSError)

_log = logging.getLogger(__name__)
T = TypeVar("T")


def error(exc: Exception) -> None:
    """``exc``'s message as an error, escaped (it may quote the file)."""
    st.error(markdown.escape(exc))


def attempt(call: Callable[[], T], doing: str) -> T | None:
    """``call()``, or None after showing why it failed as an error.

    Parameters
    ----------
    call : callable
        Reads, registers or deletes.
    doing : str
        What it does, for the messages (``"reading c.csv"``).

    Returns
    -------
    The result, or None when it raised. :data:`FILE_ERRORS` show their own
    message; running out of memory says so; anything else is a bug of
    SparseLens's, shown as such with its traceback in the server log (the
    page never shows one).
    """
    try:
        return call()
    except MemoryError:
        st.error(
            markdown.escape(
                f"Not enough memory for {doing}: the file expands to more than this "
                "server can hold. Use a smaller file (fewer rows or columns)."
            )
        )
    except FILE_ERRORS as exc:
        error(exc)
    except Exception as exc:  # the page must outlive any file; see the docstring
        _log.exception("Add data: %s failed", doing)
        st.error(
            markdown.escape(
                f"{doing.capitalize()} failed with an unexpected "
                f"{type(exc).__name__} ({exc}). This is a bug in SparseLens; the "
                "server log holds the details."
            )
        )
    return None


def limit_caption() -> str:
    try:
        limit = f"{max_upload_mb():g} MB"
    except SparseLensError as exc:
        limit = f"unset ({exc})"
    return (
        f"Size limit: {limit} per file (set {MAX_MB_ENV} to change it). Nothing "
        "is kept unless you register it."
    )


def source(kind: str) -> tuple[bytes | str, str] | None:
    """The chosen file as ``(bytes or path, file name)``, or None."""
    upload = st.file_uploader(
        "Upload a file", type=TYPES[kind], key=state.for_dataset(state.ADD_UPLOAD, kind)
    )
    path = st.text_input(
        "…or a path on the server",
        key=state.for_dataset(state.ADD_PATH, kind),
        placeholder="/data/cohort.csv",
        help="For large files: read in place, never uploaded. Any file the "
        "server process can read.",
    ).strip()
    if upload is not None:
        return upload.getvalue(), upload.name
    if path:
        return os.path.expanduser(path), Path(path).name
    return None


@st.cache_resource(max_entries=2, show_spinner="Reading the file for a preview…")
def _read(
    data: bytes | str, filename: str, stamp: object, max_columns: int
) -> RawTable:
    # ``stamp`` (size and mtime of a path) re-reads a file changed on disk.
    # Registering reads the file again, with a progress bar.
    return read_table(data, filename, max_columns=max_columns)


def read(data: bytes | str, filename: str, kind: str) -> RawTable | None:
    """The file read as a table of ``kind`` (cached), or None after showing why
    not. A table of features may have more columns than the other kinds."""
    stamp = None
    if isinstance(data, str):
        try:
            stat = os.stat(data)
            stamp = (stat.st_size, stat.st_mtime_ns)
        except OSError:
            stamp = None
    wide = MAX_FEATURE_COLUMNS if kind == "features" else MAX_COLUMNS
    return attempt(lambda: _read(data, filename, stamp, wide), f"reading {filename}")


def file_key(raw: RawTable, key: str) -> str:
    return state.for_setting(key, raw.sha256[:12])


def roles_key(raw: RawTable, key: str, target: str, id_column: str) -> str:
    return state.for_setting(key, raw.sha256[:12], target, id_column)


def preview(raw: RawTable) -> pd.DataFrame:
    """Show the first rows and each column's profile; return the profile."""
    st.caption(
        f"{len(raw.frame):,} rows × {len(raw.frame.columns)} columns, "
        f"{raw.format.upper()}"
        + (f", {markdown.escape(raw.encoding)}" if raw.encoding else "")
        + ". First 20 rows, shown as text:"
    )
    st.dataframe(raw.frame.head(20), key="add.preview_rows")
    profile = profile_frame(profile_columns(raw))
    st.dataframe(profile, hide_index=True, key="add.preview_profile")
    return profile


def _guess(columns: list[str], guesses: tuple[str, ...], fallback: int) -> int:
    lower = [c.lower() for c in columns]
    return next((lower.index(g) for g in guesses if g in lower), fallback)


def table_options(raw: RawTable, profile: pd.DataFrame) -> dict:
    """Label, ID, roles, imputation, scaling and ranges for a table."""
    columns = list(raw.frame.columns)
    left, right = st.columns(2)
    target = left.selectbox(
        "Label column",
        columns,
        index=_guess(columns, LABEL_GUESSES, len(columns) - 1),
        key=file_key(raw, state.ADD_TARGET),
    )
    id_column = right.selectbox(
        "ID / group column (rows sharing an ID stay in one split)",
        [NONE, *[c for c in columns if c != target]],
        key=file_key(raw, state.ADD_ID),
    )
    return {
        "target": target,
        "id_column": None if id_column == NONE else id_column,
        "roles": column_roles(raw, profile, target, id_column),
        **preprocessing_options(),
    }


def column_roles(
    raw: RawTable, profile: pd.DataFrame, target: str, id_column: str
) -> dict[str, str]:
    """Each feature column's role (numeric, categorical or ignored), starting
    from the roles the profile inferred."""
    inferred = dict(zip(profile["column"], profile["role"], strict=True))
    features = [c for c in raw.frame.columns if c not in (target, id_column)]
    # Keyed by label and ID too: choosing another label starts from the
    # inferred roles of the columns that are then features.
    categorical = st.multiselect(
        "Categorical columns (one-hot encoded; the others are numeric)",
        features,
        default=[c for c in features if inferred[c] == "categorical"],
        key=roles_key(raw, state.ADD_CATEGORICAL, target, id_column),
    )
    ignored = st.multiselect(
        "Ignored columns",
        features,
        default=[c for c in features if inferred[c] == "ignore"],
        key=roles_key(raw, state.ADD_IGNORE, target, id_column),
        help="Left out of the features; this wins over categorical.",
    )
    roles = {c: "numeric" for c in features}
    roles.update(dict.fromkeys(categorical, ROLES[1]))
    roles.update(dict.fromkeys(ignored, ROLES[2]))
    return roles


def preprocessing_options() -> dict:
    """Imputation, scaling, missingness indicators, dropping unlabelled rows,
    balancing, and an optional ranges file."""
    a, b, c = st.columns(3)
    impute = a.selectbox(
        "Impute missing numbers with the training",
        ["median", "mean", "zero"],
        key=state.ADD_IMPUTE,
    )
    scaling = b.radio(
        "Scaling", ["robust", "zscore"], key=state.ADD_SCALING, horizontal=True
    )
    indicators = c.checkbox(
        "Missingness indicators", value=True, key=state.ADD_INDICATORS
    )
    drop = st.checkbox("Drop rows without a label", key=state.ADD_DROP_MISSING)
    balance = st.checkbox("Balance the training classes", key=state.ADD_BALANCE)
    ranges = st.file_uploader(
        "Optional ranges file: feature, unit, low, high",
        type=["csv", "tsv"],
        key=state.ADD_RANGES,
    )
    return {
        "impute": impute,
        "scaling": scaling,
        "indicators": indicators,
        "drop_missing_target": drop,
        "balance": balance,
        "ranges": None if ranges is None else ranges.getvalue(),
        "ranges_filename": None if ranges is None else ranges.name,
    }


def text_options(raw: RawTable) -> dict:
    """Text, label and ID columns and the number of word features."""
    columns = list(raw.frame.columns)
    a, b, c = st.columns(3)
    text = a.selectbox(
        "Text column",
        columns,
        index=_guess(columns, ("text", "sentence", "tweet", "review"), 0),
        key=file_key(raw, state.ADD_TEXT),
    )
    label = b.selectbox(
        "Label column",
        columns,
        index=_guess(columns, LABEL_GUESSES, len(columns) - 1),
        key=file_key(raw, state.ADD_TARGET),
    )
    id_column = c.selectbox(
        "ID / group column", [NONE, *columns], key=file_key(raw, state.ADD_ID)
    )
    words = st.number_input(
        "Word features (0: texts only)",
        min_value=0,
        max_value=20000,
        value=2000,
        key=state.ADD_WORDS,
    )
    drop = st.checkbox("Drop rows without text or label", key=state.ADD_DROP_MISSING)
    return {
        "text_column": text,
        "label_column": label,
        "id_column": None if id_column == NONE else id_column,
        "n_words": int(words),
        "drop_missing": drop,
    }


def feature_options(filename: str) -> dict:
    """Labels for a .npy matrix, or the label column of a table of features."""
    if filename.lower().endswith(".npy"):
        labels = st.file_uploader(
            "Labels (.npy, or text with one label per line)",
            type=["npy", "txt", "csv"],
            key=state.ADD_LABELS,
        )
        if labels is None:
            return {}
        return {"labels_source": labels.getvalue(), "labels_filename": labels.name}
    if filename.lower().endswith(".npz"):
        st.caption(
            "The .npz needs arrays X and y; feature_names, texts, ids, split optional."
        )
        return {}
    target = st.text_input("Label column", value="label", key=state.ADD_TARGET)
    return {"target": target.strip()}


ADD = {"table": add_table, "texts": add_texts, "features": add_features}


def register(kind: str, data: bytes | str, filename: str, name: str, options: dict):
    """Register with a progress bar; the Registered, or None after an error."""
    bar = st.progress(0.0, text="Reading…")
    add = ADD.get(kind, add_mimic)
    try:
        return attempt(
            lambda: add(
                data,
                name=name,
                filename=filename,
                progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m),
                **options,
            ),
            f"registering {filename}",
        )
    finally:
        bar.empty()


def registered_table() -> pd.DataFrame:
    """One row per registered dataset."""
    rows = []
    for entry in registered():
        m = entry.manifest
        rows.append(
            {
                "name": entry.name,
                "kind": m.get("kind", "?"),
                "rows": sum(m.get("sizes", {}).values()),
                "features": m.get("n_features"),
                "classes": len(m.get("class_names", [])),
                "file": m.get("source", {}).get("file", m.get("error", "")),
                "registered": m.get("created", ""),
                "sha256": entry.content_sha256[:12],
            }
        )
    return pd.DataFrame(rows)


def delete_form(names: list[str]) -> None:
    """Choose a registered dataset and delete it (after a confirmation)."""
    left, mid, right = st.columns([3, 2, 1], vertical_alignment="bottom")
    choice = left.selectbox("Delete", names, key=state.ADD_DELETE_CHOICE)
    sure = mid.checkbox(
        f"Yes, delete {markdown.escape(choice)}", key=state.ADD_DELETE_CONFIRM
    )
    if right.button("Delete", disabled=not sure, key=state.ADD_DELETE):
        if attempt(lambda: delete(choice), f"deleting {choice}") is None:
            return
        st.session_state[state.ADD_NOTICE] = f"Deleted {choice}."
        st.rerun()
