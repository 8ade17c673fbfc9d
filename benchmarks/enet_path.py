"""Elastic-net paths: SparseLens against every peer, in one run, on the same problems.

    .venv/bin/python -m benchmarks.enet_path [--problems p1 p1b p2 sst2]
        [--solvers sparselens sparselens_kkt sparselens_gap fista glmnet
         glm_saga sklearn] [--fista-tols 1e-5 3e-6] [--glmnet-thresh 1e-7 1e-8]
        [--target 1e-4] [--n-lambdas 100] [--eps 1e-4] [--glm-saga-lambdas K]
        [--sklearn-every 10] [--reference-tol 1e-9] [--reference-epochs N]
        [--no-reference] [--device cuda]

The full run (every problem, every solver) is the default; P2 (SparseLens ~30
minutes, glm_saga hours) and scikit-learn on P1 are the long parts, so
``--problems`` and ``--solvers`` pick subsets.

Every solver fits the same standardised problem in the same process, at the
same λ grid (α = 0.99, λ from λ_max down to ``--eps``·λ_max, 1e-4 as in the
glm_saga paper's timing appendix). Every time is wall clock around one call,
setup included (input checks, scaling, λ_max, SparseLens's power iteration,
glm_saga's loader and λ_max passes, glmnet's copy to Fortran order).

Solvers:

- ``sparselens``: :func:`core.sparse_layers.glm.elastic_net_path`, default stop
  (the objective estimated within 5e-6 of its minimum, KKT violation ≤ 1e-4 ·
  λ_max·α); ``sparselens_kkt``: ``stop="kkt"`` (the KKT violation alone,
  1e-4); ``sparselens_gap``: ``stop="duality_gap"`` (relative duality gap ≤
  1e-4);
- ``fista``: the 60-line FISTA of :mod:`benchmarks.fista_baseline`
  (backtracking, adaptive restart, every feature, proximal-gradient-mapping
  stop) at each ``--fista-tols`` tolerance;
- ``glmnet``: Fortran glmnet through ``python-glmnet`` (``LogitNet``, this
  grid, ``standardize=False``) at each ``--glmnet-thresh`` (its default
  1e-7); glmnet ends a path early once the deviance explained stops changing,
  and is compared on the λ it returned;
- ``glm_saga``: its defaults (lr 0.1, batch 512, tol 1e-4) on the CPU, fed by
  :class:`ShuffledBatches` (each epoch one permutation, minibatches yielded as
  slices: what a shuffling ``DataLoader`` yields, without assembling every
  minibatch row by row), its epochs recorded;
- ``sklearn``: scikit-learn's saga (tol 1e-4) at every ``--sklearn-every``-th
  λ, warm-started in between (it has no path API for the multinomial elastic
  net).

The reference: the same path in float64 (``dtype="float64"``), each λ solved
to a KKT violation of ``--reference-tol`` (1e-9 of λ_max·α) or
``--reference-epochs`` epochs. At every λ, each solver's relative objective
gap is taken against the lowest objective anyone reached there (the reference
or a solver), all scored by one float64 objective; the table prints the
largest over the path, and the goal is ≤ 1e-4. The reference's own duality gap
and the λ where it stopped at its epoch cap are printed beside it.

The goal is a largest relative gap ≤ ``--target`` (1e-4) at every λ, so
the table ends with each solver's time to it: its fastest setting that met
it on the whole path, and that time over SparseLens's (a peer's default
tolerance may miss the target where a tighter one meets it, so each runs at
several). A solver run on a prefix of the path (glm_saga capped, scikit-learn
to λ[91]) is timed against SparseLens called on the same λ (labelled "first
K λ"). Before the solvers, the memory-bandwidth floor of an epoch: the
time of one plain read of the standardised X (a sum), and of the two products
an unfused FISTA epoch makes (``X Bᵀ + b`` and ``Rᵀ X`` on every feature), by
SparseLens's kernels (oneDNN's linear; ``Rᵀ X`` split over threads), which
the FISTA baseline uses too, and by the BLAS matmul.

Problems: ``p1`` 10,000 × 512, 10 classes; ``p1b`` the same size from a
1,024-dimensional latent instead of 64 (features far less correlated);
``p2`` 50,000 × 2,048, 10 classes (all ReLU features of random projections of
a Gaussian latent, standardised, labels from a sparse multinomial model);
``sst2``: MiniLM sentence embeddings of SST-2 (6,920 × 384, 2 classes).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import time
import warnings

import numpy as np
import torch

from benchmarks.fista_baseline import fista_path
from core.sparse_layers.glm import (
    ElasticNetPath,
    elastic_net_path,
    get_family,
    solvers,
)
from core.sparse_layers.glm.design import affine, transpose_product

ALPHA = 0.99
SOLVERS = (
    "sparselens",
    "sparselens_kkt",
    "sparselens_gap",
    "fista",
    "glmnet",
    "glm_saga",
    "sklearn",
)
PROBLEMS = ("p1", "p1b", "p2", "sst2")
#: SparseLens under its other stops, at their default tolerances: solver name →
#: (stop, row label, the rule in words).
OTHER_STOPS = {
    "sparselens_gap": ("duality_gap", "sparselens-gap 1e-4", "duality gap ≤ 1e-4"),
    "sparselens_kkt": ("kkt", "sparselens-kkt 1e-4", "KKT ≤ 1e-4·λ_max·α"),
}


def synthetic_problem(n: int, p: int, k: int, seed: int = 0, latent_dim: int = 64):
    """Deep-feature-like data: ReLU(latent @ W), 25 informative features/class.

    With ``latent_dim`` below ``p`` the features are strongly correlated (rank
    about ``latent_dim``); above it they are nearly independent.
    """
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n + 5000, latent_dim)).astype(np.float32)
    W = rng.standard_normal((latent_dim, p)).astype(np.float32)
    W /= np.sqrt(latent_dim)
    X = np.maximum(latent @ W + 0.1, 0)
    X = X[:, X[:n].std(axis=0) > 0]
    Xs = (X - X[:n].mean(0)) / X[:n].std(0)
    beta = np.zeros((k, X.shape[1]), dtype=np.float32)
    for c in range(k):
        beta[c, rng.choice(X.shape[1], 25, replace=False)] = rng.normal(0, 1.5, 25)
    Z = Xs @ beta.T
    P = np.exp(Z - Z.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    y = (P.cumsum(1) > rng.random((len(X), 1))).argmax(1)
    # Row-major, as features usually arrive (the column selection above is not).
    X = np.ascontiguousarray(X)
    return X[:n], y[:n], X[n:], y[n:]


def sst2_problem():
    from core.sparse_layers.deep_features import MINILM, sentence_features

    fs = sentence_features("sst2", MINILM)
    return fs.X_train, fs.y_train, fs.X_test, fs.y_test


def run_sparselens(
    X, y, n_lambdas, eps, device="cpu", stop="objective", lambdas=None, tol=None
):
    """SparseLens's whole path (or ``lambdas``), ``stop`` at ``tol`` (its
    default when None), timed from the call."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = elastic_net_path(
            X,
            y,
            alpha=ALPHA,
            n_lambdas=n_lambdas,
            eps=eps,
            lambdas=lambdas,
            device=device,
            stop=stop,
            tol=tol,
        )
    seconds = time.perf_counter() - start
    return path, seconds, int(path.diagnostics["epochs"].sum()), len(caught)


