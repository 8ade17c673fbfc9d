"""A user's table (CSV, TSV, Parquet) → a registered tabular dataset.

Steps, each refusing bad input with a message that names the column and line:

1. read the file strictly (:mod:`core.data.user.tables`);
2. the label column gives the classes, the optional ID column the example
   IDs: rows sharing an ID (e.g. a patient's stays) never span two splits;
3. every other column is numeric, categorical (one-hot encoded; its levels
   form one feature group) or ignored, as inferred and corrected by the user;
4. a stratified, fixed-seed 70 / 10 / 20 split (group-aware with an ID);
5. scaling (robust: median / IQR, or z-score) fitted on the observed training
   values; missing numeric values imputed with a recorded rule (the training
   median, mean or zero) and optionally a ``<column>_missing`` indicator in the
   column's feature group;
6. optional units and normal ranges from a ranges file;
7. registration with a manifest (:mod:`core.data.user.manifest`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from core.data.featurize import (
    FILL_STATISTICS,
    encode_columns,
    fill_values,
    make_splits,
    scale_and_impute,
)
from core.data.types import Dataset, Preprocessing
from core.data.user import labels, manifest, profile
from core.data.user.sidecar import read_ranges
from core.data.user.tables import Progress, RawTable, part_of, read_table
from core.data.user.validate import check_dataset_name
from core.errors import InvalidDataError

SCALING = ("robust", "zscore")
#: How each fill statistic is described in the dataset's record.
_FILL_RULES = {
    "median": "the training split's median",
    "mean": "the training split's mean",
    "zero": "0 (in original units)",
}
TABLE_FORMATS = (".csv", ".tsv", ".tab", ".txt", ".parquet", ".pq")


@dataclass(frozen=True)
class TableOptions:
    """How a table becomes a dataset.

    Attributes
    ----------
    target : str
        The label column (two or more classes).
    id_column : str, optional
        Example or group IDs (e.g. patient ID): a group never spans two splits.
    roles : mapping of str to str
        Corrections of the inferred roles: ``"numeric"``, ``"categorical"`` or
        ``"ignore"``.
    impute : {"median", "mean", "zero"}
        The training-split statistic that fills a missing numeric value.
    indicators : bool
        Add a ``<column>_missing`` 0/1 feature beside each numeric column with
        missing values.
    scaling : {"robust", "zscore"}
    drop_missing_target : bool
        Drop rows without a label instead of refusing the file.
    balance : bool
        Undersample the training split to equal class counts.
    val, test : float
        Fractions of the rows (of the groups, with an ID column).
    seed : int
    """

    target: str
    id_column: str | None = None
    roles: Mapping[str, str] = field(default_factory=dict)
    impute: str = "median"
    indicators: bool = True
    scaling: str = "robust"
    drop_missing_target: bool = False
    balance: bool = False
    val: float = 0.1
    test: float = 0.2
    seed: int = 0

    def check(self) -> None:
        if self.impute not in FILL_STATISTICS:
            raise InvalidDataError(
                f"impute must be one of {', '.join(FILL_STATISTICS)}, "
                f"got {self.impute!r}."
            )
        if self.scaling not in SCALING:
            raise InvalidDataError(
                f"scaling must be one of {', '.join(SCALING)}, got {self.scaling!r}."
            )
        if self.id_column is not None and self.id_column == self.target:
            raise InvalidDataError(
                f"{self.target!r} cannot be both the label and the ID column."
            )


def build_table(
    raw: RawTable,
    name: str,
    options: TableOptions,
    *,
    ranges: str | os.PathLike | bytes | None = None,
    ranges_filename: str | None = None,
) -> tuple[Dataset, list[str]]:
    """Turn a read table into a :class:`~core.data.Dataset` (nothing is stored).

    ``ranges`` is an optional ``feature, unit, low, high`` file
    (:mod:`core.data.user.sidecar`) about the numeric columns.

    Returns
    -------
    dataset : Dataset
    warnings : list of str
        What was accepted but deserves a look (formula-like cells, dropped
        rows, ...).

    Raises
    ------
    InvalidDataError
    """
    options.check()
    check_dataset_name(name)
    labels.require_column(raw, options.target, "label")
    labels.require_column(raw, options.id_column, "ID")
    labels.check_size(raw, len(raw.frame), 0)  # before constant-column checks
    profiles, roles, units, normal_ranges = _feature_columns(
        raw, options, ranges, ranges_filename
    )
    numeric = [c for c, r in roles.items() if r == "numeric"]
    categorical = [c for c, r in roles.items() if r == "categorical"]
    y, class_names, keep, warnings = _labelled_rows(raw, options, categorical)
    labels.check_size(raw, int(keep.sum()), len(numeric) + len(categorical))
    ids = labels.example_ids(raw, options.id_column, keep)
    tr, va, te, n_before_balance = _split(y, ids, options, raw.name, warnings)
    features = _feature_frame(raw.frame.loc[keep].reset_index(drop=True), roles)
    X, prep, imputed, names, feature_groups, missing = _encode(
        features, categorical, tr, options, warnings, raw.name
    )

    dataset = Dataset(
        name=name,
        task="binary" if len(class_names) == 2 else "multiclass",
        modality="tabular",
        class_names=class_names,
        feature_names=tuple(names),
        feature_groups=feature_groups,
        units={**{n: "indicator" for n in names if n not in numeric}, **units},
        normal_ranges=normal_ranges,
        preprocessing=prep,
        description=(
            f"Registered from a {raw.format.upper()} file: label "
            f"{len(class_names)} classes, {len(numeric)} numeric and "
            f"{len(categorical)} categorical columns."
        ),
        source="your file (see the manifest)",
        info=_info(raw, options, profiles, roles, missing, n_before_balance, warnings),
        **make_splits(
            (tr, va, te),
            y=y,
            ids=ids,
            X=X,
            imputed=imputed if imputed.any() else None,
        ),
    )
    return dataset, warnings


def _split(
    y: np.ndarray,
    ids: np.ndarray,
    options: TableOptions,
    what: str,
    warnings: list[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Train, validation and test rows (training balanced if asked), and the
    number of training rows before balancing."""
    tr, va, te = labels.split(
        y,
        ids if options.id_column else None,
        val=options.val,
        test=options.test,
        seed=options.seed,
        what=what,
        warnings=warnings,
    )
    n_before_balance = len(tr)
    if options.balance:
        tr = labels.balance(y, tr, options.seed)
    return tr, va, te, n_before_balance


