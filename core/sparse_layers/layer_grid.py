"""Several sparse layers at once: one task per dataset × features × α.

Each combination is fitted as a task on an executor
(:func:`core.executor.open_executor`: in this process or on Ray) and stored,
atomically, as it finishes; a rerun keeps the layers already stored with the
same settings and fits only the rest (docs/scaling.md).
"""

from __future__ import annotations

import dataclasses
import math
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.data.user.mapped import is_mapped
from core.executor import Executor, Task
from core.paths import layers_dir
from core.sparse_layers.deep_features import (
    RAW,
    Progress,
    extractor_id,
    feature_set,
)
from core.sparse_layers.glm.solvers import tolerance_for
from core.sparse_layers.sparse_layer import SparseLayer, fit_sparse_layer, layer_name
from core.threads import torch_threads


@dataclass(frozen=True)
class LayerJob:
    """One layer of a grid.

    Attributes
    ----------
    name : str
        Where it is stored: ``<dataset>-<features>``, with ``-alpha<α>`` when
        the grid has several α.
    dataset, features : str
    alpha : float
        The L1 share of the penalty.
    """

    name: str
    dataset: str
    features: str
    alpha: float


def layer_jobs(
    datasets: Sequence[str], features: Sequence[str], alphas: Sequence[float]
) -> list[LayerJob]:
    """Every combination of ``datasets × features × alphas`` (repeats dropped),
    each named so that no two share a layer folder.

    Raises
    ------
    ValueError
        An empty list, or an α outside [0, 1].
    """
    for what, values in (("dataset", datasets), ("features", features)):
        if not values:
            raise ValueError(f"give at least one {what}")
    if not alphas:
        raise ValueError("give at least one alpha")
    bad = [a for a in alphas if not 0 < a <= 1]
    if bad:
        raise ValueError(
            f"alpha is the L1 share of the penalty, in (0, 1]; got {bad} "
            "(a sparse layer needs some L1)"
        )
    alphas = list(dict.fromkeys(float(a) for a in alphas))
    several = len(alphas) > 1
    jobs = {}
    for d in dict.fromkeys(datasets):
        for f in dict.fromkeys(features):
            for a in alphas:
                name = layer_name(d, f) + (f"-alpha{a:g}" if several else "")
                jobs[name] = LayerJob(name, d, f, a)
    return list(jobs.values())


def fit_layer(
    progress_features: Progress | None,
    progress: Progress | None,
    job: LayerJob,
    settings: dict,
    threads: int | None = None,
) -> SparseLayer:
    """Extract ``job``'s features and fit its layer (a task of :func:`fit_layers`).

    Parameters
    ----------
    progress_features, progress : callable, optional
        Progress of the features and of the path (only in this process).
    settings : dict
        ``n_lambdas``, ``eps``, ``tol``, ``stop``, ``tolerance`` and
        ``max_memory`` of :func:`core.sparse_layers.sparse_layer.fit_sparse_layer`;
        with ``max_memory`` the dataset must be a memory-mapped set (features
        ``raw``), streamed within that budget.
    threads : int, optional
        Torch threads of the task.
    """
    mapped = job.features == RAW and is_mapped(job.dataset)
    if settings.get("max_memory") is not None and not mapped:
        raise ValueError(
            f"--max-memory streams a memory-mapped feature set, and {job.dataset} "
            f"with features {job.features!r} is not one; register the matrix with "
            "`python -m core add-features X.npy --labels y.npy --memory-map "
            "--name NAME` and fit NAME with --features raw"
        )
    with torch_threads(threads):
        fs = feature_set(job.dataset, job.features, progress=progress_features)
        layer = fit_sparse_layer(fs, alpha=job.alpha, progress=progress, **settings)
    return dataclasses.replace(layer, name=job.name)


def stored_matches(job: LayerJob, settings: dict) -> SparseLayer | None:
    """The layer stored under ``job.name`` when it was fitted with the same
    dataset, features (the same encoder or model content, not only its name), α
    and settings, else None (missing, unreadable or other settings)."""
    folder = layers_dir() / job.name
    if not (folder / "layer.json").is_file():
        return None
    try:
        layer = SparseLayer.load(folder)
    except ValueError:
        return None
    path = layer.path
    same = (
        layer.dataset == job.dataset
        and layer.features == job.features
        and path.alpha == job.alpha
        and path.tol == tolerance_for(settings["stop"], settings["tol"])
        and path.stop == settings["stop"]
        and layer.tolerance == settings["tolerance"]
        and layer.encoder == extractor_id(job.features)
        and len(path.lambdas) == settings["n_lambdas"]
        and math.isclose(
            path.lambdas[-1] / path.lambdas[0], settings["eps"], rel_tol=1e-6
        )
    )
    return layer if same else None


def store_layer(layer: SparseLayer) -> None:
    """Write ``layer`` under :func:`layers_dir`, replacing one of the same name."""
    target = layers_dir() / layer.name
    if target.exists():
        shutil.rmtree(target)
    layer.save(target)


def fit_layers(
    jobs: Sequence[LayerJob],
    *,
    n_lambdas: int = 100,
    eps: float = 1e-3,
    tol: float | None = None,
    stop: str = "objective",
    tolerance: float = 0.05,
    max_memory: str | int | None = None,
    executor: Executor | None = None,
    resume: bool = True,
    threads: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    progress_features: Progress | None = None,
    progress_path: Progress | None = None,
) -> list[tuple[SparseLayer, bool]]:
    """Fit and store every layer of ``jobs``, one task each.

    Parameters
    ----------
    jobs : sequence of LayerJob
        From :func:`layer_jobs`.
    n_lambdas, eps, tol, stop, tolerance, max_memory
        As :func:`core.sparse_layers.sparse_layer.fit_sparse_layer`.
    executor : Executor, optional
        Where the tasks run (default: in this process).
    resume : bool
        Keep the layers already stored with the same settings.
    threads : int, optional
        Torch threads of each task.
    progress : callable, optional
        ``progress(done, total)`` over layers, kept ones counted as done.
    progress_features, progress_path : callable, optional
        Progress inside each task, followed only in this process.

    Returns
    -------
    list of (SparseLayer, bool)
        Each job's layer, in the order of ``jobs``, and whether it was kept
        from an earlier run.

    Raises
    ------
    core.executor.TasksFailedError
        Some layers failed on every attempt (the others are stored first).
    """
    executor = executor or Executor()
    settings = dict(
        n_lambdas=n_lambdas,
        eps=eps,
        tol=tol,
        stop=stop,
        tolerance=tolerance,
        max_memory=max_memory,
    )
    kept = {}
    if resume:
        for job in jobs:
            found = stored_matches(job, settings)
            if found is not None:
                kept[job.name] = found
    done = dict(kept)
    if progress is not None:
        progress(len(done), len(jobs))
    tasks = [Task(j.name, (j, settings, threads)) for j in jobs if j.name not in kept]
    # Callbacks reach tasks that run here; a Ray worker could not call them.
    inner = (progress_features, progress_path) if executor.in_process else (None, None)
    for task, layer in executor.imap(fit_layer, tasks, inner):
        store_layer(layer)
        done[task.key] = layer
        if progress is not None:
            progress(len(done), len(jobs))
    return [(done[j.name], j.name in kept) for j in jobs]
