"""Training penalties as separate, composable pieces.

A penalty contributes a differentiable ``term`` to the loss, a proximal step
applied after each optimizer step (``prox``), or both. The trainer asks each
penalty what it needs (``needs_input_grad``) and calls ``calibrate`` once on the
first batch of the untrained model.

References
----------
Ross, Lage & Doshi-Velez (2017), "The Neural LASSO: Local Linear Sparsity for
Interpretable Explanations" (input-gradient L1, ratio calibration).
Scardapane et al. (2017), "Group sparse regularization for deep neural networks"
(group LASSO on first-layer weight columns).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from core.errors import UnknownNameError
from core.optim.prox import block_soft_threshold
from core.training.gradients import score_gradient
from core.training.models import first_linear

#: ``step(param)``: the step size the optimizer just used on ``param``.
StepSize = Callable[[torch.Tensor], "float | torch.Tensor"]


class Penalty:
    """Base class: no term, no proximal step, nothing to calibrate."""

    name = "none"
    needs_input_grad = False
    #: How the user-set ``strength`` is written, and what it means (it is λ for
    #: some penalties and a ratio for another, so labels must say which).
    strength_symbol = ""
    strength_meaning = "no penalty"

    def __init__(self, strength: float = 0.0):
        if not math.isfinite(strength) or strength < 0:
            raise ValueError(f"Penalty strength must be finite and ≥ 0, got {strength}")
        self.strength = float(strength)

    def calibrate(self, model: nn.Module, x: torch.Tensor, ce: torch.Tensor) -> None:
        """Called once with the first batch and its cross-entropy, before training."""

    def term(
        self, model: nn.Module, x: torch.Tensor, logits: torch.Tensor
    ) -> torch.Tensor | None:
        """The penalty's differentiable contribution to the batch loss, or None."""
        return None

    def value(self, model: nn.Module, x: torch.Tensor, logits: torch.Tensor) -> float:
        """The penalty's value on a batch (for monitoring the objective)."""
        term = self.term(model, x, logits)
        return 0.0 if term is None else term.item()

    def prox(self, model: nn.Module, step: StepSize) -> None:
        """Proximal step after an optimizer step; ``step(param)`` is the step size
        the optimizer just used for each entry of ``param`` (a float or a tensor
        shaped like it)."""

    def describe(self) -> dict:
        """What the model card records about this penalty."""
        return {"penalty": self.name, "strength": self.strength}


class L1Weights(Penalty):
    """λ_θ ‖θ‖₁ over every weight matrix and kernel (biases and norms excluded)."""

    name = "l1_weights"
    strength_symbol = "λ_θ"
    strength_meaning = "λ_θ, the weight of ‖θ‖₁ (summed over weight matrices)"

    def term(self, model, x, logits):
        return self.strength * weights_l1(model, as_tensor=True)


class InputGradientL1(Penalty):
    """λ_∇ · mean over the batch of ‖∇ₓ Σ_k log f(x)_k‖₁, by double backpropagation.

    ``strength`` is the ratio r: λ_∇ = r · CE₀ / G₀, with CE₀ the cross-entropy and
    G₀ the mean gradient norm of the untrained model on the first batch, so the
    trade-off is stable across datasets (the paper's "λ_∇ = 1:10" is r = 0.1).
    """

    name = "grad_l1"
    needs_input_grad = True
    strength_symbol = "r"
    strength_meaning = "the ratio r of λ_∇ = r·CE₀/G₀, calibrated on the first batch"

    def __init__(self, strength: float = 0.0):
        super().__init__(strength)
        self.lambda_: float | None = None

    def calibrate(self, model, x, ce):
        logits = model(x)
        g0 = score_gradient(logits, x, create_graph=False).abs().sum(dim=1).mean()
        if not torch.isfinite(g0) or g0 <= 0:
            raise ValueError(
                f"Cannot calibrate the gradient penalty: the untrained model's input "
                f"gradient norm on the first batch is {float(g0)}."
            )
        self.lambda_ = self.strength * float(ce) / float(g0)

    def term(self, model, x, logits):
        if self.lambda_ is None:
            raise RuntimeError("InputGradientL1.calibrate must run before training")
        grad = score_gradient(logits, x, create_graph=True)
        return self.lambda_ * grad.abs().sum(dim=1).mean()

    def describe(self):
        return {**super().describe(), "lambda_grad": self.lambda_}


