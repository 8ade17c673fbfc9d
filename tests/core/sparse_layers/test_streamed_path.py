"""An elastic-net path streamed from a memory-mapped file in row blocks: it stays
within its memory budget, matches the in-memory path, and refuses bad input
with a message naming the file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from core.sparse_layers.glm import elastic_net_path, get_family
from core.sparse_layers.glm.design import (
    InMemoryDesign,
    StreamedDesign,
    parse_memory,
    stream_costs,
)
from core.sparse_layers.glm.path import _streamed_scaling

ROOT = Path(__file__).resolve().parents[3]
#: Resident memory a streamed fit may add beyond its budget, whatever the
#: budget: torch's first matrix products (thread pools, BLAS buffers) and
#: allocator slack. Measured on an 80 MB file (20,000 × 1,000, this test's
#: fit): 24.1–24.7 MB in all with a 12 MB budget (four runs), 44 MB with 40 MB;
#: loading the matrix instead adds 540–570 MB.
OVERHEAD_MB = 20
#: Objectives of the two paths agree to this, relative, at every λ (float32
#: sums taken in another order; measured: below 1e-8).
OBJECTIVE_RTOL = 1e-6

#: The fit, in a fresh interpreter: its peak resident memory, measured from
#: after torch and the library are imported.
CHILD = """
import json, resource, sys
import numpy as np
import torch
from core.sparse_layers.glm import elastic_net_path

