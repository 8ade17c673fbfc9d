"""Tabular benchmark sets: UCI Adult census income and Wisconsin breast cancer.

Adult
    The Neural LASSO paper's "Adult" row (Ross et al. 2017, Table 1): income
    above 50K predicted from z-scored, one-hot census data. The official
    ``adult.test`` file is the test split; 10 % of ``adult.data`` (stratified,
    fixed seed) is the validation split. Every row is kept: ``?`` becomes the
    level ``missing`` of its categorical column.

    The paper reports D = 89; this loader gives D = 92. Both drop the
    ``education`` strings, which are a one-to-one relabelling of
    ``education-num``, and keep the six numeric columns (fnlwgt and
    education-num included): 6 numeric + 83 one-hot levels = 89. The three
    extra columns are the ``missing`` levels of workclass, occupation and
    native-country, which an encoder that drops or zero-fills missing values
    (the paper's, presumably) does not create.

Breast cancer
    scikit-learn's copy of the Wisconsin Diagnostic Breast Cancer set: 30
    summaries (mean, standard error, worst) of 10 nucleus measurements taken
    from digitised images, 569 patients, stratified 70 / 10 / 20 split.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from core.data.featurize import encode_columns, fit_scaler, make_splits
from core.data.fetch import RemoteFile
from core.data.registry import DatasetSpec, register
from core.data.splits import split_indices
from core.data.types import Dataset
from core.errors import DataCorruptError

SEED = 0

# ---------------------------------------------------------------------- Adult

_UCI = "https://archive.ics.uci.edu/ml/machine-learning-databases/adult/"
ADULT_DATA = RemoteFile(
    "adult/adult.data",
    _UCI + "adult.data",
    sha256=("5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",),
)
ADULT_TEST = RemoteFile(
    "adult/adult.test",
    _UCI + "adult.test",
    sha256=("a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",),
)

ADULT_COLUMNS = (
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
)
ADULT_NUMERIC = (
    "age",
    "fnlwgt",
    "education-num",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
)
ADULT_CATEGORICAL = (
    "workclass",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "native-country",
)
#: Dropped: a one-to-one relabelling of ``education-num`` (16 levels).
ADULT_DROPPED = ("education",)
ADULT_CLASSES = ("<=50K", ">50K")
ADULT_UNITS = {
    "age": "years",
    "hours-per-week": "hours/week",
    "capital-gain": "USD",
    "capital-loss": "USD",
}
PAPER_ADULT_D = 89


def read_adult(path: str | Path) -> tuple[pd.DataFrame, np.ndarray]:
    """Parse one UCI Adult file (``adult.data`` or ``adult.test``).

    Lines starting with ``|`` (the test file's "1x3 Cross validator" header)
    and blank lines are skipped. Fields are comma-separated with a leading
    space; ``?`` marks a missing value; test labels end in ``.``.

    Parameters
    ----------
    path : path
        The file.

    Returns
    -------
    frame : DataFrame of shape (n_rows, 14)
        Numeric columns as float64, categorical columns as strings with
        missing values as NA, in the file's column order.
    y : array of shape (n_rows,), int64
        1 where income is ``>50K``.

    Raises
    ------
    DataCorruptError
        A line has the wrong number of fields, a non-numeric value in a
        numeric column, or an unknown label; the message names file and line.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="latin-1")
    except OSError as exc:
        raise DataCorruptError(f"Cannot read {path}: {exc}") from exc
    raw, lines = _adult_fields(path, text)

    def fail(mask: np.ndarray, what: str, column: str) -> None:
        i = int(np.flatnonzero(mask)[0])
        raise DataCorruptError(
            f"{path}, line {lines[i]}: {what} {raw.at[i, column]!r} in column "
            f"{column!r}"
        )

    frame = pd.DataFrame(index=raw.index)
    for col in ADULT_COLUMNS[:-1]:
        if col in ADULT_NUMERIC:
            values = pd.to_numeric(raw[col], errors="coerce")
            bad = values.isna().to_numpy()
            if bad.any():
                fail(bad, "non-numeric value", col)
            frame[col] = values.astype(np.float64)
        else:
            frame[col] = raw[col].astype("string").replace("?", pd.NA)
    label = raw["income"].str.rstrip(".")
    y = label.map({name: k for k, name in enumerate(ADULT_CLASSES)})
    bad = y.isna().to_numpy()
    if bad.any():
        fail(bad, f"unknown label (expected {' or '.join(ADULT_CLASSES)})", "income")
    return frame, y.to_numpy(dtype=np.int64)


def _adult_fields(path: Path, text: str) -> tuple[pd.DataFrame, np.ndarray]:
    """The records' fields as strings, and the line number of each record.

    Blank lines and ``|`` lines are skipped; a record with the wrong number of
    fields, or a file with none, raises :class:`DataCorruptError`.
    """
    rows: list[list[str]] = []
    line_numbers: list[int] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("|"):
            continue
        fields = [f.strip() for f in stripped.split(",")]
        if len(fields) != len(ADULT_COLUMNS):
            raise DataCorruptError(
                f"{path}, line {lineno}: expected {len(ADULT_COLUMNS)} "
                f"comma-separated fields, found {len(fields)}: {stripped[:80]!r}"
            )
        rows.append(fields)
        line_numbers.append(lineno)
    if not rows:
        raise DataCorruptError(f"{path} holds no records")
    return pd.DataFrame(rows, columns=list(ADULT_COLUMNS)), np.asarray(line_numbers)


