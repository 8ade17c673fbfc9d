"""Speed of the sparse saliency solvers on CPU (one thread).

    .venv/bin/python -m benchmarks.saliency caso [--examples 20]
    .venv/bin/python -m benchmarks.saliency hvp [--examples 20]
    .venv/bin/python -m benchmarks.saliency rde [--iterations 2000] [--examples 3]
        [--models mnist-mlp-none]
    .venv/bin/python -m benchmarks.saliency ord --examples 3 --models mnist-mlp-none

``caso``: seconds per MNIST test example for CASO and CAFO with λ₁ chosen by
the sparsity ratio and λ₂ from the top eigenvalue (closed form), against the
plain gradient (Captum Saliency) measured in the same run: at the authors'
cap of 10 FISTA iterations (the library's default) and run to convergence
(the iterates change by less than tol = 1e-3, cap 10,000), with the FISTA
iterations convergence takes at the chosen λ₁ (median over the examples). ``hvp``: one
Hessian-vector product (and the one-off set-up: the Jacobian for the closed
form, the gradient graph for autograd) by the closed form against autograd,
as a ratio, and a whole CASO solve with each (λ₂ from the c×c problem or
from power iteration). ``rde``: RC-RDE at the reference settings, rates 50, 100, …, 400
solved together, 2,000 Frank–Wolfe iterations, 16 noise samples; with
``--iterations`` below 2,000 the time per example is extrapolated linearly
(and said so). ``ord``: Ord-RDE at the reference 200 Birkhoff iterations from
the identity (64 rates in the sum, 16 noise samples). Models: ``mnist-cnn6-none`` from the user's store (train it
with ``python -m core train --dataset mnist --model cnn6 --id mnist-cnn6-none``)
and the shipped ``mnist-mlp-none``; missing ones are skipped.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import torch

from core.data import load_dataset
from core.errors import SparseLensError
from core.saliency import caso, explain, ord_rde, rc_rde, select_lambda1
from core.saliency.caso import _lambda2_per_example, solve
from core.saliency.hessian import local_hessian
from core.saliency.inputs import resolve_target
from core.saliency.lab import inputs
from core.training.store import load_model

MODELS = ("mnist-cnn6-none", "mnist-mlp-none")
#: FISTA's cap for the "converged" CASO rows: high enough that tol stops it.
CONVERGED_N_ITER = 10_000
CHOSEN = list(MODELS)
REFERENCE_RATES = [50.0, 100.0, 150.0, 200.0, 250.0, 300.0, 350.0, 400.0]


def _models():
    for model_id in CHOSEN:
        try:
            model, _ = load_model(model_id)
        except SparseLensError as exc:
            print(f"skipping {model_id}: {exc}")
            continue
        yield model_id, model


def _median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _caso_methods(model) -> dict:
    """The ``caso`` benchmark's rows: label → ``fn(x)``; CASO and CAFO at the
    default cap of 10 FISTA iterations and run to convergence."""
    converged = dict(n_iter=CONVERGED_N_ITER)
    return {
        "gradient (Saliency)": lambda xi: explain("Saliency", model, xi),
        "CAFO auto λ₁, λ₂": lambda xi: caso(
            model, xi, lambda1="auto", lambda2="auto", second_order=False
        ),
        "CAFO auto, converged": lambda xi: caso(
            model, xi, lambda1="auto", lambda2="auto", second_order=False, **converged
        ),
        "CASO auto λ₁, λ₂": lambda xi: caso(model, xi, lambda1="auto", lambda2="auto"),
        "CASO auto, converged": lambda xi: caso(
            model, xi, lambda1="auto", lambda2="auto", **converged
        ),
        "CASO λ₁=1e-3, λ₂ auto": lambda xi: caso(
            model, xi, lambda1=1e-3, lambda2="auto"
        ),
    }


def fista_iterations(
    model: torch.nn.Module, x: torch.Tensor, *, second_order: bool = True
) -> int:
    """FISTA iterations CASO (or CAFO) takes to reach its tolerance at the λ₁
    the sparsity rule picks for one example (λ₂ auto, closed form), with the
    cap lifted to :data:`CONVERGED_N_ITER`."""
    op = local_hessian(model, x, resolve_target(model, x, None))
    lam2 = _lambda2_per_example(op, "auto")
    kwargs = dict(second_order=second_order, n_iter=CONVERGED_N_ITER)
    chosen = select_lambda1(op, lam2, **kwargs).lambda1
    return solve(op, chosen[:, None], lam2, **kwargs).fista.n_iter


def bench_caso(x: torch.Tensor) -> None:
    print(
        f"{'model':<18}{'method':<26}{'s/example':>10}{'× gradient':>12}"
        f"{'FISTA iterations':>18}"
    )
    for model_id, model in _models():
        rows = {}
        for label, fn in _caso_methods(model).items():
            fn(x[:1])  # warm-up
            rows[label] = statistics.median(
                _median_seconds(lambda xi=x[i : i + 1], fn=fn: fn(xi), 1)
                for i in range(len(x))
            )
        # Iterations to convergence at the chosen λ₁, median over examples:
        # how far the default cap of 10 is from the tolerance.
        iterations = {
            f"{name} auto, converged": statistics.median(
                fista_iterations(model, x[i : i + 1], second_order=name == "CASO")
                for i in range(len(x))
            )
            for name in ("CASO", "CAFO")
        }
        base = rows["gradient (Saliency)"]
        for label, sec in rows.items():
            its = f"{iterations[label]:g}" if label in iterations else ""
            print(f"{model_id:<18}{label:<26}{sec:>10.4f}{sec / base:>11.1f}x{its:>18}")


def bench_hvp(x: torch.Tensor) -> None:
    print(
        f"{'model':<18}{'set-up closed':>14}{'set-up autograd':>16}"
        f"{'HVP closed':>12}{'HVP autograd':>14}{'autograd/closed':>16}"
    )
    for model_id, model in _models():
        t = resolve_target(model, x, None)
        setup, hvp = {}, {}
        v = torch.randn(1, 1, x.shape[1])
        for kind in ("closed_form", "autograd"):
            setups, products = [], []
            for i in range(len(x)):
                start = time.perf_counter()
                op = local_hessian(model, x[i : i + 1], t[i : i + 1], hessian=kind)
                setups.append(time.perf_counter() - start)
                for _ in range(3):
                    start = time.perf_counter()
                    op.hvp(v)
                    products.append(time.perf_counter() - start)
            setup[kind] = statistics.median(setups)
            hvp[kind] = statistics.median(products)
        ratio = hvp["autograd"] / hvp["closed_form"]
        print(
            f"{model_id:<18}{setup['closed_form']:>14.4f}{setup['autograd']:>16.4f}"
            f"{hvp['closed_form']:>12.6f}{hvp['autograd']:>14.6f}{ratio:>15.0f}x"
        )
        whole = {}
        for kind in ("closed_form", "autograd"):  # λ₂: c×c problem / power iteration
            whole[kind] = statistics.median(
                _median_seconds(
                    lambda i=i, k=kind, m=model: caso(
                        m, x[i : i + 1], lambda1="auto", lambda2="auto", hessian=k
                    ),
                    1,
                )
                for i in range(len(x))
            )
        print(
            f"{'':<18}whole CASO (auto λ₁, λ₂) s/example: closed form "
            f"{whole['closed_form']:.4f}, autograd {whole['autograd']:.4f} "
            f"({whole['autograd'] / whole['closed_form']:.1f}x)"
        )


def bench_rde(x: torch.Tensor, iterations: int) -> None:
    note = "" if iterations >= 2000 else f" (extrapolated from {iterations})"
    print(f"{'model':<18}{'s/iteration':>12}{'s/example at 2,000 iterations':>32}")
    for model_id, model in _models():
        per_iter = []
        for i in range(len(x)):
            start = time.perf_counter()
            rc_rde(
                model, x[i : i + 1], k=REFERENCE_RATES, n_iter=iterations, n_noise=16
            )
            per_iter.append((time.perf_counter() - start) / iterations)
        s = statistics.median(per_iter)
        print(f"{model_id:<18}{s:>12.4f}{s * 2000:>31.1f}s{note}")


def bench_ord(x: torch.Tensor, iterations: int) -> None:
    print(
        f"{'model':<18}{'rates':>6}{'s/iteration':>12}{'s/example at 200 iterations':>30}"
    )
    for model_id, model in _models():
        per_iter = []
        for i in range(len(x)):
            start = time.perf_counter()
            res = ord_rde(model, x[i : i + 1], n_iter=iterations, n_noise=16)
            per_iter.append((time.perf_counter() - start) / iterations)
        s = statistics.median(per_iter)
        note = "" if iterations >= 200 else f" (extrapolated from {iterations})"
        print(f"{model_id:<18}{len(res.rates):>6}{s:>12.4f}{s * 200:>29.1f}s{note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["caso", "hvp", "rde", "ord"])
    parser.add_argument("--examples", type=int, default=20)
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    args = parser.parse_args()
    CHOSEN[:] = args.models
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", RuntimeWarning)  # FISTA's n_iter notices
    ds = load_dataset("mnist", download=False)
    x = inputs(ds, "test", list(range(args.examples)))
    print(f"MNIST test examples: {len(x)}; torch threads: {torch.get_num_threads()}")
    if args.what == "caso":
        bench_caso(x)
    elif args.what == "hvp":
        bench_hvp(x)
    elif args.what == "rde":
        bench_rde(x, args.iterations)
    else:
        bench_ord(x, min(args.iterations, 200))


if __name__ == "__main__":
    main()
