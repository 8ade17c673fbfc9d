"""Model architectures, built by name so a stored card can rebuild its model.

Each builder takes keyword arguments only; the same arguments are written into
the model card, so ``build_model(card.architecture, **card.arch_kwargs)``
rebuilds the module before its weights are loaded.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

import torch
from torch import nn

from core.errors import UnknownNameError

_ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {}


def architecture(name: str):
    """Decorator registering a builder under ``name``."""

    def deco(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        _ARCHITECTURES[name] = fn
        return fn

    return deco


def architecture_names() -> list[str]:
    return list(_ARCHITECTURES)


def build_model(name: str, **kwargs: object) -> nn.Module:
    """Build the architecture ``name`` with its keyword arguments."""
    if name not in _ARCHITECTURES:
        close = difflib.get_close_matches(name, _ARCHITECTURES, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownNameError(
            f"Unknown architecture {name!r}.{hint} Known: {', '.join(_ARCHITECTURES)}."
        )
    try:
        return _ARCHITECTURES[name](**kwargs)
    except TypeError as exc:
        raise ValueError(f"Bad arguments for architecture {name!r}: {exc}") from exc


@architecture("linear")
def linear(*, n_features: int, n_classes: int) -> nn.Module:
    """Logistic (two classes) or softmax regression: one affine layer to logits."""
    return nn.Sequential(nn.Linear(n_features, n_classes))


@architecture("mlp")
def mlp(
    *,
    n_features: int,
    n_classes: int,
    hidden: tuple[int, ...] | list[int] = (50, 30),
    dropout: float = 0.2,
) -> nn.Module:
    """The Neural LASSO MLP: ReLU hidden layers, dropout on the first layer only.

    References
    ----------
    Ross, Lage & Doshi-Velez (2017), "The Neural LASSO: Local Linear Sparsity
    for Interpretable Explanations", NIPS TML workshop: 50×30 units, dropout 0.2.
    """
    layers: list[nn.Module] = []
    width = n_features
    for i, h in enumerate(hidden):
        layers += [nn.Linear(width, int(h)), nn.ReLU()]
        if i == 0 and dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = int(h)
    layers.append(nn.Linear(width, n_classes))
    return nn.Sequential(*layers)


class ImageInput(nn.Module):
    """Reshape flat pixel features (the datasets' feature order) into NCHW images.

    Grey images are flattened as (H, W), colour ones as (H, W, C); the models
    take flat inputs so that input gradients line up with ``feature_names``.
    """

    def __init__(self, height: int, width: int, channels: int = 1):
        super().__init__()
        self.shape = (height, width, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w, c = self.shape
        return x.reshape(-1, h, w, c).permute(0, 3, 1, 2)


def _conv_bn(c_in: int, c_out: int, k: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, k, padding=k // 2), nn.BatchNorm2d(c_out), nn.ReLU()]


@architecture("cnn6")
def cnn6(*, n_features: int = 784, n_classes: int = 10, side: int = 28) -> nn.Module:
    """CNN₆ for 28×28 grey images: conv 5×5×32, conv 5×5×64, 2×2 max-pool, FC 1024.

    Batch norm after every non-pooling layer, dropout 0.5 after the FC layer
    (Ross et al. 2017, supplement).
    """
    if n_features != side * side:
        raise ValueError(
            f"cnn6 needs {side}×{side} grey images; got {n_features} features"
        )
    return nn.Sequential(
        ImageInput(side, side, 1),
        *_conv_bn(1, 32, 5),
        *_conv_bn(32, 64, 5),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * (side // 2) ** 2, 1024),
        nn.BatchNorm1d(1024),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(1024, n_classes),
    )


@architecture("cnn_digits")
def cnn_digits(*, n_features: int = 64, n_classes: int = 10) -> nn.Module:
    """A small CNN for scikit-learn's 8×8 digits: two 3×3 convs, pool, FC 64."""
    if n_features != 64:
        raise ValueError(f"cnn_digits needs 8×8 grey images; got {n_features} features")
    return nn.Sequential(
        ImageInput(8, 8, 1),
        *_conv_bn(1, 16, 3),
        *_conv_bn(16, 32, 3),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 64),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(64, n_classes),
    )


