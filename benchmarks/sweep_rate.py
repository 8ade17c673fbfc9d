"""Tasks per minute of a synthetic Table 1 sweep, in this process and on a local
Ray of 1 and 2 workers (docs/scaling.md).

    .venv/bin/python -m benchmarks.sweep_rate [--seeds 3] [--epochs 2] [--workers 1 2]

The grid is synthetic's 6 rows × ``--seeds`` models. Each executor runs it
twice: "cold" includes the workers' first imports, "warm" reuses the same
workers; Ray's own start is reported apart. The machine's load (``uptime``)
is printed before and after, since other jobs change the figures.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from core.data import load_dataset
from core.executor import open_executor
from core.neural_lasso.table1 import table1


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    torch.set_num_threads(1)  # as in a Ray worker: one thread per task
    ds = load_dataset("synthetic")
    n = 6 * args.seeds
    print(f"{os.cpu_count()} cores, load average {_load()}")
    setups = [("in-process", {})] + [
        (f"ray, {w} worker(s)", {"ray": True, "num_cpus": w}) for w in args.workers
    ]
    for label, options in setups:
        start = time.perf_counter()
        with open_executor(**options) as ex:
            started = time.perf_counter() - start
            for run in ("cold", "warm"):
                t = time.perf_counter()
                table1(ds, args.seeds, epochs=args.epochs, executor=ex)
                seconds = time.perf_counter() - t
                print(
                    f"{label:20s} {run}: {n} tasks in {seconds:6.1f} s = "
                    f"{n / seconds * 60:6.1f} tasks/min (start {started:.1f} s)",
                    flush=True,
                )
    print(f"load average after: {_load()}")


if __name__ == "__main__":
    main()
