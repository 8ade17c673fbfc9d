"""Solvers for one elastic-net GLM problem at a fixed λ, warm-started.

The problem, for standardised features ``X`` (n × p), targets ``Y`` (n × k),
coefficients ``B`` (k × p) and an unpenalised intercept ``b`` (k,):

    min  (1/n) Σ_i loss(B x_i + b, y_i) + λ [α ‖B‖₁ + (1 − α)/2 ‖B‖₂²]

- :func:`solve_by_fista`: full-batch accelerated proximal gradient (the
  shared :func:`core.optim.fista.fista`) with backtracking and adaptive
  restart, stopped by the objective's estimated distance to its minimum
  (:class:`ObjectiveStop`, the path's default), the KKT violation
  (:class:`KktStop`) or the duality gap (:class:`DualityGapStop`);
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
#: Newton steps on the intercept alone (Newton converges quadratically from
#: FISTA's intercept, which is already close).
INTERCEPT_NEWTON_STEPS = 8
#: The stopping rules of :func:`solve_by_fista` and the path, by name.
STOPS = ("objective", "kkt", "duality_gap")
#: Each stop's tolerance when none is given. The objective's estimate aims at
#: 5e-6 so that the objective itself stays within 1e-4: on P1's tail the
#: estimate read up to 10× low (at 1e-5, λ[90] ended 1.1e-4 above the float64
#: reference's objective).
DEFAULT_TOL = {"objective": 5e-6, "kkt": 1e-4, "duality_gap": 1e-4}


def tolerance_for(stop: str, tol: float | None) -> float:
    """``tol``, or ``stop``'s default (:data:`DEFAULT_TOL`) when None."""
    if stop not in STOPS:
        raise ValueError(f"Unknown stop {stop!r}; expected one of {STOPS}")
    return DEFAULT_TOL[stop] if tol is None else tol


#: The shortest window :class:`ObjectiveStop` reads the objective's rate over.
MIN_WINDOW = 5
#: The KKT violation (of λ_max·α) :class:`ObjectiveStop` also asks for: the
#: KKT stop's default tolerance, a guard against plateaus, not the accuracy.
KKT_GUARD = 1e-4


@dataclass
class Solution:
    """A solver's result at one λ.

    ``gap`` is the duality gap of the problem the solver was given (``nan`` for
    SAGA, which does not compute one, and for FISTA stopped on the KKT
    violation, whose path computes it on the full problem), ``primal`` its
    objective, ``kkt`` the largest KKT violation (:func:`kkt_violation`;
    ``nan`` where not computed).
    """

    B: torch.Tensor
    b: torch.Tensor
    epochs: int
    primal: float
    gap: float
    converged: bool
    kkt: float = math.nan


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


