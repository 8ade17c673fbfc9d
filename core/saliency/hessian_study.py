"""Is the input Hessian rank one when the prediction is confident?

For each example: the predicted probability, the rank-one relative error of
H, ``‖H − μ₁v₁v₁ᵀ‖_F / ‖H‖_F = √(Σ_{i≥2} μᵢ²) / √(Σᵢ μᵢ²)``, the cosine
between H's top eigenvector v₁ and the gradient g, and the normalised
difference between the CASO and CAFO solutions with λ₁ = 0,

    ‖Δ_CASO/‖Δ_CASO‖ − Δ_CAFO/‖Δ_CAFO‖‖,  Δ_CASO = (2λ₂I − H)⁻¹g,  Δ_CAFO = g/(2λ₂),

all from the closed-form eigen-decomposition (the c×c problem), never
forming H. The theorem predicts all three shrink (|cos| → 1) as the
predicted probability → 1 with many classes.

References
----------
Singla, Wallace, Feng & Feizi (2019), ICML, Theorems 4 and 5, Figure 1.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import torch
from torch import nn

from core.saliency.caso import MARGIN
from core.saliency.hessian import ClosedFormHessian
from core.saliency.inputs import check_input_batch, resolve_target


def hessian_stats(
    model: nn.Module,
    x: torch.Tensor,
    target: int | torch.Tensor | None = None,
    *,
    margin: float = MARGIN,
    batch_size: int = 64,
) -> pd.DataFrame:
    """Rank-one error, gradient alignment and CASO–CAFO difference per example.

    Parameters
    ----------
    model : nn.Module
        A piecewise-linear classifier (closed-form Hessian).
    x : tensor of shape (n, ...)
    target : optional
        Default: the predicted class (the loss explained by CASO).
    margin : float
        λ₂ = margin · L / 2, as :func:`core.saliency.caso.caso` sets it.
    batch_size : int

    Returns
    -------
    DataFrame
        Columns ``probability`` (of the predicted class), ``n_classes``,
        ``top_eigenvalue``, ``rank1_error``, ``cosine`` (|cos(v₁, g)|),
        ``caso_cafo_difference``.
    """
    x = check_input_batch(x)
    if not margin > 1:
        raise ValueError(f"margin must be > 1, got {margin}")
    t = resolve_target(model, x, target)
    # Confident predictions need 1 − p to more than float32's 7 digits: work on
    # a float64 copy (the caller's model is left as it is).
    model = copy.deepcopy(model).double()
    rows = []
    for start in range(0, x.shape[0], batch_size):
        xb, tb = x[start : start + batch_size], t[start : start + batch_size]
        rows.append(
            _batch_stats(ClosedFormHessian.at(model, xb.double(), tb), tb, margin)
        )
    return pd.concat(rows, ignore_index=True)


def _batch_stats(
    op: ClosedFormHessian, target: torch.Tensor, margin: float
) -> pd.DataFrame:
    """The study's columns for one batch, from the eigenpairs of its Hessians."""
    mu, vecs = op.eigh()
    g = op.grad.double()
    mu, vecs = mu.double(), vecs.double()
    total = (mu**2).sum(1).sqrt()
    rest = (mu[:, 1:] ** 2).sum(1).sqrt()
    rank1 = torch.where(total > 0, rest / total.clamp(min=1e-300), 0.0)
    gnorm = g.norm(dim=1).clamp(min=1e-300)
    cosine = ((vecs[:, 0] * g).sum(1) / gnorm).abs()
    lam2 = (margin * mu[:, 0] / 2).clamp(min=1e-12)
    prob = op.probs[:, 0].double().gather(1, target[:, None])[:, 0]
    return pd.DataFrame(
        {
            "probability": prob.numpy(),
            "n_classes": op.probs.shape[-1],
            "top_eigenvalue": mu[:, 0].numpy(),
            "rank1_error": rank1.numpy(),
            "cosine": cosine.numpy(),
            "caso_cafo_difference": _caso_cafo_difference(mu, vecs, g, lam2).numpy(),
        }
    )


def _caso_cafo_difference(
    mu: torch.Tensor, vecs: torch.Tensor, g: torch.Tensor, lambda2: torch.Tensor
) -> torch.Tensor:
    """‖Δ_CASO/‖Δ_CASO‖ − Δ_CAFO/‖Δ_CAFO‖‖ per example at λ₁ = 0, shape (n,).

    Parameters
    ----------
    mu : tensor of shape (n, k)
        H's non-trivial eigenvalues; ``vecs`` (n, k, d) their eigenvectors.
    g : tensor of shape (n, d)
    lambda2 : tensor of shape (n,)
    """
    coef = torch.einsum("nkd,nd->nk", vecs, g)
    # (2λ₂I − H)⁻¹g = g/(2λ₂) + Σᵢ vᵢ (vᵢᵀg) (1/(2λ₂ − μᵢ) − 1/(2λ₂))
    shrink = 1 / (2 * lambda2[:, None] - mu) - 1 / (2 * lambda2[:, None])
    cafo = g / (2 * lambda2[:, None])
    caso = cafo + torch.einsum("nkd,nk->nd", vecs, coef * shrink)
    return (_unit(caso) - _unit(cafo)).norm(dim=1)


def _unit(v: torch.Tensor) -> torch.Tensor:
    return v / v.norm(dim=1, keepdim=True).clamp(min=1e-300)


def synthetic_relu_net(
    n_features: int = 64, n_classes: int = 1000, hidden: int = 256, seed: int = 0
) -> nn.Module:
    """A random bias-free ReLU MLP with many classes (He initialisation).

    Without biases the logits are positively homogeneous, ``z(αx) = α z(x)``,
    so scaling an input sweeps its prediction from uncertain to confident.
    """
    gen = torch.Generator().manual_seed(seed)
    layers = [nn.Linear(n_features, hidden, bias=False), nn.ReLU()]
    layers += [nn.Linear(hidden, hidden, bias=False), nn.ReLU()]
    layers += [nn.Linear(hidden, n_classes, bias=False)]
    net = nn.Sequential(*layers)
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Linear):
                m.weight.copy_(
                    torch.randn(m.weight.shape, generator=gen)
                    * np.sqrt(2 / m.in_features)
                )
    return net.eval()


def synthetic_inputs(
    n: int = 200,
    n_features: int = 64,
    scales: tuple[float, float] = (0.1, 30.0),
    seed: int = 0,
) -> torch.Tensor:
    """Gaussian inputs scaled log-uniformly in ``scales``: (n, n_features)."""
    gen = torch.Generator().manual_seed(seed + 1)
    x = torch.randn((n, n_features), generator=gen)
    x = x / x.norm(dim=1, keepdim=True) * np.sqrt(n_features)
    lo, hi = np.log(scales[0]), np.log(scales[1])
    alpha = torch.exp(lo + (hi - lo) * torch.rand((n, 1), generator=gen))
    return x * alpha


def binned(
    stats: pd.DataFrame, edges=(0.0, 0.5, 0.9, 0.99, 0.999, 1.0)
) -> pd.DataFrame:
    """Medians of the three quantities per predicted-probability bin."""
    bins = pd.cut(stats["probability"], list(edges), include_lowest=True)
    keys = [bins] + (["model"] if "model" in stats else [])
    return (
        stats.groupby(keys[::-1], observed=True)[
            ["rank1_error", "cosine", "caso_cafo_difference"]
        ]
        .median()
        .join(stats.groupby(keys[::-1], observed=True).size().rename("n"))
        .reset_index()
        .rename(columns={"probability": "probability bin"})
    )
