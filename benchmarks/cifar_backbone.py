"""Seconds per epoch of a CIFAR-10 backbone on this machine, projected to the
full training set from a subset.

    OMP_NUM_THREADS=2 .venv/bin/python -m benchmarks.cifar_backbone \\
        [--model airbench] [--subset 5000] [--threads 2]

Trains two epochs of the architecture's recipe (``core.training.train.RECIPES``)
on ``--subset`` random training images (a tiny validation split), takes the
second epoch (the first pays one-off start-up costs), then times the two
validation passes that every epoch of a real run makes over all 5,000
validation images. A full epoch is projected as
``45,000 / subset × train seconds + validation seconds``, and the run as that
times the recipe's epochs.

Both wall-clock and CPU seconds are printed: on a machine shared with other
work the wall clock overstates an idle run, and CPU seconds / threads is what
the same work takes on idle cores (exact when the threads never wait).
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
import torch

from core.data import load_dataset
from core.data.types import Split
from core.training.metrics import auc_and_accuracy, predict_proba
from core.training.train import (
    TrainConfig,
    default_epochs,
    model_inputs,
    train,
    validation_objective,
)


def _subset(split: Split, n: int) -> Split:
    """``n`` random rows (the splits are ordered by class)."""
    rows = np.sort(np.random.default_rng(0).permutation(len(split))[:n])
    return dataclasses.replace(
        split, y=split.y[rows], ids=split.ids[rows], images=split.images[rows]
    )


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="airbench")
    parser.add_argument("--subset", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ds = load_dataset("cifar10")
    small = dataclasses.replace(
        ds,
        train=_subset(ds.train, args.subset),
        val=_subset(ds.val, 256),
        test=_subset(ds.test, 256),
    )
    clocks = [_clock()]
    cfg = TrainConfig(epochs=2, patience=None)
    result = train(
        small, args.model, [], cfg, progress=lambda *_: clocks.append(_clock())
    )
    train_wall, train_cpu = np.subtract(clocks[2], clocks[1])
    X_val = model_inputs(ds.val)
    start = _clock()
    _, val_accuracy = auc_and_accuracy(predict_proba(result.model, X_val), ds.val.y)
    validation_objective(result.model, X_val, ds.val.y, [])
    val_wall, val_cpu = np.subtract(_clock(), start)
    epochs = default_epochs("cifar10", args.model)
    scale = len(ds.train) / args.subset
    for what, tr, va in (
        ("wall clock", train_wall, val_wall),
        ("CPU / threads", train_cpu / args.threads, val_cpu / args.threads),
    ):
        epoch = scale * tr + va
        print(
            f"{args.model}, {args.threads} threads, {what}: {tr:.1f} s per epoch of "
            f"{args.subset} images + {va:.1f} s of validation passes; projected "
            f"{epoch / 60:.2f} min per epoch of {len(ds.train)} images, "
            f"{epochs * epoch / 60:.0f} min for the recipe's {epochs} epochs"
        )
    # Only a sign that it learns: two epochs on the subset, not the recipe.
    print(f"validation accuracy after the 2 subset epochs: {val_accuracy:.3f}")


if __name__ == "__main__":
    main()
