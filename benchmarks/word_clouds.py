"""LIME word clouds: one perturbation set per sentence for every feature, against
one ``lime`` explainer call per feature.

    .venv/bin/python -m benchmarks.word_clouds [--sentences 4] [--samples 500]
        [--naive-features 4] [--layer sst2-minilm] [--threads N]

On the first ``--sentences`` validation sentences of the layer's dataset, both
run in the same process on the same encoder (MiniLM) with the same LIME samples
and seed:

- *naive*: ``LimeTextExplainer.explain_instance(text, classifier_fn=feature j's
  activation, feature_selection="none")`` once per sentence and feature —
  every call encodes its ``--samples`` perturbed sentences again. Timed on the
  first ``--naive-features`` features of the sparse layer; each call is
  independent of the others, so the time per feature is multiplied by the
  number of features (the sparse layer's, and the encoder's 384, which the
  dense layer uses) — said as such in the output;
- *ours*: :func:`core.sparse_layers.debugging.lime_clouds.explain_sentences`, all 384
  features at once.

Reported: seconds, the ratio naive ÷ ours for the sparse layer's features and
for all features, and the Spearman rank correlation of each (sentence, feature)
pair's word weights between the two (goal: ratio ≥ 50×, correlation ≥ 0.95).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from scipy import stats

from core.sparse_layers.debugging.lime_clouds import (
    LimeSettings,
    explain_sentences,
    lime_explainer,
    perturb,
)
from core.sparse_layers.debugging.workbench import workbench
from core.threads import torch_threads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", default="sst2-minilm")
    parser.add_argument("--sentences", type=int, default=4)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--naive-features", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads", type=int, help="torch threads (default: all cores)"
    )
    args = parser.parse_args()

    with torch_threads(args.threads):
        threads = torch.get_num_threads()
        wb = workbench(args.layer)
        encoder, _ = wb.encoder()
        texts = wb.texts("val", args.sentences)
        settings = LimeSettings(n_samples=args.samples, seed=args.seed)
        sparse_features = wb.weights_table().feature.to_numpy()
        timed = sparse_features[: args.naive_features]
        encoder(["warm up the encoder"])

        start = time.perf_counter()
        ours = explain_sentences(texts, encoder, settings)
        t_ours = time.perf_counter() - start

        naive: dict[tuple[int, int], dict[str, float]] = {}
        start = time.perf_counter()
        for i, text in enumerate(texts):
            for j in timed:
                exp = lime_explainer(text, settings).explain_instance(
                    text,
                    lambda t, j=j: encoder(t)[:, [j]],
                    labels=(0,),
                    num_features=10_000,
                    num_samples=args.samples,
                )
                naive[i, int(j)] = dict(exp.as_list(label=0))
        t_naive = time.perf_counter() - start

    per_feature = t_naive / len(timed)
    # Ours encodes each distinct perturbed sentence once, naive every sample
    # once per feature: for F features no reuse of the encoder can beat
    # F × samples / distinct.
    drawn = [perturb(t, settings) for t in texts]
    samples = sum(len(p.texts) for p in drawn if p is not None)
    distinct = len({t for p in drawn if p is not None for t in p.texts} | set(texts))
    rhos = []
    for (i, j), weights in naive.items():
        mine = ours.sentence(i)[j]
        words = list(weights)
        if len(words) >= 3:
            rhos.append(
                stats.spearmanr(
                    [weights[w] for w in words], [mine[w] for w in words]
                ).statistic
            )
    n_all = ours.n_features
    print(
        f"{args.layer}: {len(texts)} validation sentences, {args.samples} LIME "
        f"samples, seed {args.seed}, {threads} torch thread(s)"
    )
    print(f"{distinct:,} distinct perturbed sentences of {samples:,} samples")
    print(f"ours (all {n_all} features at once): {t_ours:.1f} s")
    print(
        f"naive: {t_naive:.1f} s for {len(timed)} features = {per_feature:.1f} s "
        "per feature (measured)"
    )
    for label, n in (
        (f"the sparse layer's {len(sparse_features)}", len(sparse_features)),
        (f"all {n_all}", n_all),
    ):
        est = per_feature * n
        print(
            f"naive for {label} features: {est:.0f} s (time per feature × {n}); "
            f"ratio {est / t_ours:.0f}× (ceiling {n * samples / distinct:.0f}×)"
        )
    if rhos:
        print(
            f"Spearman ρ of word weights, naive vs ours, over {len(rhos)} "
            f"(sentence, feature) pairs: min {min(rhos):.4f}, "
            f"median {np.median(rhos):.4f}"
        )


if __name__ == "__main__":
    main()
