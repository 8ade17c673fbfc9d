"""A small robust-scaled dataset, models and gradient panels for the Neural LASSO tests."""

from __future__ import annotations

import numpy as np
import torch

from core.data import Dataset, Preprocessing, Split
from core.neural_lasso import gradients as nl_gradients
from core.neural_lasso import panels as nl_panels
from core.training.models import build_model

D = 4
NAMES = ("creatinine", "age", "flag", "<b>odd</b>")
SCALE = np.array([0.05, 12.0, 0.5, 300.0])
CENTER = np.array([1.1, 60.0, 0.4, 2000.0])


def toy_dataset(n: int = 90, seed: int = 0, imputed: bool = True) -> Dataset:
    """A small robust-scaled set with units, one normal range and imputed values."""
    rng = np.random.default_rng(seed)
    raw = CENTER + SCALE * rng.standard_normal((n, D))
    raw[:, 2] = rng.integers(0, 2, n)  # a binary flag
    prep = Preprocessing("robust", CENTER, SCALE)
    X = prep.transform(raw)
    mask = np.zeros((n, D), dtype=bool)
    if imputed:
        mask[::5, 0] = True  # every fifth creatinine was imputed
        X[mask] = 0.0
    y = (raw[:, 0] > CENTER[0]).astype(np.int64)

    def split(idx):
        return Split(
            y=y[idx], ids=idx + 1000, X=X[idx], imputed=mask[idx] if imputed else None
        )

    third = n // 3
    return Dataset(
        name="toy",
        task="binary",
        modality="tabular",
        class_names=("survived", "died"),
        train=split(np.arange(third)),
        val=split(np.arange(third, 2 * third)),
        test=split(np.arange(2 * third, n)),
        feature_names=NAMES,
        feature_groups={f: (i,) for i, f in enumerate(NAMES)},
        units={"creatinine": "mg/dL", "age": "years"},
        normal_ranges={"creatinine": (0.6, 1.2)},
        preprocessing=prep,
    )


def toy_model(seed: int = 0, n_features: int = D) -> torch.nn.Module:
    """A seeded, untrained two-class MLP in eval mode."""
    torch.manual_seed(seed)
    return build_model("mlp", n_features=n_features, n_classes=2).eval()


def toy_panels(trend="binned", max_points=nl_gradients.MAX_POINTS):
    """Gradient panels of two toy models (one with a name holding HTML)."""
    ds = toy_dataset()
    grads = {
        name: nl_gradients.to_original_units(
            ds, nl_gradients.standardised_gradients(toy_model(seed), ds, "test", 1)
        )
        for seed, name in enumerate(["plain", "<i>sparse</i>"])
    }
    return ds, nl_panels.gradient_panels(
        ds, "test", grads, ["creatinine", "age"], 1, trend=trend, max_points=max_points
    )
