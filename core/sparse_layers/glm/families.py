"""GLM families: the per-example loss of a linear predictor and what solvers need.

Each family maps linear predictions ``Z = X β + β₀`` (one column per output) and
targets to the mean loss, its gradient with respect to ``Z`` (the "residual"), a
bound on its curvature (for step sizes), and the Fenchel conjugate used by the
duality gap. The losses match scikit-learn and glm_saga, so objectives compare
digit for digit:

- ``multinomial``: cross-entropy of softmax(Z), one output per class;
- ``binomial``: logistic loss of a single output (class 1 against class 0);
- ``gaussian``: ½ ‖y − Z‖², one output per target column.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch


def _xlogx(q: torch.Tensor) -> torch.Tensor:
    return torch.special.xlogy(q, q)


# torch.softmax and torch.log_softmax over a short last dimension (k ≈ 10
# classes) ran 5-17× slower on the CPU than the same formula written as
# whole-tensor operations (torch 2.13, one thread: 1.5 against 0.32 ms on
# 10,000 × 10, 18 against 3.0 ms on 50,000 × 10), and they are called at every
# FISTA step. Both shift by the row maximum, so neither overflows.
def _log_softmax(Z: torch.Tensor) -> torch.Tensor:
    shifted = Z - Z.amax(dim=1, keepdim=True)
    return shifted - shifted.exp().sum(dim=1, keepdim=True).log()


def _softmax(Z: torch.Tensor) -> torch.Tensor:
    E = (Z - Z.amax(dim=1, keepdim=True)).exp()
    return E / E.sum(dim=1, keepdim=True)


class Family:
    """Base class: subclasses define the loss and its derivatives."""

    name = ""
    #: An upper bound on the largest eigenvalue of ∂²loss/∂z² for one example.
    curvature = 1.0
    classification = True

    def n_outputs(self, y: torch.Tensor, n_classes: int) -> int:
        raise NotImplementedError

    def targets(self, y: torch.Tensor, n_outputs: int) -> torch.Tensor:
        """The target matrix Y of shape (n, n_outputs) the residual is taken against."""
        raise NotImplementedError

    def losses(self, Z: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        """Per-example loss, shape (n,)."""
        raise NotImplementedError

    def residual(self, Z: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        """∂loss_i/∂z_i for every example, shape (n, n_outputs)."""
        raise NotImplementedError

    def losses_and_residual(
        self, Z: torch.Tensor, Y: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`losses` and :meth:`residual` at once (a family may share
        their work)."""
        return self.losses(Z, Y), self.residual(Z, Y)

    def conjugate(self, R: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        """Σ_i loss_i*(r_i): the conjugate at the rows of ``R`` (dual points)."""
        raise NotImplementedError

    def scaled_conjugate(
        self, R: torch.Tensor, Y: torch.Tensor
    ) -> Callable[[float], float]:
        """``s ↦ Σ_i loss_i*(s r_i)``, for the duality gap's search over ``s``."""
        return lambda s: self.conjugate(s * R, Y).double().item()

    def null_intercept(self, Y: torch.Tensor) -> torch.Tensor:
        """The optimal intercept when every coefficient is zero."""
        raise NotImplementedError

    def mean_hessian(self, Z: torch.Tensor) -> torch.Tensor:
        """The mean over rows of ∂²loss_i/∂z_i², shape (n_outputs, n_outputs):
        the Hessian of the mean loss with respect to the intercept."""
        raise NotImplementedError

    def predict(self, Z: torch.Tensor) -> torch.Tensor:
        """Class labels (classification) or the predictions themselves."""
        raise NotImplementedError


class Multinomial(Family):
    name = "multinomial"
    # Böhning's bound: diag(p) − p pᵀ ⪯ ½ I.
    curvature = 0.5

    def n_outputs(self, y, n_classes):
        return n_classes

    def targets(self, y, n_outputs):
        return torch.nn.functional.one_hot(y.long(), n_outputs).to(torch.float32)

    def losses(self, Z, Y):
        return -(_log_softmax(Z) * Y).sum(dim=1)

    def residual(self, Z, Y):
        return _softmax(Z) - Y

    def losses_and_residual(self, Z, Y):
        # One exponential for both: FISTA needs the loss and the gradient at
        # every extrapolated point.
        shifted = Z - Z.amax(dim=1, keepdim=True)
        E = shifted.exp()
        total = E.sum(dim=1, keepdim=True)
        losses = -((shifted - total.log()) * Y).sum(dim=1)
        return losses, E / total - Y

    def conjugate(self, R, Y):
        # loss*(r) = Σ_k q_k log q_k with q = r + y in the simplex.
        return _xlogx((R + Y).clamp(0.0, 1.0)).sum()

    def scaled_conjugate(self, R, Y):
        # With p = r + y and one-hot y, q = s r + y is s p_k off the label and
        # s p_y + 1 − s on it, so Σ_k q_k log q_k = s log s · Σ_{k≠y} p_k
        # + s Σ_{k≠y} p_k log p_k + q_y log q_y: each s costs n numbers, not n × k.
        P = (R + Y).clamp(0.0, 1.0).double()
        Yd = Y.double()
        mass = (P * (1.0 - Yd)).sum().item()
        entropy = (_xlogx(P) * (1.0 - Yd)).sum().item()
        p_label = (P * Yd).sum(dim=1)

        def conjugate_at(s: float) -> float:
            q_label = s * p_label + (1.0 - s)
            s_log_s = s * math.log(s) if s > 0 else 0.0
            return s_log_s * mass + s * entropy + _xlogx(q_label).sum().item()

        return conjugate_at

    def mean_hessian(self, Z):
        P = _softmax(Z)
        return torch.diag(P.mean(dim=0)) - P.T @ P / len(P)

    def null_intercept(self, Y):
        prior = Y.mean(dim=0).clamp_min(1e-12)
        log_prior = prior.log()
        return log_prior - log_prior.mean()

    def predict(self, Z):
        return Z.argmax(dim=1)


class Binomial(Family):
    name = "binomial"
    curvature = 0.25

    def n_outputs(self, y, n_classes):
        if n_classes != 2:
            raise ValueError(
                f"family='binomial' needs exactly 2 classes, got {n_classes}; "
                "use family='multinomial'"
            )
        return 1

    def targets(self, y, n_outputs):
        return y.to(torch.float32).reshape(-1, 1)

    def losses(self, Z, Y):
        return torch.nn.functional.binary_cross_entropy_with_logits(
            Z, Y, reduction="none"
        ).sum(dim=1)

    def residual(self, Z, Y):
        return torch.sigmoid(Z) - Y

    def conjugate(self, R, Y):
        q = (R + Y).clamp(0.0, 1.0)
        return (_xlogx(q) + _xlogx(1.0 - q)).sum()

    def mean_hessian(self, Z):
        p = torch.sigmoid(Z)
        return (p * (1 - p)).mean(dim=0).reshape(1, 1)

    def null_intercept(self, Y):
        p = Y.mean(dim=0).clamp(1e-12, 1 - 1e-12)
        return torch.log(p / (1 - p))

    def predict(self, Z):
        return (Z[:, 0] > 0).long()


class Gaussian(Family):
    name = "gaussian"
    curvature = 1.0
    classification = False

    def n_outputs(self, y, n_classes):
        return 1 if y.ndim == 1 else y.shape[1]

    def targets(self, y, n_outputs):
        return y.to(torch.float32).reshape(len(y), n_outputs)

    def losses(self, Z, Y):
        return 0.5 * ((Z - Y) ** 2).sum(dim=1)

    def residual(self, Z, Y):
        return Z - Y

    def conjugate(self, R, Y):
        # loss(z) = ½(z − y)²  ⇒  loss*(r) = ½ r² + r y.
        return (0.5 * R**2 + R * Y).sum()

    def mean_hessian(self, Z):
        return torch.eye(Z.shape[1], dtype=Z.dtype, device=Z.device)

    def null_intercept(self, Y):
        return Y.mean(dim=0)

    def predict(self, Z):
        return Z


FAMILIES: dict[str, Family] = {
    f.name: f for f in (Multinomial(), Binomial(), Gaussian())
}


def get_family(name: str) -> Family:
    if name not in FAMILIES:
        raise ValueError(
            f"Unknown family {name!r}; expected one of {', '.join(FAMILIES)}"
        )
    return FAMILIES[name]
