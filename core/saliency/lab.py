"""What the Saliency lab page computes: examples, maps, curves, hints.

Everything here is plain ``core``: the page only reads widgets, calls these
and renders.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from core.data import Dataset
from core.data.builtin.images import pixels
from core.saliency.evaluation import area_under, curves, visual_normalise
from core.saliency.protocol import get_method
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


def compare(
    model: nn.Module,
    x: torch.Tensor,
    methods: list[str],
    *,
    overrides: dict[str, dict] | None = None,
    n_steps: int = 20,
    seed: int = 0,
    progress=None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Every method on the same examples: curves, their areas, seconds per example.

    Parameters
    ----------
    methods : list of str
        Registered method names; each runs with :func:`defaults_for` updated
        by ``overrides[name]``.
    progress : callable, optional
        ``progress(name)`` before each method.

    Returns
    -------
    curves : DataFrame
        As :func:`core.saliency.evaluation.curves`.
    areas : DataFrame
        As :func:`core.saliency.evaluation.area_under`, plus ``seconds``.
    seconds : dict of str to float
        Wall time per example of each method.
    """
    d = int(np.prod(x.shape[1:]))
    maps, seconds = {}, {}
    for name in methods:
        if progress is not None:
            progress(name)
        params = defaults_for(name, d) | (overrides or {}).get(name, {})
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            maps[name] = get_method(name).build(model, **params).attribute(x)
        seconds[name] = (time.perf_counter() - start) / len(x)
    table = curves(model, x, maps, n_steps=n_steps, seed=seed)
    areas = area_under(table)
    areas["seconds"] = areas["method"].map(seconds)
    return table, areas, seconds