def _build_adult(files: dict[str, Path]) -> Dataset:
    train_frame, y_train_all = read_adult(files[ADULT_DATA.path])
    test_frame, y_test = read_adult(files[ADULT_TEST.path])
    n_data = len(train_frame)
    frame = pd.concat([train_frame, test_frame], ignore_index=True)
    frame = frame.drop(columns=list(ADULT_DROPPED))
    # Levels come from both files so the encoding is the same for every split
    # (Holand-Netherlands occurs in adult.data only); the scaling uses train only.
    X_raw, names, groups = encode_columns(frame, ADULT_CATEGORICAL)
    y = np.concatenate([y_train_all, y_test])
    tr, va, _ = split_indices(y_train_all, val=0.1, test=0.0, seed=SEED)
    te = np.arange(n_data, len(frame))
    prep = fit_scaler(
        X_raw[tr],
        "zscore",
        "Categorical columns one-hot encoded ('?' -> level 'missing'; the "
        "'education' strings dropped as a relabelling of education-num), then "
        "every column z-scored with the training split's mean and SD.",
    )
    X = prep.transform(X_raw)
    splits = make_splits((tr, va, te), y=y, ids=np.arange(len(y), dtype=np.int64), X=X)
    n_missing = {
        col: int(frame[col].isna().sum())
        for col in ADULT_CATEGORICAL
        if frame[col].isna().any()
    }
    return Dataset(
        name="adult",
        task="binary",
        modality="tabular",
        class_names=ADULT_CLASSES,
        feature_names=tuple(names),
        feature_groups=groups,
        units=dict(ADULT_UNITS),
        preprocessing=prep,
        description=(
            "UCI Adult census income (1994 CPS): predict income >50K from age, "
            "work, education, family and origin. Official adult.test as test "
            "split; all rows kept, '?' is its own 'missing' level."
        ),
        source="UCI Machine Learning Repository, Adult (Becker & Kohavi 1996), CC BY 4.0",
        info={
            "n_features": len(names),
            "paper_n_features": PAPER_ADULT_D,
            "n_features_note": (
                f"{len(names)} = {PAPER_ADULT_D} (the paper's 6 numeric columns "
                "incl. fnlwgt and education-num + 83 one-hot levels, 'education' "
                f"strings dropped) + {len(n_missing)} 'missing' levels of "
                f"{', '.join(n_missing)}."
            ),
            "dropped_columns": list(ADULT_DROPPED),
            "missing_values": n_missing,
            "ids": "row number in adult.data, then in adult.test after it",
            "validation": "stratified 10 % of adult.data, seed 0",
        },
        **splits,
    )


register(
    DatasetSpec(
        name="adult",
        task="binary",
        modality="tabular",
        summary="UCI Adult census income >50K (48,842 rows, 92 one-hot/z-scored)",
        source="UCI Adult",
        build=_build_adult,
        alternatives=((ADULT_DATA, ADULT_TEST),),
    )
)

# -------------------------------------------------------------- Breast cancer

#: Units of the measurements where they are known: lengths and areas are in
#: the digitised images' units (the source does not calibrate them), texture
#: is the SD of grey levels; the other measurements are ratios.
_CANCER_UNITS = {
    "radius": "image units",
    "perimeter": "image units",
    "area": "image units²",
    "texture": "grey levels",
}


def _measurement(feature: str) -> str:
    """``"mean radius"``, ``"radius error"``, ``"worst radius"`` → ``"radius"``."""
    for prefix in ("mean ", "worst "):
        if feature.startswith(prefix):
            return feature[len(prefix) :]
    return feature.removesuffix(" error")


def _build_breast_cancer(files: dict[str, Path]) -> Dataset:
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    X_raw = np.asarray(bunch.data, dtype=np.float64)
    y = np.asarray(bunch.target, dtype=np.int64)
    names = tuple(str(n) for n in bunch.feature_names)
    tr, va, te = split_indices(y, val=0.1, test=0.2, seed=SEED)
    prep = fit_scaler(
        X_raw[tr], "zscore", "z-scored with the training split's mean and SD"
    )
    X = prep.transform(X_raw)
    # The mean, standard error and worst value of one measurement form a group,
    # as the summaries of one ICU variable do.
    groups: dict[str, tuple[int, ...]] = {}
    for i, name in enumerate(names):
        key = _measurement(name)
        groups[key] = (*groups.get(key, ()), i)
    units = {
        n: _CANCER_UNITS[_measurement(n)]
        for n in names
        if _measurement(n) in _CANCER_UNITS
    }

    splits = make_splits((tr, va, te), y=y, ids=np.arange(len(y), dtype=np.int64), X=X)
    return Dataset(
        name="breast_cancer",
        task="binary",
        modality="tabular",
        class_names=tuple(str(c) for c in bunch.target_names),
        feature_names=names,
        feature_groups=groups,
        units=units,
        preprocessing=prep,
        description=(
            "Wisconsin Diagnostic Breast Cancer: malignant vs benign from 30 "
            "summaries (mean, standard error, worst) of 10 cell-nucleus "
            "measurements in digitised fine-needle-aspirate images."
        ),
        source="scikit-learn load_breast_cancer (UCI WDBC, Street, Wolberg & Mangasarian 1993)",
        info={
            "target": "scikit-learn's: 0 = malignant, 1 = benign",
            "split": "stratified 70 / 10 / 20, seed 0",
            "ids": "row number in scikit-learn's copy",
        },
        **splits,
    )


register(
    DatasetSpec(
        name="breast_cancer",
        task="binary",
        modality="tabular",
        summary="Wisconsin diagnostic breast cancer (569 patients, 30 features)",
        source="scikit-learn",
        build=_build_breast_cancer,
        packages=("sklearn",),
    )
)
