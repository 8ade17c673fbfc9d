"""A fixture running a test module's torch work on one thread.

The solvers make many small tensor operations; on a machine shared by several
jobs, torch's intra-op threads then spend more time waiting for each other
than computing (a 17× slowdown measured on RC-RDE here).
"""

from __future__ import annotations

import pytest

from core.threads import torch_threads


@pytest.fixture(scope="module")
def one_torch_thread():
    with torch_threads(1):
        yield
