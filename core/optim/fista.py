"""FISTA: the one accelerated proximal-gradient core, batched over problems.

Minimises ``F(x) = f(x) + g(x)`` for a batch of B independent problems at once
(the leading dimension of every tensor of ``x``), each with its own step size.
The caller composes three pieces, as skglm composes a datafit, a penalty and a
solver:

- a smooth part ``f`` (:class:`SmoothPart`): ``value`` and ``gradient``, and
  optionally ``predict``, the linear predictions both are computed from (a GLM's
  ``X βᵀ + β₀``); FISTA keeps them beside every iterate and extrapolates them
  with it, so a GLM multiplies by ``X`` once per step and once per gradient;
- a penalty ``g`` (:class:`ProximalPart`): ``prox`` and ``value``, usually one of the
  pure functions of :mod:`core.optim.prox`;
- a stopping test: ``stop(state) -> bool`` on a :class:`FistaState`, e.g.
  :class:`IterateChange` or a duality gap.

An iterate is a tensor of shape (B, ...) or a tuple of such tensors (a GLM's
coefficients and intercept).

References
----------
Beck & Teboulle (2009), "A Fast Iterative Shrinkage-Thresholding Algorithm for
Linear Inverse Problems", SIAM J. Imaging Sciences, §4 (FISTA with
backtracking). O'Donoghue & Candès (2015), "Adaptive restart for accelerated
gradient schemes" (gradient-based restart). Bertrand et al. (2022), "Beyond L1:
Faster and better sparse models with skglm" (datafit / penalty / solver).
"""

from __future__ import annotations

import functools
import math
import operator
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch

from core.optim.prox import soft_threshold

#: An iterate, its gradient or its predictions: tensors of shape (B, ...).
Parts = tuple[torch.Tensor, ...]


class SmoothPart(Protocol):
    """The differentiable part ``f``; ``predict`` and ``decrease_slack`` are
    optional (see :func:`fista`)."""

    def value(self, z: Parts) -> torch.Tensor:
        """``f`` per problem, shape (B,), from the predictions ``z``."""

    def gradient(self, x: Parts, z: Parts) -> Parts:
        """``∇f(x)``, shaped like ``x``; ``z`` are the predictions at ``x``."""


class ProximalPart(Protocol):
    """The non-smooth part ``g``."""

    def prox(self, v: Parts, step: torch.Tensor) -> Parts:
        """``argmin_u ½‖u − v‖² + step·g(u)`` per problem; ``step`` of shape (B,)."""

    def value(self, x: Parts) -> torch.Tensor:
        """``g`` per problem, shape (B,)."""


@dataclass(frozen=True)
class FistaState:
    """What a stopping test sees after each iteration.

    Attributes
    ----------
    iteration : int
        1 after the first step.
    last : bool
        Whether this is the last iteration allowed.
    x, previous : tuple of tensors of shape (B, ...)
        The new iterate and the one before it.
    z : tuple of tensors
        The predictions at ``x`` (``x`` itself without ``predict``); any
        shapes, since FISTA only combines them linearly.
    point : tuple of tensors of shape (B, ...)
        The extrapolated point ``y`` whose proximal-gradient step gave ``x``.
    lipschitz : tensor of shape (B,), float64
        The ``L`` of that step: ``L (y − x)`` is the proximal-gradient mapping
        at ``y``, zero exactly at a minimiser (a stopping test that costs no
        extra gradient).
    value : tensor of shape (B,)
        The smooth part ``f(x)`` (computed for the step's decrease test: an
        objective-based test needs only the penalty on top).
    """

    iteration: int
    last: bool
    x: Parts
    previous: Parts
    z: Parts
    point: Parts
    lipschitz: torch.Tensor
    value: torch.Tensor


