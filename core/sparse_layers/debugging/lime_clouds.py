"""LIME word clouds of deep features (Wong et al. 2021, Algorithm 2).

For every sentence of a corpus, LIME explains each deep feature's activation
(not a class probability) by the words of the sentence; a word's weight for a
feature is then averaged over all its occurrences in the corpus, and the 30
largest positive and negative averages form the feature's two word clouds.

Done naively (``LimeTextExplainer.explain_instance`` once per feature) the
encoder runs ``n_features × n_samples`` times per sentence. Here each sentence
is perturbed once, with LIME's own sampler (so the perturbed sentences are the
ones ``explain_instance`` would draw for the same seed), every distinct
perturbed sentence is encoded once, and LIME's ridge regression (α = 1,
intercept, the exponential kernel on cosine distance) is solved for all
features together as one multi-output weighted least-squares problem. The
weights are those ``explain_instance(..., labels=[j])`` returns with
``feature_selection="none"``.

Each word's average weight over a corpus (a :class:`CloudCorpus`) is cached on
disk by encoder, settings and texts, so every layer on the same features,
sparse or dense, reads the same clouds. Corpora computed for the shipped layers
ship in ``assets/wordclouds/``, pruned to the entries that some cloud of at
most 30 words can show (:meth:`CloudCorpus.pruned`), so the pages open ready.

References
----------
Wong, Santurkar & Mądry (2021), "Leveraging Sparse Linear Layers for
Debuggable Deep Networks", ICML, Appendix D (Algorithm 2).
Ribeiro, Singh & Guestrin (2016), "'Why Should I Trust You?': Explaining the
Predictions of Any Classifier", KDD.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import warnings
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from lime.lime_text import IndexedString, LimeTextExplainer

from core.atomic import atomic_path
from core.data.cache import read_archive
from core.errors import DataCorruptError
from core.executor import Executor, Task
from core.paths import ASSETS_DIR, cache_dir
from core.sparse_layers.debugging.decision_layer import Encoder

#: Words kept on each side of a cloud (the paper's 30).
TOP_WORDS = 30

#: The minimum count of a word in the clouds the pages show: at 1 (the paper's
#: rule) words seen once lead them; at 3 the most cloud words carry a sentiment
#: that agrees with their feature's class (benchmarks/cloud_readability.py,
#: docs/debugging.md). Algorithm 3's candidates keep the paper's 1.
READABLE_MIN_COUNT = 3

#: Word-cloud corpora shipped with the repository (read-only).
SHIPPED_DIR = ASSETS_DIR / "wordclouds"

#: ``progress(done, total)`` over sentences.
Progress = Callable[[int, int], None]

#: Sentences per task when a corpus is explained in shards: a multiple of the
#: 32-sentence block, large enough that a task outweighs its scheduling.
SHARD_SIZE = 128


@dataclass(frozen=True)
class LimeSettings:
    """LIME's parameters (its defaults, except ``feature_selection="none"`` so
    that every word of a sentence gets a weight).

    Attributes
    ----------
    n_samples : int
        Perturbed sentences per sentence, the original included (LIME's
        ``num_samples``).
    seed : int
        Each sentence's sampler is seeded from this and the sentence's text
        (:func:`sentence_seed`), so a sentence is perturbed the same way in any
        corpus.
    kernel_width : float
        Width of LIME's exponential kernel on the cosine distance.
    ridge_alpha : float
        Strength of the L2 penalty of LIME's ridge regression. The field names
        are part of the word-cloud cache key and of the shipped corpora's index
        (:func:`corpus_file`): renaming one would orphan them.
    """

    n_samples: int = 500
    seed: int = 0
    kernel_width: float = 25.0
    ridge_alpha: float = 1.0

    def __post_init__(self) -> None:
        if self.n_samples < 2:
            raise ValueError(f"n_samples must be at least 2, got {self.n_samples}")
        if self.kernel_width <= 0 or self.ridge_alpha < 0:
            raise ValueError("kernel_width must be > 0 and ridge_alpha ≥ 0")


def sentence_seed(text: str, seed: int) -> int:
    """The seed of one sentence's LIME sampler: ``seed`` mixed with the text."""
    return (int(seed) * 1_000_003 + zlib.crc32(text.encode("utf-8"))) % 2**32


def lime_explainer(text: str, settings: LimeSettings) -> LimeTextExplainer:
    """The ``LimeTextExplainer`` whose sampler :func:`perturb` uses for ``text``
    (also the naive baseline's, so both draw the same perturbations)."""
    return LimeTextExplainer(
        kernel_width=settings.kernel_width,
        feature_selection="none",
        bow=True,
        random_state=sentence_seed(text, settings.seed),
    )


