"""The in-memory design's products (``X Bᵀ + b`` by oneDNN, ``Rᵀ X`` split over
threads) and the path's working-set widths."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.sparse_layers.glm import design, elastic_net_path
from core.sparse_layers.glm.design import _ONEDNN_LINEAR, affine, transpose_product
from core.sparse_layers.glm.path import WIDTH_STEP, _widened
from core.threads import torch_threads
from tests.core.sparse_layers.problems import multinomial_problem

#: Relative to the largest prediction: float32 rounding of a 2,048-term sum.
FLOAT32_RTOL = 1e-5


@pytest.mark.parametrize(
    "n, p, k",
    [(3000, 2048, 10), (10_000, 512, 10), (500, 37, 3), (200, 64, 1), (1, 5, 2)],
)
def test_affine_equals_the_float64_product_to_float32_rounding(n, p, k):
    g = torch.Generator().manual_seed(n + p + k)
    X = torch.randn(n, p, generator=g)
    B, b = torch.randn(k, p, generator=g), torch.randn(k, generator=g)
    exact = X.double() @ B.double().T + b.double()
    got = affine(X, B, b)
    assert got.dtype == torch.float32 and got.shape == (n, k)
    scale = exact.abs().max().item()
    assert (got.double() - exact).abs().max().item() <= FLOAT32_RTOL * scale


def test_affine_falls_back_to_the_matmul_where_onednn_does_not_apply():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(300, 40, generator=g, dtype=torch.float64)
    B = torch.randn(3, 40, generator=g, dtype=torch.float64)
    b = torch.randn(3, generator=g, dtype=torch.float64)
    # float64 (a reference solve) keeps its own precision.
    assert torch.equal(affine(X, B, b), X @ B.T + b)
    # A column slice of X is not contiguous; no columns at all.
    X32, B32, b32 = X.float(), B.float(), b.float()
    assert torch.allclose(
        affine(X32[:, ::2], B32[:, ::2], b32), X32[:, ::2] @ B32[:, ::2].T + b32
    )
    assert torch.equal(affine(X32[:, :0], B32[:, :0], b32), b32.expand(300, 3))
    # Gradients flow through the matmul.
    Bg = B32.clone().requires_grad_()
    affine(X32, Bg, b32).sum().backward()
    assert torch.allclose(Bg.grad, X32.sum(0).expand(3, -1), rtol=1e-4, atol=1e-4)


def test_this_build_has_the_onednn_kernel():
    # The speed the README reports needs it; a build without it still works.
    assert _ONEDNN_LINEAR is not None


def test_working_sets_grow_to_a_multiple_of_the_width_step_by_the_nearest_features():
    p = 3 * WIDTH_STEP + 10
    nearness = torch.arange(p, dtype=torch.float32)  # grows with the index
    work = torch.zeros(p, dtype=torch.bool)
    work[:5] = True
    wider = _widened(work, nearness)
    assert int(wider.sum()) == WIDTH_STEP
    assert wider[:5].all()  # everything it had
    added = (wider & ~work).nonzero().squeeze(1)
    assert added.tolist() == list(range(p - WIDTH_STEP + 5, p))  # the nearest
    # Full at the top, unchanged at a multiple, empty stays empty.
    work[: 3 * WIDTH_STEP + 1] = True
    assert bool(_widened(work, nearness).all())
    exact = torch.zeros(p, dtype=torch.bool)
    exact[:WIDTH_STEP] = True
    assert torch.equal(_widened(exact, nearness), exact)
    none = torch.zeros(p, dtype=torch.bool)
    assert not _widened(none, nearness).any()


def test_widened_working_sets_leave_the_path_where_full_sets_put_it():
    X, y = multinomial_problem(400, 150, 3, 0, informative=6)
    kw = dict(n_lambdas=12, eps=1e-2, tol=1e-7)
    screened = elastic_net_path(X, y, **kw)
    full = elastic_net_path(X, y, screening=False, **kw)
    a, f = screened.diagnostics["objective"], full.diagnostics["objective"]
    assert np.all(np.abs(a - f) <= 1e-5 * np.abs(f))
    assert screened.diagnostics["converged"].all()


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("n", [1, 5, 1001])
def test_transpose_product_splits_rows_over_threads_to_the_same_sum(threads, n):
    g = torch.Generator().manual_seed(n)
    X, R = torch.randn(n, 70, generator=g), torch.randn(n, 4, generator=g)
    exact = R.double().T @ X.double()
    with torch_threads(threads):
        got = transpose_product(R, X)
    assert got.shape == (4, 70)
    scale = exact.abs().max().item()
    assert (got.double() - exact).abs().max().item() <= FLOAT32_RTOL * scale


@pytest.mark.parametrize("k, onednn", [(1, True), (2, False), (9, False), (10, True)])
def test_affine_gives_onednn_one_output_or_ten_and_more(monkeypatch, k, onednn):
    calls = []

    def spy(X, B, b, *args):
        calls.append(B.shape[0])
        return X @ B.T + b

    monkeypatch.setattr(design, "_ONEDNN_LINEAR", spy)
    X, B, b = torch.randn(50, 8), torch.randn(k, 8), torch.randn(k)
    design.affine(X, B, b)
    assert calls == ([k] if onednn else [])
