"""The two products of an elastic-net epoch, by each kernel, and bfloat16's cost.

    .venv/bin/python -m benchmarks.glm_products [--threads 1 2] [--repeats 8]

A FISTA epoch of the path is two products with the standardised features X
(n × p): the predictions ``X Bᵀ + b`` and the gradient's ``Rᵀ X`` (k outputs).
For P1's and P2's shapes (:mod:`benchmarks.enet_path`) and each thread count,
the best of ``--repeats`` calls of:

- one read of X (a sum: the memory-bandwidth floor of an epoch);
- ``X @ B.T + b`` (the BLAS matmul torch calls) and
  :func:`~core.sparse_layers.glm.design.affine` (oneDNN's linear, what the
  path uses);
- ``R.T @ X`` and :func:`~core.sparse_layers.glm.design.transpose_product`
  (one block of rows per thread);
- ``X @ B.T`` with X and B in bfloat16 (torch 2.13 has no CPU product of
  bfloat16 inputs with a float32 result, so its output is bfloat16 too).

Each kernel's error is printed relative to the largest entry of the float64
product. Then ``X Bᵀ + b`` by the BLAS matmul and by oneDNN for 1 to 32
outputs at SST-2's and P1's shapes (what ``affine``'s choice of kernel by the
number of outputs rests on). Last, bfloat16's accuracy cost where it matters: along P1's default
path (every third λ), the elastic-net objective and the loss gradient computed
from bfloat16 X and products, against float64.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from benchmarks.enet_path import best_ms, synthetic_problem
from core.sparse_layers.glm import elastic_net_path, get_family, solvers
from core.sparse_layers.glm.design import _ONEDNN_LINEAR, affine, transpose_product
from core.threads import torch_threads

SHAPES = {"P1": (10_000, 512, 10), "P2": (50_000, 2_048, 10)}
#: (rows, features) of the outputs scan: SST-2's MiniLM features, P1.
SCAN_SHAPES = {"SST-2": (6_920, 384), "P1": (10_000, 512)}
SCAN_OUTPUTS = (1, 2, 3, 5, 8, 10, 16, 32)


def kernel_rows(n: int, p: int, k: int, repeats: int) -> list[tuple[str, float, float]]:
    """(kernel, milliseconds, error relative to the float64 product's largest entry)."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, p, generator=g)
    B, b, R = (
        torch.randn(k, p, generator=g),
        torch.randn(k, generator=g),
        torch.randn(n, k, generator=g),
    )
    Z64 = X.double() @ B.double().T + b.double()
    G64 = R.double().T @ X.double()
    Xh, Bh = X.bfloat16(), B.bfloat16()

    def error(out, exact):
        return ((out.double() - exact).abs().max() / exact.abs().max()).item()

    cases = [
        ("one read of X (sum)", lambda: X.sum(), None),
        ("X @ B.T + b (BLAS)", lambda: X @ B.T + b, Z64),
        ("affine (oneDNN linear)", lambda: affine(X, B, b), Z64),
        ("R.T @ X (BLAS)", lambda: R.T @ X, G64),
        ("transpose_product (row blocks)", lambda: transpose_product(R, X), G64),
        ("X @ B.T + b in bfloat16", lambda: (Xh @ Bh.T).float() + b, Z64),
    ]
    return [
        (
            name,
            best_ms(fn, repeats),
            error(fn(), exact) if exact is not None else float("nan"),
        )
        for name, fn, exact in cases
    ]


def outputs_rows(n: int, p: int, repeats: int) -> list[tuple[int, float, float]]:
    """(outputs, BLAS ms, oneDNN ms) of ``X Bᵀ + b`` for each of
    :data:`SCAN_OUTPUTS`."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, p, generator=g)
    rows = []
    for k in SCAN_OUTPUTS:
        B, b = torch.randn(k, p, generator=g), torch.randn(k, generator=g)
        blas = best_ms(lambda B=B, b=b: X @ B.T + b, repeats)
        onednn = best_ms(
            lambda B=B, b=b: _ONEDNN_LINEAR(X, B, b, "none", [], ""), repeats
        )
        rows.append((k, blas, onednn))
    return rows


def bfloat16_cost() -> tuple[float, float]:
    """Largest relative objective error and gradient error (of its largest
    entry) along P1's default path when X and the products are bfloat16."""
    X, y, _, _ = synthetic_problem(10_000, 512, 10)
    path = elastic_net_path(X, y, alpha=0.99, n_lambdas=100, eps=1e-4)
    Xs = torch.as_tensor(np.ascontiguousarray(path.standardized(X)))
    family = get_family("multinomial")
    Y = family.targets(torch.as_tensor(y), 10)
    Xh = Xs.bfloat16()
    worst_objective = worst_gradient = 0.0
    for i in range(0, len(path), 3):
        B, b = torch.as_tensor(path.coef[i]), torch.as_tensor(path.intercept[i])
        penalty = solvers.penalty(B, path.lambdas[i], path.alpha)
        Z64 = Xs.double() @ B.double().T + b.double()
        exact = solvers.mean_loss(family, Z64, Y.double()) + penalty
        Zh = (Xh @ B.bfloat16().T).float() + b
        rounded = solvers.mean_loss(family, Zh, Y) + penalty
        R = family.residual(Z64.float(), Y)
        G64 = R.double().T @ Xs.double()
        Gh = (R.bfloat16().T @ Xh).double()
        worst_objective = max(worst_objective, abs(rounded - exact) / exact)
        worst_gradient = max(
            worst_gradient, ((Gh - G64).abs().max() / G64.abs().max()).item()
        )
    return worst_objective, worst_gradient


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=8)
    args = parser.parse_args()
    for label, (n, p, k) in SHAPES.items():
        for threads in args.threads:
            print(f"\n{label} {n:,} × {p:,} × {k}, {threads} thread(s)")
            with torch_threads(threads):
                for name, ms, err in kernel_rows(n, p, k, args.repeats):
                    print(f"  {name:<32} {ms:8.2f} ms   error {err:.1e}")
    if _ONEDNN_LINEAR is not None:
        for label, (n, p) in SCAN_SHAPES.items():
            print(f"\n{label} {n:,} × {p:,}, X Bᵀ + b by outputs, one thread")
            with torch_threads(1):
                for k, blas, onednn in outputs_rows(n, p, 4 * args.repeats):
                    print(
                        f"  k = {k:<3} BLAS {blas:7.3f} ms   oneDNN {onednn:7.3f} ms"
                        f"   BLAS / oneDNN {blas / onednn:.2f}"
                    )
    with torch_threads(1):
        objective, gradient = bfloat16_cost()
    print(
        f"\nbfloat16 X and products along P1's path: objective off by up to "
        f"{objective:.1e} (relative), gradient by {gradient:.1e} of its largest entry"
    )


if __name__ == "__main__":
    main()
