"""Image feature views from the command line: ``feature-views`` writes, for each
feature of a sparse layer (or of a stored model's module), one PNG of its top
images, their LIME superpixels and its visualisation, and a JSON index."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from tqdm.auto import tqdm


def cmd_feature_views(args: argparse.Namespace) -> int:
    """``feature-views``: compute (or read from the cache) and write the views."""
    from core.figures.feature_views import feature_view_image, png_bytes
    from core.sparse_layers.feature_views.source import layer_source, model_source
    from core.sparse_layers.feature_views.superpixels import SuperpixelSettings
    from core.sparse_layers.feature_views.views import feature_views, ship_view
    from core.sparse_layers.feature_views.visualisation import VisualisationSettings
    from core.sparse_layers.sparse_layer import load_layer

    if args.layer and args.module:
        raise ValueError(
            "--module names a module of --model; a --layer's features are its "
            "model's penultimate units."
        )
    if args.layer:
        source = layer_source(load_layer(args.layer), args.split)
    else:
        source = model_source(args.model, args.module, args.split)
    indices = args.features if args.features is not None else list(source.selected)
    units = source.units_of(indices)
    lime = SuperpixelSettings(n_samples=args.lime_samples, seed=args.seed)
    vis = VisualisationSettings(steps=args.steps, seed=args.seed)
    bar = tqdm(total=len(units) + 1, desc="feature views", unit="step", leave=False)

    def update(done: int, total: int) -> None:
        bar.n = done
        bar.refresh()

    with bar:
        views = feature_views(
            source.features,
            source.images,
            units,
            k=args.k,
            lime=lime,
            vis=vis,
            progress=update,
            cache=not args.no_cache,
        )
    if args.ship:
        for view in views:
            ship_view(
                view, source.features, source.images, k=args.k, lime=lime, vis=vis
            )
        print(f"shipped {len(views)} views in assets/feature_views/")
    args.out.mkdir(parents=True, exist_ok=True)
    entries = []
    for index, view in zip(indices, views, strict=True):
        name = source.names[index]
        png = args.out / f"feature-{index:04d}-{name}.png"
        title = f"{source.origin}: feature {index} ({name}), {source.split} split"
        png.write_bytes(png_bytes(feature_view_image(view, title)))
        entries.append(
            {
                "feature": int(index),
                "name": name,
                "unit": view.unit,
                "png": png.name,
                "top_rows": view.indices.tolist(),
                "top_activations": [float(a) for a in view.activations],
                "visualisation_activation": view.vis_activation,
                "start_activation": view.start_activation,
            }
        )
    index_file = args.out / "index.json"
    index_file.write_text(
        json.dumps(
            {
                "source": source.origin,
                "dataset": source.dataset,
                "split": source.split,
                "k": args.k,
                "lime": asdict(lime),
                "visualisation": asdict(vis),
                "features": entries,
            },
            indent=1,
        )
    )
    print(f"wrote {len(entries)} feature views and {index_file}")
    return 0


def add_commands(sub) -> None:
    """Register ``feature-views`` on the ``sub`` subparsers."""
    p = sub.add_parser(
        "feature-views",
        help="top images, LIME superpixels and visualisations of image features",
        description=(
            "For each feature: the split's top-k activating images, their LIME "
            "superpixels explaining the feature's activation, and a feature "
            "visualisation, as a PNG each, with index.json. Views are cached."
        ),
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--layer", help="a sparse layer on penultimate features of an image model"
    )
    which.add_argument("--model", help="a stored image model (all units of --module)")
    p.add_argument(
        "--module",
        help="with --model: a module name from the model (default: penultimate)",
    )
    p.add_argument(
        "--features",
        type=int,
        nargs="+",
        help="feature indices (default: the layer's selected features, or all units)",
    )
    p.add_argument("--k", type=int, default=8, help="top images per feature")
    p.add_argument("--split", choices=["train", "val", "test"], default="test")
    p.add_argument("--steps", type=int, default=256, help="visualisation steps")
    p.add_argument("--lime-samples", type=int, default=1000, help="LIME samples")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-cache", action="store_true", help="neither read nor write")
    p.add_argument(
        "--ship",
        action="store_true",
        help="also write the views into assets/feature_views/ (for shipped layers)",
    )
    p.add_argument("--out", type=Path, required=True, help="folder for PNGs + JSON")
    p.set_defaults(func=cmd_feature_views)
