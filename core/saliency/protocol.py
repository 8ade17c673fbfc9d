"""One protocol for every explanation method, and the registry of methods.

Like Captum's ``attribute()``: inputs of shape (n, ...) in, attributions of
the same shape out, ``target=`` picks the class (default: the predicted one).
An :class:`Explainer` stores its keyword parameters in ``__init__``; a
:class:`Method` pairs it with a display name and a small parameter schema
(:class:`Param`) from which the dashboard builds its widgets.
"""

from __future__ import annotations

import difflib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn

from core.errors import UnknownNameError
from core.saliency.inputs import check_input_batch, resolve_target
from core.training.gradients import evaluating

Kind = Literal["float", "int", "choice", "bool"]


@dataclass(frozen=True)
class Param:
    """One tunable parameter of a method: what a widget needs to offer it.

    Attributes
    ----------
    name : str
        The keyword the explainer takes.
    label, help : str
        Shown beside the widget.
    kind : {"float", "int", "choice", "bool"}
    default : object
    low, high : float, optional
        Inclusive bounds for numbers.
    choices : tuple
        The options of a "choice".
    log : bool
        A number best chosen on a log scale (λ₁, λ₂).
    """

    name: str
    label: str
    kind: Kind
    default: object
    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    log: bool = False
    help: str = ""

    def validate(self, value: object) -> object:
        """``value`` checked against the schema (ValueError naming the bounds)."""
        if self.kind == "choice":
            if value not in self.choices:
                raise ValueError(
                    f"{self.name} must be one of {list(self.choices)}; got {value!r}"
                )
            return value
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"{self.name} must be True or False; got {value!r}")
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{self.name} must be a number; got {value!r}")
        if self.kind == "int" and int(value) != value:
            raise ValueError(f"{self.name} must be an integer; got {value!r}")
        if (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            raise ValueError(
                f"{self.name} must be in [{self.low}, {self.high}]; got {value!r}"
            )
        return int(value) if self.kind == "int" else float(value)


#: The seed of the random draws, a parameter of every method that draws.
SEED = Param("seed", "Seed", "int", 0, low=0, help="Seeds the random draws.")


class Explainer(ABC):
    """Attributions for a classifier's logits, one map per example.

    ``__init__`` stores the model and keyword parameters only; ``attribute``
    validates, runs the method with the model in eval mode (restored
    afterwards) and returns a tensor shaped like the inputs.
    """

    def __init__(self, model: nn.Module, **params: object):
        self.model = model
        self.params = params

    def attribute(
        self, inputs: torch.Tensor, target: int | torch.Tensor | None = None
    ) -> torch.Tensor:
        """Attributions shaped like ``inputs`` (shape (n, ...)).

        Parameters
        ----------
        inputs : tensor of shape (n, ...)
        target : int or tensor of shape (n,), optional
            Class to explain; default the model's predicted class.
        """
        x = check_input_batch(inputs)
        t = resolve_target(self.model, x, target)
        with evaluating(self.model):
            out = self._attribute(x, t)
        if out.shape != x.shape:
            raise ValueError(
                f"{type(self).__name__} returned shape {tuple(out.shape)} for "
                f"inputs of shape {tuple(x.shape)}"
            )
        return out.detach()

    @abstractmethod
    def _attribute(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The method itself, for a checked batch and resolved targets."""


@dataclass(frozen=True)
class Method:
    """A registered explanation method.

    Attributes
    ----------
    name : str
        Display name (the registry key).
    cls : type of Explainer
    params : tuple of Param
    family : str
        "gradient", "perturbation", "sparse" (CAFO/CASO) or "rate-distortion".
    reference : str
        The paper.
    fixed : dict
        Keyword parameters the explainer always gets and the widgets never
        show (e.g. ``second_order=False`` for CAFO).
    """

    name: str
    cls: type[Explainer]
    params: tuple[Param, ...] = ()
    family: str = "gradient"
    reference: str = ""
    fixed: dict = field(default_factory=dict)

    def defaults(self) -> dict[str, object]:
        return {p.name: p.default for p in self.params}

    def validate(self, params: dict[str, object]) -> dict[str, object]:
        """Defaults filled in; unknown names and out-of-range values raise."""
        schema = {p.name: p for p in self.params}
        unknown = sorted(set(params) - set(schema))
        if unknown:
            raise ValueError(
                f"{self.name} has no parameter {', '.join(unknown)}; it takes "
                f"{', '.join(schema) or 'none'}"
            )
        out = self.defaults()
        out.update({k: schema[k].validate(v) for k, v in params.items()})
        return out

    def build(self, model: nn.Module, **params: object) -> Explainer:
        """The explainer for ``model`` with validated parameters."""
        return self.cls(model, **self.fixed, **self.validate(params))


METHODS: dict[str, Method] = {}


def register(method: Method) -> Method:
    """Add ``method`` under its display name (names are unique)."""
    if method.name in METHODS:
        raise ValueError(f"An explanation method named {method.name!r} is registered")
    METHODS[method.name] = method
    return method


def method_names(family: str | None = None) -> list[str]:
    """Registered display names, in registration order."""
    return [n for n, m in METHODS.items() if family is None or m.family == family]


def get_method(name: str) -> Method:
    if name not in METHODS:
        close = difflib.get_close_matches(name, METHODS, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownNameError(
            f"Unknown explanation method {name!r}.{hint} Known: {', '.join(METHODS)}."
        )
    return METHODS[name]


def explain(
    name: str,
    model: nn.Module,
    inputs: torch.Tensor,
    target: int | torch.Tensor | None = None,
    **params: object,
) -> torch.Tensor:
    """Attributions of method ``name``: ``get_method(name).build(...).attribute(...)``."""
    return get_method(name).build(model, **params).attribute(inputs, target)
