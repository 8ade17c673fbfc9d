"""Small multinomial problems for the elastic-net path's tests."""

from __future__ import annotations

import numpy as np


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
