"""Which deep features of which image model: a model, one of its modules, an image shape.

A feature is one unit of a module's output: a neuron of a fully connected
layer, or a channel of a convolution, whose activation is then its spatial
mean (Olah et al. 2017's "channel" objective). Without a module name the
features are the penultimate ones: the inputs of the model's last linear layer,
as :func:`core.sparse_layers.deep_features.penultimate_activations` reads them.

Models take flat pixels in [0, 1] in the datasets' feature order, (H, W) for
grey and (H, W, C) for colour images (:func:`core.data.builtin.images.pixels`).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.data.builtin.images import pixels
from core.data.registry import get_spec, load_dataset
from core.errors import DataUnavailableError, ModelStoreError, UnknownNameError
from core.training.gradients import evaluating

#: ``progress(done, total)`` over units of work.
Progress = Callable[[int, int], None]

_PENULTIMATE = "penultimate:"


@dataclass(frozen=True, eq=False)
class ImageFeatures:
    """The features of one module of an image model.

    Attributes
    ----------
    model : nn.Module
        Takes flat float32 pixels in [0, 1], shape (n, H * W * C); never
        mutated (activations are read in ``with`` blocks that restore it).
    model_digest : str
        The content hash of the model's weights (its card's SHA-256): with
        ``module`` it keys every cached view.
    module : str or None
        A name from ``model.named_modules()``; None for the penultimate layer.
    image_shape : tuple of int
        ``(H, W, C)``, C = 1 for grey images.
    """

    model: nn.Module
    model_digest: str
    module: str | None
    image_shape: tuple[int, int, int]

    def __post_init__(self) -> None:
        if len(self.image_shape) != 3 or self.image_shape[2] not in (1, 3):
            raise ValueError(
                f"image_shape must be (H, W, 1) or (H, W, 3); got {self.image_shape}"
            )
        self.target()  # a bad module name fails here, not inside a computation

    @property
    def key(self) -> str:
        """What identifies these features in a cache key."""
        return f"{self.model_digest}:{self.module or 'penultimate'}"

    def target(self) -> nn.Module:
        """The module whose output (or, for the penultimate layer, whose input)
        holds the features."""
        if self.module is None:
            modules = list(self.model.modules())
            linears = [m for m in modules if isinstance(m, nn.Linear)]
            # A convolutional body may feed its pooled features straight to
            # the head (as in airbench).
            convolutional = any(isinstance(m, nn.Conv2d) for m in modules)
            if not linears or (len(linears) < 2 and not convolutional):
                raise ValueError(
                    "Penultimate features need a model with a hidden layer before "
                    "its output layer (an MLP or a CNN, not a linear model)."
                )
            return linears[-1]
        modules = dict(self.model.named_modules())
        if self.module not in modules or self.module == "":
            names = ", ".join(n for n in modules if n)
            raise ValueError(
                f"The model has no module {self.module!r}; its modules are: {names}."
            )
        return modules[self.module]

    @contextlib.contextmanager
    def capturing(self) -> Iterator[list[torch.Tensor]]:
        """A block in which each forward pass appends its features, a tensor of
        shape (n, n_units), to the yielded list; the hook is removed after."""
        captured: list[torch.Tensor] = []
        penultimate = self.module is None

        def hook(_module, inputs, output) -> None:
            t = inputs[0] if penultimate else output
            # A convolution's unit is a channel: its spatial mean.
            captured.append(t.mean(dim=(2, 3)) if t.ndim == 4 else t.flatten(1))

        handle = self.target().register_forward_hook(hook)
        try:
            yield captured
        finally:
            handle.remove()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The features of a batch of flat inputs, differentiable.

        Parameters
        ----------
        x : tensor of shape (n, H * W * C)

        Returns
        -------
        tensor of shape (n, n_units)
        """
        with self.capturing() as captured:
            self.model(x)
        # A module inside a flip-averaged body (core.training.models.FlipAveraged)
        # sees the images, then their mirror images: the first rows are theirs.
        return captured[-1][: len(x)]

    def n_units(self) -> int:
        """How many features the module has."""
        h, w, c = self.image_shape
        with evaluating(self.model), torch.no_grad():
            return int(self.forward(torch.zeros(1, h * w * c)).shape[1])

    def check_units(self, units: list[int] | tuple[int, ...] | np.ndarray) -> None:
        """ValueError naming the first unit that the module does not have."""
        n = self.n_units()
        bad = [int(u) for u in units if not 0 <= int(u) < n]
        if bad:
            raise ValueError(
                f"Feature {bad[0]} is out of range: {self.module or 'the penultimate'} "
                f"layer has {n} features, numbered 0 to {n - 1}."
            )

    def activations(
        self,
        images: np.ndarray,
        *,
        batch_size: int = 256,
        progress: Progress | None = None,
    ) -> np.ndarray:
        """Every unit's activation on every image, in batches.

        Parameters
        ----------
        images : array of shape (n, H, W) or (n, H, W, C), uint8
        batch_size : int
        progress : callable, optional
            ``progress(done, n)`` after each batch.

        Returns
        -------
        array of shape (n, n_units), float32
        """
        check_images(images, self.image_shape)
        out = []
        with evaluating(self.model), torch.no_grad():
            for start in range(0, len(images), batch_size):
                x = torch.from_numpy(pixels(images[start : start + batch_size]))
                out.append(self.forward(x).numpy().astype(np.float32))
                if progress is not None:
                    progress(min(start + batch_size, len(images)), len(images))
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def check_images(images: np.ndarray, shape: tuple[int, int, int]) -> None:
    """ValueError unless ``images`` are uint8 images of ``shape`` (H, W, C)."""
    h, w, c = shape
    expected = (h, w) if c == 1 else (h, w, c)
    if (
        not isinstance(images, np.ndarray)
        or images.dtype != np.uint8
        or images.shape[1:] != expected
    ):
        got = (
            f"{images.dtype} of shape {images.shape}"
            if isinstance(images, np.ndarray)
            else type(images).__name__
        )
        raise ValueError(
            f"Expected uint8 images of shape (n, {', '.join(map(str, expected))}); "
            f"got {got}."
        )


