"""Proximal operators: small pure functions, each with its formula.

References
----------
Parikh & Boyd (2014), "Proximal Algorithms", §6.5 (ℓ1 and group norms).
"""

from __future__ import annotations

import torch


def soft_threshold(x: torch.Tensor, threshold: float | torch.Tensor) -> torch.Tensor:
    """prox of ``t‖·‖₁``: ``sign(x) · max(|x| − t, 0)``, elementwise."""
    return torch.sign(x) * torch.clamp(x.abs() - threshold, min=0)


def block_soft_threshold(
    W: torch.Tensor, group_of_column: torch.Tensor, thresholds: torch.Tensor
) -> torch.Tensor:
    """prox of ``Σ_g t_g ‖W[:, g]‖_F`` over column groups of ``W``.

    ``W[:, g] ← max(0, 1 − t_g / ‖W[:, g]‖_F) · W[:, g]``: a group whose norm is
    at most ``t_g`` becomes exactly zero, the others shrink toward zero.

    Parameters
    ----------
    W : tensor of shape (n_out, n_in)
    group_of_column : int tensor of shape (n_in,)
        The group of each column, in ``[0, n_groups)``.
    thresholds : tensor of shape (n_groups,)
        ``t_g``, e.g. ``step · λ · √|g|`` for the group LASSO.

    Returns
    -------
    tensor of shape (n_out, n_in)

    References
    ----------
    Yuan & Lin (2006), "Model selection and estimation in regression with
    grouped variables"; Scardapane et al. (2017), "Group sparse regularization
    for deep neural networks".
    """
    sq = torch.zeros_like(thresholds).index_add_(0, group_of_column, (W * W).sum(dim=0))
    norms = sq.sqrt()
    safe = torch.where(norms > 0, norms, torch.ones_like(norms))
    scale = torch.clamp(1 - thresholds / safe, min=0) * (norms > 0)
    return W * scale[group_of_column]


def elastic_net_prox(
    x: torch.Tensor, l1: float | torch.Tensor, l2: float | torch.Tensor
) -> torch.Tensor:
    """prox of ``l1 ‖·‖₁ + (l2 / 2) ‖·‖₂²``: ``soft_threshold(x, l1) / (1 + l2)``.

    ``l1`` and ``l2`` are floats or tensors that broadcast against ``x``.

    With a step ``γ`` and the elastic net ``λ[α‖β‖₁ + (1 − α)/2 ‖β‖₂²]`` this is
    the update of glm_saga's Algorithm 1 with ``l1 = γλα``, ``l2 = γλ(1 − α)``.

    References
    ----------
    Zou & Hastie (2005), "Regularization and variable selection via the elastic
    net"; Wong, Santurkar & Mądry (2021), Algorithm 1.
    """
    return soft_threshold(x, l1) / (1.0 + l2)
