"""Fine-tuning MiniLM with a linear head on a text dataset, early-stopped on
validation accuracy, and storing the result (:mod:`core.sparse_layers.encoders`)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.atomic import atomic_dir
from core.data.fetch import file_digest
from core.paths import encoders_dir
from core.sparse_layers.encoders.model import (
    BASE_MODEL,
    EncoderClassifier,
    Progress,
    base_classifier,
    base_config,
    base_digest,
    pad_tokens,
    pooled_features,
    tokenizer,
    tuned_names,
)
from core.sparse_layers.encoders.store import (
    CARD_FILE,
    WEIGHTS_FILE,
    EncoderCard,
    assemble,
)


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
                ids, mask = pad_tokens([tokens[i] for i in rows], pad_id)
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
    n_layers = base_config().num_hidden_layers
    recipe.check(n_layers)

    started = time.perf_counter()
    torch.manual_seed(recipe.seed)
    tok = tokenizer()
    model = base_classifier(n_classes)
    layers = list(range(n_layers - recipe.layers, n_layers))
    tuned = set(tuned_names(model, layers))
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
            weights_sha256=file_digest(weights),
            weights_bytes=weights.stat().st_size,
            params_tuned=int(sum(t.numel() for t in best_state.values())),
        )
        # The card's accuracies are those of what is stored (float16), so the
        # weights are read back exactly as load_encoder will read them.
        reloaded = assemble(card, weights)
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