@dataclass(frozen=True)
class FistaResult:
    """What :func:`fista` found.

    Attributes
    ----------
    x : tensor of shape (B, d), or a tuple of tensors of shape (B, ...)
        The last iterate, in the form ``x0`` was given.
    objective : tensor of shape (B,)
        ``F(x)`` at the last iterate.
    lipschitz : tensor of shape (B,), float64
        The step-size constant ``L`` (step ``1/L``) each problem ended with.
    n_iter : int
        Iterations run.
    converged : bool
        Whether the stopping test held before ``n_iter``.
    """

    x: torch.Tensor | Parts
    objective: torch.Tensor
    lipschitz: torch.Tensor
    n_iter: int
    converged: bool


@dataclass(frozen=True)
class SmoothFunction:
    """A smooth part given by two functions of a single tensor ``x`` of shape (B, d).

    ``value(x)`` returns shape (B,), ``gradient(x)`` shape (B, d).
    """

    value_of: Callable[[torch.Tensor], torch.Tensor]
    gradient_of: Callable[[torch.Tensor], torch.Tensor]

    def value(self, z: Parts) -> torch.Tensor:
        return self.value_of(z[0])

    def gradient(self, x: Parts, z: Parts) -> Parts:
        return (self.gradient_of(x[0]),)


@dataclass(frozen=True)
class L1Norm:
    """``g(x) = λ‖x‖₁`` with one weight λ ≥ 0 per problem, for ``x`` of shape (B, d).

    Its prox is soft thresholding at ``step · λ``
    (:func:`core.optim.prox.soft_threshold`).
    """

    weight: torch.Tensor

    def __post_init__(self):
        if (self.weight < 0).any():
            raise ValueError(
                f"lambda1 must be ≥ 0, got {self.weight.min().item():g} among them"
            )

    def prox(self, v: Parts, step: torch.Tensor) -> Parts:
        (u,) = v
        threshold = step.to(u.dtype)[:, None] * self.weight[:, None]
        return (soft_threshold(u, threshold),)

    def value(self, x: Parts) -> torch.Tensor:
        return self.weight * x[0].abs().sum(-1)


@dataclass(frozen=True)
class IterateChange:
    """Stop when ``‖x⁺ − x‖ ≤ tol · max(1, ‖x‖)`` for every problem."""

    tol: float

    def __call__(self, state: FistaState) -> bool:
        change = _norm(_difference(state.x, state.previous))
        scale = _norm(state.previous).clamp(min=1.0)
        return bool((change <= self.tol * scale).all())

    def __str__(self) -> str:
        return f"the iterates changed by less than tol={self.tol:g}"


def relative_slack(fy: torch.Tensor, bound: torch.Tensor) -> torch.Tensor:
    """Rounding allowed in the decrease test: ``10⁻⁶ · |bound|`` (default)."""
    return 1e-6 * bound.abs().clamp(min=1e-12)


