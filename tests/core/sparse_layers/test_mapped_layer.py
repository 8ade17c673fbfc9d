"""A feature matrix larger than memory through the command line: registered
memory-mapped (``add-features --memory-map``), fitted and scored in row blocks
(``sparse-layer --max-memory``) within its budget, the same layer as in memory;
bad input refused with a message naming the file."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core.cli.main import main
from core.data.user.mapped import SPLITS, add_mapped_features, mapped_features
from core.errors import InvalidDataError
from core.sparse_layers.deep_features import mapped_feature_set
from core.sparse_layers.sparse_layer import class_names, fit_sparse_layer, load_layer
from tests.core.sparse_layers.test_streamed_path import (
    LAUNCH,
    OBJECTIVE_RTOL,
    _write_problem,
)
from tests.core.threads import one_torch_thread  # noqa: F401

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ROOT = Path(__file__).resolve().parents[3]
#: Resident memory the commands may add beyond their budget once a first,
#: small run has imported what they import and warmed torch up (allocator
#: slack, the labels, the layer's paths). Measured: 0.9 MB with a 12 MB
#: budget on a 60 MB matrix (15,000 × 1,000), load average 12.
OVERHEAD_MB = 10
FIT = ["--n-lambdas", "4", "--eps", "0.2"]

#: Register and fit a small matrix, then the large one, in a fresh
#: interpreter: the peak resident memory of the second run, beyond the first's.
CHILD = """
import json, resource, sys
from core.cli.main import main
from core.sparse_layers.sparse_layer import load_layer

x, y, small_x, small_y, budget, *fit = sys.argv[1:]
def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
def run(x, y, name):
    code = main(["add-features", x, "--labels", y, "--memory-map", "--name", name,
                 "--max-memory", budget])
    registered = peak_mb()
    code += main(["sparse-layer", "--dataset", name, "--features", "raw",
                  "--max-memory", budget, *fit])
    return code, registered
