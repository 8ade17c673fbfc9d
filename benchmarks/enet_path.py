"""Elastic-net paths: SparseLens's solver against glm_saga and scikit-learn's saga.

    .venv/bin/python -m benchmarks.enet_path [--problems p1 p2 sst2]
        [--solvers sparselens glm_saga sklearn] [--n-lambdas 100] [--eps 1e-4]
        [--glm-saga-lambdas K] [--sklearn-every 10] [--device cuda]

Every solver fits the same standardised problem in the same run, at the same
λ grid (α = 0.99, λ from λ_max down to ``--eps``·λ_max, 1e-4 as in the
glm_saga paper's timing appendix). Every time is wall clock around one call,
setup included (input checks, scaling, λ_max, SparseLens's power iteration,
glm_saga's loader and λ_max passes). Reported per solver: that time (for its
first K λ where a solver is capped), epochs, non-zeros and held-out accuracy at
the last λ, and at every matched λ the relative gap of its elastic-net
objective to the best solver's there (largest over the path). Each ratio is
against SparseLens called on the same λ: the whole path, or the prefix the
other solver stopped at (labelled "first K λ"), timed by a second call.

Problems: ``p1`` 10,000 × 512, 10 classes; ``p2`` 50,000 × 2,048, 10 classes
(both ReLU features of random projections of a Gaussian latent, standardised,
labels from a sparse multinomial model); ``sst2``: MiniLM sentence embeddings of
SST-2 (6,920 × 384, 2 classes).

glm_saga runs with its defaults (lr 0.1, batch 512, tol 1e-4) on the CPU, fed
by :class:`ShuffledBatches` (each epoch one permutation, minibatches yielded as
slices: what a shuffling ``DataLoader`` yields, without assembling every
minibatch row by row); ``--device`` moves only SparseLens's solver (e.g. to
``cuda``). scikit-learn's saga (tol 1e-4) solves every ``--sklearn-every``-th λ
with warm starts in between (it has no path API for the multinomial elastic
net).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import time
import warnings

import numpy as np
import torch

from core.sparse_layers.glm import ElasticNetPath, elastic_net_path

ALPHA = 0.99


def synthetic_problem(n: int, p: int, k: int, seed: int = 0):
    """Deep-feature-like data: ReLU(latent @ W), 25 informative features/class."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n + 5000, 64)).astype(np.float32)
    W = rng.standard_normal((64, p)).astype(np.float32) / 8
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
    from core.sparse_layers.deep_features import minilm_features

    fs = minilm_features("sst2")
    return fs.X_train, fs.y_train, fs.X_test, fs.y_test


