"""A local Ray of two CPUs, started once for the test session.

Starting Ray takes seconds (over ten on a loaded two-core machine), so the
test modules that need it share one; executors opened while it runs use
it as it is (:func:`core.executor.open_executor`). Import the fixture into a
test module (``from tests.core.local_ray import local_ray  # noqa: F401``).
"""

from __future__ import annotations

import logging

import pytest


@pytest.fixture(scope="session")
def local_ray():
    import ray

    # Each module that imports this fixture holds its own copy of it: the
    # first to run starts Ray (and stops it at the end of the session), the
    # others find it running.
    if ray.is_initialized():
        yield
        return
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        logging_level=logging.WARNING,
    )
    try:
        yield
    finally:
        ray.shutdown()
