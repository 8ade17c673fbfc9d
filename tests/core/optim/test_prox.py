"""Proximal operators satisfy their optimality conditions."""

from __future__ import annotations

import torch

from core.optim.prox import block_soft_threshold, elastic_net_prox, soft_threshold


def test_soft_threshold_closed_form():
    x = torch.tensor([-3.0, -0.5, 0.0, 0.2, 2.0])
    torch.testing.assert_close(
        soft_threshold(x, 1.0), torch.tensor([-2.0, 0.0, 0.0, 0.0, 1.0])
    )


def test_soft_threshold_is_the_prox_of_the_l1_norm():
    # prox_{t‖·‖₁}(v) minimises ½‖x − v‖² + t‖x‖₁: 0 ∈ x − v + t ∂‖x‖₁.
    v = torch.linspace(-3, 3, 61, dtype=torch.float64)
    t = 0.7
    x = soft_threshold(v, t)
    nonzero = x != 0
    torch.testing.assert_close((v - x)[nonzero], t * torch.sign(x[nonzero]))
    assert ((v - x)[~nonzero].abs() <= t + 1e-12).all()
    grid = torch.linspace(-4, 4, 8001, dtype=torch.float64)
    for vi, xi in zip(v[::10], x[::10], strict=True):
        brute = grid[torch.argmin(0.5 * (grid - vi) ** 2 + t * grid.abs())]
        assert abs(float(brute - xi)) <= 1e-3


def test_elastic_net_prox_satisfies_its_optimality_condition():
    # prox of l1‖·‖₁ + (l2/2)‖·‖²: 0 ∈ x − v + l1 ∂‖x‖₁ + l2 x.
    v = torch.linspace(-3, 3, 61, dtype=torch.float64)
    l1, l2 = 0.4, 0.25
    x = elastic_net_prox(v, l1, l2)
    nonzero = x != 0
    r = v - x - l2 * x
    torch.testing.assert_close(r[nonzero], l1 * torch.sign(x[nonzero]))
    assert (r[~nonzero].abs() <= l1 + 1e-12).all()


def test_block_soft_threshold_gives_exact_zeros_and_satisfies_optimality():
    gen = torch.Generator().manual_seed(0)
    W = torch.randn(6, 7, generator=gen, dtype=torch.float64)
    W[:, 5:] *= 0.01  # a small group that must vanish
    group_of = torch.tensor([0, 0, 1, 2, 2, 3, 3])
    t = torch.tensor([0.5, 0.3, 1.0, 0.4], dtype=torch.float64)
    P = block_soft_threshold(W, group_of, t)
    for g in range(4):
        cols = (group_of == g).nonzero().flatten()
        w, p = W[:, cols], P[:, cols]
        norm = torch.linalg.vector_norm(w)
        if norm <= t[g]:
            assert (p == 0).all()
        else:
            # Closed form, and the optimality condition (W − P) = t · P / ‖P‖.
            torch.testing.assert_close(p, (1 - t[g] / norm) * w)
            torch.testing.assert_close(w - p, t[g] * p / torch.linalg.vector_norm(p))
    assert (P[:, 5:] == 0).all()
