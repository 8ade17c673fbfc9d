"""The Neural LASSO from the command line: the paper's ``table1``, the choice
of its strengths on validation (``table1-select``), the ``smoothness`` of
stored models' input-gradient fields and the ``report`` of the Input
gradients, PCA maps and Weights pages."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from tqdm.auto import tqdm

from core.cli.executors import add_executor_options, executor_for
from core.cli.output import print_table


def _results_dir(out: Path) -> Path:
    # Each finished model is written here, so that a rerun trains only the rest.
    return out.with_name(f"{out.stem}.models")


@contextlib.contextmanager
def _model_bars(title: str, executor) -> Iterator[Callable[[str, int, int], None]]:
    """``progress(phase, done, total)`` drawing one bar of finished models per
    phase (a new phase closes the last bar); every bar is closed on exit."""
    bars: dict[str, tqdm] = {}

    def progress(phase: str, done: int, total: int) -> None:
        if phase not in bars:
            for bar in bars.values():
                bar.close()
            bars[phase] = tqdm(
                desc=f"{title}{': ' + phase if phase else ''} ({executor.name}, "
                f"workers: {executor.workers})",
                unit="model",
            )
        bars[phase].total = total
        bars[phase].n = done
        bars[phase].refresh()

    try:
        yield progress
    finally:
        for bar in bars.values():
            bar.close()


def cmd_table1(args: argparse.Namespace) -> int:
    """``table1``: train the paper's Table 1 rows over seeds (and a strength
    grid), one task per model, and write them."""
    from core.data import load_dataset
    from core.neural_lasso import table1

    ds = load_dataset(args.dataset, args.data_dir)
    out = Path(args.out)
    results_dir = _results_dir(out)
    with (
        executor_for(args) as executor,
        _model_bars(f"table1 {ds.name}", executor) as progress,
    ):
        table = table1.table1(
            ds,
            args.seeds,
            epochs=args.epochs,
            strengths=args.strengths,
            factors=args.factors,
            executor=executor,
            results_dir=results_dir,
            resume=args.resume,
            progress=lambda done, total: progress("", done, total),
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
    with (
        executor_for(args) as executor,
        _model_bars(f"table1-select {ds.name}", executor) as progress,
    ):
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


#: The most models a report compares, as the pages do (side-by-side panels).
MAX_REPORT_MODELS = 3


def cmd_report(args: argparse.Namespace) -> int:
    """``report``: the Input gradients, PCA maps or Weights page's view of
    stored models as one HTML file, built with the pages' own functions."""
    from core.data import load_dataset
    from core.figures.report import Report, render_html
    from core.training.store import find_model, load_model
    from core.views import neural_lasso as views

    if len(args.models) > MAX_REPORT_MODELS:
        raise ValueError(
            f"--models takes at most {MAX_REPORT_MODELS} model IDs (the pages "
            f"compare up to three side by side); got {len(args.models)}"
        )
    ds = load_dataset(args.dataset, args.data_dir)
    if ds.train.X is None or not ds.n_features:
        raise ValueError(
            f"{ds.name} has no feature matrix, so there are no input features to "
            f"report on; choose a dataset with features"
        )
    stored = {i: find_model(i) for i in args.models}
    models = {}
    for i, m in stored.items():
        model, card = load_model(m.path)
        n = card.arch_kwargs.get("n_features")
        if n is not None and n != ds.n_features:
            raise ValueError(
                f"model {i} ({m.path}) takes {n} inputs but {ds.name} has "
                f"{ds.n_features} features"
            )
        models[i] = model
    report = Report(f"{views.REPORT_PAGES[args.page]} · {ds.name}")
    build = {
        "gradients": _gradients_report,
        "pca": _pca_report,
        "weights": _weights_report,
    }[args.page]
    options = build(report, ds, models, args)
    for i, m in stored.items():
        report.cards[f"Model {i}"] = views.model_card(m)
    out = Path(args.out)
    report.commands.append(
        (
            views.report_command(
                args.page, ds.name, list(models), *options, out=str(out)
            ),
            "Writes this report again.",
        )
    )
    out.write_text(render_html(report), encoding="utf-8")
    print(f"wrote {out}")
    return 0


def _gradients_report(report, ds, models: dict, args: argparse.Namespace) -> list:
    """The Input gradients page: smoothness table and gradient panels."""
    from core.figures.neural_lasso import gradient_panels_figure
    from core.neural_lasso import gradients as nl_gradients
    from core.neural_lasso.smoothness import N_NEIGHBOURS, neighbours
    from core.views import neural_lasso as views

    target = views.target_of(ds, args.class_name)
    grads = {
        i: nl_gradients.standardised_gradients(m, ds, args.split, target)
        for i, m in models.items()
    }
    features = args.features or nl_gradients.default_features(
        ds, args.split, list(grads.values())
    )
    unknown = [f for f in features if f not in ds.feature_names]
    if unknown:
        raise ValueError(
            f"{ds.name} has no feature {', '.join(map(repr, unknown))}; its "
            f"features: {', '.join(ds.feature_names[:10])}"
            + (" …" if ds.n_features > 10 else "")
        )
    # The panels check --trend, so they come before its label is looked up.
    panels = views.gradient_panels_in_units(
        ds, args.split, grads, features, target, args.trend
    )
    report.settings.update(
        {
            "dataset": ds.name,
            "models": list(models),
            "split": args.split,
            "explain": nl_gradients.target_label(ds, target),
            "trend": views.TRENDS[args.trend],
            "features": features,
            "same gradient axis": not args.separate_y,
        }
    )
    nbrs = neighbours(nl_gradients.split_inputs(ds, args.split), N_NEIGHBOURS)
    report.table(views.smoothness_table(grads, nbrs), views.SMOOTHNESS_CAPTION)
    fig = gradient_panels_figure(panels, share_y=not args.separate_y)
    report.figure(fig, views.GRADIENTS_CAPTION)
    return [
        "--split",
        args.split,
        "--class",
        views.class_option(ds, target),
        "--trend",
        args.trend,
        "--features",
        *features,
        *(["--separate-y"] if args.separate_y else []),
    ]


