"""Counterfactual word substitutions from word clouds (Wong et al. 2021,
Algorithm 3).

For a sentence predicted ``y``, the candidates are the (word, feature) pairs
where the word is in the feature's positive cloud and ``W[y, feature] > 0``
(the word raises a feature that supports ``y``), or in its negative cloud and
``W[y, feature] < 0``. One candidate is drawn at random and the word replaced
by a random word of the *opposite* cloud of that feature; the counterfactual
succeeds when the prediction changes.

References
----------
Wong, Santurkar & Mądry (2021), "Leveraging Sparse Linear Layers for
Debuggable Deep Networks", ICML, §4.2 and Appendix F (Algorithm 3).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from lime.lime_text import IndexedString

from core.sparse_layers.debugging.decision_layer import DecisionLayer, Encoder
from core.sparse_layers.debugging.lime_clouds import WordClouds
from core.training.metrics import wilson_interval

#: Paper's flip rates on SST (sparse, dense), for comparison.
PAPER_FLIP_RATES = {"sparse": 0.731, "dense": 0.522}


@dataclass(frozen=True)
class Candidate:
    """A word of the sentence that one of the layer's features' clouds holds.

    ``side`` is the cloud the word is in; the replacement comes from the other.
    """

    word: str
    positions: tuple[int, ...]
    feature: int
    side: str
    weight: float  # W[y, feature]


def tokens(text: str) -> IndexedString:
    """The sentence split as LIME splits it (the clouds' words)."""
    return IndexedString(text, bow=True)


def candidates(
    text: str, predicted: int, layer: DecisionLayer, clouds: WordClouds
) -> list[Candidate]:
    """Lines 3–12 of Algorithm 3: the (word, feature) pairs of ``text`` that
    support the prediction ``predicted`` through the layer's features.

    Features with a zero weight for ``predicted`` never qualify, so a sparse
    layer offers fewer, stronger candidates than a dense one.
    """
    if clouds.n_features != layer.n_features:
        raise ValueError(
            f"the clouds have {clouds.n_features} features, the layer "
            f"{layer.n_features}: they must come from the same encoder"
        )
    indexed = tokens(text)
    words = {}
    for k, word in enumerate(indexed.inverse_vocab):
        words.setdefault(word.lower(), []).extend(indexed.positions[k])
    out = []
    w = layer.weight[predicted]
    for feature in np.flatnonzero(w != 0):
        side = "positive" if w[feature] > 0 else "negative"
        for word in clouds.words(int(feature), side):
            if word in words:
                out.append(
                    Candidate(
                        word,
                        tuple(sorted(words[word])),
                        int(feature),
                        side,
                        float(w[feature]),
                    )
                )
    return out


def opposite(side: str) -> str:
    return "negative" if side == "positive" else "positive"


def substitute(text: str, position: int, replacement: str) -> str:
    """``text`` with LIME's token at ``position`` replaced."""
    parts = list(tokens(text).as_list)
    parts[position] = replacement
    return "".join(parts)


@dataclass(frozen=True)
class Substitution:
    """One counterfactual: which word, through which feature, replaced by what."""

    text: str
    counterfactual: str
    word: str
    replacement: str
    feature: int
    side: str


def draw_counterfactual(
    text: str,
    predicted: int,
    layer: DecisionLayer,
    clouds: WordClouds,
    rng: np.random.Generator,
) -> Substitution | None:
    """Lines 13–23 of Algorithm 3: a random candidate, a random word of the
    opposite cloud (None when the sentence has no candidate)."""
    pool = candidates(text, predicted, layer, clouds)
    if not pool:
        return None
    cand = pool[int(rng.integers(len(pool)))]
    choices = [
        w for w in clouds.words(cand.feature, opposite(cand.side)) if w != cand.word
    ]
    if not choices:
        return None
    replacement = choices[int(rng.integers(len(choices)))]
    position = cand.positions[int(rng.integers(len(cand.positions)))]
    return Substitution(
        text,
        substitute(text, position, replacement),
        cand.word,
        replacement,
        cand.feature,
        cand.side,
    )


def has_substitution(
    text: str, predicted: int, layer: DecisionLayer, clouds: WordClouds
) -> bool:
    """Whether :func:`all_substitutions` finds at least one substitution:
    a candidate whose opposite cloud holds a word other than its own."""
    return any(
        any(w != cand.word for w in clouds.words(cand.feature, opposite(cand.side)))
        for cand in candidates(text, predicted, layer, clouds)
    )


def first_with_substitution(
    texts: Sequence[str],
    layer: DecisionLayer,
    clouds: WordClouds,
    encoder: Encoder,
    *,
    batch_size: int = 32,
) -> int | None:
    """The index of the first sentence the layer has a counterfactual for.

    Sentences are encoded ``batch_size`` at a time and the search stops at the
    first batch that holds one, so a page can open on a sentence with a
    counterfactual without encoding them all (and without LIME: the clouds
    are given).

    Parameters
    ----------
    texts : sequence of str
    layer : DecisionLayer
    clouds : WordClouds
        From the same encoder as the layer's features.
    encoder : Encoder
    batch_size : int

    Returns
    -------
    int or None
        The first ``i`` for which :func:`has_substitution` holds under the
        layer's prediction of ``texts[i]``; None when no sentence has one.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    texts = list(texts)
    for start in range(0, len(texts), batch_size):
        batch = texts[start : start + batch_size]
        predicted = layer.predict(np.asarray(encoder(batch)))
        for i, (text, y) in enumerate(zip(batch, predicted, strict=True)):
            if has_substitution(text, int(y), layer, clouds):
                return start + i
    return None


def all_substitutions(
    text: str, layer: DecisionLayer, clouds: WordClouds, encoder: Encoder
) -> tuple[int, np.ndarray, pd.DataFrame]:
    """Every candidate substitution of a sentence with its new score.

    Returns
    -------
    predicted : int
        The layer's prediction (class code).
    probabilities : array of shape (n_classes,)
    table : DataFrame
        One row per (word, feature, replacement): ``word``, ``feature``,
        ``side``, ``weight`` (W[y, feature]), ``replacement``,
        ``counterfactual``, ``score`` (new probability of the predicted class),
        ``prediction`` (new class name), ``flipped``. Empty when the sentence
        has no candidate.
    """
    p0 = layer.probabilities(encoder([text]))[0]
    y = int(p0.argmax())
    rows = []
    for cand in candidates(text, y, layer, clouds):
        for repl in clouds.words(cand.feature, opposite(cand.side)):
            if repl != cand.word:
                rows.append(
                    dict(
                        word=cand.word,
                        feature=cand.feature,
                        side=cand.side,
                        weight=cand.weight,
                        replacement=repl,
                        counterfactual=substitute(text, cand.positions[0], repl),
                    )
                )
    table = pd.DataFrame(
        rows,
        columns=["word", "feature", "side", "weight", "replacement", "counterfactual"],
    )
    if rows:
        unique = list(dict.fromkeys(table.counterfactual))
        P = layer.probabilities(encoder(unique))
        at = {t: i for i, t in enumerate(unique)}
        idx = np.array([at[t] for t in table.counterfactual])
        table["score"] = P[idx, y]
        pred = P[idx].argmax(axis=1)
        table["prediction"] = [layer.class_names[c] for c in pred]
        table["flipped"] = pred != y
        table = table.sort_values("score", kind="stable").reset_index(drop=True)
    else:
        table = table.assign(score=[], prediction=[], flipped=[])
    return y, p0, table


def evaluate_counterfactuals(
    texts: Sequence[str],
    layers: Sequence[DecisionLayer],
    clouds: WordClouds,
    encoder: Encoder,
    *,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Algorithm 3 on every sentence, for each layer; flip rates with 95 %
    Wilson intervals.

    Sentence ``i``'s draw for the ``k``-th layer uses
    ``numpy.random.default_rng([seed, i, k])``.

    Returns
    -------
    table : DataFrame
        One row per sentence and layer: ``sentence``, ``layer``, ``text``,
        ``candidates`` (their number), ``word``, ``replacement``, ``feature``,
        ``counterfactual``, ``score_before``/``score_after`` (probability of
        the original prediction), ``prediction_before``/``prediction_after``,
        ``flipped`` (False without a candidate).
    summary : dict
        Per layer ``<name>_flip_rate`` over the sentences with a candidate in
        *every* layer (the paper's rate) and ``<name>_flip_rate_own`` over the
        sentences with a candidate in that layer, ``<name>_flip_rate_all`` over
        all sentences (no candidate counts as no flip), each with
        ``…_ci`` (95 % Wilson interval) and the counts behind it.
    """
    texts = list(texts)
    if not texts:
        raise ValueError("no sentences to evaluate")
    H = np.asarray(encoder(texts))
    rows = []
    for k, layer in enumerate(layers):
        rows += _draw_for_layer(texts, H, layer, k, clouds, seed)
        if progress is not None:
            progress(k + 1, len(layers) + 1)
    table = _score_counterfactuals(pd.DataFrame(rows), H, layers, encoder)
    if progress is not None:
        progress(len(layers) + 1, len(layers) + 1)
    return table, flip_summary(table, [layer.name for layer in layers])


def _draw_for_layer(
    texts: list[str],
    H: np.ndarray,
    layer: DecisionLayer,
    k: int,
    clouds: WordClouds,
    seed: int,
) -> list[dict]:
    """One counterfactual drawn per sentence for the ``k``-th layer: rows of
    :func:`evaluate_counterfactuals`'s table before scoring."""
    pred = layer.predict(H)
    rows = []
    for i, text in enumerate(texts):
        rng = np.random.default_rng([seed, i, k])
        sub = draw_counterfactual(text, int(pred[i]), layer, clouds, rng)
        n_cand = len(candidates(text, int(pred[i]), layer, clouds))
        rows.append(
            dict(
                sentence=i,
                layer=layer.name,
                text=text,
                candidates=n_cand,
                word=sub.word if sub else None,
                replacement=sub.replacement if sub else None,
                feature=sub.feature if sub else None,
                counterfactual=sub.counterfactual if sub else None,
            )
        )
    return rows


def _score_counterfactuals(
    table: pd.DataFrame,
    H: np.ndarray,
    layers: Sequence[DecisionLayer],
    encoder: Encoder,
) -> pd.DataFrame:
    """``table`` with each layer's scores and predictions before and after its
    counterfactual; every distinct counterfactual is encoded once."""
    has = table.counterfactual.notna().to_numpy()
    unique = list(dict.fromkeys(table.counterfactual[has]))
    H_cf = np.asarray(encoder(unique)) if unique else np.zeros((0, H.shape[1]))
    at = {t: j for j, t in enumerate(unique)}
    before, after = np.full(len(table), np.nan), np.full(len(table), np.nan)
    pred_before = np.empty(len(table), dtype=object)
    pred_after = np.full(len(table), None, dtype=object)
    flipped = np.zeros(len(table), dtype=bool)
    for layer in layers:
        sel = (table.layer == layer.name).to_numpy()
        P = layer.probabilities(H)
        y = P.argmax(axis=1)
        idx = np.flatnonzero(sel)
        before[idx] = P[np.arange(len(H)), y]
        pred_before[idx] = [layer.class_names[c] for c in y]
        ok = idx[has[idx]]
        if len(ok):
            rows_cf = [at[t] for t in table.counterfactual.to_numpy()[ok]]
            Pc = layer.probabilities(H_cf[rows_cf])
            yi = y[table.sentence.to_numpy()[ok]]
            after[ok] = Pc[np.arange(len(ok)), yi]
            new = Pc.argmax(axis=1)
            pred_after[ok] = [layer.class_names[c] for c in new]
            flipped[ok] = new != yi
    return table.assign(
        score_before=before,
        score_after=after,
        prediction_before=pred_before,
        prediction_after=pred_after,
        flipped=flipped,
    )


def flip_summary(table: pd.DataFrame, names: Sequence[str]) -> dict:
    """Flip rates and 95 % Wilson intervals from :func:`evaluate_counterfactuals`'s
    table (see there)."""
    has_cf = table.assign(has=table.counterfactual.notna())
    both = has_cf.pivot(index="sentence", columns="layer", values="has")[
        list(names)
    ].all(axis=1)
    summary: dict = {
        "n_sentences": int(len(both)),
        "n_with_candidate_in_all": int(both.sum()),
    }
    for name in names:
        t = table[table.layer == name].set_index("sentence").sort_index()
        has = t.counterfactual.notna()
        groups = {
            "": both.reindex(t.index).to_numpy() & has.to_numpy(),
            "_own": has.to_numpy(),
            "_all": np.ones(len(t), bool),
        }
        summary[f"{name}_n_with_candidate"] = int(has.sum())
        for suffix, sel in groups.items():
            n, k = int(sel.sum()), int(t.flipped.to_numpy()[sel].sum())
            rate = k / n if n else float("nan")
            summary[f"{name}_flip_rate{suffix}"] = rate
            summary[f"{name}_flips{suffix}"] = k
            summary[f"{name}_n{suffix}"] = n
            summary[f"{name}_flip_rate{suffix}_ci"] = list(wilson_interval(k, n))
    return summary


#: The sets of sentences :func:`flip_summary` rates, by key suffix, as
#: :func:`flip_rate_table` names them.
FLIP_RATE_SETS = {
    "_all": "all sentences",
    "": "with a candidate in both layers",
    "_own": "with a candidate in this layer",
}


def flip_rate_table(summary: dict, names: Sequence[str]) -> pd.DataFrame:
    """:func:`flip_summary`'s rates with their 95 % intervals, the layers side
    by side within each set of sentences (:data:`FLIP_RATE_SETS`).

    Returns
    -------
    DataFrame
        One row per set of sentences and layer; columns ``sentences``,
        ``layer``, ``flip rate``, ``95% CI`` (as text, ``—`` without
        sentences), ``flips``, ``n``, ``paper`` (:data:`PAPER_FLIP_RATES`,
        only beside the paper's rate: over the sentences with a candidate in
        both layers; NaN elsewhere and for another name).
    """
    rows = []
    for suffix, sentences in FLIP_RATE_SETS.items():
        for name in names:
            lo, hi = summary[f"{name}_flip_rate{suffix}_ci"]
            rows.append(
                {
                    "sentences": sentences,
                    "layer": name,
                    "flip rate": summary[f"{name}_flip_rate{suffix}"],
                    "95% CI": "—" if np.isnan(lo) else f"{lo:.3f}–{hi:.3f}",
                    "flips": summary[f"{name}_flips{suffix}"],
                    "n": summary[f"{name}_n{suffix}"],
                    "paper": PAPER_FLIP_RATES.get(name, float("nan"))
                    if suffix == ""
                    else float("nan"),
                }
            )
    return pd.DataFrame(rows)