def refit_intercept(
    family: Family, Z: torch.Tensor, Y: torch.Tensor, b: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The intercept that minimises the mean loss with the coefficients fixed,
    and the predictions it gives.

    ``Z = X Bᵀ + b`` are the predictions at the intercept ``b``; a new
    intercept only shifts them, so this needs no pass over ``X``: damped
    Newton steps in float64 on the k intercept values (the multinomial
    Hessian is singular along the all-ones direction: its pseudo-inverse).

    The duality gap's dual point, the residual, is feasible only when its rows
    sum to zero, which is the intercept's optimality: evaluated at a
    non-optimal intercept, the "gap" can be negative.

    Returns
    -------
    b : tensor of shape (k,)
    Z : tensor of shape (n, k)
        ``Z`` shifted to the new intercept, in ``Z``'s dtype.
    """
    Yd = Y.double()
    base = Z.double() - b.double()
    best = b.double()
    value = family.losses(base + best, Yd).mean()
    for _ in range(INTERCEPT_NEWTON_STEPS):
        Zb = base + best
        grad = family.residual(Zb, Yd).mean(dim=0)
        if grad.abs().max().item() <= 1e-12:
            break
        # rtol well above rounding: a rounded null direction must not pass
        # as a tiny eigenvalue and send the step along it.
        H = family.mean_hessian(Zb)
        step = torch.linalg.pinv(H, rtol=1e-9, hermitian=True) @ grad
        # Halve the step until the loss does not rise (it is convex).
        for _ in range(20):
            trial = best - step
            trial_value = family.losses(base + trial, Yd).mean()
            if trial_value <= value:
                best, value = trial, trial_value
                break
            step = step / 2
        else:
            break
    new_b = best.to(b.dtype)
    return new_b, Z + (new_b - b)


def kkt_violation(
    G: torch.Tensor,
    B: torch.Tensor,
    intercept_gradient: torch.Tensor,
    lam: float,
    alpha: float,
    lipschitz: float,
) -> float:
    """The largest entry of the proximal-gradient mapping at ``(B, b)``.

    For a coefficient, ``L (β − prox_{g/L}(β − ∇β/L))`` with the elastic-net
    penalty ``g``: zero exactly where the KKT conditions hold, else about the
    distance of ``−∇β`` to ``∂g(β)`` (``|∇β| − λα`` for a zero coefficient
    that should enter); for the unpenalised intercept, its gradient. skglm
    stops on a KKT violation of this kind; here it is read relative to
    ``max |Xᵀ(Y − Ȳ)| / n``, the gradient's scale at the null model.

    Parameters
    ----------
    G : tensor of shape (k, p)
        The loss gradient at ``(B, b)``.
    B : tensor of shape (k, p)
    intercept_gradient : tensor of shape (k,)
    lipschitz : float
        The step-size constant ``L``.
    """
    step = 1.0 / lipschitz
    top = intercept_gradient.abs().max().item() if intercept_gradient.numel() else 0.0
    if B.numel():
        moved = elastic_net_prox(
            B - G * step, lam * alpha * step, lam * (1 - alpha) * step
        )
        top = max(top, (B - moved).abs().max().item() * lipschitz)
    return top


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
    value is computed in float64 from predictions in X's dtype, whose rounding
    the decrease test allows for.
    """

    def __init__(self, family: Family, X: Design, Y: torch.Tensor):
        self.family, self.X, self.Y = family, X, Y
        #: (predictions, residual) of the last value computed: FISTA asks for
        #: the gradient at the point whose value it has just taken.
        self._residual: tuple[torch.Tensor, torch.Tensor] | None = None

    def predict(self, x: Parts) -> Parts:
        B, b = x
        return (self.X.linear(B[0], b[0]),)

    def value(self, z: Parts) -> torch.Tensor:
        losses, R = self.family.losses_and_residual(z[0], self.Y)
        self._residual = (z[0], R)
        return losses.double().mean().reshape(1)

    def gradient(self, x: Parts, z: Parts) -> Parts:
        if self._residual is not None and self._residual[0] is z[0]:
            R = self._residual[1]
        else:
            R = self.family.residual(z[0], self.Y)
        return ((self.X.transpose_times(R) / len(self.X))[None], R.mean(dim=0)[None])

    def decrease_slack(self, fy: torch.Tensor, bound: torch.Tensor) -> torch.Tensor:
        # Predictions rounded in X's dtype: allow that noise in the decrease
        # test (about 1e-6 in float32, 2e-15 in float64).
        return 8 * torch.finfo(self.X.dtype).eps * (1.0 + fy.abs())


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


class KktStop:
    """Stop FISTA once the proximal-gradient mapping at the extrapolated point,
    ``L (y − x⁺)`` (:func:`kkt_violation`), is at most ``tol × scale`` in every
    entry.

    ``scale`` is ``max |Xᵀ(Y − Ȳ)| / n`` (λ_max · α), so ``tol`` means the same
    on every problem, as glmnet's and skglm's tolerances do. The mapping
    comes with every FISTA step, so it is checked after each one at no cost.
    FISTA is not monotone: an unconverged run keeps the iterate with the
    smallest mapping.
    """

    def __init__(self, tol: float, scale: float, start):
        self.threshold = tol * scale
        self.tol = tol
        #: (B, b, Z, violation) of the best iterate seen (the start: inf).
        self.best = (*start, math.inf)

    def __call__(self, state: FistaState) -> bool:
        L = state.lipschitz[0].item()
        violation = L * max(
            (y[0] - x[0]).abs().max().item() if x.numel() else 0.0
            for y, x in zip(state.point, state.x, strict=True)
        )
        if violation < self.best[3]:
            self.best = (state.x[0][0], state.x[1][0], state.z[0], violation)
        return violation <= self.threshold

    def __str__(self) -> str:
        return f"the KKT violation reached tol={self.tol:g} of λ_max·α"


class ObjectiveStop:
    """Stop FISTA once the objective is estimated within ``tol`` (relative) of
    its minimum, and the KKT violation of :class:`KktStop` is within
    :data:`KKT_GUARD`.

    The estimate reads the running minimum ``F̂`` of the objective (the smooth
    value FISTA computed for its decrease test, plus the penalty) over the
    last two windows of ``m = max(5, k/4)`` iterations: a linearly converging
    method loses a constant fraction ``r = (F̂_{k−m} − F̂_k) / (F̂_{k−2m} −
    F̂_{k−m})`` of what is left per window, so what is left after ``k`` is
    about ``(F̂_{k−m} − F̂_k) · r / (1 − r)`` (Aitken's extrapolation). On the
    tail of a nearly separable problem the KKT violation reaches float32's
    resolution (about 2e-5 of λ_max·α on P1) while the objective is still
    1e-3 above its minimum, so a KKT threshold alone stops too early there;
    the rate keeps FISTA going while the objective still falls. The KKT part
    keeps a momentary plateau of the objective from passing for convergence.
    A converged run returns the iterate that met both tests, an unconverged
    one the iterate with the lowest objective.
    """

    def __init__(self, penalty: ElasticNetPenalty, tol: float, scale: float, start):
        self.penalty, self.tol = penalty, tol
        self.kkt = KktStop(KKT_GUARD, scale, start)
        #: (B, b, Z, objective) of the lowest objective seen (the start: inf).
        self.best = (*start, math.inf)
        self.trace: list[float] = []  # the running minimum after each iteration

    def __call__(self, state: FistaState) -> bool:
        kkt_met = self.kkt(state)
        objective = (state.value + self.penalty.value(state.x))[0].item()
        if objective < self.best[3]:
            self.best = (state.x[0][0], state.x[1][0], state.z[0], objective)
        self.trace.append(self.best[3])
        k = len(self.trace)
        m = max(MIN_WINDOW, k // 4)
        if k <= 2 * m:
            return False
        now, mid, old = self.trace[-1], self.trace[-1 - m], self.trace[-1 - 2 * m]
        recent, before = mid - now, old - mid
        if recent <= 0:
            left = 0.0
        elif before <= recent:
            left = math.inf  # not (yet) slowing down
        else:
            rate = recent / before
            left = recent * rate / (1 - rate)
        relative = left / abs(now) if now else math.inf
        if kkt_met and relative <= self.tol:
            # The iterate the KKT test passed, not an earlier one whose
            # objective is lower only by rounding.
            self.best = (state.x[0][0], state.x[1][0], state.z[0], objective)
            return True
        return False

    def __str__(self) -> str:
        return f"the objective was estimated within tol={self.tol:g} of its minimum"


class DualityGapStop:
    """Stop FISTA once the duality gap is at most ``tol`` × the primal objective.

    Checked after the first iteration (a good warm start needs few), every
    ``check_every`` iterations and at the last, each time at the iterate's
    coefficients with the intercept refitted (:func:`refit_intercept`: the
    gap is a bound only there). FISTA is not monotone, and float32 noise makes
    it wander once near the optimum, so the best point checked is kept for an
    unconverged run.
    """

    def __init__(self, loss: GlmLoss, lam, alpha, tol, check_every, start):
        self.loss, self.lam, self.alpha = loss, lam, alpha
        self.tol, self.check_every = tol, check_every
        #: (B, b, Z, primal, gap) of the lowest primal checked (the start: inf).
        self.best = (*start, math.inf, math.inf)
        self.primal, self.gap = math.inf, math.inf
        self.last = self.best

    def __call__(self, state: FistaState) -> bool:
        it = state.iteration
        if not (it % self.check_every == 0 or it == 1 or state.last):
            return False
        B = state.x[0][0]
        family, X, Y = self.loss.family, self.loss.X, self.loss.Y
        b, Z = refit_intercept(family, state.z[0], Y, state.x[1][0])
        G = loss_gradient(family, Z, Y, X)
        self.primal, self.gap = duality_gap(family, Z, Y, B, G, self.lam, self.alpha)
        self.last = (B, b, Z, self.primal, self.gap)
        if self.gap <= self.tol * abs(self.primal):
            return True
        if self.primal < self.best[3]:
            self.best = self.last
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
    stop: str = "duality_gap",
    scale: float | None = None,
    check_every: int = 5,
) -> tuple[Solution, float]:
    """Solve at one λ by FISTA with backtracking and gradient-based adaptive
    restart (:func:`core.optim.fista.fista`), stopped by the duality gap or by
    the KKT violation; the intercept is then refitted to the coefficients
    (:func:`refit_intercept`).

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
        ``stop="duality_gap"``: stop when the duality gap is at most ``tol`` ×
        the primal objective (checked every ``check_every`` iterations, each
        check a pass over ``X``). ``stop="kkt"``: when every entry of the
        proximal-gradient mapping is at most ``tol × scale``
        (:class:`KktStop`, checked every iteration for free).
        ``stop="objective"``: when the objective is estimated within ``tol``
        of its minimum (:class:`ObjectiveStop`, also free).
    max_iter : int
        Iterations (each one pass over ``X``).
    stop : {"duality_gap", "kkt", "objective"}
    scale : float
        ``stop="kkt"`` and ``"objective"``: the gradient's scale,
        ``max |Xᵀ(Y − Ȳ)| / n``.

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
    # The first check replaces the start (its value is inf): no predictions.
    start = (B, b, None)
    tol = tolerance_for(stop, tol)  # an unknown stop fails here
    if stop != "duality_gap" and scale is None:
        raise ValueError(f"stop={stop!r} needs scale, max |Xᵀ(Y − Ȳ)| / n")
    regulariser = ElasticNetPenalty(lam, alpha)
    if stop == "duality_gap":
        rule = DualityGapStop(loss, lam, alpha, tol, check_every, start)
    elif stop == "kkt":
        rule = KktStop(tol, scale, start)
    else:
        rule = ObjectiveStop(regulariser, tol, scale, start)
    result = fista(
        loss,
        regulariser,
        (B[None], b[None]),
        lipschitz=lipschitz,
        stop=rule,
        n_iter=max_iter,
        restart=True,
        warn=False,
    )
    L = float(result.lipschitz[0])
    if stop == "duality_gap":
        B, b, _, primal, gap = rule.last if result.converged else rule.best
        solution = Solution(B, b, result.n_iter, primal, gap, result.converged)
        return solution, L
    # Converged, the last iterate is the best: the first to meet the rule.
    B, b, Z, _ = rule.best
    b, Z = refit_intercept(family, Z, Y, b)
    primal = mean_loss(family, Z, Y) + penalty(B, lam, alpha)
    solution = Solution(B, b, result.n_iter, primal, math.nan, result.converged)
    return solution, L


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
