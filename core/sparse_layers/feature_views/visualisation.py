"""Feature visualisation: the input that a deep feature responds to most.

Regularised gradient ascent on the input (Olah, Mordvintsev & Schubert 2017):
the image is parametrised by its Fourier spectrum, each frequency scaled by
1 / frequency so that a step changes low frequencies as much as high ones (no
high-frequency noise), colour images through a decorrelated colour basis (the
square root of ImageNet's colour covariance, as in lucid), and a sigmoid
keeps pixels in [0, 1]. Each step maximises the feature's mean activation over
a batch of randomly jittered, scaled and rotated copies, so that the result is
robust to small transformations instead of an adversarial pattern.

A ReLU unit that is off on the start image has no gradient, so during the
ascent every ``nn.ReLU`` of the model passes lucid's "redirected" gradient: a
sample whose ReLU gradient is zero gets the gradient that would raise the
inputs below zero (the activations themselves are unchanged).

References
----------
Olah, Mordvintsev & Schubert (2017), "Feature Visualization", Distill,
doi:10.23915/distill.00007.
Mordvintsev et al. (2018), "Differentiable Image Parameterizations", Distill
(the decorrelated colour basis and the Fourier scaling, lucid's ``fft_image``).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from core.sparse_layers.feature_views.source import ImageFeatures, Progress
from core.training.gradients import evaluating

#: lucid's ``color_correlation_svd_sqrt``: the square root of ImageNet's colour
#: covariance; the parameters live in its decorrelated basis.
_COLOUR_SQRT = torch.tensor(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]]
)
_COLOUR = _COLOUR_SQRT / _COLOUR_SQRT.norm(dim=0).max()


@dataclass(frozen=True)
class VisualisationSettings:
    """The ascent's parameters; their values are part of the cache key.

    Attributes
    ----------
    steps : int
        Adam steps.
    lr : float
        Adam's learning rate on the spectrum.
    batch : int
        Transformed copies per step.
    jitter : int
        Largest translation, pixels.
    scale : float
        Copies are scaled by a factor drawn from [1 − scale, 1 + scale].
    rotate : float
        Largest rotation, degrees.
    decay : float
        The spectrum's frequency scaling ``1 / f ** decay``.
    seed : int
        Seeds the start spectrum and every transformation.
    """

    steps: int = 256
    lr: float = 0.05
    batch: int = 8
    jitter: int = 2
    scale: float = 0.1
    rotate: float = 10.0
    decay: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch < 1 or self.lr <= 0:
            raise ValueError(
                f"steps and batch must be ≥ 1 and lr > 0; got {self.steps}, "
                f"{self.batch}, {self.lr}"
            )
        if not 0 <= self.scale < 1 or self.jitter < 0 or self.rotate < 0:
            raise ValueError(
                "scale must lie in [0, 1), jitter and rotate must be ≥ 0; got "
                f"{self.scale}, {self.jitter}, {self.rotate}"
            )


@dataclass(frozen=True)
class Visualisation:
    """A feature's visualisation.

    Attributes
    ----------
    image : array of shape (H, W, C), float32 in [0, 1]
    start_activation : float
        The feature's activation on the start image (the parametrisation before
        the first step, a near-uniform grey).
    activation : float
        Its activation on the result, untransformed.
    """

    image: np.ndarray
    start_activation: float
    activation: float


class FourierImage(torch.nn.Module):
    """An image parametrised by its scaled, colour-decorrelated spectrum."""

    def __init__(self, shape: tuple[int, int, int], decay: float, gen: torch.Generator):
        super().__init__()
        h, w, c = shape
        fy = torch.fft.fftfreq(h)[:, None]
        fx = torch.fft.rfftfreq(w)[None, :]
        freqs = torch.sqrt(fx**2 + fy**2)
        self.register_buffer(
            "spectrum_scale",
            math.sqrt(h * w) / torch.clamp(freqs, min=1.0 / max(h, w)) ** decay,
        )
        self.shape = shape
        self.spectrum = torch.nn.Parameter(
            0.01 * torch.randn(c, h, w // 2 + 1, 2, generator=gen)
        )

    def forward(self) -> torch.Tensor:
        """The image, shape (C, H, W), in [0, 1]."""
        h, w, c = self.shape
        spectrum = torch.view_as_complex(self.spectrum) * self.spectrum_scale
        # lucid divides by 4 so that the start image's pixels are small.
        image = torch.fft.irfft2(spectrum, s=(h, w)) / 4.0
        if c == 3:
            image = torch.einsum("chw,dc->dhw", image, _COLOUR)
        return torch.sigmoid(image)


def _transform(
    image: torch.Tensor, settings: VisualisationSettings, gen: torch.Generator
) -> torch.Tensor:
    """``settings.batch`` randomly jittered, scaled and rotated copies of
    ``image`` (C, H, W), shape (batch, C, H, W); edges are reflected."""
    n = settings.batch
    _, h, w = image.shape
    angle = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(settings.rotate)
    scale = 1 + (torch.rand(n, generator=gen) * 2 - 1) * settings.scale
    shift = (torch.rand(n, 2, generator=gen) * 2 - 1) * settings.jitter
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [
            torch.stack([cos, -sin, 2 * shift[:, 0] / w], dim=1),
            torch.stack([sin, cos, 2 * shift[:, 1] / h], dim=1),
        ],
        dim=1,
    )
    batch = image.expand(n, -1, -1, -1)
    grid = F.affine_grid(theta, list(batch.shape), align_corners=False)
    return F.grid_sample(batch, grid, padding_mode="reflection", align_corners=False)


def _flat(images: torch.Tensor) -> torch.Tensor:
    """(n, C, H, W) → the models' flat (n, H * W * C) pixel order."""
    return images.permute(0, 2, 3, 1).reshape(len(images), -1)


