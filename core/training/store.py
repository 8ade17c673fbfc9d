"""The model store: safetensors weights plus a JSON card, written atomically.

A stored model is a folder ``<store>/<model_id>/`` holding ``model.safetensors``
and ``card.json``. The card records what the model is (dataset, architecture and
its arguments, penalty and strength, seed), how good it is (metrics), and how it
was made (library versions, time), plus the SHA-256 of the weights file. Loading
checks that hash, so a tampered or truncated file is refused, and never
unpickles anything.

Two stores are searched: the user's (``SPARSELENS_MODELS``) and the models shipped
in ``assets/models`` (read-only). A folder whose card cannot be read, whatever it
holds, is skipped with a message naming it, so one bad card never hides the
others. Only the weights are hashed: the card's metrics and training record are
what the card says, not something a load verifies.

Unfinished writes (``.<id>.<random>.part``) and deletions (``.<id>.<random>.deleting``)
that a crash left in the user's store are removed when the store is listed or
written, once they are older than :data:`STALE_SECONDS`.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import secrets
import shutil
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import safetensors
import torch
from safetensors.torch import load_file, save
from torch import nn

import core
from core.atomic import PART_SUFFIX, atomic_dir, sweep_leftovers
from core.data.fetch import file_digest
from core.errors import ModelStoreError, UnknownNameError
from core.paths import ASSETS_DIR, MODELS_ENV, models_dir, writable_dir
from core.training.models import build_model

WEIGHTS = "model.safetensors"
CARD = "card.json"
CARD_FORMAT = 1
SHIPPED_DIR = ASSETS_DIR / "models"
_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
#: A card is a few kilobytes; a bigger file is not one (and is not read whole).
MAX_CARD_BYTES = 1 << 20
#: A leftover ``.part``/``.deleting`` folder older than this is swept; a save or
#: a delete under way touches its folder within seconds, so it is never swept.
STALE_SECONDS = 3600
_DELETING_SUFFIX = ".deleting"
#: What an unfinished write or deletion leaves behind.
_LEFTOVERS = (PART_SUFFIX, _DELETING_SUFFIX)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # terminal escapes, newlines


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    """An int or float that converts to a float (tables and figures do)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        float(value)
    except OverflowError:  # an int beyond 1e308
        return False
    return True


def _is_text(value: object) -> bool:
    """A string printable on one line (the CLI prints card fields as they are)."""
    return isinstance(value, str) and not _CONTROL.search(value)


def _is_training(value: object) -> bool:
    """The parts of ``training`` that tables read have the types they expect."""
    if not isinstance(value, dict):
        return False
    config = value.get("config", {})
    kept = value.get("surviving_features")
    return (
        isinstance(config, dict)
        and (config.get("epochs") is None or _is_int(config["epochs"]))
        and (kept is None or (isinstance(kept, list) and all(map(_is_text, kept))))
    )


#: Every card field: a check of its value and what the check expects, in words.
_FIELD_CHECKS: dict[str, tuple[Callable[[object], bool], str]] = {
    "model_id": (
        lambda v: isinstance(v, str) and bool(_ID_PATTERN.match(v)),
        "a model ID (letters, digits, '_', '.', '-'; at most 128 characters)",
    ),
    "dataset": (_is_text, "a string without control characters"),
    "architecture": (_is_text, "a string without control characters"),
    "arch_kwargs": (lambda v: isinstance(v, dict), "a JSON object"),
    "penalty": (_is_text, "a string without control characters"),
    "strength": (
        lambda v: _is_number(v) and math.isfinite(float(v)),
        "a finite number",
    ),
    "seed": (_is_int, "an integer"),
    "metrics": (
        lambda v: (
            isinstance(v, dict)
            and all(_is_text(k) and _is_number(x) for k, x in v.items())
        ),
        "a JSON object of numbers",
    ),
    "training": (
        _is_training,
        "a JSON object whose 'config' is an object with an integer 'epochs' and "
        "whose 'surviving_features' is a list of strings",
    ),
    "versions": (lambda v: isinstance(v, dict), "a JSON object"),
    "created": (_is_text, "a string without control characters"),
    "sha256": (
        lambda v: isinstance(v, str) and bool(re.fullmatch(r"[0-9a-f]{64}", v)),
        "64 lowercase hexadecimal digits",
    ),
    "format": (_is_int, "an integer"),
}


