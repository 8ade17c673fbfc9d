"""Where embarrassingly parallel work runs: in this process, or on Ray.

A sweep (the models of a Table 1 grid, the sentence shards of a word-cloud
corpus, the example shards of a saliency comparison, the layers of a
dataset × features × α grid) is a list of :class:`Task` objects, each a pure function of its
arguments, seeds included, so the same tasks give the same results whichever
executor runs them. :func:`open_executor` picks the executor:

- in this process (the default: nothing to start);
- a local Ray started for the run (``ray=True``, ``python -m core … --ray``);
- an existing Ray cluster (``address=``, ``--ray-address``, or the
  ``SPARSELENS_RAY_ADDRESS`` environment variable), started with
  ``ray start --head`` on one machine and ``ray start --address …`` on the
  others (docs/scaling.md).

Ray is imported only when it is asked for (``import ray`` costs about 0.3 s).

References
----------
Moritz et al. (2018), "Ray: A Distributed Framework for Emerging AI
Applications", OSDI.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import SparseLensError

#: The environment variable naming a Ray cluster to run on.
ADDRESS_ENV = "SPARSELENS_RAY_ADDRESS"

#: Seconds to wait for a Ray cluster to accept a driver before giving up
#: (``ray.init(address=...)`` itself retries a dead address for minutes);
#: a driver connecting to a live one took 0.8 s on a loaded two-core machine.
CONNECT_TIMEOUT = 15.0

#: The port of a Ray head's GCS when an address names none (Ray's default).
DEFAULT_RAY_PORT = 6379

#: The port of a Ray Client server (``ray://`` addresses) when none is named.
DEFAULT_CLIENT_PORT = 10001

log = logging.getLogger(__name__)


class ExecutorUnavailableError(SparseLensError):
    """The executor asked for cannot be started or reached (Ray missing, a
    cluster address that does not answer)."""


@dataclass(frozen=True)
class TaskFailure:
    """A task that raised on every attempt.

    Attributes
    ----------
    key : str
        The task's key.
    error : str
        The last attempt's exception, as ``Type: message``.
    attempts : int
        How many times it ran.
    """

    key: str
    error: str
    attempts: int


class TasksFailedError(SparseLensError):
    """Some tasks raised on every attempt; the others finished (and their
    results were handed over) before this was raised."""

    def __init__(self, failures: Sequence[TaskFailure], total: int) -> None:
        self.failures = tuple(failures)
        lines = [
            f"{f.key}: {f.error} (after {f.attempts} attempts)" for f in self.failures
        ]
        super().__init__(
            f"{len(self.failures)} of {total} tasks failed; the others finished "
            "and a rerun computes only the missing ones. " + "; ".join(lines)
        )


@dataclass(frozen=True)
class Task:
    """One unit of work: ``fn(*common, *args)`` for the function and common
    arguments given to :meth:`Executor.imap`.

    Attributes
    ----------
    key : str
        Names the task in reports and results (unique within a sweep).
    args : tuple
        The task's own arguments, seeds included.
    """

    key: str
    args: tuple = ()


def _describe(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(exc)).strip()


class Executor:
    """Runs tasks in this process, one after another, and yields each result
    as it finishes (:class:`RayExecutor` runs them on Ray).

    Attributes
    ----------
    name : str
        What runs the tasks, for messages (``"in-process"``, ``"ray (local)"``…).
    workers : int
        How many tasks can run at once.
    max_retries : int
        A task that raises is run again up to this many times.
    in_process : bool
        Whether tasks run one after another in this process (work that is
        already done in one loop gains nothing from being cut into tasks).
    """

    name = "in-process"
    in_process = True

    def __init__(self, *, max_retries: int = 2) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries must be ≥ 0, got {max_retries}")
        self.max_retries = max_retries
        self.workers = 1

    def imap(
        self, fn: Callable[..., Any], tasks: Sequence[Task], common: tuple = ()
    ) -> Iterator[tuple[Task, Any]]:
        """Run ``fn(*common, *task.args)`` for every task.

        Yields ``(task, result)`` as each task finishes (in any order). A task
        that raises is retried up to ``max_retries`` times; when one still
        fails, the others run to the end and :class:`TasksFailedError`, naming
        each failed task and its error, is raised after the last result.
        """
        _check_keys(tasks)
        failures = []
        for task in tasks:
            for attempt in range(1, self.max_retries + 2):
                try:
                    result = fn(*common, *task.args)
                except Exception as exc:  # reported below, never dropped
                    if attempt <= self.max_retries:
                        log.warning(
                            "task %s failed (%s); retrying, attempt %d of %d",
                            task.key,
                            _describe(exc),
                            attempt + 1,
                            self.max_retries + 1,
                        )
                        continue
                    failures.append(TaskFailure(task.key, _describe(exc), attempt))
                else:
                    yield task, result
                break
        if failures:
            raise TasksFailedError(failures, len(tasks))


def _check_keys(tasks: Sequence[Task]) -> None:
    keys = [t.key for t in tasks]
    if len(set(keys)) != len(keys):
        raise ValueError("task keys must be unique within a sweep")


class RayExecutor(Executor):
    """Runs tasks as Ray tasks (one CPU each) on the Ray this process is
    connected to; see :func:`open_executor`."""

    in_process = False

    def __init__(self, name: str, *, max_retries: int = 2) -> None:
        import ray

        super().__init__(max_retries=max_retries)
        self.name = name
        self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))

    def imap(
        self, fn: Callable[..., Any], tasks: Sequence[Task], common: tuple = ()
    ) -> Iterator[tuple[Task, Any]]:
        import ray

        _check_keys(tasks)
        # Common arguments (a dataset, an encoder) go to the object store once,
        # not once per task.
        shared = [ray.put(c) for c in common]
        remote = ray.remote(fn).options(
            num_cpus=1, max_retries=self.max_retries, retry_exceptions=True
        )
        pending = {remote.remote(*shared, *t.args): t for t in tasks}
        failures = []
        try:
            while pending:
                [ref], _ = ray.wait(list(pending), num_returns=1)
                task = pending.pop(ref)
                try:
                    result = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    cause = getattr(exc, "cause", None) or exc
                    failures.append(
                        TaskFailure(task.key, _describe(cause), self.max_retries + 1)
                    )
                    continue
                yield task, result
        finally:
            for ref in pending:  # the caller stopped early: stop the rest
                ray.cancel(ref)
        if failures:
            raise TasksFailedError(failures, len(tasks))


def _import_ray():
    try:
        import ray
    except ImportError as exc:
        raise ExecutorUnavailableError(
            "Ray was asked for but is not installed in this environment: "
            "pip install -r requirements.txt (it pins ray)"
        ) from exc
    return ray


def _head(address: str) -> tuple[str, int]:
    """The host and port a Ray address points at (``host``, ``host:port`` or
    ``ray://host:port``)."""
    client = address.startswith("ray://")
    rest = address.removeprefix("ray://")
    host, sep, port = rest.rpartition(":")
    if not sep:
        host, port = rest, ""
    if not host:
        raise ExecutorUnavailableError(
            f"Ray address {address!r} names no host; expected HOST:PORT "
            "(the address `ray start --head` printed) or ray://HOST:PORT"
        )
    if not port:
        return host, DEFAULT_CLIENT_PORT if client else DEFAULT_RAY_PORT
    if not port.isdigit():
        raise ExecutorUnavailableError(
            f"Ray address {address!r} has port {port!r}; expected a number "
            "(HOST:PORT, e.g. 10.0.0.5:6379)"
        )
    return host, int(port)


def _with_port(address: str) -> str:
    """``address`` with the default port when it names none (``ray.init``
    wants one)."""
    host, port = _head(address)
    return f"{'ray://' if address.startswith('ray://') else ''}{host}:{port}"


#: Connects to a cluster and leaves: run in a child process that can be killed.
_PROBE = (
    "import sys, ray; "
    "ray.init(address=sys.argv[1], logging_level='ERROR', log_to_driver=False); "
    "ray.shutdown()"
)

_START_ONE = (
    "Start one with `ray start --head` and pass the address it prints "
    f"(--ray-address or {ADDRESS_ENV}), or leave both unset to run in this process."
)

_TOKEN_HINT = (
    "a cluster started with `ray start --head` checks a token: set "
    "RAY_AUTH_MODE=token here, with the head's token in ~/.ray/auth_token or "
    "RAY_AUTH_TOKEN (`ray get-auth-token` on the head prints it); docs/scaling.md"
)


def _check_reachable(address: str, timeout: float) -> None:
    """Raise :class:`ExecutorUnavailableError` unless a Ray cluster at
    ``address`` accepts a driver within ``timeout`` seconds.

    ``ray.init(address=...)`` retries an address for minutes, and a TCP
    connection proves little where a proxy accepts every connection (as one
    does on the machine this was written on). So a refused connection fails at
    once, and otherwise a child process connects with ``ray.init`` and is
    killed when it has not finished in time.
    """
    host, port = _head(address)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise ExecutorUnavailableError(
            f"No Ray cluster answers at {address!r} ({host}:{port}: "
            f"{exc.strerror or exc}) within {timeout:g} s. {_START_ONE}"
        ) from exc
    try:
        probe = subprocess.run(
            [sys.executable, "-c", _PROBE, address],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        raise ExecutorUnavailableError(
            f"No Ray cluster answers at {address!r}: {host}:{port} accepts "
            f"connections, but a Ray driver could not connect within "
            f"{timeout:g} s. {_START_ONE} If a Ray head runs there, {_TOKEN_HINT}"
        ) from exc
    if probe.returncode != 0:
        lines = [ln for ln in probe.stderr.splitlines() if ln.strip()]
        raise ExecutorUnavailableError(
            f"Could not connect to the Ray cluster at {address!r}: "
            f"{lines[-1] if lines else f'exit status {probe.returncode}'}. Note: "
            + _TOKEN_HINT
        )


def _worker_env() -> dict[str, str]:
    """The environment a cluster's workers need to find the same data, cache
    and model folders as this process (on a shared file system)."""
    return {
        k: v
        for k, v in os.environ.items()
        if k.startswith("SPARSELENS_") or k == "HF_HUB_OFFLINE"
    }


@contextlib.contextmanager
def open_executor(
    *,
    ray: bool = False,
    address: str | None = None,
    num_cpus: int | None = None,
    max_retries: int = 2,
    timeout: float = CONNECT_TIMEOUT,
) -> Iterator[Executor]:
    """The executor asked for, open for the block.

    Parameters
    ----------
    ray : bool
        Start a local Ray for the block (``ray.init(num_cpus=num_cpus)``) and
        shut it down afterwards.
    address : str, optional
        A running Ray cluster (``HOST:PORT`` of its head, ``ray://HOST:PORT``
        for Ray Client, or ``"auto"`` for the one on this machine); default:
        the ``SPARSELENS_RAY_ADDRESS`` environment variable. Wins over ``ray``.
    num_cpus : int, optional
        CPUs of the local Ray (default: every core). Not allowed with an
        address: a cluster's size is set where it was started.
    max_retries : int
        Runs again a task that raised, up to this many times.
    timeout : float
        Seconds to wait for the cluster to accept a driver.

    When Ray is already initialised in this process (a test's fixture, a
    notebook), it is used as it is and left running.

    Raises
    ------
    ExecutorUnavailableError
        Ray is not installed, the address is malformed, or no cluster there
        accepts a driver within ``timeout`` seconds.
    """
    address = address or os.environ.get(ADDRESS_ENV) or None
    if address is None and not ray:
        if num_cpus is not None:
            raise ValueError(
                "num_cpus sets the size of a local Ray; ask for one (--ray) or "
                "leave it out to run in this process"
            )
        yield Executor(max_retries=max_retries)
        return
    if address is not None and num_cpus is not None:
        raise ValueError(
            "num_cpus sets the size of a local Ray; a cluster at an address "
            "has the CPUs it was started with (`ray start --num-cpus`)"
        )
    if num_cpus is not None and num_cpus < 1:
        raise ValueError(f"num_cpus must be at least 1, got {num_cpus}")
    if address not in (None, "auto"):
        address = _with_port(address)
        _check_reachable(address, timeout)
    ray_ = _import_ray()
    if ray_.is_initialized():
        yield RayExecutor("ray (already running)", max_retries=max_retries)
        return
    if address is None:
        # address="local" starts a new Ray even when RAY_ADDRESS is set.
        ray_.init(
            address="local",
            num_cpus=num_cpus,
            include_dashboard=False,
            logging_level=logging.WARNING,
        )
        name = "ray (local)"
    else:
        try:
            ray_.init(
                address=address,
                logging_level=logging.WARNING,
                runtime_env={"env_vars": _worker_env()},
            )
        except ConnectionError as exc:
            raise ExecutorUnavailableError(
                f"Could not connect to the Ray cluster at {address!r}: {exc}. "
                "Note: " + _TOKEN_HINT
            ) from exc
        name = f"ray ({address})"
    try:
        yield RayExecutor(name, max_retries=max_retries)
    finally:
        ray_.shutdown()
