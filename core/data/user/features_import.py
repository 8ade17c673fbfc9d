"""Precomputed deep features (``.npy``, ``.npz``, Parquet, CSV) → a dataset.

The glm_saga use case (Wong et al. 2021): a matrix of frozen deep features
with labels, on which an elastic-net path is fitted directly, without this
project's encoders. Accepted layouts:

``.npz``
    arrays ``X`` (n_samples, n_features) and ``y`` (n_samples,), optional
    ``feature_names`` (n_features,), ``texts`` (n_samples,), ``ids``
    (n_samples,) and ``split`` (n_samples,) of ``"train"`` / ``"val"`` /
    ``"test"`` to keep a split made elsewhere.
``.npy``
    the matrix alone; labels come from a second file (``.npy``, or text with
    one label per line).
Parquet / CSV
    one column per feature plus a label column (``target``), optionally a text
    and an ID column.

Arrays are read with ``allow_pickle=False``: a file holding Python objects is
refused, never unpickled. Features are standardised on the training split
(z-score by default, as glm_saga does). :func:`feature_arrays` returns the
split matrices an elastic-net path is fitted on.

References
----------
Wong, Santurkar & Mądry (2021), "Leveraging Sparse Linear Layers for
Debuggable Deep Networks", ICML.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import math
import os
import zipfile
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.data.featurize import fit_scaler, make_splits
from core.data.types import Dataset
from core.data.user import labels, manifest, profile, validate
from core.data.user.tables import Progress, RawTable, part_of, read_table
from core.errors import InvalidDataError

SCALING = ("zscore", "robust", "identity")
_SPLITS = ("train", "val", "test")
_NPY_MAGIC = np.lib.format.MAGIC_PREFIX
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip, or an empty one
_REMEDY = f"Raise {validate.MAX_MB_ENV}, or save fewer rows or the features as float32."


@dataclass(frozen=True)
class FeatureArrays:
    """The split matrices of a dataset with features, for an elastic-net path.

    Attributes
    ----------
    X_train, X_val, X_test : array of shape (n_split, n_features), float32
        Standardised as the dataset's preprocessing says.
    y_train, y_val, y_test : array of shape (n_split,), int64
        Class indices into ``class_names``.
    feature_names, class_names : tuple of str
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]


def feature_arrays(dataset: str | Dataset) -> FeatureArrays:
    """``(X_train, y_train, X_val, y_val, X_test, y_test, ...)`` of a dataset.

    For a registered features dataset (or any dataset with a feature matrix):
    ``core.sparse_layers.glm.elastic_net_path(a.X_train, a.y_train, validation=(a.X_val,
    a.y_val))``.

    Raises
    ------
    ValueError
        The dataset has no feature matrix (raw text or images).
    """
    from core.data import load_dataset

    ds = load_dataset(dataset, download=False) if isinstance(dataset, str) else dataset
    if ds.train.X is None:
        raise ValueError(
            f"{ds.name} has no feature matrix; add precomputed features for it."
        )
    return FeatureArrays(
        ds.train.X,
        ds.train.y,
        ds.val.X,
        ds.val.y,
        ds.test.X,
        ds.test.y,
        tuple(ds.feature_names),
        tuple(ds.class_names),
    )


# ------------------------------------------------------------------- reading


def _load_numpy(raw: bytes, what: str) -> dict[str, np.ndarray]:
    """Arrays of a ``.npy`` (key ``X``) or ``.npz`` file, never unpickling.

    What the arrays declare is checked first (:func:`_check_declared`), so a
    small file that would expand past the size limit is refused unread.
    """
    _check_declared(raw, what)
    try:
        loaded = np.load(io.BytesIO(raw), allow_pickle=False)
        if isinstance(loaded, np.ndarray):
            return {"X": loaded}
        with loaded as npz:
            return {k: npz[k] for k in npz.files}
    except ValueError as exc:
        if "pickle" in str(exc):
            raise InvalidDataError(_pickled(what)) from exc
        raise InvalidDataError(f"{what} is not a NumPy file ({exc}).") from exc
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise InvalidDataError(
            f"{what} is not a readable .npy/.npz file ({exc}); save it again."
        ) from exc


def _pickled(what: str) -> str:
    return (
        f"{what} holds Python objects (pickled), which are never loaded. "
        "Save numbers as a numeric array and names or texts as a str array "
        "(np.asarray(names, dtype=str))."
    )


