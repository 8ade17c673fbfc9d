"""The typed objects every dataset loader returns."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Task = Literal["binary", "multiclass"]
Modality = Literal["tabular", "text", "image"]


@dataclass(frozen=True)
class Preprocessing:
    """An affine per-feature scaling ``X = (X_raw - center) / scale``.

    Parameters
    ----------
    method : str
        ``"zscore"`` (mean / standard deviation), ``"robust"`` (median /
        inter-quartile range), ``"minmax"`` (pixels divided by 255) or
        ``"identity"``.
    center, scale : array of shape (n_features,)
        Fitted on the training split only.
    description : str
        What else was done (imputation, one-hot encoding, feature selection).
    """

    method: str
    center: np.ndarray
    scale: np.ndarray
    description: str = ""

    def transform(self, X_raw: np.ndarray) -> np.ndarray:
        """Original units → model inputs."""
        return (
            (np.asarray(X_raw, dtype=np.float64) - self.center) / self.scale
        ).astype(np.float32)

    def inverse_transform(self, X: np.ndarray) -> np.ndarray:
        """Model inputs → original units (e.g. mg/dL), for display.

        Model inputs are float32 (relative precision 6e-8), so each value is
        rounded to six significant digits of the magnitudes it came from: a
        recorded 0 or 1 shows as 0 or 1, not as 2.4e-07 or 0.99999997.
        """
        raw = np.asarray(X, dtype=np.float64) * self.scale + self.center
        magnitude = np.abs(raw) + np.abs(self.center) + self.scale
        step = 10.0 ** np.floor(np.log10(magnitude * 1e-6))
        return np.round(raw / step) * step + 0.0  # + 0.0 turns -0.0 into 0.0

    def gradient_to_original(self, grad: np.ndarray) -> np.ndarray:
        """Convert d f / d x (standardised) into d f / d x_raw (per original unit)."""
        return np.asarray(grad, dtype=np.float64) / self.scale


@dataclass(frozen=True)
class Split:
    """One split of a dataset.

    Parameters
    ----------
    y : array of shape (n_samples,), int64
        Class indices into :attr:`Dataset.class_names`.
    ids : array of shape (n_samples,)
        Stable example identifiers (patient or record IDs where they exist);
        an ID never appears in two splits.
    X : array of shape (n_samples, n_features), float32, or None
        Preprocessed features; None for text sets whose features come from an
        encoder.
    texts : tuple of str, or None
        Raw text, for text datasets.
    images : array of shape (n_samples, H, W) or (n_samples, H, W, 3), uint8, or None
    imputed : array of shape (n_samples, n_features), bool, or None
        True where a missing value was imputed (statistics and plots of
        original values leave those out); None when nothing was imputed.
    meta : mapping of str to array of shape (n_samples,)
        Per-example side information (synthetic region, sepsis flag, ...).
    """

    y: np.ndarray
    ids: np.ndarray
    X: np.ndarray | None = None
    texts: tuple[str, ...] | None = None
    images: np.ndarray | None = None
    imputed: np.ndarray | None = None
    meta: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.y.shape[0])


@dataclass(frozen=True)
class Dataset:
    """A named dataset with fixed-seed train / validation / test splits.

    Attributes
    ----------
    feature_groups : mapping of str to tuple of int
        A partition of the feature columns: the one-hot columns of each
        categorical variable form one group, the summaries of one ICU variable
        form one group, every other feature is a group of its own.
    units, normal_ranges : mapping keyed by feature name
        Units and clinical normal ranges ``(low, high)`` in original units,
        where they exist.
    info : mapping
        Loader-specific facts (e.g. the synthetic set's relevant features per
        region, the PhysioNet missingness record), JSON-serialisable.
    """

    name: str
    task: Task
    modality: Modality
    class_names: tuple[str, ...]
    train: Split
    val: Split
    test: Split
    feature_names: tuple[str, ...] = ()
    feature_groups: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)
    normal_ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    preprocessing: Preprocessing | None = None
    description: str = ""
    source: str = ""
    info: Mapping[str, object] = field(default_factory=dict)

    @property
    def splits(self) -> dict[str, Split]:
        return {"train": self.train, "val": self.val, "test": self.test}

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def content_digest(self) -> str:
        """The first 16 hex digits of a SHA-256 of what a model learns from:
        each split's labels, feature matrix, images and texts, with their
        dtypes and shapes. Sweeps that resume compare it, so a result computed
        on other data under the same name is not reused."""
        h = hashlib.sha256()
        for name, split in self.splits.items():
            for what, arr in (("y", split.y), ("X", split.X), ("images", split.images)):
                if arr is None:
                    continue
                a = np.ascontiguousarray(arr)
                h.update(f"{name}.{what}:{a.dtype}{a.shape}".encode())
                h.update(memoryview(a).cast("B"))
            for text in split.texts or ():
                h.update(text.encode("utf-8", "surrogatepass"))
                h.update(b"\0")
        return h.hexdigest()[:16]
