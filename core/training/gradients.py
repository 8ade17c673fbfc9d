"""Input gradients: the quantity the Neural LASSO penalises and explains with."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn


def score_gradient(
    logits: torch.Tensor, x: torch.Tensor, *, create_graph: bool
) -> torch.Tensor:
    """∇ₓ Σ_k log f(x)_k for every example of a batch.

    Examples do not interact in the forward pass (eval-mode batch norm, or a
    model without it), so the gradient of the batch sum is the per-example one.

    Parameters
    ----------
    logits : tensor of shape (n, n_classes), computed from ``x``
    x : tensor of shape (n, n_features) with ``requires_grad``
    create_graph : bool
        True for double backpropagation (training with the penalty).

    Returns
    -------
    tensor of shape (n, n_features)
    """
    log_probs = torch.log_softmax(logits, dim=1)
    (grad,) = torch.autograd.grad(log_probs.sum(), x, create_graph=create_graph)
    return grad


def class_gradient(logits: torch.Tensor, x: torch.Tensor, target: int) -> torch.Tensor:
    """∇ₓ log f(x)_target per example, shape (n, n_features)."""
    log_probs = torch.log_softmax(logits, dim=1)
    (grad,) = torch.autograd.grad(log_probs[:, target].sum(), x)
    return grad


@contextlib.contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode for the block and restore its mode afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def input_gradients(
    model: nn.Module, X: np.ndarray, *, target: int | None = None, batch_size: int = 512
) -> np.ndarray:
    """Input gradients of a whole split, in the model's (standardised) input space.

    Parameters
    ----------
    model : nn.Module
    X : array of shape (n_samples, n_features)
    target : int, optional
        Explain ``log f(x)_target``; None explains ``Σ_k log f(x)_k`` (the
        quantity the gradient penalty acts on, and D_eff's default).
    batch_size : int

    Returns
    -------
    array of shape (n_samples, n_features), float32
    """
    out = np.empty(np.shape(X), dtype=np.float32)
    with evaluating(model):
        for start in range(0, len(X), batch_size):
            x = torch.as_tensor(X[start : start + batch_size], dtype=torch.float32)
            x.requires_grad_(True)
            logits = model(x)
            grad = (
                score_gradient(logits, x, create_graph=False)
                if target is None
                else class_gradient(logits, x, target)
            )
            out[start : start + len(x)] = grad.numpy()
    return out