def _check_declared(raw: bytes, what: str) -> None:
    """Refuse a ``.npy``/``.npz`` whose arrays would not fit the size limit.

    The limit (:func:`~core.data.user.validate.max_upload_mb`) counts the bytes
    the arrays take once read, not the file's (compressed) bytes: the shapes
    and dtypes in the ``.npy`` headers and the uncompressed sizes in the zip
    directory are checked before any array is allocated. Object arrays are
    refused from their header, and a header declaring more data than its file
    holds is refused as truncated.

    Raises
    ------
    InvalidDataError
        Naming the file, the array, its declared size and the limit.
    """
    limit = validate.max_upload_mb() * 1e6
    if raw.startswith(_NPY_MAGIC):
        _check_npy_header(io.BytesIO(raw), len(raw), what, "X", limit)
    elif raw.startswith(_ZIP_MAGIC):
        _check_npz(raw, what, limit)
    # Anything else is neither; np.load says so.


def _check_npz(raw: bytes, what: str, limit: float) -> None:
    """The zip directory's uncompressed sizes, then each member's header.

    Every array's data must fit in its member (:func:`_check_npy_header`), so
    the members' total bounds what all the arrays take once read.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            members = zf.infolist()
            unpacked = sum(m.file_size for m in members)
            if unpacked > limit:
                raise InvalidDataError(
                    f"{what} unpacks to {_size(unpacked)} ({_size(len(raw))} "
                    f"compressed), over the {_size(limit)} limit. " + _REMEDY
                )
            for member in members:
                # np.load returns a member without the .npy magic as raw bytes,
                # which its uncompressed size above already counted.
                with zf.open(member) as fh:
                    if fh.read(len(_NPY_MAGIC)) != _NPY_MAGIC:
                        continue
                key = member.filename.removesuffix(".npy")
                with zf.open(member) as fh:
                    _check_npy_header(fh, member.file_size, what, key, limit)
    # RuntimeError: an encrypted member; NotImplementedError: an unknown
    # compression method.
    except (
        OSError,
        EOFError,
        zipfile.BadZipFile,
        RuntimeError,
        NotImplementedError,
    ) as exc:
        raise InvalidDataError(
            f"{what} is not a readable .npz file ({exc}); save it again."
        ) from exc


def _check_npy_header(fh, file_bytes: int, what: str, key: str, limit: float) -> None:
    """Refuse an array by its ``.npy`` header alone: objects, size, truncation."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = fmt.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, _, dtype = fmt.read_array_header_2_0(fh)
        else:
            raise ValueError(f".npy format version {version} is not supported")
    except ValueError as exc:
        raise InvalidDataError(
            f"{what}: array {key!r} has no valid .npy header ({exc}); save it again "
            "with np.save or np.savez."
        ) from exc
    if dtype.hasobject:
        raise InvalidDataError(_pickled(what))
    if any(d < 0 for d in shape):
        raise InvalidDataError(
            f"{what}: array {key!r} declares the impossible shape {shape}."
        )
    n_bytes = math.prod(shape) * dtype.itemsize
    if n_bytes > limit:
        raise InvalidDataError(
            f"{what}: array {key!r} declares shape {shape} of {dtype}, "
            f"{_size(n_bytes)} once read, over the {_size(limit)} limit. " + _REMEDY
        )
    held = file_bytes - fh.tell()
    if n_bytes > held:
        raise InvalidDataError(
            f"{what}: array {key!r} declares shape {shape} of {dtype} "
            f"({_size(n_bytes)}) but the file holds {_size(max(held, 0))} of data; "
            "it is truncated or damaged. Save it again."
        )


