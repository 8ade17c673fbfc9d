"""The Neural LASSO sparse synthetic dataset (Ross et al. 2017, §4).

49 dimensions drawn from N(0, 1). Each example belongs to one of 6 regions;
that region's indicator dimension is offset by +10, and its label is the sign
of the product of two features chosen by the region. Regions have equal counts.

The features are used as drawn, not z-scored: the paper standardises Adult and
the ICU data only. Z-scoring would shrink an indicator's +10 offset to about
2.2 of its standard deviations (sd ≈ 3.9 over all regions) and so multiply
its input gradient by 3.9 against the label features', which D_eff counts.
"""

from __future__ import annotations

import numpy as np

from core.data.featurize import fit_scaler, make_splits
from core.data.registry import DatasetSpec, register
from core.data.splits import split_indices
from core.data.types import Dataset

N_FEATURES = 49
N_REGIONS = 6
OFFSET = 10.0


def make_synthetic(n_per_region: int = 5000, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Draw the raw synthetic set.

    Returns
    -------
    X : array of shape (6 * n_per_region, 49)
    y : array of shape (6 * n_per_region,), 1 where the region's product is positive
    region : array of shape (6 * n_per_region,)
    pairs : array of shape (6, 2)
        The two features whose product decides the label in each region.
    """
    if n_per_region < 10:
        raise ValueError(f"n_per_region must be at least 10, got {n_per_region}")
    rng = np.random.default_rng(seed)
    # Dimensions 0..5 indicate the region; the label pairs are distinct features
    # drawn from the remaining 43, so every region depends on its own two.
    others = rng.permutation(np.arange(N_REGIONS, N_FEATURES))
    pairs = others[: 2 * N_REGIONS].reshape(N_REGIONS, 2)
    region = np.repeat(np.arange(N_REGIONS), n_per_region)
    X = rng.standard_normal((region.size, N_FEATURES))
    X[np.arange(region.size), region] += OFFSET
    product = (
        X[np.arange(region.size), pairs[region, 0]]
        * X[np.arange(region.size), pairs[region, 1]]
    )
    y = (product > 0).astype(np.int64)
    return X, y, region, pairs


def _build(files: dict, *, n_per_region: int, seed: int) -> Dataset:
    X, y, region, pairs = make_synthetic(n_per_region, seed)
    tr, va, te = split_indices(region * 2 + y, val=0.15, test=0.25, seed=seed)
    prep = fit_scaler(X[tr], "identity", "drawn in standard units; used as drawn")
    Xs = prep.transform(X)
    names = tuple(
        f"region_{i}" if i < N_REGIONS else f"x{i}" for i in range(N_FEATURES)
    )

    splits = make_splits(
        (tr, va, te),
        y=y,
        ids=np.arange(len(y), dtype=np.int64),
        X=Xs,
        meta={"region": region},
    )

    relevant = {
        str(r): {"indicator": int(r), "label_features": [int(f) for f in pairs[r]]}
        for r in range(N_REGIONS)
    }
    return Dataset(
        name="synthetic",
        task="binary",
        modality="tabular",
        class_names=("negative product", "positive product"),
        feature_names=names,
        feature_groups={n: (i,) for i, n in enumerate(names)},
        preprocessing=prep,
        description=(
            "Neural LASSO sparse synthetic set: 49 N(0,1) dimensions, 6 regions "
            "(indicator dimension offset by +10), label = sign of the product of "
            "two region-specific features."
        ),
        source="Generated (Ross, Lage & Doshi-Velez 2017, sparse synthetic)",
        info={
            "relevant_features": relevant,
            "n_per_region": n_per_region,
            "seed": seed,
        },
        **splits,
    )


register(
    DatasetSpec(
        name="synthetic",
        task="binary",
        modality="tabular",
        summary="Neural LASSO sparse synthetic set (49-d, 6 regions)",
        source="generated",
        build=_build,
        options={"n_per_region": 5000, "seed": 0},
    )
)
