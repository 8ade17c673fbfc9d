"""The model store: safetensors weights plus a JSON card, written atomically.

A stored model is a folder ``<store>/<model_id>/`` holding ``model.safetensors``
and ``card.json``. The card records what the model is (dataset, architecture and
its arguments, penalty and strength, seed), how good it is (metrics), and how it
was made (library versions, time), plus the SHA-256 of the weights file. Loading
checks that hash, so a tampered or truncated file is refused, and never
unpickles anything.

Two stores are searched: the user's (``SPARSELENS_MODELS``) and the models shipped
in ``assets/models`` (read-only).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import warnings
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import safetensors
import torch
from safetensors.torch import load_file, save_file
from torch import nn

import core
from core.atomic import atomic_dir
from core.data.fetch import file_digest
from core.errors import ModelStoreError, UnknownNameError
from core.paths import ASSETS_DIR, MODELS_ENV, models_dir, writable_dir
from core.training.models import build_model

WEIGHTS = "model.safetensors"
CARD = "card.json"
CARD_FORMAT = 1
SHIPPED_DIR = ASSETS_DIR / "models"
_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


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
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ModelStoreError(
                f"Model card {source} is not valid JSON: {exc}"
            ) from exc
        if not isinstance(data, dict):
            raise ModelStoreError(f"Model card {source} must hold a JSON object")
        required = {"model_id", "dataset", "architecture", "arch_kwargs", "sha256"}
        missing = sorted(required - set(data))
        if missing:
            raise ModelStoreError(f"Model card {source} lacks {', '.join(missing)}")
        if data.get("format", CARD_FORMAT) > CARD_FORMAT:
            raise ModelStoreError(
                f"Model card {source} has format {data['format']}; this SparseLens "
                f"reads format {CARD_FORMAT} — upgrade SparseLens."
            )
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class StoredModel:
    card: ModelCard
    path: Path
    shipped: bool


def _versions() -> dict[str, str]:
    return {
        "sparselens": core.__version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "safetensors": safetensors.__version__,
    }


def default_model_id(dataset: str, architecture: str, penalty: str, seed: int) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    return f"{dataset}-{architecture}-{penalty}-s{seed}-{stamp}"


def check_new_model_id(model_id: str, store: Path | None = None) -> None:
    """Raise ValueError unless ``model_id`` is well formed and free in ``store``.

    Lets a caller refuse a bad ID before spending time on training.
    """
    if not _ID_PATTERN.match(model_id):
        raise ValueError(
            f"Model ID {model_id!r} must start with a letter or digit and use only "
            "letters, digits, '_', '.' and '-' (at most 128 characters)."
        )
    store = store or models_dir()
    if (store / model_id).exists():
        raise ValueError(f"A model named {model_id!r} already exists in {store}")


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
    """
    store = writable_dir(store or models_dir(), "model store", MODELS_ENV)
    model_id = model_id or default_model_id(dataset, architecture, penalty, seed)
    check_new_model_id(model_id, store)
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
    with atomic_dir(target) as tmp:
        save_file(state, str(tmp / WEIGHTS), metadata={"model_id": model_id})
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
    return StoredModel(card, target, shipped=False)


def _read_card(folder: Path) -> ModelCard:
    path = folder / CARD
    try:
        text = path.read_text()
    except OSError as exc:
        raise ModelStoreError(
            f"Cannot read model card {path}: {exc.strerror or exc}"
        ) from exc
    return ModelCard.from_json(text, path)


def _stores() -> list[tuple[Path, bool]]:
    return [(models_dir(), False), (SHIPPED_DIR, True)]


def list_models(dataset: str | None = None) -> list[StoredModel]:
    """Stored models (user store first, then shipped ones), newest first.

    Folders whose card cannot be read are skipped with a warning naming them.
    """
    found: list[StoredModel] = []
    for store, shipped in _stores():
        if not store.is_dir():
            continue
        for folder in sorted(p for p in store.iterdir() if p.is_dir()):
            if folder.name.startswith("."):
                continue  # an unfinished atomic write
            try:
                card = _read_card(folder)
            except ModelStoreError as exc:
                warnings.warn(f"Skipping stored model: {exc}", stacklevel=2)
                continue
            if dataset is None or card.dataset == dataset:
                found.append(StoredModel(card, folder, shipped))
    found.sort(key=lambda m: m.card.created, reverse=True)
    return sorted(found, key=lambda m: m.shipped)  # stable: newest first within each


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
        Missing, tampered with (hash mismatch), truncated, or not matching its
        architecture; the message says which.
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
    model = build_model(card.architecture, **card.arch_kwargs)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ModelStoreError(
            f"Weights of {card.model_id} do not fit architecture {card.architecture}: {exc}"
        ) from exc
    return model.eval(), card


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
    trash = stored.path.with_name(f".{stored.path.name}.deleting")
    os.rename(stored.path, trash)
    shutil.rmtree(trash)
    return stored.path
