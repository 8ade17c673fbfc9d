"""``python -m benchmarks.saliency caso`` times CASO and CAFO both at the
authors' 10-iteration cap and run to convergence, and counts the iterations
convergence takes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from benchmarks.saliency import CONVERGED_N_ITER, _caso_methods, fista_iterations
from core.saliency import caso, select_lambda1
from core.saliency.caso import N_ITER, _lambda2_per_example, solve
from core.saliency.hessian import local_hessian
from core.saliency.inputs import resolve_target
from tests.core.threads import one_torch_thread  # noqa: F401

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def net_and_x():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(200, 32), nn.ReLU(), nn.Linear(32, 10)).double()
    return net, torch.randn(1, 200, dtype=torch.float64)


def test_converged_rows_reach_the_solution_a_tighter_solve_finds(net_and_x):
    net, x = net_and_x
    methods = _caso_methods(net)
    assert CONVERGED_N_ITER > 100 * N_ITER
    for name, second_order in (("CASO", True), ("CAFO", False)):
        assert f"{name} auto λ₁, λ₂" in methods  # the capped row stays beside it
        got = methods[f"{name} auto, converged"](x)
        tight = caso(
            net,
            x,
            lambda1="auto",
            lambda2="auto",
            second_order=second_order,
            n_iter=50_000,
            tol=1e-9,
        )
        assert torch.allclose(got, tight, rtol=0, atol=1e-3 * float(tight.abs().max()))


def test_fista_iterations_is_the_count_the_tolerance_needs(net_and_x):
    net, x = net_and_x
    n = fista_iterations(net, x)
    assert 1 < n < CONVERGED_N_ITER
    # One iteration fewer at the same λ₁ and λ₂ stops short of the tolerance.
    op = local_hessian(net, x, resolve_target(net, x, None))
    lam2 = _lambda2_per_example(op, "auto")
    chosen = select_lambda1(op, lam2, n_iter=CONVERGED_N_ITER).lambda1[:, None]
    assert solve(op, chosen, lam2, n_iter=n).fista.converged
    assert not solve(op, chosen, lam2, n_iter=n - 1, warn=False).fista.converged
    # CAFO's smooth part is a multiple of the identity: one step solves it.
    assert fista_iterations(net, x, second_order=False) <= 2
