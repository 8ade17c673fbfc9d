"""Feature matrices larger than memory: a ``.npy`` file registered memory-mapped.

:func:`add_mapped_features` never loads the matrix. It checks the file's
header against the labels, makes (or takes) the split, and copies each split's
rows into a ``.npy`` file of its own (float16 when asked: half the disk and
page cache), block of rows by block of rows within a memory budget, with
ordinary file reads and writes. Beside them it keeps each split's labels and
its rows' indices in the source file. :func:`mapped_features` opens the three
matrices memory-mapped, which is what a streamed elastic-net path
(``elastic_net_path(..., max_memory=...)``) and the block-wise scores of a
sparse layer read.

A registered set lives in ``<SPARSELENS_USER_DATA>/_mapped/<name>/`` (a name
the dataset registry never lists).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.atomic import atomic_dir
from core.data.user import labels, validate
from core.data.user.features_import import _label_table, _split
from core.errors import InvalidDataError, UnknownNameError
from core.paths import user_data_dir

#: The folder of memory-mapped sets inside the user data folder; not a valid
#: dataset name, so the registry's listing skips it.
MAPPED_DIR = "_mapped"
SPLITS = ("train", "val", "test")
_META = "mapped.json"
_NPY_MAGIC = np.lib.format.MAGIC_PREFIX


@dataclass(frozen=True)
class MappedFeatures:
    """A registered memory-mapped feature set.

    Attributes
    ----------
    name : str
    folder : Path
    X : dict of split to numpy.memmap of shape (n_split, n_features)
        Original units, float16/32/64 as stored.
    y : dict of split to array of shape (n_split,), int64
        Class codes into ``class_names``.
    rows : dict of split to array of shape (n_split,), int64
        Each row's index in the source file.
    feature_names, class_names : tuple of str
    source : str
        The file it was copied from.
    """

    name: str
    folder: Path
    X: dict[str, np.memmap]
    y: dict[str, np.ndarray]
    rows: dict[str, np.ndarray]
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    source: str


def mapped_dir() -> Path:
    """Where memory-mapped feature sets are registered."""
    return user_data_dir() / MAPPED_DIR


def is_mapped(name: str) -> bool:
    """Whether ``name`` is a registered memory-mapped feature set."""
    return (mapped_dir() / name / _META).is_file()


def open_npy(path: str | os.PathLike) -> np.memmap:
    """``np.load(path, mmap_mode="r")`` of a 2-d float ``.npy`` file.

    Raises
    ------
    InvalidDataError
        Not a ``.npy`` file (naming what it starts with), not 2-d, not
        float16/32/64, or Fortran-ordered.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(_NPY_MAGIC))
    except OSError as exc:
        raise InvalidDataError(f"Cannot read {path}: {exc.strerror or exc}") from exc
    if head != _NPY_MAGIC:
        raise InvalidDataError(
            f"{path} is not a .npy file (it does not start with NumPy's header); "
            "a memory-mapped feature matrix must be saved with np.save or "
            "np.lib.format.open_memmap"
        )
    try:
        X = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as exc:
        raise InvalidDataError(f"{path}: unreadable .npy file ({exc})") from exc
    if X.ndim != 2:
        raise InvalidDataError(
            f"{path}: the feature matrix must be 2-d (n_samples, n_features), got "
            f"shape {X.shape}"
        )
    if X.dtype not in (np.float16, np.float32, np.float64):
        raise InvalidDataError(
            f"{path}: features must be float16, float32 or float64, got {X.dtype}"
        )
    if not X.flags.c_contiguous:
        raise InvalidDataError(
            f"{path}: the matrix is stored column-major (Fortran order); save it "
            "row-major (np.save(path, np.ascontiguousarray(X)))"
        )
    return X