@architecture("cnn9")
def cnn9(*, n_features: int = 3072, n_classes: int = 10) -> nn.Module:
    """CNN₉ for 32×32×3 images: 2× conv 3×3×64, pool, 2× conv 3×3×128, pool, 2× FC 256.

    Batch norm after every non-pooling layer, dropout 0.5 after each FC layer
    (Ross et al. 2017, supplement).
    """
    if n_features != 32 * 32 * 3:
        raise ValueError(f"cnn9 needs 32×32×3 images; got {n_features} features")
    return nn.Sequential(
        ImageInput(32, 32, 3),
        *_conv_bn(3, 64, 3),
        *_conv_bn(64, 64, 3),
        nn.MaxPool2d(2),
        *_conv_bn(64, 128, 3),
        *_conv_bn(128, 128, 3),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(128 * 8 * 8, 256),
        nn.BatchNorm1d(256),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(256, 256),
        nn.BatchNorm1d(256),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(256, n_classes),
    )


class FlipAveraged(nn.Module):
    """A feature extractor whose features, in eval mode, are the mean of those of
    the images and of their mirror images (flip test-time augmentation).

    A linear head on these features gives the mean of the two views' logits,
    and the penultimate features a sparse layer reads are the same averaged
    ones. In training mode the images pass once (they are flipped at random
    by the data augmentation).
    """

    def __init__(self, body: nn.Module, height: int, width: int, channels: int):
        super().__init__()
        self.body = body
        self.shape = (height, width, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            return self.body(x)
        h, w, c = self.shape
        mirrored = x.reshape(-1, h, w, c).flip(2).reshape(x.shape)
        both = self.body(torch.cat([x, mirrored]))
        return 0.5 * (both[: len(x)] + both[len(x) :])


def _conv_group(c_in: int, c_out: int) -> list[nn.Module]:
    """airbench's block: conv, 2×2 max-pool, BN, GELU, conv, BN, GELU."""
    return [
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.MaxPool2d(2),
        nn.BatchNorm2d(c_out),
        nn.GELU(),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.GELU(),
    ]


@architecture("airbench")
def airbench(
    *,
    n_features: int = 3072,
    n_classes: int = 10,
    widths: tuple[int, ...] | list[int] = (32, 64, 128),
) -> nn.Module:
    """A CIFAR-10 backbone after airbench94, narrowed to train on two CPU cores.

    A 2×2 convolution to 24 channels, three groups (conv 3×3, max-pool,
    BN, GELU, conv 3×3, BN, GELU) of ``widths`` channels, a global max-pool, a
    linear head on the ``widths[-1]`` pooled features (the penultimate ones),
    with flip test-time augmentation (:class:`FlipAveraged`). Its recipe
    (:data:`core.training.train.RECIPES`): SGD with Nesterov momentum, a
    one-cycle learning rate, flips and 4-pixel translations, label smoothing.

    References
    ----------
    Jordan (2024), "94% on CIFAR-10 in 3.29 Seconds on a Single GPU",
    arXiv:2404.00498 (airbench94: widths 64/256/256, 118 M multiply-adds per
    image against 20 M at the default widths here).
    """
    if n_features != 32 * 32 * 3:
        raise ValueError(f"airbench needs 32×32×3 images; got {n_features} features")
    w = [int(v) for v in widths]
    if len(w) != 3 or min(w) < 1:
        raise ValueError(f"airbench needs three positive widths; got {widths}")
    body = nn.Sequential(
        ImageInput(32, 32, 3),
        nn.Conv2d(3, 24, 2, bias=False),
        nn.GELU(),
        *_conv_group(24, w[0]),
        *_conv_group(w[0], w[1]),
        *_conv_group(w[1], w[2]),
        nn.AdaptiveMaxPool2d(1),
        nn.Flatten(),
    )
    return nn.Sequential(FlipAveraged(body, 32, 32, 3), nn.Linear(w[2], n_classes))


def first_linear(model: nn.Module) -> nn.Linear:
    """The first fully connected layer, whose weight columns are the input features.

    Raises
    ------
    ValueError
        The model does not start with a linear layer (e.g. a CNN), so its first
        layer has no per-feature columns.
    """
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            break
        if isinstance(module, nn.Linear):
            return module
    raise ValueError(
        "This model does not start with a fully connected layer, so its input "
        "features have no weight columns (group LASSO needs linear or mlp)."
    )
