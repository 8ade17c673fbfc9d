"""Epoch time of gradient-L1 (double backpropagation) training against plain training.

    .venv/bin/python -m benchmarks.grad_penalty_overhead [--epochs 3] [dataset ...]

Both runs train the Neural LASSO MLP in the same process, interleaved
(plain, gradient-L1, plain, gradient-L1, ...) so that machine noise hits both;
the ratio of median epoch times is reported per tabular dataset. Goal: ≤ 3×.
"""

from __future__ import annotations

import argparse
import statistics

from core.data import load_dataset
from core.training.penalties import make_penalty
from core.training.train import TrainConfig, train

TABULAR = (
    "synthetic",
    "icu_rhc",
    "icu_physionet2012",
    "adult",
    "breast_cancer",
    "newsgroups",
)


def epoch_seconds(
    ds, penalty: str, strength: float, epochs: int, seed: int
) -> list[float]:
    cfg = TrainConfig(epochs=epochs, patience=None, seed=seed)
    result = train(ds, "mlp", [make_penalty(penalty, strength)], cfg)
    return [h["seconds"] for h in result.history]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="*", default=list(TABULAR))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    print(f"{'dataset':<20}{'plain s/epoch':>15}{'grad-L1 s/epoch':>17}{'ratio':>8}")
    for name in args.datasets:
        ds = load_dataset(name)
        plain, grad = [], []
        for seed in range(args.repeats):
            plain += epoch_seconds(ds, "none", 0.0, args.epochs, seed)
            grad += epoch_seconds(ds, "grad_l1", 0.1, args.epochs, seed)
        p, g = statistics.median(plain), statistics.median(grad)
        print(f"{name:<20}{p:>15.3f}{g:>17.3f}{g / p:>7.2f}x")


if __name__ == "__main__":
    main()
