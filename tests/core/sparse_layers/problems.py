"""Small multinomial problems for the elastic-net path's tests, and
scikit-learn's saga solved tight on them."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression


def multinomial_problem(n=300, p=12, k=3, seed=0, informative=4):
    """``n`` rows of ``p`` unscaled, off-centre features; labels drawn from a
    softmax of ``informative`` of them over ``k`` classes."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 3, p) + rng.uniform(-2, 2, p)
    W = np.zeros((k, p))
    W[:, :informative] = rng.standard_normal((k, informative)) * 1.5
    Z = ((X - X.mean(0)) / X.std(0)) @ W.T
    P = np.exp(Z - Z.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    y = (P.cumsum(1) > rng.random((n, 1))).argmax(1)
    return X, y


def sklearn_logistic(Xs, y, lam, alpha, max_iter=1_000_000):
    """scikit-learn's saga on standardised ``Xs`` at the path's ``lam`` and
    ``alpha`` (its C is 1 / (λ n)), solved to tol 1e-12; its convergence
    warnings are silenced (the callers compare objectives instead)."""
    model = LogisticRegression(
        C=1.0 / (lam * len(Xs)),
        l1_ratio=alpha,
        solver="saga",
        tol=1e-12,
        max_iter=max_iter,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(Xs, y)
    return model