def sparselens_seconds(X, y, lambdas, device="cpu") -> float:
    """Wall time of one SparseLens call on ``lambdas`` (a prefix of the path:
    the same λ, so the same warm starts and solutions), setup included."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        elastic_net_path(X, y, alpha=ALPHA, lambdas=lambdas, device=device)
    return time.perf_counter() - start


def reference_path(X, y, lambdas, tol, max_epochs):
    """The path in float64, each λ to a KKT violation of ``tol`` (or
    ``max_epochs``): the objectives every solver is measured against."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = elastic_net_path(
            X,
            y,
            alpha=ALPHA,
            lambdas=lambdas,
            dtype="float64",
            stop="kkt",
            tol=tol,
            max_epochs=max_epochs,
        )
    return path, time.perf_counter() - start, len(caught)


def epoch_floor(path: ElasticNetPath, X, repeats: int = 20) -> dict[str, float]:
    """Milliseconds of one plain read of the standardised X (float32, a sum:
    the memory-bandwidth floor of an epoch) and of the two products an
    unfused epoch makes on every feature (``X Bᵀ + b``, ``Rᵀ X``) by
    SparseLens's kernels (:func:`~core.sparse_layers.glm.design.affine`,
    :func:`~core.sparse_layers.glm.design.transpose_product`) and by the BLAS
    matmul, best of ``repeats``."""
    Xt = torch.as_tensor(np.ascontiguousarray(path.standardized(X)))
    k = path.coef.shape[1]
    B, b = torch.randn(k, Xt.shape[1]), torch.randn(k)
    R = torch.randn(Xt.shape[0], k)

    return dict(
        mb=Xt.numel() * 4 / 1e6,
        read=best_ms(lambda: Xt.sum(), repeats),
        products=best_ms(lambda: (affine(Xt, B, b), transpose_product(R, Xt)), repeats),
        blas=best_ms(lambda: (Xt @ B.T + b, R.T @ Xt), repeats),
    )


