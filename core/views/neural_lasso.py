"""Tables of the Neural LASSO study that the CLI and the dashboard both show.

``python -m core smoothness`` prints :func:`smoothness_table` per dataset and
target; the *Input gradients* page shows it beside its panels. The *Input
gradients* page draws its panels from :func:`gradient_panels_in_units` (the
PCA maps and weight heatmaps are in :mod:`core.figures.neural_lasso_maps`), and
``python -m core report`` (:func:`report_command`) writes the same figures to
an HTML report.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from core.data import Dataset
from core.neural_lasso import gradients as nl_gradients
from core.neural_lasso.panels import GradientPanels, gradient_panels
from core.neural_lasso.smoothness import smoothness
from core.training.store import StoredModel

#: The pages whose view ``python -m core report --page`` writes, and their titles.
REPORT_PAGES = {"gradients": "Input gradients", "pca": "PCA maps", "weights": "Weights"}
#: The Input gradients page's trend methods, by their panel label.
TRENDS = {"binned": "binned mean + IQR", "lowess": "LOWESS", "none": "none"}
#: ``--class`` value for Σₖ log pₖ (every class).
ALL_CLASSES = "all"
GRADIENTS_CAPTION = "Input gradient against the feature's value, in original units."
SMOOTHNESS_CAPTION = "Smoothness of each model's input-gradient field."

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


def gradient_panels_in_units(
    ds: Dataset,
    split: str,
    gradients: Mapping[str, np.ndarray],
    features: Sequence[str],
    target: int | None,
    trend: str = "binned",
) -> GradientPanels:
    """:func:`core.neural_lasso.panels.gradient_panels` of standardised-space
    ``gradients`` (per model label) turned into original units first."""
    original = {i: nl_gradients.to_original_units(ds, g) for i, g in gradients.items()}
    return gradient_panels(ds, split, original, features, target, trend=trend)


def model_card(model: StoredModel) -> dict[str, object]:
    """A stored model's card fields for a report, with whether it is shipped."""
    return {**dataclasses.asdict(model.card), "shipped": model.shipped}


def target_of(ds: Dataset, class_name: str | None) -> int | None:
    """The class index ``python -m core report --class`` names.

    Parameters
    ----------
    ds : Dataset
    class_name : str or None
        A class name, :data:`ALL_CLASSES` for Σₖ log pₖ, or None for
        :func:`core.neural_lasso.gradients.default_target`.

    Returns
    -------
    int or None
        The class index; None for Σₖ log pₖ.
    """
    if class_name is None:
        return nl_gradients.default_target(ds)
    if class_name == ALL_CLASSES:
        return None
    if class_name not in ds.class_names:
        raise ValueError(
            f"--class must be one of {', '.join(map(repr, ds.class_names))} or "
            f"{ALL_CLASSES!r} for {ds.name}; got {class_name!r}"
        )
    return list(ds.class_names).index(class_name)


def class_option(ds: Dataset, target: int | None) -> str:
    """The ``--class`` value of class index ``target`` (None: Σₖ log pₖ);
    :func:`target_of` reads it back."""
    return ALL_CLASSES if target is None else ds.class_names[target]


def report_command(
    page: str,
    dataset: str,
    models: Sequence[str],
    *options: object,
    out: str | None = None,
) -> str:
    """The ``python -m core report`` line that writes ``page``'s view of
    ``models`` (quoted for a POSIX shell).

    Parameters
    ----------
    page : {"gradients", "pca", "weights"}
    dataset : str
    models : sequence of str
        Model IDs, in panel order.
    *options
        The page's settings as further arguments (``"--split", "test"`` …).
    out : str, optional
        The HTML file (default: ``<page>-<dataset>-report.html`` in the
        working folder).
    """
    if page not in REPORT_PAGES:
        raise ValueError(f"page must be one of {', '.join(REPORT_PAGES)}; got {page!r}")
    args = ["report", "--page", page, "--dataset", dataset, "--models", *models]
    args += [*options, "--out", out or f"{page}-{dataset}-report.html"]
    return " ".join(["python -m core", *(shlex.quote(str(a)) for a in args)])
