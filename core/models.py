"""Model architectures, built by name so a stored card can rebuild its model.

Each builder takes keyword arguments only; the same arguments are written into
the model card, so ``build_model(card.architecture, **card.arch_kwargs)``
rebuilds the module before its weights are loaded.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

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
