"""Debugging through deep features: LIME clouds, counterfactuals, bias probe,
misclassifications — on hand-made encoders and layers with known answers."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import core.sparse_layers.debugging.lime_clouds as lime_clouds
from core.paths import ASSETS_DIR
from core.sparse_layers.debugging.bias import (
    PAPER_WORD,
    bias_probe,
    identity_words_in_clouds,
    insert_word,
    probe_words,
)
from core.sparse_layers.debugging.counterfactuals import (
    FLIP_RATE_SETS,
    PAPER_FLIP_RATES,
    all_substitutions,
    candidates,
    draw_counterfactual,
    evaluate_counterfactuals,
    first_with_substitution,
    flip_rate_table,
    has_substitution,
)
from core.sparse_layers.debugging.decision_layer import DecisionLayer
from core.sparse_layers.debugging.lime_clouds import (
    CloudCorpus,
    LimeSettings,
    SentenceExplanations,
    WordClouds,
    corpus_clouds,
    corpus_file,
    explain_sentences,
    is_cached,
    lime_explainer,
    weighted_ridge,
    word_clouds,
)
from core.sparse_layers.debugging.misclassifications import (
    confusion_vs_shared,
    gamma_scores,
    misclassification_summary,
    misclassifications,
    normalised_confusion,
)
from core.sparse_layers.glm import elastic_net_path
from core.training.metrics import wilson_interval


def bag_encoder(vocab: dict[str, np.ndarray]):
    """Deep features = Σ of each known word's vector (a linear bag of words)."""
    dim = len(next(iter(vocab.values())))

    def encode(texts):
        out = np.zeros((len(texts), dim))
        for i, t in enumerate(texts):
            for w in re.findall(r"\w+", t.lower()):
                out[i] += vocab.get(w, 0.0)
        return out

    return encode


def layer(W, b=None, names=("neg", "pos")) -> DecisionLayer:
    W = np.asarray(W, dtype=float)
    return DecisionLayer(
        "toy",
        W,
        np.zeros(len(W)) if b is None else np.asarray(b),
        np.zeros(W.shape[1]),
        np.ones(W.shape[1]),
        tuple(names),
    )


# ----------------------------------------------------------------- LIME clouds
def test_weighted_ridge_matches_sklearn_per_output():
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, (60, 5)).astype(float)
    Y = rng.standard_normal((60, 3))
    w = rng.random(60)
    coef, icpt = weighted_ridge(X, Y, w, ridge_alpha=1.0)
    for j in range(3):
        ref = Ridge(alpha=1.0).fit(X, Y[:, j], sample_weight=w)
        np.testing.assert_allclose(coef[:, j], ref.coef_, atol=1e-10)
        np.testing.assert_allclose(icpt[j], ref.intercept_, atol=1e-10)


def test_one_sampling_for_all_features_gives_lime_s_own_weights():
    rng = np.random.default_rng(1)
    words = ["good", "bad", "film", "great", "plot", "the", "dull"]
    enc = bag_encoder({w: rng.standard_normal(4) for w in words})
    nonlinear = lambda t: np.tanh(enc(t))  # noqa: E731
    settings = LimeSettings(n_samples=120, seed=5)
    texts = ["the good film, a great plot.", "Dull plot; bad film", "!!!"]
    expl = explain_sentences(texts, nonlinear, settings)
    assert list(expl.offsets) == [0, 6, 10, 10]  # "!!!" has no words
    for i, text in enumerate(texts[:2]):
        ours = expl.sentence(i)
        for j in range(4):
            ref = lime_explainer(text, settings).explain_instance(
                text,
                lambda t, j=j: nonlinear(t)[:, [j]],
                labels=(0,),
                num_features=50,
                num_samples=120,
            )
            got = {w: ours.loc[w, j] for w in ours.index}
            for w, v in ref.as_list(label=0):
                assert got[w] == pytest.approx(v, abs=1e-5)


