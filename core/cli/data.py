"""Datasets from the command line: ``datasets`` lists them; ``add-data``,
``add-texts``, ``add-features``, ``add-mimic`` and ``remove-data`` register
and delete your own."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm.auto import tqdm

from core.cli.output import print_table
from core.errors import SparseLensError


def dataset_summary(name: str, data_dir: str | None, load: bool) -> dict:
    """One row of ``datasets``: the spec, availability and (if loaded) sizes.

    Parameters
    ----------
    name : str
        A registered dataset.
    data_dir : str or None
        The data home (None: ``$SPARSELENS_DATA`` or the user cache).
    load : bool
        Parse the dataset (without downloading) to report split sizes,
        feature and class counts; a dataset that fails to load is reported
        unavailable with the error.

    Returns
    -------
    dict
        ``name``, ``task``, ``modality``, ``summary``, ``available``,
        ``where``, ``source``, ``sizes`` (split name to size, or None),
        ``n_features``, ``n_classes`` (None when not loaded) and, after a
        failed load, ``error``.
    """
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
    """``datasets``: every registered dataset, its availability and sizes."""
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
        return 0
    print_table(
        ["name", "task", "modality", "train", "val", "test", "features", "available"],
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


def _percent_bar(desc: str):
    """A tqdm bar in percent and the ``progress(fraction, message)`` that moves it."""
    bar = tqdm(total=100, desc=desc, unit="%", leave=False)

    def progress(fraction: float, message: str) -> None:
        bar.set_postfix_str(message)
        bar.update(max(0, round(100 * fraction) - bar.n))

    return bar, progress


def _print_registered(registered, as_json: bool) -> int:
    """What a registration made: the manifest, or a summary and its warnings."""
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
    """``add-data``: register a table as a dataset of yours."""
    from core.data.user import add_table

    roles = {
        **dict.fromkeys(args.numeric or [], "numeric"),
        **dict.fromkeys(args.categorical or [], "categorical"),
        **dict.fromkeys(args.ignore or [], "ignore"),
    }
    bar, progress = _percent_bar(args.name)
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
    return _print_registered(registered, args.json)


def cmd_add_texts(args: argparse.Namespace) -> int:
    """``add-texts``: register a text corpus as a dataset of yours."""
    from core.data.user import add_texts

    bar, progress = _percent_bar(args.name)
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
    return _print_registered(registered, args.json)


def cmd_add_features(args: argparse.Namespace) -> int:
    """``add-features``: register precomputed deep features."""
    from core.data.user import add_features

    if args.memory_map:
        return _add_mapped(args)
    bar, progress = _percent_bar(args.name)
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
    return _print_registered(registered, args.json)


def _add_mapped(args: argparse.Namespace) -> int:
    """``add-features --memory-map``: register a ``.npy`` matrix without
    loading it."""
    from core.data.user.mapped import add_mapped_features
    from core.sparse_layers.glm.design import parse_memory

    if args.labels is None:
        raise ValueError("--memory-map needs --labels (one label per row)")
    m = add_mapped_features(
        args.path,
        name=args.name,
        labels_source=args.labels,
        split_source=args.split,
        feature_names=args.feature_names,
        float16=args.float16,
        max_memory=parse_memory(args.max_memory),
        replace=args.replace,
    )
    sizes = ", ".join(f"{s} {len(y):,}" for s, y in m.y.items())
    dtype = m.X["train"].dtype
    print(f"registered memory-mapped features {m.name} in {m.folder} ({dtype})")
    print(
        f"{len(m.feature_names):,} features; splits: {sizes}; classes: "
        f"{', '.join(m.class_names)}; fit with `python -m core sparse-layer "
        f"--dataset {m.name} --features raw --max-memory 2GB`"
    )
    return 0


def cmd_add_mimic(args: argparse.Namespace) -> int:
    """``add-mimic``: register a MIMIC-III sepsis extract."""
    from core.data.user import add_mimic

    bar, progress = _percent_bar(args.name)
    with bar:
        registered = add_mimic(
            args.path,
            name=args.name,
            balance=not args.no_balance,
            replace=args.replace,
            progress=progress,
        )
    return _print_registered(registered, args.json)


def cmd_remove_data(args: argparse.Namespace) -> int:
    """``remove-data``: delete a registered dataset of yours."""
    from core.data.user import delete

    print(f"deleted {args.name} (was {delete(args.name)})")
    return 0


def add_commands(sub) -> None:
    """Register ``datasets``, ``add-data``, ``add-texts``, ``add-features``,
    ``add-mimic`` and ``remove-data`` on the ``sub`` subparsers."""
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
    _add_table_command(sub)
    _add_texts_command(sub)
    _add_features_command(sub)

    p = sub.add_parser(
        "add-mimic",
        help="register a MIMIC-III sepsis extract (Raghu et al. layout)",
    )
    p.add_argument("path", type=Path, help="the extract, .csv or .parquet")
    p.add_argument(
        "--no-balance", action="store_true", help="keep the training prevalence"
    )
    _add_registration_options(p, default_name="mimic_sepsis")
    p.set_defaults(func=cmd_add_mimic)

    p = sub.add_parser("remove-data", help="delete a registered dataset of yours")
    p.add_argument("name")
    p.set_defaults(func=cmd_remove_data)


def _add_registration_options(
    p: argparse.ArgumentParser, default_name: str | None = None
) -> None:
    """``--name``, ``--replace`` and ``--json``, shared by every ``add-*``."""
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


def _add_table_command(sub) -> None:
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
    _add_registration_options(p)
    p.set_defaults(func=cmd_add_data)


def _add_texts_command(sub) -> None:
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
    _add_registration_options(p)
    p.set_defaults(func=cmd_add_texts)


def _add_features_command(sub) -> None:
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
    g = p.add_argument_group(
        "larger than memory (a .npy matrix, never loaded; docs/scaling.md)"
    )
    g.add_argument(
        "--memory-map",
        action="store_true",
        help="register the .npy matrix memory-mapped: each split's rows are "
        "copied in blocks, for sparse-layer --max-memory",
    )
    g.add_argument(
        "--split", type=Path, help="a .npy of 'train'/'val'/'test', one per row"
    )
    g.add_argument("--float16", action="store_true", help="store the splits as float16")
    g.add_argument(
        "--max-memory",
        default="1GB",
        metavar="SIZE",
        help="memory the copy may use (default: 1GB)",
    )
    _add_registration_options(p)
    p.set_defaults(func=cmd_add_features)