def _info(
    raw: RawTable,
    options: TableOptions,
    profiles: list[profile.ColumnProfile],
    roles: Mapping[str, str],
    missing: dict,
    n_before_balance: int,
    warnings: list[str],
) -> dict:
    """The dataset's record of how it was made: columns, missingness, split."""
    return {
        "label_column": options.target,
        "id_column": options.id_column,
        "roles": roles,
        "ignored_columns": _ignored(profiles, roles),
        "missingness": {
            "rule": f"missing numeric values imputed with "
            f"{_FILL_RULES[options.impute]}",
            "indicators": options.indicators,
            "missing_counts": missing["counts"],
            "fill_values": missing["fill_values"],
        },
        "split": {
            "seed": options.seed,
            "val": options.val,
            "test": options.test,
            "stratified_on": options.target,
            "grouped_by": options.id_column,
            "balanced_train": options.balance,
            "train_rows_before_balancing": n_before_balance,
        },
        "ids": options.id_column or "data row number, from 0",
        "source": raw.source_record(),
        "warnings": warnings,
    }


def _encode(
    features: pd.DataFrame,
    categorical: list[str],
    tr: np.ndarray,
    options: TableOptions,
    warnings: list[str],
    what: str,
) -> tuple[np.ndarray, Preprocessing, np.ndarray, list[str], dict, dict]:
    """Encode, impute and scale the feature columns, fitted on rows ``tr``.

    Returns
    -------
    X, preprocessing, imputed, names, groups
        As :func:`~core.data.featurize.scale_and_impute` and
        :func:`~core.data.featurize.encode_columns` return them.
    missing : dict
        ``counts`` and ``fill_values`` of the numeric columns with missing
        values, for the dataset's record.
    """
    X_raw, names, groups = encode_columns(
        features, categorical, missing_indicators=options.indicators
    )
    _check_names(names, what)
    counts = {
        col: int(features[col].isna().sum())
        for col in features.columns
        if col not in categorical and features[col].isna().any()
    }
    fill = _fill_missing(X_raw[tr], names, counts, options.impute, warnings)
    with np.errstate(over="ignore", invalid="ignore"):  # see _check_finite
        X, prep, imputed = scale_and_impute(
            X_raw,
            tr,
            scaling=options.scaling,
            fill=fill,
            description=_description(options),
        )
    _check_finite(X, names, what)
    missing = {
        "counts": counts,
        "fill_values": {c: float(fill[names.index(c)]) for c in counts},
    }
    return X, prep, imputed, names, groups, missing


def _ignored(profiles: list[profile.ColumnProfile], roles: Mapping[str, str]) -> dict:
    """Why each ignored column is ignored (the profile's note, or the user)."""
    return {
        p.name: (p.note if p.role == "ignore" else "") or "set to ignore"
        for p in profiles
        if roles.get(p.name) == "ignore"
    }


def _feature_columns(
    raw: RawTable,
    options: TableOptions,
    ranges: str | os.PathLike | bytes | None,
    ranges_filename: str | None,
) -> tuple[list[profile.ColumnProfile], dict[str, str], dict, dict]:
    """Each column's profile, the role of every column but label and ID, and
    the units and normal ranges of the numeric ones from the ranges file.

    Raises
    ------
    InvalidDataError
        A role does not fit its column's values, the ranges file is bad, or
        no feature column is left.
    """
    exclude = tuple(c for c in (options.target, options.id_column) if c)
    profiles = profile.profile_columns(raw)
    roles = profile.resolve_roles(raw, options.roles, exclude, profiles)
    numeric = {c for c, r in roles.items() if r == "numeric"}
    units, normal_ranges = (
        read_ranges(ranges, numeric, ranges_filename) if ranges else ({}, {})
    )
    if all(role == "ignore" for role in roles.values()):
        raise InvalidDataError(
            f"{raw.name}: no feature columns are left (every column besides the "
            "label and ID is ignored); give at least one column a numeric or "
            "categorical role."
        )
    return profiles, roles, units, normal_ranges


