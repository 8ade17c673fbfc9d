"""The readability benchmark counts what it says on a tiny clouds object whose
answer is worked out by hand, and reads VADER's lexicon."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.cloud_readability import (
    class_polarity,
    readability,
    readability_table,
    vader_lexicon,
)
from core.sparse_layers.debugging.lime_clouds import WordClouds

LEXICON = {"great": 3.1, "fun": 2.3, "awful": -3.4, "dull": -1.7}


def tiny_clouds(min_count: int = 1) -> WordClouds:
    """Two features over six words; "tadpole" (seen once) leads both clouds of
    feature 0 at min count 1."""
    vocab = np.array(["tadpole", "great", "fun", "awful", "dull", "film"])
    mean_weight = np.array(
        [
            [9.0, -9.0],  # tadpole
            [2.0, -1.0],  # great
            [1.0, 0.5],  # fun
            [-2.0, 1.0],  # awful
            [0.5, 2.0],  # dull
            [-1.0, -0.5],  # film
        ]
    )
    occurrences = np.array([1, 4, 3, 5, 3, 9])
    return WordClouds(vocab, mean_weight, occurrences, top=2, min_count=min_count)


#: Feature 0 pushes towards "positive" (class 1), feature 1 towards "negative".
WEIGHT = np.array([[-1.0, 2.0], [1.0, -2.0]])
POLARITY = class_polarity(("negative", "positive"))


def test_agreement_and_known_share_by_hand():
    # min count 1, two words a side:
    #   f0 +: tadpole, great → positive; great agrees.   f0 −: awful, film.
    #   awful is negative and agrees.   f1 +: dull, awful → negative: both agree.
    #   f1 −: tadpole, great → positive: great agrees.
    r = readability(tiny_clouds(), WEIGHT, [0, 1], POLARITY, LEXICON)
    assert r["features"] == 2 and r["cloud_words"] == 8
    assert r["known"] == pytest.approx(5 / 8)
    assert r["agree"] == pytest.approx(5 / 5)
    assert r["both_clouds"] == 1.0 and r["words_per_cloud"] == 2.0
    # Against the wrong sign every known word disagrees.
    wrong = readability(tiny_clouds(), -WEIGHT, [0, 1], POLARITY, LEXICON)
    assert wrong["agree"] == 0.0


def test_min_count_leaves_rare_words_out_and_counts_empty_clouds():
    # min count 4: only great (4), awful (5), film (9) remain.
    #   f0 +: great.  f0 −: awful, film.  f1 +: awful.  f1 −: film, great.
    r = readability(tiny_clouds(4), WEIGHT, [0, 1], POLARITY, LEXICON)
    assert r["cloud_words"] == 6 and r["known"] == pytest.approx(4 / 6)
    # min count 6: film alone, on the negative side of both features.
    r = readability(tiny_clouds(6), WEIGHT, [0, 1], POLARITY, LEXICON)
    assert r["both_clouds"] == 0.0 and np.isnan(r["agree"])
    # A feature with equal weights in both classes pushes nowhere: skipped.
    flat = np.array([[1.0, 2.0], [1.0, -2.0]])
    assert readability(tiny_clouds(), flat, [0, 1], POLARITY, LEXICON)["features"] == 1


def test_table_has_one_row_per_min_count_and_layer():
    layers = {"sparse": (WEIGHT, [0]), "dense": (WEIGHT, [0, 1])}
    table = readability_table(tiny_clouds(), layers, POLARITY, LEXICON, (1, 4))
    assert table[["min_count", "layer"]].values.tolist() == [
        [1, "sparse"],
        [1, "dense"],
        [4, "sparse"],
        [4, "dense"],
    ]
    assert table.features.tolist() == [1, 2, 1, 2]


def test_vader_lexicon_and_class_polarity():
    lexicon = vader_lexicon()
    assert len(lexicon) > 7000
    assert lexicon["good"] > 0 > lexicon["boring"]
    with pytest.raises(ValueError, match="no sentiment polarity.*'cat'"):
        class_polarity(("cat", "positive"))
