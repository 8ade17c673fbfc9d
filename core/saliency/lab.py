"""What the Saliency lab page computes: examples, maps, curves, hints.

Everything here is plain ``core``: the page only reads widgets, calls these
and renders.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from core.atomic import atomic_path
from core.data import Dataset
from core.data.builtin.images import pixels
from core.executor import Executor, Task
from core.saliency.evaluation import area_under, curves, visual_normalise
from core.saliency.protocol import get_method
from core.threads import torch_threads
from core.training.train import model_inputs

#: The architecture the CLI hint suggests per image dataset.
ARCHITECTURE = {"digits": "cnn_digits", "mnist": "cnn6", "cifar10": "cnn9"}
#: Methods chosen when the page opens: the fast ones (the rate-distortion
#: methods take seconds to minutes per example and are added on demand).
DEFAULT_METHODS = ("Saliency", "SmoothGrad", "Integrated Gradients", "CAFO", "CASO")


def train_command(ds: Dataset) -> str:
    """The one command that trains a model the lab can explain for ``ds``."""
    arch = ARCHITECTURE.get(ds.name, "mlp")
    return f"python -m core train --dataset {ds.name} --model {arch}"


def dataset_image_shape(ds: Dataset) -> tuple[int, int, int] | None:
    """(H, W, C) of an image dataset's flat features, None for tabular ones."""
    images = ds.test.images
    if images is None:
        return None
    h, w = images.shape[1:3]
    return (h, w, images.shape[3] if images.ndim == 4 else 1)


def inputs(ds: Dataset, split: str, indices: list[int]) -> torch.Tensor:
    """Model inputs of some examples of a split: tensor of shape (n, d).

    Raises
    ------
    ValueError
        An index outside the split, or a dataset without model inputs (text).
    """
    part = ds.splits[split]
    n = len(part)
    bad = [i for i in indices if not 0 <= i < n]
    if bad:
        raise ValueError(f"Example index {bad} outside the {split} split (0…{n - 1})")
    if part.X is not None:
        return torch.as_tensor(part.X[indices])
    if part.images is not None:
        return torch.as_tensor(pixels(part.images[indices]))
    return torch.as_tensor(model_inputs(part))  # raises: text without features


@dataclass(frozen=True)
class Maps:
    """Raw and normalised maps per method, and what the solvers warned."""

    raw: dict[str, torch.Tensor]
    warnings: list[str]


def explain_all(
    model: nn.Module,
    x: torch.Tensor,
    choices: dict[str, dict],
    target: int | None = None,
) -> Maps:
    """Run every chosen method on the same inputs.

    Parameters
    ----------
    choices : dict of method name to its parameters
    target : int, optional
        Default: each example's predicted class.

    Raises
    ------
    ValueError
        Bad parameters (message from the method's schema).
    """
    raw, said = {}, []
    for name, params in choices.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            raw[name] = get_method(name).build(model, **params).attribute(x, target)
        said += [
            f"{name}: {w.message}"
            for w in caught
            if w.category is not DeprecationWarning
        ]
    return Maps(raw, list(dict.fromkeys(said)))


def normalised(maps: dict[str, torch.Tensor], ds: Dataset, example: int = 0) -> dict:
    """One example's maps, SmoothGrad-normalised: (H, W) images or (d,) vectors."""
    shape = dataset_image_shape(ds)
    return {
        name: visual_normalise(m[example : example + 1].numpy(), shape)[0]
        for name, m in maps.items()
    }


def maps_table(
    maps: dict[str, torch.Tensor], ds: Dataset, example: int = 0
) -> pd.DataFrame:
    """Raw attributions of one example, one column per method, for download."""
    return pd.DataFrame(
        {"feature": list(ds.feature_names)}
        | {name: m[example].reshape(-1).numpy() for name, m in maps.items()}
    )


def display_image(ds: Dataset, split: str, index: int) -> np.ndarray | None:
    """The example as an image in [0, 1] ((H, W) grey or (H, W, 3)), or None."""
    images = ds.splits[split].images
    return None if images is None else images[index] / 255.0


