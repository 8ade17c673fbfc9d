"""Sparse decision layers from the command line: fit a ``sparse-layer`` on
deep features, then debug through it with ``word-clouds``, ``counterfactuals``,
``bias-probe`` and ``errors`` (Wong et al. 2021, §4)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from core.cli.executors import add_executor_options, executor_for


def _counter_bar(desc: str, unit: str, total: int = 1):
    """A tqdm bar and the ``progress(done, total)`` callback that sets it."""
    bar = tqdm(total=total, desc=desc, unit=unit, leave=False)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return bar, update


# ------------------------------------------------------------------ the layer


def cmd_sparse_layer(args: argparse.Namespace) -> int:
    """``sparse-layer``: fit, select and store a sparse decision layer for
    every dataset × features × α, one task each."""
    from core.sparse_layers.layer_grid import fit_layers, layer_jobs

    jobs = layer_jobs(args.dataset, args.features, args.alpha)
    with executor_for(args) as executor:
        layers, update = _counter_bar(
            f"sparse layers ({executor.name}, workers: {executor.workers})",
            "layer",
            total=len(jobs),
        )
        enc, encoded = _counter_bar("features", "text")
        fit, fitted = _counter_bar("path", "λ", total=args.n_lambdas)
        with layers, enc, fit:
            fitted_layers = fit_layers(
                jobs,
                n_lambdas=args.n_lambdas,
                eps=args.eps,
                tol=args.tol,
                stop=args.stop,
                tolerance=args.tolerance,
                max_memory=args.max_memory,
                executor=executor,
                resume=args.resume,
                progress=update,
                progress_features=encoded,
                progress_path=fitted,
            )
    for layer, kept in fitted_layers:
        if kept:
            print(
                f"{layer.name}: kept the stored layer (same settings; "
                "--no-resume fits it again)"
            )
        _print_layer(layer)
    return 0


def cmd_finetune_encoder(args: argparse.Namespace) -> int:
    """``finetune-encoder``: fine-tune MiniLM with a head on a text dataset."""
    from core.sparse_layers.encoders import Recipe, finetune_encoder
    from core.threads import torch_threads

    given = {f.name: getattr(args, f.name, None) for f in dataclasses.fields(Recipe)}
    recipe = Recipe(**{k: v for k, v in given.items() if v is not None})
    bar, update = _counter_bar(f"fine-tuning on {args.dataset}", "step")
    with bar, torch_threads(args.threads):
        card, folder = finetune_encoder(
            args.dataset,
            name=args.name,
            out=Path(args.out) if args.out else None,
            recipe=recipe,
            progress=update,
        )
    for row in card.history:
        train = (
            "" if row["train_loss"] is None else f"train loss {row['train_loss']:.4f} "
        )
        print(
            f"epoch {row['epoch']}: {train}val loss {row['val_loss']:.4f} "
            f"val accuracy {row['val_accuracy']:.4f}"
        )
    print(
        f"{card.name}: layers {card.layers_tuned} tuned, best epoch {card.best_epoch} "
        f"of {card.epochs_run}; stored float16: val accuracy {card.val_accuracy:.4f}, "
        f"test accuracy {card.test_accuracy:.4f}; {card.seconds:.0f} s"
    )
    print(
        f"wrote {folder} ({card.weights_bytes / 1e6:.1f} MB); its features are "
        f"finetuned:{card.name}"
    )
    return 0


def _print_layer(layer) -> None:
    """The path's cost, the selected λ, both layers' accuracies, top-k shares."""
    from core.sparse_layers.glm.selection import path_summary

    path, i = layer.path, layer.selected
    summary = path_summary(path)
    d = path.diagnostics
    print(
        f"{layer.name}: {len(path)} λ in {d['seconds'].sum():.1f} s, "
        f"{int(d['epochs'].sum())} epochs, largest relative gap {np.nanmax(d['gap']):.1e}, "
        f"KKT violation {np.nanmax(summary['kkt']):.1e} (stop: {path.stop})"
    )
    print(
        f"selected λ[{i}] = {path.lambdas[i]:.4g}: {int(path.active_features[i])} of "
        f"{len(path.feature_names)} features, {int(path.nonzeros[i].sum())} weights; "
        f"accuracy train {summary.train_accuracy[i]:.3f} val {summary.val_accuracy[i]:.3f} "
        f"test {layer.test_accuracy[i]:.3f}"
    )
    per_class = path.nonzeros[i]
    if len(per_class) > 1:
        print(
            f"features per class at λ[{i}]: mean {per_class.mean():.1f}, "
            f"{int(per_class.min())}–{int(per_class.max())} "
            f"(dense: all {len(path.feature_names)})"
        )
    dense = layer.dense_accuracy
    print(
        f"dense layer: accuracy train {dense['train']:.3f} val {dense['val']:.3f} "
        f"test {dense['test']:.3f}"
    )
    for row in layer.topk:
        print(
            f"{row['layer']:>6} top-{row['k']}: all {row['all']:.3f} "
            f"top-k {row['top_k']:.3f} rest {row['rest']:.3f}"
        )


# -------------------------------------------------------------- debugging it


def _lime_settings(args: argparse.Namespace):
    from core.sparse_layers.debugging.lime_clouds import LimeSettings

    return LimeSettings(n_samples=args.samples, seed=args.seed)


def _word_clouds(wb, args: argparse.Namespace, executor=None):
    """The layer's word clouds over ``--cloud-split`` (computed if not cached,
    in sentence shards on ``executor`` when one is given), with the corpus they
    came from and the seconds they took."""
    settings = _lime_settings(args)
    limit = args.cloud_limit
    bar, update = _counter_bar(f"LIME word clouds ({args.cloud_split})", "sentence")
    start = time.perf_counter()
    with bar:
        corpus = wb.cloud_corpus(
            settings,
            split=args.cloud_split,
            limit=limit,
            progress=update,
            executor=executor,
        )
    return (
        corpus,
        wb.clouds(corpus, min_count=args.min_count),
        time.perf_counter() - start,
    )


def _json_ready(value):
    """JSON-ready: numpy scalars to Python, NaN to null (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _write_json(out: str, result: dict) -> None:
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_json_ready(result), indent=1, allow_nan=False))
    print(f"wrote {path}")


