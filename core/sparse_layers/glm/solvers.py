"""Solvers for one elastic-net GLM problem at a fixed λ, warm-started.

The problem, for standardised features ``X`` (n × p), targets ``Y`` (n × k),
coefficients ``B`` (k × p) and an unpenalised intercept ``b`` (k,):

    min  (1/n) Σ_i loss(B x_i + b, y_i) + λ [α ‖B‖₁ + (1 − α)/2 ‖B‖₂²]

- :func:`solve_by_fista`: full-batch accelerated proximal gradient (the
  shared :func:`core.optim.fista.fista`) with backtracking and adaptive
  restart, stopped by the duality gap;
- :func:`solve_by_saga`: the minibatch SAGA of glm_saga (Wong et al. 2021, Algorithm 1),
  one stored residual per example and output, the elastic-net proximal step.

Both run on whatever device the tensors live on. FISTA reads ``X`` only
through a :mod:`~core.sparse_layers.glm.design` (a tensor, or a file streamed in
row blocks); SAGA's random minibatches need ``X`` in memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from core.optim.fista import FistaState, Parts, fista
from core.optim.prox import elastic_net_prox
from core.sparse_layers.glm.design import Design, as_design
from core.sparse_layers.glm.families import Family

#: Golden-section steps for the dual scaling: the bracket shrinks to 0.6¹⁰ ≈ 0.8 %
#: of [0, 1]; a coarser scale only makes the gap (an upper bound) looser.
GOLDEN_STEPS = 10


@dataclass
class Solution:
    """A solver's result at one λ.

    ``gap`` is the duality gap of the problem the solver was given (``nan`` for
    SAGA, which does not compute one), ``primal`` its objective.
    """

    B: torch.Tensor
    b: torch.Tensor
    epochs: int
    primal: float
    gap: float
    converged: bool


def penalty(B: torch.Tensor, lam: float, alpha: float) -> float:
    """λ [α ‖B‖₁ + (1 − α)/2 ‖B‖₂²]."""
    B64 = B.double()
    return (
        lam * (alpha * B64.abs().sum() + 0.5 * (1 - alpha) * (B64 * B64).sum()).item()
    )


def mean_loss(family: Family, Z: torch.Tensor, Y: torch.Tensor) -> float:
    return family.losses(Z, Y).double().mean().item()


def duality_gap(
    family: Family,
    Z: torch.Tensor,
    Y: torch.Tensor,
    B: torch.Tensor,
    G: torch.Tensor,
    lam: float,
    alpha: float,
) -> tuple[float, float]:
    """Primal objective and duality gap at ``B`` (predictions ``Z``).

    Fenchel dual of ``min F(XB) + g(B)``: ``max −F*(u) − g*(−Xᵀu)`` with
    ``g*(v) = Σ (|v| − λα)₊² / (2λ(1 − α))`` (the indicator of ``|v| ≤ λ``
    when α = 1). The dual point is the residual ``R = ∂loss/∂Z`` over n, scaled
    by the ``s ∈ (0, 1]`` that maximises the dual (α < 1: a golden-section
    search on the concave ``D(s)``; α = 1: the largest feasible ``s``).
    ``G = Rᵀ X / n`` over the features of the problem (all of them for the gap
    of the full problem). The intercept's dual constraint ``Σ_i r_i = 0``
    holds only when the intercept is optimal, so the gap certifies optimality
    up to the intercept's own gradient, which the solvers drive to zero with
    the rest.

    Returns
    -------
    primal, gap : float
    """
    n = Z.shape[0]
    R = family.residual(Z, Y)
    primal = mean_loss(family, Z, Y) + penalty(B, lam, alpha)
    absG = G.double().abs()
    loss_conjugate = family.scaled_conjugate(R, Y)

    def dual(s: float) -> float:
        if alpha < 1:
            excess = (s * absG - lam * alpha).clamp_min(0)
            g_conj = ((excess**2).sum() / (2 * lam * (1 - alpha))).item()
        else:
            g_conj = 0.0
        return -loss_conjugate(s) / n - g_conj

    top = absG.max().item() if absG.numel() else 0.0
    if alpha == 1:
        best = dual(min(1.0, lam / top) if top > 0 else 1.0)
    else:
        lo, hi = 0.0, 1.0
        ratio = (math.sqrt(5) - 1) / 2
        a, c = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        da, dc = dual(a), dual(c)
        for _ in range(GOLDEN_STEPS):
            if da < dc:
                lo, a, da = a, c, dc
                c = lo + ratio * (hi - lo)
                dc = dual(c)
            else:
                hi, c, dc = c, a, da
                a = hi - ratio * (hi - lo)
                da = dual(a)
        best = max(da, dc, dual(1.0))
    return primal, primal - best


def loss_gradient(
    family: Family, Z: torch.Tensor, Y: torch.Tensor, X: torch.Tensor | Design
) -> torch.Tensor:
    """∂/∂B of the mean loss at predictions ``Z = X Bᵀ + b``, shape (k, p)."""
    X = as_design(X)
    return X.transpose_times(family.residual(Z, Y)) / len(X)


def lipschitz_estimate(
    X: torch.Tensor | Design, family: Family, n_iter: int = 20
) -> float:
    """Curvature bound × (‖X‖₂²/n + 1), ‖X‖₂ by power iteration (a lower estimate;
    the solver's backtracking corrects it)."""
    X = as_design(X)
    n, p = X.shape
    if p == 0:
        return family.curvature
    gen = torch.Generator(device="cpu").manual_seed(0)
    v = torch.randn(p, generator=gen).to(device=X.device, dtype=X.dtype)
    v /= v.norm()
    sigma2 = 0.0
    for _ in range(n_iter):
        w = X.gram_times(v)
        sigma2 = w.norm().item()
        if sigma2 == 0:
            break
        v = w / sigma2
    return family.curvature * (sigma2 / n + 1.0)


class GlmLoss:
    """The smooth part ``(1/n) Σ_i loss(B x_i + b, y_i)`` for :func:`core.optim.fista`.

    One problem (a batch of 1): the iterate is ``(B, b)`` of shapes
    (1, k, p) and (1, k), its predictions ``(Z,)`` of shape (n, k). The
    value is computed in float64 from float32 predictions, whose rounding the
    decrease test allows for.
    """

    def __init__(self, family: Family, X: Design, Y: torch.Tensor):
        self.family, self.X, self.Y = family, X, Y

    def predict(self, x: Parts) -> Parts:
        B, b = x
        return (self.X.linear(B[0], b[0]),)

    def value(self, z: Parts) -> torch.Tensor:
        return self.family.losses(z[0], self.Y).double().mean().reshape(1)

    def gradient(self, x: Parts, z: Parts) -> Parts:
        R = self.family.residual(z[0], self.Y)
        return ((self.X.transpose_times(R) / len(self.X))[None], R.mean(dim=0)[None])

    def decrease_slack(self, fy: torch.Tensor, bound: torch.Tensor) -> torch.Tensor:
        # float32 predictions: allow rounding noise in the decrease test.
        return 1e-6 * (1.0 + fy.abs())


@dataclass(frozen=True)
class ElasticNetPenalty:
    """The penalty ``λ [α ‖B‖₁ + (1 − α)/2 ‖B‖₂²]`` on ``(B, b)``; the intercept
    ``b`` is not penalised. Its prox is :func:`core.optim.prox.elastic_net_prox`."""

    lam: float
    alpha: float

    def prox(self, v: Parts, step: torch.Tensor) -> Parts:
        B, b = v
        # One problem: Python floats, so that the thresholds and 1 + l2 are
        # rounded to B's dtype once.
        t = step.item()
        l1, l2 = self.lam * self.alpha * t, self.lam * (1 - self.alpha) * t
        return elastic_net_prox(B, l1, l2), b

    def value(self, x: Parts) -> torch.Tensor:
        B = x[0].double().flatten(1)
        l1, l2 = B.abs().sum(1), (B * B).sum(1)
        return self.lam * (self.alpha * l1 + 0.5 * (1 - self.alpha) * l2)


class DualityGapStop:
    """Stop FISTA once the duality gap is at most ``tol`` × the primal objective.

    Checked after the first iteration (a good warm start needs few), every
    ``check_every`` iterations and at the last. FISTA is not monotone, and
    float32 noise makes it wander once near the optimum, so the best point
    checked is kept for an unconverged run.
    """

    def __init__(self, loss: GlmLoss, lam, alpha, tol, check_every, start):
        self.loss, self.lam, self.alpha = loss, lam, alpha
        self.tol, self.check_every = tol, check_every
        #: (B, b, primal, gap) of the lowest primal checked (the start: inf).
        self.best = (*start, math.inf, math.inf)
        self.primal, self.gap = math.inf, math.inf

    def __call__(self, state: FistaState) -> bool:
        it = state.iteration
        if not (it % self.check_every == 0 or it == 1 or state.last):
            return False
        B, b = state.x[0][0], state.x[1][0]
        (Z,) = state.z
        family, X, Y = self.loss.family, self.loss.X, self.loss.Y
        G = loss_gradient(family, Z, Y, X)
        self.primal, self.gap = duality_gap(family, Z, Y, B, G, self.lam, self.alpha)
        if self.gap <= self.tol * abs(self.primal):
            return True
        if self.primal < self.best[2]:
            self.best = (B, b, self.primal, self.gap)
        return False

    def __str__(self) -> str:
        return f"the relative duality gap reached tol={self.tol:g}"


def solve_by_fista(
    X: torch.Tensor | Design,
    Y: torch.Tensor,
    family: Family,
    lam: float,
    alpha: float,
    B: torch.Tensor,
    b: torch.Tensor,
    *,
    lipschitz: float,
    tol: float,
    max_iter: int,
    check_every: int = 5,
) -> tuple[Solution, float]:
    """Solve at one λ by FISTA with backtracking and gradient-based adaptive
    restart (:func:`core.optim.fista.fista`), stopped by the duality gap.

    Parameters
    ----------
    X : tensor of shape (n, p), or a Design of that shape
    Y : tensor of shape (n, k)
    B : tensor of shape (k, p), b : tensor of shape (k,)
        The warm start.
    lipschitz : float
        Initial step-size constant; doubled whenever the sufficient-decrease
        test fails.
    tol : float
        Stop when the duality gap is at most ``tol`` × the primal objective.
    max_iter : int
        Iterations (each one pass over ``X``).

    Returns
    -------
    solution : Solution
        An unconverged run returns the best point it checked.
    lipschitz : float
        The constant reached, to warm-start the next problem.

    References
    ----------
    Beck & Teboulle (2009), "A fast iterative shrinkage-thresholding algorithm";
    O'Donoghue & Candès (2015), "Adaptive restart for accelerated gradient
    schemes".
    """
    loss = GlmLoss(family, as_design(X), Y)
    stop = DualityGapStop(loss, lam, alpha, tol, check_every, start=(B, b))
    result = fista(
        loss,
        ElasticNetPenalty(lam, alpha),
        (B[None], b[None]),
        lipschitz=lipschitz,
        stop=stop,
        n_iter=max_iter,
        restart=True,
        warn=False,
    )
    if result.converged:
        B, b = result.x[0][0], result.x[1][0]
        primal, gap = stop.primal, stop.gap
    else:
        B, b, primal, gap = stop.best
    solution = Solution(B, b, result.n_iter, primal, gap, result.converged)
    return solution, float(result.lipschitz[0])


def solve_by_saga(
    X: torch.Tensor,
    Y: torch.Tensor,
    family: Family,
    lam: float,
    alpha: float,
    B: torch.Tensor,
    b: torch.Tensor,
    table: torch.Tensor,
    *,
    lr: float,
    batch_size: int,
    tol: float,
    max_epochs: int,
    generator: torch.Generator,
) -> Solution:
    """Minibatch SAGA for the elastic net (glm_saga's Algorithm 1).

    ``table`` (n × k) holds the last residual seen for every example and
    output and is updated in place, so it carries over along a path. Each step
    uses the unbiased SAGA gradient ``X_Bᵀ(R_B − table_B)/|B| + mean`` and the
    elastic-net proximal step with the fixed learning rate ``lr``; the solver
    stops, as glm_saga does, when one step changes (B, b) by at most ``tol``
    in Euclidean norm.

    References
    ----------
    Defazio, Bach & Lacoste-Julien (2014), "SAGA"; Wong, Santurkar & Mądry
    (2021), Algorithm 1.
    """
    n = X.shape[0]
    avg_B = table.T @ X / n
    avg_b = table.mean(dim=0)
    for epoch in range(1, max_epochs + 1):
        order = torch.randperm(n, generator=generator).to(X.device)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            Xb = X[idx]
            R = family.residual(Xb @ B.T + b, Y[idx])
            delta = R - table[idx]
            gB = delta.T @ Xb / len(idx) + avg_B
            gb = delta.mean(dim=0) + avg_b
            B_new = elastic_net_prox(
                B - lr * gB, lr * lam * alpha, lr * lam * (1 - alpha)
            )
            b_new = b - lr * gb
            table[idx] = R
            avg_B += delta.T @ Xb / n
            avg_b += delta.sum(dim=0) / n
            change = ((B_new - B) ** 2).sum() + ((b_new - b) ** 2).sum()
            B, b = B_new, b_new
            if change.sqrt().item() <= tol:
                Z = X @ B.T + b
                primal = mean_loss(family, Z, Y) + penalty(B, lam, alpha)
                return Solution(B, b, epoch, primal, math.nan, True)
    Z = X @ B.T + b
    primal = mean_loss(family, Z, Y) + penalty(B, lam, alpha)
    return Solution(B, b, max_epochs, primal, math.nan, False)


def objective(
    family: Family,
    X: torch.Tensor | Design,
    Y: torch.Tensor,
    B: torch.Tensor,
    b: torch.Tensor,
    lam: float,
    alpha: float,
) -> float:
    """The elastic-net objective ``(1/n) Σ loss + λ[α‖B‖₁ + (1 − α)/2 ‖B‖₂²]``."""
    return mean_loss(family, as_design(X).linear(B, b), Y) + penalty(B, lam, alpha)
