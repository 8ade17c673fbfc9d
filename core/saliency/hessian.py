"""The input Hessian of the cross-entropy, closed form and by autograd.

For a piecewise-linear network (ReLU, max-pool, linear and convolutional
layers, batch norm in eval mode) the logits are locally affine in the input,
``z = J x + b``, so the loss ``ℓ(x) = −log softmax(z)_t`` has

    ∇ₓℓ = Jᵀ (p − e_t),        H = ∇²ₓℓ = Jᵀ (diag(p) − p pᵀ) J,

with ``J`` the c×d input Jacobian of the logits and ``p`` the softmax
probabilities. H is positive semidefinite with rank at most c − 1; its
eigenvalues are those of the c×c matrix ``A^{1/2} J Jᵀ A^{1/2}``
(``A = diag(p) − p pᵀ``), so H is never formed.

Both operators here share one interface: ``grad`` (the input gradient),
``hvp(v)`` (Hessian-vector products for a batch of vectors per example) and
``quad(v)`` (``vᵀHv``). With ``n_samples > 1`` they describe the *smoothed*
loss of SmoothCASO: the gradient and Hessian averaged over noisy copies
``x + N(0, σ²)``.

References
----------
Singla, Wallace, Feng & Feizi (2019), "Understanding Impacts of High-Order
Loss Approximations and Features in Deep Learning Interpretation", ICML,
Proposition 1, Theorem 2 and Appendix C. Pearlmutter (1994), "Fast exact
multiplication by the Hessian".
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from core.saliency.inputs import noisy_copies
from core.training.gradients import evaluating
from core.training.models import ImageInput

#: Leaf modules through which a network stays piecewise linear in its input
#: (batch norm and dropout in eval mode are affine / the identity).
PIECEWISE_LINEAR = (
    nn.Linear,
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ReLU,
    nn.LeakyReLU,
    nn.MaxPool1d,
    nn.MaxPool2d,
    nn.AvgPool1d,
    nn.AvgPool2d,
    nn.AdaptiveAvgPool2d,
    nn.BatchNorm1d,
    nn.BatchNorm2d,
    nn.Dropout,
    nn.Flatten,
    nn.Identity,
    ImageInput,
)
_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)


def check_piecewise_linear(model: nn.Module) -> None:
    """Raise ValueError unless every leaf module of ``model`` is piecewise linear.

    The closed-form Hessian is exact only for such networks; for others (tanh,
    sigmoid, softmax inside the network, custom modules) use autograd.
    """
    bad = sorted(
        {
            type(m).__name__
            for m in model.modules()
            if not isinstance(m, PIECEWISE_LINEAR + _CONTAINERS)
        }
    )
    if bad:
        raise ValueError(
            "The closed-form Hessian needs a piecewise-linear network (Linear, "
            "Conv, ReLU, MaxPool, BatchNorm, Dropout, Flatten); this model also "
            f"has {', '.join(bad)}. Use hessian='autograd'."
        )


@contextlib.contextmanager
def input_gradients_enabled(model: nn.Module) -> Iterator[nn.Module]:
    """Eval mode and autograd on for the block, both restored afterwards."""
    with evaluating(model), torch.enable_grad():
        yield model


@dataclass
class ClosedFormHessian:
    """H = mean_j J_jᵀ (diag(p_j) − p_j p_jᵀ) J_j from the logits' Jacobians.

    Attributes
    ----------
    jac : tensor of shape (n, n_samples, c, d)
        Input Jacobians of the logits at each (noisy) copy of each example.
    probs : tensor of shape (n, n_samples, c)
    grad : tensor of shape (n, d)
        ∇ₓℓ averaged over the copies: ``mean_j J_jᵀ (p_j − e_t)``.
    """

    jac: torch.Tensor
    probs: torch.Tensor
    grad: torch.Tensor

    @classmethod
    def at(
        cls,
        model: nn.Module,
        x: torch.Tensor,
        target: torch.Tensor,
        *,
        sigma: float = 0.0,
        n_samples: int = 1,
        generator: torch.Generator | None = None,
    ) -> ClosedFormHessian:
        """Jacobians and probabilities of ``model`` at ``x`` (shape (n, ...))."""
        check_piecewise_linear(model)
        n = x.shape[0]
        copies = noisy_copies(x, n_samples, sigma, generator)
        m = copies.shape[1]
        flat = copies.reshape(n * m, -1).detach().requires_grad_(True)
        with input_gradients_enabled(model):
            logits = model(flat.reshape(n * m, *x.shape[1:]))
            c = logits.shape[1]
            rows = []
            for k in range(c):  # one backward pass per class: J is c × d
                (row,) = torch.autograd.grad(
                    logits[:, k].sum(), flat, retain_graph=k < c - 1
                )
                rows.append(row)
        jac = torch.stack(rows, dim=1).reshape(n, m, c, -1).detach()
        probs = torch.softmax(logits.detach(), dim=1).reshape(n, m, c)
        onehot = F.one_hot(target, c).to(probs.dtype)[:, None, :]
        grad = torch.einsum("nmcd,nmc->nd", jac, probs - onehot) / m
        return cls(jac, probs, grad)

    def _middle(self, u: torch.Tensor) -> torch.Tensor:
        # (diag(p) − p pᵀ) u for u of shape (n, k, m, c)
        p = self.probs[:, None]
        return p * u - p * (p * u).sum(-1, keepdim=True)

    def hvp(self, v: torch.Tensor) -> torch.Tensor:
        """H v for ``v`` of shape (n, k, d) (k vectors per example)."""
        u = torch.einsum("nmcd,nkd->nkmc", self.jac, v)
        return (
            torch.einsum("nmcd,nkmc->nkd", self.jac, self._middle(u))
            / (self.jac.shape[1])
        )

    def quad(self, v: torch.Tensor) -> torch.Tensor:
        """vᵀ H v for ``v`` of shape (n, k, d): shape (n, k)."""
        u = torch.einsum("nmcd,nkd->nkmc", self.jac, v)
        return (u * self._middle(u)).sum((-1, -2)) / self.jac.shape[1]

    def eigh(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Every non-trivial eigenpair of H through the small (m·c)×(m·c) problem.

        ``H = Bᵀ B`` with ``B`` the copies' ``A_j^{1/2} J_j / √m`` stacked; the
        non-zero eigenvalues of H are those of ``B Bᵀ`` and its eigenvectors
        are ``Bᵀ w / √μ``. (The paper uses a Cholesky factor of A; A is
        singular, ``A 1 = 0``, so the symmetric square root is used instead.)

        Returns
        -------
        eigenvalues : tensor of shape (n, m·c), descending
        eigenvectors : tensor of shape (n, m·c, d), unit norm (zero where the
            eigenvalue is zero)
        """
        n, m, c, d = self.jac.shape
        p = self.probs.double()
        a = torch.diag_embed(p) - p[..., :, None] * p[..., None, :]
        lam, q = torch.linalg.eigh(a)
        root = q @ torch.diag_embed(lam.clamp(min=0).sqrt()) @ q.transpose(-1, -2)
        b = (root @ self.jac.double()).reshape(n, m * c, d) / math.sqrt(m)
        mu, w = torch.linalg.eigh(b @ b.transpose(-1, -2))
        mu, w = mu.flip(-1).clamp(min=0), w.flip(-1)
        vecs = torch.einsum("nkd,nkj->njd", b, w)
        norms = vecs.norm(dim=-1, keepdim=True)
        vecs = torch.where(norms > 0, vecs / norms.clamp(min=1e-300), 0.0)
        return mu.to(self.jac.dtype), vecs.to(self.jac.dtype)

    def top_eigenvalue(self) -> torch.Tensor:
        """The largest eigenvalue L of H per example, shape (n,)."""
        return self.eigh()[0][:, 0]