@dataclass(frozen=True)
class Perturbation:
    """One sentence's LIME neighbourhood.

    Attributes
    ----------
    words : tuple of str
        LIME's words of the sentence (``IndexedString.inverse_vocab``).
    counts : array of shape (n_words,)
        Occurrences of each word in the sentence.
    masks : array of shape (n_samples, n_words), bool
        Which words each perturbed sentence keeps (row 0: the sentence).
    weights : array of shape (n_samples,)
        LIME's kernel weight of each perturbed sentence.
    texts : list of str
        The perturbed sentences.
    """

    words: tuple[str, ...]
    counts: np.ndarray
    masks: np.ndarray
    weights: np.ndarray
    texts: list[str]


def perturb(text: str, settings: LimeSettings) -> Perturbation | None:
    """LIME's perturbations of ``text`` (None when it has no words).

    Uses ``LimeTextExplainer``'s own sampler and kernel, so the samples are
    those of ``explain_instance`` with the same random state.
    """
    explainer = lime_explainer(text, settings)
    indexed = IndexedString(text, split_expression=explainer.split_expression, bow=True)
    if indexed.num_words() == 0:
        return None
    captured: list[str] = []

    def record(texts: list[str]) -> np.ndarray:
        captured.extend(texts)
        return np.zeros((len(texts), 1))

    # LIME's sampler is private; lime is pinned (requirements.txt) and
    # tests/core/sparse_layers/test_debugging.py checks the weights against
    # explain_instance.
    sample = explainer._LimeTextExplainer__data_labels_distances
    data, _, distances = sample(indexed, record, settings.n_samples)
    return Perturbation(
        words=tuple(indexed.inverse_vocab),
        counts=np.array([len(p) for p in indexed.positions]),
        masks=data.astype(bool),
        weights=explainer.base.kernel_fn(distances),
        texts=captured,
    )


