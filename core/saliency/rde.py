"""Rate-distortion explanations (RDE) solved by Frank–Wolfe.

A mask s ∈ [0, 1]ᵈ keeps features of x; the others are replaced by noise n
from an obfuscation distribution, and the distortion

    D(s) = E_n[(Φ(x) − Φ(s⊙x + (1−s)⊙n))²]

(Φ the target class's probability, or logit) is estimated by Monte Carlo.

- RC-RDE: minimise D(s) subject to ‖s‖₁ ≤ k, s ∈ [0, 1]ᵈ.
- MR-RDE: RC-RDE at several rates k, combined into one relevance ordering.
- Ord-RDE: minimise Σₖ D(Π pₖ) over the Birkhoff polytope (pₖ = k ones,
  then zeros); the ordering is read off Π.

Frank–Wolfe keeps every iterate a convex combination of LMO vertices, so the
masks satisfy their constraints exactly; the step size is the monotone
non-convex rule ``γ_t = 2^{−N}/√(t+1)``, the halving count N increased until
the step lowers the (same-noise) distortion estimate.

References
----------
Macdonald, Besançon & Pokutta (2022), "Interpretable Neural Networks with
Frank–Wolfe: Sparse Relevance Maps and Relevance Orderings", ICML; code at
github.com/ZIB-IOL/fw-rde (rates 50…400, 2,000 iterations, s₀ = 0; Birkhoff
200 iterations from the identity). Macdonald, Wäldchen, Hauch & Kutyniok
(2019), "A Rate-Distortion Framework for Explaining Neural Network
Decisions". Carderera, Besançon & Pokutta (2021), "Simple steps are all you
need" (the monotone step size).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from core.optim.lmo import check_rates, lmo_birkhoff, lmo_ksparse_box
from core.saliency.inputs import check_input_batch, resolve_target
from core.saliency.protocol import SEED, Explainer, Param
from core.training.gradients import evaluating

SCORES = ("probability", "logit")
#: Inputs per forward pass when many masks × noise samples are evaluated.
MAX_BATCH = 4096
#: At most this many halvings of the step size per iteration; a problem that
#: finds no decrease on the iteration's noise sample stays put and keeps its
#: halving count (so one unlucky sample cannot freeze it for good).
MAX_HALVINGS = 10

Noise = (
    str | tuple[float | torch.Tensor | np.ndarray, float | torch.Tensor | np.ndarray]
)


def noise_parameters(
    x: torch.Tensor, noise: Noise
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard deviation of the Gaussian obfuscation noise.

    Parameters
    ----------
    x : tensor of shape (n, d)
    noise : "data" or (mean, std)
        "data": each example's own mean and standard deviation over its
        features (the RDE paper's choice for images); (mean, std): scalars or
        arrays of shape (d,), e.g. per-feature statistics of a training split.

    Returns
    -------
    mean, std : tensors of shape (n, d)
    """
    n, d = x.shape
    if isinstance(noise, str):
        if noise != "data":
            raise ValueError(
                f"noise must be 'data' or a (mean, std) pair; got {noise!r}"
            )
        mean = x.mean(1, keepdim=True).expand(n, d)
        std = x.std(1, keepdim=True).expand(n, d)
        return mean.clone(), std.clone()
    if not (isinstance(noise, tuple | list) and len(noise) == 2):
        raise ValueError(f"noise must be 'data' or a (mean, std) pair; got {noise!r}")
    out = []
    for name, v in zip(("mean", "std"), noise, strict=True):
        t = torch.as_tensor(np.asarray(v, dtype=np.float32)).to(x.dtype).reshape(-1)
        if t.numel() not in (1, d):
            raise ValueError(
                f"noise {name} must be a scalar or have {d} entries; got {t.numel()}"
            )
        if not torch.isfinite(t).all():
            raise ValueError(f"noise {name} has NaN or infinite values")
        out.append(t.expand(d).expand(n, d).clone())
    if (out[1] < 0).any():
        raise ValueError("noise std must be ≥ 0")
    return out[0], out[1]