@dataclass(frozen=True)
class ModelCard:
    """What a stored model is, how it was made and how well it does.

    Attributes
    ----------
    model_id : str
        Folder name in the store; letters, digits, ``_``, ``.``, ``-``.
    architecture, arch_kwargs
        ``core.training.models.build_model(architecture, **arch_kwargs)`` rebuilds it.
    penalty, strength
        E.g. ``"grad_l1"`` and its λ (or ratio); ``"none"`` and 0 for plain training.
    metrics : dict of str to float
        Held-out metrics (AUC, accuracy, ||θ||₁, D_eff, ...).
    sha256 : str
        Digest of ``model.safetensors``, checked on every load.
    """

    model_id: str
    dataset: str
    architecture: str
    arch_kwargs: dict
    penalty: str = "none"
    strength: float = 0.0
    seed: int = 0
    metrics: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    created: str = ""
    sha256: str = ""
    format: int = CARD_FORMAT

    @classmethod
    def from_json(cls, text: str, source: Path) -> ModelCard:
        """The card in ``text``, every field checked; ``source`` names it in errors.

        Fields this version does not know are ignored: a card written by a newer
        SparseLens of the same :data:`CARD_FORMAT` only adds fields, and a change
        in meaning raises the format, which is refused.

        Raises
        ------
        ModelStoreError
            Not JSON, not an object, a required field missing, a field of the
            wrong type, or a newer format; the message names ``source``.
        """
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:  # deep nesting: RecursionError
            raise ModelStoreError(
                f"Model card {source} is not valid JSON: {exc}"
            ) from exc
        if not isinstance(data, dict):
            raise ModelStoreError(f"Model card {source} must hold a JSON object")
        required = {"model_id", "dataset", "architecture", "arch_kwargs", "sha256"}
        missing = sorted(required - set(data))
        if missing:
            raise ModelStoreError(f"Model card {source} lacks {', '.join(missing)}")
        for name, (valid, expected) in _FIELD_CHECKS.items():
            if name in data and not valid(data[name]):
                got = repr(data[name])
                got = got if len(got) <= 40 else f"{got[:37]}..."
                raise ModelStoreError(
                    f"Model card {source}: {name!r} must be {expected}; it is "
                    f"{type(data[name]).__name__} {got}"
                )
        fmt = data.get("format", CARD_FORMAT)
        if fmt > CARD_FORMAT:
            raise ModelStoreError(
                f"Model card {source} has format {fmt}; this SparseLens "
                f"reads format {CARD_FORMAT} — upgrade SparseLens."
            )
        if fmt < 1:
            raise ModelStoreError(
                f"Model card {source} has format {fmt}; card formats start at 1."
            )
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class StoredModel:
    """A model's card, its folder, and whether it is a shipped (read-only) one."""

    card: ModelCard
    path: Path
    shipped: bool


@dataclass(frozen=True)
class StoreListing:
    """What :func:`scan_models` found.

    Attributes
    ----------
    models : list of StoredModel
        The readable models, as :func:`list_models` orders them.
    skipped : list of str
        One message per folder that was skipped, naming it and why.
    """

    models: list[StoredModel]
    skipped: list[str]


def _versions() -> dict[str, str]:
    return {
        "sparselens": core.__version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "safetensors": safetensors.__version__,
    }


def _write_weights(state: dict[str, torch.Tensor], path: Path, model_id: str) -> None:
    # Through bytes: safetensors' save_file makes the file 0600 whatever the
    # umask, which would hide a shared store's weights from its other readers.
    path.write_bytes(save(state, metadata={"model_id": model_id}))


def default_model_id(dataset: str, architecture: str, penalty: str, seed: int) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    return f"{dataset}-{architecture}-{penalty}-s{seed}-{stamp}"


def check_can_store(model_id: str, store: Path | None = None) -> Path:
    """Check that a model can be stored as ``model_id``, before any work is done.

    A training calls this before it starts (with the ID it will use, generated
    or chosen), so that a bad or taken ID or a read-only store fails in
    seconds rather than after the training.

    Parameters
    ----------
    model_id : str
        The ID the model will be stored under.
    store : Path, optional
        The store folder (default: :func:`core.paths.models_dir`); created if
        missing.

    Returns
    -------
    Path
        The store folder.

    Raises
    ------
    ValueError
        A malformed ``model_id``, or one already taken in ``store``.
    DataHomeError
        The store cannot be created or written.
    """
    if not _ID_PATTERN.match(model_id):
        raise ValueError(
            f"Model ID {model_id!r} must start with a letter or digit and use only "
            "letters, digits, '_', '.' and '-' (at most 128 characters)."
        )
    store = writable_dir(store or models_dir(), "model store", MODELS_ENV)
    if (store / model_id).exists():
        raise ValueError(f"A model named {model_id!r} already exists in {store}")
    return store


