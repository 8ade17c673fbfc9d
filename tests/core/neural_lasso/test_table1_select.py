"""Table 1 strengths chosen on validation metrics only and confirmed on fresh
seeds: the rule (:func:`choose`), the two phases of :func:`select`, resuming
either, and the ``table1-select`` command."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pandas as pd
import pytest

from core.cli.main import main
from core.executor import Executor
from core.neural_lasso.table1 import Row, choose, select, summary

PLAIN = Row("MLP normal", "mlp", "none")
GRAD = Row("MLP gradient L1", "mlp", "grad_l1", 0.02)
GRID = (0.01, 0.02, 0.04)

#: Made-up mean AUCs where validation and test disagree: on validation 0.02 is
#: the strongest strength within 0.005 of the best (the plain MLP's 0.900); on
#: test 0.04 is by far the best and 0.01 the worst.
VAL_AUC = {0.0: 0.900, 0.01: 0.899, 0.02: 0.896, 0.04: 0.850}
TEST_AUC = {0.0: 0.700, 0.01: 0.600, 0.02: 0.650, 0.04: 0.990}


class Sealed(dict):
    """Test metrics that fail the test when anything reads them."""

    def __getitem__(self, metric):
        raise AssertionError(f"test metric {metric!r} of a selection seed was read")


def metrics(auc: float, seed: int) -> dict:
    # Per-seed noise that averages out: the mean over seeds 0, 1, 2 is ``auc``.
    noisy = auc + 0.001 * (seed % 3 - 1)
    return {"auc": noisy, "accuracy": noisy, "theta_l1": 10.0, "d_eff": 3.0}


class Canned(Executor):
    """Returns made-up results from each task's row and seed instead of
    training; records the tasks it was given and can stop after ``stop_after``
    results (over both phases), as a killed sweep does."""

    def __init__(self, stop_after: int | None = None, seal_test: bool = False):
        super().__init__()
        self.seeds: list[int] = []
        self.keys: list[str] = []
        self.stop_after = stop_after
        self.seal_test = seal_test

    def imap(self, fn, tasks, common=()):
        for task in tasks:
            row, seed, _ = task.args
            self.seeds.append(seed)
            self.keys.append(task.key)
            test = metrics(TEST_AUC[row.strength], seed)
            if self.seal_test and seed < 3:
                test = Sealed(test)
            yield (
                task,
                {
                    "val": metrics(VAL_AUC[row.strength], seed),
                    "test": test,
                    "best_epoch": 4 if row.penalty == "none" else 30,
                },
            )
            if len(self.keys) == self.stop_after:
                raise KeyboardInterrupt


TOY = SimpleNamespace(name="toy", content_digest=lambda: "toy-data")


def run(executor: Executor, results_dir=None):
    return select(
        TOY,
        rows=(PLAIN, GRAD),
        strengths=GRID,
        executor=executor,
        results_dir=results_dir,
    )


def test_selection_chooses_on_validation_and_never_reads_test_metrics():
    chosen = run(Canned(seal_test=True))
    # 0.896 is within 0.005 of the plain MLP's 0.900; 0.850 is not. Test
    # metrics would have chosen 0.04.
    assert chosen.rows == (PLAIN, Row("MLP gradient L1", "mlp", "grad_l1", 0.02))
    validation = chosen.validation
    assert set(validation.split) == {"val"}
    assert list(validation.strength[validation.chosen]) == [0.0, 0.02]
    assert validation.auc.tolist() == pytest.approx([0.900, 0.899, 0.896, 0.850])
    confirmation = chosen.confirmation
    assert set(confirmation.split) == {"test"}
    assert confirmation.auc.tolist() == pytest.approx([0.700, 0.650])
    assert confirmation.best_epoch.tolist() == [4, 30]


def test_confirmation_uses_fresh_seeds():
    executor = Canned()
    chosen = run(executor)
    selection = 1 * 3 + len(GRID) * 3
    assert executor.seeds[:selection] == [0, 1, 2] * (1 + len(GRID))
    assert executor.seeds[selection:] == [3, 4, 5] * 2
    assert set(chosen.validation.seeds) == {"0,1,2"}
    assert set(chosen.confirmation.seeds) == {"3,4,5"}
    assert chosen.confirmation.n_seeds.tolist() == [3, 3]


def validation_of(aucs: dict[Row, float]) -> pd.DataFrame:
    """The validation summary of seeds 0, 1, 2 of rows with these mean AUCs."""
    models = [(row, seed) for row in aucs for seed in range(3)]
    results = [
        {"val": metrics(aucs[row], seed), "test": Sealed(), "best_epoch": 1}
        for row, seed in models
    ]
    return summary("toy", models, results, "val")


def chosen_strengths(aucs: dict[Row, float]) -> dict[str, list[float]]:
    validation = validation_of(aucs)
    picked = validation[choose(validation)]
    return {r.model: r.strength for r in picked.itertuples()}


def at(row: Row, *strengths: float) -> list[Row]:
    return [Row(row.label, row.architecture, row.penalty, s) for s in strengths]


def test_rule_takes_the_strongest_strength_within_the_tolerance_inclusive():
    a, b, c = at(GRAD, 0.01, 0.02, 0.04)
    # Averaged over the seeds, 0.700 and 0.695 are 0.7000000000000001 and
    # 0.695, more than 0.005 apart in floating point: still within.
    aucs = {PLAIN: 0.700, a: 0.699, b: 0.695, c: 0.6949}
    assert chosen_strengths(aucs) == {PLAIN.label: 0.0, GRAD.label: 0.02}
    # The reference is the row's own best when it beats the plain model.
    aucs = {PLAIN: 0.800, a: 0.900, b: 0.897, c: 0.894}
    assert chosen_strengths(aucs)[GRAD.label] == 0.02


def test_rule_without_a_close_strength_takes_the_best_auc_then_the_stronger():
    a, b, c = at(GRAD, 0.01, 0.02, 0.04)
    aucs = {PLAIN: 0.950, a: 0.900, b: 0.930, c: 0.930}
    assert chosen_strengths(aucs)[GRAD.label] == 0.04
    aucs = {PLAIN: 0.950, a: 0.930, b: 0.900, c: 0.800}
    assert chosen_strengths(aucs)[GRAD.label] == 0.01


def test_rule_compares_a_row_with_the_plain_model_of_its_architecture():
    linear = Row("Linear", "linear", "none")
    lasso = at(Row("Linear + L1", "linear", "l1_weights"), 0.01, 0.1)
    aucs = {linear: 0.600, lasso[0]: 0.600, lasso[1]: 0.598, PLAIN: 0.950}
    # Against the MLP's 0.950 neither would be close and 0.01 would be chosen.
    assert chosen_strengths(aucs)["Linear + L1"] == 0.1


def test_rule_refuses_test_metrics():
    models = [(PLAIN, 0)]
    result = {"val": {}, "test": metrics(0.9, 0), "best_epoch": 1}
    test = summary("toy", models, [result], "test")
    with pytest.raises(ValueError, match=r"validation metrics only; got .*'test'"):
        choose(test)


def test_both_phases_resume_where_they_were_killed(tmp_path):
    whole = run(Canned(), tmp_path / "whole.models")
    folder = tmp_path / "toy.models"
    trained = []
    # Killed in the selection phase after 5 of its 12 models, then in the
    # confirmation phase after the 7 remaining selection models and 1 more.
    for stop_after in (5, 8):
        killed = Canned(stop_after=stop_after)
        with pytest.raises(KeyboardInterrupt):
            run(killed, folder)
        trained += killed.keys
    assert trained[-1].endswith("_seed3_epochsdefault")
    rerun = Canned()
    resumed = run(rerun, folder)
    trained += rerun.keys
    # Every model was trained exactly once over the three runs.
    assert sorted(trained) == sorted(p.stem for p in folder.glob("*.json"))
    assert len(trained) == 1 * 3 + len(GRID) * 3 + 2 * 3
    assert resumed.rows == whole.rows
    for name in ("validation", "confirmation"):
        pd.testing.assert_frame_equal(
            getattr(resumed, name), getattr(whole, name), check_exact=True
        )


def test_the_command_chooses_confirms_and_resumes(tmp_path, capsys):
    out = tmp_path / "bc.csv"
    argv = ["table1-select", "--dataset", "breast_cancer", "--epochs", "1"]
    argv += ["--seeds", "1", "--confirm-seeds", "1", "--strengths", "0.01", "0.02"]
    argv += ["--out", str(out)]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert "Rule: each penalised row takes the strongest strength" in first
    validation = pd.read_csv(tmp_path / "bc.validation.csv")
    assert len(validation) == 2 + 4 * 2
    assert set(validation.split) == {"val"} and set(validation.seeds) == {0}
    assert validation.groupby("model").chosen.sum().tolist() == [1] * 6
    confirmation = pd.read_csv(out)
    assert set(confirmation.split) == {"test"} and set(confirmation.seeds) == {1}
    assert (
        confirmation.strength.tolist()
        == validation.strength[validation.chosen].tolist()
    )
    assert "best epoch" in (tmp_path / "bc.md").read_text()
    assert "| chosen |" in (tmp_path / "bc.validation.md").read_text()
    models = sorted((tmp_path / "bc.models").glob("*.json"))
    assert len(models) == len(validation) + len(confirmation)
    assert {json.loads(p.read_text())["spec"]["seed"] for p in models} == {0, 1}
    stamps = [p.stat().st_mtime_ns for p in models]
    assert main(argv) == 0
    assert capsys.readouterr().out == first
    assert [p.stat().st_mtime_ns for p in models] == stamps  # nothing retrained


def test_the_command_needs_a_grid(capsys):
    argv = ["table1-select", "--dataset", "breast_cancer", "--out", "x.csv"]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "one of the arguments --strengths --factors is required" in (
        capsys.readouterr().err
    )
