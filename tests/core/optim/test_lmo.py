"""Linear minimisation oracles return the minimiser over their set."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from core.optim.lmo import check_rates, lmo_birkhoff, lmo_ksparse_box


def test_ksparse_box_lmo_is_the_minimiser_over_every_vertex():
    gen = torch.Generator().manual_seed(0)
    g = torch.randn(5, 6, generator=gen, dtype=torch.float64)
    for k in (1.0, 2.0, 2.5, 6.0):
        v = lmo_ksparse_box(g, k)
        assert ((v >= 0) & (v <= 1)).all() and (v.sum(1) <= k + 1e-12).all()
        # Vertices of {0 ≤ s ≤ 1, Σs ≤ k}: brute force over 0/1 vectors plus
        # one fractional entry (k − ⌊k⌋).
        best = torch.full((5,), np.inf, dtype=torch.float64)
        frac = k - np.floor(k)
        for bits in itertools.product([0.0, 1.0, frac], repeat=6):
            s = torch.tensor(bits, dtype=torch.float64)
            if s.sum() <= k + 1e-12 and (s == frac).sum() <= (1 if frac else 6):
                best = torch.minimum(best, g @ s)
        torch.testing.assert_close((g * v).sum(1), best)


def test_ksparse_box_lmo_rejects_rates_out_of_range():
    with pytest.raises(ValueError, match=r"rates k must be in \[0, 3\]"):
        lmo_ksparse_box(torch.zeros(1, 3), 4)


def test_birkhoff_lmo_is_the_minimising_permutation():
    rng = np.random.default_rng(1)
    g = rng.standard_normal((5, 5))
    perm = lmo_birkhoff(g)
    assert sorted(perm.tolist()) == list(range(5))
    best = min(
        sum(g[i, p[i]] for i in range(5)) for p in itertools.permutations(range(5))
    )
    assert sum(g[i, perm[i]] for i in range(5)) == pytest.approx(best)
    with pytest.raises(ValueError, match="square"):
        lmo_birkhoff(np.zeros((2, 3)))


def test_check_rates_names_the_rates_out_of_range():
    assert check_rates([1, 2.5], 4) == [1.0, 2.5]
    with pytest.raises(ValueError, match=r"\(0, 4\].*\[5\.0\]"):
        check_rates([1, 5], 4)
