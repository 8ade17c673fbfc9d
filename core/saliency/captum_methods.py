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

import warnings

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

from core.saliency.protocol import Explainer, patch_mask, seeded


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
