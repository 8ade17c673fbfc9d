"""The shared FISTA core: a reference LASSO, its pieces and its stopping."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import ElasticNet, Lasso

from core.optim.fista import IterateChange, L1Norm, SmoothFunction, fista
from core.sparse_layers.glm.families import get_family
from core.sparse_layers.glm.solvers import solve_by_fista


def lasso_problem(n: int = 40, p: int = 15):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, p))
    b = A @ np.r_[rng.standard_normal(4), np.zeros(p - 4)]
    return A, b + 0.1 * rng.standard_normal(n)


def least_squares(A: np.ndarray, b: np.ndarray) -> SmoothFunction:
    """(1/2n)‖Ax − b‖² per row of x."""
    At, bt, n = torch.as_tensor(A), torch.as_tensor(b), len(b)

    def f(x):
        r = x @ At.T - bt
        return (r * r).sum(-1) / (2 * n)

    return SmoothFunction(f, lambda x: (x @ At.T - bt) @ At / n)


def test_fista_reaches_the_lasso_optimum_of_scikit_learn():
    A, b = lasso_problem()
    alpha, n = 0.1, len(b)
    ref = Lasso(alpha=alpha, fit_intercept=False, tol=1e-12, max_iter=100_000).fit(A, b)
    res = fista(
        least_squares(A, b),
        L1Norm(torch.tensor([alpha], dtype=torch.float64)),
        torch.zeros(1, 15, dtype=torch.float64),
        lipschitz=0.1,
        stop=IterateChange(1e-12),
        n_iter=5000,
    )
    np.testing.assert_allclose(res.x[0].numpy(), ref.coef_, atol=1e-7)
    assert res.lipschitz[0] > 0.1  # backtracking raised the too-small first L
    ref_obj = ((A @ ref.coef_ - b) ** 2).sum() / (2 * n) + alpha * np.abs(
        ref.coef_
    ).sum()
    assert float(res.objective[0]) == pytest.approx(ref_obj, abs=1e-12)


def test_fista_solves_a_batch_of_problems_each_with_its_own_weight():
    A, b = lasso_problem()
    weights = torch.tensor([0.02, 0.1, 0.5], dtype=torch.float64)
    res = fista(
        least_squares(A, b),
        L1Norm(weights),
        torch.zeros(3, 15, dtype=torch.float64),
        stop=IterateChange(1e-12),
        n_iter=5000,
    )
    for row, alpha in zip(res.x, weights.tolist(), strict=True):
        ref = Lasso(alpha=alpha, fit_intercept=False, tol=1e-12, max_iter=100_000)
        np.testing.assert_allclose(row.numpy(), ref.fit(A, b).coef_, atol=1e-7)


def test_glm_fista_with_intercept_matches_scikit_learn_elastic_net():
    # The GLM solver composes the core with predictions, an unpenalised
    # intercept, restarts and a duality-gap stop.
    A, b = lasso_problem(60, 8)
    lam, alpha = 0.05, 0.7
    ref = ElasticNet(alpha=lam, l1_ratio=alpha, tol=1e-12, max_iter=100_000).fit(A, b)
    X, Y = torch.as_tensor(A), torch.as_tensor(b)[:, None]
    sol, _ = solve_by_fista(
        X,
        Y,
        get_family("gaussian"),
        lam,
        alpha,
        torch.zeros(1, 8, dtype=torch.float64),
        torch.zeros(1, dtype=torch.float64),
        lipschitz=1.0,
        tol=1e-12,
        max_iter=20_000,
    )
    assert sol.converged
    np.testing.assert_allclose(sol.B[0].numpy(), ref.coef_, atol=1e-6)
    assert float(sol.b[0]) == pytest.approx(ref.intercept_, abs=1e-6)


def test_fista_warns_when_it_hits_its_iteration_cap():
    with pytest.warns(RuntimeWarning, match="n_iter=2"):
        fista(
            SmoothFunction(lambda x: (x * x).sum(-1), lambda x: 2 * x),
            L1Norm(torch.tensor([0.1])),
            torch.ones(1, 3),
            lipschitz=100.0,
            stop=IterateChange(1e-6),
            n_iter=2,
        )


def test_fista_names_the_missing_piece_and_bad_settings():
    smooth = SmoothFunction(lambda x: (x * x).sum(-1), lambda x: 2 * x)
    with pytest.raises(TypeError, match="penalty's prox"):
        fista(smooth, object(), torch.ones(1, 3))
    with pytest.raises(ValueError, match="lambda1 must be ≥ 0"):
        L1Norm(torch.tensor([-1.0]))
    penalty = L1Norm(torch.tensor([0.1]))
    with pytest.raises(ValueError, match="backtrack"):
        fista(smooth, penalty, torch.ones(1, 3), backtrack=2.0)
    with pytest.raises(ValueError, match="lipschitz must be positive"):
        fista(smooth, penalty, torch.ones(1, 3), lipschitz=0.0)
    with pytest.raises(ValueError, match=r"shape \(B, d\)"):
        fista(smooth, penalty, torch.ones(3))
    with pytest.raises(ValueError, match="restart needs a batch of one problem"):
        fista(smooth, L1Norm(torch.ones(2)), torch.ones(2, 3), restart=True)
