"""Tables of the Neural LASSO study that the CLI and the dashboard both show.

``python -m core smoothness`` prints :func:`smoothness_table` per dataset and
target; the *Input gradients* page shows it beside its panels.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from core.neural_lasso.smoothness import smoothness

SMOOTHNESS_COLUMNS = ["model", "smoothness", "mean_abs_gradient", "relative"]


def smoothness_table(
    gradients: Mapping[str, np.ndarray], nbrs: np.ndarray
) -> pd.DataFrame:
    """:func:`core.neural_lasso.smoothness.smoothness` of each model, one row each.

    Parameters
    ----------
    gradients : mapping of str to array of shape (n_samples, n_features)
        Per model label, its input gradients on one split.
    nbrs : array of shape (n_samples, k)
        :func:`core.neural_lasso.smoothness.neighbours` of that split.

    Returns
    -------
    DataFrame
        ``model``, ``smoothness`` (mean |Δ gradient| to the neighbours),
        ``mean_abs_gradient``, ``relative`` (their ratio).
    """
    rows = []
    for name, g in gradients.items():
        s, rel = smoothness(g, nbrs)
        rows.append(
            {
                "model": name,
                "smoothness": s,
                "mean_abs_gradient": float(np.abs(g).mean()),
                "relative": rel,
            }
        )
    return pd.DataFrame(rows, columns=SMOOTHNESS_COLUMNS)
