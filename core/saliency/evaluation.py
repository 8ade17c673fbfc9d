"""Judging saliency maps: visual normalisation and pixel-flipping curves.

Every method's map is turned into one ordering of the features (largest
|attribution| first); the same orderings feed three curves on the same
examples, each over the fraction f of features taken in that order:

- deletion: the target probability as the top features are set to the
  baseline (a good ordering makes it fall fast: small area);
- insertion: the target probability as the top features are put back into
  the baseline input (rises fast: large area);
- rate–distortion: D(s_f) for the mask keeping the top features and
  obfuscating the rest with noise, the RDE paper's comparison (small area).

Ties in |attribution| are broken in a seeded random order (:func:`ordering`).

References
----------
Samek et al. (2017), "Evaluating the visualization of what a deep neural
network has learned" (pixel flipping); Petsiuk, Das & Saenko (2018), RISE
(deletion and insertion); Macdonald et al. (2019, 2022) (rate–distortion);
Smilkov et al. (2017), SmoothGrad (the visual normalisation).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from core.saliency.inputs import check_input_batch, resolve_target
from core.saliency.rde import Distortion, Noise, noise_parameters
from core.training.gradients import evaluating

CURVES = ("deletion", "insertion", "rate-distortion")
#: Which way is better for each curve's area.
BETTER = {"deletion": "lower", "insertion": "higher", "rate-distortion": "lower"}


def visual_normalise(
    attribution: np.ndarray | torch.Tensor,
    image_shape: tuple[int, int, int] | None = None,
    percentile: float = 99.0,
) -> np.ndarray:
    """SmoothGrad's visual normalisation: |a|, channels summed, capped, in [0, 1].

    Parameters
    ----------
    attribution : array of shape (n, d) or (d,)
        Flat maps in the dataset's feature order ((H, W) or (H, W, C)).
    image_shape : (H, W, C), optional
        Reshape to images and sum the channels; None keeps flat maps.
    percentile : float
        Values above this percentile (per map) are capped to it.

    Returns
    -------
    array of shape (n, H, W) with an image shape, else (n, d); float in [0, 1]
    """
    a = np.abs(np.asarray(attribution, dtype=np.float64))
    a = a.reshape(1, -1) if a.ndim == 1 else a.reshape(a.shape[0], -1)
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {percentile}")
    if image_shape is not None:
        h, w, c = image_shape
        if h * w * c != a.shape[1]:
            raise ValueError(
                f"image shape {image_shape} does not match {a.shape[1]} features"
            )
        a = a.reshape(-1, h, w, c).sum(-1)
    flat = a.reshape(a.shape[0], -1)
    cap = np.percentile(flat, percentile, axis=1).reshape(-1, *([1] * (a.ndim - 1)))
    safe = np.where(cap > 0, cap, 1.0)
    return np.clip(a / safe, 0.0, 1.0) * (cap > 0)


def ordering(attribution: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Features by decreasing |attribution|, per example: (n, ...) → (n, d).

    Ties (e.g. the exact zeros of a sparse CAFO/CASO map) are broken in a
    seeded random order, not by feature index: on images, index order would
    mean "top-left pixels first", which says something about the image
    layout, not about the method.
    """
    a = attribution.reshape(attribution.shape[0], -1).abs()
    perm = torch.randperm(a.shape[1], generator=torch.Generator().manual_seed(seed))
    idx = torch.argsort(a[:, perm], dim=1, descending=True, stable=True)
    return perm[idx]


def _keep_masks(order: torch.Tensor, counts: np.ndarray) -> torch.Tensor:
    """(n_steps, d) masks keeping the first ``counts[j]`` features of ``order``."""
    d = order.numel()
    rank = torch.empty(d, dtype=torch.long)
    rank[order] = torch.arange(d)
    return (rank[None] < torch.as_tensor(counts)[:, None]).to(torch.float32)


