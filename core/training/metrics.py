"""Held-out metrics of the Neural LASSO comparison: AUC, accuracy, ‖θ‖₁, D_eff."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from core.training.gradients import evaluating, input_gradients
from core.training.models import first_linear
from core.training.penalties import weights_l1

#: Display names of the held-out metrics on model cards.
METRIC_LABELS = {
    "auc": "AUC",
    "accuracy": "accuracy",
    "theta_l1": "‖θ‖₁",
    "d_eff": "D_eff",
    "n_surviving_features": "surviving features",
}


def predict_proba(
    model: nn.Module, X: np.ndarray, batch_size: int = 1024
) -> np.ndarray:
    """Class probabilities, array of shape (n_samples, n_classes)."""
    out = []
    with evaluating(model), torch.no_grad():
        for start in range(0, len(X), batch_size):
            x = torch.as_tensor(X[start : start + batch_size], dtype=torch.float32)
            out.append(torch.softmax(model(x), dim=1).numpy())
    return np.concatenate(out) if out else np.empty((0, 0), np.float32)


def wilson_interval(
    successes: int, n: int, z: float = 1.959963984540054
) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (95 % for the default ``z``).

    ``(nan, nan)`` for ``n = 0``.

    References
    ----------
    Wilson (1927), "Probable inference, the law of succession, and statistical
    inference", JASA 22(158).
    """
    if n < 0 or not 0 <= successes <= max(n, 0):
        raise ValueError(f"need 0 ≤ successes ≤ n, got {successes} of {n}")
    if n == 0:
        return float("nan"), float("nan")
    p = successes / n
    denom = 1 + z**2 / n
    center = (p + z**2 / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    # Exact ends: with no successes (failures) the bound is 0 (1), not 1e-17 off.
    low = 0.0 if successes == 0 else max(0.0, center - half)
    high = 1.0 if successes == n else min(1.0, center + half)
    return float(low), float(high)


def auc_and_accuracy(proba: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """ROC AUC (binary; macro one-vs-rest for more classes) and accuracy.

    AUC is NaN when ``y`` holds a single class.
    """
    y = np.asarray(y)
    accuracy = float((proba.argmax(axis=1) == y).mean())
    if np.unique(y).size < 2:
        return float("nan"), accuracy
    if proba.shape[1] == 2:
        return float(roc_auc_score(y, proba[:, 1])), accuracy
    auc = roc_auc_score(y, proba, multi_class="ovr", labels=np.arange(proba.shape[1]))
    return float(auc), accuracy


def d_eff(gradients: np.ndarray, rel: float = 0.1) -> float:
    """Effective dimensionality of explanations.

    The mean over examples of the number of features whose |input gradient| is
    at least ``rel`` times that example's largest |input gradient|. An example
    whose gradient is entirely zero counts 0 features.

    Parameters
    ----------
    gradients : array of shape (n_samples, n_features)
    rel : float
        The relative threshold (1/10 in the paper).

    References
    ----------
    Ross, Lage & Doshi-Velez (2017), Table 1.
    """
    g = np.abs(np.asarray(gradients, dtype=np.float64))
    if g.ndim != 2 or g.shape[0] == 0:
        raise ValueError(
            f"gradients must be a non-empty 2-d array, got shape {g.shape}"
        )
    top = g.max(axis=1, keepdims=True)
    counts = ((g >= rel * top) & (top > 0)).sum(axis=1)
    return float(counts.mean())


def surviving_features(
    model: nn.Module, feature_names: tuple[str, ...] | list[str]
) -> list[str]:
    """Input features whose first-layer weight column is not entirely zero."""
    W = first_linear(model).weight.detach()
    alive = (W != 0).any(dim=0).numpy()
    if alive.size != len(feature_names):
        raise ValueError(
            f"Model has {alive.size} inputs but {len(feature_names)} names were given"
        )
    return [name for name, keep in zip(feature_names, alive, strict=True) if keep]


def evaluate(model: nn.Module, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """AUC, accuracy, ‖θ‖₁ and D_eff of ``model`` on one split."""
    auc, accuracy = auc_and_accuracy(predict_proba(model, X), y)
    return {
        "auc": auc,
        "accuracy": accuracy,
        "theta_l1": weights_l1(model),
        "d_eff": d_eff(input_gradients(model, X)),
    }