def _size(n_bytes: float) -> str:
    """``"800 GB"``, ``"1.17 MB"``, ``"72 bytes"``: decimal units, as the limit."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:,.3g} {unit}"
    return f"{int(n_bytes):,} bytes"


def _matrix(X: np.ndarray, what: str) -> np.ndarray:
    if X.ndim != 2:
        raise InvalidDataError(
            f"{what}: the features must be a 2-D array (n_samples, n_features), "
            f"found shape {X.shape}."
        )
    if X.dtype.kind == "b":
        X = X.astype(np.float64)
    if X.dtype.kind not in "iuf":
        raise InvalidDataError(
            f"{what}: the features must be numbers, found dtype {X.dtype}."
        )
    if X.shape[0] < labels.MIN_ROWS or X.shape[1] < 1:
        raise InvalidDataError(
            f"{what}: {X.shape[0]} samples × {X.shape[1]} features; need at least "
            f"{labels.MIN_ROWS} samples and one feature."
        )
    X = X.astype(np.float64)
    bad = ~np.isfinite(X)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        raise InvalidDataError(
            f"{what}: X[{i}, {j}] is {X[i, j]} ({int(bad.sum())} non-finite value(s)); "
            "precomputed features must be finite numbers."
        )
    return X


def _vector(values: np.ndarray, n: int | None, what: str, name: str) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim == 2 and 1 in values.shape:
        values = values.ravel()
    if values.ndim != 1:
        raise InvalidDataError(
            f"{what}: {name} must be 1-D, found shape {values.shape}."
        )
    if n is not None and len(values) != n:
        raise InvalidDataError(
            f"{what}: the features have {n} rows but {name} has {len(values)} "
            "entries; they must match one to one."
        )
    if values.dtype.kind not in "iufbUS":
        raise InvalidDataError(
            f"{what}: {name} has dtype {values.dtype}; use numbers or strings."
        )
    return values


def _lines(source, filename: str | None, what: str) -> list[str]:
    raw, name, suffix = validate.read_source(source, filename)
    if suffix == ".npy":
        return [str(v) for v in _vector(_load_numpy(raw, name)["X"], None, name, what)]
    text, _ = validate.decode(raw, name)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def _label_table(values: np.ndarray, what: str) -> RawTable:
    text = [
        None if (isinstance(v, float) and np.isnan(v)) else str(v).strip()
        for v in values.tolist()
    ]
    frame = pd.DataFrame({"label": pd.array(text, dtype="str")})
    rows = np.arange(len(text), dtype=np.int64)
    return RawTable(frame, rows, "row", what, "npz", None, None, "", 0)


def _read(
    source,
    filename: str | None,
    *,
    labels_source,
    labels_filename: str | None,
    target: str | None,
    text_column: str | None,
    id_column: str | None,
    names_source,
    names_filename: str | None,
    progress: Progress | None,
) -> tuple[np.ndarray, RawTable, list[str] | None, list[str] | None, dict, dict]:
    """``X, labels, feature names, texts, extras (ids, split), source record``."""
    raw, name, suffix = validate.read_source(source, filename)
    record = {
        "file": os.path.basename(name),
        "format": suffix.lstrip("."),
        "bytes": len(raw),
        "sha256": hashlib.sha256(raw).hexdigest(),
    }
    if suffix in (".npy", ".npz"):
        X, label_table, names, texts, extras = _read_arrays(
            raw, name, labels_source, labels_filename
        )
    else:
        table = read_table(
            source,
            filename,
            progress=part_of(progress, 0, 0.6),
            max_columns=validate.MAX_FEATURE_COLUMNS,
        )
        X, label_table, names, texts, extras = _read_feature_table(
            table, name, target, text_column, id_column
        )
        record.update(table.source_record())
    if names_source is not None:
        names = _lines(names_source, names_filename, "feature names")
        if len(names) != X.shape[1]:
            raise InvalidDataError(
                f"The feature-names file has {len(names)} names but the matrix has "
                f"{X.shape[1]} features; give one name per line."
            )
    if names is not None:
        names = validate.check_column_names(names, "feature names")
    return X, label_table, names, texts, extras, record


def _read_arrays(
    raw: bytes, name: str, labels_source, labels_filename: str | None
) -> tuple[np.ndarray, RawTable, list[str] | None, list[str] | None, dict]:
    """``X, labels, feature names, texts, extras`` of a ``.npy`` / ``.npz`` file."""
    arrays = _load_numpy(raw, name)
    if "X" not in arrays:
        raise InvalidDataError(
            f"{name} has no array 'X' (found {', '.join(arrays) or 'none'}); "
            "save the features as X=..."
        )
    X = _matrix(arrays["X"], name)
    if labels_source is not None:
        y_values = np.asarray(_lines(labels_source, labels_filename, "labels"))
    elif "y" in arrays:
        y_values = arrays["y"]
    else:
        raise InvalidDataError(
            f"{name} has no labels: save them as y=... in the .npz, or give a "
            "labels file."
        )
    y_values = _vector(y_values, len(X), name, "the labels")
    label_table = _label_table(y_values, f"{name} labels")
    names = texts = None
    if "feature_names" in arrays:
        names = [
            str(v) for v in _vector(arrays["feature_names"], X.shape[1], name, "names")
        ]
    if "texts" in arrays:
        texts = [str(v) for v in _vector(arrays["texts"], len(X), name, "texts")]
    extras = {
        key: _vector(arrays[key], len(X), name, key)
        for key in ("ids", "split")
        if key in arrays
    }
    return X, label_table, names, texts, extras


def _read_feature_table(
    table: RawTable,
    name: str,
    target: str | None,
    text_column: str | None,
    id_column: str | None,
) -> tuple[np.ndarray, RawTable, list[str], list[str] | None, dict]:
    """``X, labels, feature names, texts, extras`` of a Parquet / CSV table."""
    if target is None:
        raise InvalidDataError(
            f"{name}: name the label column (target) of the feature table."
        )
    labels.require_column(table, target, "label")
    labels.require_column(table, text_column, "text")
    labels.require_column(table, id_column, "ID")
    feature_cols = [
        c for c in table.frame.columns if c not in (target, text_column, id_column)
    ]
    columns = []
    for col in feature_cols:
        x, missing, bad = profile.numbers(table.frame[col])
        if bad.any() or missing.any():
            i = int(np.flatnonzero(bad | missing)[0])
            raise InvalidDataError(
                f"{table.where(i)}, column {col!r}: "
                f"{table.frame[col].iloc[i]!r} is not a number; every feature "
                "cell must be a finite number (or name that column as the "
                "text or ID column)."
            )
        columns.append(x)
    if not columns:
        raise InvalidDataError(f"{name}: no feature columns besides the label.")
    X = _matrix(np.stack(columns, axis=1), name)
    label_table = dataclasses.replace(
        table, frame=table.frame[[target]].rename(columns={target: "label"})
    )
    texts = (
        [str(t) for t in table.frame[text_column].fillna("")] if text_column else None
    )
    extras = {}
    if id_column:
        extras["ids"] = profile.strings(table.frame[id_column]).to_numpy(str)
    return X, label_table, list(feature_cols), texts, extras


def _given_split(split: np.ndarray, y: np.ndarray, seed: int, what: str):
    values = np.char.strip(split.astype(str))
    unknown = sorted(set(values) - set(_SPLITS))
    if unknown:
        raise InvalidDataError(
            f"{what}: split holds {', '.join(map(repr, unknown[:3]))}; expected "
            "'train', 'val' or 'test'."
        )
    tr, va, te = (np.flatnonzero(values == s) for s in _SPLITS)
    if te.size == 0 or tr.size == 0:
        raise InvalidDataError(
            f"{what}: the given split has no {'train' if tr.size == 0 else 'test'} "
            "rows."
        )
    if va.size == 0:  # carve 10 % of train out for validation, as glm_saga does
        pos_tr, pos_va = _carve(y[tr], seed, what)
        tr, va = tr[pos_tr], tr[pos_va]
    return tr, va, te


def _carve(y: np.ndarray, seed: int, what: str):
    from core.data.splits import split_indices

    try:
        tr, va, _ = split_indices(y, val=0.1, test=0.0, seed=seed)
    except ValueError as exc:
        raise InvalidDataError(
            f"{what}: cannot hold out 10 % of the training rows for validation "
            f"({exc}); give a 'val' split."
        ) from exc
    return tr, va


def _split(
    y: np.ndarray,
    ids: np.ndarray,
    extras: dict,
    seed: int,
    what: str,
    warnings: list[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Train, validation and test rows: the file's own split, or a stratified
    one grouped by ``ids`` when some repeat; and whether it was grouped."""
    n = len(ids)
    grouped = (
        ids.dtype.kind in "US"
        and len(set(ids.tolist())) < n
        or ids.dtype.kind in "iu"
        and np.unique(ids).size < n
    )
    if "split" in extras:
        tr, va, te = _given_split(np.asarray(extras["split"]), y, seed, what)
    else:
        groups = ids if grouped else None
        tr, va, te = labels.split(
            y, groups, val=0.1, test=0.2, seed=seed, what=what, warnings=warnings
        )
    return tr, va, te, bool(grouped)