def best_ms(fn, repeats: int) -> float:
    """The fastest of ``repeats`` calls of ``fn``, in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * min(times)


class ShuffledBatches:
    """glm_saga's minibatches ``(X[idx], y[idx], idx)``: every pass draws a new
    permutation and yields its consecutive ``batch_size`` slices, as
    ``DataLoader(IndexedTensorDataset(X, y), batch_size, shuffle=True)`` does,
    but gathers the rows once per pass instead of assembling each minibatch
    row by row, a cost of the loader that is not glm_saga's.

    ``passes`` counts every pass glm_saga makes, evaluation included.
    """

    def __init__(self, X: torch.Tensor, y: torch.Tensor, batch_size: int, seed=0):
        self.X, self.y, self.batch_size = X, y, batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.passes = 0

    def __len__(self) -> int:
        return math.ceil(len(self.X) / self.batch_size)

    def __iter__(self):
        self.passes += 1
        order = torch.randperm(len(self.X), generator=self.generator)
        X, y = self.X[order], self.y[order]
        for start in range(0, len(order), self.batch_size):
            stop = start + self.batch_size
            yield X[start:stop], y[start:stop], order[start:stop]


#: Passes glm_saga makes besides its SAGA epochs: ``maximum_reg_loader`` reads
#: the loader four times for λ_max, and every λ is scored by one more pass.
GLM_SAGA_LAMBDA_MAX_PASSES = 4


def run_glm_saga(path: ElasticNetPath, X, y, n_lambdas, eps, max_lambdas):
    """glm_saga on the path's standardised features, its defaults, CPU; timed
    from the scaling (SparseLens scales inside its call)."""
    from glm_saga.elasticnet import glm_saga

    # glm_saga sweeps its own grid; cap its length to time the first λ only.
    ratio = eps ** (1 / (n_lambdas - 1))
    k_run = min(max_lambdas, n_lambdas)
    start = time.perf_counter()
    Xs = torch.as_tensor(path.standardized(X))
    yt = torch.as_tensor(np.searchsorted(path.classes, y))
    loader = ShuffledBatches(Xs, yt, batch_size=512)
    k = len(path.classes)
    linear = torch.nn.Linear(Xs.shape[1], k)
    torch.nn.init.zeros_(linear.weight)
    torch.nn.init.zeros_(linear.bias)
    log = io.StringIO()  # glm_saga prints a line per λ
    with contextlib.redirect_stdout(log), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Implicit dimension choice", UserWarning)
        out = glm_saga(
            linear,
            loader,
            0.1,
            2000,
            ALPHA,
            k=k_run,
            epsilon=ratio ** (k_run - 1),
            tol=1e-4,
            do_zero=False,
            verbose=None,
            n_ex=len(Xs),
            n_classes=k,
        )
    seconds = time.perf_counter() - start
    epochs = loader.passes - GLM_SAGA_LAMBDA_MAX_PASSES - len(out["path"])
    capped = log.getvalue().count("did not converge")
    coef = np.stack([p["weight"].numpy() for p in out["path"]])
    intercept = np.stack([p["bias"].numpy() for p in out["path"]])
    lams = np.array([float(p["lam"]) for p in out["path"]])
    return coef, intercept, lams, seconds, epochs, capped


def run_sklearn(path: ElasticNetPath, X, y, every):
    """scikit-learn's saga at every ``every``-th λ, timed from the scaling."""
    from sklearn.linear_model import LogisticRegression

    start = time.perf_counter()
    Xs = path.standardized(X).astype(np.float64)
    codes = np.searchsorted(path.classes, y)
    model = LogisticRegression(
        l1_ratio=ALPHA, solver="saga", tol=1e-4, max_iter=1000, warm_start=True
    )
    coefs, intercepts, idx, epochs = [], [], [], 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(1, len(path), every):
            model.set_params(C=1.0 / (path.lambdas[i] * len(Xs)))
            model.fit(Xs, codes)
            epochs += int(np.max(model.n_iter_))
            coef = model.coef_
            if coef.shape[0] == 1:  # binary: one output scores class 1
                coef = np.vstack([-coef / 2, coef / 2])
                icpt = np.array([-model.intercept_[0] / 2, model.intercept_[0] / 2])
            else:
                icpt = model.intercept_
            coefs.append(coef)
            intercepts.append(icpt)
            idx.append(i)
    seconds = time.perf_counter() - start
    return np.array(coefs), np.array(intercepts), np.array(idx), seconds, epochs


