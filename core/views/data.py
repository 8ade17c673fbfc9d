"""Tables that describe a dataset: sizes, class balance, features, samples.

Pure pandas / numpy, so that every number the dashboard shows can be computed
(and tested) without Streamlit. Feature statistics are reported in original
units (mg/dL, years, ...), undoing the loader's scaling with
:meth:`core.data.Preprocessing.inverse_transform`. Tables about stored models
live in :mod:`core.views.models`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data.access import original_units, sample_indices, split_of
from core.data.types import Dataset

FEATURE_COLUMNS = (
    "feature",
    "group",
    "unit",
    "normal_low",
    "normal_high",
    "mean",
    "std",
    "min",
    "max",
    "share_missing",
    "share_outside_normal",
)


def split_sizes(ds: Dataset) -> pd.DataFrame:
    """Examples and class counts per split, with a ``total`` row.

    Parameters
    ----------
    ds : Dataset

    Returns
    -------
    DataFrame
        One row per split (``train``, ``val``, ``test``, ``total``); columns
        ``split``, ``n``, then ``n <class>`` for every class in
        ``ds.class_names`` order, then ``prevalence <class>`` (that class's
        fraction of the row's ``n``, between 0 and 1).
    """
    ys = {name: np.asarray(s.y) for name, s in ds.splits.items()}
    ys["total"] = np.concatenate(list(ys.values()))
    rows = []
    for name, y in ys.items():
        counts = np.bincount(y, minlength=ds.n_classes)[: ds.n_classes]
        row: dict[str, object] = {"split": name, "n": int(y.size)}
        for cls, c in zip(ds.class_names, counts, strict=True):
            row[f"n {cls}"] = int(c)
        for cls, c in zip(ds.class_names, counts, strict=True):
            row[f"prevalence {cls}"] = c / y.size if y.size else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def feature_groups(ds: Dataset) -> dict[int, str]:
    """Map each feature column index to the name of its group."""
    return {i: group for group, cols in ds.feature_groups.items() for i in cols}


def _column_stats(Xm: np.ndarray, n_finite: np.ndarray) -> dict[str, np.ndarray]:
    """NaN-aware column mean / std / min / max; NaN for an all-missing column."""
    out = {k: np.full(Xm.shape[1], np.nan) for k in ("mean", "std", "min", "max")}
    some = n_finite > 0
    if some.any():
        cols = Xm[:, some]
        out["mean"][some] = np.nanmean(cols, axis=0)
        out["std"][some] = np.nanstd(cols, axis=0)
        out["min"][some] = np.nanmin(cols, axis=0)
        out["max"][some] = np.nanmax(cols, axis=0)
    return out


def feature_table(ds: Dataset, split: str = "train") -> pd.DataFrame:
    """One row per feature: group, unit, normal range and statistics.

    Parameters
    ----------
    ds : Dataset
    split : {"train", "val", "test"}
        Which split the statistics describe (the scaling was fitted on train).

    Returns
    -------
    DataFrame
        Columns :data:`FEATURE_COLUMNS`. ``mean``, ``std``, ``min``, ``max`` are
        in original units over the observed values (imputed ones are left
        out); ``share_missing`` is the fraction left out; ``share_outside_normal``
        is the fraction of observed values below ``normal_low`` or above
        ``normal_high``, NaN where the feature has no normal range.

    Raises
    ------
    ValueError
        The dataset has no feature matrix (see :func:`core.data.access.no_features_reason`).
    """
    X = original_units(ds, split)
    finite = np.isfinite(X)
    n_finite = finite.sum(axis=0)
    Xm = np.where(finite, X, np.nan)
    stats = _column_stats(Xm, n_finite)
    stats["share_missing"] = 1.0 - n_finite / max(len(X), 1)
    group_of = feature_groups(ds)
    low = np.full(ds.n_features, np.nan)
    high = np.full(ds.n_features, np.nan)
    for j, name in enumerate(ds.feature_names):
        if name in ds.normal_ranges:
            low[j], high[j] = (float(v) for v in ds.normal_ranges[name])
    ranged = ~np.isnan(low)
    outside = np.full(ds.n_features, np.nan)
    if ranged.any():
        cols = Xm[:, ranged]
        out = (cols < low[ranged]) | (cols > high[ranged])
        denom = n_finite[ranged]
        with np.errstate(invalid="ignore", divide="ignore"):
            outside[ranged] = np.where(denom > 0, out.sum(axis=0) / denom, np.nan)
    return pd.DataFrame(
        {
            "feature": list(ds.feature_names),
            "group": [group_of.get(j, name) for j, name in enumerate(ds.feature_names)],
            "unit": [ds.units.get(name, "") for name in ds.feature_names],
            "normal_low": low,
            "normal_high": high,
            **stats,
            "share_outside_normal": outside,
        },
        columns=list(FEATURE_COLUMNS),
    )


def filter_features(table: pd.DataFrame, query: str) -> pd.DataFrame:
    """Rows of a :func:`feature_table` whose feature, group or unit contains ``query``.

    The match is a case-insensitive substring match (no regular expressions, so
    ``"("`` or ``"*"`` are searched literally); an empty query keeps every row.
    """
    q = query.strip().casefold()
    if not q:
        return table
    hay = (
        table["feature"].astype(str)
        + "\n"
        + table["group"].astype(str)
        + "\n"
        + table["unit"].astype(str)
    ).str.casefold()
    return table[hay.str.contains(q, regex=False)]


def feature_groups_table(ds: Dataset) -> pd.DataFrame:
    """The groups of more than one column (one-hot variables, ICU summaries).

    Returns
    -------
    DataFrame
        Columns ``group``, ``n_columns`` and ``columns`` (the member feature
        names joined by ``", "``); empty when every feature is its own group.
    """
    rows = [
        {
            "group": group,
            "n_columns": len(cols),
            "columns": ", ".join(ds.feature_names[i] for i in cols),
        }
        for group, cols in ds.feature_groups.items()
        if len(cols) > 1
    ]
    return pd.DataFrame(rows, columns=["group", "n_columns", "columns"])


def default_features(ds: Dataset, k: int = 6) -> list[str]:
    """A sensible first choice of ``k`` features to plot.

    Features with a normal range come first (their plots show the range), then
    features that vary on the training split, one per feature group before a
    second column of the same group: in column order, except for images, whose
    first columns are the (constant) border pixels, where the most variable
    pixels come first.
    """
    ranged = [f for f in ds.feature_names if f in ds.normal_ranges]
    X = ds.train.X
    if X is None or not len(ds.train):
        std = np.zeros(ds.n_features)
    else:
        with np.errstate(invalid="ignore"):
            std = np.nan_to_num(np.nanstd(np.asarray(X, dtype=np.float64), axis=0))
    order = (
        np.argsort(-std, kind="stable")
        if ds.modality == "image"
        else range(ds.n_features)
    )
    varying = [j for j in order if std[j] > 0]
    # One column per variable before a second level of the same one-hot group.
    group_of = feature_groups(ds)
    seen: set[str] = set()
    firsts, seconds = [], []
    for j in varying:
        g = group_of.get(j, ds.feature_names[j])
        (seconds if g in seen else firsts).append(ds.feature_names[j])
        seen.add(g)
    rest = [f for f in firsts + seconds if f not in ds.normal_ranges]
    return (ranged + rest)[: max(k, 0)]


def sample_texts(
    ds: Dataset, split: str = "train", n: int = 10, seed: int = 0
) -> pd.DataFrame:
    """A seeded random sample of raw texts with their labels.

    The texts are returned exactly as the loader gave them; whoever renders
    them must not interpret them as HTML or Markdown.

    Returns
    -------
    DataFrame
        Columns ``id``, ``label`` (class name) and ``text``; ``min(n, len(split))``
        rows in split order.

    Raises
    ------
    ValueError
        The dataset holds no texts, or ``split`` is not a split name.
    """
    s = split_of(ds, split)
    if s.texts is None:
        raise ValueError(f"Dataset {ds.name!r} holds no texts ({ds.modality} data).")
    idx = sample_indices(len(s), n, seed)
    return pd.DataFrame(
        {
            "id": [s.ids[i].item() for i in idx],
            "label": [ds.class_names[int(s.y[i])] for i in idx],
            "text": [s.texts[i] for i in idx],
        }
    )


def preprocessing_summary(ds: Dataset) -> dict[str, object]:
    """What was done to the raw data: scaling method and a description."""
    prep = ds.preprocessing
    if prep is None:
        return {"method": "none", "description": "no feature scaling was applied"}
    return {
        "method": prep.method,
        "description": prep.description,
        "n_scaled_features": int(np.size(prep.scale)),
    }
