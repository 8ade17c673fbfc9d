"""What an image feature responds to: its top images, their LIME superpixels,
and its visualisation (Wong et al. 2021, Fig. 2b and Appendix B), cached.

A split's activations are computed once in batches and cached by the model's
weights, the module and the images' content; each feature's view is cached by
the same and by the feature, ``k`` and every setting, so a second call (or
another layer on the same model) reads them from disk. A cache file that
cannot be read is replaced by a computed one, with a warning naming it.

Views of the shipped layers' features ship in ``assets/feature_views/`` under
the names the cache gives them (``feature-views --ship``), so the pages open
ready; the user's cache is read first.

References
----------
Wong, Santurkar & Mądry (2021), "Leveraging Sparse Linear Layers for
Debuggable Deep Networks", ICML.
"""

from __future__ import annotations

import hashlib
import json
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from core.atomic import atomic_path
from core.paths import ASSETS_DIR, cache_dir
from core.sparse_layers.feature_views.source import (
    ImageFeatures,
    Progress,
    images_digest,
)
from core.sparse_layers.feature_views.superpixels import (
    SuperpixelSettings,
    superpixels,
)
from core.sparse_layers.feature_views.visualisation import (
    VisualisationSettings,
    visualise,
)

#: Top images per feature unless asked otherwise.
TOP_K = 8
DEFAULT_LIME = SuperpixelSettings()
DEFAULT_VIS = VisualisationSettings()
#: Views shipped with the repository (read-only), named as in the cache.
SHIPPED_DIR = ASSETS_DIR / "feature_views"


@dataclass(frozen=True)
class TopImages:
    """The images that activate each feature most.

    Attributes
    ----------
    units : array of shape (n_features,), int
    indices : array of shape (n_features, k), int
        Row numbers in the split, highest activation first (ties: lower row).
    activations : array of shape (n_features, k), float32
    """

    units: np.ndarray
    indices: np.ndarray
    activations: np.ndarray


@dataclass(frozen=True)
class FeatureView:
    """Everything shown for one feature.

    Attributes
    ----------
    unit : int
    indices : array of shape (k,), int
        The top images' rows in the split, highest activation first.
    activations : array of shape (k,), float32
    images : array of shape (k, H, W) or (k, H, W, 3), uint8
    segments : array of shape (k, H, W), int
        Each top image's LIME superpixels.
    weights : array of shape (k, max_superpixels), float
        Each superpixel's LIME weight for the feature, NaN past an image's last.
    visualisation : array of shape (H, W, C), float32 in [0, 1]
    start_activation, vis_activation : float
        The feature's activation on the visualisation's start and result.
    """

    unit: int
    indices: np.ndarray
    activations: np.ndarray
    images: np.ndarray
    segments: np.ndarray
    weights: np.ndarray
    visualisation: np.ndarray
    start_activation: float
    vis_activation: float

    def save(self, path: Path) -> None:
        """Write the view as one compressed ``.npz`` (no pickles), atomically."""
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(
                fh, **{k: np.asarray(v) for k, v in asdict(self).items()}
            )

    @classmethod
    def load(cls, path: Path) -> FeatureView:
        """Read a view :meth:`save` wrote; ValueError when it cannot."""
        try:
            with np.load(path, allow_pickle=False) as npz:
                fields = {k: npz[k] for k in npz.files}
            view = cls(
                unit=int(fields.pop("unit")),
                start_activation=float(fields.pop("start_activation")),
                vis_activation=float(fields.pop("vis_activation")),
                **fields,
            )
        except (OSError, ValueError, EOFError, KeyError, TypeError) as exc:
            raise ValueError(f"it cannot be read ({exc}).") from exc
        except zipfile.BadZipFile as exc:
            raise ValueError(f"it is not an .npz archive ({exc}).") from exc
        k = len(view.indices)
        if view.images.shape[0] != k or view.segments.shape[0] != k:
            raise ValueError("its arrays disagree on the number of top images.")
        return view


def _folder() -> Path:
    return cache_dir() / "feature_views"