def _labelled_rows(
    raw: RawTable, options: TableOptions, categorical: list[str]
) -> tuple[np.ndarray, tuple[str, ...], np.ndarray, list[str]]:
    """Labels of the rows kept, class names, the kept-row mask and warnings."""
    y, class_names, keep = labels.encode_labels(
        raw, options.target, drop_missing=options.drop_missing_target
    )
    exclude = [c for c in (options.target, options.id_column) if c]
    warnings = profile.formula_warnings(raw, [*categorical, *exclude])
    if not keep.all():
        warnings.append(
            labels.missing_rows_message(
                raw, np.flatnonzero(~keep), f"the label {options.target!r}"
            )
            + f": those {int((~keep).sum())} row(s) were dropped."
        )
    return y, class_names, keep, warnings


def _feature_frame(frame: pd.DataFrame, roles: Mapping[str, str]) -> pd.DataFrame:
    """The feature columns: numeric ones as float64 (NaN where missing),
    categorical ones as stripped strings (NA where missing)."""
    return pd.DataFrame(
        {
            col: profile.numbers(frame[col])[0]
            if roles[col] == "numeric"
            else profile.strings(frame[col])
            for col in frame.columns
            if roles.get(col, "ignore") != "ignore"
        },
        index=frame.index,
    )


def _fill_missing(
    X_train: np.ndarray,
    names: list[str],
    missing: Mapping[str, int],
    statistic: str,
    warnings: list[str],
) -> np.ndarray:
    """Each column's fill value; 0, with a warning, where training has none."""
    fill = fill_values(X_train, statistic)
    for col in missing:
        j = names.index(col)
        if np.isnan(fill[j]):
            warnings.append(
                f"column {col!r} has no value in the training split; its missing "
                "values were imputed with 0."
            )
            fill[j] = 0.0
    return fill


def _description(options: TableOptions) -> str:
    return (
        f"{'Median/IQR' if options.scaling == 'robust' else 'Mean/SD'} scaling "
        "fitted on the observed training values; missing numeric values imputed "
        f"with {_FILL_RULES[options.impute]}"
        + (" plus a <column>_missing indicator" if options.indicators else "")
        + "; categorical columns one-hot encoded (missing → level 'missing')."
    )


def _check_finite(X: np.ndarray, names: list[str], what: str) -> None:
    """Model inputs are float32: refuse values that overflow it once scaled."""
    bad = ~np.isfinite(X)
    if bad.any():
        j = int(np.flatnonzero(bad.any(axis=0))[0])
        raise InvalidDataError(
            f"{what}: feature {names[j]!r} has values too large for 32-bit floats "
            "once scaled (beyond about 3e38); rescale that column (e.g. another "
            "unit or a log) or ignore it."
        )


def _check_names(names: list[str], what: str) -> None:
    seen = set()
    for n in names:
        if n in seen:
            raise InvalidDataError(
                f"{what}: two features would both be named {n!r} (a column named "
                "like another's one-hot level or missing indicator); rename one."
            )
        seen.add(n)


def add_table(
    source: str | os.PathLike | bytes,
    *,
    name: str,
    target: str,
    id_column: str | None = None,
    ranges: str | os.PathLike | bytes | None = None,
    filename: str | None = None,
    ranges_filename: str | None = None,
    replace: bool = False,
    progress: Progress | None = None,
    **options: object,
) -> manifest.Registered:
    """Read, validate, encode and register a table in one call.

    Parameters
    ----------
    source : path or bytes
        A CSV, TSV or Parquet file (bytes: an upload, named by ``filename``).
    name : str
        The new dataset's name.
    target, id_column : str
        See :class:`TableOptions`.
    ranges : path or bytes, optional
        A ``feature, unit, low, high`` file (:mod:`core.data.user.sidecar`).
    replace : bool
        Replace a registered dataset of the same name.
    progress : callable, optional
        ``progress(fraction, message)``.
    **options
        The other fields of :class:`TableOptions`.

    Returns
    -------
    Registered
    """
    check_dataset_name(name)
    opts = TableOptions(target=target, id_column=id_column, **options)  # type: ignore[arg-type]
    raw = read_table(
        source, filename, progress=part_of(progress, 0, 0.6), formats=TABLE_FORMATS
    )
    if progress is not None:
        progress(0.6, "checking and encoding the columns")
    dataset, warnings = build_table(
        raw, name, opts, ranges=ranges, ranges_filename=ranges_filename
    )
    return manifest.register(
        dataset,
        kind="table",
        source=raw.source_record(),
        options={**asdict(opts), "roles": dict(opts.roles), "ranges": bool(ranges)},
        warnings=warnings,
        replace=replace,
        progress=progress,
    )
