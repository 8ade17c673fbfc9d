"""FISTA: accelerated proximal gradient with backtracking, batched over problems.

Minimises ``F(x) = f(x) + λ‖x‖₁`` for a batch of independent problems at once
(one row of ``x`` each, e.g. one per example and λ₁ value), each with its own
step size.

References
----------
Beck & Teboulle (2009), "A Fast Iterative Shrinkage-Thresholding Algorithm for
Linear Inverse Problems", SIAM J. Imaging Sciences, §4 (FISTA with
backtracking).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch

from core.optim.prox import soft_threshold


@dataclass(frozen=True)
class FistaResult:
    """What :func:`fista` found.

    Attributes
    ----------
    x : tensor of shape (B, d)
        The last iterate, one row per problem.
    objective : tensor of shape (n_iter + 1, B)
        ``F(x_k)`` for the start and each iterate.
    step : tensor of shape (B,)
        The step size each problem ended with (after backtracking).
    n_iter : int
        Iterations run.
    converged : bool
        Whether every problem met the tolerance before ``n_iter``.
    """

    x: torch.Tensor
    objective: torch.Tensor
    step: torch.Tensor
    n_iter: int
    converged: bool


def fista(
    f: Callable[[torch.Tensor], torch.Tensor],
    grad_f: Callable[[torch.Tensor], torch.Tensor],
    lambda1: torch.Tensor | float,
    x0: torch.Tensor,
    *,
    step: torch.Tensor | float = 1.0,
    n_iter: int = 100,
    backtrack: float = 0.5,
    tol: float = 1e-6,
    max_backtracks: int = 60,
    warn: bool = True,
) -> FistaResult:
    """Minimise ``f(x) + λ‖x‖₁`` by FISTA with backtracking.

    Each iteration takes a gradient step of size ``t`` from the extrapolated
    point ``y`` and applies the prox of ``tλ‖·‖₁`` (soft thresholding):
    ``x⁺ = S_{tλ}(y − t∇f(y))``. While the quadratic upper bound
    ``f(x⁺) ≤ f(y) + ⟨∇f(y), x⁺ − y⟩ + ‖x⁺ − y‖²/(2t)`` fails, ``t ← βt``.
    Momentum: ``t_{k+1} = (1 + √(1 + 4t_k²))/2``,
    ``y = x⁺ + (t_k − 1)/t_{k+1} (x⁺ − x)``.

    Parameters
    ----------
    f : callable
        ``f(x)`` for ``x`` of shape (B, d) returns shape (B,): the smooth part.
    grad_f : callable
        Its gradient, shape (B, d).
    lambda1 : float or tensor of shape (B,)
        The ℓ1 weight of each problem (≥ 0).
    x0 : tensor of shape (B, d)
    step : float or tensor of shape (B,)
        Initial step size (1/L for an L-smooth f needs no backtracking).
    n_iter : int
        Maximum number of iterations.
    backtrack : float
        β in (0, 1): the factor a step is shrunk by when the bound fails.
    tol : float
        Stop when ``‖x⁺ − x‖ ≤ tol · max(1, ‖x‖)`` for every problem; 0 runs
        every iteration.
    max_backtracks : int
    warn : bool
        Warn when ``n_iter`` iterations did not meet ``tol``.

    Returns
    -------
    FistaResult
    """
    if n_iter < 1:
        raise ValueError(f"n_iter must be at least 1, got {n_iter}")
    if not 0 < backtrack < 1:
        raise ValueError(f"backtrack (β) must be in (0, 1), got {backtrack}")
    if x0.ndim != 2:
        raise ValueError(f"x0 must have shape (B, d), got {tuple(x0.shape)}")
    b = x0.shape[0]
    lam = torch.as_tensor(lambda1, dtype=x0.dtype).expand(b).reshape(b, 1)
    if (lam < 0).any():
        raise ValueError("lambda1 must be ≥ 0")
    t = torch.as_tensor(step, dtype=x0.dtype).expand(b).clone()
    if not (t > 0).all():
        raise ValueError(f"step must be positive, got {step}")

    def objective(x: torch.Tensor) -> torch.Tensor:
        return f(x) + lam[:, 0] * x.abs().sum(-1)

    x = x0.clone()
    y = x0.clone()
    momentum = 1.0
    trace = [objective(x)]
    converged = False
    n_done = 0
    for _ in range(n_iter):
        n_done += 1
        fy, gy = f(y), grad_f(y)
        for _ in range(max_backtracks):
            new = soft_threshold(y - t[:, None] * gy, t[:, None] * lam)
            diff = new - y
            bound = fy + (gy * diff).sum(-1) + (diff * diff).sum(-1) / (2 * t)
            bad = f(new) > bound + 1e-6 * bound.abs().clamp(min=1e-12)
            if not bad.any():
                break
            t = torch.where(bad, t * backtrack, t)
        else:
            raise ValueError(
                f"Backtracking shrank the step {max_backtracks} times without "
                "meeting the quadratic bound: is f smooth and finite?"
            )
        if not torch.isfinite(new).all():
            raise ValueError("FISTA produced non-finite values")
        momentum_next = (1 + math.sqrt(1 + 4 * momentum**2)) / 2
        y = new + ((momentum - 1) / momentum_next) * (new - x)
        change = (new - x).norm(dim=-1)
        scale = x.norm(dim=-1).clamp(min=1.0)
        x, momentum = new, momentum_next
        trace.append(objective(x))
        if tol > 0 and (change <= tol * scale).all():
            converged = True
            break
    if warn and tol > 0 and not converged:
        warnings.warn(
            f"FISTA stopped at n_iter={n_iter} before the iterates changed by "
            f"less than tol={tol:g}; raise n_iter for a more accurate solution.",
            RuntimeWarning,
            stacklevel=2,
        )
    return FistaResult(x, torch.stack(trace), t, n_done, converged)
