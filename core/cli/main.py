"""Command-line interface: ``python -m core --help``.

Each subcommand is a small function taking the parsed arguments; long work
shows a tqdm progress bar on stderr so ``--json`` output stays clean on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from core import __version__
from core.errors import SparseLensError

Command = Callable[[argparse.Namespace], int]


def dataset_summary(name: str, data_dir: str | None, load: bool) -> dict:
    """One row of ``datasets``: the spec, availability and (if loaded) sizes."""
    from core.data import availability, get_spec, load_dataset

    spec = get_spec(name)
    avail = availability(name, data_dir)
    row: dict = {
        "name": name,
        "task": spec.task,
        "modality": spec.modality,
        "summary": spec.summary,
        "available": avail.available,
        "where": avail.where,
        "source": spec.source,
        "sizes": None,
        "n_features": None,
        "n_classes": None,
    }
    if load and avail.available:
        try:
            ds = load_dataset(name, data_dir, download=False)
        except SparseLensError as exc:
            row.update(available=False, error=str(exc))
        else:
            row.update(
                sizes={k: len(s) for k, s in ds.splits.items()},
                n_features=ds.n_features,
                n_classes=ds.n_classes,
            )
    return row


def cmd_datasets(args: argparse.Namespace) -> int:
    from core.data import dataset_names

    names = dataset_names()
    rows = [
        dataset_summary(n, args.data_dir, load=not args.no_load)
        for n in tqdm(
            names, desc="datasets", unit="set", disable=args.no_load, leave=False
        )
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        _print_table(
            [
                "name",
                "task",
                "modality",
                "train",
                "val",
                "test",
                "features",
                "available",
            ],
            [
                [
                    r["name"],
                    r["task"],
                    r["modality"],
                    *(
                        [str(r["sizes"][k]) for k in ("train", "val", "test")]
                        if r["sizes"]
                        else ["-", "-", "-"]
                    ),
                    str(r["n_features"] if r["n_features"] is not None else "-"),
                    "yes" if r["available"] else f"no: {r.get('error') or r['where']}",
                ]
                for r in rows
            ],
        )
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from core.training.store import list_models

    models = list_models(args.dataset)
    if args.json:
        print(
            json.dumps(
                [
                    {**m.card.__dict__, "path": str(m.path), "shipped": m.shipped}
                    for m in models
                ],
                indent=2,
            )
        )
        return 0
    if not models:
        print(
            "No stored models yet: models you train, and the shipped ones, appear here."
        )
        return 0
    _print_table(
        ["id", "dataset", "architecture", "penalty", "strength", "metrics", "shipped"],
        [
            [
                m.card.model_id,
                m.card.dataset,
                m.card.architecture,
                m.card.penalty,
                f"{m.card.strength:g}",
                " ".join(f"{k}={v:.3g}" for k, v in m.card.metrics.items()),
                "yes" if m.shipped else "",
            ]
            for m in models
        ],
    )
    return 0


def _epoch_bar(total: int, desc: str):
    """A tqdm bar over epochs and the progress callback that advances it."""
    bar = tqdm(total=total, desc=desc, unit="epoch", leave=False)

    def progress(epoch: int, epochs: int, record: dict) -> None:
        bar.total = epochs
        bar.set_postfix(
            loss=f"{record['train_loss']:.4f}", val_auc=f"{record['val_auc']:.3f}"
        )
        bar.update(1)

    return bar, progress


def cmd_train(args: argparse.Namespace) -> int:
    from core.data import load_dataset
    from core.training.penalties import make_penalty
    from core.training.train import TrainConfig, store_result, train

    ds = load_dataset(args.dataset, args.data_dir)
    groups = ds.feature_groups if args.groups == "dataset" else None
    penalty = make_penalty(args.penalty, args.strength, groups=groups)
    config = TrainConfig(epochs=args.epochs, seed=args.seed, patience=args.patience)
    bar, progress = _epoch_bar(config.resolved(ds.name, args.model).epochs, args.model)
    with bar:
        result = train(ds, args.model, [penalty], config, progress=progress)
    stored = store_result(result, ds, model_id=args.id, store=args.store)
    metrics = " ".join(f"{k}={v:.4g}" for k, v in result.test_metrics.items())
    print(f"stored {stored.card.model_id} in {stored.path.parent}")
    print(f"test: {metrics} (best epoch {result.best_epoch} of {len(result.history)})")
    return 0


def cmd_table1(args: argparse.Namespace) -> int:
    from core.data import load_dataset
    from core.neural_lasso import table1

    ds = load_dataset(args.dataset, args.data_dir)
    rows = table1.rows_for(ds.name)
    bar = tqdm(total=len(rows) * args.seeds, desc=f"table1 {ds.name}", unit="model")
    with bar:
        table = table1.table1(
            ds, args.seeds, epochs=args.epochs, on_result=lambda *_: bar.update(1)
        )
    csv_path, md_path = table1.write_table(table, Path(args.out))
    print(table1.to_markdown(table))
    print(f"wrote {csv_path} and {md_path}")
    return 0


def cmd_smoothness(args: argparse.Namespace) -> int:
    from core.data import load_dataset
    from core.neural_lasso import inspection
    from core.training.store import find_model, load_model

    rows = []
    for name in args.datasets:
        ds = load_dataset(name, args.data_dir)
        nbrs = inspection.neighbours(inspection.split_inputs(ds, args.split), args.k)
        for penalty in args.penalties:
            model_id = f"{name}-mlp-{penalty}"
            folder = args.store / model_id if args.store else find_model(model_id).path
            model, card = load_model(folder)
            for target in (inspection.default_target(ds), None):
                g = inspection.standardised_gradients(model, ds, args.split, target)
                s, rel = inspection.smoothness(g, nbrs)
                rows.append(
                    [
                        name,
                        model_id,
                        f"{card.metrics.get('auc', float('nan')):.3f}",
                        f"{card.metrics.get('d_eff', float('nan')):.1f}",
                        inspection.target_label(ds, target),
                        f"{float(abs(g).mean()):.3g}",
                        f"{s:.3g}",
                        f"{rel:.3f}",
                    ]
                )
    _print_table(
        [
            "dataset",
            "model",
            "AUC",
            "D_eff",
            "gradient of",
            "mean |g|",
            "smoothness",
            "relative",
        ],
        rows,
    )
    return 0


def cmd_hessian_study(args: argparse.Namespace) -> int:
    import torch

    from core.data import load_dataset
    from core.figures.saliency import hessian_study_figure
    from core.saliency import hessian_study as hs
    from core.saliency.lab import inputs
    from core.training.store import load_model

    torch.set_num_threads(args.threads)
    parts = []
    for model_id in tqdm(args.models, desc="stored models", unit="model"):
        model, card = load_model(model_id)
        ds = load_dataset(card.dataset, args.data_dir)
        x = inputs(ds, "test", list(range(min(args.examples, len(ds.test)))))
        parts.append(hs.hessian_stats(model, x).assign(model=model_id))
    for c in tqdm(args.classes, desc="synthetic nets", unit="net"):
        net = hs.synthetic_relu_net(n_classes=c, seed=args.seed)
        x = hs.synthetic_inputs(args.synthetic_examples, seed=args.seed)
        parts.append(
            hs.hessian_stats(net, x).assign(model=f"synthetic ReLU, {c} classes")
        )
    import pandas as pd

    stats = pd.concat(parts, ignore_index=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stats.to_csv(out / "hessian_study.csv", index=False)
    hessian_study_figure(stats).write_html(out / "hessian_study.html")
    print(hs.binned(stats).to_string(index=False, float_format="{:.3g}".format))
    print(f"wrote {out / 'hessian_study.csv'} and {out / 'hessian_study.html'}")
    return 0


def cmd_saliency_compare(args: argparse.Namespace) -> int:
    import torch

    from core.data import load_dataset
    from core.saliency import lab, method_names
    from core.training.store import load_model

    torch.set_num_threads(args.threads)
    model, card = load_model(args.model)
    ds = load_dataset(card.dataset, args.data_dir)
    x = lab.inputs(ds, "test", list(range(min(args.examples, len(ds.test)))))
    methods = method_names() if args.methods == ["all"] else args.methods
    rde = {"n_iter": args.rde_iterations} if args.rde_iterations else {}
    overrides = {m: rde for m in ("RC-RDE", "MR-RDE", "Ord-RDE")}
    bar = tqdm(total=len(methods), desc="methods", unit="method")
    with bar:
        table, areas, _ = lab.compare(
            model,
            x,
            methods,
            overrides=overrides,
            progress=lambda name: (bar.set_postfix_str(name), bar.update(0)),
        )
        bar.update(len(methods))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / f"{args.model}-curves.csv", index=False)
    areas.to_csv(out / f"{args.model}-areas.csv", index=False)
    print(f"{args.model} on {len(x)} {card.dataset} test examples")
    print(areas.to_string(index=False, float_format="{:.4g}".format))
    print(f"wrote {out / (args.model + '-areas.csv')} and the curves beside it")
    return 0


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]
    for line in [header, ["-" * w for w in widths], *rows]:
        print(
            "  ".join(
                str(c).ljust(w) for c, w in zip(line, widths, strict=False)
            ).rstrip()
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m core",
        description="SparseLens: train sparsity-regularized models and inspect them.",
    )
    parser.add_argument(
        "--version", action="version", version=f"sparselens {__version__}"
    )
    parser.add_argument(
        "--data-dir",
        help="data home with raw dataset files (default: $SPARSELENS_DATA or the user cache)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "datasets", help="list the registered datasets and whether they are here"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--no-load",
        action="store_true",
        help="check files only; do not parse to get sizes",
    )
    p.set_defaults(func=cmd_datasets)

    p = sub.add_parser("train", help="train one model and store it with its card")
    p.add_argument("--dataset", required=True)
    p.add_argument(
        "--model", required=True, help="linear, mlp, cnn6, cnn_digits or cnn9"
    )
    p.add_argument(
        "--penalty",
        default="none",
        choices=["none", "l1_weights", "grad_l1", "group_l1"],
    )
    p.add_argument(
        "--strength",
        type=float,
        default=0.0,
        help="λ_θ (l1_weights), the ratio r of λ_∇ = r·CE₀/G₀ (grad_l1), λ (group_l1)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, help="default: the paper's for the dataset")
    p.add_argument("--patience", type=int, default=10, help="early-stopping patience")
    p.add_argument(
        "--groups",
        choices=["features", "dataset"],
        default="dataset",
        help="group LASSO groups: one per input column, or the dataset's groups",
    )
    p.add_argument("--id", help="model ID (default: dataset-model-penalty-seed-time)")
    p.add_argument(
        "--store", type=Path, help="store folder (default: $SPARSELENS_MODELS)"
    )
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("table1", help="train the Neural LASSO Table 1 rows over seeds")
    p.add_argument("--dataset", required=True)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--epochs", type=int, help="default: the paper's for the dataset")
    p.add_argument("--out", required=True, help="CSV file; the Markdown goes beside it")
    p.set_defaults(func=cmd_table1)

    p = sub.add_parser(
        "smoothness",
        help="how much input gradients change between neighbouring test examples",
        description="For <dataset>-mlp-<penalty> models: mean |gradient difference| "
        "to the k nearest neighbours (standardised inputs), absolute and relative "
        "to the mean |gradient|.",
    )
    p.add_argument("--datasets", nargs="+", default=["icu_rhc", "icu_physionet2012"])
    p.add_argument("--penalties", nargs="+", default=["none", "l1_weights", "grad_l1"])
    p.add_argument("--store", type=Path, help="folder holding the models")
    p.add_argument("--split", default="test")
    p.add_argument("--k", type=int, default=10)
    p.set_defaults(func=cmd_smoothness)

    p = sub.add_parser("models", help="list stored models (yours and the shipped ones)")
    p.add_argument("--dataset", help="only models trained on this dataset")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_models)
    _add_data_commands(sub)
    _add_sparse_layer_command(sub)
    from core.cli.debugging import add_commands as _add_debugging_commands

    _add_debugging_commands(sub)
    p = sub.add_parser(
        "hessian-study",
        help="is the input Hessian rank one when the prediction is confident?",
        description="Rank-one relative error of the closed-form input Hessian, "
        "|cos| between its top eigenvector and the gradient, and the normalised "
        "CASO–CAFO difference (λ₁ = 0), per test example of stored models and of "
        "random many-class ReLU nets, against the predicted probability.",
    )
    p.add_argument("--models", nargs="*", default=["mnist-cnn6-none"])
    p.add_argument("--examples", type=int, default=500)
    p.add_argument("--classes", nargs="*", type=int, default=[10, 100, 1000])
    p.add_argument("--synthetic-examples", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default="hessian-study", help="folder for CSV and HTML")
    p.set_defaults(func=cmd_hessian_study)
    p = sub.add_parser(
        "saliency-compare",
        help="deletion, insertion and rate-distortion areas of every method",
        description="Runs explanation methods (default: every registered one) "
        "on the first test examples of a stored model's dataset and prints the "
        "area under each curve per method, with seconds per example.",
    )
    p.add_argument("--model", required=True)
    p.add_argument("--examples", type=int, default=20)
    p.add_argument("--methods", nargs="+", default=["all"])
    p.add_argument(
        "--rde-iterations", type=int, help="Frank–Wolfe iterations (default 300/100)"
    )
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default="saliency-compare", help="folder for the CSVs")
    p.set_defaults(func=cmd_saliency_compare)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (SparseLensError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


# ------------------------------------------------------- bring your own data


def _progress_bar(desc: str):
    """A tqdm bar in percent and the ``progress(fraction, message)`` that moves it."""
    bar = tqdm(total=100, desc=desc, unit="%", leave=False)

    def progress(fraction: float, message: str) -> None:
        bar.set_postfix_str(message)
        bar.update(max(0, round(100 * fraction) - bar.n))

    return bar, progress


def _report(registered, as_json: bool) -> int:
    m = registered.manifest
    if as_json:
        print(json.dumps({"folder": str(registered.folder), **m}, indent=2))
        return 0
    sizes = ", ".join(f"{k} {v}" for k, v in m["sizes"].items())
    print(f"registered {registered.name} in {registered.folder}")
    print(f"{m['summary']}; splits: {sizes}; classes: {', '.join(m['class_names'])}")
    print(f"content sha256 {m['content_sha256']}")
    for warning in m["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def cmd_add_data(args: argparse.Namespace) -> int:
    from core.data.user import add_table

    roles = {
        **dict.fromkeys(args.numeric or [], "numeric"),
        **dict.fromkeys(args.categorical or [], "categorical"),
        **dict.fromkeys(args.ignore or [], "ignore"),
    }
    bar, progress = _progress_bar(args.name)
    with bar:
        registered = add_table(
            args.path,
            name=args.name,
            target=args.target,
            id_column=args.id,
            ranges=args.ranges,
            roles=roles,
            impute=args.impute,
            indicators=not args.no_indicators,
            scaling=args.scaling,
            drop_missing_target=args.drop_missing_target,
            balance=args.balance,
            replace=args.replace,
            progress=progress,
        )
    return _report(registered, args.json)


def cmd_add_texts(args: argparse.Namespace) -> int:
    from core.data.user import add_texts

    bar, progress = _progress_bar(args.name)
    with bar:
        registered = add_texts(
            args.path,
            name=args.name,
            text_column=args.text,
            label_column=args.label,
            id_column=args.id,
            n_words=args.words,
            drop_missing=args.drop_missing,
            replace=args.replace,
            progress=progress,
        )
    return _report(registered, args.json)


def cmd_add_features(args: argparse.Namespace) -> int:
    from core.data.user import add_features

    bar, progress = _progress_bar(args.name)
    with bar:
        registered = add_features(
            args.path,
            name=args.name,
            labels_source=args.labels,
            target=args.target,
            feature_names=args.feature_names,
            text_column=args.text,
            id_column=args.id,
            scaling=args.scaling,
            replace=args.replace,
            progress=progress,
        )
    return _report(registered, args.json)


def cmd_add_mimic(args: argparse.Namespace) -> int:
    from core.data.user import add_mimic

    bar, progress = _progress_bar(args.name)
    with bar:
        registered = add_mimic(
            args.path,
            name=args.name,
            balance=not args.no_balance,
            replace=args.replace,
            progress=progress,
        )
    return _report(registered, args.json)


def cmd_remove_data(args: argparse.Namespace) -> int:
    from core.data.user import delete

    print(f"deleted {args.name} (was {delete(args.name)})")
    return 0


def _add_data_commands(sub) -> None:
    """``add-data``, ``add-texts``, ``add-features``, ``add-mimic``, ``remove-data``."""

    def common(p: argparse.ArgumentParser, default_name: str | None = None) -> None:
        p.add_argument(
            "--name",
            required=default_name is None,
            default=default_name,
            help="the new dataset's name: lower-case letters, digits, '_' or '-'",
        )
        p.add_argument(
            "--replace", action="store_true", help="replace a dataset of that name"
        )
        p.add_argument("--json", action="store_true", help="print the manifest")

    p = sub.add_parser(
        "add-data",
        help="register a CSV/TSV/Parquet table as a dataset",
        description="Read a table, check it, encode it (numeric / one-hot, "
        "imputation, scaling) and register it under --name in $SPARSELENS_USER_DATA. "
        "The file size limit is $SPARSELENS_MAX_UPLOAD_MB (default 200) MB.",
    )
    p.add_argument("path", type=Path, help="a .csv, .tsv or .parquet file")
    p.add_argument("--target", required=True, help="the label column")
    p.add_argument("--id", help="ID / group column (e.g. patient): never split")
    p.add_argument("--ranges", type=Path, help="CSV of feature,unit,low,high")
    p.add_argument("--numeric", nargs="+", metavar="COL", help="force numeric")
    p.add_argument("--categorical", nargs="+", metavar="COL", help="force one-hot")
    p.add_argument("--ignore", nargs="+", metavar="COL", help="leave out")
    p.add_argument("--impute", choices=["median", "mean", "zero"], default="median")
    p.add_argument(
        "--no-indicators",
        action="store_true",
        help="no <column>_missing indicator features",
    )
    p.add_argument("--scaling", choices=["robust", "zscore"], default="robust")
    p.add_argument(
        "--drop-missing-target",
        action="store_true",
        help="drop rows without a label instead of refusing the file",
    )
    p.add_argument(
        "--balance", action="store_true", help="undersample the training classes"
    )
    common(p)
    p.set_defaults(func=cmd_add_data)

    p = sub.add_parser(
        "add-texts",
        help="register a text corpus (CSV/TSV/JSONL with text and label)",
    )
    p.add_argument("path", type=Path, help="a .csv, .tsv or .jsonl file")
    p.add_argument("--text", default="text", help="the text column")
    p.add_argument("--label", default="label", help="the label column")
    p.add_argument("--target", dest="label", help="alias of --label")
    p.add_argument("--id", help="document / group ID column")
    p.add_argument(
        "--words", type=int, default=2000, help="TF-IDF word features (0: none)"
    )
    p.add_argument(
        "--drop-missing",
        action="store_true",
        help="drop rows without text or label instead of refusing the file",
    )
    common(p)
    p.set_defaults(func=cmd_add_texts)

    p = sub.add_parser(
        "add-features",
        help="register precomputed deep features (.npz/.npy/.parquet/.csv)",
    )
    p.add_argument("path", type=Path, help=".npz (X, y, ...), .npy, .parquet, .csv")
    p.add_argument("--labels", type=Path, help="labels for a .npy matrix")
    p.add_argument("--target", help="label column of a .parquet/.csv matrix")
    p.add_argument("--feature-names", type=Path, help="one feature name per line")
    p.add_argument("--text", help="raw text column of a .parquet/.csv matrix")
    p.add_argument("--id", help="ID column of a .parquet/.csv matrix")
    p.add_argument(
        "--scaling", choices=["zscore", "robust", "identity"], default="zscore"
    )
    common(p)
    p.set_defaults(func=cmd_add_features)

    p = sub.add_parser(
        "add-mimic",
        help="register a MIMIC-III sepsis extract (Raghu et al. layout)",
    )
    p.add_argument("path", type=Path, help="the extract, .csv or .parquet")
    p.add_argument(
        "--no-balance", action="store_true", help="keep the training prevalence"
    )
    common(p, default_name="mimic_sepsis")
    p.set_defaults(func=cmd_add_mimic)

    p = sub.add_parser("remove-data", help="delete a registered dataset of yours")
    p.add_argument("name")
    p.set_defaults(func=cmd_remove_data)


# ------------------------------------------------------------- sparse layers


def cmd_sparse_layer(args: argparse.Namespace) -> int:
    from core.sparse_layers.glm.selection import path_summary
    from core.sparse_layers.sparse_layer import compute_sparse_layer

    enc = tqdm(total=1, desc="features", unit="text", leave=False)
    fit = tqdm(total=args.n_lambdas, desc="path", unit="λ", leave=False)

    def encoded(done: int, total: int) -> None:
        enc.total = total
        enc.n = done
        enc.refresh()

    def fitted(done: int, total: int) -> None:
        fit.n = done
        fit.refresh()

    with enc, fit:
        layer, _ = compute_sparse_layer(
            args.dataset,
            args.features,
            alpha=args.alpha,
            n_lambdas=args.n_lambdas,
            eps=args.eps,
            tol=args.tol,
            tolerance=args.tolerance,
            progress_features=encoded,
            progress=fitted,
        )
    path, i = layer.path, layer.selected
    summary = path_summary(path)
    d = path.diagnostics
    print(
        f"{layer.name}: {len(path)} λ in {d['seconds'].sum():.1f} s, "
        f"{int(d['epochs'].sum())} epochs, largest relative gap {np.nanmax(d['gap']):.1e}"
    )
    print(
        f"selected λ[{i}] = {path.lambdas[i]:.4g}: {int(path.active_features[i])} of "
        f"{len(path.feature_names)} features, {int(path.nonzeros[i].sum())} weights; "
        f"accuracy train {summary.train_accuracy[i]:.3f} val {summary.val_accuracy[i]:.3f} "
        f"test {layer.test_accuracy[i]:.3f}"
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
    return 0


def _add_sparse_layer_command(sub) -> None:
    p = sub.add_parser(
        "sparse-layer",
        help="fit an elastic-net path on deep features; store it with the selected "
        "sparse layer and a dense layer",
    )
    p.add_argument("--dataset", required=True)
    p.add_argument(
        "--features",
        default="minilm",
        help="minilm (text datasets), raw (the dataset's own features, e.g. "
        "registered deep features) or penultimate:<model id>",
    )
    p.add_argument("--alpha", type=float, default=0.99, help="L1 share of the penalty")
    p.add_argument("--n-lambdas", type=int, default=100)
    p.add_argument("--eps", type=float, default=1e-3, help="λ_min / λ_max")
    p.add_argument("--tol", type=float, default=1e-4, help="relative duality gap")
    p.add_argument(
        "--tolerance",
        type=float,
        default=0.05,
        help="selection: sparsest λ within this validation accuracy of the best",
    )
    p.set_defaults(func=cmd_sparse_layer)