def _info(
    scaling: str, given_split: bool, seed: int, grouped: bool, warnings: list[str]
) -> dict:
    """The dataset's record of how it was made."""
    return {
        "kind": "precomputed features",
        "scaling": scaling,
        "split": "given in the file"
        if given_split
        else (
            f"stratified 70/10/20, seed {seed}" + (", grouped by id" if grouped else "")
        ),
        "elastic_net": (
            "core.data.user.feature_arrays(name) returns X_train, y_train, "
            "X_val, y_val, X_test, y_test for an elastic-net path"
        ),
        "warnings": warnings,
    }


def build_features(
    X: np.ndarray,
    label_table: RawTable,
    name: str,
    *,
    feature_names: list[str] | None = None,
    texts: list[str] | None = None,
    extras: dict | None = None,
    scaling: str = "zscore",
    seed: int = 0,
) -> tuple[Dataset, list[str]]:
    """A dataset from a validated feature matrix and its labels (nothing stored)."""
    validate.check_dataset_name(name)
    extras = extras or {}
    if scaling not in SCALING:
        raise InvalidDataError(
            f"scaling must be one of {', '.join(SCALING)}, got {scaling!r}."
        )
    what = label_table.name
    y, class_names, keep = labels.encode_labels(
        label_table, "label", drop_missing=False
    )
    n, d = X.shape
    if feature_names is None:
        width = len(str(d - 1))
        feature_names = [f"f{j:0{width}d}" for j in range(d)]
    ids = np.asarray(extras["ids"]) if "ids" in extras else np.arange(n, dtype=np.int64)
    warnings: list[str] = []
    tr, va, te, grouped = _split(y, ids, extras, seed, what, warnings)
    prep = fit_scaler(
        X[tr],
        scaling,
        f"precomputed features, {scaling} scaling fitted on the training split",
    )
    Xs = prep.transform(X)
    n_formulas = sum(map(validate.is_formula, texts or ()))
    if n_formulas:
        warnings.append(
            f"{what}: {n_formulas} text(s) start like a spreadsheet formula; kept, "
            "and neutralised in CSV exports."
        )

    dataset = Dataset(
        name=name,
        task="binary" if len(class_names) == 2 else "multiclass",
        modality="text" if texts is not None else "tabular",
        class_names=class_names,
        feature_names=tuple(feature_names),
        feature_groups={f: (j,) for j, f in enumerate(feature_names)},
        preprocessing=prep,
        description=(
            f"Registered precomputed features: {n:,} samples × {d:,} features, "
            f"{len(class_names)} classes"
            + (", with raw texts." if texts is not None else ".")
        ),
        source="your file (see the manifest)",
        info=_info(scaling, "split" in extras, seed, grouped, warnings),
        **make_splits((tr, va, te), y=y, ids=ids, X=Xs, texts=texts),
    )
    return dataset, warnings


