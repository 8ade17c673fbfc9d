"""Saliency methods from the command line: the ``hessian-study`` behind CASO's
rank-one shortcut and ``saliency-compare`` over every registered method."""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm.auto import tqdm

from core.cli.executors import add_executor_options, executor_for


def cmd_hessian_study(args: argparse.Namespace) -> int:
    """``hessian-study``: how close to rank one the input Hessian is."""
    import pandas as pd
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
    stats = pd.concat(parts, ignore_index=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stats.to_csv(out / "hessian_study.csv", index=False)
    hessian_study_figure(stats).write_html(out / "hessian_study.html")
    print(hs.binned(stats).to_string(index=False, float_format="{:.3g}".format))
    print(f"wrote {out / 'hessian_study.csv'} and {out / 'hessian_study.html'}")
    return 0


def cmd_saliency_compare(args: argparse.Namespace) -> int:
    """``saliency-compare``: deletion, insertion and rate-distortion areas, one
    task per method and shard of examples."""
    from core.data import load_dataset
    from core.saliency import lab, method_names
    from core.training.store import load_model

    model, card = load_model(args.model)
    ds = load_dataset(card.dataset, args.data_dir)
    x = lab.inputs(ds, "test", list(range(min(args.examples, len(ds.test)))))
    methods = method_names() if args.methods == ["all"] else args.methods
    rde = {"n_iter": args.rde_iterations} if args.rde_iterations else {}
    overrides = {m: rde for m in ("RC-RDE", "MR-RDE", "Ord-RDE")}
    out = Path(args.out)
    results_dir = out / f"{args.model}.tasks"
    with executor_for(args) as executor:
        bar = tqdm(
            desc=f"saliency-compare ({executor.name}, workers: {executor.workers})",
            unit="task",
        )

        def progress(done: int, total: int) -> None:
            bar.total, bar.n = total, done
            bar.refresh()

        with bar:
            table, areas, _ = lab.compare(
                model,
                x,
                methods,
                overrides=overrides,
                shard_size=lab.SHARD_SIZE
                if args.shard_size is None
                else args.shard_size,
                executor=executor,
                results_dir=results_dir,
                resume=args.resume,
                threads=args.threads,
                progress=progress,
            )
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / f"{args.model}-curves.csv", index=False)
    areas.to_csv(out / f"{args.model}-areas.csv", index=False)
    print(f"{args.model} on {len(x)} {card.dataset} test examples")
    print(areas.to_string(index=False, float_format="{:.4g}".format))
    print(
        f"wrote {out / (args.model + '-areas.csv')} and the curves beside it "
        f"(each task's result in {results_dir})"
    )
    return 0


def add_commands(sub) -> None:
    """Register ``hessian-study`` and ``saliency-compare`` on the ``sub``
    subparsers."""
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
    p.add_argument(
        "--shard-size",
        type=int,
        metavar="N",
        # The number is core.saliency.lab.SHARD_SIZE (not imported here: it
        # brings torch into every command's start).
        help="examples per task (default: 10); a method on a shard is one task",
    )
    p.add_argument("--threads", type=int, default=1, help="torch threads per task")
    p.add_argument(
        "--out",
        default="saliency-compare",
        help="folder for the CSVs; each finished task is kept in <model>.tasks/ "
        "inside it",
    )
    p.add_argument(
        "--resume",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep the tasks already in <model>.tasks/ (default) or run all",
    )
    add_executor_options(p)
    p.set_defaults(func=cmd_saliency_compare)