def test_word_cloud_averages_over_occurrences_with_known_weights():
    # Two features; "good" occurs three times (twice in one sentence).
    expl = SentenceExplanations(
        texts=("good good", "Good bad", "bad plot"),
        offsets=np.array([0, 1, 3, 5]),
        words=np.array(["good", "Good", "bad", "bad", "plot"]),
        counts=np.array([2, 1, 1, 1, 1]),
        weights=np.array(
            [[1.0, 0], [4.0, 0], [-2.0, 1], [-4.0, 3], [0.5, -1]], dtype=np.float32
        ),
        activations=np.zeros((3, 2), np.float32),
        settings=LimeSettings(),
        encoder_id="toy",
    )
    corpus = expl.aggregate()
    assert corpus.n_explained == 3
    wc = word_clouds(corpus, top=1)
    mean = dict(zip(wc.vocab, wc.mean_weight[:, 0], strict=True))
    assert mean == pytest.approx({"good": 2.0, "bad": -3.0, "plot": 0.5})
    assert dict(zip(wc.vocab, wc.occurrences, strict=True)) == {
        "good": 3,
        "bad": 2,
        "plot": 1,
    }
    assert wc.words(0, "positive") == ["good"] and wc.words(0, "negative") == ["bad"]
    assert wc.words(1, "positive") == ["bad"] and wc.words(1, "negative") == ["plot"]
    for f in (0, 1):
        for side in ("positive", "negative"):
            assert wc.words(f, side) == wc.cloud(f, side).word.tolist()
    # What each feature means, in the order asked for.
    meanings = wc.meanings([1, 0])
    assert meanings.to_dict("list") == {
        "raised by": ["bad", "good"],
        "lowered by": ["plot", "bad"],
    }
    # A scale expresses weights per standard deviation; min_count drops "plot".
    scaled = word_clouds(corpus, scale=np.array([2.0, 1.0]), min_count=2)
    assert scaled.cloud(0, "positive").weight.tolist() == pytest.approx([1.0])
    assert scaled.words(1, "negative") == []
    with pytest.raises(ValueError, match="side"):
        wc.cloud(0, "up")