X = np.load(sys.argv[1], mmap_mode="r")
y = np.load(sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
path = elastic_net_path(
    X, y, n_lambdas=4, eps=0.2, tol=1e-6, max_memory=sys.argv[3]
)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({
    "extra_mb": (after - before) / 1024,
    "objective": path.diagnostics["objective"].tolist(),
}))
"""
#: Starts CHILD from a small interpreter: a process started straight from
#: pytest inherits pytest's peak as its own ru_maxrss (Linux carries the
#: peak of the process that starts it across exec), which would hide the fit's.
LAUNCH = """
import subprocess, sys
done = subprocess.run([sys.executable, "-c", *sys.argv[1:]], capture_output=True)
sys.stdout.buffer.write(done.stdout)
sys.stderr.buffer.write(done.stderr)
sys.exit(done.returncode)
"""


def _write_problem(folder: Path, n: int, p: int, dtype=np.float32, seed: int = 0):
    """A 3-class problem on ``n × p`` features saved as ``X.npy`` (written in
    chunks, so the test process never holds it) and ``y.npy``."""
    rng = np.random.default_rng(seed)
    scale = rng.uniform(0.5, 3, p)
    W = np.zeros((3, p))
    W[:, : min(8, p)] = rng.standard_normal((3, min(8, p)))
    X = np.lib.format.open_memmap(folder / "X.npy", "w+", dtype, (n, p))
    y = np.empty(n, dtype=np.int64)
    for start in range(0, n, 4096):
        block = rng.standard_normal((min(4096, n - start), p)) * scale + 1.0
        X[start : start + len(block)] = block
        y[start : start + len(block)] = (
            block @ W.T + rng.gumbel(size=(len(block), 3))
        ).argmax(1)
    X.flush()
    del X
    np.save(folder / "y.npy", y)
    return folder / "X.npy", y


def test_streamed_path_stays_within_its_budget_and_matches_in_memory(tmp_path):
    # 60 MB of features, five times the 12 MB budget.
    x_file, y = _write_problem(tmp_path, n=15_000, p=1_000)
    budget_mb = 12
    out = subprocess.run(
        [sys.executable, "-c", LAUNCH, CHILD, str(x_file), str(tmp_path / "y.npy")]
        + [f"{budget_mb}MB"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    streamed = json.loads(out.stdout.strip().splitlines()[-1])
    # Above 0: the measurement sees the fit (not a peak from before it).
    assert 0 < streamed["extra_mb"] < budget_mb + OVERHEAD_MB, streamed["extra_mb"]
    in_memory = elastic_net_path(np.load(x_file), y, n_lambdas=4, eps=0.2, tol=1e-6)
    np.testing.assert_allclose(
        streamed["objective"],
        in_memory.diagnostics["objective"],
        rtol=OBJECTIVE_RTOL,
    )


def test_streamed_path_matches_in_memory_with_working_sets_validation_and_ridge(
    tmp_path,
):
    # Many blocks of 7 rows; screening grows working sets (column subsets).
    x_file, y = _write_problem(tmp_path, n=600, p=30)
    X = np.load(x_file)
    kw = dict(n_lambdas=8, eps=1e-2, tol=1e-6, validation=(X[:100], y[:100]))
    Xm = np.load(x_file, mmap_mode="r")
    own, per_row = stream_costs(Xm.shape, 4, n_outputs=3, n_lambdas=8)
    budget = own + 7 * per_row
    streamed = elastic_net_path(Xm, y, max_memory=budget, **kw)
    in_memory = elastic_net_path(X, y, **kw)
    for key in ("objective", "train_loss", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(
            streamed.diagnostics[key],
            in_memory.diagnostics[key],
            rtol=OBJECTIVE_RTOL,
            err_msg=key,
        )
    np.testing.assert_allclose(streamed.coef, in_memory.coef, atol=1e-4)
    ridge = dict(alpha=0.0, lambdas=[0.05], tol=1e-6, standardize=False)
    np.testing.assert_allclose(
        elastic_net_path(Xm, y, max_memory="1MB", **ridge).diagnostics["objective"],
        elastic_net_path(X, y, **ridge).diagnostics["objective"],
        rtol=OBJECTIVE_RTOL,
    )


def test_float16_file_streams_as_its_float32_values(tmp_path):
    x_file, y = _write_problem(tmp_path, n=400, p=20, dtype=np.float16)
    streamed = elastic_net_path(
        np.load(x_file, mmap_mode="r"), y, n_lambdas=5, tol=1e-6, max_memory="200kB"
    )
    widened = np.load(x_file).astype(np.float32)
    in_memory = elastic_net_path(widened, y, n_lambdas=5, tol=1e-6)
    np.testing.assert_allclose(
        streamed.diagnostics["objective"],
        in_memory.diagnostics["objective"],
        rtol=OBJECTIVE_RTOL,
    )


def test_streamed_products_equal_in_memory_ones_block_by_block(tmp_path):
    # The seam itself: each product over blocks of 3 rows equals the one on
    # the whole standardised matrix, column subsets included.
    x_file, y = _write_problem(tmp_path, n=10, p=6)
    Xm = np.load(x_file, mmap_mode="r")
    prep = _streamed_scaling(Xm, 4, standardize=True)
    streamed = StreamedDesign(Xm, prep, 3, torch.device("cpu"))
    whole = InMemoryDesign(torch.as_tensor(prep.transform(np.load(x_file))))
    B, b = torch.randn(2, 6), torch.randn(2)
    R, v = torch.randn(10, 2), torch.randn(6)
    idx = torch.tensor([1, 4])
    close = dict(rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(streamed.linear(B, b), whole.linear(B, b), **close)
    torch.testing.assert_close(
        streamed.transpose_times(R), whole.transpose_times(R), **close
    )
    torch.testing.assert_close(streamed.gram_times(v), whole.gram_times(v), **close)
    torch.testing.assert_close(
        streamed.columns(idx).linear(B[:, :2], b),
        whole.columns(idx).linear(B[:, :2], b),
        **close,
    )
    # The fused pass (predictions, residual and gradient from one read of each
    # block) against the unfused products on the whole matrix.
    family = get_family("multinomial")
    Y = family.targets(torch.as_tensor(y), 3)
    B3, b3 = torch.randn(3, 6), torch.randn(3)
    for work in (idx, torch.arange(6)):
        fused = streamed.predict_and_gradient(
            streamed.columns(work), B3[:, work], b3, family, Y
        )
        unfused = whole.predict_and_gradient(
            whole.columns(work), B3[:, work], b3, family, Y
        )
        for got, want in zip(fused, unfused, strict=True):
            torch.testing.assert_close(got, want, **close)


# ------------------------------------------------------------------ bad input


def test_rows_that_do_not_match_the_labels_name_the_file(tmp_path):
    x_file, y = _write_problem(tmp_path, n=50, p=4)
    with pytest.raises(ValueError, match=r"X\.npy: 50 rows of features but 49 labels"):
        elastic_net_path(np.load(x_file, mmap_mode="r"), y[:49], max_memory="1MB")


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros(12, dtype=np.float32), r"must be 2-d .*got shape \(12,\)"),
        (
            np.zeros((6, 2), dtype=np.int32),
            r"must be float16, float32 or float64, got int32",
        ),
    ],
)
def test_a_non_matrix_or_non_float_file_names_the_file(tmp_path, array, message):
    np.save(tmp_path / "bad.npy", array)
    with pytest.raises(ValueError, match=r"bad\.npy: .*" + message):
        elastic_net_path(
            np.load(tmp_path / "bad.npy", mmap_mode="r"),
            np.arange(len(array)) % 2,
            max_memory="1MB",
        )


def test_a_budget_smaller_than_one_block_says_how_much_is_needed(tmp_path):
    x_file, y = _write_problem(tmp_path, n=1_000, p=50)
    with pytest.raises(
        ValueError,
        match=r"X\.npy: max_memory=100 kB is smaller than one block.*give at least",
    ):
        elastic_net_path(np.load(x_file, mmap_mode="r"), y, max_memory="100kB")


@pytest.mark.parametrize("bad", ["2 GB of RAM", "lots", "-5MB", "0"])
def test_a_budget_that_is_not_a_size_is_refused(bad):
    with pytest.raises(ValueError, match="max_memory"):
        parse_memory(bad)


def test_budget_units():
    assert parse_memory("2GB") == 2 * 10**9
    assert parse_memory("1.5 GiB") == 3 * 2**29
    assert parse_memory("512kb") == 512_000
    assert parse_memory(4096) == 4096


def test_a_slice_of_the_map_or_saga_or_an_in_memory_array_is_refused(tmp_path):
    x_file, y = _write_problem(tmp_path, n=50, p=4)
    Xm = np.load(x_file, mmap_mode="r")
    with pytest.raises(ValueError, match="not a slice or transpose"):
        elastic_net_path(Xm[:40], y[:40], max_memory="1MB")
    with pytest.raises(ValueError, match="solver='saga' draws random rows"):
        elastic_net_path(Xm, y, solver="saga", max_memory="1MB")
    with pytest.raises(TypeError, match="mmap_mode='r'.*got ndarray"):
        elastic_net_path(np.load(x_file), y, max_memory="1MB")


def test_non_finite_and_constant_columns_name_the_file(tmp_path):
    x_file, y = _write_problem(tmp_path, n=30, p=4)
    X = np.load(x_file)
    X[17, 2] = np.nan
    np.save(tmp_path / "nan.npy", X)
    with pytest.raises(ValueError, match=r"nan\.npy: non-finite .* row 17, column 2"):
        elastic_net_path(
            np.load(tmp_path / "nan.npy", mmap_mode="r"), y, max_memory="1MB"
        )
    X[17, 2] = 0.0
    X[:, 1] = 3.0
    np.save(tmp_path / "const.npy", X)
    with pytest.raises(ValueError, match=r"const\.npy: 1 constant feature column"):
        elastic_net_path(
            np.load(tmp_path / "const.npy", mmap_mode="r"), y, max_memory="1MB"
        )


@pytest.mark.parametrize("family", ["binomial", "gaussian"])
def test_binomial_and_gaussian_paths_stream_too(tmp_path, family):
    x_file, y = _write_problem(tmp_path, n=300, p=12)
    X = np.load(x_file)
    noise = np.random.default_rng(1).standard_normal(len(y))
    target = (y == 1).astype(int) if family == "binomial" else X[:, 0] - X[:, 3] + noise
    kw = dict(family=family, n_lambdas=6, eps=0.05, tol=1e-6)
    streamed = elastic_net_path(
        np.load(x_file, mmap_mode="r"), target, max_memory="300kB", **kw
    )
    np.testing.assert_allclose(
        streamed.diagnostics["objective"],
        elastic_net_path(X, target, **kw).diagnostics["objective"],
        rtol=OBJECTIVE_RTOL,
    )
