"""Table 1 as a sweep: one task per model, the same numbers on Ray as in this
process, each finished model written as it finishes so that a rerun trains
only the missing ones."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pandas as pd
import pytest

from core.cli.main import main
from core.data import load_dataset
from core.executor import open_executor
from core.neural_lasso.table1 import Row, grid, table1, task_key
from tests.core.local_ray import local_ray  # noqa: F401
from tests.core.recording import Recording
from tests.core.threads import one_torch_thread  # noqa: F401

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ROWS = (
    Row("Linear + L1", "linear", "l1_weights", 1e-2),
    Row("MLP gradient L1", "mlp", "grad_l1", 3e-2),
)
SEEDS, EPOCHS = 2, 1


@pytest.fixture(scope="module")
def synthetic():
    return load_dataset("synthetic")


@pytest.fixture(scope="module")
def reference(synthetic, tmp_path_factory):
    """The two-seed run in this process, and the folder of its models."""
    folder = tmp_path_factory.mktemp("reference") / "table.models"
    table = table1(synthetic, SEEDS, epochs=EPOCHS, rows=ROWS, results_dir=folder)
    return table, folder


def _stored(folder) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def test_grid_trains_penalised_rows_at_every_strength():
    rows = (Row("plain", "mlp", "none"), Row("l1", "mlp", "l1_weights", 0.5))
    assert grid(rows, 2) == [
        (rows[0], 0),
        (rows[0], 1),
        (rows[1], 0),
        (rows[1], 1),
    ]
    swept = grid(rows, 1, [0.1, 0.2, 0.1])
    assert [(r.label, r.strength, s) for r, s in swept] == [
        ("plain", 0.0, 0),
        ("l1", 0.1, 0),
        ("l1", 0.2, 0),
    ]
    # Factors multiply each row's own strength (3 significant digits).
    around = grid(rows, 1, factors=[1 / 3, 1, 3, 1.0])
    assert [r.strength for r, _ in around] == [0.0, 0.167, 0.5, 1.5]
    with pytest.raises(ValueError, match="seeds must be at least 1, got 0"):
        grid(rows, 0)
    with pytest.raises(ValueError, match=r"finite numbers ≥ 0, got \[-1.0\]"):
        grid(rows, 1, [-1.0])
    with pytest.raises(ValueError, match=r"factors must be .* got \[nan\]"):
        grid(rows, 1, factors=[float("nan")])
    with pytest.raises(ValueError, match="strengths or factors, not both"):
        grid(rows, 1, [0.1], factors=[1.0])


@pytest.mark.usefixtures("local_ray")
def test_two_seed_run_on_ray_equals_the_in_process_run(synthetic, reference, tmp_path):
    table, folder = reference
    assert len(table) == len(ROWS) and set(table.n_seeds) == {SEEDS}
    with open_executor(ray=True) as ex:
        assert not ex.in_process
        on_ray = table1(
            synthetic,
            SEEDS,
            epochs=EPOCHS,
            rows=ROWS,
            executor=ex,
            results_dir=tmp_path / "ray.models",
        )
    pd.testing.assert_frame_equal(on_ray, table, check_exact=True)
    assert _stored(tmp_path / "ray.models") == _stored(folder)


def test_a_killed_sweep_resumes_with_the_missing_models(synthetic, reference, tmp_path):
    table, folder = reference
    results = tmp_path / "table.models"
    killed = Recording(stop_after=1)
    with pytest.raises(KeyboardInterrupt):
        table1(
            synthetic,
            SEEDS,
            epochs=EPOCHS,
            rows=ROWS,
            executor=killed,
            results_dir=results,
        )
    [done] = _stored(results)
    assert not list(results.glob(".*"))  # no half-written result left
    rerun = Recording()
    resumed = table1(
        synthetic, SEEDS, epochs=EPOCHS, rows=ROWS, executor=rerun, results_dir=results
    )
    assert sorted(rerun.keys) == sorted(set(_stored(folder)) - {done})
    pd.testing.assert_frame_equal(resumed, table, check_exact=True)


def test_results_record_validation_metrics_and_best_epochs(reference):
    table, folder = reference
    stored = _stored(folder)
    assert len(stored) == len(ROWS) * SEEDS
    for result in stored.values():
        assert set(result) == {"spec", "val", "test", "best_epoch"}
        assert 1 <= result["best_epoch"] <= EPOCHS
        # ‖θ‖₁ is the model's; the other metrics are each split's own.
        assert result["val"]["theta_l1"] == result["test"]["theta_l1"]
        assert result["val"]["auc"] != result["test"]["auc"]
    assert set(table.split) == {"test"}
    assert list(table.seeds) == ["0,1"] * len(ROWS)
    first = [r for k, r in stored.items() if k.startswith("synthetic_linear-l1")]
    assert table.auc[0] == pytest.approx(sum(r["test"]["auc"] for r in first) / 2)
    assert table.best_epoch[0] == sum(r["best_epoch"] for r in first) / 2


class Canned(Recording):
    """Records the tasks and returns made-up results instead of training."""

    def imap(self, fn, tasks, common=()):
        self.keys += [t.key for t in tasks]
        metrics = dict.fromkeys(("auc", "accuracy", "theta_l1", "d_eff"), 0.5)
        for t in tasks:
            yield t, {"val": metrics, "test": metrics, "best_epoch": 1}


def test_only_the_same_model_is_resumed(synthetic, reference, tmp_path):
    _, folder = reference
    results = tmp_path / "table.models"
    shutil.copytree(folder, results)
    one = task_key("synthetic", ROWS[0], 0, EPOCHS)
    (results / f"{one}.json").write_text("{not json")
    # A result written before results held validation metrics and best epochs.
    old = task_key("synthetic", ROWS[1], 1, EPOCHS)
    stored = json.loads((results / f"{old}.json").read_text())
    old_format = {"spec": stored["spec"], "metrics": stored["test"]}
    (results / f"{old}.json").write_text(json.dumps(old_format))
    rerun = Canned()
    with pytest.warns(UserWarning, match="unreadable Table 1 result") as caught:
        table1(
            synthetic,
            SEEDS,
            epochs=EPOCHS,
            rows=ROWS,
            executor=rerun,
            results_dir=results,
        )
    assert rerun.keys == [one, old]
    assert "before results recorded validation metrics" in str(caught[-1].message)
    assert set(json.loads((results / f"{old}.json").read_text())) == {
        "spec",
        "val",
        "test",
        "best_epoch",
    }
    # Other epochs are other models; --no-resume trains every model again.
    for options in ({"epochs": EPOCHS + 1}, {"epochs": EPOCHS, "resume": False}):
        rerun = Canned()
        table1(
            synthetic, SEEDS, rows=ROWS, executor=rerun, results_dir=results, **options
        )
        assert len(rerun.keys) == len(ROWS) * SEEDS


def test_other_data_under_the_same_name_is_trained_again(
    synthetic, reference, tmp_path
):
    folder = tmp_path / "table.models"
    shutil.copytree(reference[1], folder)
    y = synthetic.train.y.copy()
    y[0] = 1 - y[0]
    changed = dataclasses.replace(
        synthetic, train=dataclasses.replace(synthetic.train, y=y)
    )
    assert changed.name == synthetic.name
    assert changed.content_digest() != synthetic.content_digest()
    rerun = Canned()
    table1(changed, SEEDS, epochs=EPOCHS, rows=ROWS, executor=rerun, results_dir=folder)
    assert len(rerun.keys) == len(ROWS) * SEEDS


def test_the_command_sweeps_strengths_and_resumes(tmp_path, capsys):
    out = tmp_path / "bc.csv"
    argv = ["table1", "--dataset", "breast_cancer", "--seeds", "1", "--epochs", "1"]
    argv += ["--strengths", "0.01", "0.02", "--out", str(out)]
    assert main(argv) == 0
    first = capsys.readouterr().out
    table = pd.read_csv(out)
    # Two unpenalised rows once, four penalised rows at both strengths.
    assert len(table) == 2 + 4 * 2
    assert set(table.strength[table.penalty != "none"]) == {0.01, 0.02}
    models = sorted((tmp_path / "bc.models").glob("*.json"))
    assert len(models) == len(table)
    stamps = [p.stat().st_mtime_ns for p in models]
    assert main(argv) == 0
    assert capsys.readouterr().out == first
    assert [p.stat().st_mtime_ns for p in models] == stamps  # nothing retrained
