"""The Neural LASSO from the command line: the paper's ``table1``, the choice
of its strengths on validation (``table1-select``) and the ``smoothness`` of
stored models' input-gradient fields."""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm.auto import tqdm

from core.cli.executors import add_executor_options, executor_for
from core.cli.output import print_table


def _results_dir(out: Path) -> Path:
    # Each finished model is written here, so that a rerun trains only the rest.
    return out.with_name(f"{out.stem}.models")


def cmd_table1(args: argparse.Namespace) -> int:
    """``table1``: train the paper's Table 1 rows over seeds (and a strength
    grid), one task per model, and write them."""
    from core.data import load_dataset
    from core.neural_lasso import table1

    ds = load_dataset(args.dataset, args.data_dir)
    out = Path(args.out)
    results_dir = _results_dir(out)
    with executor_for(args) as executor:
        bar = tqdm(
            desc=f"table1 {ds.name} ({executor.name}, workers: {executor.workers})",
            unit="model",
        )

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        with bar:
            table = table1.table1(
                ds,
                args.seeds,
                epochs=args.epochs,
                strengths=args.strengths,
                factors=args.factors,
                executor=executor,
                results_dir=results_dir,
                resume=args.resume,
                progress=progress,
            )
    csv_path, md_path = table1.write_table(table, out)
    print(table1.to_markdown(table))
    print(f"wrote {csv_path} and {md_path} (each model's results in {results_dir})")
    return 0


def cmd_table1_select(args: argparse.Namespace) -> int:
    """``table1-select``: choose each row's strength on validation metrics,
    confirm on fresh seeds, and write both tables."""
    from core.data import load_dataset
    from core.neural_lasso import table1

    ds = load_dataset(args.dataset, args.data_dir)
    out = Path(args.out)
    results_dir = _results_dir(out)
    with executor_for(args) as executor:
        bars: dict[str, tqdm] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in bars:
                for bar in bars.values():
                    bar.close()
                bars[phase] = tqdm(
                    desc=f"table1-select {ds.name}: {phase} ({executor.name}, "
                    f"workers: {executor.workers})",
                    unit="model",
                )
            bars[phase].total = total
            bars[phase].n = done
            bars[phase].refresh()

        try:
            chosen = table1.select(
                ds,
                args.seeds,
                args.confirm_seeds,
                epochs=args.epochs,
                strengths=args.strengths,
                factors=args.factors,
                executor=executor,
                results_dir=results_dir,
                resume=args.resume,
                progress=progress,
            )
        finally:
            for bar in bars.values():
                bar.close()
    validation = out.with_name(f"{out.stem}.validation.csv")
    table1.write_table(chosen.validation, validation)
    csv_path, md_path = table1.write_table(chosen.confirmation, out)
    print(f"Rule: {table1.RULE}\n")
    print(table1.to_markdown(chosen.validation))
    print(table1.to_markdown(chosen.confirmation))
    print(
        f"wrote {validation} (what was chosen, from what) and {csv_path}, {md_path} "
        f"(the chosen rows on fresh seeds; each model's results in {results_dir})"
    )
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


def _add_sweep_options(p: argparse.ArgumentParser, *, grid_required: bool) -> None:
    """The options ``table1`` and ``table1-select`` share: the dataset, the
    strength grid, where results go, resuming and where the tasks run."""
    p.add_argument("--dataset", required=True)
    p.add_argument("--epochs", type=int, help="default: the paper's for the dataset")
    g = p.add_mutually_exclusive_group(required=grid_required)
    g.add_argument(
        "--strengths",
        type=float,
        nargs="+",
        metavar="S",
        help="train every penalised row at each of these strengths"
        + ("" if grid_required else " (default: the row's own)"),
    )
    g.add_argument(
        "--factors",
        type=float,
        nargs="+",
        metavar="F",
        help="train every penalised row at these multiples of its own strength, "
        "e.g. 0.333 1 3",
    )
    p.add_argument(
        "--out",
        required=True,
        help="CSV file; the Markdown goes beside it, each model's results in "
        "<name>.models/",
    )
    p.add_argument(
        "--resume",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep the models already in <name>.models/ (default) or train all",
    )
    add_executor_options(p)


def add_commands(sub) -> None:
    """Register ``table1``, ``table1-select`` and ``smoothness`` on ``sub``."""
    p = sub.add_parser("table1", help="train the Neural LASSO Table 1 rows over seeds")
    p.add_argument("--seeds", type=int, default=3)
    _add_sweep_options(p, grid_required=False)
    p.set_defaults(func=cmd_table1)

    p = sub.add_parser(
        "table1-select",
        help="choose Table 1 strengths on validation, confirm them on fresh seeds",
        description="Trains every penalised row over a strength grid on seeds "
        "0..N-1, chooses each row's strength on validation metrics only (the rule "
        "is printed and in docs/table1.md), then trains the chosen rows on the "
        "next, fresh seeds and reports their test metrics.",
    )
    p.add_argument(
        "--seeds", type=int, default=3, help="selection seeds 0..N-1 (default: 3)"
    )
    p.add_argument(
        "--confirm-seeds",
        type=int,
        default=3,
        metavar="M",
        help="fresh seeds N..N+M-1 the chosen rows are confirmed on (default: 3)",
    )
    _add_sweep_options(p, grid_required=True)
    p.set_defaults(func=cmd_table1_select)

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
