"""Stored fine-tuned encoders: a folder of tuned weights (safetensors,
float16) and a card, checked against the base model and the weights' SHA-256
when loaded (:mod:`core.sparse_layers.encoders`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from core.data.fetch import file_digest
from core.errors import ModelStoreError
from core.paths import ASSETS_DIR, encoders_dir
from core.sparse_layers.encoders.model import (
    BASE_MODEL,
    EncoderClassifier,
    base_classifier,
    base_digest,
    tuned_names,
)

#: Encoders shipped with the repository (opened read-only).
SHIPPED_DIR = ASSETS_DIR / "encoders"
WEIGHTS_FILE = "weights.safetensors"
CARD_FILE = "card.json"


@dataclass
class EncoderCard:
    """What a stored encoder is, how it was made and how well it does."""

    name: str
    dataset: str
    class_names: tuple[str, ...]
    base_model: str
    base_digest: str
    layers_tuned: list[int]
    recipe: dict
    epochs_run: int
    best_epoch: int
    history: list[dict]
    val_accuracy: float
    test_accuracy: float
    seconds: float
    weights_sha256: str
    weights_bytes: int
    params_tuned: int
    pooling: str = "mean"


def assemble(card: EncoderCard, weights: Path) -> EncoderClassifier:
    """The base model with the stored layers and head put in, in eval mode."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    model = base_classifier(len(card.class_names))
    expected = set(tuned_names(model, card.layers_tuned))
    try:
        stored = load_file(str(weights))
    except (SafetensorError, OSError) as exc:
        raise ModelStoreError(
            f"{weights} cannot be read as safetensors: {exc}"
        ) from exc
    if set(stored) != expected:
        missing = sorted(expected - set(stored))[:3]
        extra = sorted(set(stored) - expected)[:3]
        raise ModelStoreError(
            f"{weights} does not hold the tensors its card names (layers "
            f"{card.layers_tuned} and the head): missing {missing}, unexpected {extra}"
        )
    params = dict(model.named_parameters())
    with torch.no_grad():
        for pname, tensor in stored.items():
            if tensor.shape != params[pname].shape:
                raise ModelStoreError(
                    f"{weights}: {pname} has shape {tuple(tensor.shape)}, the base "
                    f"model's has {tuple(params[pname].shape)}"
                )
            params[pname].copy_(tensor.to(torch.float32))
    return model.eval()


def read_card(folder: Path) -> EncoderCard:
    """The card of the encoder stored in ``folder``.

    Raises
    ------
    ModelStoreError
        No card, or not one this version writes.
    """
    path = Path(folder) / CARD_FILE
    try:
        raw = json.loads(path.read_text())
        raw["class_names"] = tuple(raw["class_names"])
        return EncoderCard(**raw)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ModelStoreError(f"{path} is not a readable encoder card: {exc}") from exc


def list_encoders() -> dict[str, Path]:
    """Stored encoders by name; the user's replace shipped ones of that name."""
    found: dict[str, Path] = {}
    for base in (SHIPPED_DIR, encoders_dir()):
        if base.is_dir():
            for folder in sorted(base.iterdir()):
                if (folder / CARD_FILE).is_file():
                    found[folder.name] = folder
    return found


def encoder_folder(name: str) -> Path:
    """The folder of the stored encoder ``name``.

    Raises
    ------
    ModelStoreError
        No encoder of that name, naming the stored ones and how to make one.
    """
    encoders = list_encoders()
    if name not in encoders:
        raise ModelStoreError(
            f"No fine-tuned encoder {name!r}; stored: "
            f"{', '.join(encoders) or 'none'}. Make one with "
            "`python -m core finetune-encoder --dataset D`."
        )
    return encoders[name]


def load_encoder(folder: Path) -> tuple[EncoderClassifier, EncoderCard]:
    """The encoder stored in ``folder``, its weights checked against its card.

    Returns
    -------
    model : EncoderClassifier
        In eval mode, float32.
    card : EncoderCard

    Raises
    ------
    ModelStoreError
        The card is unreadable, it was made from another base model, the
        weights file is missing or its SHA-256 differs from the card's (a
        tampered or truncated file), or it holds other tensors than the card
        names.
    """
    folder = Path(folder)
    card = read_card(folder)
    if card.base_digest != base_digest():
        raise ModelStoreError(
            f"{folder} was fine-tuned from a base model with digest "
            f"{card.base_digest[:16]}…, but the installed {BASE_MODEL} has "
            f"{base_digest()[:16]}…; fine-tune it again"
        )
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelStoreError(f"{weights} is missing")
    digest = file_digest(weights)
    if digest != card.weights_sha256:
        raise ModelStoreError(
            f"{weights} has SHA-256 {digest[:16]}…, its card says "
            f"{card.weights_sha256[:16]}…: the file was changed or damaged since it "
            "was stored; refusing to load it"
        )
    return assemble(card, weights), card