def defaults_for(name: str, n_features: int) -> dict[str, object]:
    """A method's defaults, with rates that fit ``n_features`` (k ≤ d/4)."""
    out = get_method(name).defaults()
    if "k" in out:
        out["k"] = int(min(out["k"], max(1, n_features // 16)))
    return out


#: Examples per task when :func:`compare` fans out: the shards are fixed by
#: this size, never by the number of workers, so every executor runs the same
#: computations (methods that draw noise for a whole batch at once draw it per
#: shard).
SHARD_SIZE = 10


def compare_shard(
    model: nn.Module,
    x: torch.Tensor,
    name: str,
    params: dict,
    start: int,
    n_steps: int = 20,
    seed: int = 0,
    threads: int | None = None,
) -> dict:
    """One method on one shard of examples: its curves and its seconds (a task
    of :func:`compare`, a pure function of its arguments).

    The method's ``seed`` (when it has one) and the curves' seed are offset by
    ``start``, so that per-example draws (the curves' noise and tie-breaking,
    the rate–distortion methods' noise) are those example ``start + i`` gets in
    one unsharded run.

    Parameters
    ----------
    x : tensor of shape (n, ...)
        Examples ``start``, …, ``start + n - 1``.
    params : dict
        The method's parameters.
    threads : int, optional
        Torch threads for the task (None: leave them as they are).

    Returns
    -------
    dict
        ``curves``: the columns ``example, curve, fraction, value`` of
        :func:`core.saliency.evaluation.curves` as lists, examples numbered
        from ``start``; ``seconds``: the method's wall time on the shard.
    """
    if "seed" in params:
        params = params | {"seed": int(params["seed"]) + start}
    with torch_threads(threads):
        begin = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            maps = {name: get_method(name).build(model, **params).attribute(x)}
        seconds = time.perf_counter() - begin
        table = curves(model, x, maps, n_steps=n_steps, seed=seed + start)
    return {
        "curves": {
            "example": (table["example"] + start).tolist(),
            "curve": table["curve"].tolist(),
            "fraction": table["fraction"].tolist(),
            "value": table["value"].tolist(),
        },
        "seconds": seconds,
    }


def _digest(*tensors: torch.Tensor) -> str:
    h = hashlib.sha256()
    for t in tensors:
        h.update(str(tuple(t.shape)).encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def _task_key(name: str, start: int, stop: int) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return f"{slug}-{start:05d}-{stop:05d}"


def _read_shard(path: Path, spec: dict) -> dict | None:
    """A finished task's result, or None when missing, damaged (with a
    warning) or computed with other settings."""
    try:
        stored = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        warnings.warn(
            f"Ignoring the damaged saliency-compare result {path} ({exc}); the "
            "task runs again.",
            stacklevel=3,
        )
        return None
    if not isinstance(stored, dict) or stored.get("spec") != spec:
        return None
    return {"curves": stored["curves"], "seconds": stored["seconds"]}


def compare(
    model: nn.Module,
    x: torch.Tensor,
    methods: list[str],
    *,
    overrides: dict[str, dict] | None = None,
    n_steps: int = 20,
    seed: int = 0,
    shard_size: int = SHARD_SIZE,
    executor: Executor | None = None,
    results_dir: Path | None = None,
    resume: bool = True,
    threads: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Every method on the same examples: curves, their areas, seconds per example.

    Each method on each shard of ``shard_size`` examples is one task
    (:func:`compare_shard`) run on ``executor``; the same shards give the same
    numbers whichever executor runs them.

    Parameters
    ----------
    x : tensor of shape (n, ...)
    methods : list of str
        Registered method names; each runs with :func:`defaults_for` updated
        by ``overrides[name]``.
    shard_size : int
        Examples per task.
    executor : Executor, optional
        Where the tasks run (default: in this process).
    results_dir : Path, optional
        Each finished task's result is written here atomically as it finishes;
        with ``resume``, results already there for the same model, inputs and
        settings are kept and only the missing tasks run.
    threads : int, optional
        Torch threads of each task.
    progress : callable, optional
        ``progress(done, total)`` over tasks, resumed ones counted as done.

    Returns
    -------
    curves : DataFrame
        As :func:`core.saliency.evaluation.curves`.
    areas : DataFrame
        As :func:`core.saliency.evaluation.area_under`, plus ``seconds``.
    seconds : dict of str to float
        Wall time per example of each method.

    Raises
    ------
    core.executor.TasksFailedError
        Some tasks raised on every attempt (the others are written first).
    """
    if shard_size < 1:
        raise ValueError(f"shard_size must be at least 1, got {shard_size}")
    n, d = len(x), int(np.prod(x.shape[1:]))
    model_digest = _digest(*model.state_dict().values())
    params = {
        name: defaults_for(name, d) | (overrides or {}).get(name, {})
        for name in methods
    }
    shards = [(s, min(n, s + shard_size)) for s in range(0, n, shard_size)]
    specs, args = {}, {}
    for name in methods:
        for start, stop in shards:
            key = _task_key(name, start, stop)
            specs[key] = json.loads(
                json.dumps(
                    {
                        "method": name,
                        "params": params[name],
                        "examples": [start, stop],
                        "n_steps": n_steps,
                        "seed": seed,
                        "model": model_digest,
                        "inputs": _digest(x[start:stop]),
                    }
                )
            )
            args[key] = (x[start:stop], name, params[name], start, n_steps, seed)
    results: dict[str, dict] = {}
    if results_dir is not None and resume:
        for key, spec in specs.items():
            found = _read_shard(results_dir / f"{key}.json", spec)
            if found is not None:
                results[key] = found
    tasks = [Task(key, (*a, threads)) for key, a in args.items() if key not in results]
    if progress is not None:
        progress(len(results), len(specs))
    for task, result in (executor or Executor()).imap(compare_shard, tasks, (model,)):
        if results_dir is not None:
            # json writes floats by repr: a resumed run reads the same numbers.
            with atomic_path(results_dir / f"{task.key}.json") as tmp:
                tmp.write_text(json.dumps({"spec": specs[task.key], **result}))
        results[task.key] = result
        if progress is not None:
            progress(len(results), len(specs))
    parts, seconds = [], {}
    for name in methods:
        keys = [_task_key(name, start, stop) for start, stop in shards]
        parts += [pd.DataFrame(results[k]["curves"]).assign(method=name) for k in keys]
        seconds[name] = sum(results[k]["seconds"] for k in keys) / n
    table = pd.concat(parts, ignore_index=True)[
        ["method", "example", "curve", "fraction", "value"]
    ]
    areas = area_under(table)
    areas["seconds"] = areas["method"].map(seconds)
    return table, areas, seconds
