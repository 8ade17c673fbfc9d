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
