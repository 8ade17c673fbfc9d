"""An ImageNet-sized elastic-net path: 1,281,167 × 2,048 features, 1,000 classes.

    .venv/bin/python -m benchmarks.enet_imagenet [--device cuda] [--rows N]
        [--features P] [--classes K] [--n-lambdas 100] [--eps 1e-4]

The size of the glm_saga paper's ImageNet decision layer (a ResNet-50's 2,048
penultimate features, 1.28 M training images; the paper: ~6 h on one GPU for
the path), drawn as :func:`benchmarks.enet_path.synthetic_problem` draws P1
(ReLU features of a 64-dimensional Gaussian latent, labels from a sparse
multinomial model, 25 informative features per class), generated in row
chunks so the host holds one float32 copy. SparseLens's path runs on
``--device``: X (10.5 GB in float32) and the n × 1,000 predictions live
there, so this needs a GPU with ~60 GB (an H100's 80 GB). There is no peer
and no float64 reference at this size: the table gives the path's own
certificates (largest KKT violation relative to λ_max·α, the duality gap per
λ), its seconds from the call, epochs, and accuracy on 50,000 held-out rows.
``--rows``/``--features``/``--classes`` shrink it to check the script on a CPU.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np

from core.sparse_layers.glm import elastic_net_path

CHUNK = 65_536


def imagenet_like(n: int, p: int, k: int, n_test: int, seed: int = 0):
    """(X, y, X_test, y_test): float32 features in row chunks, labels from a
    sparse multinomial model on the standardised features."""
    rng = np.random.default_rng(seed)
    latent_dim = 64
    W = (rng.standard_normal((latent_dim, p)) / np.sqrt(latent_dim)).astype(np.float32)
    X = np.empty((n + n_test, p), dtype=np.float32)
    for start in range(0, len(X), CHUNK):
        rows = min(CHUNK, len(X) - start)
        latent = rng.standard_normal((rows, latent_dim)).astype(np.float32)
        np.maximum(latent @ W + 0.1, 0, out=X[start : start + rows])
    mean = X[:n].mean(axis=0, dtype=np.float64)
    std = X[:n].std(axis=0, dtype=np.float64)
    keep = std > 0
    beta = np.zeros((k, p), dtype=np.float32)
    for c in range(k):
        cols = rng.choice(np.flatnonzero(keep), 25, replace=False)
        beta[c, cols] = rng.normal(0, 1.5, 25) / std[cols]
    offset = (beta @ mean).astype(np.float32)
    y = np.empty(len(X), dtype=np.int64)
    for start in range(0, len(X), CHUNK):
        Z = X[start : start + CHUNK] @ beta.T - offset
        P = np.exp(Z - Z.max(1, keepdims=True))
        P /= P.sum(1, keepdims=True)
        y[start : start + CHUNK] = (P.cumsum(1) > rng.random((len(Z), 1))).argmax(1)
    if not keep.all():
        X = X[:, keep]
    return X[:n], y[:n], X[n:], y[n:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--rows", type=int, default=1_281_167)
    parser.add_argument("--features", type=int, default=2048)
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--test-rows", type=int, default=50_000)
    parser.add_argument("--n-lambdas", type=int, default=100)
    parser.add_argument("--eps", type=float, default=1e-4)
    args = parser.parse_args()
    print(f"load average at the start: {os.getloadavg()[0]:.2f}")
    start = time.perf_counter()
    X, y, Xte, yte = imagenet_like(
        args.rows, args.features, args.classes, args.test_rows
    )
    print(
        f"drawn in {time.perf_counter() - start:.1f} s: {X.shape[0]:,} × "
        f"{X.shape[1]:,}, {len(np.unique(y))} classes; {args.n_lambdas} λ to "
        f"{args.eps:g}·λ_max on {args.device}"
    )
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = elastic_net_path(
            X,
            y,
            alpha=0.99,
            n_lambdas=args.n_lambdas,
            eps=args.eps,
            validation=(Xte, yte),
            device=args.device,
        )
    seconds = time.perf_counter() - start
    d = path.diagnostics
    last = len(path) - 1
    print(
        f"{'λ':>5}{'seconds':>10}{'epochs':>9}{'max KKT/λmaxα':>15}"
        f"{'max rel gap':>13}{'nnz(last)':>11}{'val acc(last)':>15}  note"
    )
    note = f"{len(caught)} λ warned (max_epochs)" if caught else ""
    print(
        f"{len(path):>5}{seconds:>10.1f}{int(d['epochs'].sum()):>9,}"
        f"{np.nanmax(d['kkt']):>15.1e}{np.nanmax(d['gap']):>13.1e}"
        f"{int(path.nonzeros[last].sum()):>11,}{d['val_accuracy'][last]:>15.3f}  {note}"
    )
    for i in sorted({0, len(path) // 4, len(path) // 2, 3 * len(path) // 4, last}):
        print(
            f"  λ[{i}]: {d['seconds'][i]:.2f} s, {int(d['epochs'][i])} epochs, "
            f"{int(path.nonzeros[i].sum()):,} non-zero, val acc "
            f"{d['val_accuracy'][i]:.3f}"
        )


if __name__ == "__main__":
    main()
