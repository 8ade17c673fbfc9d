"""Bias probe: add one word to every sentence and count prediction flips
(Wong et al. 2021, §4.1, Table 4).

The paper appended identity words (e.g. "christianity") that the word clouds
of a toxicity model's features showed to be evidence against toxicity, to toxic
comments the model labelled correctly, and counted how often the label
flipped (74.4 % with the sparse layer, 62.2 % dense).

References
----------
Wong, Santurkar & Mądry (2021), "Leveraging Sparse Linear Layers for
Debuggable Deep Networks", ICML, §4.1.
Dixon, Li, Sorensen, Thain & Vasserman (2018), "Measuring and Mitigating
Unintended Bias in Text Classification", AIES (the identity terms).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from core.sparse_layers.debugging.decision_layer import DecisionLayer, Encoder
from core.sparse_layers.debugging.lime_clouds import WordClouds
from core.training.metrics import wilson_interval

#: Identity terms (nationality, religion, sexual orientation, gender, race),
#: after Dixon et al. (2018), plus the religion names the paper probed.
IDENTITY_TERMS = (
    "lesbian",
    "gay",
    "bisexual",
    "transgender",
    "trans",
    "queer",
    "lgbt",
    "lgbtq",
    "homosexual",
    "straight",
    "heterosexual",
    "male",
    "female",
    "woman",
    "women",
    "man",
    "men",
    "girl",
    "girls",
    "boy",
    "boys",
    "nonbinary",
    "african",
    "african american",
    "black",
    "white",
    "european",
    "hispanic",
    "latino",
    "latina",
    "latinx",
    "mexican",
    "canadian",
    "american",
    "asian",
    "indian",
    "middle eastern",
    "chinese",
    "japanese",
    "arab",
    "arabs",
    "christian",
    "christians",
    "christianity",
    "muslim",
    "muslims",
    "islam",
    "jewish",
    "jew",
    "jews",
    "judaism",
    "buddhist",
    "sikh",
    "catholic",
    "protestant",
    "hindu",
    "atheist",
    "taoist",
    "mormon",
    "immigrant",
    "immigrants",
    "refugee",
    "refugees",
    "deaf",
    "blind",
    "paralyzed",
    "old",
    "older",
    "young",
    "younger",
    "teenage",
    "elderly",
)

POSITIONS = ("end", "start")

#: The word the paper probes (Debiased-BERT's clouds, Table 4).
PAPER_WORD = "christianity"


def insert_word(text: str, word: str, position: str = "end") -> str:
    """``text`` with ``word`` appended (``"end"``) or prepended (``"start"``)."""
    if position not in POSITIONS:
        raise ValueError(f"position must be one of {POSITIONS}, got {position!r}")
    word = word.strip()
    if not word:
        raise ValueError("the word to insert is empty")
    return f"{text.rstrip()} {word}" if position == "end" else f"{word} {text.lstrip()}"


def bias_probe(
    texts: Sequence[str],
    labels: np.ndarray,
    words: Sequence[str],
    layers: Sequence[DecisionLayer],
    encoder: Encoder,
    *,
    position: str = "end",
) -> pd.DataFrame:
    """How often adding each word flips the layers' correct predictions.

    For each class ``c`` the probed sentences are those of class ``c`` that
    *every* layer predicts correctly, so all layers are measured on the same
    sentences; the share of them a layer predicts otherwise once the word is
    added is its flip rate.

    Parameters
    ----------
    texts : sequence of str
    labels : array of shape (n,)
        Class codes (rows of each layer's ``weight``).
    words : sequence of str
        The words to add, each probed on its own.
    layers : sequence of DecisionLayer
        With the same classes.
    encoder : callable
        ``encoder(texts)`` → deep features, array of shape (n, n_features).
    position : {"end", "start"}

    Returns
    -------
    DataFrame
        One row per word, layer and class: ``word``, ``layer``, ``class``,
        ``n`` (sentences of the class every layer gets right; the same for
        every layer), ``flips``, ``flip_rate``, ``ci_low``, ``ci_high``
        (95 % Wilson), ``mean_score_change`` (mean change in the probability of
        the true class).

    Raises
    ------
    TypeError
        When ``words`` is one string rather than a sequence of words.
    ValueError
        When there are no sentences or words, the texts and labels differ in
        number, or the layers' classes differ.
    """
    if isinstance(words, str):
        raise TypeError(f"words must be a sequence of words, got the string {words!r}")
    texts, words = list(texts), list(words)
    labels = np.asarray(labels)
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    if not texts:
        raise ValueError("no sentences to probe")
    if not words:
        raise ValueError("no word to add")
    classes = {tuple(layer.class_names) for layer in layers}
    if len(classes) != 1:
        raise ValueError(
            f"the layers must share their classes to be probed on the same "
            f"sentences, got {sorted(classes)}"
        )
    H = np.asarray(encoder(texts))
    P = [layer.probabilities(H) for layer in layers]
    # A sentence is probed only where every layer is right, so a difference in
    # flip rates is the layers' and not their sentences'.
    right = np.all([p.argmax(axis=1) == labels for p in P], axis=0)
    rows = []
    for word in words:
        H_new = np.asarray(encoder([insert_word(t, word, position) for t in texts]))
        for layer, p in zip(layers, P, strict=True):
            rows += _class_flips(word, layer, labels, right, p, H_new)
    return pd.DataFrame(rows)


def _class_flips(
    word: str,
    layer: DecisionLayer,
    labels: np.ndarray,
    right: np.ndarray,
    P: np.ndarray,
    H_new: np.ndarray,
) -> list[dict]:
    """:func:`bias_probe`'s rows for one word and one layer, from the layer's
    probabilities before (``P``) and the deep features after (``H_new``) the
    word was added, over the sentences every layer gets right (``right``)."""
    P_new = layer.probabilities(H_new)
    pred_new = P_new.argmax(axis=1)
    rows = []
    for c, name in enumerate(layer.class_names):
        sel = (labels == c) & right
        n, k = int(sel.sum()), int((pred_new[sel] != c).sum())
        lo, hi = wilson_interval(k, n)
        change = float(np.mean(P_new[sel, c] - P[sel, c])) if n else float("nan")
        rows.append(
            dict(
                word=word,
                layer=layer.name,
                **{"class": name},
                n=n,
                flips=k,
                flip_rate=k / n if n else float("nan"),
                ci_low=lo,
                ci_high=hi,
                mean_score_change=change,
            )
        )
    return rows


def identity_words_in_clouds(
    clouds: WordClouds,
    layer: DecisionLayer,
    terms: Sequence[str] = IDENTITY_TERMS,
) -> pd.DataFrame:
    """Identity terms found in the clouds of the features a layer uses.

    A word in a feature's positive cloud raises the feature; with weight
    ``W[c, feature]`` it is evidence for class ``c`` when the product of the
    two signs is positive.

    Returns
    -------
    DataFrame
        One row per (word, feature, side): ``word``, ``feature``, ``side``,
        ``cloud_weight``, ``evidence_for`` (the class whose score it raises
        most), ``strength`` (|cloud weight| × |W| of that class), largest first.
    """
    wanted = {t.lower() for t in terms}
    rows = []
    for feature in layer.used:
        for side in ("positive", "negative"):
            cloud = clouds.cloud(int(feature), side)
            for word, weight in zip(cloud.word, cloud.weight, strict=True):
                if word in wanted:
                    effect = weight * layer.weight[:, feature]
                    c = int(effect.argmax())
                    rows.append(
                        dict(
                            word=word,
                            feature=int(feature),
                            side=side,
                            cloud_weight=float(weight),
                            evidence_for=layer.class_names[c],
                            strength=float(effect[c]),
                        )
                    )
    table = pd.DataFrame(
        rows,
        columns=["word", "feature", "side", "cloud_weight", "evidence_for", "strength"],
    )
    return table.sort_values("strength", ascending=False, kind="stable").reset_index(
        drop=True
    )


def probe_words(found: pd.DataFrame) -> list[str]:
    """The words a bias probe adds by default, fixed before any flip rate is
    seen: every identity term in the clouds of the sparse layer's features
    (strongest first), then the paper's word (:data:`PAPER_WORD`).

    Parameters
    ----------
    found : DataFrame
        :func:`identity_words_in_clouds`'s table.

    Returns
    -------
    list of str
        Each word once.
    """
    return list(dict.fromkeys([*found.word, PAPER_WORD]))