def images_digest(images: np.ndarray) -> str:
    """The content hash of an image array (shape and bytes)."""
    h = hashlib.sha256(str(images.shape).encode())
    h.update(np.ascontiguousarray(images).tobytes())
    return h.hexdigest()[:32]


def split_images(dataset: str, split: str) -> np.ndarray:
    """The uint8 images of one split of an image dataset.

    Raises
    ------
    ValueError
        ``dataset`` is not an image dataset, or ``split`` is not train, val or
        test.
    DataUnavailableError
        The image files are missing; the message says where to put them.
    """
    if split not in ("train", "val", "test"):
        raise ValueError(f"split must be train, val or test; got {split!r}")
    _image_dataset(dataset, f"The {split} split")
    try:
        ds = load_dataset(dataset)
    except DataUnavailableError as exc:
        raise DataUnavailableError(
            f"The images of {dataset!r} are missing, so its features cannot be "
            f"shown: {exc}"
        ) from exc
    images = getattr(ds, split).images
    if images is None:
        raise ValueError(f"Dataset {dataset!r} carries no images in its {split} split.")
    return images


@dataclass(frozen=True)
class FeatureSource:
    """Features to view, with the split whose images show them.

    Attributes
    ----------
    features : ImageFeatures
    images : array of shape (n, H, W) or (n, H, W, C), uint8
        The split's images.
    units : array of shape (n_features,), int
        The model unit behind each feature index: a sparse layer's column ``i``
        is unit ``units[i]`` (dead units were dropped before its fit).
    names : tuple of str
        Each feature index's name.
    selected : tuple of int
        The feature indices shown when none are asked for: a sparse layer's
        features of non-zero weight at its selected λ, else all.
    origin : str
        The layer or model, for messages and file names.
    dataset, split : str
    """

    features: ImageFeatures
    images: np.ndarray
    units: np.ndarray
    names: tuple[str, ...]
    selected: tuple[int, ...]
    origin: str
    dataset: str
    split: str

    def units_of(self, indices: list[int] | tuple[int, ...]) -> list[int]:
        """The units of feature indices; ValueError naming one out of range."""
        n = len(self.units)
        bad = [int(i) for i in indices if not 0 <= int(i) < n]
        if bad:
            raise ValueError(
                f"Feature {bad[0]} is out of range: {self.origin} has {n} features, "
                f"numbered 0 to {n - 1}."
            )
        return [int(self.units[int(i)]) for i in indices]