def test_clouds_of_a_toy_corpus_recover_the_encoder_s_words(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARSELENS_CACHE", str(tmp_path))
    # Feature 0 = 2·#good + #great − 2·#awful; feature 1 = #plot − #dull.
    enc = bag_encoder(
        {
            "good": np.array([2.0, 0]),
            "great": np.array([1.0, 0]),
            "awful": np.array([-2.0, 0]),
            "plot": np.array([0, 1.0]),
            "dull": np.array([0, -1.0]),
        }
    )
    corpus = [
        "a good film with a great plot",
        "an awful film",
        "good acting",
        "dull plot and awful acting",
        "a great cast in a good film",
    ]
    settings = LimeSettings(n_samples=300, seed=0)
    assert not is_cached(corpus, "toy", settings)
    clouds = corpus_clouds(corpus, enc, "toy", settings)
    wc = word_clouds(clouds)
    assert wc.words(0, "positive")[:2] == ["good", "great"]
    assert wc.words(0, "negative")[0] == "awful"
    mean = dict(zip(wc.vocab, wc.mean_weight[:, 0], strict=True))
    assert all(abs(mean[w]) < 0.4 for w in wc.words(0, "negative")[1:])
    # LIME's ridge (α = 1) shrinks a little; neutral words stay near zero.
    assert mean["good"] == pytest.approx(2.0, rel=0.15)
    assert mean["awful"] == pytest.approx(-2.0, rel=0.15)
    assert abs(mean["film"]) < 0.1
    # Cached: a second call reads the file instead of encoding again.
    assert is_cached(corpus, "toy", settings)
    again = corpus_clouds(corpus, lambda t: 1 / 0, "toy", settings)
    np.testing.assert_array_equal(again.mean_weight, clouds.mean_weight)
    assert again.texts == clouds.texts and again.n_explained == 5


def random_corpus(
    seed: int = 0, n_words: int = 400, n_features: int = 6
) -> CloudCorpus:
    """Weights of both signs, many ties in occurrence counts (1 to 12)."""
    rng = np.random.default_rng(seed)
    return CloudCorpus(
        texts=("a",),
        activations=np.zeros((1, n_features), np.float32),
        vocab=np.array([f"w{i:03d}" for i in range(n_words)]),
        occurrences=rng.integers(1, 13, n_words),
        mean_weight=rng.standard_normal((n_words, n_features)).astype(np.float32),
        settings=LimeSettings(),
        encoder_id="toy",
        n_explained=1,
    )


def test_pruned_clouds_are_the_same_clouds_at_every_min_count():
    full = random_corpus()
    pruned = full.pruned(top=10)
    assert pruned.complete_top == 10
    assert np.count_nonzero(pruned.mean_weight) < 0.6 * full.mean_weight.size
    scale = np.linspace(0.5, 2.0, full.n_features)
    for min_count in range(1, 14):
        for top in (1, 5, 10):
            a = word_clouds(full, scale=scale, top=top, min_count=min_count)
            b = word_clouds(pruned, scale=scale, top=top, min_count=min_count)
            for f in range(full.n_features):
                for side in ("positive", "negative"):
                    pd.testing.assert_frame_equal(a.cloud(f, side), b.cloud(f, side))
                    assert a.words(f, side) == b.words(f, side)
    with pytest.raises(ValueError, match="up to 10 words"):
        word_clouds(pruned, top=11)


@pytest.mark.parametrize(
    "index", sorted((ASSETS_DIR / "wordclouds").glob("clouds-*.json")), ids=str
)
def test_shipped_corpora_are_found_under_their_settings(index):
    # LimeSettings' field names are hashed into the file name and stored in the
    # index: a renamed field would orphan the shipped clouds.
    entry = json.loads(index.read_text())
    corpus = CloudCorpus.load(index.with_name(entry["file"]))
    assert corpus.settings == LimeSettings(**entry["settings"])
    assert (
        corpus_file(corpus.texts, corpus.encoder_id, corpus.settings) == (entry["file"])
    )


def test_a_shipped_corpus_is_read_when_nothing_is_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARSELENS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(lime_clouds, "SHIPPED_DIR", tmp_path / "shipped")
    enc = bag_encoder({"good": np.array([1.0]), "bad": np.array([-1.0])})
    texts, settings = ["good film", "bad film"], LimeSettings(n_samples=50)
    computed = corpus_clouds(texts, enc, "toy", settings, cache=False)
    assert not is_cached(texts, "toy", settings)
    shipped_file = lime_clouds.ship_corpus(
        computed, {"dataset": "toy", "split": "val", "limit": None}
    )
    assert shipped_file.parent == tmp_path / "shipped"
    assert is_cached(texts, "toy", settings)
    [entry] = lime_clouds.cached_corpora("toy")
    assert entry["dataset"] == "toy" and entry["sentences"] == 2
    shipped = corpus_clouds(texts, lambda t: 1 / 0, "toy", settings)
    assert shipped.complete_top == lime_clouds.TOP_WORDS
    assert word_clouds(shipped).words(0, "positive") == ["good"]


# -------------------------------------------------------------- counterfactuals
def toy_sentiment():
    """Feature 0 = #good − #awful + #great, feature 1 = #boring; the layer says
    positive when feature 0 − feature 1 > 0."""
    enc = bag_encoder(
        {
            "good": np.array([1.0, 0]),
            "great": np.array([1.0, 0]),
            "awful": np.array([-1.0, 0]),
            "boring": np.array([0, 1.0]),
        }
    )
    lay = layer([[-1.0, 1.0], [1.0, -1.0]])
    clouds = WordClouds(
        vocab=np.array(["awful", "boring", "good", "great", "movie"]),
        mean_weight=np.array([[-1.0, 0], [0, 1.0], [1.0, 0], [0.8, 0], [0, 0]]),
        occurrences=np.ones(5, int),
    )
    return enc, lay, clouds


def test_the_counterfactual_replaces_the_supporting_word_by_its_opposite():
    enc, lay, clouds = toy_sentiment()
    text = "A good movie."
    assert lay.predict(enc([text]))[0] == 1
    cands = candidates(text, 1, lay, clouds)
    assert [(c.word, c.feature, c.side) for c in cands] == [("good", 0, "positive")]
    sub = draw_counterfactual(text, 1, lay, clouds, np.random.default_rng(0))
    assert sub.counterfactual == "A awful movie." and sub.replacement == "awful"
    assert lay.predict(enc([sub.counterfactual]))[0] == 0
    # Predicted negative through "boring" (W[neg, 1] > 0, positive cloud): no
    # word of feature 1's negative cloud exists, so no counterfactual.
    assert (
        draw_counterfactual("boring", 0, lay, clouds, np.random.default_rng(0)) is None
    )
    assert candidates("a movie", 1, lay, clouds) == []


def test_all_substitutions_and_the_batch_evaluation():
    enc, lay, clouds = toy_sentiment()
    y, p, table = all_substitutions("good and great great", lay, clouds, enc)
    assert y == 1 and p[1] > 0.5
    assert set(zip(table.word, table.replacement, strict=True)) == {
        ("good", "awful"),
        ("great", "awful"),
    }
    assert table.flipped.tolist() == [False, False]  # one of three words is not enough
    texts = ["a good movie", "an awful movie", "a movie", "good good good"]
    dense = layer([[-1.0, 0.5], [1.0, -0.5]], names=("neg", "pos"))
    dense = DecisionLayer(
        "dense",
        *[
            getattr(dense, f)
            for f in ("weight", "bias", "center", "scale", "class_names")
        ],
    )
    sparse = DecisionLayer(
        "sparse",
        *[
            getattr(lay, f)
            for f in ("weight", "bias", "center", "scale", "class_names")
        ],
    )
    table, summary = evaluate_counterfactuals(
        texts, [sparse, dense], clouds, enc, seed=1
    )
    assert len(table) == 8 and summary["n_sentences"] == 4
    # "a movie" has no candidate; "good good good" keeps two "good"s: no flip.
    assert summary["n_with_candidate_in_all"] == 3
    assert summary["sparse_flips"] == 2 and summary["sparse_n"] == 3
    assert summary["sparse_flip_rate"] == pytest.approx(2 / 3)
    assert summary["sparse_flip_rate_all"] == pytest.approx(2 / 4)
    lo, hi = summary["sparse_flip_rate_ci"]
    assert lo < 2 / 3 < hi
    row = table[(table.sentence == 1) & (table.layer == "sparse")].iloc[0]
    assert row.counterfactual in ("an good movie", "an great movie") and row.flipped
    again, _ = evaluate_counterfactuals(texts, [sparse, dense], clouds, enc, seed=1)
    pd.testing.assert_frame_equal(table, again)  # seeded
    rates = flip_rate_table(summary, ["sparse", "dense"])
    # Both layers side by side within each set of sentences, each rate with
    # its interval; the paper's rates are over sentences with both candidates.
    assert rates.sentences.tolist() == [
        s for s in FLIP_RATE_SETS.values() for _ in range(2)
    ]
    assert rates.layer.tolist() == ["sparse", "dense"] * 3
    both = rates.set_index(["sentences", "layer"]).loc[FLIP_RATE_SETS[""]]
    assert both.loc["sparse", "flip rate"] == pytest.approx(2 / 3)
    assert both.loc["sparse", "n"] == 3 and both.loc["sparse", "flips"] == 2
    assert both.loc["sparse", "95% CI"] == f"{lo:.3f}–{hi:.3f}"
    assert both.paper.tolist() == [PAPER_FLIP_RATES[n] for n in ("sparse", "dense")]
    every = rates.set_index(["sentences", "layer"]).loc[FLIP_RATE_SETS["_all"]]
    assert every.loc["sparse", "flip rate"] == pytest.approx(2 / 4)
    assert every.loc["sparse", "n"] == 4 and every.paper.isna().all()
    lo_all, hi_all = summary["sparse_flip_rate_all_ci"]
    assert every.loc["sparse", "95% CI"] == f"{lo_all:.3f}–{hi_all:.3f}"


def test_the_first_sentence_with_a_counterfactual_is_found_batch_by_batch():
    enc, lay, clouds = toy_sentiment()
    seen = []

    def counting(texts):
        seen.extend(texts)
        return enc(texts)

    # "boring" has a candidate but no replacement word; "a movie" none at all.
    texts = ["a movie", "boring", "a movie", "an awful movie", "good", "great"]
    assert not has_substitution("boring", 0, lay, clouds)
    assert has_substitution("an awful movie", 0, lay, clouds)
    assert first_with_substitution(texts, lay, clouds, counting, batch_size=2) == 3
    assert seen == texts[:4]  # the last batch is never encoded
    assert first_with_substitution(texts[:3], lay, clouds, enc) is None
    with pytest.raises(ValueError, match="batch_size must be at least 1, got 0"):
        first_with_substitution(texts, lay, clouds, enc, batch_size=0)


# ------------------------------------------------------------------ bias probe
def test_bias_probe_on_a_toy_toxicity_model():
    # Feature 0 = #idiot − 2·#christianity; toxic (class 1) when feature 0 > 0.5.
    enc = bag_encoder({"idiot": np.array([1.0]), "christianity": np.array([-2.0])})
    lay = layer([[-0.5], [0.5]], b=[0.25, -0.25], names=("neither", "toxic"))
    texts = ["you idiot", "idiot!", "idiot idiot idiot", "hello", "nice day", "idiot"]
    labels = np.array([1, 1, 1, 0, 0, 0])  # the last one is a mistake of the layer
    table = bias_probe(texts, labels, ["christianity"], [lay], enc)
    toxic = table[table["class"] == "toxic"].iloc[0]
    assert (toxic.n, toxic.flips) == (3, 2)  # three "idiot"s outweigh it
    assert toxic.flip_rate == pytest.approx(2 / 3)
    assert (toxic.ci_low, toxic.ci_high) == pytest.approx(wilson_interval(2, 3))
    neither = table[table["class"] == "neither"].iloc[0]
    assert (neither.n, neither.flips) == (2, 0) and neither.mean_score_change > 0
    assert insert_word("hi there ", "x", "start") == "x hi there "
    with pytest.raises(ValueError, match="position"):
        insert_word("a", "b", "middle")
    clouds = WordClouds(
        np.array(["christianity", "idiot", "muslim"]),
        np.array([[-1.5], [1.0], [0.2]]),
        np.ones(3, int),
    )
    found = identity_words_in_clouds(clouds, lay)
    assert found.word.tolist() == ["christianity", "muslim"]
    assert found.evidence_for.tolist() == ["neither", "toxic"]
    # The default words: all of those found, then the paper's, each once.
    assert probe_words(found) == ["christianity", "muslim"]
    assert probe_words(found.iloc[1:]) == ["muslim", PAPER_WORD]


def test_bias_probe_measures_every_layer_on_the_same_sentences():
    # Feature 0 = #idiot − 2·#christianity. Layer "a" calls a text toxic from
    # one "idiot", layer "b" from two: "idiot" alone is right for "a" only.
    enc = bag_encoder({"idiot": np.array([1.0]), "christianity": np.array([-2.0])})
    a = layer([[-0.5], [0.5]], b=[0.25, -0.25], names=("neither", "toxic"))
    b = layer([[-0.5], [0.5]], b=[0.75, -0.75], names=("neither", "toxic"))
    a, b = dataclasses.replace(a, name="a"), dataclasses.replace(b, name="b")
    texts = ["idiot", "idiot idiot idiot idiot idiot", "hello", "idiot idiot idiot"]
    labels = np.array([1, 1, 0, 1])
    table = bias_probe(texts, labels, ["christianity", "hello"], [a, b], enc)
    assert table.word.tolist() == ["christianity"] * 4 + ["hello"] * 4
    toxic = table[table["class"] == "toxic"].set_index(["word", "layer"])
    # Both layers are probed on the two texts both get right, not "a" on three.
    assert toxic.n.tolist() == [2, 2, 2, 2]
    # "idiot"×3 − 2 = 1: toxic for "a" (> 0.5), not for "b" (< 1.5); ×5 stays.
    assert toxic.loc[("christianity", "a")].flips == 0
    assert toxic.loc[("christianity", "b")].flips == 1
    assert toxic.loc[("hello", "a")].flips == toxic.loc[("hello", "b")].flips == 0
    with pytest.raises(TypeError, match="sequence of words"):
        bias_probe(texts, labels, "christianity", [a, b], enc)
    with pytest.raises(ValueError, match="share their classes"):
        bias_probe(texts, labels, ["x"], [a, layer([[1.0], [-1.0]])], enc)


# ----------------------------------------------------------- misclassifications
def test_gamma_scores_and_errors_fixed_by_zeroing_the_top_feature():
    W = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]])
    lay = layer(W, names=("a", "b", "c"))
    H = np.array([[2.0, 0.5, 0], [0.2, 1.5, 1.4], [0, 3.0, 0], [0.1, 0, 0]])
    y = np.array([0, 2, 0, 0])  # row 1: b (1.5) over c (1.4); row 2: b over a
    G = gamma_scores(H, W, y, np.array([0, 1, 1, 0]))
    np.testing.assert_allclose(G[1], [0, 1.5, -1.4])
    table, gammas = misclassifications(lay, H, y)
    assert table["index"].tolist() == [1, 2] and gammas.shape == (2, 3)
    assert table.top_feature.tolist() == [1, 1]
    # Zeroing feature 1 gives c for row 1 (fixed) and a tie at 0 → a for row 2.
    assert table.fixed.tolist() == [True, True]
    assert misclassification_summary(table, 4)["share_fixed"] == 1.0
    H2 = np.array([[0.1, 3.0, 2.9]])
    t2, _ = misclassifications(lay, H2, np.array([0]))
    assert not t2.fixed.iloc[0]  # zeroing b leaves c, not a


