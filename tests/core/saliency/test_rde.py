"""RC-RDE, MR-RDE and Ord-RDE (the LMOs: tests/core/optim)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import minimize
from torch import nn

from core.saliency.rde import (
    Distortion,
    default_rates,
    mr_rde,
    noise_parameters,
    ord_rde,
    rc_rde,
)
from tests.core.threads import one_torch_thread  # noqa: F401

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_classifier(d: int = 10, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, 16), nn.ReLU(), nn.Linear(16, 3)).eval()


def test_rc_rde_masks_satisfy_their_constraints_and_lower_the_distortion():
    net = tiny_classifier()
    x = torch.randn(2, 10, generator=torch.Generator().manual_seed(2))
    res = rc_rde(net, x, k=[2, 3.5], n_iter=60, n_noise=32)
    assert res.mask.shape == (2, 2, 10)
    assert (res.mask >= 0).all() and (res.mask <= 1).all()
    sums = res.mask.double().sum(-1)
    assert (sums <= torch.tensor([2.0, 3.5]) * (1 + 1e-6)).all()
    assert res.distortion.shape == (2, 2, 61)
    # s₀ = 0 replaces everything by noise; the solution does better.
    assert (res.distortion[..., -1] < res.distortion[..., 0]).all()
    single = rc_rde(net, x, k=2, n_iter=5, n_noise=4)
    assert single.mask.shape == x.shape and single.distortion.shape == (2, 6)


def test_rc_rde_finds_the_one_feature_a_model_uses():
    d = 8
    net = nn.Sequential(nn.Linear(d, 2)).eval()
    with torch.no_grad():
        net[0].weight.zero_()
        net[0].bias.zero_()
        net[0].weight[0, 5] = 4.0
    x = torch.zeros(1, d)
    x[0, 5] = 1.0
    res = rc_rde(net, x, 0, k=1, n_iter=200, n_noise=64, noise=(0.0, 1.0))
    assert int(res.mask[0].argmax()) == 5 and res.mask[0, 5] > 0.9


def test_mr_rde_combines_rates_into_an_ordering():
    net = tiny_classifier()
    x = torch.randn(1, 10)
    res = mr_rde(net, x, rates=[1, 2, 4], n_iter=30, n_noise=8)
    assert sorted(res.ordering[0].tolist()) == list(range(10))
    assert res.mask.shape == x.shape and res.distortion.shape == (1, 3, 31)
    scores = res.mask[0, res.ordering[0]]
    assert (scores[:-1] >= scores[1:]).all()
    assert default_rates(784) == [49.0, 98.0, 147.0, 196.0, 245.0, 294.0, 343.0, 392.0]


def test_ord_rde_returns_a_permutation_and_a_doubly_stochastic_plan():
    net = tiny_classifier(d=6)
    x = torch.randn(2, 6)
    res = ord_rde(net, x, n_iter=20, n_noise=8)
    for i in range(2):
        assert sorted(res.ordering[i].tolist()) == list(range(6))
    plan = res.plan
    assert (plan >= 0).all()
    torch.testing.assert_close(plan.sum(1), torch.ones(2, 6, dtype=plan.dtype))
    torch.testing.assert_close(plan.sum(2), torch.ones(2, 6, dtype=plan.dtype))
    assert res.distortion.shape == (2, 21)
    # Relevance follows the ordering: first position scores 1, then (d-1)/d, ...
    torch.testing.assert_close(
        res.mask[0, res.ordering[0]], torch.arange(6, 0, -1).float() / 6
    )


def test_distortion_gradient_matches_finite_differences():
    net = tiny_classifier().double()
    x = torch.randn(10, dtype=torch.float64)
    mean, std = noise_parameters(x[None], "data")
    dist = Distortion(net, x, (10,), 1, mean[0], std[0])
    noise = dist.sample(16, torch.Generator().manual_seed(0))
    s = torch.rand(1, 10, dtype=torch.float64)
    _, g = dist.value_and_grad(s, noise)
    e = torch.zeros_like(s)
    e[0, 3] = 1e-6
    fd = (dist.value(s + e, noise) - dist.value(s - e, noise)) / 2e-6
    assert float(g[0, 3]) == pytest.approx(float(fd[0]), rel=1e-5, abs=1e-9)


def test_noise_parameters_and_errors():
    x = torch.arange(6.0).reshape(1, 6)
    mean, std = noise_parameters(x, "data")
    torch.testing.assert_close(mean, torch.full((1, 6), 2.5))
    mean, std = noise_parameters(x, (np.zeros(6), 2.0))
    torch.testing.assert_close(std, torch.full((1, 6), 2.0))
    with pytest.raises(ValueError, match="'data' or a"):
        noise_parameters(x, "uniform")
    with pytest.raises(ValueError, match="6 entries"):
        noise_parameters(x, (np.zeros(3), 1.0))
    net = tiny_classifier(d=6)
    with pytest.raises(ValueError, match=r"rates k must be in \(0, 6\]"):
        rc_rde(net, x, k=7, n_iter=1)
    with pytest.raises(ValueError, match="n_iter and n_noise"):
        rc_rde(net, x, k=2, n_iter=0)


def test_rc_rde_reaches_the_optimum_of_a_linear_score():
    # For Φ(z) = wᵀz and noise n ~ N(0, 1) the expected distortion is the
    # convex quadratic D(s) = (Σᵢ wᵢxᵢ(1 − sᵢ))² + Σᵢ wᵢ²(1 − sᵢ)²; its
    # minimum over the rate-3 polytope comes from SLSQP on the exact formula.
    d = 10
    gen = torch.Generator().manual_seed(4)
    w = torch.rand(d, generator=gen) + 0.5
    x = torch.randn(1, d, generator=gen)
    net = nn.Sequential(nn.Linear(d, 2, bias=False)).eval()
    with torch.no_grad():
        net[0].weight.zero_()
        net[0].weight[1] = w
    wn, xn = w.double().numpy(), x[0].double().numpy()

    def exact(s):
        r = 1 - s
        return np.sum(wn * xn * r) ** 2 + np.sum(wn**2 * r**2)

    ref = minimize(
        exact,
        np.full(d, 0.3),
        method="SLSQP",
        bounds=[(0, 1)] * d,
        constraints=[{"type": "ineq", "fun": lambda s: 3 - s.sum()}],
        options={"ftol": 1e-12, "maxiter": 1000},
    )
    res = rc_rde(
        net, x, 1, k=3, n_iter=300, n_noise=256, noise=(0.0, 1.0), score="logit"
    )
    mask = res.mask[0].double().numpy()
    assert exact(mask) <= 1.02 * ref.fun
    assert np.abs(mask - ref.x).max() < 0.1
    assert res.distortion[0, -20:].mean() == pytest.approx(ref.fun, rel=0.1)


def test_ord_rde_orders_a_linear_score_by_weight():
    w = torch.tensor([0.1, 3.0, 0.5, 2.0, 0.05, 1.0])
    net = nn.Sequential(nn.Linear(6, 2, bias=False)).eval()
    with torch.no_grad():
        net[0].weight.zero_()
        net[0].weight[1] = w
    res = ord_rde(
        net,
        torch.ones(1, 6),
        1,
        n_iter=50,
        n_noise=128,
        noise=(0.0, 1.0),
        score="logit",
    )
    assert res.ordering[0].tolist() == torch.argsort(w, descending=True).tolist()
    assert res.distortion[0, -1] < res.distortion[0, 0] / 3  # from the identity
