"""Torch's intra-op thread count, set for a block and restored afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

#: Below this many multiply-adds per pass over the data, one thread is faster:
#: each parallel region's fork/join costs more than it saves, and far more
#: when other processes hold the cores (measured 90× on a 400 × 30 path).
SMALL_WORK = 2_000_000


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` intra-op threads (None: leave them alone)."""
    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(max(1, n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def threads_for(work: int) -> int | None:
    """One thread for small problems, torch's default otherwise."""
    return 1 if work < SMALL_WORK else None