def _key(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def _warn_replaced(path: Path, exc: ValueError) -> None:
    warnings.warn(
        f"Ignoring the feature-view cache {path}: {exc} It is replaced by one "
        "computed again.",
        stacklevel=3,
    )


def _write(path: Path, write) -> None:
    try:
        write(path)
    except OSError as exc:  # a read-only cache only costs speed
        warnings.warn(
            f"The feature-view cache {path} cannot be written ({exc}); the views "
            "will be computed again next time.",
            stacklevel=3,
        )


def split_activations(
    features: ImageFeatures,
    images: np.ndarray,
    *,
    progress: Progress | None = None,
    cache: bool = True,
) -> np.ndarray:
    """Every unit's activation on every image of a split, cached by content.

    Parameters
    ----------
    features : ImageFeatures
    images : array of shape (n, H, W) or (n, H, W, C), uint8
    progress : callable, optional
        ``progress(done, n)`` over images.
    cache : bool
        Read and write the cache folder.

    Returns
    -------
    array of shape (n, n_units), float32
    """
    path = _folder() / f"acts-{_key(features.key, images_digest(images))}.npy"
    if cache and path.exists():
        try:
            acts = np.load(path, allow_pickle=False)
            if acts.shape[0] == len(images) and acts.dtype == np.float32:
                return acts
            raise ValueError(f"it holds {acts.dtype} {acts.shape}.")
        except (OSError, ValueError, EOFError) as exc:
            _warn_replaced(path, ValueError(str(exc)))
    acts = features.activations(images, progress=progress)
    if cache:

        def save(target: Path) -> None:
            with atomic_path(target) as tmp, open(tmp, "wb") as fh:
                np.save(fh, acts, allow_pickle=False)

        _write(path, save)
    return acts


def top_images(acts: np.ndarray, units: Sequence[int], k: int = TOP_K) -> TopImages:
    """The ``k`` images of highest activation of each unit (exact, not sampled).

    Parameters
    ----------
    acts : array of shape (n, n_units)
        :func:`split_activations`.
    units : sequence of int
    k : int
        At most the number of images.

    Returns
    -------
    TopImages
    """
    units = np.asarray(units, dtype=int)
    if not 1 <= k <= len(acts):
        raise ValueError(f"k must lie in 1..{len(acts)} (the split's images); got {k}")
    bad = units[(units < 0) | (units >= acts.shape[1])]
    if bad.size:
        raise ValueError(
            f"Feature {bad[0]} is out of range: there are {acts.shape[1]} features, "
            f"numbered 0 to {acts.shape[1] - 1}."
        )
    rows = np.arange(len(acts))
    # lexsort's last key is the primary one: activation descending, then row.
    indices = np.stack([np.lexsort((rows, -acts[:, u]))[:k] for u in units])
    return TopImages(
        units=units,
        indices=indices,
        activations=np.take_along_axis(acts[:, units].T, indices, axis=1),
    )


def _view_name(
    features: ImageFeatures,
    images: np.ndarray,
    unit: int,
    k: int,
    lime: SuperpixelSettings,
    vis: VisualisationSettings,
) -> str:
    """A view's file name: a content hash of everything it depends on, the same
    in the cache and in the shipped folder."""
    key = _key(
        features.key, images_digest(images), int(unit), k, asdict(lime), asdict(vis)
    )
    return f"view-{key}.npz"


def _read_view(name: str, unit: int, k: int) -> FeatureView | None:
    """The first stored copy of a view (the user's cache, then the shipped
    folder) that reads back as ``k`` top images of ``unit``; one that does not is
    skipped with a warning naming it."""
    for folder in (_folder(), SHIPPED_DIR):
        path = folder / name
        if not path.is_file():
            continue
        try:
            view = FeatureView.load(path)
            if (view.unit, len(view.indices)) != (int(unit), k):
                raise ValueError(
                    f"it holds unit {view.unit} with {len(view.indices)} images "
                    "(edited since it was written)."
                )
            return view
        except ValueError as exc:
            _warn_replaced(path, exc)
    return None


def cached_view(
    features: ImageFeatures,
    images: np.ndarray,
    unit: int,
    *,
    k: int = TOP_K,
    lime: SuperpixelSettings = DEFAULT_LIME,
    vis: VisualisationSettings = DEFAULT_VIS,
) -> FeatureView | None:
    """The view :func:`feature_view` would return, if it is stored (the user's
    cache or the shipped folder); never computes."""
    return _read_view(_view_name(features, images, unit, k, lime, vis), unit, k)


def ship_view(
    view: FeatureView,
    features: ImageFeatures,
    images: np.ndarray,
    *,
    k: int = TOP_K,
    lime: SuperpixelSettings = DEFAULT_LIME,
    vis: VisualisationSettings = DEFAULT_VIS,
) -> Path:
    """Write ``view`` into the shipped folder under the name the cache gives it."""
    SHIPPED_DIR.mkdir(parents=True, exist_ok=True)
    path = SHIPPED_DIR / _view_name(features, images, view.unit, k, lime, vis)
    view.save(path)
    return path


def feature_view(
    features: ImageFeatures,
    images: np.ndarray,
    acts: np.ndarray,
    unit: int,
    *,
    k: int = TOP_K,
    lime: SuperpixelSettings = DEFAULT_LIME,
    vis: VisualisationSettings = DEFAULT_VIS,
    cache: bool = True,
) -> FeatureView:
    """One feature's view: top images, their superpixels, its visualisation.

    Parameters
    ----------
    features : ImageFeatures
    images : array of shape (n, H, W) or (n, H, W, C), uint8
    acts : array of shape (n, n_units)
        :func:`split_activations` of ``images``.
    unit : int
    k : int
    lime : SuperpixelSettings
    vis : VisualisationSettings
    cache : bool
        Read the cache and the shipped folder, and write the cache.

    Returns
    -------
    FeatureView
    """
    top = top_images(acts, [unit], k)
    name = _view_name(features, images, unit, k, lime, vis)
    if cache and (stored := _read_view(name, unit, k)) is not None:
        return stored
    chosen = images[top.indices[0]]
    explained = [superpixels(features, image, int(unit), lime) for image in chosen]
    width = max(len(e.weights) for e in explained)
    weights = np.full((k, width), np.nan)
    for row, e in zip(weights, explained, strict=True):
        row[: len(e.weights)] = e.weights
    picture = visualise(features, int(unit), vis)
    view = FeatureView(
        unit=int(unit),
        indices=top.indices[0],
        activations=top.activations[0],
        images=chosen,
        segments=np.stack([e.segments for e in explained]),
        weights=weights,
        visualisation=picture.image,
        start_activation=picture.start_activation,
        vis_activation=picture.activation,
    )
    if cache:
        _write(_folder() / name, view.save)
    return view


def feature_views(
    features: ImageFeatures,
    images: np.ndarray,
    units: Sequence[int],
    *,
    k: int = TOP_K,
    lime: SuperpixelSettings = DEFAULT_LIME,
    vis: VisualisationSettings = DEFAULT_VIS,
    progress: Progress | None = None,
    cache: bool = True,
) -> list[FeatureView]:
    """:func:`feature_view` of several features on one split.

    ``progress(done, total)`` counts the split's activations as one step and
    each feature as one. The split's activations are computed (or read) only
    when some view is not stored.
    """
    features.check_units(units)
    total = len(units) + 1
    stored = [
        cached_view(features, images, unit, k=k, lime=lime, vis=vis) if cache else None
        for unit in units
    ]
    acts = None
    if any(view is None for view in stored):
        acts = split_activations(features, images, cache=cache)
    if progress is not None:
        progress(1, total)
    views = []
    for done, (unit, view) in enumerate(zip(units, stored, strict=True), start=2):
        views.append(
            view
            if view is not None
            else feature_view(
                features, images, acts, unit, k=k, lime=lime, vis=vis, cache=cache
            )
        )
        if progress is not None:
            progress(done, total)
    return views
