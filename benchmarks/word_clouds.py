"""LIME word clouds: one perturbation set per sentence for every feature, against
``lime``'s own explainer asked for every feature at once.

    .venv/bin/python -m benchmarks.word_clouds [--sentences 8] [--samples 500]
        [--per-feature 4] [--layer sst2-minilm] [--threads N]

On the first ``--sentences`` validation sentences of the layer's dataset, in one
process, on the same encoder (MiniLM), with the same LIME samples, kernel and
seed:

- *ours*: :func:`core.sparse_layers.debugging.lime_clouds.explain_sentences`,
  all 384 features at once (each distinct perturbed sentence of a block of 32
  sentences encoded once, one multi-output ridge solve per sentence), and the
  same with ``block=1`` (no batching across sentences);
- *lime, all features*: ``LimeTextExplainer.explain_instance(text,
  classifier_fn=encoder, labels=range(384), feature_selection="none")`` once
  per sentence — one classifier call on all its samples, then one ridge fit per
  feature. This is the baseline: it is how lime explains many outputs;
- *lime, one call per feature*: ``explain_instance(..., labels=(0,))`` with
  feature j's activation as the classifier, timed on ``--per-feature``
  features and multiplied by the feature count (each call encodes every sample
  again), said as such in the output.

The three give the same weights (same samples, kernel and seed: the same
regression); the benchmark checks this before it prints a ratio. Reported: the
seconds of each, their ratios, and where each spends its time — LIME's sampler
(perturbation), the encoder, and the ridge fits (the rest).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from core.sparse_layers.debugging.decision_layer import Encoder
from core.sparse_layers.debugging.lime_clouds import (
    LimeSettings,
    SentenceExplanations,
    explain_sentences,
    lime_explainer,
    perturb,
)
from core.sparse_layers.debugging.workbench import workbench
from core.threads import torch_threads

#: Largest |ours − lime| allowed, relative to the largest |weight| of the
#: sentence: ours encodes each distinct perturbed sentence once, in other
#: batches than lime (other padding), and solves the ridge in its own way.
RTOL = 1e-4


class TimedEncoder:
    """An encoder that adds up the seconds spent in it and the sentences it
    encoded."""

    def __init__(self, encoder: Encoder):
        self.encoder, self.seconds, self.sentences = encoder, 0.0, 0

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        start = time.perf_counter()
        out = self.encoder(texts)
        self.seconds += time.perf_counter() - start
        self.sentences += len(texts)
        return out


def lime_all_features(
    text: str, encoder: Encoder, settings: LimeSettings, n_features: int
) -> pd.DataFrame:
    """lime's weights of every word of ``text`` for every feature, from one
    ``explain_instance`` call: rows are words, columns features."""
    exp = lime_explainer(text, settings).explain_instance(
        text,
        encoder,
        labels=range(n_features),
        num_features=10_000,
        num_samples=settings.n_samples,
    )
    return pd.DataFrame({j: dict(exp.as_list(label=j)) for j in range(n_features)})


def lime_one_feature(
    text: str, encoder: Encoder, settings: LimeSettings, feature: int
) -> pd.Series:
    """lime's weights of every word of ``text`` for one feature, from one
    ``explain_instance`` call whose classifier is that feature's activation."""
    exp = lime_explainer(text, settings).explain_instance(
        text,
        lambda t: encoder(t)[:, [feature]],
        labels=(0,),
        num_features=10_000,
        num_samples=settings.n_samples,
    )
    return pd.Series(dict(exp.as_list(label=0)))


def largest_difference(ours: pd.DataFrame, theirs: pd.DataFrame) -> float:
    """max |ours − theirs| over one sentence's words and features, relative to
    the largest |weight| there."""
    theirs = theirs.loc[ours.index, ours.columns]
    scale = np.abs(theirs.to_numpy()).max()
    return float(np.abs(ours.to_numpy() - theirs.to_numpy()).max() / scale)


@dataclass
class Timing:
    """One method's wall time and the part of it spent in the encoder."""

    seconds: float
    encoder_seconds: float
    encoded: int


def time_ours(texts, encoder, settings, block) -> tuple[SentenceExplanations, Timing]:
    """:func:`explain_sentences` on ``texts``, timed."""
    timed = TimedEncoder(encoder)
    start = time.perf_counter()
    expl = explain_sentences(texts, timed, settings, block=block)
    return expl, Timing(time.perf_counter() - start, timed.seconds, timed.sentences)


def time_lime_all(texts, encoder, settings, n_features):
    """:func:`lime_all_features` on each sentence, timed."""
    timed = TimedEncoder(encoder)
    start = time.perf_counter()
    weights = [lime_all_features(t, timed, settings, n_features) for t in texts]
    return weights, Timing(time.perf_counter() - start, timed.seconds, timed.sentences)