@dataclass
class AutogradHessian:
    """Hessian-vector products by double backpropagation (Pearlmutter's trick).

    Works for any twice-differentiable network; for a piecewise-linear one it
    agrees with :class:`ClosedFormHessian` (the ReLU masks have zero
    derivative almost everywhere).
    """

    grad: torch.Tensor
    _copies_grad: torch.Tensor
    _flat: torch.Tensor
    n_samples: int

    @classmethod
    def at(
        cls,
        model: nn.Module,
        x: torch.Tensor,
        target: torch.Tensor,
        *,
        sigma: float = 0.0,
        n_samples: int = 1,
        generator: torch.Generator | None = None,
    ) -> AutogradHessian:
        n = x.shape[0]
        copies = noisy_copies(x, n_samples, sigma, generator)
        m = copies.shape[1]
        flat = copies.reshape(n * m, -1).detach().requires_grad_(True)
        with input_gradients_enabled(model):
            logits = model(flat.reshape(n * m, *x.shape[1:]))
            loss = F.cross_entropy(logits, target.repeat_interleave(m), reduction="sum")
            (g,) = torch.autograd.grad(loss, flat, create_graph=True)
        grad = g.detach().reshape(n, m, -1).mean(1)
        return cls(grad, g, flat, m)

    def hvp(self, v: torch.Tensor) -> torch.Tensor:
        """H v for ``v`` of shape (n, k, d)."""
        n, k, d = v.shape
        m = self.n_samples
        out = []
        with torch.enable_grad():
            for j in range(k):
                vj = v[:, j].repeat_interleave(m, dim=0)
                (hv,) = torch.autograd.grad(
                    self._copies_grad, self._flat, grad_outputs=vj, retain_graph=True
                )
                out.append(hv.reshape(n, m, d).mean(1))
        return torch.stack(out, dim=1)

    def quad(self, v: torch.Tensor) -> torch.Tensor:
        """vᵀ H v for ``v`` of shape (n, k, d): shape (n, k)."""
        return (v * self.hvp(v)).sum(-1)

    def top_eigenvalue(
        self, n_iter: int = 100, tol: float = 1e-4, seed: int = 0
    ) -> torch.Tensor:
        """The largest eigenvalue per example by power iteration, shape (n,)."""
        return power_iteration(
            self.hvp, self.grad.shape, n_iter=n_iter, tol=tol, seed=seed
        )[0]


