"""A fixture running a test module's torch work on one thread.

The solvers make many small tensor operations; on a machine shared by several
jobs, torch's intra-op threads then spend more time waiting for each other
than computing (a 17× slowdown measured on RC-RDE here).
"""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="module")
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
