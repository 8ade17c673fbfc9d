"""Named datasets with fixed-seed splits, units, normal ranges and preprocessing.

>>> from core.data import load_dataset
>>> ds = load_dataset("adult")
>>> ds.train.X.shape, ds.feature_names[:3]
"""

from core.data.registry import (
    Availability,
    DatasetSpec,
    availability,
    dataset_names,
    get_spec,
    load_dataset,
)
from core.data.types import Dataset, Preprocessing, Split

# Importing a loader module registers its datasets, in this order.
from core.data.builtin import synthetic, icu, physionet  # noqa: E402,F401  isort: skip
from core.data.builtin import tabular, text, images  # noqa: E402,F401  isort: skip

# Then the user's registered datasets, served by a registry provider.
from core.data import user  # noqa: E402,F401  isort: skip

__all__ = [
    "Availability",
    "Dataset",
    "DatasetSpec",
    "Preprocessing",
    "Split",
    "availability",
    "dataset_names",
    "get_spec",
    "load_dataset",
]