class Distortion:
    """D(s) for one example, batched over masks, and its gradient.

    Parameters
    ----------
    model : nn.Module
        Evaluated as given; callers wrap it in :func:`core.training.gradients.evaluating`.
    x : tensor of shape (d,)
        The example, flattened.
    shape : tuple
        The model's per-example input shape (``x.reshape(-1, *shape)``).
    target : int
    mean, std : tensors of shape (d,)
        The Gaussian obfuscation noise.
    score : {"probability", "logit"}
    """

    def __init__(
        self,
        model: nn.Module,
        x: torch.Tensor,
        shape: tuple[int, ...],
        target: int,
        mean: torch.Tensor,
        std: torch.Tensor,
        score: str = "probability",
    ):
        if score not in SCORES:
            raise ValueError(f"score must be one of {SCORES}; got {score!r}")
        self.model, self.x, self.shape, self.target = model, x, tuple(shape), target
        self.mean, self.std, self.score = mean, std, score
        with torch.no_grad():
            self.phi_x = self._phi(x[None])[0]

    def _phi(self, z: torch.Tensor) -> torch.Tensor:
        logits = self.model(z.reshape(-1, *self.shape))
        if self.score == "logit":
            return logits[:, self.target]
        return torch.softmax(logits, dim=1)[:, self.target]

    def sample(self, n_noise: int, generator: torch.Generator) -> torch.Tensor:
        """Noise samples of shape (n_noise, d)."""
        eps = torch.randn((n_noise, self.x.numel()), generator=generator)
        return self.mean + self.std * eps.to(self.x.dtype)

    def _chunks(self, b: int, n_noise: int) -> list[slice]:
        per = max(1, MAX_BATCH // max(n_noise, 1))
        return [slice(i, min(i + per, b)) for i in range(0, b, per)]

    def _value(self, s: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        z = s[:, None] * self.x + (1 - s[:, None]) * noise[None]
        phi = self._phi(z.reshape(-1, z.shape[-1])).reshape(s.shape[0], -1)
        return ((self.phi_x - phi) ** 2).mean(1)

    def value(self, s: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """D for masks ``s`` of shape (B, d) with the given noise: shape (B,)."""
        s = s.to(self.x.dtype)
        with torch.no_grad():
            return torch.cat(
                [self._value(s[c], noise) for c in self._chunks(len(s), len(noise))]
            )

    def value_and_grad(
        self, s: torch.Tensor, noise: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """D (B,) and ∂D/∂s (B, d) for masks of shape (B, d)."""
        values, grads = [], []
        with torch.enable_grad():
            for c in self._chunks(len(s), len(noise)):
                sc = s[c].detach().to(self.x.dtype).requires_grad_(True)
                v = self._value(sc, noise)
                (g,) = torch.autograd.grad(v.sum(), sc)
                values.append(v.detach())
                grads.append(g)
        return torch.cat(values), torch.cat(grads)


@dataclass(frozen=True)
class RDEResult:
    """What an RDE solver returns.

    Attributes
    ----------
    mask : tensor
        RC-RDE: the masks, shaped like ``x`` for one rate, else
        (n, n_rates, ...). MR-RDE and Ord-RDE: relevance scores in [0, 1]
        shaped like ``x`` (higher = kept earlier).
    distortion : tensor of shape (n, n_rates, n_iter + 1) or (n, n_iter + 1)
        The Monte-Carlo distortion estimate at s₀ and after every iteration
        (Ord-RDE: averaged over its rates).
    ordering : tensor of shape (n, d) or None
        Features from most to least relevant (MR-RDE, Ord-RDE).
    rates : tuple of float
    plan : tensor of shape (n, d, d) or None
        Ord-RDE's final doubly stochastic matrix Π.
    """

    mask: torch.Tensor
    distortion: torch.Tensor
    ordering: torch.Tensor | None
    rates: tuple[float, ...]
    plan: torch.Tensor | None = None


def frank_wolfe(
    value_and_grad: Callable[
        [torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]
    ],
    value: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    lmo: Callable[[torch.Tensor], torch.Tensor],
    z0: torch.Tensor,
    sample: Callable[[], torch.Tensor],
    n_iter: int,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Frank–Wolfe with the monotone non-convex step, batched over problems.

    ``z_{t+1} = z_t + γ_t (v_t − z_t)``, ``v_t = lmo(∇f(z_t))``,
    ``γ_t = 2^{−N_b}/√(t+1)`` with each problem's halving count ``N_b``
    increased until ``f(z_{t+1}) ≤ f(z_t)`` on the iteration's noise sample
    (at most :data:`MAX_HALVINGS` tries; without a decrease, no step).

    Parameters
    ----------
    value_and_grad, value : callables of ``(z, noise)``
        f (B,) and ∇f (shaped like z) for the problems ``z`` of shape (B, ...).
    lmo : callable
        ``lmo(grad)`` returns a vertex per problem, shaped like z.
    z0 : tensor of shape (B, ...)
    sample : callable
        Draws the noise of one iteration.
    n_iter : int
    progress : callable, optional
        ``progress(t, n_iter)`` after each iteration.

    Returns
    -------
    z : tensor shaped like z0
    trace : tensor of shape (B, n_iter + 1)
        f at each iterate, each estimated with that iteration's noise.
    """
    if n_iter < 1:
        raise ValueError(f"n_iter must be at least 1, got {n_iter}")
    z = z0.clone()
    halvings = torch.zeros(z.shape[0])
    trace = []
    extra = (1,) * (z.ndim - 1)
    for t in range(n_iter):
        noise = sample()
        f, g = value_and_grad(z, noise)
        if not (torch.isfinite(f).all() and torch.isfinite(g).all()):
            raise ValueError("The distortion or its gradient became non-finite")
        trace.append(f)
        d = lmo(g) - z
        gamma = _monotone_step(value, noise, z, d, f, halvings, t)
        z = z + gamma.reshape(-1, *extra) * d
        if progress is not None:
            progress(t + 1, n_iter)
    trace.append(value(z, sample()))
    return z, torch.stack(trace, dim=1)


def _monotone_step(
    value: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    noise: torch.Tensor,
    z: torch.Tensor,
    d: torch.Tensor,
    f: torch.Tensor,
    halvings: torch.Tensor,
    t: int,
) -> torch.Tensor:
    """Step sizes γ (B,) of iteration ``t`` along the directions ``d``.

    Each problem tries ``2^{−N}/√(t+1)`` from its halving count N upwards
    until ``value(z + γ d, noise) ≤ f``; ``halvings`` is updated in place with the
    count that worked. A problem without a decrease gets γ = 0.
    """
    b = z.shape[0]
    extra = (1,) * (z.ndim - 1)
    todo = torch.ones(b, dtype=torch.bool)
    gamma = torch.zeros(b, dtype=z.dtype)
    tries = halvings.clone()
    for _ in range(MAX_HALVINGS):
        trial = (2.0**-tries / math.sqrt(t + 1)).to(z.dtype)
        idx = todo.nonzero()[:, 0]
        new = value(z[idx] + trial[idx].reshape(-1, *extra) * d[idx], noise)
        ok = new <= f[idx]
        gamma[idx[ok]] = trial[idx[ok]]
        halvings[idx[ok]] = tries[idx[ok]]
        todo[idx[ok]] = False
        if not todo.any():
            break
        tries[idx[~ok]] += 1
    return gamma


def _setup(model, x, target, noise):
    x = check_input_batch(x)
    n = x.shape[0]
    flat = x.reshape(n, -1)
    t = resolve_target(model, x, target)
    mean, std = noise_parameters(flat, noise)
    return x, flat, t, mean, std


def _check_counts(n_iter: int, n_noise: int) -> None:
    if n_iter < 1 or n_noise < 1:
        raise ValueError(
            f"n_iter and n_noise must be at least 1; got {n_iter}, {n_noise}"
        )


def rc_rde(
    model: nn.Module,
    x: torch.Tensor,
    target: int | torch.Tensor | None = None,
    *,
    k: float | list[float] | tuple[float, ...],
    n_iter: int = 2000,
    n_noise: int = 16,
    noise: Noise = "data",
    score: str = "probability",
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> RDEResult:
    """Rate-constrained RDE: ``min D(s)`` s.t. ``‖s‖₁ ≤ k``, ``0 ≤ s ≤ 1``.

    Frank–Wolfe from s₀ = 0 with the k-sparse ∩ box LMO
    (:func:`core.optim.lmo.lmo_ksparse_box`); several rates are solved
    together, as one batch.

    Parameters
    ----------
    model : nn.Module
    x : tensor of shape (n, ...)
    target : int or tensor of shape (n,), optional
        Default: the predicted class.
    k : float or sequence of float
        Rate(s), in (0, d].
    n_iter : int
        Frank–Wolfe iterations (reference: 2,000).
    n_noise : int
        Noise samples per iteration for the Monte-Carlo distortion.
    noise : "data" or (mean, std)
        See :func:`noise_parameters`.
    score : {"probability", "logit"}
        Φ: the target class's softmax probability or logit.
    seed : int
    progress : callable, optional
        ``progress(done, total)`` over all examples' iterations.

    Returns
    -------
    RDEResult
        ``mask`` shaped like ``x`` for a single rate, (n, n_rates, ...) for a
        sequence; ``distortion`` correspondingly (n, n_iter + 1) or
        (n, n_rates, n_iter + 1).
    """
    _check_counts(n_iter, n_noise)
    x, flat, t, mean, std = _setup(model, x, target, noise)
    n, d = flat.shape
    single = np.ndim(k) == 0
    rates = check_rates(k, d)
    kk = torch.tensor(rates, dtype=torch.float64)
    masks, traces = [], []
    with evaluating(model):
        for i in range(n):
            dist = Distortion(
                model, flat[i], x.shape[1:], int(t[i]), mean[i], std[i], score
            )
            s, trace = frank_wolfe(
                dist.value_and_grad,
                dist.value,
                lambda g: lmo_ksparse_box(g, kk),
                torch.zeros(len(rates), d, dtype=torch.float64),
                _sampler(dist, n_noise, seed + i),
                n_iter,
                _offset(progress, i * n_iter, n * n_iter),
            )
            masks.append(s)
            traces.append(trace)
    mask = torch.stack(masks).to(x.dtype)
    trace = torch.stack(traces)
    if single:
        return RDEResult(mask[:, 0].reshape(x.shape), trace[:, 0], None, tuple(rates))
    return RDEResult(
        mask.reshape(n, len(rates), *x.shape[1:]), trace, None, tuple(rates)
    )


def _sampler(dist: Distortion, n_noise: int, seed: int) -> Callable[[], torch.Tensor]:
    """Draws ``n_noise`` noise samples per call from a generator seeded once."""
    gen = torch.Generator().manual_seed(seed)
    return lambda: dist.sample(n_noise, gen)


def _offset(progress, done: int, total: int):
    if progress is None:
        return None
    return lambda t, _n: progress(done + t, total)


def default_rates(d: int, n_rates: int = 8) -> list[float]:
    """``d/16, 2d/16, …, n_rates·d/16`` rounded: 49, 98, …, 392 for MNIST.

    The reference rates 50, 100, …, 400 on 784 pixels, scaled to ``d``.
    """
    return sorted({float(max(1, round(j * d / 16))) for j in range(1, n_rates + 1)})


def ordering_from_scores(scores: torch.Tensor) -> torch.Tensor:
    """Features from highest to lowest score, per row: (n, d) → (n, d) indices."""
    return torch.argsort(scores, dim=1, descending=True, stable=True)


def mr_rde(
    model: nn.Module,
    x: torch.Tensor,
    target: int | torch.Tensor | None = None,
    *,
    rates: list[float] | tuple[float, ...] | None = None,
    n_iter: int = 2000,
    n_noise: int = 16,
    noise: Noise = "data",
    score: str = "probability",
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> RDEResult:
    """Multi-rate RDE: RC-RDE at several rates combined into one ordering.

    A feature's relevance is its mask value averaged over the rates,
    ``r = (1/R) Σₖ s_k``: kept at small rates means kept at every larger one,
    so sorting r approximates the Ord-RDE ordering.

    Parameters
    ----------
    rates : sequence of float, optional
        Default :func:`default_rates` (the reference 50…400 on MNIST).
    Other parameters as in :func:`rc_rde`.

    Returns
    -------
    RDEResult
        ``mask``: r shaped like ``x``; ``ordering`` (n, d); ``distortion``
        (n, n_rates, n_iter + 1).
    """
    d = int(np.prod(x.shape[1:])) if x.ndim >= 2 else 0
    rates = list(rates) if rates is not None else default_rates(d)
    res = rc_rde(
        model,
        x,
        target,
        k=rates,
        n_iter=n_iter,
        n_noise=n_noise,
        noise=noise,
        score=score,
        seed=seed,
        progress=progress,
    )
    n = x.shape[0]
    relevance = res.mask.reshape(n, len(rates), -1).mean(1)
    return RDEResult(
        relevance.reshape(x.shape),
        res.distortion,
        ordering_from_scores(relevance),
        res.rates,
    )


def ord_rates(d: int, max_rates: int = 64) -> list[int]:
    """The rates k of Ord-RDE's sum: all of 1…d−1, or ``max_rates`` evenly spaced."""
    if d < 2:
        raise ValueError(f"Ord-RDE needs at least 2 features, got {d}")
    if d - 1 <= max_rates:
        return list(range(1, d))
    return sorted({int(round(v)) for v in np.linspace(1, d - 1, max_rates)})


def ord_rde(
    model: nn.Module,
    x: torch.Tensor,
    target: int | torch.Tensor | None = None,
    *,
    n_iter: int = 200,
    n_noise: int = 16,
    noise: Noise = "data",
    score: str = "probability",
    max_rates: int = 64,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> RDEResult:
    """Ordering RDE: ``min Σₖ D(Π pₖ)`` over the Birkhoff polytope.

    Frank–Wolfe from the identity; the LMO solves a linear assignment
    problem (:func:`core.optim.lmo.lmo_birkhoff`). The gradient with respect
    to Π is ``Σₖ ∇D(Π pₖ) pₖᵀ``. The ordering is the permutation nearest to
    the final Π (another assignment problem, maximising ``⟨Π, P⟩``).

    Parameters
    ----------
    max_rates : int
        The sum runs over every k in 1…d−1 when d − 1 ≤ ``max_rates``, else
        over ``max_rates`` evenly spaced k (:func:`ord_rates`): each rate
        costs ``n_noise`` forward passes per iteration.
    n_iter : int
        Frank–Wolfe iterations (reference: 200).
    Other parameters as in :func:`rc_rde`.

    Returns
    -------
    RDEResult
        ``mask``: relevance ``(d − position)/d`` shaped like ``x``;
        ``ordering`` (n, d), a permutation per example; ``distortion``
        (n, n_iter + 1), the mean over the rates of D(Π pₖ).
    """
    _check_counts(n_iter, n_noise)
    x, flat, t, mean, std = _setup(model, x, target, noise)
    n, d = flat.shape
    ks = ord_rates(d, max_rates)
    # P[j, i] = 1 when position j is among the first ks[i]: Π P stacks the masks.
    p = (torch.arange(d)[:, None] < torch.tensor(ks)[None]).to(torch.float64)
    relevance, orderings, traces, plans = [], [], [], []
    with evaluating(model):
        for i in range(n):
            dist = Distortion(
                model, flat[i], x.shape[1:], int(t[i]), mean[i], std[i], score
            )
            plan, trace = frank_wolfe(
                *_birkhoff_problem(dist, p),
                torch.eye(d, dtype=torch.float64)[None],
                _sampler(dist, n_noise, seed + i),
                n_iter,
                _offset(progress, i * n_iter, n * n_iter),
            )
            order, position = _nearest_permutation(plan[0])
            orderings.append(order)
            relevance.append((d - position.to(torch.float64)) / d)
            traces.append(trace[0])
            plans.append(plan[0])
    return RDEResult(
        torch.stack(relevance).to(x.dtype).reshape(x.shape),
        torch.stack(traces),
        torch.stack(orderings),
        tuple(float(k) for k in ks),
        torch.stack(plans),
    )


def _birkhoff_problem(dist: Distortion, p: torch.Tensor) -> tuple[Callable, ...]:
    """Ord-RDE's ``value``, ``value_and_grad`` and LMO for :func:`frank_wolfe`.

    One problem, a plan Π of shape (1, d, d); ``p`` (d, n_rates) holds the
    vertices pₖ as columns, so ``Π p`` stacks the masks. The value is the
    mean over the rates of D(Π pₖ); its gradient ``Σₖ ∇D(Π pₖ) pₖᵀ`` over the
    number of rates.
    """
    d, n_rates = p.shape

    def value(plan, noise):
        return torch.stack([dist.value((q @ p).T, noise).mean() for q in plan])

    def value_and_grad(plan, noise):
        masks = (plan[0] @ p).T
        v, g = dist.value_and_grad(masks, noise)
        grad = (g.T.to(torch.float64) @ p.T) / n_rates
        return v.mean()[None], grad[None]

    def lmo(grad):
        perm = lmo_birkhoff(grad[0])
        vertex = torch.zeros(1, d, d, dtype=torch.float64)
        vertex[0, torch.arange(d), torch.as_tensor(perm)] = 1
        return vertex

    return value_and_grad, value, lmo


def _nearest_permutation(plan: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The permutation nearest to the plan Π (d, d), maximising ``⟨Π, P⟩``.

    Returns
    -------
    order : long tensor of shape (d,)
        Features from first to last position.
    position : long tensor of shape (d,)
        Feature i's position.
    """
    position = torch.as_tensor(lmo_birkhoff(-plan))
    order = torch.empty(len(position), dtype=torch.long)
    order[position] = torch.arange(len(position))
    return order, position


class RCRDEExplainer(Explainer):
    """The RC-RDE mask at rate ``k``."""

    def _attribute(self, x, target):
        p = self.params
        return rc_rde(
            self.model,
            x,
            target,
            k=p["k"],
            n_iter=p["n_iter"],
            n_noise=p["n_noise"],
            score=p["score"],
            seed=p["seed"],
        ).mask


class MRRDEExplainer(Explainer):
    """MR-RDE relevance: RC-RDE masks averaged over ``n_rates`` rates d/16…"""

    def _attribute(self, x, target):
        p = self.params
        d = int(np.prod(x.shape[1:]))
        return mr_rde(
            self.model,
            x,
            target,
            rates=default_rates(d, p["n_rates"]),
            n_iter=p["n_iter"],
            n_noise=p["n_noise"],
            score=p["score"],
            seed=p["seed"],
        ).mask


class OrdRDEExplainer(Explainer):
    """Ord-RDE relevance, (d − position)/d from the Birkhoff solution."""

    def _attribute(self, x, target):
        p = self.params
        return ord_rde(
            self.model,
            x,
            target,
            n_iter=p["n_iter"],
            n_noise=p["n_noise"],
            score=p["score"],
            max_rates=p["max_rates"],
            seed=p["seed"],
        ).mask


REFERENCE = "Macdonald, Besançon & Pokutta (2022), ICML"

#: The widgets every RDE method shares.
_SOLVER_PARAMS = (
    Param("n_iter", "Frank–Wolfe iterations", "int", 300, low=1, high=100_000),
    Param("n_noise", "Noise samples per iteration", "int", 16, low=1, high=4096),
    Param(
        "score",
        "Score Φ",
        "choice",
        "probability",
        choices=("probability", "logit"),
    ),
    SEED,
)
RC_RDE_PARAMS = (
    Param("k", "Rate k (features kept)", "int", 50, low=1),
    *_SOLVER_PARAMS,
)
MR_RDE_PARAMS = (
    Param("n_rates", "Rates d/16, 2d/16, …", "int", 8, low=1, high=16),
    *_SOLVER_PARAMS,
)
#: Ord-RDE: an iteration costs ``n_noise`` forward passes per rate, so it
#: runs 100 iterations by default.
ORD_RDE_PARAMS = (
    Param("max_rates", "Rates in the sum (at most)", "int", 32, low=1),
    *(replace(p, default=100) if p.name == "n_iter" else p for p in _SOLVER_PARAMS),
)