class Scorer:
    """Every solver's coefficients scored by one float64 objective on the
    path's standardised training features (standardised once)."""

    def __init__(self, path: ElasticNetPath, X, y):
        self.path = path
        self.family = get_family(path.family)
        self.X = torch.as_tensor((np.asarray(X, np.float64) - path.center) / path.scale)
        codes = torch.as_tensor(np.searchsorted(path.classes, y))
        self.Y = self.family.targets(codes, path.coef.shape[1]).double()

    def __call__(self, coef, intercept, i) -> float:
        return solvers.objective(
            self.family,
            self.X,
            self.Y,
            torch.as_tensor(np.asarray(coef), dtype=torch.float64),
            torch.as_tensor(np.asarray(intercept), dtype=torch.float64),
            float(self.path.lambdas[i]),
            ALPHA,
        )


def run_fista_baseline(path: ElasticNetPath, X, y, device="cpu", tol=1e-4):
    """The 60-line FISTA on the path's grid at ``tol``, on ``device``
    (SparseLens's), timed from the scaling."""
    start = time.perf_counter()
    Xs = path.standardized(X)
    codes = np.searchsorted(path.classes, y)
    coef, intercept, epochs = fista_path(
        Xs, codes, path.lambdas, ALPHA, tol=tol, device=device
    )
    seconds = time.perf_counter() - start
    return coef, intercept, seconds, int(epochs.sum()), int((epochs >= 2000).sum())


