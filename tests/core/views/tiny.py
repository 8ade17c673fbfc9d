"""A small tabular + text + image dataset and model cards for the view and figure tests."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from core.data import Dataset, Split
from core.data.featurize import fit_scaler
from core.training.store import ModelCard, StoredModel

SCRIPT = "<script>alert(1)</script>"
LOW, HIGH = 70.0, 100.0


def tiny_dataset(
    n: int = 60, seed: int = 0, images_rgb: bool = False, class_names=None
) -> Dataset:
    """A small tabular + text + image dataset with a unit, a normal range and
    a one-hot group; split sizes 30 / 12 / 18."""
    rng = np.random.default_rng(seed)
    glucose = rng.normal(90.0, 20.0, n)
    female = (rng.random(n) < 0.4).astype(float)
    raw = np.column_stack([glucose, female, 1.0 - female])
    y = (glucose > 95).astype(np.int64)
    tr, va, te = np.arange(30), np.arange(30, 42), np.arange(42, n)
    prep = fit_scaler(raw[tr], "zscore", "z-scored on train")
    X = prep.transform(raw)
    texts = tuple(SCRIPT if i == 0 else f"note {i} *not markdown*" for i in range(n))
    shape = (n, 4, 5, 3) if images_rgb else (n, 4, 5)
    images = rng.integers(0, 256, shape, dtype=np.uint8)

    def split(idx):
        return Split(
            y=y[idx],
            ids=idx.astype(np.int64),
            X=X[idx],
            texts=tuple(texts[i] for i in idx),
            images=images[idx],
        )

    return Dataset(
        name="tiny",
        task="binary",
        modality="tabular",
        class_names=class_names or ("normal", "high"),
        train=split(tr),
        val=split(va),
        test=split(te),
        feature_names=("glucose", "sex=F", "sex=M"),
        feature_groups={"glucose": (0,), "sex": (1, 2)},
        units={"glucose": "mg/dL"},
        normal_ranges={"glucose": (LOW, HIGH)},
        preprocessing=prep,
        info={"raw": raw, "tr": tr},  # for the tests, not JSON
    )


def text_only(ds: Dataset) -> Dataset:
    def strip(s: Split) -> Split:
        return replace(s, X=None, images=None)

    return replace(
        ds,
        modality="text",
        train=strip(ds.train),
        val=strip(ds.val),
        test=strip(ds.test),
        feature_names=(),
        feature_groups={},
        preprocessing=None,
    )


def model_card(model_id: str, **fields):
    return ModelCard(
        model_id=model_id,
        dataset="tiny",
        architecture=fields.pop("architecture", "mlp"),
        arch_kwargs={"n_features": 3, "n_classes": 2},
        **fields,
    )


def stored_models(*cards):
    return [StoredModel(c, Path(c.model_id), shipped=False) for c in cards]