def fista(
    smooth: SmoothPart,
    penalty: ProximalPart,
    x0: torch.Tensor | Parts,
    *,
    lipschitz: torch.Tensor | float = 1.0,
    stop: Callable[[FistaState], bool] | None = None,
    n_iter: int = 100,
    backtrack: float = 0.5,
    restart: bool = False,
    max_backtracks: int = 60,
    warn: bool = True,
) -> FistaResult:
    """Minimise ``f(x) + g(x)`` by FISTA with backtracking.

    Each iteration takes a gradient step of size ``1/L`` from the extrapolated
    point ``y`` and applies the prox of ``g/L``: ``x⁺ = prox_{g/L}(y − ∇f(y)/L)``.
    While the quadratic upper bound
    ``f(x⁺) ≤ f(y) + ⟨∇f(y), x⁺ − y⟩ + L‖x⁺ − y‖²/2`` fails (up to the smooth
    part's ``decrease_slack``, :func:`relative_slack` by default), ``L ← L/β``.
    Momentum, shared by the batch (every problem takes the same number of
    steps): ``t_{k+1} = (1 + √(1 + 4t_k²))/2``,
    ``y = x⁺ + (t_k − 1)/t_{k+1} (x⁺ − x)``; with ``restart`` (one problem
    only), a step that goes against the momentum (``⟨y − x⁺, x⁺ − x⟩ > 0``)
    restarts it at ``t = 1``. Candidates with non-finite values fail the
    bound, so a run that cannot avoid them ends in a ValueError.

    Parameters
    ----------
    smooth : SmoothPart
        ``value`` and ``gradient``; optional ``predict(x) -> z`` (default: ``z``
        is ``x``) and ``decrease_slack(f(y), bound) -> tensor of shape (B,)``.
        The bound is computed in the dtype of ``value``.
    penalty : ProximalPart
        ``prox`` and ``value``.
    x0 : tensor of shape (B, d), or tuple of tensors of shape (B, ...)
    lipschitz : float or tensor of shape (B,)
        Initial ``L`` (the Lipschitz constant of ``∇f`` needs no backtracking).
    stop : callable, optional
        ``stop(state) -> bool`` after every iteration; None runs ``n_iter``.
    n_iter : int
        Maximum number of iterations.
    backtrack : float
        β in (0, 1): the factor a step is shrunk by when the bound fails.
    restart : bool
        Gradient-based adaptive restart (O'Donoghue & Candès 2015); needs a
        batch of one problem.
    max_backtracks : int
    warn : bool
        Warn when ``n_iter`` iterations did not meet ``stop``.

    Returns
    -------
    FistaResult
    """
    x = _check_fista(smooth, penalty, x0, n_iter, backtrack, restart)
    L = torch.as_tensor(lipschitz, dtype=torch.float64, device=x[0].device)
    L = L.expand(x[0].shape[0]).clone()
    if not (L > 0).all():
        raise ValueError(f"lipschitz must be positive, got {lipschitz}")
    predict = getattr(smooth, "predict", lambda parts: parts)
    slack = getattr(smooth, "decrease_slack", relative_slack)
    z = predict(x)
    y, zy = x, z
    fy = smooth.value(zy)
    momentum = 1.0
    converged = False
    n_done = 0
    for n_done in range(1, n_iter + 1):
        gy = smooth.gradient(y, zy)
        point = y
        new, z_new, f_new, L = _backtracking_step(
            smooth, penalty, predict, slack, y, gy, fy, L, backtrack, max_backtracks
        )
        if restart and _inner(_difference(y, new), _difference(new, x)).item() > 0:
            momentum = 1.0
        momentum_next = (1 + math.sqrt(1 + 4 * momentum**2)) / 2
        weight = (momentum - 1) / momentum_next
        y = _extrapolate(new, x, weight)
        zy = _extrapolate(z_new, z, weight)
        fy = smooth.value(zy) if weight > 0 else f_new
        previous, x, z, momentum = x, new, z_new, momentum_next
        state = FistaState(n_done, n_done == n_iter, x, previous, z, point, L, f_new)
        if stop is not None and stop(state):
            converged = True
            break
    if warn and stop is not None and not converged:
        warnings.warn(
            f"FISTA stopped at n_iter={n_iter} before {stop}; raise n_iter for a "
            "more accurate solution.",
            RuntimeWarning,
            stacklevel=2,
        )
    objective = f_new + penalty.value(x)
    out = x[0] if isinstance(x0, torch.Tensor) else x
    return FistaResult(out, objective, L, n_done, converged)


def _check_fista(
    smooth: SmoothPart,
    penalty: ProximalPart,
    x0: torch.Tensor | Parts,
    n_iter: int,
    backtrack: float,
    restart: bool,
) -> Parts:
    """The iterate as a tuple of parts, or an error naming what is wrong."""
    for role, piece, needs in (
        ("smooth part", smooth, ("value", "gradient")),
        ("penalty", penalty, ("prox", "value")),
    ):
        missing = [name for name in needs if not callable(getattr(piece, name, None))]
        if missing:
            raise TypeError(
                f"FISTA needs the {role}'s {' and '.join(missing)}; "
                f"{type(piece).__name__} has none"
            )
    if n_iter < 1:
        raise ValueError(f"n_iter must be at least 1, got {n_iter}")
    if not 0 < backtrack < 1:
        raise ValueError(f"backtrack (β) must be in (0, 1), got {backtrack}")
    x = (x0,) if isinstance(x0, torch.Tensor) else tuple(x0)
    if isinstance(x0, torch.Tensor) and x0.ndim != 2:
        raise ValueError(f"x0 must have shape (B, d), got {tuple(x0.shape)}")
    if any(part.ndim < 1 or part.shape[0] != x[0].shape[0] for part in x):
        raise ValueError(
            "every part of x0 needs the batch dimension first, got shapes "
            f"{[tuple(part.shape) for part in x]}"
        )
    if restart and x[0].shape[0] != 1:
        raise ValueError(
            "restart needs a batch of one problem (the batch shares one momentum), "
            f"got {x[0].shape[0]}"
        )
    return x