def curves(
    model: nn.Module,
    x: torch.Tensor,
    attributions: dict[str, torch.Tensor],
    target: int | torch.Tensor | None = None,
    *,
    n_steps: int = 20,
    baseline: float | torch.Tensor = 0.0,
    noise: Noise = "data",
    n_noise: int = 32,
    seed: int = 0,
) -> pd.DataFrame:
    """Deletion, insertion and rate–distortion curves of every method.

    Parameters
    ----------
    model : nn.Module
    x : tensor of shape (n, ...)
    attributions : dict of str to tensor shaped like ``x``
        One map per method (e.g. from :func:`core.saliency.explain`).
    target : optional
        Default: the predicted class.
    n_steps : int
        Fractions 0, 1/n_steps, …, 1 of the features.
    baseline : float or tensor of shape (d,)
        What deleted features become (deletion) and where insertion starts.
    noise, n_noise, seed
        The obfuscation noise of the rate–distortion curve (the same samples
        for every method and fraction).

    Returns
    -------
    DataFrame
        Columns ``method, example, curve, fraction, value``.
    """
    x = check_input_batch(x)
    if n_steps < 1 or n_noise < 1:
        raise ValueError(f"n_steps and n_noise must be ≥ 1; got {n_steps}, {n_noise}")
    for name, a in attributions.items():
        if tuple(a.shape) != tuple(x.shape):
            raise ValueError(
                f"Attributions of {name} have shape {tuple(a.shape)}, inputs {tuple(x.shape)}"
            )
    n = x.shape[0]
    flat = x.reshape(n, -1)
    t = resolve_target(model, x, target)
    base = torch.as_tensor(baseline, dtype=x.dtype).expand(flat.shape[1])
    mean, std = noise_parameters(flat, noise)
    fractions = np.linspace(0, 1, n_steps + 1)
    rows = []
    with evaluating(model), torch.no_grad():
        for i in range(n):
            dist = Distortion(model, flat[i], x.shape[1:], int(t[i]), mean[i], std[i])
            eps = dist.sample(n_noise, torch.Generator().manual_seed(seed + i))
            for name, a in attributions.items():
                order = ordering(a[i : i + 1], seed + i)[0]
                for curve, vals in _example_curves(
                    dist, eps, order, base, fractions
                ).items():
                    rows += [
                        (name, i, curve, float(f), float(v))
                        for f, v in zip(fractions, vals.tolist(), strict=True)
                    ]
    return pd.DataFrame(
        rows, columns=["method", "example", "curve", "fraction", "value"]
    )


def _example_curves(
    dist: Distortion,
    noise: torch.Tensor,
    order: torch.Tensor,
    baseline: torch.Tensor,
    fractions: np.ndarray,
) -> dict[str, torch.Tensor]:
    """One example's three curves for one ordering of its features.

    Parameters
    ----------
    dist : Distortion
        The example, its target, the model and its Φ (the target probability).
    noise : tensor of shape (n_noise, d)
        The rate–distortion curve's obfuscation samples.
    order : long tensor of shape (d,)
        Features, most relevant first.
    baseline : tensor of shape (d,)
    fractions : array of shape (n_steps + 1,)

    Returns
    -------
    dict of curve name to tensor of shape (n_steps + 1,)
    """
    x = dist.x
    keep = _keep_masks(order, np.round(fractions * x.numel()).astype(int))
    inserted = keep * x + (1 - keep) * baseline
    # deletion removes the top features: all but the first j kept
    deleted = (1 - keep) * x + keep * baseline
    logits = dist.model(torch.cat([deleted, inserted]).reshape(-1, *dist.shape))
    prob = torch.softmax(logits, 1)[:, dist.target]
    return {
        "deletion": prob[: len(fractions)],
        "insertion": prob[len(fractions) :],
        "rate-distortion": dist.value(keep, noise),
    }


def area_under(curves_df: pd.DataFrame) -> pd.DataFrame:
    """Area under each curve (trapezoid over the fraction in [0, 1]).

    Returns
    -------
    DataFrame
        One row per method: mean area of each curve over the examples
        (columns named by :data:`CURVES`), plus ``n_examples``.
    """
    if curves_df.empty:
        raise ValueError("No curves to summarise")
    areas = (
        curves_df.sort_values("fraction")
        .groupby(["method", "example", "curve"], sort=False)
        .apply(
            lambda g: float(np.trapezoid(g["value"], g["fraction"])),
            include_groups=False,
        )
        .rename("area")
        .reset_index()
    )
    table = areas.pivot_table(index="method", columns="curve", values="area")
    table = table.reindex(columns=[c for c in CURVES if c in table.columns])
    order = list(dict.fromkeys(curves_df["method"]))
    table = table.reindex(order)
    table["n_examples"] = curves_df.groupby("method")["example"].nunique()
    table.columns.name = None
    return table.reset_index()