def run_glmnet(path: ElasticNetPath, X, y, thresh=1e-7):
    """Fortran glmnet (``python-glmnet``'s ``LogitNet``) on the path's grid and
    standardised features at ``thresh`` (its default 1e-7), timed from the
    scaling. Two classes: glmnet's one output ``β`` is our two outputs
    ``∓β/2``."""
    from glmnet import LogitNet

    start = time.perf_counter()
    Xs = path.standardized(X).astype(np.float64)
    codes = np.searchsorted(path.classes, y)
    model = LogitNet(
        alpha=ALPHA,
        lambda_path=path.lambdas,
        standardize=False,
        tol=thresh,
        max_iter=100_000,
        n_splits=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(Xs, codes)
    seconds = time.perf_counter() - start
    coef = np.moveaxis(model.coef_path_, -1, 0)  # (K', k, p)
    intercept = model.intercept_path_.T  # (K', k)
    if coef.shape[1] == 1:
        coef = np.concatenate([-coef / 2, coef / 2], axis=1)
        intercept = np.concatenate([-intercept / 2, intercept / 2], axis=1)
    return coef, intercept, seconds


def accuracy(path, coef, intercept, Xte, yte):
    Z = path.standardized(Xte) @ coef.T + intercept
    return float(np.mean(path.classes[Z.argmax(1)] == yte))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--problems", nargs="+", choices=PROBLEMS, default=list(PROBLEMS)
    )
    parser.add_argument(
        "--solvers",
        nargs="+",
        choices=SOLVERS,
        default=[s for s in SOLVERS if s != "sparselens_gap"],
        help="sparselens always runs (the others are timed against it)",
    )
    parser.add_argument("--n-lambdas", type=int, default=100)
    parser.add_argument(
        "--eps", type=float, default=1e-4, help="the last λ is eps·λ_max"
    )
    parser.add_argument(
        "--glm-saga-lambdas",
        type=int,
        default=100,
        help="run glm_saga on the first K λ only (its full P2 path takes hours)",
    )
    parser.add_argument(
        "--fista-tols",
        nargs="+",
        type=float,
        default=[1e-5, 3e-6],
        help="the KKT tolerances (of λ_max·α) the FISTA baseline runs at (on P1 "
        "1e-4 and 1e-5 missed the 1e-4 objective goal, 3e-6 met it)",
    )
    parser.add_argument(
        "--glmnet-thresh",
        nargs="+",
        type=float,
        default=[1e-7, 1e-8],
        help="the thresh values glmnet runs at",
    )
    parser.add_argument(
        "--target",
        type=float,
        default=1e-4,
        help="the largest relative objective gap a solver must stay within",
    )
    parser.add_argument("--sklearn-every", type=int, default=10)
    parser.add_argument("--reference-tol", type=float, default=1e-9)
    parser.add_argument(
        "--reference-epochs",
        type=int,
        default=20_000,
        help="epochs per λ the float64 reference may take",
    )
    parser.add_argument(
        "--no-reference",
        action="store_true",
        help="gaps against the best solver only (no float64 reference solve)",
    )
    parser.add_argument(
        "--device", default="cpu", help="where SparseLens's solver runs, e.g. cuda"
    )
    return parser.parse_args()


