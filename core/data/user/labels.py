"""Class labels, example IDs and the train / validation / test split of user data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data.splits import group_split_indices, split_indices
from core.data.user.profile import strings
from core.data.user.tables import RawTable
from core.data.user.validate import describe_character, hidden_character
from core.errors import InvalidDataError

#: A user dataset needs at least this many rows, and each class this many.
MIN_ROWS = 10
MIN_PER_CLASS = 3
#: More distinct target values than this is a regression target or an ID.
MAX_CLASSES = 50


def require_column(raw: RawTable, col: str | None, role: str) -> None:
    """Refuse a column name that is not in the file."""
    if col is not None and col not in raw.frame.columns:
        raise InvalidDataError(
            f"{raw.name}: no column {col!r} for the {role}; columns: "
            f"{', '.join(map(str, raw.frame.columns))}."
        )


def missing_rows_message(raw: RawTable, rows: np.ndarray, what: str) -> str:
    shown = ", ".join(str(int(raw.rows[i])) for i in rows[:5])
    more = f" and {rows.size - 5} more" if rows.size > 5 else ""
    return f"{raw.name}: {what} is missing on {raw.unit}(s) {shown}{more}"


def encode_labels(
    raw: RawTable, col: str, *, drop_missing: bool
) -> tuple[np.ndarray, tuple[str, ...], np.ndarray]:
    """Class indices of the label column ``col``.

    Classes are the distinct values, in numeric order when all are numbers,
    else in alphabetical order.

    Returns
    -------
    y : array of shape (n_kept,), int64
    class_names : tuple of str
    keep : array of shape (n_rows,), bool
        Rows with a label (all of them unless ``drop_missing``).

    Raises
    ------
    InvalidDataError
        Missing labels (unless dropped), fewer than two classes, more than
        :data:`MAX_CLASSES`, or a class with fewer than :data:`MIN_PER_CLASS` rows.
    """
    # NFC: "café" typed (one é) and "café" decomposed (e + accent) look the
    # same and are one class.
    labels = strings(raw.frame[col]).str.normalize("NFC")
    missing = labels.isna().to_numpy()
    if missing.all():
        raise InvalidDataError(
            f"{raw.name}: the label column {col!r} is empty; choose the column that "
            "holds the classes."
        )
    if missing.any() and not drop_missing:
        raise InvalidDataError(
            missing_rows_message(raw, np.flatnonzero(missing), f"the label {col!r}")
            + ". Fill those labels in, or choose to drop the rows without a label."
        )
    keep = ~missing
    values = labels[keep]
    distinct = list(values.unique())
    as_numbers = pd.to_numeric(pd.Series(distinct, dtype="str"), errors="coerce")
    if as_numbers.notna().all():
        distinct = [d for _, d in sorted(zip(as_numbers, distinct, strict=True))]
    else:
        distinct = sorted(distinct)
    if len(distinct) < 2:
        raise InvalidDataError(
            f"{raw.name}: the label column {col!r} has one class only "
            f"({distinct[0]!r}); a classifier needs at least two."
        )
    _check_visible(raw, col, labels, distinct)
    if len(distinct) > MAX_CLASSES:
        raise InvalidDataError(
            f"{raw.name}: the label column {col!r} has {len(distinct)} distinct "
            f"values, more than the {MAX_CLASSES} classes allowed; it looks like a "
            "measurement or an ID. Choose a column with classes, or bin it first."
        )
    index = {name: k for k, name in enumerate(distinct)}
    y = values.map(index).to_numpy(dtype=np.int64)
    counts = np.bincount(y, minlength=len(distinct))
    for k in np.flatnonzero(counts < MIN_PER_CLASS):
        rows = np.flatnonzero(keep)[y == k]
        raise InvalidDataError(
            f"{raw.name}: class {distinct[k]!r} of {col!r} has {counts[k]} row(s) "
            f"({raw.unit} {', '.join(str(int(raw.rows[i])) for i in rows)}); each "
            f"class needs at least {MIN_PER_CLASS} so that training, validation "
            "and test data all hold it. Merge or remove that class."
        )
    return y, tuple(str(c) for c in distinct), keep


def _check_visible(
    raw: RawTable, col: str, labels: pd.Series, distinct: list[str]
) -> None:
    """Refuse a class name holding a control or invisible format character."""
    for name in distinct:
        hidden = hidden_character(name)
        if hidden is not None:
            i = int(np.flatnonzero(labels.to_numpy() == name)[0])
            raise InvalidDataError(
                f"{raw.where(i)}: the label {name[:40]!r} of {col!r} holds "
                f"{describe_character(hidden)}, an invisible character that changes "
                "how the class name displays; remove it from the file."
            )


def example_ids(raw: RawTable, col: str | None, keep: np.ndarray) -> np.ndarray:
    """IDs of the kept rows: the ID column (int64 when all integers) or row numbers."""
    if col is None:
        return np.flatnonzero(keep).astype(np.int64)
    ids = strings(raw.frame[col])
    missing = ids.isna().to_numpy() & keep
    if missing.any():
        raise InvalidDataError(
            missing_rows_message(raw, np.flatnonzero(missing), f"the ID {col!r}")
            + "; every row needs an ID (or choose no ID column)."
        )
    kept = ids[keep]
    as_int = pd.to_numeric(kept, errors="coerce")
    if as_int.notna().all() and (as_int == as_int.round()).all():
        return as_int.to_numpy(dtype=np.int64)
    return kept.to_numpy(dtype=str)


def check_size(raw: RawTable, n_rows: int, n_columns: int) -> None:
    """Refuse too few rows, or more columns than rows (a transposed table?)."""
    if n_rows < MIN_ROWS:
        raise InvalidDataError(
            f"{raw.name} has {n_rows} usable row(s); a dataset needs at least "
            f"{MIN_ROWS} to be split into training, validation and test data."
        )
    if n_columns and n_columns >= n_rows:
        raise InvalidDataError(
            f"{raw.name} has {n_columns} columns but only {n_rows} rows. Each row "
            "must be one example: transpose the table if its rows are features, "
            "or add the matrix as precomputed features."
        )


def split(
    y: np.ndarray,
    groups: np.ndarray | None,
    *,
    val: float,
    test: float,
    seed: int,
    what: str,
    warnings: list[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stratified (and, with ``groups``, group-aware) split; each part holds data.

    Rows sharing a group go to one split
    (:func:`core.data.splits.group_split_indices`, which stratifies the groups
    by their most common class). Without groups, when the fractions leave a
    split fewer rows than there are classes (49 classes of 3 rows: 20 % is 30
    test rows), every class gives at least one row to validation and to test
    instead (:func:`_per_class_split`), as each class's :data:`MIN_PER_CLASS`
    rows allow, and a warning says so.

    Raises
    ------
    InvalidDataError
        Too few examples (or groups) for every split to be non-empty and the
        training split to hold every class.
    """
    try:
        if groups is not None and np.unique(groups).size < len(y):
            tr, va, te = group_split_indices(y, groups, val=val, test=test, seed=seed)
        else:
            groups = None
            tr, va, te = split_indices(y, val=val, test=test, seed=seed)
    except ValueError as exc:
        if groups is not None:
            raise InvalidDataError(
                f"{what}: cannot split {np.unique(groups).size} groups into "
                f"training, validation ({val:.0%}) and test ({test:.0%}) data with "
                f"every class in each ({exc}). Add rows, or merge rare classes, or "
                "choose no ID column."
            ) from exc
        tr, va, te = _per_class_split(y, val=val, test=test, seed=seed)
        warnings.append(
            f"{what}: {len(np.unique(y))} classes are too many for a "
            f"{1 - val - test:.0%}/{val:.0%}/{test:.0%} split of {len(y)} rows to "
            "hold each in every part, so each class gave at least one row to "
            f"validation and to test: {len(tr)}/{len(va)}/{len(te)} rows."
        )
    empty = [n for n, part in (("validation", va), ("test", te)) if part.size == 0]
    if empty or len(np.unique(y[tr])) < len(np.unique(y)):
        unit = "groups" if groups is not None else "rows"
        raise InvalidDataError(
            f"{what}: too few {unit} to give the training data every class and "
            f"non-empty validation and test data; add rows, or choose no ID column."
        )
    return tr, va, te


def _per_class_split(
    y: np.ndarray, *, val: float, test: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each class's rows shuffled and cut by the fractions, at least one row to
    each split with a positive fraction (a class has :data:`MIN_PER_CLASS`)."""
    rng = np.random.default_rng(seed)
    parts: tuple[list, list, list] = ([], [], [])
    for k in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == k))
        n_te, n_va = (max(1, round(f * len(rows))) if f > 0 else 0 for f in (test, val))
        parts[2].append(rows[:n_te])
        parts[1].append(rows[n_te : n_te + n_va])
        parts[0].append(rows[n_te + n_va :])
    return tuple(np.sort(np.concatenate(p)) for p in parts)  # type: ignore[return-value]


def balance(y: np.ndarray, idx: np.ndarray, seed: int) -> np.ndarray:
    """``idx`` with every class undersampled to the rarest class's count."""
    rng = np.random.default_rng(seed)
    per_class = [idx[y[idx] == k] for k in np.unique(y[idx])]
    n = min(len(p) for p in per_class)
    kept = [rng.choice(p, size=n, replace=False) for p in per_class]
    return np.sort(np.concatenate(kept))
