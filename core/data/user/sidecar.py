"""The optional ranges file: per-feature units and normal ranges.

A CSV (or TSV) with the header ``feature, unit, low, high``, one line per
feature: ``HR, bpm, 60, 100``. ``unit`` may be empty; ``low`` and ``high`` are
both given (``low <= high``, in the feature's unit) or both left empty. The
result has the shape :func:`core.data.clinical.units_and_ranges` returns, so a
user's ranges shade plots exactly like the built-in clinical ones.
"""

from __future__ import annotations

import os
from collections.abc import Collection

import numpy as np

from core.data.user.profile import numbers, strings
from core.data.user.tables import read_table
from core.errors import InvalidDataError

COLUMNS = ("feature", "unit", "low", "high")


def read_ranges(
    source: str | os.PathLike | bytes,
    features: Collection[str],
    filename: str | None = None,
) -> tuple[dict[str, str], dict[str, tuple[float, float]]]:
    """Units and normal ranges from a ranges file.

    Parameters
    ----------
    source : path or bytes
    features : collection of str
        The numeric features it may describe.
    filename : str, optional
        The uploaded file's name.

    Returns
    -------
    units : dict of str to str
    normal_ranges : dict of str to tuple of float

    Raises
    ------
    InvalidDataError
        A missing column, an unknown or repeated feature, a bound that is not
        a number, one bound without the other, or ``low > high``; the message
        names the line.
    """
    raw = read_table(source, filename, formats=(".csv", ".tsv", ".txt"))
    lower = {c.lower(): c for c in raw.frame.columns}
    missing = [c for c in COLUMNS if c not in lower]
    if missing:
        raise InvalidDataError(
            f"{raw.name}: no column {', '.join(missing)}; the ranges file needs the "
            "header 'feature,unit,low,high'."
        )
    feature = strings(raw.frame[lower["feature"]])
    unit = strings(raw.frame[lower["unit"]]).fillna("")
    low, low_missing, low_bad = numbers(raw.frame[lower["low"]])
    high, high_missing, high_bad = numbers(raw.frame[lower["high"]])
    units: dict[str, str] = {}
    ranges: dict[str, tuple[float, float]] = {}
    seen: set[str] = set()
    for i in range(len(raw.frame)):
        where = raw.where(i)
        name = feature.iloc[i]
        if name is None or (isinstance(name, float) and np.isnan(name)):
            raise InvalidDataError(f"{where}: the feature name is empty.")
        if name not in features:
            raise InvalidDataError(
                f"{where}: {name!r} is not a numeric feature of the table; numeric "
                f"features: {', '.join(sorted(features)) or 'none'}."
            )
        if name in seen:
            raise InvalidDataError(f"{where}: {name!r} is listed twice.")
        seen.add(name)
        for bad, which in ((low_bad, "low"), (high_bad, "high")):
            if bad[i]:
                raise InvalidDataError(
                    f"{where}: {which} {raw.frame[lower[which]].iloc[i]!r} is not a "
                    "number."
                )
        if low_missing[i] != high_missing[i]:
            raise InvalidDataError(
                f"{where}: give both low and high for {name!r}, or neither."
            )
        if unit.iloc[i]:
            units[name] = str(unit.iloc[i])
        if not low_missing[i]:
            if low[i] > high[i]:
                raise InvalidDataError(
                    f"{where}: low {low[i]:g} is above high {high[i]:g} for {name!r}."
                )
            ranges[name] = (float(low[i]), float(high[i]))
    return units, ranges