def _layer_name(args: argparse.Namespace) -> str:
    """``--layer``, else ``--dataset``'s text layer: the one on its own
    fine-tuned encoder (``D-finetuned-D``) when stored, else ``D-minilm`` — the
    layer the dashboard opens first."""
    from core.sparse_layers.sparse_layer import list_layers

    if args.layer:
        return args.layer
    if not args.dataset:
        raise ValueError(
            "give --layer NAME or --dataset D (layer D-finetuned-D, else D-minilm)"
        )
    d = args.dataset
    stored = list_layers()
    for name in (f"{d}-finetuned-{d}", f"{d}-minilm"):
        if name in stored:
            return name
    raise ValueError(
        f"No text layer of {d!r} is stored (looked for {d}-finetuned-{d} and "
        f"{d}-minilm); fit one with `python -m core sparse-layer --dataset {d} "
        "--features minilm`, or name it with --layer"
    )


def cmd_word_clouds(args: argparse.Namespace) -> int:
    """``word-clouds``: LIME word clouds of a text layer's features."""
    from core.sparse_layers.debugging.workbench import workbench
    from core.threads import torch_threads

    with executor_for(args) as executor, torch_threads(args.threads):
        wb = workbench(_layer_name(args))
        # In this process the corpus is explained in one loop; on Ray, in
        # sentence shards, one task each.
        shards = None if executor.in_process else executor
        corpus, clouds, seconds = _word_clouds(wb, args, shards)
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
        _write_json(
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
    """``counterfactuals``: flip rates of word-substitution counterfactuals."""
    from core.sparse_layers.debugging.counterfactuals import (
        PAPER_FLIP_RATES,
        evaluate_counterfactuals,
    )
    from core.sparse_layers.debugging.workbench import workbench
    from core.threads import torch_threads

    with torch_threads(args.threads):
        wb = workbench(_layer_name(args))
        encoder, _ = wb.encoder()
        _, clouds, cloud_seconds = _word_clouds(wb, args)
        texts = wb.texts(args.split, args.limit)
        bar, update = _counter_bar("counterfactuals", "layer")
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
    _print_flip_rates(summary, PAPER_FLIP_RATES)
    _write_json(args.out, result)
    csv = Path(args.out).with_suffix(".csv")
    table.to_csv(csv, index=False)
    print(f"wrote {csv}")
    return 0


def _print_flip_rates(summary: dict, paper: dict[str, float]) -> None:
    """Each layer's flip rate with its interval, beside the paper's."""
    for name in ("sparse", "dense"):
        lo, hi = summary[f"{name}_flip_rate_ci"]
        print(
            f"{name:>6}: flips {summary[f'{name}_flips']}/{summary[f'{name}_n']} = "
            f"{summary[f'{name}_flip_rate']:.3f} (95 % CI {lo:.3f}–{hi:.3f}) on the "
            f"sentences with a candidate in both layers; "
            f"{summary[f'{name}_flip_rate_own']:.3f} over its own "
            f"{summary[f'{name}_n_own']}, {summary[f'{name}_flip_rate_all']:.3f} over "
            f"all {summary['n_sentences']}  (paper: {paper[name]:.3f})"
        )


def cmd_bias_probe(args: argparse.Namespace) -> int:
    """``bias-probe``: flips after appending each word to every text."""
    from core.sparse_layers.debugging.bias import bias_probe
    from core.sparse_layers.debugging.workbench import workbench
    from core.threads import torch_threads

    with torch_threads(args.threads):
        wb = workbench(_layer_name(args))
        encoder, encoder_id = wb.encoder()
        words, found = _probe_words(wb, encoder_id, args)
        texts, labels = (
            wb.texts(args.split, args.limit),
            wb.labels(args.split, args.limit),
        )
        table = bias_probe(
            texts,
            labels,
            words,
            list(wb.layers.values()),
            encoder,
            position=args.position,
        )
    common = table.drop_duplicates("class").set_index("class").n.to_dict()
    print(
        f"appending each of {len(words)} words ({args.position}) to {len(texts)} "
        f"{args.split} texts; probed per class on the texts every layer gets "
        "right: " + ", ".join(f"{c} {n}" for c, n in common.items())
    )
    print(table.to_string(index=False, float_format="{:.3f}".format))
    if args.out:
        _write_json(
            args.out,
            {
                "layer": wb.name,
                "words": words,
                "word_rule": "given with --word"
                if args.word
                else "identity terms in the sparse layer's clouds, then the "
                "paper's word",
                "position": args.position,
                "split": args.split,
                "texts": len(texts),
                "common_set": common,
                "rows": table.to_dict("records"),
                "identity_words_in_clouds": []
                if found is None
                else found.to_dict("records"),
            },
        )
    return 0


def _probe_words(wb, encoder_id: str, args: argparse.Namespace):
    """The ``--word``s, or else every identity word in the sparse layer's clouds
    and the paper's; with the identity words found there (None when not looked
    at)."""
    from core.sparse_layers.debugging.bias import identity_words_in_clouds, probe_words
    from core.sparse_layers.debugging.lime_clouds import is_cached

    found = None
    # Clouds are computed when they choose the words; with --word they are
    # only read (for the JSON's list of identity words) when cached.
    cached = is_cached(
        wb.texts(args.cloud_split, args.cloud_limit), encoder_id, _lime_settings(args)
    )
    if not args.word or cached:
        _, clouds, _ = _word_clouds(wb, args)
        found = identity_words_in_clouds(clouds, wb.layers["sparse"])
    if args.word:
        return list(dict.fromkeys(args.word)), found
    return probe_words(found), found


def cmd_errors(args: argparse.Namespace) -> int:
    """``errors``: the layers' misclassifications and what fixes them."""
    from core.sparse_layers.debugging.misclassifications import (
        confusion_vs_shared,
        correlation_text,
        misclassification_summary,
        misclassifications,
    )
    from core.sparse_layers.debugging.workbench import workbench
    from core.training.metrics import wilson_interval

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
    tables = {}
    for name, lay in wb.layers.items():
        table, _ = misclassifications(lay, H, y)
        tables[name] = table
        summary = misclassification_summary(table, len(y))
        result[name] = summary
        lo, hi = wilson_interval(summary["fixed_by_top_feature"], summary["errors"])
        summary["share_fixed_95ci"] = [lo, hi]
        line = (
            f"{name:>6}: {summary['errors']} errors of {len(y)}; zeroing the top "
            f"feature fixes {summary['fixed_by_top_feature']} "
            f"({summary['share_fixed']:.1%}, 95% CI {lo:.1%}–{hi:.1%})"
        )
        if lay.weight.shape[0] >= 3:
            pairs, corr = confusion_vs_shared(lay, H, y)
            result[name]["confusion_vs_shared"] = corr
            line += f"; confusion vs shared features: {correlation_text(pairs, corr)}"
        print(line)
    # The same denominator for both layers: the inputs both get wrong.
    fixed = {n: set(t["index"][t.fixed]) for n, t in tables.items()}
    common = set(tables["sparse"]["index"]) & set(tables["dense"]["index"])
    result["common_errors"] = {
        "errors": len(common),
        **{f"fixed_{n}": len(common & f) for n, f in fixed.items()},
    }
    print(
        f"common: {len(common)} inputs both layers get wrong; zeroing the top "
        + "feature fixes "
        + ", ".join(f"{len(common & f)} in the {n} layer" for n, f in fixed.items())
    )
    if args.out:
        _write_json(args.out, result)
    return 0


# ------------------------------------------------------------------ parsers


def add_commands(sub) -> None:
    """Register ``sparse-layer``, ``word-clouds``, ``counterfactuals``,
    ``bias-probe`` and ``errors`` on the ``sub`` subparsers."""
    _add_sparse_layer_command(sub)
    _add_finetune_command(sub)

    p = sub.add_parser(
        "word-clouds",
        help="LIME word clouds of every deep feature of a text layer (Algorithm 2)",
    )
    _add_layer_options(p)
    p.add_argument("--show", type=int, default=5, help="features printed")
    p.add_argument("--out", help="JSON with the clouds of the sparse layer's features")
    p.add_argument(
        "--ship",
        action="store_true",
        help="also write the clouds, pruned, into assets/wordclouds/ "
        "(for the repository's shipped layers)",
    )
    add_executor_options(p)
    p.set_defaults(func=cmd_word_clouds)

    p = sub.add_parser(
        "counterfactuals",
        help="word-substitution counterfactuals (Algorithm 3): flip rates of the "
        "sparse and the dense layer",
    )
    _add_layer_options(p)
    p.add_argument("--out", required=True, help="JSON summary (+ a CSV beside it)")
    p.set_defaults(func=cmd_counterfactuals)

    p = sub.add_parser(
        "bias-probe",
        help="append a word to every text and count flipped predictions",
    )
    _add_layer_options(p)
    p.add_argument(
        "--word",
        action="append",
        help="a word to add (repeat for several); default: every identity word in "
        "the clouds of the sparse layer's features, then the paper's "
        "'christianity'",
    )
    p.add_argument("--position", default="end", choices=("end", "start"))
    p.add_argument("--out", help="JSON result")
    p.set_defaults(func=cmd_bias_probe)

    p = sub.add_parser(
        "errors",
        help="misclassifications: γ scores, errors fixed by zeroing the top feature, "
        "class confusion against shared features",
    )
    _add_layer_options(p, clouds=False)
    p.add_argument(
        "--index",
        type=int,
        help="λ index of the path for the sparse layer (default: selected)",
    )
    p.add_argument("--out", help="JSON result")
    p.set_defaults(func=cmd_errors)


def _add_sparse_layer_command(sub) -> None:
    p = sub.add_parser(
        "sparse-layer",
        help="fit an elastic-net path on deep features; store it with the selected "
        "sparse layer and a dense layer",
        description="Fits one layer for every dataset × features × alpha given, "
        "each a task (in this process, or on Ray) stored as it finishes; with "
        "several alphas each layer's name ends in -alpha<α>.",
    )
    p.add_argument("--dataset", nargs="+", required=True, metavar="D")
    p.add_argument(
        "--features",
        nargs="+",
        default=["minilm"],
        metavar="F",
        help="finetuned:<encoder> (a MiniLM fine-tuned with finetune-encoder) or "
        "minilm (frozen; text datasets), raw (the dataset's own features, e.g. "
        "registered deep features) or penultimate:<model id>",
    )
    p.add_argument(
        "--alpha",
        type=float,
        nargs="+",
        default=[0.99],
        metavar="A",
        help="L1 share of the penalty (several: one layer each)",
    )
    p.add_argument("--n-lambdas", type=int, default=100)
    p.add_argument("--eps", type=float, default=1e-3, help="λ_min / λ_max")
    p.add_argument(
        "--tol",
        type=float,
        default=None,
        help="the stop's tolerance: estimated relative objective gap (--stop "
        "objective, default 5e-6), KKT violation relative to λ_max·α (--stop kkt, "
        "1e-4) or relative duality gap (--stop duality_gap, 1e-4)",
    )
    p.add_argument(
        "--stop",
        # core.sparse_layers.glm.solvers.STOPS, spelt out: building the parser
        # imports no torch (a test holds the two equal).
        choices=("objective", "kkt", "duality_gap"),
        default="objective",
        help="when a λ is solved: the objective estimated within --tol of its "
        "minimum (default), the KKT violation alone (as glmnet/skglm), or the "
        "stricter duality-gap certificate",
    )
    p.add_argument(
        "--tolerance",
        type=float,
        default=0.05,
        help="selection: sparsest λ within this validation accuracy of the best",
    )
    p.add_argument(
        "--max-memory",
        metavar="SIZE",
        help="stream a memory-mapped feature set (add-features --memory-map) "
        "within SIZE, e.g. 2GB: the fit and every score read the rows in blocks",
    )
    p.add_argument(
        "--resume",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep a layer already stored with the same settings (default) or "
        "fit it again",
    )
    add_executor_options(p)
    p.set_defaults(func=cmd_sparse_layer)


def _add_finetune_command(sub) -> None:
    p = sub.add_parser(
        "finetune-encoder",
        help="fine-tune MiniLM with a classification head on a text dataset "
        "(early stopping on validation); its features are finetuned:<name>",
    )
    p.add_argument("--dataset", required=True, help="a text dataset: sst2, mr, toxic")
    p.add_argument("--name", help="the encoder's name (default: the dataset's)")
    p.add_argument(
        "--out", help="store folder (default: $SPARSELENS_ENCODERS or the user's)"
    )
    p.add_argument("--threads", type=int, help="torch threads (default: all cores)")
    # The recipe's defaults live in core.sparse_layers.encoders.Recipe (an
    # option left out keeps it); importing it here would load torch for --help.
    recipe = p.add_argument_group("recipe (default: the Recipe defaults in brackets)")
    for flag, kind, text in (
        ("--layers", int, "top transformer layers tuned [6]"),
        ("--epochs", int, "most epochs [3]"),
        ("--patience", int, "epochs without a better validation accuracy [1]"),
        ("--batch-size", int, "[32]"),
        ("--lr", float, "peak AdamW learning rate [1e-4]"),
        ("--warmup", float, "share of the steps warming up, then linear decay [0.1]"),
        ("--max-length", int, "tokens kept per text [64]"),
        ("--seed", int, "[0]"),
    ):
        recipe.add_argument(flag, type=kind, help=text)
    p.set_defaults(func=cmd_finetune_encoder)


def _add_layer_options(p: argparse.ArgumentParser, *, clouds: bool = True) -> None:
    """Which stored layer and split a debugging command reads, its torch
    threads and, with ``clouds``, how its LIME word clouds are made."""
    p.add_argument("--layer", help="stored layer (default: <dataset>-minilm)")
    p.add_argument(
        "--dataset",
        help="dataset whose text layer to use: D-finetuned-D if stored, else D-minilm",
    )
    p.add_argument("--split", default="test", choices=("train", "val", "test"))
    p.add_argument("--limit", type=int, help="first N sentences of the split only")
    p.add_argument("--threads", type=int, help="torch threads (default: all cores)")
    if not clouds:
        return
    p.add_argument("--cloud-split", default="val", choices=("train", "val", "test"))
    p.add_argument(
        "--cloud-limit",
        type=int,
        help="word clouds from the first N sentences only",
    )
    p.add_argument("--samples", type=int, default=500, help="LIME samples per sentence")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--min-count",
        type=int,
        default=1,
        help="leave rarer words out of the clouds",
    )