class GroupLasso(Penalty):
    """λ Σ_g √|g| ‖W₁[:, g]‖₂ on the first linear layer, as a proximal step.

    After every optimizer step, each group of input columns is
    block-soft-thresholded with ``η_g λ √|g|``, so a switched-off feature's
    weights are exactly zero (not merely small, as with a subgradient). ``η_g``
    is the step the optimizer took on that group: the learning rate for SGD,
    Adam's per-entry step ``lr / (√v̂ + ε)`` averaged over the group. Using
    Adam's preconditioned step keeps the prox on the scale of the gradients, so
    a feature is switched off roughly when its loss gradient falls below
    ``λ √|g|`` (the group LASSO's optimality condition), not when Adam's
    normalised steps happen to be small.

    Parameters
    ----------
    strength : float
        λ.
    groups : mapping of str to sequence of int, optional
        Column groups (e.g. ``Dataset.feature_groups``); None gives one group
        per input feature.
    """

    name = "group_l1"
    strength_symbol = "λ"
    strength_meaning = "λ per √|g| of the proximal group-LASSO step"

    def __init__(
        self, strength: float = 0.0, groups: Mapping[str, Sequence[int]] | None = None
    ):
        super().__init__(strength)
        self.groups = {k: tuple(int(i) for i in v) for k, v in (groups or {}).items()}

    def _layout(self, n_in: int) -> tuple[torch.Tensor, torch.Tensor]:
        groups = self.groups or {str(i): (i,) for i in range(n_in)}
        group_of = np.full(n_in, -1)
        for gid, cols in enumerate(groups.values()):
            group_of[list(cols)] = gid
        if (group_of < 0).any():
            raise ValueError(
                f"Feature groups must cover all {n_in} input columns; "
                f"{int((group_of < 0).sum())} are in no group."
            )
        sizes = torch.tensor([len(c) for c in groups.values()], dtype=torch.float32)
        return torch.as_tensor(group_of), sizes.sqrt()

    def value(self, model, x, logits):
        layer = first_linear(model)
        group_of, root_size = self._layout(layer.in_features)
        with torch.no_grad():
            sq = torch.zeros_like(root_size).index_add_(
                0, group_of, layer.weight.pow(2).sum(0)
            )
            return float(self.strength * (root_size * sq.sqrt()).sum())

    def prox(self, model, step):
        layer = first_linear(model)
        group_of, root_size = self._layout(layer.in_features)
        with torch.no_grad():
            per_entry = torch.as_tensor(step(layer.weight), dtype=layer.weight.dtype)
            per_column = per_entry.expand_as(layer.weight).mean(dim=0)
            sums = torch.zeros_like(root_size).index_add_(0, group_of, per_column)
            counts = torch.zeros_like(root_size).index_add_(
                0, group_of, torch.ones_like(per_column)
            )
            thresholds = sums / counts * self.strength * root_size
            layer.weight.copy_(block_soft_threshold(layer.weight, group_of, thresholds))

    def describe(self):
        return {
            **super().describe(),
            "groups": "dataset" if self.groups else "features",
        }


PENALTIES: dict[str, type[Penalty]] = {
    p.name: p for p in (Penalty, L1Weights, InputGradientL1, GroupLasso)
}


def make_penalty(
    name: str,
    strength: float = 0.0,
    *,
    groups: Mapping[str, Sequence[int]] | None = None,
) -> Penalty:
    """Build a penalty by name: ``none``, ``l1_weights``, ``grad_l1``, ``group_l1``."""
    if name not in PENALTIES:
        raise UnknownNameError(
            f"Unknown penalty {name!r}; choose one of {', '.join(PENALTIES)}."
        )
    if name == "group_l1":
        return GroupLasso(strength, groups)
    return PENALTIES[name](strength)


def strength_label(name: str, strength: float) -> str:
    """``name`` and its strength under the symbol it stands for, e.g. ``grad_l1 r=0.1``.

    A name this version does not know (a card from another version) keeps the
    plain word "strength".
    """
    penalty = PENALTIES.get(name)
    symbol = penalty.strength_symbol if penalty else "strength"
    return f"{name} {symbol}={strength:g}" if symbol else name


def weights_l1(model: nn.Module, *, as_tensor: bool = False):
    """‖θ‖₁ over weight matrices and convolution kernels (parameters with ≥ 2 dims)."""
    weights = [p for p in model.parameters() if p.dim() >= 2]
    if as_tensor:
        return sum(w.abs().sum() for w in weights)
    with torch.no_grad():
        return float(sum(w.abs().sum() for w in weights))