def save_model(
    model: nn.Module,
    *,
    dataset: str,
    architecture: str,
    arch_kwargs: dict,
    penalty: str = "none",
    strength: float = 0.0,
    seed: int = 0,
    metrics: dict | None = None,
    training: dict | None = None,
    model_id: str | None = None,
    store: Path | None = None,
) -> StoredModel:
    """Store ``model`` with its card; the folder appears whole or not at all.

    Raises
    ------
    ValueError
        A bad ``model_id``, an ID already taken, or non-finite weights.
    DataHomeError
        The store is not writable.
    ModelStoreError
        The files could not be written (disk full, ...), or another process
        stored a model under the same ID while this one was being written.
    """
    model_id = model_id or default_model_id(dataset, architecture, penalty, seed)
    store = check_can_store(model_id, store)
    sweep_leftovers(store, _LEFTOVERS, STALE_SECONDS)
    target = store / model_id
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    bad = [
        k
        for k, v in state.items()
        if v.is_floating_point() and not torch.isfinite(v).all()
    ]
    if bad:
        raise ValueError(
            f"Refusing to store a model with non-finite weights in {', '.join(bad)}"
        )
    # Round-trip the architecture now, so a card that cannot rebuild is never written.
    build_model(architecture, **arch_kwargs).load_state_dict(state)
    try:
        with atomic_dir(target) as tmp:
            _write_weights(state, tmp / WEIGHTS, model_id)
            card = ModelCard(
                model_id=model_id,
                dataset=dataset,
                architecture=architecture,
                arch_kwargs=dict(arch_kwargs),
                penalty=penalty,
                strength=float(strength),
                seed=int(seed),
                metrics={k: float(v) for k, v in (metrics or {}).items()},
                training=dict(training or {}),
                versions=_versions(),
                created=datetime.now(UTC).isoformat(timespec="seconds"),
                sha256=file_digest(tmp / WEIGHTS),
            )
            (tmp / CARD).write_text(json.dumps(asdict(card), indent=2, sort_keys=True))
    except FileExistsError as exc:
        raise ModelStoreError(
            f"Another process stored a model named {model_id!r} in {store} while "
            "this one was being written; this model was not stored. Choose "
            "another ID."
        ) from exc
    except OSError as exc:
        raise ModelStoreError(
            f"Cannot write model {model_id!r} in {store}: {exc.strerror or exc}"
        ) from exc
    return StoredModel(card, target, shipped=False)


