"""Parsed-dataset cache: one folder per (dataset, options, source files) key.

Arrays go to ``arrays.npz`` (read without pickle), everything else to
``meta.json``, and the SHA-256 of both to ``sha256.json``. Folders are written
atomically, so a crash never leaves a cache entry that later loads.

An entry is served only when both files still have the digests it was written
with and parse into what :func:`dump` writes. Anything else (a zero-length,
truncated or edited file, a wrongly typed ``meta.json``) is a miss: the entry
is removed, a warning names it, and the dataset is parsed again. The digests
catch accidents and edits, not a forger who can also rewrite ``sha256.json``:
a cache shared between accounts must not be writable by the others.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from core.atomic import atomic_dir
from core.data.types import Dataset, Preprocessing, Split
from core.errors import DataCorruptError, DataHomeError
from core.paths import CACHE_ENV, cache_dir, writable_dir

_SPLITS = ("train", "val", "test")
ARRAYS = "arrays.npz"
META = "meta.json"
DIGESTS = "sha256.json"


def _entry(name: str, key: str) -> Path:
    return cache_dir() / name / key


def read(name: str, key: str) -> Dataset | None:
    """The cached dataset, or None on a miss.

    An entry that exists but cannot be served (a file missing, unreadable,
    truncated, edited since it was written, or not what :func:`dump` writes) is
    removed with a warning naming it, and None is returned so that the caller
    rebuilds it.
    """
    entry = _entry(name, key)
    if not entry.exists():
        return None
    try:
        _check_digests(entry)
        return load(entry)
    except DataCorruptError as exc:
        warnings.warn(
            f"Ignoring the cached {name!r} in {entry}: {exc} The entry is removed "
            "and the dataset parsed again.",
            stacklevel=3,  # the caller of load_dataset
        )
        _remove(entry)
        return None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _check_digests(entry: Path) -> None:
    digests_path = entry / DIGESTS
    try:
        recorded = json.loads(digests_path.read_text())
        actual = {f: _sha256(entry / f) for f in (ARRAYS, META)}
    except (OSError, ValueError) as exc:
        raise DataCorruptError(f"{exc}.") from exc
    for fname, sha in actual.items():
        if not isinstance(recorded, dict) or recorded.get(fname) != sha:
            raise DataCorruptError(
                f"{entry / fname} does not match the SHA-256 in {digests_path} "
                "(truncated or edited since it was written)."
            )


def load(folder: Path) -> Dataset:
    """The dataset :func:`dump` wrote into ``folder`` (never unpickles).

    Raises
    ------
    DataCorruptError
        A file is missing, unreadable, truncated or not what :func:`dump`
        writes; the message names the file.
    """
    meta_path = folder / META
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise DataCorruptError(f"{meta_path} cannot be read: {exc}.") from exc
    _check_meta(meta, meta_path)
    arrays_path = folder / ARRAYS
    arrays = read_archive(arrays_path)
    try:
        return _from_parts(meta, arrays)
    except (ValueError, TypeError) as exc:
        raise DataCorruptError(f"{arrays_path} cannot be read: {exc}.") from exc
    except KeyError as exc:
        raise DataCorruptError(f"{arrays_path} has no array {exc}.") from exc


def read_archive(path: Path, names: tuple[str, ...] | None = None) -> dict:
    """The arrays of the ``.npz`` archive ``path`` (never unpickles).

    Parameters
    ----------
    path : Path
    names : tuple of str, optional
        The arrays to read; None reads every one.

    Returns
    -------
    dict of str to ndarray

    Raises
    ------
    DataCorruptError
        The file is missing, unreadable, truncated, a single array rather
        than an archive, or lacks one of ``names``; the message names it.
    """
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataCorruptError(f"{path} cannot be read: {exc}.") from exc
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise DataCorruptError(f"{path} is a single array, not an archive.")
    try:
        with npz:
            return {k: npz[k] for k in (npz.files if names is None else names)}
    except KeyError as exc:
        raise DataCorruptError(f"{path} has no array {exc}.") from exc
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataCorruptError(f"{path} cannot be read: {exc}.") from exc


def _strings(v: object) -> bool:
    return isinstance(v, list) and all(isinstance(s, str) for s in v)


def _ints(v: object) -> bool:
    return isinstance(v, list) and all(type(i) is int for i in v)


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _values(ok: Callable[[object], bool]) -> Callable[[object], bool]:
    return lambda v: isinstance(v, dict) and all(ok(x) for x in v.values())


def _text(v: object) -> bool:
    return isinstance(v, str)


def _object(v: object) -> bool:
    return isinstance(v, dict)


def _prep(v: object) -> bool:
    return v is None or (
        _object(v) and _text(v.get("method")) and _text(v.get("description"))
    )


#: The fields of ``meta.json`` and their JSON types, as :func:`_to_parts` writes.
_META_FIELDS: dict[str, tuple[Callable[[object], bool], str]] = {
    "name": (_text, "a string"),
    "task": (_text, "a string"),
    "modality": (_text, "a string"),
    "class_names": (_strings, "a list of strings"),
    "feature_names": (_strings, "a list of strings"),
    "feature_groups": (_values(_ints), "an object of integer lists"),
    "units": (_values(_text), "an object of strings"),
    "normal_ranges": (
        _values(lambda v: isinstance(v, list) and len(v) == 2 and all(map(_number, v))),
        "an object of [low, high] pairs",
    ),
    "preprocessing": (_prep, "null or an object with a method and a description"),
    "description": (_text, "a string"),
    "source": (_text, "a string"),
    "info": (_object, "an object"),
    "splits": (_object, "an object"),
}
_SPLIT_FIELDS: dict[str, tuple[Callable[[object], bool], str]] = {
    "texts": (lambda v: v is None or _strings(v), "null or a list of strings"),
    "meta_keys": (_strings, "a list of strings"),
}


def _check_meta(meta: object, path: Path) -> None:
    """Raise DataCorruptError unless ``meta`` has the fields and JSON types
    :func:`_to_parts` writes (a wrong type could otherwise be served: a string
    of class names would become one class per character)."""
    if not _object(meta):
        raise DataCorruptError(f"{path} should hold a JSON object.")
    checks = [(meta, "", _META_FIELDS)]
    for split in _SPLITS:
        smeta = meta["splits"].get(split) if _object(meta.get("splits")) else None
        checks.append((smeta, f"split {split!r}: ", _SPLIT_FIELDS))
    for obj, where, fields in checks:
        for key, (ok, expected) in fields.items():
            if not _object(obj) or key not in obj:
                raise DataCorruptError(f"{path}: {where}no field {key!r}.")
            if not ok(obj[key]):
                raise DataCorruptError(
                    f"{path}: {where}field {key!r} should be {expected}, "
                    f"found {type(obj[key]).__name__}."
                )


def dump(dataset: Dataset, folder: Path) -> None:
    """Write ``dataset`` into ``folder`` as ``arrays.npz`` and ``meta.json``."""
    meta, arrays = _to_parts(dataset)
    np.savez(folder / ARRAYS, **arrays)
    (folder / META).write_text(json.dumps(meta))


def write(dataset: Dataset, key: str) -> None:
    """Cache ``dataset`` under ``key`` (``<code digest>-<options and files digest>``).

    Replaces an unreadable entry with the same key, and removes entries written by
    other versions of the loader code.

    Raises
    ------
    DataHomeError
        The cache folder cannot be written.
    """
    entry = _entry(dataset.name, key)
    writable_dir(entry.parent, "dataset cache", CACHE_ENV)
    code = key.split("-", 1)[0]
    for old in entry.parent.iterdir():
        stale = not old.name.startswith((f"{code}-", "."))  # "." = a write under way
        if old == entry or stale:
            _remove(old)
    try:
        with atomic_dir(entry) as tmp:
            dump(dataset, tmp)
            digests = {f: _sha256(tmp / f) for f in (ARRAYS, META)}
            (tmp / DIGESTS).write_text(json.dumps(digests))
    except OSError as exc:  # e.g. an old entry another account owns
        raise DataHomeError(
            f"The dataset cache entry {entry} cannot be written: {exc}."
        ) from exc


def _to_parts(ds: Dataset) -> tuple[dict, dict[str, np.ndarray]]:
    arrays: dict[str, np.ndarray] = {}
    splits_meta = {}
    for split_name, split in ds.splits.items():
        for field_name in ("y", "ids", "X", "images", "imputed"):
            value = getattr(split, field_name)
            if value is not None:
                arrays[f"{split_name}/{field_name}"] = value
        for meta_key, value in split.meta.items():
            arrays[f"{split_name}/meta/{meta_key}"] = value
        splits_meta[split_name] = {
            "texts": list(split.texts) if split.texts is not None else None,
            "meta_keys": list(split.meta),
        }
    prep = None
    if ds.preprocessing is not None:
        arrays["prep/center"] = ds.preprocessing.center
        arrays["prep/scale"] = ds.preprocessing.scale
        prep = {
            "method": ds.preprocessing.method,
            "description": ds.preprocessing.description,
        }
    meta = {
        "name": ds.name,
        "task": ds.task,
        "modality": ds.modality,
        "class_names": list(ds.class_names),
        "feature_names": list(ds.feature_names),
        "feature_groups": {k: list(v) for k, v in ds.feature_groups.items()},
        "units": dict(ds.units),
        "normal_ranges": {k: list(v) for k, v in ds.normal_ranges.items()},
        "preprocessing": prep,
        "description": ds.description,
        "source": ds.source,
        "info": ds.info,
        "splits": splits_meta,
    }
    return meta, arrays


def _from_parts(meta: dict, arrays: dict[str, np.ndarray]) -> Dataset:
    splits = {}
    for split_name in _SPLITS:
        smeta = meta["splits"][split_name]
        texts = smeta["texts"]
        splits[split_name] = Split(
            y=arrays[f"{split_name}/y"],
            ids=arrays[f"{split_name}/ids"],
            X=arrays.get(f"{split_name}/X"),
            texts=tuple(texts) if texts is not None else None,
            images=arrays.get(f"{split_name}/images"),
            imputed=arrays.get(f"{split_name}/imputed"),
            meta={k: arrays[f"{split_name}/meta/{k}"] for k in smeta["meta_keys"]},
        )
    prep = meta["preprocessing"]
    return Dataset(
        name=meta["name"],
        task=meta["task"],
        modality=meta["modality"],
        class_names=tuple(meta["class_names"]),
        feature_names=tuple(meta["feature_names"]),
        feature_groups={k: tuple(v) for k, v in meta["feature_groups"].items()},
        units=meta["units"],
        normal_ranges={
            k: (float(v[0]), float(v[1])) for k, v in meta["normal_ranges"].items()
        },
        preprocessing=Preprocessing(
            method=prep["method"],
            center=arrays["prep/center"],
            scale=arrays["prep/scale"],
            description=prep["description"],
        )
        if prep
        else None,
        description=meta["description"],
        source=meta["source"],
        info=meta["info"],
        **splits,
    )