def add_features(
    source: str | os.PathLike | bytes,
    *,
    name: str,
    labels_source: str | os.PathLike | bytes | None = None,
    target: str | None = None,
    feature_names: str | os.PathLike | bytes | None = None,
    text_column: str | None = None,
    id_column: str | None = None,
    scaling: str = "zscore",
    filename: str | None = None,
    labels_filename: str | None = None,
    names_filename: str | None = None,
    replace: bool = False,
    progress: Progress | None = None,
) -> manifest.Registered:
    """Read, validate and register a feature matrix with its labels.

    Parameters
    ----------
    source : path or bytes
        ``.npz`` / ``.npy`` / ``.parquet`` / ``.csv`` (see the module docstring).
    name : str
    labels_source : path or bytes, optional
        Labels for a ``.npy`` matrix (or to override ``y`` of a ``.npz``).
    target : str, optional
        The label column of a Parquet / CSV matrix.
    feature_names : path or bytes, optional
        One name per line.
    text_column, id_column : str, optional
        Raw texts and IDs in a Parquet / CSV matrix.
    scaling : {"zscore", "robust", "identity"}

    Returns
    -------
    Registered
    """
    validate.check_dataset_name(name)
    X, label_table, names, texts, extras, record = _read(
        source,
        filename,
        labels_source=labels_source,
        labels_filename=labels_filename,
        target=target,
        text_column=text_column,
        id_column=id_column,
        names_source=feature_names,
        names_filename=names_filename,
        progress=progress,
    )
    dataset, warnings = build_features(
        X,
        label_table,
        name,
        feature_names=names,
        texts=texts,
        extras=extras,
        scaling=scaling,
    )
    return manifest.register(
        dataset,
        kind="features",
        source=record,
        options={
            "scaling": scaling,
            "target": target,
            "text_column": text_column,
            "id_column": id_column,
            "labels_file": labels_filename
            or (str(labels_source) if isinstance(labels_source, str) else None),
        },
        warnings=warnings,
        replace=replace,
        progress=progress,
    )