def _read_card(folder: Path) -> ModelCard:
    path = folder / CARD
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_CARD_BYTES + 1)
    except OSError as exc:
        raise ModelStoreError(
            f"Cannot read model card {path}: {exc.strerror or exc}"
        ) from exc
    if len(raw) > MAX_CARD_BYTES:
        raise ModelStoreError(
            f"Model card {path} is over {MAX_CARD_BYTES:,} bytes; a card is a few "
            "kilobytes."
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelStoreError(f"Model card {path} is not UTF-8 text: {exc}") from exc
    card = ModelCard.from_json(text, path)
    if card.model_id != folder.name:
        # find_model looks models up by folder: a card naming another ID would
        # be listed under a name that loads a different model.
        raise ModelStoreError(
            f"Model card {path} names model {card.model_id!r}, but its folder is "
            f"{folder.name!r}"
        )
    return card


def _stores() -> list[tuple[Path, bool]]:
    return [(models_dir(), False), (SHIPPED_DIR, True)]


def scan_models(dataset: str | None = None) -> StoreListing:
    """Stored models, and a message for every folder that had to be skipped.

    Never raises for what a store holds: a folder whose card is missing,
    unreadable, malformed or of a newer format is skipped and named in
    :attr:`StoreListing.skipped`. Sweeps the user's store of stale leftovers
    first (see :func:`core.atomic.sweep_leftovers`).

    Parameters
    ----------
    dataset : str, optional
        Only models trained on this dataset.

    Returns
    -------
    StoreListing
        The models (user store first, then shipped ones, newest first within
        each) and the skipped folders.
    """
    found: list[StoredModel] = []
    skipped: list[str] = []
    for store, shipped in _stores():
        if not shipped:
            sweep_leftovers(store, _LEFTOVERS, STALE_SECONDS)
        try:
            folders = sorted(p for p in store.iterdir() if p.is_dir())
        except FileNotFoundError:
            continue  # no model stored yet
        except OSError as exc:
            skipped.append(f"Cannot list model store {store}: {exc.strerror or exc}")
            continue
        for folder in folders:
            if folder.name.startswith("."):
                continue  # an unfinished write or deletion
            try:
                card = _read_card(folder)
            except ModelStoreError as exc:
                skipped.append(f"Skipping stored model {folder.name!r}: {exc}")
                continue
            if dataset is None or card.dataset == dataset:
                found.append(StoredModel(card, folder, shipped))
    found.sort(key=lambda m: m.card.created, reverse=True)
    # stable: newest first within each store
    return StoreListing(sorted(found, key=lambda m: m.shipped), skipped)


def list_models(dataset: str | None = None) -> list[StoredModel]:
    """Stored models (user store first, then shipped ones), newest first.

    Folders whose card cannot be read are skipped with a warning naming them;
    :func:`scan_models` returns those messages instead.
    """
    listing = scan_models(dataset)
    for message in listing.skipped:
        warnings.warn(message, stacklevel=2)
    return listing.models


def find_model(model_id: str) -> StoredModel:
    """The stored model called ``model_id`` (the user store wins over shipped)."""
    for store, shipped in _stores():
        folder = store / model_id
        if _ID_PATTERN.match(model_id) and folder.is_dir():
            return StoredModel(_read_card(folder), folder, shipped)
    raise UnknownNameError(
        f"No stored model {model_id!r} in {models_dir()} or {SHIPPED_DIR}; "
        "`python -m core models` lists them."
    )


def load_model(model_id: str | Path) -> tuple[nn.Module, ModelCard]:
    """Rebuild a stored model in eval mode, after checking its weights' hash.

    Parameters
    ----------
    model_id : str or Path
        A model ID from :func:`list_models`, or a model folder.

    Raises
    ------
    ModelStoreError
        Missing, tampered with (hash mismatch), truncated, a card that cannot
        be read or whose architecture cannot be built, or weights not matching
        the architecture; the message says which.
    UnknownNameError
        No model with that ID.
    """
    folder = Path(model_id) if isinstance(model_id, Path) else find_model(model_id).path
    card = _read_card(folder)
    weights = folder / WEIGHTS
    if not weights.is_file():
        raise ModelStoreError(
            f"Stored model {card.model_id} has no weights file {weights}"
        )
    digest = file_digest(weights)
    if digest != card.sha256:
        raise ModelStoreError(
            f"Weights of {card.model_id} ({weights}) do not match the hash in its card: "
            "the file was modified or truncated after it was stored. Retrain or "
            "restore the model."
        )
    try:
        state = load_file(str(weights))
    except Exception as exc:  # safetensors raises its own error types
        raise ModelStoreError(f"Cannot read weights {weights}: {exc}") from exc
    # The card's sizes are checked against the weights on the meta device
    # (no memory) first: a card may declare a model far larger than its file.
    _check_shapes(card, folder, _build(card, folder, device="meta"), state)
    model = _build(card, folder, device="cpu")
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ModelStoreError(
            f"Weights of {card.model_id} do not fit architecture {card.architecture}: {exc}"
        ) from exc
    return model.eval(), card


def _build(card: ModelCard, folder: Path, *, device: str) -> nn.Module:
    try:
        with torch.device(device):
            return build_model(card.architecture, **card.arch_kwargs)
    except (UnknownNameError, ValueError, TypeError, RuntimeError) as exc:
        raise ModelStoreError(
            f"Stored model {card.model_id} ({folder}) cannot be rebuilt from its "
            f"card: {exc}"
        ) from exc


def _check_shapes(
    card: ModelCard, folder: Path, skeleton: nn.Module, state: dict
) -> None:
    """Refuse weights whose names or shapes differ from what the card builds."""
    expected = {k: tuple(v.shape) for k, v in skeleton.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items()}
    if expected != found:
        differ = sorted(
            k for k in expected.keys() | found.keys() if expected.get(k) != found.get(k)
        )
        raise ModelStoreError(
            f"Weights of {card.model_id} ({folder}) do not fit the architecture its "
            f"card declares ({card.architecture}, {card.arch_kwargs}): "
            + ", ".join(f"{k} {found.get(k)} vs {expected.get(k)}" for k in differ[:3])
        )


def delete_model(model_id: str) -> Path:
    """Delete a model from the user's store; shipped models cannot be deleted.

    The folder is first renamed to a hidden name (invisible to listings), then
    removed, so a crash midway never leaves a half-deleted model that loads.

    Raises
    ------
    UnknownNameError
        No such model in the user's store.
    ValueError
        The model is a shipped one (in ``assets/models``).
    """
    stored = find_model(model_id)
    if stored.shipped:
        raise ValueError(
            f"{model_id} is a shipped model in {SHIPPED_DIR}; it cannot be deleted"
        )
    # A name of its own, so a leftover of an interrupted delete never blocks this one.
    trash = stored.path.with_name(
        f".{stored.path.name}.{secrets.token_hex(4)}{_DELETING_SUFFIX}"
    )
    try:
        os.rename(stored.path, trash)
    except FileNotFoundError as exc:
        raise UnknownNameError(
            f"Stored model {model_id!r} was deleted by someone else meanwhile"
        ) from exc
    shutil.rmtree(trash)
    return stored.path
