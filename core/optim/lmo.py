"""Linear minimisation oracles: small pure functions, each with its formula.

An LMO returns ``argmin_{v ∈ C} ⟨g, v⟩`` for a convex set C; Frank–Wolfe moves
toward it, so its iterates stay in C without any projection.

References
----------
Jaggi (2013), "Revisiting Frank–Wolfe: Projection-free sparse convex
optimization", ICML. Macdonald, Besançon & Pokutta (2022), "Interpretable
Neural Networks with Frank–Wolfe: Sparse Relevance Maps and Relevance
Orderings", ICML (the k-sparse ∩ box polytope and the Birkhoff polytope).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment


def lmo_ksparse_box(grad: torch.Tensor, k: float | torch.Tensor) -> torch.Tensor:
    """LMO of the polytope ``{s ∈ [0, 1]ⁿ : ‖s‖₁ ≤ k}``, row by row.

    ``v = argmin ⟨g, v⟩``: 1 on the ⌊k⌋ coordinates with the most negative
    gradient entries, the fraction ``k − ⌊k⌋`` on the next one, and 0 wherever
    the gradient is not negative (those coordinates cannot lower ⟨g, v⟩).

    Parameters
    ----------
    grad : tensor of shape (B, n)
    k : float or tensor of shape (B,)
        The rate of each row, 0 ≤ k ≤ n.

    Returns
    -------
    tensor of shape (B, n), a vertex of the polytope per row
    """
    if grad.ndim != 2:
        raise ValueError(f"grad must have shape (B, n), got {tuple(grad.shape)}")
    b, n = grad.shape
    k = torch.as_tensor(k, dtype=grad.dtype).expand(b)
    if (k < 0).any() or (k > n).any():
        raise ValueError(f"rates k must be in [0, {n}]; got {k.tolist()}")
    order = grad.argsort(dim=1)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(n).expand(b, n).contiguous())
    whole = k.floor()[:, None]
    value = torch.where(
        rank < whole,
        torch.ones((), dtype=grad.dtype),
        torch.where(
            rank == whole, (k[:, None] - whole), torch.zeros((), dtype=grad.dtype)
        ),
    )
    return torch.where(grad < 0, value, torch.zeros((), dtype=grad.dtype))


def lmo_birkhoff(grad: np.ndarray | torch.Tensor) -> np.ndarray:
    """LMO of the Birkhoff polytope (n×n doubly stochastic matrices).

    Its vertices are the permutation matrices (Birkhoff–von Neumann), so the
    minimiser of ``⟨G, Π⟩ = Σᵢⱼ Gᵢⱼ Πᵢⱼ`` is the permutation solving the linear
    assignment problem with cost G (Hungarian algorithm,
    :func:`scipy.optimize.linear_sum_assignment`).

    Parameters
    ----------
    grad : array of shape (n, n)

    Returns
    -------
    array of shape (n,), int
        ``perm`` with ``Π[i, perm[i]] = 1``.
    """
    g = np.asarray(grad.detach().cpu() if isinstance(grad, torch.Tensor) else grad)
    if g.ndim != 2 or g.shape[0] != g.shape[1]:
        raise ValueError(f"grad must be a square matrix, got shape {g.shape}")
    if not np.isfinite(g).all():
        raise ValueError("grad contains NaN or infinite values")
    rows, cols = linear_sum_assignment(g)
    perm = np.empty(g.shape[0], dtype=np.int64)
    perm[rows] = cols
    return perm


def check_rates(k: float | list | tuple | np.ndarray, n: int) -> list[float]:
    """Rates as a list of floats in [1, n], or a ValueError saying what came."""
    rates = [float(v) for v in np.atleast_1d(np.asarray(k, dtype=float))]
    bad = [v for v in rates if not (math.isfinite(v) and 0 < v <= n)]
    if not rates or bad:
        raise ValueError(
            f"rates k must be in (0, {n}] (the number of features); got {bad or rates}"
        )
    return rates
