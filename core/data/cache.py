"""Parsed-dataset cache: one folder per (dataset, options, source files) key.

Arrays go to ``arrays.npz`` (read without pickle), everything else to
``meta.json``. Folders are written atomically, so a crash never leaves a cache
entry that later loads.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np

from core.atomic import atomic_dir
from core.data.types import Dataset, Preprocessing, Split
from core.paths import CACHE_ENV, cache_dir, writable_dir

_SPLITS = ("train", "val", "test")


def _entry(name: str, key: str) -> Path:
    return cache_dir() / name / key


def read(name: str, key: str) -> Dataset | None:
    """The cached dataset, or None when absent or unreadable (it is then rebuilt)."""
    try:
        return load(_entry(name, key))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None


def load(folder: Path) -> Dataset:
    """The dataset :func:`dump` wrote into ``folder`` (never unpickles).

    Raises
    ------
    OSError, ValueError, KeyError, zipfile.BadZipFile
        A file is missing, truncated or not what :func:`dump` writes.
    """
    meta = json.loads((folder / "meta.json").read_text())
    with np.load(folder / "arrays.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return _from_parts(meta, arrays)


def dump(dataset: Dataset, folder: Path) -> None:
    """Write ``dataset`` into ``folder`` as ``arrays.npz`` and ``meta.json``."""
    meta, arrays = _to_parts(dataset)
    np.savez(folder / "arrays.npz", **arrays)
    (folder / "meta.json").write_text(json.dumps(meta))


def write(dataset: Dataset, key: str) -> None:
    """Cache ``dataset`` under ``key`` (``<code digest>-<options and files digest>``).

    Replaces an unreadable entry with the same key, and removes entries written by
    other versions of the loader code.
    """
    entry = _entry(dataset.name, key)
    writable_dir(entry.parent, "dataset cache", CACHE_ENV)
    code = key.split("-", 1)[0]
    for old in entry.parent.iterdir():
        stale = not old.name.startswith((f"{code}-", "."))  # "." = a write under way
        if old == entry or stale:
            shutil.rmtree(old, ignore_errors=True)
    with atomic_dir(entry) as tmp:
        dump(dataset, tmp)


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