class _RedirectedReLU(torch.autograd.Function):
    """ReLU whose backward pass lets a dead sample's gradient raise its inputs
    (lucid's ``redirected_relu_grad``, Olah et al. 2017)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        relu_grad = grad * (x > 0)
        # The loss is minimised: a positive gradient at a negative input would
        # push it lower still, so only the others pass.
        redirected = torch.where((x < 0) & (grad > 0), torch.zeros_like(grad), grad)
        alive = relu_grad.flatten(1).norm(dim=1) > 0
        alive = alive.reshape(-1, *([1] * (x.ndim - 1)))
        return torch.where(alive, relu_grad, redirected)


@contextlib.contextmanager
def _ascending(model: torch.nn.Module) -> Iterator[None]:
    """Eval mode, no parameter gradients and redirected ReLU gradients for the
    block, all undone after."""
    flags = [(p, p.requires_grad) for p in model.parameters()]
    handles = [
        m.register_forward_hook(
            lambda _m, inputs, _out: _RedirectedReLU.apply(inputs[0])
        )
        for m in model.modules()
        if isinstance(m, torch.nn.ReLU)
    ]
    try:
        with evaluating(model):
            for p, _ in flags:
                p.requires_grad_(False)
            yield
    finally:
        for handle in handles:
            handle.remove()
        for p, flag in flags:
            p.requires_grad_(flag)


def visualise(
    features: ImageFeatures,
    unit: int,
    settings: VisualisationSettings = VisualisationSettings(),
    progress: Progress | None = None,
) -> Visualisation:
    """The feature visualisation of ``unit``.

    Parameters
    ----------
    features : ImageFeatures
    unit : int
        The feature (a unit of ``features.module``).
    settings : VisualisationSettings
    progress : callable, optional
        ``progress(step, steps)`` every 16 steps and at the end.

    Returns
    -------
    Visualisation

    Raises
    ------
    ValueError
        The unit is out of range, or the activation becomes non-finite.
    """
    features.check_units([unit])
    gen = torch.Generator().manual_seed(settings.seed)
    param = FourierImage(features.image_shape, settings.decay, gen)
    opt = torch.optim.Adam(param.parameters(), lr=settings.lr)

    def activation() -> float:
        with torch.no_grad():
            return float(features.forward(_flat(param()[None]))[0, unit])

    with _ascending(features.model):
        start = activation()
        for step in range(1, settings.steps + 1):
            copies = _transform(param(), settings, gen)
            loss = -features.forward(_flat(copies))[:, unit].mean()
            if not torch.isfinite(loss):
                raise ValueError(
                    f"The activation of feature {unit} became non-finite at step "
                    f"{step}; lower lr (now {settings.lr})."
                )
            opt.zero_grad()
            loss.backward()
            opt.step()
            if progress is not None and (step % 16 == 0 or step == settings.steps):
                progress(step, settings.steps)
        final = activation()
    with torch.no_grad():
        image = param().permute(1, 2, 0).numpy().astype(np.float32)
    return Visualisation(image=image, start_activation=start, activation=final)
