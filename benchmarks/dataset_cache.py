"""Parsed-dataset cache speed-up: a fresh parse against a cached load, same run.

    .venv/bin/python -m benchmarks.dataset_cache [name ...]

Prints, per dataset, the seconds for a parse from the raw files (cache off), a
load from the parsed cache, and their ratio. Uses the data home of the
environment (``SPARSELENS_DATA``) and a temporary cache folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

from core.data import availability, dataset_names, load_dataset


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(names: list[str]) -> None:
    with tempfile.TemporaryDirectory() as cache:
        os.environ["SPARSELENS_CACHE"] = cache
        print(f"{'dataset':<20}{'parse s':>10}{'cached s':>10}{'ratio':>8}")
        for name in names or dataset_names():
            if not availability(name).available:
                print(f"{name:<20}{'unavailable':>28}")
                continue
            parse = _timed(lambda n=name: load_dataset(n))  # writes the cache
            cached = min(_timed(lambda n=name: load_dataset(n)) for _ in range(3))
            print(f"{name:<20}{parse:>10.2f}{cached:>10.3f}{parse / cached:>8.0f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
