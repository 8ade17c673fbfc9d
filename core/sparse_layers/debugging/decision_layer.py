"""A linear decision layer read off a stored path, and the text encoder of its
features."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from core.sparse_layers.glm import ElasticNetPath
from core.sparse_layers.sparse_layer import SparseLayer

#: ``encoder(texts)``: deep features of each text, array of shape (n, n_features).
Encoder = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class DecisionLayer:
    """``scores = W z + b`` on the standardised deep features ``z = (h − center) /
    scale``, one row of ``W`` per class.

    Attributes
    ----------
    name : str
        ``"sparse"`` or ``"dense"`` (or anything a caller chooses).
    weight : array of shape (n_classes, n_features)
    bias : array of shape (n_classes,)
    center, scale : array of shape (n_features,)
    class_names : tuple of str
        Name of each row of ``weight``.
    """

    name: str
    weight: np.ndarray
    bias: np.ndarray
    center: np.ndarray
    scale: np.ndarray
    class_names: tuple[str, ...]

    @classmethod
    def from_path(
        cls, path: ElasticNetPath, index: int, class_names: Sequence[str], name: str
    ) -> DecisionLayer:
        """The ``index``-th model of a classification path.

        A binomial fit's single output ``s`` (the score of the second class)
        becomes the two rows ``−w/2`` and ``+w/2`` (biases ``∓b/2``): the same
        predictions and probabilities (softmax of ``±s/2`` is the sigmoid of
        ``s``), and a weight of each sign for each class, as Algorithm 3 needs.
        """
        if path.classes is None:
            raise ValueError("a decision layer needs a classification path")
        W = np.asarray(path.coef[index], dtype=np.float64)
        b = np.asarray(path.intercept[index], dtype=np.float64)
        if path.family == "binomial":
            W, b = np.stack([-W[0] / 2, W[0] / 2]), np.array([-b[0] / 2, b[0] / 2])
        names = [
            class_names[int(c)] if 0 <= int(c) < len(class_names) else str(c)
            for c in path.classes
        ]
        return cls(
            name,
            W,
            b,
            path.center.astype(np.float64),
            path.scale.astype(np.float64),
            tuple(names),
        )

    @property
    def n_features(self) -> int:
        return self.weight.shape[1]

    @property
    def used(self) -> np.ndarray:
        """Indices of the features with a non-zero weight for some class."""
        return np.flatnonzero((self.weight != 0).any(axis=0))

    def standardized(self, H: np.ndarray) -> np.ndarray:
        """``(H − center) / scale``, array of shape (n, n_features)."""
        return (np.asarray(H, dtype=np.float64) - self.center) / self.scale

    def scores_std(self, Z: np.ndarray) -> np.ndarray:
        """Class scores of standardised features, array of shape (n, n_classes)."""
        return np.asarray(Z, dtype=np.float64) @ self.weight.T + self.bias

    def scores(self, H: np.ndarray) -> np.ndarray:
        """Class scores of raw deep features, array of shape (n, n_classes)."""
        return self.scores_std(self.standardized(H))

    def probabilities(self, H: np.ndarray) -> np.ndarray:
        """Softmax of :meth:`scores`, array of shape (n, n_classes)."""
        s = self.scores(H)
        e = np.exp(s - s.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, H: np.ndarray) -> np.ndarray:
        """Predicted class codes (rows of ``weight``), array of shape (n,)."""
        return self.scores(H).argmax(axis=1)


def layer_pair(
    layer: SparseLayer, class_names: Sequence[str], index: int | None = None
) -> dict[str, DecisionLayer]:
    """The sparse layer (the selected λ, or path index ``index``) and the dense
    layer of a stored ``SparseLayer``."""
    i = layer.selected if index is None else int(index)
    if not 0 <= i < len(layer.path):
        raise ValueError(f"λ index must be in [0, {len(layer.path)}), got {i}")
    return {
        "sparse": DecisionLayer.from_path(layer.path, i, class_names, "sparse"),
        "dense": DecisionLayer.from_path(layer.dense, 0, class_names, "dense"),
    }


def text_encoder(features: str) -> tuple[Encoder, str]:
    """The sentence encoder that produced a layer's features from raw text, and
    its content id (which names the caches of what it computed).

    Raises
    ------
    ValueError
        When the features are not computed from text (word clouds,
        counterfactuals and the bias probe need to re-encode edited sentences).
    """
    from core.sparse_layers.deep_features import (
        encode_texts,
        encoder_id,
        is_sentence_encoder,
    )

    if not is_sentence_encoder(features):
        raise ValueError(
            f"features {features!r} are not computed from text; word clouds, "
            "counterfactuals and the bias probe need a layer on a sentence "
            "encoder's features, 'minilm' or 'finetuned:<encoder>' (python -m core "
            "sparse-layer --dataset sst2 --features finetuned:sst2)"
        )
    # A partial of a module-level function pickles small: a Ray worker loads
    # the encoder itself instead of receiving its weights.
    return functools.partial(encode_texts, features), encoder_id(features)
