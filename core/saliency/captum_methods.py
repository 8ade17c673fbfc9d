"""The standard attribution methods, wrapped from Captum (not rewritten).

Gradient methods explain the target class's logit; LIME and KernelSHAP, which
fit a surrogate to model outputs on perturbed inputs, explain its softmax
probability. Baselines are zero (for the image sets, black; for the
standardised tabular sets, the training mean).

References
----------
Kokhlikyan et al. (2020), "Captum: A unified and generic model
interpretability library for PyTorch". Simonyan et al. (2014, Saliency),
Smilkov et al. (2017, SmoothGrad), Sundararajan et al. (2017, Integrated
Gradients), Shrikumar et al. (2017, Input×Gradient, DeepLift), Springenberg
et al. (2015, Guided Backprop), Ribeiro et al. (2016, LIME), Lundberg & Lee
(2017, KernelSHAP).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import torch
from captum._utils.models.linear_model import SkLearnLasso
from captum.attr import (
    DeepLift,
    GuidedBackprop,
    InputXGradient,
    IntegratedGradients,
    KernelShap,
    Lime,
    NoiseTunnel,
    Saliency,
)
from torch import nn

from core.saliency.protocol import SEED, Explainer, Param
from core.training.models import ImageInput

SMOOTHGRAD_PARAMS = (
    Param("noise", "Noise σ / range", "float", 0.15, low=0.0, high=1.0),
    Param("n_samples", "Noisy copies", "int", 25, low=1, high=500),
    SEED,
)
INTEGRATED_GRADIENTS_PARAMS = (Param("n_steps", "Steps", "int", 50, low=2, high=1000),)
_PERTURBATIONS = (
    Param("n_samples", "Perturbations", "int", 300, low=10, high=20_000),
    Param(
        "patch",
        "Patch size (pixels)",
        "int",
        2,
        low=1,
        high=16,
        help="Image models: features grouped into patch×patch squares.",
    ),
)
LIME_PARAMS = (
    *_PERTURBATIONS,
    Param("alpha", "Lasso α", "float", 0.01, low=1e-6, high=1.0, log=True),
    SEED,
)
KERNEL_SHAP_PARAMS = (*_PERTURBATIONS, SEED)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's global generator for the block (Captum draws from it) and
    restore its state afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def _image_input_shape(model: nn.Module) -> tuple[int, int, int] | None:
    """(H, W, C) of the model's first :class:`ImageInput` layer, which reshapes
    flat pixels into images; None for a model that reads flat features."""
    first = next((m for m in model.modules() if isinstance(m, ImageInput)), None)
    return tuple(first.shape) if first is not None else None


def patch_mask(model: nn.Module, d: int, patch: int) -> torch.Tensor:
    """Feature groups for perturbation methods: patch×patch pixel squares.

    All channels of a pixel share a group; a model without image input gets
    one group per feature. Returns a long tensor of shape (1, d).
    """
    shape = _image_input_shape(model)
    if shape is None or patch <= 1:
        if shape is None:
            return torch.arange(d)[None]
        h, w, c = shape
        return torch.arange(h * w).repeat_interleave(c)[None]
    h, w, c = shape
    rows = torch.arange(h) // patch
    cols = torch.arange(w) // patch
    per_row = -(-w // patch)
    grid = rows[:, None] * per_row + cols[None, :]
    return grid.reshape(-1).repeat_interleave(c)[None]


def _leaf(x: torch.Tensor) -> torch.Tensor:
    """A copy of ``x`` that requires gradients (so Captum need not set it)."""
    return x.clone().requires_grad_(True)


class SaliencyExplainer(Explainer):
    """Vanilla gradient of the target logit (Captum ``Saliency``, signed)."""

    def _attribute(self, x, target):
        return Saliency(self.model).attribute(_leaf(x), target=target, abs=False)


class SmoothGradExplainer(Explainer):
    """SmoothGrad: the gradient averaged over noisy copies (``NoiseTunnel``).

    ``noise`` is σ as a fraction of the batch's input range (max − min), as
    in the SmoothGrad paper; ``n_samples`` copies per example.
    """

    def _attribute(self, x, target):
        span = float(x.max() - x.min()) or 1.0
        with seeded(int(self.params.get("seed", 0))):
            return NoiseTunnel(Saliency(self.model)).attribute(
                _leaf(x),
                nt_type="smoothgrad",
                nt_samples=int(self.params["n_samples"]),
                stdevs=float(self.params["noise"]) * span,
                target=target,
                abs=False,
            )


class IntegratedGradientsExplainer(Explainer):
    """Integrated Gradients from a zero baseline (``n_steps`` Gauss–Legendre)."""

    def _attribute(self, x, target):
        return IntegratedGradients(self.model).attribute(
            _leaf(x),
            baselines=torch.zeros_like(x),
            target=target,
            n_steps=int(self.params["n_steps"]),
        )


class InputXGradientExplainer(Explainer):
    """Input × gradient."""

    def _attribute(self, x, target):
        return InputXGradient(self.model).attribute(_leaf(x), target=target)


def _quietly(fn, *args, **kwargs):
    # Captum announces the hooks it sets and removes on every call.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Setting backward hooks")
        warnings.filterwarnings("ignore", message="Setting forward, backward hooks")
        return fn(*args, **kwargs)


class GuidedBackpropExplainer(Explainer):
    """Guided Backprop: ReLU gradients with negative parts cut."""

    def _attribute(self, x, target):
        return _quietly(GuidedBackprop(self.model).attribute, _leaf(x), target=target)


class DeepLiftExplainer(Explainer):
    """DeepLift (Rescale rule) from a zero baseline."""

    def _attribute(self, x, target):
        return _quietly(
            DeepLift(self.model).attribute,
            _leaf(x),
            baselines=torch.zeros_like(x),
            target=target,
        )


class _Probabilities(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return torch.softmax(self.model(x), dim=1)


class LimeExplainer(Explainer):
    """LIME: a Lasso surrogate (``alpha``) on ``n_samples`` perturbations.

    Features are grouped into ``patch``×``patch`` pixel squares for image
    models (one group per feature otherwise); each example is explained on
    its own, as Captum recommends.
    """

    def _attribute(self, x, target):
        mask = patch_mask(self.model, x[0].numel(), int(self.params["patch"]))
        lime = Lime(
            _Probabilities(self.model),
            interpretable_model=SkLearnLasso(alpha=float(self.params["alpha"])),
        )
        with seeded(int(self.params.get("seed", 0))):
            return torch.cat(
                [
                    lime.attribute(
                        x[i : i + 1],
                        target=target[i : i + 1],
                        feature_mask=mask.reshape(1, *x.shape[1:]),
                        n_samples=int(self.params["n_samples"]),
                        perturbations_per_eval=64,
                    )
                    for i in range(len(x))
                ]
            )


class KernelShapExplainer(Explainer):
    """KernelSHAP from a zero baseline on ``n_samples`` coalitions."""

    def _attribute(self, x, target):
        mask = patch_mask(self.model, x[0].numel(), int(self.params["patch"]))
        shap = KernelShap(_Probabilities(self.model))
        with seeded(int(self.params.get("seed", 0))):
            return torch.cat(
                [
                    shap.attribute(
                        x[i : i + 1],
                        baselines=torch.zeros_like(x[i : i + 1]),
                        target=target[i : i + 1],
                        feature_mask=mask.reshape(1, *x.shape[1:]),
                        n_samples=int(self.params["n_samples"]),
                        perturbations_per_eval=64,
                    )
                    for i in range(len(x))
                ]
            )
