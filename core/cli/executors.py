"""The options of the commands that fan out (``table1``, ``table1-select``,
``word-clouds``, ``saliency-compare``, ``sparse-layer``): where their tasks run
(:func:`core.executor.open_executor`)."""

from __future__ import annotations

import argparse
import contextlib

from core.executor import ADDRESS_ENV, Executor, open_executor


def add_executor_options(p: argparse.ArgumentParser) -> None:
    """``--ray``, ``--ray-address``, ``--ray-cpus`` and ``--max-retries``."""
    g = p.add_argument_group(
        "where the tasks run (default: in this process; docs/scaling.md)"
    )
    g.add_argument("--ray", action="store_true", help="start a local Ray for this run")
    g.add_argument(
        "--ray-address",
        metavar="ADDRESS",
        help=f"run on the Ray cluster whose head is at ADDRESS (default: ${ADDRESS_ENV})",
    )
    g.add_argument(
        "--ray-cpus",
        type=int,
        metavar="N",
        help="CPUs of the local Ray, one task each (default: every core)",
    )
    g.add_argument(
        "--max-retries",
        type=int,
        default=2,
        metavar="N",
        help="run a task that raised again up to N times (default: 2)",
    )


def executor_for(
    args: argparse.Namespace,
) -> contextlib.AbstractContextManager[Executor]:
    """The executor the command line asked for, to open with ``with``."""
    return open_executor(
        ray=args.ray,
        address=args.ray_address,
        num_cpus=args.ray_cpus,
        max_retries=args.max_retries,
    )