def row_blocks(X: np.ndarray, block_rows: int) -> Iterator[tuple[slice, np.ndarray]]:
    """``(rows, X[rows])`` in blocks of ``block_rows`` rows (0: all at once).

    A memory map is read with ordinary file reads, one new array per block
    (pages of the map, once touched, would count as resident memory); an
    in-memory array is one block, itself.
    """
    n, p = X.shape
    if block_rows < 0:
        raise ValueError(f"block_rows must be ≥ 0, got {block_rows}")
    if block_rows == 0 or not isinstance(X, np.memmap):
        yield slice(0, n), X
        return
    row_bytes = p * X.dtype.itemsize
    with open(X.filename, "rb") as fh:
        for start in range(0, n, block_rows):
            stop = min(n, start + block_rows)
            fh.seek(X.offset + start * row_bytes)
            block = np.fromfile(fh, dtype=X.dtype, count=(stop - start) * p)
            if block.size != (stop - start) * p:
                raise InvalidDataError(
                    f"{X.filename}: the file ends before row {stop} its header "
                    "declares; it was truncated"
                )
            yield slice(start, stop), block.reshape(stop - start, p)


def _read_labels(path: Path, n: int, what: str) -> np.ndarray:
    """Labels from a ``.npy`` file or a text file with one label per line."""
    with open(path, "rb") as fh:
        npy = fh.read(len(_NPY_MAGIC)) == _NPY_MAGIC
    if npy:
        try:
            values = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise InvalidDataError(f"{path}: unreadable labels ({exc})") from exc
    else:
        values = np.asarray(path.read_text().splitlines())
    if values.ndim != 1 or len(values) != n:
        raise InvalidDataError(
            f"{path}: {what} has {n} rows but the labels have shape "
            f"{values.shape}; give one label per row, in the rows' order"
        )
    return values


def add_mapped_features(
    source: str | os.PathLike,
    *,
    name: str,
    labels_source: str | os.PathLike,
    split_source: str | os.PathLike | None = None,
    feature_names: str | os.PathLike | None = None,
    float16: bool = False,
    max_memory: int = 10**9,
    seed: int = 0,
    replace: bool = False,
) -> MappedFeatures:
    """Register a ``.npy`` feature matrix without loading it.

    Parameters
    ----------
    source : path
        A 2-d float16/32/64 ``.npy`` file of shape (n_samples, n_features).
    name : str
        The set's name (``sparse-layer --dataset NAME --features raw``).
    labels_source : path
        One label per row: a ``.npy`` array or a text file, one per line.
    split_source : path, optional
        A ``.npy`` array of ``"train"``/``"val"``/``"test"``, one per row;
        default: a stratified 70/10/20 split seeded by ``seed``.
    feature_names : path, optional
        One name per line.
    float16 : bool
        Store the split matrices as float16.
    max_memory : int
        Bytes of the matrix the copy holds at once.
    replace : bool
        Replace a set of the same name.

    Raises
    ------
    InvalidDataError
        A file that is not a 2-d float ``.npy``, labels or a split that do
        not match its rows, a name taken, or non-finite values.
    ValueError
        ``max_memory`` smaller than one row of the copy.
    """
    from core.data import dataset_names

    validate.check_dataset_name(name)
    if name in dataset_names():
        raise InvalidDataError(
            f"{name!r} is already a dataset; choose another name for the "
            "memory-mapped features"
        )
    target = mapped_dir() / name
    if target.exists() and not replace:
        raise InvalidDataError(
            f"Memory-mapped features {name!r} exist ({target}); pass replace=True "
            "(--replace) to overwrite them"
        )
    X = open_npy(source)
    n, p = X.shape
    what = Path(source).name
    values = _read_labels(Path(labels_source), n, what)
    y, class_names, _ = labels.encode_labels(
        _label_table(values, str(labels_source)), "label", drop_missing=False
    )
    extras = {}
    if split_source is not None:
        extras["split"] = _read_labels(Path(split_source), n, what)
    tr, va, te, _ = _split(y, np.arange(n, dtype=np.int64), extras, seed, what, [])
    names = (
        [f"f{j:0{len(str(p - 1))}d}" for j in range(p)]
        if feature_names is None
        else Path(feature_names).read_text().splitlines()
    )
    if len(names) != p:
        raise InvalidDataError(
            f"{feature_names}: {len(names)} feature names for {p} feature columns"
        )
    out_dtype = np.dtype(np.float16 if float16 else X.dtype)
    # Per row of a block: the rows read, those of one split picked out of
    # them, their converted copy and the finiteness mask.
    per_row = p * (2 * X.dtype.itemsize + out_dtype.itemsize + 1)
    block_rows = max_memory // per_row
    if block_rows < 1:
        raise ValueError(
            f"{source}: max_memory={max_memory:,} bytes is smaller than one block: a "
            f"row of the copy takes {per_row:,} bytes ({p} features); give at "
            f"least {per_row:,}"
        )
    splits = dict(zip(SPLITS, (np.sort(tr), np.sort(va), np.sort(te)), strict=True))
    # Staged beside the target, so that a copy that fails (a NaN half-way)
    # leaves an earlier set of that name as it was.
    staged = mapped_dir() / f".{name}.staged"
    shutil.rmtree(staged, ignore_errors=True)
    with atomic_dir(staged) as tmp:
        _copy_rows(X, splits, tmp, out_dtype, block_rows)
        for split, rows in splits.items():
            np.save(tmp / f"y_{split}.npy", y[rows].astype(np.int64))
            np.save(tmp / f"rows_{split}.npy", rows.astype(np.int64))
        meta = {
            "name": name,
            "source": str(Path(source).resolve()),
            "shape": [n, p],
            "dtype": out_dtype.name,
            "feature_names": names,
            "class_names": list(class_names),
            "split": "given"
            if split_source is not None
            else f"stratified, seed {seed}",
        }
        (tmp / _META).write_text(json.dumps(meta, indent=1))
    if target.exists():
        shutil.rmtree(target)
    staged.rename(target)
    return mapped_features(name)


