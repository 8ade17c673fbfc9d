"""CAFO and CASO: sparse first- and second-order saliency by proximal gradient.

For the cross-entropy ℓ of the target class at input x, with gradient g and
input Hessian H, the perturbation

    CASO:  Δ* = argmax_Δ  gᵀΔ + ½ ΔᵀHΔ − λ₁‖Δ‖₁ − λ₂‖Δ‖₂²
    CAFO:  Δ* = argmax_Δ  gᵀΔ − λ₁‖Δ‖₁ − λ₂‖Δ‖₂²

is the saliency map. CASO is strongly concave when λ₂ > L/2 (L the largest
eigenvalue of H), so λ₂ can be set from L; it is solved by FISTA (Nesterov
momentum, backtracking with β = 0.5, Δ₀ = 0) with soft thresholding for the
ℓ1 term. With λ₁ = 0 the optimum is ``(2λ₂I − H)⁻¹ g``.

References
----------
Singla, Wallace, Feng & Feizi (2019), "Understanding Impacts of High-Order
Loss Approximations and Features in Deep Learning Interpretation", ICML,
Definitions 2–4, Theorem 3, §4 and §4.1 (λ₁ by the sparsity ratio).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import torch
from torch import nn

from core.optim.fista import (
    FistaResult,
    IterateChange,
    L1Norm,
    SmoothFunction,
    fista,
)
from core.saliency.hessian import AutogradHessian, ClosedFormHessian, local_hessian
from core.saliency.inputs import check_input_batch, resolve_target
from core.saliency.protocol import SEED, Explainer, Param

#: The authors' defaults: 10 FISTA iterations, backtracking factor 0.5.
N_ITER = 10
BACKTRACK = 0.5
#: λ₂ = margin · L / 2; margin > 1 keeps the problem strongly concave.
MARGIN = 2.0
#: Default target range of the sparsity ratio (zeros / features) for λ₁ = "auto".
SPARSITY = (0.8, 0.95)
#: The smallest λ₂ used when H vanishes (L = 0), so the problem stays bounded.
MIN_LAMBDA2 = 1e-8

Hessian = ClosedFormHessian | AutogradHessian


def lambda2_from_hessian(op: Hessian, margin: float = MARGIN) -> torch.Tensor:
    """λ₂ = margin · L / 2 per example, shape (n,): CASO is then concave.

    L comes from the c×c problem for the closed-form Hessian and from power
    iteration with Hessian-vector products for autograd (Theorem 3).
    """
    if not margin > 1:
        raise ValueError(
            f"margin must be > 1 so that λ₂ > L/2 (strong concavity); got {margin}"
        )
    return (margin * op.top_eigenvalue() / 2).clamp(min=MIN_LAMBDA2)


@dataclass(frozen=True)
class CasoSolution:
    """Solutions for k values of λ₁ per example.

    Attributes
    ----------
    delta : tensor of shape (n, k, d)
    objective : tensor of shape (n, k)
        The maximised objective ``gᵀΔ + ½ΔᵀHΔ − λ₁‖Δ‖₁ − λ₂‖Δ‖²`` at Δ.
    sparsity : tensor of shape (n, k)
        ρ = (number of zero entries) / d.
    fista : FistaResult
    """

    delta: torch.Tensor
    objective: torch.Tensor
    sparsity: torch.Tensor
    fista: FistaResult


def solve(
    op: Hessian,
    lambda1: torch.Tensor,
    lambda2: torch.Tensor,
    *,
    second_order: bool = True,
    n_iter: int = N_ITER,
    lr: float | None = None,
    tol: float = 1e-3,
    warn: bool = True,
) -> CasoSolution:
    """Solve CASO (or CAFO) for a batch of λ₁ values per example by FISTA.

    Parameters
    ----------
    op : ClosedFormHessian or AutogradHessian
        Gradient g (n, d) and Hessian-vector products at the examples.
    lambda1 : tensor of shape (n, k)
    lambda2 : tensor of shape (n,)
    second_order : bool
        False drops the Hessian term (CAFO).
    n_iter, tol : int, float
        FISTA's iteration cap and stopping tolerance.
    lr : float, optional
        Initial step; default ``1/(2λ₂)``, the Lipschitz constant of the
        smooth part's gradient when H ⪰ 0 (ReLU networks), so backtracking
        only acts for non-convex H. The authors' code starts from 3e-2.
    """
    g = op.grad
    n, d = g.shape
    if lambda1.ndim != 2 or lambda1.shape[0] != n:
        raise ValueError(
            f"lambda1 must have shape ({n}, k); got {tuple(lambda1.shape)}"
        )
    k = lambda1.shape[1]
    lam2 = lambda2.reshape(n, 1, 1).to(g.dtype)

    def unflat(v: torch.Tensor) -> torch.Tensor:
        return v.reshape(n, k, d)

    def f(v: torch.Tensor) -> torch.Tensor:  # −(smooth part of the objective)
        delta = unflat(v)
        val = -(g[:, None] * delta).sum(-1) + lam2[..., 0] * (delta * delta).sum(-1)
        if second_order:
            val = val - 0.5 * op.quad(delta)
        return val.reshape(-1)

    def grad_f(v: torch.Tensor) -> torch.Tensor:
        delta = unflat(v)
        out = -g[:, None] + 2 * lam2 * delta
        if second_order:
            out = out - op.hvp(delta)
        return out.reshape(n * k, d)

    lipschitz = (2 * lam2).expand(n, k, 1).reshape(-1) if lr is None else 1 / lr
    res = fista(
        SmoothFunction(f, grad_f),
        L1Norm(lambda1.reshape(-1).to(g.dtype)),
        torch.zeros(n * k, d, dtype=g.dtype),
        lipschitz=lipschitz,
        stop=IterateChange(tol) if tol > 0 else None,
        n_iter=n_iter,
        backtrack=BACKTRACK,
        warn=warn,
    )
    delta = unflat(res.x)
    objective = -res.objective.reshape(n, k)
    sparsity = (delta == 0).to(g.dtype).mean(-1)
    return CasoSolution(delta, objective, sparsity, res)


@dataclass(frozen=True)
class Lambda1Selection:
    """The λ₁ chosen per example and everything tried on the way.

    Attributes
    ----------
    lambda1 : tensor of shape (n,)
    delta : tensor of shape (n, d)
    sparsity, objective : tensor of shape (n,)
    in_range : bool tensor of shape (n,)
        Whether the chosen solution's sparsity lies in the target range.
    tried_lambda1, tried_sparsity, tried_objective : tensor of shape (n, m)
        Every λ₁ solved for, in the order tried.
    """

    lambda1: torch.Tensor
    delta: torch.Tensor
    sparsity: torch.Tensor
    objective: torch.Tensor
    in_range: torch.Tensor
    tried_lambda1: torch.Tensor
    tried_sparsity: torch.Tensor
    tried_objective: torch.Tensor


def select_lambda1(
    op: Hessian,
    lambda2: torch.Tensor,
    *,
    second_order: bool = True,
    sparsity: tuple[float, float] = SPARSITY,
    start: float = 1e-4,
    n_batch: int = 6,
    max_rounds: int = 8,
    **solve_kwargs,
) -> Lambda1Selection:
    """Choose λ₁ per example by the sparsity ratio, without supervision.

    The paper's rule, batched: solve for ``n_batch`` values of λ₁ at once,
    ``start·10^j``, moving up a decade at a time until Δ* is all zero. Among
    solutions whose sparsity ratio ρ lies in ``sparsity``, the one with the
    highest objective wins. If none does, the paper halves the first λ₁ that
    gave all zeros and tries again; here each round solves ``n_batch`` values
    at once, geometrically spaced between the largest λ₁ that was too dense
    and the smallest that was too sparse (halvings ``λ·2^{-j}`` while nothing
    was too dense), for at most ``max_rounds`` rounds. If the range is never
    hit, the solution closest to it is returned with a warning.

    Parameters
    ----------
    op : ClosedFormHessian or AutogradHessian
    lambda2 : tensor of shape (n,)
    second_order : bool
    sparsity : (low, high)
        Target range of ρ = zeros / features, 0 ≤ low ≤ high ≤ 1.
    start : float
        The first (smallest) λ₁.
    n_batch, max_rounds : int
    **solve_kwargs
        Passed to :func:`solve` (``n_iter``, ``lr``, ``tol``).
    """
    lo, hi = sparsity
    if not 0 <= lo <= hi <= 1:
        raise ValueError(
            f"sparsity must be (low, high) with 0 ≤ low ≤ high ≤ 1; got {sparsity}"
        )
    if not start > 0 or n_batch < 1 or max_rounds < 1:
        raise ValueError(
            f"Need start > 0, n_batch ≥ 1 and max_rounds ≥ 1; got {start}, "
            f"{n_batch}, {max_rounds}"
        )
    tries = _Tries(op, lambda2, second_order=second_order, **solve_kwargs)
    _sweep_decades(tries, start, n_batch)
    for _ in range(max_rounds):
        lam, rho, _, _ = tries.so_far()
        if ((rho >= lo) & (rho <= hi)).any(1).all():
            break
        tries.solve(_lambda1_between(lam, rho, sparsity, n_batch))
    return _best_try(*tries.so_far(), sparsity)


class _Tries:
    """Every λ₁ solved for so far and its solution, per example, in order."""

    def __init__(self, op: Hessian, lambda2: torch.Tensor, **solve_kwargs):
        self.op, self.lambda2, self.solve_kwargs = op, lambda2, solve_kwargs
        self.lambda1, self.sparsity, self.objective, self.delta = [], [], [], []

    def solve(self, lambda1: torch.Tensor) -> None:
        """Solve for ``lambda1`` of shape (n, k) and keep the solutions."""
        sol = solve(self.op, lambda1, self.lambda2, warn=False, **self.solve_kwargs)
        self.lambda1.append(lambda1)
        self.sparsity.append(sol.sparsity)
        self.objective.append(sol.objective)
        self.delta.append(sol.delta)

    def so_far(self) -> tuple[torch.Tensor, ...]:
        """λ₁, ρ and the objective (n, m), and Δ (n, m, d), of the m tries."""
        parts = (self.lambda1, self.sparsity, self.objective, self.delta)
        return tuple(torch.cat(p, 1) for p in parts)


def _sweep_decades(tries: _Tries, start: float, n_batch: int) -> None:
    """Solve for λ₁ = ``start``·10^j, ``n_batch`` decades at a time, until
    every example has an all-zero solution."""
    g = tries.op.grad
    base = torch.full((g.shape[0], 1), float(start), dtype=g.dtype)
    powers = 10.0 ** torch.arange(n_batch, dtype=g.dtype)
    for decade in range(64):
        tries.solve(base * powers * 10.0 ** (decade * n_batch))
        if (torch.cat(tries.sparsity, 1) == 1).any(1).all():
            return
    raise ValueError(
        f"No λ₁ up to {start:g}·10^{64 * n_batch} made the solution all zero; "
        "is the gradient finite?"
    )


def _lambda1_between(
    lam: torch.Tensor,
    rho: torch.Tensor,
    sparsity: tuple[float, float],
    n_batch: int,
) -> torch.Tensor:
    """The next ``n_batch`` λ₁ per example, shape (n, n_batch).

    Geometrically spaced between the largest λ₁ tried that was too dense and
    the smallest that was too sparse; halvings of the latter while none was
    too dense.
    """
    lo, hi = sparsity
    too_dense = torch.where(rho < lo, lam, torch.zeros_like(lam)).amax(1)
    too_sparse = torch.where(rho > hi, lam, torch.full_like(lam, math.inf)).amin(1)
    j = torch.arange(1, n_batch + 1, dtype=lam.dtype)
    halvings = too_sparse[:, None] * 2.0**-j
    ratio = (too_sparse / too_dense.clamp(min=1e-300))[:, None]
    between = too_dense[:, None] * ratio ** (j / (n_batch + 1))
    return torch.where(too_dense[:, None] > 0, between, halvings)


def _best_try(
    lam: torch.Tensor,
    rho: torch.Tensor,
    obj: torch.Tensor,
    delta: torch.Tensor,
    sparsity: tuple[float, float],
) -> Lambda1Selection:
    """In range: the highest objective; otherwise the closest sparsity (warns)."""
    lo, hi = sparsity
    n = lam.shape[0]
    ok = (rho >= lo) & (rho <= hi)
    distance = (lo - rho).clamp(min=0) + (rho - hi).clamp(min=0)
    score = torch.where(ok, obj, -1e30 - distance * 1e30)
    best = score.argmax(1)
    rows = torch.arange(n)
    if not ok.any(1).all():
        warnings.warn(
            f"No λ₁ gave a sparsity ratio in [{lo}, {hi}] for "
            f"{int((~ok.any(1)).sum())} of {n} examples; using the closest.",
            RuntimeWarning,
            stacklevel=3,
        )
    return Lambda1Selection(
        lam[rows, best],
        delta[rows, best],
        rho[rows, best],
        obj[rows, best],
        ok[rows, best],
        lam,
        rho,
        obj,
    )


def caso(
    model: nn.Module,
    x: torch.Tensor,
    target: int | torch.Tensor | None = None,
    *,
    lambda1: float | str,
    lambda2: float | str,
    second_order: bool = True,
    hessian: str = "closed_form",
    n_iter: int = N_ITER,
    smooth: float = 0.0,
    n_samples: int = 16,
    margin: float = MARGIN,
    lr: float | None = None,
    tol: float = 1e-3,
    sparsity: tuple[float, float] = SPARSITY,
    seed: int = 0,
) -> torch.Tensor:
    """CASO (or CAFO) saliency: the maximiser Δ*, shaped like ``x``.

    Parameters
    ----------
    model : nn.Module
        A classifier returning logits; run in eval mode (restored afterwards).
    x : tensor of shape (n, ...)
        A batch of inputs in the model's input space.
    target : int, tensor of shape (n,), optional
        The class whose cross-entropy is explained; default the predicted one.
    lambda1 : float or "auto"
        ℓ1 weight (≥ 0); "auto" selects it per example by the sparsity ratio
        (:func:`select_lambda1`, target range ``sparsity``).
    lambda2 : float or "auto"
        ℓ2 weight (> 0); "auto" sets λ₂ = margin·L/2 per example from the top
        eigenvalue L of H (closed form: the c×c problem; autograd: power
        iteration). CASO needs λ₂ > L/2 to be concave.
    second_order : bool
        True for CASO, False for CAFO (no Hessian term).
    hessian : {"closed_form", "autograd"}
        Hessian-vector products by ``Jᵀ(diag(p) − ppᵀ)J`` (piecewise-linear
        networks only) or by double backpropagation (any network).
    n_iter : int
        FISTA iterations (the authors use 10); a warning says when they did
        not reach ``tol``.
    smooth : float
        σ of SmoothCASO / SmoothCAFO: gradient and Hessian averaged over
        ``n_samples`` copies ``x + N(0, σ²)`` (in input units); 0 for none.
    n_samples : int
    margin : float
        λ₂ = margin · L / 2 when ``lambda2="auto"``.
    lr : float, optional
        FISTA's initial step; default ``1/(2λ₂)``.
    tol : float
    sparsity : (low, high)
        Target sparsity-ratio range for ``lambda1="auto"``.
    seed : int
        Seeds the smoothing noise.

    Returns
    -------
    tensor shaped like ``x``

    Raises
    ------
    ValueError
        Bad parameters, a target out of range, non-finite inputs, or a
        closed-form Hessian asked of a network that is not piecewise linear.

    Examples
    --------
    >>> delta = caso(model, x, lambda1="auto", lambda2="auto")  # doctest: +SKIP
    """
    x = check_input_batch(x)
    if n_iter < 1:
        raise ValueError(f"n_iter must be at least 1, got {n_iter}")
    t = resolve_target(model, x, target)
    op = local_hessian(
        model,
        x,
        t,
        hessian=hessian,
        sigma=float(smooth),
        n_samples=n_samples,
        seed=seed,
    )
    lam2 = _lambda2_per_example(op, lambda2, margin)
    kwargs = dict(second_order=second_order, n_iter=n_iter, lr=lr, tol=tol)
    delta = _maximiser(op, lambda1, lam2, sparsity, **kwargs)
    return delta.reshape(x.shape).to(x.dtype)


def _lambda2_per_example(
    op: Hessian, lambda2: float | str, margin: float = MARGIN
) -> torch.Tensor:
    """λ₂ per example, shape (n,): the number given, or margin·L/2 for "auto".

    Raises
    ------
    ValueError
        A string other than "auto", or a λ₂ that is not positive.
    """
    if isinstance(lambda2, str):
        if lambda2 != "auto":
            raise ValueError(
                f"lambda2 must be a positive number or 'auto'; got {lambda2!r}"
            )
        return lambda2_from_hessian(op, margin)
    if not lambda2 > 0:
        raise ValueError(f"lambda2 must be positive, got {lambda2}")
    return torch.full((op.grad.shape[0],), float(lambda2), dtype=op.grad.dtype)


def _maximiser(
    op: Hessian,
    lambda1: float | str,
    lambda2: torch.Tensor,
    sparsity: tuple[float, float],
    **solve_kwargs,
) -> torch.Tensor:
    """Δ* per example, shape (n, d), at the λ₁ given or, for "auto", at the
    one the sparsity rule picks (:func:`select_lambda1`)."""
    if isinstance(lambda1, str):
        if lambda1 != "auto":
            raise ValueError(f"lambda1 must be a number ≥ 0 or 'auto'; got {lambda1!r}")
        return select_lambda1(op, lambda2, sparsity=sparsity, **solve_kwargs).delta
    if not lambda1 >= 0:
        raise ValueError(f"lambda1 must be ≥ 0, got {lambda1}")
    lam1 = torch.full((op.grad.shape[0], 1), float(lambda1), dtype=op.grad.dtype)
    return solve(op, lam1, lambda2, **solve_kwargs).delta[:, 0]


def cafo(model: nn.Module, x: torch.Tensor, target=None, **kwargs) -> torch.Tensor:
    """CAFO: :func:`caso` without the Hessian term (``second_order=False``)."""
    return caso(model, x, target, second_order=False, **kwargs)


class CasoExplainer(Explainer):
    """CAFO / CASO and their smooth versions through :func:`caso`.

    ``lambda1`` and ``lambda2`` are used as given unless ``auto_lambda1`` /
    ``auto_lambda2`` choose them (sparsity-ratio rule; λ₂ = margin·L/2).
    """

    def _attribute(self, x, target):
        p = self.params
        return caso(
            self.model,
            x,
            target,
            lambda1="auto" if p["auto_lambda1"] else p["lambda1"],
            lambda2="auto" if p["auto_lambda2"] else p["lambda2"],
            second_order=p["second_order"],
            hessian=p.get("hessian", "closed_form"),
            n_iter=p["n_iter"],
            smooth=p.get("smooth", 0.0),
            n_samples=p.get("n_samples", 16),
            margin=p["margin"],
            sparsity=(p["sparsity_low"], p["sparsity_high"]),
            seed=p.get("seed", 0),
        )


REFERENCE = "Singla, Wallace, Feng & Feizi (2019), ICML"

#: The widgets of CAFO and CASO (``second_order`` is fixed per method).
CASO_PARAMS = (
    Param(
        "auto_lambda1",
        "Choose λ₁ by sparsity ratio",
        "bool",
        True,
        help="The paper's unsupervised rule: the best solution whose share of "
        "zero features lies in the target range.",
    ),
    Param("lambda1", "λ₁ (ℓ1)", "float", 1e-3, low=0.0, high=1e3, log=True),
    Param("sparsity_low", "Sparsity from", "float", SPARSITY[0], low=0.0, high=1.0),
    Param("sparsity_high", "Sparsity to", "float", SPARSITY[1], low=0.0, high=1.0),
    Param(
        "auto_lambda2",
        "λ₂ from the top eigenvalue",
        "bool",
        True,
        help="λ₂ = margin · L / 2 > L/2 makes CASO strongly concave.",
    ),
    Param("lambda2", "λ₂ (ℓ2)", "float", 20.0, low=1e-8, high=1e6, log=True),
    Param("margin", "λ₂ margin", "float", MARGIN, low=1.01, high=100.0),
    Param("n_iter", "FISTA iterations", "int", N_ITER, low=1, high=10_000),
    Param(
        "hessian",
        "Hessian-vector products",
        "choice",
        "closed_form",
        choices=("closed_form", "autograd"),
        help="Closed form Jᵀ(diag(p) − ppᵀ)J for ReLU networks, or double backprop "
        "(any network). Also where the top eigenvalue for λ₂ comes from.",
    ),
)
#: SmoothCAFO and SmoothCASO add the noise of the averaged copies.
SMOOTH_CASO_PARAMS = (
    *CASO_PARAMS,
    Param("smooth", "Noise σ", "float", 0.15, low=0.0, high=10.0),
    Param("n_samples", "Noisy copies", "int", 16, low=1, high=500),
    SEED,
)
