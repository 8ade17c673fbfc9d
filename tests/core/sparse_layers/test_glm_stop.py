"""The elastic-net path's stopping rules: the default objective stop against a
float64 reference solved tight and scikit-learn, also on a nearly separable
tail where the KKT stop alone falls short; the KKT conditions the KKT stop
certifies, the duality gap every stop reports, and the intercept refit that
keeps that gap a bound."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from benchmarks.enet_path import synthetic_problem
from core.optim.fista import FistaState
from core.sparse_layers.glm import elastic_net_path, get_family
from core.sparse_layers.glm.solvers import (
    DEFAULT_TOL,
    MIN_WINDOW,
    STOPS,
    ElasticNetPenalty,
    ObjectiveStop,
    refit_intercept,
)
from tests.core.sparse_layers.problems import multinomial_problem, sklearn_logistic

#: The issue's goal, and what the default stop (tol 5e-6 on its estimate) is held to:
#: the objective within this relative gap of the optimum at every λ.
OBJECTIVE_RTOL = 1e-4
#: A duality gap is a bound (≥ 0); float32 predictions may round it below zero
#: by about their own precision relative to the objective, no more.
GAP_ROUNDING = 1e-6


def _problem(n=400, p=20, k=4, seed=0):
    return multinomial_problem(n, p, k, seed, informative=5)


def _reference(X, y, lambdas, alpha, family="multinomial"):
    """The same path in float64, each λ solved to a relative duality gap of 1e-9."""
    return elastic_net_path(
        X,
        y,
        family=family,
        alpha=alpha,
        lambdas=lambdas,
        dtype="float64",
        stop="duality_gap",
        tol=1e-9,
        max_epochs=200_000,
    )


@pytest.mark.parametrize(("family", "k"), [("multinomial", 4), ("binomial", 2)])
def test_default_stop_is_within_the_objective_gap_of_tight_references(family, k):
    X, y = _problem(k=k, seed=1)
    alpha = 0.9
    path = elastic_net_path(X, y, family=family, alpha=alpha, n_lambdas=15, eps=1e-3)
    assert path.stop == "objective" and path.tol == DEFAULT_TOL["objective"]
    assert np.all(path.diagnostics["converged"])
    ref = _reference(X, y, path.lambdas, alpha, family)
    assert np.all(ref.diagnostics["gap"] <= 1e-9)
    Xs = path.standardized(X).astype(np.float64)
    for i, lam in enumerate(path.lambdas):
        best = ref.objective(X, y, i)
        ours = path.objective(X, y, i)
        # The reference is the optimum to its own certificate, a gap of 1e-9.
        assert best <= ours * (1 + 1e-9), i
        assert (ours - best) / best <= OBJECTIVE_RTOL, (i, ours, best)
        if i % 5 == 4:  # scikit-learn's saga, solved tight, at every fifth λ
            model = sklearn_logistic(Xs, y, lam, alpha, max_iter=100_000)
            theirs = _with_model(path, i, model.coef_, model.intercept_).objective(
                X, y, i
            )
            assert abs(theirs - best) / best <= OBJECTIVE_RTOL, (i, theirs, best)
            assert (ours - theirs) / theirs <= OBJECTIVE_RTOL, (i, ours, theirs)


def test_objective_stop_holds_the_gap_on_a_nearly_separable_tail_where_kkt_does_not():
    # ReLU features of an 8-dimensional latent, 12 λ down to 1e-4·λ_max: on
    # the tail the KKT violation reaches float32's resolution while the
    # objective is still 1.9e-4 above its minimum (the P1 benchmark: 3.4e-3).
    X, y, _, _ = synthetic_problem(500, 32, 3, latent_dim=8)
    kw = dict(alpha=0.99, n_lambdas=12, eps=1e-4)
    path = elastic_net_path(X, y, **kw)
    kkt = elastic_net_path(X, y, stop="kkt", **kw)
    ref = elastic_net_path(
        X,
        y,
        alpha=0.99,
        lambdas=path.lambdas,
        dtype="float64",
        stop="kkt",
        tol=1e-10,
        max_epochs=100_000,
    )
    assert np.all(ref.diagnostics["converged"])

    def largest_gap(p):
        best = [ref.objective(X, y, i) for i in range(len(ref))]
        return max((p.objective(X, y, i) - b) / b for i, b in enumerate(best))

    assert largest_gap(path) <= OBJECTIVE_RTOL
    assert largest_gap(kkt) > OBJECTIVE_RTOL
    assert np.all(path.diagnostics["kkt"] <= 1e-4)  # its guard holds too


def _with_model(path, i, coef, intercept):
    """``path`` holding ``(coef, intercept)`` at λ[i]."""
    coefs, intercepts = path.coef.copy(), path.intercept.copy()
    coefs[i], intercepts[i] = coef, intercept
    return dataclasses.replace(path, coef=coefs, intercept=intercepts)


def test_kkt_stop_certifies_the_kkt_conditions_it_reports():
    X, y = _problem(seed=2)
    alpha, tol = 0.9, 1e-4
    path = elastic_net_path(
        X, y, alpha=alpha, n_lambdas=15, eps=1e-3, tol=tol, stop="kkt"
    )
    fam = get_family("multinomial")
    Xs = torch.as_tensor(path.standardized(X)).double()
    Y = fam.targets(torch.as_tensor(y), 4).double()
    # max |Xᵀ(Y − Ȳ)| / n: the gradient's scale at the null model.
    scale = (Xs.T @ (Y - Y.mean(0))).abs().max().item() / len(Xs)
    np.testing.assert_allclose(path.lambdas[0] * alpha, scale, rtol=1e-5)
    assert np.all(path.diagnostics["kkt"] <= tol)
    for i, lam in enumerate(path.lambdas):
        B = torch.as_tensor(path.coef[i]).double()
        b = torch.as_tensor(path.intercept[i]).double()
        R = fam.residual(Xs @ B.T + b, Y)
        G = (R.T @ Xs / len(Xs)).numpy()
        Bn = B.numpy()
        # The distance of −∇ to the subdifferential of the penalty, per entry.
        dist = np.where(
            Bn == 0,
            np.maximum(np.abs(G) - lam * alpha, 0),
            np.abs(G + lam * (1 - alpha) * Bn + lam * alpha * np.sign(Bn)),
        )
        # Twice the tolerance: the stop measures the mapping in float32.
        assert dist.max() <= 2 * tol * scale, (i, dist.max() / scale)
        assert np.abs(R.mean(0).numpy()).max() <= 1e-6  # the refitted intercept


@pytest.mark.parametrize("stop", ["objective", "kkt", "duality_gap"])
@pytest.mark.parametrize("seed", [0, 1])
def test_duality_gaps_are_never_negative(stop, seed):
    # The gap was evaluated at FISTA's intercept, not the optimal one for the
    # coefficients: the dual point's rows did not sum to zero and the "gap"
    # reached −2.7e-4 here (seed 0).
    X, y = _problem(seed=seed)
    path = elastic_net_path(X, y, alpha=0.9, n_lambdas=20, eps=1e-3, stop=stop)
    gaps = path.diagnostics["gap"]
    assert np.all(gaps >= -GAP_ROUNDING), gaps.min()


def test_duality_gap_stop_is_the_stricter_certificate():
    X, y = _problem(seed=3)
    kw = dict(alpha=0.9, n_lambdas=12, eps=1e-3, tol=1e-5)
    strict = elastic_net_path(X, y, stop="duality_gap", **kw)
    assert strict.stop == "duality_gap"
    assert np.all(strict.diagnostics["gap"] <= 1e-5)
    assert np.all(strict.diagnostics["kkt"] >= 0)
    with pytest.raises(ValueError, match=r"Unknown stop 'gap'.*'objective', 'kkt'"):
        elastic_net_path(X, y, stop="gap", **kw)


def test_refit_intercept_zeroes_its_gradient_without_touching_the_coefficients():
    rng = np.random.default_rng(4)
    fam = get_family("multinomial")
    y = torch.as_tensor(rng.integers(0, 3, 200))
    Y = fam.targets(y, 3)
    Z0 = torch.as_tensor(rng.standard_normal((200, 3)), dtype=torch.float32)
    b = torch.tensor([0.5, -0.2, -0.3])
    new_b, Z = refit_intercept(fam, Z0 + b, Y, b)
    torch.testing.assert_close(Z, Z0 + new_b)
    assert fam.residual(Z.double(), Y.double()).mean(0).abs().max() < 1e-6
    # Softmax is blind to a common shift: the refit keeps the sum of b.
    assert float(new_b.sum()) == pytest.approx(float(b.sum()), abs=1e-6)
    lower = fam.losses(Z.double(), Y.double()).mean()
    assert lower <= fam.losses((Z0 + b).double(), Y.double()).mean()


def test_sparse_layer_command_passes_the_stop_to_the_path(capsys):
    from core.cli.main import main
    from core.sparse_layers.sparse_layer import load_layer

    argv = ["sparse-layer", "--dataset", "digits", "--features", "raw"]
    argv += ["--n-lambdas", "4", "--eps", "0.2", "--stop", "duality_gap"]
    assert main(argv) == 0
    layer = load_layer("digits-raw")
    assert layer.path.stop == "duality_gap" and layer.dense.stop == "duality_gap"
    assert np.all(layer.path.diagnostics["gap"] <= 1e-4)
    with pytest.raises(SystemExit):
        main([*argv[:-1], "kkt-ish"])
    err = capsys.readouterr().err
    assert "invalid choice: 'kkt-ish'" in err
    # The CLI spells out STOPS (building its parser imports no torch).
    assert f"choose from {', '.join(map(repr, STOPS))})" in err


def _states(objectives, mapping=0.0):
    """FISTA states whose smooth value follows ``objectives`` (no penalty: the
    coefficients are zero), with a KKT mapping of ``mapping``."""
    B, b = torch.zeros(1, 2, 3), torch.zeros(1, 2)
    for it, f in enumerate(objectives, 1):
        yield FistaState(
            it,
            False,
            (B, b),
            (B, b),
            (torch.zeros(4, 2),),
            (B + mapping, b),
            torch.ones(1, dtype=torch.float64),
            torch.tensor([f], dtype=torch.float64),
        )


def _first_stop(rule, states):
    return next((s.iteration for s in states if rule(s)), None)


def test_objective_stop_extrapolates_what_is_left_from_the_rate():
    start = (torch.zeros(2, 3), torch.zeros(2), None)
    # F_k = 1 + 0.1·0.9^k: what is left after k is 0.1·0.9^k, relative to ~1.
    trace = [1 + 0.1 * 0.9**k for k in range(1, 400)]
    k = _first_stop(
        ObjectiveStop(ElasticNetPenalty(0.0, 1.0), 1e-5, 1.0, start), _states(trace)
    )
    assert k is not None and 0.1 * 0.9**k <= 2e-5
    assert 0.1 * 0.9 ** (k - 10) > 1e-5  # not long after it was met
    # A plateau passes only with the KKT violation within its guard.
    flat = [1.0] * 50
    rule = ObjectiveStop(ElasticNetPenalty(0.0, 1.0), 1e-5, 1.0, start)
    assert _first_stop(rule, _states(flat, mapping=1e-3)) is None
    rule = ObjectiveStop(ElasticNetPenalty(0.0, 1.0), 1e-5, 1.0, start)
    assert _first_stop(rule, _states(flat)) == 2 * MIN_WINDOW + 1
