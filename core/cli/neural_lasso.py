"""The Neural LASSO from the command line: the paper's ``table1`` and the
``smoothness`` of stored models' input-gradient fields."""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm.auto import tqdm

from core.cli.output import print_table


def cmd_table1(args: argparse.Namespace) -> int:
    """``table1``: train the paper's Table 1 rows over seeds and write them."""
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
    """``smoothness``: the Input gradients page's smoothness table for
    ``<dataset>-mlp-<penalty>`` models."""
    rows = [row for name in args.datasets for row in _smoothness_rows(args, name)]
    print_table(
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


def _smoothness_rows(args: argparse.Namespace, name: str) -> list[list[str]]:
    """Dataset ``name``'s rows: each model's smoothness of the gradient of the
    default class's log-probability and of their sum, with its AUC and D_eff."""
    from core.data import load_dataset
    from core.neural_lasso.gradients import (
        default_target,
        split_inputs,
        standardised_gradients,
        target_label,
    )
    from core.neural_lasso.smoothness import neighbours
    from core.training.store import find_model, load_model
    from core.views.neural_lasso import smoothness_table

    ds = load_dataset(name, args.data_dir)
    nbrs = neighbours(split_inputs(ds, args.split), args.k)
    models = {}
    for penalty in args.penalties:
        model_id = f"{name}-mlp-{penalty}"
        folder = args.store / model_id if args.store else find_model(model_id).path
        models[model_id] = load_model(folder)
    targets = (default_target(ds), None)
    # The Input gradients page's table: the models side by side, per target.
    tables = {
        target: smoothness_table(
            {
                model_id: standardised_gradients(model, ds, args.split, target)
                for model_id, (model, _) in models.items()
            },
            nbrs,
        ).set_index("model")
        for target in targets
    }
    rows = []
    for model_id, (_, card) in models.items():
        for target in targets:
            row = tables[target].loc[model_id]
            rows.append(
                [
                    name,
                    model_id,
                    f"{card.metrics.get('auc', float('nan')):.3f}",
                    f"{card.metrics.get('d_eff', float('nan')):.1f}",
                    target_label(ds, target),
                    f"{row['mean_abs_gradient']:.3g}",
                    f"{row['smoothness']:.3g}",
                    f"{row['relative']:.3f}",
                ]
            )
    return rows


def add_commands(sub) -> None:
    """Register ``table1`` and ``smoothness`` on the ``sub`` subparsers."""
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
