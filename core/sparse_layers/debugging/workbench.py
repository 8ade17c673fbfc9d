"""One stored layer, ready to debug: its decision layers, encoder, corpus and
word clouds — what the CLI and the dashboard pages share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.data import load_dataset
from core.data.user.mapped import is_mapped, mapped_features
from core.executor import Executor
from core.sparse_layers.debugging.decision_layer import (
    DecisionLayer,
    Encoder,
    layer_pair,
    text_encoder,
)
from core.sparse_layers.debugging.lime_clouds import (
    CloudCorpus,
    LimeSettings,
    Progress,
    WordClouds,
    cached_corpora,
    corpus_clouds,
    ship_corpus,
    stored_corpus,
    word_clouds,
)
from core.sparse_layers.deep_features import is_sentence_encoder
from core.sparse_layers.sparse_layer import (
    SparseLayer,
    check_encoder,
    class_names,
    load_layer,
)

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Workbench:
    """A stored sparse layer with what debugging it needs.

    Attributes
    ----------
    stored : SparseLayer
    layers : dict of str to DecisionLayer
        ``"sparse"`` (the selected λ) and ``"dense"``.
    class_names : tuple of str
    """

    stored: SparseLayer
    layers: dict[str, DecisionLayer]
    class_names: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.stored.name

    @property
    def is_text(self) -> bool:
        """Whether the layer sits on a sentence encoder's features."""
        return is_sentence_encoder(self.stored.features)

    def encoder(self) -> tuple[Encoder, str]:
        """The text encoder and its id (ValueError for non-text features)."""
        return text_encoder(self.stored.features)

    def texts(self, split: str, limit: int | None = None) -> list[str]:
        """The raw texts of a split of the layer's dataset (first ``limit``)."""
        split_ = _split(self.stored.dataset, split)
        if split_.texts is None:
            raise ValueError(f"{self.stored.dataset!r} has no raw texts")
        texts = list(split_.texts)
        return texts[:limit] if limit else texts

    def labels(self, split: str, limit: int | None = None) -> np.ndarray:
        """Class codes (rows of the layers' weights) of a split."""
        y = np.searchsorted(
            self.stored.path.classes, _labels(self.stored.dataset, split)
        )
        return y[:limit] if limit else y

    def features(self, split: str) -> np.ndarray:
        """The deep features of a split, array of shape (n, n_features)."""
        from core.sparse_layers.deep_features import feature_set

        fs = feature_set(self.stored.dataset, self.stored.features)
        return {"train": fs.X_train, "val": fs.X_val, "test": fs.X_test}[split]

    def weights_table(self, features: np.ndarray | None = None) -> pd.DataFrame:
        """Each feature's weight per class in the sparse and the dense layer.

        Rows: the given features, else those the sparse layer uses, largest
        summed |sparse weight| first.
        """
        sparse, dense = self.layers["sparse"], self.layers["dense"]
        if features is None:
            features = sparse.used
            features = features[
                np.argsort(-np.abs(sparse.weight[:, features]).sum(0), kind="stable")
            ]
        table = pd.DataFrame({"feature": np.asarray(features, dtype=int)})
        for label, lay in (("sparse", sparse), ("dense", dense)):
            for c, name in enumerate(lay.class_names):
                table[f"{label}: {name}"] = lay.weight[c, features]
        return table

    def cloud_corpus(
        self,
        settings: LimeSettings,
        *,
        split: str = "val",
        limit: int | None = None,
        progress: Progress | None = None,
        executor: Executor | None = None,
    ) -> CloudCorpus:
        """LIME word clouds of a split's sentences (cached on disk, or shipped;
        computed in sentence shards on ``executor`` when one is given)."""
        encoder, encoder_id = self.encoder()
        return corpus_clouds(
            self.texts(split, limit),
            encoder,
            encoder_id,
            settings,
            progress=progress,
            corpus=self._corpus_info(split, limit),
            executor=executor,
        )

    def _corpus_info(self, split: str, limit: int | None) -> dict:
        """What a corpus's index entry records of where its sentences came from."""
        return {"dataset": self.stored.dataset, "split": split, "limit": limit}

    def computed(self) -> list[dict]:
        """Word-cloud corpora of this layer's dataset on disk (the user's cache,
        newest first, then the shipped ones): ``split``, ``limit``, ``settings``
        (a :class:`LimeSettings`), ``sentences``."""
        _, encoder_id = self.encoder()
        out = []
        for e in cached_corpora(encoder_id):
            if e.get("dataset") == self.stored.dataset and e.get("split") in SPLITS:
                out.append(
                    {
                        "split": e["split"],
                        "limit": e.get("limit"),
                        "settings": LimeSettings(**e["settings"]),
                        "sentences": e["sentences"],
                    }
                )
        return out

    def stored_clouds(self, min_count: int = 1) -> tuple[dict, WordClouds] | None:
        """The clouds (leaving out words seen fewer than ``min_count`` times)
        of the newest corpus on disk for this layer's dataset (the one the Word
        clouds page opens on) with its :meth:`computed` entry, never computed:
        None when none is stored and readable.

        For pages that show what features mean beside something else and must
        not start LIME's minutes-long run.
        """
        encoder_id = self.encoder()[1]
        for entry in self.computed():
            texts = self.texts(entry["split"], entry["limit"])
            corpus = stored_corpus(texts, encoder_id, entry["settings"])
            if corpus is not None:
                return entry, self.clouds(corpus, min_count)
        return None

    def ship_clouds(
        self, corpus: CloudCorpus, *, split: str = "val", limit: int | None = None
    ) -> Path:
        """Write ``corpus`` (of this ``split`` and ``limit``) pruned into the
        shipped folder (for the layers that ship with the repository), under
        the name the cache would use."""
        return ship_corpus(corpus, self._corpus_info(split, limit))

    def clouds(self, corpus: CloudCorpus, min_count: int = 1) -> WordClouds:
        """Algorithm 2's clouds, weights per standard deviation of each feature."""
        return word_clouds(
            corpus, scale=self.layers["sparse"].scale, min_count=min_count
        )


def _split(dataset: str, split: str):
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return getattr(load_dataset(dataset), split)


def _labels(dataset: str, split: str) -> np.ndarray:
    """A split's labels, also of a registered memory-mapped set (which
    :func:`load_dataset` does not open: its matrices may exceed memory)."""
    if is_mapped(dataset):
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        return mapped_features(dataset).y[split]
    return _split(dataset, split).y


def workbench(layer: SparseLayer | str, index: int | None = None) -> Workbench:
    """A :class:`Workbench` for a stored layer (or its name); ``index`` picks
    another λ of the path than the selected one for the sparse layer."""
    stored = load_layer(layer) if isinstance(layer, str) else layer
    check_encoder(stored)
    names = class_names(stored)
    return Workbench(stored, layer_pair(stored, names, index), names)