def _copy_rows(
    X: np.memmap,
    splits: dict[str, np.ndarray],
    folder: Path,
    dtype: np.dtype,
    block_rows: int,
) -> None:
    """Write each split's rows (sorted) into ``X_<split>.npy``, in one pass over
    ``X``; refuse non-finite values."""
    p = X.shape[1]
    files, cursors = {}, {}
    try:
        for split, rows in splits.items():
            fh = open(folder / f"X_{split}.npy", "wb")  # noqa: SIM115 closed below
            files[split], cursors[split] = fh, 0
            header = {
                "descr": dtype.str,
                "fortran_order": False,
                "shape": (len(rows), p),
            }
            np.lib.format.write_array_header_2_0(fh, header)
        for rows, block in row_blocks(X, block_rows):
            bad = ~np.isfinite(block)
            if bad.any():
                r, c = np.argwhere(bad)[0]
                raise InvalidDataError(
                    f"{X.filename}: non-finite value (NaN or ±inf) at row "
                    f"{rows.start + r}, column {c}; impute or drop it first"
                )
            for split, chosen in splits.items():
                start = cursors[split]
                stop = np.searchsorted(chosen, rows.stop)
                if stop > start:
                    local = chosen[start:stop] - rows.start
                    files[split].write(block[local].astype(dtype, copy=False).tobytes())
                cursors[split] = stop
    finally:
        for fh in files.values():
            fh.close()


def mapped_features(name: str) -> MappedFeatures:
    """The registered memory-mapped set ``name``, its matrices memory-mapped.

    Raises
    ------
    UnknownNameError
        No such set.
    """
    folder = mapped_dir() / name
    try:
        meta = json.loads((folder / _META).read_text())
    except FileNotFoundError:
        raise UnknownNameError(
            f"No memory-mapped features named {name!r} in {mapped_dir()}; register "
            "a .npy matrix with `python -m core add-features X.npy --labels y.npy "
            "--memory-map --name NAME`"
        ) from None
    return MappedFeatures(
        name=name,
        folder=folder,
        X={s: open_npy(folder / f"X_{s}.npy") for s in SPLITS},
        y={s: np.load(folder / f"y_{s}.npy") for s in SPLITS},
        rows={s: np.load(folder / f"rows_{s}.npy") for s in SPLITS},
        feature_names=tuple(meta["feature_names"]),
        class_names=tuple(meta["class_names"]),
        source=meta["source"],
    )
