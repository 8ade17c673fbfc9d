"""Input handling shared by every explanation method.

A batch of inputs is checked once (:func:`check_input_batch`), the class to
explain is resolved once (:func:`resolve_target`), and the smoothed methods
(SmoothCAFO / SmoothCASO) draw their noisy copies here (:func:`noisy_copies`).
"""

from __future__ import annotations

import torch
from torch import nn

from core.training.gradients import evaluating


def check_input_batch(x: torch.Tensor) -> torch.Tensor:
    """``x`` as a detached float tensor of shape (n, ...) with finite values.

    Raises
    ------
    TypeError
        Not a tensor, or not floating point.
    ValueError
        No batch dimension, or NaN / infinite values.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"inputs must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim < 2:
        raise ValueError(
            f"inputs must have a batch dimension, shape (n, ...); got {tuple(x.shape)}"
        )
    if not x.is_floating_point():
        raise TypeError(f"inputs must be floating point, got {x.dtype}")
    if not torch.isfinite(x).all():
        raise ValueError("inputs contain NaN or infinite values")
    return x.detach()


def resolve_target(
    model: nn.Module, x: torch.Tensor, target: int | torch.Tensor | None
) -> torch.Tensor:
    """Target classes as a long tensor of shape (n,); None means the predicted one.

    Raises
    ------
    ValueError
        A target outside ``[0, n_classes)`` or of the wrong length.
    """
    n = x.shape[0]
    with evaluating(model), torch.no_grad():
        logits = model(x)
    c = logits.shape[1]
    if target is None:
        return logits.argmax(dim=1)
    t = torch.as_tensor(target, dtype=torch.long).reshape(-1)
    if t.numel() == 1:
        t = t.expand(n).clone()
    if t.numel() != n:
        raise ValueError(f"target must be one class or {n} classes; got {t.numel()}")
    if (t < 0).any() or (t >= c).any():
        raise ValueError(f"target must be in [0, {c}); got {t.tolist()}")
    return t


def noisy_copies(
    x: torch.Tensor, n_samples: int, sigma: float, generator: torch.Generator | None
) -> torch.Tensor:
    """``n_samples`` copies of each example plus N(0, σ²) noise: (n, n_samples, d).

    With ``sigma`` 0 there is one copy, the clean input.
    """
    n = x.shape[0]
    flat = x.reshape(n, 1, -1)
    if sigma == 0:
        return flat
    noise = torch.randn(
        (n, n_samples, flat.shape[2]), generator=generator, dtype=x.dtype
    )
    return flat + sigma * noise
