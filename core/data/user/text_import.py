"""A user's text corpus (CSV, TSV, JSON Lines) → a registered text dataset.

Each row holds a text and a label. The dataset keeps the raw texts (for a
sentence encoder, the sparse decision layer, word clouds and counterfactuals)
and, like the built-in ``newsgroups``, binary presence features of the
``n_words`` words with the largest summed TF-IDF weight over the training
split, so the models trained here read it too. Texts are data: they are stored
verbatim (HTML and script tags included) and escaped wherever shown.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from core.data.builtin.text import word_presence
from core.data.featurize import make_splits
from core.data.types import Dataset, Preprocessing
from core.data.user import labels, manifest, profile
from core.data.user.tables import Progress, RawTable, part_of, read_table
from core.data.user.validate import check_dataset_name
from core.errors import InvalidDataError

TEXT_FORMATS = (".csv", ".tsv", ".tab", ".txt", ".jsonl", ".ndjson")
DEFAULT_WORDS = 2000


def build_texts(
    raw: RawTable,
    name: str,
    *,
    text_column: str,
    label_column: str,
    id_column: str | None = None,
    n_words: int = DEFAULT_WORDS,
    drop_missing: bool = False,
    seed: int = 0,
) -> tuple[Dataset, list[str]]:
    """Turn a read corpus into a text :class:`~core.data.Dataset` (nothing stored).

    Parameters
    ----------
    raw : RawTable
    name : str
    text_column, label_column : str
    id_column : str, optional
        Document or group IDs; a group never spans two splits.
    n_words : int
        Word features (0: texts only).
    drop_missing : bool
        Drop rows without a text or label instead of refusing the file.

    Raises
    ------
    InvalidDataError
    """
    check_dataset_name(name)
    if not isinstance(n_words, int) or isinstance(n_words, bool) or n_words < 0:
        raise InvalidDataError(f"n_words must be an integer ≥ 0, got {n_words!r}.")
    for col, role in ((text_column, "text"), (label_column, "label")):
        labels.require_column(raw, col, role)
    labels.require_column(raw, id_column, "ID")
    if len({text_column, label_column, id_column} - {None}) < 2 + bool(id_column):
        raise InvalidDataError("The text, label and ID columns must be different.")
    texts_all, y, class_names, keep, warnings = _complete_rows(
        raw, text_column, label_column, drop_missing
    )
    labels.check_size(raw, int(keep.sum()), 1)
    texts = [str(t) for t in texts_all[keep]]
    ids = labels.example_ids(raw, id_column, keep)
    tr, va, te = labels.split(
        y,
        ids if id_column else None,
        val=0.1,
        test=0.2,
        seed=seed,
        what=raw.name,
        warnings=warnings,
    )
    X, words, prep = (
        _word_features(texts, tr, n_words, raw.name) if n_words else (None, (), None)
    )
    dataset = Dataset(
        name=name,
        task="binary" if len(class_names) == 2 else "multiclass",
        modality="text",
        class_names=class_names,
        feature_names=tuple(words),
        feature_groups={w: (i,) for i, w in enumerate(words)},
        preprocessing=prep,
        description=(
            f"Registered text corpus: {len(texts):,} texts in {len(class_names)} "
            "classes"
            + (f", binary presence of {len(words)} TF-IDF words." if n_words else ".")
        ),
        source="your file (see the manifest)",
        info={
            "text_column": text_column,
            "label_column": label_column,
            "id_column": id_column,
            "n_words": len(words),
            "split": {"seed": seed, "val": 0.1, "test": 0.2, "grouped_by": id_column},
            "html_note": "texts are data, stored verbatim; escape them before HTML",
            "source": raw.source_record(),
            "warnings": warnings,
        },
        **make_splits((tr, va, te), y=y, ids=ids, X=X, texts=texts),
    )
    return dataset, warnings


def _complete_rows(
    raw: RawTable, text_column: str, label_column: str, drop_missing: bool
) -> tuple[pd.Series, np.ndarray, tuple[str, ...], np.ndarray, list[str]]:
    """Rows with both a text and a label.

    Returns
    -------
    texts_all : Series of str
        Every row's text, ``""`` where missing.
    y : array of shape (n_kept,), int64
        Labels of the kept rows.
    class_names : tuple of str
    keep : array of shape (n_rows,), bool
    warnings : list of str

    Raises
    ------
    InvalidDataError
        A row lacks its text or label and ``drop_missing`` is off, or one
        class is left.
    """
    texts_all = raw.frame[text_column].fillna("").astype(str)
    blank = np.flatnonzero(texts_all.str.strip().eq("").to_numpy())
    warnings = profile.formula_warnings(raw, [text_column, label_column])
    drop = np.zeros(len(raw.frame), dtype=bool)
    if blank.size:
        message = labels.missing_rows_message(raw, blank, f"the text {text_column!r}")
        if not drop_missing:
            raise InvalidDataError(
                message + ". Fill those texts in, or choose to drop incomplete rows."
            )
        warnings.append(message + f": those {blank.size} row(s) were dropped.")
        drop[blank] = True
    y_all, class_names, keep = labels.encode_labels(
        raw, label_column, drop_missing=drop_missing
    )
    if not keep.all():
        warnings.append(
            labels.missing_rows_message(
                raw, np.flatnonzero(~keep), f"the label {label_column!r}"
            )
            + f": those {int((~keep).sum())} row(s) were dropped."
        )
    y_full = np.full(len(raw.frame), -1)
    y_full[keep] = y_all
    keep &= ~drop
    y = y_full[keep]
    if len(np.unique(y)) < 2:
        raise InvalidDataError(
            f"{raw.name}: after dropping incomplete rows one class is left."
        )
    return texts_all, y, class_names, keep, warnings


def _word_features(
    texts: list[str], tr: np.ndarray, n_words: int, what: str
) -> tuple[np.ndarray, tuple[str, ...], Preprocessing]:
    """Presence (0/1) of the ``n_words`` words of largest summed TF-IDF weight
    over the training texts ``tr``, with its (identity) preprocessing."""
    try:
        return word_presence(texts, tr, n_words)
    except ValueError as exc:  # "empty vocabulary"
        raise InvalidDataError(
            f"{what}: the training texts hold no words of two or more "
            f"letters ({exc}); check the text column, or use no word features."
        ) from exc


def add_texts(
    source: str | os.PathLike | bytes,
    *,
    name: str,
    text_column: str = "text",
    label_column: str = "label",
    id_column: str | None = None,
    n_words: int = DEFAULT_WORDS,
    drop_missing: bool = False,
    filename: str | None = None,
    replace: bool = False,
    progress: Progress | None = None,
) -> manifest.Registered:
    """Read, validate and register a text corpus; see :func:`build_texts`."""
    check_dataset_name(name)
    raw = read_table(
        source, filename, progress=part_of(progress, 0, 0.6), formats=TEXT_FORMATS
    )
    dataset, warnings = build_texts(
        raw,
        name,
        text_column=text_column,
        label_column=label_column,
        id_column=id_column,
        n_words=n_words,
        drop_missing=drop_missing,
    )
    return manifest.register(
        dataset,
        kind="texts",
        source=raw.source_record(),
        options={
            "text_column": text_column,
            "label_column": label_column,
            "id_column": id_column,
            "n_words": n_words,
            "drop_missing": drop_missing,
        },
        warnings=warnings,
        replace=replace,
        progress=progress,
    )
