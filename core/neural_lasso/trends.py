"""Trend lines through a scatter of feature value against gradient.

A binned mean with its inter-quartile band, or a LOWESS curve: what the
gradient panels draw through every observed value of a feature.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: Trend methods :func:`trend_line` knows ("none": no trend is drawn).
TRENDS = ("binned", "lowess", "none")


def binned_trend(
    x: np.ndarray, y: np.ndarray, bins: int = 20, min_count: int = 5
) -> pd.DataFrame:
    """Mean and inter-quartile band of ``y`` in equal-count bins of ``x``.

    A feature with at most ``bins`` distinct values gets one bin per value;
    bins with fewer than ``min_count`` points are left out (a mean of one or
    two examples is noise, not a trend).

    Returns
    -------
    DataFrame
        Columns ``x`` (mean of the bin's x), ``mean``, ``q25``, ``q75``, ``n``;
        one row per non-empty bin, in increasing x.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    columns = ["x", "mean", "q25", "q75", "n"]
    if x.size == 0:
        return pd.DataFrame(columns=columns, dtype=float)
    uniq = np.unique(x)
    if uniq.size <= bins:
        codes = np.searchsorted(uniq, x)
    else:
        bins = max(1, min(bins, x.size // max(min_count, 1)))  # ≥ min_count each
        edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)))
        codes = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)
    rows = []
    for c in np.unique(codes):
        yc = y[codes == c]
        if yc.size < min_count:
            continue
        q25, q75 = np.percentile(yc, [25, 75])
        rows.append((x[codes == c].mean(), yc.mean(), q25, q75, yc.size))
    return pd.DataFrame(rows, columns=columns)


def lowess(
    x: np.ndarray, y: np.ndarray, frac: float = 0.3, n_eval: int = 50
) -> pd.DataFrame:
    """Locally weighted linear regression (LOWESS, no robustness iterations).

    At each of ``n_eval`` points spanning the range of ``x``, a straight line is
    fitted to the ``frac`` share of points nearest to it, weighted by the
    tricube kernel ``(1 − (d/h)³)³`` (h: distance to the farthest of them).

    Returns
    -------
    DataFrame
        Columns ``x`` and ``fit``; ``n_eval`` rows (fewer for few distinct x).

    References
    ----------
    Cleveland (1979), "Robust locally weighted regression and smoothing
    scatterplots", JASA 74(368).
    """
    if not 0 < frac <= 1:
        raise ValueError(f"frac must be in (0, 1], got {frac}")
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size == 0:
        return pd.DataFrame(columns=["x", "fit"], dtype=float)
    uniq = np.unique(x)
    grid = uniq if uniq.size <= n_eval else np.linspace(x.min(), x.max(), n_eval)
    k = max(2, math.ceil(frac * x.size))
    fit = np.empty(grid.size)
    for i, x0 in enumerate(grid):
        d = np.abs(x - x0)
        h = np.partition(d, min(k, d.size) - 1)[min(k, d.size) - 1]
        w = (1 - (d / h) ** 3) ** 3 * (d < h) if h > 0 else (d == 0).astype(float)
        if w.sum() == 0:  # every neighbour at distance exactly h
            w = (d <= h).astype(float)
        sw = w.sum()
        mx, my = (w * x).sum() / sw, (w * y).sum() / sw
        var = (w * (x - mx) ** 2).sum()
        slope = (w * (x - mx) * (y - my)).sum() / var if var > 0 else 0.0
        fit[i] = my + slope * (x0 - mx)
    return pd.DataFrame({"x": grid, "fit": fit})


def trend_line(x: np.ndarray, y: np.ndarray, method: str) -> pd.DataFrame:
    """The trend of ``y`` over ``x`` by ``method`` ("binned" or "lowess").

    Returns
    -------
    DataFrame
        Columns ``x``, ``mean``, ``q25``, ``q75``: the binned mean and its
        quartiles, or the LOWESS fit as ``mean`` with NaN quartiles.
    """
    if method == "binned":
        return binned_trend(x, y).drop(columns="n")
    if method == "lowess":
        t = lowess(x, y).rename(columns={"fit": "mean"})
        t["q25"] = t["q75"] = np.nan
        return t
    raise ValueError(f"method must be 'binned' or 'lowess'; got {method!r}")