def weighted_ridge(
    X: np.ndarray,
    Y: np.ndarray,
    sample_weight: np.ndarray,
    ridge_alpha: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Ridge regression with an intercept, one fit per column of ``Y``, at once.

    Minimises ``Σ_s w_s (y_s − x_s β − β₀)² + α ‖β‖²`` for every output,
    with ``α = ridge_alpha``, as ``sklearn.linear_model.Ridge(alpha=ridge_alpha,
    fit_intercept=True)`` with ``sample_weight`` does (LIME's default
    regressor).

    Parameters
    ----------
    X : array of shape (n_samples, n_inputs)
    Y : array of shape (n_samples, n_outputs)
    sample_weight : array of shape (n_samples,)
    ridge_alpha : float
        Strength of the L2 penalty (not the L1 share that ``alpha`` is in
        :mod:`core.sparse_layers.glm`).

    Returns
    -------
    coef : array of shape (n_inputs, n_outputs)
    intercept : array of shape (n_outputs,)
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    w = np.asarray(sample_weight, dtype=np.float64)
    total = w.sum()
    if not total > 0:
        raise ValueError("the sample weights must have a positive sum")
    x_mean, y_mean = w @ X / total, w @ Y / total
    Xc = X - x_mean
    Xw = Xc * w[:, None]
    gram = Xc.T @ Xw + ridge_alpha * np.eye(X.shape[1])
    coef = np.linalg.lstsq(gram, Xw.T @ (Y - y_mean), rcond=None)[0]
    return coef, y_mean - x_mean @ coef


@dataclass
class SentenceExplanations:
    """LIME weights of every word of every sentence, for every deep feature.

    Attributes
    ----------
    texts : tuple of str
        The corpus (sentences without words have no rows).
    offsets : array of shape (n_texts + 1,)
        Rows ``offsets[i]:offsets[i + 1]`` belong to ``texts[i]``.
    words : array of shape (n_rows,), str
        LIME's word (verbatim) of each row.
    counts : array of shape (n_rows,)
        Its occurrences in the sentence.
    weights : array of shape (n_rows, n_features), float32
        Its LIME weight for each feature's (raw) activation.
    activations : array of shape (n_texts, n_features), float32
        The deep features of each sentence.
    settings : LimeSettings
    encoder_id : str
    """

    texts: tuple[str, ...]
    offsets: np.ndarray
    words: np.ndarray
    counts: np.ndarray
    weights: np.ndarray
    activations: np.ndarray
    settings: LimeSettings
    encoder_id: str

    @property
    def n_features(self) -> int:
        return self.activations.shape[1]

    def sentence(self, i: int) -> pd.DataFrame:
        """One sentence's words with their weight for every feature."""
        rows = slice(self.offsets[i], self.offsets[i + 1])
        return pd.DataFrame(self.weights[rows], index=self.words[rows])

    def aggregate(self) -> CloudCorpus:
        """Algorithm 2's averages: each word's LIME weight over its occurrences
        (a word twice in a sentence counts twice; words compared in lower
        case)."""
        return CloudSums.of(self).corpus(self.texts, self.settings, self.encoder_id)


@dataclass(frozen=True)
class CloudSums:
    """The sums behind a corpus's word clouds, which add up over shards of it:
    each word's LIME weights summed over its occurrences, and its occurrences.

    Attributes
    ----------
    vocab : array of shape (n_words,), str
        Lower-cased words, sorted.
    sums : array of shape (n_words, n_features), float64
        Σ over the word's occurrences of its LIME weight for each feature.
    occurrences : array of shape (n_words,), float64
        ``K_w`` (whole numbers).
    activations : array of shape (n_texts, n_features), float32
        The deep features of each sentence, in corpus order.
    n_explained : int
        Sentences with at least one word.
    """

    vocab: np.ndarray
    sums: np.ndarray
    occurrences: np.ndarray
    activations: np.ndarray
    n_explained: int

    @classmethod
    def of(cls, expl: SentenceExplanations) -> CloudSums:
        """The sums of one set of sentences' explanations."""
        keys = np.char.lower(expl.words.astype(str))
        vocab, inverse = np.unique(keys, return_inverse=True)
        counts = expl.counts.astype(np.float64)
        sums = np.zeros((len(vocab), expl.n_features))
        np.add.at(sums, inverse, expl.weights * counts[:, None])
        occurrences = np.bincount(inverse, weights=counts, minlength=len(vocab))
        return cls(
            vocab=vocab,
            sums=sums,
            occurrences=occurrences,
            activations=expl.activations,
            n_explained=int((np.diff(expl.offsets) > 0).sum()),
        )

    @classmethod
    def merge(cls, parts: Sequence[CloudSums]) -> CloudSums:
        """The sums of consecutive shards of a corpus, in corpus order: sums
        and occurrences add up word by word (averages would not)."""
        if not parts:
            raise ValueError("no shards to merge")
        vocab, inverse = np.unique(
            np.concatenate([p.vocab for p in parts]), return_inverse=True
        )
        sums = np.zeros((len(vocab), parts[0].sums.shape[1]))
        np.add.at(sums, inverse, np.concatenate([p.sums for p in parts]))
        occurrences = np.bincount(
            inverse,
            weights=np.concatenate([p.occurrences for p in parts]),
            minlength=len(vocab),
        )
        return cls(
            vocab=vocab,
            sums=sums,
            occurrences=occurrences,
            activations=np.concatenate([p.activations for p in parts]),
            n_explained=sum(p.n_explained for p in parts),
        )

    def corpus(
        self, texts: tuple[str, ...], settings: LimeSettings, encoder_id: str
    ) -> CloudCorpus:
        """The clouds: each word's sum divided by its occurrences."""
        mean = self.sums / np.maximum(self.occurrences, 1)[:, None]
        return CloudCorpus(
            texts=texts,
            activations=self.activations,
            vocab=self.vocab,
            occurrences=self.occurrences.astype(np.int64),
            mean_weight=mean.astype(np.float32),
            settings=settings,
            encoder_id=encoder_id,
            n_explained=self.n_explained,
        )

    def save(self, path: Path) -> Path:
        """Write the sums to ``path`` (``.npz``, atomically, exact float64)."""
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(
                fh,
                vocab=self.vocab.astype(str),
                sums=self.sums,
                occurrences=self.occurrences,
                activations=self.activations,
                n_explained=np.array(self.n_explained),
            )
        return path

    @classmethod
    def load(cls, path: Path, n_texts: int) -> CloudSums:
        """The sums :meth:`save` wrote for a shard of ``n_texts`` sentences.

        Raises
        ------
        DataCorruptError
            The file is unreadable, or its arrays do not fit together or the
            shard; the message names it.
        """
        a = read_archive(path, _SUMS_ARRAYS)
        vocab, sums, occ, act = (a[k] for k in _SUMS_ARRAYS[:4])
        ok = (
            vocab.ndim == 1
            and vocab.dtype.kind == "U"
            and sums.shape == (len(vocab), act.shape[-1])
            and occ.shape == (len(vocab),)
            and act.ndim == 2
            and act.shape[0] == n_texts
            and all(x.dtype.kind == "f" and np.isfinite(x).all() for x in (sums, occ))
            and a["n_explained"].shape == ()
            and a["n_explained"].dtype.kind in "iu"
        )
        if not ok:
            raise DataCorruptError(
                f"{path} does not hold the word-cloud sums of {n_texts} sentences."
            )
        return cls(vocab, sums, occ, act, int(a["n_explained"]))


#: The arrays of a saved :class:`CloudSums`.
_SUMS_ARRAYS = ("vocab", "sums", "occurrences", "activations", "n_explained")


@dataclass(frozen=True)
class CloudCorpus:
    """A corpus's word clouds before a decision layer scales them: each word's
    LIME weight for every feature, averaged over its occurrences.

    Attributes
    ----------
    texts : tuple of str
    activations : array of shape (n_texts, n_features), float32
        The deep features of each sentence.
    vocab : array of shape (n_words,), str
        Lower-cased words.
    occurrences : array of shape (n_words,)
        ``K_w``, the word's occurrences in the corpus.
    mean_weight : array of shape (n_words, n_features), float32
        ``β̂_w`` per unit of activation.
    settings : LimeSettings
    encoder_id : str
    n_explained : int
        Sentences with at least one word.
    complete_top : int or None
        None when every word's weight is kept; else only the weights that a
        cloud of at most this many words can show, at any ``min_count``
        (:meth:`pruned`).
    """

    texts: tuple[str, ...]
    activations: np.ndarray
    vocab: np.ndarray
    occurrences: np.ndarray
    mean_weight: np.ndarray
    settings: LimeSettings
    encoder_id: str
    n_explained: int
    complete_top: int | None = None

    @property
    def n_features(self) -> int:
        return self.activations.shape[1]

    def pruned(self, top: int = TOP_WORDS) -> CloudCorpus:
        """The same clouds of up to ``top`` words, for every ``min_count``, from
        fewer numbers: a word's weight for a feature is kept only if the word
        is among the ``top`` largest on its side among the words seen at least
        as often as it is (the smallest field it can compete in), and words
        left without a weight are dropped."""
        keep = np.zeros(self.mean_weight.shape, dtype=bool)
        for level in np.unique(self.occurrences):
            field = np.flatnonzero(self.occurrences >= level)
            own = self.occurrences[field] == level
            rank = min(top, len(field)) - 1
            for sign in (1.0, -1.0):
                w = np.clip(sign * self.mean_weight[field], 0, None)
                # The top-th largest per feature: words at level that reach it
                # can enter that side's cloud.
                kth = -np.partition(-w, rank, axis=0)[rank]
                keep[field[own]] |= (w[own] > 0) & (w[own] >= kth)
        rows = keep.any(axis=1)
        return CloudCorpus(
            texts=self.texts,
            activations=self.activations,
            vocab=self.vocab[rows],
            occurrences=self.occurrences[rows],
            mean_weight=np.where(keep, self.mean_weight, 0)[rows].astype(np.float32),
            settings=self.settings,
            encoder_id=self.encoder_id,
            n_explained=self.n_explained,
            complete_top=top,
        )

    def save(self, path: Path) -> Path:
        meta = dict(
            settings=asdict(self.settings),
            encoder_id=self.encoder_id,
            n_explained=self.n_explained,
            complete_top=self.complete_top,
        )
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(
                fh,
                texts=np.array(self.texts, dtype=str),
                activations=self.activations,
                vocab=self.vocab.astype(str),
                occurrences=self.occurrences,
                mean_weight=self.mean_weight,
                meta=np.array(json.dumps(meta)),
            )
        return path

    @classmethod
    def load(cls, path: Path) -> CloudCorpus:
        """The corpus :meth:`save` wrote to ``path`` (never unpickles).

        Raises
        ------
        DataCorruptError
            The file is unreadable, truncated, or does not hold the arrays and
            metadata :meth:`save` writes; the message names it.
        """
        arrays = read_archive(path, (*_CORPUS_ARRAYS, "meta"))
        try:
            meta = json.loads(str(arrays.pop("meta")))
            corpus = cls(
                texts=tuple(str(t) for t in arrays["texts"]),
                settings=LimeSettings(**meta["settings"]),
                encoder_id=meta["encoder_id"],
                n_explained=meta["n_explained"],
                complete_top=meta["complete_top"],
                **{k: v for k, v in arrays.items() if k != "texts"},
            )
        except KeyError as exc:
            raise DataCorruptError(f"{path} has no entry {exc}.") from exc
        except (ValueError, TypeError) as exc:  # bad JSON, fields of other types
            raise DataCorruptError(f"{path} cannot be read: {exc}.") from exc
        problem = corpus._problem()
        if problem:
            raise DataCorruptError(f"{path} is not a word-cloud corpus: {problem}.")
        return corpus

    def _problem(self) -> str | None:
        """What is wrong with the fields' types and shapes, or None."""
        n_words = self.vocab.shape[0] if self.vocab.ndim == 1 else -1
        checks = {
            "encoder_id is not a string": isinstance(self.encoder_id, str),
            "n_explained is not an integer": type(self.n_explained) is int,
            "complete_top is neither null nor an integer": self.complete_top is None
            or type(self.complete_top) is int,
            "vocab is not a 1-d array of strings": self.vocab.ndim == 1
            and self.vocab.dtype.kind == "U",
            "activations are not (texts, features) numbers": self.activations.ndim == 2
            and self.activations.shape[0] == len(self.texts)
            and self.activations.dtype.kind == "f",
            "occurrences are not one integer per word": self.occurrences.shape
            == (n_words,)
            and self.occurrences.dtype.kind in "iu",
            "mean_weight is not (words, features) numbers": self.mean_weight.shape
            == (n_words, self.activations.shape[-1])
            and self.mean_weight.dtype.kind == "f",
        }
        return next((what for what, ok in checks.items() if not ok), None)


#: The arrays of a saved :class:`CloudCorpus` (besides ``meta``).
_CORPUS_ARRAYS = ("texts", "activations", "vocab", "occurrences", "mean_weight")


def corpus_file(texts: Sequence[str], encoder_id: str, settings: LimeSettings) -> str:
    """The file name of a corpus's clouds (a content hash of the encoder, the
    settings and the texts), the same in the cache and in the shipped folder."""
    h = hashlib.sha256(json.dumps([encoder_id, asdict(settings)]).encode())
    for t in texts:
        h.update(t.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return f"clouds-{h.hexdigest()[:32]}.npz"


def _cache_folder() -> Path:
    return cache_dir() / "wordclouds"


def _stored(name: str) -> list[Path]:
    """A corpus's clouds on disk: the user's cache first, then the shipped."""
    return [
        folder / name
        for folder in (_cache_folder(), SHIPPED_DIR)
        if (folder / name).is_file()
    ]


def _read_stored(
    name: str, texts: Sequence[str], encoder_id: str, settings: LimeSettings
) -> tuple[Path, CloudCorpus] | None:
    """The first stored copy of a corpus (its path and its clouds) that reads
    back as the clouds of ``texts`` under ``encoder_id`` and ``settings``; a
    damaged or edited one is skipped with a warning naming it (and removed when
    it is in the cache)."""
    for path in _stored(name):
        try:
            clouds = CloudCorpus.load(path)
            if (clouds.texts, clouds.encoder_id, clouds.settings) != (
                tuple(texts),
                encoder_id,
                settings,
            ):
                raise DataCorruptError(
                    f"{path} holds other sentences, encoder or settings than its "
                    "name says (edited since it was written)."
                )
            return path, clouds
        except DataCorruptError as exc:
            cached = path.parent == _cache_folder()
            warnings.warn(
                f"Ignoring stored word clouds: {exc} "
                + ("It is removed. " if cached else "")
                + "The clouds are computed again.",
                stacklevel=3,
            )
            if cached:
                path.unlink(missing_ok=True)
    return None


def explain_sentences(
    texts: Sequence[str],
    encoder: Encoder,
    settings: LimeSettings,
    *,
    block: int = 32,
) -> SentenceExplanations:
    """LIME weights of every word of every sentence for every deep feature.

    Sentences are perturbed ``block`` at a time; the distinct perturbed
    sentences of a block are encoded in one call, and one weighted ridge
    solve per sentence explains all features.

    Parameters
    ----------
    texts : sequence of str
    encoder : callable
        ``encoder(texts)`` → deep features, array of shape (n, n_features).
    settings : LimeSettings
    block : int
        Sentences perturbed and encoded together.

    Returns
    -------
    SentenceExplanations (without an ``encoder_id``; :func:`corpus_clouds`
    sets it).
    """
    return _explain(texts, encoder, settings, "", block, None)


def _explain(
    texts: Sequence[str],
    encoder: Encoder,
    settings: LimeSettings,
    encoder_id: str,
    block: int,
    progress: Progress | None,
) -> SentenceExplanations:
    texts = tuple(texts)
    if not texts:
        raise ValueError("no sentences to explain")
    offsets = [0]
    words: list[str] = []
    counts: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    activations: list[np.ndarray] = []
    for start in range(0, len(texts), block):
        chunk = texts[start : start + block]
        perturbed = [perturb(t, settings) for t in chunk]
        unique: dict[str, int] = {t: i for i, t in enumerate(dict.fromkeys(chunk))}
        for p in perturbed:
            for t in p.texts if p is not None else ():
                unique.setdefault(t, len(unique))
        H = np.asarray(encoder(list(unique)), dtype=np.float64)
        for text, p in zip(chunk, perturbed, strict=True):
            activations.append(H[unique[text]])
            if p is not None:
                Y = H[[unique[t] for t in p.texts]]
                coef, _ = weighted_ridge(p.masks, Y, p.weights, settings.ridge_alpha)
                words.extend(p.words)
                counts.append(p.counts)
                weights.append(coef.astype(np.float32))
            offsets.append(len(words))
        if progress is not None:
            progress(min(start + block, len(texts)), len(texts))
    n_features = activations[0].shape[0]
    return SentenceExplanations(
        texts=texts,
        offsets=np.array(offsets),
        words=np.array(words, dtype=str),
        counts=np.concatenate(counts) if counts else np.zeros(0, int),
        weights=np.concatenate(weights)
        if weights
        else np.zeros((0, n_features), np.float32),
        activations=np.stack(activations).astype(np.float32),
        settings=settings,
        encoder_id=encoder_id,
    )


def explain_shard(
    encoder: Encoder, settings: LimeSettings, block: int, texts: Sequence[str]
) -> CloudSums:
    """The cloud sums of one shard of a corpus (a task of
    :func:`sharded_sums`: a pure function of its arguments)."""
    return CloudSums.of(_explain(texts, encoder, settings, "", block, None))


def sharded_sums(
    texts: Sequence[str],
    encoder: Encoder,
    settings: LimeSettings,
    executor: Executor,
    *,
    shard_size: int = SHARD_SIZE,
    block: int = 32,
    progress: Progress | None = None,
    shard_dir: Path | None = None,
) -> CloudSums:
    """The cloud sums of ``texts``, explained in shards of ``shard_size``
    sentences, one task each on ``executor``, and merged in corpus order.

    Shards are whole blocks, so each encodes the same perturbed sentences
    together as one unsharded run (:func:`explain_sentences`) and the weights
    are the same; the merged clouds equal the unsharded ones up to the order
    in which float64 sums are added (the merge adds sums and counts, never
    averages).

    Parameters
    ----------
    texts : sequence of str
    encoder : callable
        ``encoder(texts)`` → deep features; sent to every worker, so it must
        pickle (a module-level function, or a closure over one).
    settings : LimeSettings
    executor : Executor
    shard_size : int
        Sentences per task, a multiple of ``block``.
    block : int
        Sentences perturbed and encoded together.
    progress : callable, optional
        ``progress(done, total)`` over sentences, as shards finish.
    shard_dir : Path, optional
        Each shard's sums are written there as it finishes, and read back
        instead of computed again (an interrupted corpus resumes). The folder
        must be the corpus's own (same texts, encoder and settings).

    Raises
    ------
    TasksFailedError
        A shard raised on every attempt (after the others finished, and were
        written to ``shard_dir``).
    """
    texts = tuple(texts)
    if not texts:
        raise ValueError("no sentences to explain")
    if block < 1 or shard_size < block or shard_size % block:
        raise ValueError(
            f"shard_size must be a positive multiple of block ({block}), got "
            f"{shard_size}"
        )
    starts = range(0, len(texts), shard_size)
    tasks = [
        Task(
            f"sentences {i}-{min(i + shard_size, len(texts)) - 1}",
            (texts[i : i + shard_size],),
        )
        for i in starts
    ]
    # A shard's file names its sentences and block, which fix its sums.
    files = {t.key: f"{t.key.replace(' ', '-')}-block{block}.npz" for t in tasks}
    parts: dict[str, CloudSums] = {}
    for task in tasks if shard_dir is not None else ():
        path = shard_dir / files[task.key]
        if not path.is_file():
            continue
        try:
            parts[task.key] = CloudSums.load(path, len(task.args[0]))
        except DataCorruptError as exc:
            warnings.warn(
                f"Ignoring a word-cloud shard: {exc} It is computed again.",
                stacklevel=2,
            )
    done = sum(len(t.args[0]) for t in tasks if t.key in parts)
    if progress is not None:
        progress(done, len(texts))
    missing = [t for t in tasks if t.key not in parts]
    for task, sums in executor.imap(explain_shard, missing, (encoder, settings, block)):
        if shard_dir is not None:
            sums.save(shard_dir / files[task.key])
        parts[task.key] = sums
        done += len(task.args[0])
        if progress is not None:
            progress(done, len(texts))
    # Merged in corpus order, whatever order the shards finished in.
    return CloudSums.merge([parts[t.key] for t in tasks])


def corpus_clouds(
    texts: Sequence[str],
    encoder: Encoder,
    encoder_id: str,
    settings: LimeSettings,
    *,
    progress: Progress | None = None,
    block: int = 32,
    cache: bool = True,
    corpus: dict | None = None,
    executor: Executor | None = None,
    shard_size: int = SHARD_SIZE,
) -> CloudCorpus:
    """The clouds of ``texts`` (:func:`explain_sentences`, aggregated), read
    from the cache or the shipped folder when there, else computed and cached.

    ``corpus`` (e.g. ``{"dataset": "sst2", "split": "val", "limit": None}``) is
    written beside the cache file, so that :func:`cached_corpora` can list what
    was computed. With an ``executor``, the sentences are explained in shards
    of ``shard_size``, one task each (:func:`sharded_sums`).
    """
    name = corpus_file(texts, encoder_id, settings)
    stored = _read_stored(name, texts, encoder_id, settings) if cache else None
    if stored is not None:
        path, clouds = stored
        index = path.with_suffix(".json")
        if corpus is not None and path.parent == _cache_folder() and not index.exists():
            _write_index(clouds, path, corpus)  # it was removed as unreadable
        return clouds
    if executor is None:
        expl = _explain(texts, encoder, settings, encoder_id, block, progress)
        clouds = expl.aggregate()
        if cache:
            save_corpus(clouds, _cache_folder(), name, corpus)
        return clouds
    # Finished shards are kept beside the cache file until the corpus is saved,
    # so that an interrupted corpus resumes.
    shard_dir = _cache_folder() / f"{Path(name).stem}.shards" if cache else None
    sums = sharded_sums(
        texts,
        encoder,
        settings,
        executor,
        shard_size=shard_size,
        block=block,
        progress=progress,
        shard_dir=shard_dir,
    )
    clouds = sums.corpus(tuple(texts), settings, encoder_id)
    if cache:
        save_corpus(clouds, _cache_folder(), name, corpus)
        shutil.rmtree(shard_dir, ignore_errors=True)
    return clouds


def save_corpus(
    clouds: CloudCorpus, folder: Path, name: str, corpus: dict | None
) -> Path:
    """Write ``clouds`` as ``folder/name`` with its JSON index entry."""
    folder.mkdir(parents=True, exist_ok=True)
    path = clouds.save(folder / name)
    _write_index(clouds, path, corpus)
    return path


def _write_index(clouds: CloudCorpus, path: Path, corpus: dict | None) -> None:
    entry = dict(
        corpus or {},
        settings=asdict(clouds.settings),
        encoder_id=clouds.encoder_id,
        sentences=len(clouds.texts),
        file=path.name,
    )
    with atomic_path(path.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(entry))


def ship_corpus(clouds: CloudCorpus, corpus: dict) -> Path:
    """Write ``clouds``, pruned, into the shipped folder under the name the
    cache would give them."""
    name = corpus_file(clouds.texts, clouds.encoder_id, clouds.settings)
    return save_corpus(clouds.pruned(), SHIPPED_DIR, name, corpus)


def cached_corpora(encoder_id: str | None = None) -> list[dict]:
    """The corpora whose clouds are on disk — the user's cache (newest first),
    then the shipped ones: each entry's ``corpus`` fields, ``settings``,
    ``encoder_id``, ``sentences``, ``file``."""
    entries, seen = [], set()
    for folder in (_cache_folder(), SHIPPED_DIR):
        index = sorted(folder.glob("clouds-*.json"), key=lambda p: -p.stat().st_mtime)
        for meta in index:
            entry = _index_entry(meta)
            if entry is None:
                continue
            name = entry["file"]
            if name in seen or not (folder / name).is_file():
                continue
            if encoder_id is None or entry.get("encoder_id") == encoder_id:
                seen.add(name)
                entries.append(entry)
    return entries


def _index_entry(path: Path) -> dict | None:
    """A corpus's index entry, or None (with a warning naming it, and the file
    removed when it is in the cache) when it is unreadable or wrongly typed."""
    try:
        entry = json.loads(path.read_text())
        if not isinstance(entry, dict):
            raise ValueError("not a JSON object")
        LimeSettings(**entry["settings"])
        if not isinstance(entry["file"], str) or type(entry["sentences"]) is not int:
            raise ValueError("'file' is not a string or 'sentences' not an integer")
        return entry
    except (OSError, ValueError, TypeError, KeyError) as exc:
        cached = path.parent == _cache_folder()
        warnings.warn(
            f"Ignoring the word-cloud index {path} ({exc!r})"
            + ("; it is removed." if cached else "."),
            stacklevel=3,
        )
        if cached:
            path.unlink(missing_ok=True)
        return None


def stored_corpus(
    texts: Sequence[str], encoder_id: str, settings: LimeSettings
) -> CloudCorpus | None:
    """The clouds of ``texts`` read from the cache or the shipped folder, never
    computed: None when no readable copy is on disk (a damaged one is skipped
    with a warning naming it, as :func:`corpus_clouds` does)."""
    name = corpus_file(texts, encoder_id, settings)
    stored = _read_stored(name, texts, encoder_id, settings)
    return None if stored is None else stored[1]


def is_cached(texts: Sequence[str], encoder_id: str, settings: LimeSettings) -> bool:
    """Whether the clouds of ``texts`` are on disk (cached or shipped)."""
    return bool(_stored(corpus_file(texts, encoder_id, settings)))


@dataclass(frozen=True)
class WordClouds:
    """Each word's LIME weight averaged over its occurrences (Algorithm 2).

    Words are compared in lower case (``"Great"`` and ``"great"`` are one
    word).

    Attributes
    ----------
    vocab : array of shape (n_words,), str
    mean_weight : array of shape (n_words, n_features)
        ``β̂_w``: Σ over occurrences of the word's LIME weight / occurrences,
        per unit of the feature's standard deviation when a ``scale`` was
        given to :func:`word_clouds` (else per unit of activation).
    occurrences : array of shape (n_words,)
        ``K_w``.
    top : int
        Words on each side of a cloud.
    min_count : int
        Words with fewer occurrences are left out of the clouds.
    """

    vocab: np.ndarray
    mean_weight: np.ndarray
    occurrences: np.ndarray
    top: int = TOP_WORDS
    min_count: int = 1

    @property
    def n_features(self) -> int:
        return self.mean_weight.shape[1]

    def cloud(self, feature: int, side: str) -> pd.DataFrame:
        """The ``top`` words of one side (``"positive"``/``"negative"``) of a
        feature's cloud: columns ``word``, ``weight``, ``occurrences``, largest
        |weight| first."""
        if side not in ("positive", "negative"):
            raise ValueError(f"side must be 'positive' or 'negative', got {side!r}")
        if not 0 <= feature < self.n_features:
            raise ValueError(
                f"feature must be in [0, {self.n_features}), got {feature}"
            )
        w = self.mean_weight[:, feature]
        sign = 1.0 if side == "positive" else -1.0
        ok = np.flatnonzero((sign * w > 0) & (self.occurrences >= self.min_count))
        order = ok[np.argsort(-sign * w[ok], kind="stable")][: self.top]
        return pd.DataFrame(
            {
                "word": self.vocab[order],
                "weight": w[order],
                "occurrences": self.occurrences[order],
            }
        )

    def words(self, feature: int, side: str) -> list[str]:
        """The words of one side of a feature's cloud, largest |weight| first."""
        if side not in ("positive", "negative"):
            raise ValueError(f"side must be 'positive' or 'negative', got {side!r}")
        return self._tops[side][feature]

    def meanings(self, features: Sequence[int], n_words: int = 5) -> pd.DataFrame:
        """What each feature means: the top words of each side of its clouds.

        Returns
        -------
        DataFrame
            One row per feature, in the order given, with columns ``raised by``
            (the positive cloud's first ``n_words`` words, comma-separated) and
            ``lowered by`` (the negative cloud's).
        """
        return pd.DataFrame(
            {
                column: [
                    ", ".join(self.words(int(f), side)[:n_words]) for f in features
                ]
                for side, column in (
                    ("positive", "raised by"),
                    ("negative", "lowered by"),
                )
            }
        )

    @functools.cached_property
    def _tops(self) -> dict[str, list[list[str]]]:
        # Every feature's cloud words at once: Algorithm 3 asks for them per
        # sentence and feature, thousands of times.
        tops = {}
        for side, sign in (("positive", 1.0), ("negative", -1.0)):
            w = np.where(
                self.occurrences[:, None] >= self.min_count,
                sign * self.mean_weight,
                0.0,
            )
            order = np.argsort(-w, axis=0, kind="stable")[: self.top]
            tops[side] = [
                [str(self.vocab[i]) for i in order[:, f] if w[i, f] > 0]
                for f in range(self.n_features)
            ]
        return tops


def word_clouds(
    corpus: CloudCorpus,
    *,
    scale: np.ndarray | None = None,
    top: int = TOP_WORDS,
    min_count: int = 1,
) -> WordClouds:
    """Algorithm 2's clouds of a corpus.

    Parameters
    ----------
    corpus : CloudCorpus
    scale : array of shape (n_features,), optional
        The decision layer's feature scale: weights are then per standard
        deviation of the feature (the order of words is the same).
    top : int
        Words on each side of a cloud (at most the corpus's ``complete_top``).
    min_count : int
        Leave out words seen fewer times (1: the paper's rule, every word).
    """
    if top < 1 or min_count < 1:
        raise ValueError("top and min_count must be at least 1")
    if corpus.complete_top is not None and top > corpus.complete_top:
        raise ValueError(
            f"these clouds were stored for up to {corpus.complete_top} words a "
            f"side; {top} needs them computed again"
        )
    mean = corpus.mean_weight.astype(np.float64)
    if scale is not None:
        mean = mean / np.asarray(scale, dtype=np.float64)
    return WordClouds(corpus.vocab, mean, corpus.occurrences, top, min_count)


def top_activating(
    corpus: CloudCorpus, feature: int, k: int = 10, *, lowest: bool = False
) -> pd.DataFrame:
    """The ``k`` sentences of the corpus with the highest (or lowest) activation
    of a feature: columns ``sentence`` (index in the corpus), ``text``,
    ``activation``."""
    a = corpus.activations[:, feature]
    order = np.argsort(a if lowest else -a, kind="stable")[:k]
    return pd.DataFrame(
        {
            "sentence": order,
            "text": [corpus.texts[i] for i in order],
            "activation": a[order],
        }
    )