def time_lime_per_feature(texts, encoder, settings, features):
    """:func:`lime_one_feature` on each sentence and feature, timed."""
    timed = TimedEncoder(encoder)
    start = time.perf_counter()
    weights = {
        (i, int(j)): lime_one_feature(t, timed, settings, int(j))
        for i, t in enumerate(texts)
        for j in features
    }
    return weights, Timing(time.perf_counter() - start, timed.seconds, timed.sentences)


def perturbation_seconds(texts, settings) -> tuple[float, int, int]:
    """LIME's sampler alone (the same draws every method makes), and the
    samples and distinct perturbed sentences it gives."""
    start = time.perf_counter()
    drawn = [perturb(t, settings) for t in texts]
    seconds = time.perf_counter() - start
    samples = sum(len(p.texts) for p in drawn if p is not None)
    distinct = len({t for p in drawn if p is not None for t in p.texts} | set(texts))
    return seconds, samples, distinct


def check_same_weights(ours, lime_all, per_feature) -> float:
    """The three methods' weights agree: lime's two calls exactly, ours within
    :data:`RTOL`; returns ours' largest relative difference."""
    for (i, j), w in per_feature.items():
        if not np.array_equal(w[lime_all[i].index].to_numpy(), lime_all[i][j]):
            raise RuntimeError(f"lime's two calls differ on sentence {i}, feature {j}")
    worst = max(
        largest_difference(ours.sentence(i), lime_all[i]) for i in range(len(lime_all))
    )
    if worst > RTOL:
        raise RuntimeError(f"ours differs from lime by {worst:.1e} (> {RTOL:g})")
    return worst


def split(name: str, t: Timing, perturbing: float) -> str:
    """Where one method's time went; the ridge fits are what the encoder and
    LIME's sampler leave."""
    ridge = t.seconds - t.encoder_seconds - perturbing
    return (
        f"{name}: {t.seconds:.1f} s = encoder {t.encoder_seconds:.1f} s "
        f"({t.encoded:,} sentences, {t.encoded / t.encoder_seconds:.0f}/s) "
        f"+ perturbation {perturbing:.1f} s + ridge fits and the rest {ridge:.1f} s"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", default="sst2-minilm")
    parser.add_argument("--sentences", type=int, default=8)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--per-feature", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads", type=int, help="torch threads (default: all cores)"
    )
    return parser.parse_args()


def report(args, texts, runs: dict[str, Timing], features: tuple[int, int]) -> None:
    """Print the seconds of each method, where they go, and the ratios;
    ``features`` is (all features, the sparse layer's)."""
    n_all, n_sparse = features
    settings = LimeSettings(n_samples=args.samples, seed=args.seed)
    perturbing, samples, distinct = perturbation_seconds(texts, settings)
    print(
        f"{args.layer}: {len(texts)} validation sentences, {args.samples} LIME "
        f"samples, seed {args.seed}, {torch.get_num_threads()} torch thread(s)"
    )
    print(f"{distinct:,} distinct perturbed sentences of {samples:,} samples")
    print(split("ours (blocks of 32 sentences)", runs["ours"], perturbing))
    print(
        split(
            "ours, block=1 (no batching across sentences)", runs["block 1"], perturbing
        )
    )
    print(split(f"lime, all {n_all} features per call", runs["lime all"], perturbing))
    per_feature = runs["per feature"].seconds / args.per_feature
    print(
        f"lime, one call per feature: {runs['per feature'].seconds:.1f} s for "
        f"{args.per_feature} features = {per_feature:.1f} s per feature (measured)"
    )
    ours = runs["ours"].seconds
    print(f"lime all features per call / ours: {runs['lime all'].seconds / ours:.2f}×")
    for label, n in (
        (f"the sparse layer's {n_sparse}", n_sparse),
        (f"all {n_all}", n_all),
    ):
        print(
            f"lime one call per feature, {label} features: {per_feature * n:.0f} s "
            f"(time per feature × {n}) / ours: {per_feature * n / ours:.0f}×"
        )


def main() -> None:
    args = parse_args()
    settings = LimeSettings(n_samples=args.samples, seed=args.seed)
    with torch_threads(args.threads):
        wb = workbench(args.layer)
        encoder, _ = wb.encoder()
        texts = wb.texts("val", args.sentences)
        sparse = wb.weights_table().feature.to_numpy()
        encoder(["warm up the encoder"])
        ours, t_ours = time_ours(texts, encoder, settings, 32)
        _, t_block = time_ours(texts, encoder, settings, 1)
        lime_all, t_all = time_lime_all(texts, encoder, settings, ours.n_features)
        per_feature, t_per = time_lime_per_feature(
            texts, encoder, settings, sparse[: args.per_feature]
        )
        worst = check_same_weights(ours, lime_all, per_feature)
        runs = {"ours": t_ours, "block 1": t_block, "lime all": t_all}
        report(
            args, texts, runs | {"per feature": t_per}, (ours.n_features, len(sparse))
        )
    print(
        f"weights: lime's two calls identical; ours within {worst:.1e} of each "
        "sentence's largest weight"
    )


if __name__ == "__main__":
    main()