def run_sparselens(X, y, n_lambdas, eps, device="cpu"):
    """SparseLens's whole path, timed from the call."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = elastic_net_path(
            X, y, alpha=ALPHA, n_lambdas=n_lambdas, eps=eps, device=device
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


def objective(path, X, y, coef, intercept, i):
    probe = ElasticNetPath(
        lambdas=path.lambdas,
        coef=coef[None].repeat(len(path), 0),
        intercept=intercept[None].repeat(len(path), 0),
        alpha=ALPHA,
        family=path.family,
        solver="probe",
        tol=0,
        classes=path.classes,
        feature_names=path.feature_names,
        center=path.center,
        scale=path.scale,
    )
    return probe.objective(X, y, i)


def accuracy(path, coef, intercept, Xte, yte):
    Z = path.standardized(Xte) @ coef.T + intercept
    return float(np.mean(path.classes[Z.argmax(1)] == yte))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", nargs="+", default=["p1", "p2", "sst2"])
    parser.add_argument(
        "--solvers", nargs="+", default=["sparselens", "glm_saga", "sklearn"]
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
    parser.add_argument("--sklearn-every", type=int, default=10)
    parser.add_argument(
        "--device", default="cpu", help="where SparseLens's solver runs, e.g. cuda"
    )
    return parser.parse_args()


def other_rows(path: ElasticNetPath, X, y, Xte, yte, args) -> dict[str, dict]:
    """One row per other solver asked for, each with the λ it stopped at
    (``last``) and how its ratio to SparseLens is labelled (``span``)."""
    rows = {}
    K = len(path)
    if "glm_saga" in args.solvers:
        coef, icpt, lams, s, ep, capped = run_glm_saga(
            path, X, y, K, args.eps, args.glm_saga_lambdas
        )
        agree = np.allclose(lams, path.lambdas[: len(lams)], rtol=1e-3)
        notes = [f"{capped} λ at 2,000 epochs"] if capped else []
        rows["glm_saga"] = dict(
            seconds=s,
            epochs=ep,
            lambdas=len(lams),
            obj={
                i: objective(path, X, y, coef[i], icpt[i], i) for i in range(len(lams))
            },
            nnz=int((coef[-1] != 0).sum()),
            acc=accuracy(path, coef[-1], icpt[-1], Xte, yte),
            note=", ".join(notes + ([] if agree else ["λ grid differs"])),
            last=len(lams) - 1,
            span=f"first {len(lams)} λ" if len(lams) < K else f"all {K} λ",
        )
    if "sklearn" in args.solvers:
        coef, icpt, idx, s, ep = run_sklearn(path, X, y, args.sklearn_every)
        rows["sklearn saga"] = dict(
            seconds=s,
            epochs=ep,
            lambdas=len(idx),
            obj={
                i: objective(path, X, y, coef[j], icpt[j], i) for j, i in enumerate(idx)
            },
            nnz=int((coef[-1] != 0).sum()),
            acc=accuracy(path, coef[-1], icpt[-1], Xte, yte),
            note=f"every {args.sklearn_every}th λ",
            last=int(idx[-1]),
            span=f"to λ[{idx[-1]}] (sklearn every {args.sklearn_every}th λ, "
            f"SparseLens all {idx[-1] + 1})",
        )
    return rows


def solver_rows(X, y, Xte, yte, args) -> dict[str, dict]:
    """SparseLens's path, and one row per solver run on the same problem; each
    other row carries SparseLens's time from the call on the same λ (``mine``)."""
    path, sec, epochs, warned = run_sparselens(
        X, y, args.n_lambdas, args.eps, args.device
    )
    last = len(path) - 1
    rows = {
        "sparselens": dict(
            seconds=sec,
            epochs=epochs,
            lambdas=len(path),
            obj={i: path.objective(X, y, i) for i in range(len(path))},
            nnz=int(path.nonzeros[last].sum()),
            acc=accuracy(path, path.coef[last], path.intercept[last], Xte, yte),
            note=f"{warned} λ warned (max_epochs)" if warned else "",
        )
    }
    others = other_rows(path, X, y, Xte, yte, args)
    for r in others.values():
        r["mine"] = (
            sec
            if r["last"] == last
            else sparselens_seconds(X, y, path.lambdas[: r["last"] + 1], args.device)
        )
    return rows | others


def print_rows(rows: dict[str, dict]) -> None:
    """The table, objective gaps against the best solver at each λ, and time
    ratios against SparseLens on the same λ."""
    best = {}
    for r in rows.values():
        for i, v in r["obj"].items():
            best[i] = min(best.get(i, math.inf), v)
    print(
        f"{'solver':<14}{'λ':>5}{'seconds':>10}{'s/λ':>8}{'epochs':>9}"
        f"{'max rel gap':>13}{'nnz(last)':>11}{'test acc':>10}  note"
    )
    for solver, r in rows.items():
        gap = max((v - best[i]) / abs(best[i]) for i, v in r["obj"].items())
        print(
            f"{solver:<14}{r['lambdas']:>5}{r['seconds']:>10.1f}"
            f"{r['seconds'] / r['lambdas']:>8.2f}{r['epochs']:>9}{gap:>13.1e}"
            f"{r['nnz']:>11}{r['acc']:>10.3f}  {r['note']}"
        )
    for solver, r in rows.items():
        if solver != "sparselens":
            print(
                f"{solver} / sparselens, {r['span']}, both timed from the call: "
                f"{r['seconds'] / r['mine']:.1f}× "
                f"({r['seconds']:.1f} s / {r['mine']:.1f} s)"
            )


def main() -> None:
    args = parse_args()
    makers = {
        "p1": lambda: synthetic_problem(10_000, 512, 10),
        "p2": lambda: synthetic_problem(50_000, 2048, 10),
        "sst2": sst2_problem,
    }
    for name in args.problems:
        X, y, Xte, yte = makers[name]()
        print(
            f"\n== {name}: {X.shape[0]:,} × {X.shape[1]:,}, "
            f"{len(np.unique(y))} classes, {args.n_lambdas} λ to {args.eps:g}·λ_max"
        )
        print_rows(solver_rows(X, y, Xte, yte, args))


if __name__ == "__main__":
    main()