def other_rows(path: ElasticNetPath, X, y, Xte, yte, args, score) -> dict[str, dict]:
    """One row per other solver asked for, each with the λ it stopped at
    (``last``) and how its ratio to SparseLens is labelled (``span``)."""
    rows = {}
    K = len(path)

    def row(coef, icpt, seconds, epochs, idx, note):
        return dict(
            seconds=seconds,
            epochs=epochs,
            lambdas=len(idx),
            obj={i: score(coef[j], icpt[j], i) for j, i in enumerate(idx)},
            nnz=int((coef[-1] != 0).sum()),
            acc=accuracy(path, coef[-1], icpt[-1], Xte, yte),
            note=note,
            last=int(idx[-1]),
            span=f"first {idx[-1] + 1} λ" if idx[-1] < K - 1 else f"all {K} λ",
        )

    for solver, (stop, label, rule) in OTHER_STOPS.items():
        if solver in args.solvers:
            other, s, ep, warned = run_sparselens(
                X, y, None, None, args.device, stop, path.lambdas
            )
            note = f"stop: {rule}" + (f", {warned} λ warned" if warned else "")
            rows[label] = row(other.coef, other.intercept, s, ep, range(K), note)
    for tol in args.fista_tols if "fista" in args.solvers else ():
        coef, icpt, s, ep, capped = run_fista_baseline(path, X, y, args.device, tol)
        note = f"{capped} λ at 2,000 epochs" if capped else ""
        rows[f"FISTA-60 {tol:g}"] = row(coef, icpt, s, ep, range(K), note)
    for thresh in args.glmnet_thresh if "glmnet" in args.solvers else ():
        coef, icpt, s = run_glmnet(path, X, y, thresh)
        note = "" if len(coef) == K else "ended its path early"
        rows[f"glmnet {thresh:g}"] = row(coef, icpt, s, "—", range(len(coef)), note)
    if "glm_saga" in args.solvers:
        coef, icpt, lams, s, ep, capped = run_glm_saga(
            path, X, y, K, args.eps, args.glm_saga_lambdas
        )
        agree = np.allclose(lams, path.lambdas[: len(lams)], rtol=1e-3)
        notes = [f"{capped} λ at 2,000 epochs"] if capped else []
        note = ", ".join(notes + ([] if agree else ["λ grid differs"]))
        rows["glm_saga"] = row(coef, icpt, s, ep, range(len(lams)), note)
    if "sklearn" in args.solvers:
        coef, icpt, idx, s, ep = run_sklearn(path, X, y, args.sklearn_every)
        rows["sklearn saga"] = row(
            coef, icpt, s, ep, idx, f"every {args.sklearn_every}th λ"
        )
    return rows


def solver_rows(X, y, Xte, yte, args) -> tuple[dict[str, dict], dict | None]:
    """SparseLens's path, one row per solver run on the same problem, and the
    float64 reference; each other row carries SparseLens's time from the call
    on the same λ (``mine``)."""
    path, sec, epochs, warned = run_sparselens(
        X, y, args.n_lambdas, args.eps, args.device
    )
    floor = epoch_floor(path, X)
    print(
        f"X: {floor['mb']:.1f} MB float32; one read {floor['read']:.2f} ms "
        f"({floor['mb'] / floor['read']:.1f} GB/s); X Bᵀ + b and Rᵀ X on every "
        f"feature {floor['products']:.2f} ms (by the BLAS matmul "
        f"{floor['blas']:.2f} ms); SparseLens "
        f"{1e3 * sec / epochs:.2f} ms per epoch (its whole time over its epochs)"
    )
    score = Scorer(path, X, y)
    last = len(path) - 1
    rows = {
        f"sparselens {path.tol:g}": dict(
            seconds=sec,
            epochs=epochs,
            lambdas=len(path),
            obj={i: score(path.coef[i], path.intercept[i], i) for i in range(last + 1)},
            nnz=int(path.nonzeros[last].sum()),
            acc=accuracy(path, path.coef[last], path.intercept[last], Xte, yte),
            note=f"{warned} λ warned (max_epochs)" if warned else "",
            last=last,
        )
    }
    others = other_rows(path, X, y, Xte, yte, args, score)
    for r in others.values():
        r["mine"] = (
            sec
            if r["last"] == last
            else sparselens_seconds(X, y, path.lambdas[: r["last"] + 1], args.device)
        )
    reference = None
    if not args.no_reference:
        ref, ref_sec, capped = reference_path(
            X, y, path.lambdas, args.reference_tol, args.reference_epochs
        )
        reference = dict(
            tol=args.reference_tol,
            seconds=ref_sec,
            epochs=int(ref.diagnostics["epochs"].sum()),
            capped=capped,
            gap=float(np.nanmax(ref.diagnostics["gap"])),
            kkt=float(np.nanmax(ref.diagnostics["kkt"])),
            obj={i: score(ref.coef[i], ref.intercept[i], i) for i in range(last + 1)},
        )
    return rows | others, reference


