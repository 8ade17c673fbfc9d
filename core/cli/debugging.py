"""Command-line debugging through deep features: ``word-clouds``,
``counterfactuals``, ``bias-probe`` and ``errors`` (Wong et al. 2021, §4)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from core.threads import torch_threads


def _bar(desc: str, unit: str):
    bar = tqdm(total=1, desc=desc, unit=unit, leave=False)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return bar, update


def _settings(args: argparse.Namespace):
    from core.sparse_layers.debugging.lime_clouds import LimeSettings

    return LimeSettings(n_samples=args.samples, seed=args.seed)


def _clouds(wb, args: argparse.Namespace):
    """The layer's word clouds over ``--cloud-split`` (computed if not cached)."""
    settings = _settings(args)
    limit = args.cloud_limit
    bar, update = _bar(f"LIME word clouds ({args.cloud_split})", "sentence")
    start = time.perf_counter()
    with bar:
        corpus = wb.cloud_corpus(
            settings, split=args.cloud_split, limit=limit, progress=update
        )
    return (
        corpus,
        wb.clouds(corpus, min_count=args.min_count),
        time.perf_counter() - start,
    )


def _plain(value):
    """JSON-ready: numpy scalars to Python, NaN to null (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _write(out: str, result: dict) -> None:
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_plain(result), indent=1, allow_nan=False))
    print(f"wrote {path}")


def _layer_name(args: argparse.Namespace) -> str:
    if args.layer:
        return args.layer
    if not args.dataset:
        raise ValueError("give --layer NAME or --dataset D (layer D-minilm)")
    return f"{args.dataset}-minilm"


def cmd_word_clouds(args: argparse.Namespace) -> int:
    from core.sparse_layers.debugging.workbench import workbench

    with torch_threads(args.threads):
        wb = workbench(_layer_name(args))
        corpus, clouds, seconds = _clouds(wb, args)
    print(
        f"{wb.name}: LIME word clouds of {corpus.n_features} features over "
        f"{len(corpus.texts)} {args.cloud_split} sentences ({corpus.n_explained} "
        f"with words), {corpus.settings.n_samples} samples each, in {seconds:.1f} s"
    )
    if args.ship:
        shipped = wb.ship_clouds(corpus, split=args.cloud_split, limit=args.cloud_limit)
        print(f"shipped {shipped} ({shipped.stat().st_size / 1e6:.1f} MB)")
    table = wb.weights_table()
    for f in table.feature[: args.show]:
        pos = ", ".join(clouds.words(int(f), "positive")[:10])
        neg = ", ".join(clouds.words(int(f), "negative")[:10])
        print(f"feature {f}: + {pos}\n{'':>{len(str(f)) + 9}}− {neg}")
    if args.out:
        _write(
            args.out,
            {
                "layer": wb.name,
                "split": args.cloud_split,
                "sentences": len(corpus.texts),
                "samples": corpus.settings.n_samples,
                "seed": corpus.settings.seed,
                "seconds": seconds,
                "clouds": {
                    int(f): {
                        side: clouds.cloud(int(f), side).to_dict("records")
                        for side in ("positive", "negative")
                    }
                    for f in table.feature
                },
            },
        )
    return 0


def cmd_counterfactuals(args: argparse.Namespace) -> int:
    from core.sparse_layers.debugging.counterfactuals import (
        PAPER_FLIP_RATES,
        evaluate_counterfactuals,
    )
    from core.sparse_layers.debugging.workbench import workbench

    with torch_threads(args.threads):
        wb = workbench(_layer_name(args))
        encoder, _ = wb.encoder()
        _, clouds, cloud_seconds = _clouds(wb, args)
        texts = wb.texts(args.split, args.limit)
        bar, update = _bar("counterfactuals", "layer")
        start = time.perf_counter()
        with bar:
            table, summary = evaluate_counterfactuals(
                texts,
                [wb.layers["sparse"], wb.layers["dense"]],
                clouds,
                encoder,
                seed=args.seed,
                progress=update,
            )
        seconds = time.perf_counter() - start
    result = {
        "layer": wb.name,
        "dataset": wb.stored.dataset,
        "split": args.split,
        "cloud_split": args.cloud_split,
        "cloud_sentences": args.cloud_limit or "all",
        "lime_samples": args.samples,
        "seed": args.seed,
        "sparse_features": int(len(wb.layers["sparse"].used)),
        "dense_features": int(len(wb.layers["dense"].used)),
        **summary,
        "paper": {
            "sparse_flip_rate": PAPER_FLIP_RATES["sparse"],
            "dense_flip_rate": PAPER_FLIP_RATES["dense"],
        },
        "seconds": {"clouds": cloud_seconds, "counterfactuals": seconds},
    }
    for name in ("sparse", "dense"):
        lo, hi = summary[f"{name}_flip_rate_ci"]
        print(
            f"{name:>6}: flips {summary[f'{name}_flips']}/{summary[f'{name}_n']} = "
            f"{summary[f'{name}_flip_rate']:.3f} (95 % CI {lo:.3f}–{hi:.3f}) on the "
            f"sentences with a candidate in both layers; "
            f"{summary[f'{name}_flip_rate_own']:.3f} over its own "
            f"{summary[f'{name}_n_own']}, {summary[f'{name}_flip_rate_all']:.3f} over "
            f"all {summary['n_sentences']}  (paper: {PAPER_FLIP_RATES[name]:.3f})"
        )
    _write(args.out, result)
    csv = Path(args.out).with_suffix(".csv")
    table.to_csv(csv, index=False)
    print(f"wrote {csv}")
    return 0


def cmd_bias_probe(args: argparse.Namespace) -> int:
    from core.sparse_layers.debugging.bias import bias_probe, identity_words_in_clouds
    from core.sparse_layers.debugging.lime_clouds import is_cached
    from core.sparse_layers.debugging.workbench import workbench

    with torch_threads(args.threads):
        wb = workbench(_layer_name(args))
        encoder, encoder_id = wb.encoder()
        found = None
        # Clouds are computed when they choose the word; with --word they are
        # only read (for the JSON's list of identity words) when cached.
        cached = is_cached(
            wb.texts(args.cloud_split, args.cloud_limit), encoder_id, _settings(args)
        )
        if args.word is None or cached:
            _, clouds, _ = _clouds(wb, args)
            found = identity_words_in_clouds(clouds, wb.layers["sparse"])
        word = args.word
        if word is None:
            if found is None or found.empty:
                raise ValueError(
                    "no identity word is in the clouds of the sparse layer's features; "
                    "give one with --word"
                )
            word = str(found.word.iloc[0])
        texts, labels = (
            wb.texts(args.split, args.limit),
            wb.labels(args.split, args.limit),
        )
        table = bias_probe(
            texts,
            labels,
            word,
            list(wb.layers.values()),
            encoder,
            position=args.position,
        )
    print(f"appending {word!r} ({args.position}) to {len(texts)} {args.split} texts")
    print(table.to_string(index=False, float_format="{:.3f}".format))
    if args.out:
        _write(
            args.out,
            {
                "layer": wb.name,
                "word": word,
                "position": args.position,
                "split": args.split,
                "texts": len(texts),
                "rows": table.to_dict("records"),
                "identity_words_in_clouds": []
                if found is None
                else found.to_dict("records"),
            },
        )
    return 0


def cmd_errors(args: argparse.Namespace) -> int:
    from core.sparse_layers.debugging.misclassifications import (
        confusion_vs_shared,
        error_summary,
        misclassifications,
    )
    from core.sparse_layers.debugging.workbench import workbench

    wb = workbench(_layer_name(args), args.index)
    H, y = wb.features(args.split), wb.labels(args.split)
    sparse = wb.layers["sparse"]
    result: dict = {
        "layer": wb.name,
        "split": args.split,
        "lambda_index": wb.stored.selected if args.index is None else args.index,
        "sparse_features": int(len(sparse.used)),
        "sparse_weights": int((sparse.weight != 0).sum()),
    }
    for name, lay in wb.layers.items():
        table, _ = misclassifications(lay, H, y)
        summary = error_summary(table, len(y))
        result[name] = summary
        line = (
            f"{name:>6}: {summary['errors']} errors of {len(y)}; zeroing the top "
            f"feature fixes {summary['fixed_by_top_feature']} "
            f"({summary['share_fixed']:.1%})"
        )
        if lay.weight.shape[0] >= 3:
            pairs, corr = confusion_vs_shared(lay, H, y)
            result[name]["confusion_vs_shared"] = corr
            line += (
                f"; confusion vs shared features over {len(pairs)} class pairs: "
                f"Pearson {corr['pearson']:.3f} (p={corr['pearson_p']:.2g}), "
                f"Spearman {corr['spearman']:.3f}"
            )
        print(line)
    if args.out:
        _write(args.out, result)
    return 0


def add_commands(sub) -> None:
    """Register the four debugging subcommands."""

    def common(p, *, clouds: bool = True, split: str = "test") -> None:
        p.add_argument("--layer", help="stored layer (default: <dataset>-minilm)")
        p.add_argument("--dataset", help="dataset whose <dataset>-minilm layer to use")
        p.add_argument("--split", default=split, choices=("train", "val", "test"))
        p.add_argument("--limit", type=int, help="first N sentences of the split only")
        p.add_argument("--threads", type=int, help="torch threads (default: all cores)")
        if clouds:
            p.add_argument(
                "--cloud-split", default="val", choices=("train", "val", "test")
            )
            p.add_argument(
                "--cloud-limit",
                type=int,
                help="word clouds from the first N sentences only",
            )
            p.add_argument(
                "--samples", type=int, default=500, help="LIME samples per sentence"
            )
            p.add_argument("--seed", type=int, default=0)
            p.add_argument(
                "--min-count",
                type=int,
                default=1,
                help="leave rarer words out of the clouds",
            )

    p = sub.add_parser(
        "word-clouds",
        help="LIME word clouds of every deep feature of a text layer (Algorithm 2)",
    )
    common(p)
    p.add_argument("--show", type=int, default=5, help="features printed")
    p.add_argument("--out", help="JSON with the clouds of the sparse layer's features")
    p.add_argument(
        "--ship",
        action="store_true",
        help="also write the clouds, pruned, into assets/wordclouds/ "
        "(for the repository's shipped layers)",
    )
    p.set_defaults(func=cmd_word_clouds)

    p = sub.add_parser(
        "counterfactuals",
        help="word-substitution counterfactuals (Algorithm 3): flip rates of the "
        "sparse and the dense layer",
    )
    common(p)
    p.add_argument("--out", required=True, help="JSON summary (+ a CSV beside it)")
    p.set_defaults(func=cmd_counterfactuals)

    p = sub.add_parser(
        "bias-probe",
        help="append a word to every text and count flipped predictions",
    )
    common(p)
    p.add_argument("--word", help="default: the strongest identity word in the clouds")
    p.add_argument("--position", default="end", choices=("end", "start"))
    p.add_argument("--out", help="JSON result")
    p.set_defaults(func=cmd_bias_probe)

    p = sub.add_parser(
        "errors",
        help="misclassifications: γ scores, errors fixed by zeroing the top feature, "
        "class confusion against shared features",
    )
    common(p, clouds=False)
    p.add_argument(
        "--index",
        type=int,
        help="λ index of the path for the sparse layer (default: selected)",
    )
    p.add_argument("--out", help="JSON result")
    p.set_defaults(func=cmd_errors)
