"""The registry of named datasets: what each needs, whether it is here, loading."""

from __future__ import annotations

import difflib
import functools
import hashlib
import importlib.util
import json
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.data import cache, fetch
from core.data.fetch import RemoteFile
from core.data.types import Dataset, Modality, Task
from core.errors import DataHomeError, DataUnavailableError, UnknownNameError
from core.paths import data_home

#: ``build(files, **options)``: ``files`` maps each required ``RemoteFile.path``
#: of the alternative that was found to its local path.
Builder = Callable[..., Dataset]


@dataclass(frozen=True)
class DatasetSpec:
    """How to obtain and parse one named dataset.

    Parameters
    ----------
    alternatives : tuple of tuple of RemoteFile
        Sets of files any one of which suffices, the first being the canonical
        download (e.g. full MNIST IDX files, else the 10k mirror). Empty when the
        data ships with a Python package.
    packages : tuple of str
        Python modules the loader imports (e.g. ``"SurvSet"``).
    options : mapping
        Loader keyword options and their defaults; part of the cache key.
    stored : path, optional
        A folder holding the dataset already parsed (a registered user
        dataset): it is available while the folder exists and is read by
        ``build`` directly, never through the parsed cache.
    """

    name: str
    task: Task
    modality: Modality
    summary: str
    source: str
    build: Builder
    alternatives: tuple[tuple[RemoteFile, ...], ...] = ()
    packages: tuple[str, ...] = ()
    options: Mapping[str, object] = field(default_factory=dict)
    stored: Path | None = None


_REGISTRY: dict[str, DatasetSpec] = {}


def register(spec: DatasetSpec) -> DatasetSpec:
    if spec.name in _REGISTRY:
        raise ValueError(f"dataset {spec.name!r} is registered twice")
    _REGISTRY[spec.name] = spec
    return spec


#: Callables returning specs that come and go at run time (the user's
#: registered datasets), asked on every lookup after the built-in ones.
_PROVIDERS: list[Callable[[], Mapping[str, DatasetSpec]]] = []


def add_provider(provider: Callable[[], Mapping[str, DatasetSpec]]) -> None:
    """Also serve the specs ``provider()`` returns (built-in names win)."""
    _PROVIDERS.append(provider)


def _specs() -> dict[str, DatasetSpec]:
    specs = dict(_REGISTRY)
    for provider in _PROVIDERS:
        for name, spec in provider().items():
            specs.setdefault(name, spec)
    return specs


def dataset_names() -> list[str]:
    """Dataset names: built-in ones in registration order, then the user's."""
    return list(_specs())


def get_spec(name: str) -> DatasetSpec:
    """The spec of ``name``; an unknown name raises with the closest matches."""
    specs = _specs()
    try:
        return specs[name]
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(name), specs, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownNameError(
            f"Unknown dataset {name!r}.{hint} Known datasets: {', '.join(specs)}."
        ) from None


@dataclass(frozen=True)
class Availability:
    available: bool
    where: str  # the files or package found, or what is missing


def availability(name: str, data_dir: str | Path | None = None) -> Availability:
    """Whether ``name`` can be loaded now without downloading anything."""
    spec = get_spec(name)
    if spec.stored is not None:
        if spec.stored.is_dir():
            return Availability(True, f"registered in {spec.stored}")
        return Availability(False, f"its folder {spec.stored} is gone")
    missing_pkg = [p for p in spec.packages if importlib.util.find_spec(p) is None]
    if missing_pkg:
        return Availability(
            False, f"Python package {', '.join(missing_pkg)} not installed"
        )
    if not spec.alternatives:
        where = f"package {', '.join(spec.packages)}" if spec.packages else "generated"
        return Availability(True, where)
    home = data_home(data_dir)
    for files in spec.alternatives:
        if all(fetch.find(f, home) for f in files):
            return Availability(True, ", ".join(str(home / f.path) for f in files))
    wanted = " or ".join("+".join(f.path for f in alt) for alt in spec.alternatives)
    return Availability(False, f"missing in {home}: {wanted}")


def _resolve_files(spec: DatasetSpec, home: Path, download: bool) -> dict[str, Path]:
    for files in spec.alternatives:
        found = {f.path: fetch.find(f, home) for f in files}
        if all(found.values()):
            return found  # type: ignore[return-value]
    canonical = spec.alternatives[0] if spec.alternatives else ()
    return {f.path: fetch.ensure(f, home, download=download) for f in canonical}


def _check_options(
    spec: DatasetSpec, options: Mapping[str, object]
) -> dict[str, object]:
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        allowed = ", ".join(spec.options) or "none"
        raise ValueError(
            f"Dataset {spec.name!r} has no option {', '.join(unknown)}; options: {allowed}."
        )
    return {**spec.options, **options}


@functools.cache
def _loader_code_digest() -> str:
    """Digest of the loaders' source: any change to parsing invalidates the cache."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for path in sorted([*here.glob("*.py"), *(here / "builtin").glob("*.py")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _cache_key(
    spec: DatasetSpec, options: Mapping[str, object], files: Mapping[str, Path]
) -> str:
    stamp = {
        "name": spec.name,
        "code": _loader_code_digest(),
        "options": {k: repr(v) for k, v in sorted(options.items())},
        "files": {
            k: [p.stat().st_size, p.stat().st_mtime_ns]
            for k, p in sorted(files.items())
        },
    }
    digest = hashlib.sha256(json.dumps(stamp, sort_keys=True).encode()).hexdigest()
    # The code digest leads, so the cache can drop entries of older loader code.
    return f"{_loader_code_digest()[:12]}-{digest[:16]}"


def load_dataset(
    name: str,
    data_dir: str | Path | None = None,
    *,
    download: bool = True,
    use_cache: bool = True,
    **options: object,
) -> Dataset:
    """Load a registered dataset with its fixed-seed splits.

    Parameters
    ----------
    name : str
        A name from :func:`dataset_names`.
    data_dir : path, optional
        Data home; defaults to ``SPARSELENS_DATA`` or the per-user cache.
    download : bool
        Download missing files from their canonical source.
    use_cache : bool
        Read and write the parsed cache (``SPARSELENS_CACHE``).
    **options
        Loader options (see ``get_spec(name).options``).

    Raises
    ------
    UnknownNameError, ValueError, DataUnavailableError, DataCorruptError, DataHomeError
    """
    spec = get_spec(name)
    opts = _check_options(spec, options)
    if spec.stored is not None:  # already parsed: the folder is its own cache
        return spec.build({}, **opts)
    for pkg in spec.packages:
        if importlib.util.find_spec(pkg) is None:
            raise DataUnavailableError(
                f"Dataset {name!r} needs the Python package {pkg!r}; "
                "install the project's requirements.txt."
            )
    files = _resolve_files(spec, data_home(data_dir), download)
    key = _cache_key(spec, opts, files)
    if use_cache:
        cached = cache.read(spec.name, key)
        if cached is not None:
            return cached
    dataset = spec.build(files, **opts)
    if use_cache:
        try:
            cache.write(dataset, key)
        except DataHomeError as exc:  # a read-only cache only costs speed
            warnings.warn(f"{exc} Datasets will be parsed on every load.", stacklevel=2)
    return dataset
