"""Misclassifications through a decision layer's features (Wong et al. 2021,
§4.3, Appendices G.1 and G.3).

For an input with label ``l`` predicted ``p``, feature ``i``'s score is
``γ_i = (W[p, i] − W[l, i]) z_i``: how much it pushes towards the wrong class
rather than the right one. Setting the top feature to zero (on the layer's
standardised scale, i.e. to its training mean) fixes some errors — 26–30 % on
ImageNet in the paper. Across class pairs, confusion ``max(C[i, j], C[j, i])``
correlates with the number of features the two classes share.

References
----------
Wong, Santurkar & Mądry (2021), "Leveraging Sparse Linear Layers for
Debuggable Deep Networks", ICML, §4.3, eq. (8), Appendix G.3.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from core.sparse_layers.debugging.decision_layer import DecisionLayer
from core.training.metrics import wilson_interval


def gamma_scores(
    Z: np.ndarray, weight: np.ndarray, true: np.ndarray, predicted: np.ndarray
) -> np.ndarray:
    """``γ[n, i] = (W[p_n, i] − W[l_n, i]) · Z[n, i]``.

    Parameters
    ----------
    Z : array of shape (n, n_features)
        Standardised deep features.
    weight : array of shape (n_classes, n_features)
    true, predicted : array of shape (n,)
        Class codes.

    Returns
    -------
    array of shape (n, n_features)
    """
    Z = np.asarray(Z, dtype=np.float64)
    return (weight[np.asarray(predicted)] - weight[np.asarray(true)]) * Z


def misclassifications(
    layer: DecisionLayer, H: np.ndarray, y: np.ndarray, *, top: int = 3
) -> tuple[pd.DataFrame, np.ndarray]:
    """Every error of the layer with its top features by γ.

    Parameters
    ----------
    layer : DecisionLayer
    H : array of shape (n, n_features)
        Raw deep features.
    y : array of shape (n,)
        True class codes.
    top : int
        Features listed per error.

    Returns
    -------
    table : DataFrame
        One row per error: ``index`` (row of ``H``), ``true``, ``predicted``,
        ``top_feature``, ``gamma`` (its γ), ``fixed`` (zeroing it alone gives
        the true class), ``top_features`` (the ``top`` features by γ, as a
        list), ``margin`` (score of ``p`` minus score of ``l``).
    gammas : array of shape (n_errors, n_features)
    """
    Z = layer.standardized(H)
    y = np.asarray(y)
    S = layer.scores_std(Z)
    pred = S.argmax(axis=1)
    wrong = np.flatnonzero(pred != y)
    G = gamma_scores(Z[wrong], layer.weight, y[wrong], pred[wrong])
    order = np.argsort(-G, axis=1, kind="stable")
    f = order[:, 0] if len(wrong) else np.zeros(0, int)
    Z0 = Z[wrong].copy()
    Z0[np.arange(len(wrong)), f] = 0.0
    fixed = layer.scores_std(Z0).argmax(axis=1) == y[wrong]
    names = layer.class_names
    table = pd.DataFrame(
        {
            "index": wrong,
            "true": [names[c] for c in y[wrong]],
            "predicted": [names[c] for c in pred[wrong]],
            "top_feature": f,
            "gamma": G[np.arange(len(wrong)), f] if len(wrong) else np.zeros(0),
            "fixed": fixed,
            "top_features": [list(map(int, o[:top])) for o in order],
            "margin": S[wrong, pred[wrong]] - S[wrong, y[wrong]],
        }
    )
    return table, G


def misclassification_summary(table: pd.DataFrame, n: int) -> dict:
    """Errors, error rate and the share fixed by zeroing the top feature.

    Parameters
    ----------
    table : DataFrame
        :func:`misclassifications`'s table.
    n : int
        Examples the layer classified.

    Returns
    -------
    dict
        ``examples``, ``errors``, ``error_rate``, ``fixed_by_top_feature``,
        ``share_fixed`` (NaN without errors).
    """
    errors = len(table)
    return {
        "examples": n,
        "errors": errors,
        "error_rate": errors / n if n else float("nan"),
        "fixed_by_top_feature": int(table.fixed.sum()) if errors else 0,
        "share_fixed": float(table.fixed.mean()) if errors else float("nan"),
    }


def fixed_share_table(
    layers: Sequence[DecisionLayer], H: np.ndarray, y: np.ndarray
) -> pd.DataFrame:
    """The share of each layer's errors that zeroing one feature fixes, the
    layers side by side (the paper: 26–30 % on ImageNet, sparse and dense).

    Parameters
    ----------
    layers : sequence of DecisionLayer
    H : array of shape (n, n_features)
        Deep features.
    y : array of shape (n,)
        Class codes.

    Returns
    -------
    DataFrame
        One row per layer: ``layer``, ``errors``, ``examples``, ``fixed`` (by
        zeroing the top feature), ``share fixed`` (NaN without errors),
        ``95% CI`` (Wilson, as text; ``—`` without errors).
    """
    rows = []
    for layer in layers:
        table, _ = misclassifications(layer, H, y)
        s = misclassification_summary(table, len(y))
        lo, hi = wilson_interval(s["fixed_by_top_feature"], s["errors"])
        rows.append(
            {
                "layer": layer.name,
                "errors": s["errors"],
                "examples": s["examples"],
                "fixed": s["fixed_by_top_feature"],
                "share fixed": s["share_fixed"],
                "95% CI": "—" if np.isnan(lo) else f"{lo:.3f}–{hi:.3f}",
            }
        )
    return pd.DataFrame(rows)


def normalised_confusion(
    true: np.ndarray, predicted: np.ndarray, n_classes: int
) -> np.ndarray:
    """The confusion matrix, each row divided by its class's size.

    Returns
    -------
    array of shape (n_classes, n_classes)
        ``C[i, j]``: the share of class ``i``'s examples predicted ``j`` (a row
        of zeros for a class without examples).
    """
    C = np.zeros((n_classes, n_classes))
    np.add.at(C, (np.asarray(true), np.asarray(predicted)), 1)
    return C / np.maximum(C.sum(axis=1, keepdims=True), 1)


def _correlations(pairs: pd.DataFrame) -> dict:
    """Pearson and Spearman correlations of ``shared`` with ``confusion`` (NaN
    where a column is constant)."""
    if pairs.shared.nunique() < 2 or pairs.confusion.nunique() < 2:
        return {
            "pearson": np.nan,
            "pearson_p": np.nan,
            "spearman": np.nan,
            "spearman_p": np.nan,
        }
    r = stats.pearsonr(pairs.shared, pairs.confusion)
    s = stats.spearmanr(pairs.shared, pairs.confusion)
    return {
        "pearson": float(r.statistic),
        "pearson_p": float(r.pvalue),
        "spearman": float(s.statistic),
        "spearman_p": float(s.pvalue),
    }


def confusion_vs_shared(
    layer: DecisionLayer, H: np.ndarray, y: np.ndarray
) -> tuple[pd.DataFrame, dict]:
    """Confusion of each class pair against the features the pair shares.

    Parameters
    ----------
    layer : DecisionLayer
    H : array of shape (n, n_features)
        Raw deep features.
    y : array of shape (n,)
        True class codes.

    Returns
    -------
    pairs : DataFrame
        One row per unordered pair ``(i, j)``: ``class_i``, ``class_j``,
        ``confusion`` = max(C[i, j], C[j, i]) with ``C`` the confusion matrix
        normalised by the true class's size, ``shared`` (features with a
        non-zero weight for both classes).
    correlation : dict
        ``pearson``, ``pearson_p``, ``spearman``, ``spearman_p`` (NaN when
        there are fewer than three pairs or a constant column).

    Raises
    ------
    ValueError
        For a layer with fewer than three classes (one pair: no correlation).
    """
    k = layer.weight.shape[0]
    if k < 3:
        raise ValueError(
            f"class confusion against shared features needs at least 3 classes; "
            f"this layer has {k}"
        )
    C = normalised_confusion(y, layer.predict(H), k)
    used = layer.weight != 0
    pairs = pd.DataFrame(
        [
            dict(
                class_i=layer.class_names[i],
                class_j=layer.class_names[j],
                confusion=max(C[i, j], C[j, i]),
                shared=int((used[i] & used[j]).sum()),
            )
            for i in range(k)
            for j in range(i + 1, k)
        ]
    )
    return pairs, _correlations(pairs)


def correlation_text(pairs: pd.DataFrame, correlation: dict) -> str:
    """:func:`confusion_vs_shared`'s correlations in words, or why there are none
    (e.g. a sparse layer whose classes share no feature, or a dense one whose
    classes all share every feature)."""
    if np.isnan(correlation["pearson"]):
        if pairs.shared.nunique() < 2:
            n = int(pairs.shared.iloc[0]) if len(pairs) else 0
            return (
                f"no correlation: each of the {len(pairs)} class pairs shares "
                f"{n} feature{'' if n == 1 else 's'}"
            )
        return f"no correlation: the {len(pairs)} class pairs are confused equally"
    return (
        f"Pearson {correlation['pearson']:.3f} (p = {correlation['pearson_p']:.2g}), "
        f"Spearman {correlation['spearman']:.3f} (p = "
        f"{correlation['spearman_p']:.2g}) over {len(pairs)} class pairs"
    )