def _backtracking_step(
    smooth, penalty, predict, slack, y, gy, fy, L, backtrack, max_backtracks
):
    """One proximal-gradient step from ``y``, ``L`` raised until the quadratic
    upper bound holds for every problem.

    Returns the new iterate, its predictions, ``f`` there and ``L``.
    """
    for _ in range(max_backtracks):
        new = penalty.prox(_gradient_step(y, gy, L), 1 / L)
        z_new = predict(new)
        f_new = smooth.value(z_new)
        bad = _above_bound(f_new, fy, gy, _difference(new, y), L, slack)
        if not bad.any():
            break
        L = torch.where(bad, L / backtrack, L)
    else:
        raise ValueError(
            f"Backtracking shrank the step {max_backtracks} times without "
            "meeting the quadratic bound with finite values: is f smooth and "
            "finite?"
        )
    return new, z_new, f_new, L


def _above_bound(f_new, fy, gy, diff, L, slack) -> torch.Tensor:
    """Which problems break ``f(x⁺) ≤ f(y) + ⟨∇f(y), d⟩ + L‖d‖²/2`` (plus the
    slack), ``d = x⁺ − y``, in the dtype of ``f``; bool of shape (B,)."""
    dtype = f_new.dtype
    diff = tuple(d if d.dtype == dtype else d.to(dtype) for d in diff)
    L = L if L.dtype == dtype else L.to(dtype)
    bound = fy + _inner(gy, diff) + 0.5 * L * _inner(diff, diff)
    # A non-finite candidate makes the bound non-finite: shrink the step.
    return ~((f_new <= bound + slack(fy, bound)) & bound.isfinite())


def _per_problem(weight: torch.Tensor, part: torch.Tensor) -> torch.Tensor:
    """``weight`` of shape (B,), shaped to broadcast over ``part``."""
    return weight.view((-1,) + (1,) * (part.ndim - 1))


def _difference(a: Parts, b: Parts) -> Parts:
    """``a − b`` part by part."""
    return tuple(ai - bi for ai, bi in zip(a, b, strict=True))


def _gradient_step(y: Parts, gradient: Parts, L: torch.Tensor) -> Parts:
    """``y − ∇f(y)/L`` part by part (a division, as the GLM solver always did,
    so that paths are reproduced digit for digit)."""
    dtype = y[0].dtype
    L = L if L.dtype == dtype else L.to(dtype)
    return tuple(
        yi - gi / _per_problem(L, gi) for yi, gi in zip(y, gradient, strict=True)
    )


def _extrapolate(new: Parts, old: Parts, weight: float) -> Parts:
    """``new + weight · (new − old)`` part by part."""
    return tuple(n + weight * (n - o) for n, o in zip(new, old, strict=True))


def _inner(a: Parts, b: Parts) -> torch.Tensor:
    """``⟨a, b⟩`` per problem, shape (B,), summed part by part (in the wider
    dtype of the two: a float32 part is promoted exactly)."""
    sums = [
        (ai * bi).sum(dim=tuple(range(1, ai.ndim))) for ai, bi in zip(a, b, strict=True)
    ]
    return functools.reduce(operator.add, sums)


def _norm(a: Parts) -> torch.Tensor:
    """Euclidean norm per problem over every part, shape (B,)."""
    if len(a) == 1:
        return torch.linalg.vector_norm(a[0].flatten(1), dim=1)
    return _inner(a, a).sqrt()
