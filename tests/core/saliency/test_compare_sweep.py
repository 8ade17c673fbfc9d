"""``saliency-compare`` as a sweep: one task per method and shard of examples,
the same numbers on Ray as in this process, each finished task written as it
finishes so that a rerun runs only the missing ones."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from torch import nn

from core.cli.main import main
from core.data import load_dataset
from core.executor import Executor, TasksFailedError, open_executor
from core.saliency import lab
from core.training.train import TrainConfig, store_result, train
from tests.core.local_ray import local_ray  # noqa: F401
from tests.core.recording import Recording
from tests.core.threads import one_torch_thread  # noqa: F401

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: Methods that draw (SmoothGrad, CASO's smoothing) or seed per example (RC-RDE).
METHODS = ["Saliency", "SmoothGrad", "CASO", "RC-RDE"]
FAST = {"RC-RDE": {"n_iter": 5, "n_noise": 4}, "CASO": {"n_iter": 20}}


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))


def _inputs(n: int = 7) -> torch.Tensor:
    return torch.randn(n, 6, generator=torch.Generator().manual_seed(1))


def _compare(**kwargs):
    return lab.compare(
        _net(), _inputs(), METHODS, overrides=FAST, n_steps=4, shard_size=3, **kwargs
    )


@pytest.fixture(scope="module")
def reference():
    return _compare()


@pytest.mark.usefixtures("local_ray")
def test_ray_equals_in_process_number_for_number(reference):
    with open_executor(ray=True) as executor:
        assert not executor.in_process
        table, areas, _ = _compare(executor=executor)
    pd.testing.assert_frame_equal(table, reference[0], check_exact=True)
    cols = ["method", "deletion", "insertion", "rate-distortion", "n_examples"]
    pd.testing.assert_frame_equal(areas[cols], reference[1][cols], check_exact=True)


def test_shards_keep_the_unsharded_per_example_draws():
    # Curves and RC-RDE seed each example by its index in the whole run, so
    # for them the shard size changes nothing.
    methods, kwargs = ["Saliency", "RC-RDE"], dict(overrides=FAST, n_steps=4)
    one, _, _ = lab.compare(_net(), _inputs(), methods, shard_size=7, **kwargs)
    three, _, _ = lab.compare(_net(), _inputs(), methods, shard_size=3, **kwargs)
    pd.testing.assert_frame_equal(one, three, check_exact=True)


def test_a_killed_run_resumes_with_only_the_missing_tasks(reference, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        _compare(executor=Recording(stop_after=5), results_dir=tmp_path)
    done = {p.stem for p in tmp_path.glob("*.json")}
    assert len(done) == 5
    assert not list(tmp_path.glob(".*"))  # no half-written file
    again = Recording()
    progress = []
    table, _, _ = _compare(
        executor=again,
        results_dir=tmp_path,
        progress=lambda done, total: progress.append((done, total)),
    )
    assert sorted(again.keys) == sorted(set(_all_keys()) - done)
    assert progress[0] == (5, 12) and progress[-1] == (12, 12)
    pd.testing.assert_frame_equal(table, reference[0], check_exact=True)
    # Other settings are other tasks: nothing is reused for them.
    other = Recording()
    lab.compare(
        _net(),
        _inputs(),
        ["Saliency"],
        n_steps=5,
        shard_size=3,
        executor=other,
        results_dir=tmp_path,
    )
    assert len(other.keys) == 3


def _all_keys() -> list[str]:
    return [lab._task_key(m, s, min(7, s + 3)) for m in METHODS for s in range(0, 7, 3)]


def test_a_failing_task_is_reported_and_the_rest_are_written(tmp_path):
    with pytest.raises(TasksFailedError) as caught:
        lab.compare(
            _net(),
            _inputs(),
            ["Saliency", "RC-RDE"],
            overrides={"RC-RDE": {"n_iter": 5, "n_noise": 4, "k": 999}},
            n_steps=4,
            shard_size=3,
            executor=Executor(max_retries=1),
            results_dir=tmp_path,
        )
    message = str(caught.value)
    assert message.startswith("3 of 6 tasks failed")
    assert "rc_rde-00000-00003: ValueError" in message and "after 2 attempts" in message
    assert len(list(tmp_path.glob("saliency-*.json"))) == 3


@pytest.fixture(scope="module")
def stored_model():
    ds = load_dataset("synthetic")
    return ds, train(ds, "mlp", [], TrainConfig(epochs=1))


@pytest.mark.usefixtures("local_ray")
def test_cli_on_ray_writes_the_in_process_tables(stored_model, tmp_path):
    ds, result = stored_model
    store_result(result, ds, model_id="tiny-mlp")
    argv = ["saliency-compare", "--model", "tiny-mlp", "--examples", "5"]
    argv += ["--methods", "Saliency", "SmoothGrad", "--shard-size", "2"]
    assert main([*argv, "--out", str(tmp_path / "here")]) == 0
    assert main([*argv, "--out", str(tmp_path / "ray"), "--ray"]) == 0
    for name in ("curves", "areas"):
        here = pd.read_csv(tmp_path / "here" / f"tiny-mlp-{name}.csv")
        ray = pd.read_csv(tmp_path / "ray" / f"tiny-mlp-{name}.csv")
        same = here.columns.drop("seconds", errors="ignore")
        pd.testing.assert_frame_equal(here[same], ray[same], check_exact=True)
    assert len(list((tmp_path / "ray" / "tiny-mlp.tasks").glob("*.json"))) == 2 * 3


def test_cli_help_names_the_library_shard_size(capsys):
    with pytest.raises(SystemExit):
        main(["saliency-compare", "--help"])
    assert f"(default: {lab.SHARD_SIZE})" in capsys.readouterr().out
