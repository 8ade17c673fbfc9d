"""Registered user datasets: one folder each under ``SPARSELENS_USER_DATA``.

A folder ``<name>/`` holds the parsed dataset (``arrays.npz`` and
``meta.json``, the format of the parsed cache, read without pickle) and
``manifest.json``: what kind of import made it, the source file's name, size
and SHA-256, the options used, warnings, and the SHA-256 of each stored file.
Loading checks those digests, so a truncated or edited folder is reported, not
served. A folder is written beside its final place and renamed into it, so a
failed or interrupted registration leaves nothing behind that could be listed.

The registry serves these folders through the same ``dataset_names()`` /
``load_dataset()`` / ``availability()`` as the built-in datasets.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from core import __version__
from core.atomic import PART_SUFFIX, atomic_dir, sweep_leftovers
from core.data import cache, registry
from core.data.types import Dataset
from core.data.user.tables import Progress
from core.data.user.validate import NAME_PATTERN, check_dataset_name, shown_visibly
from core.errors import DataCorruptError, InvalidDataError, UnknownNameError
from core.paths import USER_DATA_ENV, user_data_dir, writable_dir

MANIFEST = "manifest.json"
FORMAT = 1
KINDS = ("table", "texts", "features", "mimic")
_FILES = ("arrays.npz", "meta.json")
_STALE_SECONDS = 3600  # a leftover ".<name>.*" folder older than this is removed


@dataclass(frozen=True)
class Registered:
    """One registered dataset: its folder and its manifest."""

    name: str
    folder: Path
    manifest: dict

    @property
    def content_sha256(self) -> str:
        return str(self.manifest.get("content_sha256", ""))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _bundled() -> set[str]:
    return set(registry._REGISTRY)


def register(
    dataset: Dataset,
    *,
    kind: str,
    source: dict,
    options: dict,
    warnings: list[str] | None = None,
    replace: bool = False,
    progress: Progress | None = None,
) -> Registered:
    """Store ``dataset`` under its name, with a manifest and content hashes.

    Parameters
    ----------
    dataset : Dataset
        Its ``name`` becomes the folder's.
    kind : {"table", "texts", "features", "mimic"}
    source : dict
        What is known of the source file (name, format, sha256, bytes, ...).
    options : dict
        The import options, JSON-serialisable.
    warnings : list of str
    replace : bool
        Replace a registered dataset of the same name; otherwise that is an
        error.

    Raises
    ------
    InvalidDataError
        A bad or taken name.
    DataHomeError
        The folder cannot be written.
    """
    name = check_dataset_name(dataset.name)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if name in _bundled():
        raise InvalidDataError(
            f"{name!r} is the name of a built-in dataset; choose another name."
        )
    home = writable_dir(user_data_dir(), "user dataset folder", USER_DATA_ENV)
    sweep_leftovers(home, (".staged", ".old", PART_SUFFIX), _STALE_SECONDS)
    final = home / name
    if final.exists() and not replace:
        raise InvalidDataError(
            f"A dataset named {name!r} is already registered; choose another name "
            "or replace it."
        )
    if progress is not None:
        progress(0.9, "writing the dataset")
    staged = home / f".{name}.{uuid.uuid4().hex[:8]}.staged"
    with atomic_dir(staged) as tmp:
        cache.dump(dataset, tmp)
        files = {f: _sha256(tmp / f) for f in _FILES}
        manifest = _manifest(dataset, kind, source, options, warnings, files)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))
    _move_into_place(staged, final)
    _listing.cache_clear()
    if progress is not None:
        progress(1.0, f"registered {name}")
    return Registered(name, final, manifest)


def _manifest(
    dataset: Dataset,
    kind: str,
    source: dict,
    options: dict,
    warnings: list[str] | None,
    files: dict[str, str],
) -> dict:
    """The manifest of a dataset whose stored ``files`` have these digests."""
    content = hashlib.sha256(
        "".join(f"{f}:{files[f]}\n" for f in _FILES).encode()
    ).hexdigest()
    return {
        "format": FORMAT,
        "name": dataset.name,
        "kind": kind,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "sparselens": __version__,
        "task": dataset.task,
        "modality": dataset.modality,
        "summary": summary_of(dataset, source),
        "class_names": list(dataset.class_names),
        "n_features": dataset.n_features,
        "sizes": {k: len(s) for k, s in dataset.splits.items()},
        "source": source,
        "options": options,
        "warnings": list(warnings or []),
        "files": files,
        "content_sha256": content,
    }


def _move_into_place(staged: Path, final: Path) -> None:
    """Rename the staged folder to ``final``, swapping out a replaced one.

    Raises
    ------
    InvalidDataError
        A rename failed (e.g. a concurrent registration of the name); the
        staged folder is removed.
    """
    try:
        if final.exists():  # replace: swap, then remove the old folder
            trash = final.parent / f".{final.name}.{uuid.uuid4().hex[:8]}.old"
            os.rename(final, trash)
            os.rename(staged, final)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.rename(staged, final)
    except OSError as exc:
        shutil.rmtree(staged, ignore_errors=True)
        raise InvalidDataError(
            f"Could not register {final.name!r} ({exc.strerror or exc}); another "
            "registration of that name may have been under way. Try again."
        ) from exc


def summary_of(ds: Dataset, source: dict) -> str:
    """One line for the sidebar: the file, sizes and classes."""
    n = sum(len(s) for s in ds.splits.values())
    what = f"{ds.n_features} features" if ds.n_features else "texts"
    file = shown_visibly(str(source.get("file", "your file"))[:60])
    return f"Your data from {file}: {n:,} rows, {what}, {ds.n_classes} classes"


def registered() -> list[Registered]:
    """Every registered dataset, by name (unreadable manifests included)."""
    home = user_data_dir()
    try:
        stamp = home.stat().st_mtime_ns
    except OSError:
        return []
    return list(_listing(str(home), stamp))


@functools.lru_cache(maxsize=8)
def _listing(home: str, stamp: int) -> tuple[Registered, ...]:
    # Keyed by the folder's mtime: registering or deleting renames an entry in
    # it, which changes the mtime, so the listing is read again.
    out = []
    try:
        entries = sorted(Path(home).iterdir())
    except OSError:  # not a folder, or unreadable: no registered datasets
        return ()
    for folder in entries:
        # Dot-folders are registrations under way; other names were not made here.
        if not NAME_PATTERN.fullmatch(folder.name) or not folder.is_dir():
            continue
        try:
            manifest = json.loads((folder / MANIFEST).read_text())
            if not isinstance(manifest, dict):
                raise ValueError("not an object")
        except (OSError, ValueError) as exc:
            manifest = {"error": f"unreadable {MANIFEST} ({exc})"}
        out.append(Registered(folder.name, folder, manifest))
    return tuple(out)


def find(name: str) -> Registered:
    """The registered dataset ``name``."""
    for entry in registered():
        if entry.name == name:
            return entry
    raise UnknownNameError(f"No registered dataset is named {name!r}.")


def load(name: str) -> Dataset:
    """Read a registered dataset (checking its files' digests), never re-parsing.

    Raises
    ------
    UnknownNameError
        Nothing is registered under ``name``.
    DataCorruptError
        The manifest is unreadable, a file is missing or its digest differs.
    """
    entry = find(name)
    hint = f"delete {name!r} and register the file again"
    if "error" in entry.manifest:
        raise DataCorruptError(f"{entry.folder}: {entry.manifest['error']}; {hint}.")
    expected = entry.manifest.get("files", {})
    for fname in _FILES:
        path = entry.folder / fname
        if not path.is_file():
            raise DataCorruptError(f"{path} is missing; {hint}.")
        if _sha256(path) != expected.get(fname):
            raise DataCorruptError(
                f"{path} does not match the SHA-256 in its manifest (changed or "
                f"truncated since it was registered); {hint}."
            )
    try:
        return cache.load(entry.folder)
    except DataCorruptError as exc:
        raise DataCorruptError(
            f"{entry.folder} cannot be read ({exc}); {hint}."
        ) from exc


def delete(name: str) -> Path:
    """Remove the registered dataset ``name``; returns the folder it was in.

    The folder is first renamed out of the listing, so a failure half-way never
    leaves a listed, half-deleted dataset.
    """
    entry = find(name)
    trash = entry.folder.parent / f".{name}.{uuid.uuid4().hex[:8]}.old"
    os.rename(entry.folder, trash)
    shutil.rmtree(trash, ignore_errors=True)
    _listing.cache_clear()
    return entry.folder


def content_stamp(name: str) -> str | None:
    """The content hash of a registered dataset, None for a built-in one.

    Caches keyed by dataset name add this, so that a dataset deleted and
    registered again under the same name is never served stale.
    """
    if name in _bundled():
        return None
    try:
        return find(name).content_sha256 or None
    except UnknownNameError:
        return None


def _spec(entry: Registered) -> registry.DatasetSpec:
    m = entry.manifest

    def build(files: dict) -> Dataset:
        return load(entry.name)

    if "error" in m:
        summary = f"Unreadable registration ({m['error']}); delete it"
    else:
        summary = str(m.get("summary", "your data"))
    return registry.DatasetSpec(
        name=entry.name,
        task="multiclass" if m.get("task") == "multiclass" else "binary",
        modality=m.get("modality", "tabular"),
        summary=summary,
        source=f"registered from {m.get('source', {}).get('file', 'your file')}",
        build=build,
        stored=entry.folder,
    )


def specs() -> dict[str, registry.DatasetSpec]:
    """Specs of the registered datasets (the registry's provider)."""
    return {e.name: _spec(e) for e in registered() if e.name not in _bundled()}
