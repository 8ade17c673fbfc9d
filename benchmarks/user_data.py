"""Registering a user's CSV against reloading it, same run.

    .venv/bin/python -m benchmarks.user_data [n_rows ...]

For each size (default 10,000 and 100,000 rows of 20 numeric and 3
categorical columns with 5 % missing values), prints the CSV's size, the
seconds to register it (read, validate, encode, write), the seconds to reload
it (digest check and arrays, no parsing) and their ratio. Uses temporary
folders for the file and ``SPARSELENS_USER_DATA``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def _frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 20)).round(4)
    X[rng.uniform(size=X.shape) < 0.05] = np.nan
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(20)])
    for j in range(3):
        frame[f"c{j}"] = rng.choice(["a", "b", "c", "d"], size=n)
    frame["patient"] = rng.integers(0, n // 3, size=n)
    frame["y"] = (np.nan_to_num(X[:, 0]) + rng.normal(size=n) > 0).astype(int)
    return frame


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SPARSELENS_USER_DATA"] = str(Path(tmp) / "user")
        from core.data import load_dataset
        from core.data.user import add_table

        print(f"{'rows':>9}{'MB':>8}{'register s':>12}{'reload s':>10}{'ratio':>8}")
        for n in sizes or [10_000, 100_000]:
            path = Path(tmp) / f"t{n}.csv"
            _frame(n).to_csv(path, index=False)
            name = f"bench{n}"
            register = _timed(
                lambda p=path, k=name: add_table(
                    p, name=k, target="y", id_column="patient"
                )
            )
            reload = min(_timed(lambda k=name: load_dataset(k)) for _ in range(3))
            mb = path.stat().st_size / 1e6
            print(
                f"{n:>9,}{mb:>8.1f}{register:>12.2f}{reload:>10.3f}"
                f"{register / reload:>7.0f}x"
            )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]])
