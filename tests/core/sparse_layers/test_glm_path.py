"""Elastic-net paths: agreement with scikit-learn, KKT, λ_max, bad input."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
import torch
from sklearn.linear_model import ElasticNet, LogisticRegression
from sklearn.metrics import log_loss, mean_squared_error

from core.sparse_layers.glm import elastic_net_path, get_family
from core.sparse_layers.glm.result import ElasticNetPath
from tests.core.sparse_layers.problems import multinomial_problem, sklearn_logistic


def _problem(n=300, p=12, k=3, seed=0):
    return multinomial_problem(n, p, k, seed, informative=4)


#: Neither solver's objective may beat the other's by more than this (relative).
OBJECTIVE_RTOL = 1e-4
#: Standardised coefficients (of order 1 here) agree to this, at every λ. At the
#: smallest λ the ridge part λ(1 − α) ≈ 1e-3 makes the objective flat: a 1e-6
#: difference in objective allows ‖ΔB‖ ≈ √(2 · 1e-6 / 1e-3) ≈ 0.04.
COEF_ATOL = 2e-2


def _penalty(coef, lam, alpha):
    """λ[α‖B‖₁ + (1 − α)/2 ‖B‖₂²], written out here, not taken from core."""
    coef = np.asarray(coef, np.float64)
    return lam * (alpha * np.abs(coef).sum() + 0.5 * (1 - alpha) * (coef**2).sum())


def _sklearn_objective(model, Xs, y, lam, alpha):
    """scikit-learn's own loss (its ``predict_proba`` or ``predict``) + penalty."""
    if isinstance(model, LogisticRegression):
        loss = log_loss(y, model.predict_proba(Xs), labels=model.classes_)
    else:
        loss = 0.5 * mean_squared_error(y, model.predict(Xs))
    return loss + _penalty(model.coef_, lam, alpha)


def _as_sklearn(template, coef, intercept):
    """A copy of the fitted ``template`` that holds our coefficients instead."""
    model = copy.deepcopy(template)
    if isinstance(model, LogisticRegression):
        model.coef_, model.intercept_ = coef.astype(np.float64), intercept
    else:
        model.coef_, model.intercept_ = coef[0].astype(np.float64), intercept[0]
    return model


def _as_path(path, i, model):
    """``path`` with the ``i``-th model replaced by scikit-learn's, to score it
    with our own float64 objective."""
    coef, intercept = model.coef_.reshape(path.coef.shape[1:]), model.intercept_
    return dataclasses.replace(
        path,
        coef=np.where(np.arange(len(path))[:, None, None] == i, coef, path.coef),
        intercept=np.where(
            np.arange(len(path))[:, None] == i,
            np.reshape(intercept, path.intercept.shape[1:]),
            path.intercept,
        ),
    )


def _assert_agree(path, X, y, fit_sklearn):
    """At every λ: neither solution is better than the other beyond
    ``OBJECTIVE_RTOL``, scored by our float64 objective and by scikit-learn's
    loss, and the coefficients agree to ``COEF_ATOL``."""
    Xs = path.standardized(X).astype(np.float64)
    for i, lam in enumerate(path.lambdas):
        theirs = fit_sklearn(Xs, lam)
        ours = _as_sklearn(theirs, path.coef[i], path.intercept[i])
        scores = {
            "float64": (
                path.objective(X, y, i),
                _as_path(path, i, theirs).objective(X, y, i),
            ),
            "sklearn": (
                _sklearn_objective(ours, Xs, y, lam, path.alpha),
                _sklearn_objective(theirs, Xs, y, lam, path.alpha),
            ),
        }
        for how, (a, b) in scores.items():
            assert abs(a - b) <= OBJECTIVE_RTOL * abs(b), (i, how, a, b)
        np.testing.assert_allclose(
            path.coef[i],
            np.reshape(theirs.coef_, path.coef.shape[1:]),
            atol=COEF_ATOL,
            err_msg=f"coefficients at λ[{i}] = {lam:.3g}",
        )
        np.testing.assert_allclose(
            path.intercept[i],
            np.reshape(theirs.intercept_, path.intercept.shape[1:]),
            atol=COEF_ATOL,
            err_msg=f"intercepts at λ[{i}] = {lam:.3g}",
        )


@pytest.mark.parametrize(("family", "k"), [("multinomial", 3), ("binomial", 2)])
def test_logistic_path_matches_sklearn_at_every_lambda(family, k):
    X, y = _problem(k=k)
    path = elastic_net_path(
        X,
        y,
        family=family,
        alpha=0.7,
        n_lambdas=12,
        eps=1e-2,
        tol=1e-7,
        max_epochs=20_000,
    )
    _assert_agree(path, X, y, lambda Xs, lam: sklearn_logistic(Xs, y, lam, 0.7))


def test_gaussian_path_matches_sklearn_elastic_net_at_every_lambda():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 10))
    y = X[:, 0] * 2 - X[:, 3] + 0.5 * rng.standard_normal(200) + 3
    path = elastic_net_path(
        X,
        y,
        family="gaussian",
        alpha=0.5,
        n_lambdas=10,
        eps=1e-2,
        tol=1e-5,
        max_epochs=20_000,
    )
    assert path.family == "gaussian"

    def fit(Xs, lam):
        # ElasticNet's objective is 1/(2n)‖y − Xw‖² + a·r‖w‖₁ + a(1 − r)/2 ‖w‖²,
        # ours with λ = a and α = r.
        return ElasticNet(alpha=lam, l1_ratio=0.5, tol=1e-12, max_iter=100_000).fit(
            Xs, y
        )

    _assert_agree(path, X, y, fit)