def _pca_report(report, ds, models: dict, args: argparse.Namespace) -> list:
    """The PCA maps page: one model's gradient map, every model's probabilities."""
    from core.figures import neural_lasso_maps as nl_maps
    from core.neural_lasso import gradients as nl_gradients
    from core.neural_lasso import pca as nl_pca
    from core.training.metrics import predict_proba
    from core.views import neural_lasso as views

    target = views.target_of(ds, args.class_name)
    shown = args.gradients_of or next(iter(models))
    if shown not in models:
        raise ValueError(
            f"--gradients-of must be one of the --models "
            f"({', '.join(models)}); got {shown!r}"
        )
    projection = args.projection or nl_pca.default_projection(ds)
    basis = nl_pca.pca_basis(ds, projection)
    coords = nl_pca.pca_coordinates(basis, ds, nl_maps.PCA_SPLIT)
    report.settings.update(
        {
            "dataset": ds.name,
            "models": list(models),
            "split": nl_maps.PCA_SPLIT,
            "explain": nl_gradients.target_label(ds, target),
            "gradients of": shown,
            "projection": nl_pca.projection_note(basis, ds.feature_names),
            "largest loadings": nl_pca.pca_loadings(basis, ds.feature_names),
        }
    )
    grads = nl_gradients.standardised_gradients(
        models[shown], ds, nl_maps.PCA_SPLIT, target
    )
    gradient_map = nl_maps.pca_gradient_map(ds, coords, grads, target, shown)
    report.figure(gradient_map.figure, gradient_map.caption)
    X = nl_gradients.split_inputs(ds, nl_maps.PCA_SPLIT)
    probabilities = {i: predict_proba(m, X) for i, m in models.items()}
    probability_map = nl_maps.pca_probability_map(ds, coords, probabilities, target)
    report.figure(probability_map.figure, probability_map.caption)
    return [
        "--class",
        views.class_option(ds, target),
        "--gradients-of",
        shown,
        "--projection",
        projection,
    ]


def _weights_report(report, ds, models: dict, args: argparse.Namespace) -> list:
    """The Weights page: zero rows and columns of W₁ and its heatmaps."""
    from core.figures import neural_lasso_maps as nl_maps
    from core.neural_lasso.weights import ZERO_TOL, first_layer_weights

    tolerance = ZERO_TOL if args.tolerance is None else args.tolerance
    weights = {}
    for i, model in models.items():
        try:
            weights[i] = first_layer_weights(model)
        except ValueError as exc:
            print(f"skipped {i}: {exc}", file=sys.stderr)
            report.text(f"{i}: {exc}")
    if not weights:
        raise ValueError(
            "None of the models given to --models starts with a fully connected layer"
        )
    view = nl_maps.weights_view(ds, weights, tolerance)
    report.settings.update(
        {"dataset": ds.name, "models": list(models), "zero tolerance": tolerance}
    )
    report.table(view.zero_table, view.zero_caption)
    report.figure(view.figure, view.caption)
    return ["--tolerance", f"{tolerance:g}"]


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
    """Register ``table1``, ``table1-select``, ``smoothness`` and ``report`` on
    ``sub``."""
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

    p = sub.add_parser(
        "report",
        help="the Input gradients, PCA maps or Weights page's view as an HTML report",
        description="Draws the figures and tables of one Neural LASSO page for "
        "stored models, with the page's own functions, and writes them with the "
        "settings, the model cards and this command to one HTML file that opens "
        "offline. Options a page does not have are ignored.",
    )
    p.add_argument("--page", required=True, choices=["gradients", "pca", "weights"])
    p.add_argument("--dataset", required=True)
    p.add_argument(
        "--models",
        nargs="+",
        required=True,
        metavar="ID",
        help=f"stored model IDs, at most {MAX_REPORT_MODELS} (`python -m core "
        "models` lists them)",
    )
    p.add_argument(
        "--split", default="test", help="gradients: the split (default: test)"
    )
    p.add_argument(
        "--class",
        dest="class_name",
        metavar="C",
        help="gradients, pca: the class whose log-probability is explained, or "
        "'all' for Σₖ log pₖ (default: the positive class of a binary task, else all)",
    )
    p.add_argument(
        "--features",
        nargs="+",
        metavar="F",
        help="gradients: the features to plot (default: the page's, the most "
        "influential)",
    )
    p.add_argument(
        "--trend",
        default="binned",
        help="gradients: the trend drawn over the points: binned, lowess or none "
        "(default: binned)",
    )
    p.add_argument(
        "--separate-y",
        action="store_true",
        help="gradients: each panel its own gradient axis (default: one for all)",
    )
    p.add_argument(
        "--projection",
        help="pca: the projection, standardised or signed_log (default: the "
        "dataset's suggested one)",
    )
    p.add_argument(
        "--gradients-of",
        metavar="ID",
        help="pca: the model whose gradients are mapped (default: the first)",
    )
    p.add_argument(
        "--tolerance",
        type=float,
        help="weights: zero when |w| <= this share of the largest |w| (default: "
        "the page's, 1e-6)",
    )
    p.add_argument("--out", required=True, help="the HTML file to write")
    p.set_defaults(func=cmd_report)
