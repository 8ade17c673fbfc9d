"""Torch's intra-op thread count, set for a block and restored afterwards."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterator

import torch

#: Below this many multiply-adds per pass over the data, one thread is faster:
#: each parallel region's fork/join costs more than it saves, and far more
#: when other processes hold the cores (measured 90× on a 400 × 30 path).
SMALL_WORK = 2_000_000

# The thread count is process-wide (threads started later inherit the last one
# set), and dashboard sessions run in threads of one process. So the blocks now
# running are counted, the count before the first of them is kept, and it is
# put back only when the last one leaves; restoring each block's own "before"
# would let two interleaved blocks leave the process at one thread.
_LOCK = threading.Lock()
_ACTIVE: Counter[int] = Counter()  # thread counts the running blocks asked for
_BASELINE: list[int] = []  # the count before the first running block


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` intra-op threads (None: leave them alone).

    Safe when blocks overlap, in one thread (nested) or in several: while blocks
    run, torch uses the smallest count any of them asked for (a block asks for
    one thread because more would be slower, never because it needs more), and
    the count from before the first of them is restored when the last one ends.
    """
    if n is None:
        yield
        return
    want = max(1, int(n))
    with _LOCK:
        if not _ACTIVE:
            _BASELINE[:] = [torch.get_num_threads()]
        _ACTIVE[want] += 1
        torch.set_num_threads(min(_ACTIVE))
    try:
        yield
    finally:
        with _LOCK:
            _ACTIVE[want] -= 1
            if not _ACTIVE[want]:
                del _ACTIVE[want]
            torch.set_num_threads(min(_ACTIVE) if _ACTIVE else _BASELINE[0])


def threads_for(work: int) -> int | None:
    """One thread for small problems, torch's default otherwise."""
    return 1 if work < SMALL_WORK else None