def test_kkt_conditions_hold_at_every_lambda():
    X, y = _problem(n=400, p=20, k=4, seed=2)
    alpha = 0.9
    path = elastic_net_path(
        X, y, alpha=alpha, n_lambdas=15, eps=1e-2, tol=1e-6, max_epochs=20_000
    )
    fam = get_family("multinomial")
    Xs = torch.as_tensor(path.standardized(X))
    Y = fam.targets(torch.as_tensor(y), 4)
    for i, lam in enumerate(path.lambdas):
        B = torch.as_tensor(path.coef[i]).double()
        b = torch.as_tensor(path.intercept[i]).double()
        R = fam.residual(Xs.double() @ B.T + b, Y.double())
        G = (R.T @ Xs.double() / len(Xs)).numpy()
        Bn = B.numpy()
        # Stationarity: G + λ(1−α)B + λα·∂|B| ∋ 0, to the solver's accuracy.
        zero = Bn == 0
        slack = 0.05 * lam * alpha
        assert np.all(np.abs(G[zero]) <= lam * alpha + slack), i
        active = (
            G[~zero] + lam * (1 - alpha) * Bn[~zero] + lam * alpha * np.sign(Bn[~zero])
        )
        assert np.all(np.abs(active) <= slack), i
        assert np.abs(R.mean(0).numpy()).max() < 1e-3  # the intercept is optimal


def test_lambda_max_is_exact():
    X, y = _problem(seed=3)
    path = elastic_net_path(X, y, alpha=0.99, n_lambdas=5, eps=0.5)
    assert np.all(path.coef[0] == 0)
    below = elastic_net_path(X, y, alpha=0.99, lambdas=[path.lambdas[0] * 0.99])
    assert np.count_nonzero(below.coef[0]) > 0
    # With every coefficient zero, the intercept gives the class priors.
    proba = np.exp(path.intercept[0]) / np.exp(path.intercept[0]).sum()
    np.testing.assert_allclose(proba, np.bincount(y) / len(y), atol=1e-4)


def test_path_is_warm_started_and_sparsity_grows():
    X, y = _problem(n=400, p=30, seed=4)
    path = elastic_net_path(X, y, n_lambdas=20, eps=1e-3, validation=(X[:50], y[:50]))
    active = path.active_features
    assert active[0] == 0 and active[-1] > active[5]
    assert path.coef.shape == (20, 3, 30) and path.intercept.shape == (20, 3)
    d = path.diagnostics
    assert np.all(d["converged"]) and np.all(d["kkt"] <= 1e-4)
    assert np.all(np.isfinite(d["gap"]))
    assert np.all(np.isfinite(d["val_accuracy"])) and d["train_accuracy"][-1] > 0.5


def test_original_scale_coefficients_predict_the_same():
    X, y = _problem(seed=5)
    path = elastic_net_path(X, y, n_lambdas=8, eps=1e-2)
    i = 7
    direct = X @ path.coef_original()[i].T + path.intercept_original()[i]
    np.testing.assert_allclose(direct, path.decision_function(X, i), atol=1e-4)


def test_labels_are_kept_and_round_trip(tmp_path):
    X, y = _problem(seed=6)
    names = np.array(["cat", "dog", "eel"])[y]
    path = elastic_net_path(X, names, n_lambdas=6, eps=1e-2)
    assert set(path.predict(X, 5)) <= {"cat", "dog", "eel"}
    path.save(tmp_path / "p")
    back = ElasticNetPath.load(tmp_path / "p")
    np.testing.assert_array_equal(back.coef, path.coef)
    assert list(back.classes) == ["cat", "dog", "eel"]
    assert back.diagnostics.keys() == path.diagnostics.keys()


def test_saga_reaches_fistas_objective():
    X, y = _problem(n=300, p=10, seed=7)
    kw = dict(alpha=0.99, n_lambdas=6, eps=5e-2)
    fista = elastic_net_path(X, y, tol=1e-6, max_epochs=20_000, **kw)
    saga = elastic_net_path(
        X, y, solver="saga", lr=0.05, batch_size=64, tol=1e-6, max_epochs=3000, **kw
    )
    for i in range(6):
        f, s = fista.objective(X, y, i), saga.objective(X, y, i)
        assert f <= s + 1e-7
        assert (s - f) / f < 1e-3


def test_hitting_max_epochs_warns():
    X, y = _problem(seed=8)
    with pytest.warns(RuntimeWarning, match="max_epochs=3"):
        elastic_net_path(X, y, n_lambdas=5, eps=1e-3, tol=1e-12, max_epochs=3)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda X, y: (np.where(X > 2, np.nan, X), y), "non-finite"),
        (lambda X, y: (X, np.zeros_like(y)), "single class"),
        (lambda X, y: (np.c_[X, np.ones(len(X))], y), "constant feature"),
        (lambda X, y: (X, y[:-1]), "labels for"),
        (lambda X, y: (X[:1], y[:1]), "at least 2"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(change, message):
    X, y = _problem(seed=9)
    with pytest.raises(ValueError, match=message):
        elastic_net_path(*change(X, y))


def test_empty_or_mismatched_validation_is_refused():
    X, y = _problem(seed=10)
    with pytest.raises(ValueError, match="X_val is empty"):
        elastic_net_path(X, y, validation=(np.empty((0, X.shape[1])), []))
    with pytest.raises(ValueError, match="columns"):
        elastic_net_path(X, y, validation=(X[:, :3], y))


def test_path_solver_lookup_names_the_choices():
    from core.sparse_layers.glm.path import PATH_SOLVERS, path_solver

    assert set(PATH_SOLVERS) == {"fista", "saga"}
    assert path_solver("saga") is PATH_SOLVERS["saga"]
    with pytest.raises(ValueError, match=r"Unknown solver 'cd'.*'fista', 'saga'"):
        elastic_net_path(np.eye(3), [0, 1, 0], solver="cd")
