"""Solvers for one elastic-net GLM problem at a fixed λ, warm-started.

The problem, for standardised features ``X`` (n × p), targets ``Y`` (n × k),
coefficients ``B`` (k × p) and an unpenalised intercept ``b`` (k,):

    min  (1/n) Σ_i loss(B x_i + b, y_i) + λ [α ‖B‖₁ + (1 − α)/2 ‖B‖₂²]

- :func:`fista`: full-batch accelerated proximal gradient (FISTA) with
  backtracking and adaptive restart, stopped by the duality gap.
- :func:`saga`: the minibatch SAGA of glm_saga (Wong et al. 2021, Algorithm 1),
  one stored residual per example and output, the elastic-net proximal step.

Both run on whatever device the tensors live on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from core.optim.prox import elastic_net_prox
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
    family: Family, Z: torch.Tensor, Y: torch.Tensor, X: torch.Tensor
) -> torch.Tensor:
    """∂/∂B of the mean loss at predictions ``Z = X Bᵀ + b``, shape (k, p)."""
    return family.residual(Z, Y).T @ X / len(X)


def lipschitz_estimate(X: torch.Tensor, family: Family, n_iter: int = 20) -> float:
    """Curvature bound × (‖X‖₂²/n + 1), ‖X‖₂ by power iteration (a lower estimate;
    the solver's backtracking corrects it)."""
    n, p = X.shape
    if p == 0:
        return family.curvature
    gen = torch.Generator(device="cpu").manual_seed(0)
    v = torch.randn(p, generator=gen).to(X)
    v /= v.norm()
    sigma2 = 0.0
    for _ in range(n_iter):
        w = X.T @ (X @ v)
        sigma2 = w.norm().item()
        if sigma2 == 0:
            break
        v = w / sigma2
    return family.curvature * (sigma2 / n + 1.0)


def fista(
    X: torch.Tensor,
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
    """FISTA with backtracking and gradient-based adaptive restart.

    Parameters
    ----------
    X : tensor of shape (n, p)
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
    lipschitz : float
        The constant reached, to warm-start the next problem.

    References
    ----------
    Beck & Teboulle (2009), "A fast iterative shrinkage-thresholding algorithm";
    O'Donoghue & Candès (2015), "Adaptive restart for accelerated gradient
    schemes".
    """
    n = X.shape[0]
    L = lipschitz
    Z = X @ B.T + b
    f = mean_loss(family, Z, Y)
    yB, yb, Zy, fy = B, b, Z, f
    t = 1.0
    primal, gap = math.inf, math.inf
    # FISTA is not monotone, and float32 noise makes it wander once near the
    # optimum: an unconverged run returns the best point it checked.
    best = (B, b, primal, gap)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        R = family.residual(Zy, Y)
        gB = R.T @ X / n
        gb = R.mean(dim=0)
        while True:
            B_new = elastic_net_prox(
                yB - gB / L, lam * alpha / L, lam * (1 - alpha) / L
            )
            b_new = yb - gb / L
            Z_new = X @ B_new.T + b_new
            f_new = mean_loss(family, Z_new, Y)
            dB, db = B_new - yB, b_new - yb
            step2 = (dB.double() ** 2).sum().item() + (db.double() ** 2).sum().item()
            linear = (gB.double() * dB).sum().item() + (gb.double() * db).sum().item()
            # float32 predictions: allow rounding noise in the decrease test.
            if f_new <= fy + linear + 0.5 * L * step2 + 1e-6 * (1.0 + abs(fy)):
                break
            L *= 2.0
        restart = ((yB - B_new) * (B_new - B)).sum() + (
            (yb - b_new) * (b_new - b)
        ).sum()
        if restart.item() > 0:
            t = 1.0
        t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
        momentum = (t - 1.0) / t_next
        yB = B_new + momentum * (B_new - B)
        yb = b_new + momentum * (b_new - b)
        Zy = Z_new + momentum * (Z_new - Z)
        fy = mean_loss(family, Zy, Y) if momentum > 0 else f_new
        B, b, Z, t = B_new, b_new, Z_new, t_next
        # Checked after the first step too: a good warm start needs few.
        if it % check_every == 0 or it == 1 or it == max_iter:
            G = loss_gradient(family, Z, Y, X)
            primal, gap = duality_gap(family, Z, Y, B, G, lam, alpha)
            if gap <= tol * abs(primal):
                converged = True
                break
            if primal < best[2]:
                best = (B, b, primal, gap)
    if not converged:
        B, b, primal, gap = best
    return Solution(B, b, it, primal, gap, converged), L


def saga(
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
    X: torch.Tensor,
    Y: torch.Tensor,
    B: torch.Tensor,
    b: torch.Tensor,
    lam: float,
    alpha: float,
) -> float:
    """The elastic-net objective ``(1/n) Σ loss + λ[α‖B‖₁ + (1 − α)/2 ‖B‖₂²]``."""
    return mean_loss(family, X @ B.T + b, Y) + penalty(B, lam, alpha)