def print_rows(rows: dict[str, dict], reference: dict | None, target: float) -> None:
    """The table, objective gaps against the lowest objective reached at each
    λ (reference included), and each solver's time to ``target``: its fastest
    setting whose largest gap over the whole path is within it, against
    SparseLens's."""
    best = dict(reference["obj"]) if reference else {}
    for r in rows.values():
        for i, v in r["obj"].items():
            best[i] = min(best.get(i, math.inf), v)
    if reference:
        beaten = sum(best[i] < v for i, v in reference["obj"].items())
        print(
            f"reference: float64, KKT ≤ {reference['tol']:g}·λ_max·α: "
            f"{reference['seconds']:.1f} s, {reference['epochs']:,} epochs, "
            f"{reference['capped']} λ at its epoch cap, largest relative duality "
            f"gap {reference['gap']:.1e}, KKT {reference['kkt']:.1e}; a solver "
            f"went below it at {beaten} λ"
        )
    print(
        f"{'solver, tolerance':<22}{'λ':>5}{'seconds':>10}{'s/λ':>8}{'epochs':>9}"
        f"{'max rel gap':>13}{'at λ':>6}{'nnz(last)':>11}{'test acc':>10}  note"
    )
    for solver, r in rows.items():
        gaps = {i: (v - best[i]) / abs(best[i]) for i, v in r["obj"].items()}
        r["gap"] = max(gaps.values())
        worst = max(gaps, key=gaps.get)
        epochs = f"{r['epochs']:,}" if isinstance(r["epochs"], int) else r["epochs"]
        print(
            f"{solver:<22}{r['lambdas']:>5}{r['seconds']:>10.1f}"
            f"{r['seconds'] / r['lambdas']:>8.2f}{epochs:>9}{r['gap']:>13.1e}"
            f"{worst:>6}{r['nnz']:>11}{r['acc']:>10.3f}  {r['note']}"
        )
    whole = max(r["last"] for r in rows.values())
    fastest: dict[str, tuple[str, dict]] = {}
    for name, r in rows.items():
        family = name.split()[0]
        met = r["last"] == whole and r["gap"] <= target
        if met and (
            family not in fastest or r["seconds"] < fastest[family][1]["seconds"]
        ):
            fastest[family] = (name, r)
    mine = fastest.get("sparselens")
    print(f"time to a largest relative gap ≤ {target:g} on all {whole + 1} λ:")
    for family in dict.fromkeys(name.split()[0] for name in rows):
        if family not in fastest:
            print(f"  {family}: no setting run reached it")
            continue
        name, r = fastest[family]
        ratio = (
            f", {r['seconds'] / mine[1]['seconds']:.1f}× SparseLens's"
            if mine and family != "sparselens"
            else ""
        )
        print(f"  {family}: {r['seconds']:.1f} s ({name}){ratio}")
    for solver, r in rows.items():
        if r["last"] != whole:
            print(
                f"{solver} / sparselens, {r['span']}, both timed from the call: "
                f"{r['seconds'] / r['mine']:.1f}× "
                f"({r['seconds']:.1f} s / {r['mine']:.1f} s)"
            )


def main() -> None:
    args = parse_args()
    makers = {
        "p1": lambda: synthetic_problem(10_000, 512, 10),
        "p1b": lambda: synthetic_problem(10_000, 512, 10, seed=1, latent_dim=1024),
        "p2": lambda: synthetic_problem(50_000, 2048, 10),
        "sst2": sst2_problem,
    }
    print(f"load average at the start: {os.getloadavg()[0]:.2f}")
    for name in args.problems:
        X, y, Xte, yte = makers[name]()
        print(
            f"\n== {name}: {X.shape[0]:,} × {X.shape[1]:,}, "
            f"{len(np.unique(y))} classes, {args.n_lambdas} λ to {args.eps:g}·λ_max"
        )
        rows, reference = solver_rows(X, y, Xte, yte, args)
        print_rows(rows, reference, args.target)
        print(f"load average now: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
