"""CAFO/CASO and the λ₁ selection rule (FISTA and the prox: tests/core/optim)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.optim.prox import soft_threshold
from core.saliency import cafo, caso
from core.saliency.caso import lambda2_from_hessian, select_lambda1, solve
from core.saliency.hessian import local_hessian
from core.saliency.inputs import resolve_target
from tests.core.threads import one_torch_thread  # noqa: F401

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_net(seed: int = 0, d: int = 12) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, 16), nn.ReLU(), nn.Linear(16, 5)).double()


def inputs(n: int = 4, d: int = 12, seed: int = 1) -> torch.Tensor:
    return torch.randn(
        n, d, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)
    )


@pytest.mark.parametrize("hessian", ["closed_form", "autograd"])
def test_caso_with_lambda1_zero_is_the_regularised_newton_step(hessian):
    net, x = tiny_net(), inputs()
    t = resolve_target(net, x, None)
    op = local_hessian(net, x, t, hessian=hessian)
    lam2 = lambda2_from_hessian(op)
    sol = solve(op, torch.zeros(4, 1, dtype=torch.float64), lam2, n_iter=500, tol=1e-13)
    for i in range(4):
        H = torch.autograd.functional.hessian(
            lambda z, i=i: nn.functional.cross_entropy(net(z[None]), t[i : i + 1]),
            x[i],
        )
        exact = torch.linalg.solve(
            2 * lam2[i] * torch.eye(12, dtype=torch.float64) - H, op.grad[i]
        )
        torch.testing.assert_close(sol.delta[i, 0], exact, rtol=1e-8, atol=1e-10)


def test_cafo_is_the_soft_thresholded_gradient():
    net, x = tiny_net(), inputs()
    t = resolve_target(net, x, None)
    g = local_hessian(net, x, t).grad
    delta = cafo(net, x, lambda1=0.01, lambda2=3.0, n_iter=50, tol=1e-12)
    torch.testing.assert_close(delta, soft_threshold(g, 0.01) / 6.0)


def test_caso_optimality_condition_with_l1():
    # 0 ∈ g + HΔ − 2λ₂Δ − λ₁ ∂‖Δ‖₁ at the maximiser.
    net, x = tiny_net(3), inputs(seed=5)
    t = resolve_target(net, x, None)
    op = local_hessian(net, x, t)
    lam2 = lambda2_from_hessian(op, margin=1.5)
    lam1 = 0.3 * op.grad.abs().amax(1, keepdim=True)
    delta = solve(op, lam1, lam2, n_iter=2000, tol=1e-13).delta[:, 0]
    r = op.grad + op.hvp(delta[:, None])[:, 0] - 2 * lam2[:, None] * delta
    on = delta != 0
    assert on.any() and (~on).any()
    torch.testing.assert_close(
        r[on], (lam1.expand_as(r) * torch.sign(delta))[on], atol=1e-9, rtol=1e-7
    )
    assert (r[~on].abs() <= lam1.expand_as(r)[~on] + 1e-9).all()


def test_caso_shapes_targets_and_errors():
    net, x = tiny_net(), inputs()
    out = caso(net, x, 2, lambda1=0.0, lambda2="auto")
    assert out.shape == x.shape and out.dtype == x.dtype
    with pytest.raises(ValueError, match="lambda2 must be positive"):
        caso(net, x, lambda1=0.1, lambda2=0.0)
    with pytest.raises(ValueError, match="lambda1 must be ≥ 0"):
        caso(net, x, lambda1=-1.0, lambda2=1.0)
    with pytest.raises(ValueError, match="'auto'"):
        caso(net, x, lambda1="best", lambda2=1.0)
    with pytest.raises(ValueError, match="batch dimension"):
        caso(net, x[0], lambda1=0.1, lambda2=1.0)
    with pytest.raises(ValueError, match="margin must be > 1"):
        caso(net, x, lambda1=0.1, lambda2="auto", margin=0.5)


def test_lambda1_selection_lands_in_the_target_sparsity_range():
    net = nn.Sequential(nn.Linear(200, 32), nn.ReLU(), nn.Linear(32, 10)).double()
    x = inputs(6, 200, seed=2)
    t = resolve_target(net, x, None)
    op = local_hessian(net, x, t)
    lam2 = lambda2_from_hessian(op)
    for lo, hi in [(0.8, 0.95), (0.5, 0.6), (0.97, 0.99)]:
        sel = select_lambda1(op, lam2, sparsity=(lo, hi), n_iter=50)
        assert sel.in_range.all()
        assert ((sel.sparsity >= lo) & (sel.sparsity <= hi)).all()
        rho = (sel.delta == 0).double().mean(1)
        torch.testing.assert_close(rho, sel.sparsity)
        # The highest objective among the tried solutions in range.
        ok = (sel.tried_sparsity >= lo) & (sel.tried_sparsity <= hi)
        best = torch.where(ok, sel.tried_objective, -torch.inf).amax(1)
        torch.testing.assert_close(sel.objective, best)
        # All-zero solutions were reached, as the rule requires.
        assert (sel.tried_sparsity == 1).any(1).all()


def test_smooth_caso_differs_from_caso_and_is_seeded():
    net, x = tiny_net(), inputs()
    kw = dict(lambda1=0.0, lambda2="auto")
    plain = caso(net, x, **kw)
    a = caso(net, x, smooth=0.5, n_samples=8, seed=1, **kw)
    b = caso(net, x, smooth=0.5, n_samples=8, seed=1, **kw)
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, plain)


def test_closed_form_and_autograd_give_the_same_caso_and_smooth_caso():
    net, x = tiny_net(6), inputs(seed=9)
    for smooth in (0.0, 0.4):
        kw = dict(lambda1=0.05, smooth=smooth, n_samples=4, seed=2, n_iter=200)
        closed = caso(net, x, hessian="closed_form", lambda2=2.0, **kw)
        auto = caso(net, x, hessian="autograd", lambda2=2.0, **kw)
        torch.testing.assert_close(auto, closed, rtol=1e-7, atol=1e-10)
        # λ₂ = L from the c×c problem and from power iteration (tolerance 1e-4).
        closed = caso(net, x, hessian="closed_form", lambda2="auto", **kw)
        auto = caso(net, x, hessian="autograd", lambda2="auto", **kw)
        torch.testing.assert_close(auto, closed, rtol=1e-3, atol=1e-6)