def test_confusion_against_shared_features():
    W = np.array([[1.0, 1, 0, 0], [1.0, 1, 1, 0], [0, 0, 1, 1.0]])
    lay = layer(W, names=("a", "b", "c"))
    rng = np.random.default_rng(0)
    H = rng.standard_normal((300, 4))
    y = lay.predict(H)
    # Many a/b errors (2 shared features), a few b/c (1), no a/c (0).
    y = y.copy()
    y[np.flatnonzero(y == 0)[:30]] = 1
    y[np.flatnonzero(y == 2)[:5]] = 1
    pairs, corr = confusion_vs_shared(lay, H, y)
    assert pairs.shared.tolist() == [2, 0, 1]
    assert pairs.confusion.iloc[0] > 0 and pairs.confusion.iloc[1] == 0
    assert corr["spearman"] == pytest.approx(1.0)
    C = normalised_confusion(y, lay.predict(H), 3)
    np.testing.assert_allclose(C.sum(axis=1), 1.0)
    assert pairs.confusion.iloc[0] == max(C[0, 1], C[1, 0])
    with pytest.raises(ValueError, match="at least 3 classes"):
        confusion_vs_shared(layer(np.eye(2)), H[:, :2], y % 2)


def test_a_binomial_path_becomes_a_two_row_layer_with_the_same_predictions():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    path = elastic_net_path(X, y, family="binomial", n_lambdas=5)
    lay = DecisionLayer.from_path(path, 4, ("no", "yes"), "sparse")
    assert lay.weight.shape == (2, 5)
    np.testing.assert_array_equal(path.classes[lay.predict(X)], path.predict(X, 4))
    s = path.decision_function(X, 4)[:, 0]
    np.testing.assert_allclose(lay.probabilities(X)[:, 1], 1 / (1 + np.exp(-s)))


def test_wilson_interval_matches_scipy():
    for k, n in [(73, 100), (0, 10), (10, 10), (321, 1000)]:
        ref = stats.binomtest(k, n).proportion_ci(method="wilson")
        assert wilson_interval(k, n) == pytest.approx((ref.low, ref.high), abs=1e-9)
    assert all(np.isnan(wilson_interval(0, 0)))
