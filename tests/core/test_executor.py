"""The executor seam: tasks run in this process or on a local Ray with the
same results; a task that raises is retried, then reported while the rest
finish; an unreachable cluster fails within seconds with a clear message."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import numpy as np
import pytest

from core.cli.main import main
from core.executor import (
    ADDRESS_ENV,
    ExecutorUnavailableError,
    Task,
    TasksFailedError,
    open_executor,
)
from tests.core.local_ray import local_ray  # noqa: F401


@pytest.fixture(params=["in-process", "ray"])
def executor(request):
    """Each test once in this process and once on the session's local Ray."""
    if request.param == "ray":
        request.getfixturevalue("local_ray")
    with open_executor(ray=request.param == "ray", max_retries=1) as ex:
        yield ex


def draw(scale: float, seed: int) -> np.ndarray:
    """A seeded task: its result depends on its arguments only."""
    return scale * np.random.default_rng(seed).standard_normal(4)


def fail_on_seed(bad: int, seed: int) -> int:
    if seed == bad:
        raise ValueError(f"seed {seed} is bad")
    return seed


def fail_once(marker_dir: str, seed: int) -> int:
    """Raises the first time it runs for a seed (a marker file remembers it,
    across processes), returns the seed the second time."""
    marker = Path(marker_dir) / str(seed)
    if not marker.exists():
        marker.touch()
        raise RuntimeError("flaky")
    return seed


def _run(ex, fn, common, seeds):
    tasks = [Task(f"seed {s}", (s,)) for s in seeds]
    return dict((t.key, r) for t, r in ex.imap(fn, tasks, common))


def test_seeded_tasks_give_the_same_results_on_any_executor(executor):
    got = _run(executor, draw, (2.0,), range(6))
    assert sorted(got) == [f"seed {s}" for s in range(6)]
    for s in range(6):
        np.testing.assert_array_equal(got[f"seed {s}"], draw(2.0, s))


def test_a_task_that_raises_is_reported_and_the_rest_finish(executor):
    tasks = [Task(f"seed {s}", (s,)) for s in range(5)]
    finished = {}
    with pytest.raises(TasksFailedError) as info:
        for task, result in executor.imap(fail_on_seed, tasks, (3,)):
            finished[task.key] = result
    assert finished == {f"seed {s}": s for s in (0, 1, 2, 4)}
    [failure] = info.value.failures
    assert (failure.key, failure.attempts) == ("seed 3", 2)
    assert "ValueError: seed 3 is bad" in failure.error
    assert "1 of 5 tasks failed" in str(info.value)
    assert "seed 3: ValueError: seed 3 is bad (after 2 attempts)" in str(info.value)


def test_a_task_that_raises_once_is_retried(executor, tmp_path):
    assert _run(executor, fail_once, (str(tmp_path),), range(3)) == {
        f"seed {s}": s for s in range(3)
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0", "1", "2"]


def test_no_retries_reports_the_first_failure(tmp_path):
    with (
        open_executor(max_retries=0) as ex,
        pytest.raises(TasksFailedError, match="RuntimeError: flaky"),
    ):
        _run(ex, fail_once, (str(tmp_path),), [0])


def _open(**options) -> None:
    with open_executor(**options):
        pass


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_address_fails_within_seconds():
    address = f"127.0.0.1:{_closed_port()}"
    start = time.perf_counter()
    with pytest.raises(ExecutorUnavailableError) as info:
        _open(address=address)
    assert time.perf_counter() - start < 10
    message = str(info.value)
    assert f"No Ray cluster answers at {address!r}" in message
    assert "ray start --head" in message and ADDRESS_ENV in message


def test_an_address_that_never_answers_fails_after_the_timeout():
    # 198.51.100.0/24 (TEST-NET-2) is reserved for documentation: nothing answers there, so
    # the connection either times out or is refused by the network at once.
    start = time.perf_counter()
    with pytest.raises(ExecutorUnavailableError, match="198.51.100.1:6379"):
        _open(address="198.51.100.1", timeout=1.0)
    assert time.perf_counter() - start < 5


def test_a_server_that_is_not_a_ray_head_fails_within_seconds():
    # It accepts connections (the kernel completes them for a listening
    # socket) but never speaks, like a proxy that accepts every connection
    # (ray.init alone would retry it for minutes).
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        address = f"127.0.0.1:{server.getsockname()[1]}"
        start = time.perf_counter()
        with pytest.raises(ExecutorUnavailableError) as info:
            _open(address=address, timeout=1.0)
    assert time.perf_counter() - start < 5
    assert "accepts connections, but a Ray driver could not connect" in str(info.value)


@pytest.mark.usefixtures("local_ray")
def test_a_running_ray_head_answers_the_probe():
    import ray

    with open_executor(address=ray.get_runtime_context().gcs_address) as ex:
        assert _run(ex, draw, (1.0,), [7]) == {"seed 7": pytest.approx(draw(1.0, 7))}


def test_the_environment_names_the_cluster(monkeypatch):
    monkeypatch.setenv(ADDRESS_ENV, f"127.0.0.1:{_closed_port()}")
    with pytest.raises(ExecutorUnavailableError, match="No Ray cluster answers"):
        _open()


@pytest.mark.parametrize(
    ("address", "message"),
    [(":6379", "names no host"), ("head:port", "has port 'port'")],
)
def test_a_malformed_address_is_named(address, message):
    with pytest.raises(ExecutorUnavailableError, match=message):
        _open(address=address)


def test_cpus_belong_to_a_local_ray_only():
    with pytest.raises(ValueError, match="ray start --num-cpus"):
        _open(address="10.0.0.1:6379", num_cpus=2)
    with pytest.raises(ValueError, match=r"ask for one \(--ray\)"):
        _open(num_cpus=2)


def test_the_command_line_reports_an_unreachable_address(capsys):
    address = f"127.0.0.1:{_closed_port()}"
    argv = ["table1", "--dataset", "synthetic", "--seeds", "1", "--out", "x.csv"]
    assert main([*argv, "--ray-address", address]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: No Ray cluster answers at") and "Traceback" not in err
