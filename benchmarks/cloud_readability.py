"""How readable a text layer's word clouds are, measured against an
independent sentiment lexicon, at several minimum word counts.

    .venv/bin/python -m benchmarks.cloud_readability [--layer sst2-minilm]
        [--min-counts 1 2 3 5 10] [--out readability.csv]

The lexicon is VADER's (``vader_lexicon.txt``, shipped in the ``vaderSentiment``
package; Hutto & Gilbert 2014): 7,500 words and emoticons rated by people from
−4 to +4, independent of the layer, its data and LIME. For each feature of the
sparse layer, and as many of the dense layer's features (largest summed
|weight| first), each side of the feature's clouds pushes towards one class:
the positive cloud (words that raise the feature) towards the class c with the
largest W[c, feature] of that layer, the negative cloud towards the smallest.
Reported, per layer and minimum count, over the words of all these clouds:

- *known*: the share of cloud words the lexicon rates (non-zero valence);
- *agree*: of those, the share whose valence has the sign of the class their
  side pushes towards (0.5 is what words of a random sign would give);
- *features with both clouds*: the share of the features whose positive and
  negative clouds both keep a word at this minimum count;
- *words per cloud*: the mean number of words on a side (at most 30).

The clouds are the newest corpus stored for the layer's dataset (the one the
pages open on: for ``sst2-minilm``, the shipped clouds of the 872 validation
sentences, 500 LIME samples each, seed 0).

References
----------
Hutto & Gilbert (2014), "VADER: A Parsimonious Rule-based Model for Sentiment
Analysis of Social Media Text", ICWSM.
Wong, Santurkar & Mądry (2021), "Leveraging Sparse Linear Layers for
Debuggable Deep Networks", ICML, Algorithm 2.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from importlib import resources

import numpy as np
import pandas as pd

from core.sparse_layers.debugging.lime_clouds import WordClouds
from core.sparse_layers.debugging.workbench import workbench

#: The sign of each class name the lexicon can judge: +1 for a class that
#: positive words are evidence for, −1 for one that negative words are.
CLASS_POLARITY = {"positive": 1, "negative": -1, "neither": 1, "toxic": -1}

#: The minimum counts measured by default.
MIN_COUNTS = (1, 2, 3, 5, 10)


def vader_lexicon() -> dict[str, float]:
    """VADER's lexicon: each rated token (lower case) and its mean valence,
    from −4 (most negative) to +4."""
    text = (
        resources.files("vaderSentiment")
        .joinpath("vader_lexicon.txt")
        .read_text(encoding="utf-8")
    )
    lexicon = {}
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) >= 2 and fields[0].strip():
            lexicon[fields[0].strip().lower()] = float(fields[1])
    return lexicon


def class_polarity(class_names: Sequence[str]) -> np.ndarray:
    """The sign (:data:`CLASS_POLARITY`) of each class, array of shape
    (n_classes,); ValueError naming a class the lexicon cannot judge."""
    unknown = [c for c in class_names if c not in CLASS_POLARITY]
    if unknown:
        raise ValueError(
            f"no sentiment polarity for the classes {unknown}: the lexicon can "
            f"judge {sorted(CLASS_POLARITY)}"
        )
    return np.array([CLASS_POLARITY[c] for c in class_names])


def readability(
    clouds: WordClouds,
    weight: np.ndarray,
    features: Sequence[int],
    polarity: np.ndarray,
    lexicon: dict[str, float],
) -> dict:
    """How the lexicon judges the clouds of ``features`` under one layer.

    Parameters
    ----------
    clouds : WordClouds
        At the minimum count to measure.
    weight : array of shape (n_classes, n_features)
        The layer's ``W``: a feature's positive cloud pushes towards
        ``argmax_c W[c, f]``, its negative cloud towards ``argmin_c W[c, f]``.
    features : sequence of int
        The features measured (those with all-equal weights are skipped: their
        clouds push towards no class).
    polarity : array of shape (n_classes,)
        +1 or −1 per class (:func:`class_polarity`).
    lexicon : dict of str to float
        Word → valence (:func:`vader_lexicon`).

    Returns
    -------
    dict
        ``features``, ``cloud_words``, ``known`` (share of cloud words with a
        non-zero valence), ``agree`` (share of those whose valence has the sign
        of their side's class; NaN when none is known), ``both_clouds`` (share
        of features with a word on each side), ``words_per_cloud``.
    """
    n_words = n_known = n_agree = n_both = 0
    measured = [int(f) for f in features if np.ptp(weight[:, int(f)]) > 0]
    for f in measured:
        toward = {
            "positive": polarity[int(np.argmax(weight[:, f]))],
            "negative": polarity[int(np.argmin(weight[:, f]))],
        }
        sides = {side: clouds.words(f, side) for side in toward}
        n_both += all(sides.values())
        for side, words in sides.items():
            valence = np.array([lexicon.get(w, 0.0) for w in words])
            known = valence != 0
            n_words += len(words)
            n_known += int(known.sum())
            n_agree += int((np.sign(valence[known]) == toward[side]).sum())
    n = len(measured)
    return {
        "features": n,
        "cloud_words": n_words,
        "known": n_known / n_words if n_words else float("nan"),
        "agree": n_agree / n_known if n_known else float("nan"),
        "both_clouds": n_both / n if n else float("nan"),
        "words_per_cloud": n_words / (2 * n) if n else float("nan"),
    }


def readability_table(
    clouds: WordClouds,
    layers: dict[str, tuple[np.ndarray, Sequence[int]]],
    polarity: np.ndarray,
    lexicon: dict[str, float],
    min_counts: Sequence[int] = MIN_COUNTS,
) -> pd.DataFrame:
    """:func:`readability` of each layer's features at each minimum count.

    ``layers`` maps a name to the layer's ``W`` and the features measured;
    one row per (min count, layer), columns ``min_count``, ``layer`` and
    :func:`readability`'s fields.
    """
    rows = []
    for m in min_counts:
        at_m = dataclasses.replace(clouds, min_count=int(m))
        for name, (weight, features) in layers.items():
            rows.append(
                {
                    "min_count": int(m),
                    "layer": name,
                    **readability(at_m, weight, features, polarity, lexicon),
                }
            )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", default="sst2-minilm")
    parser.add_argument("--min-counts", type=int, nargs="+", default=MIN_COUNTS)
    parser.add_argument("--out", help="CSV of the table")
    args = parser.parse_args()
    wb = workbench(args.layer)
    stored = wb.stored_clouds()
    if stored is None:
        raise SystemExit(
            f"No word clouds are stored for {args.layer}: compute them with "
            f"`python -m core word-clouds --layer {args.layer}`."
        )
    entry, clouds = stored
    sparse, dense = wb.layers["sparse"], wb.layers["dense"]
    top_dense = np.argsort(-np.abs(dense.weight).sum(axis=0), kind="stable")
    layers = {
        "sparse": (sparse.weight, sparse.used),
        "dense": (dense.weight, top_dense[: len(sparse.used)]),
    }
    table = readability_table(
        clouds, layers, class_polarity(wb.class_names), vader_lexicon(), args.min_counts
    )
    print(
        f"{args.layer}: clouds of {entry['sentences']} {entry['split']} sentences "
        f"({entry['settings'].n_samples} LIME samples, seed "
        f"{entry['settings'].seed}); the sparse layer's {len(sparse.used)} "
        f"features and the dense layer's top {len(sparse.used)} by |weight|; "
        "lexicon: VADER"
    )
    print(table.to_string(index=False, float_format="{:.3f}".format))
    if args.out:
        table.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
