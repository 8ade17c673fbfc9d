"""Training from the command line: ``train`` one model, list the ``models``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm.auto import tqdm

from core.cli.output import print_table


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
    """``train``: train one model and store it with its card.

    The ID (``--id`` or a generated one) and the store are checked before the
    dataset is loaded, so a taken ID or a read-only store fails in seconds.
    """
    from core.data import load_dataset
    from core.training.penalties import make_penalty
    from core.training.store import check_can_store, default_model_id
    from core.training.train import TrainConfig, store_result, train

    model_id = args.id or default_model_id(
        args.dataset, args.model, args.penalty, args.seed
    )
    store = check_can_store(model_id, args.store)
    ds = load_dataset(args.dataset, args.data_dir)
    groups = ds.feature_groups if args.groups == "dataset" else None
    penalty = make_penalty(args.penalty, args.strength, groups=groups)
    config = TrainConfig(epochs=args.epochs, seed=args.seed, patience=args.patience)
    bar, progress = _epoch_bar(config.resolved(ds.name, args.model).epochs, args.model)
    with bar:
        result = train(ds, args.model, [penalty], config, progress=progress)
    stored = store_result(result, ds, model_id=model_id, store=store)
    metrics = " ".join(f"{k}={v:.4g}" for k, v in result.test_metrics.items())
    print(f"stored {stored.card.model_id} in {stored.path.parent}")
    print(f"test: {metrics} (best epoch {result.best_epoch} of {len(result.history)})")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    """``models``: the stored models, from the Models page's table.

    A folder whose card cannot be read is named on stderr and left out.
    """
    import pandas as pd

    from core.training.store import scan_models
    from core.views.models import models_table

    listing = scan_models(args.dataset)
    for message in listing.skipped:
        print(f"warning: {message}", file=sys.stderr)
    models = listing.models
    if args.json:
        cards = [
            {**m.card.__dict__, "path": str(m.path), "shipped": m.shipped}
            for m in models
        ]
        print(json.dumps(cards, indent=2))
        return 0
    if not models:
        print(
            "No stored models yet: models you train, and the shipped ones, appear here."
        )
        return 0
    # The Models page's table, in one line per model; a metric a card lacks is
    # NaN in the table and left out here.
    table = models_table(models)
    metrics = [c for c in table.columns if c.startswith("metric: ")]
    print_table(
        ["id", "dataset", "architecture", "penalty", "strength", "metrics", "shipped"],
        [
            [
                row["model_id"],
                m.card.dataset,
                row["architecture"],
                row["penalty"],
                f"{row['strength']:g}",
                " ".join(
                    f"{c.removeprefix('metric: ')}={row[c]:.3g}"
                    for c in metrics
                    if pd.notna(row[c])
                ),
                "yes" if row["shipped"] else "",
            ]
            for m, row in zip(models, table.to_dict("records"), strict=True)
        ],
    )
    return 0


def add_commands(sub) -> None:
    """Register ``train`` and ``models`` on the ``sub`` subparsers."""
    p = sub.add_parser("train", help="train one model and store it with its card")
    p.add_argument("--dataset", required=True)
    p.add_argument(
        "--model",
        required=True,
        help="linear, mlp, cnn6, cnn_digits, cnn9 or airbench (CIFAR-10 on 2 cores)",
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

    p = sub.add_parser("models", help="list stored models (yours and the shipped ones)")
    p.add_argument("--dataset", help="only models trained on this dataset")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_models)