def _image_dataset(dataset: str, what: str) -> None:
    modality = get_spec(dataset).modality
    if modality != "image":
        raise ValueError(
            f"{what} is on {dataset!r}, which holds {modality} data, not images: "
            "image feature views need an image dataset (mnist, cifar10, digits)."
        )


def _stored(model_id: str, reader: str = ""):
    """The stored model's folder and card; ModelStoreError saying what to do.

    ``reader`` names who needs the model (e.g. a layer), for the message."""
    from core.training.store import find_model

    try:
        return find_model(model_id)
    except UnknownNameError as exc:
        needed = f" ({reader} reads its features)" if reader else ""
        raise ModelStoreError(
            f"Model {model_id!r}{needed} is not stored: {exc} Train it "
            "(`python -m core train --dataset D --model M --id "
            f"{model_id}`) or restore its folder."
        ) from exc


def _features(stored, module: str | None, images: np.ndarray) -> ImageFeatures:
    from core.training.store import load_model

    model, card = load_model(stored.path)
    shape = images.shape[1:]
    return ImageFeatures(
        model=model,
        model_digest=card.sha256,
        module=module,
        image_shape=(shape[0], shape[1], shape[2] if len(shape) == 3 else 1),
    )


def model_source(model_id: str, module: str | None, split: str) -> FeatureSource:
    """Every unit of a stored image model's module (None: penultimate).

    Raises
    ------
    ModelStoreError
        The model is not stored or cannot be loaded.
    ValueError
        Its dataset holds no images, or the module does not exist.
    DataUnavailableError
        The dataset's image files are missing.
    """
    what = f"Model {model_id!r}"
    stored = _stored(model_id)
    _image_dataset(stored.card.dataset, what)
    images = split_images(stored.card.dataset, split)
    features = _features(stored, module, images)
    n = features.n_units()
    return FeatureSource(
        features=features,
        images=images,
        units=np.arange(n),
        names=tuple(f"unit_{j}" for j in range(n)),
        selected=tuple(range(n)),
        origin=f"{model_id} ({module or 'penultimate'})",
        dataset=stored.card.dataset,
        split=split,
    )


def is_image_layer(layer) -> bool:
    """Whether ``layer`` (a SparseLayer) is on penultimate features of an image
    model, so that :func:`layer_source` can show its features."""
    try:
        modality = get_spec(layer.dataset).modality
    except UnknownNameError:  # a registered dataset deleted since
        return False
    return layer.features.startswith(_PENULTIMATE) and modality == "image"


def layer_source(layer, split: str) -> FeatureSource:
    """The features a sparse layer was fitted on (penultimate units of an image
    model), with its selected features as the default.

    Parameters
    ----------
    layer : SparseLayer
    split : str
        train, val or test.

    Raises
    ------
    ValueError
        The layer is not on an image model's penultimate features.
    ModelStoreError
        The layer's model is not stored or cannot be loaded.
    DataUnavailableError
        The dataset's image files are missing.
    """
    what = f"Layer {layer.name!r}"
    if not layer.features.startswith(_PENULTIMATE):
        raise ValueError(
            f"{what} is fitted on {layer.features!r} features, not on an image "
            "model's: image feature views need a layer on 'penultimate:<model id>' "
            "features of an image dataset (text features have word clouds: "
            "`python -m core word-clouds`)."
        )
    _image_dataset(layer.dataset, what)
    stored = _stored(layer.features.removeprefix(_PENULTIMATE), f"layer {layer.name!r}")
    images = split_images(layer.dataset, split)
    names = tuple(layer.path.feature_names)
    weights = np.abs(layer.path.coef[layer.selected]).max(axis=0)
    return FeatureSource(
        features=_features(stored, None, images),
        images=images,
        units=np.array([int(name.removeprefix("unit_")) for name in names]),
        names=names,
        selected=tuple(int(i) for i in np.flatnonzero(weights > 0)),
        origin=f"layer {layer.name}",
        dataset=layer.dataset,
        split=split,
    )