def power_iteration(
    hvp: Callable[[torch.Tensor], torch.Tensor],
    shape: tuple[int, int] | torch.Size,
    *,
    n_iter: int = 100,
    tol: float = 1e-4,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The dominant eigenpair of a symmetric operator, per example.

    ``v ← Hv / ‖Hv‖`` until the Rayleigh quotient changes by less than ``tol``
    (relatively) for every example. For a positive semidefinite H (a ReLU
    network's) the dominant eigenvalue is the largest one, L.

    Parameters
    ----------
    hvp : callable
        ``hvp(v)`` for ``v`` of shape (n, 1, d) returns H v of the same shape.
    shape : (n, d)
    n_iter : int
        Maximum number of products; a warning says when it was not enough.
    tol : float
    seed : int
        Seeds the random start.

    Returns
    -------
    eigenvalue : tensor of shape (n,)
    eigenvector : tensor of shape (n, d)
    """
    if n_iter < 1:
        raise ValueError(f"n_iter must be at least 1, got {n_iter}")
    n, d = shape
    gen = torch.Generator().manual_seed(seed)
    v = torch.randn((n, 1, d), generator=gen)
    v = v / v.norm(dim=-1, keepdim=True)
    value = torch.zeros(n)
    for _ in range(n_iter):
        hv = hvp(v)
        new = (v * hv).sum(-1)[:, 0]
        norm = hv.norm(dim=-1, keepdim=True)
        if (norm == 0).all():
            return torch.zeros(n), v[:, 0]
        v = torch.where(norm > 0, hv / norm.clamp(min=1e-30), v)
        done = (new - value).abs() <= tol * new.abs().clamp(min=1e-12)
        value = new
        if done.all():
            return value, v[:, 0]
    warnings.warn(
        f"Power iteration did not converge to relative tolerance {tol} in "
        f"{n_iter} iterations; the eigenvalue may be underestimated.",
        RuntimeWarning,
        stacklevel=2,
    )
    return value, v[:, 0]


HESSIANS = {"closed_form": ClosedFormHessian, "autograd": AutogradHessian}


def local_hessian(
    model: nn.Module,
    x: torch.Tensor,
    target: torch.Tensor,
    *,
    hessian: str = "closed_form",
    sigma: float = 0.0,
    n_samples: int = 1,
    seed: int = 0,
) -> ClosedFormHessian | AutogradHessian:
    """The gradient and Hessian operator of the cross-entropy at ``x``.

    Parameters
    ----------
    model : nn.Module
        Returns logits of shape (n, c); evaluated in eval mode.
    x : tensor of shape (n, ...)
    target : long tensor of shape (n,)
    hessian : {"closed_form", "autograd"}
    sigma, n_samples : float, int
        SmoothCASO: average over ``n_samples`` copies ``x + N(0, σ²)``.
    seed : int
        Seeds the noise.
    """
    if hessian not in HESSIANS:
        raise ValueError(
            f"hessian must be one of {', '.join(map(repr, HESSIANS))}; got {hessian!r}"
        )
    if sigma < 0:
        raise ValueError(f"smooth (the noise σ) must be ≥ 0, got {sigma}")
    if sigma > 0 and n_samples < 1:
        raise ValueError(f"n_samples must be at least 1, got {n_samples}")
    gen = torch.Generator().manual_seed(seed)
    return HESSIANS[hessian].at(
        model, x, target, sigma=sigma, n_samples=n_samples, generator=gen
    )
