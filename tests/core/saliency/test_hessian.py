"""Closed-form and autograd input Hessians against torch.autograd.functional.hessian."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from core.saliency.hessian import (
    check_piecewise_linear,
    local_hessian,
    power_iteration,
)
from core.saliency.hessian_study import (
    hessian_stats,
    synthetic_inputs,
    synthetic_relu_net,
)
from core.saliency.inputs import resolve_target
from core.training.models import build_model
from tests.core.threads import one_torch_thread  # noqa: F401

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(6, 9), nn.ReLU(), nn.Linear(9, 7), nn.ReLU(), nn.Linear(7, 4)
    ).double()


def exact_hessian(net, x, t):
    return torch.autograd.functional.hessian(
        lambda z: F.cross_entropy(net(z[None]), t[None]), x
    )


@pytest.mark.parametrize("hessian", ["closed_form", "autograd"])
def test_hvp_and_gradient_equal_autograd_functional_hessian(hessian):
    net = tiny_net()
    x = torch.randn(
        5, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    )
    t = resolve_target(net, x, None)
    op = local_hessian(net, x, t, hessian=hessian)
    v = torch.randn(5, 3, 6, dtype=torch.float64)
    hv = op.hvp(v)
    for i in range(5):
        H = exact_hessian(net, x[i], t[i])
        torch.testing.assert_close(hv[i], v[i] @ H, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(
            op.quad(v)[i], torch.einsum("kd,de,ke->k", v[i], H, v[i])
        )
    grad = torch.func.vmap(
        torch.func.grad(lambda z, tt: F.cross_entropy(net(z[None]), tt[None]))
    )(x, t)
    torch.testing.assert_close(op.grad, grad)


def test_closed_form_eigenvalues_match_the_full_hessian_and_power_iteration():
    net = tiny_net(2)
    x = torch.randn(
        3, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(3)
    )
    t = resolve_target(net, x, torch.tensor([0, 1, 2]))
    cf = local_hessian(net, x, t, hessian="closed_form")
    mu, vecs = cf.eigh()
    ag = local_hessian(net, x, t, hessian="autograd")
    power = ag.top_eigenvalue(n_iter=2000, tol=1e-12)
    for i in range(3):
        full = torch.linalg.eigvalsh(exact_hessian(net, x[i], t[i])).flip(0)
        torch.testing.assert_close(mu[i], full[: mu.shape[1]], atol=1e-10, rtol=1e-8)
        assert full.min() > -1e-10  # Theorem 2: positive semidefinite
        torch.testing.assert_close(power[i], full[0], rtol=1e-6, atol=1e-10)
        H = exact_hessian(net, x[i], t[i])
        torch.testing.assert_close(
            H @ vecs[i, 0], mu[i, 0] * vecs[i, 0], atol=1e-9, rtol=1e-7
        )


def test_smoothed_closed_form_matches_the_average_of_exact_hessians():
    net = tiny_net(4)
    x = torch.randn(2, 6, dtype=torch.float64)
    t = resolve_target(net, x, None)
    op = local_hessian(net, x, t, sigma=0.3, n_samples=5, seed=7)
    copies = op.jac.shape[1]
    assert copies == 5
    # Rebuild the copies with the same seed and average the exact Hessians.
    gen = torch.Generator().manual_seed(7)
    noisy = x[:, None] + 0.3 * torch.randn((2, 5, 6), generator=gen, dtype=x.dtype)
    v = torch.randn(2, 1, 6, dtype=torch.float64)
    for i in range(2):
        H = sum(exact_hessian(net, noisy[i, j], t[i]) for j in range(5)) / 5
        torch.testing.assert_close(op.hvp(v)[i, 0], H @ v[i, 0])
        top = torch.linalg.eigvalsh(H).max()
        torch.testing.assert_close(op.top_eigenvalue()[i], top)


def test_closed_form_on_a_cnn_with_batch_norm_and_max_pool():
    torch.manual_seed(0)
    net = build_model("cnn_digits").double().eval()
    with torch.no_grad():  # non-trivial batch-norm statistics
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    x = torch.rand(2, 64, dtype=torch.float64)
    t = resolve_target(net, x, None)
    cf, ag = (local_hessian(net, x, t, hessian=h) for h in ("closed_form", "autograd"))
    v = torch.randn(2, 2, 64, dtype=torch.float64)
    torch.testing.assert_close(cf.hvp(v), ag.hvp(v))
    H = exact_hessian(net, x[0], t[0])
    torch.testing.assert_close(cf.hvp(v)[0], v[0] @ H)
    assert net.training is False


def test_closed_form_refuses_a_smooth_network():
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    with pytest.raises(ValueError, match="Tanh.*hessian='autograd'"):
        check_piecewise_linear(net)


def test_power_iteration_warns_when_it_runs_out_of_iterations():
    a = torch.diag(torch.tensor([1.0, 0.999, 0.5]))
    with pytest.warns(RuntimeWarning, match="did not converge"):
        power_iteration(lambda v: v @ a, (1, 3), n_iter=2, tol=1e-12)


def test_bad_hessian_names_raise():
    net = tiny_net()
    x = torch.zeros(2, 6, dtype=torch.float64)
    with pytest.raises(ValueError, match="hessian must be one of"):
        local_hessian(net, x, torch.tensor([0, 1]), hessian="exact")


def test_study_quantities_on_a_many_class_net_follow_the_theorem():
    net = synthetic_relu_net(n_features=16, n_classes=100, hidden=32)
    stats = hessian_stats(net, synthetic_inputs(60, 16, scales=(0.05, 40.0)))
    assert stats["rank1_error"].between(0, 1).all()
    assert stats["cosine"].between(0, 1 + 1e-9).all()
    confident = stats[stats["probability"] > 0.999]
    unsure = stats[stats["probability"] < 0.5]
    assert len(confident) > 3 and len(unsure) > 3
    assert confident["rank1_error"].median() < unsure["rank1_error"].median()
    assert confident["cosine"].median() > unsure["cosine"].median()
    assert (
        confident["caso_cafo_difference"].median()
        < unsure["caso_cafo_difference"].median()
    )
