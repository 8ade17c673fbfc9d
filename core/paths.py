"""Where SparseLens keeps raw data, parsed caches and trained models.

Three folders, each overridable by an environment variable:

``SPARSELENS_DATA``
    the *data home*: raw files as their canonical sources publish them
    (default ``$XDG_CACHE_HOME/sparselens/data``). May be read-only when every
    file a loader needs is already there.
``SPARSELENS_CACHE``
    parsed datasets, so that a second load is fast
    (default ``$XDG_CACHE_HOME/sparselens/parsed``).
``SPARSELENS_MODELS``
    the user's model store (default ``$XDG_DATA_HOME/sparselens/models``).
``SPARSELENS_LAYERS``
    sparse decision layers (elastic-net paths on deep features) the user
    computed (default ``$XDG_DATA_HOME/sparselens/sparse_layers``).
``SPARSELENS_ENCODERS``
    fine-tuned sentence encoders (``python -m core finetune-encoder``)
    (default ``$XDG_DATA_HOME/sparselens/encoders``).
``SPARSELENS_USER_DATA``
    datasets the user registered from their own files (``python -m core
    add-data`` or the dashboard's Add data page), one folder each, already
    parsed (default ``$XDG_DATA_HOME/sparselens/datasets``). Kept apart from
    the data home, which may be a read-only mirror.
"""

from __future__ import annotations

import os
from pathlib import Path

from core.errors import DataHomeError

DATA_ENV = "SPARSELENS_DATA"
CACHE_ENV = "SPARSELENS_CACHE"
MODELS_ENV = "SPARSELENS_MODELS"
USER_DATA_ENV = "SPARSELENS_USER_DATA"
LAYERS_ENV = "SPARSELENS_LAYERS"
ENCODERS_ENV = "SPARSELENS_ENCODERS"

#: Shipped pretrained models (read-only, part of the repository).
ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"


def _xdg(var: str, fallback: str) -> Path:
    base = os.environ.get(var)
    return Path(base) if base else Path.home() / fallback


def data_home(override: str | os.PathLike | None = None) -> Path:
    """The folder loaders read raw files from (and download into)."""
    if override is not None:
        return Path(override).expanduser()
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser()
    return _xdg("XDG_CACHE_HOME", ".cache") / "sparselens" / "data"


def cache_dir() -> Path:
    """The folder parsed datasets are cached in."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    return _xdg("XDG_CACHE_HOME", ".cache") / "sparselens" / "parsed"


def models_dir() -> Path:
    """The user's model store."""
    env = os.environ.get(MODELS_ENV)
    if env:
        return Path(env).expanduser()
    return _xdg("XDG_DATA_HOME", ".local/share") / "sparselens" / "models"


def layers_dir() -> Path:
    """The folder computed sparse decision layers are stored in."""
    env = os.environ.get(LAYERS_ENV)
    if env:
        return Path(env).expanduser()
    return _xdg("XDG_DATA_HOME", ".local/share") / "sparselens" / "sparse_layers"


def encoders_dir() -> Path:
    """The folder fine-tuned sentence encoders are stored in."""
    env = os.environ.get(ENCODERS_ENV)
    if env:
        return Path(env).expanduser()
    return _xdg("XDG_DATA_HOME", ".local/share") / "sparselens" / "encoders"


def user_data_dir() -> Path:
    """The folder registered user datasets live in (``SPARSELENS_LAYERS``
        sparse decision layers (elastic-net paths on deep features) the user
        computed (default ``$XDG_DATA_HOME/sparselens/sparse_layers``).
    ``SPARSELENS_USER_DATA``)."""
    env = os.environ.get(USER_DATA_ENV)
    if env:
        return Path(env).expanduser()
    return _xdg("XDG_DATA_HOME", ".local/share") / "sparselens" / "datasets"


def writable_dir(path: Path, what: str, env: str) -> Path:
    """Create ``path`` if needed and check that files can be written in it.

    Raises
    ------
    DataHomeError
        Naming the folder, why it failed and the variable that moves it.
    """
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise DataHomeError(
            f"The {what} {path} is not writable ({exc.strerror or exc}). "
            f"Point {env} at a folder you can write to."
        ) from exc
    return path