run(small_x, small_y, "small")
before = peak_mb()
code, registered = run(x, y, "big")
layer = load_layer("big-raw")
print(json.dumps({
    "code": code,
    "register_mb": registered - before,
    "extra_mb": peak_mb() - before,
    "objective": layer.path.diagnostics["objective"].tolist(),
    "dense": layer.dense.diagnostics["objective"].tolist(),
    "test_accuracy": layer.test_accuracy.tolist(),
    "val_accuracy": layer.path.diagnostics["val_accuracy"].tolist(),
}))
"""


def test_a_matrix_four_times_the_budget_fits_within_it_and_matches_in_memory(
    tmp_path, monkeypatch
):
    # 32 MB of features, four times the 8 MB budget.
    x_file, _ = _write_problem(tmp_path, n=20_000, p=400)
    (tmp_path / "small").mkdir()
    small_x, _ = _write_problem(tmp_path / "small", n=300, p=400)
    budget_mb = 8
    env = os.environ | {
        "SPARSELENS_USER_DATA": str(tmp_path / "user"),
        "SPARSELENS_LAYERS": str(tmp_path / "layers"),
    }
    args = [x_file, tmp_path / "y.npy", small_x, tmp_path / "small" / "y.npy"]
    out = subprocess.run(
        [sys.executable, "-c", LAUNCH, CHILD, *map(str, args), f"{budget_mb}MB"] + FIT,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    streamed = json.loads(out.stdout.strip().splitlines()[-1])
    assert streamed["code"] == 0
    # Above 0: the measurement sees the work (not a peak from before it).
    assert 0 < streamed["register_mb"] < budget_mb + OVERHEAD_MB, streamed
    assert 0 < streamed["extra_mb"] < budget_mb + OVERHEAD_MB, streamed
    # The same registered set, loaded and fitted in memory.
    monkeypatch.setenv("SPARSELENS_USER_DATA", str(tmp_path / "user"))
    mapped = mapped_feature_set("big")
    fs = dataclasses.replace(
        mapped,
        **{f"X_{s}": np.array(getattr(mapped, f"X_{s}")) for s in SPLITS},
    )
    in_memory = fit_sparse_layer(fs, n_lambdas=4, eps=0.2)
    np.testing.assert_allclose(
        streamed["objective"],
        in_memory.path.diagnostics["objective"],
        rtol=OBJECTIVE_RTOL,
    )
    np.testing.assert_allclose(
        streamed["dense"], in_memory.dense.diagnostics["objective"], rtol=1e-6
    )
    np.testing.assert_allclose(
        streamed["val_accuracy"], in_memory.path.diagnostics["val_accuracy"]
    )
    np.testing.assert_allclose(streamed["test_accuracy"], in_memory.test_accuracy)


def test_registration_keeps_labels_and_split_rows_and_float16(tmp_path):
    x_file, y = _write_problem(tmp_path, n=300, p=6)
    split = np.array(["train"] * 200 + ["val"] * 40 + ["test"] * 60)
    np.save(tmp_path / "split.npy", split)
    m = add_mapped_features(
        x_file,
        name="small",
        labels_source=tmp_path / "y.npy",
        split_source=tmp_path / "split.npy",
        float16=True,
        max_memory=500,  # a few rows per block
    )
    X = np.load(x_file)
    assert m.X["train"].dtype == np.float16 and isinstance(m.X["train"], np.memmap)
    for name, rows in (("train", range(200)), ("val", range(200, 240))):
        np.testing.assert_array_equal(m.rows[name], np.arange(rows.start, rows.stop))
        np.testing.assert_array_equal(m.X[name], X[m.rows[name]].astype(np.float16))
        assert m.class_names == ("0", "1", "2")
        np.testing.assert_array_equal(m.y[name], y[m.rows[name]])
    # A random split copies every row once, in the source's order per split.
    m = add_mapped_features(
        x_file, name="small", labels_source=tmp_path / "y.npy", replace=True
    )
    rows = np.concatenate([m.rows[s] for s in ("train", "val", "test")])
    assert sorted(rows) == list(range(300))
    np.testing.assert_array_equal(m.X["test"], X[m.rows["test"]])
    assert mapped_features("small").feature_names == (
        "f0",
        "f1",
        "f2",
        "f3",
        "f4",
        "f5",
    )


def test_a_float16_set_streams_as_its_values_in_memory(tmp_path, capsys):
    x_file, _ = _write_problem(tmp_path, n=900, p=12)
    argv = ["add-features", str(x_file), "--labels", str(tmp_path / "y.npy")]
    assert main([*argv, "--memory-map", "--float16", "--name", "half"]) == 0
    assert "(float16)" in capsys.readouterr().out
    argv = ["sparse-layer", "--dataset", "half", "--features", "raw", *FIT]
    assert main([*argv, "--max-memory", "300kB"]) == 0
    streamed = load_layer("half-raw")
    assert main([*argv, "--no-resume"]) == 0  # in memory
    in_memory = load_layer("half-raw")
    np.testing.assert_allclose(
        streamed.path.diagnostics["objective"],
        in_memory.path.diagnostics["objective"],
        rtol=OBJECTIVE_RTOL,
    )
    np.testing.assert_array_equal(streamed.test_accuracy, in_memory.test_accuracy)


def test_debugging_commands_open_a_layer_on_a_memory_mapped_set(tmp_path, capsys):
    x_file, y = _write_problem(tmp_path, n=900, p=12)
    argv = ["add-features", str(x_file), "--labels", str(tmp_path / "y.npy")]
    assert main([*argv, "--memory-map", "--name", "mm"]) == 0
    argv = ["sparse-layer", "--dataset", "mm", "--features", "raw", *FIT]
    assert main([*argv, "--max-memory", "300kB"]) == 0
    layer = load_layer("mm-raw")
    per_class = layer.path.nonzeros[layer.selected]
    assert (
        f"features per class at λ[{layer.selected}]: mean {per_class.mean():.1f}, "
        f"{per_class.min()}–{per_class.max()} (dense: all 12)"
    ) in capsys.readouterr().out
    out = tmp_path / "errors.json"
    assert main(["errors", "--layer", "mm-raw", "--out", str(out)]) == 0
    errors = json.loads(out.read_text())
    m = mapped_features("mm")
    test_errors = round((1 - layer.test_accuracy[layer.selected]) * len(m.y["test"]))
    assert errors["sparse"]["examples"] == len(m.y["test"])
    assert errors["sparse"]["errors"] == test_errors
    assert "confusion_vs_shared" in errors["sparse"]  # three classes
    assert class_names(layer) == m.class_names


# ------------------------------------------------------------------ bad input


def _add(tmp_path, x, *extra):
    return main(
        ["add-features", str(x), "--labels", str(tmp_path / "y.npy")]
        + ["--memory-map", "--name", "bad", *extra]
    )


def test_labels_that_do_not_match_the_rows_name_the_file(tmp_path, capsys):
    x_file, y = _write_problem(tmp_path, n=50, p=4)
    np.save(tmp_path / "y.npy", y[:49])
    assert _add(tmp_path, x_file) == 1
    err = capsys.readouterr().err
    assert "y.npy: X.npy has 50 rows but the labels have shape (49,)" in err


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((6, 2), dtype=np.int32), "features must be float16, float32 or"),
        (np.zeros(12, dtype=np.float32), r"must be 2-d (n_samples, n_features), got"),
    ],
)
def test_a_matrix_of_the_wrong_kind_names_the_file(tmp_path, capsys, array, message):
    np.save(tmp_path / "y.npy", np.zeros(len(array)))
    np.save(tmp_path / "X.npy", array)
    assert _add(tmp_path, tmp_path / "X.npy") == 1
    err = capsys.readouterr().err
    assert "X.npy: " in err and message in err


def test_a_file_that_is_not_npy_is_refused(tmp_path, capsys):
    (tmp_path / "X.csv").write_text("1,2\n3,4\n")
    np.save(tmp_path / "y.npy", np.zeros(2))
    assert _add(tmp_path, tmp_path / "X.csv") == 1
    assert "X.csv is not a .npy file" in capsys.readouterr().err


def test_budgets_smaller_than_one_block_say_what_would_do(tmp_path, capsys):
    x_file, _ = _write_problem(tmp_path, n=400, p=30)
    assert _add(tmp_path, x_file, "--max-memory", "100B") == 1
    err = capsys.readouterr().err
    assert "max_memory=100 bytes is smaller than one block" in err
    assert "a row of the copy takes 390 bytes (30 features); give at least 390" in err
    assert _add(tmp_path, x_file) == 0
    argv = ["sparse-layer", "--dataset", "bad", "--features", "raw", *FIT]
    assert main([*argv, "--max-memory", "2kB"]) == 1
    err = capsys.readouterr().err
    assert "X_train.npy: max_memory=2 kB is smaller than one block" in err


def test_max_memory_on_a_dataset_that_is_not_memory_mapped(capsys):
    argv = ["sparse-layer", "--dataset", "digits", "--features", "raw"]
    assert main([*argv, "--max-memory", "1GB", "--max-retries", "0"]) == 1
    assert "--max-memory streams a memory-mapped feature set, and digits" in (
        capsys.readouterr().err
    )


def test_an_unreachable_ray_address_fails_within_seconds(capsys):
    start = time.perf_counter()
    argv = ["sparse-layer", "--dataset", "digits", "--features", "raw"]
    assert main([*argv, "--ray-address", "127.0.0.1:9"]) == 1
    assert time.perf_counter() - start < 5
    assert "No Ray cluster answers at '127.0.0.1:9'" in capsys.readouterr().err


def test_a_non_finite_value_is_refused_and_the_earlier_set_kept(tmp_path):
    x_file, _ = _write_problem(tmp_path, n=200, p=4)
    labels = tmp_path / "y.npy"
    before = add_mapped_features(x_file, name="kept", labels_source=labels)
    X = np.load(x_file)
    X[141, 2] = np.nan
    np.save(tmp_path / "nan.npy", X)
    with pytest.raises(InvalidDataError, match=r"nan\.npy: non-finite .* row 141, col"):
        add_mapped_features(
            tmp_path / "nan.npy", name="kept", labels_source=labels, replace=True
        )
    after = mapped_features("kept")
    np.testing.assert_array_equal(after.X["train"], before.X["train"])
    assert [p.name for p in after.folder.parent.iterdir()] == ["kept"]
